"""What the three NN-SVG styles share: the Style interface and the drawing driver.

A style measures and draws one layer (its glyph and labels) and the link between two
adjacent layers of a row (kernel projections, full connections); the driver places the
layers (:mod:`layout`), draws the other edges (arcs, elbows), stage brackets for top-level
groups, the title and the legend.
"""

from __future__ import annotations

from typing import Any

from netdraw.backends.nnsvg.canvas import (
    EDGE,
    INK,
    MUTED,
    Canvas,
    Options,
    clean,
    parse_options,
    text_width,
)
from netdraw.backends.nnsvg.figure import KIND_NAMES, Figure, Layer, build_figure
from netdraw.backends.nnsvg.layout import Arc, Placement, Shape, Spacing, place, rounded
from netdraw.errors import NetdrawError
from netdraw.ir import Graph

MARGIN = 16.0
LABEL_SIZE = 10.5
SMALL_SIZE = 9.0


class Style:
    """Base class of a figure style; subclasses set the gaps and draw the layers."""

    name = "base"
    col_gap = 40.0
    row_gap = 40.0
    links_above = True  # draw adjacent-layer links after all layers (False: before the next)
    uniform = False  # evenly spaced columns

    def __init__(self, fig: Figure, opts: Options) -> None:
        self.fig, self.opts = fig, opts
        self.pl: Placement  # set by the driver once the layers are placed

    # -- to override ----------------------------------------------------------------------
    def shape(self, layer: Layer) -> Shape:
        raise NotImplementedError

    def draw(self, cv: Canvas, layer: Layer, ox: float, oy: float) -> None:
        raise NotImplementedError

    def can_link(self, src: Layer, dst: Layer) -> bool:
        """Whether the style draws its own link between these adjacent layers."""
        return False

    def link(self, cv: Canvas, src: Layer, dst: Layer, pl: Placement) -> None:
        """Draw the style's own link between adjacent layers (see :meth:`can_link`)."""

    def swatch(self, cv: Canvas, kind: str, x: float, y: float) -> None:
        """A 12×12 legend sample for ``kind`` with its top-left corner at (x, y)."""
        cv.rect(x, y, 12, 12, fill=self.opts.fill(kind), stroke=INK, stroke_width="0.8")

    # -- shared helpers -------------------------------------------------------------------
    def label_lines(self, layer: Layer) -> list[str]:
        """The lines under a layer: its name and the op that made it (no repeats)."""
        if not self.opts.labels or layer.is_merge:
            return []
        lines = [clean(layer.name, 28)]
        if layer.op_text and layer.op_text.lower() != layer.name.lower():
            lines.append(clean(layer.op_text, 28))
        return lines

    def lines_extent(self, lines: list[str], size: float = LABEL_SIZE) -> tuple[float, float]:
        """(width, height) of a block of label lines."""
        if not lines:
            return 0.0, 0.0
        return max(text_width(s, size) for s in lines), len(lines) * size * 1.25

    def draw_lines(self, cv: Canvas, lines: list[str], cx: float, y: float,
                   size: float = LABEL_SIZE, cls: str = "label") -> None:
        """Label lines centred on ``cx``, the first baseline at ``y + size``."""
        for k, line in enumerate(lines):
            cv.text(cx, y + size * (1 + 1.25 * k) - 1.5, line, size,
                    fill=INK if k == 0 else MUTED, **{"class": cls})

    def merge_shape(self, r: float = 9.0) -> Shape:
        return Shape((-r, -r, r, r), (-r, 0.0), (r, 0.0))

    def labelled(self, layer: Layer, body: tuple[float, float, float, float],
                 in_port: tuple[float, float], out_port: tuple[float, float],
                 above: list[str] = (), extra_w: float = 0.0) -> Shape:
        """A Shape with room for ``above`` lines over the body and the label lines below."""
        lines = self.label_lines(layer)
        lw, lh = self.lines_extent(lines)
        aw, ah = self.lines_extent(list(above))
        return Shape(body, in_port, out_port, above=ah + 3 if above else 0.0,
                     below=lh + 5 if lines else 0.0, label_w=max(lw, aw, extra_w))

    def label_y(self, layer: Layer) -> float:
        """Where the label lines under a layer start (its row's shared baseline)."""
        return self.pl.row_floor[self.pl.row[layer.index]] + 4

    def draw_merge(self, cv: Canvas, layer: Layer, ox: float, oy: float, r: float = 9.0) -> None:
        """A merge as a circle: ⊕ add, ⊗ multiply, two bars for concat."""
        cv.circle(ox, oy, r, fill=self.opts.fill(layer.kind), stroke=INK, stroke_width="1",
                  **{"class": "merge"})
        k = r * 0.55
        if layer.kind == "concat":
            for dx in (-k / 2.5, k / 2.5):
                cv.line((ox + dx, oy - k), (ox + dx, oy + k), stroke=INK, stroke_width="1.3")
        elif layer.kind == "multiply":
            d = k * 0.75
            cv.line((ox - d, oy - d), (ox + d, oy + d), stroke=INK, stroke_width="1.3")
            cv.line((ox - d, oy + d), (ox + d, oy - d), stroke=INK, stroke_width="1.3")
        else:
            cv.line((ox - k, oy), (ox + k, oy), stroke=INK, stroke_width="1.3")
            cv.line((ox, oy - k), (ox, oy + k), stroke=INK, stroke_width="1.3")


