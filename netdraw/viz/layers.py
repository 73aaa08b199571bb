"""Which node a layer name means, and which layer a class-activation map uses.

**A name means what the diagram's box of that name shows**, in every command and every
framework. The default diagram folds Conv→BN→ReLU (and Dense→act, …) into one box named
after its first member; that box shows the output of its last member. So ``block3.0``
(Conv+BN+ReLU in a PyTorch ``nn.Sequential``) means the ReLU's output in ``netdraw cam
--layer``, ``netdraw activations --layer``, ``netdraw filters --layer``,
``Activations["block3.0"]`` and the thumbnail the diagram draws. A name is looked up as

1. a box of the folded view, by id or name (its output: :func:`representative`);
2. a node id; a node name (a module called several times: its last call); the framework's
   module path (ONNX node names such as ``/block1/block1.0/Conv`` and the layer names of
   Keras, where ``block1_conv`` and ``block1.conv`` are the same name);
3. a group (``layer3``): its last node whose output leaves the group.

The raw output of a member inside a box (the convolution before its BatchNorm) is
``Activations.values[node_id]``, or a name looked up with ``fold=False``.

:func:`choose_layer` picks a CAM's layer from the graph alone, before any backward pass:
the last node whose output is a spatial grid larger than 1×1 (or tokens that fold into a
square grid) and whose grid reaches the output other than through a slice (a ViT's final
norm reaches the classifier only through the class token).
"""

from __future__ import annotations

import difflib
import weakref
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node
from netdraw.viz.activations import CHANNELS_FIRST, fold_tokens, guess_axes, representative

#: Kinds whose 4-D outputs are not image grids (attention heads: batch, heads, tokens, …).
_NOT_A_GRID = ("reshape", "transpose", "matmul", "attention", "softmax", "slice", "flatten",
               "embedding", "constant")
#: Kinds through which a grid's gradient reaches only part of it (one token, one row).
_SELECTING = ("slice", "gather")
#: Kinds whose output at one position depends on other positions of their input.
_MIXING = ("attention", "matmul", "conv", "conv_transpose", "pool", "global_pool", "reduce",
           "upsample")
_PASS_THROUGH = ("flatten", "reshape", "dropout", "identity", "cast", "squeeze")


def grid_of(node: Node, batch: int, layout: str) -> tuple[int, int] | None:
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


def no_grid_error(graph: Graph, nid: str) -> NetdrawError:
    """The one message for a layer without a spatial grid, whatever the method."""
    node = graph.nodes[nid]
    shape = "×".join("?" if not isinstance(d, int) else str(d)
                     for d in (node.outputs[0].shape[1:] if node.outputs
                               and node.outputs[0].shape else ()))
    return NetdrawError(f"layer {node.name!r} has no spatial output larger than 1×1 "
                        f"(its output is {shape or 'not a tensor'}); choose an earlier layer "
                        "or --layer auto")


def _input_grid(node: Node, layout: str) -> tuple[int, int] | None:
    shape = node.outputs[0].shape if node.outputs else None
    if not shape or len(shape) != 4 or any(not isinstance(d, int) for d in shape[1:]):
        return None
    return (shape[2], shape[3]) if layout == CHANNELS_FIRST else (shape[1], shape[2])


def _edges(graph: Graph) -> tuple[dict[str, list[str]], dict[str, list[str]]]:
    succ: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    pred: dict[str, list[str]] = {nid: [] for nid in graph.nodes}
    for e in graph.edges:
        succ[e.src].append(e.dst)
        pred[e.dst].append(e.src)
    return succ, pred


def _ancestors_of_outputs(graph: Graph, pred: dict[str, list[str]]) -> set[str]:
    seen: set[str] = set()
    stack = list(graph.outputs)
    while stack:
        nid = stack.pop()
        if nid not in seen:
            seen.add(nid)
            stack.extend(pred[nid])
    return seen


def spatial_nodes(graph: Graph, batch: int, layout: str) -> list[str]:
    """Node ids with a spatial output grid larger than 1×1 that feed an output, in order;
    with an image input, only grids of about the image's aspect ratio (a (batch, tokens,
    heads, features) tensor is no grid)."""
    _, pred = _edges(graph)
    useful = _ancestors_of_outputs(graph, pred)
    aspect = None
    for nid in graph.inputs:
        grid = _input_grid(graph.nodes[nid], layout)
        if grid is not None:
            aspect = grid[0] / grid[1]
            break
    out = []
    for nid, node in graph.nodes.items():
        grid = grid_of(node, batch, layout) if nid in useful else None
        if grid is None:
            continue
        if aspect is not None and not 0.5 <= (grid[0] / grid[1]) / aspect <= 2:
            continue
        out.append(nid)
    return out


