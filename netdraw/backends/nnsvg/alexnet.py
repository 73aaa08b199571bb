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

from netdraw.backends.nnsvg.base import Origin, Style, fit_style, render_style
from netdraw.backends.nnsvg.canvas import INK, Canvas, shade
from netdraw.describe import MERGE_KINDS
from netdraw.figure import geometry as geo
from netdraw.figure.fit import Fit
from netdraw.figure.items import Item
from netdraw.figure.layout import Footprint, Label
from netdraw.ir import Graph

FORESHORTEN = 0.6  # how much of W shows along the receding axis
BAR = 9.0  # thickness and depth of a dense bar
BEHIND = 5.0  # offset of each copy drawn behind a rolled run
#: Where kernels sit on a face (relative y, z): the upper half, clear of the H label.
_SPOTS = ((0.22, 0.35), (0.4, 0.6), (0.3, 0.45), (0.15, 0.25))
KERNEL_MIN = 8.0  # pixels: a 3×3 kernel on a 224 map would otherwise vanish
Point = tuple[float, float]


class AlexNetStyle(Style):
    name = "alexnet"
    col_gap = 26.0
    row_gap = 34.0
    links_above = False  # a pyramid runs into the next box, which is drawn over its tip

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.hw = self.scaler("side", 18, 150)
        self.depth = self.scaler("channels", 3, 64)
        self.units = self.scaler("units", 28, 150)
        a = math.radians(self.opts.angle)
        self.ux, self.uy = math.cos(a) * FORESHORTEN, -math.sin(a) * FORESHORTEN

    # -- geometry (SVG coordinates relative to the origin: y down) ----------------------
    def extents(self, item: Item) -> tuple[float, float, float]:
        """(thickness along the chain, height, depth into the page) in pixels."""
        d = item.dims
        if d.is_vector:
            return BAR, self.units(d.c), BAR / FORESHORTEN
        return self.depth(d.c), self.hw(d.h), self.hw(1 if d.rank == 2 else d.w)

    def project(self, x: float, y: float, z: float) -> Point:
        """A box-local 3D point (x along the chain, y down, z into the page) on screen."""
        return x + z * self.ux, y + z * self.uy

    def faces(self, item: Item, ox: float, oy: float) -> dict[str, list[Point]]:
        dx, dy, dz = self.extents(item)
        h = dy / 2

        def p(x: float, y: float, z: float) -> Point:
            px, py = self.project(x, y, z)
            return ox + px, oy + py

        return {
            "front": [p(0, -h, 0), p(dx, -h, 0), p(dx, h, 0), p(0, h, 0)],
            "top": [p(0, -h, 0), p(dx, -h, 0), p(dx, -h, dz), p(0, -h, dz)],
            "side": [p(dx, -h, 0), p(dx, -h, dz), p(dx, h, dz), p(dx, h, 0)],
        }

    def glyph(self, item: Item) -> Footprint:
        if item.is_merge:
            return self.merge_glyph()
        corners = []
        for k in range(min(item.repeat, 3)):  # a rolled run: copies peeking out behind
            for face in self.faces(item, BEHIND * k, -BEHIND * k).values():
                corners += face
        faces = self.faces(item, 0.0, 0.0)
        return Footprint(geo.flip(geo.convex_hull(corners)), face=geo.flip(faces["side"]),
                         cx=self.extents(item)[0] / 2)

    def labels(self, item: Item, fp: Footprint) -> list[Label]:
        d = item.dims
        dx, dy, dz = self.extents(item)
        h = dy / 2
        c = self.text_label("?" if d.c is None else str(d.c), "dim-c", dx / 2, -h - 2, "north")
        out = [c]
        if self.compact:  # H×W under C, nothing beside the box
            if not d.is_vector:
                hw = f"{'?' if d.h is None else d.h}" + (
                    "" if d.rank == 2 else f"×{'?' if d.w is None else d.w}")
                out.append(self.text_label(hw, "dim-h", dx / 2, c.box()[1], "north"))
            low = min(lb.box()[1] for lb in out)
            return out + self.under(item, fp, geo.bbox(fp.outline)[1] - low + 2,
                                    self.repeat_line(item))
        if not d.is_vector:
            out.append(self.text_label("?" if d.h is None else str(d.h), "dim-h", -3, -h / 2,
                                       "east"))
            if d.rank != 2:  # a sequence (T×D) has no width to label
                wx, wy = self.project(dx, h, dz / 2)
                out.append(self.text_label("?" if d.w is None else str(d.w), "dim-w",
                                           wx + 2, -wy - 1, "north west"))
        low = min(lb.box()[1] for lb in out)
        return out + self.under(item, fp, gap=geo.bbox(fp.outline)[1] - low + 4)

    # -- drawing --------------------------------------------------------------------------
    def draw(self, cv: Canvas, item: Item, ox: float, oy: float) -> None:
        if item.is_merge:
            self.draw_merge(cv, item, ox, oy)
            return
        fill = self.opts.fill_of(item)
        faces = self.faces(item, ox, oy)
        tint = {"front": fill, "top": shade(fill, 1.45), "side": shade(fill, 0.8)}
        for k in range(min(item.repeat, 3) - 1, 0, -1):
            back = self.faces(item, ox + BEHIND * k, oy - BEHIND * k)
            for name in ("side", "top", "front"):
                cv.polygon(back[name], fill=shade(tint[name], 0.93), stroke=INK,
                           stroke_width="0.6", **{"class": f"repeat {name}-behind"})
        for name in ("side", "top", "front"):
            cv.polygon(faces[name], fill=tint[name], stroke=INK, stroke_width="0.8",
                       stroke_linejoin="round", **{"class": name})
        thumb = self.thumb(item)
        if thumb is None:
            return
        if thumb.kind == "strip":  # a dense bar: its values down the front face
            (ax, ay), (bx, _), _, (_, dy) = faces["front"]
            colours = thumb.strip_colours()
            cv.open(**{"class": "thumb strip"})
            for k, colour in enumerate(colours):
                top = ay + (dy - ay) * k / len(colours)
                cv.rect(ax, top, bx - ax, (dy - ay) / len(colours), fill=colour,
                        stroke="none")
            cv.close()
            cv.polygon(faces["front"], fill="none", stroke=INK, stroke_width="0.8")
            return
        # the H×W face (facing the next layer) shows the strongest channel's map
        (tx, ty), (kx, ky), _, (bx, by) = faces["side"]
        cv.face_image(thumb.tiles[0].png, (tx, ty), (kx - tx, ky - ty), (bx - tx, by - ty),
                      **{"class": "thumb"})
        cv.polygon(faces["side"], fill="none", stroke=INK, stroke_width="0.8",
                   stroke_linejoin="round")

    def can_link(self, src: Item, dst: Item) -> bool:
        return not (src.is_merge or dst.is_merge or src.dims.is_vector or dst.dims.is_vector
                    or dst.kernel is None)

    def link(self, cv: Canvas, src: Item, dst: Item, origin: Origin) -> None:
        kernel = dst.kernel
        if kernel is None:
            return
        (sx, sy), (tx, ty) = origin(src.id), origin(dst.id)
        sdx, sdy, sdz = self.extents(src)
        _, tdy, tdz = self.extents(dst)
        kh = _kernel_px(sdy, kernel[0], src.dims.h)
        kz = _kernel_px(sdz, kernel[1], src.dims.w)
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
        cv.polygon(square, fill=self.opts.fill("kernel"), fill_opacity="0.75", stroke=INK,
                   stroke_width="0.7")
        for k in range(4):
            cv.polygon([square[k], square[(k + 1) % 4], apex], fill=self.opts.fill("pyramid"),
                       fill_opacity="0.5", stroke=INK, stroke_width="0.5",
                       stroke_linejoin="round", **{"class": "pyramid"})
        cv.close()

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        fill = self.opts.fill(kind)
        if kind in MERGE_KINDS:
            return super().swatch(cv, kind, x, y)
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


def fit(graph: Graph, detail: str = "any", **options: Any) -> Fit:
    """How the alexnet figure of ``graph`` fits ``options["width"]`` (the view choice's
    measure for this style)."""
    return fit_style(AlexNetStyle, graph, detail, **options)[0]
