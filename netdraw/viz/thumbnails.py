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
from dataclasses import dataclass, field
from typing import Any

import numpy as np

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


@dataclass(frozen=True)
class Scale:
    """The colour scale of one layer: values ``vmin``..``vmax`` over colour map ``cmap``."""

    vmin: float
    vmax: float
    cmap: str

    def levels(self, x: np.ndarray) -> np.ndarray:
        span = self.vmax - self.vmin or 1.0
        return np.clip((np.nan_to_num(x) - self.vmin) / span, 0.0, 1.0).astype(np.float32)


@dataclass
class Tile:
    """One picture of a thumbnail: colours, their 0-1 levels on the scale, PNG bytes
    (encoded when first asked for)."""

    rgb: np.ndarray
    levels: np.ndarray | None
    label: str = ""
    _png: bytes | None = field(default=None, repr=False)

    @property
    def png(self) -> bytes:
        if self._png is None:
            from PIL import Image

            self._png = pictures.to_png(Image.fromarray(np.ascontiguousarray(self.rgb)))
        return self._png

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.rgb.shape[1]), int(self.rgb.shape[0])


@dataclass
class NodeThumb:
    """What one view node shows (see the module docstring)."""

    node_id: str
    kind: str  # image | maps | strip
    tiles: list[Tile]
    scale: Scale | None
    channels: list[int] = field(default_factory=list)
    total: int = 0  # channels (maps) or values (strip) of the layer
    shape: tuple[int, ...] = ()  # one example's output shape
    cam: bool = False
    #: One value per unit: a vector's values, a map's channel means (fcnn's neurons).
    units: np.ndarray | None = None

    def strip_colours(self) -> list[str]:
        """A strip's cells as ``#rrggbb`` colours, left to right."""
        if self.kind != "strip" or self.scale is None or self.tiles[0].levels is None:
            return []
        table = pictures.colormap(self.scale.cmap)
        return [hex_colour(table[int(round(float(v) * 255))])
                for v in self.tiles[0].levels.reshape(-1)]

    def unit_colours(self, indices: list[int]) -> list[str]:
        """Colours of the units ``indices`` on a diverging scale symmetric around 0 (the
        largest magnitude of the layer's units)."""
        if self.units is None or self.units.size == 0:
            return []
        bound = float(np.max(np.abs(self.units))) or 1.0
        scale = Scale(-bound, bound, "diverging")
        table = pictures.colormap("diverging")
        picked = scale.levels(self.units[[i for i in indices if i < self.units.size]])
        return [hex_colour(table[int(round(float(v) * 255))]) for v in picked]

    def vertical_png(self) -> bytes:
        """A strip's picture turned upright (first value at the top), as PNG."""
        from PIL import Image

        rgb = np.ascontiguousarray(self.tiles[0].rgb.transpose(1, 0, 2))
        return pictures.to_png(Image.fromarray(rgb))

    @property
    def caption(self) -> str:
        if self.kind == "maps":
            return f"{len(self.channels)} of {self.total} channels"
        if self.kind == "strip":
            return f"{self.total} values"
        return "input with CAM" if self.cam else "input"


@dataclass
class Thumbnails:
    """The thumbnails of one drawing, keyed by the drawn graph's node ids."""

    nodes: dict[str, NodeThumb]
    count: int
    order: str
    colormap: str
    cam_note: str = ""

    def __contains__(self, nid: object) -> bool:
        return nid in self.nodes

    def get(self, nid: str) -> NodeThumb | None:
        return self.nodes.get(nid)

    def __len__(self) -> int:
        return len(self.nodes)

    def legend(self) -> list[tuple[str, str, str, Tile]]:
        """``(cmap, low text, high text, ramp tile)`` for each colour scale in use, in a
        fixed order (``cam`` last, for the class-activation map over the input); the ends
        are the layer's own range (``max``: its largest value, ``±max``: its largest
        magnitude, ``min``: its smallest value when a colormap other than the diverging
        one shows signed values)."""
        used = {t.scale.cmap for t in self.nodes.values() if t.scale is not None}
        signed = {t.scale.cmap for t in self.nodes.values()
                  if t.scale is not None and t.scale.vmin < 0}
        out = []
        for cmap in ("sequential", "diverging", "heat", "gray"):
            if cmap not in used:
                continue
            if cmap not in signed:
                low, high = "0", "max"
            elif cmap == "diverging":  # symmetric around 0
                low, high = "−max", "+max"
            else:  # one map for all (--colormap): a signed layer spans its min to max
                low, high = "min", "max"
            ramp = pictures.colormap(cmap)[None, :, :].repeat(8, axis=0)
            out.append((cmap, low, high, _tile(ramp, None)))
        if self.cam_note:
            ramp = pictures.colormap("heat")[None, :, :].repeat(8, axis=0)
            out.append(("cam", "0", "1", _tile(ramp, None)))
        return out

    def legend_labels(self) -> list[tuple[str, str, Tile]]:
        """``(cmap, one-line text, ramp tile)`` per colour scale, for a figure's legend."""
        out = []
        for cmap, low, high, tile in self.legend():
            if cmap == "cam":
                out.append((cmap, "class-activation map 0 … 1", tile))
            else:
                out.append((cmap, f"activation {low} … {high} (per layer)", tile))
        return out

    def legend_text(self) -> str:
        """One line saying how thumbnails are coloured and chosen."""
        which = {"index": "the first channels", "mean": "the most active channels by mean",
                 "max": "the most active channels by maximum"}[self.order]
        text = f"up to {self.count} channels per layer: {which}; one colour scale per layer"
        return text + (f"; {self.cam_note}" if self.cam_note else "")


def hex_colour(rgb: Any) -> str:
    return "#{:02x}{:02x}{:02x}".format(*(int(c) for c in rgb[:3]))


def item_thumb(thumbs: Thumbnails | None, node_ids: list[str]) -> NodeThumb | None:
    """The thumbnail of a drawn item made of several view nodes (a layer with its
    activation folded in): the last one that has a thumbnail."""
    if thumbs is None:
        return None
    for nid in reversed(node_ids):
        if nid in thumbs.nodes:
            return thumbs.nodes[nid]
    return None


def _tile(rgb: np.ndarray, levels: np.ndarray | None, label: str = "") -> Tile:
    return Tile(rgb, levels, label)


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
    return _tile(rgb, None)


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
                tiles.append(_tile(rgb, levels, f"#{c}"))
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
        nodes[nid] = NodeThumb(nid, "strip", [_tile(rgb, levels)], scale,
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
