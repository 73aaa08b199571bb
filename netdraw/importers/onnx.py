"""ONNX importer: ``.onnx`` files and in-memory ``pb.ModelProto`` -> :class:`netdraw.ir.Graph`.

Weights are never read: a model with external data is loaded with
``load_external_data=False`` and parameter counts come from the tensor protos' dims.
Initializers that are learned weights become parameter counts on the node that first uses
them; ``Constant`` and ``Identity`` plumbing is dissolved into the edges. ``If``/``Loop``/
``Scan`` bodies and model-local functions become nested groups.

Which initializers are learned weights: float tensors (integer and boolean ones are shapes
and indices); of a ``torch.onnx`` export, those it names as parameters (the dynamo
exporter's program signature, ``pkg.torch.export.ExportedProgram.graph_signature``; the
legacy exporter's module names), and a constant the exporter computed from one only where
a layer reads it as a weight (a transposed weight as a ``MatMul`` operand, a class token
concatenated with the patches): a causal mask, a position table or a scale the exporter
computed and stored, added to or multiplied with activations, is a constant, not a
parameter (see :func:`learned_weights`).

A module applied several times (a siamese encoder) is one group per call: the dynamo
exporter gives both calls the same name scopes and the legacy one numbers them
inconsistently (``/encoder_1/Relu`` beside ``/encoder/conv1_1/Conv``), so calls are told
apart by structure: a scope whose nodes form separate pieces with the same layers, reading
the same weights, is one call per piece (``encoder``, ``encoder#2``). Calls of one
model-local function reading the same weights are marked alike (see
:mod:`netdraw.importers.calls`).
"""

from __future__ import annotations

import ast
import heapq
import math
import os
import re
from collections import ChainMap
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netdraw import ops
from netdraw.errors import NetdrawError
from netdraw.importers import onnx_checks, onnx_proto
from netdraw.importers.calls import call_element, mark_calls
from netdraw.ir import Edge, Graph, Node, TensorSpec, UniqueIds, topological_order
from netdraw.perf import paused_gc

pb = onnx_proto.protobuf()  # ModelProto, TensorProto, …: the onnx package's own classes

_DTYPES = {
    pb.TensorProto.FLOAT: "float32", pb.TensorProto.DOUBLE: "float64",
    pb.TensorProto.FLOAT16: "float16", pb.TensorProto.BFLOAT16: "bfloat16",
    pb.TensorProto.INT8: "int8", pb.TensorProto.INT16: "int16",
    pb.TensorProto.INT32: "int32", pb.TensorProto.INT64: "int64",
    pb.TensorProto.UINT8: "uint8", pb.TensorProto.UINT16: "uint16",
    pb.TensorProto.UINT32: "uint32", pb.TensorProto.UINT64: "uint64",
    pb.TensorProto.BOOL: "bool", pb.TensorProto.STRING: "string",
    pb.TensorProto.COMPLEX64: "complex64", pb.TensorProto.COMPLEX128: "complex128",
}


def load(source: str | os.PathLike[str] | pb.ModelProto, *, name: str | None = None) -> Graph:
    """Import an ONNX model (a path or a ``ModelProto``) without reading its weight bytes.

    O(N + E) in nodes and edges (plus ONNX's own shape inference)."""
    return convert(source, name=name)[0]


def convert(source: str | os.PathLike[str] | pb.ModelProto, *, name: str | None = None,
            keep_weights: bool = False
            ) -> tuple[Graph, pb.ModelProto, dict[str, tuple[list[str], list[str]]]]:
    """:func:`load`, plus what running the model needs (:mod:`netdraw.viz`): the model as
    read (local functions inlined, shapes inferred; its in-file weights kept when
    ``keep_weights``, external data never read) and, for every node of the top-level
    graph, its id -> (input tensor names, output tensor names)."""
    with paused_gc():
        return _convert(source, name, keep_weights)


