"""Place a figure's items and route the arrows between them: one engine for every style.

A style (the TikZ 3D boxes in centimetres, the NN-SVG looks in pixels) describes each item
by a :class:`Footprint` in its own unit: the glyph's outline, its labels (text boxes it has
measured), an optional *face* where an image of the item's output can go, and areas that
must stay clear. The engine knows nothing of units or looks; it follows the
:mod:`~netdraw.figure.plan` and guarantees what a reviewer checks:

- Columns are as wide as the widest footprint in them (labels included); a wrapped figure
  is a stack of rows, each starting at the left, joined by an arrow that goes down from
  the end of one row, back under it, and into the first item of the next.
- Rows of a row (the main path's lane, branch lanes below it, or a U's resolution levels)
  are stacked so that nothing of one reaches the next; labels marked ``hang`` are moved
  down to one line under the lowest glyph of their lane.
- Arrows change lanes only in the gaps between columns, or straight into the bottom or top
  of a ball when nothing is in the way; skips are arcs above everything they pass, nested
  arcs stacked. So no arrow crosses a glyph, a label or a face (:meth:`Figure.crossings`
  checks it geometrically, and the tests assert it for every zoo model and style).
- Group brackets go above their items (below them in a U, or when the style says so),
  outer groups further out.

Coordinates: x to the right, y up; a style that draws with y down flips them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from netdraw.errors import NetdrawError
from netdraw.figure import geometry as geo
from netdraw.figure.items import Item, ItemGraph, tail_name
from netdraw.figure.plan import Bracket, Plan, group_text, shown_groups
from netdraw.ir import Graph

Point = tuple[float, float]


@dataclass
class Label:
    """Plain text of measured size ``w`` × ``h`` at an anchor point, optionally rotated.

    ``role`` names the style's font for it; ``hang`` labels are lowered to a line shared
    by their lane; ``own`` labels may touch their own glyph (a ``×N`` over its copies).
    """

    text: str
    x: float
    y: float
    w: float
    h: float
    anchor: str = "north"
    role: str = "label"
    rotate: float = 0.0
    hang: bool = False
    own: bool = False
    _cache: tuple[tuple, geo.Polygon, tuple[float, float, float, float]] | None = field(
        default=None, repr=False, compare=False)

    def polygon(self) -> geo.Polygon:
        return self._cached()[1]

    def box(self) -> tuple[float, float, float, float]:
        return self._cached()[2]

    def _cached(self) -> tuple[tuple, geo.Polygon, tuple[float, float, float, float]]:
        key = (self.x, self.y, self.w, self.h, self.anchor, self.rotate)
        if self._cache is None or self._cache[0] != key:
            poly = self._polygon()
            self._cache = (key, poly, geo.bbox(poly))
        return self._cache

    def _polygon(self) -> geo.Polygon:
        w, h = self.w, self.h
        ax = {"west": -w / 2, "east": w / 2}.get(self.anchor.split()[-1], 0.0)
        ay = h / 2 if self.anchor.startswith("north") else (
            -h / 2 if self.anchor.startswith("south") else 0.0)
        if self.anchor in ("west", "east"):
            ay = 0.0
        a = math.radians(self.rotate)
        cx = self.x - (ax * math.cos(a) - ay * math.sin(a))
        cy = self.y - (ax * math.sin(a) + ay * math.cos(a))
        return geo.rotated_rect(cx, cy, w, h, self.rotate)

    def shifted(self, dx: float, dy: float) -> Label:
        return Label(self.text, self.x + dx, self.y + dy, self.w, self.h, self.anchor,
                     self.role, self.rotate, self.hang, self.own)


@dataclass
class Footprint:
    """What a style draws for one item, in local coordinates (y up; the item's row line is
    y = 0): the glyph's ``outline`` (arrows end on it), its ``labels``, the ``face`` where
    an image of the item's output can go (a box's front face, a stack's front map), other
    areas that must stay clear (``extras``, e.g. a thumbnail beside the glyph), and the
    style's own drawing data (in local coordinates: add ``origin``, how far the footprint
    was moved). ``cx`` is where vertical arrows attach (default: the outline's centre)."""

    outline: geo.Polygon
    labels: list[Label] = field(default_factory=list)
    ball: bool = False
    face: geo.Polygon | None = None
    extras: list[geo.Polygon] = field(default_factory=list)
    cx: float | None = None
    data: Any = None
    origin: Point = (0.0, 0.0)
    _cache: tuple[tuple, tuple[float, float, float, float]] | None = field(
        default=None, repr=False, compare=False)

    def polygons(self) -> list[geo.Polygon]:
        """Everything that takes room: outline, labels, extras."""
        return [self.outline, *[lb.polygon() for lb in self.labels], *self.extras]

    def extent(self) -> tuple[float, float, float, float]:
        """The bounding box of everything that takes room."""
        key = (id(self.outline), tuple(id(lb) for lb in self.labels), len(self.extras))
        if self._cache is None or self._cache[0] != key:
            boxes = [geo.bbox(self.outline), *[lb.box() for lb in self.labels],
                     *[geo.bbox(p) for p in self.extras]]
            self._cache = (key, (min(b[0] for b in boxes), min(b[1] for b in boxes),
                                 max(b[2] for b in boxes), max(b[3] for b in boxes)))
        return self._cache[1]

    def moved(self, dx: float, dy: float) -> Footprint:
        def shift(poly: geo.Polygon) -> geo.Polygon:
            return [(x + dx, y + dy) for x, y in poly]
        cx = (self.cx if self.cx is not None else _mid(self.outline)) + dx
        return Footprint(shift(self.outline), [lb.shifted(dx, dy) for lb in self.labels],
                         self.ball, shift(self.face) if self.face else None,
                         [shift(p) for p in self.extras], cx, self.data,
                         (self.origin[0] + dx, self.origin[1] + dy))


def _mid(poly: geo.Polygon) -> float:
    x0, _, x1, _ = geo.bbox(poly)
    return (x0 + x1) / 2


@dataclass(frozen=True)
class Spacing:
    """Gaps in the style's unit (multiply by the user's ``--spacing`` with :meth:`times`)."""

    col_gap: float
    lane_gap: float
    row_gap: float  # between wrapped rows (the return arrow runs in the middle)
    arc_margin: float  # skip arcs: clearance above what they pass
    arc_step: float  # between nested arcs
    port: float  # offset between arrows entering and leaving a ball or a gap
    bracket_gap: float  # between a bracket and what it spans
    bracket_tick: float
    eps: float  # what counts as touching, not crossing
    #: The shortest last piece of an arrow into a glyph: longer than the arrowhead, so the
    #: head lies outside what it points at.
    lead: float = 0.0

    def times(self, k: float) -> Spacing:
        return Spacing(self.col_gap * k, self.lane_gap * k, self.row_gap * k,
                       self.arc_margin, self.arc_step, self.port, self.bracket_gap,
                       self.bracket_tick, self.eps, self.lead)


class Look(Protocol):
    """What the engine asks a style."""

    spacing: Spacing
    bracket_depths: tuple[int, ...]  # () for no brackets
    brackets_below: bool  # NN-SVG: under the items; TikZ: above (a U hangs them anyway)
    uniform: bool  # every column of a non-merge item as wide as the widest

    def footprint(self, item: Item, caption: str | None) -> Footprint:
        """The item's footprint; ``caption`` is its name shortened by enclosing brackets
        (None when no bracket shortens it)."""

    def text_label(self, text: str, role: str, x: float, y: float, anchor: str) -> Label:
        """A measured label in the style's font for ``role``."""


# -- the laid-out figure ---------------------------------------------------------------


@dataclass
class Placed:
    """An item placed: its footprint moved onto its row line, its column, lane and row."""

    item: Item
    fp: Footprint
    col: int
    lane: int
    row: int

    @property
    def id(self) -> str:
        return self.item.id

    @property
    def x(self) -> float:
        return self.fp.origin[0]

    @property
    def y(self) -> float:
        """The item's row line."""
        return self.fp.origin[1]

    @property
    def cx(self) -> float:
        return self.fp.cx if self.fp.cx is not None else _mid(self.fp.outline)

    @property
    def labels(self) -> list[Label]:
        return self.fp.labels

    def polygon(self) -> geo.Polygon:
        return self.fp.outline

    def top(self) -> float:
        """Top of everything the item occupies."""
        return self.fp.extent()[3]

    def east(self, y: float) -> Point:
        """Where a horizontal line at height ``y`` leaves the outline on the right."""
        xs = _span(self.fp.outline, y, horizontal=True)
        return (max(xs) if xs else geo.bbox(self.fp.outline)[2], y)

    def west(self, y: float) -> Point:
        xs = _span(self.fp.outline, y, horizontal=True)
        return (min(xs) if xs else geo.bbox(self.fp.outline)[0], y)

    def north(self, x: float, clear: bool = False) -> Point:
        """The outline's top at ``x``; with ``clear``, above any label or extra there."""
        polys = self.fp.polygons() if clear else [self.fp.outline]
        ys = [y for p in polys for y in _span(p, x, horizontal=False)]
        return (x, max(ys) if ys else self.top())

    def south(self, x: float) -> Point:
        ys = _span(self.fp.outline, x, horizontal=False)
        return (x, min(ys) if ys else geo.bbox(self.fp.outline)[1])


def _span(poly: geo.Polygon, v: float, horizontal: bool) -> list[float]:
    """Where the line y=v (horizontal) or x=v crosses the polygon's edges."""
    out = []
    n = len(poly)
    for i in range(n):
        (x1, y1), (x2, y2) = poly[i], poly[(i + 1) % n]
        a1, a2, b1, b2 = (y1, y2, x1, x2) if horizontal else (x1, x2, y1, y2)
        if a1 == a2:
            if abs(a1 - v) < 1e-9:
                out += [b1, b2]
            continue
        if min(a1, a2) - 1e-9 <= v <= max(a1, a2) + 1e-9:
            out.append(b1 + (v - a1) * (b2 - b1) / (a2 - a1))
    return out


@dataclass
class Route:
    """An arrow: a polyline from item ``src`` to item ``dst``. ``skip`` marks edges that
    are not the main path's next step, ``arc`` the skips drawn as arcs over the main path,
    ``wrap`` the arrow from one row to the next."""

    points: list[Point]
    src: str
    dst: str
    skip: bool = False
    wrap: bool = False
    arc: bool = False


@dataclass
class Mark:
    """A placed group bracket: a line from ``x_lo`` to ``x_hi`` at ``y`` with end ticks
    (up when ``below``) and its label."""

    bracket: Bracket
    x_lo: float
    x_hi: float
    y: float
    below: bool
    label: Label
    tick: float

    def reach(self) -> tuple[float, float]:
        """The x range the bracket and its label take."""
        box = self.label.box()
        return min(self.x_lo, box[0]), max(self.x_hi, box[2])

    def path_points(self) -> list[Point]:
        t = self.tick if self.below else -self.tick
        return [(self.x_lo, self.y + t), (self.x_lo, self.y), (self.x_hi, self.y),
                (self.x_hi, self.y + t)]


@dataclass
class LegendEntry:
    key: Any
    fp: Footprint  # the sample glyph, placed
    label: Label


@dataclass
class Figure:
    """Everything a backend draws, positioned in the style's unit (y up)."""

    placed: dict[str, Placed]
    routes: list[Route]
    marks: list[Mark]
    plan: Plan
    rows: int = 1
    eps: float = 0.0  # what counts as touching, not crossing (the style's unit)
    legend: list[LegendEntry] = field(default_factory=list)
    title: Label | None = None

    @property
    def mode(self) -> str:
        return "u" if self.plan.u_shaped else "flat"

    @property
    def main(self) -> list[str]:
        return self.plan.main

    @property
    def items(self) -> ItemGraph:
        return self.plan.ig

    def labels(self) -> list[Label]:
        out = [lb for p in self.placed.values() for lb in p.labels]
        out += [m.label for m in self.marks]
        out += [e.label for e in self.legend]
        if self.title is not None:
            out.append(self.title)
        return out

    def bounds(self) -> tuple[float, float, float, float]:
        polys = [q for p in self.placed.values() for q in p.fp.polygons()]
        polys += [list(r.points) for r in self.routes]
        polys += [m.path_points() for m in self.marks] + [m.label.polygon() for m in self.marks]
        polys += [q for e in self.legend for q in e.fp.polygons()]
        polys += [e.label.polygon() for e in self.legend]
        if self.title is not None:
            polys.append(self.title.polygon())
        boxes = [geo.bbox(p) for p in polys if p]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))

    def crossings(self) -> list[str]:
        """Problems a reviewer would see: arrows through glyphs, faces or labels, labels on
        glyphs or on each other. Empty for a good figure; the tests assert that."""
        eps = self.eps
        problems = []
        shapes = [(p.id, geo.shrink(q, eps)) for p in self.placed.values()
                  for q in (p.fp.outline, *p.fp.extras)]
        texts = [(p.id, lb, geo.shrink(lb.polygon(), eps))
                 for p in self.placed.values() for lb in p.labels]
        texts += [("group " + "/".join(m.bracket.path), m.label, geo.shrink(m.label.polygon(),
                                                                            eps))
                  for m in self.marks]
        for r in self.routes:
            for gid, poly in shapes:
                if gid not in (r.src, r.dst) and geo.polyline_hits_polygon(r.points, poly):
                    problems.append(f"arrow {r.src}->{r.dst} crosses glyph {gid}")
            for gid, lb, poly in texts:
                if geo.polyline_hits_polygon(r.points, poly):
                    problems.append(f"arrow {r.src}->{r.dst} crosses label {lb.text!r} of {gid}")
        for m in self.marks:
            for gid, poly in shapes:
                if geo.polyline_hits_polygon(m.path_points(), poly):
                    problems.append(f"bracket {m.label.text!r} crosses glyph {gid}")
        for gid, lb, poly in texts:
            for oid, opoly in shapes:
                if geo.polygons_overlap(poly, opoly) and not (oid == gid and lb.own):
                    problems.append(f"label {lb.text!r} of {gid} overlaps glyph {oid}")
        for i, (gid, lb, poly) in enumerate(texts):
            for oid, olb, opoly in texts[i + 1:]:
                if geo.polygons_overlap(poly, opoly):
                    problems.append(f"label {lb.text!r} of {gid} overlaps {olb.text!r} of {oid}")
        return problems


