"""ONNX importer: ``.onnx`` files and in-memory ``onnx.ModelProto`` -> :class:`netdraw.ir.Graph`.

Weights are never read: a model with external data is loaded with
``load_external_data=False`` and parameter counts come from the tensor protos' dims.
Initializers become parameter counts on the node that first uses them; ``Constant`` and
``Identity`` plumbing is dissolved into the edges. ``If``/``Loop``/``Scan`` bodies and
model-local functions become nested groups.
"""

from __future__ import annotations

import ast
import math
import os
from collections import ChainMap
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import onnx
from onnx import shape_inference

from netdraw import ops
from netdraw.errors import NetdrawError
from netdraw.importers import onnx_checks
from netdraw.ir import Edge, Graph, Node, TensorSpec, UniqueIds, topological_order

_DTYPES = {
    onnx.TensorProto.FLOAT: "float32", onnx.TensorProto.DOUBLE: "float64",
    onnx.TensorProto.FLOAT16: "float16", onnx.TensorProto.BFLOAT16: "bfloat16",
    onnx.TensorProto.INT8: "int8", onnx.TensorProto.INT16: "int16",
    onnx.TensorProto.INT32: "int32", onnx.TensorProto.INT64: "int64",
    onnx.TensorProto.UINT8: "uint8", onnx.TensorProto.UINT16: "uint16",
    onnx.TensorProto.UINT32: "uint32", onnx.TensorProto.UINT64: "uint64",
    onnx.TensorProto.BOOL: "bool", onnx.TensorProto.STRING: "string",
    onnx.TensorProto.COMPLEX64: "complex64", onnx.TensorProto.COMPLEX128: "complex128",
}


def load(source: str | os.PathLike[str] | onnx.ModelProto, *, name: str | None = None) -> Graph:
    """Import an ONNX model (a path or a ``ModelProto``) without reading its weight bytes."""
    if isinstance(source, onnx.ModelProto):
        model, default_name = source, source.graph.name or "model"
    else:
        model, default_name = _read(Path(source)), Path(source).stem
    if not model.graph.node and not model.graph.output:
        raise NetdrawError("the ONNX model has no nodes and no outputs; "
                           "is the file empty or truncated?")
    onnx_checks.check_text(model)
    onnx_checks.check_expansion(model)
    model = _expand_local_functions(model)
    model = _infer_shapes(model)
    builder = _Builder(name or default_name)
    builder.import_graph(model.graph, scope=(), outer=None)
    graph = builder.finish()
    graph.meta.update({"framework": "onnx", "producer": model.producer_name,
                       "opset": {o.domain or "ai.onnx": o.version for o in model.opset_import}})
    return graph


def _read(path: Path) -> onnx.ModelProto:
    if not path.is_file():
        raise NetdrawError(f"cannot read {path}: no such file")
    if path.stat().st_size == 0:
        raise NetdrawError(f"{path} is empty; export the model again")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises DecodeError and friends
        raise NetdrawError(f"{path} is not a valid ONNX model ({type(exc).__name__}); "
                           "is the file truncated or of another format?") from None
    if model.ir_version <= 0 or not model.HasField("graph"):
        raise NetdrawError(f"{path} is not a valid ONNX model (no IR version or graph); "
                           "is the file truncated or of another format?")
    return model


def external_data_path(model_dir: str | os.PathLike[str], location: str) -> Path:
    """Where an external-data ``location`` lives; refuses paths outside ``model_dir``.

    Drawing never reads weights; code that must (filter visualisation) resolves every
    location through this check first.
    """
    base = Path(model_dir).resolve()
    target = (base / location).resolve()
    if Path(location).is_absolute() or not target.is_relative_to(base):
        raise NetdrawError(f"external data location {location!r} points outside the model's "
                           f"folder {base}; refusing to read it (move the data next to the model)")
    return target


# -- preparation -----------------------------------------------------------------------


def _infer_shapes(model: onnx.ModelProto) -> onnx.ModelProto:
    try:
        return shape_inference.infer_shapes(model, strict_mode=False, data_prop=True)
    except Exception:
        # Custom ops or inconsistent models: draw with what the file itself declares.
        return model


