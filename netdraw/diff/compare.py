"""Comparing two nodes: what counts as the same layer, and what changed between matched ones.

Within one framework everything is compared: kind, op type, every attribute (those that
only name things excepted), input and output shapes, parameters. Across frameworks the
same model is spelled differently (``Conv2d``/``Conv``/``Conv2D``, ``pads`` of four
against ``padding`` of two, channels-last Keras tensors), so there:

- op types are compared only for kinds where the op *is* the function (activations,
  pooling, normalisation, reductions, element-wise ops), after normalisation
  (:data:`OP_FAMILIES`; an activation is known by ``attrs["activation"]`` when present);
- only attributes both nodes have are compared, and values of different representation
  (a string against a list) are not;
- input shapes are compared as the set of data tensors (rank 2 or more) coming in, as
  constants travel differently (a torch parameter is an input, an ONNX initializer not);
- parameter counts are compared only for layers with weights (:data:`WEIGHTED_KINDS`):
  exporters lift an activation's constants (``Clip``'s bounds) into initializers;
- Keras' 4-D and 5-D tensors are read channels-last (unless the node says
  ``channels_first``) and turned channels-first before comparing.

Everywhere: symmetric ONNX pads (``[1, 1, 1, 1]``) equal torch's ``[1, 1]``; a dimension
that is unknown or symbolic (``None``, ``"batch"``) equals any dimension; the first
dimension of a tensor of rank 2 or more is the batch and is not compared (a batch size is
not architecture).

Attributes that mirror the input's size (``in_channels``, ``in_features``,
``num_features``…, :data:`INPUT_SIZED_ATTRS`) change whenever the layer before them
widens: when the node's input shapes changed too, such a change is *propagated*, not a
cause (see :func:`is_cause`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from netdraw.ir import Graph, Node, TensorSpec

#: Attribute keys that name, locate or annotate rather than describe the layer.
IGNORED_ATTRS = frozenset({
    "name", "names", "module", "path", "paths", "qualname", "scope", "source", "doc",
    "doc_string", "members", "trace", "stack_trace", "shared_with", "macs", "nodes",
    "folded", "pattern", "diff", "repeat", "trainable", "dtype", "node_ids", "call", "calls",
})

#: Attribute keys whose value follows from the input's size rather than being chosen.
INPUT_SIZED_ATTRS = frozenset({
    "in_channels", "in_features", "num_features", "normalized_shape", "input_dim",
    "embed_dim", "kdim", "vdim", "input_size", "in_units",
})

#: Kinds with weights of their own; across frameworks only their parameters are compared
#: (exporters lift an activation's or a pool's constants into initializers).
WEIGHTED_KINDS = frozenset({"conv", "conv_transpose", "dense", "matmul", "norm",
                            "embedding", "recurrent", "attention"})

#: Kinds whose op type names the function computed (compared across frameworks).
FUNCTION_KINDS = frozenset({"activation", "softmax", "pool", "global_pool", "norm",
                            "reduce", "elementwise", "upsample", "recurrent"})

#: Kinds that frameworks use for one another's layers (``Flatten`` exported as
#: ``Reshape``, ``AdaptiveAvgPool2d`` as ``ReduceMean``, ``Linear`` as ``MatMul``): across
#: frameworks they are one kind.
KIND_CLASSES: dict[str, str] = {"reshape": "flatten", "reduce": "global_pool",
                                "matmul": "dense"}

#: Normalised op type -> family shared by the frameworks (after lower-casing and dropping
#: ``_``, a ``1d``/``2d``/``3d`` suffix and a ``layer`` suffix).
OP_FAMILIES: dict[str, str] = {
    "batchnormalization": "batchnorm", "layernormalization": "layernorm",
    "groupnormalization": "groupnorm", "instancenormalization": "instancenorm",
    "rmsnormalization": "rmsnorm", "simplifiedlayernormalization": "rmsnorm",
    "silu": "swish", "fastgelu": "gelu", "quickgelu": "gelu", "relu6": "clip",
    "hardtanh": "clip", "resize": "upsample", "upsampling": "upsample",
    "simplernn": "rnn", "reducemean": "mean", "reducesum": "sum", "reducemax": "max",
    "reducemin": "min", "reduceprod": "prod",
}
#: Pooling is known by what it takes (average, maximum, Lp norm), not by how its window
#: is given (adaptive, global or a kernel): exporters turn one into another.
POOL_FAMILIES: tuple[tuple[str, str], ...] = (("max", "maxpool"), ("avg", "avgpool"),
                                              ("average", "avgpool"), ("mean", "avgpool"),
                                              ("lp", "lppool"))

_DIM_SUFFIX = re.compile(r"([123]d|layer)$")
#: Attributes given per spatial axis: ``3`` and ``[3, 3]`` say the same.
_GRID_ATTRS = frozenset({"kernel_size", "stride", "dilation", "padding", "output_padding"})


def op_family(node: Node) -> str:
    """A framework-neutral name of what the node computes: ``MaxPool2d``, ``MaxPool`` and
    ``MaxPooling2D`` are all ``maxpool`` (and so is ``AdaptiveMaxPool2d``); an activation is
    its ``attrs["activation"]``."""
    if node.kind in ("activation", "softmax"):
        act = node.attrs.get("activation")
        if isinstance(act, str) and act:
            return OP_FAMILIES.get(act.lower().replace("_", ""), act.lower().replace("_", ""))
    op = node.op_type.lower().replace("_", "")
    op = _DIM_SUFFIX.sub("", op)
    if node.kind in ("pool", "global_pool"):
        return next((family for word, family in POOL_FAMILIES if word in op), op)
    return OP_FAMILIES.get(op, op)


def kind_class(kind: str) -> str:
    """The kind as compared across frameworks (see :data:`KIND_CLASSES`)."""
    return KIND_CLASSES.get(kind, kind)


def channels_last(graph: Graph, node: Node) -> bool:
    """Whether ``node``'s image tensors are laid out N, H, W, C (as its output's layout
    says, when known: a ConvNeXt block's Linear layers in PyTorch; Keras by default)."""
    spec = node.outputs[0] if node.outputs else None
    if spec is not None and spec.layout and len(spec.layout) in (4, 5) and "C" in spec.layout:
        return spec.layout.endswith("C")
    fmt = node.attrs.get("data_format")
    if fmt in ("channels_last", "NHWC"):
        return True
    if fmt in ("channels_first", "NCHW"):
        return False
    if graph.meta.get("data_format") == "channels_last":
        return True
    return graph.meta.get("framework") == "keras"


