"""AlexNet style: 3D boxes sized by H, W and C, kernel pyramids between layers.

A map layer is a box seen in an oblique projection: its height follows H, its depth into
the page W (drawn at ``--angle``, default 40°) and its thickness along the chain C, each
log-scaled by default between fixed limits (``--scale linear`` for proportional). So a layer
with more channels is a thicker box. A convolution or pooling draws its kernel on the
right face of the previous box and a pyramid from it to the unit it makes in the next box.
Dense layers are tall thin bars whose height follows the units. Labels give H (left of the
box), W (along its receding edge) and C (under it), then the layer's name and op.
"""

from __future__ import annotations

import math
from typing import Any

from netdraw.backends.nnsvg.base import SMALL_SIZE, Style, render_style
from netdraw.backends.nnsvg.canvas import INK, Canvas, Scaler, shade, text_width
from netdraw.backends.nnsvg.figure import Layer
from netdraw.backends.nnsvg.layout import Placement, Shape
from netdraw.ir import Graph

FORESHORTEN = 0.6  # how much of W shows along the receding axis
BAR = 9.0  # thickness and depth of a dense bar
KERNEL_FILL = "#5aa9e6"
PYRAMID_FILL = "#f4a6a6"
#: Where kernels sit on a face (relative y, z): the upper half, clear of the H label.
_SPOTS = ((0.22, 0.35), (0.4, 0.6), (0.3, 0.45), (0.15, 0.25))
KERNEL_MIN = 8.0  # pixels: a 3×3 kernel on a 224 map would otherwise vanish
Point = tuple[float, float]


