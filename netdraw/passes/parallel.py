"""Bounded fan-in and fan-out: many parallel lanes between the same nodes become one.

A *lane* is a maximal chain of nodes joined by edges that are each the only way out of one
node and the only way into the next (a graph input feeding a ``Concat``; an ``Input →
Gather`` pair feeding it; a ``Slice → Output`` pair fanning out of it). Lanes with the same
*anchors* — the same nodes before their first node and after their last — are parallel.
When more than :data:`MAX_PARALLEL` lanes share anchors, a layout engine would be handed
thousands of nodes on one rank (Graphviz runs for minutes on a ``Concat`` of 20,000 graph
inputs); they are drawn as one lane instead, each position one node named for the count
(``20,000 inputs``, ``20,000 × Gather``), carrying the members' summed parameters and MACs
and ``attrs["parallel"]``. Lanes of the same kinds merge together; if the kinds differ so
much that more than :data:`MAX_PARALLEL` kinds of lane remain, lanes of the same length
merge regardless of kind.

The pass runs in linear time and never touches anything else. :func:`wide_anchors` finds
the same places without changing the graph (``--full`` draws every node, with a warning).

>>> from netdraw.ir import Graph, Node, TensorSpec
>>> g = Graph("wide")
>>> _ = g.add_node(Node("cat", "cat", "concat", "Concat", outputs=[TensorSpec((1, 400))]))
>>> for i in range(100):
...     _ = g.add_node(Node(f"x{i}", f"x{i}", "input", "Input", outputs=[TensorSpec((1, 4))]))
...     g.add_edge(f"x{i}", "cat", TensorSpec((1, 4)))
>>> merged, report = merge_parallel(g)
>>> [n.name for n in merged], report
(['100 inputs', 'cat'], ['100 parallel inputs into cat drawn as one node'])
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from netdraw.ir import Edge, Graph, Node, TensorSpec
from netdraw.passes._graph import rebuild
from netdraw.passes.stats import node_macs

#: More parallel lanes than this between the same anchors are drawn as one.
MAX_PARALLEL = 32
_PLURAL = {"input": "inputs", "output": "outputs", "constant": "constants"}


@dataclass(frozen=True)
class _Lane:
    nodes: tuple[str, ...]
    anchor: tuple[tuple[str, ...], tuple[str, ...]]  # (before the head, after the tail)


def _neighbours(graph: Graph) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    """Distinct predecessors and successors of every node, in edge order."""
    preds: dict[str, dict[str, None]] = {nid: {} for nid in graph.nodes}
    succs: dict[str, dict[str, None]] = {nid: {} for nid in graph.nodes}
    for e in graph.edges:
        succs[e.src][e.dst] = None
        preds[e.dst][e.src] = None
    return ({k: list(v) for k, v in preds.items()}, {k: list(v) for k, v in succs.items()})


def lanes(graph: Graph) -> list[_Lane]:
    """Every node's lane (each node is in exactly one), in graph order of their heads."""
    preds, succs = _neighbours(graph)

    def linked(a: str, b: str) -> bool:
        return len(succs[a]) == 1 and succs[a][0] == b and len(preds[b]) == 1

    out = []
    for nid in graph.nodes:
        if len(preds[nid]) == 1 and linked(preds[nid][0], nid):
            continue  # not a head: its lane starts further up
        chain = [nid]
        while len(succs[chain[-1]]) == 1 and linked(chain[-1], succs[chain[-1]][0]):
            chain.append(succs[chain[-1]][0])
        anchor = (tuple(sorted(preds[chain[0]])), tuple(sorted(succs[chain[-1]])))
        out.append(_Lane(tuple(chain), anchor))
    return out


def _kinds(graph: Graph, lane: _Lane) -> tuple[str, ...]:
    return tuple(graph.nodes[n].kind for n in lane.nodes)


def _signature(graph: Graph, lane: _Lane) -> tuple:
    return tuple((graph.nodes[n].kind, graph.nodes[n].op_type,
                  graph.nodes[n].outputs[0] if graph.nodes[n].outputs else None)
                 for n in lane.nodes)


def _parallel_sets(graph: Graph, limit: int) -> list[list[_Lane]]:
    """Sets of parallel lanes to merge: same anchors, more than ``limit`` of them."""
    by_anchor: dict[tuple, list[_Lane]] = {}
    for lane in lanes(graph):
        by_anchor.setdefault(lane.anchor, []).append(lane)
    out = []
    for members in by_anchor.values():
        if len(members) <= limit:
            continue
        classes: dict[tuple, list[_Lane]] = {}
        for lane in members:
            classes.setdefault(_signature(graph, lane), []).append(lane)
        if len(classes) > limit:
            classes = {}
            for lane in members:
                classes.setdefault(_kinds(graph, lane), []).append(lane)
        if len(classes) > limit:
            classes = {}
            for lane in members:
                classes.setdefault((len(lane.nodes),), []).append(lane)
        out += [group for group in classes.values() if len(group) > 1]
    return out


