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
from netdraw.describe import (
    display_name,
    fill_colour,
    format_count,
    group_title,
    key_attrs,
    output_spec,
)
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node
from netdraw.passes.layout import split

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
    """Escape for a quoted DOT string: backslashes doubled (no escString runs), quotes escaped."""
    return _CONTROL.sub("", value).replace("\\", "\\\\").replace('"', '\\"')


def node_label(node: Node, graph: Graph | None = None, show_shapes: bool = True) -> str:
    name = display_name(node, graph)
    rows = [f'<tr><td><b>{_text(name)}</b></td></tr>']
    detail = node.op_type
    attrs = key_attrs(node)
    repeat = node.attrs.get("repeat") if node.kind == "block" else None
    if repeat:
        detail = f"{detail} ×{repeat}"
    elif attrs:
        sep = " " if attrs.startswith("+") else " · "
        detail = f"{detail}{sep}{attrs}" if detail else attrs
    if detail and detail != name:
        rows.append(f'<tr><td><font point-size="9">{_text(detail)}</font></td></tr>')
    facts = []
    spec = output_spec(node)
    if show_shapes and spec is not None and spec.format_shape():
        facts.append(spec.format_shape())
    if node.params:
        facts.append(f"{format_count(node.params)} params")
    if facts:
        rows.append(f'<tr><td><font point-size="9" color="#444444">{_text(" · ".join(facts))}'
                    "</font></td></tr>")
    return '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">' + \
        "".join(rows) + "</table>>"


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


def _tooltip_text(node: Node) -> str:
    text = f"{node.name} ({node.op_type})"
    macs = node.attrs.get("macs")
    if node.params or isinstance(macs, int):
        text += f": {node.params:,} params"
        if isinstance(macs, int):
            text += f", {format_count(macs)} MACs"
    return text


def to_dot(graph: Graph, *, rankdir: str = "TB", title: str | None = None,
           edge_labels: bool = True, columns: int | None = None, **_: Any) -> str:
    """The graph as DOT source text (written directly: linear time, no per-line overhead).

    ``columns`` wraps a tall top-to-bottom drawing into side-by-side columns (default: the
    number the view suggests in ``meta["view"]["columns"]``, else 1).
    """
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

    ids = {nid: f"n{i}" for i, nid in enumerate(graph.nodes)}
    # Group tree -> nested clusters. children[path] lists child group paths in first-use order.
    children: dict[tuple[str, ...], list[tuple[str, ...]]] = {}
    members: dict[tuple[str, ...], list[Node]] = {(): []}
    for node in graph.nodes.values():
        path = node.group
        members.setdefault(path, []).append(node)
        while path and path not in children.get(path[:-1], ()):
            children.setdefault(path[:-1], []).append(path)
            members.setdefault(path, [])
            path = path[:-1]

    cluster_count = 0

    def emit(path: tuple[str, ...], indent: str) -> None:
        nonlocal cluster_count
        for node in members.get(path, []):
            style = _ROLLED if node.attrs.get("repeat") else _NODE_STYLE.get(node.kind, {})
            attrs = {"label": node_label(node, graph), "fillcolor": fill_colour(node.kind),
                     "tooltip": _tooltip(_tooltip_text(node)), **style}
            lines.append(f"{indent}{ids[node.id]} {_attrs(attrs)}")
        for child in children.get(path, []):
            if len(members.get(child, [])) == 1 and not children.get(child):
                emit(child, indent)  # a box around one node says nothing the node does not
                continue
            lines.append(f"{indent}subgraph cluster_{cluster_count} {{")
            cluster_count += 1
            lines.append(f'{indent}\tgraph [label=<{_text(group_title(graph, child), 80)}> '
                         'style="rounded,dashed" color="#888888" fontsize="10" labeljust="l"]')
            emit(child, indent + "\t")
            lines.append(f"{indent}}}")

    emit((), "\t")
    if columns is None:
        columns = int((graph.meta.get("view") or {}).get("columns") or 1)
    column = split(graph, columns if rankdir in ("TB", "BT") else 1)
    # An edge into a later column ends at a lettered connector (as in a flowchart) at the
    # bottom of its own column and continues from the same letter at the top of the next.
    wraps: dict[int, str] = {}
    sent: set[tuple[str, int]] = set()
    for edge in graph.edges:
        shape = edge.tensor.format_shape() if edge_labels else ""
        attrs = f" [label=<{_text(shape)}>]" if shape else ""
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
    lines.append("}")
    return "\n".join(lines) + "\n"


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
