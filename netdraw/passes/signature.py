"""Structural signatures: two nodes or node sets with equal signatures are the same layers,
wired the same way, on tensors of the same shapes (names never matter)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netdraw.ir import Edge, Graph, Node

#: Attribute keys that name things rather than describe structure.
_NAME_ATTRS = frozenset({"name", "names", "module", "path", "qualname", "scope", "source",
                         "doc", "doc_string", "members", "trace", "stack_trace",
                         "shared_with", "call", "output_node", "onnx_name"})


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
            tuple(shape_key(t.shape) for t in node.inputs),
            tuple(shape_key(t.shape) for t in node.outputs))


def shape_key(shape: tuple | None) -> tuple | None:
    """A shape as signatures compare it: a leading batch dim of 1 or unknown is the same
    batch (exporters are not consistent about it: a legacy ONNX export knows it as 1 at
    the graph output and as unknown inside, after a computed reshape)."""
    if shape and len(shape) > 1 and shape[0] in (1, None):
        return ("batch", *shape[1:])
    return shape


def set_signature(members: Sequence[Node], incoming: Sequence[Edge],
                  internal: Sequence[Edge], outgoing: Sequence[Edge],
                  node_sigs: dict[str, int] | None = None) -> tuple:
    """Signature of an ordered node set: its nodes, its internal wiring (as positions) and
    the shapes entering and leaving each position. ``node_sigs`` may give each node's
    signature (or a number standing for it) already computed."""
    index = {n.id: i for i, n in enumerate(members)}
    return (
        tuple(node_sigs[n.id] for n in members) if node_sigs is not None
        else tuple(node_signature(n) for n in members),
        tuple(sorted((index[e.src], index[e.dst]) for e in internal)),
        tuple(sorted({(index[e.dst], str(shape_key(e.tensor.shape))) for e in incoming})),
        tuple(sorted({(index[e.src], str(shape_key(e.tensor.shape))) for e in outgoing})),
    )


def group_members(graph: Graph) -> dict[tuple[str, ...], list[str]]:
    """Every group path (and the root ``()``) -> ids of all nodes inside it, in order."""
    members: dict[tuple[str, ...], list[str]] = {(): []}
    for node in graph.nodes.values():
        for depth in range(len(node.group) + 1):
            members.setdefault(node.group[:depth], []).append(node.id)
    return members


def signatures(graph: Graph, sets: dict[Any, list[str]]) -> dict[Any, tuple]:
    """Signatures of many node sets at once.

    O(M + E·D) where M is the total size of the sets and D the number of sets a node is in
    (its nesting depth for a group tree): each node's own signature is computed once and
    stands in the set signatures as a small number (equal numbers, equal signatures).
    """
    where: dict[str, list[Any]] = {}
    for key, ids in sets.items():
        for nid in ids:
            where.setdefault(nid, []).append(key)
    numbers: dict[tuple, int] = {}
    node_sigs = {nid: numbers.setdefault(node_signature(graph.nodes[nid]), len(numbers))
                 for nid in where}
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
                             outgoing[k], node_sigs) for k, ids in sets.items()}


def group_signatures(graph: Graph, members: dict[tuple[str, ...], list[str]]
                     ) -> dict[tuple[str, ...], tuple]:
    """:func:`signatures` for the sets of a group tree (``members[path]``: the ids of the
    nodes inside ``path``, graph inputs and outputs left out).

    O(N·D + E·D) for groups nested D deep: an edge is internal to the groups both its ends
    share (a common prefix of their paths) and crosses the border of the others, so no
    per-edge set arithmetic is needed.
    """
    inside = {nid for ids in members.values() for nid in ids}
    numbers: dict[tuple, int] = {}
    node_sigs = {nid: numbers.setdefault(node_signature(graph.nodes[nid]), len(numbers))
                 for nid in inside}
    incoming: dict[tuple[str, ...], list[Edge]] = {k: [] for k in members}
    internal: dict[tuple[str, ...], list[Edge]] = {k: [] for k in members}
    outgoing: dict[tuple[str, ...], list[Edge]] = {k: [] for k in members}
    nodes = graph.nodes
    for e in graph.edges:
        a = nodes[e.src].group if e.src in inside else ()
        b = nodes[e.dst].group if e.dst in inside else ()
        common = 0
        limit = min(len(a), len(b))
        while common < limit and a[common] == b[common]:
            common += 1
        for d in range(1, common + 1):
            if a[:d] in internal:
                internal[a[:d]].append(e)
        for d in range(common + 1, len(a) + 1):
            if a[:d] in outgoing:
                outgoing[a[:d]].append(e)
        for d in range(common + 1, len(b) + 1):
            if b[:d] in incoming:
                incoming[b[:d]].append(e)
    return {k: set_signature([nodes[n] for n in ids], incoming[k], internal[k], outgoing[k],
                             node_sigs) for k, ids in members.items()}
