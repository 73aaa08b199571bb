"""LeNet style: feature maps as stacks of offset squares, kernels projected to the next layer.

Each map layer is a stack of at most ``max_maps`` (default 8) squares whose sides follow H
and W (log or linear, see ``--scale``) and whose count follows the channels; the true
``C@H×W`` is written above. A convolution or pooling draws its kernel as a small square on
the previous layer's front map with two lines to the unit it produces. Dense layers are
diagonal bars whose length follows the units, joined by lines to their neighbours.
"""

from __future__ import annotations

import math
from typing import Any

from netdraw.backends.nnsvg.base import LABEL_SIZE, Style, render_style
from netdraw.backends.nnsvg.canvas import INK, MUTED, Canvas, Scaler, shade
from netdraw.backends.nnsvg.figure import Layer
from netdraw.backends.nnsvg.layout import Placement, Shape
from netdraw.ir import Graph

BAR = 10.0  # thickness of a dense bar
#: Where kernels sit on a map (relative x, y), cycled so neighbouring kernels differ.
_SPOTS = ((0.62, 0.28), (0.45, 0.58), (0.7, 0.5), (0.38, 0.36))


class LeNetStyle(Style):
    name = "lenet"
    col_gap = 34.0
    row_gap = 36.0
    links_above = True

    def __init__(self, fig: Any, opts: Any) -> None:
        super().__init__(fig, opts)
        maps = [lay.dims for lay in fig.layers if not lay.dims.is_vector and not lay.is_merge]
        self.side = Scaler([d.height for d in maps] + [d.width for d in maps], 14, 110,
                           opts.scale)
        self.bar = Scaler([lay.dims.units for lay in fig.layers if lay.dims.is_vector],
                          24, 130, opts.scale)

    # -- geometry -------------------------------------------------------------------------
    def stack(self, layer: Layer) -> tuple[int, float, float, float]:
        """(squares, step, width, height) of a map layer's stack."""
        d = layer.dims
        n = max(1, min(d.channels or 1, self.opts.max_maps))
        w, h = self.side(d.width), self.side(d.height)
        step = min(6.0, max(2.5, min(w, h) / 5)) if n > 1 else 0.0
        return n, step, w, h

    def body(self, layer: Layer) -> tuple[float, float, float, float]:
        if layer.dims.is_vector:
            s = self.bar(layer.dims.units) / math.sqrt(2)
            return 0.0, -s / 2, s + BAR, s / 2
        n, step, w, h = self.stack(layer)
        tw, th = w + (n - 1) * step, h + (n - 1) * step
        return 0.0, -th / 2, tw, th / 2

    def front(self, layer: Layer, ox: float, oy: float) -> tuple[float, float, float, float]:
        """(x, y, w, h) of the front (last) map of a stack."""
        n, step, w, h = self.stack(layer)
        x0, y0, _, _ = self.body(layer)
        return ox + x0 + (n - 1) * step, oy + y0 + (n - 1) * step, w, h

    def shape(self, layer: Layer) -> Shape:
        if layer.is_merge:
            return self.merge_shape()
        x0, y0, x1, y1 = self.body(layer)
        above = [layer.dims.text()] if self.opts.labels else []
        if layer.dims.is_vector:  # a diagonal bar: edges meet it half way down
            mid = (x1 - x0 - BAR) / 2
            return self.labelled(layer, (x0, y0, x1, y1), (mid, 0.0), (mid + BAR, 0.0), above)
        return self.labelled(layer, (x0, y0, x1, y1), (x0, 0.0), (x1, 0.0), above)

    # -- drawing --------------------------------------------------------------------------
    def draw(self, cv: Canvas, layer: Layer, ox: float, oy: float) -> None:
        if layer.is_merge:
            self.draw_merge(cv, layer, ox, oy)
            return
        fill = self.opts.fill(layer.kind)
        x0, y0, x1, y1 = self.body(layer)
        if layer.dims.is_vector:
            s = x1 - x0 - BAR
            cv.polygon([(ox, oy + y0), (ox + BAR, oy + y0), (ox + BAR + s, oy + y1),
                        (ox + s, oy + y1)], fill=fill, stroke=INK, stroke_width="0.9",
                       **{"class": "bar"})
        else:
            n, step, w, h = self.stack(layer)
            for k in range(n):
                cv.rect(ox + x0 + k * step, oy + y0 + k * step, w, h,
                        fill=fill if (n - 1 - k) % 2 == 0 else shade(fill, 0.82),
                        stroke=INK, stroke_width="0.8", **{"class": "map"})
        if self.opts.labels:
            cv.text(ox + (x0 + x1) / 2, oy + y0 - 4, layer.dims.text(), LABEL_SIZE,
                    **{"class": "dims"})
            self.draw_lines(cv, self.label_lines(layer), ox + (x0 + x1) / 2, self.label_y(layer))

    def can_link(self, src: Layer, dst: Layer) -> bool:
        return not (src.is_merge or dst.is_merge or (src.dims.is_vector
                                                     and not dst.dims.is_vector))

    def link(self, cv: Canvas, src: Layer, dst: Layer, pl: Placement) -> None:
        (sx, sy), (dx, dy) = pl.origin[src.index], pl.origin[dst.index]
        style = {"stroke": MUTED, "stroke_width": "0.7", "class": "projection"}
        if dst.dims.is_vector:
            a, b = self._ends(src, sx, sy, right=True)
            c, d = self._ends(dst, dx, dy, right=False)
            cv.line(a, c, **style)
            cv.line(b, d, **style)
            return
        fx, fy, fw, fh = self.front(src, sx, sy)
        gx, gy, gw, gh = self.front(dst, dx, dy)
        kernel = dst.kernel
        if kernel is None:
            # No kernel (block, upsampling, …): the whole map projects onto the next one.
            cv.line((fx + fw, fy), (gx, gy), **style)
            cv.line((fx + fw, fy + fh), (gx, gy + gh), **style)
            return
        kh = min(fh * 0.6, max(3.0, fh * kernel[0] / (src.dims.height or kernel[0] * 4)))
        kw = min(fw * 0.6, max(3.0, fw * kernel[1] / (src.dims.width or kernel[1] * 4)))
        rx, ry = _SPOTS[dst.index % len(_SPOTS)]
        kx, ky = fx + rx * (fw - kw), fy + ry * (fh - kh)
        tx, ty = gx + rx * gw, gy + ry * gh
        cv.rect(kx, ky, kw, kh, fill="none", stroke=INK, stroke_width="0.9",
                **{"class": "kernel"})
        cv.line((kx + kw, ky), (tx, ty), **style)
        cv.line((kx + kw, ky + kh), (tx, ty), **style)

    def _ends(self, layer: Layer, ox: float, oy: float,
              right: bool) -> tuple[tuple[float, float], tuple[float, float]]:
        """Top and bottom attachment points of a layer's right or left side."""
        x0, y0, x1, y1 = self.body(layer)
        if layer.dims.is_vector:
            s = x1 - x0 - BAR
            if right:
                return (ox + BAR, oy + y0), (ox + BAR + s, oy + y1)
            return (ox, oy + y0), (ox + s, oy + y1)
        fx, fy, fw, fh = self.front(layer, ox, oy)
        return (fx + fw, fy), (fx + fw, fy + fh)

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        fill = self.opts.fill(kind)
        if kind in ("add", "multiply", "concat"):
            cv.circle(x + 6, y + 6, 6, fill=fill, stroke=INK, stroke_width="0.8")
            return
        cv.rect(x, y, 9, 9, fill=shade(fill, 0.82), stroke=INK, stroke_width="0.7")
        cv.rect(x + 3, y + 3, 9, 9, fill=fill, stroke=INK, stroke_width="0.7")


def render(graph: Graph, fmt: str = "svg", **options: Any) -> str:
    """The graph in the LeNet style (options: see :mod:`netdraw.backends.nnsvg`)."""
    return render_style(LeNetStyle, graph, fmt, **options)