# -- laying out ------------------------------------------------------------------------


def lay_out(graph: Graph, plan: Plan, look: Look, rows: int = 1) -> Figure:
    """Place ``plan``'s items with ``look``'s footprints in ``rows`` rows (fewer when the
    main path has too few clean cuts; a U is never wrapped)."""
    ig = plan.ig
    if not ig.items:
        raise NetdrawError("the model has no layers to draw (only inputs, outputs or "
                           "reshapes); check that the model file is complete")
    sp = look.spacing
    first = {v: look.footprint(ig.items[v], None) for v in ig.items}
    widths = column_widths(plan, first, look.uniform)
    breaks = [] if plan.u_shaped else choose_breaks(plan, widths, rows, sp.col_gap)
    row_of = plan.rows_for(breaks)
    level_of = plan.level_of() if plan.u_shaped else None
    brackets = shown_groups(graph, ig, plan.main, look.bracket_depths,
                            lambda v: (row_of[v], level_of[v] if level_of else 0), plan.col) \
        if look.bracket_depths else []
    names = captions(graph, ig, brackets)
    fps = {v: look.footprint(ig.items[v], names.get(v)) if v in names else first[v]
           for v in ig.items}
    widths = column_widths(plan, fps, look.uniform)
    room: dict[int, float] = {}  # a U's brackets hang under their level: make room
    hangs: list[tuple[list[str], float]] = []
    if level_of is not None:
        step = look.text_label("Xg", "group", 0, 0, "north").h + sp.bracket_gap
        for b in brackets:
            level = level_of[b.items[0]]
            room[level] = max(room.get(level, 0.0), (b.row + 1) * (step + sp.bracket_tick))
            text = group_text(b.name, b.class_name)
            hangs.append((b.items, look.text_label(text, "group", 0, 0, "north").w / 2))

    placed: dict[str, Placed] = {}
    routes: dict[tuple[str, str], Route] = {}
    marks: list[Mark] = []
    prev: tuple[dict[str, Placed], list[Mark]] = ({}, [])
    offset = prev_bottom = 0.0
    for r in range(len(breaks) + 1):
        members = [v for v in ig.items if row_of[v] == r]
        row, gaps = _place_row(plan, members, fps, widths, sp, r, room, hangs)
        row_routes = _route(plan, row, sp, gaps)
        row_marks = _brackets(look, plan.u_shaped, row, row_routes,
                              [b for b in brackets if row_of[b.items[0]] == r])
        top = _top(row, row_routes, row_marks)
        dy = 0.0 if r == 0 else offset - top
        for p in row.values():
            _move(p, 0.0, dy)
        for rt in row_routes.values():
            rt.points = [(x, y + dy) for x, y in rt.points]
        for m in row_marks:
            m.y += dy
            m.label = m.label.shifted(0.0, dy)
        if r > 0:
            corridor = (prev_bottom + top + dy) / 2
            routes[_wrap_key(plan, breaks[r - 1])] = _wrap_route(
                plan, prev, (row, row_marks), breaks[r - 1], corridor, sp)
        placed.update(row)
        routes.update(row_routes)
        marks += row_marks
        prev = (row, row_marks)
        prev_bottom = _bottom(row, row_routes, row_marks)
        offset = prev_bottom - sp.row_gap
    ordered = {v: placed[v] for v in ig.items}
    return Figure(ordered, [routes[e] for e in ig.edges], marks, plan, len(breaks) + 1,
                  sp.eps)


