"""Hide plumbing: pass-through layers, shape arithmetic, weight preparation, bias adds.

What is hidden (``--keep-all`` shows it all):

- pass-through nodes (kinds ``dropout``, ``identity``, ``cast``): removed, their inputs
  wired straight to their consumers;
- shape arithmetic: ``Shape``/``Size`` nodes and everything computed only from shapes and
  constants (``Gather`` of a shape, ``Unsqueeze`` of a constant, ``Concat`` of dims, …);
  they do not lie on the data path from a graph input;
- weight preparation (e.g. ``Transpose`` of a weight in a legacy ONNX export): off the data
  path too; its parameters move to the layer that consumes it, and a ``matmul`` that gains
  weights this way becomes a ``dense`` layer;
- bias adds: an ``Add`` of a bias right after a dense or conv layer, or a matmul with a
  weight (how ONNX spells ``Linear``; ``x @ w + b`` written by hand), is merged into that
  layer, parameters included; the layer's ``attrs["output_node"]`` then names the add,
  whose output it now stands for. A bias has
  one number per output channel: a constant of another size added after a layer (a
  position table) is not one, and a matrix product of two activations (attention scores,
  which a mask is added to) has no bias at all.

No parameter is ever lost: the total is the same before and after.
"""

from __future__ import annotations

from netdraw.ir import Edge, Graph, Node, channels_and_spatial, spatial_layout
from netdraw.passes._graph import clone_node, rebuild, shared_copy

PASS_THROUGH = ("dropout", "identity", "cast")
#: Op types (lower case) whose output describes a tensor's shape, not its data.
SHAPE_OPS = frozenset({"shape", "size", "sym_size", "sym_size.int", "getattr", "sym_numel"})
_BIAS_TARGETS = ("dense", "conv", "conv_transpose")


def prune(graph: Graph) -> Graph:
    """A copy of ``graph`` without plumbing; parameter totals are unchanged.

    O(N + E·F) where F is the largest fan-in or fan-out of a removed node (edges are
    rewired through each removed pass-through node once).
    """
    nodes = {nid: shared_copy(n) for nid, n in graph.nodes.items()}
    preds: dict[str, list[Edge]] = {nid: [] for nid in nodes}
    succs: dict[str, list[Edge]] = {nid: [] for nid in nodes}
    for e in graph.edges:
        edge = Edge(e.src, e.dst, e.tensor)
        preds[e.dst].append(edge)
        succs[e.src].append(edge)
    order = list(nodes)
    position = {nid: i for i, nid in enumerate(order)}
    removed: set[str] = set()

    def drop(nid: str, rewire: bool) -> None:
        """Remove a node; with ``rewire`` its inputs feed its consumers directly."""
        ins, outs = preds.pop(nid), succs.pop(nid)
        for e in ins:
            succs[e.src].remove(e)
        for e in outs:
            preds[e.dst].remove(e)
        if rewire:
            for ei in ins:
                for eo in outs:
                    new = Edge(ei.src, eo.dst, eo.tensor)
                    succs[ei.src].append(new)
                    preds[eo.dst].append(new)
        removed.add(nid)

    # 1. Nodes off the data path (shape arithmetic, constants, weight preparation).
    if graph.inputs:
        data: set[str] = set()
        for nid in order:
            node = nodes[nid]
            if node.kind == "input":
                data.add(nid)
            elif node.op_type.lower() not in SHAPE_OPS and any(
                    e.src in data for e in preds[nid]):
                data.add(nid)
        carried: dict[str, int] = {}
        for nid in order:
            node = nodes[nid]
            if nid in data or node.kind in ("input", "output"):
                continue
            weight = node.params + carried.pop(nid, 0)
            consumers = [e.dst for e in succs[nid]]
            if weight and (not consumers or all(nodes[c].kind == "output" for c in consumers)):
                node.params = weight  # a weight nothing computes with: keep it, totals hold
                continue
            consumers = [c for c in consumers if nodes[c].kind != "output"]
            if weight:
                target = min(consumers, key=position.__getitem__)
                if target in data:
                    nodes[target] = clone_node(nodes[target])
                    _take_weights(nodes[target], weight)
                else:
                    carried[target] = carried.get(target, 0) + weight
            drop(nid, rewire=False)

    # 2. Pass-through layers and bias adds on the data path.
    for nid in order:
        if nid in removed:
            continue
        node = nodes[nid]
        if node.kind in PASS_THROUGH and not node.params and len(preds[nid]) <= 1:
            drop(nid, rewire=True)
        elif node.kind == "add" and _bias_size(node, nodes) and len(preds[nid]) == 1:
            src = preds[nid][0].src
            head = nodes[src]
            weighted = head.kind in _BIAS_TARGETS or (head.kind == "matmul" and head.params)
            if weighted and len(succs[src]) == 1 and \
                    _bias_size(node, nodes) in _channel_counts(head):
                head = nodes[src] = clone_node(head)
                head.params += node.params  # nothing for a later call: counted on the first
                head.outputs = list(node.outputs)
                head.attrs["bias"] = True
                head.attrs["output_node"] = node.attrs.get("output_node", node.id)
                if head.kind == "matmul":
                    _take_weights(head, 0)  # ``x @ w + b``: a dense layer
                drop(nid, rewire=True)

    edges = [e for nid in order if nid not in removed for e in succs[nid]]
    return rebuild(graph, [nodes[n] for n in order if n not in removed], edges)


def _bias_size(node: Node, nodes: dict[str, Node]) -> int:
    """The number of weights an add adds: its own, or for a later call of a shared layer
    (whose weights are counted on the first call) those of the node it shares them with."""
    if node.params:
        return node.params
    first = nodes.get(str(node.attrs.get("shared_with")))
    return first.params if first is not None and first.kind == node.kind else 0


def _channel_counts(node: Node) -> set[int]:
    """The sizes a bias of ``node`` may have: its declared units or output channels, and
    the channel dim of its output (read where its layout puts it, else the last dim of a
    dense layer's and dim 1 of a convolution's output)."""
    out = {v for v in (node.attrs.get("units"), node.attrs.get("out_channels"))
           if isinstance(v, int)}
    spec = node.outputs[0] if node.outputs else None
    if spec is not None and spec.shape:
        vector = node.kind in ("dense", "matmul")  # the last axis
        default = None if vector else spatial_layout(len(spec.shape), False)
        found = channels_and_spatial(spec, default)
        if found is not None and isinstance(found[0], int):
            out.add(found[0])
        elif vector and isinstance(spec.shape[-1], int):
            out.add(spec.shape[-1])
    return out


def _take_weights(node: Node, params: int) -> None:
    """Give a node weights moved from a pruned producer; a weighted matmul is a dense layer."""
    node.params += params
    if node.kind == "matmul":
        node.kind = "dense"
        shape = node.outputs[0].shape if node.outputs else None
        if shape and isinstance(shape[-1], int):
            node.attrs.setdefault("units", shape[-1])
