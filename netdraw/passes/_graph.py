"""Small helpers the passes share: rebuilding graphs and walking edges."""

from __future__ import annotations

from collections.abc import Iterable

from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Group, Node, TensorSpec, topological_order


def clone_node(node: Node) -> Node:
    """A deep copy of one node."""
    return node.clone()


def rebuild(graph: Graph, nodes: Iterable[Node], edges: Iterable[Edge],
            groups: dict[tuple[str, ...], Group] | None = None, dedupe: bool = False) -> Graph:
    """A new graph with ``graph``'s name and meta, the given nodes and edges, in topological
    order; groups default to copies of ``graph``'s groups that still have members. With
    ``dedupe``, parallel edges carrying the same shape are drawn once; self-loops never."""
    out = Graph(graph.name)
    out.meta = dict(graph.meta)
    for node in nodes:
        out.add_node(node)
    seen: set[tuple[str, str, tuple]] = set()
    for e in edges:
        key = (e.src, e.dst, e.tensor.shape or ())
        if e.src == e.dst or (dedupe and key in seen):
            continue
        seen.add(key)
        out.edges.append(Edge(e.src, e.dst, e.tensor))
    source = graph.groups if groups is None else groups
    used = {n.group[:d] for n in out.nodes.values() for d in range(1, len(n.group) + 1)}
    out.groups = {p: Group(g.path, g.class_name, g.label) for p, g in source.items() if p in used}
    for path in used:
        if path not in out.groups:
            out.add_group(path)
    order = topological_order(out.nodes, out.edges)
    out.nodes = {nid: out.nodes[nid] for nid in order}
    out.inputs = [n for n in order if out.nodes[n].kind == "input"]
    out.outputs = [n for n in order if out.nodes[n].kind == "output"]
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
