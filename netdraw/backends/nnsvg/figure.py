"""IR graph -> the layers an NN-SVG-style figure draws, and the edges between them.

A figure shows *tensors*, not operations: every drawn layer is the output of one node
(a convolution's feature maps, a dense layer's vector, a collapsed block's output), and the
op that made it labels it. Plumbing that NN-SVG would not draw as a layer is skipped and
its edges are joined through:

- kinds ``activation``, ``elementwise``, ``norm``, ``dropout``, ``softmax``, ``flatten``,
  ``reshape``, ``transpose``, ``slice``, ``pad``, ``cast``, ``identity``, ``constant`` and
  ``output``;
- shape arithmetic: any node (but an input or embedding) whose output is an integer or
  boolean tensor, and any op but a layer with weights whose output is a known scalar
  (every dimension 1: the ``1/sqrt(d)`` of an exported attention);
- a merge (``add``, ``multiply``, ``concat``) with fewer than two distinct drawn inputs
  (a bias add, ``x * sigmoid(x)``).

Shapes are read from the node's first output, batch dimension dropped (the first dimension
of every tensor of rank 2 or more). Layout: ONNX and PyTorch tensors are channels-first
(``C×H×W``); Keras tensors are channels-last (``H×W×C``). The layout is the node's
``attrs["data_format"]`` if set, else ``graph.meta["data_format"]``, else channels-last
for ``graph.meta["framework"] == "keras"`` and channels-first otherwise. A rank-2 tensor
(after the batch) is ``C×L`` when a channels-first convolution, pooling or upsampling made
it and a sequence ``T×D`` (``D`` features) otherwise. A map of 1×1 is drawn as a vector.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netdraw.describe import display_name, format_count
from netdraw.ir import Graph, Node, TensorSpec

PLUMBING_KINDS = frozenset({
    "activation", "norm", "dropout", "softmax", "flatten", "reshape", "transpose", "slice",
    "pad", "cast", "identity", "constant", "output", "elementwise",
})
MERGE_KINDS = frozenset({"add", "multiply", "concat"})
_CONV_LIKE = frozenset({"conv", "conv_transpose", "pool", "upsample", "global_pool"})
_NON_FLOAT = ("int", "uint", "bool", "string")
#: Kinds drawn even when their output is a single number (a regression head's Dense(1)).
_WEIGHTED = frozenset({"input", "dense", "conv", "conv_transpose", "block", "recurrent",
                       "embedding", "attention"})

#: Human names of kinds, for legends.
KIND_NAMES: dict[str, str] = {
    "input": "Input", "conv": "Convolution", "conv_transpose": "Transposed convolution",
    "pool": "Pooling", "global_pool": "Global pooling", "dense": "Dense",
    "block": "Block", "add": "Add", "multiply": "Multiply", "concat": "Concatenate",
    "upsample": "Upsampling", "embedding": "Embedding", "recurrent": "Recurrent",
    "attention": "Attention", "matmul": "MatMul", "reduce": "Reduction",
    "subgraph": "Control flow", "other": "Other op",
}


@dataclass(frozen=True)
class Dims:
    """A drawn tensor: a map ``C×H×W`` (``units`` None) or a vector of ``units``."""

    channels: int | None = None
    height: int | None = None
    width: int | None = None
    units: int | None = None
    vector: bool = False  # a vector of unknown length

    @property
    def is_vector(self) -> bool:
        return self.vector or self.units is not None

    @property
    def size(self) -> int | None:
        """Neurons in a vector, channels in a map."""
        return self.units if self.is_vector else self.channels

    def text(self) -> str:
        """``6@28×28`` for a map (``?`` for unknown dims), ``120`` for a vector."""
        def s(v: int | None) -> str:
            return "?" if v is None else str(v)
        if self.is_vector:
            return s(self.units)
        if self.width == 1 and self.height is not None:
            return f"{s(self.channels)}@{s(self.height)}"
        return f"{s(self.channels)}@{s(self.height)}×{s(self.width)}"


@dataclass
class Layer:
    """One drawn layer: the output tensor of one IR node."""

    index: int
    node: Node
    name: str
    kind: str
    dims: Dims
    op_text: str
    tooltip: str
    group: str | None = None  # the top-level group (for stage brackets), if any
    repeat: int = 1
    preds: list[int] = field(default_factory=list)
    succs: list[int] = field(default_factory=list)

    @property
    def is_merge(self) -> bool:
        return self.kind in MERGE_KINDS

    @property
    def kernel(self) -> tuple[int, int] | None:
        """The kernel of the op that made this layer (conv/pool), if known."""
        ks = self.node.attrs.get("kernel_size")
        if self.kind not in ("conv", "conv_transpose", "pool") or ks is None:
            return None
        ks = list(ks) if isinstance(ks, (list, tuple)) else [ks]
        if not ks or not all(isinstance(k, int) and k > 0 for k in ks):
            return None
        return (ks[-2], ks[-1]) if len(ks) >= 2 else (ks[0], 1)


@dataclass
class Figure:
    """The drawn layers in topological order and the edges (index pairs) between them."""

    name: str
    layers: list[Layer]
    edges: list[tuple[int, int]]


def build_figure(graph: Graph) -> Figure:
    """Pick the drawn layers of ``graph`` and join edges through the skipped plumbing."""
    preds = graph.predecessors()
    # feeds[n]: the drawn layers (node ids) whose tensors reach node n through plumbing.
    feeds: dict[str, list[str]] = {}
    inputs_of: dict[str, list[str]] = {}
    drawn: list[str] = []
    for node in graph.nodes.values():
        sources: list[str] = []
        for p in preds[node.id]:
            for s in feeds.get(p, []):
                if s not in sources:
                    sources.append(s)
        if _is_drawn(node, sources):
            drawn.append(node.id)
            feeds[node.id] = [node.id]
            inputs_of[node.id] = sources
        else:
            feeds[node.id] = sources
    index = {nid: i for i, nid in enumerate(drawn)}
    layers: list[Layer] = []
    edges: list[tuple[int, int]] = []
    for i, nid in enumerate(drawn):
        layers.append(_layer(i, graph.nodes[nid], graph))
        edges.extend((index[src], i) for src in inputs_of[nid])
    for a, b in edges:
        layers[a].succs.append(b)
        layers[b].preds.append(a)
    return Figure(graph.name, layers, edges)


def _is_drawn(node: Node, sources: list[str]) -> bool:
    if node.kind == "input":
        return True
    if node.kind in PLUMBING_KINDS:
        return False
    spec = node.outputs[0] if node.outputs else None
    dtype = (spec.dtype or "") if spec is not None else ""
    if node.kind != "embedding" and dtype.startswith(_NON_FLOAT):
        return False
    shape = spec.shape if spec is not None else None
    if node.kind not in _WEIGHTED and shape is not None and all(d == 1 for d in shape):
        return False
    if node.kind in MERGE_KINDS and len(sources) < 2:
        return False
    return True


def channels_last(node: Node, graph: Graph) -> bool:
    """True when ``node``'s tensors are laid out ``H×W×C`` (see the module docstring)."""
    fmt = node.attrs.get("data_format") or graph.meta.get("data_format")
    if isinstance(fmt, str) and fmt:
        return fmt.lower() in ("channels_last", "nhwc", "nwc", "ndhwc")
    return str(graph.meta.get("framework", "")).lower() == "keras"