def column_widths(plan: Plan, fps: dict[str, Footprint], uniform: bool) -> list[float]:
    """Width of each column: its widest footprint (labels included)."""
    ncols = max(plan.col.values()) + 1
    widths = [0.0] * ncols
    for v, fp in fps.items():
        x0, _, x1, _ = fp.extent()
        widths[plan.col[v]] = max(widths[plan.col[v]], x1 - x0)
    if uniform:
        wide = {plan.col[v] for v in fps if not plan.ig.items[v].is_merge}
        widest = max(widths[c] for c in wide) if wide else 0.0
        widths = [widest if c in wide else w for c, w in enumerate(widths)]
    return widths


def choose_breaks(plan: Plan, widths: list[float], rows: int, gap: float) -> list[int]:
    """Up to ``rows - 1`` clean cuts that make the widest row as narrow as possible, each
    row holding at least two main-path items; a cut inside a top-level group (a ResNet
    stage) counts as if its rows were wider by an eighth of an average row."""
    ends = plan.cuts  # a row may end after main index i (column i) for i in ends
    if rows <= 1 or not ends:
        return []
    ncols = len(widths)
    prefix = [0.0]
    for w in widths:
        prefix.append(prefix[-1] + w + gap)
    penalty = prefix[-1] / rows / 8
    stage = [plan.ig.items[v].node.group[:1] for v in plan.main]
    inside = {i for i in ends if stage[i] and stage[i] == stage[i + 1]}

    def span(a: int, b: int) -> float:  # width of columns a..b-1, plus its cuts' penalty
        cuts = (a - 1 in inside) + (b - 1 in inside and b < ncols)
        return prefix[b] - prefix[a] - gap + penalty * cuts

    inf = float("inf")
    k = min(rows - 1, len(ends))
    # best[j][m]: the narrowest widest row over columns 0..ends[j] cut m times, the last
    # time at ends[j]; how[j][m]: the cut before it.
    best = [[inf] * (k + 1) for _ in ends]
    how: list[list[int | None]] = [[None] * (k + 1) for _ in ends]
    for j, e in enumerate(ends):
        best[j][1] = span(0, e + 1)
        for m in range(2, k + 1):
            for i in range(j):
                if e - ends[i] < 2:
                    continue
                value = max(best[i][m - 1], span(ends[i] + 1, e + 1))
                if value < best[j][m]:
                    best[j][m], how[j][m] = value, i
    while k >= 1:
        total = [max(best[j][k], span(ends[j] + 1, ncols)) for j in range(len(ends))]
        j_best = min(range(len(ends)), key=lambda j: (total[j], j))
        if total[j_best] < inf:
            break
        k -= 1
    out: list[int] = []
    m, j = k, j_best
    while j is not None and m >= 1:
        out.append(ends[j])
        j, m = how[j][m], m - 1
    return sorted(out)


