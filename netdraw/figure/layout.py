"""Place figure items and route the arrows between them, from the IR alone.

The *main path* (the longest chain of items) runs left to right in lane 0, one column per
item. Every other item belongs to a *branch chain* placed in a lane below the main path,
centred under the span it bridges; direct skips (an edge jumping over main-path items, as
a ResNet identity shortcut) are lines in those lanes. Lanes are handed out first-fit over
column intervals, so two branches never share a stretch of lane. Arrows change lanes only
in the gaps between columns, or straight under a ball (add/concat) when that column is
free, so no arrow crosses a box or a label.

An encoder–decoder whose main path goes down in resolution and back up, with skips that
join equal resolutions (a U-Net), is drawn as a U: each item sits at the height of its
resolution level and the skips are straight arcs in the corridor above their level.

Sizes (centimetres): a box's height follows H, its depth W and its thickness C, each on a
log2 scale clamped to sane bounds (see :func:`extent` and :func:`thickness`).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from netdraw.errors import NetdrawError
from netdraw.figure import geometry as geo
from netdraw.figure.items import (
    BANDABLE,
    CATEGORIES,
    Dims,
    Item,
    ItemGraph,
    build_items,
    tail_name,
)
from netdraw.ir import Graph
from netdraw.latex import clean, printed_width

Point = tuple[float, float]

#: Oblique projection of the depth axis: 35 degrees, scale 0.45 (cabinet-like).
OBLIQUE_DEGREES = 35.0
OBLIQUE = (0.45 * math.cos(math.radians(OBLIQUE_DEGREES)),
           0.45 * math.sin(math.radians(OBLIQUE_DEGREES)))
GAP = 0.6           # between columns
LANE_GAP = 0.5      # between a lane's labels and the next lane's boxes
BALL_R = 0.28
GHOST = 0.14        # offset of the copies drawn behind a repeated block
PORT = 0.09         # offset between an arrow entering and one leaving a ball / gap
ARC_MARGIN = 0.4    # U-Net skip arcs: clearance above the boxes they pass
ARC_STEP = 0.22
BRACKET_ROW = 0.55  # height of one row of group brackets
PT = 2.54 / 72.27   # one TeX point in cm
FONT_PT = {"label": 7.0, "caption": 8.0, "sub": 7.0, "legend": 8.0, "title": 12.0,
           "repeat": 9.0, "group": 8.0}
CAPTION_CHARS = 22  # longer names are shortened with an ellipsis
#: Container classes that say nothing about what a group computes (not printed).
_PLAIN_CONTAINERS = ("Block", "Sequential", "ModuleList", "ModuleDict", "Functional", "Model")


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


def text_width(text: str, font: str) -> float:
    """Estimated width in cm of ``text`` at a font size (Computer Modern, generous)."""
    return printed_width(text) * FONT_PT[font] * 0.52 * PT + 0.08


def text_height(font: str) -> float:
    return FONT_PT[font] * PT * 1.2 + 0.08


@dataclass
class Label:
    """Plain (unescaped) text at an anchor point, optionally rotated."""

    text: str
    x: float
    y: float
    anchor: str = "north"
    font: str = "label"
    rotate: float = 0.0

    def polygon(self) -> geo.Polygon:
        w, h = text_width(self.text, self.font), text_height(self.font)
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
        return Label(self.text, self.x + dx, self.y + dy, self.anchor, self.font, self.rotate)


@dataclass
class Glyph:
    """An item's drawn shape: a 3D box (front face at ``x0``, centred on ``yc``) or a ball."""

    item: Item
    shape: str  # "box" or "ball"
    t: float = 0.0
    h: float = 0.0
    d: float = 0.0
    r: float = BALL_R
    band: float = 0.0
    ghosts: int = 0
    col: int = 0
    lane: int = 0
    x0: float = 0.0
    yc: float = 0.0
    labels: list[Label] = field(default_factory=list)

    @property
    def dx(self) -> float:
        return OBLIQUE[0] * self.d

    @property
    def dy(self) -> float:
        return OBLIQUE[1] * self.d

    @property
    def y0(self) -> float:
        return self.yc - self.h / 2

    @property
    def cx(self) -> float:
        """Centre of the front face (box) or of the ball."""
        return self.x0 + (self.t / 2 if self.shape == "box" else self.r)

    @property
    def width(self) -> float:
        if self.shape == "ball":
            return 2 * self.r
        return self.t + self.dx + self.ghosts * GHOST

    def polygon(self) -> geo.Polygon:
        if self.shape == "ball":
            return geo.circle(self.x0 + self.r, self.yc, self.r)
        x0, y0, t, h = self.x0, self.y0, self.t, self.h
        dx, dy = self.dx + self.ghosts * GHOST, self.dy + self.ghosts * GHOST
        return [(x0, y0), (x0 + t, y0), (x0 + t + dx, y0 + dy), (x0 + t + dx, y0 + h + dy),
                (x0 + dx, y0 + h + dy), (x0, y0 + h)]

    def top(self) -> float:
        return geo.bbox(self.polygon())[3]

    def east(self, y: float) -> Point:
        """Where a horizontal line at height ``y`` leaves the silhouette on the right."""
        if self.shape == "ball":
            off = min(abs(y - self.yc), self.r * 0.99)
            return (self.x0 + self.r + math.sqrt(self.r ** 2 - off ** 2), y)
        xs = _span(self.polygon(), y, horizontal=True)
        return (max(xs) if xs else self.x0 + self.width, y)

    def west(self, y: float) -> Point:
        if self.shape == "ball":
            off = min(abs(y - self.yc), self.r * 0.99)
            return (self.x0 + self.r - math.sqrt(self.r ** 2 - off ** 2), y)
        return (self.x0, y)

    def north(self, x: float) -> Point:
        if self.shape == "ball":
            off = min(abs(x - self.cx), self.r * 0.99)
            return (x, self.yc + math.sqrt(self.r ** 2 - off ** 2))
        ys = _span(self.polygon(), x, horizontal=False)
        return (x, max(ys) if ys else self.y0 + self.h)

    def south(self, x: float) -> Point:
        if self.shape == "ball":
            off = min(abs(x - self.cx), self.r * 0.99)
            return (x, self.yc - math.sqrt(self.r ** 2 - off ** 2))
        ys = _span(self.polygon(), x, horizontal=False)
        return (x, min(ys) if ys else self.y0)

    def extent_polygons(self) -> list[geo.Polygon]:
        return [self.polygon(), *[lb.polygon() for lb in self.labels]]


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
    """An arrow: a polyline from item ``src`` to item ``dst``; ``skip`` marks non-main edges."""

    points: list[Point]
    src: str
    dst: str
    skip: bool = False