def render_style(style_cls: type[Style], graph: Graph, fmt: str, **options: Any) -> str:
    """Draw ``graph`` in a style: the whole SVG document as text."""
    if fmt != "svg":
        raise NetdrawError(f"the {style_cls.name} style writes .svg only, not .{fmt}")
    opts = parse_options(**options)
    fig = build_figure(graph)
    if not fig.layers:
        if not len(graph):
            raise NetdrawError(f"the graph {graph.name!r} has no layers to draw: it is empty")
        raise NetdrawError(f"the graph {graph.name!r} has no layers the {style_cls.name} style "
                           "draws (only plumbing such as reshapes and activations); use "
                           "--style graph")
    style = style_cls(fig, opts)
    shapes = [style.shape(layer) for layer in fig.layers]
    title = graph.name if opts.title is None else opts.title
    title = clean(title, 120)
    top = MARGIN + (26.0 if title else 0.0)
    spacing = Spacing(style.col_gap * opts.spacing, style.row_gap * opts.spacing)
    pl = style.pl = place(fig, shapes, spacing, MARGIN, top, style.uniform)

    cv = Canvas()
    cv.open(**{"class": "edges"})
    _draw_edges(cv, style, pl, spacing)
    cv.close()
    order = sorted(range(len(fig.layers)), key=lambda i: (pl.col[i], pl.row[i]))
    pending = []
    cv.open(**{"class": "layers", "data-layout": "u" if pl.u_shaped else "lanes"})
    for i in order:
        layer = fig.layers[i]
        ox, oy = pl.origin[i]
        cv.open(tooltip=layer.tooltip, id=f"layer-{i}",
                **{"class": f"layer {layer.kind}", "data-kind": layer.kind,
                   "data-dims": layer.dims.text(), "data-name": clean(layer.name, 200)})
        style.draw(cv, layer, ox, oy)
        cv.close()
        for j in layer.succs:
            if _adjacent(pl, i, j) and style.can_link(layer, fig.layers[j]):
                if style.links_above:
                    pending.append((i, j))
                else:
                    style.link(cv, layer, fig.layers[j], pl)
    cv.close()
    cv.open(**{"class": "links"})
    for i, j in pending:
        style.link(cv, fig.layers[i], fig.layers[j], pl)
    cv.close()

    y = pl.bottom
    if opts.labels:
        y = _brackets(cv, fig, pl, y + 14)
    width = pl.width
    if opts.legend:
        width = max(width, MARGIN + 360)
        y = _legend(cv, style, fig, pl, y + 18, width)
    if title:
        width = max(width, MARGIN + text_width(title, 15) * 1.05)
        cv.text(MARGIN, MARGIN + 13, title, 15, anchor="start", limit=120, font_weight="bold",
                **{"class": "title"})
    return cv.tostring(width + MARGIN, y + MARGIN, title or graph.name)


def _adjacent(pl: Placement, i: int, j: int) -> bool:
    return pl.row[i] == pl.row[j] and pl.col[j] == pl.col[i] + 1


def _straight(cv: Canvas, pl: Placement, a: int, b: int) -> None:
    (ax, ay), (bx, by) = pl.port(a, "out_port"), pl.port(b, "in_port")
    if abs(ay - by) < 0.5:
        cv.arrow(rounded([(ax, ay), (bx - 1, by)]))
    else:
        mx = pl.col_x[pl.col[b]] - (pl.col_x[pl.col[b]] - ax) / 2
        cv.arrow(rounded([(ax, ay), (mx, ay), (mx, by), (bx - 1, by)]))


def _draw_edges(cv: Canvas, style: Style, pl: Placement, spacing: Spacing) -> None:
    fig = style.fig
    arcs = {(arc.src, arc.dst): arc for arc in pl.arcs}
    main = set(pl.main)
    for a, b in fig.edges:
        if (a, b) in arcs:
            _arc(cv, pl, arcs[(a, b)], spacing)
        elif pl.row[a] == pl.row[b]:
            if not (_adjacent(pl, a, b) and style.can_link(fig.layers[a], fig.layers[b])):
                _straight(cv, pl, a, b)
        else:
            _elbow(cv, fig, pl, a, b, spacing, a in main, b in main)