def captions(graph: Graph, ig: ItemGraph, brackets: list[Bracket]) -> dict[str, str]:
    """Item names shortened by the label of the deepest bracket that encloses them (or the
    next one out when that would leave a bare number): ``layer1.0.conv1`` under the
    ``layer1.0`` bracket is ``conv1``; ``features.0`` under ``features`` stays."""
    prefixes: dict[str, list[str]] = {}
    for b in sorted(brackets, key=lambda b: -len(b.path)):
        group = graph.groups.get(b.path)
        label = group.display_name if group else b.path[-1]
        for i in b.items:
            prefixes.setdefault(i, []).append(label + ".")
    out: dict[str, str] = {}
    for item in ig.items.values():
        if "–" in item.full_name:
            continue  # a rolled run keeps its whole name ("layer1.0–layer1.2")
        for p in prefixes.get(item.id, []):
            rest = item.full_name[len(p):] if item.full_name.startswith(p) else ""
            if rest and not rest.isdigit():
                out[item.id] = tail_name(rest)
                break
    return out


def _move(p: Placed, dx: float, dy: float) -> None:
    p.fp = p.fp.moved(dx, dy)


def _place_row(plan: Plan, members: list[str], fps: dict[str, Footprint],
               widths: list[float], sp: Spacing, row: int, room_below: dict[int, float],
               hangs: list[tuple[list[str], float]]
               ) -> tuple[dict[str, Placed], dict[int, float]]:
    """Place one row's items: columns from x = 0, its lanes (or U levels) from y = 0 down,
    with ``room_below`` a band for hanging brackets (``hangs``: their items and half the
    width of their label). Returns the placed items and the x of the gap after each
    column (where arrows change rows)."""
    if plan.u_shaped:
        levels = plan.level_of()
        band = {v: levels[v] for v in members}
    else:
        band = {v: -plan.lane[v] for v in members}
    order = sorted(set(band.values()))
    floor: dict[int, float] = {}
    for v in members:
        floor[band[v]] = min(floor.get(band[v], math.inf), geo.bbox(fps[v].outline)[1])
    local = {v: _hung(fps[v], floor[band[v]]) for v in members}
    above: dict[int, float] = {}
    below: dict[int, float] = {}
    arcs_above: dict[int, int] = {}
    for v in members:
        _, y_lo, _, y_hi = local[v].extent()
        above[band[v]] = max(above.get(band[v], 0.0), y_hi)
        below[band[v]] = max(below.get(band[v], 0.0), -y_lo + room_below.get(band[v], 0.0))
    if plan.u_shaped:
        for u, _ in plan.skips:
            if u in band:
                arcs_above[band[u]] = arcs_above.get(band[u], 0) + 1
    ys: dict[int, float] = {}
    if plan.u_shaped:
        dxs, gaps = _pack_u(sorted(members, key=plan.col.__getitem__), local, band, plan, sp,
                            hangs)
        ys = _stack_u(plan, members, local, band, dxs, sp, room_below, order)
    else:
        y = 0.0
        for k, b in enumerate(order):
            if k:
                extra = (sp.arc_margin + sp.arc_step * (arcs_above[b] + 1)) \
                    if b in arcs_above else 0.0
                y -= below[order[k - 1]] + sp.lane_gap + above[b] + extra
            ys[b] = y
        dxs, gaps = _columns(members, local, plan, widths, sp)
    out = {v: Placed(plan.ig.items[v], local[v].moved(dxs[v], ys[band[v]]), plan.col[v],
                     plan.lane[v], row) for v in members}
    return out, gaps


