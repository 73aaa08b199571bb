"""Checks an ONNX model must pass before the importer walks it (damaged or crafted files).

* Every text field is text: protobuf hands back ``bytes`` for a string field whose bytes
  are not valid UTF-8 (ONNX is proto2, which does not check), and every ``str`` operation
  on it would fail.
* Local functions expand to a bounded number of nodes: functions that call each other
  twice at each of 40 levels would expand to 2⁴⁰ nodes.
"""

from __future__ import annotations

from typing import Any

from netdraw.errors import NetdrawError

#: Nodes the inlined local functions may produce at most.
MAX_EXPANDED_NODES = 2_000_000


def check_text(model: Any, where: str = "the ONNX model") -> None:
    """Raise NetdrawError if a string field anywhere in ``model`` is not valid UTF-8."""
    from google.protobuf.descriptor import FieldDescriptor

    stack = [model]
    while stack:
        message = stack.pop()
        for field, value in message.ListFields():
            if field.type == FieldDescriptor.TYPE_STRING:
                values = value if field.is_repeated else (value,)
                if any(not isinstance(v, str) for v in values):
                    raise NetdrawError(f"{where} has a {field.name} that is not valid UTF-8 "
                                       f"text (in a {message.DESCRIPTOR.name}); the file is "
                                       "damaged")
            elif field.type == FieldDescriptor.TYPE_MESSAGE:
                stack.extend(value if field.is_repeated else (value,))


def expanded_size(model: Any) -> int:
    """How many nodes the graph has once every local-function call is inlined (counted, not
    built; calls are memoised per function, a recursive function counts as too many)."""
    functions = {(f.domain, f.name): f for f in model.functions}
    sizes: dict[tuple[str, str], int] = {}
    active: set[tuple[str, str]] = set()

    def size(nodes: Any) -> int:
        total = 0
        for node in nodes:
            key = (node.domain, node.op_type)
            fn = functions.get(key)
            if fn is None:
                total += 1
                continue
            if key in active:  # a function that calls itself never ends
                return MAX_EXPANDED_NODES + 1
            if key not in sizes:
                active.add(key)
                sizes[key] = size(fn.node)
                active.discard(key)
            total += sizes[key]
            if total > MAX_EXPANDED_NODES:
                return total
        return total

    return size(model.graph.node)


def check_expansion(model: Any) -> None:
    """Raise NetdrawError if inlining the local functions would make too many nodes."""
    if model.functions and expanded_size(model) > MAX_EXPANDED_NODES:
        raise NetdrawError(f"the ONNX model's local functions expand to more than "
                           f"{MAX_EXPANDED_NODES:,} nodes (or call themselves); netdraw draws "
                           "models of up to that size")
