"""From a Graph to the items a paper figure draws (shared by TikZ and the NN-SVG styles).

A figure does not show plumbing: flatten, reshape, transpose, identity, cast, dropout, pad,
constants, graph-output markers and shape arithmetic (integer or boolean results, tiny
constant vectors, scalars) are contracted into the edges around them. What else a style
leaves out is its :class:`Policy`:

- :data:`OPS` (TikZ, one box per operation): norms, activations and softmax are drawn. In
  a raw graph (no view made by the passes: no ``meta["view"]``, no node carrying
  ``attrs["folded"]``) a layer followed by its normalisation and activation becomes one
  item with the activation as a *band*; a bias ``Add``/``Mul`` with a single data input is
  folded into its producer, and an activation right after an add or concat into that ball.
  In a view the passes decided: only ``attrs["activation"]`` makes a band.
- :data:`TENSORS` (NN-SVG, one layer per tensor that changes shape): activations,
  normalisations, softmax and element-wise ops are not layers either, and neither is a
  merge (add, subtract, multiply, concat…) with fewer than two distinct drawn inputs (a
  bias add, ``x * sigmoid(x)``): its edges are joined through.

Tensor layout rule (documented in docs/tikz.md and docs/figure-styles.md): a tensor whose layout is
known (:attr:`netdraw.ir.TensorSpec.layout`, inferred on import by
:mod:`netdraw.passes.tensor_layout`) is read where its layout puts C, H and W. Otherwise
4-D (and 3-D, 5-D) tensors are read as channels-first (``N, C, H, W``, as ONNX and PyTorch
write them) unless the node has ``attrs["data_format"] == "channels_last"`` (or ``NHWC``…),
or the graph's ``meta["data_format"]`` says so, or ``meta["framework"] == "keras"`` and the
node does not say ``channels_first`` (Keras' default, ``N, H, W, C``). A 3-D tensor of a
non-convolutional layer is a sequence ``N, L, D`` (features last). The first dimension is
the batch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from netdraw.describe import MERGE_KINDS, OPERATORS, block_text, shared_tag
from netdraw.ir import Graph, Node, TensorSpec, channels_and_spatial

#: IR kinds that no figure draws (their edges are contracted).
HIDDEN_KINDS = frozenset({"output", "flatten", "reshape", "transpose", "identity", "cast",
                          "dropout", "pad", "constant", "slice"})
_SHAPE_OPS = frozenset({"Shape", "Size", "NonZero", "Range", "ConstantOfShape", "EyeLike"})
#: Kinds drawn even when their output is a single number (a regression head's Dense(1)).
_WEIGHTED = frozenset({"input", "dense", "conv", "conv_transpose", "block", "subgraph",
                       "recurrent", "embedding", "attention"})
_ALWAYS = frozenset({"input", "block", "subgraph", "embedding"})
#: Op types that prepare the input rather than compute a feature (drawn small).
PREPROCESSING = frozenset({
    "Rescaling", "Normalization", "Resizing", "CenterCrop", "RandomFlip", "RandomRotation",
    "RandomZoom", "RandomTranslation", "RandomContrast", "RandomBrightness", "RandomCrop",
    "AutoContrast", "RandomGrayscale", "RandomSaturation", "RandomHue",
})


@dataclass(frozen=True)
class Policy:
    """Which nodes a figure style draws: ``hidden`` kinds are contracted into edges;
    ``fuse`` folds norms, activations and bias ops of a raw graph into bands; ``lone``
    merges (fewer than two drawn inputs) are joined through even in a view."""

    name: str
    hidden: frozenset[str]
    fuse: bool
    lone: bool


OPS = Policy("ops", HIDDEN_KINDS, fuse=True, lone=False)
TENSORS = Policy("tensors", HIDDEN_KINDS | {"activation", "norm", "softmax", "elementwise"},
                 fuse=False, lone=True)

#: IR kind -> drawing category (colour role and glyph of the TikZ look).
CATEGORY_OF_KIND: dict[str, str] = {
    "input": "input", "conv": "conv", "conv_transpose": "deconv", "pool": "pool",
    "global_pool": "pool", "upsample": "upsample", "dense": "dense", "matmul": "matmul",
    "norm": "norm", "activation": "act", "softmax": "softmax", "concat": "concat",
    "attention": "attention", "embedding": "embedding", "recurrent": "recurrent",
    "block": "block", "subgraph": "block", **{kind: kind for kind in OPERATORS},
}

#: Drawing category -> (glyph, legend text). Glyphs: box (3D cuboid), bar (thin tall
#: cuboid), ball (sphere with a symbol).
CATEGORIES: dict[str, tuple[str, str]] = {
    "input": ("box", "Input"),
    "conv": ("box", "Convolution"),
    "deconv": ("box", "Transposed conv."),
    "pool": ("box", "Pooling"),
    "upsample": ("box", "Up-sampling"),
    "dense": ("bar", "Fully connected"),
    "matmul": ("box", "Mat. mult."),
    "norm": ("box", "Normalization"),
    "act": ("box", "Activation"),
    "attention": ("box", "Attention"),
    "embedding": ("box", "Embedding"),
    "recurrent": ("box", "Recurrent"),
    "block": ("box", "Block"),
    "other": ("box", "Other"),
    **{kind: ("ball", name) for kind, (_, _, name) in OPERATORS.items()},
    "concat": ("ball", "Concatenation"),
    "softmax": ("ball", "Softmax"),
}

#: Categories that can carry an activation band (and absorb a following norm).
BANDABLE = frozenset({"conv", "deconv", "dense", "matmul", "block", "upsample"})
_CONV_LIKE = frozenset({"conv", "conv_transpose", "pool", "global_pool", "upsample"})
_VECTOR_KINDS = frozenset({"dense", "recurrent", "embedding", "matmul"})

_ACT_NAMES = {
    "relu": "ReLU", "relu6": "ReLU6", "leakyrelu": "LeakyReLU", "prelu": "PReLU",
    "elu": "ELU", "selu": "SELU", "celu": "CELU", "gelu": "GELU", "fastgelu": "GELU",
    "quickgelu": "GELU", "silu": "SiLU", "swish": "SiLU", "mish": "Mish", "tanh": "tanh",
    "sigmoid": "sigmoid", "hardsigmoid": "h-sigmoid", "hardswish": "h-swish",
    "softplus": "softplus", "softsign": "softsign", "clip": "ReLU6", "softmax": "softmax",
    "hardtanh": "hardtanh", "erf": "erf", "thresholdedrelu": "ReLU",
}


def activation_label(name: str) -> str:
    """``Relu`` / ``relu`` / ``ReLU`` -> ``ReLU``; unknown names are kept."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    return _ACT_NAMES.get(key, name)


