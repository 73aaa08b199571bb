"""``torch.export`` programs (``ExportedProgram``, ``.pt2`` files) -> Graph.

The program's FX graph is read as it is: every aten op records the module stack it ran in
(``nn_module_stack``), which becomes the group tree. The ops of one call of a ``torch.nn``
leaf module (``Conv2d``, ``BatchNorm2d``, ``MultiheadAttention``…) are merged into one node
named after the module, as the live tracer draws it; ``getitem`` on multi-output ops is
plumbing and dissolves into the edges. Symbolic dims (``s0``) stay symbolic.
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from typing import Any

import torch
from torch.export import ExportedProgram
from torch.export.graph_signature import InputKind, OutputKind

from netdraw import ops
from netdraw.importers.torch_trace import (
    ATOMIC_MODULES,
    canonical_name,
    dim_value,
    function_attrs,
    spec_of,
)
from netdraw.ir import Graph, Node, TensorSpec, UniqueIds

_PATH_FIXES = ((re.compile(r"^L\['self'\]\.?|^L__self__\.?|^self\.?"), ""),
               (re.compile(r"\._modules\['([^']*)'\]"), r".\1"),
               (re.compile(r"\[(\d+)\]"), r".\1"),
               (re.compile(r"\['([^']*)'\]"), r".\1"))


def qualified_name(path: str) -> str:
    """``L['self'].layer1[0].conv1`` (older torch) or ``layer1.0.conv1`` -> ``layer1.0.conv1``."""
    for pattern, repl in _PATH_FIXES:
        path = pattern.sub(repl, path)
    return path.strip(".")


def target_name(target: Any) -> str:
    if target is operator.getitem:
        return "getitem"
    packet = getattr(target, "overloadpacket", None)
    name = getattr(packet, "__name__", None) or getattr(target, "__name__", None) or str(target)
    return canonical_name(name.split(".")[0])


def _class_name(type_text: Any) -> tuple[str, bool]:
    """(class name, is a torch.nn class) from the stack's type string or type."""
    text = type_text if isinstance(type_text, str) else \
        f"{getattr(type_text, '__module__', '')}.{getattr(type_text, '__qualname__', '')}"
    module, _, cls = text.rpartition(".")
    return cls, module.startswith("torch.nn.")


def _leaf_kind(cls: str, is_torch: bool) -> tuple[str, dict[str, str]] | None:
    if not is_torch:
        return None
    kind, renames = ops.lookup("torch", cls)
    if kind == "other" and cls not in ATOMIC_MODULES:
        return None
    return kind, renames


def _val_spec(val: Any) -> TensorSpec | None:
    return spec_of(val) if isinstance(val, torch.Tensor) else None


def _val_specs(val: Any) -> list[TensorSpec]:
    if isinstance(val, torch.Tensor):
        return [spec_of(val)]
    if isinstance(val, (list, tuple)):
        return [s for v in val for s in _val_specs(v)]
    return []


@dataclass
class _LeafCall:
    key: str
    qualname: str
    cls: str
    kind: str
    renames: dict[str, str]
    group: tuple[str, ...]
    members: list[torch.fx.Node] = field(default_factory=list)


