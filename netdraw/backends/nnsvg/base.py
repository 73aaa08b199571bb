"""What the three NN-SVG styles share: the Style (the shared layout's questions answered in
pixels) and the driver that turns a laid-out figure into SVG.

A style sizes one item's glyph (:meth:`Style.glyph`, in layout coordinates: y up, the row
line at y = 0), draws it (:meth:`Style.draw`, in SVG coordinates: y down) and may draw its
own link between adjacent items of a row (kernel projections, full connections). Labels
are made here: the layer's name and op hang under the lowest glyph of its lane, one line
for the lane; the driver draws them where the layout put them, with the arrows, skip arcs,
group brackets under the groups, the title and the legend.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netdraw.backends.nnsvg.canvas import (
    EDGE,
    INK,
    MUTED,
    Canvas,
    Options,
    Scaler,
    clean,
    parse_options,
    rounded,
    text_width,
)
from netdraw.backends.nnsvg.captions import KIND_NAMES, layer_name, op_text, tooltip
from netdraw.describe import MERGE_KINDS, OPERATORS
from netdraw.errors import NetdrawError
from netdraw.figure import geometry as geo
from netdraw.figure.fit import Fit, Print, arrange, medium, printed
from netdraw.figure.items import TENSORS, Item, ItemGraph, build_items
from netdraw.figure.layout import (
    Figure,
    Footprint,
    Label,
    Route,
    Spacing,
    lay_out,
    place_legend,
    place_title,
)
from netdraw.figure.plan import make_plan
from netdraw.ir import Graph

MARGIN = 16.0
CM_PER_PX = 2.54 / 96  # an SVG pixel at its natural size (CSS: 96 per inch)
PT_PER_PX = 72.27 / 96
LABEL_SIZE = 10.5
SMALL_SIZE = 9.0
#: Font size (px) of each label role; the SVG class of the text is the role, except for
#: the name and op lines under a layer (class ``label``).
ROLE_SIZE = {"name": LABEL_SIZE, "op": LABEL_SIZE, "dims": LABEL_SIZE, "dim-h": SMALL_SIZE,
             "dim-w": SMALL_SIZE, "dim-c": SMALL_SIZE, "group": SMALL_SIZE,
             "legend": LABEL_SIZE, "title": 15.0}
_CLASS = {"name": "label", "op": "label"}
_FILL = {"op": MUTED, "group": MUTED}
Point = tuple[float, float]
Origin = Callable[[str], Point]


class Style:
    """Base class of a figure style; subclasses set the gaps and size and draw the glyphs."""

    name = "base"
    col_gap = 40.0
    row_gap = 40.0
    links_above = True  # draw adjacent-layer links after all layers (False: before the next)
    uniform = False  # evenly spaced columns
    brackets_below = True

    def __init__(self, ig: ItemGraph, graph: Graph, opts: Options, size: float = 1.0,
                 compact: bool = False) -> None:
        self.ig, self.graph, self.opts, self.size = ig, graph, opts, size
        self.compact = compact  # for print: only the dimensions, stacked narrow
        k = opts.spacing * size
        self.spacing = Spacing(col_gap=self.col_gap * k, lane_gap=self.row_gap * k,
                               row_gap=self.row_gap * k, arc_margin=10.0, arc_step=12.0,
                               port=4.0, bracket_gap=10.0, bracket_tick=5.0, eps=0.5,
                               lead=3.0)  # the port (4) and this: longer than the 6-unit head
        self.bracket_depths: tuple[int, ...] = (1,) if opts.labels else ()
        #: Activation thumbnails (:class:`netdraw.backends.thumbs.Thumbnails`) or None.
        self.thumbs: Any = None

    def thumb(self, item: Item) -> Any:
        """The activation thumbnail an item shows (its last node's), or None."""
        if self.thumbs is None:
            return None
        from netdraw.backends.thumbs import item_thumb

        return item_thumb(self.thumbs, item.node_ids)

    # -- to override ----------------------------------------------------------------------
    def glyph(self, item: Item) -> Footprint:
        """The glyph's outline (and face) in layout coordinates, without labels."""
        raise NotImplementedError

    def labels(self, item: Item, fp: Footprint) -> list[Label]:
        """The item's labels (default: its name and op hanging under the lane; compact,
        only the ``×N`` of a rolled run)."""
        if self.compact:
            return self.under(item, fp, lines=self.repeat_line(item))
        return self.under(item, fp)

    def repeat_line(self, item: Item) -> list[tuple[str, str]]:
        return [(f"×{item.repeat}", "name")] if item.repeat > 1 else []

    def draw(self, cv: Canvas, item: Item, ox: float, oy: float) -> None:
        """Draw the glyph with its row-line origin at SVG point (ox, oy)."""
        raise NotImplementedError

    def can_link(self, src: Item, dst: Item) -> bool:
        """Whether the style draws its own link between these adjacent items."""
        return False

    def link(self, cv: Canvas, src: Item, dst: Item, origin: Origin) -> None:
        """Draw the style's own link between adjacent items (see :meth:`can_link`)."""

    def legend_entries(self, fig: Figure) -> list[tuple[str, str]]:
        """(key, text) of the legend entries the style adds for what it draws its own
        way (drawn by :meth:`swatch`); none by default."""
        return []

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        """A 12×12 legend sample for ``kind`` with its top-left corner at (x, y)."""
        if kind in MERGE_KINDS:
            draw_operator(cv, kind, x + 6, y + 6, 6, self.opts.fill(kind), "swatch")
            return
        cv.rect(x, y, 12, 12, fill=self.opts.fill(kind), stroke=INK, stroke_width="0.8")

    # -- the shared layout's questions ----------------------------------------------------
    def footprint(self, item: Item, caption: str | None) -> Footprint:
        fp = self.glyph(item)
        if self.opts.labels and not item.is_merge:
            fp.labels = self.labels(item, fp)
        return fp

    def text_label(self, text: str, role: str, x: float, y: float, anchor: str) -> Label:
        size = ROLE_SIZE[role]
        text = clean(text, 120)
        return Label(text, x, y, text_width(text, size), size * 1.25, anchor, role)

    # -- helpers --------------------------------------------------------------------------
    def name_lines(self, item: Item) -> list[tuple[str, str]]:
        """(text, role) of the lines under a layer: its name and the op that made it."""
        name = layer_name(item.node, self.graph, 28)
        lines = [(name, "name")]
        op = op_text(item.node)
        if op and op.lower() != name.lower():
            lines.append((clean(op, 28), "op"))
        return lines

    def under(self, item: Item, fp: Footprint, gap: float = 4.0,
              lines: list[tuple[str, str]] | None = None) -> list[Label]:
        """Lines centred under the glyph, hanging from the lowest glyph of the lane."""
        x0, y0, x1, _ = geo.bbox(fp.outline)
        out: list[Label] = []
        y = y0 - gap
        for text, role in self.name_lines(item) if lines is None else lines:
            lb = self.text_label(text, role, (x0 + x1) / 2, y, "north")
            lb.hang = True
            out.append(lb)
            y = lb.box()[1]
        return out

    def scaler(self, of: str, lo: float, hi: float) -> Scaler:
        """Pixels for the figure's map sides (``of="side"``), map channels
        (``"channels"``, thinnest ``lo`` at any size) or vector lengths (``"units"``),
        from ``lo`` to ``hi`` times the arrangement's glyph size."""
        items = [i for i in self.ig.items.values() if not i.is_merge]
        maps = [i.dims for i in items if not i.dims.is_vector]
        values = {"side": [d.h for d in maps] + [d.w for d in maps],
                  "channels": [d.c for d in maps],
                  "units": [i.dims.c for i in items if i.dims.is_vector]}[of]
        low = lo if of == "channels" else lo * self.size
        return Scaler(values, low, hi * self.size, self.opts.scale)

    def dims_lines(self, item: Item, role: str) -> list[tuple[str, str]]:
        """``C@H×W`` as one line, or when compact as two (``C@`` over ``H×W``)."""
        text = item.dims.text()
        if not self.compact or "@" not in text:
            return [(text, role)]
        c, hw = text.split("@", 1)
        return [(f"{c}@", role), (hw, role)]

    @property
    def merge_r(self) -> float:
        return 9.0 * max(self.size, 0.7)

    def merge_glyph(self) -> Footprint:
        return Footprint(geo.circle(0.0, 0.0, self.merge_r, 32), ball=True, cx=0.0)

    def draw_merge(self, cv: Canvas, item: Item, ox: float, oy: float) -> None:
        """A merge as a ball with its operator's symbol (see :func:`draw_operator`)."""
        draw_operator(cv, item.kind, ox, oy, self.merge_r, self.opts.fill_of(item))


#: How a ball's symbol is drawn: strokes inside a unit circle (x right, y down), or text.
_STROKES: dict[str, list[tuple[tuple[float, float], tuple[float, float]]]] = {
    "add": [((-1, 0), (1, 0)), ((0, -1), (0, 1))],
    "subtract": [((-1, 0), (1, 0))],
    "multiply": [((-0.75, -0.75), (0.75, 0.75)), ((-0.75, 0.75), (0.75, -0.75))],
    "divide": [((-0.75, 0.75), (0.75, -0.75))],
    "concat": [((-0.4, -1), (-0.4, 1)), ((0.4, -1), (0.4, 1))],
}


def draw_operator(cv: Canvas, kind: str, ox: float, oy: float, r: float, fill: str,
                  role: str = "merge") -> None:
    """A ball of radius ``r`` centred at (ox, oy) showing the operator of ``kind``: ⊕ add,
    ⊖ subtract, ⊗ multiply, ⊘ divide, two bars for concat, ``max``/``min``/``avg`` as
    text (:data:`netdraw.describe.OPERATORS`). The group's classes are ``role`` and the
    kind (``merge subtract``; a legend sample's ``swatch subtract``), its title the
    operator's name."""
    name = OPERATORS[kind][2] if kind in OPERATORS else "Concatenation"
    cv.open(**{"class": f"{role} {kind}"}, tooltip=name)
    cv.circle(ox, oy, r, fill=fill, stroke=INK, stroke_width="1" if r > 7 else "0.8")
    k = r * 0.55
    strokes = _STROKES.get(kind)
    if strokes is not None:
        width = "1.3" if r > 7 else "1"
        for (x0, y0), (x1, y1) in strokes:
            cv.line((ox + k * x0, oy + k * y0), (ox + k * x1, oy + k * y1), stroke=INK,
                    stroke_width=width)
    else:
        symbol = OPERATORS[kind][1] if kind in OPERATORS else "?"
        size = r * 0.85  # three letters fit the ball
        cv.text(ox, oy + 0.35 * size, symbol, size, **{"class": "symbol"})
    cv.close()


def box(x0: float, y0: float, x1: float, y1: float) -> geo.Polygon:
    """A rectangle given in SVG coordinates (y down), as a layout polygon (y up)."""
    return geo.flip(geo.rect(x0, y0, x1, y1))


def layout_style(style_cls: type[Style], graph: Graph, rows: int = 1, size: float = 1.0,
                 compact: bool = False, uniform: bool | None = None,
                 **options: Any) -> tuple[Style, Figure]:
    """The figure of ``graph`` in a style, laid out in ``rows`` rows with glyphs ``size``
    times their natural size and ``compact`` labels (legend and title included);
    ``uniform`` (default: the style's) spaces the columns evenly."""
    opts = parse_options(**options)
    ig = build_items(graph, TENSORS)
    if not ig.items:
        if not len(graph):
            raise NetdrawError(f"the graph {graph.name!r} has no layers to draw: it is empty")
        raise NetdrawError(f"the graph {graph.name!r} has no layers the {style_cls.name} style "
                           "draws (only plumbing such as reshapes and activations); use "
                           "--style graph")
    style = style_cls(ig, graph, opts, size, compact)
    if uniform is not None:
        style.uniform = uniform
    thumbs = options.get("activations")
    style.thumbs = thumbs if hasattr(thumbs, "legend_labels") else None
    fig = lay_out(graph, make_plan(ig), style, rows)
    _finish(style, fig, graph)
    return style, fig


def _finish(style: Style, fig: Figure, graph: Graph) -> None:
    """The legend and the title of a laid-out figure."""
    if style.opts.legend:
        _legend(style, fig)
    title = clean(graph.name if style.opts.title is None else style.opts.title, 120)
    if title:
        place_title(fig, style.text_label(title, "title", 0, 0, "south west"), 10.0,
                    centred=False)


def fit_style(style_cls: type[Style], graph: Graph, detail: str = "any",
              **options: Any) -> tuple[Fit, Style, Figure]:
    """The figure of ``graph`` in a style laid out to fit ``options["width"]`` when the
    SVG is scaled to it (see :mod:`netdraw.figure.fit`; ``labels``: any, full or
    compact), and how it fits."""
    target = medium(options.get("width"))
    styles: dict[int, Style] = {}

    def measure(fig: Figure) -> Print:
        return printed(fig, target.cm, CM_PER_PX, lambda role: ROLE_SIZE[role] * PT_PER_PX,
                       height_cm=target.max_height_cm, margin=MARGIN)

    def arranged(uniform: bool) -> tuple[Fit, Figure]:
        def lay(rows: int, size: float, compact: bool) -> Figure:
            style, fig = layout_style(style_cls, graph, rows, size, compact, uniform=uniform,
                                      **options)
            styles[id(fig)] = style
            return fig

        return arrange(lay, measure, target, detail)

    how, fig = arranged(style_cls.uniform)
    if style_cls.uniform and (how.rows > 1 or not how.fits):
        # Evenly spaced columns are the look, but not worth a row or a label's size.
        loose, loose_fig = arranged(False)
        if (loose.fits and not how.fits) or (loose.fits == how.fits and (
                loose.rows < how.rows or (loose.rows == how.rows and
                                          loose.print.score() > how.print.score() + 1e-9))):
            how, fig = loose, loose_fig
    return how, styles[id(fig)], fig


def render_style(style_cls: type[Style], graph: Graph, fmt: str, **options: Any) -> str:
    """Draw ``graph`` in a style: the whole SVG document as text."""
    if fmt != "svg":
        raise NetdrawError(f"the {style_cls.name} style writes .svg only, not .{fmt}")
    how, style, fig = fit_style(style_cls, graph, **options)
    x_min, y_min, x_max, y_max = fig.bounds()

    def at(x: float, y: float) -> Point:
        return x - x_min + MARGIN, y_max - y + MARGIN

    def origin(item_id: str) -> Point:
        return at(*fig.placed[item_id].fp.origin)

    ig = style.ig
    links = {(u, v) for u, v in ig.edges if _adjacent(fig, u, v)
             and style.can_link(ig.items[u], ig.items[v])}
    cv = Canvas()
    cv.open(**{"class": "edges"})
    for route in fig.routes:
        if (route.src, route.dst) not in links:
            _arrow(cv, route, at)
    cv.close()
    placed = sorted(fig.placed.values(), key=lambda p: (p.row, p.col, -p.lane))
    pending = []
    cv.open(**{"class": "layers", "data-layout": "u" if fig.mode == "u" else "lanes",
               "data-rows": str(fig.rows)})
    for p in placed:
        item = p.item
        cv.open(tooltip=tooltip(item.node), id=f"layer-{item.index}",
                **{"class": f"layer {item.kind}", "data-kind": item.kind,
                   "data-dims": item.dims.text(),
                   "data-name": layer_name(item.node, style.graph)})
        style.draw(cv, item, *origin(item.id))
        for lb in p.labels:
            _text(cv, lb, at)
        cv.close()
        for u, v in sorted(links):
            if u == item.id:
                if style.links_above:
                    pending.append((u, v))
                else:
                    style.link(cv, item, ig.items[v], origin)
    cv.close()
    cv.open(**{"class": "links"})
    for u, v in pending:
        style.link(cv, ig.items[u], ig.items[v], origin)
    cv.close()
    if fig.marks:
        cv.open(**{"class": "groups"})
        for m in fig.marks:
            pts = [at(x, y) for x, y in m.path_points()]
            cv.path("M" + " L".join(f"{x:.2f},{y:.2f}" for x, y in pts), fill="none",
                    stroke=MUTED, stroke_width="0.9")
            _text(cv, m.label, at, font_style="italic")
        cv.close()
    if fig.legend:
        cv.open(**{"class": "legend"})
        for e in fig.legend:
            x0, _, _, y1 = geo.bbox(e.fp.outline)
            sx, sy = at(x0, y1)
            if isinstance(e.key, str) and e.key.startswith("\x00scale:"):
                _scale_swatch(cv, e.key, style, sx, sy)
            elif e.key == "\x00skip":
                cv.path(f"M{sx:.2f},{sy + 12:.2f} V{sy + 4:.2f} Q{sx:.2f},{sy + 1:.2f} "
                        f"{sx + 3:.2f},{sy + 1:.2f} H{sx + 9:.2f} Q{sx + 12:.2f},{sy + 1:.2f} "
                        f"{sx + 12:.2f},{sy + 4:.2f} V{sy + 12:.2f}", fill="none", stroke=EDGE,
                        stroke_width="1.1")
            else:
                style.swatch(cv, e.key, sx, sy)
            _text(cv, e.label, at)
        cv.close()
    if fig.title is not None:
        _text(cv, fig.title, at, font_weight="bold")
    return cv.tostring(x_max - x_min + 2 * MARGIN, y_max - y_min + 2 * MARGIN,
                       fig.title.text if fig.title else graph.name,
                       (how.print.width_cm, how.print.height_cm))


def _adjacent(fig: Figure, u: str, v: str) -> bool:
    a, b = fig.placed[u], fig.placed[v]
    return a.row == b.row and a.lane == b.lane and b.col == a.col + 1 and abs(a.y - b.y) < 1e-6


def _arrow(cv: Canvas, route: Route, at: Callable[[float, float], Point]) -> None:
    """The route as an SVG path, its end pulled back so the arrowhead's tip touches."""
    pts = [at(x, y) for x, y in route.points]
    (xa, ya), (xb, yb) = pts[-2], pts[-1]
    length = max(((xb - xa) ** 2 + (yb - ya) ** 2) ** 0.5, 1e-9)
    pts[-1] = (xb - (xb - xa) / length, yb - (yb - ya) / length)
    element = cv.arrow(rounded(pts, 8.0 if route.arc else 6.0))
    if route.arc:
        element.attribs["class"] = "skip"
    elif route.wrap:
        element.attribs["class"] = "wrap"


def _text(cv: Canvas, lb: Label, at: Callable[[float, float], Point], **attrs: Any) -> None:
    """A label drawn inside the box the layout gave it."""
    x0, y0, x1, y1 = lb.box()
    size = ROLE_SIZE[lb.role]
    side = lb.anchor.split()[-1]
    anchor, x = {"west": ("start", x0), "east": ("end", x1)}.get(side, ("middle",
                                                                         (x0 + x1) / 2))
    sx, sy = at(x, (y0 + y1) / 2)
    attrs.setdefault("fill", _FILL.get(lb.role, INK))
    cv.text(sx, sy + 0.36 * size, lb.text, size, anchor=anchor, limit=200,
            **{"class": _CLASS.get(lb.role, lb.role)}, **attrs)


def _legend(style: Style, fig: Figure) -> None:
    kinds: list[str] = []
    for p in fig.placed.values():
        if p.item.kind not in kinds:
            kinds.append(p.item.kind)
    entries: list[tuple[Any, Footprint, Label]] = []
    names = [(k, KIND_NAMES.get(k, k)) for k in kinds]
    if any(r.arc for r in fig.routes):
        names.append(("\x00skip", "skip connection"))
    names.extend(style.legend_entries(fig))
    if style.thumbs is not None and len(style.thumbs):
        names.extend(_scale_entries(style))
    for key, text in names:
        entries.append((key, Footprint(box(0, -6, 12, 6)),
                        style.text_label(text, "legend", 0, 0, "west")))
    place_legend(fig, entries, gap=18.0, pad=6.0, entry_gap=16.0, line_gap=8.0,
                 min_wrap=150.0)


def _scale_entries(style: Style) -> list[tuple[str, str]]:
    """Legend entries for the colour scales of the thumbnails (fcnn: its diverging scale
    of unit values)."""
    if style.name == "fcnn":
        return [("\x00scale:diverging", "unit value −max … +max (per layer)")]
    return [(f"\x00scale:{cmap}", text) for cmap, text, _ in style.thumbs.legend_labels()]


def _scale_swatch(cv: Canvas, key: str, style: Style, x: float, y: float) -> None:
    """A 12×12 sample of a colour scale: its colours left (low) to right (high)."""
    from netdraw.backends.thumbs import colormap, hex_colour

    cmap = key.split(":", 1)[1]
    table = colormap("heat" if cmap == "cam" else cmap)
    for k in range(6):
        cv.rect(x + 2 * k, y, 2, 12, fill=hex_colour(table[round(k * 255 / 5)]),
                stroke="none")
    cv.rect(x, y, 12, 12, fill="none", stroke=INK, stroke_width="0.6")
