"""Known rewrites between frameworks, so a diff across them says *why* nodes differ.

The same model read from PyTorch, from its ONNX export and from a Keras port is spelled
three ways. These rules (data in :data:`ABSORBED_BY`; applied only when A and B come from
different frameworks) turn "removed" and "changed" into explained differences:

- **Folded**: a normalisation right after a convolution or dense layer that has no
  partner was folded into that layer by the exporter; the layer's partner may have gained
  a bias for it (``params 9408 → 9472``), which is then not counted as a change.
- **Fused**: an activation right after a layer whose partner carries it in
  ``attrs["activation"]`` (Keras' ``Dense(…, activation="relu")``) is fused into it.
- **Spelled out**: a node without partner inside a group whose name is that of an
  unmatched node of the other graph (``layers.0.self_attn``, one ``MultiheadAttention``
  node live, thirty operations in ONNX) is part of that node, written out.
- **Shared weights**: a layer with no parameters whose partner has some, when an earlier
  layer of the same op type on its side has exactly that many, reads that layer's
  weights: exporters store identical initializers once (freshly initialised
  ``LayerNorm`` weights are all ones); the count is then not a change.
- **Fused activations are compared**: a layer with ``activation="softmax"`` against a
  layer followed by nothing is a change (``activation none → softmax``).
"""

from __future__ import annotations

from netdraw.diff.compare import Change, op_family
from netdraw.diff.match import Matching
from netdraw.diff.result import NodeDiff
from netdraw.ir import Graph, Node

#: Kind of a node without partner -> kinds of the layer before it that can absorb it.
ABSORBED_BY: dict[str, tuple[str, ...]] = {
    "norm": ("conv", "conv_transpose", "dense"),
    "activation": ("conv", "conv_transpose", "dense", "norm", "add"),
    "softmax": ("dense",),
}
#: Layers that can carry a fused activation.
FUSING = ("conv", "conv_transpose", "dense")
#: Kinds of single nodes another framework may spell out as many operations.
COMPOUND_KINDS = ("attention", "recurrent", "subgraph", "other")


def fused_activation(node: Node) -> str:
    act = node.attrs.get("activation")
    return act if isinstance(act, str) and act not in ("", "linear") else ""


def effective_activation(node: Node, graph: Graph, succs: dict[str, list[str]]) -> str:
    """The activation a layer applies: its fused one (Keras' ``activation=``), else the
    activation or softmax right after it (through a normalisation), as an op family."""
    fused = fused_activation(node)
    if fused:
        return fused.lower().replace("_", "")
    current = node.id
    for _ in range(2):
        nxt = succs.get(current) or []
        if len(nxt) != 1:
            return ""
        follower = graph.nodes[nxt[0]]
        if follower.kind in ("activation", "softmax"):
            return op_family(follower)
        if follower.kind != "norm":
            return ""
        current = follower.id
    return ""


def absorbed(node: Node, preds: dict[str, list[str]], other: Graph,
             partner: dict[str, str]) -> tuple[str, str | None]:
    """(why, host id in ``other``) when ``node`` was folded or fused into the partner of
    the layer before it (found through other unmatched nodes: Conv → BN → ReLU)."""
    if node.kind not in ABSORBED_BY:
        return "", None
    current = node.id
    for _ in range(4):
        sources = preds.get(current) or []
        if len(sources) != 1:
            return "", None
        current = sources[0]
        if current in partner:
            break
    else:
        return "", None
    if current not in partner:
        return "", None
    host = other.nodes[partner[current]]
    if host.kind not in ABSORBED_BY[node.kind]:
        return "", None
    if node.kind == "norm":
        return f"folded into {host.name}", host.id
    fused = fused_activation(host)
    if fused and fused.lower().replace("_", "") == op_family(node):
        return f"fused into {host.name} ({fused})", host.id
    return "", None


