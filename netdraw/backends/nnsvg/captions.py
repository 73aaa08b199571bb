"""What an NN-SVG figure writes about a layer: its short name, the op that made it and its
tooltip, and the legend names of kinds.

Which nodes become layers and how their shapes are read is the shared figure's business
(:mod:`netdraw.figure.items`, policy ``TENSORS``): a figure shows *tensors*, not
operations, so activations, normalisations, softmax and reshapes are not layers.
"""

from __future__ import annotations

from typing import Any

from netdraw.backends.nnsvg.canvas import clean
from netdraw.describe import KIND_NAMES as _KIND_NAMES
from netdraw.describe import block_text, display_name, format_count, shared_tag
from netdraw.ir import Graph, Node

#: Human names of kinds, for legends: the one vocabulary of every style and the summary.
KIND_NAMES = _KIND_NAMES


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
        text = (block_text(node) if a.get("blocks") else op) or "Block"
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


def tooltip(node: Node) -> str:
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


def layer_name(node: Node, graph: Graph, limit: int = 200) -> str:
    """The short name a figure shows, in at most ``limit`` characters: ``conv1``;
    ``features.0`` rather than ``0``; ``branch4`` rather than ``MaxPool`` for
    ``/inception3a/branch4/MaxPool``; ``encoder (shared 2/2)`` for the second call of a
    module applied twice (the tag is kept whole when the name is shortened)."""
    tag = shared_tag(node)
    tag = f" ({tag})" if tag else ""
    return clean(_base_name(node, graph), max(8, limit - len(tag))) + tag


def _base_name(node: Node, graph: Graph) -> str:
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