def _int(d: Any) -> int | None:
    return d if isinstance(d, int) and not isinstance(d, bool) and d > 0 else None


def node_dims(node: Node, graph: Graph) -> Dims:
    """The drawn dimensions of ``node``'s output (rules in the module docstring)."""
    spec = node.outputs[0] if node.outputs else TensorSpec()
    shape = list(spec.shape) if spec.shape is not None else None
    if shape is not None and len(shape) >= 2:
        shape = shape[1:]
    if not shape:
        units = _int(node.attrs.get("units")) or _int(node.attrs.get("out_channels"))
        if node.kind in ("dense", "recurrent", "embedding", "matmul"):
            return Dims(units=units, vector=True)
        return Dims(channels=units)
    dims = [_int(d) for d in shape]
    last = channels_last(node, graph)
    if len(dims) == 1:
        return Dims(units=dims[0])
    if len(dims) == 2:
        if not last and node.kind in _CONV_LIKE:
            c, h, w = dims[0], dims[1], 1
        else:
            c, h, w = dims[1], dims[0], 1
    else:
        if last:
            c, h, w = dims[-1], dims[-3], dims[-2]
        else:
            c, h, w = dims[0], dims[-2], dims[-1]
    if h == 1 and w == 1:
        return Dims(units=c)
    return Dims(channels=c, height=h, width=w)


