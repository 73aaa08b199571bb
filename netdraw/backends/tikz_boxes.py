"""The TikZ backend's look: PlotNeuralNet-style 3D boxes, sized in centimetres.

Each item becomes a :class:`~netdraw.figure.layout.Footprint` for the shared layout: a box
seen in an oblique projection (depth at 35°, factor 0.45), a thin bar for a dense layer,
or a ball with a symbol for a merge, with its labels measured in Computer Modern:

- height from H (and bar height from units), depth from W: ``0.32·log2(n) + 0.1``, in
  [0.35, 2.9] cm; thickness along the flow from C: ``0.1 + 0.08·log2(C)``, in
  [0.12, 1.05] cm; pooling half as thick; norms and activations a third;
- labels: C under the front face, H×W along the oblique bottom edge, the caption under
  both, a block's class in italics, ``×N`` over a rolled run (with up to two copies
  drawn behind it).

For print (:func:`fit`) the glyphs and gaps may be drawn smaller (``size`` 0.8, 0.64 or
0.5; labels keep their size) and the main path wrapped into rows, so that the figure
scaled to the page's width keeps its labels at 6 pt or more. The picture is then written
at that scale (never enlarged by more than :data:`CAP`), in a standalone document leaving
its 6 pt border inside the width.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from netdraw.describe import kind_name
from netdraw.errors import NetdrawError
from netdraw.figure import geometry as geo
from netdraw.figure import themes
from netdraw.figure.fit import Fit, Medium, Print, arrange, medium, printed
from netdraw.figure.items import BANDABLE, CATEGORIES, OPS, Item, build_items
from netdraw.figure.layout import (
    Figure,
    Footprint,
    Label,
    Placed,
    Spacing,
    check_spacing,
    lay_out,
    place_legend,
    place_title,
)
from netdraw.figure.plan import PLAIN_CONTAINERS, make_plan
from netdraw.ir import Graph
from netdraw.latex import clean, printed_width

#: Oblique projection of the depth axis: 35 degrees, scale 0.45 (cabinet-like).
OBLIQUE_DEGREES = 35.0
OBLIQUE = (0.45 * math.cos(math.radians(OBLIQUE_DEGREES)),
           0.45 * math.sin(math.radians(OBLIQUE_DEGREES)))
BALL_R = 0.28
GHOST = 0.14  # offset of the copies drawn behind a repeated block
#: ``lead``: the arrowhead is 4.2 pt long in picture units (it scales with the picture).
SPACING = Spacing(col_gap=0.6, lane_gap=0.5, row_gap=0.9, arc_margin=0.4, arc_step=0.22,
                  port=0.09, bracket_gap=0.28, bracket_tick=0.12, eps=0.03, lead=0.22)
PT = 2.54 / 72.27  # one TeX point in cm
#: Font size in points of each label role (the TikZ styles nd<role> of the preamble).
FONT_PT = {"label": 7.0, "caption": 8.0, "sub": 7.0, "legend": 8.0, "title": 12.0,
           "repeat": 9.0, "group": 8.0, "symbol": 9.0}
CAPTION_CHARS = 22  # longer names are shortened with an ellipsis
LEGEND_CHARS = 90  # characters of a legend line (a diff's numbered notes are long)
BORDER_CM = 2 * 6 * PT  # the standalone document's border, both sides
CAP = 1.15  # a small figure is enlarged at most this much to fill the width


def extent(n: int | None, default: float = 1.1) -> float:
    """Height (from H or units) or depth (from W) of a box: 0.32·log2(n)+0.1, in [0.35, 2.9]."""
    if n is None:
        return default
    return min(2.9, max(0.35, 0.32 * math.log2(max(n, 1)) + 0.1))


def thickness(c: int | None, default: float = 0.4) -> float:
    """Thickness along the flow from channels: 0.1+0.08·log2(C), in [0.12, 1.05]."""
    if c is None:
        return default
    return min(1.05, max(0.12, 0.1 + 0.08 * math.log2(max(c, 1))))


#: Roles set in bold (the preamble's \bfseries): Computer Modern's bold is about 15 % wider.
_BOLD = {"title": 1.15, "repeat": 1.15}


def text_size(text: str, role: str) -> tuple[float, float]:
    """Estimated (width, height) in cm of ``text`` in a role's font (Computer Modern)."""
    pt = FONT_PT[role]
    return (printed_width(text) * pt * 0.52 * PT * _BOLD.get(role, 1.0) + 0.08,
            pt * PT * 1.2 + 0.08)


