"""Class-activation maps: where in the image the evidence for a class lies.

Methods (``method=``), on the output ``A`` (channels ``k``) of one layer and the score
``y`` of class ``c`` before softmax:

``gradcam``   (Selvaraju et al. 2017) ``ReLU(Σ_k w_k A_k)``, ``w_k`` the spatial mean of
              ``∂y/∂A_k``; one forward and one backward.
``gradcam++`` (Chattopadhyay et al. 2018) ``w_k = Σ_ij α_kij ReLU(∂y/∂A_kij)`` with
              ``α = g² / (2 g² + Σ_ab A_kab g³)`` (``g = ∂y/∂A``), then as Grad-CAM.
``layercam``  (Jiang et al. 2021) ``ReLU(Σ_k ReLU(∂y/∂A_k) ⊙ A_k)``, element-wise.
``scorecam``  (Wang et al. 2020) forward only: each channel, scaled to 0-1 and upsampled,
              masks the input; ``w = softmax_k(y(x ⊙ M_k) - y(x))``; ``ReLU(Σ_k w_k A_k)``.
``cam``       (Zhou et al. 2016) forward only, for networks ending in global average
              pooling and one linear layer: ``Σ_k W_ck A_k`` with that layer's weights.

Maps are min-max normalised to 0-1 per example and upsampled (bilinear) to the input size.
``layer="auto"`` picks by *shape*: the last node whose output still has a spatial grid
larger than 1×1 (a type search picks a MobileNetV3's 1×1 logits conv); tokens whose count,
less up to 8 leading class/register tokens, is a square are folded into that grid (vision
transformers need no reshape code). Gradient methods then take, among the last such nodes,
the last one whose gradient reaches the grid (a ViT's final norm passes gradient only to the
class token). ``cam`` picks the input of the global pooling. ONNX models have no
gradients here: ``cam`` and ``scorecam`` only.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node
from netdraw.viz.activations import CHANNELS_FIRST, fold_tokens, guess_axes

METHODS = ("gradcam", "gradcam++", "layercam", "scorecam", "cam")
GRADIENT_METHODS = ("gradcam", "gradcam++", "layercam")
#: How many of the last spatial nodes a gradient method looks at with ``layer="auto"``.
AUTO_CANDIDATES = 48
_PASS_THROUGH = ("flatten", "reshape", "dropout", "identity", "cast", "squeeze")
#: Kinds whose 4-D outputs are not image grids (attention heads: batch, heads, tokens, …).
_NOT_A_GRID = ("reshape", "transpose", "matmul", "attention", "softmax", "slice", "flatten",
               "embedding", "constant")


@dataclass
class CamResult:
    """The maps of one CAM run, batch first."""

    heatmaps: np.ndarray  #: (N, H, W) in 0-1 at the input's size
    maps: np.ndarray  #: (N, h, w) raw (before normalisation) at the layer's grid
    layer: str  #: the node id the map was computed on
    layer_name: str
    method: str
    classes: list[int]
    scores: list[float]  #: softmax probability of each chosen class
    logits: np.ndarray
    graph: Graph
    notes: list[str] = field(default_factory=list)


# -- shapes and layers ---------------------------------------------------------------


def _grid(node: Node, batch: int, layout: str) -> tuple[int, int] | None:
    """The spatial grid (h, w) of a node's output when larger than 1×1, else None."""
    if not node.outputs or node.kind in ("input", "output", *_NOT_A_GRID):
        return None
    shape = node.outputs[0].shape
    if not shape or any(not isinstance(d, int) for d in shape[1:]):
        return None
    shape = (batch, *shape[1:])
    axes = guess_axes(tuple(shape), batch, layout, node.kind, node.op_type)
    if axes in ("NCHW", "NHWC"):
        h, w = (shape[2], shape[3]) if axes == "NCHW" else (shape[1], shape[2])
    elif axes == "NTD":
        folded = fold_tokens(shape[1])
        if folded is None:
            return None
        h, w = folded[1:]
    else:
        return None
    return (h, w) if h * w > 1 else None


def spatial_nodes(graph: Graph, batch: int, layout: str) -> list[str]:
    """Node ids with a spatial output grid larger than 1×1 that feed an output, in order;
    with an image input, only grids of about the image's aspect ratio (a (batch, tokens,
    heads, features) tensor is no grid)."""
    useful = _ancestors_of_outputs(graph)
    aspect = None
    for nid in graph.inputs:
        grid = _grid_of_input(graph.nodes[nid], batch, layout)
        if grid is not None:
            aspect = grid[0] / grid[1]
            break
    out = []
    for nid, node in graph.nodes.items():
        grid = _grid(node, batch, layout) if nid in useful else None
        if grid is None:
            continue
        if aspect is not None and not 0.5 <= (grid[0] / grid[1]) / aspect <= 2:
            continue
        out.append(nid)
    return out