_UNKNOWN = TensorSpec()
_WEIGHT_DTYPES = {onnx.TensorProto.FLOAT, onnx.TensorProto.DOUBLE, onnx.TensorProto.FLOAT16,
                  onnx.TensorProto.BFLOAT16, onnx.TensorProto.INT8, onnx.TensorProto.UINT8}
_GROUP_KEY = "netdraw.group"  # metadata key carrying a function-expansion group


def _expand_local_functions(model: onnx.ModelProto) -> onnx.ModelProto:
    """Inline calls of model-local functions, tagging inlined nodes with their group."""
    functions = {(f.domain, f.name): f for f in model.functions}
    if not functions:
        return model
    expanded = onnx.ModelProto()
    expanded.CopyFrom(model)
    del expanded.functions[:]
    counter = [0]

    def expand(nodes: list[onnx.NodeProto], group: list[str]) -> list[onnx.NodeProto]:
        out: list[onnx.NodeProto] = []
        for node in nodes:
            fn = functions.get((node.domain, node.op_type))
            if fn is None:
                if group:
                    node = _copy_node(node)
                    _set_meta(node, _GROUP_KEY, repr(group))
                out.append(node)
                continue
            counter[0] += 1
            call = node.name or f"{fn.name}_{counter[0]}"
            prefix = f"{call}::"
            renames = dict(zip(fn.input, node.input, strict=False))
            renames.update(zip(fn.output, node.output, strict=False))
            inner: list[onnx.NodeProto] = []
            for fnode in fn.node:
                new = _copy_node(fnode)
                new.name = prefix + (fnode.name or fnode.op_type)
                for i, t in enumerate(new.input):
                    new.input[i] = renames.get(t, prefix + t if t else t)
                for i, t in enumerate(new.output):
                    new.output[i] = renames.get(t, prefix + t if t else t)
                inner.append(new)
            sub_group = [*group, f"{call}\x1f{fn.name}"]
            out.extend(expand(inner, sub_group))
        return out

    nodes = expand(list(expanded.graph.node), [])
    del expanded.graph.node[:]
    expanded.graph.node.extend(nodes)
    return expanded


def _copy_node(node: onnx.NodeProto) -> onnx.NodeProto:
    new = onnx.NodeProto()
    new.CopyFrom(node)
    return new


def _set_meta(node: onnx.NodeProto, key: str, value: str) -> None:
    entry = node.metadata_props.add()
    entry.key, entry.value = key, value


# -- conversion ------------------------------------------------------------------------


def _spec(type_proto: onnx.TypeProto | None) -> TensorSpec:
    if type_proto is None or not type_proto.HasField("tensor_type"):
        return TensorSpec()
    tt = type_proto.tensor_type
    dtype = _DTYPES.get(tt.elem_type)
    if not tt.HasField("shape"):
        return TensorSpec(None, dtype)
    dims: list[int | str | None] = []
    for d in tt.shape.dim:
        if d.HasField("dim_value"):
            dims.append(int(d.dim_value))
        elif d.HasField("dim_param"):
            dims.append(d.dim_param)
        else:
            dims.append(None)
    return TensorSpec(tuple(dims), dtype)


def _attr_value(attr: onnx.AttributeProto) -> Any:
    if attr.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS):
        return None
    if attr.type == onnx.AttributeProto.TENSOR:
        return {"tensor": list(attr.t.dims)}
    value = onnx.helper.get_attribute_value(attr)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if isinstance(value, list):
        return [v.decode("utf-8", "replace") if isinstance(v, bytes) else v for v in value
                if isinstance(v, (int, float, str, bytes))]
    if isinstance(value, float):
        return float(f"{value:.7g}")  # float32 attributes: keep JSON short and stable
    if isinstance(value, (int, str)):
        return value
    return None


def _qualified(scopes: list[str]) -> str:
    """Scope path -> dotted module name.

    ``['layer1', 'layer1.0', 'conv1']`` and ``['layer1', '0', 'conv1']`` give
    ``layer1.0.conv1``; ``['layer1', 'layer1.0', 'downsample', 'downsample.0']`` gives
    ``layer1.0.downsample.0`` (a scope that repeats its parent's name extends it).
    """
    name, prev = "", ""
    for s in scopes:
        if not name:
            name = s
        elif s.startswith(name + "."):
            name = s
        elif prev and s.startswith(prev + "."):
            name = name[: len(name) - len(prev)] + s
        else:
            name = f"{name}.{s}"
        prev = s
    return name


