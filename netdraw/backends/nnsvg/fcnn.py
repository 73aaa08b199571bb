"""FCNN style: every layer a column of neurons, fully connected to the next column.

A vector layer shows one circle per unit. A map layer is not a column of neurons: it shows
one small square per *channel* (a feature map; its ``C@H×W`` is in the label), and what
connects it says what the layer computes, not a dense weight matrix: into a convolution
every input channel reaches every output channel through a k×k kernel (drawn dashed, as
"k×k kernels"), into a depthwise convolution, a pooling or an up-sampling each channel
reaches only its own. The legend says which is which. A layer wider than ``max_neurons``
(default 10) shows that many slots: the first and last with a vertical ellipsis between
them, and its true size below. ``--scale`` does not apply: counts are exact up to the cap.
"""

from __future__ import annotations

import math
from typing import Any

from netdraw.backends.nnsvg.base import Origin, Style, box, fit_style, render_style
from netdraw.backends.nnsvg.canvas import INK, Canvas
from netdraw.describe import MERGE_KINDS
from netdraw.figure.fit import Fit
from netdraw.figure.items import Item
from netdraw.figure.layout import Footprint, Label
from netdraw.ir import Graph

RADIUS = 7.5
PITCH = 21.0
LINK = "#8c8c8c"


class FcnnStyle(Style):
    name = "fcnn"
    col_gap = 60.0
    row_gap = 40.0
    links_above = False
    uniform = True

    @property
    def radius(self) -> float:
        return RADIUS * self.size

    @property
    def pitch(self) -> float:
        return PITCH * self.size

    def slots(self, item: Item) -> tuple[int, bool]:
        """(circles drawn, whether an ellipsis stands for the hidden ones)."""
        n = item.dims.c or 1
        cap = self.opts.max_neurons
        return (n, False) if n <= cap else (cap - 1, True)

    def centres(self, item: Item, ox: float, oy: float) -> list[tuple[float, float]]:
        drawn, ellipsis = self.slots(item)
        count = drawn + (1 if ellipsis else 0)
        top = oy - (count - 1) * self.pitch / 2
        ys = [top + k * self.pitch for k in range(count)]
        if ellipsis:
            del ys[math.ceil(drawn / 2)]
        return [(ox, y) for y in ys]

    def units(self, item: Item) -> list[int]:
        """The unit (or channel) index each drawn circle stands for, top to bottom: the
        first ones, then (after an ellipsis) the last ones."""
        drawn, ellipsis = self.slots(item)
        if not ellipsis:
            return list(range(drawn))
        n, head = item.dims.c or drawn, math.ceil(drawn / 2)
        return list(range(head)) + list(range(n - (drawn - head), n))

    def glyph(self, item: Item) -> Footprint:
        if item.is_merge:
            return self.merge_glyph()
        drawn, ellipsis = self.slots(item)
        half = (drawn + (1 if ellipsis else 0) - 1) * self.pitch / 2 + self.radius
        return Footprint(box(-self.radius, -half, self.radius, half), cx=0.0)

    def labels(self, item: Item, fp: Footprint) -> list[Label]:
        # name (×N for a rolled run), then the true size (units, or C@H×W)
        name = self.name_lines(item)[0][0] + (f" ×{item.repeat}" if item.repeat > 1 else "")
        dims = self.dims_lines(item, "op")
        lines = [*dims, *self.repeat_line(item)] if self.compact else [(name, "name"), *dims]
        return self.under(item, fp, lines=lines)

    def draw(self, cv: Canvas, item: Item, ox: float, oy: float) -> None:
        if item.is_merge:
            self.draw_merge(cv, item, ox, oy)
            return
        fill = self.opts.fill_of(item)
        centres = self.centres(item, ox, oy)
        drawn, ellipsis = self.slots(item)
        thumb = self.thumb(item)
        colours = thumb.unit_colours(self.units(item)) if thumb is not None else []
        maps = is_map(item)
        r = self.radius
        for k, (x, y) in enumerate(centres):
            colour = colours[k] if k < len(colours) else fill
            name = ("channel" if maps else "neuron") + (" value" if k < len(colours) else "")
            if maps:  # a channel is a feature map, not a neuron: a small square
                cv.rect(x - r, y - r, 2 * r, 2 * r, rx=f"{0.25 * r:.2f}", fill=colour,
                        stroke=INK, stroke_width="0.9", **{"class": name})
            else:
                cv.circle(x, y, r, fill=colour, stroke=INK, stroke_width="0.9",
                          **{"class": name})
        if ellipsis:
            gap_y = (centres[math.ceil(drawn / 2) - 1][1] + centres[math.ceil(drawn / 2)][1]) / 2
            for dy in (-5.0, 0.0, 5.0):
                cv.circle(ox, gap_y + dy, 1.6, fill=INK, **{"class": "ellipsis"})

    def can_link(self, src: Item, dst: Item) -> bool:
        return not (src.is_merge or dst.is_merge)

    def link(self, cv: Canvas, src: Item, dst: Item, origin: Origin) -> None:
        a = self.centres(src, *origin(src.id))
        b = self.centres(dst, *origin(dst.id))
        how = connection(src, dst)
        dashed = {"stroke_dasharray": "2.2,1.6"} if how == "kernels" else {}
        cv.open(**{"class": f"connections {how}"}, stroke=LINK, stroke_width="0.55",
                stroke_opacity="0.7", **dashed)
        r = self.radius
        pairs = list(zip(a, b, strict=False)) if how == "channelwise" else \
            [(p, q) for p in a for q in b]
        for (x0, y0), (x1, y1) in pairs:
            length = math.hypot(x1 - x0, y1 - y0)
            ux, uy = (x1 - x0) / length, (y1 - y0) / length
            cv.line((x0 + ux * r, y0 + uy * r), (x1 - ux * r, y1 - uy * r))
        cv.close()

    def legend_entries(self, fig: Any) -> list[tuple[str, str]]:
        links = {connection(fig.placed[r.src].item, fig.placed[r.dst].item)
                 for r in fig.routes if r.src in fig.placed and r.dst in fig.placed}
        items = [p.item for p in fig.placed.values() if not p.item.is_merge]
        out = []
        if any(is_map(i) for i in items):
            out.append(("\x00channel", "a channel (feature map), not a neuron"))
        if "kernels" in links:
            sizes = sorted({f"{p.item.kernel[0]}×{p.item.kernel[1]}"
                            for p in fig.placed.values()
                            if p.item.kernel is not None and p.item.kind != "pool"})
            out.append(("\x00kernels", f"{'/'.join(sizes) or 'k×k'} kernels: every channel "
                                        "to every channel"))
        if "channelwise" in links:
            out.append(("\x00channelwise", "channel by channel (pooling, depthwise)"))
        return out

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        if kind in MERGE_KINDS:
            super().swatch(cv, kind, x, y)
        elif kind == "\x00channel":
            cv.rect(x + 1, y + 1, 10, 10, rx="2", fill="#ffffff", stroke=INK,
                    stroke_width="0.8")
        elif kind in ("\x00kernels", "\x00channelwise"):
            dash = {"stroke_dasharray": "2.2,1.6"} if kind == "\x00kernels" else {}
            for y0, y1 in ((y + 2, y + 2), (y + 10, y + 10)) if kind != "\x00kernels" else \
                    ((y + 2, y + 10), (y + 10, y + 2)):
                cv.line((x, y0), (x + 12, y1), stroke=LINK, stroke_width="0.9", **dash)
        else:
            cv.circle(x + 6, y + 6, 6, fill=self.opts.fill(kind), stroke=INK,
                      stroke_width="0.8")