def _pair(value: Any) -> str:
    vals = list(value) if isinstance(value, (list, tuple)) else [value]
    vals = [v for v in vals if v is not None]
    if not vals:
        return ""
    if len(vals) >= 2 and all(v == vals[0] for v in vals):
        return f"{vals[0]}×{vals[0]}"
    return "×".join(str(v) for v in vals)


def _stride(value: Any) -> str:
    vals = list(value) if isinstance(value, (list, tuple)) else [value]
    vals = [v for v in vals if isinstance(v, int)]
    if not vals or all(v == 1 for v in vals):
        return ""
    return "/" + (str(vals[0]) if all(v == vals[0] for v in vals) else "×".join(map(str, vals)))


def op_text(node: Node) -> str:
    """A short name of the op that made the layer: ``Conv 5×5/2``, ``Max-Pool 2×2``."""
    a, kind, op = node.attrs, node.kind, node.op_type
    ks = _pair(a.get("kernel_size")) if a.get("kernel_size") is not None else ""
    stride = _stride(a.get("stride"))
    if kind == "conv":
        groups = a.get("groups")
        base = "DW-Conv" if (isinstance(groups, int) and groups > 1
                             and groups == a.get("in_channels")) else "Conv"
        text = f"{base} {ks}{stride}".strip()
    elif kind == "conv_transpose":
        text = f"Deconv {ks}{stride}".strip()
    elif kind == "pool":
        base = "Max-Pool" if "max" in op.lower() else "Avg-Pool" if "av" in op.lower() else "Pool"
        text = f"{base} {ks}{stride}".strip()
    elif kind == "global_pool":
        text = "Global " + ("Max-Pool" if "max" in op.lower() else "Avg-Pool")
    elif kind == "dense":
        text = "Dense"
    elif kind == "block":
        text = op or "Block"
    elif kind == "input":
        text = "Input"
    elif kind == "upsample":
        text = "Upsample"
    else:
        text = KIND_NAMES.get(kind, op) if kind != "other" else (op or "op")
    repeat = a.get("repeat")
    if isinstance(repeat, int) and repeat > 1:
        text += f" ×{repeat}"
    return text


def _tooltip(node: Node) -> str:
    """``name (Conv + BatchNormalization + Relu) · 1×64×56×56 · 9.5k params``."""
    ops = [node.op_type] if node.op_type else []
    folded = node.attrs.get("folded")  # the layers a fold absorbed into this head
    if isinstance(folded, list):
        ops += [str(f.get("op_type") or f.get("kind") or "") for f in folded
                if isinstance(f, dict)]
    ops = [o for o in ops if o]
    parts = [f"{node.name} ({' + '.join(ops)})" if ops else node.name]
    spec = node.outputs[0] if node.outputs else None
    if spec is not None and spec.shape is not None:
        parts.append(spec.format_shape())
    if node.params:
        parts.append(f"{format_count(node.params)} params")
    return " · ".join(parts)


def layer_name(node: Node, graph: Graph) -> str:
    """The short name a figure shows: ``conv1``; ``features.0`` rather than ``0``;
    ``branch4`` rather than ``MaxPool`` for ``/inception3a/branch4/MaxPool``."""
    name = display_name(node, graph)
    if node.name.startswith("/") and name.split("_")[0] == node.op_type:
        parts = [p for p in node.name.split("/") if p]
        if len(parts) >= 2:
            return parts[-2]
    if name.isdigit():
        group = graph.groups.get(node.group) if node.group else None
        if group is not None and group.display_name:
            return f"{group.display_name.rsplit('.', 1)[-1]}.{name}"
    return name


def _layer(index: int, node: Node, graph: Graph) -> Layer:
    top = graph.groups.get(node.group[:1]) if node.group else None
    repeat = node.attrs.get("repeat")
    return Layer(
        index=index, node=node, name=layer_name(node, graph), kind=node.kind,
        dims=node_dims(node, graph), op_text=op_text(node), tooltip=_tooltip(node),
        group=(top.display_name if top is not None else node.group[0]) if node.group else None,
        repeat=repeat if isinstance(repeat, int) and repeat > 1 else 1)