def _literal_list(text: str) -> list:
    """A metadata value written as a Python list literal; [] when it is anything else (a
    damaged or crafted file). ``ast.literal_eval`` evaluates no code."""
    try:
        value = ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return []
    return list(value) if isinstance(value, (list, tuple)) else []


def _scopes(node: onnx.NodeProto) -> list[tuple[str, str]]:
    """The enclosing scopes of a node as (path element, class name) pairs."""
    meta = {p.key: p.value for p in node.metadata_props}
    if _GROUP_KEY in meta:
        return [(*str(g).split("\x1f", 1), "")[:2]  # type: ignore[misc]
                for g in _literal_list(meta[_GROUP_KEY])]
    if "pkg.torch.onnx.name_scopes" in meta:
        names = _literal_list(meta["pkg.torch.onnx.name_scopes"])
        classes = _literal_list(meta.get("pkg.torch.onnx.class_hierarchy", "[]"))
        classes = [*classes, *[""] * len(names)]
        # names[0] is the root module, names[-1] the op itself.
        return [(str(n), str(c).rsplit(".", 1)[-1]) for n, c in zip(names[1:-1], classes[1:-1],
                                                                   strict=False) if n]
    if node.name.startswith("/"):
        parts = [p for p in node.name.split("/")[1:-1] if p]
        return [(p, "") for p in parts]
    return []


