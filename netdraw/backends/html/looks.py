"""Status looks on a page: a diff's colours for every view the reader opens.

Another feature (``netdraw diff``, :class:`netdraw.diff.page.DiffPage`) hands the page a
*looks source*: an object with ``decorate(view)`` (the first view, decorated as every
other format draws it), ``page_data(prepared)`` (looks, panel rows and summaries per node
id and group path, and the edge records) and ``title`` (the panel section's heading).
Here that data becomes the page model's ``looks`` section, by index, with every DOT
fragment made by :mod:`netdraw.backends.dot` (decorated node and block attributes, label
templates of rolled runs per status and note count, edge attributes per status, legend
boxes), so ``view.js`` only picks fragments and fills in escaped text.
"""

from __future__ import annotations

from typing import Any, Protocol

from netdraw.backends import dot
from netdraw.backends.decorations import edge_style, legend_item, node_style
from netdraw.ir import Graph, Node

Path = tuple[str, ...]
#: Placeholders: a run's name, detail, facts, tooltip, then up to three note lines.
NOTE_PLACEHOLDERS = ("\ue004", "\ue005", "\ue006")
LABEL_PLACEHOLDER = "\ue000"


class LooksSource(Protocol):
    title: str

    def decorate(self, view: Graph) -> Graph: ...

    def page_data(self, prepared: Graph) -> dict[str, Any]: ...


def apply_looks(model: dict[str, Any], builder: Any, data: dict[str, Any],
                title: str) -> None:
    """Decorate a page model (made by ``_Builder``) with ``data`` from a looks source."""
    nodes, groups = model["nodes"], model["groups"]
    node_index, group_index = builder.node_index, builder.group_index
    extra = model.setdefault("extra", {})
    for entry in nodes:  # the source's own record of a node is shown as rows instead
        entry["attrs"].pop("diff", None)
    for nid, entry in data["nodes"].items():
        i = node_index.get(nid)
        if i is None:
            continue
        node = builder.graph.nodes[nid]
        nodes[i]["status"] = entry["status"]
        nodes[i]["dot"] = dot.format_attrs(dot.node_attrs(
            builder.drawn(node), builder.drawn_graph, node_style(entry["look"])))
        if entry["rows"]:
            extra[str(i)] = [[str(k), str(v)] for k, v in entry["rows"]] + \
                extra.get(str(i), [])
    blocks = builder.blocks
    for path, entry in data["groups"].items():
        g = group_index.get(path)
        if g is None:
            continue
        groups[g]["status"] = entry["status"]
        groups[g]["rows"] = [[str(k), str(v)] for k, v in entry["rows"]]
        groups[g]["summary"] = entry["summary"]
        block = blocks.get(path)
        if block is not None:
            groups[g]["dot"] = dot.format_attrs(dot.node_attrs(
                block, builder.drawn_graph, node_style(entry["look"])))
    model["extra_title"] = title
    model["looks"] = {
        "rolls": {status: _roll_templates(look) for status, look in data["looks"].items()},
        "prefix": {status: look.get("prefix", "") for status, look in data["looks"].items()},
        "edges": [[_anchor(a, node_index, group_index), _anchor(b, node_index, group_index),
                   status, label] for a, b, status, label in data["edges"]],
        "edge_attrs": {status: {"plain": dot.decorated_edge_attrs("", edge_style(spec)),
                                "label": dot.decorated_edge_attrs(LABEL_PLACEHOLDER,
                                                                  edge_style(spec))}
                       for status, spec in data["edge_looks"].items()},
        "legend": [[status, dot.legend_attrs(legend_item(spec))]
                   for status, spec in data["legend"]],
        "edge_labels": builder.edge_labels,
        "status_text": {str(k): str(v) for k, v in data.get("status_text", {}).items()},
    }


def _anchor(anchor: tuple[str | None, bool, Path], node_index: dict[str, int],
            group_index: dict[Path, int]) -> list[Any]:
    """``[node index or -1, is input/output, group indices of the group's prefixes that
    are groups of the page, shortest first]``."""
    holder, io, group = anchor
    prefixes = [group_index[group[:d]] for d in range(len(group) + 1)
                if group[:d] in group_index]
    return [node_index.get(holder, -1) if holder is not None else -1, io, prefixes]


def _roll_templates(look: dict[str, Any]) -> list[dict[str, str]]:
    """A rolled run's attribute lists for 0…3 note lines, each with and without facts;
    the name placeholder takes the status prefix in the page (DOT cuts both together)."""
    name, detail, facts, tooltip = "\ue000", "\ue001", "\ue002", "\ue003"
    probe = Node("roll", name, "block", "Block", attrs={"repeat": 2})
    out = []
    for count in range(len(NOTE_PLACEHOLDERS) + 1):
        style = node_style({**look, "prefix": "", "notes": list(NOTE_PLACEHOLDERS[:count])})
        attrs = dot.node_attrs(probe, deco=style)
        templates = {}
        for key, label in (("facts", dot.label_table(name, detail, facts, style=style)),
                           ("plain", dot.label_table(name, detail, style=style))):
            templates[key] = dot.format_attrs({**attrs, "label": label, "tooltip": tooltip})
        out.append(templates)
    return out


__all__ = ["LooksSource", "apply_looks"]