def _columns(members: list[str], local: dict[str, Footprint], plan: Plan,
             widths: list[float], sp: Spacing) -> tuple[dict[str, float], dict[int, float]]:
    """x shift of each item centred in its column, columns side by side from x = 0."""
    cols = sorted({plan.col[v] for v in members})
    xs: dict[int, float] = {}
    gaps: dict[int, float] = {cols[0] - 1: -sp.col_gap / 2}
    x = 0.0
    for c in range(cols[0], cols[-1] + 1):
        xs[c] = x
        x += widths[c] + sp.col_gap
        gaps[c] = x - sp.col_gap / 2
    dxs = {}
    for v in members:
        x_lo, _, x_hi, _ = local[v].extent()
        c = plan.col[v]
        dxs[v] = xs[c] + (widths[c] - (x_hi - x_lo)) / 2 - x_lo
    return dxs, gaps


def _pack_u(main: list[str], local: dict[str, Footprint], band: dict[str, int], plan: Plan,
            sp: Spacing, hangs: list[tuple[list[str], float]]
            ) -> tuple[dict[str, float], dict[int, float]]:
    """x shifts of a U's items, packed: an item may reach under (or over) its neighbour at
    another level, as long as nothing of one level meets the other and the vertical part of
    the arrow between them passes clear of everything it meets. Per level, ``upper`` and
    ``lower`` hold the right edge of what is placed above and below the level's line."""
    upper: dict[int, float] = {}
    lower: dict[int, float] = {}
    dxs: dict[str, float] = {}
    gaps: dict[int, float] = {}
    prev = None
    for v in main:
        up_v, low_v = _halves(local[v])
        full_left = min(up_v[0], low_v[0])
        if prev is None:
            dx = -full_left
        else:
            u = prev
            level = max(upper.get(band[v], -math.inf), lower.get(band[v], -math.inf))
            need = [level + sp.col_gap - full_left]  # apart from the level's earlier items
            if band[u] != band[v]:  # the arrow drops (or climbs) at x = gap
                a, b = sorted((band[u], band[v]))
                passed = [max(upper[k], lower[k]) for k in range(a + 1, b) if k in upper]
                if band[v] > band[u]:  # down: below u's line, above v's
                    passed += [lower[band[u]], upper.get(band[v], -math.inf)]
                    edge = up_v[0]
                else:  # up: above u's line, below v's
                    passed += [upper[band[u]], lower.get(band[v], -math.inf)]
                    edge = low_v[0]
                gap = max(passed) + sp.col_gap / 2
                gaps[plan.col[u]] = gap
                need.append(gap + max(sp.col_gap / 2, sp.port + sp.lead) - edge)
            dx = max(need)
        dxs[v] = dx
        upper[band[v]] = max(upper.get(band[v], -math.inf), up_v[1] + dx)
        lower[band[v]] = max(lower.get(band[v], -math.inf), low_v[1] + dx)
        for items, half in hangs:  # a bracket hanging under its items, label centred
            if items and v == max(items, key=main.index):
                xs = [x + dxs[i] for i in items for x in geo.bbox(local[i].outline)[::2]]
                lower[band[v]] = max(lower[band[v]], (min(xs) + max(xs)) / 2 + half)
        if prev is not None and band[prev] == band[v]:
            u_right = local[prev].extent()[2] + dxs[prev]
            gaps[plan.col[prev]] = (u_right + local[v].extent()[0] + dx) / 2
        prev = v
    first = main[0]
    gaps[plan.col[first] - 1] = local[first].extent()[0] + dxs[first] - sp.col_gap / 2
    if prev is not None:
        gaps[plan.col[prev]] = local[prev].extent()[2] + dxs[prev] + sp.col_gap / 2
    return dxs, gaps