def _arc(cv: Canvas, pl: Placement, arc: Arc, spacing: Spacing) -> None:
    a, b = arc.src, arc.dst
    lo, hi = pl.col[a], pl.col[b]
    tops = [pl.box(i)[1] for i in range(len(pl.col))
            if pl.row[i] == arc.row and lo <= pl.col[i] <= hi]
    peak = min(tops) - spacing.arc_margin - arc.level * spacing.arc_step
    (sx, sy), (ex, ey) = pl.port(a, "top_port"), pl.port(b, "top_port")
    element = cv.arrow(rounded([(sx, sy), (sx, peak), (ex, peak), (ex, ey - 1)], 8))
    element.attribs["class"] = "skip"


def _elbow(cv: Canvas, fig: Figure, pl: Placement, a: int, b: int, spacing: Spacing,
           a_main: bool, b_main: bool) -> None:
    (ax, ay) = pl.port(a, "out_port")
    gap_after = pl.col_x[pl.col[a]] + pl.col_w[pl.col[a]] + spacing.col_gap / 2
    gap_before = pl.col_x[pl.col[b]] - spacing.col_gap / 2
    dst = fig.layers[b]
    if not b_main or a_main:
        # Turn right after the source's column, then run along the target's row.
        bx, by = pl.port(b, "in_port")
        pts = [(ax, ay), (gap_after, ay), (gap_after, by), (bx - 1, by)]
    elif dst.is_merge:
        below = pl.row[a] > pl.row[b]
        bx, by = pl.port(b, "bottom_port" if below else "top_port")
        by = by + 1 if below else by - 1
        pts = [(ax, ay), (bx, ay), (bx, by)]
    else:
        bx, by = pl.port(b, "in_port")
        pts = [(ax, ay), (gap_before, ay), (gap_before, by), (bx - 1, by)]
    cv.arrow(rounded(pts))


def _brackets(cv: Canvas, fig: Figure, pl: Placement, y: float) -> float:
    """Brackets under the columns of each top-level group with two or more layers."""
    spans: dict[str, list[int]] = {}
    for layer in fig.layers:
        if layer.group:
            spans.setdefault(layer.group, []).append(layer.index)
    items = []
    for name, idx in spans.items():
        if len(idx) < 2:
            continue
        x0 = min(pl.box(i, "body")[0] for i in idx)
        x1 = max(pl.box(i, "body")[2] for i in idx)
        items.append((x0, x1, name))
    if not items:
        return y - 14
    levels: list[list[tuple[float, float]]] = []
    placed = []
    for x0, x1, name in sorted(items):
        w = max(x1 - x0, text_width(clean(name, 30), SMALL_SIZE))
        cx = (x0 + x1) / 2
        lx0, lx1 = cx - w / 2 - 4, cx + w / 2 + 4
        level = 0
        while level < len(levels) and any(lx0 < e and s < lx1 for s, e in levels[level]):
            level += 1
        if level == len(levels):
            levels.append([])
        levels[level].append((lx0, lx1))
        placed.append((x0, x1, name, level))
    cv.open(**{"class": "groups"})
    step = 24.0
    for x0, x1, name, level in placed:
        by = y + level * step
        cv.path(f"M{x0:.2f},{by - 5:.2f} V{by:.2f} H{x1:.2f} V{by - 5:.2f}", fill="none",
                stroke=MUTED, stroke_width="0.9")
        cv.text((x0 + x1) / 2, by + 11, clean(name, 30), SMALL_SIZE, fill=MUTED,
                font_style="italic")
    cv.close()
    return y + len(levels) * step - 6


def _legend(cv: Canvas, style: Style, fig: Figure, pl: Placement, y: float,
            width: float) -> float:
    kinds: list[str] = []
    for layer in fig.layers:
        if layer.kind not in kinds:
            kinds.append(layer.kind)
    entries: list[tuple[str, str]] = [(k, KIND_NAMES.get(k, k)) for k in kinds]
    if pl.arcs:
        entries.append(("\x00skip", "skip connection"))
    x = MARGIN
    cv.open(**{"class": "legend"})
    for kind, name in entries:
        w = 18 + text_width(name, LABEL_SIZE) + 16
        if x + w > width and x > MARGIN:
            x, y = MARGIN, y + 20
        if kind == "\x00skip":
            cv.path(f"M{x:.2f},{y + 12:.2f} V{y + 4:.2f} Q{x:.2f},{y + 1:.2f} {x + 3:.2f},"
                    f"{y + 1:.2f} H{x + 9:.2f} Q{x + 12:.2f},{y + 1:.2f} {x + 12:.2f},"
                    f"{y + 4:.2f} V{y + 12:.2f}", fill="none", stroke=EDGE, stroke_width="1.1")
        else:
            style.swatch(cv, kind, x, y)
        cv.text(x + 18, y + 10, name, LABEL_SIZE, anchor="start")
        x += w
    cv.close()
    return y + 14