@dataclass(frozen=True)
class Box:
    """What the TikZ macros draw for an item, in local cm: a box (front face's lower-left
    corner at (x0, y0), thickness t, height h, depth d) or a ball (centre (x0 + r, 0))."""

    shape: str  # "box" or "ball"
    category: str
    band_role: str | None = None
    x0: float = 0.0
    y0: float = 0.0
    t: float = 0.0
    h: float = 0.0
    d: float = 0.0
    r: float = BALL_R
    band: float = 0.0
    ghosts: int = 0
    ghost: float = GHOST  # offset of each copy behind

    @property
    def dx(self) -> float:
        return OBLIQUE[0] * self.d

    @property
    def dy(self) -> float:
        return OBLIQUE[1] * self.d

    @property
    def width(self) -> float:
        return 2 * self.r if self.shape == "ball" else self.t + self.dx + self.ghosts * self.ghost

    def outline(self) -> geo.Polygon:
        if self.shape == "ball":
            return geo.circle(self.x0 + self.r, self.y0 + self.r, self.r, 48)
        x0, y0, t, h = self.x0, self.y0, self.t, self.h
        dx, dy = self.dx + self.ghosts * self.ghost, self.dy + self.ghosts * self.ghost
        return [(x0, y0), (x0 + t, y0), (x0 + t + dx, y0 + dy), (x0 + t + dx, y0 + h + dy),
                (x0 + dx, y0 + h + dy), (x0, y0 + h)]

    def map_face(self) -> geo.Polygon | None:
        """The face that shows H×W (the side face, where a channel image goes)."""
        if self.shape == "ball":
            return None
        x, y0, h = self.x0 + self.t, self.y0, self.h
        return [(x, y0), (x + self.dx, y0 + self.dy), (x + self.dx, y0 + h + self.dy),
                (x, y0 + h)]


def make_box(item: Item, size: float = 1.0) -> Box:
    """Size an item's glyph from its dims (times ``size``), centred on the row line."""
    dims = item.dims
    if item.glyph == "ball":
        r = BALL_R * max(size, 0.7)
        return Box("ball", item.category, y0=-r, r=r)
    if item.glyph == "bar" or (dims.rank == 1 and item.category != "block"):
        t, h, d = 0.18, extent(dims.c), 0.18
    elif dims.spatial:
        t = thickness(dims.c)
        h = extent(dims.h)
        d = extent(dims.w) if dims.w is not None else 0.35
    else:
        t, h, d = 0.4, 1.1, 0.8
    if item.preprocessing:  # a thin slab, whatever the input's size
        t, h, d = 0.12, min(h, 0.7), min(d, 0.5)
    elif item.category == "pool":
        t = max(0.12, 0.5 * t)
    elif item.category in ("norm", "act"):
        t = max(0.12, 0.35 * t)
    elif item.category == "block":
        t = max(t, 0.4)
    band, role = 0.0, None
    if item.band and item.category in BANDABLE:
        band = min(0.35, max(0.07, 0.3 * t))
        role = themes.band_role(item.category)
    ghosts = min(item.repeat - 1, 2) if item.repeat > 1 else 0
    t, h, d, band = t * size, h * size, d * size, band * size
    return Box("box", item.category, role, 0.0, -h / 2, t, h, d, band=band, ghosts=ghosts,
               ghost=GHOST * size)


def dims_text(item: Item) -> tuple[str | None, str | None]:
    """(C label, H×W label) of an item; None where the figure shows nothing."""
    dims = item.dims
    if dims.rank == 0:
        return None, None
    if not dims.spatial:
        return (str(dims.c) if dims.c is not None else None), None

    def show(v: int | None) -> str:
        return "?" if v is None else str(v)
    spatial = show(dims.h) if dims.w is None else f"{show(dims.h)}×{show(dims.w)}"
    if dims.d is not None:
        spatial = f"{show(dims.d)}×{spatial}"
    c = show(dims.c)
    if item.category in ("pool", "act", "norm"):
        return None, (spatial if item.category == "pool" else None)
    return c, spatial


def label(text: str, role: str, x: float, y: float, anchor: str = "north",
          rotate: float = 0.0, own: bool = False) -> Label:
    w, h = text_size(text, role)
    return Label(text, x, y, w, h, anchor, role, rotate, own=own)


