"""Is a map faithful? Deletion and insertion curves, the pointing game, the randomisation
check — ``netdraw.viz.evaluate(...)`` and ``netdraw cam … --evaluate``.

``deletion`` (Petsiuk et al. 2018, RISE): the pixels are removed most important first
(by the heatmap, ties in reading order) in ``steps`` equal steps, each replaced by the
``baseline`` — ``zero``, ``blur`` (a Gaussian blur of the image, σ = ``blur_sigma`` px) or
``mean`` (the image's per-channel mean) — and the target's score is read after each step:
the softmax probability of the class for a classifier, else the target's score. The curve
has ``steps + 1`` points at the fractions ``0, 1/steps, …, 1``; its area (trapezoid rule)
is the **deletion AUC** (lower is better). ``insertion`` starts from the baseline and puts
the pixels back in the same order (higher is better). Step ``k`` changes the first
``round(k · H·W / steps)`` pixels.

``pointing`` (Zhang et al. 2016): a hit when the heatmap's maximum (the first in reading
order) lies inside the image's box ``(x0, y0, x1, y1)`` (pixels, x1/y1 exclusive) enlarged
by ``tolerance`` pixels; the score is the fraction of hits.

``randomisation`` (Adebayo et al. 2018): the weights of the last ``randomise`` layers with
weights are redrawn (normal, each tensor's own standard deviation, ``seed``) in a copy of
a PyTorch model, the same maps are computed for the same classes, and Spearman's rank
correlation with the original heatmaps is reported per image; a map that depends on what
the network learnt changes (ρ well below 1).

Images stream through in batches of ``batch_size`` (a folder of any size), with a
progress bar on a terminal.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.viz.activations import CHANNELS_LAST

METRICS = ("deletion", "insertion", "pointing", "randomisation")
BASELINES = ("zero", "blur", "mean")


# -- baselines and curves -------------------------------------------------------------------


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """(C, H, W) blurred by a separable Gaussian of ``sigma`` px (edges reflected)."""
    radius = max(1, int(math.ceil(3 * sigma)))
    t = np.arange(-radius, radius + 1, dtype=np.float64)
    kernel = np.exp(-0.5 * (t / sigma) ** 2)
    kernel /= kernel.sum()
    out = image.astype(np.float64)
    for axis in (1, 2):
        pad = [(0, 0)] * 3
        pad[axis] = (radius, radius)
        padded = np.pad(out, pad, mode="reflect" if out.shape[axis] > radius else "edge")
        out = sum(kernel[k] * np.take(padded, range(k, k + out.shape[axis]), axis=axis)
                  for k in range(len(kernel)))
    return out.astype(np.float32)


def baseline_image(image: np.ndarray, baseline: str, blur_sigma: float = 5.0) -> np.ndarray:
    """The (C, H, W) image the removed pixels take their values from."""
    if baseline == "zero":
        return np.zeros_like(image)
    if baseline == "mean":
        return np.broadcast_to(image.mean(axis=(1, 2), keepdims=True), image.shape).copy()
    if baseline == "blur":
        return gaussian_blur(image, blur_sigma)
    raise NetdrawError(f"unknown baseline {baseline!r}; use one of {', '.join(BASELINES)}")


def pixel_order(heat: np.ndarray) -> np.ndarray:
    """Flat pixel indices, most important first (ties: reading order)."""
    return np.argsort(-heat.ravel(), kind="stable")


def curve_images(image: np.ndarray, heat: np.ndarray, mode: str, baseline: str,
                 steps: int, blur_sigma: float = 5.0) -> np.ndarray:
    """The ``steps + 1`` images (K, C, H, W) of a deletion or insertion curve."""
    c, h, w = image.shape
    start, end = (image, baseline_image(image, baseline, blur_sigma))
    if mode == "insertion":
        start, end = end, start
    order = pixel_order(heat)
    counts = [round(k * h * w / steps) for k in range(steps + 1)]
    out = np.empty((steps + 1, c, h * w), np.float32)
    flat_start, flat_end = start.reshape(c, -1), end.reshape(c, -1)
    current = flat_start.copy()
    done = 0
    for k, count in enumerate(counts):
        changed = order[done:count]
        current[:, changed] = flat_end[:, changed]
        done = count
        out[k] = current
    return out.reshape(steps + 1, c, h, w)


def auc(curve: Sequence[float]) -> float:
    """The area under a curve sampled at equal steps over 0-1 (trapezoid rule)."""
    y = np.asarray(curve, dtype=np.float64)
    if len(y) < 2:
        return float(y[0]) if len(y) else 0.0
    return float(((y[:-1] + y[1:]) / 2).sum() / (len(y) - 1))


def pointing_hit(heat: np.ndarray, box: Sequence[float], tolerance: float = 0.0) -> bool:
    """Whether the heatmap's maximum lies inside ``box`` (x0, y0, x1, y1) enlarged by
    ``tolerance`` pixels."""
    y, x = np.unravel_index(int(np.argmax(heat)), heat.shape)
    x0, y0, x1, y1 = box
    return bool(x0 - tolerance <= x < x1 + tolerance and y0 - tolerance <= y < y1 + tolerance)


def spearman(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rank correlation (average ranks for ties)."""
    def ranks(v: np.ndarray) -> np.ndarray:
        flat = v.ravel()
        order = np.argsort(flat, kind="stable")
        r = np.empty(len(flat), np.float64)
        r[order] = np.arange(len(flat), dtype=np.float64)
        _, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
        sums = np.bincount(inverse, weights=r)
        return sums[inverse] / counts[inverse]

    ra, rb = ranks(a), ranks(b)
    if np.ptp(ra) == 0 or np.ptp(rb) == 0:
        return 1.0 if np.ptp(ra) == np.ptp(rb) else 0.0
    return float(np.corrcoef(ra, rb)[0, 1])