def _stack_u(plan: Plan, members: list[str], local: dict[str, Footprint],
             band: dict[str, int], dxs: dict[str, float], sp: Spacing,
             room_below: dict[int, float], order: list[int]) -> dict[int, float]:
    """The row line of each level of a U, top level first, each as high as it can go: a
    level only has to clear what it lies under — the items, labels and brackets of the
    levels above where their x ranges meet, and the skip arc of each level above, which
    spans the levels below it — so the U is as tall as its nesting needs, not the sum of
    every level's label stack. A level's glyphs start at least a lane gap under the line
    of the level above.
    O(items² per level) on a U's few dozen items."""
    pad = sp.col_gap / 4
    spans: dict[int, list[tuple[float, float]]] = {}
    for u, v in plan.skips:
        if u in band and v in band and band[u] == band[v]:
            xa, xb = ((_mid(local[w].outline) if local[w].cx is None else local[w].cx)
                      + dxs[w] for w in (u, v))
            spans.setdefault(band[u], []).append((min(xa, xb), max(xa, xb)))
    placed: list[tuple[float, float, float]] = []  # (x0, x1, lowest y) of what is placed
    ys: dict[int, float] = {}
    for b in order:
        parts: list[tuple[float, float, float, float]] = []  # x0, x1, top, bottom (relative)
        for v in members:
            if band[v] != b:
                continue
            x0, y0, x1, y1 = local[v].extent()
            parts.append((x0 + dxs[v] - pad, x1 + dxs[v] + pad, y1,
                          y0 - room_below.get(b, 0.0)))
        arcs = []
        for xa, xb in spans.get(b, []):
            tops = [top for x0, x1, top, _ in parts if x0 < xb and xa < x1]
            height = max(tops, default=0.0) + sp.arc_margin + sp.arc_step
            arcs.append((xa - pad, xb + pad, height, height))
        if not ys:
            y = 0.0
        else:  # the level's glyphs start under the line of the level above: a visible step
            glyph_top = max((geo.bbox(local[v].outline)[3] for v in members if band[v] == b),
                            default=0.0)
            y = ys[order[order.index(b) - 1]] - sp.lane_gap - glyph_top
            for x0, x1, top, _ in parts + arcs:
                for px0, px1, low in placed:
                    if x0 < px1 and px0 < x1:
                        y = min(y, low - sp.lane_gap - top)
        ys[b] = y
        placed += [(x0, x1, y + bottom) for x0, x1, _, bottom in parts + arcs]
    return ys


def _halves(fp: Footprint) -> tuple[tuple[float, float], tuple[float, float]]:
    """(left, right) of what reaches above the row line, and of what reaches below it
    (the glyph counts in both)."""
    x0, _, x1, _ = geo.bbox(fp.outline)
    up, low = [x0, x1], [x0, x1]
    for poly in [*[lb.polygon() for lb in fp.labels], *fp.extras]:
        bx0, by0, bx1, by1 = geo.bbox(poly)
        if by1 > 0:
            up += [bx0, bx1]
        if by0 < 0:
            low += [bx0, bx1]
    return (min(up), max(up)), (min(low), max(low))


def _hung(fp: Footprint, floor: float) -> Footprint:
    """``fp`` with its hanging labels lowered to ``floor``, the lane's lowest glyph."""
    if not any(lb.hang for lb in fp.labels):
        return fp
    drop = floor - geo.bbox(fp.outline)[1]
    labels = [lb.shifted(0.0, drop) if lb.hang else lb for lb in fp.labels]
    return Footprint(fp.outline, labels, fp.ball, fp.face, fp.extras, fp.cx, fp.data,
                     fp.origin)


