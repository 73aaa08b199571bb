"""Receptive fields: which input pixels a position of a layer's output can see.

For each node with a spatial output, :func:`receptive_fields` gives a :class:`Field` per
axis (height, width) by the usual arithmetic along the graph (Araujo et al. 2019,
"Computing receptive fields of convolutional neural networks"): output index ``i`` of the
node depends on input pixels ``first + i·jump`` … ``first + i·jump + size − 1``. A
convolution or pooling with kernel ``k``, stride ``s``, begin padding ``p`` and dilation
``d`` on a field ``(first, jump, size)`` gives ``(first − p·jump, s·jump,
size + (k − 1)·d·jump)``; element-wise layers, normalisation and activations keep it; a
merge (add, concat) takes the union of its inputs' fields; a transposed convolution or an
upsampling divides the jump. Layers that mix every position (global pooling, dense,
attention, reshapes) see the whole input: no field.

The explorer crops the dataset examples of a channel to the field around the channel's
maximum (:meth:`Field.span`). The test checks the fields against the pixels whose gradient
is non-zero (torch.autograd), the definition itself.

>>> from netdraw.ir import Graph, Node, Edge, TensorSpec
>>> g = Graph("m")
>>> _ = g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 3, 32, 32))]))
>>> _ = g.add_node(Node("c", "c", "conv", "Conv2d", attrs={"kernel_size": [3, 3],
...     "stride": [2, 2], "padding": [1, 1]}, outputs=[TensorSpec((1, 8, 16, 16))]))
>>> _ = g.add_edge("x", "c", TensorSpec((1, 3, 32, 32)))
>>> receptive_fields(g)["c"][0]
Field(first=-1.0, jump=2.0, size=3.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from netdraw.ir import Graph, Node

#: Kinds whose output position i reads a window of its input (kernel attributes).
_WINDOWED = ("conv", "pool")
#: Kinds that keep positions where they are (one position of the output, one of the input).
_KEEPING = ("norm", "activation", "add", "multiply", "concat", "dropout", "softmax",
            "identity", "cast", "other", "pad", "slice")
#: Kinds whose output at one position depends on every position (no field: the whole input).
_GLOBAL = ("global_pool", "dense", "flatten", "reshape", "transpose", "matmul", "attention",
           "embedding", "recurrent", "output")


@dataclass(frozen=True)
class Field:
    """One axis of a receptive field in input pixels: output index ``i`` sees pixels
    ``first + i·jump`` to ``first + i·jump + size − 1`` (before clipping to the image)."""

    first: float
    jump: float
    size: float

    def span(self, index: int, limit: int) -> tuple[int, int]:
        """``(start, stop)``, stop exclusive, of output index ``index``'s pixels clipped
        to ``0 … limit``."""
        low = self.first + index * self.jump
        start = max(0, math.floor(low))
        stop = min(limit, math.ceil(low + self.size))
        return start, max(start, stop)


Fields = tuple[Field, Field]
_UNIT = Field(0.0, 1.0, 1.0)


def _pair(value: Any, default: int) -> tuple[int, int] | None:
    """Two numbers (height, width) from an int or a list of one or two ints."""
    if value is None:
        return (default, default)
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return (value, value)
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, int) for v in value):
        if len(value) == 1:
            return (value[0], value[0])
        return (int(value[-2]), int(value[-1])) if len(value) == 2 else None
    return None


def _spatial(shape: Any) -> tuple[int, int] | None:
    """(h, w) of an NCHW output shape; (1, L) of an NCL one."""
    if not shape or any(not isinstance(d, int) for d in shape[1:]):
        return None
    if len(shape) == 4:
        return int(shape[2]), int(shape[3])
    if len(shape) == 3:
        return 1, int(shape[2])
    return None


def _begin_padding(node: Node, kernel: tuple[int, int], stride: tuple[int, int],
                   dilation: tuple[int, int], sizes: tuple[Any, Any]) -> tuple[int, int] | None:
    """The padding before the first pixel on each axis."""
    pad = node.attrs.get("padding")
    auto = str(node.attrs.get("auto_pad") or "").upper()
    if isinstance(pad, str) or auto in ("SAME_UPPER", "SAME_LOWER"):
        text = (pad if isinstance(pad, str) else auto).lower()
        if text == "valid" or text == "notset":
            return (0, 0)
        if not text.startswith("same"):
            return None
        ins, outs = sizes
        if ins is None or outs is None:
            return None
        out = []
        for axis in range(2):
            total = max((outs[axis] - 1) * stride[axis] + (kernel[axis] - 1) * dilation[axis]
                        + 1 - ins[axis], 0)
            out.append(-(-total // 2) if text == "same_lower" else total // 2)
        return out[0], out[1]
    if pad is None:
        return (0, 0)
    if isinstance(pad, int) and not isinstance(pad, bool):
        return (pad, pad)
    if isinstance(pad, (list, tuple)) and all(isinstance(p, int) for p in pad):
        if len(pad) == 1:
            return (pad[0], pad[0])
        if len(pad) == 2:
            return (pad[0], pad[1])
        if len(pad) == 4:  # ONNX: begins, then ends
            return (pad[0], pad[1])
    return None


def _windowed(node: Node, fields: Fields, sizes: tuple[Any, Any]) -> Fields | None:
    kernel = _pair(node.attrs.get("kernel_size"), 1)
    stride = _pair(node.attrs.get("stride"), 1)
    dilation = _pair(node.attrs.get("dilation"), 1)
    if kernel is None or stride is None or dilation is None:
        return None
    if len(node.outputs[0].shape or ()) == 3:  # 1-D: the one number is the length's
        kernel, stride, dilation = (1, kernel[1]), (1, stride[1]), (1, dilation[1])
    begin = _begin_padding(node, kernel, stride, dilation, sizes)
    if begin is None:
        return None
    out = []
    for axis, f in enumerate(fields):
        k, s, d, p = kernel[axis], stride[axis], dilation[axis], begin[axis]
        if node.kind == "conv_transpose":
            out.append(Field(f.first - ((k - 1) * d - p) / s * f.jump, f.jump / s,
                             f.size + (k - 1) * d / s * f.jump))
        else:
            out.append(Field(f.first - p * f.jump, s * f.jump, f.size + (k - 1) * d * f.jump))
    return out[0], out[1]


def _union(fields: list[Fields]) -> Fields:
    """The fields of a merge: every input's pixels (the same jump in practice)."""
    out = []
    for axis in range(2):
        first = min(f[axis].first for f in fields)
        last = max(f[axis].first + f[axis].size for f in fields)
        jump = max(f[axis].jump for f in fields)
        out.append(Field(first, jump, last - first))
    return out[0], out[1]


