"""Keras model configs -> :class:`netdraw.ir.Graph`, with no framework imported.

A config is what ``.keras`` archives keep in ``config.json`` and ``.h5`` files in their
``model_config`` attribute: Sequential and Functional models (Keras 3, and the tf.keras 2
"legacy" layout), nested to any depth. :func:`parse_model` turns one into a small
framework-free description (:class:`KModel`); the live-model importer builds the same
description from Keras objects. :func:`build_graph` then makes one node per layer call, runs
shape inference and counts parameters (:mod:`netdraw.importers.keras_layers`).

Conventions (the same for live models and files):

- Shapes keep Keras' batch dim as None (drawn as ``?``).
- A layer called several times gives one node per call: ids ``dense``, ``dense#2``, …, all
  named ``dense`` and marked as calls of one layer (``attrs["call"]``, ``["calls"]``,
  ``["shared_with"]``, see :mod:`netdraw.importers.calls`); its weights are counted on the
  first call only.
- A nested model becomes a group (path = nested model names; a second call of the same
  nested model is the group ``enc#2``, labelled ``enc`` and marked as call 2 of ``enc``);
  its input layers dissolve into the edges, so only the outer model's inputs are
  ``input`` nodes.
- A layer netdraw does not know draws as kind ``other`` with an unknown output shape; layers
  whose weights it cannot count are listed in ``graph.meta["uncounted_params"]``.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from netdraw import ops
from netdraw.errors import NetdrawError
from netdraw.importers import keras_layers
from netdraw.importers.calls import call_element, mark_calls
from netdraw.importers.keras_layers import Shape
from netdraw.ir import Graph, Node, TensorSpec, UniqueIds

Ref = tuple[str, int, int]  # (layer name, call index, output index)

FUNCTIONAL_CLASSES = ("Functional", "Model")
SEQUENTIAL_CLASSES = ("Sequential",)


@dataclass
class KTensor:
    """One tensor argument of a call: where it comes from and what Keras recorded."""

    ref: Ref
    shape: Shape | None = None  # as recorded in the config (or seen on a live model)
    dtype: str | None = None
    role: str = ""  # "" for positional, else the keyword it was passed as


@dataclass
class KCall:
    """One call of a layer inside its model."""

    inputs: list[KTensor] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)  # non-tensor keyword arguments
    #: Facts a live model knows exactly (None: infer them).
    output_shapes: list[Shape | None] | None = None
    output_dtypes: list[str | None] | None = None
    #: The live Keras node of this call (live models only): its output tensors are what
    #: :mod:`netdraw.viz` asks Keras to compute.
    source: Any = None


@dataclass(eq=False)
class KLayer:
    """A layer (or ``keras.ops`` operation, or nested model) of a model."""

    name: str
    class_name: str
    config: dict[str, Any]
    calls: list[KCall] = field(default_factory=list)
    module: str = ""
    model: KModel | None = None  # set for a nested model
    params: int | None = None  # exact count: from a live model, or the file's weights
    key: object = None  # identity for counting shared weights once

    def __post_init__(self) -> None:
        if self.key is None:
            self.key = self

    @property
    def custom(self) -> bool:
        """A class of the user's own (its module is not Keras'): a rule for a built-in
        class of the same name does not count its weights."""
        return bool(self.module) and self.module.split(".")[0] not in ("keras", "tf_keras")


@dataclass(eq=False)
class KModel:
    """A Functional or Sequential model: its layers and the refs of its inputs/outputs."""

    name: str
    class_name: str
    layers: list[KLayer]
    inputs: list[Ref]
    outputs: list[Ref]


# -- parsing configs -------------------------------------------------------------------


def is_model_config(item: dict[str, Any]) -> bool:
    config = item.get("config")
    return isinstance(config, dict) and isinstance(config.get("layers"), list)


def parse_model(item: dict[str, Any]) -> KModel:
    """A serialised model (``{"class_name": ..., "config": {...}}``) -> :class:`KModel`.

    Raises NetdrawError when the dict is not a Sequential or Functional model config.
    """
    if not isinstance(item, dict):
        raise NetdrawError("the model config is not a JSON object; the file is corrupt")
    class_name = str(item.get("class_name") or "")
    config = item.get("config")
    if not isinstance(config, dict):
        raise NetdrawError(f"the model config of class {class_name or '?'!r} has no 'config' "
                           "object; the file is corrupt or not a Keras model")
    if not isinstance(config.get("layers"), list):
        raise NetdrawError(
            f"the model is a subclassed model ({class_name or 'unknown class'}): its layers "
            "live in Python code, not in the saved config, so there is nothing to draw; "
            "pass the built model object to netdraw.load() instead")
    name = str(config.get("name") or class_name or "model")
    if class_name in SEQUENTIAL_CLASSES or "input_layers" not in config:
        return _parse_sequential(name, class_name or "Sequential", config)
    return _parse_functional(name, class_name, config)


def _layer_name(item: dict[str, Any], index: int) -> str:
    config = item.get("config") if isinstance(item.get("config"), dict) else {}
    return str(item.get("name") or config.get("name") or f"layer_{index}")


def _make_layer(item: dict[str, Any], index: int) -> KLayer:
    if not isinstance(item, dict):
        raise NetdrawError(f"layer {index} of the model config is not a JSON object; "
                           "the file is corrupt")
    name = _layer_name(item, index)
    config = item.get("config") if isinstance(item.get("config"), dict) else {}
    layer = KLayer(name, str(item.get("class_name") or "Layer"), config,
                   module=str(item.get("module") or ""))
    if is_model_config(item):
        layer.model = parse_model(item)
    return layer


def _parse_sequential(name: str, class_name: str, config: dict[str, Any]) -> KModel:
    items = config["layers"]
    layers = [_make_layer(item, i) for i, item in enumerate(items)]
    if layers and layers[0].class_name == "InputLayer":
        first = layers[0]
    else:
        shape = config.get("build_input_shape")
        if shape is None and items:
            head = items[0] if isinstance(items[0], dict) else {}
            head_config = head.get("config") if isinstance(head.get("config"), dict) else {}
            shape = (head_config.get("batch_input_shape") or head_config.get("batch_shape")
                     or (head.get("build_config") or {}).get("input_shape"))
        taken = {layer.name for layer in layers}
        input_name = f"{name}_input" if f"{name}_input" not in taken else f"{name}_input_0"
        first = KLayer(input_name, "InputLayer",
                       {"batch_shape": shape if isinstance(shape, list) else None})
        layers.insert(0, first)
    previous = first
    for layer in layers[1:]:
        layer.calls.append(KCall([KTensor((previous.name, 0, 0))]))
        previous = layer
    return KModel(name, class_name, layers, [(first.name, 0, 0)], [(previous.name, 0, 0)])


def _parse_functional(name: str, class_name: str, config: dict[str, Any]) -> KModel:
    layers = [_make_layer(item, i) for i, item in enumerate(config["layers"])]
    by_name = {layer.name: layer for layer in layers}
    for layer, item in zip(layers, config["layers"], strict=True):
        for node in item.get("inbound_nodes") or []:
            call = _parse_call(node)
            if call is not None:
                layer.calls.append(call)
    inputs = _refs(config.get("input_layers"))
    outputs = _fix_nested_node_indices(layers, by_name, _refs(config.get("output_layers")))
    for ref in [*inputs, *outputs]:
        if ref[0] not in by_name:
            raise NetdrawError(f"the model {name!r} names {ref[0]!r} as an input or output, "
                               "but has no layer of that name; the config is corrupt")
    return KModel(name, class_name or "Functional", layers, inputs, outputs)


def _refs(value: Any) -> list[Ref]:
    """Flatten a (nested list/dict of) ``[name, node, tensor]`` triple(s)."""
    out: list[Ref] = []

    def walk(item: Any) -> None:
        if _is_ref(item):
            out.append((item[0], int(item[1]), int(item[2])))
        elif isinstance(item, dict):
            for key in item:
                walk(item[key])
        elif isinstance(item, (list, tuple)):
            for element in item:
                walk(element)

    walk(value)
    return out


def _is_ref(item: Any) -> bool:
    """``[layer name, call index, output index, ...]``."""
    return (isinstance(item, (list, tuple)) and len(item) >= 3 and isinstance(item[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                    for i in item[1:3]))


def _parse_call(node: Any) -> KCall | None:
    """One entry of ``inbound_nodes``: Keras 3's ``{"args", "kwargs"}`` or tf.keras' list."""
    call = KCall()
    if isinstance(node, dict) and ("args" in node or "kwargs" in node):
        _collect(node.get("args"), "", call)
        kwargs = node.get("kwargs") if isinstance(node.get("kwargs"), dict) else {}
        for key, value in kwargs.items():
            if _collect(value, str(key), call) == 0:
                call.kwargs[str(key)] = value
        return call
    if isinstance(node, list):  # legacy: [[name, node_index, tensor_index, kwargs], ...]
        for entry in node:
            if _is_ref(entry):
                call.inputs.append(KTensor((entry[0], int(entry[1]), int(entry[2]))))
                if len(entry) > 3 and isinstance(entry[3], dict):
                    for key, value in entry[3].items():
                        refs = _refs(value) if isinstance(value, list) else []
                        if refs:
                            call.inputs.extend(KTensor(r, role=str(key)) for r in refs)
                        else:
                            call.kwargs[str(key)] = value
        return call
    return None


def _collect(value: Any, role: str, call: KCall) -> int:
    """Add the Keras tensors found in an argument to the call; return how many."""
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value.get("config") or {}
            history = config.get("keras_history") or []
            if _is_ref(history):
                call.inputs.append(KTensor((history[0], int(history[1]), int(history[2])),
                                           keras_layers._shape(config.get("shape")),
                                           config.get("dtype"), role))
                return 1
            return 0
        return sum(_collect(v, role, call) for v in value.values())
    if isinstance(value, (list, tuple)):
        return sum(_collect(v, role, call) for v in value)
    return 0


def _fix_nested_node_indices(layers: list[KLayer], by_name: dict[str, KLayer],
                             refs: list[Ref]) -> list[Ref]:
    """Make refs to nested Functional models 0-based; returns ``refs`` shifted likewise.

    Keras numbers a nested Functional model's calls from 1 (its call 0 is its own
    construction); Sequential models and plain layers start at 0.
    """
    tensors = [t for layer in layers for call in layer.calls for t in call.inputs]
    refs_to: dict[str, list[int]] = {}
    for ref in [t.ref for t in tensors] + refs:
        refs_to.setdefault(ref[0], []).append(ref[1])
    shift: dict[str, int] = {}
    for name, indices in refs_to.items():
        layer = by_name.get(name)
        if layer is None or layer.model is None:
            continue
        functional = layer.class_name != "Sequential" and "input_layers" in layer.config
        if max(indices) >= len(layer.calls) or (functional and min(indices) >= 1):
            shift[name] = 1
    for tensor in tensors:
        name, index, out = tensor.ref
        if name in shift:
            tensor.ref = (name, max(index - shift[name], 0), out)
    return [(n, max(i - shift.get(n, 0), 0), o) for n, i, o in refs]


# -- building the graph ----------------------------------------------------------------


@dataclass
class _Value:
    """A tensor during evaluation: the node that makes it, its shape and dtype."""

    src: str | None
    shape: Shape | None = None
    dtype: str | None = None
    index: int = 0  # which output of ``src``


class GraphBuilder:
    """Evaluates a KModel call by call, adding one IR node per layer call."""

    def __init__(self, name: str, *, trust_recorded: bool = True) -> None:
        #: Use the input shapes a config recorded for each call over netdraw's own inference
        #: (False checks the inference alone).
        self.trust_recorded = trust_recorded
        self.graph = Graph(name)
        self.counted: set[int] = set()
        self.unique_id = UniqueIds("~")
        #: node id -> (layer, call) for every layer-call node, and the calls of nested
        #: models by their group path.
        self.calls: dict[str, tuple[KLayer, KCall]] = {}
        self.nested: dict[tuple[str, ...], tuple[KLayer, KCall]] = {}
        #: id of a layer's weights -> its calls: group paths (nested models) or node ids
        self.group_calls: dict[int, list[tuple[str, ...]]] = {}
        self.node_calls: dict[int, list[str]] = {}

    # -- top level ------------------------------------------------------------------
    def build(self, model: KModel) -> Graph:
        by_name = {layer.name: layer for layer in model.layers}
        bound: dict[Ref, _Value] = {}
        for ref in model.inputs:
            layer = by_name[ref[0]]
            nid = self.unique_id(layer.name)
            shape, dtype = _input_spec(layer)
            self.graph.add_node(Node(nid, layer.name, "input", "InputLayer",
                                     outputs=[TensorSpec(shape, dtype)]))
            bound[ref] = _Value(nid, shape, dtype)
        produced = self.run(model, bound, ())
        for ref in model.outputs:
            value = self._value(KTensor(ref), produced, self.trust_recorded)
            name = ref[0] if ref[2] == 0 else f"{ref[0]}:{ref[2]}"
            nid = self.unique_id(f"output:{name}")
            spec = TensorSpec(value.shape, value.dtype)
            self.graph.add_node(Node(nid, name, "output", "Output", inputs=[spec],
                                     outputs=[spec]))
            if value.src is not None:
                self.graph.add_edge(value.src, nid, spec)
        mark_calls(self.graph, self.group_calls.values(), self.node_calls.values())
        self.graph.validate()
        return self.graph

    # -- one model ------------------------------------------------------------------
    def run(self, model: KModel, bound: dict[Ref, _Value],
            path: tuple[str, ...]) -> dict[Ref, _Value]:
        """Evaluate every call of ``model``; ``bound`` gives the values of its inputs."""
        produced: dict[Ref, _Value] = dict(bound)
        input_layers = {ref[0] for ref in model.inputs}
        for layer, index in _call_order(model, input_layers):
            call = layer.calls[index]
            values = [self._value(t, produced, self.trust_recorded) for t in call.inputs]
            if layer.model is not None:
                outputs = self.run_nested(layer, index, values, path)
            else:
                outputs = self.add_call(layer, index, call, values, path)
            for i, value in enumerate(outputs):
                produced[(layer.name, index, i)] = value
        return produced

    @staticmethod
    def _value(tensor: KTensor, produced: dict[Ref, _Value], trust: bool) -> _Value:
        value = produced.get(tensor.ref)
        if value is None:
            # An output netdraw did not know the layer had (an unknown layer's second
            # output): it still comes from that layer's node.
            first = produced.get((*tensor.ref[:2], 0))
            src = first.src if first is not None and tensor.ref[2] > 0 else None
            return _Value(src, tensor.shape, tensor.dtype, tensor.ref[2])
        if trust and tensor.shape is not None and tensor.shape != value.shape:
            # Keras recorded what the consumer received: trust it over our inference.
            return _Value(value.src, tensor.shape, tensor.dtype or value.dtype, value.index)
        return value

    def run_nested(self, layer: KLayer, index: int, values: list[_Value],
                   path: tuple[str, ...]) -> list[_Value]:
        inner = layer.model
        assert inner is not None
        group = (*path, call_element(layer.name, index + 1))
        self.graph.add_group(group, class_name=layer.class_name, label=layer.name)
        self.group_calls.setdefault(id(layer.key), []).append(group)
        self.nested[group] = (layer, layer.calls[index])
        bound = {ref: values[i] if i < len(values) else _Value(None)
                 for i, ref in enumerate(inner.inputs)}
        produced = self.run(inner, bound, group)
        outputs = [self._value(KTensor(ref), produced, self.trust_recorded)
                   for ref in inner.outputs]
        return outputs or [_Value(None)]

    def add_call(self, layer: KLayer, index: int, call: KCall, values: list[_Value],
                 path: tuple[str, ...]) -> list[_Value]:
        in_shapes = [v.shape for v in values]
        roles = [t.role for t in call.inputs]
        facts = keras_layers.infer(layer.class_name, layer.config, in_shapes, roles,
                                   call.kwargs, layer.module)
        out_shapes = list(facts.outputs)
        if call.output_shapes is not None:
            out_shapes = list(call.output_shapes)
        params = layer.params
        if params is None and not layer.custom:
            params = facts.params
        if params is None and id(layer.key) not in self.counted:
            # Weights netdraw cannot count: the graph's total is then a lower bound.
            self.graph.meta.setdefault("uncounted_params", []).append(layer.name)
        if id(layer.key) in self.counted or params is None:
            params = 0
        self.counted.add(id(layer.key))

        dtype = _compute_dtype(layer.config) or next((v.dtype for v in values if v.dtype), None)
        out_dtypes = call.output_dtypes or [dtype] * len(out_shapes)
        kind, renames = ops.lookup("keras", layer.class_name)
        attrs = keras_attrs(layer, renames, in_shapes)
        kind = _refine_kind(kind, layer, attrs)
        base = "/".join([*path, layer.name]) + (f"#{index + 1}" if index else "")
        nid = self.unique_id(base)
        self.node_calls.setdefault(id(layer.key), []).append(nid)
        outputs = [TensorSpec(s, d) for s, d in zip(out_shapes, out_dtypes, strict=False)]
        self.calls[nid] = (layer, call)
        self.graph.add_node(Node(nid, layer.name, kind, layer.class_name, attrs=attrs,
                                 params=int(params), group=path,
                                 inputs=[TensorSpec(v.shape, v.dtype) for v in values],
                                 outputs=outputs or [TensorSpec()]))
        seen: set[tuple[str, int]] = set()
        for value in values:  # one edge per distinct tensor (x * x draws one)
            if value.src is not None and (value.src, value.index) not in seen:
                seen.add((value.src, value.index))
                self.graph.add_edge(value.src, nid, TensorSpec(value.shape, value.dtype))
        return [_Value(nid, s, d, i)
                for i, (s, d) in enumerate(zip(out_shapes, out_dtypes, strict=False))] or \
            [_Value(nid)]


def _call_order(model: KModel, input_layers: set[str]) -> list[tuple[KLayer, int]]:
    """All (layer, call index) pairs of a model in a dependency order, stable by config order."""
    keys: list[tuple[KLayer, int]] = []
    position: dict[tuple[str, int], int] = {}
    for layer in model.layers:
        if layer.name in input_layers:
            continue
        for index in range(len(layer.calls)):
            position[(layer.name, index)] = len(keys)
            keys.append((layer, index))
    waiting = [0] * len(keys)
    users: list[list[int]] = [[] for _ in keys]
    for i, (layer, index) in enumerate(keys):
        deps = {position[t.ref[:2]] for t in layer.calls[index].inputs
                if t.ref[:2] in position}
        deps.discard(i)
        waiting[i] = len(deps)
        for d in deps:
            users[d].append(i)
    ready = [i for i, n in enumerate(waiting) if n == 0]
    heapq.heapify(ready)
    order: list[tuple[KLayer, int]] = []
    while ready:
        i = heapq.heappop(ready)
        order.append(keys[i])
        for u in users[i]:
            waiting[u] -= 1
            if waiting[u] == 0:
                heapq.heappush(ready, u)
    if len(order) != len(keys):
        stuck = [keys[i][0].name for i, n in enumerate(waiting) if n > 0][:3]
        raise NetdrawError(f"the layers of model {model.name!r} call each other in a cycle "
                           f"(through {', '.join(map(repr, stuck))}); the config is corrupt")
    return order


def _input_spec(layer: KLayer) -> tuple[Shape | None, str | None]:
    facts = keras_layers.infer("InputLayer", layer.config, [])
    shape = facts.outputs[0]
    if layer.calls and layer.calls[0].output_shapes:
        shape = layer.calls[0].output_shapes[0]
    dtype = layer.config.get("dtype")
    return shape, _dtype_name(dtype) or "float32"


def _dtype_name(dtype: Any) -> str | None:
    if isinstance(dtype, str):
        return dtype
    if isinstance(dtype, dict):
        inner = dtype.get("config")
        if isinstance(inner, dict) and isinstance(inner.get("name"), str):
            return inner["name"]
    return None


def _compute_dtype(config: dict[str, Any]) -> str | None:
    """The dtype a layer computes in, from its dtype policy (``mixed_float16`` -> float16)."""
    name = _dtype_name(config.get("dtype"))
    if name is None:
        return None
    return name.split("_", 1)[1] if name.startswith("mixed_") else name


# -- attributes ------------------------------------------------------------------------

_NOISE = {"name", "trainable", "dtype", "seed", "data_format", "autocast", "sparse", "ragged",
          "quantization_config", "lora_rank", "lora_alpha", "optional", "batch_shape",
          "batch_input_shape", "input_shape", "build_input_shape", "function", "arguments",
          "module", "function_type", "output_shape_type", "output_shape_module",
          "registered_name"}
_NOISE_SUFFIXES = ("_initializer", "_regularizer", "_constraint")


def activation_name(value: Any) -> str | None:
    """``"relu"``, or the name inside a serialised activation; None for linear."""
    if isinstance(value, dict):
        inner = value.get("config")
        value = inner if isinstance(inner, str) else (
            inner.get("name") if isinstance(inner, dict) else None) or value.get("class_name")
    if not isinstance(value, str) or value in ("linear", "None", ""):
        return None
    return value


def keras_attrs(layer: KLayer, renames: dict[str, str],
                in_shapes: list[Shape | None]) -> dict[str, Any]:
    """A layer config -> IR attributes (renamed keys, no initializers, no None values)."""
    attrs: dict[str, Any] = {}
    for key, value in layer.config.items():
        if key in _NOISE or key.endswith(_NOISE_SUFFIXES) or value is None:
            continue
        if key in ("activation", "recurrent_activation"):
            name = activation_name(value)
            if name is not None:
                attrs[key] = name
            continue
        value = _plain(value)
        if value is not None:
            attrs[renames.get(key, key)] = value
    if layer.config.get("data_format") == "channels_first":
        attrs["data_format"] = "channels_first"
    _derived_attrs(layer, attrs, in_shapes)
    return attrs


def _plain(value: Any) -> Any:
    """A JSON-friendly copy of a config value (lists of numbers, strings…), else None.

    Live configs may hold tuples and numpy scalars; serialised objects (dicts) are dropped.
    """
    if isinstance(value, (list, tuple)):
        items = [_plain(v) if v is not None else None for v in value]
        if any(i is None and v is not None for i, v in zip(items, value, strict=True)):
            return None
        return items
    if isinstance(value, (bool, int, float, str)):
        return value
    if type(value).__module__ == "numpy" and hasattr(value, "item") and \
            getattr(value, "ndim", None) == 0:
        return _plain(value.item())
    return None


def _derived_attrs(layer: KLayer, attrs: dict[str, Any], in_shapes: list[Shape | None]) -> None:
    """IR attributes Keras does not store directly: channels, groups, pool strides, …"""
    cls = layer.class_name
    x = in_shapes[0] if in_shapes else None
    channels_first = layer.config.get("data_format") == "channels_first"
    cin = (x[1] if channels_first else x[-1]) if x else None
    kind = ops.lookup("keras", cls)[0]
    if kind in ("conv", "conv_transpose"):
        if cin is not None:
            attrs["in_channels"] = cin
        if cls.startswith("Depthwise"):
            mult = int(layer.config.get("depth_multiplier") or 1)
            if cin is not None:
                attrs["groups"] = cin
                attrs["out_channels"] = cin * mult
        elif cls.startswith("Separable"):
            attrs.setdefault("groups", 1)
            attrs["separable"] = True
        else:
            attrs.setdefault("groups", 1)
    elif kind == "pool":
        if "stride" not in attrs and "kernel_size" in attrs:
            attrs["stride"] = attrs["kernel_size"]
    elif cls == "ReLU":
        max_value = layer.config.get("max_value")
        attrs["activation"] = "relu6" if max_value == 6 else "relu"
    elif cls == "LeakyReLU":
        attrs["activation"] = "leaky_relu"
    elif cls in ("PReLU", "ELU", "ThresholdedReLU"):
        attrs["activation"] = cls.lower()
    elif cls in ("Softmax", "LogSoftmax"):
        attrs["activation"] = cls.lower()
    elif cls == "Bidirectional" or cls == "TimeDistributed":
        inner = layer.config.get("layer") or {}
        inner_config = inner.get("config") if isinstance(inner.get("config"), dict) else {}
        attrs["layer"] = inner.get("class_name")
        for key in ("units", "filters", "return_sequences"):
            if inner_config.get(key) is not None:
                attrs[key] = inner_config[key]
    if kind == "activation" and "activation" not in attrs:
        attrs["activation"] = cls.lower()  # keras.ops.relu and friends
    if kind in ("conv", "conv_transpose", "pool"):
        for key in ("kernel_size", "stride", "dilation"):
            if isinstance(attrs.get(key), int):
                rank = keras_layers._rank(cls)
                attrs[key] = [attrs[key]] * rank


def _refine_kind(kind: str, layer: KLayer, attrs: dict[str, Any]) -> str:
    if layer.class_name == "Activation" and attrs.get("activation") in ("softmax",
                                                                         "log_softmax"):
        return "softmax"
    if layer.class_name == "Activation" and activation_name(layer.config.get("activation")) \
            is None:
        return "identity"  # Activation("linear"): ConvNeXt's stochastic-depth placeholder
    if layer.class_name == "TimeDistributed":
        inner = (layer.config.get("layer") or {}).get("class_name", "")
        return ops.lookup("keras", str(inner))[0]
    return kind


def graph_from_config(item: dict[str, Any], *, name: str | None = None,
                      trust_recorded: bool = True,
                      count: Callable[[KModel], None] | None = None) -> Graph:
    """A serialised Keras model (the ``config.json`` object) -> Graph. ``count`` may set
    the ``params`` of the parsed model's layers (from the file's weights) before the graph
    is built."""
    try:
        model = parse_model(item)
        if count is not None:
            count(model)
        graph = GraphBuilder(name or model.name, trust_recorded=trust_recorded).build(model)
    except (TypeError, ValueError, KeyError, AttributeError, IndexError) as exc:
        raise NetdrawError(f"the model config is malformed ({type(exc).__name__}: "
                           f"{str(exc)[:80]}); the file is corrupt or not a Keras model"
                           ) from None
    graph.meta["framework"] = "keras"
    graph.meta["model_class"] = model.class_name
    return graph
