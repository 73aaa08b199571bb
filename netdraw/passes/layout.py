"""Estimate a drawing's proportions from the graph, and how to wrap a tall one into columns.

The estimate follows what Graphviz ``dot`` does with the DOT backend's boxes: nodes sit on
longest-path ranks; a box is as wide as its longest label line and as tall as its lines; a
rank is as tall as its tallest box plus the rank gap (doubled by the edge-shape labels,
which ``dot`` places on ranks of their own); a rank is as wide as its boxes plus the edges
that pass it on their way to a later rank (a skip connection, a U-Net's long bridges), each
with its shape label; nested clusters add a margin per level. A long chain is far taller
than wide; cutting it into ``k`` side-by-side columns divides the height by about ``k``
and multiplies the width by ``k``. A column break is only made between top-level items
(root nodes and top-level groups) where the drawing can be cut cleanly: everything before
lies above everything after, and a single tensor crosses. Backends drawing top-to-bottom
follow ``meta["view"]["columns"]`` with :func:`split`.

Every function here is O(N + E) for N nodes and E edges (:func:`columns_for` tries a
bounded number of column counts).
"""

from __future__ import annotations

import math

from netdraw.describe import display_name, key_attrs, output_spec
from netdraw.ir import Graph, Node

#: Points per character of the DOT backend's fonts (Helvetica 11 pt bold names, 9 pt
#: details), box margins, the gaps between ranks and between boxes, cluster margins.
NAME_CHAR = 6.6
DETAIL_CHAR = 5.0
LABEL_CHAR = 4.4
BOX_PAD_X = 20.0
BOX_PAD_Y = 10.0
LINE_NAME = 14.0
LINE_DETAIL = 12.0
RANK_GAP = 25.0
LABEL_RANK = 18.0
NODE_GAP = 18.0
CLUSTER_PAD = 16.0
#: Kept for callers that think in whole boxes: inches per box, spacing included.
NODE_WIDTH = 2.1
NODE_HEIGHT = 0.95
#: A drawing more than MAX_ASPECT times taller than wide is wrapped into columns until its
#: longer side is about TARGET_ASPECT times the shorter.
TARGET_ASPECT = 1.5
MAX_ASPECT = 4.0
_MAX_LABEL = 60


def box_size(node: Node, graph: Graph | None = None) -> tuple[float, float]:
    """(width, height) in points of the box the DOT backend draws for ``node``."""
    name = display_name(node, graph)[:_MAX_LABEL]
    widths = [len(name) * NAME_CHAR]
    height = LINE_NAME
    detail = node.op_type
    attrs = key_attrs(node)
    if node.attrs.get("repeat") and node.kind == "block":
        detail = f"{detail} ×{node.attrs['repeat']}"
    elif attrs:
        detail = f"{detail} · {attrs}"
    if detail and detail != name:
        widths.append(min(len(detail), _MAX_LABEL) * DETAIL_CHAR)
        height += LINE_DETAIL
    spec = output_spec(node)
    facts = len(spec.format_shape()) if spec is not None else 0
    if node.params:
        facts += 12
    if facts:
        widths.append(min(facts, _MAX_LABEL) * DETAIL_CHAR)
        height += LINE_DETAIL
    return max(widths) + BOX_PAD_X, height + BOX_PAD_Y


def ranks(graph: Graph) -> dict[str, int]:
    """Longest-path layer of each node (sources at 0)."""
    rank = dict.fromkeys(graph.nodes, 0)
    succ = graph.successors()
    for nid in graph.nodes:  # nodes are in topological order
        for d in succ[nid]:
            rank[d] = max(rank[d], rank[nid] + 1)
    return rank


def top_items(graph: Graph) -> list[list[str]]:
    """Node ids grouped by top-level item (a root node or a top-level group), in order.

    A group holding more than half of the nodes (a ``transformer`` module around the whole
    stack, ``model`` around everything) is looked into: its children are items too, so a
    tall drawing can be wrapped between them. O(N·depth).
    """
    path: tuple[str, ...] = ()
    total = len(graph.nodes)
    while True:
        items = _items_under(graph, path)
        sizes = {key: len(ids) for key, ids in items}
        dominant = [key for key, size in sizes.items()
                    if isinstance(key, tuple) and size * 2 > total]
        if not dominant:
            return [ids for _, ids in items]
        inner = _items_under(graph, dominant[0])
        if sum(1 for key, _ in inner if _inside(key, dominant[0])) < 2:
            return [ids for _, ids in items]
        path = dominant[0]


def _inside(key: object, path: tuple[str, ...]) -> bool:
    return isinstance(key, tuple) and len(key) > len(path) or isinstance(key, str)