@dataclass
class LegendEntry:
    glyph: Glyph
    label: Label
    key: tuple[str, str | None]


@dataclass
class Figure:
    """Everything the TikZ template draws, positioned in centimetres."""

    glyphs: list[Glyph]
    routes: list[Route]
    legend: list[LegendEntry]
    title: Label | None
    mode: str  # "flat" or "u"
    main: list[str]
    items: ItemGraph
    brackets: list[Bracket] = field(default_factory=list)

    def labels(self) -> list[Label]:
        out = [lb for g in self.glyphs for lb in g.labels]
        out += [b.label for b in self.brackets]
        out += [e.label for e in self.legend]
        if self.title is not None:
            out.append(self.title)
        return out

    def bounds(self) -> tuple[float, float, float, float]:
        polys = [p for g in self.glyphs for p in g.extent_polygons()]
        polys += [[pt for pt in r.points] for r in self.routes]
        polys += [p for e in self.legend for p in e.glyph.extent_polygons()]
        polys += [e.label.polygon() for e in self.legend]
        polys += [b.label.polygon() for b in self.brackets]
        if self.title is not None:
            polys.append(self.title.polygon())
        boxes = [geo.bbox(p) for p in polys if p]
        return (min(b[0] for b in boxes), min(b[1] for b in boxes),
                max(b[2] for b in boxes), max(b[3] for b in boxes))

    def crossings(self) -> list[str]:
        """Problems a reviewer would see: arrows through boxes or labels, labels on boxes.

        Empty for a good figure; the tests assert that.
        """
        problems = []
        shapes = [(g.item.id, geo.shrink(g.polygon(), 0.03)) for g in self.glyphs]
        texts = [(g.item.id, lb, geo.shrink(lb.polygon(), 0.03))
                 for g in self.glyphs for lb in g.labels]
        texts += [("group " + "/".join(b.path), b.label, geo.shrink(b.label.polygon(), 0.03))
                  for b in self.brackets]
        for r in self.routes:
            for gid, poly in shapes:
                if gid not in (r.src, r.dst) and geo.polyline_hits_polygon(r.points, poly):
                    problems.append(f"arrow {r.src}->{r.dst} crosses box {gid}")
            for gid, lb, poly in texts:
                if geo.polyline_hits_polygon(r.points, poly):
                    problems.append(f"arrow {r.src}->{r.dst} crosses label {lb.text!r} of {gid}")
        for gid, lb, poly in texts:
            for oid, opoly in shapes:
                if geo.polygons_overlap(poly, opoly) and not (
                        oid == gid and lb.font == "repeat"):
                    problems.append(f"label {lb.text!r} of {gid} overlaps box {oid}")
        for i, (gid, lb, poly) in enumerate(texts):
            for oid, olb, opoly in texts[i + 1:]:
                if geo.polygons_overlap(poly, opoly):
                    problems.append(f"label {lb.text!r} of {gid} overlaps {olb.text!r} of {oid}")
        return problems


