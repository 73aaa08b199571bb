"""Modules applied several times (a siamese encoder, a weight-tied block): one group or node
per call, each marked as a call of the same module (see :class:`netdraw.ir.Group`).

Every importer finds the calls its own way (the live tracer by module identity, torch.export
by its ``@1`` stack keys, ONNX by name scopes and shared initializers, Keras by its call
list) and records them here, so every graph says the same thing the same way: the groups
(or nodes) of one module's calls get ``call`` (1, 2, …), ``calls`` (how many) and, from the
second call on, ``shared_with`` (the first call's path, or node id), whose weights they use.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from netdraw.ir import Graph

Path = tuple[str, ...]


def call_element(name: str, call: int) -> str:
    """The group path element of a module's ``call``-th call: ``encoder``, ``encoder#2``."""
    return name if call <= 1 else f"{name}#{call}"


def mark_calls(graph: Graph, group_calls: Iterable[Sequence[Path]] = (),
               node_calls: Iterable[Sequence[str]] = ()) -> None:
    """Mark each module's calls, in place: ``group_calls`` and ``node_calls`` list, per
    module, the group paths (or node ids) of its calls in call order. A module called once
    is left as it is, and so is one without weights (a ``ReLU`` module applied twice shares
    nothing a reader needs told; its calls are separate groups or nodes all the same).
    O(N·depth + calls)."""
    weighted: dict[Path, int] = {}
    for node in graph.nodes.values():
        if node.params:
            for depth in range(1, len(node.group) + 1):
                weighted[node.group[:depth]] = 1
    for paths in group_calls:
        if len(paths) < 2 or not weighted.get(tuple(paths[0])):
            continue
        for k, path in enumerate(paths, 1):
            group = graph.groups.get(path) or graph.add_group(path)
            group.call, group.calls = k, len(paths)
            group.shared_with = tuple(paths[0]) if k > 1 else ()
    for ids in node_calls:
        ids = [nid for nid in ids if nid in graph.nodes]
        if len(ids) < 2 or not graph.nodes[ids[0]].params:
            continue
        for k, nid in enumerate(ids, 1):
            attrs = graph.nodes[nid].attrs
            attrs.update({"call": k, "calls": len(ids)})
            if k > 1:
                attrs["shared_with"] = ids[0]
            else:
                attrs.pop("shared_with", None)
