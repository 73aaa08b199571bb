"""Output shapes and weight counts of Keras layers, computed from their configs alone.

Pure Python: no framework is imported. Each rule takes a :class:`Call` (the layer's class,
config and input shapes) and returns a :class:`Facts` (output shapes and parameter count),
following Keras 3's own ``compute_output_shape`` and ``build`` so that the counts equal
``model.count_params()``. Shapes are tuples with the batch dim as None (Keras' convention);
None for a whole shape means "unknown". A class without a rule gets unknown outputs.

>>> infer("Conv2D", {"filters": 64, "kernel_size": [7, 7], "strides": [2, 2],
...                  "padding": "valid", "use_bias": True}, [(None, 230, 230, 3)])
Facts(outputs=[(None, 112, 112, 64)], params=9472)
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

Shape = tuple[int | None, ...]


@dataclass
class Call:
    """One call of a layer: its class, config and what it was called with."""

    class_name: str
    config: dict[str, Any]
    inputs: list[Shape | None]
    #: Role of each input: "" for positional, else the keyword it was passed as.
    roles: list[str] = field(default_factory=list)
    #: Non-tensor keyword arguments of the call (``return_attention_scores``, ``training``…).
    kwargs: dict[str, Any] = field(default_factory=dict)
    module: str = ""

    @property
    def x(self) -> Shape | None:
        return self.inputs[0] if self.inputs else None

    def get(self, key: str, default: Any = None) -> Any:
        value = self.config.get(key, default)
        return default if value is None else value

    def tensor(self, role: str, position: int) -> Shape | None:
        """The input passed as keyword ``role``, else the ``position``-th positional one."""
        roles = self.roles or [""] * len(self.inputs)
        for shape, r in zip(self.inputs, roles, strict=False):
            if r == role:
                return shape
        positional = [s for s, r in zip(self.inputs, roles, strict=False) if not r]
        return positional[position] if position < len(positional) else None


@dataclass
class Facts:
    """What a layer call produces: its output shapes (None = unknown) and weight count."""

    outputs: list[Shape | None]
    params: int | None = 0


Rule = Callable[[Call], Facts]
RULES: dict[str, Rule] = {}
#: Rules for ``keras.ops`` operations recorded in Functional models (module keras.src.ops.*).
OP_RULES: dict[str, Rule] = {}


def rule(*names: str, table: dict[str, Rule] = RULES) -> Callable[[Rule], Rule]:
    def register(fn: Rule) -> Rule:
        for name in names:
            table[name] = fn
        return fn
    return register


def _tables(module: str) -> list[dict[str, Rule]]:
    """Where to look a class up: ``keras.ops`` operations and layers share some class names
    (Reshape, Add, …); legacy ``.h5`` configs do not say which one they mean, so try both."""
    if module.startswith("keras.src.ops"):
        return [OP_RULES]
    if module:
        return [RULES]
    return [RULES, OP_RULES]


def infer(class_name: str, config: dict[str, Any], inputs: Sequence[Shape | None],
          roles: Sequence[str] = (), kwargs: dict[str, Any] | None = None,
          module: str = "") -> Facts:
    """Output shapes and parameter count of one call; unknown outputs for unknown classes."""
    call = Call(class_name, config or {}, [_shape(s) for s in inputs], list(roles),
                dict(kwargs or {}), module)
    for table in _tables(module):
        fn = table.get(class_name)
        if fn is None:
            continue
        try:
            return fn(call)
        except (TypeError, ValueError, KeyError, IndexError, ZeroDivisionError,
                AttributeError):
            continue  # a config this rule does not understand
    # keras.ops operations hold no weights; an unknown layer's weights are unknown.
    return Facts([None], 0 if module.startswith("keras.src.ops") else None)


def has_rule(class_name: str, module: str = "") -> bool:
    """Whether netdraw knows how to count the weights of this layer class."""
    return any(class_name in table for table in _tables(module))


# -- helpers ---------------------------------------------------------------------------


def _shape(value: Any) -> Shape | None:
    if value is None or not isinstance(value, (list, tuple)):
        return None
    if any(isinstance(d, (list, tuple, dict)) for d in value):
        return None
    return tuple(None if d is None or (isinstance(d, int) and d < 0) else int(d)
                 for d in value)


def _tuple(value: Any, rank: int) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        if len(value) == 1 and rank > 1:
            return tuple(int(value[0]) for _ in range(rank))
        return tuple(int(v) for v in value)
    return (int(value),) * rank


def _prod(values: Sequence[int | None]) -> int | None:
    if any(v is None for v in values):
        return None
    return math.prod(values)  # type: ignore[arg-type]


def _mul(a: int | None, b: int | None) -> int | None:
    return None if a is None or b is None else a * b


def _add(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(values)  # type: ignore[arg-type]


def _axis(axis: int, rank: int) -> int:
    return axis + rank if axis < 0 else axis


def _channels_first(call: Call) -> bool:
    return call.get("data_format", "channels_last") == "channels_first"


def _split(call: Call, x: Shape) -> tuple[Shape, int | None]:
    """(spatial dims, channels) of an input, honouring data_format."""
    if _channels_first(call):
        return x[2:], x[1]
    return x[1:-1], x[-1]


def _join(call: Call, batch: int | None, spatial: Sequence[int | None],
          channels: int | None) -> Shape:
    if _channels_first(call):
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


def conv_length(length: int | None, kernel: int, padding: str, stride: int,
                dilation: int = 1) -> int | None:
    """Output length of a convolution or pooling window along one axis."""
    if length is None:
        return None
    span = (kernel - 1) * dilation + 1
    if padding in ("same", "causal"):
        return (length - 1) // stride + 1
    if padding == "full":
        return (length + span - 2) // stride + 1
    return (length - span) // stride + 1 if length >= span else 0


def deconv_length(length: int | None, kernel: int, padding: str, stride: int,
                  dilation: int = 1, output_padding: int | None = None) -> int | None:
    """Output length of a transposed convolution along one axis."""
    if length is None:
        return None
    span = (kernel - 1) * dilation + 1
    if output_padding is None:
        if padding == "valid":
            return length * stride + max(span - stride, 0)
        if padding == "full":
            return length * stride - (stride + span - 2)
        return length * stride
    pad = {"same": span // 2, "valid": 0, "full": span - 1}[padding]
    return (length - 1) * stride + span - 2 * pad + output_padding


def broadcast(shapes: Sequence[Shape | None]) -> Shape | None:
    """NumPy broadcasting of several shapes; None dims stay unknown unless the other is >1."""
    known_shapes = [s for s in shapes if s is not None]
    if len(known_shapes) != len(shapes) or not known_shapes:
        return None
    rank = max(len(s) for s in known_shapes)
    out: list[int | None] = []
    for i in range(rank):
        dims = [s[len(s) - rank + i] for s in known_shapes if len(s) - rank + i >= 0]
        concrete = [d for d in dims if d is not None and d != 1]
        if concrete:
            out.append(max(concrete))
        elif any(d is None for d in dims):
            out.append(None)
        else:
            out.append(1)
    return tuple(out)


# -- core ------------------------------------------------------------------------------


@rule("InputLayer")
def _input(call: Call) -> Facts:
    shape = call.get("batch_shape") or call.get("batch_input_shape")
    if shape is None and call.get("shape") is not None:
        shape = [None, *call.get("shape")]
    return Facts([_shape(shape)], 0)


@rule("Dense")
def _dense(call: Call) -> Facts:
    x, units = call.x, int(call.get("units"))
    bias = units if call.get("use_bias", True) else 0
    if x is None:
        return Facts([None], None)
    params = _add(_mul(x[-1], units), bias)
    return Facts([(*x[:-1], units)], params)


@rule("EinsumDense")
def _einsum_dense(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], None)
    equation = str(call.get("equation")).replace(" ", "")
    match = re.fullmatch(r"([a-zA-Z.]+),([a-zA-Z]+)->([a-zA-Z.]+)", equation)
    if not match:
        return Facts([None], None)
    in_spec, w_spec, out_spec = match.groups()
    sizes: dict[str, int | None] = {}
    out_given = call.get("output_shape", [])
    out_given = [out_given] if isinstance(out_given, int) else list(out_given)
    if "..." in in_spec:
        n_named = len(in_spec) - 3
        elided = [f"#{i}" for i in range(len(x) - n_named)]
        in_letters = _letters(in_spec, elided)
        out_letters = _letters(out_spec, elided)
        free_out = [c for c in out_letters if not c.startswith("#")]
    else:
        in_letters, out_letters = list(in_spec), list(out_spec)
        free_out = out_letters[1:]
    for letter, dim in zip(in_letters, x, strict=False):
        sizes[letter] = dim
    given = out_given[-len(free_out):] if free_out else []
    for letter, dim in zip(free_out[-len(given):] if given else [], given, strict=False):
        if dim is not None or letter not in sizes:
            sizes[letter] = dim
    kernel = _prod([sizes.get(c) for c in w_spec])
    bias_axes = call.get("bias_axes") or ""
    bias = _prod([sizes.get(c) for c in bias_axes]) if bias_axes else 0
    out = tuple(sizes.get(c) for c in out_letters)
    return Facts([out], _add(kernel, bias))


def _letters(spec: str, elided: list[str]) -> list[str]:
    head, _, tail = spec.partition("...")
    return [*head, *elided, *tail]


@rule("Embedding", "ReversibleEmbedding")
def _embedding(call: Call) -> Facts:
    vocab, dim = int(call.get("input_dim")), int(call.get("output_dim"))
    x = call.x
    params = vocab * dim
    if call.class_name == "ReversibleEmbedding" and not call.get("tie_weights", True):
        params *= 2
    return Facts([None if x is None else (*x, dim)], params)


@rule("Lambda")
def _lambda(call: Call) -> Facts:
    shape = call.get("output_shape")
    if isinstance(shape, (list, tuple)) and shape and all(
            isinstance(d, int) or d is None for d in shape):
        batch = call.x[0] if call.x else None
        return Facts([(batch, *_shape(shape))], 0)  # type: ignore[misc]
    return Facts([None], 0)


# -- convolutions ----------------------------------------------------------------------


def _conv_common(call: Call, rank: int) -> tuple[tuple[int, ...], tuple[int, ...],
                                                   tuple[int, ...], str]:
    kernel = _tuple(call.get("kernel_size"), rank)
    strides = _tuple(call.get("strides", 1), rank)
    dilation = _tuple(call.get("dilation_rate", 1), rank)
    padding = str(call.get("padding", "valid")).lower()
    return kernel, strides, dilation, padding


def _rank(class_name: str) -> int:
    match = re.search(r"([123])D", class_name)
    return int(match.group(1)) if match else 2


@rule("Conv1D", "Conv2D", "Conv3D", "Convolution1D", "Convolution2D", "Convolution3D")
def _conv(call: Call) -> Facts:
    rank = _rank(call.class_name)
    kernel, strides, dilation, padding = _conv_common(call, rank)
    filters, groups = int(call.get("filters")), int(call.get("groups", 1))
    x = call.x
    if x is None:
        return Facts([None], None)
    spatial, cin = _split(call, x)
    out = [conv_length(n, k, padding, s, d)
           for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)]
    per_filter = _prod([*kernel, None if cin is None else cin // groups])
    params = _add(_mul(per_filter, filters), filters if call.get("use_bias", True) else 0)
    return Facts([_join(call, x[0], out, filters)], params)


@rule("DepthwiseConv1D", "DepthwiseConv2D")
def _depthwise(call: Call) -> Facts:
    rank = _rank(call.class_name)
    kernel, strides, dilation, padding = _conv_common(call, rank)
    mult = int(call.get("depth_multiplier", 1))
    x = call.x
    if x is None:
        return Facts([None], None)
    spatial, cin = _split(call, x)
    out = [conv_length(n, k, padding, s, d)
           for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)]
    cout = _mul(cin, mult)
    params = _add(_mul(math.prod(kernel), cout), cout if call.get("use_bias", True) else 0)
    return Facts([_join(call, x[0], out, cout)], params)


@rule("SeparableConv1D", "SeparableConv2D", "SeparableConvolution1D",
      "SeparableConvolution2D")
def _separable(call: Call) -> Facts:
    rank = _rank(call.class_name)
    kernel, strides, dilation, padding = _conv_common(call, rank)
    mult, filters = int(call.get("depth_multiplier", 1)), int(call.get("filters"))
    x = call.x
    if x is None:
        return Facts([None], None)
    spatial, cin = _split(call, x)
    out = [conv_length(n, k, padding, s, d)
           for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)]
    depth = _mul(cin, mult)
    params = _add(_mul(math.prod(kernel), depth), _mul(depth, filters),
                  filters if call.get("use_bias", True) else 0)
    return Facts([_join(call, x[0], out, filters)], params)


@rule("Conv1DTranspose", "Conv2DTranspose", "Conv3DTranspose", "Convolution2DTranspose",
      "Convolution3DTranspose", "Deconvolution2D", "Deconvolution3D")
def _conv_transpose(call: Call) -> Facts:
    rank = _rank(call.class_name)
    kernel, strides, dilation, padding = _conv_common(call, rank)
    filters = int(call.get("filters"))
    out_pad = call.get("output_padding")
    pads = _tuple(out_pad, rank) if out_pad is not None else (None,) * rank
    x = call.x
    if x is None:
        return Facts([None], None)
    spatial, cin = _split(call, x)
    out = [deconv_length(n, k, padding, s, d, p)
           for n, k, s, d, p in zip(spatial, kernel, strides, dilation, pads, strict=True)]
    params = _add(_mul(_prod([*kernel, cin]), filters),
                  filters if call.get("use_bias", True) else 0)
    return Facts([_join(call, x[0], out, filters)], params)


# -- pooling ---------------------------------------------------------------------------


@rule("MaxPooling1D", "MaxPooling2D", "MaxPooling3D", "AveragePooling1D", "AveragePooling2D",
      "AveragePooling3D", "MaxPool1D", "MaxPool2D", "MaxPool3D", "AvgPool1D", "AvgPool2D",
      "AvgPool3D")
def _pool(call: Call) -> Facts:
    rank = _rank(call.class_name)
    size = _tuple(call.get("pool_size", 2), rank)
    strides = _tuple(call.get("strides") or size, rank)
    padding = str(call.get("padding", "valid")).lower()
    x = call.x
    if x is None:
        return Facts([None], 0)
    spatial, channels = _split(call, x)
    out = [conv_length(n, k, padding, s) for n, k, s in zip(spatial, size, strides, strict=True)]
    return Facts([_join(call, x[0], out, channels)], 0)


@rule("GlobalAveragePooling1D", "GlobalAveragePooling2D", "GlobalAveragePooling3D",
      "GlobalMaxPooling1D", "GlobalMaxPooling2D", "GlobalMaxPooling3D", "GlobalAvgPool1D",
      "GlobalAvgPool2D", "GlobalAvgPool3D", "GlobalMaxPool1D", "GlobalMaxPool2D",
      "GlobalMaxPool3D")
def _global_pool(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    spatial, channels = _split(call, x)
    if call.get("keepdims", False):
        return Facts([_join(call, x[0], [1] * len(spatial), channels)], 0)
    return Facts([(x[0], channels)], 0)


@rule("AdaptiveAveragePooling1D", "AdaptiveAveragePooling2D", "AdaptiveAveragePooling3D",
      "AdaptiveMaxPooling1D", "AdaptiveMaxPooling2D", "AdaptiveMaxPooling3D")
def _adaptive_pool(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    spatial, channels = _split(call, x)
    out = _tuple(call.get("output_size"), len(spatial))
    return Facts([_join(call, x[0], out, channels)], 0)


# -- normalisation ---------------------------------------------------------------------


def _axes(value: Any, rank: int) -> list[int]:
    values = value if isinstance(value, (list, tuple)) else [value]
    return [_axis(int(a), rank) for a in values]


@rule("BatchNormalization")
def _batch_norm(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], None)
    channels = _prod([x[a] for a in _axes(call.get("axis", -1), len(x))])
    per = 2 + bool(call.get("center", True)) + bool(call.get("scale", True))
    return Facts([x], _mul(channels, per))


@rule("LayerNormalization")
def _layer_norm(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], None)
    size = _prod([x[a] for a in _axes(call.get("axis", -1), len(x))])
    rms = bool(call.get("rms_scaling", False))
    per = bool(call.get("scale", True) or rms) + bool(call.get("center", True) and not rms)
    return Facts([x], _mul(size, per))


@rule("RMSNormalization")
def _rms_norm(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], None)
    return Facts([x], _prod([x[a] for a in _axes(call.get("axis", -1), len(x))]))


@rule("GroupNormalization")
def _group_norm(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], None)
    channels = x[_axis(int(call.get("axis", -1)), len(x))]
    per = bool(call.get("center", True)) + bool(call.get("scale", True))
    return Facts([x], _mul(channels, per))


@rule("Normalization")
def _normalization(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], None)
    if call.config.get("mean") is not None:
        return Facts([x], 0)  # mean and variance are constants, not weights
    axis = call.config.get("axis", -1)
    kept = [] if axis is None else _axes(axis, len(x))
    size = _prod([x[a] for a in kept]) if kept else 1
    return Facts([x], _add(_mul(size, 2), 1))  # mean, variance and a count


@rule("LayerScale")
def _layer_scale(call: Call) -> Facts:
    """keras.applications ConvNeXt's LayerScale: ``x * gamma``, one weight per channel."""
    return Facts([call.x], int(call.config["projection_dim"]))