# -- glyphs ----------------------------------------------------------------------------


def make_glyph(item: Item, labels: bool = True) -> Glyph:
    """Size an item's glyph from its dims (positions come later)."""
    dims = item.dims
    if item.glyph == "ball":
        return Glyph(item, "ball")
    if item.glyph == "bar" or (dims.rank == 1 and item.category != "block"):
        t, h, d = 0.18, extent(dims.c), 0.18
    elif dims.spatial:
        t = thickness(dims.c)
        h = extent(dims.h)
        d = extent(dims.w) if dims.w is not None else 0.35
    else:
        t, h, d = 0.4, 1.1, 0.8
    if item.category == "pool":
        t = max(0.12, 0.5 * t)
    elif item.category in ("norm", "act"):
        t = max(0.12, 0.35 * t)
    elif item.category == "block":
        t = max(t, 0.4)
    band = 0.0
    if item.band and item.category in BANDABLE:
        band = min(0.35, max(0.07, 0.3 * t))
    ghosts = min(item.repeat - 1, 2) if item.repeat > 1 else 0
    g = Glyph(item, "box", t=t, h=h, d=d, band=band, ghosts=ghosts)
    g.labels = box_labels(g) if labels else [lb for lb in box_labels(g) if lb.font == "repeat"]
    return g


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


def box_labels(g: Glyph) -> list[Label]:
    """Labels of a box placed at x0=0, yc=0: C under the front face, H×W along the depth
    edge, the caption centred below both; ``×N`` above a repeated block."""
    item = g.item
    out: list[Label] = []
    c_text, hw_text = dims_text(item)
    low = g.y0 - 0.04
    if c_text:
        out.append(Label(c_text, g.x0 + g.t / 2, low, "north", "label"))
        low = geo.bbox(out[-1].polygon())[1]
    if hw_text and g.item.glyph != "bar":
        mx, my = g.x0 + g.t + g.dx / 2, g.y0 + g.dy / 2
        along = Label(hw_text, mx + 0.03, my - 0.03, "north", "label", OBLIQUE_DEGREES)
        if geo.bbox(along.polygon())[3] > g.yc - 0.08:
            # A flat, deep box: the edge label would reach the arrows; put it underneath.
            along = Label(hw_text, g.x0 + g.t + 0.06, g.y0 - 0.04, "north west", "label")
        out.append(along)
        low = min(low, geo.bbox(out[-1].polygon())[1])
    centre = g.x0 + (g.t + g.dx) / 2
    if item.name:
        out.append(Label(clean(item.name, CAPTION_CHARS), centre, low - 0.02, "north",
                         "caption"))
        low = geo.bbox(out[-1].polygon())[1]
    if item.category == "block" and item.op_type not in ("", item.name, *_PLAIN_CONTAINERS):
        out.append(Label(clean(item.op_type, CAPTION_CHARS), centre, low, "north", "sub"))
    if item.repeat > 1:
        out.append(Label(f"×{item.repeat}", g.x0 + g.width / 2, g.y0 + g.h + g.dy +
                         g.ghosts * GHOST + 0.04, "south", "repeat"))
    return out


def _shift_glyph(g: Glyph, dx: float, dy: float) -> None:
    g.x0 += dx
    g.yc += dy
    g.labels = [lb.shifted(dx, dy) for lb in g.labels]


def _local_extent(g: Glyph) -> tuple[float, float, float, float]:
    boxes = [geo.bbox(p) for p in g.extent_polygons()]
    return (min(b[0] for b in boxes), min(b[1] for b in boxes),
            max(b[2] for b in boxes), max(b[3] for b in boxes))


