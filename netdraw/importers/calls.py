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
    module, the group paths (or node ids) of its calls in call order; a module called once
    is left as it is. O(calls)."""
    for paths in group_calls:
        if len(paths) < 2:
            continue
        for k, path in enumerate(paths, 1):
            group = graph.groups.get(path) or graph.add_group(path)
            group.call, group.calls = k, len(paths)
            group.shared_with = tuple(paths[0]) if k > 1 else ()
    for ids in node_calls:
        ids = [nid for nid in ids if nid in graph.nodes]
        if len(ids) < 2:
            continue
        for k, nid in enumerate(ids, 1):
            attrs = graph.nodes[nid].attrs
            attrs.update({"call": k, "calls": len(ids)})
            if k > 1:
                attrs["shared_with"] = ids[0]
            else:
                attrs.pop("shared_with", None)