@rule("CustomScaleLayer")
def _custom_scale(call: Call) -> Facts:
    """keras.applications Inception-ResNet-v2's ``x + r * scale`` (a constant scale)."""
    return Facts([broadcast(call.inputs)], 0)


# -- element-wise and shape-keeping ----------------------------------------------------

_SAME_SHAPE = (
    "Activation ReLU LeakyReLU ELU Softmax ThresholdedReLU Dropout SpatialDropout1D "
    "SpatialDropout2D SpatialDropout3D GaussianDropout GaussianNoise AlphaDropout "
    "ActivityRegularization Rescaling Masking Identity UnitNormalization RandomFlip "
    "RandomRotation RandomZoom RandomTranslation RandomContrast RandomBrightness "
    "RandomCrop AutoContrast Equalization Solarization RandomGrayscale RandomSaturation "
    "RandomHue RandomSharpness RandomColorJitter RandomPosterization RandomShear "
    "RandomInvert RandomGaussianBlur RandomErasing RandomColorDegeneration"
).split()


@rule(*_SAME_SHAPE)
def _same(call: Call) -> Facts:
    x = call.x
    if call.class_name == "RandomCrop" and x is not None:
        spatial, channels = _split(call, x)
        size = (int(call.get("height")), int(call.get("width")))
        return Facts([_join(call, x[0], size, channels)], 0)
    return Facts([x], 0)


