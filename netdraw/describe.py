"""Short human-readable descriptions of nodes, shared by every backend.

>>> format_count(23_512_000)
'23.5M'
>>> key_attrs(Node("c", "c", "conv", "Conv", attrs={"kernel_size": [3, 3], "stride": [2, 2],
...                                                   "out_channels": 64}))
'3×3/2, 64'
"""

from __future__ import annotations

from typing import Any

from netdraw.ir import Graph, Group, Node, TensorSpec, folded_layers, unused_params

#: Fill colour per kind (a muted, print-friendly palette; documented in docs/diagram.md).
PALETTE: dict[str, str] = {
    "input": "#e8e8e8", "output": "#e8e8e8",
    "conv": "#9ecae1", "conv_transpose": "#a6bddb",
    "dense": "#fdae6b", "matmul": "#fdd0a2", "attention": "#fd8d3c", "embedding": "#fdd49e",
    "recurrent": "#fc9272",
    "pool": "#a1d99b", "global_pool": "#74c476", "upsample": "#c7e9c0",
    "norm": "#dadaeb", "activation": "#fff7bc", "softmax": "#fee391", "dropout": "#f0f0f0",
    "add": "#d9d9d9", "multiply": "#d9d9d9", "concat": "#bdbdbd", "subtract": "#d9d9d9",
    "divide": "#d9d9d9", "maximum": "#d9d9d9", "minimum": "#d9d9d9", "average": "#d9d9d9",
    "flatten": "#f7f7f7", "reshape": "#f7f7f7", "transpose": "#f7f7f7", "slice": "#f7f7f7",
    "pad": "#f7f7f7", "cast": "#f7f7f7", "identity": "#f7f7f7", "reduce": "#e5f5e0",
    "elementwise": "#f2f2f2",
    "constant": "#ffffff", "subgraph": "#c6dbef", "block": "#deebf7", "other": "#fbb4c4",
}


#: Element-wise operators drawn as a ball (a merge of tensors): kind -> (the symbol a text
#: label shows, the one drawn inside a ball, the legend's name). Every style draws each
#: with its own symbol: a subtraction is never an addition.
OPERATORS: dict[str, tuple[str, str, str]] = {
    "add": ("⊕", "+", "Addition"),
    "subtract": ("⊖", "−", "Subtraction"),
    "multiply": ("⊗", "×", "Multiplication"),
    "divide": ("⊘", "/", "Division"),
    "maximum": ("max", "max", "Maximum"),
    "minimum": ("min", "min", "Minimum"),
    "average": ("avg", "avg", "Average"),
}
#: Kinds drawn as a merge of tensors: the operators and a concatenation.
MERGE_KINDS = frozenset({*OPERATORS, "concat"})


def operator_symbol(kind: str) -> str:
    """``⊖`` for a subtraction (see :data:`OPERATORS`); empty for other kinds."""
    entry = OPERATORS.get(kind)
    return entry[0] if entry else ""


#: The name of each kind in legends and tables: one vocabulary for every figure style
#: (its legend) and ``netdraw summary`` (its Kind column).
KIND_NAMES: dict[str, str] = {
    "input": "Input", "output": "Output", "conv": "Convolution",
    "conv_transpose": "Transposed convolution", "pool": "Pooling",
    "global_pool": "Global pooling", "upsample": "Up-sampling", "dense": "Fully connected",
    "matmul": "Matrix product", "attention": "Attention", "embedding": "Embedding",
    "recurrent": "Recurrent", "norm": "Normalization", "activation": "Activation",
    "softmax": "Softmax", "dropout": "Dropout", "add": "Addition",
    "multiply": "Multiplication", "subtract": "Subtraction", "divide": "Division",
    "maximum": "Maximum", "minimum": "Minimum", "average": "Average", "concat": "Concatenation",
    "flatten": "Flatten",
    "reshape": "Reshape", "transpose": "Transpose", "slice": "Slice", "pad": "Padding",
    "cast": "Cast", "identity": "Identity", "reduce": "Reduction",
    "elementwise": "Element-wise", "constant": "Constant", "subgraph": "Control flow",
    "block": "Block", "other": "Other op",
}


