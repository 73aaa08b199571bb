"""Matching the nodes of graph A to the nodes of graph B.

The algorithm, in five passes (N, M nodes and E edges of the two graphs):

1. **Names.** Nodes with the same qualified name and the same kind are one layer.
   Names an exporter or Keras numbered (``node_Conv_12``, ``conv2d_40``) are qualified by
   the node's group path, since the number alone says nothing about the place; a name
   used by several nodes (a module called twice) pairs its uses in order. Graph inputs
   and outputs left over pair in order. O(N + M).
2. **Alignment by structure.** Both graphs' nodes are read in topological order. The
   name matches that keep the same order in both (the longest increasing subsequence,
   as in patience diff) cut the two sequences into stretches; each pair of stretches is
   aligned with three keys, from strict to weak: (a) kind, op type, attributes and
   shapes (across frameworks: kind, op family for activations/pools/norms, and
   layout-free shapes), (b) kind and output shape, (c) kind alone. With the strict key,
   keys unique in both stretches anchor them (again their longest increasing
   subsequence) and the pieces between the anchors recurse. At every key, a stretch
   pairs the equal runs at both ends (the start first) and recurses on the rest; what
   stays unaligned goes down to the next key. (Weaker keys never anchor on uniqueness:
   a layer's output shape alone would pair a widened block's new projection with the
   old block's first layer.) Stretches without any unique key are
   aligned by a weighted longest common subsequence (strict match 4, kind and output
   shape 2, kind 1): exact when the stretches' product is at most
   :data:`DP_CELLS` cells, else within a band of that many cells around the diagonal
   (relative positions stay close). O((N + M) log(N + M)) plus the bounded DP.
3. **Neighbours.** An unmatched node of A whose predecessor's (or successor's) partner
   has an unmatched successor (predecessor) of the same kind and output shape takes it:
   this catches parallel branches the two orders interleave differently. O(E).
4. **Renamed kinds.** Nodes still unmatched with the same qualified name but different
   kinds (a ``ReLU`` module replaced by a ``Softmax``) are one layer, changed.
5. **Consistency.** Merging each matched pair into one node must leave the union of the
   two graphs acyclic; on each cycle (an alignment that crossed itself, two layers that
   swapped places) one pair is undone per round, structural ones first. O(N + M + E)
   per round; rounds are rare (after 16, every pair on a cycle goes at once).

Heuristics: passes 2 and 3 guess. Two stretches between the same anchors are assumed to
be the same part of the model; equal layers are paired in order (a block inserted
between identical blocks is reported after them, as numbering also does); two layers of
the same kind at corresponding places are taken as one layer changed, not as one removed
and one added; the band limits how far apart (in relative position) a pair may be in very
long unanchored stretches. Names, when they agree, always win.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from netdraw.diff.compare import (
    FUNCTION_KINDS,
    Side,
    kind_class,
    op_family,
    shape_key,
)
from netdraw.ir import Graph, Node

#: Largest number of cells the alignment DP of one stretch may fill.
DP_CELLS = 200_000
#: Neighbour repair skips nodes with more candidates than this (bounds the work).
MAX_FANOUT = 64
_NUMBERED = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:_[A-Za-z][A-Za-z0-9]*)*[_:.]\d+$")
_IO = ("input", "output")


@dataclass
class Matching:
    """A one-to-one partial map between node ids of A and B, with how each pair was found."""

    a_to_b: dict[str, str] = field(default_factory=dict)
    b_to_a: dict[str, str] = field(default_factory=dict)
    how: dict[str, str] = field(default_factory=dict)  # a id -> "name" | "structure"
    #: A ids whose partner has the same kind, op type, attributes and shapes (one
    #: framework): only their parameter counts can still differ.
    exact: set[str] = field(default_factory=set)

    def add(self, a: str, b: str, how: str) -> None:
        self.a_to_b[a] = b
        self.b_to_a[b] = a
        self.how[a] = how

    def remove(self, a: str) -> None:
        b = self.a_to_b.pop(a)
        del self.b_to_a[b]
        del self.how[a]

    def counts(self) -> dict[str, int]:
        out = {"name": 0, "structure": 0}
        for how in self.how.values():
            out[how] = out.get(how, 0) + 1
        return out


def numbered_name(name: str) -> bool:
    """A name made up by numbering (``node_Conv_12``, ``conv2d_40``, ``Relu_3``)."""
    return not name or _NUMBERED.match(name) is not None


def qualified_name(node: Node) -> tuple[str, ...]:
    """The name a node is matched by: numbered names count only within their group."""
    if numbered_name(node.name):
        return (*node.group, node.name)
    return (node.name,)


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    try:
        hash(value)
    except TypeError:
        return repr(value)
    return value


class _Indexed:
    """One graph as arrays over its topological order, with the three matching keys."""

    def __init__(self, graph: Graph, side: Side, same_framework: bool) -> None:
        self.graph = graph
        self.ids = list(graph.nodes)
        self.pos = {nid: i for i, nid in enumerate(self.ids)}
        n = len(self.ids)
        self.preds: list[list[int]] = [[] for _ in range(n)]
        self.succs: list[list[int]] = [[] for _ in range(n)]
        for e in graph.edges:
            s, d = self.pos[e.src], self.pos[e.dst]
            self.succs[s].append(d)
            self.preds[d].append(s)
        self.strict: list[Any] = []
        self.loose: list[Any] = []
        self.weak: list[str] = []
        for nid in self.ids:
            node = graph.nodes[nid]
            shapes_in, shapes_out = side.io(node)
            ins = tuple(_drop_batch(s) for s in shapes_in)
            outs = tuple(_drop_batch(s) for s in shapes_out)
            if same_framework:
                what: Any = (node.op_type, _freeze(side.attrs(node)))
            else:
                what = op_family(node) if node.kind in FUNCTION_KINDS else ""
            kind = node.kind if same_framework else kind_class(node.kind)
            self.strict.append((kind, what, ins, outs))
            self.loose.append((kind, shape_key(shapes_out[0]) if shapes_out else None))
            self.weak.append(node.kind if same_framework else kind_class(node.kind))

    def keys(self, level: int) -> list[Any]:
        return (self.strict, self.loose, self.weak)[level]


def _drop_batch(shape: tuple | None) -> tuple | None:
    return shape[1:] if shape is not None and len(shape) > 1 else shape


def longest_increasing(pairs: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """The longest chain of ``(i, j)`` pairs increasing in both (pairs sorted by ``i``,
    distinct ``i``); O(k log k)."""
    tails: list[int] = []  # tails[L] = smallest j ending a chain of length L+1
    tail_at: list[int] = []  # index into pairs of that chain's end
    back: list[int] = [-1] * len(pairs)
    for k, (_, j) in enumerate(pairs):
        at = bisect.bisect_left(tails, j)
        if at == len(tails):
            tails.append(j)
            tail_at.append(k)
        else:
            tails[at] = j
            tail_at[at] = k
        back[k] = tail_at[at - 1] if at else -1
    out: list[tuple[int, int]] = []
    k = tail_at[-1] if tail_at else -1
    while k >= 0:
        out.append(pairs[k])
        k = back[k]
    return out[::-1]


class Matcher:
    """Runs the passes of the module docstring; :func:`match_graphs` is the entry point."""

    def __init__(self, a: Graph, b: Graph, side_a: Side | None = None,
                 side_b: Side | None = None) -> None:
        self.side_a, self.side_b = side_a or Side(a), side_b or Side(b)
        same = self.same_framework = self.side_a.framework == self.side_b.framework
        self.A = _Indexed(a, self.side_a, same)
        self.B = _Indexed(b, self.side_b, same)
        self.match = Matching()
        self.ab: list[int] = [-1] * len(self.A.ids)
        self.ba: list[int] = [-1] * len(self.B.ids)

    def pair(self, i: int, j: int, how: str) -> None:
        self.ab[i], self.ba[j] = j, i
        self.match.add(self.A.ids[i], self.B.ids[j], how)

    def unpair(self, i: int) -> None:
        j = self.ab[i]
        self.ab[i], self.ba[j] = -1, -1
        self.match.remove(self.A.ids[i])

    # -- 1. names ----------------------------------------------------------------------
    def by_name(self) -> list[tuple[int, int]]:
        """Pairs with the same qualified name and kind; returns the kind-differing ones."""
        names_b: dict[tuple[str, ...], list[int]] = {}
        for j, nid in enumerate(self.B.ids):
            names_b.setdefault(qualified_name(self.B.graph.nodes[nid]), []).append(j)
        names_a: dict[tuple[str, ...], list[int]] = {}
        for i, nid in enumerate(self.A.ids):
            names_a.setdefault(qualified_name(self.A.graph.nodes[nid]), []).append(i)
        other_kind: list[tuple[int, int]] = []
        for name, js in names_b.items():
            for i, j in zip(names_a.get(name, ()), js, strict=False):
                if self.A.weak[i] == self.B.weak[j]:
                    self.pair(i, j, "name")
                else:
                    other_kind.append((i, j))
        for kind in _IO:  # graph inputs and outputs left over: in order
            left_a = [i for i, k in enumerate(self.A.weak) if k == kind and self.ab[i] < 0]
            left_b = [j for j, k in enumerate(self.B.weak) if k == kind and self.ba[j] < 0]
            for i, j in zip(left_a, left_b, strict=False):
                self.pair(i, j, "structure")
        return other_kind

    # -- 2. alignment ------------------------------------------------------------------
    def align(self) -> None:
        anchors = sorted((i, j) for i, j in enumerate(self.ab) if j >= 0)
        chain = longest_increasing(anchors)
        bounds = [(-1, -1), *chain, (len(self.A.ids), len(self.B.ids))]
        stack: list[tuple[list[int], list[int], int]] = []
        for (i0, j0), (i1, j1) in zip(bounds, bounds[1:], strict=False):
            ga = [i for i in range(i0 + 1, i1) if self.ab[i] < 0]
            gb = [j for j in range(j0 + 1, j1) if self.ba[j] < 0]
            if ga and gb:
                stack.append((ga, gb, 0))
        while stack:
            ga, gb, level = stack.pop()
            self._align_stretch(ga, gb, level, stack)

    def _anchor_unique(self, ga: list[int], gb: list[int], ka: list[Any], kb: list[Any],
                       stack: list[tuple[list[int], list[int], int]]) -> bool:
        """Pair the keys unique in both stretches that keep their order; queue the pieces
        between them. False when there are none."""
        count_a: dict[Any, int] = {}
        for i in ga:
            count_a[ka[i]] = count_a.get(ka[i], 0) + 1
        count_b: dict[Any, int] = {}
        where_b: dict[Any, int] = {}
        for y, j in enumerate(gb):
            count_b[kb[j]] = count_b.get(kb[j], 0) + 1
            where_b[kb[j]] = y
        unique = [(x, where_b[ka[i]]) for x, i in enumerate(ga)
                  if count_a[ka[i]] == 1 and count_b.get(ka[i]) == 1]
        if not unique:
            return False
        prev = (-1, -1)
        for x, y in [*longest_increasing(unique), (len(ga), len(gb))]:
            sub_a, sub_b = ga[prev[0] + 1:x], gb[prev[1] + 1:y]
            if sub_a and sub_b:
                stack.append((sub_a, sub_b, 0))
            if x < len(ga):
                self.pair(ga[x], gb[y], "structure")
            prev = (x, y)
        return True

    def _align_stretch(self, ga: list[int], gb: list[int], level: int,
                       stack: list[tuple[list[int], list[int], int]]) -> None:
        """Align one pair of stretches at one key level (see the module docstring):
        unique keys first (strict level only), then equal runs at both ends, then the
        next level."""
        ka, kb = self.A.keys(level), self.B.keys(level)
        if level == 0 and self._anchor_unique(ga, gb, ka, kb, stack):
            return
        lo = 0
        while lo < len(ga) and lo < len(gb) and ka[ga[lo]] == kb[gb[lo]]:
            self.pair(ga[lo], gb[lo], "structure")
            lo += 1
        hi_a, hi_b = len(ga), len(gb)
        while hi_a > lo and hi_b > lo and ka[ga[hi_a - 1]] == kb[gb[hi_b - 1]]:
            hi_a, hi_b = hi_a - 1, hi_b - 1
            self.pair(ga[hi_a], gb[hi_b], "structure")
        ma, mb = ga[lo:hi_a], gb[lo:hi_b]
        if not ma or not mb:
            return
        if len(ma) < len(ga) or len(mb) < len(gb):
            stack.append((ma, mb, level))  # what is left may have unique keys now
        elif level < 2:
            stack.append((ma, mb, level + 1))
        else:
            self._dp(ma, mb)

    def _score(self, i: int, j: int) -> int:
        A, B = self.A, self.B
        if A.weak[i] != B.weak[j]:
            return 0
        if A.strict[i] == B.strict[j]:
            return 4
        return 2 if A.loose[i] == B.loose[j] else 1

    def _dp(self, ma: list[int], mb: list[int]) -> None:
        """Weighted longest common subsequence of two stretches (banded when large)."""
        n, m = len(ma), len(mb)
        if n * m <= DP_CELLS:
            band = m
        else:
            band = max(4, DP_CELLS // (2 * n))
        rows: list[tuple[int, list[int], list[int]]] = []  # (start j, scores, moves)
        prev_start, prev = 0, [0] * (m + 1)
        for x in range(1, n + 1):
            centre = (x * m) // n
            start, stop = max(0, centre - band), min(m, centre + band)
            scores = [0] * (stop - start + 1)
            moves = [0] * (stop - start + 1)  # 0 up, 1 left, 2 diagonal

            def above(y: int, prev_start: int = prev_start, prev: list[int] = prev) -> int:
                k = y - prev_start
                return prev[k] if 0 <= k < len(prev) else _edge_value(prev, k)

            ai = ma[x - 1]
            for y in range(start, stop + 1):
                k = y - start
                best, move = above(y), 0
                if k > 0 and scores[k - 1] > best:
                    best, move = scores[k - 1], 1
                if y > 0:
                    s = self._score(ai, mb[y - 1])
                    if s and above(y - 1) + s > best:
                        best, move = above(y - 1) + s, 2
                scores[k] = best
                moves[k] = move
            rows.append((start, scores, moves))
            prev_start, prev = start, scores
        x, y = n, min(m, rows[-1][0] + len(rows[-1][1]) - 1) if rows else 0
        pairs: list[tuple[int, int]] = []
        while x > 0 and y >= 0:
            start, _, moves = rows[x - 1]
            k = y - start
            if k < 0:
                x -= 1
                continue
            if k >= len(moves):
                y = start + len(moves) - 1
                continue
            move = moves[k]
            if move == 2:
                pairs.append((ma[x - 1], mb[y - 1]))
                x, y = x - 1, y - 1
            elif move == 1:
                y -= 1
            else:
                x -= 1
        for i, j in pairs:
            self.pair(i, j, "structure")

    # -- 3. neighbours -----------------------------------------------------------------
    def neighbours(self) -> None:
        A, B = self.A, self.B
        for _ in range(2):
            changed = False
            for i in range(len(A.ids)):
                if self.ab[i] >= 0:
                    continue
                cands: set[int] = set()
                for p in A.preds[i]:
                    if self.ab[p] >= 0 and len(B.succs[self.ab[p]]) <= MAX_FANOUT:
                        cands.update(j for j in B.succs[self.ab[p]] if self.ba[j] < 0)
                for s in A.succs[i]:
                    if self.ab[s] >= 0 and len(B.preds[self.ab[s]]) <= MAX_FANOUT:
                        cands.update(j for j in B.preds[self.ab[s]] if self.ba[j] < 0)
                best = max(cands, key=lambda j: (self._score(i, j), -j), default=-1)
                if best >= 0 and self._score(i, best) >= 2:
                    self.pair(i, best, "structure")
                    changed = True
            if not changed:
                break

    # -- 5. consistency ----------------------------------------------------------------
    def break_cycles(self, careful_rounds: int = 16) -> None:
        """Undo pairs until merging every pair leaves the union acyclic: one pair per
        cycle and round (a structural one, the latest in A's order), or, after
        ``careful_rounds`` rounds, every pair on a cycle."""
        rounds = 0
        while True:
            components = self._cyclic_pairs()
            if not components:
                return
            rounds += 1
            for cyclic in components:
                structural = [i for i in cyclic if self.match.how[self.A.ids[i]] != "name"]
                chosen = structural or cyclic
                for i in (chosen if rounds > careful_rounds else [max(chosen)]):
                    self.unpair(i)

    def _cyclic_pairs(self) -> list[list[int]]:
        """A indices of the matched pairs on each cycle (strong component) of the union."""
        A, B = self.A, self.B
        na = len(A.ids)
        # union vertex: A index for A nodes (matched pairs use their A index), na + j for
        # unmatched B nodes.
        def vb(j: int) -> int:
            return self.ba[j] if self.ba[j] >= 0 else na + j

        succ: list[list[int]] = [[] for _ in range(na + len(B.ids))]
        for i in range(na):
            succ[i].extend(A.succs[i])
        for j in range(len(B.ids)):
            src = vb(j)
            succ[src].extend(vb(d) for d in B.succs[j])
        if _acyclic(succ):
            return []
        out: list[list[int]] = []
        for comp in _strong_components(succ):
            pairs = [v for v in comp if v < na and self.ab[v] >= 0] if len(comp) > 1 else []
            if pairs:
                out.append(pairs)
        return out


def _edge_value(row: list[int], k: int) -> int:
    """A DP cell outside the previous row's band: its nearest stored neighbour (scores
    never decrease along a row, so the last cell bounds everything to its right)."""
    if not row:
        return 0
    return row[-1] if k >= len(row) else 0


def _acyclic(succ: list[list[int]]) -> bool:
    """Kahn's algorithm: whether the graph has no cycle (the common case, checked fast)."""
    indeg = [0] * len(succ)
    for targets in succ:
        for w in targets:
            indeg[w] += 1
    ready = [v for v, d in enumerate(indeg) if d == 0]
    seen = 0
    while ready:
        v = ready.pop()
        seen += 1
        for w in succ[v]:
            indeg[w] -= 1
            if indeg[w] == 0:
                ready.append(w)
    return seen == len(succ)


