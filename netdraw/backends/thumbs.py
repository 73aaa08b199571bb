"""What a backend draws for activation thumbnails: plain data, made by the face.

:mod:`netdraw.viz.thumbnails` turns captured activations into these objects (numpy arrays
and PNG bytes, no framework); every backend draws them and never calls ``netdraw.viz``
itself. :func:`colormap` holds the colour scales that both the pictures of
:mod:`netdraw.viz.pictures` and the figures' legends use.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import numpy as np

#: Anchor colours of the scales, interpolated to 256 steps.
_ANCHORS = {
    "sequential": ["#440154", "#3b528b", "#21918c", "#5ec962", "#fde725"],
    "diverging": ["#053061", "#2166ac", "#92c5de", "#f7f7f7", "#f4a582", "#b2182b",
                  "#67001f"],
    "gray": ["#000000", "#ffffff"],
    "heat": ["#00007f", "#0000ff", "#00ffff", "#7fff7f", "#ffff00", "#ff0000", "#7f0000"],
}


@cache
def colormap(name: str) -> np.ndarray:
    """A (256, 3) uint8 lookup table."""
    anchors = np.array([[int(c[i:i + 2], 16) for i in (1, 3, 5)] for c in _ANCHORS[name]],
                       dtype=np.float64)
    pos = np.linspace(0, 1, len(anchors))
    steps = np.linspace(0, 1, 256)
    return np.stack([np.interp(steps, pos, anchors[:, k]) for k in range(3)],
                    axis=1).round().astype(np.uint8)


def to_png(img: Any) -> bytes:
    """A Pillow image as PNG bytes (the same settings everywhere, so bytes repeat)."""
    buffer = io.BytesIO()
    img.save(buffer, format="PNG", compress_level=6)
    return buffer.getvalue()


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

            self._png = to_png(Image.fromarray(np.ascontiguousarray(self.rgb)))
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
        table = colormap(self.scale.cmap)
        return [hex_colour(table[int(round(float(v) * 255))])
                for v in self.tiles[0].levels.reshape(-1)]

    def unit_colours(self, indices: list[int]) -> list[str]:
        """Colours of the units ``indices`` on a diverging scale symmetric around 0 (the
        largest magnitude of the layer's units)."""
        if self.units is None or self.units.size == 0:
            return []
        bound = float(np.max(np.abs(self.units))) or 1.0
        scale = Scale(-bound, bound, "diverging")
        table = colormap("diverging")
        picked = scale.levels(self.units[[i for i in indices if i < self.units.size]])
        return [hex_colour(table[int(round(float(v) * 255))]) for v in picked]

    def vertical_png(self) -> bytes:
        """A strip's picture turned upright (first value at the top), as PNG."""
        from PIL import Image

        rgb = np.ascontiguousarray(self.tiles[0].rgb.transpose(1, 0, 2))
        return to_png(Image.fromarray(rgb))

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
            ramp = colormap(cmap)[None, :, :].repeat(8, axis=0)
            out.append((cmap, low, high, Tile(ramp, None)))
        if self.cam_note:
            ramp = colormap("heat")[None, :, :].repeat(8, axis=0)
            out.append(("cam", "0", "1", Tile(ramp, None)))
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
