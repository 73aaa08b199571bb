"""Class-activation maps: where in the image the evidence for a class lies.

Methods (``method=``), on the output ``A`` (channels ``k``) of one layer and the score
``y`` of class ``c`` before softmax:

``gradcam``   (Selvaraju et al. 2017) ``ReLU(Σ_k w_k A_k)``, ``w_k`` the spatial mean of
              ``∂y/∂A_k``; one forward and one backward.
``gradcam++`` (Chattopadhyay et al. 2018) ``w_k = Σ_ij α_kij ReLU(∂y/∂A_kij)`` with
              ``α = g² / (2 g² + Σ_ab A_kab g³)`` (``g = ∂y/∂A``), then as Grad-CAM.
``layercam``  (Jiang et al. 2021) ``ReLU(Σ_k ReLU(∂y/∂A_k) ⊙ A_k)``, element-wise.
``scorecam``  (Wang et al. 2020) forward only: each channel, scaled to 0-1 and upsampled,
              masks the input; ``w = softmax_k(y(x ⊙ M_k) - y(x))``; ``ReLU(Σ_k w_k A_k)``.
``cam``       (Zhou et al. 2016) forward only, for networks ending in global average
              pooling and one linear layer: ``Σ_k W_ck A_k`` with that layer's weights.

``y`` is the score of a :class:`~netdraw.viz.targets.Target`: a class's logit (default:
the top prediction), a logit difference, or a class summed over a region of a segmentation
output. Pixel-level methods (Integrated Gradients, SmoothGrad, Guided Grad-CAM) live in
:mod:`netdraw.viz.attributions`; ``smooth=N`` averages any method over N noisy inputs.

Raw maps stay at the layer's grid; ``heatmaps`` min-max scales them to 0-1 per example (or
over the batch: :meth:`CamResult.scaled`) and upsamples them (bilinear) to the input size.
``layer="auto"`` picks from the graph, before any backward pass
(:func:`netdraw.viz.layers.choose_layer`): the last node whose output still has a spatial
grid larger than 1×1 (a type search picks a MobileNetV3's 1×1 logits conv) and reaches the
output other than through a slice; tokens whose count, less up to 8 leading class/register
tokens, is a square are folded into that grid (vision transformers need no reshape code).
``cam`` picks the input of the global pooling. A layer name means what the diagram's box
of that name shows (:mod:`netdraw.viz.layers`). ONNX models have no gradients here:
``cam`` and ``scorecam`` only; a file with a fixed batch size is fed in pieces of it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.viz.activations import CHANNELS_FIRST, fold_tokens, guess_axes, representative
from netdraw.viz.layers import (
    choose_layer,
    display_name,
    gap_head,
    grid_of,
    memo,
    no_grid_error,
    resolve_layer,
    spatial_nodes,
)
from netdraw.viz.targets import Target

__all__ = ["CamResult", "gap_head", "resolve_layer", "run_cam", "spatial_nodes"]

#: Maps on a layer's grid.
CAM_METHODS = ("gradcam", "gradcam++", "layercam", "scorecam", "cam")
#: Maps at the input's pixels (:mod:`netdraw.viz.attributions`).
PIXEL_METHODS = ("integrated-gradients", "smoothgrad", "guided-gradcam")
METHODS = CAM_METHODS + PIXEL_METHODS
GRADIENT_METHODS = ("gradcam", "gradcam++", "layercam", *PIXEL_METHODS)
#: How a map is scaled to 0-1 for pictures: per image, or one scale over the batch.
SCALES = ("image", "shared")


@dataclass
class CamResult:
    """The maps of one attribution run, batch first.

    ``maps`` are raw (before normalisation) at the layer's grid (CAM methods) or at the
    input's pixels (pixel methods, summed over channels: ``attributions`` keeps them per
    channel); ``heatmaps`` are ``maps`` min-max scaled to 0-1 per image and upsampled
    (bilinear) to the input size, computed when first read; :meth:`scaled` gives them on
    one scale shared by the batch."""

    maps: np.ndarray  #: (N, h, w) raw
    layer: str  #: the node id the map was computed on ("" for pixel methods)
    layer_name: str  #: the name the diagram shows for that node (its box's name)
    method: str
    classes: list[int]
    scores: list[float]  #: softmax probability of each class, or the target's score
    logits: np.ndarray  #: the output the target was read from
    graph: Graph
    notes: list[str] = field(default_factory=list)
    size: tuple[int, int] | None = None  #: the input's (H, W)
    score_kind: str = "probability"
    attributions: np.ndarray | None = None  #: pixel methods: (N, C, H, W) signed
    #: Pixel methods: 1 is this percentile of the map (a few extreme pixels would
    #: otherwise leave the rest black, as captum's ``outlier_perc``); None: the maximum.
    clip_percentile: float | None = None

    @cached_property
    def heatmaps(self) -> np.ndarray:
        """(N, H, W) float32 in 0-1 at the input's size, scaled per image."""
        return self.scaled("image")

    def scaled(self, scale: str = "image") -> np.ndarray:
        """Heatmaps in 0-1: ``image`` min-max per image, ``shared`` one scale over the
        batch (so the inputs' maps compare); pixel methods divide by the
        :attr:`clip_percentile` instead of the maximum."""
        if scale not in SCALES:
            raise NetdrawError(f"unknown scale {scale!r}; use one of {', '.join(SCALES)}")
        maps = self.maps.astype(np.float64)
        if self.clip_percentile is not None:
            axes = (1, 2) if scale == "image" else None
            top = np.percentile(maps, self.clip_percentile, axis=axes, keepdims=True)
            scaled = np.clip(maps / np.where(top > 0, top, 1.0), 0, 1)
        else:
            scaled = normalise(maps) if scale == "image" else normalise_shared(maps)
        if self.size is not None and scaled.shape[1:] != tuple(self.size):
            scaled = upsample(scaled, self.size)
        return scaled.astype(np.float32)

    @property
    def layer_path(self) -> str:
        """The framework's name of the node mapped (the ReLU closing a Conv+BN+ReLU box)."""
        return self.graph.nodes[self.layer].name if self.layer in self.graph.nodes else ""


