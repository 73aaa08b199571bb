"""Graphviz backend: DOT text, and SVG/PNG/PDF through the ``dot`` binary.

One box per node (name, op type and key attributes, output shape, parameters), edges
labelled with the tensor shape, groups as nested clusters. Every user string goes into an
HTML-like label after HTML escaping, and DOT identifiers are generated (``n0``, ``n1``…), so
no layer name can break or inject DOT.
"""

from __future__ import annotations

import functools
import html
import re
import shutil
from typing import Any

from netdraw import tools
from netdraw.backends import valid_unicode
from netdraw.backends.decorations import Decorations, NodeStyle
from netdraw.describe import (
    display_name,
    fill_colour,
    format_count,
    group_title,
    key_attrs,
    output_spec,
)
from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Node
from netdraw.passes.layout import split
from netdraw.passes.macs import format_macs

RENDER_FORMATS = ("svg", "png", "pdf")
#: Characters XML (and so Graphviz's label parser) refuses: controls, noncharacters.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_MAX_LABEL = 60
_MERGE = {"shape": "ellipse", "style": "filled"}
#: Shape overrides by kind: inputs/outputs stand out, merges are round.
_NODE_STYLE: dict[str, dict[str, str]] = {
    "input": {"style": "filled,bold", "penwidth": "1.4"},
    "output": {"style": "filled,bold", "penwidth": "1.4"},
    "add": _MERGE, "multiply": _MERGE, "concat": _MERGE,
    "block": {"style": "rounded,filled,bold", "penwidth": "1.2"},
}
#: A rolled run (``×N``) is drawn as a stack of boxes.
_ROLLED = {"shape": "box3d", "style": "filled", "penwidth": "1.0"}


@functools.lru_cache(maxsize=1 << 16)  # shapes, op types and details repeat across nodes
def _text(value: str, limit: int = _MAX_LABEL) -> str:
    """Escape for an HTML-like label; newlines become spaces, long names are shortened.
    Never empty: Graphviz refuses an empty ``<b></b>`` or ``label=<>``."""
    s = _CONTROL.sub("", " ".join(str(value).split()))
    if len(s) > limit:
        s = s[: limit - 1] + "…"
    return html.escape(s, quote=True) or " "


def _tooltip(value: str) -> str:
    """Escape for a quoted DOT string: quotes escaped, and each backslash written as four:
    Graphviz reads two as one and then expands ``\\N``, ``\\G``… (escString) in what is left,
    so a doubled backslash would still turn a name's ``\\N`` into the node's DOT id."""
    return _CONTROL.sub("", value).replace("\\", "\\" * 4).replace('"', '\\"')


def label_parts(node: Node, graph: Graph | None = None,
                show_shapes: bool = True) -> tuple[str, str, str]:
    """The three lines of a node's box: name, detail (op type and key attributes) and
    facts (output shape and parameters); detail and facts may be empty."""
    name = display_name(node, graph)
    detail = node.op_type
    attrs = key_attrs(node)
    repeat = node.attrs.get("repeat") if node.kind == "block" else None
    if repeat:
        detail = f"{detail} ×{repeat}"
    elif attrs:
        sep = " " if attrs.startswith("+") else " · "
        detail = f"{detail}{sep}{attrs}" if detail else attrs
    facts = []
    spec = output_spec(node)
    if show_shapes and spec is not None and spec.format_shape():
        facts.append(spec.format_shape())
    if node.params:
        facts.append(f"{format_count(node.params)} params")
    return name, detail if detail != name else "", " · ".join(facts)


def label_table(name: str, detail: str = "", facts: str = "",
                style: NodeStyle | None = None) -> str:
    """The HTML-like label of a box from its three lines (each escaped here); ``style`` (a
    node's decoration, e.g. its diff status) adds a name prefix and note lines."""
    prefix = f"{style.prefix} " if style is not None and style.prefix else ""
    rows = [f'<tr><td><b>{_text(prefix + name)}</b></td></tr>']
    if detail:
        rows.append(f'<tr><td><font point-size="9">{_text(detail)}</font></td></tr>')
    if facts:
        rows.append(f'<tr><td><font point-size="9" color="#444444">{_text(facts)}'
                    "</font></td></tr>")
    for note in style.notes if style is not None else ():
        colour = style.note_colour or "#222222"
        rows.append(f'<tr><td><font point-size="10" color="{colour}"><b>{_text(note)}</b>'
                    "</font></td></tr>")
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + \
        "".join(rows) + "</table>>"


