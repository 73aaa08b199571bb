"""The Python API of :mod:`netdraw.viz`: open a model, capture, CAM, filters."""

from __future__ import annotations

import os
import weakref
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.viz.activations import CHANNELS_LAST, Activations, representative
from netdraw.viz.inputs import Batch, InputSpec, Normalization, load_inputs

_KERAS_SUFFIXES = (".keras", ".h5", ".hdf5")
#: Gradient-ascent image size when the model does not say its input size.
DEFAULT_ASCENT_SIZE = 64


@dataclass
class OpenedModel:
    """A model ready to run: its runtime, what input it takes and its name."""

    runtime: Any
    spec: InputSpec
    name: str

    @property
    def framework(self) -> str:
        return self.runtime.framework


def _framework_of(obj: Any) -> str | None:
    for cls in type(obj).__mro__:
        root = cls.__module__.split(".")[0]
        if root == "onnx" and cls.__name__ == "ModelProto":
            return "onnx"
        if root == "keras" and cls.__name__ == "Model":
            return "keras"
    for cls in type(obj).__mro__:
        if cls.__module__.split(".")[0] == "torch" and cls.__name__ == "Module":
            return "torch"
    return None


def open_model(model: Any, *, input_shape: Sequence[int] | None = None,
               input_dtype: str | None = None, name: str | None = None) -> OpenedModel:
    """A runtime for a live model, a model file, ``zoo:NAME`` or ``pkg.module:factory``.

    ``input_shape`` (batch first, channels first as for ``netdraw.load``) tells a PyTorch
    model's input size; files and Keras/ONNX models know theirs."""
    if isinstance(model, OpenedModel):
        if input_shape and model.framework == "torch":
            return OpenedModel(model.runtime, InputSpec(tuple(input_shape),
                                                        dtype=model.spec.dtype), model.name)
        return model
    default_shape: tuple[int, ...] | None = None
    if isinstance(model, (str, os.PathLike)):
        spec = str(model)
        if spec.startswith("zoo:"):
            from netdraw import zoo

            entry = zoo.entry(spec[4:])
            default_shape = entry.input_shape
            input_dtype = input_dtype or entry.input_dtype
            name = name or spec[4:]
            model = entry.build()
        else:
            from netdraw.factory import build, is_factory_spec

            if is_factory_spec(spec) and not os.path.exists(spec):
                model = build(spec)
            else:
                return _open_file(Path(spec), name, input_shape)
    framework = _framework_of(model)
    if framework == "onnx":
        from netdraw.viz.runtime_onnx import OnnxRuntime

        runtime = OnnxRuntime(model, name=name)
        return OpenedModel(runtime, _onnx_spec(runtime), runtime.name)
    if framework == "keras":
        from netdraw.viz.runtime_keras import KerasRuntime

        runtime = _kept(model, name, KerasRuntime)
        return OpenedModel(runtime, _keras_spec(runtime), runtime.name)
    if framework == "torch":
        from netdraw.viz.runtime_torch import TorchRuntime

        runtime = _kept(model, name, TorchRuntime)
        shape = tuple(input_shape) if input_shape else default_shape
        key = (shape, input_dtype)
        if key in runtime.opened:
            return runtime.opened[key]
        if shape is None:
            channels = runtime.first_conv_channels()
            shape = (None, channels, None, None) if channels else None
        opened = runtime.opened[key] = OpenedModel(
            runtime, InputSpec(shape, dtype=input_dtype or "float32"), runtime.name)
        return opened
    raise NetdrawError(f"netdraw cannot run a {type(model).__module__}."
                       f"{type(model).__name__}; give a PyTorch module, a Keras model or an "
                       "ONNX model (object or file)")


_RUNTIMES: dict[int, tuple[Any, Any]] = {}


