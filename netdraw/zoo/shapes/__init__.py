"""``zoo:shapes``: a small CNN trained to tell circles, squares, triangles and crosses apart.

The data is drawn procedurally (:func:`make_batch`): one shape of a random size, rotation and
colour on a noisy background, with its exact bounding box, so class-activation maps can be
checked against where the object really is (the pointing game). ``scripts/train_shapes.py``
trains the network with a fixed seed in a few minutes on two CPU cores and writes
``shapes.npz`` beside this file; the zoo loads those weights (``np.load(allow_pickle=False)``:
never a pickle) into the same network written three ways:

- PyTorch: :mod:`netdraw.zoo.shapes.torch_model` (``zoo:shapes``);
- ONNX: :mod:`netdraw.zoo.shapes.onnx_model`, built with ``onnx.helper`` (``zoo:onnx-shapes``);
- Keras: :mod:`netdraw.zoo.shapes.keras_model`, a Functional model (``zoo:keras-shapes``).

All three give the same activations, layer by layer, within 1e-4. This module imports only
numpy.

>>> images, labels, boxes = make_batch(2, seed=0)
>>> images.shape, labels.dtype.name, boxes.shape
((2, 3, 64, 64), 'int64', (2, 4))
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

#: The classes, in the order of the network's outputs.
CLASSES: tuple[str, ...] = ("circle", "square", "triangle", "cross")
#: Input size: 3 channels (RGB), 64×64 pixels, values 0-1 (no other normalisation).
SIZE = 64
INPUT_SHAPE = (1, 3, SIZE, SIZE)
#: Convolution widths of the four blocks.
WIDTHS = (8, 16, 32, 32)
WEIGHTS = Path(__file__).with_name("shapes.npz")
#: BatchNorm epsilon, the same in the three frameworks.
BN_EPS = 1e-5


def load_weights(path: Path | str = WEIGHTS) -> dict[str, np.ndarray]:
    """The trained weights, keyed by PyTorch state-dict names (``block1.conv.weight``)."""
    try:
        with np.load(path, allow_pickle=False) as data:
            return {key: np.asarray(data[key], dtype=np.float32) for key in data.files}
    except FileNotFoundError:
        from netdraw.errors import NetdrawError

        raise NetdrawError(f"the shapes weights {path} are missing; train them with "
                           "'python scripts/train_shapes.py'") from None


def _coords(size: int) -> tuple[np.ndarray, np.ndarray]:
    axis = np.arange(size, dtype=np.float32) + 0.5
    return axis[None, :, None], axis[None, None, :]  # (1, H, 1), (1, 1, W): y, x


def shape_masks(kinds: np.ndarray, cx: np.ndarray, cy: np.ndarray, radius: np.ndarray,
                angle: np.ndarray, size: int = SIZE) -> np.ndarray:
    """Boolean masks (N, size, size) of shapes given their class, centre, radius and angle."""
    y, x = _coords(size)
    col = lambda a: a.astype(np.float32)[:, None, None]  # noqa: E731
    dx, dy = x - col(cx), y - col(cy)
    cos, sin = np.cos(col(angle)), np.sin(col(angle))
    u, v = dx * cos + dy * sin, -dx * sin + dy * cos  # coordinates in the shape's frame
    r = col(radius)
    circle = dx * dx + dy * dy <= r * r
    side = r * 0.85  # a square of the same area feel as the circle
    square = (np.abs(u) <= side) & (np.abs(v) <= side)
    bar = r * 0.3
    cross = ((np.abs(u) <= r) & (np.abs(v) <= bar)) | ((np.abs(u) <= bar) & (np.abs(v) <= r))
    # Equilateral triangle: inside three half-planes whose normals point at 90°, 210°, 330°.
    triangle = np.ones_like(circle)
    for k in range(3):
        theta = np.pi / 2 + k * 2 * np.pi / 3
        triangle &= u * np.cos(theta) + v * np.sin(theta) <= r * 0.6
    table = np.stack([circle, square, triangle, cross])  # (4, N, H, W)
    return table[kinds, np.arange(len(kinds))]


def make_batch(n: int, seed: int | np.random.Generator = 0, size: int = SIZE
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` images (N, 3, size, size) float32 0-1, labels (N,) int64 and the shapes' exact
    bounding boxes (N, 4) as ``x0, y0, x1, y1`` pixel edges (x1, y1 exclusive)."""
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    labels = rng.integers(0, len(CLASSES), n)
    radius = rng.uniform(0.14, 0.27, n) * size
    cx = rng.uniform(radius + 1, size - radius - 1)
    cy = rng.uniform(radius + 1, size - radius - 1)
    angle = rng.uniform(0, 2 * np.pi, n)
    masks = shape_masks(labels, cx, cy, radius, angle, size)
    # Background: a random base colour, a smooth gradient, pixel noise and a few thin lines.
    y, x = _coords(size)
    base = rng.uniform(0.1, 0.9, (n, 3, 1, 1)).astype(np.float32)
    tilt = rng.uniform(-0.25, 0.25, (n, 3, 2)).astype(np.float32)
    grad = (tilt[..., 0, None, None] * (x / size - 0.5)[:, None]
            + tilt[..., 1, None, None] * (y / size - 0.5)[:, None])
    images = base + grad + 0.08 * rng.standard_normal((n, 3, size, size), dtype=np.float32)
    for _ in range(2):  # clutter lines: neither a class nor inside the box
        a, off = rng.uniform(0, np.pi, n), rng.uniform(-0.5, 0.5, n) * size
        dist = np.abs((x - size / 2) * np.cos(a)[:, None, None]
                      + (y - size / 2) * np.sin(a)[:, None, None] - off[:, None, None])
        line = (dist < 0.6)[:, None] & rng.random((n, 1, 1, 1)).astype(bool)
        shade = rng.uniform(0, 1, (n, 3, 1, 1)).astype(np.float32)
        images = np.where(line, shade, images)
    # The shape: a colour far enough from the background to be seen.
    colour = rng.uniform(0, 1, (n, 3, 1, 1)).astype(np.float32)
    close = np.abs(colour - base).sum(axis=1, keepdims=True) < 0.6
    colour = np.where(close, 1.0 - base, colour)
    shaded = colour + 0.04 * rng.standard_normal((n, 3, size, size), dtype=np.float32)
    images = np.where(masks[:, None], shaded, images)
    images = np.clip(images, 0.0, 1.0).astype(np.float32)
    boxes = np.zeros((n, 4), dtype=np.int64)
    for i, mask in enumerate(masks):
        ys, xs = np.nonzero(mask)
        boxes[i] = (xs.min(), ys.min(), xs.max() + 1, ys.max() + 1)
    return images, labels.astype(np.int64), boxes