class _Converter:
    def __init__(self, program: ExportedProgram, name: str) -> None:
        self.program = program
        self.graph = Graph(name)
        self.producers: dict[str, tuple[str, TensorSpec]] = {}  # fx name -> (node id, spec)
        self.param_numel: dict[str, int] = {}  # fx placeholder name -> numel
        self.param_names: dict[str, str] = {}  # fx placeholder name -> parameter name
        self.counted: set[str] = set()
        self.unique_id = UniqueIds("#")
        self.op_counts: dict[tuple[tuple[str, ...], str], int] = {}
        self.open: _LeafCall | None = None

    def run(self) -> Graph:
        sig = self.program.graph_signature
        kinds = {spec.arg.name: spec for spec in sig.input_specs
                 if hasattr(spec.arg, "name")}
        for fx_node in self.program.graph.nodes:
            if fx_node.op == "placeholder":
                self.placeholder(fx_node, kinds.get(fx_node.name))
            elif fx_node.op == "call_function":
                self.call(fx_node)
            elif fx_node.op == "output":
                self.close()
                self.outputs(fx_node, sig.output_specs)
        self.close()
        self.graph.validate()
        self.graph.meta.update({"framework": "torch.export",
                                "torch_version": torch.__version__.split("+")[0]})
        return self.graph

    # -- nodes -------------------------------------------------------------------------
    def placeholder(self, fx_node: torch.fx.Node, spec: Any) -> None:
        val = fx_node.meta.get("val")
        if spec is None or spec.kind == InputKind.USER_INPUT:
            tensor_spec = _val_spec(val)
            if tensor_spec is None:
                return  # a non-tensor user input (an int, None): not drawn
            nid = self.unique_id(fx_node.name)
            self.graph.add_node(Node(nid, fx_node.name, "input", "Input",
                                     outputs=[tensor_spec]))
            self.producers[fx_node.name] = (nid, tensor_spec)
        elif spec.kind == InputKind.PARAMETER and isinstance(val, torch.Tensor):
            self.param_numel[fx_node.name] = math.prod(
                d if isinstance(d, int) else 0 for d in val.shape)
            self.param_names[fx_node.name] = str(spec.target or fx_node.name)

    def stack(self, fx_node: torch.fx.Node) -> list[tuple[str, str, str, bool]]:
        """(stack key, qualified name, class name, is torch.nn) outermost first, root left out."""
        out = []
        for key, entry in (fx_node.meta.get("nn_module_stack") or {}).items():
            path, type_text = entry[0], entry[1]
            qualname = qualified_name(str(path))
            if not qualname:
                continue
            cls, is_torch = _class_name(type_text)
            out.append((str(key), qualname, cls, is_torch))
        return out

    def register_groups(self, stack: list[tuple[str, str, str, bool]]) -> tuple[str, ...]:
        path: tuple[str, ...] = ()
        for _, qualname, cls, _ in stack:
            path = (*path, qualname)
            if path not in self.graph.groups:
                self.graph.add_group(path, class_name=cls, label=qualname)
        return path

    def call(self, fx_node: torch.fx.Node) -> None:
        name = target_name(fx_node.target)
        stack = self.stack(fx_node)
        leaf = None
        if stack:
            key, qualname, cls, is_torch = stack[-1]
            found = _leaf_kind(cls, is_torch)
            if found is not None:
                if self.open is not None and self.open.key == key:
                    self.open.members.append(fx_node)
                    return
                self.close()
                leaf = _LeafCall(key, qualname, cls, found[0], found[1],
                                 self.register_groups(stack[:-1]), [fx_node])
        self.close()
        if leaf is not None:
            self.open = leaf
            return
        if name == "getitem" and self.getitem(fx_node):
            return
        self.op_node(fx_node, name, self.register_groups(stack))

    def getitem(self, fx_node: torch.fx.Node) -> bool:
        """``getitem`` on a multi-output op: the item comes from that op's node."""
        source = fx_node.args[0] if fx_node.args else None
        if not isinstance(source, torch.fx.Node) or source.name not in self.producers:
            return False
        if isinstance(source.meta.get("val"), torch.Tensor):
            return False  # indexing a tensor is a real slice
        spec = _val_spec(fx_node.meta.get("val"))
        if spec is None:
            return True
        self.producers[fx_node.name] = (self.producers[source.name][0], spec)
        return True

    def _tensor_inputs(self, fx_nodes: list[torch.fx.Node]) -> tuple[list[str], int]:
        """External fx inputs of a set of nodes (in order) and the parameters they use."""
        members = {n.name for n in fx_nodes}
        inputs: list[str] = []
        params = 0
        for n in fx_nodes:
            for arg in n.all_input_nodes:
                if arg.name in members:
                    continue
                if arg.name in self.param_numel:
                    if arg.name not in self.counted:
                        self.counted.add(arg.name)
                        params += self.param_numel[arg.name]
                elif arg.name in self.producers and arg.name not in inputs:
                    inputs.append(arg.name)
        return inputs, params

    def _connect(self, nid: str, inputs: list[str]) -> list[TensorSpec]:
        specs = []
        seen: set[tuple[str, TensorSpec]] = set()
        for name in inputs:
            src, spec = self.producers[name]
            if (src, spec) in seen:
                continue
            seen.add((src, spec))
            self.graph.add_edge(src, nid, spec)
            specs.append(spec)
        return specs

    def param_node(self, fx_param: torch.fx.Node, group: tuple[str, ...]) -> None:
        """A parameter used on its own (``pos_embed[:, :n]``) becomes a source node."""
        pname = self.param_names.get(fx_param.name, fx_param.name)
        spec = _val_spec(fx_param.meta.get("val")) or TensorSpec()
        nid = self.unique_id(pname)
        self.counted.add(fx_param.name)
        self.graph.add_node(Node(nid, pname, "constant", "Parameter", outputs=[spec],
                                 params=self.param_numel.pop(fx_param.name), group=group))
        self.producers[fx_param.name] = (nid, spec)

    def op_node(self, fx_node: torch.fx.Node, name: str, group: tuple[str, ...]) -> None:
        kind, renames = ops.lookup("torch", name)
        val = fx_node.meta.get("val")
        specs = _val_specs(val)
        if not specs:
            return  # shape arithmetic (sym_size) and other non-tensor values
        if not any(a.name in self.producers for a in fx_node.all_input_nodes):
            for arg in fx_node.all_input_nodes:
                if arg.name in self.param_numel and arg.name not in self.counted:
                    self.param_node(arg, group)
        inputs, params = self._tensor_inputs([fx_node])
        if kind == "identity" and inputs:
            src = self.producers[inputs[0]][0]
            self.producers[fx_node.name] = (src, specs[0])
            return
        if not inputs and not params:
            return  # a constant (arange, zeros): not part of the drawing
        scope = group[-1] if group else ""
        key = (group, name)
        count = self.op_counts[key] = self.op_counts.get(key, 0) + 1
        node_name = (f"{scope}.{name}" if scope else name) + (f"_{count}" if count > 1 else "")
        nid = self.unique_id(node_name)
        attrs = function_attrs(name, kind, self._values(fx_node.args),
                               self._values(fx_node.kwargs), renames)
        if kind == "pool" and attrs.pop("global", False):
            kind = "global_pool"
        node = self.graph.add_node(Node(nid, node_name, kind, name, attrs=attrs, params=params,
                                        outputs=specs, group=group))
        node.inputs = self._connect(nid, inputs)
        self.producers[fx_node.name] = (nid, specs[0])

    def close(self) -> None:
        """Turn the open leaf-module call into one node."""
        call, self.open = self.open, None
        if call is None:
            return
        inputs, params = self._tensor_inputs(call.members)
        members = {n.name for n in call.members}
        outs = [n for n in call.members
                if any(u.name not in members for u in n.users) and _val_specs(n.meta.get("val"))]
        if call.kind == "identity" and inputs:
            src, _ = self.producers[inputs[0]]
            for n in outs:
                self.producers[n.name] = (src, _val_specs(n.meta["val"])[0])
            return
        main = next((n for n in call.members
                     if ops.lookup("torch", target_name(n.target))[0] == call.kind), None)
        attrs: dict[str, Any] = {}
        if main is not None:
            attrs = function_attrs(target_name(main.target), call.kind, self._values(main.args),
                                   self._values(main.kwargs), call.renames)
        kind = call.kind
        specs = [s for n in outs for s in _val_specs(n.meta.get("val"))]
        spatial = specs[0].shape[2:] if specs and specs[0].shape else ()
        if kind == "pool" and (attrs.pop("global", False) or (
                call.cls.startswith("Adaptive") and spatial and all(d == 1 for d in spatial))):
            kind = "global_pool"
        if kind == "activation":
            attrs["activation"] = ops.TORCH_ACTIVATIONS.get(call.cls, call.cls.lower())
        nid = self.unique_id(call.qualname)
        node = self.graph.add_node(Node(nid, call.qualname, kind, call.cls, attrs=attrs,
                                        params=params, outputs=specs, group=call.group))
        node.inputs = self._connect(nid, inputs)
        for n in outs:
            self.producers[n.name] = (nid, _val_specs(n.meta["val"])[0])

    def _values(self, value: Any) -> Any:
        """fx arguments with nodes replaced by their (fake) tensor values."""
        if isinstance(value, torch.fx.Node):
            return value.meta.get("val")
        if isinstance(value, (list, tuple)):
            return type(value)(self._values(v) for v in value) if isinstance(value, list) \
                else tuple(self._values(v) for v in value)
        if isinstance(value, dict):
            return {k: self._values(v) for k, v in value.items()}
        if isinstance(value, torch.SymInt):
            return dim_value(value)
        return value

    def outputs(self, fx_node: torch.fx.Node, output_specs: list[Any]) -> None:
        results = fx_node.args[0] if fx_node.args else ()
        results = results if isinstance(results, (list, tuple)) else (results,)
        user = [r for r, spec in zip(results, output_specs, strict=False)
                if spec.kind == OutputKind.USER_OUTPUT]
        for i, result in enumerate(user):
            path = "output" if len(user) == 1 else f"output[{i}]"
            if not isinstance(result, torch.fx.Node):
                continue
            spec = _val_spec(result.meta.get("val")) or TensorSpec()
            nid = self.unique_id(f"output:{path}")
            self.graph.add_node(Node(nid, path, "output", "Output", inputs=[spec],
                                     outputs=[spec]))
            if result.name in self.producers:
                self.graph.add_edge(self.producers[result.name][0], nid, spec)


def convert(program: ExportedProgram, name: str) -> Graph:
    """The Graph of an ExportedProgram (``torch.export.export(...)`` or ``.pt2``)."""
    return _Converter(program, name).run()