def _kept(model: Any, name: str | None, make: Any) -> Any:
    """The runtime of a live model, made once per model object (so a model is traced once
    per input shape however often it is explained) and dropped with the model."""
    key = id(model)
    kept = _RUNTIMES.get(key)
    if kept is not None and kept[0]() is model and (name is None or kept[1].name == name):
        return kept[1]
    runtime = make(model, name=name)
    try:
        ref = weakref.ref(model, lambda _r, key=key: _RUNTIMES.pop(key, None))
    except TypeError:  # not weakly referable: not kept
        return runtime
    _RUNTIMES[key] = (ref, runtime)
    return runtime


def _open_file(path: Path, name: str | None, input_shape: Any) -> OpenedModel:
    if not path.is_file():
        raise NetdrawError(f"cannot read {path}: no such file")
    suffix = path.suffix.lower()
    if input_shape:
        raise NetdrawError("--input-shape applies to Python models (pkg.module:factory, "
                           "zoo:NAME), not to model files")
    if suffix == ".onnx":
        from netdraw.viz.runtime_onnx import OnnxRuntime

        runtime = OnnxRuntime(path, name=name)
        return OpenedModel(runtime, _onnx_spec(runtime), runtime.name)
    if suffix in _KERAS_SUFFIXES:
        from netdraw.importers.keras import load_with_keras
        from netdraw.viz.runtime_keras import KerasRuntime

        runtime = KerasRuntime(load_with_keras(path), name=name or path.stem)
        return OpenedModel(runtime, _keras_spec(runtime), runtime.name)
    raise NetdrawError(f"netdraw runs .onnx, .keras and .h5 files, zoo:NAME and "
                       f"pkg.module:factory models, not {suffix or 'this file'}; a PyTorch "
                       "model is given as pkg.module:factory")


def _onnx_spec(runtime: Any) -> InputSpec:
    shapes = runtime.input_shapes()
    if not shapes:
        return InputSpec(None)
    shape = tuple(d if isinstance(d, int) and d > 0 else None for d in shapes[0])
    elem = runtime.inputs[0].type.tensor_type.elem_type
    import onnx

    dtype = str(np.dtype(onnx.helper.tensor_dtype_to_np_dtype(elem)))
    return InputSpec(shape, dtype=dtype)


def _keras_spec(runtime: Any) -> InputSpec:
    inputs = getattr(runtime.model, "inputs", None) or []
    if not inputs:
        return InputSpec(None, layout=runtime.layout)
    shape = tuple(d if isinstance(d, int) else None for d in inputs[0].shape)
    dtype = str(getattr(inputs[0], "dtype", "float32"))
    if runtime.layout == CHANNELS_LAST and len(shape) >= 3:
        shape = (shape[0], shape[-1], *shape[1:-1])
    return InputSpec(shape, layout=runtime.layout, dtype=dtype)


def class_names(opened: Any) -> list[str] | None:
    """Class names a model carries: a ``class_names`` attribute (PyTorch, Keras) or a
    ``class_names`` metadata entry (ONNX, comma-separated)."""
    model = getattr(opened.runtime, "model", None)
    names = getattr(model, "class_names", None)
    if names is None and opened.framework == "onnx":
        meta = {p.key: p.value for p in opened.runtime.model.metadata_props}
        names = meta.get("class_names", "").split(",") if meta.get("class_names") else None
    return [str(n) for n in names] if names else None


def prepare_inputs(opened: OpenedModel, inputs: Any,
                   normalize: Normalization | None = None) -> Batch:
    """Arrays for the model from arrays, tensors or file paths."""
    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if items and all(isinstance(i, (str, os.PathLike)) for i in items):
        return load_inputs([str(i) for i in items], opened.spec, normalize)
    arrays = []
    for item in items:
        if hasattr(item, "detach"):  # a torch tensor
            item = item.detach().cpu().numpy()
        arrays.append(np.asarray(item))
    if not arrays:
        raise NetdrawError("no inputs given")
    check_layout(opened, arrays[0])
    return Batch(arrays)


