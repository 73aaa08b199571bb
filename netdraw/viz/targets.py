"""What an attribution explains: a score per input, computed from one model output.

A :class:`Target` turns a model output into *weights of the same shape*; the score of
example ``i`` is ``Σ output[i] · weights[i]``, the quantity whose gradient (Grad-CAM,
Integrated Gradients, …) or whose change (Score-CAM, deletion curves) is measured. The
same weights serve every framework (torch tensors and numpy arrays alike):

- ``classes``: one class for all inputs, one per input (``--class 3,7,1``), or None for
  each input's top prediction (one-hot weights);
- ``minus``: a logit difference, ``classes − minus`` (``--minus 5``: "why 3 rather than 5");
- ``output``: which output of a multi-output model (a name or an index; default: the one
  named ``logits``, else the first);
- ``region``: for a segmentation output ``(N, K, H, W)`` (channels last for Keras), a mask
  ``(H, W)`` or ``(N, H, W)`` of the pixels whose class scores are summed (the class
  defaults to the one with the largest summed score inside the region).

>>> import numpy as np
>>> logits = np.array([[0.1, 2.0, -1.0], [3.0, 0.0, 0.5]])
>>> Target().weights(logits)[1]
[1, 0]
>>> Target(classes=1, minus=2).weights(logits)[0][0].tolist()
[0.0, 1.0, -1.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError


def _per_input(value: int | Sequence[int] | None, count: int, flag: str) -> list[int] | None:
    if value is None:
        return None
    values = [int(value)] * count if isinstance(value, (int, np.integer)) else \
        [int(v) for v in value]
    if len(values) == 1 and count > 1:
        values = values * count
    if len(values) != count:
        raise NetdrawError(f"{flag} gives {len(values)} classes for {count} inputs; give one "
                           "class, or one per input")
    return values


@dataclass(frozen=True)
class Target:
    """The score to explain (module doc)."""

    classes: int | tuple[int, ...] | None = None
    minus: int | tuple[int, ...] | None = None
    output: str | int | None = None
    region: Any = None
    layout: str = "channels_first"

    @classmethod
    def of(cls, target: Any, layout: str = "channels_first") -> Target:
        """A Target from what a user passed: a Target, a class index, a list of them, or
        None (the top prediction)."""
        if isinstance(target, Target):
            return target if target.layout == layout else Target(
                target.classes, target.minus, target.output, target.region, layout)
        if target is None or isinstance(target, (int, np.integer)):
            return cls(None if target is None else int(target), layout=layout)
        return cls(tuple(int(c) for c in target), layout=layout)

    def _class_axis(self, out: np.ndarray) -> int:
        return -1 if self.layout == "channels_last" and out.ndim > 2 else 1

    def weights(self, out: np.ndarray) -> tuple[np.ndarray, list[int]]:
        """``(weights shaped like out, the class explained for each input)``."""
        out = np.asarray(out)
        n = out.shape[0]
        if out.ndim < 2:
            raise NetdrawError(f"the model's output has shape {out.shape}: no classes to "
                               "explain; choose another output with --output")
        if self.region is not None:
            return self._region_weights(out)
        flat = out.reshape(n, -1)
        count = flat.shape[1]
        classes = _per_input(self.classes, n, "--class") or \
            [int(i) for i in flat.argmax(axis=1)]
        minus = _per_input(self.minus, n, "--minus")
        for c in classes + (minus or []):
            if not 0 <= c < count:
                raise NetdrawError(f"--class {c} is out of range: the model has {count} "
                                   f"classes (0-{count - 1})")
        w = np.zeros((n, count), np.float32)
        w[np.arange(n), classes] = 1.0
        if minus is not None:
            w[np.arange(n), minus] -= 1.0
        return w.reshape(out.shape), classes

    def _region_weights(self, out: np.ndarray) -> tuple[np.ndarray, list[int]]:
        if out.ndim != 4:
            raise NetdrawError(f"--region needs a segmentation output (N, classes, H, W); "
                               f"this output has shape {tuple(out.shape)}")
        axis = self._class_axis(out)
        scores = np.moveaxis(out, axis, 1)  # (N, K, H, W)
        n, k, h, w = scores.shape
        mask = np.asarray(self.region, dtype=np.float32)
        if mask.ndim == 2:
            mask = np.broadcast_to(mask, (n, *mask.shape))
        if mask.shape != (n, h, w):
            raise NetdrawError(f"--region is {'×'.join(map(str, mask.shape[-2:]))} but the "
                               f"segmentation output is {h}×{w}; give a mask of that size "
                               "or a box")
        if not mask.any():
            raise NetdrawError("--region selects no pixel")
        summed = (scores * mask[:, None]).reshape(n, k, -1).sum(-1)
        classes = _per_input(self.classes, n, "--class") or \
            [int(i) for i in summed.argmax(axis=1)]
        for c in classes:
            if not 0 <= c < k:
                raise NetdrawError(f"--class {c} is out of range: the segmentation output "
                                   f"has {k} classes (0-{k - 1})")
        weights = np.zeros((n, k, h, w), np.float32)
        weights[np.arange(n), classes] = mask
        if self.minus is not None:
            for i, c in enumerate(_per_input(self.minus, n, "--minus") or []):
                weights[i, c] -= mask[i]
        return np.moveaxis(weights, 1, axis), classes

    def scores(self, out: np.ndarray, classes: list[int] | None = None
               ) -> tuple[list[float], list[int], str]:
        """``(score per input, classes, what the score is)``: the softmax probability of
        the class for a plain classifier output, else the weighted sum itself.
        ``classes``: those :meth:`weights` already chose for ``out``."""
        out = np.asarray(out, dtype=np.float64)
        if classes is not None and self.region is None and self.minus is None \
                and out.ndim == 2:
            w = None
        else:
            w, classes = self.weights(out)
        if self.region is None and self.minus is None and out.ndim == 2:
            z = np.exp(out - out.max(axis=1, keepdims=True))
            p = z / z.sum(axis=1, keepdims=True)
            return [float(p[i, c]) for i, c in enumerate(classes)], classes, "probability"
        values = (out * w).reshape(out.shape[0], -1).sum(1)
        what = "logit difference" if self.minus is not None and self.region is None \
            else "summed region score" if self.region is not None else "score"
        return [float(v) for v in values], classes, what


def parse_classes(text: str | None) -> int | tuple[int, ...] | None:
    """``--class 3`` or ``--class 3,7,1``."""
    if text is None or not text.strip():
        return None
    try:
        values = tuple(int(p) for p in text.split(","))
    except ValueError:
        raise NetdrawError(f"--class {text!r}: give a class index or a comma-separated list "
                           "of them, one per input (e.g. 3,7,1)") from None
    return values[0] if len(values) == 1 else values


def box_mask(box: Sequence[float], size: tuple[int, int]) -> np.ndarray:
    """A ``(H, W)`` mask of the pixels inside ``(x0, y0, x1, y1)`` (x1, y1 exclusive)."""
    h, w = size
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    if not (0 <= x0 < x1 <= w and 0 <= y0 < y1 <= h):
        raise NetdrawError(f"--region {x0},{y0},{x1},{y1} does not lie inside the "
                           f"{w}×{h} output (x0,y0,x1,y1 with x0 < x1, y0 < y1)")
    mask = np.zeros((h, w), np.float32)
    mask[y0:y1, x0:x1] = 1.0
    return mask