class Explainer:
    """Applies the rules of the module docstring to the records of one diff."""

    def __init__(self, a: Graph, b: Graph, matching: Matching, uid_a: dict[str, str],
                 uid_b: dict[str, str]) -> None:
        self.a, self.b, self.m = a, b, matching
        self.uid_a, self.uid_b = uid_a, uid_b

    def apply(self, records: dict[str, NodeDiff]) -> None:
        self._absorbed(records)
        self._spelled_out(records)
        self._shared_weights(records)
        self._fused_activations(records)

    def _shared_weights(self, records: dict[str, NodeDiff]) -> None:
        owners: dict[tuple[str, str, int], str] = {}  # (side, op type, params) -> first name
        for side, graph in (("a", self.a), ("b", self.b)):
            for node in graph.nodes.values():
                if node.params:
                    owners.setdefault((side, node.op_type, node.params), node.name)
        for rec in records.values():
            change = next((c for c in rec.changes if c.what == "params"), None)
            if change is None or 0 not in (change.before, change.after):
                continue
            side, expected = ("b", change.before) if change.after == 0 else ("a", change.after)
            op = rec.op_type_b if side == "b" else rec.op_type_a
            owner = owners.get((side, op or "", expected))
            if owner is None or owner == (rec.name_b if side == "b" else rec.name_a):
                continue
            rec.changes = [c for c in rec.changes if c is not change]
            rec.explanation = f"weights shared with {owner} (identical initializers)"
            if not rec.changes:
                rec.status, rec.cause = "same", False

    def _absorbed(self, records: dict[str, NodeDiff]) -> None:
        preds = {"a": self.a.predecessors(), "b": self.b.predecessors()}
        hosts: dict[str, list[str]] = {}  # union id of a host -> names folded into it
        for rec in records.values():
            if rec.status == "removed":
                why, host = absorbed(self.a.nodes[rec.a], preds["a"], self.b, self.m.a_to_b)
                host_uid = self.uid_b.get(host) if host else None
            elif rec.status == "added":
                why, host = absorbed(self.b.nodes[rec.b], preds["b"], self.a, self.m.b_to_a)
                host_uid = self.uid_a.get(host) if host else None
            else:
                continue
            rec.explanation = why
            if host_uid is not None and rec.kind == "norm":
                hosts.setdefault(host_uid, []).append(rec.name)
        for uid, names in hosts.items():
            host = records[uid]
            params = [c for c in host.changes if c.what == "params"]
            if params:  # the exporter's folded normalisation became the layer's bias
                host.changes = [c for c in host.changes if c.what != "params"]
                host.explanation = (f"absorbed {', '.join(names)}: params "
                                    f"{params[0].before:,} → {params[0].after:,}")
                if not host.changes:
                    host.status, host.cause = "same", False

    def _spelled_out(self, records: dict[str, NodeDiff]) -> None:
        compound = {}
        for rec in records.values():
            if rec.status in ("added", "removed") and rec.kind in COMPOUND_KINDS:
                compound[(rec.status, rec.name)] = rec
        if not compound:
            return
        counts: dict[str, int] = {}
        for rec in records.values():
            if rec.status not in ("added", "removed") or rec.explanation:
                continue
            other = "removed" if rec.status == "added" else "added"
            node = (self.b if rec.status == "added" else self.a).nodes[rec.b or rec.a]
            for depth in range(len(node.group), 0, -1):
                path = node.group[:depth]
                for name in (path[-1], ".".join(path)):
                    whole = compound.get((other, name))
                    if whole is not None:
                        rec.explanation = f"part of {whole.name} (spelled out)"
                        counts[whole.id] = counts.get(whole.id, 0) + 1
                        break
                if rec.explanation:
                    break
        for uid, n in counts.items():
            whole = records[uid]
            whole.explanation = f"spelled out as {n} operations"

    def _fused_activations(self, records: dict[str, NodeDiff]) -> None:
        succs = {"a": self.a.successors(), "b": self.b.successors()}
        for rec in records.values():
            if rec.a is None or rec.b is None or rec.kind not in FUSING:
                continue
            old, new = self.a.nodes[rec.a], self.b.nodes[rec.b]
            if not (fused_activation(old) or fused_activation(new)):
                continue
            before = effective_activation(old, self.a, succs["a"])
            after = effective_activation(new, self.b, succs["b"])
            if before != after:
                rec.changes.append(Change("attr", before or "none", after or "none",
                                          "activation"))
                rec.status, rec.cause = "changed", True