@rule("PReLU")
def _prelu(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], None)
    shape = list(x[1:])
    for axis in call.get("shared_axes") or []:
        shape[int(axis) - 1] = 1
    return Facts([x], _prod(shape))


@rule("Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum")
def _merge(call: Call) -> Facts:
    return Facts([broadcast(call.inputs)], 0)


@rule("Concatenate")
def _concat(call: Call) -> Facts:
    shapes = call.inputs
    if not shapes or any(s is None for s in shapes):
        return Facts([None], 0)
    rank = len(shapes[0])  # type: ignore[arg-type]
    axis = _axis(int(call.get("axis", -1)), rank)
    out = list(shapes[0])  # type: ignore[arg-type]
    sizes = [s[axis] for s in shapes]  # type: ignore[index]
    out[axis] = None if any(d is None for d in sizes) else sum(sizes)  # type: ignore[arg-type]
    for i in range(rank):
        if i != axis and out[i] is None:
            out[i] = next((s[i] for s in shapes if s[i] is not None), None)  # type: ignore[index]
    return Facts([tuple(out)], 0)


@rule("Dot")
def _dot(call: Call) -> Facts:
    if len(call.inputs) != 2 or None in call.inputs:
        return Facts([None], 0)
    a, b = call.inputs  # type: ignore[misc]
    axes = call.get("axes", -1)
    ax = _tuple(axes, 2) if isinstance(axes, (list, tuple)) else (axes, axes)
    i, j = _axis(ax[0], len(a)), _axis(ax[1], len(b))
    out = (*a[:i], *a[i + 1:], *b[1:j], *b[j + 1:])
    return Facts([out if len(out) > 1 else (a[0], 1)], 0)