class AlexNetStyle(Style):
    name = "alexnet"
    col_gap = 26.0
    row_gap = 34.0
    links_above = False  # a pyramid runs into the next box, which is drawn over its tip

    def __init__(self, fig: Any, opts: Any) -> None:
        super().__init__(fig, opts)
        maps = [lay.dims for lay in fig.layers if not lay.dims.is_vector and not lay.is_merge]
        self.hw = Scaler([d.height for d in maps] + [d.width for d in maps], 18, 150,
                         opts.scale)
        self.depth = Scaler([d.channels for d in maps], 3, 64, opts.scale)
        self.units = Scaler([lay.dims.units for lay in fig.layers if lay.dims.is_vector],
                            28, 150, opts.scale)
        a = math.radians(opts.angle)
        self.ux, self.uy = math.cos(a) * FORESHORTEN, -math.sin(a) * FORESHORTEN

    # -- geometry -------------------------------------------------------------------------
    def extents(self, layer: Layer) -> tuple[float, float, float]:
        """(thickness along the chain, height, depth into the page) in pixels."""
        d = layer.dims
        if d.is_vector:
            return BAR, self.units(d.units), BAR / FORESHORTEN
        return self.depth(d.channels), self.hw(d.height), self.hw(d.width)

    def project(self, x: float, y: float, z: float) -> Point:
        """A box-local 3D point (x along the chain, y down, z into the page) on screen."""
        return x + z * self.ux, y + z * self.uy

    def shape(self, layer: Layer) -> Shape:
        if layer.is_merge:
            return self.merge_shape()
        dx, dy, dz = self.extents(layer)
        h = dy / 2
        rx, ry = self.project(dx, -h, dz)
        back = 5.0 * (min(layer.repeat, 3) - 1)
        body = (0.0, ry - back, rx + back, h)
        extra = 0.0
        if self.opts.labels:
            d = layer.dims
            left = text_width(str(d.height), SMALL_SIZE) + 4 if not d.is_vector else 0.0
            right = text_width(str(d.width), SMALL_SIZE) + 4 if not d.is_vector else 0.0
            extra = rx + 2 * max(left, right)
        return self.labelled(layer, body, (0.0, 0.0), (dx + dz * self.ux / 2, 0.0),
                             extra_w=extra)

    # -- drawing --------------------------------------------------------------------------
    def faces(self, layer: Layer, ox: float, oy: float) -> dict[str, list[Point]]:
        dx, dy, dz = self.extents(layer)
        h = dy / 2

        def p(x: float, y: float, z: float) -> Point:
            px, py = self.project(x, y, z)
            return ox + px, oy + py

        return {
            "front": [p(0, -h, 0), p(dx, -h, 0), p(dx, h, 0), p(0, h, 0)],
            "top": [p(0, -h, 0), p(dx, -h, 0), p(dx, -h, dz), p(0, -h, dz)],
            "side": [p(dx, -h, 0), p(dx, -h, dz), p(dx, h, dz), p(dx, h, 0)],
        }

    def draw(self, cv: Canvas, layer: Layer, ox: float, oy: float) -> None:
        if layer.is_merge:
            self.draw_merge(cv, layer, ox, oy)
            return
        fill = self.opts.fill(layer.kind)
        faces = self.faces(layer, ox, oy)
        tint = {"front": fill, "top": shade(fill, 1.45), "side": shade(fill, 0.8)}
        if layer.repeat > 1:  # a rolled run of N blocks: copies peeking out behind
            for k in range(min(layer.repeat, 3) - 1, 0, -1):
                back = self.faces(layer, ox + 5 * k, oy - 5 * k)
                for name in ("side", "top", "front"):
                    cv.polygon(back[name], fill=shade(tint[name], 0.93), stroke=INK,
                               stroke_width="0.6", **{"class": f"repeat {name}-behind"})
        for name in ("side", "top", "front"):
            cv.polygon(faces[name], fill=tint[name], stroke=INK, stroke_width="0.8",
                       stroke_linejoin="round", **{"class": name})
        if not self.opts.labels:
            return
        d = layer.dims
        dx, dy, dz = self.extents(layer)
        h = dy / 2
        if not d.is_vector:
            cv.text(ox - 3, oy + h / 2 + 3, "?" if d.height is None else str(d.height), SMALL_SIZE,
                    anchor="end", **{"class": "dim-h"})
            if d.width != 1:  # a sequence (T×D) has no width to label
                wx, wy = self.project(dx, h, dz / 2)
                cv.text(ox + wx + 3, oy + wy + 3, "?" if d.width is None else str(d.width),
                        SMALL_SIZE, anchor="start", **{"class": "dim-w"})
        size = d.size
        cv.text(ox + dx / 2, oy + h + SMALL_SIZE + 2, "?" if size is None else str(size),
                SMALL_SIZE, **{"class": "dim-c"})
        self.draw_lines(cv, self.label_lines(layer), ox + (dx + dz * self.ux) / 2,
                        self.label_y(layer) + SMALL_SIZE + 4)

    def labelled(self, layer: Layer, *args: Any, **kwargs: Any) -> Shape:
        shape = super().labelled(layer, *args, **kwargs)
        if self.opts.labels:  # room for the channel count under the box
            shape = Shape(shape.body, shape.in_port, shape.out_port, shape.above,
                          shape.below + SMALL_SIZE + 6, shape.label_w)
        return shape

    def can_link(self, src: Layer, dst: Layer) -> bool:
        return not (src.is_merge or dst.is_merge or src.dims.is_vector or dst.dims.is_vector
                    or dst.kernel is None)

    def link(self, cv: Canvas, src: Layer, dst: Layer, pl: Placement) -> None:
        kernel = dst.kernel
        if kernel is None:
            return
        (sx, sy), (tx, ty) = pl.origin[src.index], pl.origin[dst.index]
        sdx, sdy, sdz = self.extents(src)
        _, tdy, tdz = self.extents(dst)
        kh = _kernel_px(sdy, kernel[0], src.dims.height)
        kz = _kernel_px(sdz, kernel[1], src.dims.width)
        ry, rz = _SPOTS[dst.index % len(_SPOTS)]
        y0 = -sdy / 2 + ry * (sdy - kh)
        z0 = rz * (sdz - kz)

        def p(ox: float, oy: float, x: float, y: float, z: float) -> Point:
            px, py = self.project(x, y, z)
            return ox + px, oy + py

        square = [p(sx, sy, sdx, y0, z0), p(sx, sy, sdx, y0 + kh, z0),
                  p(sx, sy, sdx, y0 + kh, z0 + kz), p(sx, sy, sdx, y0, z0 + kz)]
        apex = p(tx, ty, 0, -tdy / 2 + (y0 + kh / 2 + sdy / 2) / sdy * tdy,
                 (z0 + kz / 2) / sdz * tdz)
        cv.open(**{"class": "kernel"})
        cv.polygon(square, fill=KERNEL_FILL, fill_opacity="0.75", stroke=INK,
                   stroke_width="0.7")
        for k in range(4):
            cv.polygon([square[k], square[(k + 1) % 4], apex], fill=PYRAMID_FILL,
                       fill_opacity="0.5", stroke=INK, stroke_width="0.5",
                       stroke_linejoin="round", **{"class": "pyramid"})
        cv.close()

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        fill = self.opts.fill(kind)
        if kind in ("add", "multiply", "concat"):
            cv.circle(x + 6, y + 6, 6, fill=fill, stroke=INK, stroke_width="0.8")
            return
        cv.polygon([(x, y + 4), (x + 4, y), (x + 12, y), (x + 8, y + 4)],
                   fill=shade(fill, 1.45), stroke=INK, stroke_width="0.6")
        cv.polygon([(x + 8, y + 4), (x + 12, y), (x + 12, y + 8), (x + 8, y + 12)],
                   fill=shade(fill, 0.8), stroke=INK, stroke_width="0.6")
        cv.rect(x, y + 4, 8, 8, fill=fill, stroke=INK, stroke_width="0.6")


def _kernel_px(face: float, k: int, size: int | None) -> float:
    """Kernel size on a face of ``face`` pixels: true proportion, but never so small that
    the pyramid vanishes (a 3×3 kernel shows at 22% of the face, 11×11 at 45%)."""
    frac = max(k / size if size else 0.0, 0.1 + 0.04 * k)
    return max(min(KERNEL_MIN, face * 0.45), min(face * frac, face * 0.45))


def render(graph: Graph, fmt: str = "svg", **options: Any) -> str:
    """The graph in the AlexNet style (options: see :mod:`netdraw.backends.nnsvg`)."""
    return render_style(AlexNetStyle, graph, fmt, **options)
