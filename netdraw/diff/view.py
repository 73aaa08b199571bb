"""The diff as a drawable view: statuses of a view's nodes and edges, and their look.

A view of the union graph (:func:`netdraw.passes.make_view`: pruned, folded, rolled,
collapsed to a depth) has nodes that stand for several union nodes: a folded chain, a
collapsed block, a rolled run. Each gets the status of everything it stands for — all the
same: same; all added (removed): added (removed); otherwise changed — with a note (the
cause's change, ``units 256 → 512``, or counts such as ``2 changed · 9 added``). The
statuses go into ``attrs["diff"]`` of the view's nodes (for any backend, e.g. an HTML
side panel) and their look into ``meta["decorations"]`` (see
:mod:`netdraw.backends.decorations`), which the Graphviz and TikZ backends draw.

Looks (colour, outline, name prefix — readable without colour too):

========== ===================== ========================= ======
status     fill                  outline                   prefix
========== ===================== ========================= ======
removed    light red #fde0dd     red #cb181d, dashed       −
added      light green #d9f0d3   green #1a7a35             \\+
changed    amber #ffd27a         dark amber #b86e00, bold  Δ
reshaped   pale amber #fff4d6    amber #d9a441             Δ
same       light grey #f2f2f2    grey #a6a6a6              (none)
========== ===================== ========================= ======
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from netdraw.describe import format_count
from netdraw.diff.result import DiffResult, GroupDiff, NodeDiff
from netdraw.ir import Graph, Node

#: Drawing look per status label (``reshaped``: a change that follows upstream).
LOOKS: dict[str, dict[str, Any]] = {
    "removed": {"fill": "#fde0dd", "stroke": "#cb181d", "dashed": True, "width": 1.6,
                "prefix": "−", "note_colour": "#a50f15"},
    "added": {"fill": "#d9f0d3", "stroke": "#1a7a35", "width": 1.6, "prefix": "+",
              "note_colour": "#14632b"},
    "changed": {"fill": "#ffd27a", "stroke": "#b86e00", "width": 2.2, "prefix": "Δ",
                "note_colour": "#7a4300"},
    "reshaped": {"fill": "#fff4d6", "stroke": "#d9a441", "width": 1.2, "prefix": "Δ",
                 "note_colour": "#7a5a1a"},
    "same": {"fill": "#f2f2f2", "stroke": "#a6a6a6", "width": 0.8, "muted": True},
}
EDGE_LOOKS: dict[str, dict[str, Any]] = {
    "removed": {"stroke": "#cb181d", "dashed": True, "width": 1.3},
    "added": {"stroke": "#1a7a35", "width": 1.5},
    "changed": {"stroke": "#b86e00", "width": 1.3},
    "same": {"stroke": "#8c8c8c", "width": 0.8},
}
LEGEND: dict[str, str] = {
    "removed": "− removed (only in A)",
    "added": "+ added (only in B)",
    "changed": "Δ changed",
    "reshaped": "Δ shapes follow a change upstream",
    "same": "same",
}
LEGEND_ORDER = ("removed", "added", "changed", "reshaped", "same")


@dataclass
class Status:
    """What one view node stands for: its status label, note lines and totals."""

    label: str = "same"
    notes: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    params_a: int = 0
    params_b: int = 0

    def to_attrs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.label}
        if self.notes:
            out["note"] = "; ".join(self.notes)
        if self.counts:
            out["counts"] = dict(self.counts)
        out["params_a"], out["params_b"] = self.params_a, self.params_b
        return out


def combine(labels: Iterable[str]) -> str:
    """The status of a set: all one status -> that one; otherwise changed (or reshaped
    when nothing but same and reshaped nodes are in it)."""
    found = set(labels)
    if not found:
        return "same"
    if len(found) == 1:
        return found.pop()
    if found <= {"same", "reshaped"}:
        return "reshaped"
    return "changed"


def _counts_text(counts: dict[str, int], explained: int = 0) -> str:
    words = [(counts.get(k, 0), k) for k in ("changed", "reshaped", "added", "removed")]
    text = " · ".join(f"{n} {k}" for n, k in words if n)
    return f"{text} ({explained} explained)" if explained else text


def _params_note(a: int, b: int) -> str:
    before, after = format_count(a), format_count(b)
    if before == after:  # the rounding would hide the change
        before, after = f"{a:,}", f"{b:,}"
    return f"params {before} → {after}"


def _group_status(groups: list[GroupDiff], result: DiffResult) -> Status:
    counts = {"changed": 0, "reshaped": 0, "added": 0, "removed": 0, "same": 0}
    labels = []
    causes: list[str] = []
    params_a = params_b = 0
    edges = explained = 0
    for g in groups:
        explained += g.explained
        counts["changed"] += g.counts["changed"] - g.reshaped
        counts["reshaped"] += g.reshaped
        for k in ("added", "removed", "same"):
            counts[k] += g.counts[k]
        labels.append(g.status if g.status != "changed" or g.cause else "reshaped")
        causes.extend(g.causes)
        params_a += g.params_a
        params_b += g.params_b
        edges += g.edges_changed
    label = combine(labels)
    notes: list[str] = []
    shared = {g.explanation for g in groups}
    if label in ("added", "removed") and len(shared) == 1 and shared != {""}:
        notes.append(shared.pop() or "")
    if label in ("changed", "reshaped"):
        classes = {(g.class_name_a, g.class_name) for g in groups
                   if g.class_name_a and g.class_name and g.class_name_a != g.class_name}
        if len(classes) == 1:
            before, after = classes.pop()
            notes.append(f"{before} → {after}")
        if len(causes) == 1 and counts["added"] + counts["removed"] == 0:
            rec = result.nodes[causes[0]]
            notes.append(f"{_tail(rec.name)}: {rec.note}")
        text = _counts_text(counts, explained)
        if text:
            notes.append(text)
        elif edges:
            notes.append(f"{edges} connection{'s' if edges != 1 else ''} changed")
    if label != "same" and params_a != params_b and label not in ("added", "removed"):
        notes.append(_params_note(params_a, params_b))
    return Status(label, notes[:3], {k: v for k, v in counts.items() if v}, params_a,
                  params_b)


def _tail(name: str, limit: int = 24) -> str:
    """The last part of a long qualified name (``layer1.0.conv1`` -> ``conv1``)."""
    parts = [p for p in name.replace("/", ".").split(".") if p and not p.isdigit()]
    tail = parts[-1] if parts else name
    return tail if len(tail) <= limit else tail[: limit - 1] + "…"


def _node_status(members: list[NodeDiff]) -> Status:
    label = combine(n.label for n in members)
    head = members[0]
    notes: list[str] = []
    if label in ("added", "removed") and head.explanation:
        notes.append(head.explanation)
    if label in ("changed", "reshaped"):
        causes = [n for n in members if n.cause] or [n for n in members if n.changes]
        if causes:
            first = causes[0]
            note = first.note
            if first is not head:
                note = f"{first.op_type_b or first.op_type_a}: {note}"
            notes.append(note)
        for n in [n for n in members if n.status in ("added", "removed")][:2]:
            notes.append(f"{n.op_type_b or n.op_type_a} {n.explanation or n.status}")
    params_a = sum(n.params_a or 0 for n in members)
    params_b = sum(n.params_b or 0 for n in members)
    if label in ("changed", "reshaped") and params_a != params_b and \
            not any(note.startswith("params") for note in notes):
        notes.append(_params_note(params_a, params_b))
    return Status(label, notes[:3], {}, params_a, params_b)


def view_statuses(view: Graph, result: DiffResult) -> dict[str, Status]:
    """The status of every node of a view of ``result.union``."""
    out: dict[str, Status] = {}
    for node in view.nodes.values():
        if node.kind == "block" and ("paths" in node.attrs or "path" in node.attrs):
            paths = node.attrs.get("paths") or [node.attrs.get("path")]
            groups = [result.groups[tuple(p)] for p in paths if tuple(p) in result.groups]
            out[node.id] = _group_status(groups, result)
            continue
        ids = [node.id] + [f.get("id") for f in node.attrs.get("folded") or []
                           if isinstance(f, dict)]
        members = [result.nodes[i] for i in ids if i in result.nodes]
        out[node.id] = _node_status(members) if members else Status()
    return out


def representative(view: Graph, result: DiffResult) -> dict[str, str]:
    """Union node id -> the id of the view node that draws it (absent: hidden)."""
    rep: dict[str, str] = {}
    blocks: dict[tuple[str, ...], str] = {}
    for node in view.nodes.values():
        if node.kind == "block":
            for p in node.attrs.get("paths") or [node.attrs.get("path")]:
                if isinstance(p, list):
                    blocks[tuple(p)] = node.id
        if node.id in result.nodes:
            rep[node.id] = node.id
        for f in node.attrs.get("folded") or []:
            if isinstance(f, dict) and f.get("id") in result.nodes:
                rep[f["id"]] = node.id
    for nid in result.nodes:
        if nid in rep:
            continue
        union_node = result.union.nodes[nid]
        if union_node.kind in ("input", "output"):
            continue
        for depth in range(len(union_node.group) + 1):
            hit = blocks.get(union_node.group[:depth])
            if hit is not None:
                rep[nid] = hit
                break
    return rep


def edge_statuses(view: Graph, result: DiffResult,
                  statuses: dict[str, Status]) -> dict[tuple[str, str], tuple[str, str | None]]:
    """(src, dst) of every view edge -> (status, label) where the label shows a shape
    change (``1×256 → 1×512``)."""
    rep = representative(view, result)
    found: dict[tuple[str, str], list] = {}
    for e in result.edges:
        src, dst = rep.get(e.src), rep.get(e.dst)
        if src is None or dst is None or src == dst:
            continue
        found.setdefault((src, dst), []).append(e)
    out: dict[tuple[str, str], tuple[str, str | None]] = {}
    for edge in view.edges:
        key = (edge.src, edge.dst)
        records = found.get(key)
        if not records:
            ends = {statuses[edge.src].label, statuses[edge.dst].label}
            status = "removed" if "removed" in ends else "added" if "added" in ends else "same"
            out[key] = (status, None)
            continue
        kinds = {r.status for r in records}
        label = None
        if "changed" in kinds:
            status = "changed"
            r = next(r for r in records if r.status == "changed")
            label = f"{r.shape_a} → {r.shape_b}"
        elif len(kinds) == 1:
            status = kinds.pop()
        elif "same" in kinds:
            status = "same"
        else:
            status = "changed"
        out[key] = (status, label)
    return out


def decorate(view: Graph, result: DiffResult, legend: bool = True) -> Graph:
    """Put statuses into ``attrs["diff"]`` and looks into ``meta["decorations"]`` of a
    view of ``result.union`` (in place; returns the view)."""
    statuses = view_statuses(view, result)
    nodes: dict[str, dict[str, Any]] = {}
    for nid, status in statuses.items():
        node = view.nodes[nid]
        if node.kind == "block" or node.attrs.get("folded"):
            node.attrs["diff"] = status.to_attrs()
        look = dict(LOOKS[status.label])
        look["notes"] = status.notes if status.label != "same" else []
        nodes[nid] = look
    edges = []
    shown = {s.label for s in statuses.values()}
    for (src, dst), (status, label) in edge_statuses(view, result, statuses).items():
        shown.add(status)
        spec: dict[str, Any] = {"src": src, "dst": dst, "status": status, **EDGE_LOOKS[status]}
        if label:
            spec["label"] = label
        edges.append(spec)
    deco: dict[str, Any] = {"nodes": nodes, "edges": edges}
    if legend:
        deco["legend"] = [{"label": LEGEND[k], **{x: LOOKS[k][x] for x in
                                                   ("fill", "stroke", "dashed") if x in LOOKS[k]}}
                          for k in LEGEND_ORDER if k in shown]
    view.meta["decorations"] = deco
    view.meta["diff"] = {k: v for k, v in (result.union.meta.get("diff") or {}).items()
                         if k != "edges"}
    return view


def status_of(node: Node) -> str:
    """The status a decorated view node carries (``same`` when none)."""
    info = node.attrs.get("diff")
    if isinstance(info, dict):
        status = info.get("status", "same")
        if status == "changed" and info.get("cause") is False:
            return "reshaped"
        return str(status)
    return "same"
