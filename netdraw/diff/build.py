"""From two graphs to a :class:`DiffResult`: prepare, match, compare, build the union.

The union graph holds every node of B, and every node of A that has no partner in B
(removed). A matched pair is one node carrying B's facts; its ``attrs["diff"]`` says
``status`` (and, when changed, ``changes``, ``cause`` and the ``note`` a label shows), so
every pass and backend can handle it as any graph. Removed nodes go into the group of B
that their group's matched nodes went to (a renamed module keeps its removed layers).
Union edges are the edges of both, each once; ``meta["diff"]`` says which side each edge
comes from.
"""

from __future__ import annotations

import gc
from collections import Counter
from typing import Any

from netdraw.diff.compare import (
    Change,
    Side,
    canonical_shape,
    compare,
    format_shape,
    is_cause,
    shapes_equal,
)
from netdraw.diff.match import Matching, match_graphs, numbered_name
from netdraw.diff.result import STATUSES, DiffResult, EdgeDiff, GroupDiff, NodeDiff
from netdraw.ir import Edge, Graph, Node, UniqueIds
from netdraw.passes.stats import node_macs


def prepare(graph: Graph, keep_all: bool = False) -> Graph:
    """The graph as diffed: unless ``keep_all``, plumbing pruned (the same pruning the
    drawings apply; no parameter is lost). Never modified afterwards."""
    from netdraw.passes.prune import prune

    return graph if keep_all else prune(graph)


def diff_graphs(a: Graph, b: Graph, *, keep_all: bool = False) -> DiffResult:
    """Compare two graphs (see :func:`netdraw.diff`)."""
    # Like an import, a diff allocates many small objects and frees few: the cyclic
    # garbage collector's repeated full scans would cost more than the diff.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        pa, pb = prepare(a, keep_all), prepare(b, keep_all)
        side_a, side_b = Side(pa), Side(pb)
        matching = match_graphs(pa, pb, side_a, side_b)
        return _Builder(pa, pb, matching, side_a, side_b).result(
            params=(a.total_params, b.total_params))
    finally:
        if was_enabled:
            gc.enable()


def _macs(node: Node | None) -> int | None:
    if node is None:
        return None
    value = node.attrs.get("macs")
    return value if isinstance(value, int) else node_macs(node)



