"""Running a live ``nn.Module`` for :mod:`netdraw.viz` (imports torch; loaded on use).

Every pass goes through the importer's tracer (:func:`netdraw.importers.torch_trace.trace`)
with an *observer*, so captured node ids are exactly those of ``netdraw.load(model, ...)``,
in the same forward pass that builds the graph. Outputs are copied the moment their node
is recorded, before any later in-place op (``ReLU(inplace=True)``, ``+=``) can overwrite
them; the tracer removes its hooks in a ``finally`` however the forward ends.
"""

from __future__ import annotations

from collections.abc import Sequence
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
        self._graphs: dict[tuple, tuple[tuple[int, ...], Graph]] = {}
        #: (input shape, dtype) -> the OpenedModel made for them (netdraw.viz.api)
        self.opened: dict[tuple, Any] = {}

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
        """The model's logits (see :func:`select_output`) for a batch, forward only."""
        return self.outputs(inputs)

    # -- the graph, traced once per input shape -----------------------------------------
    def graph_for(self, inputs: Sequence[Any]) -> Graph:
        """The traced graph for inputs of this shape and dtype (the batch size aside): one
        trace per model and input shape, kept for the following calls."""
        key = tuple((np.shape(x)[1:], getattr(x, "dtype", None)) for x in inputs)
        fingerprint = _fingerprint(self.model)
        kept = self._graphs.get(key)
        if kept is None or kept[0] != fingerprint:
            graph = torch_trace.trace(self.model, self.arguments(inputs), {}, self.name)
            kept = self._graphs[key] = (fingerprint, graph)
        return kept[1]

    def _module_call(self, graph: Graph, nid: str) -> tuple[nn.Module, int] | None:
        """The module and call number (1-based) whose output node ``nid`` is, when it is a
        module's output (then a plain forward hook reaches it without the tracer)."""
        node = graph.nodes[nid]
        base, call = nid, 1
        if "#" in nid and nid.rsplit("#", 1)[1].isdigit():
            base, call = nid.rsplit("#", 1)[0], int(nid.rsplit("#", 1)[1])
        if base != node.name or node.kind in ("input", "output"):
            return None
        try:
            module = self.model.get_submodule(node.name)
        except AttributeError:
            return None
        if module is self.model or list(module.children()):
            return None
        return module, call

    # -- gradients ----------------------------------------------------------------------
    def gradients_at(self, inputs: Sequence[Any], nid: str | None, target: Any,
                     graph: Graph | None = None, guided: bool = False) -> GradientPass:
        """One forward and one backward: node ``nid``'s output (the input when None) and
        the gradient of ``target``'s score (:class:`netdraw.viz.targets.Target`) with
        respect to it. A module's output is reached by a forward hook (the forward runs as
        without netdraw), any other node through the tracer. ``guided``: guided
        backpropagation (every ``nn.ReLU`` passes only positive gradients back)."""
        args = list(self.arguments(inputs))
        graph = graph if graph is not None else self.graph_for(inputs)
        watched: dict[str, torch.Tensor] = {}
        handles = []
        training = self.model.training
        if training:
            self.model.eval()
        try:
            if guided:
                handles.extend(_guided_relus(self.model))
            if nid is None:
                args[0] = args[0].detach().clone().requires_grad_(True)
                watched["x"] = args[0]
            call = self._module_call(graph, nid) if nid is not None else None
            with torch.enable_grad():
                if nid is None or call is not None:
                    if call is not None:
                        handles.append(_keep_call(call[0], call[1], watched))
                    try:
                        out = self.model(*args)
                    except Exception as exc:
                        raise NetdrawError(f"the forward pass of {self.name} failed: "
                                           f"{type(exc).__name__}: {exc}") from None
                    output = select_output(out, target.output)
                else:
                    output = self._traced_watch(tuple(args), nid, target, watched)
                if "x" not in watched:
                    raise NetdrawError(f"layer {graph.nodes[nid].name!r} did not run")
                weights, classes = target.weights(to_numpy(output))
                score = (output * torch.from_numpy(weights).to(output)).sum()
                tensor = watched["x"]
                if not tensor.requires_grad:
                    grad = torch.zeros_like(tensor)
                else:
                    (grad,) = torch.autograd.grad(score, tensor, allow_unused=True)
                    grad = torch.zeros_like(tensor) if grad is None else grad
        finally:
            for h in handles:
                h.remove()
            if training:
                self.model.train(True)
        return GradientPass(graph, [nid or "input"], {nid or "input": to_numpy(tensor)},
                            {nid or "input": to_numpy(grad)}, to_numpy(output), classes)

    def _traced_watch(self, args: tuple, node: str, target: Any,
                      watched: dict[str, torch.Tensor]) -> torch.Tensor:
        """The model's output, with node ``node``'s output kept in ``watched["x"]`` (the
        forward goes on with a copy, so no later in-place op changes it)."""
        outputs: list[Any] = []

        def watch(nid: str, tensors: list[torch.Tensor]) -> list[torch.Tensor] | None:
            if nid == node and tensors:
                original = tensors[0]
                if not original.requires_grad:
                    original = original.detach().requires_grad_(True)
                watched["x"] = original
                return [original.clone(), *tensors[1:]]
            return None

        def keep_output(module: nn.Module, _args: Any, out: Any) -> None:
            outputs.append(out)

        handle = self.model.register_forward_hook(keep_output)
        try:
            torch_trace.trace(self.model, args, {}, self.name, observer=watch, grad=True)
        finally:
            handle.remove()
        return select_output(outputs[-1], target.output)

    def normal(self, shape: tuple[int, ...], stdev: float, seed: int) -> np.ndarray:
        """Gaussian noise drawn as ``torch.normal`` draws it from a generator seeded with
        ``seed`` (so ``torch.manual_seed(seed)`` before captum's NoiseTunnel draws the
        same numbers)."""
        generator = torch.Generator().manual_seed(int(seed))
        std = torch.full(tuple(shape), float(stdev))
        return torch.normal(torch.zeros(tuple(shape)), std, generator=generator).numpy()

    def outputs(self, inputs: Sequence[Any], output: str | int | None = None) -> np.ndarray:
        """One output of the model (``output``: a name or index; default the logits)."""
        with torch.no_grad():
            training = self.model.training
            if training:
                self.model.eval()
            try:
                out = self.model(*self.arguments(inputs))
            except Exception as exc:
                raise NetdrawError(f"the forward pass of {self.name} failed: "
                                   f"{type(exc).__name__}: {exc}") from None
            finally:
                if training:
                    self.model.train(True)
        return to_numpy(select_output(out, output))

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