# -- structure -------------------------------------------------------------------------


def longest_path(order: list[str], preds: dict[str, list[str]]) -> list[str]:
    """A longest path of the DAG (by item count); ties go to earlier predecessors and to
    the last-listed end, so the result is deterministic."""
    dist: dict[str, int] = {}
    parent: dict[str, str | None] = {}
    for v in order:
        best, arg = 0, None
        for p in preds[v]:
            if dist[p] + 1 > best:
                best, arg = dist[p] + 1, p
        dist[v], parent[v] = best, arg
    end = max(reversed(order), key=lambda v: dist[v])
    path = [end]
    while parent[path[-1]] is not None:
        path.append(parent[path[-1]])  # type: ignore[arg-type]
    return path[::-1]


def assign_columns(order: list[str], main: list[str], preds: dict[str, list[str]],
                   succs: dict[str, list[str]]) -> dict[str, int]:
    """Main path: one column each. Others: centred in the slack between their neighbours."""
    col = {v: i for i, v in enumerate(main)}
    asap: dict[str, int] = {}
    for v in order:
        asap[v] = max((asap[p] + 1 for p in preds[v]), default=0)
    end = main[-1]
    down: dict[str, int] = {end: 0}
    for v in reversed(order):
        if v == end:
            continue
        reach = [down[s] + 1 for s in succs[v] if s in down]
        if reach:
            down[v] = max(reach)
    last = len(main) - 1
    for v in order:
        if v in col:
            continue
        lo = max((col[p] + 1 for p in preds[v]), default=0)
        target = asap[v]
        if v in down:
            alap = max(asap[v], last - down[v])
            target = asap[v] + (alap - asap[v]) // 2
        col[v] = max(target, lo)
    return col


@dataclass
class Chain:
    """Off-main items drawn in one lane, bridging columns lo..hi."""

    items: list[str]
    lo: int
    hi: int
    lane: int = 0


def make_chains(order: list[str], main: list[str], col: dict[str, int],
                preds: dict[str, list[str]], succs: dict[str, list[str]]) -> list[Chain]:
    """Cover the off-main items with chains (each follows first successors greedily)."""
    on_main = set(main)
    taken: set[str] = set()
    chains: list[Chain] = []
    for v in order:
        if v in on_main or v in taken:
            continue
        run = [v]
        taken.add(v)
        while True:
            nxt = [s for s in succs[run[-1]] if s not in on_main and s not in taken]
            if not nxt:
                break
            run.append(nxt[0])
            taken.add(nxt[0])
        lo = min([col[v]] + [col[p] for x in run for p in preds[x]])
        hi = max([col[run[-1]]] + [col[s] for x in run for s in succs[x]])
        chains.append(Chain(run, lo, hi))
    return chains


def skip_edges(edges: Iterable[tuple[str, str]], main: list[str],
               col: dict[str, int]) -> list[tuple[str, str]]:
    """Edges that jump over main-path items (residual and U-Net skips), shortest first."""
    on_main = set(main)
    skips = [(u, v) for u, v in edges if u in on_main and v in on_main and col[v] - col[u] > 1]
    return sorted(skips, key=lambda e: (col[e[1]] - col[e[0]], col[e[0]]))


def assign_lanes(chains: list[Chain]) -> int:
    """First-fit lanes -1, -2, … so that no two chains in a lane share a column interval."""
    lanes: list[list[Chain]] = []
    for ch in sorted(chains, key=lambda c: (c.lo, -(c.hi - c.lo))):
        for k, lane in enumerate(lanes):
            if all(ch.hi < o.lo or o.hi < ch.lo for o in lane):
                lane.append(ch)
                ch.lane = -(k + 1)
                break
        else:
            lanes.append([ch])
            ch.lane = -len(lanes)
    return len(lanes)


