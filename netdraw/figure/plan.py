"""The structure of a figure, before any size is known: which items form the main path,
which column and lane each item takes, which edges are skips, whether the figure is a U,
where the main path may be wrapped into rows, and which groups get a bracket.

- The **main path** is a longest chain of items; it runs left to right, one column per
  item. Every other item belongs to a **branch chain** drawn in a lane below the main
  path, in the slack between the columns of its neighbours (a source, such as a second
  input, sits right before its first consumer). Lanes are handed out first-fit over
  column intervals, so two branches never share a stretch of lane.
- A **skip** is an edge between main-path items that jumps over others (ResNet identity
  shortcuts, DenseNet and U-Net concatenations).
- An encoder–decoder whose main path goes down in resolution by at least two halvings and
  back up, with no branch items and every skip joining equal resolutions across the
  bottom (a U-Net), is drawn as a **U**: each item at the height of its resolution level.
- A **clean cut** is a place between two main-path items where exactly one edge crosses
  (the main path's own): the main path can be wrapped into a new row there.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from netdraw.figure.items import Item, ItemGraph
from netdraw.ir import Graph

#: Container classes that say nothing about what a group computes (not printed).
PLAIN_CONTAINERS = ("Block", "Sequential", "ModuleList", "ModuleDict", "Functional", "Model")


@dataclass
class Chain:
    """Off-main items drawn in one lane, bridging columns lo..hi."""

    items: list[str]
    lo: int
    hi: int
    lane: int = 0


@dataclass
class Bracket:
    """A group drawn as a labelled bracket over (or under) the items it holds."""

    path: tuple[str, ...]
    items: list[str]
    name: str
    class_name: str
    row: int = 0  # 0: next to its items; 1: one step further out (an outer group)


@dataclass
class Plan:
    """Main path, columns, lanes, skips, U levels and clean cuts of an item graph."""

    ig: ItemGraph
    main: list[str]
    col: dict[str, int]
    chains: list[Chain]
    lane: dict[str, int]  # 0 on the main path, -1, -2, … below it
    skips: list[tuple[str, str]]
    levels: list[int] | None  # U layout: resolution level of each main-path item
    cuts: list[int] = field(default_factory=list)  # main index i: may wrap after main[i]

    @property
    def order(self) -> list[str]:
        return list(self.ig.items)

    @property
    def u_shaped(self) -> bool:
        return self.levels is not None

    def level_of(self) -> dict[str, int]:
        assert self.levels is not None
        return {v: self.levels[i] for i, v in enumerate(self.main)}

    def rows_for(self, breaks: Iterable[int]) -> dict[str, int]:
        """Item -> row when the main path is wrapped after each main index in ``breaks``."""
        starts = sorted(b + 1 for b in breaks)
        return {v: sum(1 for s in starts if self.col[v] >= s) for v in self.ig.items}


def make_plan(ig: ItemGraph, u_shape: bool = True) -> Plan:
    """The structure of ``ig``'s figure (see the module docstring)."""
    order = list(ig.items)
    preds, succs = ig.preds(), ig.succs()
    main = longest_path(order, preds)
    col = assign_columns(order, main, preds, succs)
    chains = make_chains(order, main, col, preds, succs)
    skips = skip_edges(ig.edges, main, col)
    levels = u_levels(main, ig.items, chains, skips) if u_shape else None
    assign_lanes(chains)
    lane = {v: 0 for v in main}
    for ch in chains:
        for v in ch.items:
            lane[v] = ch.lane
    plan = Plan(ig, main, col, chains, lane, skips, levels)
    if levels is None:
        plan.cuts = clean_cuts(ig.edges, main, col)
    return plan


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
    """Main path: one column each. Others: centred in the slack between their neighbours;
    an item without inputs right before its first consumer."""
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
            target = alap if not preds[v] else asap[v] + (alap - asap[v]) // 2
        col[v] = max(target, lo)
    return col


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
            levels[i] < levels[i + 1] for i in range(last, len(levels) - 1)) or any(
            levels[i] != deepest for i in range(first, last)):
        return None  # not down, then along the bottom, then up (a W is no U)
    index = {v: i for i, v in enumerate(main)}
    for u, v in skips:
        if levels[index[u]] != levels[index[v]] or index[u] > first or index[v] < last:
            return None
    return levels


