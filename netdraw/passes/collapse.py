"""Collapse groups nested deeper than a depth into one block node each."""

from __future__ import annotations

from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Node, TensorSpec, topological_order


def collapse_to_depth(graph: Graph, depth: int) -> Graph:
    """Groups at nesting level ``depth + 1`` become block nodes; nothing deeper is drawn.

    A block keeps the group's name and class, its total parameter count, and the shapes of
    the tensors entering and leaving it. ``depth 0`` draws every top-level group as a block.
    A group whose collapse would create a cycle (it is not convex) stays expanded.
    """
    if depth < 0:
        raise NetdrawError(f"--depth must be 0 or more, not {depth}")
    blocks: dict[str, tuple[str, ...]] = {}
    for node in graph.nodes.values():
        if len(node.group) > depth:
            blocks[node.id] = node.group[: depth + 1]
    if not blocks:
        return graph.copy()
    out = _collapse(graph, blocks)
    try:
        out.validate()
    except NetdrawError:
        # Drop the groups that break acyclicity one at a time, keeping the rest collapsed.
        for path in sorted(set(blocks.values()), key=len, reverse=True):
            trial = {nid: p for nid, p in blocks.items() if p != path}
            candidate = _collapse(graph, trial)
            try:
                candidate.validate()
            except NetdrawError:
                continue
            blocks, out = trial, candidate
        out.validate()
    return out


def block_id(path: tuple[str, ...]) -> str:
    return "block:" + "/".join(path)


def _collapse(graph: Graph, blocks: dict[str, tuple[str, ...]]) -> Graph:
    out = Graph(graph.name)
    out.meta = dict(graph.meta)
    out.groups = {p: g for p, g in graph.groups.items()
                  if not any(p[: len(b)] == b for b in set(blocks.values()))}
    rep = {nid: block_id(blocks[nid]) if nid in blocks else nid for nid in graph.nodes}
    made: dict[str, Node] = {}
    for node in graph.nodes.values():
        if node.id not in blocks:
            out.add_node(Node.from_dict(node.to_dict()))
            continue
        bid = rep[node.id]
        block = made.get(bid)
        if block is None:
            path = blocks[node.id]
            group = graph.groups.get(path)
            block = made[bid] = out.add_node(Node(
                bid, group.display_name if group else path[-1], "block",
                (group.class_name if group else "") or "Block",
                group=path[:-1]))
            block.attrs["nodes"] = 0
        block.params += node.params
        block.attrs["nodes"] += 1
    seen: set[tuple[str, str, tuple]] = set()
    for edge in graph.edges:
        src, dst = rep[edge.src], rep[edge.dst]
        if src == dst:
            continue
        key = (src, dst, edge.tensor.shape or ())
        if key in seen:
            continue
        seen.add(key)
        out.edges.append(Edge(src, dst, edge.tensor))
        if dst in made:
            _append_unique(made[dst].inputs, edge.tensor)
        if src in made:
            _append_unique(made[src].outputs, edge.tensor)
    # Keep nodes in topological order when possible (validate() reports cycles).
    try:
        order = topological_order(out.nodes, out.edges)
        out.nodes = {nid: out.nodes[nid] for nid in order}
    except NetdrawError:
        pass
    return out


def _append_unique(specs: list[TensorSpec], spec: TensorSpec) -> None:
    if spec not in specs:
        specs.append(spec)
