"""A diff as an HTML preview: the union graph's page, coloured by status, with each node's
change in its side panel — for every view the reader opens in the browser.

The page makes its views itself (:mod:`netdraw.backends.html`), so the looks the SVG gets
from :func:`netdraw.diff.view.decorate` for one view are shipped here for every node and
group of the prepared union graph, once: a layer's look and panel rows (its status, each
changed attribute and shape, parameters before → after), a group block's look and rows,
each group's summary (a rolled run's status is combined from its members' summaries in
the page, as :func:`netdraw.diff.view._group_status` does), and every edge record of the
diff with the nodes and groups it may be drawn between. The first view is decorated here
by :func:`decorate` itself; the tests check that the page draws every view as Python does.
"""

from __future__ import annotations

from typing import Any

from netdraw.describe import format_count
from netdraw.diff.compare import describe_change
from netdraw.diff.result import DiffResult, GroupDiff, NodeDiff
from netdraw.diff.view import (
    EDGE_LOOKS,
    LEGEND,
    LEGEND_ORDER,
    LOOKS,
    _group_status,
    _tail,
    decorate,
    view_statuses,
)
from netdraw.ir import Graph

Path = tuple[str, ...]
_IO = ("input", "output")
_STATUS_TEXT = {
    "removed": "removed (only in A)",
    "added": "added (only in B)",
    "changed": "changed",
    "reshaped": "reshaped (its shapes follow a change upstream)",
    "same": "same",
}
_WHAT = {"kind": "kind", "op_type": "op type", "params": "parameters",
         "inputs": "input shapes", "outputs": "output shapes"}


class DiffPage:
    """What an HTML page of ``result`` needs (see the module docstring)."""

    title = "What changed"

    def __init__(self, result: DiffResult, legend: bool = True) -> None:
        self.result = result
        self.legend = legend

    def decorate(self, view: Graph) -> Graph:
        """The looks of one view, as every other format draws it."""
        return decorate(view, self.result, legend=self.legend)

    def page_data(self, prepared: Graph) -> dict[str, Any]:
        """Looks, panel rows and summaries by node id and group path, and the edge records
        (ids and paths; :mod:`netdraw.backends.html.model` turns them into indices)."""
        result = self.result
        nodes: dict[str, Any] = {}
        for nid, status in view_statuses(prepared, result).items():
            nodes[nid] = {"status": status.label, "look": _look(status.label, status.notes),
                          "rows": self.node_rows(prepared, nid)}
        groups: dict[Path, Any] = {}
        for path in {n.group[:d] for n in prepared.nodes.values()
                     for d in range(len(n.group) + 1)}:
            found = result.groups.get(path)
            status = _group_status([found] if found else [], result)
            groups[path] = {"status": status.label, "look": _look(status.label, status.notes),
                            "rows": _group_rows(found, status.label) if found else [],
                            "summary": self.summary(found) if found else None}
        edges = []
        for e in result.edges:
            label = f"{e.shape_a} → {e.shape_b}" if e.status == "changed" else None
            edges.append([self.anchor(prepared, e.src), self.anchor(prepared, e.dst),
                          e.status, label])
        legend = [[k, {"label": LEGEND[k], **{x: LOOKS[k][x] for x in ("fill", "stroke",
                                                                        "dashed")
                                               if x in LOOKS[k]}}]
                  for k in LEGEND_ORDER] if self.legend else []
        return {"nodes": nodes, "groups": groups, "edges": edges, "legend": legend,
                "status_text": dict(_STATUS_TEXT),
                "looks": {k: _look(k, []) for k in LOOKS}, "edge_looks": EDGE_LOOKS}

    def anchor(self, prepared: Graph, union_id: str) -> tuple[str | None, bool, Path]:
        """Where a union node may be drawn: the prepared node that is it or holds it folded
        (None when pruned), whether it is a graph input or output, and its union group."""
        node = self.result.union.nodes[union_id]
        holder = self._holders(prepared).get(union_id)
        return holder, node.kind in _IO, node.group

    def _holders(self, prepared: Graph) -> dict[str, str]:
        cached = getattr(self, "_holder_cache", None)
        if cached is not None and cached[0] is prepared:
            return cached[1]
        holders: dict[str, str] = {}
        for node in prepared.nodes.values():
            holders[node.id] = node.id
            for f in node.attrs.get("folded") or []:
                if isinstance(f, dict) and isinstance(f.get("id"), str):
                    holders.setdefault(f["id"], node.id)
        self._holder_cache = (prepared, holders)
        return holders

    def summary(self, group: GroupDiff) -> dict[str, Any]:
        """What combining groups into one status needs (see ``_group_status``)."""
        causes = []
        for cid in group.causes:
            rec = self.result.nodes[cid]
            causes.append(f"{_tail(rec.name)}: {rec.note}")
        return {"counts": dict(group.counts), "reshaped": group.reshaped,
                "explained": group.explained, "explanation": group.explanation,
                "label": group.status if group.status != "changed" or group.cause
                else "reshaped",
                "causes": causes, "params_a": group.params_a, "params_b": group.params_b,
                "edges": group.edges_changed, "class_a": group.class_name_a,
                "class_b": group.class_name}

    def node_rows(self, prepared: Graph, nid: str) -> list[list[str]]:
        """The panel rows of a layer: its own change, then its folded layers' changes."""
        node = prepared.nodes[nid]
        rec = self.result.nodes.get(nid)
        rows = _node_rows(rec) if rec is not None else []
        for f in node.attrs.get("folded") or []:
            member = self.result.nodes.get(f.get("id")) if isinstance(f, dict) else None
            if member is None or member.label == "same":
                continue
            what = f"{member.op_type_b or member.op_type_a} {member.name}"
            text = member.note or member.explanation or _STATUS_TEXT[member.label]
            rows.append([what, f"{member.label}: {text}"])
        return rows


