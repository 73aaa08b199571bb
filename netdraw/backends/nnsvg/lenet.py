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

from netdraw.backends.nnsvg.base import Origin, Style, box, fit_style, render_style
from netdraw.backends.nnsvg.canvas import INK, MUTED, Canvas, shade
from netdraw.describe import MERGE_KINDS
from netdraw.figure import geometry as geo
from netdraw.figure.fit import Fit
from netdraw.figure.items import Item
from netdraw.figure.layout import Footprint, Label
from netdraw.ir import Graph

BAR = 10.0  # thickness of a dense bar
#: Where kernels sit on a map (relative x, y), cycled so neighbouring kernels differ.
_SPOTS = ((0.62, 0.28), (0.45, 0.58), (0.7, 0.5), (0.38, 0.36))


class LeNetStyle(Style):
    name = "lenet"
    col_gap = 34.0
    row_gap = 36.0
    links_above = True

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.side = self.scaler("side", 14, 110)
        self.bar = self.scaler("units", 24, 130)

    # -- geometry (SVG coordinates relative to the origin: y down) ----------------------
    def stack(self, item: Item) -> tuple[int, float, float, float]:
        """(squares, step, width, height) of a map layer's stack."""
        d = item.dims
        n = max(1, min(d.c or 1, self.opts.max_maps))
        w, h = self.side(d.w if d.rank != 2 else 1), self.side(d.h)
        step = min(6.0 * self.size, max(2.0, min(w, h) / 5)) if n > 1 else 0.0
        return n, step, w, h

    def body(self, item: Item) -> tuple[float, float, float, float]:
        if item.dims.is_vector:
            s = self.bar(item.dims.c) / math.sqrt(2)
            return 0.0, -s / 2, s + BAR, s / 2
        n, step, w, h = self.stack(item)
        tw, th = w + (n - 1) * step, h + (n - 1) * step
        return 0.0, -th / 2, tw, th / 2

    def front(self, item: Item, ox: float, oy: float) -> tuple[float, float, float, float]:
        """(x, y, w, h) of the front (last) map of a stack."""
        n, step, w, h = self.stack(item)
        x0, y0, _, _ = self.body(item)
        return ox + x0 + (n - 1) * step, oy + y0 + (n - 1) * step, w, h

    def glyph(self, item: Item) -> Footprint:
        if item.is_merge:
            return self.merge_glyph()
        x0, y0, x1, y1 = self.body(item)
        if item.dims.is_vector:  # a diagonal bar: edges meet it half way down
            s = x1 - x0 - BAR
            return Footprint(geo.flip([(x0, y0), (x0 + BAR, y0), (x0 + BAR + s, y1),
                                       (x0 + s, y1)]))
        n, step, w, h = self.stack(item)
        fx, fy, _, _ = self.front(item, 0.0, 0.0)
        outline = geo.flip([(x0, y0), (x0 + w, y0), (x1, fy), (x1, y1), (fx, y1),
                            (x0, y0 + h)])
        return Footprint(outline, face=box(fx, fy, fx + w, fy + h))

    def labels(self, item: Item, fp: Footprint) -> list[Label]:
        x0, _, x1, y1 = geo.bbox(fp.outline)
        out: list[Label] = []
        for text, role in reversed(self.dims_lines(item, "dims")):  # upwards from the top
            out.insert(0, self.text_label(text, role, (x0 + x1) / 2, y1 + 2, "south"))
            y1 = out[0].box()[3] - 2
        return out + super().labels(item, fp)

    # -- drawing --------------------------------------------------------------------------
    def draw(self, cv: Canvas, item: Item, ox: float, oy: float) -> None:
        if item.is_merge:
            self.draw_merge(cv, item, ox, oy)
            return
        fill = self.opts.fill_of(item)
        x0, y0, x1, y1 = self.body(item)
        thumb = self.thumb(item)
        if item.dims.is_vector:
            s = x1 - x0 - BAR
            cv.polygon([(ox, oy + y0), (ox + BAR, oy + y0), (ox + BAR + s, oy + y1),
                        (ox + s, oy + y1)], fill=fill, stroke=INK, stroke_width="0.9",
                       **{"class": "bar"})
            if thumb is not None and thumb.kind == "strip":
                self._heat_bar(cv, thumb.strip_colours(), ox, oy + y0, s, y1 - y0)
            return
        n, step, w, h = self.stack(item)
        for k in range(n):
            x, y = ox + x0 + k * step, oy + y0 + k * step
            cv.rect(x, y, w, h, fill=fill if (n - 1 - k) % 2 == 0 else shade(fill, 0.82),
                    stroke=INK, stroke_width="0.8", **{"class": "map"})
            tile = _square_tile(thumb, n - 1 - k)
            if tile is not None:  # the front square shows the strongest channel
                cv.image(tile.png, x, y, w, h, **{"class": "thumb"})
                cv.rect(x, y, w, h, fill="none", stroke=INK, stroke_width="0.8")

    def _heat_bar(self, cv: Canvas, colours: list[str], x: float, y: float, s: float,
                  height: float) -> None:
        """A dense bar's heat strip: one cell per value along the diagonal bar."""
        m = len(colours)
        cv.open(**{"class": "thumb strip"})
        for k, colour in enumerate(colours):
            a, b = k / m, (k + 1) / m
            cv.polygon([(x + a * s, y + a * height), (x + BAR + a * s, y + a * height),
                        (x + BAR + b * s, y + b * height), (x + b * s, y + b * height)],
                       fill=colour, stroke="none")
        cv.close()
        cv.polygon([(x, y), (x + BAR, y), (x + BAR + s, y + height), (x + s, y + height)],
                   fill="none", stroke=INK, stroke_width="0.9")

    def can_link(self, src: Item, dst: Item) -> bool:
        return not (src.is_merge or dst.is_merge or (src.dims.is_vector
                                                     and not dst.dims.is_vector))

    def link(self, cv: Canvas, src: Item, dst: Item, origin: Origin) -> None:
        (sx, sy), (dx, dy) = origin(src.id), origin(dst.id)
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
        kh = min(fh * 0.6, max(3.0, fh * kernel[0] / (src.dims.h or kernel[0] * 4)))
        kw = min(fw * 0.6, max(3.0, fw * kernel[1] / (src.dims.w or kernel[1] * 4)))
        rx, ry = _SPOTS[dst.index % len(_SPOTS)]
        kx, ky = fx + rx * (fw - kw), fy + ry * (fh - kh)
        tx, ty = gx + rx * gw, gy + ry * gh
        cv.rect(kx, ky, kw, kh, fill="none", stroke=INK, stroke_width="0.9",
                **{"class": "kernel"})
        cv.line((kx + kw, ky), (tx, ty), **style)
        cv.line((kx + kw, ky + kh), (tx, ty), **style)

    def _ends(self, item: Item, ox: float, oy: float,
              right: bool) -> tuple[tuple[float, float], tuple[float, float]]:
        """Top and bottom attachment points of an item's right or left side."""
        x0, y0, x1, y1 = self.body(item)
        if item.dims.is_vector:
            s = x1 - x0 - BAR
            if right:
                return (ox + BAR, oy + y0), (ox + BAR + s, oy + y1)
            return (ox, oy + y0), (ox + s, oy + y1)
        fx, fy, fw, fh = self.front(item, ox, oy)
        return (fx + fw, fy), (fx + fw, fy + fh)

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        fill = self.opts.fill(kind)
        if kind in MERGE_KINDS:
            return super().swatch(cv, kind, x, y)
        cv.rect(x, y, 9, 9, fill=shade(fill, 0.82), stroke=INK, stroke_width="0.7")
        cv.rect(x + 3, y + 3, 9, 9, fill=fill, stroke=INK, stroke_width="0.7")


def _square_tile(thumb: Any, k: int) -> Any:
    """The tile square ``k`` of a stack shows (0: the front one), or None."""
    if thumb is None or thumb.kind == "strip":
        return None
    if thumb.kind == "image":
        return thumb.tiles[0] if k == 0 else None
    return thumb.tiles[k] if k < len(thumb.tiles) else None


def render(graph: Graph, fmt: str = "svg", **options: Any) -> str:
    """The graph in the LeNet style (options: see :mod:`netdraw.backends.nnsvg`)."""
    return render_style(LeNetStyle, graph, fmt, **options)


def fit(graph: Graph, detail: str = "any", **options: Any) -> Fit:
    """How the lenet figure of ``graph`` fits ``options["width"]`` (the view choice's
    measure for this style)."""
    return fit_style(LeNetStyle, graph, detail, **options)[0]