def _convert(source: str | os.PathLike[str] | pb.ModelProto, name: str | None,
             keep_weights: bool
             ) -> tuple[Graph, pb.ModelProto, dict[str, tuple[list[str], list[str]]]]:
    if isinstance(source, pb.ModelProto):
        model, default_name = source, source.graph.name or "model"
    else:
        model, default_name = _read(Path(source)), Path(source).stem
    if not model.graph.node and not model.graph.output:
        raise NetdrawError("the ONNX model has no nodes and no outputs; "
                           "is the file empty or truncated?")
    onnx_checks.check_text(model)
    onnx_checks.check_expansion(model)
    expanded = _expand_local_functions(model)
    owned = expanded is not model or not isinstance(source, pb.ModelProto)
    data = expanded.SerializeToString() if keep_weights else _without_weights(expanded, owned)
    del model, expanded  # a file's model (and its weight bytes) is freed here
    model = _infer_shapes(data)
    builder = _Builder(name or default_name)
    builder.learned = learned_weights(model)
    builder.import_graph(model.graph, scope=(), outer=None)
    graph = builder.finish()
    graph.meta.update({"framework": "onnx", "producer": model.producer_name,
                       "opset": {o.domain or "ai.onnx": o.version for o in model.opset_import}})
    return graph, model, builder.tensors


def _read(path: Path) -> pb.ModelProto:
    if not path.is_file():
        raise NetdrawError(f"cannot read {path}: no such file")
    if path.stat().st_size == 0:
        raise NetdrawError(f"{path} is empty; export the model again")
    try:
        model = pb.ModelProto()
        model.ParseFromString(path.read_bytes())  # external data is never read
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


def _without_weights(model: pb.ModelProto, owned: bool) -> bytes:
    """The model serialised without the bytes of its large float initializers (their dims
    and types stay: shape inference and parameter counts need nothing more), so the copies
    shape inference makes stay small. ``owned`` models are stripped in place."""
    if owned:
        light = model
    else:  # the caller's model object stays as it was
        light = pb.ModelProto()
        light.CopyFrom(model)
    for init in light.graph.initializer:
        if init.data_type in _WEIGHT_DTYPES and math.prod(init.dims) > 64:
            init.ClearField("raw_data")
            init.ClearField("float_data")
            init.ClearField("double_data")
            init.ClearField("int32_data")
    return light.SerializeToString()


def _infer_shapes(data: bytes) -> pb.ModelProto:
    """The model with ONNX's inferred shapes (and what the file declares where it has
    more)."""
    model = pb.ModelProto()
    try:
        model.ParseFromString(onnx_proto.infer_shapes(data))
    except Exception:
        # Custom ops or inconsistent models: draw with what the file itself declares.
        model.ParseFromString(data)
    return model


_UNKNOWN = TensorSpec()
_WEIGHT_DTYPES = {pb.TensorProto.FLOAT, pb.TensorProto.DOUBLE, pb.TensorProto.FLOAT16,
                  pb.TensorProto.BFLOAT16, pb.TensorProto.INT8, pb.TensorProto.UINT8}
_GROUP_KEY = "netdraw.group"  # metadata key carrying a function-expansion group
_SCOPES_KEY = "pkg.torch.onnx.name_scopes"  # the dynamo exporter's module path of a node
_SIGNATURE_KEY = "pkg.torch.export.ExportedProgram.graph_signature"
#: Kinds of nodes whose initializer operands are weights even when the exporter computed
#: them from a parameter (a transposed weight; a class token expanded to the batch and
#: concatenated with the patches).
_WEIGHT_KINDS = frozenset({"conv", "conv_transpose", "dense", "embedding", "recurrent",
                           "attention", "norm", "concat"})
_PARAMETER = re.compile(r"PARAMETER target='([^']*)'")


def learned_weights(model: pb.ModelProto) -> frozenset[str] | None:
    """The names of the initializers that are learned parameters, when the file tells: a
    ``torch.onnx`` dynamo export lists its program's parameters in the graph's metadata; a
    legacy (TorchScript) export names each parameter after the module's (``fc.weight``)
    and what it computed ``onnx::Op_N`` or ``/scope/Name_output_0``. None when the file
    does not tell (another producer), and then every float initializer counts."""
    for prop in model.graph.metadata_props:
        if prop.key == _SIGNATURE_KEY:
            return frozenset(_PARAMETER.findall(prop.value))
    if model.producer_name == "pytorch":
        return frozenset(i.name for i in model.graph.initializer
                         if not i.name.startswith(("onnx::", "/")))
    return None