def _strong_components(succ: list[list[int]]) -> list[list[int]]:
    """Tarjan's algorithm, iterative (no recursion limit)."""
    n = len(succ)
    index = [-1] * n
    low = [0] * n
    on_stack = [False] * n
    stack: list[int] = []
    out: list[list[int]] = []
    counter = 0
    for root in range(n):
        if index[root] >= 0:
            continue
        work = [(root, 0)]
        while work:
            v, k = work.pop()
            if k == 0:
                index[v] = low[v] = counter
                counter += 1
                stack.append(v)
                on_stack[v] = True
            recurse = False
            while k < len(succ[v]):
                w = succ[v][k]
                k += 1
                if index[w] < 0:
                    work.append((v, k))
                    work.append((w, 0))
                    recurse = True
                    break
                if on_stack[w]:
                    low[v] = min(low[v], index[w])
            if recurse:
                continue
            if low[v] == index[v]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack[w] = False
                    comp.append(w)
                    if w == v:
                        break
                out.append(comp)
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[v])
    return out


def match_graphs(a: Graph, b: Graph, side_a: Side | None = None,
                 side_b: Side | None = None) -> Matching:
    """Match the nodes of ``a`` to those of ``b`` (see the module docstring)."""
    m = Matcher(a, b, side_a, side_b)
    other_kind = m.by_name()
    m.align()
    m.neighbours()
    for i, j in other_kind:
        if m.ab[i] < 0 and m.ba[j] < 0:
            m.pair(i, j, "name")
    m.break_cycles()
    if m.same_framework:
        m.match.exact = {m.A.ids[i] for i, j in enumerate(m.ab)
                         if j >= 0 and m.A.strict[i] == m.B.strict[j]}
    return m.match