def _route(plan: Plan, row: dict[str, Placed], sp: Spacing,
           gaps: dict[int, float]) -> dict[tuple[str, str], Route]:
    """Polylines for the edges inside one row (see the module docstring for the rules)."""
    main_next = {plan.main[i]: plan.main[i + 1] for i in range(len(plan.main) - 1)}
    occupied = {(p.col, p.lane) for p in row.values()}
    routes: dict[tuple[str, str], Route] = {}
    arcs: list[tuple[int, int, float]] = []

    def column_free(c: int, lane_a: int, lane_b: int) -> bool:
        lo, hi = sorted((lane_a, lane_b))
        return not any((c, k) in occupied for k in range(lo + 1, hi))

    for u, v in plan.skips:  # shortest first, so longer arcs pass over shorter ones
        if u in row and v in row:
            routes[(u, v)] = Route(_arc(row[u], row[v], row, arcs, sp), u, v, True, arc=True)
    for u, v in plan.ig.edges:
        if (u, v) in routes or u not in row or v not in row:
            continue
        a, b = row[u], row[v]
        skip = main_next.get(u) != v
        ya, yb = a.y, b.y
        if abs(ya - yb) < 1e-9 and (b.col == a.col + 1 or not _between(row, a, b)):
            routes[(u, v)] = Route([a.east(ya), b.west(yb)], u, v, skip)
            continue
        # Travel along the source's branch lane, else along the target's row.
        if a.lane != 0:
            lane, travel = a.lane, ya
        else:
            lane, travel = b.lane, yb
        pts: list[Point] = []
        if abs(travel - ya) < 1e-9:
            pts.append(a.east(ya))
        elif a.fp.ball and a.lane != lane and column_free(a.col, a.lane, lane):
            x = a.cx + sp.port
            pts += [a.south(x) if travel < ya else a.north(x), (x, travel)]
        else:
            gx = gaps[a.col] + sp.port
            pts += [a.east(ya), (gx, ya), (gx, travel)]
        if abs(travel - yb) < 1e-9:
            pts.append(b.west(yb))
        elif b.fp.ball and b.lane != lane and column_free(b.col, lane, b.lane):
            x = b.cx - sp.port
            pts += [(x, travel), b.south(x) if travel < yb else b.north(x)]
        else:
            gx = gaps[b.col - 1] - sp.port
            pts += [(gx, travel), (gx, yb), b.west(yb)]
        routes[(u, v)] = Route(_tidy(pts), u, v, skip)
    return routes


def _between(row: dict[str, Placed], a: Placed, b: Placed) -> bool:
    return any(p.lane == a.lane and a.col < p.col < b.col and abs(p.y - a.y) < 1e-9
               for p in row.values())


def _arc(a: Placed, b: Placed, row: dict[str, Placed], arcs: list[tuple[int, int, float]],
         sp: Spacing) -> list[Point]:
    """A skip over everything between two items: up, across, down into the target's top."""
    top = max(p.top() for p in row.values() if a.col <= p.col <= b.col and p.y >= a.y - 1e-9)
    height = top + sp.arc_margin
    while any(lo < b.col and a.col < hi and abs(h - height) < sp.arc_step * 0.9
              for lo, hi, h in arcs):
        height += sp.arc_step
    arcs.append((a.col, b.col, height))
    xa, xb = _on_top(a, a.cx + sp.port, sp), _on_top(b, b.cx - sp.port, sp)
    return [a.north(xa, clear=True), (xa, height), (xb, height), b.north(xb, clear=True)]


def _on_top(p: Placed, x: float, sp: Spacing) -> float:
    """``x`` moved onto the glyph's outline where it is narrower than the port offset (a
    thin box): an arc leaves and enters through the glyph's top, never beside it."""
    lo, _, hi, _ = geo.bbox(p.fp.outline)
    margin = min(2 * sp.eps, (hi - lo) / 4)
    return min(max(x, lo + margin), hi - margin)


def _tidy(points: list[Point]) -> list[Point]:
    """Drop repeated and collinear middle points."""
    out: list[Point] = []
    for p in points:
        if out and abs(out[-1][0] - p[0]) < 1e-9 and abs(out[-1][1] - p[1]) < 1e-9:
            continue
        if len(out) >= 2:
            (x1, y1), (x2, y2) = out[-2], out[-1]
            if (abs(x1 - x2) < 1e-9 and abs(x2 - p[0]) < 1e-9) or (
                    abs(y1 - y2) < 1e-9 and abs(y2 - p[1]) < 1e-9):
                out[-1] = p
                continue
        out.append(p)
    return out


def _wrap_key(plan: Plan, cut: int) -> tuple[str, str]:
    return plan.main[cut], plan.main[cut + 1]


def _wrap_route(plan: Plan, before: tuple[dict[str, Placed], list[Mark]],
                after: tuple[dict[str, Placed], list[Mark]], cut: int, corridor: float,
                sp: Spacing) -> Route:
    """From the last item of a row: right, down to the corridor under the row, back to the
    left edge, down to the next row's line and into its first item."""
    u, v = _wrap_key(plan, cut)
    a, b = before[0][u], after[0][v]
    right = max([q.fp.extent()[2] for q in before[0].values()]
                + [m.label.box()[2] for m in before[1]]) + sp.col_gap / 2
    left = min([q.fp.extent()[0] for q in after[0].values()]
               + [m.label.box()[0] for m in after[1]]) - sp.col_gap / 2
    pts = [a.east(a.y), (right, a.y), (right, corridor), (left, corridor), (left, b.y),
           b.west(b.y)]
    return Route(_tidy(pts), u, v, False, wrap=True)


