"""Tensor layouts: where the channels of each 3-D to 5-D tensor are, inferred from what
the ops do to it (:attr:`netdraw.ir.TensorSpec.layout`).

A figure that reads a channels-last tensor as channels-first draws H as C: Swin's blocks
work on ``(B, H, W, C)``, ConvNeXt applies its pointwise Linear layers to the last axis of
a 4-D tensor. The rules, one pass in topological order (O(N + E)):

- convolution, pooling and up-sampling work on channels-first tensors (``NCHW``,
  ``NCW``, ``NCDHW``), or channels-last ones when the node says so
  (``attrs["data_format"]``) or the model is a Keras one and does not say otherwise
  (Keras' default);
- a normalisation over axis 1 (batch, instance or group norm of PyTorch and ONNX) is
  channels-first; a dense layer, and a layer or RMS norm, work on the last axis: a tensor
  they read whose layout is not known has its channels last (``NHWC``; ``NLC`` for a
  sequence);
- a transpose moves the axes' letters by its permutation; unknown letters are guessed only
  for the two moves between channels-first and channels-last (``(0, 2, 3, 1)``,
  ``(0, 3, 1, 2)``);
- a reshape that keeps the channel dim in its place (last, or axis 1) keeps the layout's
  kind; other ops whose output has the rank of an input (activations, element-wise
  operators, concatenation, slicing, padding…) keep that input's layout;
- everything else (matrix products, attention, reductions) leaves the layout unknown.

A layout already set (by an importer or in a JSON file) is kept.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from netdraw.ir import Graph, Node, TensorSpec, spatial_layout

#: Kinds whose tensors are images in the model's layout (see the module docstring).
_SPATIAL = frozenset({"conv", "conv_transpose", "pool", "global_pool", "upsample"})
#: Kinds whose output keeps the layout of an input of the same rank.
_KEEPS = frozenset({"activation", "softmax", "dropout", "identity", "cast", "add",
                    "subtract", "multiply", "divide", "maximum", "minimum", "average",
                    "concat", "slice", "pad", "elementwise", "constant", "flatten",
                    "reshape", "norm", "dense"})
_LAST_AXIS_NORMS = ("layernorm", "layernormalization", "rmsnorm", "rmsnormalization",
                    "simplifiedlayernormalization", "skiplayernormalization",
                    "layer_norm", "rms_norm", "native_layer_norm")


def infer_layouts(graph: Graph) -> Graph:
    """Set the layout of every tensor of ``graph`` whose layout the rules tell, in place
    (node outputs and inputs, and edges); returns ``graph``."""
    keras = str(graph.meta.get("framework", "")).lower() == "keras"
    preds: dict[str, list[tuple[int, TensorSpec]]] = {nid: [] for nid in graph.nodes}
    for i, e in enumerate(graph.edges):
        preds[e.dst].append((i, e.tensor))
    produced: dict[tuple[str, Any], str] = {}  # (node id, shape) -> layout
    edge_src = [e.src for e in graph.edges]
    interned: dict[TensorSpec, TensorSpec] = {}

    def with_layout(spec: TensorSpec, layout: str | None) -> TensorSpec:
        if not layout or spec.layout or spec.shape is None or len(layout) != len(spec.shape):
            return spec
        new = TensorSpec(spec.shape, spec.dtype, layout)
        return interned.setdefault(new, new)

    for nid, node in graph.nodes.items():
        incoming = preds[nid]
        in_layouts = [t.layout or produced.get((edge_src[i], t.shape)) for i, t in incoming]
        in_specs = [t for _, t in incoming] or list(node.inputs)
        needs, outs = _rule(node, in_specs, in_layouts, keras)
        if needs is not None and incoming and not in_layouts[0]:
            # the producer's output is laid out as this node reads it
            i, t = incoming[0]
            if _rank(t) == len(needs):
                produced[(edge_src[i], t.shape)] = needs
                in_layouts[0] = needs
                source = graph.nodes[edge_src[i]]
                source.outputs = [with_layout(o, needs) if o.shape == t.shape else o
                                  for o in source.outputs]
        by_shape: dict[Any, str] = {}
        for (_, t), layout in zip(incoming, in_layouts, strict=True):
            if layout:
                by_shape.setdefault(t.shape, layout)
        node.inputs = [with_layout(t, by_shape.get(t.shape)) for t in node.inputs]
        new_outputs = []
        for k, spec in enumerate(node.outputs):
            spec = with_layout(spec, outs[k] if k < len(outs) else None)
            if spec.layout:
                produced.setdefault((nid, spec.shape), spec.layout)
            new_outputs.append(spec)
        node.outputs = new_outputs
    for e in graph.edges:
        layout = produced.get((e.src, e.tensor.shape))
        if layout:
            e.tensor = with_layout(e.tensor, layout)
    return graph


def _rank(spec: TensorSpec | None) -> int:
    return len(spec.shape) if spec is not None and spec.shape is not None else -1


def _rule(node: Node, in_specs: Sequence[TensorSpec], in_layouts: Sequence[str | None],
          keras: bool) -> tuple[str | None, list[str | None]]:
    """(the layout the node reads its first input in, if the node tells it; the layouts
    of its outputs, None where unknown)."""
    out_specs = node.outputs
    first = in_layouts[0] if in_layouts else None
    first_spec = in_specs[0] if in_specs else None
    kind, op = node.kind, node.op_type.lower()
    if kind in _SPATIAL:
        last = _channels_last(node, keras)
        needs = spatial_layout(_rank(first_spec), last) if first_spec is not None else None
        return needs, [spatial_layout(_rank(o), last) if _rank(o) >= 3 else None
                       for o in out_specs]
    if kind == "transpose":
        return None, [_permuted(node, first, first_spec, out_specs[0] if out_specs else None)]
    if kind == "norm" and op not in _LAST_AXIS_NORMS and not keras and \
            _rank(first_spec) >= 3 and first is None:
        layout = spatial_layout(_rank(first_spec), False)
        return layout, [layout if _rank(o) == _rank(first_spec) else None for o in out_specs]
    needs = None
    if (kind == "dense" or (kind == "norm" and (op in _LAST_AXIS_NORMS or keras)
                            and _over_last_axis(node))) and \
            first is None and _rank(first_spec) >= 3:
        first = needs = _last_layout(_rank(first_spec))
    if kind == "input" and keras:
        return None, [spatial_layout(_rank(o), True) if _rank(o) >= 3 else None
                      for o in out_specs]
    if kind not in _KEEPS or first is None or first_spec is None:
        return needs, []
    return needs, [_kept(first, first_spec, o, kind) for o in out_specs]


def _over_last_axis(node: Node) -> bool:
    """Whether a layer norm normalises the last axis alone (not ``(C, H, W)``)."""
    shape = node.attrs.get("normalized_shape")
    axis = node.attrs.get("axis", -1)
    return (not isinstance(shape, list) or len(shape) == 1) and axis in (-1, [-1])


def _channels_last(node: Node, keras: bool) -> bool:
    fmt = node.attrs.get("data_format")
    if isinstance(fmt, str) and fmt:
        return fmt.lower() in ("channels_last", "nhwc", "nwc", "ndhwc")
    return keras


def _last_layout(rank: int) -> str | None:
    """Channels last for a tensor of ``rank`` a layer reads along its last axis: ``NLC``
    for a sequence, ``NHWC`` (``NDHWC``) for an image, ``N????C`` beyond (Swin's windows
    on their way through a 6-D reshape)."""
    if rank == 3:
        return "NLC"
    return spatial_layout(rank, True) or ("N" + "?" * (rank - 2) + "C" if rank > 5 else None)


def _first_layout(rank: int) -> str | None:
    """Channels first for a tensor of ``rank`` (``NCHW``…, ``NC????`` beyond 5 axes)."""
    return spatial_layout(rank, False) or ("NC" + "?" * (rank - 2) if rank > 5 else None)


def _kept(layout: str, src: TensorSpec, out: TensorSpec, kind: str) -> str | None:
    """The layout of ``out`` made from ``src`` (laid out ``layout``) by a node of ``kind``
    that keeps layouts (see the module docstring)."""
    if out.shape is None or src.shape is None:
        return None
    reshaped = kind in ("reshape", "flatten")
    if len(out.shape) == len(src.shape) and not reshaped:
        return layout
    if not reshaped or len(out.shape) < 3 or "C" not in layout:
        return None
    c = layout.index("C")
    if c == len(layout) - 1 and out.shape[-1] == src.shape[-1]:
        return _last_layout(len(out.shape))
    if c == 1 and out.shape[1] == src.shape[1]:
        return _first_layout(len(out.shape))
    return None


def _permutation(node: Node, rank: int) -> list[int] | None:
    """The permutation a transpose node applies (output axis i is input axis perm[i])."""
    a = node.attrs
    perm = a.get("perm", a.get("dims"))
    if node.op_type == "Permute" and isinstance(perm, list):  # Keras: 1-based, no batch
        perm = [0, *perm]
    if isinstance(perm, list) and len(perm) == rank and \
            sorted(p % rank for p in perm if isinstance(p, int)) == list(range(rank)):
        return [p % rank for p in perm]
    d0, d1 = a.get("dim0"), a.get("dim1")
    if isinstance(d0, int) and isinstance(d1, int) and rank > 0:
        perm = list(range(rank))
        perm[d0 % rank], perm[d1 % rank] = perm[d1 % rank], perm[d0 % rank]
        return perm
    return None


def _permuted(node: Node, layout: str | None, src: TensorSpec | None,
              out: TensorSpec | None) -> str | None:
    rank = _rank(out)
    if rank < 3 or _rank(src) != rank:
        return None
    perm = _permutation(node, rank)
    if perm is None:
        return None
    if layout is None:
        if perm[0] != 0:
            return None
        if perm[-1] == 1 and perm[1:-1] == list(range(2, rank)):
            layout = spatial_layout(rank, False)  # (0, 2, 3, 1): channels-first to last
        elif perm[1] == rank - 1 and perm[2:] == list(range(1, rank - 1)):
            layout = spatial_layout(rank, True)  # (0, 3, 1, 2): channels-last to first
        else:
            return None
    if layout is None or len(layout) != rank:
        return None
    return "".join(layout[p] for p in perm)
