"""Structural signatures: two nodes or node sets with equal signatures are the same layers,
wired the same way, on tensors of the same shapes (names never matter)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netdraw.ir import Edge, Graph, Node

#: Attribute keys that name things rather than describe structure.
_NAME_ATTRS = frozenset({"name", "names", "module", "path", "qualname", "scope", "source",
                         "doc", "doc_string", "members", "trace", "stack_trace",
                         "shared_with"})


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((str(k), _freeze(v)) for k, v in value.items()
                            if k not in _NAME_ATTRS))
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    return value


def node_signature(node: Node) -> tuple:
    """Kind, op type, attributes (folded layers without their names) and shapes.

    Parameter counts are left out: exporters share identical initializers between layers
    (the dynamo ONNX exporter gives one LayerNorm all the ones), which would split runs.
    """
    attrs = dict(node.attrs)
    folded = attrs.pop("folded", None)
    if isinstance(folded, list) and folded:
        attrs["folded"] = [{k: v for k, v in f.items() if k not in ("id", "name", "params")}
                           for f in folded if isinstance(f, dict)]
    elif folded is not None:
        attrs["folded"] = folded  # not the list the fold pass writes: compared as it is
    attrs.pop("macs", None)
    return (node.kind, node.op_type, _freeze(attrs),
            tuple(t.shape for t in node.inputs), tuple(t.shape for t in node.outputs))


def set_signature(members: Sequence[Node], incoming: Sequence[Edge],
                  internal: Sequence[Edge], outgoing: Sequence[Edge]) -> tuple:
    """Signature of an ordered node set: its nodes, its internal wiring (as positions) and
    the shapes entering and leaving each position."""
    index = {n.id: i for i, n in enumerate(members)}
    return (
        tuple(node_signature(n) for n in members),
        tuple(sorted((index[e.src], index[e.dst]) for e in internal)),
        tuple(sorted({(index[e.dst], str(e.tensor.shape)) for e in incoming})),
        tuple(sorted({(index[e.src], str(e.tensor.shape)) for e in outgoing})),
    )


def group_members(graph: Graph) -> dict[tuple[str, ...], list[str]]:
    """Every group path (and the root ``()``) -> ids of all nodes inside it, in order."""
    members: dict[tuple[str, ...], list[str]] = {(): []}
    for node in graph.nodes.values():
        for depth in range(len(node.group) + 1):
            members.setdefault(node.group[:depth], []).append(node.id)
    return members


def signatures(graph: Graph, sets: dict[Any, list[str]]) -> dict[Any, tuple]:
    """Signatures of many node sets at once (one pass over the edges per set)."""
    where: dict[str, list[Any]] = {}
    for key, ids in sets.items():
        for nid in ids:
            where.setdefault(nid, []).append(key)
    incoming: dict[Any, list[Edge]] = {k: [] for k in sets}
    internal: dict[Any, list[Edge]] = {k: [] for k in sets}
    outgoing: dict[Any, list[Edge]] = {k: [] for k in sets}
    for e in graph.edges:
        src_keys = set(where.get(e.src, ()))
        dst_keys = set(where.get(e.dst, ()))
        for k in src_keys & dst_keys:
            internal[k].append(e)
        for k in dst_keys - src_keys:
            incoming[k].append(e)
        for k in src_keys - dst_keys:
            outgoing[k].append(e)
    return {k: set_signature([graph.nodes[n] for n in ids], incoming[k], internal[k],
                             outgoing[k]) for k, ids in sets.items()}
