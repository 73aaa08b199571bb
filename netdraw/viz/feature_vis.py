"""What filters respond to: raw first-layer kernels, and patterns found by gradient ascent.

Raw kernels come from the weights of the first convolution in any framework (PyTorch,
Keras, ONNX), as ``(out, in, kh, kw)``; three input channels are shown as RGB tiles.

Gradient ascent (PyTorch, and Keras on the torch backend) finds for each chosen channel the
input that maximises its mean activation, all channels of a layer at once as one batch,
with the tricks that make the result an image rather than high-frequency noise (Olah et
al. 2017, "Feature Visualization"; Lucid/Lucent):

- a Fourier parameterisation: the image is the inverse FFT of learnt coefficients scaled
  by ``1/frequency``, so low frequencies are cheap and noise is expensive;
- colour decorrelation: the three channels are a fixed mix (the square root of natural
  images' colour covariance) of decorrelated ones, squashed to 0-1 by a sigmoid;
- transformation robustness: each step the batch is padded, jittered by a few pixels,
  scaled and rotated at random before it enters the model;
- a total-variation penalty.

64 Adam steps at a learning rate of 0.1 reach the mean activations that 128 steps at 0.05
reached (the shapes network's block3: within ±10 % per channel, higher on average), in
half the time; images are the model's input size. The optimisation is seeded and runs on
one thread (a chaotic optimisation amplifies a one-ulp difference in a parallel sum), so
the same model gives the same bytes on every machine and run.

ONNX models have no gradients here: raw kernels only.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.ir import Graph

#: sqrt of the colour covariance of natural images (Lucid), rows: R, G, B.
COLOR_CORRELATION = np.array([[0.26, 0.09, 0.02],
                              [0.27, 0.00, -0.05],
                              [0.27, -0.09, 0.03]], dtype=np.float32)


@dataclass
class FilterResult:
    """Raw kernels and/or ascent images, keyed by node id."""

    graph: Graph
    steps: int = 0  #: gradient-ascent steps taken
    #: node id -> weights (out, in, kh, kw)
    kernels: dict[str, np.ndarray] = field(default_factory=dict)
    #: node id -> images (K, C, size, size) in 0-1, one per channel in ``channels``
    images: dict[str, np.ndarray] = field(default_factory=dict)
    channels: dict[str, list[int]] = field(default_factory=dict)
    #: node id -> final mean activation of each channel on its image
    objective: dict[str, list[float]] = field(default_factory=dict)
    #: node id -> the name the diagram shows for it (a Conv+BN+ReLU box's name)
    names: dict[str, str] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def first_conv(graph: Graph, runtime: Any) -> str | None:
    """The first convolution node with 4-D weights, in order."""
    for nid, node in graph.nodes.items():
        if node.kind == "conv":
            w = runtime.weight(graph, nid)
            if w is not None and w.ndim == 4:
                return nid
    return None


def conv_layers(graph: Graph) -> list[str]:
    return [nid for nid, n in graph.nodes.items() if n.kind in ("conv", "conv_transpose")]


# -- gradient ascent (torch) ---------------------------------------------------------


def ascent(function: Callable[[Any], Any], channels: Sequence[int], size: int,
           in_channels: int = 3, steps: int = 64, lr: float = 0.1, tv: float = 0.05,
           seed: int = 0, normalize: Any = None, jitter: int = 4,
           decay: float = 1.0) -> tuple[np.ndarray, list[float]]:
    """Images (K, C, size, size) in 0-1 maximising ``function(images)[k, channels[k]]``'s
    mean, all K at once; returns them with each channel's final mean activation.
    ``function`` maps a torch batch (K, C, H, W) to a layer's output (K, channels, ...)."""
    import torch
    import torch.nn.functional as F

    k = len(channels)
    generator = torch.Generator().manual_seed(seed)
    fy = torch.fft.fftfreq(size)[:, None]
    fx = torch.fft.rfftfreq(size)[None, :]
    scale = 1.0 / torch.clamp(torch.sqrt(fx * fx + fy * fy), min=1.0 / size) ** decay
    scale = scale / 4  # Lucid's "magic" factor: images start grey, not saturated
    spectrum = (torch.randn((k, in_channels, size, size // 2 + 1, 2), generator=generator)
                * 0.01).requires_grad_(True)
    mix = torch.from_numpy(COLOR_CORRELATION / np.linalg.norm(COLOR_CORRELATION, axis=0).max())
    optimiser = torch.optim.Adam([spectrum], lr=lr)
    index = torch.tensor(list(channels))
    mean = std = None
    if normalize is not None and normalize.mean:
        mean = torch.tensor(np.resize(normalize.mean, in_channels), dtype=torch.float32)
        std = torch.tensor(np.resize(normalize.std, in_channels), dtype=torch.float32)

    def image() -> torch.Tensor:
        coeffs = torch.view_as_complex(spectrum) * scale
        x = torch.fft.irfft2(coeffs, s=(size, size), norm="ortho")
        if in_channels == 3:
            x = torch.einsum("kchw,dc->kdhw", x, mix)
        return torch.sigmoid(x)

    def transform(x: torch.Tensor) -> torch.Tensor:
        pad = jitter * 2
        x = F.pad(x, (pad, pad, pad, pad), mode="reflect")
        angle = (torch.rand(k, generator=generator) - 0.5) * (np.pi / 9)  # ±10°
        zoom = 1 + (torch.rand(k, generator=generator) - 0.5) * 0.2  # ±10 %
        shift = (torch.rand(k, 2, generator=generator) - 0.5) * (2 * jitter / x.shape[-1])
        cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
        theta = torch.stack([torch.stack([cos, -sin, shift[:, 0]], 1),
                             torch.stack([sin, cos, shift[:, 1]], 1)], 1)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        x = F.grid_sample(x, grid, padding_mode="reflection", align_corners=False)
        x = x[..., pad:pad + size, pad:pad + size]
        if mean is not None:
            x = (x - mean[:, None, None]) / std[:, None, None]
        return x

    def objective(x: torch.Tensor) -> torch.Tensor:
        out = function(x)
        picked = out[torch.arange(k), index]
        return picked.reshape(k, -1).mean(1)

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one summation order, whatever the machine: same bytes
    try:
        for _ in range(steps):
            x = image()
            act = objective(transform(x))
            variation = ((x[..., 1:, :] - x[..., :-1, :]).abs().mean()
                         + (x[..., :, 1:] - x[..., :, :-1]).abs().mean())
            loss = -act.sum() + tv * variation * k
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
        with torch.no_grad():
            x = image()
            final = objective(x if mean is None
                              else (x - mean[:, None, None]) / std[:, None, None])
    finally:
        torch.set_num_threads(threads)
    return x.detach().numpy().astype(np.float32), [float(v) for v in final]


class _Stop(Exception):
    """Ends a forward pass once the watched layer has run."""


def torch_layer_function(model: Any, graph: Graph, nid: str) -> Callable[[Any], Any]:
    """Torch images -> the output of node ``nid`` (a module call: a hook on that call,
    ending the forward there; any other node: a traced forward)."""
    import torch

    node = graph.nodes[nid]
    call = 1
    base = nid
    if "#" in nid and nid.rsplit("#", 1)[1].isdigit():
        base, call = nid.rsplit("#", 1)[0], int(nid.rsplit("#", 1)[1])
    try:
        module = model.get_submodule(node.name) if base == node.name else None
    except AttributeError:
        module = None
    if module is not None and module is not model:
        def run(images: Any) -> Any:
            seen: list[Any] = []

            def hook(_m: Any, _args: Any, output: Any) -> None:
                seen.append(output)
                if len(seen) == call:
                    raise _Stop

            handle = module.register_forward_hook(hook)
            try:
                model(images)
            except _Stop:
                pass
            finally:
                handle.remove()
            if len(seen) < call:
                raise NetdrawError(f"layer {node.name!r} did not run {call} time(s)")
            out = seen[call - 1]
            return out if isinstance(out, torch.Tensor) else next(iter(out))

        return run

    from netdraw.importers import torch_trace

    def traced(images: Any) -> Any:
        kept: dict[str, Any] = {}

        def observer(seen_id: str, outputs: list[Any]) -> None:
            if seen_id == nid and outputs:
                kept[nid] = outputs[0]

        torch_trace.trace(model, (images,), {}, graph.name, observer=observer, grad=True)
        return kept[nid]

    return traced


def to_tiles(kernels: np.ndarray) -> np.ndarray:
    """Kernels (O, I, kh, kw) -> tiles (O, 3 or 1, kh, kw) in 0-1, one scale for the layer
    (so filters compare): RGB for three input channels, else the mean over inputs."""
    w = kernels if kernels.shape[1] in (1, 3) else kernels.mean(axis=1, keepdims=True)
    bound = float(np.abs(w).max()) or 1.0
    return (w / bound + 1) / 2