def _look(label: str, notes: list[str]) -> dict[str, Any]:
    look = dict(LOOKS[label])
    look["notes"] = list(notes) if label != "same" else []
    return look


def _before_after(a: int | None, b: int | None) -> str:
    if a is None or b is None:
        return f"{a:,}" if b is None and a is not None else f"{b:,}" if b is not None else ""
    if a == b:
        return f"{a:,} (same)"
    sign = "+" if b > a else "−"
    return f"{a:,} → {b:,} ({sign}{format_count(abs(b - a))})"


def _node_rows(rec: NodeDiff) -> list[list[str]]:
    rows = [["status", _STATUS_TEXT[rec.label]]]
    if rec.name_a is not None and rec.name_b is not None and rec.name_a != rec.name_b:
        rows.append(["name in A", rec.name_a])
        rows.append(["name in B", rec.name_b])
    if rec.matched_by:
        rows.append(["matched by", rec.matched_by])
    for change in rec.changes:
        text = describe_change(change)
        key = change.key if change.what == "attr" else _WHAT.get(change.what, change.what)
        for lead in (f"{change.key} ", "params ", "in ", "out "):
            if change.what != "kind" and change.what != "op_type" and text.startswith(lead):
                text = text[len(lead):]
                break
        rows.append([key, text])
    if rec.status != "same" and rec.params_a != rec.params_b:
        rows.append(["parameters A → B", _before_after(rec.params_a, rec.params_b)])
    if rec.status != "same" and rec.macs_a != rec.macs_b and (rec.macs_a or rec.macs_b):
        rows.append(["MACs A → B", _before_after(rec.macs_a, rec.macs_b)])
    if rec.explanation:
        rows.append(["why", rec.explanation])
    return rows


def _group_rows(group: GroupDiff, label: str) -> list[list[str]]:
    rows = [["status", _STATUS_TEXT[label]]]
    counts = " · ".join(f"{n} {k}" for k, n in group.counts.items() if n)
    if counts:
        rows.append(["nodes", counts])
    if group.class_name_a and group.class_name and group.class_name_a != group.class_name:
        rows.append(["class", f"{group.class_name_a} → {group.class_name}"])
    if group.params_a != group.params_b:
        rows.append(["parameters A → B", _before_after(group.params_a, group.params_b)])
    if group.explanation:
        rows.append(["why", group.explanation])
    return rows


__all__ = ["DiffPage"]