def wide_anchors(graph: Graph, limit: int = MAX_PARALLEL) -> list[str]:
    """One line for each place where more than ``limit`` parallel lanes meet."""
    return [_describe(graph, group, "") for group in _parallel_sets(graph, limit)]


def _common_spec(specs: Sequence[TensorSpec]) -> TensorSpec:
    """The spec all members share; dims that differ become unknown."""
    first = specs[0]
    if all(s == first for s in specs):
        return first
    dtype = first.dtype if all(s.dtype == first.dtype for s in specs) else None
    ranks = {len(s.shape) if s.shape is not None else -1 for s in specs}
    if len(ranks) != 1 or first.shape is None:
        return TensorSpec(None, dtype)
    shape = tuple(d if all(s.shape[i] == d for s in specs) else None  # type: ignore[index]
                  for i, d in enumerate(first.shape))
    return TensorSpec(shape, dtype)


def _common_group(groups: Sequence[tuple[str, ...]]) -> tuple[str, ...]:
    first = groups[0]
    size = len(first)
    for g in groups[1:]:
        size = min(size, len(g))
        while size and g[:size] != first[:size]:
            size -= 1
    return first[:size]


def _merged_node(graph: Graph, ids: list[str]) -> Node:
    members = [graph.nodes[i] for i in ids]
    head = members[0]
    n = len(members)
    kinds = {m.kind for m in members}
    op_types = {m.op_type for m in members}
    kind = head.kind if len(kinds) == 1 else "other"
    op_type = head.op_type if len(op_types) == 1 else "various"
    name = f"{n:,} {_PLURAL[kind]}" if kind in _PLURAL else f"{n:,} × {op_type}"
    macs = [m.attrs.get("macs", node_macs(m)) for m in members]
    attrs: dict = {"parallel": n, "members": [m.name for m in members[:3]]
                   + (["…", members[-1].name] if n > 4 else [m.name for m in members[3:]])}
    if all(isinstance(v, int) for v in macs):
        attrs["macs"] = sum(macs)  # type: ignore[arg-type]
    outputs = [_common_spec([m.outputs[0] for m in members])] \
        if all(m.outputs for m in members) else []
    inputs = [_common_spec([m.inputs[0] for m in members])] \
        if all(m.inputs for m in members) else []
    return Node(head.id, name, kind, op_type, attrs=attrs, params=sum(m.params for m in members),
                inputs=inputs, outputs=outputs,
                group=_common_group([m.group for m in members]))


def _describe(graph: Graph, group: list[_Lane], action: str) -> str:
    before, after = group[0].anchor
    heads = graph.nodes[group[0].nodes[0]]
    what = _PLURAL.get(heads.kind, "branches") if len(group[0].nodes) == 1 else "branches"
    if after and len(after) == 1:
        where = f" into {graph.nodes[after[0]].name}"
    elif before and len(before) == 1:
        where = f" out of {graph.nodes[before[0]].name}"
    else:
        where = ""
    return f"{len(group):,} parallel {what}{where}{action}"


def merge_parallel(graph: Graph, limit: int = MAX_PARALLEL) -> tuple[Graph, list[str]]:
    """``graph`` with every set of more than ``limit`` parallel lanes drawn as one lane, and
    one line per merge saying what was merged (the input is returned as is when nothing is)."""
    sets = _parallel_sets(graph, limit)
    if not sets:
        return graph, []
    replace: dict[str, str] = {}  # member id -> merged node id
    merged: dict[str, Node] = {}
    report = []
    for group in sets:
        report.append(_describe(graph, group, " drawn as one node" if
                                len(group[0].nodes) == 1 else " drawn as one branch"))
        for position in range(len(group[0].nodes)):  # a class's lanes are equally long
            ids = [lane.nodes[position] for lane in group]
            node = _merged_node(graph, ids)
            merged[node.id] = node
            for i in ids:
                replace[i] = node.id
    nodes = [merged.get(nid) or node.clone() for nid, node in graph.nodes.items()
             if nid not in replace or nid in merged]
    edges = []
    seen: set[tuple[str, str]] = set()
    for e in graph.edges:
        src, dst = replace.get(e.src, e.src), replace.get(e.dst, e.dst)
        if src == dst or ((src, dst) in seen and (e.src in replace or e.dst in replace)):
            continue
        seen.add((src, dst))
        if src in merged and merged[src].outputs:
            tensor = merged[src].outputs[0]
        elif dst in merged and merged[dst].inputs:
            tensor = merged[dst].inputs[0]
        else:
            tensor = e.tensor
        edges.append(Edge(src, dst, tensor))
    return rebuild(graph, nodes, edges), report