def reaches_output_whole(graph: Graph, nid: str, succ: dict[str, list[str]]) -> bool:
    """Whether node ``nid``'s output reaches a graph output other than through a slice
    that keeps part of it: a slice or gather counts once an op that mixes positions
    (attention, a matmul, a convolution, a pooling) lies between, since the gradient then
    reaches every position again."""
    outputs = set(graph.outputs)
    seen: set[tuple[str, bool]] = set()
    stack = [(nid, False)]
    while stack:
        cur, mixed = stack.pop()
        if cur in outputs:
            return True
        if (cur, mixed) in seen:
            continue
        seen.add((cur, mixed))
        for nxt in succ[cur]:
            kind = graph.nodes[nxt].kind
            if kind in _SELECTING and not mixed:
                continue
            stack.append((nxt, mixed or kind in _MIXING))
    return False


def choose_layer(graph: Graph, batch: int, layout: str) -> str:
    """The layer a CAM maps with ``layer="auto"``, from the graph alone (module doc)."""
    found = spatial_nodes(graph, batch, layout)
    if not found:
        raise NetdrawError(f"{graph.name} has no layer with a spatial output larger than "
                           "1×1, so there is nothing to map; CAM needs a convolutional or "
                           "vision-transformer model")
    succ, _ = _edges(graph)
    for nid in reversed(found):
        if reaches_output_whole(graph, nid, succ):
            return nid
    return found[-1]


def gap_head(graph: Graph) -> tuple[str, str] | None:
    """``(feature node, dense node)`` when the network ends in global average pooling and
    one linear layer (what ``cam`` needs); None otherwise."""
    succ, pred = _edges(graph)
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


# -- names -------------------------------------------------------------------------------


_MEMO: dict[int, tuple[Any, dict[Any, Any]]] = {}


def memo(graph: Graph, key: Any, make: Any) -> Any:
    """``make()``, kept per graph object and ``key`` while the graph lives and keeps its
    size (layer choices and the default fold are asked for on every call)."""
    size = len(graph.nodes) + len(graph.edges)
    ident = id(graph)
    kept = _MEMO.get(ident)
    if kept is None or kept[0]() is not graph:
        ref = weakref.ref(graph, lambda _r: _MEMO.pop(ident, None))
        kept = _MEMO[ident] = (ref, {})
    table = kept[1]
    entry = table.get(key)
    if entry is None or entry[0] != size:
        entry = table[key] = (size, make())
    return entry[1]


def _folded(graph: Graph) -> Graph:
    """The default fold of ``graph``."""
    from netdraw.passes.fold import fold

    return memo(graph, "fold", lambda: fold(graph))


def boxes(graph: Graph) -> dict[str, str]:
    """Box id and name -> the node id whose output the box shows, for every box of the
    default fold that holds more than one node (Conv+BN+ReLU -> the ReLU)."""
    out: dict[str, str] = {}
    for node in _folded(graph).nodes.values():
        source = representative(node)
        if source != node.id and source in graph.nodes:
            out.setdefault(node.id, source)
            out.setdefault(node.name, source)
    return out


def box_of(graph: Graph, nid: str) -> Node | None:
    """The folded box whose output is node ``nid``'s (None when ``nid`` is in no box)."""
    for node in _folded(graph).nodes.values():
        if representative(node) == nid and node.id != nid:
            return node
    return None


def display_name(graph: Graph, nid: str) -> str:
    """The name the diagram shows for node ``nid``'s output: its box's name when a box
    ends with it (``block3.0`` for ``block3.2``), else its own name."""
    box = box_of(graph, nid)
    return box.name if box is not None else graph.nodes[nid].name


def _canonical(name: str) -> str:
    return name.strip("/").replace("/", ".").replace("_", ".")


def find_layer(graph: Graph, name: str, fold: bool = True) -> str | None:
    """The node id ``name`` means (module doc), or None."""
    if fold:
        hit = boxes(graph).get(name)
        if hit is not None:
            return hit
    if name in graph.nodes:
        return name
    hits = [nid for nid, n in graph.nodes.items() if n.name == name]
    if hits:
        return hits[-1]
    for path, group in graph.groups.items():
        if name in (group.display_name, "/".join(path), ".".join(path), path[-1]):
            members = [nid for nid, n in graph.nodes.items() if n.group[: len(path)] == path]
            leaving = [e.src for e in graph.edges if e.src in members and e.dst not in members]
            if leaving:
                return max(leaving, key=list(graph.nodes).index)
    wanted = _canonical(name)
    if fold:
        hit = next((v for k, v in boxes(graph).items() if _canonical(k) == wanted), None)
        if hit is not None:
            return hit
    hits = [nid for nid, n in graph.nodes.items()
            if wanted in (_canonical(n.name), _canonical(nid))]
    return hits[-1] if hits else None


def resolve_layer(graph: Graph, name: str, fold: bool = True) -> str:
    """A node id from a user's ``--layer`` (module doc); a clear error naming close names
    when there is none."""
    found = find_layer(graph, name, fold)
    if found is not None:
        return found
    names = sorted({n.name for n in graph.nodes.values()} | set(graph.nodes)
                   | {g.display_name for g in graph.groups.values()})
    close = difflib.get_close_matches(name, names, n=5, cutoff=0.5)
    hint = f"close names: {', '.join(close)}" if close else \
        f"layers are e.g. {', '.join(list(n.name for n in graph.nodes.values())[1:6])}"
    raise NetdrawError(f"--layer {name!r} names no layer of {graph.name}; {hint}")