def _grid_of_input(node: Node, batch: int, layout: str) -> tuple[int, int] | None:
    shape = node.outputs[0].shape if node.outputs else None
    if not shape or len(shape) != 4 or any(not isinstance(d, int) for d in shape[1:]):
        return None
    return (shape[2], shape[3]) if layout == CHANNELS_FIRST else (shape[1], shape[2])


def _ancestors_of_outputs(graph: Graph) -> set[str]:
    preds: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        preds[e.dst].append(e.src)
    seen: set[str] = set()
    stack = list(graph.outputs)
    while stack:
        nid = stack.pop()
        if nid not in seen:
            seen.add(nid)
            stack.extend(preds[nid])
    return seen


def resolve_layer(graph: Graph, name: str) -> str:
    """A node id from a user's ``--layer``: an id, a node name (a module called several
    times: its last call) or a group name (its last node that feeds the rest)."""
    if name in graph.nodes:
        return name
    hits = [nid for nid, n in graph.nodes.items() if n.name == name]
    if hits:
        return hits[-1]
    for path, group in graph.groups.items():
        if name in (group.display_name, "/".join(path), path[-1]):
            members = [nid for nid, n in graph.nodes.items() if n.group[: len(path)] == path]
            leaving = [e.src for e in graph.edges if e.src in members and e.dst not in members]
            if leaving:
                return max(leaving, key=list(graph.nodes).index)
    names = sorted({n.name for n in graph.nodes.values()} | set(graph.nodes)
                   | {g.display_name for g in graph.groups.values()})
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f"close names: {', '.join(close)}" if close else \
        f"layers are e.g. {', '.join(list(n.name for n in graph.nodes.values())[1:6])}"
    raise NetdrawError(f"--layer {name!r} names no layer of {graph.name}; {hint}")


def gap_head(graph: Graph) -> tuple[str, str] | None:
    """``(feature node, dense node)`` when the network ends in global average pooling and
    one linear layer (what ``cam`` needs); None otherwise."""
    succ: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    pred: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        succ[e.src].append(e.dst)
        pred[e.dst].append(e.src)
    for nid, node in graph.nodes.items():
        if node.kind != "global_pool" and not (
                node.kind == "reduce" and "mean" in node.op_type.lower()):
            continue
        if len(pred[nid]) != 1:
            continue
        cur = nid
        while len(succ[cur]) == 1 and graph.nodes[succ[cur][0]].kind in _PASS_THROUGH:
            cur = succ[cur][0]
        if len(succ[cur]) == 1 and graph.nodes[succ[cur][0]].kind == "dense":
            dense = succ[cur][0]
            if all(graph.nodes[s].kind in ("output", "softmax") or s in graph.outputs
                   for s in succ[dense]):
                return pred[nid][0], dense
    return None


# -- the methods ---------------------------------------------------------------------


def channels_first(x: np.ndarray, axes: str) -> np.ndarray:
    """(N, C, h, w) from a node output with ``axes`` (tokens folded)."""
    if axes == "NCHW":
        return x
    if axes == "NHWC":
        return np.moveaxis(x, -1, 1)
    if axes == "NTD":
        extra, h, w = fold_tokens(x.shape[1])  # type: ignore[misc]
        return np.moveaxis(x[:, extra:], -1, 1).reshape(x.shape[0], x.shape[2], h, w)
    raise NetdrawError(f"an output with axes {axes} has no spatial grid")


def weights_gradcam(a: np.ndarray, g: np.ndarray) -> np.ndarray:
    return g.mean(axis=(2, 3))


def weights_gradcampp(a: np.ndarray, g: np.ndarray, eps: float = 1e-8) -> np.ndarray:
    g = g.astype(np.float64)
    g2, g3 = g * g, g * g * g
    denom = 2 * g2 + a.sum(axis=(2, 3), keepdims=True) * g3
    alpha = np.where(g2 > 0, g2 / np.where(denom != 0, denom, eps), 0.0)
    return (alpha * np.maximum(g, 0)).sum(axis=(2, 3))


def combine(weights: np.ndarray, a: np.ndarray, relu: bool = True) -> np.ndarray:
    """Σ_k w_k A_k per example: (N, C) × (N, C, h, w) -> (N, h, w)."""
    maps = np.einsum("nc,nchw->nhw", weights.astype(np.float64), a.astype(np.float64))
    return np.maximum(maps, 0) if relu else maps


