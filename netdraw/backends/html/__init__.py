"""HTML backend: one self-contained, offline page to explore a model.

``render(graph, "html")`` (or ``netdraw draw MODEL -o model.html``) writes a page that shows
the default view in the Graphviz look and lets the reader pan, zoom, search, open and close
blocks (each view laid out anew by Graphviz compiled to WebAssembly, embedded in the page),
read everything the IR knows about a layer in a side panel, and export the view as SVG or
PNG. The page loads nothing: no CDN, no request of any kind, and a Content-Security-Policy
that forbids network access and inline event handlers.

The backend makes its own views (:attr:`BackendSpec.own_views`): it receives the source
graph and the :class:`~netdraw.passes.view.ViewOptions`, because the page needs the whole
prepared graph to open any block.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from netdraw.backends.html.looks import LooksSource
from netdraw.backends.html.model import page_model
from netdraw.backends.html.page import Embedding, build_page
from netdraw.ir import Graph
from netdraw.passes.view import ViewOptions, ViewPlan


def render(graph: Graph, fmt: str = "html", *, view: ViewOptions | None = None,
           rankdir: str = "TB", title: str | None = None, edge_labels: bool = True,
           activations: Mapping[str, Any] | Callable[[Graph], Mapping[str, Any]] | None = None,
           extra: Mapping[str, Any] | None = None, extra_title: str = "Details",
           serve: Mapping[str, Any] | None = None, prelayout: bool = True,
           looks: LooksSource | None = None, assets: str | None = None,
           embedding: Embedding | None = None, plan: ViewPlan | None = None,
           explorer: Any = None,
           **_: Any) -> str:
    """The page as text.

    ``activations``: node id -> thumbnail (PNG bytes or a ``data:image/…`` URI) shown in
    the side panel. ``extra``: node id -> ``{label: text}`` rows shown in the panel under
    ``extra_title``. ``serve`` (used by ``netdraw serve``): ``{"events": URL, "version": N,
    "error": text or None}`` makes the page follow the server's reload events.
    ``prelayout=False`` leaves even the first view to the page's WebAssembly Graphviz.
    ``looks`` colours every view by a status (``netdraw diff``'s, see
    :mod:`netdraw.backends.html.looks`). ``assets="DIR"`` (a folder's URL relative to the
    page) leaves the scripts and the style out of the page, in files under DIR that pages
    written together share: the result then carries them in ``.files`` (see
    :func:`netdraw.output.write_with_files`). ``embedding`` says the same in full (see
    :class:`netdraw.backends.html.page.Embedding`; the notebook's pages use ``parent``).
    ``explorer`` (an :class:`~netdraw.backends.explorer_data.ExplorerData`, or a function
    of the prepared graph returning one, e.g. :class:`netdraw.viz.explore.Explorer`) makes
    the page explore what the network computes for several inputs.
    """
    model = page_model(graph, view, rankdir=rankdir, title=title, edge_labels=edge_labels,
                       activations=activations, extra=extra, extra_title=extra_title,
                       prelayout=prelayout, looks=looks, plan=plan, explorer=explorer)
    if serve:
        model["serve"] = dict(serve)
    if embedding is None and assets:
        embedding = Embedding("assets", str(assets).strip("/"))
    return build_page(model, embedding=embedding)


__all__ = ["render"]
