"""Drawing overrides a graph can carry: ``graph.meta["decorations"]``.

A pass or a feature (``netdraw diff`` colours nodes by what changed) can ask every
backend to draw some nodes and edges differently, and to add a legend, without a
backend knowing about the feature. The form (JSON-ready, all keys optional)::

    {"nodes":  {NODE_ID: {"fill": "#ffe3a3", "stroke": "#c77c02", "dashed": false,
                          "width": 1.6, "prefix": "~", "notes": ["units 256 → 512"],
                          "note_colour": "#8a5300", "muted": false}},
     "edges":  [{"src": ID, "dst": ID, "stroke": "#cb181d", "dashed": true, "width": 1.2,
                 "label": "1×256 → 1×512", "link": false}],
     "legend": [{"label": "removed", "fill": "#fde0dd", "stroke": "#cb181d",
                 "dashed": true}],
     "align":  [[ID, ID], …]}

``fill``/``stroke`` override the node's colours, ``dashed`` its outline, ``prefix`` goes
before its name, ``notes`` are extra label lines; ``muted`` greys its text. An edge with
``link`` joins two nodes without being a data flow (drawn dotted, not used for layout);
``align`` lists node sets drawn side by side on one level. Colours must be ``#rrggbb``;
anything malformed is ignored (a graph read from a JSON file is untrusted), and text is
escaped by each backend like every other label.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from netdraw.ir import Graph

_COLOUR = re.compile(r"^#[0-9a-fA-F]{6}$")
_MAX_NOTES = 3


def _colour(value: Any) -> str | None:
    return value if isinstance(value, str) and _COLOUR.match(value) else None


def _width(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return min(max(float(value), 0.1), 8.0)
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""


@dataclass(frozen=True)
class NodeStyle:
    fill: str | None = None
    stroke: str | None = None
    dashed: bool = False
    width: float | None = None
    prefix: str = ""
    notes: tuple[str, ...] = ()
    note_colour: str | None = None
    muted: bool = False


@dataclass(frozen=True)
class EdgeStyle:
    stroke: str | None = None
    dashed: bool = False
    width: float | None = None
    label: str | None = None
    link: bool = False


@dataclass(frozen=True)
class LegendItem:
    label: str
    fill: str | None = None
    stroke: str | None = None
    dashed: bool = False


def node_style(spec: Any) -> NodeStyle | None:
    """A node's look from its (untrusted) decoration entry; None when it is no mapping."""
    if not isinstance(spec, dict):
        return None
    notes = spec.get("notes")
    notes = [n for n in notes if isinstance(n, str)] if isinstance(notes, list) else []
    return NodeStyle(
        _colour(spec.get("fill")), _colour(spec.get("stroke")),
        spec.get("dashed") is True, _width(spec.get("width")),
        _text(spec.get("prefix"))[:3], tuple(notes[:_MAX_NOTES]),
        _colour(spec.get("note_colour")), spec.get("muted") is True)


def edge_style(spec: dict[str, Any]) -> EdgeStyle:
    """An edge's look from its (untrusted) decoration entry."""
    label = spec.get("label")
    return EdgeStyle(_colour(spec.get("stroke")), spec.get("dashed") is True,
                     _width(spec.get("width")), label if isinstance(label, str) else None,
                     spec.get("link") is True)


def legend_item(spec: dict[str, Any]) -> LegendItem:
    """A legend entry from its decoration entry (``label`` must be text)."""
    return LegendItem(spec["label"], _colour(spec.get("fill")), _colour(spec.get("stroke")),
                      spec.get("dashed") is True)


class Decorations:
    """The validated decorations of a graph (empty when it has none)."""

    def __init__(self, graph: Graph) -> None:
        data = graph.meta.get("decorations")
        data = data if isinstance(data, dict) else {}
        self.nodes: dict[str, NodeStyle] = {}
        nodes = data.get("nodes")
        for nid, spec in (nodes.items() if isinstance(nodes, dict) else ()):
            style = node_style(spec)
            if style is not None and nid in graph.nodes:
                self.nodes[nid] = style
        self.edges: dict[tuple[str, str], EdgeStyle] = {}
        edges = data.get("edges")
        for spec in (edges if isinstance(edges, list) else ()):
            if not isinstance(spec, dict):
                continue
            src, dst = spec.get("src"), spec.get("dst")
            if isinstance(src, str) and isinstance(dst, str):
                self.edges[(src, dst)] = edge_style(spec)
        legend = data.get("legend")
        self.legend: list[LegendItem] = [
            legend_item(spec)
            for spec in (legend if isinstance(legend, list) else ())
            if isinstance(spec, dict) and isinstance(spec.get("label"), str)]
        align = data.get("align")
        self.align: list[list[str]] = [
            [nid for nid in ids if isinstance(nid, str) and nid in graph.nodes]
            for ids in (align if isinstance(align, list) else ()) if isinstance(ids, list)]
        self.align = [ids for ids in self.align if len(ids) > 1]

    def __bool__(self) -> bool:
        return bool(self.nodes or self.edges or self.legend or self.align)

    def node(self, nid: str) -> NodeStyle | None:
        return self.nodes.get(nid)

    def first(self, nids: Iterable[str]) -> NodeStyle | None:
        """The style of the first of ``nids`` that has one (a figure item drawn for several
        nodes takes its first decorated node's)."""
        return next((self.nodes[n] for n in nids if n in self.nodes), None)

    def edge(self, src: str, dst: str) -> EdgeStyle | None:
        return self.edges.get((src, dst))

    def links(self) -> list[tuple[str, str, EdgeStyle]]:
        """Link edges (``link: true``): drawn although they are not edges of the graph."""
        return [(s, d, style) for (s, d), style in self.edges.items() if style.link]