def kind_name(kind: str) -> str:
    """``conv`` -> ``Convolution`` (see :data:`KIND_NAMES`; unknown kinds as they are)."""
    return KIND_NAMES.get(kind, kind)


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 layer``, ``2 layers`` (``nouns`` for an irregular plural).

    >>> plural(1, "layer"), plural(49, "layer"), plural(2, "repeated run")
    ('1 layer', '49 layers', '2 repeated runs')
    """
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def unused_note(graph: Graph, names: int = 4) -> str:
    """What the model holds but its traced forward never read, or ``""``: ``64 parameters
    not used in this forward: embeddings.mask_token`` (the first ``names`` names).

    >>> g = Graph(); g.meta["unused_params"] = {"embeddings.mask_token": 64, "pooler": 4160}
    >>> unused_note(g, names=1)
    '4,224 parameters not used in this forward: embeddings.mask_token and 1 more'
    """
    unused = unused_params(graph)
    if not unused:
        return ""
    count = sum(unused.values())
    text = f"{count:,} parameter{'' if count == 1 else 's'} not used in this forward"
    shown = [name for name in unused if name][:names]
    if shown:
        rest = len([name for name in unused if name]) - len(shown)
        text += ": " + ", ".join(shown) + (f" and {rest} more" if rest else "")
    return text


def fill_colour(kind: str) -> str:
    return PALETTE.get(kind, PALETTE["other"])


def format_count(n: int | float) -> str:
    """1234 -> '1.2k', 23_512_000 -> '23.5M'."""
    n = float(n)
    for limit, suffix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(n) >= limit:
            return f"{n / limit:.1f}{suffix}"
    return f"{int(n)}"


def _dims(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _grid(value: Any, sep: str = "×") -> str:
    dims = _dims(value)
    if dims and all(d == dims[0] for d in dims) and len(dims) > 1:
        dims = dims[:2] if len(dims) == 2 else dims
    return sep.join(str(d) for d in dims)


def _stride(value: Any) -> str:
    dims = _dims(value)
    if not dims or all(d == 1 for d in dims):
        return ""
    return "/" + (str(dims[0]) if all(d == dims[0] for d in dims) else "×".join(map(str, dims)))


#: Short names of folded normalisation layers, by op type (lower case).
_NORM_SHORT = {"batchnormalization": "BN", "batchnorm1d": "BN", "batchnorm2d": "BN",
               "batchnorm3d": "BN", "layernormalization": "LN", "layernorm": "LN",
               "groupnormalization": "GN", "groupnorm": "GN", "instancenormalization": "IN",
               "instancenorm2d": "IN", "rmsnorm": "RMSNorm", "rmsnormalization": "RMSNorm"}


def block_text(node: Node) -> str:
    """What a block is: its class (``Bottleneck ×5`` for a rolled run), or for a stage of
    blocks collapsed into one (``attrs["blocks"]``) their class and count,
    ``ConvNextLayer ×3`` (``6 blocks`` when they have no class)."""
    inner = node.attrs.get("blocks")
    if isinstance(inner, (list, tuple)) and len(inner) == 2 and isinstance(inner[0], int):
        return f"{inner[1]} ×{inner[0]}" if inner[1] else f"{inner[0]} blocks"
    repeat = node.attrs.get("repeat")
    if isinstance(repeat, int) and repeat > 1:
        return f"{node.op_type} ×{repeat}"
    return node.op_type


def fold_suffix(node: Node) -> str:
    """``+BN+relu`` for a node that absorbed a BatchNorm and a ReLU; empty when not folded."""
    parts = []
    for f in folded_layers(node):
        kind, op = f.get("kind", ""), str(f.get("op_type", ""))
        if kind == "norm":
            parts.append(_NORM_SHORT.get(op.lower(), op or "norm"))
        elif kind in ("activation", "softmax"):
            attrs = f.get("attrs")
            act = attrs.get("activation") if isinstance(attrs, dict) else None
            parts.append(str(act if isinstance(act, str) and act else op).lower())
        elif kind == "add" and isinstance(f.get("params"), int) and f["params"] > 0:
            parts.append("bias")
        else:
            parts.append(op or kind)
    return "".join(f"+{p}" for p in parts)


def key_attrs(node: Node) -> str:
    """The few attributes a reader wants on the box: ``3×3/2, 64`` for a strided conv
    (``3×3/2, 64 +BN+relu`` when a BatchNorm and a ReLU were folded into it).

    A fused activation (Keras' ``Dense(64, activation="relu")``) follows: ``64, relu``.
    """
    text = _key_attrs(node)
    suffix = fold_suffix(node)
    fused = node.attrs.get("activation")
    if isinstance(fused, str) and fused not in ("", "linear"):
        if node.kind in ("conv", "conv_transpose", "dense") and \
                fused.lower() not in suffix.lower().split("+"):
            text = f"{text}, {fused}" if text else fused
        elif node.kind in ("activation", "softmax") and \
                fused.replace("_", "").lower() not in node.op_type.lower():
            text = fused  # Keras' generic Activation("relu") layer
    return f"{text} {suffix}".strip() if suffix else text


def _key_attrs(node: Node) -> str:
    a = node.attrs
    if node.kind in ("conv", "conv_transpose"):
        text = _grid(a.get("kernel_size")) + _stride(a.get("stride"))
        extra = []
        if a.get("out_channels") is not None:
            extra.append(str(a["out_channels"]))
        groups = a.get("groups")
        if isinstance(groups, int) and groups > 1:
            extra.append("dw" if groups == a.get("in_channels") else f"g{groups}")
        return ", ".join(p for p in [text, *extra] if p)
    if node.kind == "pool":
        return _grid(a.get("kernel_size")) + _stride(a.get("stride"))
    if node.kind in ("dense", "recurrent") and a.get("units") is not None:
        return str(a["units"])
    if node.kind == "embedding" and a.get("num_embeddings") is not None:
        return f"{a['num_embeddings']}→{a.get('embedding_dim', '?')}"
    if node.kind == "attention" and a.get("num_heads") is not None:
        return f"{a['num_heads']} heads"
    repeat = a.get("repeat", 1)
    if node.kind == "block" and isinstance(repeat, int) and repeat > 1:
        return f"×{repeat}"
    if a.get("activation") and node.kind != "activation" and not a.get("folded"):
        return str(a["activation"])
    return ""


def output_spec(node: Node) -> TensorSpec | None:
    return node.outputs[0] if node.outputs else (node.inputs[0] if node.inputs else None)


def shape_text(spec: TensorSpec, batch: bool = True) -> str:
    """A tensor's shape as a label writes it: ``1×64×56×56``, and with its layout when the
    channels come last (``1×56×56×96 NHWC``), which the dims alone would not tell a reader
    used to channels-first tensors; empty when the rank is unknown. ``batch=False`` leaves
    the batch axis out, as a paper does (``64×56×56``, ``56×56×96 HWC``)."""
    text = spec.format_shape()
    layout = spec.layout
    if not batch and spec.shape is not None and len(spec.shape) >= 2:
        text = TensorSpec(spec.shape[1:]).format_shape()
        layout = layout[1:] if layout and len(layout) == len(spec.shape) else None
    if text and layout and len(layout) >= 3 and layout.endswith("C") and "H" in layout:
        return f"{text} {layout}"
    return text


def _calls(call: object, calls: object) -> tuple[int, int] | None:
    if isinstance(call, int) and isinstance(calls, int) and 0 < call <= calls and calls > 1:
        return call, calls
    return None


def shared_note(item: Node | Group, graph: Graph | None = None) -> str:
    """``shared, call 2 of 2`` for a call of a module applied several times (a group, or a
    node or block with ``attrs["call"]``/``attrs["calls"]``); empty otherwise, and for a
    node inside a group of ``graph`` that is such a call (its title says it already)."""
    if isinstance(item, Group):
        found = _calls(item.call, item.calls)
    else:
        found = _calls(item.attrs.get("call"), item.attrs.get("calls"))
        if found and graph is not None and any(
                (g := graph.groups.get(item.group[:d])) is not None and g.calls > 1
                for d in range(1, len(item.group) + 1)):
            return ""
    return f"shared, call {found[0]} of {found[1]}" if found else ""


def shared_tag(node: Node) -> str:
    """The short form of :func:`shared_note` a figure's caption takes: ``shared 2/2``."""
    found = _calls(node.attrs.get("call"), node.attrs.get("calls"))
    return f"shared {found[0]}/{found[1]}" if found else ""


def display_name(node: Node, graph: Graph | None = None) -> str:
    """The node's name without the scope prefix its enclosing group already shows.

    ``/layer1/layer1.0/Add`` -> ``Add``; ``layer1.0.conv1`` inside ``layer1.0`` -> ``conv1``;
    ``encoder.layer.0.attention.self.matmul`` inside ``encoder.layer.0.attention.self`` ->
    ``matmul``; a rolled ``h.1–h.5`` block inside ``transformer`` likewise. A bare index
    says nothing on its own: ``features.0`` and ``features.18.0`` stay whole.
    """
    name = node.name
    if name.startswith("/"):
        parts = [p for p in name.split("/") if p]
        return parts[-1] if parts else name
    group = graph.groups.get(node.group) if graph is not None and node.group else None
    prefix = group.display_name + "." if group is not None else ""
    if prefix in ("", "."):
        return name
    # A rolled run's name is 'first–last': each end is shortened alike, or neither is.
    parts = name.split("–") if node.kind == "block" else [name]
    rests = [p[len(prefix):] for p in parts if p.startswith(prefix)]
    if len(rests) == len(parts) and all(_says_something(r) for r in rests):
        return "–".join(rests)
    return name


def _says_something(rest: str) -> bool:
    """A name part with a letter in it: ``conv1``, ``attn``; not ``0`` or ``18.0``."""
    return any(c.isalpha() for c in rest)


def group_title(graph: Graph, path: tuple[str, ...]) -> str:
    """A cluster's title: ``layer1.0 · Bottleneck``, with ``(shared, call 2 of 2)`` for a
    call of a module applied several times."""
    group = graph.groups.get(path)
    if group is None:
        return path[-1] if path else ""
    title = group.display_name
    if group.class_name and group.class_name != group.display_name:
        title = f"{group.display_name} · {group.class_name}"
    note = shared_note(group)
    return f"{title} ({note})" if note else title
