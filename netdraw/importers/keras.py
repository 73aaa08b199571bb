"""Keras importer: live Keras 3 models, and ``.keras``/``.h5`` files (read without Keras).

``load(path)`` reads a file's config with :mod:`netdraw.importers.keras_files` and never
imports keras or tensorflow. ``load(path, via_keras=True)`` loads the full model through
Keras instead (with ``safe_mode=True``, so no stored Python code runs) and imports it live.

A live model is described from its own call graph: Functional and Sequential models by
walking the Keras nodes behind their outputs, built subclassed models by calling their
``call`` once on symbolic ``keras.Input`` tensors (the extra graph nodes this records on
the model's layers are removed again). Output shapes and parameter counts then come from
Keras itself; everything else is shared with the file reader
(:mod:`netdraw.importers.keras_config`).
"""

from __future__ import annotations

import os
import warnings
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.importers import keras_files
from netdraw.importers.keras_config import GraphBuilder, KCall, KLayer, KModel, KTensor, Ref
from netdraw.ir import Graph

Shape = tuple[int | None, ...]


def load(source: Any, *, name: str | None = None, input_shape: Any = None,
         input_dtype: Any = None, via_keras: bool = False) -> Graph:
    """Import a Keras model object, or a ``.keras``/``.h5`` file.

    ``input_shape`` (an example input's full shape, batch first as for the other importers:
    ``(1, 32, 32, 3)``; a list of them for several inputs) and ``input_dtype`` are used only
    by a subclassed model whose input shape Keras does not know yet; Functional and
    Sequential models have their own. ``via_keras=True`` loads a file through Keras
    (``safe_mode=True``) rather than reading its config directly; it needs keras installed
    and any custom layers registered.
    """
    if isinstance(source, (str, os.PathLike)):
        if not via_keras:
            return keras_files.load_file(source, name=name)
        source = load_with_keras(source)
    return from_model(source, name=name, input_shape=input_shape, input_dtype=input_dtype)


def load_with_keras(path: str | os.PathLike[str]) -> Any:
    """The full model through ``keras.saving.load_model`` with ``safe_mode=True``."""
    from netdraw.importers.keras_backend import import_keras

    keras = import_keras("loading a Keras file through Keras (via_keras=True)")

    if not os.path.isfile(path):
        raise NetdrawError(f"cannot read {path}: no such file")
    try:
        return keras.saving.load_model(path, compile=False, safe_mode=True)
    except Exception as exc:  # Keras raises ValueError, TypeError, OSError, …
        detail = " ".join(str(exc).split())[:200]
        raise NetdrawError(f"Keras could not load {path} with safe_mode=True "
                           f"({type(exc).__name__}: {detail}); custom layers must be "
                           "registered with keras.saving.register_keras_serializable") from None


def from_model(model: Any, *, name: str | None = None, input_shape: Any = None,
               input_dtype: Any = None) -> Graph:
    """A live Keras model -> Graph (output shapes and parameters as Keras reports them)."""
    return trace_calls(model, name=name, input_shape=input_shape, input_dtype=input_dtype)[1]


def trace_calls(model: Any, *, name: str | None = None, input_shape: Any = None,
                input_dtype: Any = None) -> tuple[GraphBuilder, Graph]:
    """:func:`from_model`, plus the builder that knows each node's layer and call (its live
    Keras node in ``call.source``): what :mod:`netdraw.viz` needs to compute node outputs."""
    import keras

    if not isinstance(model, keras.Model):
        raise NetdrawError(f"expected a keras.Model, got {type(model).__name__}")
    kmodel = _describe(model, input_shape, input_dtype=input_dtype)
    builder = GraphBuilder(name or model.name)
    graph = builder.build(kmodel)
    graph.meta.update({"framework": "keras", "keras_version": keras.__version__,
                       "model_class": type(model).__name__})
    try:
        expected = int(model.count_params())
    except ValueError:
        expected = None
    if expected is not None and expected != graph.total_params:
        # Weights owned by a subclassed model itself rather than by one of its layers.
        graph.meta["unattributed_params"] = expected - graph.total_params
    return builder, graph


# -- describing live models ------------------------------------------------------------