class _Builder:
    def __init__(self, a: Graph, b: Graph, matching: Matching, side_a: Side,
                 side_b: Side) -> None:
        self.a, self.b, self.m = a, b, matching
        self.side_a, self.side_b = side_a, side_b
        self.same_framework = self.side_a.framework == self.side_b.framework
        self.uid_a: dict[str, str] = {}
        self.uid_b: dict[str, str] = {}

    def result(self, params: tuple[int, int]) -> DiffResult:
        records = self._nodes()
        macs = (sum(r.macs_a or 0 for r in records.values()),
                sum(r.macs_b or 0 for r in records.values()))
        edges = self._edges()
        union = self._union(records, edges)
        groups = _groups(union, records, edges, self.a)
        return DiffResult(
            renames=renames(records),
            name_a=self.a.name, name_b=self.b.name,
            framework_a=self.side_a.framework, framework_b=self.side_b.framework,
            nodes={nid: records[nid] for nid in union.nodes}, edges=edges, groups=groups,
            params=params, macs=macs, matched=self.m.counts(),
            sizes=(len(self.a), len(self.b)), union=union, a=self.a, b=self.b)

    # -- nodes ---------------------------------------------------------------------------
    def _nodes(self) -> dict[str, NodeDiff]:
        ids = UniqueIds("#")
        ids.used.update(self.b.nodes)
        for nid in self.b.nodes:
            self.uid_b[nid] = nid
        for nid in self.a.nodes:
            partner = self.m.a_to_b.get(nid)
            self.uid_a[nid] = partner if partner is not None else (
                nid if nid not in ids.used else ids(f"A:{nid}"))
            ids.used.add(self.uid_a[nid])
        group_map = self._group_map()
        # Names are compared when both models name their layers one way (some pairs matched
        # by name): then a pair whose names differ is a rename. Two models without common
        # names (anonymous ids) have nothing to rename.
        named = self.same_framework and self.m.counts().get("name", 0) > 0
        records: dict[str, NodeDiff] = {}
        for nid, node in self.b.nodes.items():
            partner = self.m.b_to_a.get(nid)
            if partner is None:
                records[nid] = _record(nid, "added", None, node, group=node.group)
                continue
            old = self.a.nodes[partner]
            if partner in self.m.exact and old.params == node.params:
                changes = []  # same kind, op type, attributes and shapes: nothing to list
            else:
                changes = compare(old, node, self.side_a, self.side_b)
            rec = _record(nid, "changed" if changes else "same", old, node, group=node.group)
            rec.matched_by = self.m.how[partner]
            rec.renamed = named and renamed(old.name, node.name)
            if rec.renamed:  # a state dict saved under the old name no longer loads
                changes = [*changes, Change("name", old.name, node.name)]
                rec.status = "changed"
            rec.changes, rec.cause = changes, is_cause(changes)
            records[nid] = rec
        for nid, node in self.a.nodes.items():
            if nid not in self.m.a_to_b:
                uid = self.uid_a[nid]
                records[uid] = _record(uid, "removed", node, None,
                                       group=_map_group(node.group, group_map))
        if not self.same_framework:
            self._across_frameworks(records)
        return records

    def _across_frameworks(self, records: dict[str, NodeDiff]) -> None:
        """Explain nodes by known rewrites between frameworks; compare fused activations
        (see :mod:`netdraw.diff.explain`)."""
        from netdraw.diff.explain import Explainer

        Explainer(self.a, self.b, self.m, self.uid_a, self.uid_b).apply(records)

    def _group_map(self) -> dict[tuple[str, ...], tuple[str, ...]]:
        """Group of A -> the group of B most of its matched nodes went to."""
        votes: dict[tuple[str, ...], Counter] = {}
        for a_id, b_id in self.m.a_to_b.items():
            ga, gb = self.a.nodes[a_id].group, self.b.nodes[b_id].group
            if ga:
                votes.setdefault(ga, Counter())[gb] += 1
        return {g: c.most_common(1)[0][0] for g, c in votes.items()}

    # -- edges ---------------------------------------------------------------------------
    def _edges(self) -> list[EdgeDiff]:
        def shape(e: Edge) -> str:
            return e.tensor.format_shape() or "?"

        from_a: dict[tuple[str, str], list[Edge]] = {}
        for e in self.a.edges:
            from_a.setdefault((self.uid_a[e.src], self.uid_a[e.dst]), []).append(e)
        out: list[EdgeDiff] = []
        for e in self.b.edges:
            key = (self.uid_b[e.src], self.uid_b[e.dst])
            olds = from_a.get(key)
            if olds:
                old = olds.pop(0)
                sa = canonical_shape(old.tensor.shape, self.side_a.last(self.a.nodes[old.src]))
                sb = canonical_shape(e.tensor.shape, self.side_b.last(self.b.nodes[e.src]))
                status = "same" if shapes_equal(sa, sb) else "changed"
                out.append(EdgeDiff(*key, status, format_shape(sa) if sa else shape(old),
                                    format_shape(sb) if sb else shape(e)))
            else:
                out.append(EdgeDiff(*key, "added", None, shape(e)))
        for key, olds in from_a.items():
            for old in olds:
                out.append(EdgeDiff(*key, "removed", shape(old), None))
        return out

    # -- the union graph -----------------------------------------------------------------
    def _union(self, records: dict[str, NodeDiff], edges: list[EdgeDiff]) -> Graph:
        union = Graph(_union_name(self.a.name, self.b.name))
        union.meta = {k: v for k, v in self.b.meta.items() if k in ("framework", "data_format")}
        pos_a = {nid: i for i, nid in enumerate(self.a.nodes)}
        pending = [nid for nid in self.a.nodes if nid not in self.m.a_to_b]
        k = 0

        def flush(until: int) -> None:
            nonlocal k
            while k < len(pending) and pos_a[pending[k]] < until:
                uid = self.uid_a[pending[k]]
                union.add_node(_union_node(records[uid], self.a.nodes[pending[k]]))
                k += 1

        for nid, node in self.b.nodes.items():
            partner = self.m.b_to_a.get(nid)
            if partner is not None:
                flush(pos_a[partner])
            union.add_node(_union_node(records[nid], node))
        flush(len(pos_a) + 1)
        tensors_b = {(self.uid_b[e.src], self.uid_b[e.dst]): e.tensor for e in self.b.edges}
        tensors_a = {(self.uid_a[e.src], self.uid_a[e.dst]): e.tensor for e in self.a.edges}
        for e in edges:
            key = (e.src, e.dst)
            union.add_edge(e.src, e.dst, tensors_a[key] if e.status == "removed"
                           else tensors_b[key])
        used = {node.group[:d] for node in union.nodes.values()
                for d in range(1, len(node.group) + 1)}
        for path in sorted(used):
            group = self.b.groups.get(path) or self.a.groups.get(path)
            if group is not None:
                union.groups[path] = group.copy()
            else:
                union.add_group(path)
        union.meta["diff"] = {"a": self.a.name, "b": self.b.name,
                              "edges": [e.to_dict() for e in edges]}
        union.validate()
        return union


def renamed(a: str, b: str) -> bool:
    """Whether a matched layer was renamed: its names differ beyond the numbering a
    framework or an exporter makes up (``dense_3`` and ``dense_7``, ``features.4`` and
    ``features.5`` after an insertion are not renames; ``head.0`` and ``classifier.0``
    are)."""
    return a != b and _stem(a) != _stem(b)


