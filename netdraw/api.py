"""The Python API: load a model into a Graph, make a readable view, render it to a format."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from netdraw import backends, importers
from netdraw.ir import Graph
from netdraw.passes.view import ViewOptions, make_view

#: Keyword options of :func:`render` and :func:`view` that choose the view.
VIEW_OPTIONS = ("depth", "expand", "collapse", "roll", "fold", "fold_patterns", "keep_all",
                "max_nodes", "full")


def load(model_or_path: Any, **options: Any) -> Graph:
    """Read a model file (``.onnx``, ``.json``, …) or a live framework model into a Graph.

    Options go to the importer (e.g. ``example_input`` for a PyTorch module).
    """
    return importers.load(model_or_path, **options)


def view_options(*, full: bool = False, **options: Any) -> ViewOptions:
    """ViewOptions from keyword options (``full=True`` draws every node)."""
    if full:
        keep = {k: options[k] for k in ("expand", "collapse", "fold_patterns", "max_nodes",
                                        "optional")
                if options.get(k) is not None}
        return replace(ViewOptions.full(), **keep)
    return ViewOptions(**{k: v for k, v in options.items() if v is not None})


def view(graph: Graph, **options: Any) -> Graph:
    """The readable view of a graph: ``depth``, ``expand``, ``collapse``, ``roll``, ``fold``,
    ``fold_patterns``, ``keep_all``, ``max_nodes``, ``full`` (see :class:`ViewOptions`)."""
    return make_view(graph, view_options(**options))


def render(graph: Graph, format: str = "svg", *, style: str | None = None,
           **options: Any) -> str | bytes:
    """Draw a Graph: text (``dot``, ``json``, ``svg``, ``html``) or bytes (``png``, ``pdf``).

    Every format draws the readable view (see :func:`view`; its options are accepted here)
    except ``json``, which writes the full graph unless view options are given. A graph that
    already is a view (``meta["view"]``) is drawn as it is. Other options go to the backend
    (``rankdir``, ``title``, …); the figure styles (``style="tikz"``, ``"alexnet"``, …)
    choose their default view to fit ``width`` (``"text"``, ``"column"`` or ``"12cm"``).
    ``html`` writes an interactive page that starts at the view the options choose and can
    open every block (its options: ``activations``, ``extra``; see
    :func:`netdraw.backends.html.render`).

    ``activations=netdraw.viz.capture(model, image)`` draws each layer's activations into
    the diagram, in every style (see :mod:`netdraw.viz.thumbnails`): ``thumbnails`` (channels
    per layer), ``thumbnail_order`` (``mean``, ``max`` or ``index``), ``colormap``, ``cam``
    (a ``netdraw.viz.cam`` result or a 0-1 map drawn over the input's thumbnail),
    ``pixels`` (the input picture, 0-1 ``(N, C, H, W)``). TikZ ``tex`` text then carries
    ``.files`` (image path -> PNG bytes) to write beside it
    (:func:`netdraw.output.write_with_files`).
    """
    fmt = format.lower().lstrip(".")
    given = {k: options.pop(k) for k in VIEW_OPTIONS if k in options}
    chosen = view_options(**given)
    if backends.find_backend(fmt, style).own_views:
        view = options.pop("view", None) if not given else None
        return backends.render(graph, fmt, style=style, view=view or chosen, **options)
    explicit = chosen != ViewOptions()
    if explicit or (fmt != "json" and "view" not in graph.meta):
        drawing = {k: v for k, v in options.items()
                   if k != "activations" and k not in backends.THUMBNAIL_OPTIONS}
        graph = make_view(graph, chosen, backends.figure_fit(fmt, style, drawing))
    return backends.render(graph, fmt, style=style, **options)