# -- the evaluation ----------------------------------------------------------------------


@dataclass
class Evaluation:
    """Per-image results and their means (see the module doc)."""

    method: str
    layer: str
    baseline: str
    steps: int
    files: list[str] = field(default_factory=list)
    classes: list[int] = field(default_factory=list)
    deletion: list[list[float]] = field(default_factory=list)  #: curve per image
    insertion: list[list[float]] = field(default_factory=list)
    pointing: list[bool] = field(default_factory=list)
    randomisation: list[float] = field(default_factory=list)  #: Spearman ρ per image

    @property
    def deletion_auc(self) -> list[float]:
        return [auc(c) for c in self.deletion]

    @property
    def insertion_auc(self) -> list[float]:
        return [auc(c) for c in self.insertion]

    def summary(self) -> dict[str, float]:
        """The mean of each metric computed (``pointing``: the fraction of hits)."""
        out: dict[str, float] = {}
        if self.deletion:
            out["deletion_auc"] = float(np.mean(self.deletion_auc))
        if self.insertion:
            out["insertion_auc"] = float(np.mean(self.insertion_auc))
        if self.pointing:
            out["pointing"] = float(np.mean(self.pointing))
        if self.randomisation:
            out["randomisation_rho"] = float(np.mean(self.randomisation))
        return out

    def to_json(self) -> str:
        images = []
        for k in range(len(self.classes)):
            entry: dict[str, Any] = {"class": self.classes[k]}
            if self.files:
                entry["file"] = self.files[k]
            if self.deletion:
                entry["deletion_auc"] = self.deletion_auc[k]
                entry["deletion"] = self.deletion[k]
            if self.insertion:
                entry["insertion_auc"] = self.insertion_auc[k]
                entry["insertion"] = self.insertion[k]
            if self.pointing:
                entry["pointing"] = self.pointing[k]
            if self.randomisation:
                entry["randomisation_rho"] = self.randomisation[k]
            images.append(entry)
        document = {"schema": "netdraw.evaluation/1", "method": self.method,
                    "layer": self.layer, "baseline": self.baseline, "steps": self.steps,
                    "mean": self.summary(), "images": images}
        from netdraw.output import json_text

        return json_text(document, what="the evaluation", indent=1) + "\n"