def normalise(maps: np.ndarray) -> np.ndarray:
    """Min-max to 0-1 per example (a constant map becomes zeros)."""
    low = maps.min(axis=(1, 2), keepdims=True)
    span = maps.max(axis=(1, 2), keepdims=True) - low
    return np.where(span > 0, (maps - low) / np.where(span > 0, span, 1), 0.0)


def upsample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Bilinear (half-pixel centres, as ``align_corners=False``) to ``size`` (H, W)."""
    n, h, w = maps.shape
    H, W = size

    def axis(src: int, dst: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        pos = np.clip((np.arange(dst) + 0.5) * src / dst - 0.5, 0, src - 1)
        lo = np.floor(pos).astype(int)
        hi = np.minimum(lo + 1, src - 1)
        return lo, hi, (pos - lo)

    y0, y1, fy = axis(h, H)
    x0, x1, fx = axis(w, W)
    top = maps[:, y0][:, :, x0] * (1 - fx) + maps[:, y0][:, :, x1] * fx
    bottom = maps[:, y1][:, :, x0] * (1 - fx) + maps[:, y1][:, :, x1] * fx
    return top * (1 - fy)[None, :, None] + bottom * fy[None, :, None]


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits.reshape(logits.shape[0], -1).astype(np.float64)
    z = np.exp(z - z.max(axis=1, keepdims=True))
    return z / z.sum(axis=1, keepdims=True)


# -- running -------------------------------------------------------------------------


def _pick_classes(class_index: int | Sequence[int] | None):
    def pick(logits: np.ndarray) -> list[int]:
        flat = logits.reshape(logits.shape[0], -1)
        count = flat.shape[1]
        if class_index is None:
            return [int(i) for i in flat.argmax(axis=1)]
        wanted = [class_index] * flat.shape[0] if isinstance(class_index, int) \
            else list(class_index)
        for c in wanted:
            if not 0 <= c < count:
                raise NetdrawError(f"--class {c} is out of range: the model has {count} "
                                   f"classes (0-{count - 1})")
        if len(wanted) != flat.shape[0]:
            raise NetdrawError(f"{len(wanted)} classes for {flat.shape[0]} inputs")
        return [int(c) for c in wanted]

    return pick


def run_cam(runtime: Any, inputs: Sequence[np.ndarray], class_index: Any = None,
            layer: str = "auto", method: str = "gradcam", graph: Graph | None = None,
            scorecam_batch: int = 32) -> CamResult:
    """The CAM of ``method`` on a runtime (see :mod:`netdraw.viz.api`)."""
    if method not in METHODS:
        raise NetdrawError(f"unknown CAM method {method!r}; use one of {', '.join(METHODS)}")
    batch = int(np.asarray(inputs[0]).shape[0])
    layout = runtime.layout
    size = _input_size(inputs[0], layout)
    pick_classes = _pick_classes(class_index)
    notes: list[str] = []
    if method in GRADIENT_METHODS:
        if not runtime.gradients_supported:
            raise NetdrawError(f"{method} needs gradients, which {runtime.framework} models "
                               "do not give here; use --method cam or --method scorecam")

        def pick_nodes(g: Graph) -> list[str]:
            if layer != "auto":
                return [resolve_layer(g, layer)]
            found = spatial_nodes(g, batch, layout)
            if not found:
                raise NetdrawError(f"{g.name} has no layer with a spatial output larger "
                                   "than 1×1, so there is nothing to map; CAM needs a "
                                   "convolutional or vision-transformer model")
            return found[::-1][:AUTO_CANDIDATES]

        result = runtime.gradients(inputs, pick_nodes, pick_classes)
        g = result.graph
        chosen = _first_reaching(result, batch, layout) if layer == "auto" else \
            (result.nodes[0] if result.nodes else None)
        if chosen is None:
            raise NetdrawError("the class score does not depend on any spatial layer")
        axes = guess_axes(result.activations[chosen].shape, batch, layout,
                          g.nodes[chosen].kind, g.nodes[chosen].op_type)
        a = channels_first(result.activations[chosen], axes)
        grad = channels_first(result.gradients[chosen], axes)
        if method == "gradcam":
            maps = combine(weights_gradcam(a, grad), a)
        elif method == "gradcam++":
            maps = combine(weights_gradcampp(a, grad), a)
        else:
            maps = np.maximum((np.maximum(grad, 0) * a).sum(axis=1), 0).astype(np.float64)
        logits, classes = result.logits, result.classes
    else:
        acts = runtime.capture(inputs)
        g = acts.graph
        if graph is not None and layer != "auto" and layer in graph.nodes:
            from netdraw.viz.activations import representative

            layer = representative(graph.nodes[layer])
        head = gap_head(g)
        if method == "cam":
            if head is None:
                raise NetdrawError(f"cam needs a network that ends in global average pooling "
                                   f"and one linear layer, which {g.name} does not; use "
                                   "--method gradcam (or scorecam)")
            chosen = head[0] if layer == "auto" else resolve_layer(g, layer)
            if chosen != head[0]:
                raise NetdrawError(f"cam maps the input of the global pooling "
                                   f"({g.nodes[head[0]].name}); drop --layer or use "
                                   "--method gradcam for other layers")
        else:
            chosen = resolve_layer(g, layer) if layer != "auto" else (
                spatial_nodes(g, batch, layout) or [None])[-1]
            if chosen is None:
                raise NetdrawError(f"{g.name} has no layer with a spatial output larger "
                                   "than 1×1, so there is nothing to map")
        if _grid(g.nodes[chosen], batch, layout) is None:
            raise NetdrawError(f"layer {g.nodes[chosen].name!r} has no spatial output larger "
                               "than 1×1; choose an earlier layer or --layer auto")
        logits = acts[g.outputs[0]] if g.outputs and g.outputs[0] in acts \
            else runtime.predict(inputs)
        classes = pick_classes(logits)
        a = channels_first(acts[chosen], acts.axes[chosen]).astype(np.float64)
        if method == "cam":
            weight = runtime.weight(g, head[1])
            if weight is None or weight.ndim != 2 or weight.shape[1] != a.shape[1]:
                raise NetdrawError(f"cannot read the weights of {g.nodes[head[1]].name} "
                                   f"matching {a.shape[1]} channels")
            maps = combine(weight[classes], a, relu=False)
        else:
            maps = _scorecam(runtime, inputs, a, classes, logits, size, layout,
                             scorecam_batch)
    if _grid(g.nodes[chosen], batch, layout) is None:
        raise NetdrawError(f"layer {g.nodes[chosen].name!r} has no spatial output larger "
                           "than 1×1; choose an earlier layer or --layer auto")
    probabilities = softmax(logits)
    scores = [float(probabilities[i, c]) for i, c in enumerate(classes)]
    heat = upsample(normalise(maps), size) if size else normalise(maps)
    return CamResult(heat.astype(np.float32), maps.astype(np.float32), chosen,
                     g.nodes[chosen].name, method, classes, scores, logits, g, notes)


def _first_reaching(result: Any, batch: int, layout: str) -> str | None:
    """The latest candidate whose gradient is non-zero somewhere on its grid."""
    for nid in result.nodes:
        node = result.graph.nodes[nid]
        axes = guess_axes(result.gradients[nid].shape, batch, layout, node.kind,
                          node.op_type)
        try:
            grad = channels_first(result.gradients[nid], axes)
        except (NetdrawError, TypeError):
            continue
        if np.any(grad != 0):
            return nid
    return result.nodes[0] if result.nodes else None


def _input_size(x: np.ndarray, layout: str) -> tuple[int, int] | None:
    x = np.asarray(x)
    if x.ndim != 4:
        return None
    return (x.shape[2], x.shape[3]) if layout == CHANNELS_FIRST else (x.shape[1], x.shape[2])


def _scorecam(runtime: Any, inputs: Sequence[np.ndarray], a: np.ndarray, classes: list[int],
              logits: np.ndarray, size: tuple[int, int] | None, layout: str,
              chunk: int) -> np.ndarray:
    if size is None:
        raise NetdrawError("scorecam masks an image input; this model's input is not one")
    x = np.asarray(inputs[0], dtype=np.float32)
    n, c = a.shape[:2]
    masks = upsample(normalise(a.reshape(n * c, *a.shape[2:])), size).reshape(n, c, *size)
    base = logits.reshape(n, -1)[np.arange(n), classes]
    weights = np.zeros((n, c))
    for i in range(n):
        for start in range(0, c, chunk):
            m = masks[i, start:start + chunk].astype(np.float32)
            if layout == CHANNELS_FIRST:
                masked = x[i][None] * m[:, None]
            else:
                masked = x[i][None] * m[:, :, :, None]
            out = runtime.predict([masked]).reshape(len(m), -1)
            weights[i, start:start + chunk] = out[:, classes[i]] - base[i]
    weights = np.exp(weights - weights.max(axis=1, keepdims=True))
    weights /= weights.sum(axis=1, keepdims=True)
    return combine(weights, a)
