"""Model inputs from files: images (Pillow) and ``.npy`` arrays, shaped for the model.

Images (``.png``, ``.jpg``/``.jpeg``, ``.bmp``) are decoded with Pillow (its decompression-bomb
limit turned into an error), converted to the model's channels (grey <-> RGB), resized to
its input size (bilinear) and scaled to 0-1; then ``normalize`` applies: ``none`` (the
default), ``imagenet`` (mean 0.485, 0.456, 0.406, std 0.229, 0.224, 0.225) or ``MEAN,STD``
(two numbers, or three means and three stds). Layout follows the model: channels first for
PyTorch and ONNX, channels last for Keras. ``.npy`` files (``allow_pickle=False``) are taken
as they are (token ids for text models) and must fit the model's input shape, with or
without the batch axis. Several files make a batch. netdraw cannot know how a model was
trained, so :func:`describe` says which preprocessing was used.
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from netdraw.errors import NetdrawError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
IMAGENET = ((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))

Dim = int | str | None


@dataclass(frozen=True)
class Normalization:
    """``(x - mean) / std`` per channel after scaling pixels to 0-1 (empty: nothing)."""

    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()
    name: str = "none"

    def apply(self, x: np.ndarray) -> np.ndarray:
        """``x``: (C, H, W) in 0-1."""
        if not self.mean:
            return x
        channels = x.shape[0]
        mean = np.resize(np.asarray(self.mean, np.float32), channels)[:, None, None]
        std = np.resize(np.asarray(self.std, np.float32), channels)[:, None, None]
        return (x - mean) / std

    def invert(self, x: np.ndarray) -> np.ndarray:
        """Back to 0-1 pixels (for overlays)."""
        if not self.mean:
            return x
        channels = x.shape[0]
        mean = np.resize(np.asarray(self.mean, np.float32), channels)[:, None, None]
        std = np.resize(np.asarray(self.std, np.float32), channels)[:, None, None]
        return x * std + mean

    def describe(self) -> str:
        if not self.mean:
            return "pixels scaled to 0-1, no normalisation"
        if self.name == "imagenet":
            return "pixels scaled to 0-1, ImageNet mean/std normalisation"
        return (f"pixels scaled to 0-1, then (x - {_numbers(self.mean)}) / "
                f"{_numbers(self.std)}")


def _numbers(values: tuple[float, ...]) -> str:
    text = ", ".join(f"{v:g}" for v in values)
    return text if len(values) == 1 else f"({text})"


def parse_normalize(text: str | None) -> Normalization:
    """``none``, ``imagenet``, ``MEAN,STD`` or ``M1,M2,M3,S1,S2,S3``."""
    if text is None or text.strip().lower() in ("", "none"):
        return Normalization()
    if text.strip().lower() == "imagenet":
        return Normalization(*IMAGENET, name="imagenet")
    try:
        numbers = tuple(float(p) for p in text.split(","))
    except ValueError:
        numbers = ()
    if len(numbers) not in (2, 6) or any(s <= 0 for s in numbers[len(numbers) // 2:]):
        raise NetdrawError(f"--normalize {text!r}: use imagenet, none, MEAN,STD (e.g. "
                           "0.5,0.25) or three means and three positive stds")
    half = len(numbers) // 2
    return Normalization(numbers[:half], numbers[half:], name="custom")


@dataclass
class InputSpec:
    """What the model takes: one input of ``shape`` (batch first, channels first; dims
    may be unknown) in ``layout``."""

    shape: tuple[Dim, ...] | None
    layout: str = "channels_first"
    dtype: str = "float32"


@dataclass
class Batch:
    """The arrays to feed (one per model input) and how they were made."""

    arrays: list[np.ndarray]
    notes: list[str] = field(default_factory=list)
    #: The images as 0-1 RGB/grey pixels, (N, C, H, W), for overlays; None for .npy input.
    pixels: np.ndarray | None = None
    files: list[str] = field(default_factory=list)


def load_image(path: Path, channels: int, size: tuple[int, int] | None
               ) -> tuple[np.ndarray, str]:
    """An image file as (channels, H, W) float32 0-1, resized to ``size`` (H, W)."""
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:
                if image.format not in ("PNG", "JPEG", "BMP"):
                    raise NetdrawError(f"{path} is a {image.format} image; --input takes "
                                       "PNG, JPEG or BMP images, or .npy arrays")
                original = image.size
                image.load()
                converted = image.convert("L" if channels == 1 else "RGB")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise NetdrawError(f"{path} is too large to decode safely (over Pillow's "
                           f"{Image.MAX_IMAGE_PIXELS} pixel limit); resize it first") from None
    except NetdrawError:
        raise
    except (OSError, SyntaxError, ValueError) as exc:
        raise NetdrawError(f"cannot read {path} as an image ({type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:120]})") from None
    if size is not None and (converted.size[1], converted.size[0]) != size:
        converted = converted.resize((size[1], size[0]), Image.Resampling.BILINEAR)
    x = np.asarray(converted, dtype=np.float32) / 255.0
    x = x[None] if x.ndim == 2 else np.moveaxis(x, -1, 0)
    if channels not in (1, 3):  # e.g. a 4-channel model: repeat grey
        x = np.repeat(x.mean(0, keepdims=True), channels, axis=0)
    mode = "grey" if channels == 1 else "RGB"
    note = (f"{original[0]}×{original[1]} -> {x.shape[2]}×{x.shape[1]}, {mode}"
            if (original[1], original[0]) != x.shape[1:] else f"{x.shape[2]}×{x.shape[1]}, "
            f"{mode}")
    return x, note


def load_npy(path: Path, spec: InputSpec) -> np.ndarray:
    """A ``.npy`` array (no pickle) with a batch axis, checked against the model's shape."""
    try:
        x = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        detail = " ".join(str(exc).split())[:120]
        raise NetdrawError(f"cannot read {path} as a .npy array ({detail})") from None
    if x.dtype.kind not in "biuf":
        raise NetdrawError(f"{path} holds {x.dtype} values; --input .npy files hold numbers")
    shape = _model_shape(spec)
    if shape is None:
        return x
    expected = shape[1:]
    if _fits(x.shape, expected):
        return x[None]
    if _fits(x.shape, shape):
        return x
    text = "×".join("?" if not isinstance(d, int) else str(d) for d in shape)
    raise NetdrawError(f"{path} has shape {'×'.join(map(str, x.shape)) or 'scalar'}, which "
                       f"does not fit the model's input {text} (with or without the batch "
                       "axis)")


