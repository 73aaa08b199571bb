"""A ``torch.export`` program as plain data, and the one converter from it to a Graph.

Two readers produce a :class:`Program`: :mod:`netdraw.importers.pt2` from the JSON inside a
``.pt2`` archive (no torch needed, nothing unpickled), and
:mod:`netdraw.importers.torch_export` from a live ``ExportedProgram``. Both hand the same
description to :func:`convert`, so a program draws the same from memory and from a file.

The program's graph is read as it is: every aten op records the module stack it ran in
(``nn_module_stack``), which becomes the group tree. The ops of one call of a ``torch.nn``
leaf module (``Conv2d``, ``BatchNorm2d``, ``MultiheadAttention``…) are merged into one node
named after the module, as the live tracer draws it; the items of multi-output ops
(``getitem`` in FX) are outputs of their op. Symbolic dims (``s0``) stay symbolic.

>>> p = Program(
...     placeholders=[Placeholder("x", "user_input"),
...                   Placeholder("p_fc_weight", "parameter", "fc.weight")],
...     calls=[Call("linear", "linear", (Ref("x"), Ref("p_fc_weight")), {}, ("linear",),
...                 (("fc", "fc", "torch.nn.modules.linear.Linear"),))],
...     outputs=[(Ref("linear"), "user_output")],
...     values={"x": TensorSpec((1, 4), "float32"), "p_fc_weight": TensorSpec((2, 4)),
...             "linear": TensorSpec((1, 2), "float32")})
>>> [(n.name, n.kind, n.params) for n in convert(p, "tiny")]
[('x', 'input', 0), ('fc', 'dense', 8), ('output', 'output', 0)]
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from netdraw import ops
from netdraw.importers.calls import call_element, mark_calls
from netdraw.importers.torch_ops import ATOMIC_MODULES, function_attrs
from netdraw.ir import Graph, Node, TensorSpec, UniqueIds

#: The stack entry torch puts on nodes it adds itself (runtime asserts, ``sym_size``).
_NO_MODULE = "_empty_nn_module_stack_from_metadata_hook"
_PATH_FIXES = ((re.compile(r"^L\['self'\]\.?|^L__self__\.?|^self\.?"), ""),
               (re.compile(r"\._modules\['([^']*)'\]"), r".\1"),
               (re.compile(r"\[(\d+)\]"), r".\1"),
               (re.compile(r"\['([^']*)'\]"), r".\1"))
#: torch.export's stack key of a module's later call: ``L__self___encoder@1`` is call 2.
_CALL_SUFFIX = re.compile(r"@(\d+)$")


@dataclass(frozen=True)
class Ref:
    """A reference to a named value of the program (a tensor, a SymInt, …)."""

    name: str


class _Opaque:
    """An argument netdraw does not look at (a device, a layout, a subgraph, an object)."""

    def __repr__(self) -> str:
        return "OPAQUE"


OPAQUE = _Opaque()


@dataclass(frozen=True)
class Placeholder:
    """A program input: ``kind`` is ``user_input``, ``parameter``, ``buffer``, ``constant``,
    ``custom_obj`` or ``token``; ``target`` the parameter's or buffer's name."""

    name: str
    kind: str
    target: str = ""


@dataclass(frozen=True)
class Call:
    """One op call: its canonical op name (``conv2d``, ``getitem``, ``cond``), arguments with
    :class:`Ref` for values, the names of the values it produces (one per result; a
    multi-output op has several) and its module stack, outermost first, as
    ``(key, module path, class)`` text (``("layer1.0", "layer1.0", "pkg.mod.BasicBlock")``).
    """

    name: str
    op: str
    args: tuple
    kwargs: dict[str, Any]
    outputs: tuple[str, ...]
    stack: tuple[tuple[str, str, str], ...] = ()


@dataclass
class Program:
    """A torch.export program as data: inputs, op calls in order, outputs, value specs.

    ``outputs`` pairs each result (a :class:`Ref` or a literal) with its kind
    (``user_output``, ``buffer_mutation``, …); ``values`` maps every value name to its
    TensorSpec, or to None for non-tensor values.
    """

    placeholders: list[Placeholder]
    calls: list[Call]
    outputs: list[tuple[Any, str]]
    values: dict[str, TensorSpec | None]
    meta: dict[str, Any] = field(default_factory=dict)


def qualified_name(path: str) -> str:
    """``L['self'].layer1[0].conv1`` (older torch) or ``layer1.0.conv1`` -> ``layer1.0.conv1``."""
    for pattern, repl in _PATH_FIXES:
        path = pattern.sub(repl, path)
    return path.strip(".")


def _class_name(type_text: str) -> tuple[str, bool]:
    """(class name, is a torch.nn class) from the stack's ``module.Class`` text."""
    module, _, cls = type_text.rpartition(".")
    return cls, module.startswith("torch.nn.")