def box_labels(item: Item, g: Box, caption: str, compact: bool = False) -> list[Label]:
    """Labels of a box: C under the front face, H×W along the depth edge, the caption
    centred below both, a block's class under it (not when ``compact``); ``×N`` above a
    repeated block."""
    out: list[Label] = []
    c_text, hw_text = dims_text(item)
    low = g.y0 - 0.04
    if c_text:
        out.append(label(c_text, "label", g.x0 + g.t / 2, low))
        low = out[-1].box()[1]
    if hw_text and item.glyph != "bar":
        mx, my = g.x0 + g.t + g.dx / 2, g.y0 + g.dy / 2
        # Along the depth edge, unless that reaches the arrows (a flat, deep box) or the C
        # label (a small box): then under the C label.
        for hw in (label(hw_text, "label", mx + 0.03, my - 0.03, "north", OBLIQUE_DEGREES),
                   label(hw_text, "label", g.x0 + (g.t + g.dx) / 2, low, "north")):
            if hw.box()[3] <= -0.08 and not any(
                    geo.polygons_overlap(hw.polygon(), o.polygon()) for o in out):
                break
        out.append(hw)
        low = min(low, hw.box()[1])
    centre = g.x0 + (g.t + g.dx) / 2
    if caption:
        out.append(label(clean(caption, CAPTION_CHARS), "caption", centre, low - 0.02))
        low = out[-1].box()[1]
    if item.category == "block" and item.op_type not in ("", item.name, *PLAIN_CONTAINERS) \
            and not compact:
        out.append(label(clean(item.op_type, CAPTION_CHARS), "sub", centre, low))
    if item.repeat > 1:
        out.append(label(f"×{item.repeat}", "repeat", g.x0 + g.width / 2,
                         g.y0 + g.h + g.dy + g.ghosts * g.ghost + 0.04, "south", own=True))
    return out


class TikzLook:
    """The shared layout's questions, answered in centimetres (see the module docstring)."""

    bracket_depths = (1, 2)
    brackets_below = False
    uniform = False

    def __init__(self, labels: bool = True, groups: bool = True, spacing: float = 1.0,
                 size: float = 1.0, compact: bool = False) -> None:
        self.labels, self.size, self.compact = labels, size, compact
        self.spacing = SPACING.times(check_spacing(spacing) * size)
        if not groups:
            self.bracket_depths = ()

    def footprint(self, item: Item, caption: str | None) -> Footprint:
        g = make_box(item, self.size)
        labels = [] if g.shape == "ball" else box_labels(
            item, g, item.name if caption is None else caption, self.compact)
        if not self.labels:
            labels = [lb for lb in labels if lb.role == "repeat"]
        cx = g.x0 + (g.t / 2 if g.shape == "box" else g.r)
        return Footprint(g.outline(), labels, g.shape == "ball", g.map_face(), cx=cx, data=g)

    def text_label(self, text: str, role: str, x: float, y: float, anchor: str) -> Label:
        return label(clean(text, 40), role, x, y, anchor)


# -- legend ----------------------------------------------------------------------------

_LEGEND_ORDER = ["input", "conv", "deconv", "pool", "upsample", "dense", "matmul", "norm",
                 "act", "attention", "embedding", "recurrent", "block", "other", "add",
                 "subtract", "multiply", "divide", "maximum", "minimum", "average", "concat",
                 "softmax"]


def legend_text(key: tuple[str, str | None]) -> str:
    """A legend entry's text in the one kind vocabulary (:data:`netdraw.describe.KIND_NAMES`):
    ``Convolution``, or with the activation band ``Convolution + ReLU``."""
    cat, band = key
    name = kind_name(themes.TIKZ_ROLES.get(cat, cat))
    return f"{name} + {band}" if band else name


def add_legend(fig: Figure, scales: list[tuple[str, str]] | None = None) -> None:
    """One entry per glyph kind the figure shows: a small sample and its name; then one per
    colour scale of the activation thumbnails (``scales``: ``(cmap, text)``; the backend
    puts the colour ramp on the sample's front face)."""
    keys = sorted({p.item.legend_key for p in fig.placed.values()},
                  key=lambda k: (_LEGEND_ORDER.index(k[0]), k[1] or ""))
    entries = []
    for key in keys:
        cat, band = key
        shape = CATEGORIES[cat][0]
        role = themes.band_role(cat) if band else None
        if shape == "ball":
            g = Box("ball", cat, r=0.2, y0=-0.2)
        elif shape == "bar":
            g = Box("box", cat, role, 0.0, -0.3, 0.16, 0.6, 0.16)
        else:
            g = Box("box", cat, role, 0.0, -0.25, 0.32, 0.5, 0.45)
        if band and cat in BANDABLE:
            g = Box(g.shape, cat, role, g.x0, g.y0, g.t, g.h, g.d, g.r, 0.4 * g.t)
        fp = Footprint(g.outline(), ball=g.shape == "ball", data=g)
        entries.append((key, fp, label(clean(legend_text(key), 40), "legend", 0, 0, "west")))
    for cmap, text in scales or []:
        g = Box("box", "other", None, 0.0, -0.12, 0.7, 0.24, 0.06)
        entries.append((("scale", cmap), Footprint(g.outline(), data=g),
                        label(clean(text, 60), "legend", 0, 0, "west")))
    place_legend(fig, entries, gap=0.45, pad=0.12, entry_gap=0.55, line_gap=0.33,
                 min_wrap=4.0)


