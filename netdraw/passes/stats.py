"""Statistics: multiply-accumulates (MACs) per node, computed from shapes and attributes.

MACs are counted per example: the leading (batch) dimension of a tensor is left out. A
convolution costs ``output elements × (input channels / groups) × kernel area``; a dense
layer ``output elements × input features``; a matmul of two activations ``output elements ×
the shared dimension``. Kinds without multiply-accumulates (activations, norms, adds, pools…)
get none. Blocks carry the sum of their members.

>>> from netdraw.ir import Node, TensorSpec
>>> conv = Node("c", "c", "conv", "Conv", attrs={"kernel_size": [3, 3], "in_channels": 3,
...             "out_channels": 8}, outputs=[TensorSpec((1, 8, 4, 4))])
>>> node_macs(conv)  # 8·4·4 outputs × 3·3·3 weights each
3456
"""

from __future__ import annotations

import copy
import math
from typing import Any

from netdraw.ir import Graph, Group, Node, TensorSpec

#: Kinds that may carry MACs.
MAC_KINDS = ("conv", "conv_transpose", "dense", "matmul", "attention", "recurrent")


def _ints(shape: tuple[Any, ...] | None) -> list[int] | None:
    """The shape with batch (and symbolic) dims taken as 1; None if a dim is unknown."""
    if shape is None:
        return None
    out = []
    for d in shape:
        if isinstance(d, int) and d >= 0:
            out.append(d)
        elif isinstance(d, str):
            out.append(1)  # a symbolic dim is the batch or a sequence length we cannot know
        else:
            return None
    return out


def _per_example(spec: TensorSpec | None, batch_dim: bool = True) -> int | None:
    dims = _ints(spec.shape if spec else None)
    if not dims:
        return None
    return math.prod(dims[1:] if batch_dim and len(dims) > 1 else dims)


def _dims(value: Any) -> list[int]:
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v for v in values if isinstance(v, int)]


def _conv(node: Node) -> int | None:
    a = node.attrs
    kernel = math.prod(_dims(a.get("kernel_size"))) or None
    groups = a.get("groups") if isinstance(a.get("groups"), int) and a["groups"] > 0 else 1
    cout = a.get("out_channels")
    cin = a.get("in_channels")
    if not isinstance(cin, int) and isinstance(cout, int) and kernel and node.params:
        # params = cout · cin/groups · kernel (+ cout bias): solve for cin/groups.
        for bias in (0, cout):
            per_group, rest = divmod(node.params - bias, cout * kernel)
            if rest == 0 and per_group > 0:
                cin = per_group * groups
                break
    if not (isinstance(cin, int) and isinstance(cout, int) and kernel):
        return None
    if node.kind == "conv":
        out = _per_example(node.outputs[0] if node.outputs else None)
        return None if out is None else out * (cin // groups) * kernel
    inp = _per_example(node.inputs[0] if node.inputs else None)
    return None if inp is None else inp * (cout // groups) * kernel


def _in_features(node: Node, units: int | None) -> int | None:
    spec = node.inputs[0] if node.inputs else None
    dims = _ints(spec.shape if spec else None)
    if dims and dims[-1] > 0 and not (spec and isinstance(spec.shape[-1], str)):
        return dims[-1]
    if units and node.params:
        for bias in (0, units):
            features, rest = divmod(node.params - bias, units)
            if rest == 0 and features > 0:
                return features
    return None


def _dense(node: Node) -> int | None:
    out = node.outputs[0] if node.outputs else None
    dims = _ints(out.shape if out else None)
    if not dims:
        return None
    units = node.attrs.get("units")
    units = units if isinstance(units, int) else dims[-1]
    features = _in_features(node, units)
    if features is None:
        return None
    rows = math.prod(dims[1:-1]) if len(dims) > 1 else 1
    return rows * units * features


def _matmul(node: Node) -> int | None:
    if node.params:  # a matmul with a weight is a dense layer
        return _dense(node)
    out = node.outputs[0] if node.outputs else None
    dims = _ints(out.shape if out else None)
    first = _ints(node.inputs[0].shape) if node.inputs else None
    if not dims or not first:
        return None
    shared = first[-1]
    elements = math.prod(dims[1:]) if len(dims) >= 3 else math.prod(dims)
    return elements * shared


def _attention(node: Node) -> int | None:
    """Approximate: projections (≈ weights × query length) plus QKᵀ and AV (2·Lq·Lk·E)."""
    query = _ints(node.inputs[0].shape) if node.inputs else None
    if not query or len(query) < 2:
        return None
    keys = _ints(node.inputs[1].shape) if len(node.inputs) > 1 else None
    lq, embed = (query[-2] if len(query) >= 3 else 1), query[-1]
    lk = keys[-2] if keys and len(keys) >= 3 else lq
    return lq * node.params + 2 * lq * lk * embed


def _recurrent(node: Node) -> int | None:
    """Weights × time steps (each step multiplies every weight once)."""
    spec = node.inputs[0] if node.inputs else None
    dims = _ints(spec.shape if spec else None)
    if not dims or len(dims) < 3 or not node.params:
        return None
    # ONNX LSTM/GRU/RNN take (seq, batch, features) unless layout=1; others are batch-first.
    seq_first = node.op_type in ("LSTM", "GRU", "RNN") and not node.attrs.get("layout")
    steps = dims[0] if seq_first else dims[1]
    return steps * node.params


_MAC_NODE_KINDS = frozenset((*MAC_KINDS, "block"))

_BY_KIND = {"conv": _conv, "conv_transpose": _conv, "dense": _dense, "matmul": _matmul,
            "attention": _attention, "recurrent": _recurrent}


def node_macs(node: Node) -> int | None:
    """MACs of one layer per example, or None when its kind has none or shapes are unknown."""
    if node.kind == "block":
        value = node.attrs.get("macs")
        return value if isinstance(value, int) else None
    fn = _BY_KIND.get(node.kind)
    if fn is None:
        return None
    try:
        value = fn(node)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    return int(value) if value is not None and value >= 0 else None


def annotate(graph: Graph) -> Graph:
    """A copy of ``graph`` with ``attrs["macs"]`` set on every node whose MACs are known.

    O(N + E): nodes are new objects; a node that gains MACs gets a new attrs dict, the
    others share theirs with the input (which is never changed).
    """
    out = Graph(graph.name)
    out.edges = list(graph.edges)  # edges are never changed once made
    out.inputs, out.outputs = list(graph.inputs), list(graph.outputs)
    out.groups = {p: Group(g.path, g.class_name, g.label) for p, g in graph.groups.items()}
    out.meta = copy.deepcopy(graph.meta)
    for nid, node in graph.nodes.items():
        new = Node(node.id, node.name, node.kind, node.op_type, node.attrs, node.params,
                   node.inputs, node.outputs, node.group)
        if "macs" not in node.attrs and node.kind in _MAC_NODE_KINDS:
            value = node_macs(node)
            if value is not None:
                new.attrs = {**node.attrs, "macs": value}
        out.nodes[nid] = new
    return out


def total_macs(graph: Graph) -> int:
    """Sum of ``attrs["macs"]`` over the graph (blocks carry their members' sum)."""
    return sum(m for n in graph.nodes.values()
               if isinstance(m := n.attrs.get("macs"), int))
