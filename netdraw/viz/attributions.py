"""Pixel-level attributions: which input pixels move a target's score.

Methods (``method=`` of :func:`netdraw.viz.cam`), for a :class:`~netdraw.viz.targets.Target`
score ``y`` (a class's logit by default):

``integrated-gradients`` (Sundararajan et al. 2017) ``(x − b) · ∫₀¹ ∂y/∂x(b + α(x − b)) dα``
    with baseline ``b`` (``baseline=0``: black; a number or an array), the integral by
    Gauss-Legendre quadrature over ``steps=50`` points (captum's default); the notes give
    the completeness error ``|Σ attributions − (y(x) − y(b))|``.
``smoothgrad`` (Smilkov et al. 2017) the mean of ``∂y/∂x`` over ``samples=25`` copies of
    the input with Gaussian noise (``noise``: its standard deviation, default 15 % of the
    input's range; ``seed``).
``guided-gradcam`` (Selvaraju et al. 2017) guided backpropagation (only positive gradients
    pass each ``nn.ReLU`` back) times the Grad-CAM map of ``layer`` upsampled to the input
    (``interpolation="bilinear"`` or ``"nearest"``). PyTorch models only.

Each gives ``attributions`` (N, C, H, W), signed, channels first whatever the framework's
layout, and ``maps`` (N, H, W): their magnitude summed over channels; ``heatmaps`` reach 1
at the map's 99th percentile (a few extreme pixels would leave the rest black). Gradients come in
batches of ``batch_size`` rows (default 32), so a model with a fixed batch or a large
input fits. ``smooth=N`` averages any of them over N noisy inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.viz.activations import CHANNELS_LAST
from netdraw.viz.targets import Target

INTERPOLATIONS = ("bilinear", "nearest")
#: A pixel map's heatmap reaches 1 at this percentile of its values.
CLIP_PERCENTILE = 99.0


def _rows(target: Target, classes: list[int], order: list[int]) -> Target:
    """The target for rows made from the examples ``order`` (the classes fixed)."""
    minus = target.minus
    if minus is not None and not isinstance(minus, int):
        minus = tuple(minus[i] for i in order)
    region = target.region
    if region is not None and np.ndim(region) == 3:
        region = np.asarray(region)[order]
    return Target(tuple(classes[i] for i in order), minus, target.output, region,
                  target.layout)


def input_gradients(runtime: Any, rows: np.ndarray, target: Target, rest: Sequence[Any],
                    order: list[int], classes: list[int], batch_size: int = 32,
                    guided: bool = False) -> np.ndarray:
    """``∂y/∂x`` for each row of ``rows`` (row ``r`` explains example ``order[r]``), in
    batches of ``batch_size``; in the framework's layout."""
    out = np.empty(rows.shape, np.float32)
    for start in range(0, len(rows), batch_size):
        part = order[start:start + batch_size]
        others = [np.asarray(r)[part] for r in rest]
        result = runtime.gradients_at([rows[start:start + batch_size], *others], None,
                                      _rows(target, classes, part), guided=guided)
        out[start:start + len(part)] = result.gradients["input"]
    return out


def _first(x: np.ndarray, layout: str) -> np.ndarray:
    return np.moveaxis(x, -1, 1) if layout == CHANNELS_LAST and x.ndim == 4 else x


def integrated_gradients(runtime: Any, inputs: Sequence[np.ndarray], target: Target,
                         classes: list[int], steps: int = 50, baseline: Any = 0.0,
                         batch_size: int = 32) -> tuple[np.ndarray, float]:
    """Attributions in the framework's layout and the largest completeness error."""
    if steps < 1:
        raise NetdrawError(f"steps must be 1 or more, not {steps}")
    x = np.asarray(inputs[0], dtype=np.float32)
    b = np.broadcast_to(np.asarray(baseline, dtype=np.float32), x.shape)
    nodes, weights = np.polynomial.legendre.leggauss(steps)
    alphas, step_sizes = 0.5 * (1 + nodes), 0.5 * weights
    n = x.shape[0]
    rows = np.concatenate([b + np.float32(a) * (x - b) for a in alphas])
    order = [i for _ in alphas for i in range(n)]
    grads = input_gradients(runtime, rows, target, inputs[1:], order, classes, batch_size)
    total = np.zeros(x.shape, np.float64)
    for k, size in enumerate(step_sizes):
        total += size * grads[k * n:(k + 1) * n]
    attributions = (total * (x - b)).astype(np.float32)
    fixed = _rows(target, classes, list(range(n)))
    ends = [runtime.outputs([np.ascontiguousarray(v), *inputs[1:]], target.output)
            for v in (x, b)]
    w, _ = fixed.weights(ends[0])
    gap = [(e * w).reshape(n, -1).sum(1) for e in ends]
    error = float(np.max(np.abs(attributions.reshape(n, -1).sum(1) - (gap[0] - gap[1]))))
    return attributions, error