def _leaf_kind(cls: str, is_torch: bool) -> tuple[str, dict[str, str]] | None:
    if not is_torch:
        return None
    kind, renames = ops.lookup("torch", cls)
    if kind == "other" and cls not in ATOMIC_MODULES:
        return None
    return kind, renames


def refs(value: Any) -> Iterator[str]:
    """The names of the values an argument refers to, in order (nested lists, dicts)."""
    if isinstance(value, Ref):
        yield value.name
    elif isinstance(value, (list, tuple)):
        for item in value:
            yield from refs(item)
    elif isinstance(value, dict):
        for item in value.values():
            yield from refs(item)


def input_names(call: Call) -> list[str]:
    """The values a call reads, each once, in the order of its arguments."""
    return list(dict.fromkeys([*refs(call.args), *refs(call.kwargs)]))


@dataclass
class _LeafCall:
    key: str
    qualname: str
    cls: str
    kind: str
    renames: dict[str, str]
    group: tuple[str, ...]
    members: list[Call] = field(default_factory=list)


class _Converter:
    def __init__(self, program: Program, name: str) -> None:
        self.program = program
        self.values = program.values
        self.graph = Graph(name)
        self.producers: dict[str, tuple[str, TensorSpec]] = {}  # value -> (node id, spec)
        self.param_numel: dict[str, int] = {}  # placeholder name -> numel
        self.param_names: dict[str, str] = {}  # placeholder name -> parameter name
        self.counted: set[str] = set()
        self.unique_id = UniqueIds("#")
        self.op_counts: dict[tuple[tuple[str, ...], str], int] = {}
        self.open: _LeafCall | None = None
        #: module qualified name -> its calls: group paths, or node ids of leaf modules
        self.group_calls: dict[str, list[tuple[str, ...]]] = {}
        self.node_calls: dict[str, list[str]] = {}
        self.users: dict[str, set[str]] = {}
        for call in program.calls:
            for value in input_names(call):
                self.users.setdefault(value, set()).add(call.name)
        for result, _ in program.outputs:
            for value in refs(result):
                self.users.setdefault(value, set()).add("")  # "" is the graph's output

    def run(self) -> Graph:
        for placeholder in self.program.placeholders:
            self.placeholder(placeholder)
        for call in self.program.calls:
            self.call(call)
        self.close()
        self.outputs()
        mark_calls(self.graph, self.group_calls.values(), self.node_calls.values())
        self.graph.validate()
        self.graph.meta.update({"framework": "torch.export", **self.program.meta})
        return self.graph

    def spec(self, value: str) -> TensorSpec | None:
        return self.values.get(value)

    def specs(self, call: Call) -> list[TensorSpec]:
        return [s for s in map(self.spec, call.outputs) if s is not None]

    # -- nodes -------------------------------------------------------------------------
    def placeholder(self, placeholder: Placeholder) -> None:
        spec = self.spec(placeholder.name)
        if placeholder.kind == "user_input":
            if spec is None:
                return  # a non-tensor user input (an int, None): not drawn
            nid = self.unique_id(placeholder.name)
            self.graph.add_node(Node(nid, placeholder.name, "input", "Input", outputs=[spec]))
            self.producers[placeholder.name] = (nid, spec)
        elif placeholder.kind == "parameter" and spec is not None:
            shape = spec.shape or ()
            self.param_numel[placeholder.name] = math.prod(
                d if isinstance(d, int) else 0 for d in shape)
            self.param_names[placeholder.name] = placeholder.target or placeholder.name

    def stack(self, call: Call) -> list[tuple[str, str, str, bool]]:
        """(stack key, qualified name, class name, is torch.nn) outermost first, root left out."""
        out = []
        for key, path, type_text in call.stack:
            qualname = qualified_name(path)
            if not qualname or key == _NO_MODULE:
                continue
            cls, is_torch = _class_name(type_text)
            out.append((key, qualname, cls, is_torch))
        return out

    def register_groups(self, stack: list[tuple[str, str, str, bool]]) -> tuple[str, ...]:
        """The group path of a stack (a module's later call is ``name#2``…, from the
        stack key's ``@1``…), its groups registered."""
        path: tuple[str, ...] = ()
        for key, qualname, cls, _ in stack:
            found = _CALL_SUFFIX.search(key)
            path = (*path, call_element(qualname, int(found.group(1)) + 1 if found else 1))
            if path not in self.graph.groups:
                self.graph.add_group(path, class_name=cls, label=qualname)
                self.group_calls.setdefault(qualname, []).append(path)
        return path

    def call(self, call: Call) -> None:
        stack = self.stack(call)
        leaf = None
        if stack:
            key, qualname, cls, is_torch = stack[-1]
            found = _leaf_kind(cls, is_torch)
            if found is not None:
                if self.open is not None and self.open.key == key:
                    self.open.members.append(call)
                    return
                self.close()
                leaf = _LeafCall(key, qualname, cls, found[0], found[1],
                                 self.register_groups(stack[:-1]), [call])
        self.close()
        if leaf is not None:
            self.open = leaf
            return
        self.op_node(call, self.register_groups(stack))

    def _tensor_inputs(self, calls: list[Call]) -> tuple[list[str], int]:
        """External tensor inputs of a set of calls (in order) and the parameters they use."""
        members = {v for c in calls for v in c.outputs}
        inputs: list[str] = []
        params = 0
        for c in calls:
            for value in input_names(c):
                if value in members:
                    continue
                if value in self.param_numel:
                    if value not in self.counted:
                        self.counted.add(value)
                        params += self.param_numel[value]
                elif value in self.producers and value not in inputs:
                    inputs.append(value)
        return inputs, params

    def _connect(self, nid: str, inputs: list[str]) -> list[TensorSpec]:
        specs = []
        seen: set[tuple[str, TensorSpec]] = set()
        for value in inputs:
            src, spec = self.producers[value]
            if (src, spec) in seen:
                continue
            seen.add((src, spec))
            self.graph.add_edge(src, nid, spec)
            specs.append(spec)
        return specs

    def param_node(self, value: str, group: tuple[str, ...]) -> None:
        """A parameter used on its own (``pos_embed[:, :n]``) becomes a source node."""
        pname = self.param_names.get(value, value)
        spec = self.spec(value) or TensorSpec()
        nid = self.unique_id(pname)
        self.counted.add(value)
        self.graph.add_node(Node(nid, pname, "constant", "Parameter", outputs=[spec],
                                 params=self.param_numel.pop(value), group=group))
        self.producers[value] = (nid, spec)

    def arguments(self, value: Any) -> Any:
        """Arguments with references replaced by the TensorSpec they name (others opaque)."""
        if isinstance(value, Ref):
            spec = self.spec(value.name)
            return spec if spec is not None else OPAQUE
        if isinstance(value, list):
            return [self.arguments(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.arguments(v) for v in value)
        if isinstance(value, dict):
            return {k: self.arguments(v) for k, v in value.items()}
        return value

    def op_node(self, call: Call, group: tuple[str, ...]) -> None:
        name = call.op
        kind, renames = ops.lookup("torch", name)
        specs = self.specs(call)
        if not specs:
            return  # shape arithmetic (sym_size) and other non-tensor values
        read = input_names(call)
        if not any(v in self.producers for v in read):
            for value in read:
                if value in self.param_numel and value not in self.counted:
                    self.param_node(value, group)
        inputs, params = self._tensor_inputs([call])
        if kind == "identity" and inputs:
            src = self.producers[inputs[0]][0]
            for value in call.outputs:
                if self.spec(value) is not None:
                    self.producers[value] = (src, self.spec(value))  # type: ignore[assignment]
            return
        if not inputs and not params:
            return  # a constant (arange, zeros): not part of the drawing
        scope = self.graph.groups[group].display_name if group else ""
        key = (group, name)
        count = self.op_counts[key] = self.op_counts.get(key, 0) + 1
        node_name = (f"{scope}.{name}" if scope else name) + (f"_{count}" if count > 1 else "")
        nid = self.unique_id(node_name)
        attrs = function_attrs(name, kind, self.arguments(call.args),
                               self.arguments(call.kwargs), renames)
        if kind == "pool" and attrs.pop("global", False):
            kind = "global_pool"
        node = self.graph.add_node(Node(nid, node_name, kind, name, attrs=attrs, params=params,
                                        outputs=specs, group=group))
        node.inputs = self._connect(nid, inputs)
        for value in call.outputs:
            spec = self.spec(value)
            if spec is not None:
                self.producers[value] = (nid, spec)

    def close(self) -> None:
        """Turn the open leaf-module call into one node."""
        leaf, self.open = self.open, None
        if leaf is None:
            return
        inputs, params = self._tensor_inputs(leaf.members)
        member_calls = {c.name for c in leaf.members}
        outs = [(v, s) for c in leaf.members for v in c.outputs
                if (s := self.spec(v)) is not None
                and any(u not in member_calls for u in self.users.get(v, ()))]
        if leaf.kind == "identity" and inputs:
            src, _ = self.producers[inputs[0]]
            for value, spec in outs:
                self.producers[value] = (src, spec)
            return
        main = next((c for c in leaf.members if ops.lookup("torch", c.op)[0] == leaf.kind),
                    None)
        attrs: dict[str, Any] = {}
        if main is not None:
            attrs = function_attrs(main.op, leaf.kind, self.arguments(main.args),
                                   self.arguments(main.kwargs), leaf.renames)
        kind = leaf.kind
        specs = [s for _, s in outs]
        spatial = specs[0].shape[2:] if specs and specs[0].shape else ()
        if kind == "pool" and (attrs.pop("global", False) or (
                leaf.cls.startswith("Adaptive") and spatial and all(d == 1 for d in spatial))):
            kind = "global_pool"
        if kind == "activation":
            attrs["activation"] = ops.TORCH_ACTIVATIONS.get(leaf.cls, leaf.cls.lower())
        nid = self.unique_id(leaf.qualname)
        self.node_calls.setdefault(leaf.qualname, []).append(nid)
        node = self.graph.add_node(Node(nid, leaf.qualname, kind, leaf.cls, attrs=attrs,
                                        params=params, outputs=specs, group=leaf.group))
        node.inputs = self._connect(nid, inputs)
        for value, spec in outs:
            self.producers[value] = (nid, spec)

    def outputs(self) -> None:
        user = [result for result, kind in self.program.outputs if kind == "user_output"]
        for i, result in enumerate(user):
            path = "output" if len(user) == 1 else f"output[{i}]"
            if not isinstance(result, Ref):
                continue
            spec = self.spec(result.name) or TensorSpec()
            nid = self.unique_id(f"output:{path}")
            self.graph.add_node(Node(nid, path, "output", "Output", inputs=[spec],
                                     outputs=[spec]))
            if result.name in self.producers:
                self.graph.add_edge(self.producers[result.name][0], nid, spec)


def convert(program: Program, name: str) -> Graph:
    """The Graph of a torch.export program described by ``program``."""
    return _Converter(program, name).run()