@dataclass(frozen=True)
class Dims:
    """What a glyph's size shows: channels ``c``, spatial ``h`` × ``w`` (and ``d`` for 3-D).

    ``rank`` is the rank without the batch dimension: 3 for an image tensor, 2 for a
    sequence or a 1-D signal (``w`` is None), 1 for a vector, 0 when unknown (``c`` may
    then hold a layer's declared units, and ``vector`` says a dense-like layer made it).
    Unknown dims are None.
    """

    c: int | None = None
    h: int | None = None
    w: int | None = None
    d: int | None = None
    rank: int = 0
    vector: bool = False

    @property
    def spatial(self) -> bool:
        """A map with a known height (TikZ draws it as a box sized by H and W)."""
        return self.rank >= 2 and self.h is not None

    @property
    def is_vector(self) -> bool:
        """A vector of ``c`` units: rank 1, a 1×1 map, or a dense-like layer of unknown
        shape (NN-SVG draws these as neurons or bars)."""
        if self.rank == 1 or (self.rank == 0 and self.vector):
            return True
        return self.rank >= 2 and self.h == 1 and (self.w == 1 or self.rank == 2)

    def text(self) -> str:
        """``6@28×28`` for a map (``?`` for unknown dims), ``120`` for a vector."""
        def s(v: int | None) -> str:
            return "?" if v is None else str(v)
        if self.is_vector:
            return s(self.c)
        if self.rank == 2 or (self.w == 1 and self.h is not None):
            return f"{s(self.c)}@{s(self.h)}"
        return f"{s(self.c)}@{s(self.h)}×{s(self.w)}"


def _int(dim: Any) -> int | None:
    return dim if isinstance(dim, int) and not isinstance(dim, bool) and dim > 0 else None


def _list(value: Any) -> list:
    return value if isinstance(value, list) else []


