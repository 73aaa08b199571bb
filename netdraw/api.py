"""The Python API: load a model into a Graph, make a readable view, render it to a format."""

from __future__ import annotations

from typing import Any

from netdraw import backends, importers
from netdraw.ir import Graph
from netdraw.passes.view import VIEW_OPTIONS, ViewOptions, make_view, view_options

__all__ = ["VIEW_OPTIONS", "ViewOptions", "load", "render", "view", "view_options"]


def load(model_or_path: Any, **options: Any) -> Graph:
    """Read a model file (``.onnx``, ``.json``, …) or a live framework model into a Graph.

    Options go to the importer (e.g. ``example_input`` for a PyTorch module).
    """
    return importers.load(model_or_path, **options)


def view(graph: Graph, **options: Any) -> Graph:
    """The readable view of a graph: ``depth``, ``expand``, ``collapse``, ``roll``, ``fold``,
    ``fold_patterns``, ``keep_all``, ``max_nodes``, ``full`` (see :class:`ViewOptions`)."""
    return make_view(graph, view_options(**options))


#: Channels per node a style's thumbnails show by default: Graphviz a row of 4, the
#: figure styles one per drawn square (lenet's stack) or face (alexnet, tikz).
THUMBNAIL_COUNTS = {"lenet": 8, "alexnet": 1, "tikz": 1}
#: Options of :func:`render` that say how ``activations`` become thumbnails.
THUMBNAIL_OPTIONS = ("thumbnails", "thumbnail_order", "colormap", "cam", "pixels")


def thumbnail_options(spec: backends.BackendSpec, graph: Graph, options: dict[str, Any]
                      ) -> dict[str, Any]:
    """``options`` with ``activations`` (a :class:`netdraw.viz.Activations`) made into
    what ``spec``'s backend draws: :class:`netdraw.backends.thumbs.Thumbnails` keyed by
    ``graph``'s ids, or for the HTML page one PNG per node id. The thumbnail options
    (:data:`THUMBNAIL_OPTIONS`) are consumed here; ``thumbnails=0`` draws none."""
    given = {k: options.pop(k) for k in THUMBNAIL_OPTIONS if k in options}
    acts = options.get("activations")
    if acts is None or given.get("thumbnails") == 0:
        options.pop("activations", None)
        return options
    from netdraw.viz import thumbnails as th

    if spec.name == "html":
        options["activations"] = th.html_images(acts, **given)
        return options
    count = given.pop("thumbnails", None)
    if count is None:
        count = THUMBNAIL_COUNTS.get(spec.name, 4)
        if spec.name == "lenet":
            count = int(options.get("max_maps") or count)
    cam = given.pop("cam", None)
    if cam is not None and hasattr(cam, "heatmaps"):  # a CamResult
        given["cam_note"] = f"{cam.method} on {cam.layer_name} over the input"
        cam = cam.heatmaps[0]
    options["activations"] = th.as_thumbnails(
        acts, graph, count=count, order=given.get("thumbnail_order") or "mean",
        colormap=given.get("colormap") or "auto", pixels=given.get("pixels"), cam=cam,
        **({"cam_note": given["cam_note"]} if "cam_note" in given else {}))
    return options


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
    if any(options.get(k) for k in ("color", "colors", "theme")):
        from netdraw.figure.themes import author_colours

        theme, kinds, fills = author_colours(options.pop("theme", None),
                                             options.pop("colors", None),
                                             options.pop("color", None))
        options.update({k: v for k, v in (("theme", theme), ("colors", kinds)) if v})
        if fills:
            options["fills"] = tuple(options.get("fills") or ()) + tuple(fills)
    given = {k: options.pop(k) for k in VIEW_OPTIONS if k in options}
    chosen = view_options(**given)
    spec = backends.find_backend(fmt, style)
    if spec.own_views:
        view = options.pop("view", None) if not given else None
        options = thumbnail_options(spec, graph, options)
        return backends.render(graph, fmt, style=style, view=view or chosen, **options)
    explicit = chosen != ViewOptions()
    if explicit or (fmt != "json" and "view" not in graph.meta):
        drawing = {k: v for k, v in options.items()
                   if k != "activations" and k not in THUMBNAIL_OPTIONS}
        graph = make_view(graph, chosen, backends.figure_fit(fmt, style, drawing))
    options = thumbnail_options(spec, graph, options)
    return backends.render(graph, fmt, style=style, **options)
