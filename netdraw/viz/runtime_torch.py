"""Running a live ``nn.Module`` for :mod:`netdraw.viz` (imports torch; loaded on use).

Every pass goes through the importer's tracer (:func:`netdraw.importers.torch_trace.trace`)
with an *observer*, so captured node ids are exactly those of ``netdraw.load(model, ...)``,
in the same forward pass that builds the graph. Outputs are copied the moment their node
is recorded, before any later in-place op (``ReLU(inplace=True)``, ``+=``) can overwrite
them; the tracer removes its hooks in a ``finally`` however the forward ends.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from netdraw.errors import NetdrawError
from netdraw.importers import torch_trace
from netdraw.ir import Graph
from netdraw.viz.activations import CHANNELS_FIRST, Activations, fill_outputs


def to_numpy(t: torch.Tensor) -> np.ndarray:
    """A copy of a tensor as numpy (floating types as float32)."""
    t = t.detach()
    if t.is_floating_point():
        return t.to(device="cpu", dtype=torch.float32, copy=True).numpy()
    if t.is_complex():
        return t.abs().to(device="cpu", dtype=torch.float32).numpy()
    return t.to(device="cpu", copy=True).numpy()


@dataclass
class GradientPass:
    """One forward + backward: for each candidate node its output and the gradient of the
    chosen classes' scores with respect to it (numpy, batch first, framework layout)."""

    graph: Graph
    nodes: list[str]
    activations: dict[str, np.ndarray]
    gradients: dict[str, np.ndarray]
    logits: np.ndarray
    classes: list[int]