def u_levels(main: list[str], items: dict[str, Item], chains: list[Chain],
             skips: list[tuple[str, str]]) -> list[int] | None:
    """Resolution levels along the main path if the model is a U-Net-like encoder–decoder:
    no branch items, resolution going down then up by at least two halvings, and skips
    that join equal levels across the bottom."""
    if chains or not skips:
        return None
    hs: list[int | None] = [items[v].dims.h if items[v].dims.spatial else None for v in main]
    known = [h for h in hs if h]
    if not known:
        return None
    top = max(known)
    levels: list[int] = []
    prev = round(math.log2(top / known[0]))
    for h in hs:
        prev = round(math.log2(top / h)) if h else prev
        levels.append(prev)
    deepest = max(levels)
    if deepest < 2:
        return None
    first, last = levels.index(deepest), len(levels) - 1 - levels[::-1].index(deepest)
    if any(levels[i] > levels[i + 1] for i in range(first)) or any(
            levels[i] < levels[i + 1] for i in range(last, len(levels) - 1)):
        return None
    index = {v: i for i, v in enumerate(main)}
    for u, v in skips:
        if levels[index[u]] != levels[index[v]] or index[u] > first or index[v] < last:
            return None
    return levels


# -- group brackets --------------------------------------------------------------------


@dataclass
class Bracket:
    """A group (module) drawn as a labelled bracket over the items it holds."""

    path: tuple[str, ...]
    items: list[str]
    text: str
    row: int = 0
    x_lo: float = 0.0
    x_hi: float = 0.0
    y: float = 0.0
    below: bool = False  # opens upwards with its label under the line (U layout)

    @property
    def label(self) -> Label:
        if self.below:
            return Label(self.text, (self.x_lo + self.x_hi) / 2, self.y - 0.05, "north", "group")
        return Label(self.text, (self.x_lo + self.x_hi) / 2, self.y + 0.05, "south", "group")

    def path_points(self) -> list[Point]:
        tick = 0.12 if self.below else -0.12
        return [(self.x_lo, self.y + tick), (self.x_lo, self.y), (self.x_hi, self.y),
                (self.x_hi, self.y + tick)]


def shown_groups(graph: Graph, ig: ItemGraph, main: list[str],
                 row_of: dict[str, int] | None = None) -> list[Bracket]:
    """Brackets for groups of depth 1 and 2 that hold at least two items, not all of them,
    and a contiguous run of the main path; in a U layout only groups within one level. A
    group overlapping an earlier one of the same depth, or wrapping exactly its parent's
    items, is left out."""
    members: dict[tuple[str, ...], list[str]] = {}
    for item in ig.items.values():
        node = graph.nodes.get(item.node_ids[0]) if item.node_ids else None
        if node is None:
            continue
        for depth in (1, 2):
            if len(node.group) >= depth:
                members.setdefault(node.group[:depth], []).append(item.id)
    on_main = {v: i for i, v in enumerate(main)}
    out: list[Bracket] = []
    spans: dict[int, list[tuple[int, int]]] = {1: [], 2: []}
    for path, ids in members.items():
        if not 2 <= len(ids) < len(ig.items):
            continue
        if len(path) == 2 and members.get(path[:1]) == ids:
            continue  # a wrapper (e.g. a Sequential) holding exactly its parent's layers
        idx = [on_main[i] for i in ids if i in on_main]
        if not idx or (row_of is not None and len({row_of.get(i) for i in ids}) > 1):
            continue
        span = (min(idx), max(idx))
        if any(not (span[1] < lo or hi < span[0]) for lo, hi in spans[len(path)]):
            continue
        if span[1] - span[0] + 1 != len(idx):
            continue  # not contiguous along the main path: a bracket would claim others
        spans[len(path)].append(span)
        group = graph.groups.get(path)
        name = group.display_name if group else path[-1]
        parent = graph.groups.get(path[:-1]) if len(path) > 1 else None
        if parent is not None and name.startswith(parent.display_name + ".") \
                and not name[len(parent.display_name) + 1:].isdigit():
            name = name[len(parent.display_name) + 1:]
        out.append(Bracket(path, ids, clean(group_text(name, group.class_name if group else ""),
                                            40)))
    inner = [b for b in out if len(b.path) == 2]
    for b in out:  # an outer bracket goes a row further out only over an inner one
        b.row = 1 if len(b.path) == 1 and any(i.path[0] == b.path[0] for i in inner) else 0
    return out


def group_text(name: str, class_name: str) -> str:
    if class_name and class_name != name and class_name not in _PLAIN_CONTAINERS:
        return f"{name} · {class_name}"
    return name