def _fingerprint(model: nn.Module) -> tuple[int, ...]:
    """What changes when a model's layers are replaced: the ids of its modules, read
    without the recursion of ``modules()``."""
    out: list[int] = []
    stack = [model]
    while stack:
        module = stack.pop()
        out.append(id(module))
        stack.extend(m for m in module._modules.values() if m is not None)
    return tuple(out)


def select_output(out: Any, which: str | int | None = None) -> torch.Tensor:
    """One tensor of a model's output: ``which`` a dict key, attribute or index among the
    output's tensors; None the logits (:func:`first_tensor`)."""
    if which is None:
        return first_tensor(out)
    if isinstance(which, str):
        if isinstance(out, dict) and isinstance(out.get(which), torch.Tensor):
            return out[which]
        value = getattr(out, which, None)
        if isinstance(value, torch.Tensor):
            return value
        names = list(out.keys()) if isinstance(out, dict) else []
        raise NetdrawError(f"--output {which!r}: the model's output has no tensor of that "
                           f"name" + (f"; it has {', '.join(map(str, names))}" if names
                                      else "; give an index"))
    tensors = list(torch_trace.iter_tensors(out.to_tuple() if hasattr(out, "to_tuple")
                                            else out))
    if not 0 <= int(which) < len(tensors):
        raise NetdrawError(f"--output {which}: the model returns {len(tensors)} tensor(s)")
    return tensors[int(which)]


def _keep_call(module: nn.Module, call: int, watched: dict[str, torch.Tensor]) -> Any:
    """A forward hook keeping ``module``'s ``call``-th output in ``watched["x"]``; the
    forward goes on with a copy, so a later in-place op cannot change the kept one."""
    seen = [0]

    def hook(_m: nn.Module, _args: Any, output: Any) -> Any:
        seen[0] += 1
        if seen[0] == call and isinstance(output, torch.Tensor):
            watched["x"] = output
            return output.clone()
        return None

    return module.register_forward_hook(hook)


class _PositiveGradient(torch.autograd.Function):
    """Identity forward; backward passes only the positive part of the gradient."""

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor) -> torch.Tensor:
        return x.clone()

    @staticmethod
    def backward(ctx: Any, grad: torch.Tensor) -> torch.Tensor:
        return grad.clamp(min=0)


def _guided_relus(model: nn.Module) -> list[Any]:
    """Guided backpropagation (Springenberg et al. 2015): behind every ``nn.ReLU`` module
    only positive gradients flow back, so its backward is ``ReLU(g) · [x > 0]``."""
    def hook(_m: nn.Module, _args: Any, output: Any) -> Any:
        return _PositiveGradient.apply(output) if isinstance(output, torch.Tensor) else None

    return [m.register_forward_hook(hook) for m in model.modules() if isinstance(m, nn.ReLU)]


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