def receptive_fields(graph: Graph) -> dict[str, Fields]:
    """Node id -> its output's field (height axis, width axis), for every node with a
    spatial output whose field is known; nodes that see the whole input are left out."""
    preds = graph.predecessors()
    fields: dict[str, Fields] = {}
    for nid, node in graph.nodes.items():
        shape = node.outputs[0].shape if node.outputs else None
        if node.kind == "input":
            if _spatial(shape) is not None:
                fields[nid] = (_UNIT, _UNIT)
            continue
        if node.kind in _GLOBAL or _spatial(shape) is None:
            continue
        sources = [fields[p] for p in preds.get(nid, []) if p in fields]
        if not sources or len(sources) < len([p for p in preds.get(nid, [])
                                              if graph.nodes[p].kind != "constant"]):
            continue  # an input that sees the whole image: so does this node
        merged = _union(sources) if len(sources) > 1 else sources[0]
        kind = node.kind
        if kind in ("conv", "conv_transpose", "pool"):
            first_in = next((graph.nodes[p] for p in preds.get(nid, [])
                             if p in fields), None)
            in_shape = first_in.outputs[0].shape if first_in and first_in.outputs else None
            found = _windowed(node, merged, (_spatial(in_shape), _spatial(shape)))
            if found is not None:
                fields[nid] = found
            continue
        if kind == "upsample":
            in_node = graph.nodes[preds[nid][0]]
            ins, outs = _spatial(in_node.outputs[0].shape if in_node.outputs else None), \
                _spatial(shape)
            if ins is None or outs is None:
                continue
            fields[nid] = tuple(Field(f.first, f.jump * ins[a] / outs[a], f.size + f.jump)
                                for a, f in enumerate(merged))  # type: ignore[assignment]
            continue
        if kind in _KEEPING:
            fields[nid] = merged
    return fields


def patch_box(fields: Fields, y: int, x: int, height: int, width: int
              ) -> tuple[int, int, int, int]:
    """``(x0, y0, x1, y1)`` (x1, y1 exclusive) of the input pixels output position
    ``(y, x)`` sees, clipped to a ``height`` × ``width`` input."""
    y0, y1 = fields[0].span(y, height)
    x0, x1 = fields[1].span(x, width)
    return x0, y0, x1, y1


__all__ = ["Field", "Fields", "patch_box", "receptive_fields"]
