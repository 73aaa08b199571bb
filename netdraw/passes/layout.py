"""Estimate a drawing's proportions from the graph, and how to wrap a tall one into columns.

A layered top-to-bottom drawing is about ``layers × node height`` tall and ``widest layer ×
node width`` wide. A long chain is far taller than wide; cutting it into ``k`` side-by-side
columns divides the height by about ``k`` and multiplies the width by ``k``. A column break
is only made between top-level items (root nodes and top-level groups) where the drawing
can be cut cleanly: everything before lies above everything after, and a single tensor
crosses. Backends drawing top-to-bottom follow ``meta["view"]["columns"]`` with
:func:`split`.
"""

from __future__ import annotations

import math

from netdraw.ir import Graph

#: Inches per node box in a top-to-bottom Graphviz drawing, spacing and edge labels included.
NODE_WIDTH = 2.1
NODE_HEIGHT = 0.95
#: A drawing more than MAX_ASPECT times taller than wide is wrapped into columns until its
#: longer side is about TARGET_ASPECT times the shorter.
TARGET_ASPECT = 1.5
MAX_ASPECT = 4.0


def ranks(graph: Graph) -> dict[str, int]:
    """Longest-path layer of each node (sources at 0)."""
    rank = dict.fromkeys(graph.nodes, 0)
    succ = graph.successors()
    for nid in graph.nodes:  # nodes are in topological order
        for d in succ[nid]:
            rank[d] = max(rank[d], rank[nid] + 1)
    return rank


def top_items(graph: Graph) -> list[list[str]]:
    """Node ids grouped by top-level item (a root node or a top-level group), in order."""
    items: list[list[str]] = []
    where: dict[object, int] = {}
    for nid, node in graph.nodes.items():
        key: object = node.group[:1] if node.group else nid
        if key not in where:
            where[key] = len(items)
            items.append([])
        items[where[key]].append(nid)
    return items


def clean_cuts(graph: Graph, rank: dict[str, int], items: list[list[str]]) -> list[int]:
    """Indices ``i`` such that the drawing can break between item ``i`` and ``i + 1``."""
    n = len(items)
    if n < 2:
        return []
    item_of = {nid: i for i, item in enumerate(items) for nid in item}
    prefix_max, suffix_min = [], [0] * n
    running = -1
    for item in items:
        running = max(running, *(rank[x] for x in item))
        prefix_max.append(running)
    running = 1 << 30
    for i in range(n - 1, -1, -1):
        running = min(running, *(rank[x] for x in items[i]))
        suffix_min[i] = running
    # Distinct source nodes whose edges cross each cut (difference array over intervals).
    reach: dict[str, int] = {}
    for e in graph.edges:
        a, b = item_of[e.src], item_of[e.dst]
        if b > a:
            reach[e.src] = max(reach.get(e.src, a), b)
    diff = [0] * (n + 1)
    for src, last in reach.items():
        diff[item_of[src]] += 1
        diff[last] -= 1
    out, sources = [], 0
    for i in range(n - 1):
        sources += diff[i]
        if sources == 1 and prefix_max[i] < suffix_min[i + 1]:
            out.append(i)
    return out


def split(graph: Graph, columns: int, rank: dict[str, int] | None = None,
          items: list[list[str]] | None = None, cuts: list[int] | None = None
          ) -> dict[str, int]:
    """Node id -> column (0-based) for ``columns`` columns of about equal height; fewer
    when the graph cannot be cut that often. ``rank``, ``items`` and ``cuts`` may be passed
    in when already computed (see :func:`columns_for`)."""
    if columns <= 1 or not graph.nodes:
        return dict.fromkeys(graph.nodes, 0)
    rank = ranks(graph) if rank is None else rank
    items = top_items(graph) if items is None else items
    cuts = clean_cuts(graph, rank, items) if cuts is None else cuts
    total = max(rank.values()) + 1
    starts = {i: min(rank[x] for x in items[i + 1]) for i in cuts}
    # A column of one layer (the input alone, the output alone) is a jump for nothing.
    cuts = [c for c in cuts if 2 <= starts[c] <= total - 2]
    chosen: list[int] = []
    for j in range(1, columns):
        target = total * j / columns
        options = [c for c in cuts if not chosen or c > chosen[-1]]
        if not options:
            break
        best = min(options, key=lambda c: abs(starts[c] - target))
        if chosen and starts[best] - starts[chosen[-1]] < 2:
            continue
        chosen.append(best)
    out: dict[str, int] = {}
    column = 0
    chosen_set = set(chosen)
    for i, item in enumerate(items):
        for nid in item:
            out[nid] = column
        if i in chosen_set:
            column += 1
    return out


def estimate(graph: Graph, column: dict[str, int] | None = None,
             rank: dict[str, int] | None = None) -> float:
    """Longer side / shorter side of the drawing with the given column assignment."""
    if not graph.nodes:
        return 1.0
    rank = ranks(graph) if rank is None else rank
    low: dict[int, int] = {}
    high: dict[int, int] = {}
    counts: dict[tuple[int, int], int] = {}
    for nid, r in rank.items():
        c = column[nid] if column else 0
        low[c] = min(low.get(c, r), r)
        high[c] = max(high.get(c, r), r)
        counts[(c, r)] = counts.get((c, r), 0) + 1
    widest: dict[int, int] = {}
    for (c, _), v in counts.items():
        widest[c] = max(widest.get(c, 0), v)
    height = max(high[c] - low[c] + 1 for c in low) * NODE_HEIGHT
    width = sum(widest.values()) * NODE_WIDTH
    return max(height, width) / min(height, width)


def columns_for(graph: Graph) -> tuple[int, float]:
    """(columns, estimated aspect): the fewest columns that bring a tall drawing to about
    :data:`TARGET_ASPECT`, or the best the graph's clean cuts allow."""
    rank = ranks(graph) if graph.nodes else {}
    best = (1, estimate(graph, rank=rank))
    layers = max(rank.values(), default=0) + 1
    if best[1] <= MAX_ASPECT or layers < 6:
        return best  # tall enough to read as one column: wrapping would only add jumps
    items = top_items(graph)
    cuts = clean_cuts(graph, rank, items)
    # Wrapping into k columns divides the aspect by about k², so few k need trying: the
    # first handful and those around the estimate.
    guess = math.ceil(math.sqrt(best[1] / TARGET_ASPECT))
    limit = max(2, math.ceil(layers / 3))
    candidates = sorted({*range(2, 7), guess - 1, guess, guess + 1} & set(range(2, limit + 1)))
    for k in candidates:
        column = split(graph, k, rank, items, cuts)
        used = max(column.values()) + 1
        value = estimate(graph, column, rank)
        if value < best[1] - 1e-9 and used == k:
            best = (k, value)
        if value <= TARGET_ASPECT or used < k:
            break
    return best