def captions(graph: Graph, ig: ItemGraph, brackets: list[Bracket]) -> None:
    """Shorten item names by the label of the deepest bracket that encloses them (or the
    next one out when that would leave a bare number): ``layer1.0.conv1`` under the
    ``layer1.0`` bracket is ``conv1``; ``features.0`` under ``features`` stays."""
    prefixes: dict[str, list[str]] = {}
    for b in sorted(brackets, key=lambda b: -len(b.path)):
        group = graph.groups.get(b.path)
        label = group.display_name if group else b.path[-1]
        for i in b.items:
            prefixes.setdefault(i, []).append(label + ".")
    for item in ig.items.values():
        if "–" in item.full_name:
            continue  # a rolled run keeps its whole name ("layer1.0–layer1.2")
        for p in prefixes.get(item.id, []):
            rest = item.full_name[len(p):] if item.full_name.startswith(p) else ""
            if rest and not rest.isdigit():
                item.name = tail_name(rest)
                break


# -- the whole figure ------------------------------------------------------------------


def layout_figure(graph: Graph, *, legend: bool = True, title: str | None = None,
                  u_shape: bool = True, groups: bool = True, labels: bool = True,
                  spacing: float = 1.0) -> Figure:
    """Lay out ``graph`` as a 3D-box figure (see the module docstring).

    ``labels`` False leaves out dimension labels and captions (``×N`` stays); ``spacing``
    multiplies the gaps between columns and rows.
    """
    if not 0.2 <= spacing <= 10:
        raise NetdrawError(f"--spacing must be between 0.2 and 10, not {spacing:g}")
    gap, lane_gap = GAP * spacing, LANE_GAP * spacing
    ig = build_items(graph)
    if not ig.items:
        raise NetdrawError("the model has no layers to draw (only inputs, outputs or "
                           "reshapes); check that the model file is complete")
    order = list(ig.items)
    preds, succs = ig.preds(), ig.succs()
    main = longest_path(order, preds)
    col = assign_columns(order, main, preds, succs)
    chains = make_chains(order, main, col, preds, succs)
    skips = skip_edges(ig.edges, main, col)
    levels = u_levels(main, ig.items, chains, skips) if u_shape else None
    assign_lanes(chains)
    index = {v: i for i, v in enumerate(main)}
    level_of = {v: levels[index[v]] for v in main} if levels is not None else None
    brackets = shown_groups(graph, ig, main, level_of) if groups else []
    captions(graph, ig, brackets)
    glyphs = {v: make_glyph(ig.items[v], labels) for v in order}
    lane_of = {v: 0 for v in main}
    for ch in chains:
        for v in ch.items:
            lane_of[v] = ch.lane
    for v, g in glyphs.items():
        g.col, g.lane = col[v], lane_of[v]

    # Columns: wide enough for every glyph in them and its labels.
    ncols = max(col.values()) + 1
    widths = [0.0] * ncols
    local = {v: _local_extent(g) for v, g in glyphs.items()}
    for v, g in glyphs.items():
        x_lo, _, x_hi, _ = local[v]
        widths[g.col] = max(widths[g.col], x_hi - x_lo)
    xs = [0.0] * ncols
    for c in range(1, ncols):
        xs[c] = xs[c - 1] + widths[c - 1] + gap

    # Rows: lanes (flat) or resolution levels (U), top row at y = 0; in a U the brackets
    # hang under their level, so each level reserves room for them.
    if level_of is not None:
        row_of = dict(level_of)
        rows_below = {r: 0 for r in row_of.values()}
        for b in brackets:
            r = row_of[b.items[0]]
            rows_below[r] = max(rows_below[r], b.row + 1)
        for v in row_of:
            x_lo, y_lo, x_hi, y_hi = local[v]
            local[v] = (x_lo, y_lo - BRACKET_ROW * rows_below[row_of[v]], x_hi, y_hi)
        arcs_per_row: dict[int, int] = {}
        for u, _ in skips:
            arcs_per_row[row_of[u]] = arcs_per_row.get(row_of[u], 0) + 1
        rows = sorted(set(row_of.values()))
        ys = _stack_rows(rows, row_of, local, lambda r: ARC_MARGIN + 0.15 +
                         ARC_STEP * arcs_per_row.get(r, 0), lane_gap)
    else:
        row_of = dict(lane_of)
        rows = sorted(set(row_of.values()), reverse=True)
        ys = _stack_rows(rows, row_of, local, lambda r: 0.0, lane_gap)
    for v, g in glyphs.items():
        x_lo, _, x_hi, _ = local[v]
        dx = xs[g.col] + (widths[g.col] - (x_hi - x_lo)) / 2 - x_lo
        _shift_glyph(g, dx, ys[row_of[v]])

    gaps = [xs[c] + widths[c] + gap / 2 for c in range(ncols)]
    routes = _route(ig, glyphs, main, skips, gaps)
    fig = Figure([glyphs[v] for v in order], routes, [], None,
                 "u" if levels is not None else "flat", main, ig)
    if fig.mode == "u":
        _hang_brackets(glyphs, brackets)
    else:
        _place_brackets(fig, glyphs, brackets)
    fig.brackets = brackets
    if legend:
        fig.legend = _legend(fig)
    if title:
        x0, _, x1, y1 = fig.bounds()
        fig.title = Label(clean(title, 100), (x0 + x1) / 2, y1 + 0.3, "south", "title")
    return fig