def layout_figure(graph: Graph, *, legend: bool = True, title: str | None = None,
                  u_shape: bool = True, groups: bool = True, labels: bool = True,
                  spacing: float = 1.0, rows: int = 1, size: float = 1.0,
                  compact: bool = False,
                  scales: list[tuple[str, str]] | None = None) -> Figure:
    """Lay out ``graph`` as a 3D-box figure in ``rows`` rows (fewer when the main path
    cannot be cut that often) with glyphs ``size`` times their natural size. ``labels``
    False leaves out dimension labels and captions (``×N`` stays), ``compact`` the class
    of each block; ``spacing`` multiplies the gaps between columns and rows."""
    look = TikzLook(labels, groups, spacing, size, compact)
    ig = build_items(graph, OPS)
    if not ig.items:
        raise NetdrawError("the model has no layers to draw (only inputs, outputs or "
                           "reshapes); check that the model file is complete")
    fig = lay_out(graph, make_plan(ig, u_shape), look, rows)
    if legend:
        add_legend(fig, scales)
    decorate_layout(fig, graph, legend)
    if title:
        place_title(fig, label(clean(title, 100), "title", 0, 0), 0.3, centred=True)
    return fig


def decorate_layout(fig: Figure, graph: Graph, legend: bool = True) -> None:
    """What ``graph.meta["decorations"]`` (a diff's statuses, see
    :mod:`netdraw.backends.decorations`) changes in the layout: name prefixes on captions,
    and — when the decorations bring a legend — that legend instead of the colour legend,
    followed by one numbered line per box with notes (the box shows its number under its
    labels). Legend entries are keyed ``("decoration", fill)``; the colours themselves are
    the backend's (:func:`netdraw.backends.tikz.decoration_styles`)."""
    from netdraw.backends.decorations import Decorations

    deco = Decorations(graph)
    if not deco:
        return
    notes: list[tuple[Placed, str, str | None]] = []
    for p in sorted(fig.placed.values(), key=lambda p: (p.row, p.x, -p.y)):
        style = deco.first(p.item.node_ids)
        if style is None:
            continue
        if style.prefix:
            p.fp.labels = [label(f"{style.prefix} {lb.text}", lb.role, lb.x, lb.y, lb.anchor,
                                 lb.rotate, lb.own) if lb.role == "caption" else lb
                           for lb in p.fp.labels]
        if style.notes:
            notes.append((p, "; ".join(style.notes), style.fill))
    if not (legend and deco.legend):
        return
    for number, (p, _, _) in enumerate(notes, 1):
        p.fp.labels.append(label(f"[{number}]", "repeat", p.cx, p.fp.extent()[1] - 0.04))
    rows = [(item.label, item.fill) for item in deco.legend]
    rows += [(f"[{number}] {p.item.full_name or p.item.name}: {text}", fill)
             for number, (p, text, fill) in enumerate(notes, 1)]
    entries = []
    for text, fill in rows:
        sample = Box("box", "other", None, 0.0, -0.25, 0.32, 0.5, 0.45)
        shown = text if len(text) <= LEGEND_CHARS else text[:LEGEND_CHARS - 1] + "…"
        entries.append((("decoration", fill), Footprint(sample.outline(), data=sample),
                        label(shown, "legend", 0, 0, "west")))
    fig.legend = []
    place_legend(fig, entries, gap=0.7, pad=0.12, entry_gap=0.55, line_gap=0.25,
                 min_wrap=12.0)


def arranged(graph: Graph, detail: str = "any", **options: object) -> tuple[Fit, Figure]:
    """The figure of ``graph`` laid out to fit ``options["width"]`` (see
    :mod:`netdraw.figure.fit`; ``detail``: labels any, full or compact), and how it fits."""
    target = medium(options.get("width"))  # type: ignore[arg-type]

    def lay(rows: int, size: float, compact: bool) -> Figure:
        return layout_figure(graph, legend=options.get("legend") is not False,
                             title=str(options.get("title") or "") or None,
                             u_shape=options.get("u_shape") is not False,
                             labels=options.get("labels") is not False,
                             spacing=float(options.get("spacing") or 1.0),  # type: ignore[arg-type]
                             rows=rows, size=size, compact=compact,
                             scales=options.get("thumbnail_scales"))  # type: ignore[arg-type]

    return arrange(lay, lambda fig: measure(fig, target), target, detail)


def measure(fig: Figure, target: Medium) -> Print:
    """How ``fig`` prints in a standalone document (page) ``target`` wide."""
    return printed(fig, target.cm - BORDER_CM, 1.0, FONT_PT.__getitem__, CAP,
                   target.max_height_cm - BORDER_CM)


def fit(graph: Graph, detail: str = "any", **options: object) -> Fit:
    """How the figure of ``graph`` fits the width ``options["width"]`` (the view choice's
    measure for TikZ)."""
    return arranged(graph, detail, **options)[0]