def check_layout(opened: OpenedModel, x: np.ndarray) -> None:
    """A clear error when an image batch is in the other layout than the model's (Keras:
    channels last ``(N, H, W, C)``; PyTorch and ONNX: channels first ``(N, C, H, W)``)."""
    shape = opened.spec.shape
    if shape is None or len(shape) != 4 or x.ndim != 4 or not isinstance(shape[1], int):
        return
    channels = shape[1]
    last = opened.spec.layout == CHANNELS_LAST
    have = x.shape[-1] if last else x.shape[1]
    other = x.shape[1] if last else x.shape[-1]
    if have == channels or other != channels:
        return
    size = "×".join(str(d) if isinstance(d, int) else "?" for d in shape[2:])
    text = "×".join(map(str, x.shape))
    if last:
        raise NetdrawError(f"{opened.name} is a Keras model with channels-last input "
                           f"(N, H, W, C) = (N, {size.replace('×', ', ')}, {channels}); this "
                           f"array is {text}, channels first: pass np.moveaxis(x, 1, -1)")
    raise NetdrawError(f"{opened.name} takes channels-first input (N, C, H, W) = "
                       f"(N, {channels}, {size.replace('×', ', ')}); this array is {text}, "
                       "channels last: pass np.moveaxis(x, -1, 1)")


# -- the three functions -------------------------------------------------------------


def capture(model: Any, inputs: Any, graph: Graph | None = None,
            nodes: Sequence[str] | None = None) -> Activations:
    """One forward pass recording the output of every node (or of ``nodes``) as numpy
    arrays keyed by node id. ``nodes`` are ids or names; a name means what the diagram's
    box of that name shows (:mod:`netdraw.viz.layers`). With ``graph`` (``netdraw.load``'s
    graph or a view of it) the result is keyed by that graph's ids, a folded node or
    collapsed block showing its last member's output."""
    opened = open_model(model)
    batch = prepare_inputs(opened, inputs)
    wanted: set[str] | None = None
    if nodes is not None:
        from netdraw.viz.layers import resolve_layer

        source = graph.nodes if graph is not None else None
        full = opened.runtime.graph_for(batch.arrays) if source is None else None
        wanted = {representative(source[n]) if source is not None and n in source
                  else resolve_layer(full, n) if full is not None else n for n in nodes}
    acts = opened.runtime.capture(batch.arrays, wanted)
    acts.meta["inputs"] = batch.notes
    if graph is not None:
        acts = acts.for_graph(graph)
    if nodes is not None:
        acts = acts.select(list(nodes) if graph is not None else sorted(
            wanted or (), key=list(acts.graph.nodes).index))
    return acts


def cam(model: Any, inputs: Any, class_index: int | Sequence[int] | None = None,
        layer: str = "auto", method: str = "gradcam", graph: Graph | None = None, *,
        target: Any = None, smooth: int = 0, noise: float | None = None, seed: int = 0,
        **options: Any) -> Any:
    """An attribution map: ``CamResult`` (:mod:`netdraw.viz.class_maps`) with the raw
    ``maps``, ``heatmaps`` (N, H, W) in 0-1 at the input's size, the chosen ``layer``
    (``layer_name``: the name the diagram shows) and ``classes``/``scores``.

    ``method``: ``gradcam`` (default), ``gradcam++``, ``layercam``, ``scorecam``, ``cam``,
    or a pixel method: ``integrated-gradients`` (``steps=50``, ``baseline=0``),
    ``smoothgrad`` (``samples=25``), ``guided-gradcam``
    (:mod:`netdraw.viz.attributions`). ``class_index``: one class, one per input, or None
    for the top prediction; ``target`` a :class:`netdraw.viz.targets.Target` for a logit
    difference, a named output or a region of a segmentation output. ``smooth=N``
    averages any CAM over N noisy copies (``noise``: their standard deviation)."""
    from netdraw.viz.class_maps import run_cam

    opened = open_model(model)
    batch = prepare_inputs(opened, inputs)
    return run_cam(opened.runtime, batch.arrays, class_index, layer, method, graph,
                   target=target, smooth=smooth, noise=noise, seed=seed, **options)


