"""Statistics: multiply-accumulates (MACs) per node, computed from shapes and attributes.

MACs are counted per example: only the *model's* batch is left out, not a layer's leading
axis. The batch is read from the graph's inputs (:func:`model_batch`); a tensor whose
leading axis holds the batch folded with something else (a Swin block's batch × windows, a
transformers ``Conv1D``'s batch × tokens, the tokens routed to an expert) keeps that
something else. A convolution costs ``output elements × (input channels / groups) × kernel
area``; a dense layer ``output elements × input features``; a matmul of two activations
``output elements × the shared dimension`` (an einsum: × the size of every contracted
index). Kinds without multiply-accumulates (activations, norms, adds, pools…) get none.
Blocks carry the sum of their members.

>>> from netdraw.ir import Node, TensorSpec
>>> conv = Node("c", "c", "conv", "Conv", attrs={"kernel_size": [3, 3], "in_channels": 3,
...             "out_channels": 8}, outputs=[TensorSpec((1, 8, 4, 4))])
>>> node_macs(conv)  # 8·4·4 outputs × 3·3·3 weights each
3456

A dimension other than the batch that is symbolic (ONNX's ``seq``, torch.export's ``s0``) or
unknown (Keras' ``None`` sequence length, named by its axis: ``d1``) is kept as a variable:
the count is then a formula, written as Python would (``"64*seq + 8*seq**2"``; see
:mod:`netdraw.passes.macs`).

>>> tokens = Node("fc", "fc", "dense", "Dense", attrs={"units": 8}, params=32,
...               inputs=[TensorSpec((None, None, 4))], outputs=[TensorSpec((None, None, 8))])
>>> node_macs(tokens)
'32*d1'
"""

from __future__ import annotations

import copy
import math
from typing import Any

from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes.macs import Macs, add_macs

#: Kinds that may carry MACs.
MAC_KINDS = ("conv", "conv_transpose", "dense", "matmul", "attention", "recurrent")


#: The model's batch size: a number, a symbolic name, or None when unknown.
Batch = int | str | None

#: The model's batch when the graph's inputs do not tell it: a symbolic or unknown leading
#: axis is the batch, a number is counted.
UNKNOWN_BATCH: Batch = None


def model_batch(graph: Graph) -> Batch:
    """The model's batch size: the leading dim the graph's inputs share (an int, a symbolic
    name, or None when unknown or when they disagree). Scalar inputs say nothing."""
    leads: set[Any] = set()
    for nid in graph.inputs:
        node = graph.nodes.get(nid)
        spec = node.outputs[0] if node is not None and node.outputs else None
        if spec is not None and spec.shape:
            leads.add(spec.shape[0])
    if len(leads) != 1:
        return None
    lead = next(iter(leads))
    return lead if isinstance(lead, (str, int)) and not isinstance(lead, bool) else None


def _ints(shape: tuple[Any, ...] | None, batch_axis: int | None = 0,
          batch: int | str | None = UNKNOWN_BATCH) -> list[Any] | None:
    """The shape's dims: a symbolic or unknown batch axis taken as 1, other symbolic or
    unknown dims as variables (a symbolic dim by its name, an unknown one by its axis:
    ``d1``). With a symbolic model batch, only that symbol is taken as the batch."""
    if shape is None:
        return None
    out: list[Any] = []
    for axis, d in enumerate(shape):
        if isinstance(d, bool):
            return None
        if isinstance(d, int) and d >= 0:
            out.append(d)
        elif axis == batch_axis and (d is None or not isinstance(batch, str) or d == batch):
            out.append(1)  # the batch: MACs are per example
        elif isinstance(d, str) and d:
            out.append(Macs.symbol(d))
        elif d is None:
            out.append(Macs.symbol(f"d{axis}"))
        else:
            return None
    return out