def _place_brackets(fig: Figure, glyphs: dict[str, Glyph], brackets: list[Bracket]) -> None:
    """Brackets go above everything under them: row 0 first, then row 1 above those."""
    for row in (0, 1):
        for b in (b for b in brackets if b.row == row):
            members = [glyphs[i] for i in b.items]
            b.x_lo = min(g.x0 for g in members) + 0.05
            b.x_hi = max(g.x0 + g.width for g in members) - 0.05
            top = max(g.top() for g in fig.glyphs
                      if g.x0 < b.x_hi + 0.3 and g.x0 + g.width > b.x_lo - 0.3)
            for r in fig.routes:
                for (xa, ya), (xb, yb) in zip(r.points, r.points[1:], strict=False):
                    if min(xa, xb) <= b.x_hi and max(xa, xb) >= b.x_lo:
                        top = max(top, ya, yb)
            for g in fig.glyphs:
                for lb in g.labels:
                    if lb.font == "repeat" and b.x_lo - 0.3 < lb.x < b.x_hi + 0.3:
                        top = max(top, geo.bbox(lb.polygon())[3])
            for o in brackets:
                if o.row < row and o.x_hi > b.x_lo and o.x_lo < b.x_hi:
                    top = max(top, geo.bbox(o.label.polygon())[3])
            b.y = top + 0.3


def _hang_brackets(glyphs: dict[str, Glyph], brackets: list[Bracket]) -> None:
    """U layout: brackets open upwards under their items' labels, label below the line."""
    for b in brackets:
        members = [glyphs[i] for i in b.items]
        b.x_lo = min(g.x0 for g in members) + 0.05
        b.x_hi = max(g.x0 + g.width for g in members) - 0.05
        low = min(geo.bbox(p)[1] for g in members for p in g.extent_polygons())
        b.y = low - 0.2 - BRACKET_ROW * b.row
        b.below = True


def _stack_rows(rows: list[int], row_of: dict[str, int],
                local: dict[str, tuple[float, float, float, float]],
                extra: object, lane_gap: float = LANE_GAP) -> dict[int, float]:
    """y of each row; ``rows`` are listed from the top one (at y=0) downwards."""
    above: dict[int, float] = {}
    below: dict[int, float] = {}
    for v, r in row_of.items():
        _, y_lo, _, y_hi = local[v]
        above[r] = max(above.get(r, 0.15), y_hi)
        below[r] = max(below.get(r, 0.15), -y_lo)
    ys: dict[int, float] = {}
    y = 0.0
    prev = None
    for r in rows:
        if prev is not None:
            y -= below.get(prev, 0.15) + lane_gap + above.get(r, 0.15) + extra(r)  # type: ignore[operator]
        ys[r] = y
        prev = r
    return ys