def _describe(model: Any, input_shape: Any = None,
              call_inputs: list[Shape | None] | None = None, input_dtype: Any = None) -> KModel:
    """A live model (Functional, Sequential or subclassed) -> KModel."""
    import keras
    from keras.src.models.functional import Functional

    if isinstance(model, keras.Sequential):
        functional = getattr(model, "_functional", None)
        if functional is not None:
            return _walk(model.name, "Sequential", functional.inputs, functional.outputs,
                         functional.operations)
        if not model.built:
            raise NetdrawError(f"the Sequential model {model.name!r} is not built: give it an "
                               "input first (keras.Input(shape) as its first layer, or "
                               "model.build(input_shape))")
        return _chain(model, "Sequential", _build_shapes(model), infer=True)
    if isinstance(model, Functional):
        return _walk(model.name, type(model).__name__, model.inputs, model.outputs,
                     model.operations)
    shapes = _input_shapes(model, input_shape, call_inputs)
    dtypes = input_dtype if isinstance(input_dtype, (list, tuple)) else [input_dtype] * len(shapes)
    traced, error = _trace(model, shapes, list(dtypes))
    if traced is not None:
        return traced
    warnings.warn(f"netdraw could not trace the call() of {type(model).__name__} "
                  f"symbolically ({error}); its layers are drawn in definition order",
                  stacklevel=3)
    return _chain(model, type(model).__name__, shapes, infer=False)


def _input_shapes(model: Any, input_shape: Any,
                  call_inputs: list[Shape | None] | None) -> list[Shape | None]:
    if input_shape is not None:
        items = input_shape if _is_shape_list(input_shape) else [input_shape]
        return [(None, *tuple(item)[1:]) for item in items]  # the batch dim stays unknown
    if call_inputs:
        return [(None, *s[1:]) if s else None for s in call_inputs]
    shapes = _build_shapes(model)
    if not shapes:
        raise NetdrawError(f"cannot tell the input shape of the subclassed model "
                           f"{model.name!r}: build it first (call it on data or "
                           "model.build(shape)) or give an input shape (input_shape=, "
                           "or --input-shape 1,H,W,C)")
    return shapes


def _is_shape_list(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(
        isinstance(v, (list, tuple)) for v in value)


def _build_shapes(model: Any) -> list[Shape | None]:
    """Input shapes (batch None) from a built model's build config."""
    try:
        config = model.get_build_config() or {}
    except Exception:  # noqa: BLE001 - any failure means "unknown"
        config = {}
    shape = config.get("input_shape")
    if shape is None:
        shapes = config.get("shapes_dict") or {}
        shape = next(iter(shapes.values()), None) if isinstance(shapes, dict) else None
    if shape is None:
        return []
    if isinstance(shape, dict):
        shape = list(shape.values())
    items = shape if _is_shape_list(shape) else [shape]
    return [(None, *tuple(item)[1:]) for item in items]


def _trace(model: Any, shapes: list[Shape | None],
           dtypes: list[Any] | None = None) -> tuple[KModel | None, str]:
    """Run ``model.call`` on symbolic inputs and walk what it recorded; then clean up."""
    import keras
    from keras import tree

    layers = list(model._flatten_layers(include_self=True, recursive=True))
    saved = [(layer, len(layer._inbound_nodes), len(layer._outbound_nodes))
             for layer in layers]
    try:
        if any(s is None for s in shapes):
            return None, "unknown input shape"
        dtypes = [d or "float32" for d in (dtypes or [])] + ["float32"] * len(shapes)
        inputs = [keras.Input(batch_shape=s, dtype=dtypes[i], name=f"{model.name}_input"
                              + (f"_{i}" if len(shapes) > 1 else ""))
                  for i, s in enumerate(shapes)]
        outputs = model.call(inputs[0] if len(inputs) == 1 else inputs)
        flat = [t for t in tree.flatten(outputs) if isinstance(t, keras.KerasTensor)]
        if not flat:
            return None, "call() returned no tensors"
        return _walk(model.name, type(model).__name__, inputs, flat), ""
    except NetdrawError:
        raise
    except Exception as exc:  # noqa: BLE001 - user code: any failure means "not traceable"
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:120]}"
    finally:
        for layer, n_in, n_out in saved:
            del layer._inbound_nodes[n_in:]
            del layer._outbound_nodes[n_out:]