# -- reshaping -------------------------------------------------------------------------


@rule("Flatten")
def _flatten(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    return Facts([(x[0], _prod(x[1:]))], 0)


def _resolve(batch: int | None, x: Shape | None, target: Sequence[int]) -> Shape:
    dims: list[int | None] = [None if d == -1 else int(d) for d in target]
    total = _prod(x[1:]) if x is not None else None
    if -1 in target and total is not None:
        rest = math.prod(d for d in dims if d is not None)
        dims[list(target).index(-1)] = total // rest if rest else None
    return (batch, *dims)


@rule("Reshape")
def _reshape(call: Call) -> Facts:
    x = call.x
    return Facts([_resolve(None if x is None else x[0], x, call.get("target_shape"))], 0)


@rule("Permute")
def _permute(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    return Facts([(x[0], *(x[int(d)] for d in call.get("dims")))], 0)


@rule("RepeatVector")
def _repeat(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    return Facts([(x[0], int(call.get("n")), x[1])], 0)


def _pairs(value: Any, rank: int) -> list[tuple[int, int]]:
    """Keras padding/cropping arguments -> one (before, after) pair per spatial axis."""
    if isinstance(value, int):
        return [(value, value)] * rank
    items = list(value)
    if rank == 1 and len(items) == 2 and all(isinstance(v, int) for v in items):
        return [(items[0], items[1])]
    pairs = []
    for item in items:
        pairs.append((item, item) if isinstance(item, int) else (int(item[0]), int(item[1])))
    return pairs


def _pad_or_crop(call: Call, key: str, sign: int) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    rank = _rank(call.class_name)
    default = 1 if key == "padding" else 0
    spatial, channels = _split(call, x)
    pairs = _pairs(call.get(key, default), rank)
    out = [None if n is None else n + sign * (a + b)
           for n, (a, b) in zip(spatial, pairs, strict=True)]
    return Facts([_join(call, x[0], out, channels)], 0)


@rule("ZeroPadding1D", "ZeroPadding2D", "ZeroPadding3D")
def _zero_pad(call: Call) -> Facts:
    return _pad_or_crop(call, "padding", 1)


@rule("Cropping1D", "Cropping2D", "Cropping3D")
def _crop(call: Call) -> Facts:
    return _pad_or_crop(call, "cropping", -1)


@rule("UpSampling1D", "UpSampling2D", "UpSampling3D")
def _upsample(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    rank = _rank(call.class_name)
    size = _tuple(call.get("size", 2), rank)
    spatial, channels = _split(call, x)
    out = [_mul(n, s) for n, s in zip(spatial, size, strict=True)]
    return Facts([_join(call, x[0], out, channels)], 0)


@rule("Resizing", "CenterCrop")
def _resize(call: Call) -> Facts:
    x = call.x
    if x is None:
        return Facts([None], 0)
    size = (int(call.get("height")), int(call.get("width")))
    if len(x) == 3:  # an unbatched image
        return Facts([(*size, x[-1]) if not _channels_first(call) else (x[0], *size)], 0)
    spatial, channels = _split(call, x)
    return Facts([_join(call, x[0], size, channels)], 0)


# -- recurrent -------------------------------------------------------------------------


def _rnn_weights(class_name: str, config: dict[str, Any], features: int | None) -> int | None:
    units = int(config["units"])
    bias = bool(config.get("use_bias", True))
    if class_name in ("LSTM", "CuDNNLSTM"):
        return _add(_mul(4 * units, features), 4 * units * units, 4 * units * bias)
    if class_name in ("GRU", "CuDNNGRU"):
        reset_after = bool(config.get("reset_after", True)) or class_name == "CuDNNGRU"
        bias_size = (6 if reset_after else 3) * units * bias
        return _add(_mul(3 * units, features), 3 * units * units, bias_size)
    return _add(_mul(units, features), units * units, units * bias)  # SimpleRNN


_STATES = {"LSTM": 2, "CuDNNLSTM": 2, "GRU": 1, "CuDNNGRU": 1, "SimpleRNN": 1}


def _rnn_call(class_name: str, config: dict[str, Any], x: Shape | None) -> Facts:
    units = int(config["units"])
    params = _rnn_weights(class_name, config, None if x is None else x[-1])
    if x is None:
        return Facts([None], params)
    if config.get("return_sequences", False):
        outputs: list[Shape | None] = [(x[0], x[1], units)]
    else:
        outputs = [(x[0], units)]
    if config.get("return_state", False):
        outputs += [(x[0], units)] * _STATES[class_name]
    return Facts(outputs, params)


@rule("LSTM", "GRU", "SimpleRNN", "CuDNNLSTM", "CuDNNGRU")
def _rnn(call: Call) -> Facts:
    return _rnn_call(call.class_name, call.config, call.x)


@rule("ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D")
def _conv_lstm(call: Call) -> Facts:
    rank = _rank(call.class_name)
    kernel, strides, dilation, padding = _conv_common(call, rank)
    filters = int(call.get("filters"))
    x = call.x
    if x is None:
        return Facts([None], None)
    # (batch, time, *spatial, channels) for channels_last.
    if _channels_first(call):
        spatial, cin = x[3:], x[2]
    else:
        spatial, cin = x[2:-1], x[-1]
    out = [conv_length(n, k, padding, s, d)
           for n, k, s, d in zip(spatial, kernel, strides, dilation, strict=True)]
    k = math.prod(kernel)
    params = _add(_mul(k * 4 * filters, cin), k * 4 * filters * filters,
                  4 * filters if call.get("use_bias", True) else 0)

    def frame(batch: int | None, time: int | None = None) -> Shape:
        head = (batch,) if time is None else (batch, time)
        return (*head, filters, *out) if _channels_first(call) else (*head, *out, filters)

    outputs: list[Shape | None] = [frame(x[0], x[1]) if call.get("return_sequences")
                                   else frame(x[0])]
    if call.get("return_state"):
        outputs += [frame(x[0]), frame(x[0])]
    return Facts(outputs, params)


def _inner(config: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    layer = config.get("layer") or {}
    return str(layer.get("class_name", "")), dict(layer.get("config") or {})


@rule("Bidirectional")
def _bidirectional(call: Call) -> Facts:
    class_name, inner = _inner(call.config)
    forward = infer(class_name, inner, [call.x])
    backward = forward
    if call.config.get("backward_layer"):
        b_class, b_inner = _inner({"layer": call.config["backward_layer"]})
        backward = infer(b_class, b_inner, [call.x])
    params = _add(forward.params, backward.params)
    merge = call.config.get("merge_mode", "concat")
    head_f, head_b = forward.outputs[0], backward.outputs[0]
    if merge is None:
        outputs = [head_f, head_b]
    elif merge == "concat" and head_f is not None and head_b is not None:
        outputs = [(*head_f[:-1], _add(head_f[-1], head_b[-1]))]
    else:
        outputs = [head_f]
    if inner.get("return_state"):
        outputs += forward.outputs[1:] + backward.outputs[1:]
    return Facts(outputs, params)


@rule("TimeDistributed")
def _time_distributed(call: Call) -> Facts:
    class_name, inner = _inner(call.config)
    x = call.x
    frame = None if x is None else (x[0], *x[2:])
    facts = infer(class_name, inner, [frame])
    outputs = [None if o is None or x is None else (x[0], x[1], *o[1:]) for o in facts.outputs]
    return Facts(outputs, facts.params)


# -- attention -------------------------------------------------------------------------


def _bias(n: int, use_bias: bool) -> int:
    return n if use_bias else 0


@rule("MultiHeadAttention")
def _mha(call: Call) -> Facts:
    heads, key_dim = int(call.get("num_heads")), int(call.get("key_dim"))
    value_dim = int(call.get("value_dim") or key_dim)
    use_bias = bool(call.get("use_bias", True))
    query, value = call.tensor("query", 0), call.tensor("value", 1)
    key = call.tensor("key", 2) or value
    if query is None or value is None or key is None:
        return Facts([None], None)
    out_dims = call.get("output_shape")
    if out_dims is None:
        out_dims = (query[-1],)
    elif isinstance(out_dims, int):
        out_dims = (out_dims,)
    out_dims = tuple(out_dims)
    out_size = _prod(out_dims)
    hk, hv = heads * key_dim, heads * value_dim
    params = _add(_mul(query[-1], hk), _bias(hk, use_bias),
                  _mul(key[-1], hk), _bias(hk, use_bias),
                  _mul(value[-1], hv), _bias(hv, use_bias),
                  _mul(hv, out_size), _bias(out_size or 0, use_bias))
    if call.get("use_gate", False):
        params = _add(params, _mul(query[-1], hv), _bias(hv, use_bias))
    outputs: list[Shape | None] = [(*query[:-1], *out_dims)]
    if call.kwargs.get("return_attention_scores"):
        outputs.append((query[0], heads, *query[1:-1], *value[1:-1]))
    return Facts(outputs, params)


@rule("GroupedQueryAttention", "GroupQueryAttention")
def _gqa(call: Call) -> Facts:
    head_dim = int(call.get("head_dim"))
    q_heads, kv_heads = int(call.get("num_query_heads")), int(call.get("num_key_value_heads"))
    use_bias = bool(call.get("use_bias", True))
    query, value = call.tensor("query", 0), call.tensor("value", 1)
    key = call.tensor("key", 2) or value
    if query is None or value is None or key is None:
        return Facts([None], None)
    hq, hkv = q_heads * head_dim, kv_heads * head_dim
    params = _add(_mul(query[-1], hq), _bias(hq, use_bias),
                  _mul(key[-1], hkv), _bias(hkv, use_bias),
                  _mul(value[-1], hkv), _bias(hkv, use_bias),
                  _mul(hq, query[-1]), _bias(query[-1] or 0, use_bias))
    outputs: list[Shape | None] = [query]
    if call.kwargs.get("return_attention_scores"):
        outputs.append((query[0], q_heads, query[1], value[1]))
    return Facts(outputs, params)


@rule("Attention", "AdditiveAttention")
def _attention(call: Call) -> Facts:
    query = call.inputs[0] if call.inputs else None
    value = call.inputs[1] if len(call.inputs) > 1 else None
    if call.class_name == "AdditiveAttention":
        params = (query[-1] if query else None) if call.get("use_scale", True) else 0
    else:
        params = int(bool(call.get("use_scale", False)))
        params += int(call.get("score_mode", "dot") == "concat")
    if query is None or value is None:
        return Facts([None], params)
    outputs: list[Shape | None] = [(*query[:-1], value[-1])]
    if call.kwargs.get("return_attention_scores"):
        outputs.append((query[0], query[1], value[1]))
    return Facts(outputs, params)


# -- keras.ops operations --------------------------------------------------------------

_UNARY_OPS = ("Relu Relu6 Sigmoid Tanh Gelu Silu Swish Elu Selu LeakyRelu HardSigmoid HardSilu "
              "Softplus Softsign Mish Softmax LogSoftmax Exp Log Sqrt Abs Negative Square "
              "Cast Identity Erf Sin Cos Round Floor Ceil Clip StopGradient").split()


@rule(*_UNARY_OPS, table=OP_RULES)
def _op_same(call: Call) -> Facts:
    return Facts([call.x], 0)


@rule("Add", "Subtract", "Multiply", "Divide", "TrueDivide", "Power", "Maximum", "Minimum",
      "Where", table=OP_RULES)
def _op_elementwise(call: Call) -> Facts:
    return Facts([broadcast(call.inputs)], 0)


@rule("Matmul", table=OP_RULES)
def _op_matmul(call: Call) -> Facts:
    if len(call.inputs) != 2 or None in call.inputs:
        return Facts([None], 0)
    a, b = call.inputs  # type: ignore[misc]
    if len(a) < 2 or len(b) < 2:
        return Facts([None], 0)
    batch = broadcast([a[:-2], b[:-2]]) or ()
    return Facts([(*batch, a[-2], b[-1])], 0)


@rule("Transpose", table=OP_RULES)
def _op_transpose(call: Call) -> Facts:
    x, axes = call.x, call.get("axes")
    if x is None:
        return Facts([None], 0)
    order = list(axes) if axes else list(reversed(range(len(x))))
    return Facts([tuple(x[int(a)] for a in order)], 0)


@rule("Reshape", table=OP_RULES)
def _op_reshape(call: Call) -> Facts:
    x, new = call.x, call.get("newshape") or call.get("new_shape")
    if new is None:
        return Facts([None], 0)
    target = [new] if isinstance(new, int) else list(new)
    if target and target[0] in (-1, None) and x is not None and x[0] is None:
        return Facts([_resolve(None, x, [d if d is not None else -1 for d in target[1:]])], 0)
    dims: list[int | None] = [None if d in (-1, None) else int(d) for d in target]
    return Facts([tuple(dims)], 0)


@rule("Concatenate", table=OP_RULES)
def _op_concat(call: Call) -> Facts:
    return _concat(call)