def _route(ig: ItemGraph, glyphs: dict[str, Glyph], main: list[str],
           skips: list[tuple[str, str]], gaps: list[float]) -> list[Route]:
    """Polylines for every item edge (see the module docstring for the rules)."""
    main_next = {main[i]: main[i + 1] for i in range(len(main) - 1)}
    occupied = {(g.col, g.lane) for g in glyphs.values()}
    routes: dict[tuple[str, str], Route] = {}
    arcs: list[tuple[int, int, float]] = []

    def column_free(c: int, lane_a: int, lane_b: int) -> bool:
        lo, hi = sorted((lane_a, lane_b))
        return not any((c, k) in occupied for k in range(lo + 1, hi))

    for u, v in skips:  # shortest first, so longer arcs pass over shorter ones
        routes[(u, v)] = Route(_arc(glyphs[u], glyphs[v], glyphs, arcs), u, v, True)
    for u, v in ig.edges:
        if (u, v) in routes:
            continue
        a, b = glyphs[u], glyphs[v]
        skip = main_next.get(u) != v
        ya, yb = a.yc, b.yc
        if abs(ya - yb) < 1e-9 and (b.col == a.col + 1 or not _between(glyphs, a, b)):
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
        elif a.shape == "ball" and a.lane != lane and column_free(a.col, a.lane, lane):
            x = a.cx + PORT
            pts += [a.south(x) if travel < ya else a.north(x), (x, travel)]
        else:
            gx = gaps[a.col] + PORT
            pts += [a.east(ya), (gx, ya), (gx, travel)]
        if abs(travel - yb) < 1e-9:
            pts.append(b.west(yb))
        elif b.shape == "ball" and b.lane != lane and column_free(b.col, lane, b.lane):
            x = b.cx - PORT
            pts += [(x, travel), b.south(x) if travel < yb else b.north(x)]
        else:
            gx = gaps[b.col - 1] - PORT
            pts += [(gx, travel), (gx, yb), b.west(yb)]
        routes[(u, v)] = Route(_tidy(pts), u, v, skip)
    return [routes[e] for e in ig.edges]


def _between(glyphs: dict[str, Glyph], a: Glyph, b: Glyph) -> bool:
    return any(g.lane == a.lane and a.col < g.col < b.col and abs(g.yc - a.yc) < 1e-9
               for g in glyphs.values())


def _arc(a: Glyph, b: Glyph, glyphs: dict[str, Glyph],
         arcs: list[tuple[int, int, float]]) -> list[Point]:
    """A skip over everything between two items: up, across, down into the target's top."""
    top = max(g.top() for g in glyphs.values() if a.col <= g.col <= b.col)
    top = max([top] + [geo.bbox(lb.polygon())[3] for g in glyphs.values()
                       if a.col <= g.col <= b.col for lb in g.labels if lb.font == "repeat"])
    height = top + ARC_MARGIN
    while any(lo < b.col and a.col < hi and abs(h - height) < ARC_STEP * 0.9
              for lo, hi, h in arcs):
        height += ARC_STEP
    arcs.append((a.col, b.col, height))
    xa, xb = a.cx + PORT, b.cx - PORT
    return [a.north(xa), (xa, height), (xb, height), b.north(xb)]


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


# -- legend ----------------------------------------------------------------------------

_LEGEND_ORDER = ["input", "conv", "deconv", "pool", "upsample", "dense", "matmul", "norm",
                 "act", "attention", "embedding", "recurrent", "block", "other", "add",
                 "multiply", "concat", "softmax"]
_SHORT = {"conv": "Conv", "deconv": "Transp. conv", "dense": "FC", "matmul": "MatMul",
          "block": "Block", "upsample": "Up-sampling"}


def legend_text(key: tuple[str, str | None]) -> str:
    cat, band = key
    if band:
        return f"{_SHORT.get(cat, CATEGORIES[cat][1])} + {band}"
    return CATEGORIES[cat][1]


def _legend(fig: Figure) -> list[LegendEntry]:
    keys = sorted({g.item.legend_key for g in fig.glyphs},
                  key=lambda k: (_LEGEND_ORDER.index(k[0]), k[1] or ""))
    x_min, y_min, x_max, _ = fig.bounds()
    wrap = max(x_max - x_min, 12.0)
    x, y = x_min, y_min - 0.7
    out: list[LegendEntry] = []
    for key in keys:
        cat, band = key
        sample = Item("legend", cat, [], "", "", Dims(), band=band)
        shape = CATEGORIES[cat][0]
        if shape == "ball":
            g = Glyph(sample, "ball", r=0.2)
        elif shape == "bar":
            g = Glyph(sample, "box", t=0.16, h=0.6, d=0.16)
        else:
            g = Glyph(sample, "box", t=0.32, h=0.5, d=0.45)
        if band and cat in BANDABLE:
            g.band = 0.4 * g.t
        text = clean(legend_text(key), 40)
        w = g.width + 0.12 + text_width(text, "legend")
        if x > x_min and x + w > x_min + wrap:
            x, y = x_min, y - 0.95
        g.x0 = x
        g.yc = y - 0.35
        out.append(LegendEntry(g, Label(text, x + g.width + 0.12, g.yc + 0.05, "west",
                                        "legend"), key))
        x += w + 0.55
    return out
