"""Small helpers the passes share: rebuilding graphs and walking edges.

Copies are cheap on purpose: :func:`shared_copy` makes a new node object that shares its
``attrs`` dict and tensor lists with the original, and edges (never changed once made)
are shared between graphs. Passes treat those as read-only and
:func:`clone_node` (a deep copy) any node whose attrs they change, so no pass ever
mutates its input graph while a 100k-node graph is not deep-copied at every step.
"""

from __future__ import annotations

from collections.abc import Iterable

from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Group, Node, TensorSpec, topological_order


def clone_node(node: Node) -> Node:
    """A deep copy of one node (for a pass that changes its attrs or tensor lists)."""
    return node.clone()


def shared_copy(node: Node) -> Node:
    """A new node object whose attrs and tensor lists are the original's (read-only by
    convention): for passes that change only ``name``, ``group``, ``params`` or ``kind``."""
    return Node(node.id, node.name, node.kind, node.op_type, node.attrs, node.params,
                node.inputs, node.outputs, node.group)


def rebuild(graph: Graph, nodes: Iterable[Node], edges: Iterable[Edge],
            groups: dict[tuple[str, ...], Group] | None = None, dedupe: bool = False) -> Graph:
    """A new graph with ``graph``'s name and meta, the given nodes and edges, in topological
    order; groups default to copies of ``graph``'s groups that still have members. With
    ``dedupe``, parallel edges carrying the same shape are drawn once; self-loops never.

    O(N + E + G·depth): nodes given in a topological order (as every pass keeps them) are
    only checked, not sorted again.
    """
    out = Graph(graph.name)
    out.meta = dict(graph.meta)
    table = out.nodes
    for node in nodes:
        if node.id in table:
            raise ValueError(f"duplicate node id {node.id!r}")
        table[node.id] = node
    seen: set[tuple[str, str, tuple]] = set()
    out_edges = out.edges
    for e in edges:
        if e.src == e.dst:
            continue
        if dedupe:
            key = (e.src, e.dst, e.tensor.shape or ())
            if key in seen:
                continue
            seen.add(key)
        out_edges.append(e if type(e) is Edge else Edge(e.src, e.dst, e.tensor))  # immutable
    source = graph.groups if groups is None else groups
    used: set[tuple[str, ...]] = set()
    for path in {n.group for n in table.values()}:
        while path and path not in used:
            used.add(path)
            path = path[:-1]
    out.groups = {p: g.copy() for p, g in source.items() if p in used}
    for path in used:
        if path not in out.groups:
            out.add_group(path)
    position = {nid: i for i, nid in enumerate(table)}
    if not all(position[e.src] < position[e.dst] for e in out_edges):
        order = topological_order(table, out_edges)
        out.nodes = table = {nid: table[nid] for nid in order}
    out.inputs = [nid for nid, n in table.items() if n.kind == "input"]
    out.outputs = [nid for nid, n in table.items() if n.kind == "output"]
    return out


def try_rebuild(graph: Graph, nodes: Iterable[Node], edges: Iterable[Edge],
                groups: dict[tuple[str, ...], Group] | None = None,
                dedupe: bool = False) -> Graph | None:
    """:func:`rebuild`, or None when the result would have a cycle."""
    try:
        return rebuild(graph, nodes, edges, groups, dedupe)
    except NetdrawError:
        return None


def in_edges(graph: Graph) -> dict[str, list[Edge]]:
    out: dict[str, list[Edge]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        out[e.dst].append(e)
    return out


def out_edges(graph: Graph) -> dict[str, list[Edge]]:
    out: dict[str, list[Edge]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        out[e.src].append(e)
    return out


def append_unique(specs: list[TensorSpec], spec: TensorSpec) -> None:
    if spec not in specs:
        specs.append(spec)


def is_prefix(prefix: tuple[str, ...], path: tuple[str, ...]) -> bool:
    return path[: len(prefix)] == prefix