def tensor_dims(spec: TensorSpec | None, channels_last: bool, conv_like: bool) -> Dims:
    """Read C, H, W from a tensor spec: where its layout puts them
    (:func:`netdraw.ir.channels_and_spatial`), else by the rule in the module docstring."""
    if spec is None or spec.shape is None or len(spec.shape) == 0:
        return Dims()
    found = channels_and_spatial(spec) if spec.layout and spec.layout[0] == "N" else None
    if found is not None:
        c, spatial = _int(found[0]), [_int(d) for d in found[1]]
        rank = len(spatial) + 1
        if len(spatial) >= 3:
            return Dims(c=c, d=spatial[-3], h=spatial[-2], w=spatial[-1], rank=rank)
        return Dims(c=c, h=spatial[0] if spatial else None,
                    w=spatial[1] if len(spatial) > 1 else None, rank=rank)
    shape = list(spec.shape)
    if len(shape) == 1:
        return Dims(c=_int(shape[0]), rank=1)
    body = [_int(d) for d in shape[1:]]
    if len(body) == 1:
        return Dims(c=body[0], rank=1)
    if len(body) == 2:
        if conv_like and not channels_last:
            return Dims(c=body[0], h=body[1], rank=2)
        return Dims(c=body[1], h=body[0], rank=2)
    if channels_last:
        c, spatial = body[-1], body[:-1]
    else:
        c, spatial = body[0], body[1:]
    if len(spatial) >= 3:
        return Dims(c=c, d=spatial[-3], h=spatial[-2], w=spatial[-1], rank=len(body))
    return Dims(c=c, h=spatial[0], w=spatial[1], rank=len(body))


def node_dims(graph: Graph, node: Node) -> Dims:
    """The dims a node's glyph shows: of its first output (or input); for a layer whose
    output shape is unknown, its declared ``units`` / ``out_channels``."""
    spec = node.outputs[0] if node.outputs else (node.inputs[0] if node.inputs else None)
    if node.kind == "recurrent" and spec is not None and spec.shape is not None \
            and len(spec.shape) == 4:
        # ONNX LSTM/GRU/RNN: Y is (sequence, directions, batch, hidden).
        length, dirs, hidden = _int(spec.shape[0]), _int(spec.shape[1]), _int(spec.shape[3])
        return Dims(c=hidden * dirs if hidden and dirs else hidden, h=length, rank=2)
    dims = tensor_dims(spec, channels_last(graph, node), node.kind in _CONV_LIKE)
    if dims.rank == 0:
        units = _int(node.attrs.get("units")) or _int(node.attrs.get("out_channels"))
        return Dims(c=units, vector=node.kind in _VECTOR_KINDS)
    return dims


def channels_last(graph: Graph, node: Node) -> bool:
    """The layout rule of the module docstring for one node."""
    fmt = node.attrs.get("data_format") or graph.meta.get("data_format")
    if isinstance(fmt, str) and fmt:
        if fmt.lower() in ("channels_last", "nhwc", "nwc", "ndhwc"):
            return True
        if fmt.lower() in ("channels_first", "nchw", "ncw", "ncdhw"):
            return False
    return str(graph.meta.get("framework", "")).lower() == "keras"


@dataclass
class Item:
    """One drawn thing: a layer (with what was folded into it), a merge or a block."""

    id: str
    index: int  # position in drawing order (topological)
    node: Node  # the first node; the item shows its output
    category: str
    node_ids: list[str]
    name: str  # the caption (a style may shorten it)
    op_type: str
    dims: Dims
    params: int = 0
    band: str | None = None  # activation shown as a band, e.g. "ReLU"
    repeat: int = 1
    folded: list[str] = field(default_factory=list)  # kinds folded in (norm, activation…)

    @property
    def kind(self) -> str:
        return self.node.kind

    @property
    def full_name(self) -> str:
        return self.node.name

    @property
    def attrs(self) -> dict[str, Any]:
        return self.node.attrs

    @property
    def is_merge(self) -> bool:
        return self.node.kind in MERGE_KINDS

    @property
    def preprocessing(self) -> bool:
        """Input preprocessing (Keras' ``Rescaling``, ``Normalization``, …): drawn small,
        not as a layer of the input's size."""
        return self.node.op_type in PREPROCESSING and not self.folded

    @property
    def glyph(self) -> str:
        return CATEGORIES[self.category][0]

    @property
    def legend_key(self) -> tuple[str, str | None]:
        return self.category, (self.band if self.category in BANDABLE else None)

    @property
    def kernel(self) -> tuple[int, int] | None:
        """The kernel of the op that made this item (conv/pool), if known."""
        ks = self.attrs.get("kernel_size")
        if self.kind not in ("conv", "conv_transpose", "pool") or ks is None:
            return None
        ks = list(ks) if isinstance(ks, (list, tuple)) else [ks]
        if not ks or not all(isinstance(k, int) and k > 0 for k in ks):
            return None
        return (ks[-2], ks[-1]) if len(ks) >= 2 else (ks[0], 1)


