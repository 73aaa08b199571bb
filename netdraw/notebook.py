"""Jupyter: the interactive preview in a notebook, and :func:`show` for anything ``load``
accepts.

The page goes into a sandboxed ``<iframe srcdoc=…>``: it runs its scripts in an opaque
origin (no access to the notebook, its cookies or its kernel) and works where iframes to
files or to localhost do not (VS Code, Colab, exported HTML). ``Graph._repr_svg_`` stays
for front ends that show no HTML. Both are attached to :class:`~netdraw.ir.Graph` here, so
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


def iframe(page: str, height: int = 640) -> str:
    """The page in a sandboxed ``srcdoc`` iframe (scripts and downloads only)."""
    source = page.replace("&", "&amp;").replace('"', "&quot;")
    return (f'<iframe title="netdraw preview" sandbox="allow-scripts allow-downloads" '
            f'width="100%" height="{int(height)}" frameborder="0" '
            f'srcdoc="{source}"></iframe>')


def repr_html(graph: Graph, height: int = 640) -> str | None:
    """The preview of ``graph`` for Jupyter, or None where pages cannot be made (the
    WebAssembly Graphviz is not installed): Jupyter then shows the SVG."""
    from netdraw.api import render
    from netdraw.backends.html import assets

    if not assets.available():
        return None
    page = render(graph, "html")
    return iframe(page if isinstance(page, str) else page.decode("utf-8"), height)


def repr_svg(graph: Graph) -> str:
    """The Graphviz SVG of ``graph``'s readable view, for front ends that show no HTML."""
    from netdraw.api import render

    svg = render(graph, "svg")
    return svg.decode("utf-8") if isinstance(svg, bytes) else svg


def show(model: Any, *, height: int = 640, **options: Any) -> str | None:
    """Show a model's interactive preview: in a notebook, as the cell's output; elsewhere,
    in the web browser (from a temporary file, whose path is returned).

    ``model`` is a Graph or anything :func:`netdraw.load` accepts; view options (``depth``,
    ``expand``, …) and page options (``rankdir``, ``title``, ``activations``, ``extra``) go
    to the page, the rest (``input_shape``, ``example_input``, …) to the importer.
    """
    from netdraw.api import VIEW_OPTIONS, load, render

    page_options = {k: options.pop(k) for k in (*VIEW_OPTIONS, *PAGE_OPTIONS) if k in options}
    graph = model if isinstance(model, Graph) else load(model, **options)
    page = render(graph, "html", **page_options)
    if _in_notebook():
        from IPython.display import HTML, display

        display(HTML(iframe(page, height)))
        return None
    import webbrowser

    with tempfile.NamedTemporaryFile("w", suffix=".html", prefix=f"{_slug(graph.name)}-",
                                     delete=False, encoding="utf-8") as fh:
        fh.write(page)
    webbrowser.open(f"file://{fh.name}")
    return fh.name


def _in_notebook() -> bool:
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and getattr(shell, "kernel", None) is not None


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)[:40] or "model"


__all__ = ["iframe", "repr_html", "show"]


# Jupyter's display hooks on the IR (kept out of ir.py: the IR imports nothing above it).
Graph._repr_html_ = repr_html  # type: ignore[attr-defined]
Graph._repr_svg_ = repr_svg  # type: ignore[attr-defined]
