"""Running a live Keras 3 model for :mod:`netdraw.viz` (imports keras; loaded on use).

The model is read by the importer (:func:`netdraw.importers.keras.trace_calls`), which keeps
each node's live Keras call; capturing builds *one* extra Functional model whose outputs are
those calls' output tensors and runs it once (no retracing per layer). A nested model's
layers are computed by its own extra model, fed with the values its call received.
Gradients (Grad-CAM and friends, gradient ascent) need the torch backend
(``KERAS_BACKEND=torch``): the Keras model then runs on torch autograd.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.importers import keras as keras_importer
from netdraw.ir import Graph
from netdraw.viz.activations import CHANNELS_FIRST, CHANNELS_LAST, Activations, fill_outputs


def _numpy(value: Any) -> np.ndarray:
    import keras

    x = np.asarray(keras.ops.convert_to_numpy(value))
    return x.astype(np.float32) if x.dtype.kind == "f" and x.dtype != np.float32 else x


class KerasRuntime:
    """A live Keras model: capture, predict, gradients (torch backend), weights."""

    framework = "keras"

    def __init__(self, model: Any, name: str | None = None) -> None:
        import keras

        self.model = model
        self.builder, self.graph = keras_importer.trace_calls(model, name=name)
        self.name = self.graph.name
        self.gradients_supported = keras.backend.backend() == "torch"
        first = next((layer for layer in self._layers()
                      if "data_format" in layer.get_config()), None)
        channels_first = first is not None and first.get_config().get(
            "data_format") == "channels_first"
        self.layout = CHANNELS_FIRST if channels_first else CHANNELS_LAST
        self._models: dict[tuple, Any] = {}

    def _layers(self) -> list[Any]:
        return list(self.model._flatten_layers(include_self=False, recursive=True))

    def first_conv_channels(self) -> int | None:
        shape = tuple(self.model.inputs[0].shape) if getattr(self.model, "inputs", None) \
            else ()
        if len(shape) == 4:
            channels = shape[1] if self.layout == CHANNELS_FIRST else shape[-1]
            return int(channels) if channels else None
        return None

    # -- which Keras tensors ------------------------------------------------------------
    def _scope(self, nid: str) -> tuple[str, ...]:
        """The innermost nested-model group holding node ``nid`` (() for the top level)."""
        group = self.graph.nodes[nid].group
        best: tuple[str, ...] = ()
        for path in self.builder.nested:
            if group[: len(path)] == path and len(path) > len(best):
                best = path
        return best

    def _feature_model(self, inputs: list[Any], outputs: list[Any]) -> Any:
        import keras

        key = (tuple(id(t) for t in inputs), tuple(id(t) for t in outputs))
        if key not in self._models:
            self._models[key] = keras.Model(inputs=inputs[0] if len(inputs) == 1 else inputs,
                                            outputs=outputs)
        return self._models[key]

    def _run_scope(self, scope: tuple[str, ...], model_inputs: list[Any],
                   values_in: list[Any], wanted: list[str], values: dict[str, np.ndarray],
                   keep: Callable[[Any], Any] = _numpy) -> None:
        """Compute ``wanted`` nodes of one (nested) model in one call of a feature model."""
        direct = [n for n in wanted if self._scope(n) == scope]
        children = sorted({s[: len(scope) + 1] for s in map(self._scope, wanted)
                           if len(s) > len(scope)})
        tensors = [self.builder.calls[n][1].source.outputs[0] for n in direct]
        child_inputs: list[list[Any]] = []
        for child in children:
            call = self.builder.nested[child][1].source
            child_inputs.append(list(call.arguments.keras_tensors))
        flat = tensors + [t for group in child_inputs for t in group]
        if not flat:
            return
        feature = self._feature_model(model_inputs, flat)
        try:
            results = feature(values_in if len(values_in) > 1 else values_in[0],
                              training=False)
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            raise NetdrawError(f"the forward pass of {self.name} failed in Keras: "
                               f"{type(exc).__name__}: {detail}") from None
        results = list(results) if isinstance(results, (list, tuple)) else [results]
        for nid, value in zip(direct, results, strict=False):
            values[nid] = keep(value)
        position = len(direct)
        for child, group in zip(children, child_inputs, strict=True):
            inner = self.builder.nested[child][0].key
            inner_values = results[position:position + len(group)]
            position += len(group)
            self._run_scope(child, list(inner.inputs), inner_values, wanted, values, keep)

    # -- passes -------------------------------------------------------------------------
    def capture(self, inputs: Sequence[Any], nodes: set[str] | None = None) -> Activations:
        wanted = [nid for nid in self.graph.nodes if nid in self.builder.calls
                  and self.builder.calls[nid][1].source is not None
                  and self.builder.calls[nid][1].source.outputs
                  and (nodes is None or nid in nodes)]
        values: dict[str, np.ndarray] = {}
        self._run_scope((), list(self.model.inputs), list(inputs), wanted, values)
        for nid, x in zip(self.graph.inputs, inputs, strict=False):
            values[nid] = _numpy(x)
        fill_outputs(self.graph, values)
        return Activations(self.graph, values, layout=self.layout,
                           meta={"framework": "keras"})

    def predict(self, inputs: Sequence[Any]) -> np.ndarray:
        """The model's first output for a batch."""
        return self.outputs(inputs)

    def graph_for(self, inputs: Sequence[Any]) -> Graph:
        """The model's graph (Keras models know their shapes: read once)."""
        return self.graph

    def outputs(self, inputs: Sequence[Any], output: str | int | None = None) -> np.ndarray:
        """One output of the model (a name or index; default the first)."""
        try:
            out = self.model(list(inputs) if len(inputs) > 1 else inputs[0], training=False)
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            raise NetdrawError(f"the forward pass of {self.name} failed in Keras: "
                               f"{type(exc).__name__}: {detail}") from None
        return _numpy(self._select(out, output))

    def _select(self, out: Any, output: str | int | None) -> Any:
        names = list(getattr(self.model, "output_names", None) or [])
        if isinstance(out, dict):
            if output is None:
                return next(iter(out.values()))
            if output in out:
                return out[output]
            raise NetdrawError(f"--output {output!r}: the model's outputs are "
                               f"{', '.join(map(str, out))}")
        items = list(out) if isinstance(out, (list, tuple)) else [out]
        if output is None:
            return items[0]
        if isinstance(output, str):
            if output not in names:
                raise NetdrawError(f"--output {output!r}: the model's outputs are "
                                   f"{', '.join(names) or 'unnamed'}")
            return items[names.index(output)]
        if not 0 <= int(output) < len(items):
            raise NetdrawError(f"--output {output}: the model has {len(items)} output(s)")
        return items[int(output)]

    def normal(self, shape: tuple[int, ...], stdev: float, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).normal(0.0, stdev, shape).astype(np.float32)

    def gradients_at(self, inputs: Sequence[Any], nid: str | None, target: Any,
                     graph: Graph | None = None, guided: bool = False):
        """As :meth:`TorchRuntime.gradients_at`: one forward of a feature model with node
        ``nid`` (None: the input) and the model's outputs, one torch backward (torch
        backend only; no guided backpropagation)."""
        import torch

        from netdraw.viz.runtime_torch import GradientPass, to_numpy

        if not self.gradients_supported:
            raise NetdrawError("gradients of a Keras model need the torch backend: run with "
                               "KERAS_BACKEND=torch")
        if guided:
            raise NetdrawError("guided backpropagation rewires nn.ReLU modules: PyTorch "
                               "models only")
        xs = [torch.from_numpy(np.ascontiguousarray(x)) for x in inputs]
        outputs = list(self.model.outputs)
        with torch.enable_grad():
            if nid is None:
                xs[0].requires_grad_(True)
                outs = self.model(xs if len(xs) > 1 else xs[0], training=False)
                watched = xs[0]
            else:
                if self._scope(nid):
                    raise NetdrawError(f"layer {self.graph.nodes[nid].name!r} lies inside a "
                                       "nested model; choose a layer of the outer model")
                tensor = self.builder.calls[nid][1].source.outputs[0]
                feature = self._feature_model(list(self.model.inputs), [tensor, *outputs])
                results = feature(xs if len(xs) > 1 else xs[0], training=False)
                results = list(results) if isinstance(results, (list, tuple)) else [results]
                watched, outs = results[0], results[1:]
                outs = outs[0] if len(outs) == 1 else outs
            output = self._select(outs, target.output)
            weights, classes = target.weights(to_numpy(output))
            score = (output * torch.from_numpy(weights).to(output)).sum()
            (grad,) = torch.autograd.grad(score, watched, allow_unused=True)
            grad = torch.zeros_like(watched) if grad is None else grad
        key = nid or "input"
        return GradientPass(self.graph, [key], {key: to_numpy(watched)},
                            {key: to_numpy(grad)}, to_numpy(output), classes)

    def ascent_function(self, nid: str) -> Callable[[Any], Any]:
        """Torch images (N, C, H, W) -> node ``nid``'s output, channels first (torch)."""
        if not self.gradients_supported:
            raise NetdrawError("gradient ascent on a Keras model needs the torch backend: "
                               "run with KERAS_BACKEND=torch")
        if self._scope(nid):
            raise NetdrawError(f"node {nid!r} lies inside a nested model; choose a layer of "
                               "the outer model")
        tensor = self.builder.calls[nid][1].source.outputs[0]
        feature = self._feature_model(list(self.model.inputs), [tensor])
        last = self.layout == CHANNELS_LAST

        def run(images: Any) -> Any:
            x = images.permute(0, 2, 3, 1) if last else images
            out = feature(x, training=False)
            out = out[0] if isinstance(out, (list, tuple)) else out
            return out.movedim(-1, 1) if last and out.ndim >= 3 else out

        return run

    # -- weights ------------------------------------------------------------------------
    def _layer(self, nid: str) -> Any:
        entry = self.builder.calls.get(nid)
        return entry[0].key if entry is not None else None

    def weight(self, graph: Graph, nid: str) -> np.ndarray | None:
        """A conv kernel as ``(O, I, kh, kw)``, a dense kernel as ``(out, in)``."""
        layer = self._layer(nid)
        kernel = getattr(layer, "kernel", None) if layer is not None else None
        if kernel is None:
            return None
        w = _numpy(kernel)
        if w.ndim >= 3:  # (kh, kw, in, out) -> (out, in, kh, kw)
            return np.ascontiguousarray(np.moveaxis(np.moveaxis(w, -1, 0), -1, 1))
        return np.ascontiguousarray(w.T) if w.ndim == 2 else w

    def bias(self, graph: Graph, nid: str) -> np.ndarray | None:
        layer = self._layer(nid)
        bias = getattr(layer, "bias", None) if layer is not None else None
        return _numpy(bias) if bias is not None else None