def _expand_local_functions(model: pb.ModelProto) -> pb.ModelProto:
    """Inline calls of model-local functions, tagging inlined nodes with their group."""
    functions = {(f.domain, f.name): f for f in model.functions}
    if not functions:
        return model
    expanded = pb.ModelProto()
    expanded.CopyFrom(model)
    del expanded.functions[:]
    counter = [0]

    def expand(nodes: list[pb.NodeProto], group: list[str]) -> list[pb.NodeProto]:
        out: list[pb.NodeProto] = []
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
            inner: list[pb.NodeProto] = []
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


def _copy_node(node: pb.NodeProto) -> pb.NodeProto:
    new = pb.NodeProto()
    new.CopyFrom(node)
    return new


def _set_meta(node: pb.NodeProto, key: str, value: str) -> None:
    entry = node.metadata_props.add()
    entry.key, entry.value = key, value


# -- conversion ------------------------------------------------------------------------


def _spec(type_proto: pb.TypeProto | None) -> TensorSpec:
    if type_proto is None or not type_proto.HasField("tensor_type"):
        return TensorSpec()
    tt = type_proto.tensor_type
    dtype = _DTYPES.get(tt.elem_type)
    if not tt.HasField("shape"):
        return TensorSpec(None, dtype)
    dims: list[int | str | None] = []
    for d in tt.shape.dim:
        which = d.WhichOneof("value")
        if which == "dim_value":
            dims.append(d.dim_value)
        elif which == "dim_param" and not d.dim_param.startswith("unk__"):
            dims.append(d.dim_param)  # unk__N: invented by shape inference, i.e. unknown
        else:
            dims.append(None)
    return TensorSpec(tuple(dims), dtype)


def _attr_value(attr: pb.AttributeProto) -> Any:
    if attr.type in (pb.AttributeProto.GRAPH, pb.AttributeProto.GRAPHS):
        return None
    if attr.type == pb.AttributeProto.TENSOR:
        return {"tensor": list(attr.t.dims)}
    value = onnx_proto.attribute_value(attr)
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


def _scopes(node: pb.NodeProto, name: str) -> tuple[list[tuple[str, str]], str]:
    """The enclosing scopes of a node as (path element, class name) pairs, and the ATen op
    the dynamo exporter made it for (``view_3``; empty for other exporters)."""
    if not node.metadata_props:
        if name.startswith("/"):
            return [(p, "") for p in name.split("/")[1:-1] if p], ""
        return [], ""
    meta = {p.key: p.value for p in node.metadata_props}
    if _GROUP_KEY in meta:
        return [(*str(g).split("\x1f", 1), "")[:2]  # type: ignore[misc]
                for g in _literal_list(meta[_GROUP_KEY])], ""
    if _SCOPES_KEY in meta:
        names = _literal_list(meta[_SCOPES_KEY])
        classes = _literal_list(meta.get("pkg.torch.onnx.class_hierarchy", "[]"))
        classes = [*classes, *[""] * len(names)]
        # names[0] is the root module, names[-1] the op itself.
        return ([(str(n), str(c).rsplit(".", 1)[-1])
                 for n, c in zip(names[1:-1], classes[1:-1], strict=False) if n],
                str(names[-1]) if names else "")
    if name.startswith("/"):
        return [(p, "") for p in name.split("/")[1:-1] if p], ""
    return [], ""


_COUNTER = re.compile(r"_\d+$")
#: Op names shortened the way readers know them (the PyTorch importer's names otherwise).
_OP_ALIASES = {"scaled_dot_product_attention": "sdpa"}


def _op_base(name: str, op_type: str, aten: str) -> str:
    """The op part of a readable node name: the exporter's ATen op (``view``, ``addmm``,
    ``sdpa``) for the node that stands for it, else the ONNX op type in lower case
    (``matmul``, ``softmax``; ``/layer1/Add_1`` and ``node_MatMul_82`` alike)."""
    if aten and name == f"node_{aten}":
        base = _COUNTER.sub("", aten) or op_type.lower()
        return _OP_ALIASES.get(base, base)
    return op_type.lower() or "op"


def _readable(name: str) -> bool:
    """A name a person gave (``conv1``, ``logits``), not an exporter's number or path."""
    return bool(name) and not name.startswith(("/", "node_", "onnx::")) and not _COUNTER.sub(
        "", "_" + name).strip("_").isdigit() and not name.replace(".", "").isdigit()