class TorchRuntime:
    """A live PyTorch model: capture, predict, gradients at a node, weights of a node."""

    framework = "torch"
    layout = CHANNELS_FIRST
    gradients_supported = True

    def __init__(self, model: nn.Module, name: str | None = None) -> None:
        self.model = model
        self.name = name or type(model).__name__

    # -- inputs -----------------------------------------------------------------------
    def device(self) -> torch.device:
        param = next(self.model.parameters(), None)
        return param.device if param is not None else torch.device("cpu")

    def arguments(self, inputs: Sequence[Any]) -> tuple[torch.Tensor, ...]:
        device = self.device()
        out = []
        for x in inputs:
            t = x if isinstance(x, torch.Tensor) else torch.from_numpy(np.ascontiguousarray(x))
            out.append(t.to(device))
        return tuple(out)

    def first_conv_channels(self) -> int | None:
        """Input channels of the first convolution (the image channels the model wants)."""
        for module in self.model.modules():
            if isinstance(module, nn.modules.conv._ConvNd):
                return int(module.in_channels)
        return None

    # -- passes -------------------------------------------------------------------------
    def capture(self, inputs: Sequence[Any], nodes: set[str] | None = None) -> Activations:
        """One traced forward pass recording (copies of) every node's first output."""
        values: dict[str, np.ndarray] = {}

        def observer(nid: str, outputs: list[torch.Tensor]) -> None:
            if outputs and (nodes is None or nid in nodes):
                values[nid] = to_numpy(outputs[0])

        graph = torch_trace.trace(self.model, self.arguments(inputs), {}, self.name,
                                  observer=observer)
        fill_outputs(graph, values)
        return Activations(graph, {k: v for k, v in values.items() if k in graph.nodes},
                           layout=self.layout, meta={"framework": "torch"})

    def predict(self, inputs: Sequence[Any]) -> np.ndarray:
        """The model's (first) output for a batch, forward only."""
        with torch.no_grad():
            training = self.model.training
            self.model.eval()
            try:
                out = self.model(*self.arguments(inputs))
            except Exception as exc:
                raise NetdrawError(f"the forward pass of {self.name} failed: "
                                   f"{type(exc).__name__}: {exc}") from None
            finally:
                self.model.train(training)
        return to_numpy(first_tensor(out))

    def gradients(self, inputs: Sequence[Any], pick_nodes: Callable[[Graph], list[str]],
                  pick_classes: Callable[[np.ndarray], list[int]]) -> GradientPass:
        """Forward with autograd, pick candidate nodes and classes, and differentiate the
        classes' scores with respect to the candidates' outputs: one forward, one backward.
        A candidate whose output a later in-place op overwrote is recomputed in a second
        pass that gives the rest of the forward a copy of it, when it is the only one."""
        live: dict[str, tuple[torch.Tensor, int]] = {}

        def keep(nid: str, outputs: list[torch.Tensor]) -> None:
            if outputs:
                live[nid] = (outputs[0], outputs[0]._version)

        args = self.arguments(inputs)
        graph = torch_trace.trace(self.model, args, {}, self.name, observer=keep, grad=True)
        logits_id = output_producer(graph)
        logits = live[logits_id][0]
        candidates = pick_nodes(graph)
        usable = [n for n in candidates if n in live and live[n][0]._version == live[n][1]
                  and live[n][0].requires_grad]
        tensors = [live[n][0] for n in usable]
        if not usable and candidates:
            tensor, logits = self._watch(args, candidates[0], logits_id)
            usable, tensors = [candidates[0]], [tensor]
        classes = pick_classes(to_numpy(logits))
        index = torch.tensor(classes, device=logits.device).view(-1, 1)
        score = logits.reshape(logits.shape[0], -1).gather(1, index).sum()
        grads = torch.autograd.grad(score, tensors, allow_unused=True) if tensors else []
        activations, gradients = {}, {}
        for nid, t, g in zip(usable, tensors, grads, strict=True):
            activations[nid] = to_numpy(t)
            gradients[nid] = to_numpy(g) if g is not None else np.zeros(t.shape, np.float32)
        return GradientPass(graph, usable, activations, gradients, to_numpy(logits), classes)

    def _watch(self, args: tuple, node: str, logits_id: str
               ) -> tuple[torch.Tensor, torch.Tensor]:
        kept: dict[str, torch.Tensor] = {}

        def watch(nid: str, outputs: list[torch.Tensor]) -> list[torch.Tensor] | None:
            if nid == node and outputs:
                original = outputs[0]
                if not original.requires_grad:
                    original = original.detach().requires_grad_(True)
                kept[nid] = original
                return [original.clone(), *outputs[1:]]
            if nid == logits_id and outputs:
                kept[nid] = outputs[0]
            return None

        torch_trace.trace(self.model, args, {}, self.name, observer=watch, grad=True)
        return kept[node], kept[logits_id]

    # -- weights ------------------------------------------------------------------------
    def weight(self, graph: Graph, nid: str) -> np.ndarray | None:
        """The ``weight`` of the module behind node ``nid`` (a conv's ``(O, I, kh, kw)``, a
        linear layer's ``(out, in)``), or None."""
        node = graph.nodes[nid]
        try:
            module = self.model.get_submodule(node.name)
        except AttributeError:
            return None
        weight = getattr(module, "weight", None)
        return to_numpy(weight) if isinstance(weight, torch.Tensor) else None

    def bias(self, graph: Graph, nid: str) -> np.ndarray | None:
        try:
            module = self.model.get_submodule(graph.nodes[nid].name)
        except AttributeError:
            return None
        bias = getattr(module, "bias", None)
        return to_numpy(bias) if isinstance(bias, torch.Tensor) else None


def first_tensor(out: Any) -> torch.Tensor:
    """The logits of a model output: a tensor, ``.logits`` or the first tensor inside."""
    logits = getattr(out, "logits", None)
    if isinstance(logits, torch.Tensor):
        return logits
    found = next(torch_trace.iter_tensors(out if not hasattr(out, "to_tuple")
                                          else out.to_tuple()), None)
    if found is None:
        raise NetdrawError("the model returned no tensor")
    return found


def output_producer(graph: Graph) -> str:
    """The node whose output is the model's score vector: the producer of the output named
    ``logits`` when there is one, else of the first output."""
    outputs = [graph.nodes[n] for n in graph.outputs]
    chosen = next((n for n in outputs if n.name.endswith("logits")), outputs[0] if outputs
                  else None)
    if chosen is None:
        raise NetdrawError("the model has no output")
    producers = [e.src for e in graph.edges if e.dst == chosen.id]
    if not producers:
        raise NetdrawError(f"the output {chosen.name!r} is not computed from the input")
    return producers[0]