def _unbatched(dims: list[Any], batch: int | str | None) -> list[Any]:
    """``dims`` with a numeric model batch divided out of the leading axis (where it is the
    batch, or the batch folded with windows or tokens); unchanged when it does not divide."""
    if isinstance(batch, int) and batch > 1 and dims and isinstance(dims[0], int) \
            and dims[0] % batch == 0:
        return [dims[0] // batch, *dims[1:]]
    return dims


def _per_example(spec: TensorSpec | None, batch: int | str | None) -> int | Macs | None:
    """The number of elements of ``spec`` in one example: every axis counts but the batch."""
    dims = _ints(spec.shape if spec else None, batch=batch)
    if not dims:
        return None
    return math.prod(_unbatched(dims, batch))


def _dims(value: Any) -> list[int]:
    if value is None:
        return []
    values = value if isinstance(value, (list, tuple)) else [value]
    return [v for v in values if isinstance(v, int)]


def _conv(node: Node, batch: Batch) -> int | Macs | None:
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
        out = _per_example(node.outputs[0] if node.outputs else None, batch)
        return None if out is None else out * (cin // groups) * kernel
    inp = _per_example(node.inputs[0] if node.inputs else None, batch)
    return None if inp is None else inp * (cout // groups) * kernel


def _in_features(node: Node, units: int | None) -> int | None:
    """The features each output unit reads: the layer's own ``in_features`` (from its
    weight), else the input's last axis, else solved from the parameter count."""
    declared = node.attrs.get("in_features")
    # (zero is a width too: a layer that reads no features multiplies nothing)
    if isinstance(declared, int) and not isinstance(declared, bool) and declared >= 0:
        return declared
    spec = node.inputs[0] if node.inputs else None
    dims = _ints(spec.shape if spec else None)
    if dims and isinstance(dims[-1], int) and dims[-1] >= 0:
        return dims[-1]
    if units and node.params:
        for bias in (0, units):
            features, rest = divmod(node.params - bias, units)
            if rest == 0 and features > 0:
                return features
    return None


def _dense(node: Node, batch: Batch) -> int | Macs | None:
    """Rows (every axis but the last, per example) × units × input features."""
    out = node.outputs[0] if node.outputs else None
    dims = _ints(out.shape if out else None, batch=batch)
    if not dims:
        return None
    units = node.attrs.get("units")
    units = units if isinstance(units, int) else dims[-1]
    features = _in_features(node, units if isinstance(units, int) else None)
    if features is None:
        return None
    rows = math.prod(_unbatched(dims[:-1], batch)) if len(dims) > 1 else 1
    return rows * units * features


def _matmul(node: Node, batch: Batch) -> int | Macs | None:
    """Output elements (per example) × the contracted size: an einsum's or grouped
    matmul's from the recording (``attrs["contraction"]``), else the first operand's last
    axis. A matmul with a weight and nothing more known is a dense layer."""
    contraction = node.attrs.get("contraction")
    out = node.outputs[0] if node.outputs else None
    if isinstance(contraction, int) and not isinstance(contraction, bool) and contraction >= 0:
        elements = _per_example(out, batch)
        return None if elements is None else elements * contraction
    if node.params:
        return _dense(node, batch)
    first = _ints(node.inputs[0].shape, batch=batch) if node.inputs else None
    elements = _per_example(out, batch)
    if elements is None or not first:
        return None
    return elements * first[-1]


#: torch's multi-head attention (module and function): projections inside, a layout flag.
_TORCH_MHA = frozenset({"MultiheadAttention", "multi_head_attention_forward"})


def _torch_mha(node: Node, batch: Batch) -> int | Macs | None:
    """torch's multi-head attention: the query and output projections over the queries
    (2·Lq·E²), the key and value ones over the keys (Lk·E·(kdim + vdim)), and QKᵀ and AV
    (2·Lq·Lk·E). Inputs are (N, L, E) with ``batch_first``, else (L, N, E)."""
    seq_first = node.attrs.get("batch_first") is False
    specs = [s for s in node.inputs if s.shape is not None and len(s.shape) in (2, 3)]
    if not specs:
        return None
    rank = len(specs[0].shape)
    batch_axis = (1 if seq_first else 0) if rank == 3 else None
    query = _ints(specs[0].shape, batch_axis=batch_axis, batch=batch)
    if query is None:
        return None
    length = 0 if seq_first or rank == 2 else 1
    # The keys: the next input of the query's rank and batch (not a mask (N·heads, L, S)).
    keys = next((_ints(s.shape, batch_axis=batch_axis, batch=batch) for s in specs[1:]
                 if len(s.shape) == rank and (batch_axis is None or
                                              s.shape[batch_axis] == specs[0].shape[batch_axis])),
                None)
    lq, lk = query[length], (keys or query)[length]
    embed = _positive(node.attrs.get("embed_dim")) or _positive(query[-1])
    kdim = _positive(node.attrs.get("kdim")) or _positive((keys or query)[-1])
    vdim = _positive(node.attrs.get("vdim")) or kdim
    if not (embed and kdim and vdim):
        return None
    # From the widths, not the parameters: a second call of a shared module holds none.
    projections = 2 * lq * embed * embed + lk * embed * (kdim + vdim)
    return projections + 2 * lq * lk * embed


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 \
        else None


def _attention(node: Node, batch: Batch) -> int | Macs | None:
    """Projections (≈ weights × query length) plus QKᵀ and AV (2·Lq·Lk·E) for every head
    (a 4-D query is (batch, heads, Lq, E): its leading axes but the batch count)."""
    if node.op_type in _TORCH_MHA:
        return _torch_mha(node, batch)
    query = _ints(node.inputs[0].shape, batch=batch) if node.inputs else None
    if not query or len(query) < 2:
        return None
    keys = _ints(node.inputs[1].shape, batch=batch) if len(node.inputs) > 1 else None
    lq, embed = (query[-2] if len(query) >= 3 else 1), query[-1]
    lk = keys[-2] if keys and len(keys) >= 3 else lq
    heads = math.prod(_unbatched(query[:-2], batch)) if len(query) >= 4 else 1
    return lq * node.params + 2 * heads * lq * lk * embed


def _recurrent(node: Node, batch: Batch) -> int | Macs | None:
    """Weights × time steps (each step multiplies every weight once)."""
    spec = node.inputs[0] if node.inputs else None
    if spec is None or spec.shape is None or len(spec.shape) < 3 or not node.params:
        return None
    time_axis = _time_axis(node, spec.shape)
    dims = _ints(spec.shape, batch_axis=1 - time_axis)
    return None if dims is None else dims[time_axis] * node.params


def _time_axis(node: Node, shape: tuple[Any, ...]) -> int:
    """0 for a sequence-first input (ONNX's and torch's default), 1 for batch-first (Keras,
    ONNX ``layout=1``, torch ``batch_first``: seen from the final state's batch size)."""
    if (node.op_type not in ("LSTM", "GRU", "RNN") or node.attrs.get("layout")
            or "return_sequences" in node.attrs):
        return 1
    state = node.outputs[1].shape if len(node.outputs) > 1 else None
    if state is not None and len(state) == 3 and shape[0] == state[1] != shape[1]:
        return 1  # the final state is (layers, batch, hidden): axis 0 is the batch
    return 0


_MAC_NODE_KINDS = frozenset((*MAC_KINDS, "block"))

_BY_KIND = {"conv": _conv, "conv_transpose": _conv, "dense": _dense, "matmul": _matmul,
            "attention": _attention, "recurrent": _recurrent}


def node_macs(node: Node, batch: Batch = UNKNOWN_BATCH) -> int | str | None:
    """MACs of one layer per example: an int, a formula (a str, see :class:`Macs`) when it
    depends on a symbolic dimension, or None when its kind has none or shapes are unknown.
    ``batch`` is the model's (:func:`model_batch`); unknown, a symbolic or unknown leading
    axis is taken as the batch."""
    if node.kind == "block":
        value = node.attrs.get("macs")
        return value if Macs.parse(value) is not None else None
    fn = _BY_KIND.get(node.kind)
    if fn is None:
        return None
    try:
        value = fn(node, batch)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if value is None:
        return None
    value = Macs.of(value).value()
    return None if isinstance(value, int) and value < 0 else value


def set_macs(graph: Graph) -> Graph:
    """Set ``attrs["macs"]`` on every node of ``graph`` whose MACs are known, in place (the
    importers call it, so every loaded graph carries them); returns ``graph``. O(N)."""
    batch = model_batch(graph)
    for node in graph.nodes.values():
        if "macs" in node.attrs or node.kind not in _MAC_NODE_KINDS:
            continue
        value = node_macs(node, batch)
        if value is not None:
            node.attrs["macs"] = value
    return graph


def annotate(graph: Graph) -> Graph:
    """A copy of ``graph`` with ``attrs["macs"]`` set on every node whose MACs are known.

    O(N + E): nodes are new objects; a node that gains MACs gets a new attrs dict, the
    others share theirs with the input (which is never changed).
    """
    out = Graph(graph.name)
    out.edges = list(graph.edges)  # edges are never changed once made
    out.inputs, out.outputs = list(graph.inputs), list(graph.outputs)
    out.groups = {p: g.copy() for p, g in graph.groups.items()}
    out.meta = copy.deepcopy(graph.meta)
    batch = model_batch(graph)
    for nid, node in graph.nodes.items():
        new = Node(node.id, node.name, node.kind, node.op_type, node.attrs, node.params,
                   node.inputs, node.outputs, node.group)
        if "macs" not in node.attrs and node.kind in _MAC_NODE_KINDS:
            value = node_macs(node, batch)
            if value is not None:
                new.attrs = {**node.attrs, "macs": value}
        out.nodes[nid] = new
    return out


def total_macs(graph: Graph) -> int | str:
    """Sum of ``attrs["macs"]`` over the graph (blocks carry their members' sum): an int, or
    a formula when a count depends on a symbolic dimension."""
    total: int | str | None = 0
    for node in graph.nodes.values():
        total = add_macs(total, node.attrs.get("macs"))
    return total if total is not None else 0