def _stem(name: str) -> str:
    """A name without its trailing number when the number is made up (``head.0``: head)."""
    return name.rstrip("0123456789")[:-1] if numbered_name(name) and name else name


def renames(records: dict[str, NodeDiff]) -> list[tuple[str, str]]:
    """The renamed modules and layers, outermost: ``head.0 → classifier.0`` and
    ``head.2 → classifier.2`` are ``head → classifier`` (the parts both names end with
    left out), in the models' order, each once."""
    out: list[tuple[str, str]] = []
    for rec in records.values():
        if not rec.renamed or rec.name_a is None or rec.name_b is None:
            continue
        a, b = rec.name_a.split("."), rec.name_b.split(".")
        while len(a) > 1 and len(b) > 1 and a[-1] == b[-1]:
            a, b = a[:-1], b[:-1]
        pair = (".".join(a), ".".join(b))
        if pair not in out:
            out.append(pair)
    return out


def _union_name(a: str, b: str) -> str:
    return a if a == b else f"{a} → {b}"


def _record(uid: str, status: str, old: Node | None, new: Node | None,
            group: tuple[str, ...]) -> NodeDiff:
    ref = new if new is not None else old
    assert ref is not None
    return NodeDiff(
        id=uid, status=status, a=old.id if old else None, b=new.id if new else None,
        name_a=old.name if old else None, name_b=new.name if new else None, kind=ref.kind,
        op_type_a=old.op_type if old else None, op_type_b=new.op_type if new else None,
        group=group, params_a=old.params if old else None,
        params_b=new.params if new else None, macs_a=_macs(old), macs_b=_macs(new))


def _map_group(path: tuple[str, ...], group_map: dict) -> tuple[str, ...]:
    for depth in range(len(path), 0, -1):
        target = group_map.get(path[:depth])
        if target is not None:
            return (*target, *path[depth:])
    return path


def _union_node(rec: NodeDiff, source: Node) -> Node:
    node = source.clone()
    node.id = rec.id
    node.group = rec.group
    info: dict[str, Any] = {"status": rec.status}
    if rec.status == "changed":
        info.update(cause=rec.cause, note=rec.note,
                    changes=[c.to_dict() for c in rec.changes])
    node.attrs["diff"] = info
    return node


def _groups(union: Graph, records: dict[str, NodeDiff], edges: list[EdgeDiff],
            a: Graph) -> dict[tuple[str, ...], GroupDiff]:
    """Every group of the union (and the root, ``()``) summarised over its contents."""
    out: dict[tuple[str, ...], GroupDiff] = {}

    def get(path: tuple[str, ...]) -> GroupDiff:
        g = out.get(path)
        if g is None:
            group = union.groups.get(path)
            old = a.groups.get(path)
            g = out[path] = GroupDiff(path, group.display_name if group else
                                      (path[-1] if path else union.name),
                                      group.class_name if group else "",
                                      old.class_name if old else "")
        return g

    for nid, node in union.nodes.items():
        rec = records[nid]
        for depth in range(len(node.group) + 1):
            g = get(node.group[:depth])
            g.counts[rec.status] += 1
            if rec.status == "changed" and not rec.cause:
                g.reshaped += 1
            if rec.explanation and rec.status in ("added", "removed"):
                g.explained += 1
                if g.explanation is None or g.explanation == rec.explanation:
                    g.explanation = rec.explanation
                else:
                    g.explanation = ""  # explained several ways: no one text says it
            if rec.cause:
                g.cause = True
                if len(g.causes) < 8:
                    g.causes.append(nid)
            g.params_a += rec.params_a or 0
            g.params_b += rec.params_b or 0
    for e in edges:
        if e.status not in ("added", "removed"):
            continue  # a tensor whose shape changed follows its producer
        ga, gb = union.nodes[e.src].group, union.nodes[e.dst].group
        common = 0
        while common < min(len(ga), len(gb)) and ga[common] == gb[common]:
            common += 1
        for depth in range(common + 1):
            get(ga[:depth]).edges_changed += 1
    for g in out.values():
        total = sum(g.counts.values())
        if g.explained < g.counts["added"] + g.counts["removed"] or g.explanation is None:
            g.explanation = ""
        if g.counts["added"] == total:
            g.status = "added"
        elif g.counts["removed"] == total:
            g.status = "removed"
        elif g.counts["same"] == total and not g.edges_changed and not _class_changed(g):
            g.status = "same"
        else:
            g.status = "changed"
            if g.counts["added"] or g.counts["removed"] or g.edges_changed or \
                    _class_changed(g):
                g.cause = True
    return out


def _class_changed(g: GroupDiff) -> bool:
    return bool(g.class_name and g.class_name_a and g.class_name != g.class_name_a)


__all__ = ["STATUSES", "diff_graphs", "prepare"]
