"""Jupyter: the interactive preview in a notebook, and :func:`show` for anything ``load``
accepts.

Each output is a MIME bundle: the preview as ``text/html`` and the first view as a static
``image/svg+xml``, which front ends without JavaScript show instead (GitHub, nbviewer, a
PDF export).

The page goes into a sandboxed ``<iframe srcdoc=…>``: it runs its scripts in an opaque
origin (no access to the notebook, its cookies or its kernel) and works where iframes to
files or to localhost do not (VS Code, exported HTML). The layout engine (0.8 MB) is in the
notebook once, not in every output: the first preview of a kernel session carries it as
inert text beside its iframe, with a small script that hands it to any netdraw iframe of
the page that asks; the iframe runs it only if its hash is the one the page's
Content-Security-Policy names (see :class:`netdraw.backends.html.page.Embedding`). Where a
front end runs no output scripts, the page still shows its first view (laid out by ``dot``
when it is installed) and says that opening blocks needs the engine. In Colab, whose
outputs are separate documents, every page carries its own engine.

``Graph._repr_html_`` and ``_repr_svg_`` are attached to :class:`~netdraw.ir.Graph` here, so
the IR itself imports nothing above it (``import netdraw`` imports this module).

>>> import netdraw                                          # doctest: +SKIP
>>> netdraw.show("model.onnx", depth=2)                     # doctest: +SKIP
"""

from __future__ import annotations

import sys
import tempfile
from typing import Any

from netdraw.ir import Graph

#: render() options that go to the page rather than to the importer.
PAGE_OPTIONS = ("rankdir", "title", "edge_labels", "activations", "extra", "extra_title",
                "prelayout", "view")
#: The ``type`` of the inert script element holding the engine's text in an output.
ENGINE_TYPE = "text/x-netdraw-graphviz"
#: Answers a netdraw iframe's request for the engine (installed once per document).
HOST_SCRIPT = """<script>(function () {
  if (window.__netdrawEngineHost) return;
  window.__netdrawEngineHost = true;
  window.addEventListener("message", function (event) {
    var ask = event.data;
    if (!ask || ask.netdraw !== "graphviz?" || !event.source) return;
    var cache = window.__netdrawEngines || (window.__netdrawEngines = {});
    var source = cache[ask.hash];
    if (!source) {
      var found = document.querySelectorAll('script[type="ENGINE_TYPE"]');
      for (var i = 0; i < found.length; i++) {
        if (found[i].getAttribute("data-hash") === ask.hash) source = found[i].textContent;
      }
      if (source) cache[ask.hash] = source;
    }
    if (source) {
      event.source.postMessage({netdraw: "graphviz", hash: ask.hash, source: source}, "*");
    }
  });
})();</script>""".replace("ENGINE_TYPE", ENGINE_TYPE)

_engine_shown: set[str] = set()  # engine hashes already put into an output of this kernel


def iframe(page: str, height: int = 640) -> str:
    """The page in a sandboxed ``srcdoc`` iframe (scripts and downloads only)."""
    source = page.replace("&", "&amp;").replace('"', "&quot;")
    return (f'<iframe title="netdraw preview" sandbox="allow-scripts allow-downloads" '
            f'width="100%" height="{int(height)}" frameborder="0" '
            f'srcdoc="{source}"></iframe>')


def preview_html(graph: Graph, height: int = 640, **page_options: Any) -> str | None:
    """The output HTML of ``graph``'s preview: its iframe, and the first time in this
    kernel the engine and the script that shares it. None where pages cannot be made."""
    from netdraw.api import render
    from netdraw.backends.html import assets
    from netdraw.backends.html.page import Embedding

    if not assets.available():
        return None
    if _separate_documents():  # Colab: outputs cannot reach one another
        page = render(graph, "html", **page_options)
        return f"<div>{iframe(str(page), height)}</div>"
    page = render(graph, "html", embedding=Embedding("parent"), **page_options)
    library = assets.graphviz_script()
    digest = _engine_hash(library)
    parts = ["<div class=\"netdraw-preview\">"]
    if digest not in _engine_shown:
        parts.append(f'<script type="{ENGINE_TYPE}" data-hash="{digest}">{library}</script>')
        _engine_shown.add(digest)
    parts += [HOST_SCRIPT, iframe(str(page), height), "</div>"]
    return "".join(parts)