def _score_curves(runtime: Any, images: np.ndarray, target: Any, cls: int, example: int,
                  batch_size: int) -> list[float]:
    """The target's score (probability for a classifier) on each of ``images``, the
    curve of input ``example`` explaining class ``cls``."""
    from netdraw.viz.targets import Target

    layout = runtime.layout
    feed = np.moveaxis(images, 1, -1) if layout == CHANNELS_LAST else images
    minus = target.minus
    if minus is not None and not isinstance(minus, (int, np.integer)):
        minus = tuple(minus)[example] if len(tuple(minus)) > 1 else tuple(minus)[0]
    fixed = Target(cls, minus, target.output, None, layout)
    scores: list[float] = []
    for start in range(0, len(feed), batch_size):
        out = runtime.outputs([np.ascontiguousarray(feed[start:start + batch_size])],
                              target.output)
        scores.extend(fixed.scores(out)[0])
    return scores


def image_files(items: Sequence[str | os.PathLike[str]]) -> list[str]:
    """Files from ``--input`` items: a folder stands for its images and ``.npy`` arrays
    (sorted by name)."""
    from netdraw.viz.inputs import IMAGE_SUFFIXES

    files: list[str] = []
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.is_file()
                           and p.suffix.lower() in (*IMAGE_SUFFIXES, ".npy"))
            if not found:
                raise NetdrawError(f"--input {path}: the folder holds no image (.png, .jpg, "
                                   ".bmp) or .npy file")
            files.extend(str(p) for p in found)
        else:
            files.append(str(path))
    return files


def batches(opened: Any, inputs: Any, batch_size: int, normalize: Any = None
            ) -> Iterator[tuple[list[np.ndarray], np.ndarray | None, list[str]]]:
    """``(arrays, 0-1 pixels or None, files)`` per batch: files (folders expanded) are read
    batch by batch, arrays sliced."""
    from netdraw.viz.api import prepare_inputs
    from netdraw.viz.inputs import load_inputs

    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if items and all(isinstance(i, (str, os.PathLike)) for i in items):
        files = image_files(items)
        for start in range(0, len(files), batch_size):
            part = files[start:start + batch_size]
            batch = load_inputs(part, opened.spec, normalize)
            yield batch.arrays, batch.pixels, part
        return
    arrays = prepare_inputs(opened, inputs).arrays
    count = int(arrays[0].shape[0])
    for start in range(0, count, batch_size):
        yield [a[start:start + batch_size] for a in arrays], None, []


def count_inputs(inputs: Any) -> int | None:
    items = inputs if isinstance(inputs, (list, tuple)) else [inputs]
    if items and all(isinstance(i, (str, os.PathLike)) for i in items):
        return len(image_files(items))
    first = items[0] if items else None
    return int(np.shape(first)[0]) if first is not None and np.ndim(first) else None