@dataclass
class _Builder:
    name: str
    graph: Graph = field(init=False)
    initializers: dict[str, int] = field(default_factory=dict)  # name -> numel
    counted: set[str] = field(default_factory=set)
    unique_id: UniqueIds = field(default_factory=UniqueIds)
    #: node id -> (length of the enclosing body's path, the node's own scopes)
    scoped: dict[str, tuple[int, list[tuple[str, str]]]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.graph = Graph(self.name)

    def import_graph(self, gp: onnx.GraphProto, scope: tuple[str, ...],
                     outer: MutableMapping[str, str | None] | None,
                     formal_inputs: dict[str, str | None] | None = None) -> list[str | None]:
        """Add a (sub)graph's nodes; returns the producers of its outputs.

        ``outer`` maps tensor names visible from enclosing graphs to producer ids (None for
        initializers and constants); ``formal_inputs`` maps a body's inputs to producers.
        """
        specs: dict[str, TensorSpec] = {}
        for vi in [*gp.input, *gp.value_info, *gp.output]:
            specs[vi.name] = _spec(vi.type)
        producers: MutableMapping[str, str | None] = (ChainMap({}, outer) if outer is not None
                                                       else {})
        for init in gp.initializer:
            # Integer/bool initializers are shape and index data, not trainable weights.
            weight = init.data_type in _WEIGHT_DTYPES
            self.initializers[init.name] = math.prod(init.dims) if weight else 0
            producers[init.name] = None
            specs.setdefault(init.name, TensorSpec(tuple(init.dims), _DTYPES.get(init.data_type)))
        for sparse in gp.sparse_initializer:
            self.initializers[sparse.values.name] = math.prod(sparse.dims)
            producers[sparse.values.name] = None

        if formal_inputs is None:
            for vi in gp.input:
                if vi.name in self.initializers:
                    continue  # IR < 4 lists initializers as inputs too
                nid = self.unique_id(vi.name)
                spec = specs[vi.name]
                self.graph.add_node(Node(nid, vi.name, "input", "Input", outputs=[spec]))
                producers[vi.name] = nid
        else:
            producers.update(formal_inputs)

        for node in _topological_nodes(gp):
            self.import_node(node, specs, producers, scope)

        out_producers = []
        for vi in gp.output:
            if vi.name not in producers:
                raise NetdrawError(f"graph output {vi.name!r} is produced by no node; "
                                   "the model is incomplete or corrupt")
            out_producers.append(producers[vi.name])
            if formal_inputs is None:
                nid = self.unique_id(f"output:{vi.name}")
                spec = specs.get(vi.name, TensorSpec())
                self.graph.add_node(Node(nid, vi.name, "output", "Output", inputs=[spec],
                                         outputs=[spec]))
                src = producers[vi.name]
                if src is not None:
                    self.graph.add_edge(src, nid, spec)
        return out_producers

    def import_node(self, node: onnx.NodeProto, specs: dict[str, TensorSpec],
                    producers: MutableMapping[str, str | None], scope: tuple[str, ...]) -> None:
        inputs, outputs, op_type = list(node.input), list(node.output), node.op_type
        for t in inputs:
            if t and t not in producers:
                raise NetdrawError(f"node {node.name or op_type!r} reads tensor {t!r} that "
                                   "no node, input or initializer provides; the model is "
                                   "incomplete or corrupt (try onnx.checker.check_model)")
        domain = node.domain
        if op_type in ("Constant", "Identity") and domain in ("", "ai.onnx"):
            self.dissolve_plumbing(op_type, inputs, outputs, producers)
            return

        framework = "onnx" if domain in ("", "ai.onnx", "ai.onnx.ml") else "custom"
        kind, renames = ops.lookup(framework, op_type)
        attributes = list(node.attribute)
        attrs = {a.name: v for a in attributes if (v := _attr_value(a)) is not None}
        if renames:
            attrs = ops.normalise_attrs(renames, attrs)
        if framework == "custom":
            attrs["domain"] = domain

        initializers = self.initializers
        weights = [t for t in inputs if t in initializers]
        params = 0
        for t in weights:
            if t not in self.counted:
                self.counted.add(t)
                params += initializers[t]
        kind = _refine(kind, inputs, attrs, specs, weights)

        nid = self.unique_id(node.name or op_type)
        data_inputs = [t for t in inputs if t and t not in initializers]
        scopes = _scopes(node)
        if scopes:
            self.scoped[nid] = (len(scope), scopes)
            group = scope + tuple(name for name, _ in scopes)
        else:
            group = scope
        has_body = any(a.type == onnx.AttributeProto.GRAPH for a in attributes)
        unknown = _UNKNOWN
        self.graph.add_node(Node(
            nid, node.name or nid, kind, op_type, attrs=attrs, params=params,
            inputs=[specs.get(t, unknown) for t in data_inputs],
            outputs=[specs.get(t, unknown) for t in outputs if t],
            group=(*group, nid) if has_body else group))
        seen: set[str] = set()
        for t in data_inputs:
            src = producers.get(t)
            if src is not None and t not in seen:
                seen.add(t)
                self.graph.add_edge(src, nid, specs.get(t, unknown))
        for t in outputs:
            if t:
                producers[t] = nid
        if has_body:
            for attr in attributes:
                if attr.type == onnx.AttributeProto.GRAPH:
                    self.import_body(node, nid, attr, specs, producers, group)

    def dissolve_plumbing(self, op_type: str, inputs: list[str], outputs: list[str],
                          producers: MutableMapping[str, str | None]) -> None:
        """A Constant is data (no producer); an Identity renames its input."""
        source = producers.get(inputs[0]) if op_type == "Identity" else None
        for t in outputs:
            producers[t] = source
            if op_type == "Identity" and inputs[0] in self.initializers:
                self.initializers[t] = self.initializers[inputs[0]]
                if inputs[0] in self.counted:
                    self.counted.add(t)

    def import_body(self, node: onnx.NodeProto, nid: str, attr: onnx.AttributeProto,
                    specs: dict[str, TensorSpec], producers: MutableMapping[str, str | None],
                    group: tuple[str, ...]) -> None:
        """A control-flow body as a nested group whose results flow into the node itself."""
        body = attr.g
        body_scope = (*group, nid, attr.name)
        self.graph.add_group((*group, nid), class_name=node.op_type, label=node.name or nid)
        self.graph.add_group(body_scope, class_name=attr.name, label=attr.name)
        # Loop/Scan bodies take the node's inputs as their formal inputs, in order.
        formal = {}
        actual = list(node.input)
        for i, vi in enumerate(body.input):
            formal[vi.name] = producers.get(actual[i]) if i < len(actual) and actual[i] else None
        results = self.import_graph(body, body_scope, producers, formal_inputs=formal)
        # The body's results flow into the control-flow node, so it is drawn after them.
        for src, vi in zip(results, body.output, strict=False):
            if src is not None and src != nid:
                self.graph.add_edge(src, nid, _spec(vi.type))

    def finish(self) -> Graph:
        graph = self.graph
        _dissolve_singleton_groups(graph, self.scoped)
        graph.validate()
        return graph


def _names_used(node: onnx.NodeProto) -> set[str]:
    """Tensor names a node reads, including those its subgraph bodies read from outside."""
    used = set(node.input)
    for attr in node.attribute:
        if attr.type == onnx.AttributeProto.GRAPH:
            for inner in attr.g.node:
                used |= _names_used(inner)
    return used


def _topological_nodes(gp: onnx.GraphProto) -> list[onnx.NodeProto]:
    """The graph's nodes in dependency order (ONNX requires it; not every writer obeys)."""
    nodes = list(gp.node)
    producer = {t: i for i, n in enumerate(nodes) for t in n.output if t}
    deps = [{producer[t] for t in _names_used(n) if t in producer} - {i}
            for i, n in enumerate(nodes)]
    if all(all(d < i for d in ds) for i, ds in enumerate(deps)):
        return nodes
    edges = [Edge(str(d), str(i)) for i, ds in enumerate(deps) for d in ds]
    try:
        order = topological_order([str(i) for i in range(len(nodes))], edges)
    except NetdrawError:
        raise NetdrawError("the ONNX graph has a cycle: some nodes read each other's outputs; "
                           "netdraw draws acyclic graphs only (is the model corrupt?)") from None
    return [nodes[int(i)] for i in order]


def _refine(kind: str, inputs: list[str], attrs: dict[str, Any],
            specs: dict[str, TensorSpec], weights: list[str]) -> str:
    """Derive IR attributes (out_channels, units, …) from weight shapes; adjust the kind."""
    weight_spec = specs.get(inputs[1]) if len(inputs) > 1 else None
    wshape = weight_spec.shape if weight_spec and weight_spec.shape else None
    if kind in ("conv", "conv_transpose") and wshape and len(wshape) >= 3:
        groups = attrs.get("groups", 1)
        groups = groups if isinstance(groups, int) and groups > 0 else 1  # a damaged file
        if kind == "conv":
            attrs["out_channels"] = wshape[0]
            attrs["in_channels"] = _mul(wshape[1], groups)
        else:
            attrs["out_channels"] = _mul(wshape[1], groups)
            attrs["in_channels"] = wshape[0]
        attrs.setdefault("kernel_size", list(wshape[2:]))
    elif kind == "dense" and wshape and len(wshape) == 2:
        attrs["units"] = wshape[0] if attrs.get("transB") else wshape[1]
    elif kind == "matmul" and len(inputs) > 1 and inputs[1] in weights and wshape:
        attrs["units"] = wshape[-1]
        return "dense"
    elif kind == "embedding":
        table = specs.get(inputs[0]) if inputs else None
        if inputs and inputs[0] in weights and table and table.shape:
            attrs["num_embeddings"] = table.shape[0]
            attrs["embedding_dim"] = table.shape[-1]
        else:
            return "slice"
    return kind


def _mul(a: Any, b: int) -> Any:
    return a * b if isinstance(a, int) else a


def _dissolve_singleton_groups(graph: Graph,
                               scoped: dict[str, tuple[int, list[tuple[str, str]]]]) -> None:
    """Register the groups the nodes' scopes name, except a scope that holds one node and
    nothing else (a leaf module): that node moves to the parent scope and takes the scope's
    qualified name instead of being drawn in a box of its own."""
    members: dict[tuple[str, ...], int] = {}
    for node in graph.nodes.values():
        for depth in range(1, len(node.group) + 1):
            members[node.group[:depth]] = members.get(node.group[:depth], 0) + 1
    registered: set[tuple[str, ...]] = set()
    for nid, (base, scopes) in scoped.items():
        node = graph.nodes[nid]
        names = [name for name, _ in scopes]
        if members.get(node.group) == 1 and node.group not in graph.groups:
            node.name = _qualified(names)
            node.group = node.group[:-1]
            scopes = scopes[:-1]
        for depth in range(len(scopes), 0, -1):
            path = node.group[: base + depth]
            if path in registered:
                break
            registered.add(path)
            graph.add_group(path, class_name=scopes[depth - 1][1],
                            label=_qualified(names[:depth]))