def _brackets(look: Look, u_shaped: bool, row: dict[str, Placed],
              routes: dict[tuple[str, str], Route], brackets: list[Bracket]) -> list[Mark]:
    """Place a row's brackets: above what they span, or under it (U, or the style says)."""
    sp = look.spacing
    below = look.brackets_below or u_shaped
    marks: list[Mark] = []
    for level in (0, 1):
        for b in (b for b in brackets if b.row == level):
            members = [row[i] for i in b.items]
            x_lo = min(geo.bbox(p.polygon())[0] for p in members) + sp.eps
            x_hi = max(geo.bbox(p.polygon())[2] for p in members) - sp.eps
            text = group_text(b.name, b.class_name)
            half = look.text_label(text, "group", 0, 0, "north").w / 2
            lo, hi = min(x_lo, (x_lo + x_hi) / 2 - half), max(x_hi, (x_lo + x_hi) / 2 + half)
            near = [p for p in row.values() if _overlaps(p.fp.extent(), lo, hi, sp)]
            stacked = [m for m in marks if m.reach()[0] < hi and m.reach()[1] > lo]
            if below:  # the style's brackets share one line under the row; a U's hang
                pool = list(row.values()) if look.brackets_below else members
                low = min([p.fp.extent()[1] for p in pool]
                          + [m.label.box()[1] for m in stacked])
                y = low - sp.bracket_gap
                label = look.text_label(text, "group", (x_lo + x_hi) / 2,
                                        y - sp.bracket_tick / 2, "north")
            else:
                top = max([p.top() for p in near] + [
                    max(ya, yb) for r in routes.values()
                    for (xa, ya), (xb, yb) in zip(r.points, r.points[1:], strict=False)
                    if min(xa, xb) <= hi and max(xa, xb) >= lo]
                    + [m.label.box()[3] for m in stacked])
                y = top + sp.bracket_gap
                label = look.text_label(text, "group", (x_lo + x_hi) / 2,
                                        y + sp.bracket_tick / 2, "south")
            marks.append(Mark(b, x_lo, x_hi, y, below, label, sp.bracket_tick))
    return marks


def _overlaps(box: tuple[float, float, float, float], lo: float, hi: float,
              sp: Spacing) -> bool:
    return box[0] < hi + sp.col_gap / 2 and box[2] > lo - sp.col_gap / 2


def _top(row: dict[str, Placed], routes: dict[tuple[str, str], Route],
         marks: list[Mark]) -> float:
    ys = [p.top() for p in row.values()] + [y for r in routes.values() for _, y in r.points]
    ys += [m.label.box()[3] for m in marks] + [m.y for m in marks]
    return max(ys)


def _bottom(row: dict[str, Placed], routes: dict[tuple[str, str], Route],
            marks: list[Mark]) -> float:
    ys = [p.fp.extent()[1] for p in row.values()] + [y for r in routes.values()
                                                      for _, y in r.points]
    ys += [m.label.box()[1] for m in marks] + [m.y for m in marks]
    return min(ys)


# -- legend and title ------------------------------------------------------------------


def place_legend(fig: Figure, entries: Sequence[tuple[Any, Footprint, Label]], *,
                 gap: float, pad: float, entry_gap: float, line_gap: float,
                 min_wrap: float) -> None:
    """Put legend entries (a sample glyph, then its label) in lines under the figure,
    wrapping at the figure's width (at least ``min_wrap``)."""
    if not entries:
        return
    x_min, y_min, x_max, _ = fig.bounds()
    wrap = max(x_max - x_min, min_wrap)
    height = max(max(geo.bbox(fp.outline)[3] - geo.bbox(fp.outline)[1], lb.h)
                 for _, fp, lb in entries)
    x, y = x_min, y_min - gap - height / 2
    for key, fp, lb in entries:
        gx0, gy0, gx1, gy1 = geo.bbox(fp.outline)
        w = gx1 - gx0 + pad + lb.w
        if x > x_min and x + w > x_min + wrap:
            x, y = x_min, y - height - line_gap
        sample = fp.moved(x - gx0, y - (gy0 + gy1) / 2)
        label = Label(lb.text, x + gx1 - gx0 + pad, y, lb.w, lb.h, "west", lb.role)
        fig.legend.append(LegendEntry(key, sample, label))
        x += w + entry_gap


def place_title(fig: Figure, label: Label, gap: float, centred: bool) -> None:
    """Put ``label`` (its text and size) above the figure, centred or at the left."""
    x0, _, x1, y1 = fig.bounds()
    if centred:
        fig.title = Label(label.text, (x0 + x1) / 2, y1 + gap, label.w, label.h, "south",
                          label.role)
    else:
        fig.title = Label(label.text, x0, y1 + gap, label.w, label.h, "south west",
                          label.role)


def check_spacing(spacing: float) -> float:
    """The ``--spacing`` factor, or a NetdrawError saying what is allowed."""
    try:
        value = float(spacing)
    except (TypeError, ValueError):
        raise NetdrawError(f"--spacing must be a number, not {spacing!r}") from None
    if not 0.2 <= value <= 10 or math.isnan(value):
        raise NetdrawError(f"--spacing must be between 0.2 and 10, not {value:g}")
    return value