def node_label(node: Node, graph: Graph | None = None, show_shapes: bool = True,
               style: NodeStyle | None = None) -> str:
    """The HTML-like label of a node (see :func:`label_parts`, :func:`label_table`)."""
    return label_table(*label_parts(node, graph, show_shapes), style=style)


_CONNECTOR = {"shape": "circle", "style": "filled", "fillcolor": "#ffffff", "width": "0.3",
              "fixedsize": "true", "fontsize": "10", "penwidth": "1.0"}


def _connector_letter(column: int) -> str:
    """A, B, … Z, then AA, AB, …: the name of the connector into ``column`` (1-based)."""
    n, letters = column, ""
    while n > 0:
        n, rem = divmod(n - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters or "A"


def _attrs(attrs: dict[str, str]) -> str:
    """``[key=value ...]`` for generated values: HTML labels pass as is, others are quoted."""
    parts = []
    for key, value in attrs.items():
        if value.startswith("<") and value.endswith(">"):
            parts.append(f"{key}={value}")
        else:
            parts.append(f'{key}="{value}"')
    return "[" + " ".join(parts) + "]"


def tooltip_text(node: Node) -> str:
    """What hovering a box shows: name, op type, parameters and MACs."""
    text = f"{node.name} ({node.op_type})"
    raw = node.attrs.get("onnx_name")
    if isinstance(raw, str) and raw != node.name:
        text += f" [ONNX: {raw}]"  # the exporter's own name, as Netron shows it
    macs = node.attrs.get("macs")
    if node.params or macs is not None:
        text += f": {node.params:,} params"
        if macs is not None:
            text += f", {format_macs(macs)} MACs"
    return text


def node_attrs(node: Node, graph: Graph | None = None,
               deco: NodeStyle | None = None) -> dict[str, str]:
    """A node's DOT attributes (label, colours, shape, tooltip), every user string escaped;
    ``deco`` is the node's decoration (see :mod:`netdraw.backends.decorations`)."""
    style = _ROLLED if node.attrs.get("repeat") else _NODE_STYLE.get(node.kind, {})
    attrs = {"label": node_label(node, graph, style=deco), "fillcolor": fill_colour(node.kind),
             "tooltip": _tooltip(tooltip_text(node)), **style}
    if deco is not None:
        attrs.update(_node_overrides(deco, attrs.get("style", "rounded,filled")))
    return attrs


def format_attrs(attrs: dict[str, str]) -> str:
    """``[key=value ...]`` for attributes made by this module (see :func:`node_attrs`)."""
    return _attrs(attrs)


def cluster_attrs(graph: Graph, path: tuple[str, ...]) -> str:
    """The ``graph [...]`` line that labels and styles the cluster of group ``path``."""
    return (f'graph [label=<{_text(group_title(graph, path), 80)}> '
            'style="rounded,dashed" color="#888888" fontsize="10" labeljust="l"]')


def edge_attrs(edge: Edge, edge_labels: bool = True, deco: Any = None) -> str:
    """`` [label=<shape>]`` for an edge carrying a known shape, else empty; ``deco`` (the
    edge's decoration) may replace the label and style the line."""
    shape = edge.tensor.format_shape() if edge_labels else ""
    if deco is not None:
        if deco.label is not None and edge_labels:
            shape = deco.label
        return _edge_attrs(shape, deco)
    return f" [label=<{_text(shape)}>]" if shape else ""


def header_lines(graph: Graph, rankdir: str = "TB", title: str | None = None) -> list[str]:
    """The ``digraph`` line and the graph, node and edge defaults (and the title)."""
    if rankdir not in ("TB", "LR", "BT", "RL"):
        raise NetdrawError(f"--rankdir must be TB or LR (or BT, RL), not {rankdir!r}")
    lines = [
        "digraph netdraw {",
        f'\tgraph [rankdir={rankdir} fontname="Helvetica" nodesep="0.25" ranksep="0.35" '
        'newrank="true"]',
        '\tnode [shape="box" style="rounded,filled" fontname="Helvetica" fontsize="11" '
        'margin="0.12,0.05" penwidth="0.8"]',
        '\tedge [fontname="Helvetica" fontsize="8" color="#555555" arrowsize="0.6"]',
    ]
    label = title if title is not None else graph.name
    if label:
        lines.append(f'\tgraph [label=<<b>{_text(label, 120)}</b>> labelloc="t" fontsize="14"]')
    return lines


def to_dot(graph: Graph, *, rankdir: str = "TB", title: str | None = None,
           edge_labels: bool = True, columns: int | None = None, **_: Any) -> str:
    """The graph as DOT source text (written directly: linear time, no per-line overhead).

    ``columns`` wraps a tall top-to-bottom drawing into side-by-side columns (default: the
    number the view suggests in ``meta["view"]["columns"]``, else 1).
    """
    lines = header_lines(graph, rankdir, title)

    ids = {nid: f"n{i}" for i, nid in enumerate(graph.nodes)}
    # Group tree -> nested clusters. children[path] lists child group paths in first-use order.
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    members: dict[tuple[str, ...], list[Node]] = {(): []}
    placed: set[tuple[str, ...]] = set()  # O(N + G): each group is linked to its parent once
    for node in graph.nodes.values():
        path = node.group
        members.setdefault(path, []).append(node)
        while path and path not in placed:
            placed.add(path)
            children.setdefault(path[:-1], []).append(path)
            members.setdefault(path, [])
            path = path[:-1]

    if columns is None:
        columns = int((graph.meta.get("view") or {}).get("columns") or 1)
    column = split(graph, columns if rankdir in ("TB", "BT") else 1)
    # A group wrapped across columns cannot be one cluster: its members are drawn without
    # the box (O(N·depth) to find them).
    spans: dict[tuple[str, ...], set[int]] = {}
    if columns > 1:
        for node in graph.nodes.values():
            for d in range(1, len(node.group) + 1):
                spans.setdefault(node.group[:d], set()).add(column[node.id])
    cluster_count = 0

    decorations = Decorations(graph)

    def emit(path: tuple[str, ...], indent: str) -> None:
        nonlocal cluster_count
        for node in members.get(path, []):
            attrs = node_attrs(node, graph, decorations.node(node.id))
            lines.append(f"{indent}{ids[node.id]} {_attrs(attrs)}")
        for child in children.get(path, []):
            if (len(members.get(child, [])) == 1 and not children.get(child)) or \
                    len(spans.get(child, ())) > 1:
                emit(child, indent)  # a box around one node says nothing the node does not
                continue
            lines.append(f"{indent}subgraph cluster_{cluster_count} {{")
            cluster_count += 1
            lines.append(f"{indent}\t{cluster_attrs(graph, child)}")
            emit(child, indent + "\t")
            lines.append(f"{indent}}}")

    emit((), "\t")
    # An edge into a later column ends at a lettered connector (as in a flowchart) at the
    # bottom of its own column and continues from the same letter at the top of the next.
    wraps: dict[int, str] = {}
    sent: set[tuple[str, int]] = set()
    for edge in graph.edges:
        attrs = edge_attrs(edge, edge_labels, decorations.edge(edge.src, edge.dst))
        src, target = ids[edge.src], column[edge.dst]
        if column[edge.src] != target:
            letter = _connector_letter(target)
            if target not in wraps:
                wraps[target] = f"wrap{target}"
                lines.append(f'\t{wraps[target]} {_attrs(dict(_CONNECTOR, label=letter))}')
            if (edge.src, target) not in sent:
                sent.add((edge.src, target))
                out = f"wrapout{target}_{len(sent)}"
                lines.append(f'\t{out} {_attrs(dict(_CONNECTOR, label=letter))}')
                lines.append(f"\t{src} -> {out}{attrs}")
            src = wraps[target]
        lines.append(f"\t{src} -> {ids[edge.dst]}{attrs}")
    heads: dict[int, str] = {}
    for nid in graph.nodes:
        heads.setdefault(column[nid], ids[nid])
    heads.update(wraps)
    if len(heads) > 1:
        # Column heads share the top rank, left to right in order.
        lines.append("\t{rank=same; " + " ".join(heads.values()) + "}")
        ordered = [heads[c] for c in sorted(heads)]
        for a, b in zip(ordered, ordered[1:], strict=False):
            lines.append(f'\t{a} -> {b} [style="invis"]')
    lines.extend(_decoration_lines(decorations, ids))
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node_overrides(deco: NodeStyle, style: str) -> dict[str, str]:
    """DOT attributes of a decorated node (colours, dashed outline, muted text)."""
    out: dict[str, str] = {}
    if deco.fill:
        out["fillcolor"] = deco.fill
    if deco.stroke:
        out["color"] = deco.stroke
    if deco.dashed:
        out["style"] = style + ",dashed"
    if deco.width is not None:
        out["penwidth"] = f"{deco.width:g}"
    if deco.muted:
        out["fontcolor"] = "#555555"
    return out


def _edge_attrs(label: str, deco) -> str:
    attrs: dict[str, str] = {}
    if label:
        attrs["label"] = f"<{_text(label)}>"
    if deco.stroke:
        attrs["color"] = deco.stroke
        attrs["fontcolor"] = deco.stroke
    if deco.dashed:
        attrs["style"] = "dashed"
    if deco.width is not None:
        attrs["penwidth"] = f"{deco.width:g}"
    return " " + _attrs(attrs) if attrs else ""


def _decoration_lines(decorations: Decorations, ids: dict[str, str]) -> list[str]:
    """Links, alignments and the legend a graph's decorations ask for."""
    lines: list[str] = []
    for src, dst, deco in decorations.links():
        if src in ids and dst in ids:
            attrs = {"style": "dashed" if deco.dashed else "dotted", "dir": "none",
                     "constraint": "false", "color": deco.stroke or "#999999",
                     "penwidth": f"{deco.width or 0.8:g}"}
            lines.append(f"\t{ids[src]} -> {ids[dst]} {_attrs(attrs)}")
    for group in decorations.align:
        members = " ".join(ids[n] for n in group if n in ids)
        lines.append("\t{rank=same; " + members + "}")
    if decorations.legend:
        lines.append("\tsubgraph cluster_legend {")
        lines.append('\t\tgraph [label=<<b>Legend</b>> style="rounded" color="#bbbbbb" '
                     'fontsize="11" labeljust="l" margin="10"]')
        names = []
        for i, item in enumerate(decorations.legend):
            name = f"legend{i}"
            names.append(name)
            attrs = {"label": f"<{_text(item.label)}>", "shape": "box",
                     "style": "rounded,filled" + (",dashed" if item.dashed else ""),
                     "fillcolor": item.fill or "#ffffff", "color": item.stroke or "#555555",
                     "penwidth": "1.4", "fontsize": "11", "margin": "0.1,0.04"}
            lines.append(f"\t\t{name} {_attrs(attrs)}")
        lines.append("\t\t{rank=same; " + " ".join(names) + "}")
        for a, b in zip(names, names[1:], strict=False):
            lines.append(f'\t\t{a} -> {b} [style="invis"]')
        lines.append("\t}")
    return lines


def render_dot(source: str, fmt: str, timeout: float | str | None = None) -> bytes:
    """Lay out DOT source with Graphviz's ``dot`` and return the ``fmt`` bytes (within the
    time limit of :func:`netdraw.tools.time_limit`)."""
    if fmt not in RENDER_FORMATS:
        raise NetdrawError(f"Graphviz cannot render {fmt!r} here; choose one of "
                           f"{', '.join(RENDER_FORMATS)}")
    exe = shutil.which("dot")
    if exe is None:
        raise NetdrawError(f"rendering .{fmt} needs Graphviz's 'dot' program, which is not "
                           "installed: run 'apt-get install graphviz' (Debian/Ubuntu) or "
                           "'brew install graphviz', or write .dot text instead")
    proc = tools.run([exe, f"-T{fmt}"], program="Graphviz 'dot'", input=source.encode("utf-8"),
                     timeout=timeout)
    if proc.returncode != 0:
        detail = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise NetdrawError(f"Graphviz 'dot' failed: "
                           f"{detail[-1][:300] if detail else f'exit status {proc.returncode}'}")
    return proc.stdout


def render(graph: Graph, fmt: str = "dot", **options: Any) -> str | bytes:
    """DOT text for ``dot``/``gv``; rendered bytes for ``svg``/``png``/``pdf``."""
    source = valid_unicode(to_dot(graph, **options))
    if fmt in ("dot", "gv"):
        return source
    return render_dot(source, fmt, options.get("timeout"))