def is_map(item: Item) -> bool:
    """Whether an item is a stack of feature maps (its slots are channels)."""
    return not item.dims.is_vector and item.dims.rank >= 2


def connection(src: Item, dst: Item) -> str:
    """How ``dst`` is computed from ``src``: ``dense`` (every unit from every unit),
    ``kernels`` (a convolution: every channel from every channel through a kernel) or
    ``channelwise`` (pooling, depthwise convolution, up-sampling, a same-size block that
    keeps channels apart is not assumed: only those ops)."""
    if not (is_map(src) and is_map(dst)):
        return "dense"
    groups = dst.attrs.get("groups")
    depthwise = isinstance(groups, int) and groups > 1 and groups == dst.attrs.get(
        "in_channels")
    if dst.kind in ("pool", "global_pool", "upsample") or depthwise:
        return "channelwise"
    if dst.kind in ("conv", "conv_transpose"):
        return "kernels"
    return "dense"


def render(graph: Graph, fmt: str = "svg", **options: Any) -> str:
    """The graph in the FCNN style (options: see :mod:`netdraw.backends.nnsvg`)."""
    return render_style(FcnnStyle, graph, fmt, **options)


def fit(graph: Graph, detail: str = "any", **options: Any) -> Fit:
    """How the fcnn figure of ``graph`` fits ``options["width"]`` (the view choice's
    measure for this style)."""
    return fit_style(FcnnStyle, graph, detail, **options)[0]
