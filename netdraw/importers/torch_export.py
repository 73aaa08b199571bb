"""A live ``torch.export.ExportedProgram`` -> the neutral :class:`Program` -> Graph.

Reads the program's FX graph and signature with public torch APIs and describes it as
:mod:`netdraw.importers.torch_program` data, the same description the ``.pt2`` reader
(:mod:`netdraw.importers.pt2`) makes from a saved archive; one converter draws both.
``getitem`` on a multi-output op is not an op of its own: its result is one of that op's
outputs, as in the serialized form.
"""

from __future__ import annotations

import operator
from typing import Any

import torch
from torch.export import ExportedProgram

from netdraw.importers import torch_program
from netdraw.importers.torch_ops import canonical_name
from netdraw.importers.torch_program import OPAQUE, Call, Placeholder, Program, Ref
from netdraw.importers.torch_trace import as_specs, spec_of
from netdraw.ir import Graph, TensorSpec

_INPUT_KINDS = {"USER_INPUT": "user_input", "PARAMETER": "parameter", "BUFFER": "buffer",
                "CONSTANT_TENSOR": "constant", "CUSTOM_OBJ": "custom_obj", "TOKEN": "token"}


def target_name(target: Any) -> str:
    """The canonical op name of an FX call target (``aten.conv2d.default`` -> ``conv2d``)."""
    if target is operator.getitem:
        return "getitem"
    packet = getattr(target, "overloadpacket", None)
    name = getattr(packet, "__name__", None) or getattr(target, "__name__", None) or str(target)
    return canonical_name(name.split(".")[0])


def _spec(val: Any) -> TensorSpec | None:
    return spec_of(val) if isinstance(val, torch.Tensor) else None


def _stack(fx_node: torch.fx.Node) -> tuple[tuple[str, str, str], ...]:
    out = []
    for key, entry in (fx_node.meta.get("nn_module_stack") or {}).items():
        path, type_ = entry[0], entry[1]
        text = type_ if isinstance(type_, str) else \
            f"{getattr(type_, '__module__', '')}.{getattr(type_, '__qualname__', '')}"
        out.append((str(key), str(path), text))
    return tuple(out)


def _argument(value: Any) -> Any:
    """FX arguments as program data: nodes become :class:`Ref`, torch objects plain."""
    if isinstance(value, torch.fx.Node):
        return Ref(value.name)
    if isinstance(value, (list, tuple)):
        items = [_argument(v) for v in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, dict):
        return {str(k): _argument(v) for k, v in value.items()}
    if isinstance(value, (bool, int, float, str)) or value is None:
        return value
    if isinstance(value, (torch.dtype, torch.SymInt)):
        return as_specs(value)
    return OPAQUE


def describe(program: ExportedProgram) -> Program:
    """The neutral description of an in-memory ExportedProgram."""
    sig = program.graph_signature
    kinds = {spec.arg.name: spec for spec in sig.input_specs if hasattr(spec.arg, "name")}
    values: dict[str, TensorSpec | None] = {}
    placeholders: list[Placeholder] = []
    calls: list[Call] = []
    outputs: list[tuple[Any, str]] = []
    items: dict[str, list[str]] = {}  # multi-output node -> its item value names
    for fx_node in program.graph.nodes:
        val = fx_node.meta.get("val")
        if fx_node.op == "placeholder":
            spec = kinds.get(fx_node.name)
            kind = _INPUT_KINDS.get(spec.kind.name, "user_input") if spec else "user_input"
            target = str(getattr(spec, "target", "") or "") if spec else ""
            values[fx_node.name] = _spec(val)
            placeholders.append(Placeholder(fx_node.name, kind, target))
        elif fx_node.op == "call_function":
            source = fx_node.args[0] if fx_node.args else None
            if fx_node.target is operator.getitem and isinstance(source, torch.fx.Node) \
                    and source.name in items and len(fx_node.args) > 1 \
                    and isinstance(fx_node.args[1], int):
                # an item of a multi-output op: name that op's output slot after it
                slots, index = items[source.name], fx_node.args[1]
                if -len(slots) <= index < len(slots) and slots[index] in values \
                        and slots[index].startswith(f"{source.name}."):
                    values[fx_node.name] = values.pop(slots[index])
                    slots[index] = fx_node.name
                    continue
            if isinstance(val, (list, tuple)):
                # items named later by their getitem; an unused one keeps this name
                items[fx_node.name] = [f"{fx_node.name}.{i}" for i in range(len(val))]
                for slot, item in zip(items[fx_node.name], val, strict=True):
                    values[slot] = _spec(item)
            else:
                values[fx_node.name] = _spec(val)
            calls.append(Call(fx_node.name, target_name(fx_node.target),
                              _argument(tuple(fx_node.args)), _argument(dict(fx_node.kwargs)),
                              (fx_node.name,), _stack(fx_node)))
        elif fx_node.op == "output":
            results = fx_node.args[0] if fx_node.args else ()
            results = results if isinstance(results, (list, tuple)) else (results,)
            for result, spec in zip(results, sig.output_specs, strict=False):
                outputs.append((_argument(result), spec.kind.name.lower()))
    calls = [Call(c.name, c.op, c.args, c.kwargs, tuple(items.get(c.name, c.outputs)), c.stack)
             for c in calls]
    return Program(placeholders, calls, outputs, values,
                   {"torch_version": torch.__version__.split("+")[0]})


def convert(program: ExportedProgram, name: str) -> Graph:
    """The Graph of an ExportedProgram in memory (``torch.export.export(...)``)."""
    return torch_program.convert(describe(program), name)
