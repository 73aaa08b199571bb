"""Estimate a drawing's proportions from the graph, and how many columns to wrap it into.

A layered top-to-bottom drawing is about ``ranks × node height`` tall and ``widest rank ×
node width`` wide. A long chain is far taller than wide; wrapping it into ``k`` side-by-side
columns divides the height by ``k`` and multiplies the width by ``k``. Backends that draw
top-to-bottom may follow the suggested column count stored in ``meta["view"]["columns"]``.
"""

from __future__ import annotations

import math

from netdraw.ir import Graph

#: Inches per node box in a top-to-bottom Graphviz drawing, spacing and edge labels included.
NODE_WIDTH = 2.1
NODE_HEIGHT = 0.95
#: Wrap until the drawing's longer side is at most this many times the shorter.
TARGET_ASPECT = 2.0
MAX_ASPECT = 4.0


def ranks(graph: Graph) -> dict[str, int]:
    """Longest-path layer of each node (sources at 0)."""
    rank = dict.fromkeys(graph.nodes, 0)
    succ = graph.successors()
    for nid in graph.nodes:  # nodes are in topological order
        for d in succ[nid]:
            rank[d] = max(rank[d], rank[nid] + 1)
    return rank


def extent(graph: Graph) -> tuple[int, int]:
    """(number of layers, nodes in the widest layer)."""
    rank = ranks(graph)
    if not rank:
        return 0, 0
    counts: dict[int, int] = {}
    for r in rank.values():
        counts[r] = counts.get(r, 0) + 1
    return max(rank.values()) + 1, max(counts.values())


def aspect(layers: int, width: int, columns: int = 1) -> float:
    """Longer side / shorter side of the estimated drawing."""
    if not layers:
        return 1.0
    height = math.ceil(layers / columns) * NODE_HEIGHT
    wide = columns * width * NODE_WIDTH
    return max(height, wide) / min(height, wide)


def columns_for(graph: Graph) -> tuple[int, float]:
    """(columns, estimated aspect): the fewest columns that bring a tall drawing to about
    :data:`TARGET_ASPECT`, or the best any column count can do."""
    layers, width = extent(graph)
    best = (1, aspect(layers, width, 1))
    if layers * NODE_HEIGHT <= width * NODE_WIDTH:
        return best  # already wider than tall: wrapping only makes it wider
    for k in range(2, max(2, layers // 3) + 1):
        value = aspect(layers, width, k)
        if value < best[1] - 1e-9:
            best = (k, value)
        if value <= TARGET_ASPECT:
            break
    return best