@dataclass
class _Builder:
    name: str
    graph: Graph = field(init=False)
    initializers: dict[str, int] = field(default_factory=dict)  # name -> numel
    counted: set[str] = field(default_factory=set)
    unique_id: UniqueIds = field(default_factory=UniqueIds)
    #: node id -> (length of the enclosing body's path, the node's own scopes)
    scoped: dict[str, tuple[int, list[tuple[str, str]]]] = field(default_factory=dict)
    #: top-level node id -> (input tensor names, output tensor names)
    tensors: dict[str, tuple[list[str], list[str]]] = field(default_factory=dict)
    #: one TensorSpec object per distinct shape and dtype (a 100k-node graph has few)
    interned: dict[TensorSpec, TensorSpec] = field(default_factory=dict)
    #: node id -> (exporter's name, the op part of a readable name) for generated names
    op_names: dict[str, tuple[str, str]] = field(default_factory=dict)
    #: the initializers that are learned weights, when the file says (see learned_weights)
    learned: frozenset[str] | None = None
    #: the float initializers the file does not list as parameters (computed constants)
    computed: set[str] = field(default_factory=set)
    #: node id -> the weight initializers it reads (nodes that read any)
    weights_of: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: weight initializer -> the node it is counted on (its first reader)
    owners: dict[str, str] = field(default_factory=dict)
    #: nodes whose legacy-export scope was a numbered later call (``encoder_1``)
    numbered_calls: set[str] = field(default_factory=set)
    #: the group paths of model-local function calls -> the function
    function_paths: dict[tuple[str, ...], str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.graph = Graph(self.name)

    def import_graph(self, gp: pb.GraphProto, scope: tuple[str, ...],
                     outer: MutableMapping[str, str | None] | None,
                     formal_inputs: dict[str, str | None] | None = None) -> list[str | None]:
        """Add a (sub)graph's nodes; returns the producers of its outputs.

        ``outer`` maps tensor names visible from enclosing graphs to producer ids (None for
        initializers and constants); ``formal_inputs`` maps a body's inputs to producers.
        """
        specs: dict[str, TensorSpec] = {}
        interned = self.interned
        for vi in [*gp.input, *gp.value_info, *gp.output]:
            spec = _spec(vi.type)
            specs[vi.name] = interned.setdefault(spec, spec)  # one object per distinct spec
        producers: MutableMapping[str, str | None] = (ChainMap({}, outer) if outer is not None
                                                       else {})
        learned = self.learned
        for init in gp.initializer:
            # Integer/bool initializers are shape and index data, not trainable weights.
            weight = init.data_type in _WEIGHT_DTYPES
            self.initializers[init.name] = math.prod(init.dims) if weight else 0
            if learned is not None and init.name not in learned:
                self.computed.add(init.name)
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
                name = vi.name if _readable(vi.name) else "input"
                attrs = {} if name == vi.name else {"onnx_name": vi.name}
                self.graph.add_node(Node(nid, name, "input", "Input", attrs=attrs,
                                         outputs=[spec]))
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
                # A legacy export names its outputs after tensor numbers ('601').
                many = len(gp.output) > 1
                name = vi.name if _readable(vi.name) else \
                    (f"output {len(self.graph.outputs) + 1}" if many else "output")
                attrs = {} if name == vi.name else {"onnx_name": vi.name}
                self.graph.add_node(Node(nid, name, "output", "Output", attrs=attrs,
                                         inputs=[spec], outputs=[spec]))
                src = producers[vi.name]
                if src is not None:
                    self.graph.add_edge(src, nid, spec)
        return out_producers

    def import_node(self, node: pb.NodeProto, specs: dict[str, TensorSpec],
                    producers: MutableMapping[str, str | None], scope: tuple[str, ...]) -> None:
        """Add one node, its incoming edges and its parameter count. O(inputs + outputs)."""
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
        attrs = {a.name: v for a in attributes if (v := _attr_value(a)) is not None} \
            if attributes else {}
        if renames and attrs:
            attrs = ops.normalise_attrs(renames, attrs)
        if framework == "custom":
            attrs["domain"] = domain

        initializers = self.initializers
        weights: list[str] = []
        data_inputs: list[str] = []
        params = 0
        for t in inputs:
            if t in initializers:
                weights.append(t)
            elif t:
                data_inputs.append(t)
        kind = _refine(kind, inputs, attrs, specs, weights)
        # A constant the exporter computed (not a listed parameter) is a weight only where
        # a layer reads it as one (a transposed weight folded into a MatMul's operand, a
        # class token concatenated); added to or multiplied with activations it is a mask,
        # a table or a scale, not a parameter.
        layer = kind in _WEIGHT_KINDS
        learned = tuple(t for t in weights if initializers[t]
                        and (layer or t not in self.computed))
        raw = node.name
        nid = self.unique_id(raw or op_type)
        for t in learned:
            if t not in self.counted:
                self.counted.add(t)
                self.owners[t] = nid
                params += initializers[t]
            elif "shared_with" not in attrs and self.owners.get(t, nid) != nid:
                attrs["shared_with"] = self.owners[t]  # its weights are counted there
        scopes, aten = _scopes(node, raw)
        if not _readable(raw):
            self.op_names[nid] = (raw or nid, _op_base(raw, op_type, aten))
        if learned:
            self.weights_of[nid] = learned
        if scopes:
            self.scoped[nid] = (len(scope), scopes)
            group = scope + tuple(name for name, _ in scopes)
            if node.metadata_props and any(p.key == _GROUP_KEY for p in node.metadata_props):
                for depth, (_, function) in enumerate(scopes, 1):
                    self.function_paths[group[:len(scope) + depth]] = function
        else:
            group = scope
        graph_attr = pb.AttributeProto.GRAPH
        has_body = bool(attributes) and any(a.type == graph_attr for a in attributes)
        unknown = _UNKNOWN
        self.graph.add_node(Node(
            nid, raw or nid, kind, op_type, attrs, params,
            [specs.get(t, unknown) for t in data_inputs],
            [specs.get(t, unknown) for t in outputs if t],
            (*group, nid) if has_body else group))
        edges = self.graph.edges
        seen: set[str] = set()
        for t in data_inputs:
            src = producers.get(t)
            if src is not None and t not in seen:
                seen.add(t)
                edges.append(Edge(src, nid, specs.get(t, unknown)))
        for t in outputs:
            if t:
                producers[t] = nid
        if not scope:
            self.tensors[nid] = (inputs, [t for t in outputs if t])
        if has_body:
            for attr in attributes:
                if attr.type == graph_attr:
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

    def import_body(self, node: pb.NodeProto, nid: str, attr: pb.AttributeProto,
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
        calls: dict[tuple[str, ...], tuple[str, ...]] = {}
        if self.scoped:
            _merge_numbered_calls(graph, self.scoped, self.initializers, self.numbered_calls)
            adopted = _adopt_unscoped(graph, self.scoped)
            calls = _split_calls(graph, self.scoped, adopted, self.weights_of,
                                 self.numbered_calls)
        _dissolve_singleton_groups(graph, self.scoped)
        _name_ops(graph, self.op_names)
        self.mark_calls(calls)
        graph.validate()
        return graph

    def mark_calls(self, split: dict[tuple[str, ...], tuple[str, ...]]) -> None:
        """Record the module calls found (see :mod:`netdraw.importers.calls`): groups split
        into calls (``split``: a later call's path -> the path it is a call of), calls of
        one model-local function reading the same weights, and layers of one module whose
        calls read the same weights (the same name and op)."""
        graph = self.graph

        def origin(path: tuple[str, ...]) -> tuple[str, ...]:
            for depth in range(len(path), 0, -1):
                if path[:depth] in split:
                    return origin(split[path[:depth]] + path[depth:])
            return path

        first: dict[tuple[str, ...], int] = {}
        for i, node in enumerate(graph.nodes.values()):
            for depth in range(1, len(node.group) + 1):
                first.setdefault(node.group[:depth], i)
        by_module: dict[Any, list[tuple[str, ...]]] = {}
        for path in sorted(graph.groups, key=lambda p: first.get(p, len(graph.nodes))):
            if path in self.function_paths:
                weights = frozenset(w for nid, ws in self.weights_of.items()
                                    if graph.nodes[nid].group[:len(path)] == path for w in ws)
                if weights:
                    by_module.setdefault((self.function_paths[path], weights), []).append(path)
            elif split:
                by_module.setdefault(origin(path), []).append(path)
        layers: dict[tuple[str, str, tuple[str, ...]], list[str]] = {}
        for nid, weights in self.weights_of.items():
            node = graph.nodes[nid]
            layers.setdefault((node.name, node.op_type, weights), []).append(nid)
        mark_calls(graph, by_module.values(), layers.values())


def _names_used(node: pb.NodeProto) -> set[str]:
    """Tensor names a node reads, including those its subgraph bodies read from outside."""
    used = set(node.input)
    for attr in node.attribute:
        if attr.type == pb.AttributeProto.GRAPH:
            for inner in attr.g.node:
                used |= _names_used(inner)
    return used


def _topological_nodes(gp: pb.GraphProto) -> list[pb.NodeProto]:
    """The graph's nodes in dependency order (ONNX requires it; not every writer obeys).
    O(N + E) when they already are; a sort otherwise."""
    nodes = list(gp.node)
    producer = {t: i for i, n in enumerate(nodes) for t in n.output if t}
    graph_attr = pb.AttributeProto.GRAPH

    def used(n: pb.NodeProto) -> set[str] | list[str]:
        if n.attribute and any(a.type == graph_attr for a in n.attribute):
            return _names_used(n)
        return n.input

    if all(producer.get(t, -1) < i or producer.get(t) == i
           for i, n in enumerate(nodes) for t in used(n)):
        return nodes
    deps = [{producer[t] for t in used(n) if t in producer} - {i} for i, n in enumerate(nodes)]
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


_NUMBERED = re.compile(r"^(.+)_(\d+)$")


def _merge_numbered_calls(graph: Graph, scoped: dict[str, tuple[int, list[tuple[str, str]]]],
                          initializers: dict[str, int], numbered: set[str]) -> None:
    """Give a legacy export's numbered later calls (``/encoder_1/Relu``,
    ``/encoder/conv1_1/Conv``) their module's own scope (``encoder``, ``conv1``), so
    :func:`_split_calls` can split the calls by structure. A scope ``x_1`` is a call of
    ``x`` when ``x`` is a scope beside it and no weight is named after ``x_1`` (a module
    really called ``x_1`` owns its weights). The renamed nodes go into ``numbered``.
    O(N·depth)."""
    paths = {graph.nodes[nid].group[:d] for nid in scoped
             for d in range(1, len(graph.nodes[nid].group) + 1)}
    owners = {name.rsplit(".", 1)[0] for name in initializers if "." in name}
    for nid, (base, scopes) in scoped.items():
        node = graph.nodes[nid]
        group, names = list(node.group), [name for name, _ in scopes]
        for i in range(base, len(group)):
            found = _NUMBERED.match(group[i])
            if found is None or (*group[:i], found.group(1)) not in paths:
                continue
            qualified = _qualified([*names[:i - base], group[i]])
            if qualified in owners or any(o.startswith(qualified + ".") for o in owners):
                continue
            group[i] = names[i - base] = found.group(1)
            numbered.add(nid)
        if nid in numbered:
            node.group = tuple(group)
            scoped[nid] = (base, [(n, c) for n, (_, c) in zip(names, scopes, strict=True)])


def _split_calls(graph: Graph, scoped: dict[str, tuple[int, list[tuple[str, str]]]],
                 adopted: set[str], weights_of: dict[str, tuple[str, ...]],
                 numbered: set[str]) -> dict[tuple[str, ...], tuple[str, ...]]:
    """Split each scope that holds several calls of its module into one group per call
    (outer scopes first, then the scopes inside each call); returns each later call's
    path -> the scope it was split from. A scope's nodes (with its inner scopes') fall
    into pieces joined by no edge inside the scope; the pieces are calls when each holds
    the same layers in the same inner scopes, in order, as the first, and reads weights
    the first reads (or, in a legacy export, was numbered as a later call).
    O((N + E)·depth)."""
    split: dict[tuple[str, ...], tuple[str, ...]] = {}
    nodes = graph.nodes
    position = {nid: i for i, nid in enumerate(nodes)}
    members: dict[tuple[str, ...], list[str]] = {}
    for nid in [*scoped, *adopted]:
        group = nodes[nid].group
        base = scoped[nid][0] if nid in scoped else 0
        for d in range(base + 1, len(group) + 1):
            members.setdefault(group[:d], []).append(nid)
    preds = graph.predecessors()
    queue = [(len(p), i, p) for i, p in enumerate(members)]
    heapq.heapify(queue)
    count = len(queue)
    while queue:
        _, _, path = heapq.heappop(queue)
        ids = sorted({nid for nid in members.pop(path, ())
                      if nodes[nid].group[:len(path)] == path}, key=position.__getitem__)
        if len(ids) < 2:
            continue
        pieces = _pieces(ids, preds, position)
        if len(pieces) < 2 or not _are_calls(pieces, path, nodes, weights_of, numbered):
            continue
        for k, piece in enumerate(pieces[1:], 2):
            new = (*path[:-1], call_element(path[-1], k))
            split[new] = path
            for nid in piece:
                group = nodes[nid].group = new + nodes[nid].group[len(path):]
                for d in range(len(new) + 1, len(group) + 1):
                    if group[:d] not in members:
                        count += 1
                        heapq.heappush(queue, (d, count, group[:d]))
                    members.setdefault(group[:d], []).append(nid)
    return split


def _pieces(ids: list[str], preds: dict[str, list[str]],
            position: dict[str, int]) -> list[list[str]]:
    """``ids`` (in graph order) split into the pieces no edge between two of them joins,
    ordered by their first node."""
    parent = {nid: nid for nid in ids}

    def root(nid: str) -> str:
        while parent[nid] != nid:
            parent[nid] = parent[parent[nid]]
            nid = parent[nid]
        return nid

    for nid in ids:
        for p in preds[nid]:
            if p in parent:
                a, b = root(p), root(nid)
                if a != b:
                    a, b = sorted((a, b), key=position.__getitem__)
                    parent[b] = a
    pieces: dict[str, list[str]] = {}
    for nid in ids:
        pieces.setdefault(root(nid), []).append(nid)
    return list(pieces.values())


def _are_calls(pieces: list[list[str]], path: tuple[str, ...], nodes: dict[str, Node],
               weights_of: dict[str, tuple[str, ...]], numbered: set[str]) -> bool:
    """Whether the pieces of a scope are calls of its module (see :func:`_split_calls`)."""
    def layers(piece: list[str]) -> list[tuple[tuple[str, ...], str]]:
        return [(nodes[nid].group[len(path):], nodes[nid].op_type) for nid in piece]

    first = layers(pieces[0])
    first_weights = {w for nid in pieces[0] for w in weights_of.get(nid, ())}
    for piece in pieces[1:]:
        if layers(piece) != first:
            return False
        weights = {w for nid in piece for w in weights_of.get(nid, ())}
        if not (weights & first_weights or any(nid in numbered for nid in piece)):
            return False
    return True


def _adopt_unscoped(graph: Graph, scoped: dict[str, tuple[int, list[tuple[str, str]]]]
                    ) -> set[str]:
    """Nodes an exporter's optimiser made without a module scope (a ``Split`` fused from
    slices) join the deepest group their producers and consumers share, so collapsing a
    block never has to route its data out to the top level and back; returns their ids.
    O(N + E·depth)."""
    adopted: set[str] = set()
    preds = graph.predecessors()
    succs = graph.successors()
    for node in graph.nodes.values():
        if node.group or node.id in scoped or node.kind in ("input", "output"):
            continue
        paths = [graph.nodes[n].group for n in (*preds[node.id], *succs[node.id])
                 if graph.nodes[n].kind not in ("input", "output")]
        if not paths:
            continue
        common = paths[0]
        for path in paths[1:]:
            k = 0
            while k < min(len(common), len(path)) and common[k] == path[k]:
                k += 1
            common = common[:k]
        node.group = common
        if common:
            adopted.add(node.id)
    return adopted


def _name_ops(graph: Graph, op_names: dict[str, tuple[str, str]]) -> None:
    """Exporter-named nodes (``node_MatMul_82``, ``/encoder/layer.0/Add``) get the name the
    PyTorch importer gives an op between modules: the enclosing module's qualified name
    and the op (``encoder.layer.0.attention.self.matmul``; ``_2``, ``_3`` for repeats in a
    scope). The exporter's name stays in ``attrs["onnx_name"]``. O(N)."""
    counts: dict[tuple[tuple[str, ...], str], int] = {}
    for node in graph.nodes.values():
        raw, base = op_names.get(node.id, (None, ""))
        if raw is None or node.name != raw:
            continue  # a leaf module's node already took the module's name
        group = graph.groups.get(node.group)
        scope = group.display_name if group is not None else ""
        key = (node.group, base)
        count = counts[key] = counts.get(key, 0) + 1
        node.attrs["onnx_name"] = raw
        node.name = (f"{scope}.{base}" if scope else base) + (f"_{count}" if count > 1 else "")