# -- the methods ---------------------------------------------------------------------


def channels_first(x: np.ndarray, axes: str) -> np.ndarray:
    """(N, C, h, w) from a node output with ``axes`` (tokens folded)."""
    if axes == "NCHW":
        return x
    if axes == "NHWC":
        return np.moveaxis(x, -1, 1)
    if axes == "NTD":
        extra, h, w = fold_tokens(x.shape[1])  # type: ignore[misc]
        return np.moveaxis(x[:, extra:], -1, 1).reshape(x.shape[0], x.shape[2], h, w)
    raise NetdrawError(f"an output with axes {axes} has no spatial grid larger than 1×1; "
                       "choose an earlier layer or --layer auto")


def weights_gradcam(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g.mean(axis=(2, 3))


def weights_gradcampp(a: np.ndarray, g: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    g = g.astype(np.float64)
    g2, g3 = g * g, g * g * g
    denom = 2 * g2 + a.sum(axis=(2, 3), keepdims=True) * g3
    alpha = np.where(g2 > 0, g2 / np.where(denom != 0, denom, eps), 0.0)
    return (alpha * np.maximum(g, 0)).sum(axis=(2, 3))


def combine(weights: np.ndarray, a: np.ndarray, relu: bool = True) -> np.ndarray:
    """Σ_k w_k A_k per example: (N, C) × (N, C, h, w) -> (N, h, w)."""
    maps = np.einsum("nc,nchw->nhw", weights.astype(np.float64), a.astype(np.float64))
    return np.maximum(maps, 0) if relu else maps


def normalise_shared(maps: np.ndarray) -> np.ndarray:
    """Min-max to 0-1 over the whole batch (one scale for all examples)."""
    low, high = float(maps.min()), float(maps.max())
    return (maps - low) / (high - low) if high > low else np.zeros_like(maps)


def normalise(maps: np.ndarray) -> np.ndarray:
    """Min-max to 0-1 per example (a constant map becomes zeros)."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear (half-pixel centres, as ``align_corners=False``) to ``size`` (H, W)."""
    n, h, w = maps.shape
    H, W = size

    def axis(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(dst) + 0.5) * src / dst - 0.5, 0, src - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, src - 1)
        return lo, hi, (pos - lo)

    y0, y1, fy = axis(h, H)
    x0, x1, fx = axis(w, W)
    top = maps[:, y0][:, :, x0] * (1 - fx) + maps[:, y0][:, :, x1] * fx
    bottom = maps[:, y1][:, :, x0] * (1 - fx) + maps[:, y1][:, :, x1] * fx
    return top * (1 - fy)[None, :, None] + bottom * fy[None, :, None]


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.reshape(logits.shape[0], -1).astype(np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


# -- running -------------------------------------------------------------------------


def input_size(x: np.ndarray, layout: str) -> tuple[int, int] | None:
    """(H, W) of an image batch, None for any other input."""
    x = np.asarray(x)
    if x.ndim != 4:
        return None
    return (x.shape[2], x.shape[3]) if layout == CHANNELS_FIRST else (x.shape[1], x.shape[2])


def pick_layer(g: Graph, layer: str, method: str, batch: int, layout: str,
               view: Graph | None = None) -> str:
    """The node a CAM method maps: ``layer`` resolved by name (in ``view`` when given,
    else through the default fold), or chosen from the graph (:func:`choose_layer`; for
    ``cam`` the input of the global pooling)."""
    if layer != "auto":
        if view is not None and layer in view.nodes:
            chosen = representative(view.nodes[layer])
        else:
            chosen = resolve_layer(g, layer)
    elif method == "cam":
        head = gap_head(g)
        chosen = head[0] if head is not None else choose_layer(g, batch, layout)
    else:
        chosen = choose_layer(g, batch, layout)
    if grid_of(g.nodes[chosen], batch, layout) is None:
        raise no_grid_error(g, chosen)
    return chosen


def run_cam(runtime: Any, inputs: Sequence[np.ndarray], class_index: Any = None,
            layer: str = "auto", method: str = "gradcam", graph: Graph | None = None,
            scorecam_batch: int = 32, *, target: Target | None = None, smooth: int = 0,
            noise: float | None = None, seed: int = 0, **options: Any) -> CamResult:
    """The map of ``method`` on a runtime (see :func:`netdraw.viz.cam`). ``smooth`` > 0
    averages the raw maps over that many noisy copies of the input (SmoothGrad applied to
    a CAM, Omeiza et al. 2019; ``noise``: the noise's standard deviation, default 15 % of
    the input's range)."""
    if method not in METHODS:
        raise NetdrawError(f"unknown method {method!r}; use one of {', '.join(METHODS)}")
    layout = runtime.layout
    target = Target.of(target if target is not None else class_index, layout)
    if method in GRADIENT_METHODS and not runtime.gradients_supported:
        raise NetdrawError(f"{method} needs gradients, which {runtime.framework} models do "
                           "not give here; use --method cam or --method scorecam")
    if method in PIXEL_METHODS:
        from netdraw.viz.attributions import run_pixel

        return run_pixel(runtime, inputs, method, target, layer=layer, graph=graph,
                         smooth=smooth, noise=noise, seed=seed, **options)
    if options:
        raise NetdrawError(f"{', '.join(options)}: options of the pixel methods "
                           f"({', '.join(PIXEL_METHODS)}), not of {method}")
    batch = int(np.asarray(inputs[0]).shape[0])
    size = input_size(inputs[0], layout)
    g = runtime.graph_for(inputs)
    chosen = pick_layer(g, layer, method, batch, layout, graph) if graph is not None else \
        memo(g, ("layer", layer, method, batch, layout),
             lambda: pick_layer(g, layer, method, batch, layout))
    maps, output, classes = layer_maps(runtime, inputs, g, chosen, method, target,
                                       scorecam_batch)
    scores, classes, kind = target.scores(output, classes)
    notes = []
    if smooth:
        fixed = Target(tuple(classes), target.minus, target.output, target.region, layout)
        maps = smoothed(runtime, inputs, smooth, noise, seed,
                        lambda xs: layer_maps(runtime, xs, g, chosen, method, fixed,
                                              scorecam_batch)[0])
        notes.append(f"averaged over {smooth} noisy copies of the input")
    name = memo(g, ("name", chosen), lambda: display_name(g, chosen))
    return CamResult(maps.astype(np.float32), chosen, name, method,
                     classes, scores, output, g, notes, size, kind)


def smoothed(runtime: Any, inputs: Sequence[np.ndarray], samples: int, noise: float | None,
             seed: int, maps_of: Any) -> np.ndarray:
    """The mean of ``maps_of(inputs + noise)`` over ``samples`` noisy copies: the noise is
    drawn once, ``(N·samples, …)`` with example ``i``'s copies at rows ``i·samples…``
    (captum's NoiseTunnel order), by the runtime (torch's generator for PyTorch)."""
    if samples < 1:
        raise NetdrawError(f"--smooth must be 1 or more, not {samples}")
    x = np.asarray(inputs[0], dtype=np.float32)
    stdev = float(noise) if noise is not None else 0.15 * float(np.ptp(x) or 1.0)
    drawn = runtime.normal((x.shape[0] * samples, *x.shape[1:]), stdev, seed)
    noisy = np.repeat(x, samples, axis=0) + drawn.astype(np.float32)
    total = None
    for k in range(samples):
        rows = noisy[k::samples]  # sample k of every example
        maps = maps_of([rows, *inputs[1:]])
        total = maps.astype(np.float64) if total is None else total + maps
    return total / samples


def layer_maps(runtime: Any, inputs: Sequence[np.ndarray], g: Graph, chosen: str,
               method: str, target: Target, chunk: int = 32
               ) -> tuple[np.ndarray, np.ndarray, list[int]]:
    """``(raw maps (N, h, w), the output the target reads, the classes explained)`` of a
    CAM method at node ``chosen``."""
    batch = int(np.asarray(inputs[0]).shape[0])
    layout = runtime.layout
    node = g.nodes[chosen]
    if method in GRADIENT_METHODS:
        result = runtime.gradients_at(inputs, chosen, target, g)
        value, grad = result.activations[chosen], result.gradients[chosen]
        axes = guess_axes(value.shape, batch, layout, node.kind, node.op_type)
        a, grad = channels_first(value, axes), channels_first(grad, axes)
        if method == "gradcam":
            maps = combine(weights_gradcam(a, grad), a)
        elif method == "gradcam++":
            maps = combine(weights_gradcampp(a, grad), a)
        else:
            maps = np.maximum((np.maximum(grad, 0) * a).sum(axis=1), 0).astype(np.float64)
        return maps, result.logits, result.classes
    acts = runtime.capture(inputs, {chosen})
    a = channels_first(acts[chosen], acts.axes[chosen]).astype(np.float64)
    output = runtime.outputs(inputs, target.output)
    if method == "cam":
        head = gap_head(g)
        if head is None:
            raise NetdrawError(f"cam needs a network that ends in global average pooling "
                               f"and one linear layer, which {g.name} does not; use "
                               "--method gradcam (or scorecam)")
        if chosen != head[0]:
            raise NetdrawError(f"cam maps the input of the global pooling "
                               f"({display_name(g, head[0])}); drop --layer or use "
                               "--method gradcam for other layers")
        if target.region is not None or target.output is not None:
            raise NetdrawError("cam explains a class of the classifier; --region and "
                               "--output need a gradient method or scorecam")
        weight = runtime.weight(g, head[1])
        if weight is None or weight.ndim != 2 or weight.shape[1] != a.shape[1]:
            raise NetdrawError(f"cannot read the weights of {g.nodes[head[1]].name} "
                               f"matching {a.shape[1]} channels")
        w, classes = target.weights(output)
        return combine(w.reshape(batch, -1) @ weight, a, relu=False), output, classes
    return (_scorecam(runtime, inputs, a, target, output, chunk), output,
            target.weights(output)[1])


def _scorecam(runtime: Any, inputs: Sequence[np.ndarray], a: np.ndarray, target: Target,
              output: np.ndarray, chunk: int) -> np.ndarray:
    layout = runtime.layout
    size = input_size(inputs[0], layout)
    if size is None:
        raise NetdrawError("scorecam masks an image input; this model's input is not one")
    x = np.asarray(inputs[0], dtype=np.float32)
    n, c = a.shape[:2]
    masks = upsample(normalise(a.reshape(n * c, *a.shape[2:])), size).reshape(n, c, *size)
    w, _ = target.weights(output)
    base = (output * w).reshape(n, -1).sum(1)
    weights = np.zeros((n, c))
    for i in range(n):
        for start in range(0, c, chunk):
            m = masks[i, start:start + chunk].astype(np.float32)
            if layout == CHANNELS_FIRST:
                masked = x[i][None] * m[:, None]
            else:
                masked = x[i][None] * m[:, :, :, None]
            rest = [np.repeat(np.asarray(r)[i:i + 1], len(m), axis=0) for r in inputs[1:]]
            out = runtime.outputs([masked, *rest], target.output)
            weights[i, start:start + chunk] = \
                (out * w[i:i + 1]).reshape(len(m), -1).sum(1) - base[i]
    weights = np.exp(weights - weights.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return combine(weights, a)