@functools.lru_cache(maxsize=1 << 14)
def canonical_shape(shape: tuple | None, last: bool) -> tuple | None:
    """The shape channels-first (a channels-last 4-D or 5-D shape has its last dim moved
    to position 1); unknown and symbolic dims become None."""
    if shape is None:
        return None
    dims = tuple(d if isinstance(d, int) else None for d in shape)
    if last and len(dims) in (4, 5):
        dims = (dims[0], dims[-1], *dims[1:-1])
    return dims


def shapes_equal(a: tuple | None, b: tuple | None) -> bool:
    """Equal rank and dims, where an unknown dim (None) equals any dim and the batch
    (the first dim of rank 2 or more) is not compared."""
    if a is None or b is None:
        return a is None and b is None
    if len(a) != len(b):
        return False
    start = 1 if len(a) > 1 else 0
    return all(x is None or y is None or x == y
               for x, y in zip(a[start:], b[start:], strict=True))


def shape_key(shape: tuple | None) -> tuple | None:
    """A hashable key for matching: the known dims after the batch, sorted (so layouts
    agree), with the rank."""
    if shape is None:
        return None
    rest = shape[1:] if len(shape) > 1 else shape
    return (len(shape), tuple(sorted(d for d in rest if d is not None)))


def normalise_value(key: str, value: Any) -> Any:
    """A value in a form both frameworks share: tuples as lists, symmetric pads halved."""
    if isinstance(value, tuple):
        value = list(value)
    if key in _GRID_ATTRS and isinstance(value, int) and not isinstance(value, bool):
        value = [value]
    if key == "padding" and isinstance(value, list) and len(value) % 2 == 0 and value and \
            value[: len(value) // 2] == value[len(value) // 2:]:
        value = value[: len(value) // 2]
    if isinstance(value, list) and len(value) > 1 and all(v == value[0] for v in value) and \
            key in _GRID_ATTRS:
        value = [value[0]]  # 3 and (3, 3) say the same
    if isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer() and key not in ("eps", "momentum"):
        return int(value)
    return value


def comparable_attrs(node: Node) -> dict[str, Any]:
    return {k: normalise_value(k, v) for k, v in node.attrs.items() if k not in IGNORED_ATTRS}


def _same_representation(a: Any, b: Any) -> bool:
    def rep(v: Any) -> str:
        if isinstance(v, bool):
            return "bool"
        if isinstance(v, (int, float)):
            return "number"
        if isinstance(v, list):
            return "list"
        return type(v).__name__
    return rep(a) == rep(b)


@dataclass(frozen=True)
class Change:
    """One difference of a matched pair: ``what`` is ``kind``, ``op_type``, ``attr`` (with
    ``key``), ``inputs``, ``outputs``, ``params`` or ``name`` (a renamed module or layer:
    its weights are saved under another key); values are JSON-ready."""

    what: str
    before: Any
    after: Any
    key: str = ""

    def to_dict(self) -> dict[str, Any]:
        out = {"what": self.what, "before": self.before, "after": self.after}
        if self.key:
            out["key"] = self.key
        return out


class Side:
    """How to read one graph's nodes: its framework and tensor layout (cached per node)."""

    def __init__(self, graph: Graph) -> None:
        self.graph = graph
        self.framework = str(graph.meta.get("framework") or "")
        self._default_last = channels_last(graph, Node("", "", "other", ""))
        self._cache: dict[str, tuple[list, list]] = {}
        self._attrs: dict[str, dict[str, Any]] = {}

    def last(self, node: Node) -> bool:
        if "data_format" not in node.attrs:
            return self._default_last
        return channels_last(self.graph, node)

    def shapes(self, node: Node, specs: Sequence[TensorSpec]) -> list[tuple | None]:
        last = self.last(node)
        return [canonical_shape(t.shape, last) for t in specs]

    def attrs(self, node: Node) -> dict[str, Any]:
        """:func:`comparable_attrs` of a node of this graph (computed once)."""
        if self.graph.nodes.get(node.id) is not node:
            return comparable_attrs(node)
        hit = self._attrs.get(node.id)
        if hit is None:
            hit = self._attrs[node.id] = comparable_attrs(node)
        return hit

    def io(self, node: Node) -> tuple[list, list]:
        """Canonical input and output shapes of a node (computed once)."""
        hit = self._cache.get(node.id)
        if hit is None or self.graph.nodes.get(node.id) is not node:
            hit = (self.shapes(node, node.inputs), self.shapes(node, node.outputs))
            if self.graph.nodes.get(node.id) is node:
                self._cache[node.id] = hit
        return hit


@functools.lru_cache(maxsize=1 << 14)
def format_shape(shape: tuple | None) -> str:
    if shape is None:
        return "?"
    return "×".join("?" if d is None else str(d) for d in shape) or "scalar"


def compare(a: Node, b: Node, side_a: Side, side_b: Side) -> list[Change]:
    """What differs between node ``a`` of graph A and node ``b`` of graph B."""
    same_framework = side_a.framework == side_b.framework
    changes: list[Change] = []
    if a.kind != b.kind and (same_framework or kind_class(a.kind) != kind_class(b.kind)):
        changes.append(Change("kind", a.kind, b.kind))
    if same_framework:
        if a.op_type != b.op_type:
            changes.append(Change("op_type", a.op_type, b.op_type))
    elif a.kind == b.kind and a.kind in FUNCTION_KINDS and op_family(a) != op_family(b):
        changes.append(Change("op_type", a.op_type, b.op_type))
    attrs_a, attrs_b = side_a.attrs(a), side_b.attrs(b)
    op_changed = bool(changes)
    # Another op has other attributes (GELU's ``approximate``): only shared ones compare.
    keys = sorted(set(attrs_a) | set(attrs_b)) if same_framework and not op_changed else \
        sorted(set(attrs_a) & set(attrs_b))
    for key in keys:
        va, vb = attrs_a.get(key), attrs_b.get(key)
        if va == vb:
            continue
        if not same_framework and not _same_representation(va, vb):
            continue
        if key == "activation" and op_changed:
            continue  # ReLU -> GELU says it already
        changes.append(Change("attr", va, vb, key))
    io_a, io_b = side_a.io(a), side_b.io(b)
    for k, what in enumerate(("inputs", "outputs")):
        sa, sb = io_a[k], io_b[k]
        if not same_framework and what == "inputs":
            differ = not _same_data_inputs(sa, sb)
        else:
            differ = len(sa) != len(sb) or not all(map(shapes_equal, sa, sb))
        if differ:
            changes.append(Change(what, [format_shape(s) for s in sa],
                                  [format_shape(s) for s in sb]))
    if a.params != b.params and (same_framework or a.kind in WEIGHTED_KINDS):
        changes.append(Change("params", a.params, b.params))
    return changes


def _same_data_inputs(a: list, b: list) -> bool:
    """Across frameworks: the same distinct data tensors (rank 2 or more) come in.

    Frameworks pass constants differently (a torch parameter is an input edge, an ONNX
    initializer is not; ONNX gives ``ReduceMean`` its axes as an input), so only the set of
    data tensors' shapes is compared."""
    def data(shapes: list) -> list:
        out: list = []
        for s in shapes:
            if s is not None and len(s) >= 2 and not any(shapes_equal(s, o) for o in out):
                out.append(s)
        return out

    da, db = data(a), data(b)
    return len(da) == len(db) and all(any(shapes_equal(x, y) for y in db) for x in da)


def is_cause(changes: Sequence[Change]) -> bool:
    """Whether a change starts at this node rather than following from its inputs.

    A node whose input shapes changed and whose other changes are only its output shapes,
    its parameter count and input-sized attributes (``in_features``…) merely follows the
    layer before it: the widened layer is the cause, the rest is propagation.
    """
    if not changes:
        return False
    inputs_changed = any(c.what == "inputs" for c in changes)
    if not inputs_changed:
        return True
    for c in changes:
        if c.what in ("inputs", "outputs", "params"):
            continue
        if c.what == "attr" and c.key in INPUT_SIZED_ATTRS:
            continue
        return True
    return False


def _short(value: Any) -> str:
    if isinstance(value, list):
        if value and all(isinstance(v, (int, float)) for v in value):
            return "×".join(str(v) for v in value)
        return ", ".join(_short(v) for v in value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) >= 10_000:
        from netdraw.describe import format_count

        return format_count(value)
    return "–" if value is None else str(value)


def describe_change(change: Change) -> str:
    """``units 256 → 512``, ``ReLU → GELU``, ``out 1×256 → 1×512``, ``params 200.9k → 401.9k``."""
    if change.what == "attr":
        return f"{change.key} {_short(change.before)} → {_short(change.after)}"
    if change.what in ("kind", "op_type"):
        return f"{change.before} → {change.after}"
    if change.what == "name":
        return f"renamed {change.before} → {change.after}"
    if change.what == "params":
        return f"params {_short(change.before)} → {_short(change.after)}"
    label = "in" if change.what == "inputs" else "out"
    before, after = change.before, change.after
    if len(before) == 1 and len(after) == 1:
        return f"{label} {before[0]} → {after[0]}"
    return f"{label} {', '.join(before) or '–'} → {', '.join(after) or '–'}"


#: Order in which a node's changes are worth a label line: the cause first.
_NOTE_ORDER = {"kind": 0, "op_type": 1, "attr": 2, "outputs": 3, "params": 4, "inputs": 5,
               "name": 6}


def headline(changes: Sequence[Change]) -> str:
    """The one change a diagram label shows (``256 → 512`` style), the cause first."""
    if not changes:
        return ""
    ordered = sorted(changes, key=lambda c: (_NOTE_ORDER[c.what],
                                             c.key in INPUT_SIZED_ATTRS))
    return describe_change(ordered[0])