def _walk(name: str, class_name: str, inputs: list[Any], outputs: list[Any],
          order: list[Any] | None = None) -> KModel:
    """The Keras nodes between ``inputs`` and ``outputs`` -> KModel.

    Layers come in ``order`` (a Functional model's ``operations``, the order its config
    lists them in) when given, else in the order they were first reached.
    """
    keys: dict[tuple[int, int], Any] = {}  # (id(op), node index) -> Node, in post-order
    ops: dict[int, Any] = {}
    stack: list[tuple[Any, int, bool]] = []
    for tensor in reversed(outputs):
        history = getattr(tensor, "_keras_history", None)
        if history is not None and history.operation is not None:
            stack.append((history.operation, history.node_index, False))
    seen: set[tuple[int, int]] = set()
    leaves = {(id(t._keras_history.operation), t._keras_history.node_index) for t in inputs
              if getattr(t, "_keras_history", None) is not None}
    while stack:
        op, index, done = stack.pop()
        key = (id(op), index)
        if done:
            keys[key] = op._inbound_nodes[index]
            ops.setdefault(id(op), op)
            continue
        if key in seen:
            continue
        seen.add(key)
        stack.append((op, index, True))
        node = op._inbound_nodes[index]
        if node.is_input or key in leaves:
            continue
        for tensor in reversed(node.arguments.keras_tensors):
            history = getattr(tensor, "_keras_history", None)
            if history is not None and history.operation is not None:
                stack.append((history.operation, history.node_index, False))

    # Per operation, its kept calls renumbered from 0 in their original order.
    reindex: dict[tuple[int, int], int] = {}
    per_op: dict[int, list[int]] = {}
    for op_id, index in keys:
        per_op.setdefault(op_id, []).append(index)
    for op_id, indices in per_op.items():
        for new, old in enumerate(sorted(indices)):
            reindex[(op_id, old)] = new

    if order:
        rank = {id(op): i for i, op in enumerate(order)}
        ops = dict(sorted(ops.items(), key=lambda item: rank.get(item[0], len(rank))))
    names: dict[int, str] = {}
    taken: set[str] = set()
    for op_id, op in ops.items():
        base, k = str(op.name), 1
        unique = base
        while unique in taken:
            k += 1
            unique = f"{base}_{k}"
        taken.add(unique)
        names[op_id] = unique

    def ref(tensor: Any) -> Ref | None:
        history = getattr(tensor, "_keras_history", None)
        if history is None or history.operation is None:
            return None
        key = (id(history.operation), history.node_index)
        if key not in reindex:
            return None
        return (names[key[0]], reindex[key], history.tensor_index)

    layers: list[KLayer] = []
    for op_id, op in ops.items():
        layer = _layer(op, names[op_id])
        for index in sorted(per_op[op_id]):
            node = keys[(op_id, index)]
            call = _call(node, ref)
            if layer.model is None and _is_model(op) and not node.is_input:
                layer.model = _describe(op, call_inputs=[t.shape for t in call.inputs])
            layer.calls.append(call)
        layers.append(layer)
    input_refs = [r for r in (ref(t) for t in inputs) if r is not None]
    output_refs = [r for r in (ref(t) for t in outputs) if r is not None]
    return KModel(name, class_name, layers, input_refs, output_refs)


def _is_model(op: Any) -> bool:
    import keras

    return isinstance(op, keras.Model)


def _layer(op: Any, name: str) -> KLayer:
    import keras

    cls = type(op)
    config: dict[str, Any] = {}
    if not _is_model(op):
        try:
            config = dict(op.get_config())
        except Exception:  # noqa: BLE001 - custom layers without get_config
            config = {}
    params: int | None = 0
    if isinstance(op, keras.layers.Layer) and not _is_model(op):
        try:
            params = int(op.count_params())
        except ValueError:  # not built
            params = None
    return KLayer(name, cls.__name__, config, module=cls.__module__, params=params, key=op)


def _call(node: Any, ref: Any) -> KCall:
    import keras
    from keras import tree

    call = KCall(source=node)

    def add(value: Any, role: str) -> int:
        count = 0
        for item in tree.flatten(value):
            if isinstance(item, keras.KerasTensor):
                r = ref(item)
                if r is not None:
                    call.inputs.append(KTensor(r, tuple(item.shape), str(item.dtype), role))
                    count += 1
        return count

    add(node.arguments.args, "")
    for key, value in node.arguments.kwargs.items():
        if add(value, str(key)) == 0 and isinstance(value, (bool, int, float, str)):
            call.kwargs[str(key)] = value
    call.output_shapes = [tuple(t.shape) for t in node.outputs]
    call.output_dtypes = [str(t.dtype) for t in node.outputs]
    return call


def _chain(model: Any, class_name: str, shapes: list[Shape | None], *, infer: bool) -> KModel:
    """A model's direct layers one after another (Sequential, or an untraceable model)."""
    input_name = f"{model.name}_input"
    first = KLayer(input_name, "InputLayer",
                   {"batch_shape": list(shapes[0]) if shapes and shapes[0] else None})
    layers = [first]
    previous = first
    for sub in model.layers:
        layer = _layer(sub, sub.name)
        call = KCall([KTensor((previous.name, 0, 0))])
        if not infer:
            call.output_shapes = [None]
        if _is_model(sub):
            layer.model = _describe(sub)
        layer.calls.append(call)
        layers.append(layer)
        previous = layer
    return KModel(model.name, class_name, layers, [(input_name, 0, 0)],
                  [(previous.name, 0, 0)])