def smoothgrad(runtime: Any, inputs: Sequence[np.ndarray], target: Target,
               classes: list[int], samples: int = 25, noise: float | None = None,
               seed: int = 0, batch_size: int = 32) -> np.ndarray:
    """The mean gradient over noisy copies, in the framework's layout; the noise is drawn
    as ``(N·samples, …)`` with example ``i``'s copies at rows ``i·samples…`` (captum's
    NoiseTunnel order), by the runtime (torch's generator for PyTorch)."""
    if samples < 1:
        raise NetdrawError(f"samples must be 1 or more, not {samples}")
    x = np.asarray(inputs[0], dtype=np.float32)
    stdev = float(noise) if noise is not None else 0.15 * float(np.ptp(x) or 1.0)
    n = x.shape[0]
    drawn = runtime.normal((n * samples, *x.shape[1:]), stdev, seed).astype(np.float32)
    rows = np.repeat(x, samples, axis=0) + drawn
    order = [i for i in range(n) for _ in range(samples)]
    grads = input_gradients(runtime, rows, target, inputs[1:], order, classes, batch_size)
    return grads.reshape(n, samples, *x.shape[1:]).mean(axis=1, dtype=np.float64) \
        .astype(np.float32)


def guided_gradcam(runtime: Any, inputs: Sequence[np.ndarray], target: Target,
                   classes: list[int], layer: str = "auto", view: Graph | None = None,
                   interpolation: str = "bilinear") -> tuple[np.ndarray, str]:
    """Guided backpropagation × the upsampled Grad-CAM map; and the layer's node id."""
    from netdraw.viz.class_maps import input_size, layer_maps, pick_layer, upsample

    if interpolation not in INTERPOLATIONS:
        raise NetdrawError(f"interpolation {interpolation!r}: use one of "
                           f"{', '.join(INTERPOLATIONS)}")
    x = np.asarray(inputs[0])
    n = x.shape[0]
    fixed = _rows(target, classes, list(range(n)))
    g = runtime.graph_for(inputs)
    chosen = pick_layer(g, layer, "gradcam", n, runtime.layout, view)
    maps, _, _ = layer_maps(runtime, inputs, g, chosen, "gradcam", fixed)
    size = input_size(x, runtime.layout)
    if interpolation == "nearest":
        h, w = maps.shape[1:]
        ys = np.floor(np.arange(size[0]) * h / size[0]).astype(int)
        xs = np.floor(np.arange(size[1]) * w / size[1]).astype(int)
        up = maps[:, ys][:, :, xs]
    else:
        up = upsample(maps, size)
    guided = runtime.gradients_at(inputs, None, fixed, g, guided=True).gradients["input"]
    guided = _first(guided, runtime.layout)
    return (guided * up[:, None]).astype(np.float32), chosen


def run_pixel(runtime: Any, inputs: Sequence[np.ndarray], method: str, target: Target, *,
              layer: str = "auto", graph: Graph | None = None, smooth: int = 0,
              noise: float | None = None, seed: int = 0, steps: int = 50,
              baseline: Any = 0.0, samples: int = 25, interpolation: str = "bilinear",
              batch_size: int = 32) -> Any:
    """A :class:`~netdraw.viz.class_maps.CamResult` of a pixel method (module doc)."""
    from netdraw.viz.class_maps import CamResult, input_size, smoothed
    from netdraw.viz.layers import display_name

    layout = runtime.layout
    x = np.asarray(inputs[0])
    if input_size(x, layout) is None:
        raise NetdrawError(f"{method} maps the pixels of an image input (N, C, H, W); this "
                           f"model's input has shape {x.shape}")
    if batch_size < 1:
        raise NetdrawError(f"batch_size must be 1 or more, not {batch_size}")
    output = runtime.outputs(inputs, target.output)
    scores, classes, kind = target.scores(output)
    notes: list[str] = []
    chosen = ""

    def attribute(xs: Sequence[np.ndarray]) -> np.ndarray:
        nonlocal chosen
        if method == "integrated-gradients":
            attr, error = integrated_gradients(runtime, xs, target, classes, steps, baseline,
                                               batch_size)
            notes.append(f"completeness error {error:.3g} (|Σ attributions − (y(x) − "
                         f"y(baseline))|, {steps} steps)")
            return _first(attr, layout)
        if method == "smoothgrad":
            return _first(smoothgrad(runtime, xs, target, classes, samples, noise, seed,
                                     batch_size), layout)
        attr, chosen = guided_gradcam(runtime, xs, target, classes, layer, graph,
                                      interpolation)
        return attr

    if smooth:
        attributions = smoothed(runtime, inputs, smooth, noise, seed + 1, attribute)
        notes = [f"averaged over {smooth} noisy copies of the input"]
    else:
        attributions = attribute(inputs)
    maps = np.abs(attributions).sum(axis=1)
    g = runtime.graph_for(inputs)
    name = display_name(g, chosen) if chosen else ""
    return CamResult(maps.astype(np.float32), chosen, name, method, classes, scores, output,
                     g, notes, input_size(x, layout), kind,
                     attributions.astype(np.float32), clip_percentile=CLIP_PERCENTILE)
