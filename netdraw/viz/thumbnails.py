"""Per-layer activation thumbnails for the diagrams: framework-free pictures keyed by the
ids of the view being drawn.

:func:`make_thumbnails` turns an :class:`~netdraw.viz.activations.Activations` (captured
on the source graph, or already keyed by the view) into a :class:`Thumbnails`: for each
view node with a captured output one :class:`NodeThumb`:

``image``
    the input node: the input picture itself (RGB or grey, 0-1 pixels), with a
    class-activation map over it when ``cam`` is given;
``maps``
    a spatial output: the ``count`` strongest channels (``order`` index, mean or max, see
    :meth:`Activations.top_channels`), each one tile, all on the layer's shared scale;
``strip``
    a vector (dense features, logits, a 1×1 map, tokens averaged over tokens): one heat
    strip, one cell per value.

A folded node, collapsed block or rolled run shows its last member's output
(:func:`netdraw.viz.activations.representative`). Every tile is kept three ways: the
colour (``rgb``, ``(h, w, 3)`` uint8), the scaled values (``levels``, 0-1 along the
colour scale; the fcnn style fills neurons with them) and PNG bytes (``png``; SVG backends
inline them as data URIs, TikZ writes them beside the ``.tex``). Everything is
deterministic: the same activations give the same bytes.

Colour scales are the ones of ``netdraw activations`` (:mod:`netdraw.viz.pictures`): per
layer, sequential from 0 for non-negative values and diverging symmetric around 0 for
signed ones (``colormap="auto"``), or one colormap for all (``viridis``, ``diverging``,
``heat``, ``gray``); :meth:`Thumbnails.legend` describes the scales used for a legend.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from netdraw.backends.thumbs import NodeThumb, Scale, Thumbnails, Tile
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.viz import pictures
from netdraw.viz.activations import ORDERS, Activations

#: ``--colormap`` names -> the colour scale of :mod:`netdraw.viz.pictures` (``auto``: per
#: layer, sequential or diverging by the sign of its values).
COLORMAPS: dict[str, str] = {"auto": "auto", "viridis": "sequential",
                             "sequential": "sequential", "diverging": "diverging",
                             "coolwarm": "diverging", "heat": "heat", "jet": "heat",
                             "gray": "gray", "grey": "gray"}
#: Tiles are stored at least this many pixels on their longer side (whole-number nearest
#: upscaling keeps small maps crisp) and at most :data:`MAX_PIXELS` (box downscaling).
MIN_PIXELS = 32
MAX_PIXELS = 56
#: At most this many cells in a heat strip (longer vectors are averaged into bins).
MAX_STRIP = 64


def _fit(rgb: np.ndarray, levels: np.ndarray | None,
         limit: int = MAX_PIXELS) -> tuple[np.ndarray, np.ndarray | None]:
    """Resize a tile to :data:`MIN_PIXELS`-``limit`` pixels on its longer side."""
    from PIL import Image

    h, w = rgb.shape[:2]
    longest = max(h, w)
    if longest < MIN_PIXELS:
        k = -(-MIN_PIXELS // longest)
        return (rgb.repeat(k, 0).repeat(k, 1),
                None if levels is None else levels.repeat(k, 0).repeat(k, 1))
    if longest <= limit:
        return rgb, levels
    size = (max(1, round(w * limit / longest)), max(1, round(h * limit / longest)))
    small = np.asarray(Image.fromarray(rgb).resize(size, Image.Resampling.BOX))
    if levels is not None:
        levels = np.asarray(Image.fromarray(levels.astype(np.float32), mode="F")
                            .resize(size, Image.Resampling.BOX))
    return small, levels


def layer_scale(low: float, high: float, colormap: str) -> Scale:
    """The scale of a layer whose values span ``low``..``high``."""
    vmin, vmax, auto = pictures.scale_for(low, high)
    if colormap == "auto":
        return Scale(vmin, vmax, auto)
    if colormap == "diverging":
        bound = max(abs(low), abs(high)) or 1.0
        return Scale(-bound, bound, "diverging")
    return Scale(low if low < 0 else 0.0, vmax, colormap)


def _is_spatial(acts: Activations, nid: str) -> bool:
    if acts.kind(nid) != "spatial":
        return False
    maps = acts.spatial(nid)
    return maps is not None and maps.shape[0] > 0 and maps.shape[1] * maps.shape[2] > 1


def _input_tile(image: np.ndarray, heat: np.ndarray | None) -> Tile:
    """A (C, H, W) input as a picture (3 channels: RGB, else the first as grey), scaled to
    0-1 by its own range unless it already is 0-1; ``heat`` (H, W) 0-1 goes over it."""
    x = np.nan_to_num(np.asarray(image, dtype=np.float32))
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        x = (x - low) / ((high - low) or 1.0)
    x = x if x.shape[0] == 3 else np.repeat(x[:1], 3, axis=0)
    if heat is not None:
        if heat.shape != x.shape[1:]:
            from PIL import Image

            heat = np.asarray(Image.fromarray(heat.astype(np.float32), mode="F").resize(
                (x.shape[2], x.shape[1]), Image.Resampling.BILINEAR))
        rgb = pictures.overlay(x, np.clip(heat, 0, 1))
    else:
        rgb = (np.moveaxis(np.clip(x, 0, 1), 0, -1) * 255).round().astype(np.uint8)
    rgb, _ = _fit(rgb, None, limit=2 * MAX_PIXELS)
    return Tile(rgb, None)


def _strip_values(acts: Activations, nid: str) -> np.ndarray | None:
    """The values a heat strip shows: a vector, a 1×1 map's channels, or tokens averaged
    over the token axis; binned to at most :data:`MAX_STRIP` cells."""
    kind = acts.kind(nid)
    if kind == "vector" or kind == "spatial":
        values = acts.vector(nid)
    elif kind == "tokens":
        values = acts.tokens(nid).mean(axis=0)
    else:
        return None
    if values.size == 0:
        return None
    if values.size > MAX_STRIP:
        edges = np.linspace(0, values.size, MAX_STRIP + 1).round().astype(int)
        values = np.array([values[a:b].mean() for a, b in zip(edges, edges[1:],
                                                                strict=False)], np.float32)
    return values


def make_thumbnails(acts: Activations, graph: Graph | None = None, *, count: int = 4,
                    order: str = "mean", colormap: str = "auto",
                    pixels: np.ndarray | None = None, cam: np.ndarray | None = None,
                    cam_note: str = "", example: int = 0) -> Thumbnails:
    """The thumbnails of ``graph`` (a view of ``acts.graph``, or ``acts.graph`` itself).

    ``count`` channels per spatial layer, chosen by ``order``; ``colormap`` one of
    :data:`COLORMAPS`; ``pixels`` the 0-1 input picture(s) ``(N, C, H, W)`` the input node
    shows (default: the captured input); ``cam`` a ``(H, W)`` 0-1 class-activation map
    drawn over it."""
    if order not in ORDERS:
        raise NetdrawError(f"--thumbnail-order must be one of {', '.join(ORDERS)}, "
                           f"not {order!r}")
    if colormap not in COLORMAPS:
        raise NetdrawError(f"unknown --colormap {colormap!r}; choose one of "
                           f"{', '.join(COLORMAPS)}")
    if count < 1:
        raise NetdrawError(f"--thumbnails must be 1 or more, not {count}")
    cmap = COLORMAPS[colormap]
    if cam is not None and not cam_note:
        cam_note = "class-activation map over the input"
    if graph is not None and graph is not acts.graph:
        acts = acts.for_graph(graph)
    nodes: dict[str, NodeThumb] = {}
    for nid in acts:
        value = acts[nid]
        if value.dtype.kind not in "fiub" or value.size == 0:
            continue
        node = acts.node(nid)
        one = tuple(int(d) for d in value.shape[1:])
        if node.kind == "input" and _is_spatial(acts, nid):
            image = pixels[example] if pixels is not None else acts.spatial(nid, example)
            means = acts.spatial(nid, example)
            means = means.reshape(means.shape[0], -1).mean(axis=1)
            nodes[nid] = NodeThumb(nid, "image", [_input_tile(image, cam)], None,
                                   total=int(image.shape[0]), shape=one, cam=cam is not None,
                                   units=means)
            continue
        low, high = acts.value_range(nid, example)
        scale = layer_scale(low, high, cmap)
        if _is_spatial(acts, nid):
            maps = acts.spatial(nid, example)
            picked = acts.top_channels(nid, count, order, example)
            tiles = []
            for c in picked:
                levels = scale.levels(maps[c])
                rgb = pictures.colormap(scale.cmap)[(levels * 255).round().astype(np.int64)]
                rgb, levels = _fit(rgb, levels)
                tiles.append(Tile(rgb, levels, f"#{c}"))
            means = maps.reshape(maps.shape[0], -1).mean(axis=1)
            nodes[nid] = NodeThumb(nid, "maps", tiles, scale, picked, int(maps.shape[0]),
                                   one, units=means)
            continue
        values = _strip_values(acts, nid)
        if values is None:
            continue
        levels = scale.levels(values)[None, :]
        rgb = pictures.colormap(scale.cmap)[(levels * 255).round().astype(np.int64)]
        k = max(1, -(-2 * MAX_STRIP // values.size))  # cells k pixels wide, 8 high
        rgb = rgb.repeat(8, 0).repeat(k, 1)
        units = (acts.tokens(nid, example).mean(axis=0) if acts.kind(nid) == "tokens"
                 else acts.vector(nid, example))
        nodes[nid] = NodeThumb(nid, "strip", [Tile(rgb, levels)], scale,
                               total=int(units.size), shape=one, units=units)
    return Thumbnails(nodes, count, order, colormap, cam_note)


def as_thumbnails(activations: Any, graph: Graph, **options: Any) -> Thumbnails | None:
    """What a backend's ``activations=`` option holds, as :class:`Thumbnails` for ``graph``:
    a :class:`Thumbnails` as it is, an :class:`Activations` through :func:`make_thumbnails`
    (``options``: its keyword arguments), None for None."""
    if activations is None or isinstance(activations, Thumbnails):
        return activations
    if isinstance(activations, Activations):
        return make_thumbnails(activations, graph, **options)
    if isinstance(activations, Mapping):
        raise NetdrawError("activations= takes netdraw.viz.capture(...)'s result (or "
                           "make_thumbnails'); a mapping of PNG images is for the html "
                           "format only")
    raise NetdrawError(f"activations= takes netdraw.viz.capture(...)'s result, not a "
                       f"{type(activations).__name__}")


def panel_png(thumb: NodeThumb) -> bytes:
    """One picture of a thumbnail for a side panel: its tiles (channel maps numbered
    ``#k``, a heat strip, or the input picture) with the layer's colour bar."""
    from PIL import Image

    if thumb.kind == "image":
        return thumb.tiles[0].png
    tiles = [Image.fromarray(t.rgb) for t in thumb.tiles]
    if thumb.kind == "maps":
        body = pictures.grid(tiles, [t.label for t in thumb.tiles],
                             columns=min(4, len(tiles)))
    else:
        body = tiles[0]
    scale = thumb.scale
    bar, _ = pictures.colorbar(max(body.height, 60), scale.vmin, scale.vmax, scale.cmap, "")
    canvas = Image.new("RGB", (body.width + 8 + bar.width, max(body.height, bar.height)),
                       pictures.BACKGROUND)
    canvas.paste(body, (0, (canvas.height - body.height) // 2))
    canvas.paste(bar, (body.width + 8, (canvas.height - bar.height) // 2))
    return pictures.to_png(canvas)


def html_images(activations: Any, thumbnails: int | None = None,
                thumbnail_order: str | None = None, colormap: str | None = None,
                pixels: np.ndarray | None = None, cam: Any = None) -> Any:
    """For the HTML page's side panel: a function that, given the page's prepared graph,
    returns node id -> one PNG per node (:func:`panel_png`: the channels with their
    numbers and the layer's colour bar; the input node shows the input picture, with the
    CAM over it when given). A mapping of PNG bytes or data URIs passes through."""
    if isinstance(activations, Mapping):
        return dict(activations)
    if not isinstance(activations, Activations):
        raise NetdrawError(f"activations= takes netdraw.viz.capture(...)'s result, not a "
                           f"{type(activations).__name__}")
    if hasattr(cam, "heatmaps"):
        cam = cam.heatmaps[0]
    count, order = thumbnails or 4, thumbnail_order or "mean"
    if order not in ORDERS:
        raise NetdrawError(f"--thumbnail-order must be one of {', '.join(ORDERS)}, "
                           f"not {order!r}")

    def images(graph: Graph) -> dict[str, bytes]:
        thumbs = make_thumbnails(activations.for_graph(graph), count=count, order=order,
                                 colormap=colormap or "auto", pixels=pixels, cam=cam)
        return {nid: panel_png(thumb) for nid, thumb in thumbs.nodes.items()}

    return images