def _model_shape(spec: InputSpec) -> tuple[Dim, ...] | None:
    """The model's input shape in its own layout."""
    if spec.shape is None:
        return None
    shape = spec.shape
    if spec.layout == "channels_last" and len(shape) >= 3:
        shape = (shape[0], *shape[2:], shape[1])
    return shape


def _fits(actual: tuple[int, ...], expected: tuple[Dim, ...]) -> bool:
    return len(actual) == len(expected) and all(
        not isinstance(e, int) or e == a for a, e in zip(actual, expected, strict=True))


def load_inputs(files: Sequence[str | Path], spec: InputSpec,
                normalize: Normalization | None = None) -> Batch:
    """Read ``files`` (images or ``.npy``) into one batch for a model taking ``spec``."""
    if not files:
        raise NetdrawError("give an input: --input IMAGE (png, jpg, bmp) or --input ARRAY.npy")
    normalize = normalize or Normalization()
    examples: list[np.ndarray] = []
    pixels: list[np.ndarray] = []
    notes: list[str] = []
    for item in files:
        path = Path(item)
        if not path.is_file():
            raise NetdrawError(f"cannot read --input {path}: no such file")
        suffix = path.suffix.lower()
        if suffix == ".npy":
            x = load_npy(path, spec)
            examples.extend(list(x))
            notes.append(f"{path.name}: array {'×'.join(map(str, x.shape))} as given")
            continue
        if suffix not in IMAGE_SUFFIXES:
            raise NetdrawError(f"--input {path}: unknown file type {suffix or '(none)'!r}; "
                               "give a .png, .jpg, .bmp image or a .npy array")
        channels, size = _image_target(spec)
        x, note = load_image(path, channels, size)
        pixels.append(x)
        y = normalize.apply(x).astype(np.float32)
        if spec.layout == "channels_last":
            y = np.moveaxis(y, 0, -1)
        examples.append(y)
        notes.append(f"{path.name}: {note}, {normalize.describe()}")
    shapes = {e.shape for e in examples}
    if len(shapes) > 1:
        raise NetdrawError("the inputs have different shapes ("
                           + ", ".join("×".join(map(str, s)) for s in sorted(shapes))
                           + "); give the model's input size with --input-shape")
    batch = np.stack(examples)
    if batch.dtype.kind == "f":
        batch = batch.astype(spec.dtype if spec.dtype.startswith("float") else np.float32)
    return Batch([batch], notes, np.stack(pixels) if len(pixels) == len(examples) else None,
                 [str(f) for f in files])


def _image_target(spec: InputSpec) -> tuple[int, tuple[int, int] | None]:
    """(channels, (H, W) or None) an image must be converted to."""
    shape = spec.shape
    if shape is None or len(shape) != 4:
        if shape is not None and len(shape) != 4:
            raise NetdrawError(f"the model's input has shape {shape}, not an image batch "
                               "(N, C, H, W); give a .npy array instead")
        return 3, None
    channels = shape[1] if isinstance(shape[1], int) else 3
    h, w = shape[2], shape[3]
    return channels, (h, w) if isinstance(h, int) and isinstance(w, int) else None