def clean_cuts(edges: Iterable[tuple[str, str]], main: list[str],
               col: dict[str, int]) -> list[int]:
    """Main indices ``i`` where only the edge ``main[i] -> main[i+1]`` crosses between
    columns ``≤ i`` and ``> i``, leaving at least two main items on each side."""
    n = len(main)
    crossing = [0] * (max(col.values(), default=0) + 2)  # +1 / -1 where an edge's span
    for u, v in edges:
        a, b = sorted((col[u], col[v]))
        if b > a:
            crossing[a] += 1
            crossing[b] -= 1  # of cut positions starts and ends
    out, running = [], 0
    for i in range(n - 1):
        running += crossing[i]
        if running == 1 and 1 <= i <= n - 3:
            out.append(i)
    return out


# -- group brackets --------------------------------------------------------------------


def shown_groups(graph: Graph, ig: ItemGraph, main: list[str], depths: tuple[int, ...],
                 row_of: Callable[[str], object] | None = None,
                 col: dict[str, int] | None = None) -> list[Bracket]:
    """Brackets for groups of the given depths that hold at least two items, not all of
    them, and a contiguous run of the main path, all in one row (``row_of``). A group
    overlapping an earlier one of the same depth, wrapping exactly its parent's items, or
    with an item off the main path outside its main items' columns (``col``: a branch that
    starts far before the group, whose bracket would span other groups), is left out."""
    members: dict[tuple[str, ...], list[str]] = {}
    for item in ig.items.values():
        for depth in depths:
            if len(item.node.group) >= depth:
                members.setdefault(item.node.group[:depth], []).append(item.id)
    on_main = {v: i for i, v in enumerate(main)}
    out: list[Bracket] = []
    spans: dict[int, list[tuple[int, int]]] = {d: [] for d in depths}
    for path, ids in members.items():
        if not 2 <= len(ids) < len(ig.items):
            continue
        if len(path) > 1 and members.get(path[:-1]) == ids:
            continue  # a wrapper (e.g. a Sequential) holding exactly its parent's layers
        idx = [on_main[i] for i in ids if i in on_main]
        if not idx or (row_of is not None and len({row_of(i) for i in ids}) > 1):
            continue
        span = (min(idx), max(idx))
        if any(not (span[1] < lo or hi < span[0]) for lo, hi in spans[len(path)]):
            continue
        if span[1] - span[0] + 1 != len(idx):
            continue  # not contiguous along the main path: a bracket would claim others
        if col is not None and any(not col[main[span[0]]] <= col[i] <= col[main[span[1]]]
                                   for i in ids if i not in on_main):
            continue  # a branch of the group reaches outside it: the same
        spans[len(path)].append(span)
        group = graph.groups.get(path)
        name = group.display_name if group else path[-1]
        parent = graph.groups.get(path[:-1]) if len(path) > 1 else None
        if parent is not None and name.startswith(parent.display_name + ".") \
                and not name[len(parent.display_name) + 1:].isdigit():
            name = name[len(parent.display_name) + 1:]
        out.append(Bracket(path, ids, name, group.class_name if group else ""))
    deepest = max(depths)
    inner = [b for b in out if len(b.path) == deepest and deepest > 1]
    for b in out:  # an outer bracket goes a row further out only over an inner one
        b.row = 1 if len(b.path) < deepest and any(i.path[0] == b.path[0] for i in inner) \
            else 0
    return out


def group_text(name: str, class_name: str) -> str:
    """``layer1.0 · Bottleneck``; containers (``Sequential``…) are not named."""
    if class_name and class_name != name and class_name not in PLAIN_CONTAINERS:
        return f"{name} · {class_name}"
    return name