def _engine_hash(text: str) -> str:
    import base64
    import hashlib

    return "sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()
                                        ).decode("ascii")


def bundle(graph: Graph, height: int = 640, **page_options: Any) -> dict[str, str]:
    """The MIME bundle of a preview: ``text/html`` (when pages can be made here) and the
    first view as ``image/svg+xml`` (when Graphviz is installed)."""
    from netdraw.api import VIEW_OPTIONS, render
    from netdraw.errors import NetdrawError

    out: dict[str, str] = {}
    page = preview_html(graph, height, **page_options)
    if page is not None:
        out["text/html"] = page
    drawing = {k: v for k, v in page_options.items()
               if k in (*VIEW_OPTIONS, "rankdir", "title", "edge_labels")}
    view = page_options.get("view")
    if view is not None and not any(k in drawing for k in VIEW_OPTIONS):
        from netdraw.passes.view import make_view

        graph = make_view(graph, view)
    try:
        svg = render(graph, "svg", **drawing)
    except NetdrawError:  # no dot here: the page alone
        svg = None
    if svg is not None:
        out["image/svg+xml"] = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    return out


def repr_html(graph: Graph, height: int = 640) -> str | None:
    """The preview of ``graph`` for Jupyter, or None where pages cannot be made (the
    WebAssembly Graphviz is not installed): Jupyter then shows the SVG."""
    return preview_html(graph, height)


def repr_svg(graph: Graph) -> str:
    """The Graphviz SVG of ``graph``'s readable view, for front ends that show no HTML."""
    from netdraw.api import render

    svg = render(graph, "svg")
    return svg.decode("utf-8") if isinstance(svg, bytes) else svg


def show(model: Any, *, height: int = 640, **options: Any) -> str | None:
    """Show a model's interactive preview: in a notebook, as the cell's output (with the
    static SVG beside it for front ends without JavaScript); elsewhere, in the web browser
    (from a temporary file, whose path is returned).

    ``model`` is a Graph or anything :func:`netdraw.load` accepts; view options (``depth``,
    ``expand``, …) and page options (``rankdir``, ``title``, ``activations``, ``extra``) go
    to the page, the rest (``input_shape``, ``example_input``, …) to the importer.
    """
    from netdraw.api import VIEW_OPTIONS, load, render

    page_options = {k: options.pop(k) for k in (*VIEW_OPTIONS, *PAGE_OPTIONS) if k in options}
    graph = model if isinstance(model, Graph) else load(model, **options)
    if _in_notebook():
        from IPython.display import display

        display(bundle(graph, height, **page_options), raw=True)
        return None
    import webbrowser

    page = render(graph, "html", **page_options)
    with tempfile.NamedTemporaryFile("w", suffix=".html", prefix=f"{_slug(graph.name)}-",
                                     delete=False, encoding="utf-8") as fh:
        fh.write(page)
    webbrowser.open(f"file://{fh.name}")
    return fh.name


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _separate_documents() -> bool:
    """Whether each output is a document of its own (Colab), so none can share."""
    return "google.colab" in sys.modules


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "model"


__all__ = ["bundle", "iframe", "preview_html", "repr_html", "repr_svg", "show"]


# Jupyter's display hooks on the IR (kept out of ir.py: the IR imports nothing above it).
Graph._repr_html_ = repr_html  # type: ignore[attr-defined]
Graph._repr_svg_ = repr_svg  # type: ignore[attr-defined]