def _items_under(graph: Graph, path: tuple[str, ...]) -> list[tuple[object, list[str]]]:
    """Items (key, node ids) with ``path``'s children split apart: a child group of ``path``
    or a node directly in it is an item; everything else is grouped by its top-level
    group, as before."""
    items: list[tuple[object, list[str]]] = []
    where: dict[object, int] = {}
    depth = len(path)
    for nid, node in graph.nodes.items():
        group = node.group
        if group[:depth] == path:
            key: object = group[:depth + 1] if len(group) > depth else nid
        else:
            key = group[:1] if group else nid
        if key not in where:
            where[key] = len(items)
            items.append((key, []))
        items[where[key]][1].append(nid)
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


class _Sizes:
    """Box sizes and edge label widths of a graph, measured once for every column count
    tried."""

    def __init__(self, graph: Graph) -> None:
        self.box = {nid: box_size(node, graph) for nid, node in graph.nodes.items()}
        widths: dict[object, float] = {}
        self.label = []
        for e in graph.edges:
            shape = e.tensor.shape
            width = widths.get(shape)
            if width is None:
                width = widths[shape] = len(e.tensor.format_shape()) * LABEL_CHAR + NODE_GAP
            self.label.append(width)
        self.labelled = any(e.tensor.shape for e in graph.edges)


def estimate(graph: Graph, column: dict[str, int] | None = None,
             rank: dict[str, int] | None = None, sizes: _Sizes | None = None) -> float:
    """Longer side / shorter side of the drawing with the given column assignment."""
    if not graph.nodes:
        return 1.0
    rank = ranks(graph) if rank is None else rank
    width, height = extent(graph, column, rank, sizes)
    return max(height, width) / min(height, width)


def extent(graph: Graph, column: dict[str, int] | None = None,
           rank: dict[str, int] | None = None, sizes: _Sizes | None = None
           ) -> tuple[float, float]:
    """Estimated (width, height) in points of the top-to-bottom drawing."""
    rank = ranks(graph) if rank is None else rank
    sizes = sizes or _Sizes(graph)
    col = column or {}
    tall: dict[tuple[int, int], float] = {}
    wide: dict[tuple[int, int], float] = {}
    nested = 0
    for nid, node in graph.nodes.items():
        w, h = sizes.box[nid]
        key = (col.get(nid, 0), rank[nid])
        tall[key] = max(tall.get(key, 0.0), h)
        wide[key] = wide.get(key, -NODE_GAP) + w + NODE_GAP
        nested = max(nested, len(node.group))
    # Edges passing a rank of their column (difference arrays: O(E + ranks)).
    passing: dict[int, dict[int, float]] = {}
    labelled = sizes.labelled
    for e, label in zip(graph.edges, sizes.label, strict=True):
        c = col.get(e.src, 0)
        a, b = rank[e.src], rank[e.dst]
        if c != col.get(e.dst, 0) or b - a < 2:
            continue
        diff = passing.setdefault(c, {})
        diff[a + 1] = diff.get(a + 1, 0.0) + label
        diff[b] = diff.get(b, 0.0) - label
    gap = RANK_GAP + LABEL_RANK if labelled else RANK_GAP
    col_height: dict[int, float] = {}
    col_width: dict[int, float] = {}
    for (c, _), h in tall.items():
        col_height[c] = col_height.get(c, 0.0) + h + gap
    by_column: dict[int, set[int]] = {}
    for c, r in wide:
        by_column.setdefault(c, set()).add(r)
    for c, used in by_column.items():
        diff = passing.get(c, {})
        running = 0.0
        for r in sorted(used | set(diff)):
            running += diff.get(r, 0.0)
            if (c, r) in wide:
                col_width[c] = max(col_width.get(c, 0.0), wide[(c, r)] + running)
    margin = 2 * CLUSTER_PAD * nested
    width = sum(col_width.values()) + margin + NODE_GAP * (len(col_width) - 1)
    height = max(col_height.values()) + margin
    return width, height


def columns_for(graph: Graph) -> tuple[int, float]:
    """(columns, estimated aspect): the fewest columns that bring a tall drawing to about
    :data:`TARGET_ASPECT`, or the best the graph's clean cuts allow."""
    rank = ranks(graph) if graph.nodes else {}
    sizes = _Sizes(graph)
    best = (1, estimate(graph, rank=rank, sizes=sizes))
    layers = max(rank.values(), default=0) + 1
    if best[1] <= MAX_ASPECT or layers < 6:
        return best  # tall enough to read as one column: wrapping would only add jumps
    items = top_items(graph)
    cuts = clean_cuts(graph, rank, items)
    # Wrapping into k columns divides the aspect by about k², so few k need trying: the
    # first handful and those around the estimate.
    guess = math.ceil(math.sqrt(best[1] / TARGET_ASPECT))
    limit = max(2, math.ceil(layers / 3))
    near = {guess - 1, guess, guess + 1}
    candidates = sorted((near if guess > 7 else {*range(2, 7), *near}) & set(range(2, limit + 1)))
    for k in candidates:
        column = split(graph, k, rank, items, cuts)
        used = max(column.values()) + 1
        value = estimate(graph, column, rank, sizes)
        if value < best[1] - 1e-9 and used == k:
            best = (k, value)
        if value <= TARGET_ASPECT or used < k:
            break
    return best
