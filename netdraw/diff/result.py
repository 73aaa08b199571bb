"""What a diff reports: per node, per edge, per group, and the totals.

Statuses: ``same``, ``changed``, ``added`` (only in B), ``removed`` (only in A). A
changed node is a *cause* when something about the layer itself changed (kind, op type,
an attribute, or its shapes while its inputs kept theirs); otherwise its shapes (and
parameters) only follow a change upstream: the drawing and the table call it
``reshaped``. The JSON form is versioned (``netdraw.diff/1``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netdraw.diff.compare import Change, headline
from netdraw.ir import Graph
from netdraw.output import json_text

SCHEMA = "netdraw.diff/1"
STATUSES = ("same", "changed", "added", "removed")


@dataclass
class NodeDiff:
    """One node of the union: a matched pair, or a node of only one side."""

    id: str  # the node's id in the union graph
    status: str
    a: str | None  # its id in A (None when added)
    b: str | None  # its id in B (None when removed)
    name_a: str | None
    name_b: str | None
    kind: str
    op_type_a: str | None
    op_type_b: str | None
    group: tuple[str, ...]
    params_a: int | None
    params_b: int | None
    macs_a: int | None = None
    macs_b: int | None = None
    changes: list[Change] = field(default_factory=list)
    cause: bool = False
    matched_by: str | None = None  # "name" or "structure"
    renamed: bool = False
    #: Why a node of one model has no partner in the other when a known exporter or
    #: framework rewrite accounts for it (``folded into conv1``); empty otherwise.
    explanation: str = ""

    @property
    def name(self) -> str:
        return self.name_b if self.name_b is not None else (self.name_a or self.id)

    @property
    def label(self) -> str:
        """``same``, ``changed``, ``reshaped`` (a change that follows upstream), ``added``
        or ``removed``."""
        if self.status == "changed" and not self.cause:
            return "reshaped"
        return self.status

    @property
    def note(self) -> str:
        """The change worth a diagram label (``units 256 → 512``); empty when none."""
        return headline(self.changes)

    @property
    def renamed_only(self) -> bool:
        """Changed, and only by its name."""
        return self.status == "changed" and bool(self.changes) and \
            all(c.what == "name" for c in self.changes)

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id, "status": self.status, "cause": self.cause,
            "a": self.a, "b": self.b, "name_a": self.name_a, "name_b": self.name_b,
            "kind": self.kind, "op_type_a": self.op_type_a, "op_type_b": self.op_type_b,
            "group": list(self.group), "params_a": self.params_a, "params_b": self.params_b,
            "macs_a": self.macs_a, "macs_b": self.macs_b,
            "changes": [c.to_dict() for c in self.changes],
            "matched_by": self.matched_by, "renamed": self.renamed,
            "explanation": self.explanation,
        }


@dataclass
class EdgeDiff:
    """A tensor between two union nodes: in both graphs (``same``, or ``changed`` when
    its shape changed), only in A (``removed``) or only in B (``added``)."""

    src: str
    dst: str
    status: str
    shape_a: str | None = None
    shape_b: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "status": self.status,
                "shape_a": self.shape_a, "shape_b": self.shape_b}


@dataclass
class GroupDiff:
    """A group of the union (a module, a scope), summarised over everything inside it."""

    path: tuple[str, ...]
    label: str
    class_name: str  # B's class (A's for a group only in A)
    class_name_a: str = ""  # A's class at the same path, when A has the group
    status: str = "same"
    cause: bool = False
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(STATUSES, 0))
    reshaped: int = 0
    explained: int = 0  # added or removed nodes a known rewrite accounts for
    #: The explanation all of them share (``part of layers.0.self_attn (spelled out)``).
    explanation: str | None = None
    params_a: int = 0
    params_b: int = 0
    edges_changed: int = 0
    causes: list[str] = field(default_factory=list)  # union ids of cause nodes inside

    def to_dict(self) -> dict[str, Any]:
        return {"path": list(self.path), "label": self.label, "class_name": self.class_name,
                "class_name_a": self.class_name_a,
                "status": self.status, "cause": self.cause, "counts": dict(self.counts),
                "reshaped": self.reshaped, "explained": self.explained,
                "explanation": self.explanation or "",
                "params_a": self.params_a,
                "params_b": self.params_b, "edges_changed": self.edges_changed}


@dataclass
class DiffResult:
    """The result of :func:`netdraw.diff`; ``union`` is the graph of both models in one.

    >>> result = netdraw.diff("a.onnx", "b.onnx")      # doctest: +SKIP
    >>> result.same, result.counts()                    # doctest: +SKIP
    (False, {'same': 60, 'changed': 1, 'added': 14, 'removed': 0, 'reshaped': 0})
    >>> print(result.table("markdown"))                 # doctest: +SKIP
    """

    name_a: str
    name_b: str
    framework_a: str
    framework_b: str
    nodes: dict[str, NodeDiff]
    edges: list[EdgeDiff]
    groups: dict[tuple[str, ...], GroupDiff]
    params: tuple[int, int]
    macs: tuple[int, int]
    matched: dict[str, int]  # "name", "structure": pairs matched each way
    sizes: tuple[int, int]  # nodes compared in A and in B
    union: Graph
    a: Graph
    b: Graph
    #: Renamed modules and layers, outermost (``("head", "classifier")``): their weights
    #: are saved under other keys, so a rename is a change.
    renames: list[tuple[str, str]] = field(default_factory=list)

    @property
    def same(self) -> bool:
        """True when every node and every edge is the same: the same architecture, with
        the same names."""
        return all(n.status == "same" for n in self.nodes.values()) and \
            all(e.status == "same" for e in self.edges)

    @property
    def same_architecture(self) -> bool:
        """True when nothing but names changed."""
        return all(n.status == "same" or n.renamed_only for n in self.nodes.values()) and \
            all(e.status == "same" for e in self.edges)

    def equivalences(self) -> list[NodeDiff]:
        """The differences a known exporter or framework rewrite accounts for (a folded
        normalisation, a fused activation, an operation spelled out, shared initializers,
        constant folding): the nodes with an explanation, changed or not."""
        return [n for n in self.nodes.values() if n.explanation]

    @property
    def equivalent(self) -> bool:
        """True when every difference is one a known rewrite accounts for: added and
        removed nodes are explained, no node changed, and every added or removed edge
        only goes around explained nodes (``conv → relu`` for ``conv → bn → relu``)."""
        if any(n.status == "changed" or (n.status in ("added", "removed")
                                         and not n.explanation)
               for n in self.nodes.values()):
            return False
        explained = {n.id for n in self.nodes.values()
                     if n.status in ("added", "removed") and n.explanation}
        by_status: dict[str, dict[str, list[str]]] = {"added": {}, "removed": {}}
        for e in self.edges:
            if e.status in by_status:
                by_status[e.status].setdefault(e.src, []).append(e.dst)
        for e in self.edges:
            if e.status == "same":
                continue
            if e.status == "changed":
                return False
            if e.src in explained or e.dst in explained:
                continue
            other = by_status["removed" if e.status == "added" else "added"]
            if not _path_through(other, e.src, e.dst, explained):
                return False
        return True

    def counts(self) -> dict[str, int]:
        """Nodes per status; ``changed`` counts causes, ``reshaped`` the changes that only
        follow upstream."""
        out = dict.fromkeys((*STATUSES, "reshaped"), 0)
        for n in self.nodes.values():
            out[n.label] += 1
        return out

    @property
    def match_rate(self) -> float:
        """Matched pairs over the smaller graph's node count (1.0: all of it matched)."""
        pairs = sum(self.matched.values())
        return pairs / max(1, min(self.sizes))

    def unmatched(self) -> tuple[list[NodeDiff], list[NodeDiff]]:
        """Nodes only in A (removed) and only in B (added)."""
        nodes = self.nodes.values()
        return ([n for n in nodes if n.status == "removed"],
                [n for n in nodes if n.status == "added"])

    def node_for(self, side: str, node_id: str) -> NodeDiff | None:
        """The record of node ``node_id`` of graph ``side`` (``"a"`` or ``"b"``)."""
        for n in self.nodes.values():
            if getattr(n, side) == node_id:
                return n
        return None

    def table(self, fmt: str = "text", view: Graph | None = None, equivalent: bool = False,
              **view_options: Any) -> str:
        """The table of changes (``text``, ``markdown`` or ``latex``); view options as
        for :func:`netdraw.render` choose the rows (default view; ``full=True``: every
        node); ``equivalent`` lists the differences known exporter rewrites account for
        as ``equivalent``."""
        from netdraw.diff.table import table

        return table(self, fmt, view, equivalent, **view_options)

    def render(self, format: str = "svg", **options: Any) -> str | bytes:
        """Draw the diff (see :func:`netdraw.diff.draw.render_diff`)."""
        from netdraw.diff.draw import render_diff

        return render_diff(self, format, **options)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "renames": [{"a": a, "b": b} for a, b in self.renames],
            "equivalent": self.equivalent,
            "a": {"name": self.name_a, "framework": self.framework_a, "nodes": self.sizes[0],
                  "params": self.params[0], "macs": self.macs[0]},
            "b": {"name": self.name_b, "framework": self.framework_b, "nodes": self.sizes[1],
                  "params": self.params[1], "macs": self.macs[1]},
            "same": self.same,
            "counts": self.counts(),
            "totals": {"params": {"a": self.params[0], "b": self.params[1],
                                  "difference": self.params[1] - self.params[0]},
                       "macs": {"a": self.macs[0], "b": self.macs[1],
                                "difference": self.macs[1] - self.macs[0]}},
            "matching": {**self.matched, "rate": round(self.match_rate, 4)},
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
            "groups": [g.to_dict() for _, g in sorted(self.groups.items())],
            "union": self.union.to_dict(),
        }

    def to_json(self, indent: int | None = 1) -> str:
        """The public JSON form (schema ``netdraw.diff/1``); deterministic."""
        return json_text(self.to_dict(), what="the diff", indent=indent,
                         ensure_ascii=False) + "\n"

    def __repr__(self) -> str:
        c = self.counts()
        parts = ", ".join(f"{v} {k}" for k, v in c.items() if v)
        return f"<DiffResult {self.name_a!r} → {self.name_b!r}: {parts}>"


def _path_through(succ: dict[str, list[str]], src: str, dst: str, via: set[str]) -> bool:
    """Whether ``succ`` leads from ``src`` to ``dst`` through nodes of ``via`` only."""
    seen: set[str] = set()
    todo = [src]
    while todo:
        here = todo.pop()
        for nxt in succ.get(here, []):
            if nxt == dst:
                return True
            if nxt in via and nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    return False