def filters(model: Any, layers: Sequence[str] | None = None, *, ascent: bool = False,
            steps: int = 64, size: int | None = None, channels: int = 16,
            normalize: Normalization | None = None, seed: int = 0, lr: float = 0.1,
            input_shape: Sequence[int] | None = None) -> Any:
    """Raw kernels of the first convolution and, with ``ascent``, for each layer in
    ``layers`` (default: up to four convolutions spread over the network) the images that
    maximise its first ``channels`` channels (:mod:`netdraw.viz.feature_vis`)."""
    from netdraw.viz import feature_vis as fv
    from netdraw.viz.layers import display_name, resolve_layer

    opened = open_model(model, input_shape=input_shape)
    runtime = opened.runtime
    graph = _graph(opened)
    result = fv.FilterResult(graph, steps=steps)
    first = fv.first_conv(graph, runtime)
    if first is not None:
        result.kernels[first] = runtime.weight(graph, first)
        if opened.framework == "onnx" and not any(n.kind == "norm" for n in graph.nodes.values()):
            result.notes.append(
                "the ONNX file holds no BatchNormalization: exporters fold a network's "
                "BatchNorm into the convolution weights, so these kernels are the folded "
                "ones (scaled per output channel), not the trained convolution's")
    else:
        result.notes.append("no convolution with 4-D kernels: no raw filters to show")
    if not ascent:
        return result
    if not runtime.gradients_supported:
        raise NetdrawError(f"gradient ascent needs gradients, which {runtime.framework} "
                           "models do not give here; ONNX models show raw kernels only "
                           "(drop --ascent)")
    chosen = [resolve_layer(graph, name) for name in layers] if layers else \
        [resolve_layer(graph, nid) for nid in _spread(graph)]
    if not chosen:
        raise NetdrawError(f"{graph.name} has no convolution to visualise; name a layer "
                           "with --layer")
    shape = opened.spec.shape
    in_channels = shape[1] if shape and isinstance(shape[1], int) else 3
    if size is None:
        known = shape and len(shape) == 4 and isinstance(shape[2], int)
        size = shape[2] if known else DEFAULT_ASCENT_SIZE
        if not known:
            result.notes.append(f"the model's input size is unknown: ascent images are "
                                f"{size} px (give input_shape, or --input-shape)")
    for nid in chosen:
        node = graph.nodes[nid]
        count = _out_channels(node, opened)
        picked = list(range(min(channels, count)))
        if opened.framework == "torch":
            function = fv.torch_layer_function(runtime.model, graph, nid)
        else:
            function = runtime.ascent_function(nid)
        images, scores = fv.ascent(function, picked, size, in_channels, steps=steps,
                                   lr=lr, seed=seed, normalize=normalize)
        result.images[nid], result.channels[nid], result.objective[nid] = \
            images, picked, scores
        result.names[nid] = display_name(graph, nid)
    return result


def _graph(opened: OpenedModel) -> Graph:
    runtime = opened.runtime
    if opened.framework != "torch":
        return runtime.graph
    shape = opened.spec.shape
    channels = shape[1] if shape and isinstance(shape[1], int) else 3
    full = tuple(d if isinstance(d, int) else default
                 for d, default in zip(shape or (1, channels, 64, 64), (1, channels, 64, 64),
                                       strict=False))
    from netdraw.importers.pytorch import make_inputs
    from netdraw.importers.torch_trace import trace

    args = tuple(make_inputs(full, opened.spec.dtype, runtime.device()))
    return trace(runtime.model, args, {}, runtime.name)


def _spread(graph: Graph, count: int = 4) -> list[str]:
    from netdraw.viz.feature_vis import conv_layers

    convs = conv_layers(graph)
    if len(convs) <= count:
        return convs
    return [convs[round(i * (len(convs) - 1) / (count - 1))] for i in range(count)]


def _out_channels(node: Any, opened: OpenedModel) -> int:
    value = node.attrs.get("out_channels")
    if isinstance(value, int):
        return value
    shape = node.outputs[0].shape if node.outputs else None
    if shape and len(shape) >= 2:
        dim = shape[-1] if opened.runtime.layout == CHANNELS_LAST else shape[1]
        if isinstance(dim, int):
            return dim
    raise NetdrawError(f"cannot tell how many channels {node.name!r} has")
