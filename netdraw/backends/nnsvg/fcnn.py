"""FCNN style: every layer a column of neurons, fully connected to the next column.

A vector layer shows one circle per unit, a map layer one per channel (its ``C@H×W`` is
in the label). A layer wider than ``max_neurons`` (default 10) shows that many slots: the
first and last neurons with a vertical ellipsis between them, and its true size below.
``--scale`` does not apply: neuron counts are exact up to the cap.
"""

from __future__ import annotations

import math
from typing import Any

from netdraw.backends.nnsvg.base import Origin, Style, box, fit_style, render_style
from netdraw.backends.nnsvg.canvas import INK, Canvas
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
        for k, (x, y) in enumerate(centres):
            cv.circle(x, y, self.radius, fill=colours[k] if k < len(colours) else fill,
                      stroke=INK, stroke_width="0.9",
                      **{"class": "neuron value" if k < len(colours) else "neuron"})
        if ellipsis:
            gap_y = (centres[math.ceil(drawn / 2) - 1][1] + centres[math.ceil(drawn / 2)][1]) / 2
            for dy in (-5.0, 0.0, 5.0):
                cv.circle(ox, gap_y + dy, 1.6, fill=INK, **{"class": "ellipsis"})

    def can_link(self, src: Item, dst: Item) -> bool:
        return not (src.is_merge or dst.is_merge)

    def link(self, cv: Canvas, src: Item, dst: Item, origin: Origin) -> None:
        a = self.centres(src, *origin(src.id))
        b = self.centres(dst, *origin(dst.id))
        cv.open(**{"class": "connections"}, stroke=LINK, stroke_width="0.55",
                stroke_opacity="0.7")
        r = self.radius
        for x0, y0 in a:
            for x1, y1 in b:
                length = math.hypot(x1 - x0, y1 - y0)
                ux, uy = (x1 - x0) / length, (y1 - y0) / length
                cv.line((x0 + ux * r, y0 + uy * r), (x1 - ux * r, y1 - uy * r))
        cv.close()

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        cv.circle(x + 6, y + 6, 6, fill=self.opts.fill(kind), stroke=INK, stroke_width="0.8")


def render(graph: Graph, fmt: str = "svg", **options: Any) -> str:
    """The graph in the FCNN style (options: see :mod:`netdraw.backends.nnsvg`)."""
    return render_style(FcnnStyle, graph, fmt, **options)


def fit(graph: Graph, detail: str = "any", **options: Any) -> Fit:
    """How the fcnn figure of ``graph`` fits ``options["width"]`` (the view choice's
    measure for this style)."""
    return fit_style(FcnnStyle, graph, detail, **options)[0]