@dataclass
class ItemGraph:
    """Items in topological order and the (deduplicated) edges between them."""

    items: dict[str, Item]
    edges: list[tuple[str, str]]

    def preds(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {i: [] for i in self.items}
        for s, d in self.edges:
            out[d].append(s)
        return out

    def succs(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {i: [] for i in self.items}
        for s, d in self.edges:
            out[s].append(d)
        return out


def short_name(node: Node, limit: int = 16) -> str:
    """A caption-sized name: ``/layer1/layer1.0/conv1/Conv`` -> ``conv1``; a name that only
    repeats the op type (``/MaxPool_1``) gives no caption."""
    name = node.name.strip()
    if name.startswith("/"):
        parts = [p for p in name.split("/") if p]
        if parts and re.fullmatch(re.escape(node.op_type) + r"(_\d+)?", parts[-1]):
            parts = parts[:-1]
        return parts[-1] if parts else ""
    return tail_name(name, limit)


def roll_name(name: str) -> str:
    """A block's caption: a rolled run ``first–last`` without the module path both ends
    share, down to the last part with a letter in it (``model.transformer.h.1–
    model.transformer.h.5`` -> ``h.1–h.5``; ``layer1.1–layer1.2`` stays whole)."""
    ends = name.split("–")
    if len(ends) != 2:
        return name
    first, last = (end.split(".") for end in ends)
    shared = 0
    while shared < min(len(first), len(last)) - 1 and first[shared] == last[shared]:
        shared += 1
    while shared > 0 and not any(c.isalpha() for c in ".".join(first[shared:])):
        shared -= 1
    return ".".join(first[shared:]) + "–" + ".".join(last[shared:])


def tail_name(name: str, limit: int = 16) -> str:
    """The last dotted components of a module path that fit ``limit`` characters (at least
    one, and never a bare number): ``layer2.0.downsample.0`` -> ``downsample.0``."""
    parts = name.split(".")
    tail = parts[-1]
    for part in reversed(parts[:-1]):
        if len(part) + 1 + len(tail) > limit and not tail.isdigit():
            break
        tail = f"{part}.{tail}"
    return tail


def hidden(node: Node, policy: Policy = OPS) -> bool:
    """Whether a figure drawn with ``policy`` leaves ``node`` out: its hidden kinds, and
    shape arithmetic (integer or boolean results, tiny constant vectors, scalars)."""
    if node.kind in policy.hidden or node.op_type in _SHAPE_OPS:
        return True
    if node.kind in _ALWAYS or not node.outputs:
        return False
    specs = [o for o in node.outputs if o.dtype or o.shape is not None]
    if specs and all(o.dtype and (o.dtype.startswith(("int", "uint", "string"))
                                  or o.dtype == "bool") for o in specs):
        return True
    if node.kind in _WEIGHTED:
        return False
    return bool(specs) and all(
        o.shape is not None and all(isinstance(d, int) for d in o.shape)
        and (len(o.shape) <= 1 and math.prod(o.shape) <= 8 or all(d == 1 for d in o.shape))
        for o in specs)


def _category(node: Node) -> str:
    cat = CATEGORY_OF_KIND.get(node.kind, "other")
    if cat == "matmul" and node.params > 0:
        return "dense"
    return cat


def _band_of(node: Node) -> str | None:
    act = node.attrs.get("activation")
    if isinstance(act, str) and act and act.lower() not in ("linear", "none", "identity"):
        return activation_label(act)
    return None


def build_items(graph: Graph, policy: Policy = OPS) -> ItemGraph:
    """Simplify ``graph`` into items and item edges (see the module docstring)."""
    viewed = "view" in graph.meta or any("folded" in n.attrs for n in graph.nodes.values())
    node_preds = graph.predecessors()
    items: dict[str, Item] = {}
    owner: dict[str, str] = {}  # drawn node id -> item id
    for node in graph.nodes.values():
        if hidden(node, policy):
            continue
        cat = _category(node)
        name = roll_name(node.name) if cat == "block" else short_name(node)
        tag = shared_tag(node)
        if tag:
            name = f"{name} ({tag})"
        item = Item(f"i{len(items)}", len(items), node, cat, [node.id], name,
                    block_text(node) if cat == "block" and node.attrs.get("blocks")
                    else node.op_type,
                    node_dims(graph, node), node.params,
                    band=_band_of(node) if cat in BANDABLE else None,
                    repeat=_int(node.attrs.get("repeat")) or 1,
                    folded=[str(f.get("kind", "")) for f in _list(node.attrs.get("folded"))
                            if isinstance(f, dict)])
        if cat == "block" and not item.op_type:
            item.op_type = "Block"
        items[item.id] = item
        owner[node.id] = item.id

    # Contract hidden nodes: each node's drawn ancestors through hidden chains.
    sources: dict[str, list[str]] = {}
    for nid in graph.nodes:
        if nid in owner:
            sources[nid] = [owner[nid]]
        else:
            seen: list[str] = []
            for p in node_preds[nid]:
                for s in sources.get(p, []):
                    if s not in seen:
                        seen.append(s)
            sources[nid] = seen
    edges: list[tuple[str, str]] = []
    data_inputs: dict[str, int] = {}
    for nid, item_id in owner.items():
        data_inputs[item_id] = len({s for p in node_preds[nid] for s in sources.get(p, [])})
        for p in node_preds[nid]:
            for s in sources.get(p, []):
                if s != item_id and (s, item_id) not in edges:
                    edges.append((s, item_id))
    ig = ItemGraph(items, edges)
    raw = policy.fuse and not viewed
    if raw:
        _fuse(ig, data_inputs)
    # A merge with a single drawn input (a bias add, x * sigmoid(x)): drawn as a plain edge.
    while raw or policy.lone:
        preds = ig.preds()
        single = next((i for i in ig.items.values() if i.is_merge and len(preds[i.id]) <= 1),
                      None)
        if single is None:
            break
        _dissolve(ig, single)
    for k, item in enumerate(ig.items.values()):
        item.index = k
    return ig


def _fuse(ig: ItemGraph, data_inputs: dict[str, int]) -> None:
    """Fold norms/activations/bias ops into the layer before them (raw graphs only)."""
    for item_id in list(ig.items):
        item = ig.items.get(item_id)
        if item is None:
            continue
        preds = [s for s, d in ig.edges if d == item_id]
        if len(preds) != 1:
            continue
        host = ig.items[preds[0]]
        if sum(1 for s, _ in ig.edges if s == host.id) != 1:
            continue
        cat = item.category
        if cat == "norm" and host.category in BANDABLE and host.band is None:
            host.folded.append("norm")
        elif cat == "act" and host.category in BANDABLE and host.band is None:
            host.band = activation_label(item.op_type)
            host.folded.append("activation")
        elif cat == "act" and host.category in MERGE_KINDS:
            host.folded.append("activation")
        elif cat in OPERATORS and data_inputs.get(item_id, 0) <= 1 \
                and host.glyph != "ball":
            host.folded.append(cat)  # a bias, scale or shift with a constant operand
        else:
            continue
        _merge(ig, host, item)


def _dissolve(ig: ItemGraph, item: Item) -> None:
    """Remove an item, joining each of its predecessors to each of its successors."""
    preds = [s for s, d in ig.edges if d == item.id]
    succs = [d for s, d in ig.edges if s == item.id]
    del ig.items[item.id]
    edges = [(s, d) for s, d in ig.edges if item.id not in (s, d)]
    for p in preds:
        for q in succs:
            if p != q and (p, q) not in edges:
                edges.append((p, q))
    ig.edges = edges


def _merge(ig: ItemGraph, host: Item, item: Item) -> None:
    host.node_ids.extend(item.node_ids)
    host.params += item.params
    if item.dims.rank:
        host.dims = item.dims
    del ig.items[item.id]
    edges: list[tuple[str, str]] = []
    for s, d in ig.edges:
        if d == item.id:
            continue
        if s == item.id:
            s = host.id
        if s != d and (s, d) not in edges:
            edges.append((s, d))
    ig.edges = edges