def evaluate(model: Any, inputs: Any, method: str = "gradcam",
             metrics: Sequence[str] = ("deletion", "insertion"), *, baseline: str = "blur",
             steps: int = 20, boxes: Sequence[Sequence[float]] | None = None,
             tolerance: float = 0.0, randomise: int = 2, target: Any = None,
             class_index: Any = None, layer: str = "auto", batch_size: int = 32,
             blur_sigma: float = 5.0, seed: int = 0, normalize: Any = None,
             **options: Any) -> Evaluation:
    """Faithfulness of ``method``'s maps on ``inputs`` (arrays, image files or folders), by
    the ``metrics`` of the module doc. ``boxes``: one ``(x0, y0, x1, y1)`` per input (in
    input pixels) for ``pointing``; ``options`` go to :func:`netdraw.viz.cam`."""
    from netdraw import progress
    from netdraw.viz.api import open_model
    from netdraw.viz.class_maps import run_cam
    from netdraw.viz.targets import Target

    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise NetdrawError(f"unknown metric {', '.join(unknown) or '(none)'}; use "
                           f"{', '.join(METRICS)}")
    if baseline not in BASELINES:
        raise NetdrawError(f"unknown baseline {baseline!r}; use one of {', '.join(BASELINES)}")
    if steps < 1 or batch_size < 1:
        raise NetdrawError("steps and batch_size must be 1 or more")
    if "pointing" in metrics and boxes is None:
        raise NetdrawError("the pointing game needs a box per input: --boxes FILE.json "
                           "(a list of [x0, y0, x1, y1])")
    opened = open_model(model)
    runtime = opened.runtime
    target = Target.of(target if target is not None else class_index, runtime.layout)
    randomised = _randomised(opened, randomise, seed) if "randomisation" in metrics else None
    result = Evaluation(method, "", baseline, steps)
    total = count_inputs(inputs)
    if boxes is not None and total is not None and len(boxes) != total:
        raise NetdrawError(f"{len(boxes)} boxes for {total} inputs; give one box per input")
    done = 0
    with progress.task(f"evaluating {method}", total=total) as bar:
        for arrays, _pixels, files in batches(opened, inputs, batch_size, normalize):
            n = int(arrays[0].shape[0])
            part = slice_target(target, done, n)
            res = run_cam(runtime, arrays, None, layer, method, target=part, seed=seed,
                          **options)
            result.layer = result.layer or res.layer_name
            result.classes.extend(res.classes)
            result.files.extend(files)
            heat = res.heatmaps
            images = np.asarray(arrays[0], np.float32)
            if runtime.layout == CHANNELS_LAST:
                images = np.moveaxis(images, -1, 1)
            for i in range(n):
                for mode in ("deletion", "insertion"):
                    if mode in metrics:
                        frames = curve_images(images[i], heat[i], mode, baseline, steps,
                                              blur_sigma)
                        getattr(result, mode).append(_score_curves(
                            runtime, frames, part, res.classes[i], i, batch_size))
                if "pointing" in metrics:
                    result.pointing.append(pointing_hit(heat[i], boxes[done + i], tolerance))
            if randomised is not None:
                fixed = Target(tuple(res.classes), part.minus, part.output, part.region,
                               runtime.layout)
                other = run_cam(randomised, arrays, None, layer, method, target=fixed,
                                seed=seed, **options)
                result.randomisation.extend(spearman(heat[i], other.heatmaps[i])
                                            for i in range(n))
            done += n
            bar.advance(n)
    return result


def slice_target(target: Any, start: int, count: int) -> Any:
    """The target for inputs ``start … start + count`` of a per-input target."""
    from netdraw.viz.targets import Target

    def part(value: Any) -> Any:
        if value is None or isinstance(value, (int, np.integer)):
            return value
        values = tuple(value)
        if len(values) == 1:
            return values[0]
        return values[start:start + count]

    region = target.region
    if region is not None and np.ndim(region) == 3:
        region = np.asarray(region)[start:start + count]
    return Target(part(target.classes), part(target.minus), target.output, region,
                  target.layout)


def _randomised(opened: Any, layers: int, seed: int) -> Any:
    """A runtime of a copy of the model whose last ``layers`` layers with weights have
    random weights (PyTorch models)."""
    if opened.framework != "torch":
        raise NetdrawError("the randomisation check redraws a PyTorch model's weights; "
                           f"{opened.framework} models are not supported")
    import copy

    import torch

    from netdraw.viz.runtime_torch import TorchRuntime

    if layers < 1:
        raise NetdrawError(f"randomise must be 1 or more layers, not {layers}")
    model = copy.deepcopy(opened.runtime.model)
    with_weights = [m for m in model.modules()
                    if not list(m.children()) and any(True for _ in m.parameters(False))]
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in with_weights[-layers:]:
            for p in module.parameters(False):
                std = float(p.std()) if p.numel() > 1 else 0.1
                p.copy_(torch.randn(p.shape, generator=generator) * (std or 0.1))
    return TorchRuntime(model, name=f"{opened.name} (randomised)")
