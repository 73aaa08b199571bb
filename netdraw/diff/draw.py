"""Drawing a diff: the union in one diagram, or A and B side by side.

**Union** (default): a view of the union graph (the same views, depth, expand and
collapse as ``draw``), every node and edge coloured by its status (see
:mod:`netdraw.diff.view`), a legend, and a title with both models' totals. Any backend
that draws graphs draws it: Graphviz (``dot``, ``svg``, ``png``, ``pdf``) and TikZ
(``tex``, and ``pdf``/``png`` with ``style="tikz"``) read the decorations; ``json`` writes
the whole :class:`~netdraw.diff.result.DiffResult` with the drawn view.

**Side by side** (``side_by_side=True``, Graphviz formats): A's view on the left, B's
on the right, both at the union view's depth; a node of A and its partner in B sit on
one level, joined by a dotted link (amber when changed), and nodes only in one model
are coloured as in the union.
"""

from __future__ import annotations

from typing import Any

from netdraw.describe import format_count
from netdraw.diff.result import DiffResult
from netdraw.diff.view import EDGE_LOOKS, decorate
from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Group, Node
from netdraw.output import json_text
from netdraw.passes._graph import rebuild
from netdraw.passes.view import VIEW_OPTIONS, ViewOptions, make_view, view_options

#: Formats a side-by-side drawing can be written in (it needs Graphviz's layout).
SIDE_BY_SIDE_FORMATS = ("dot", "gv", "svg", "png", "pdf", "json")


def _options(options: dict[str, Any]) -> tuple[ViewOptions, dict[str, Any]]:
    given = {k: options.pop(k) for k in VIEW_OPTIONS if k in options}
    return view_options(**given), options


def union_view(result: DiffResult, options: ViewOptions | None = None,
               legend: bool = True) -> Graph:
    """The decorated view of the union graph (statuses in ``attrs["diff"]``, looks in
    ``meta["decorations"]``)."""
    view = make_view(result.union, options or ViewOptions())
    return decorate(view, result, legend=legend)


def default_title(result: DiffResult) -> str:
    """``resnet18 → resnet34: params 11.7M → 21.8M (+10.1M) · MACs 1.8G → 3.7G``."""
    def totals(what: str, a: int, b: int) -> str:
        if a == b:
            return f"{what} {format_count(a)} (same)"
        sign = "+" if b > a else "−"
        return f"{what} {format_count(a)} → {format_count(b)} ({sign}{format_count(abs(b - a))})"

    parts = [totals("params", *result.params)]
    if any(result.macs):
        parts.append(totals("MACs", *result.macs))
    return f"{result.union.name}: {' · '.join(parts)}"


def render_diff(result: DiffResult, format: str = "svg", *, side_by_side: bool = False,
                title: str | None = None, legend: bool = True, style: str | None = None,
                view: Graph | None = None, view_opts: ViewOptions | None = None,
                **options: Any) -> str | bytes:
    """Draw ``result`` as ``format``. View options (``depth``, ``expand``, ``collapse``,
    ``full``…) as for :func:`netdraw.render` or as ``view_opts``, or ``view`` (made by
    :func:`union_view`; an HTML page makes its views itself, from ``view_opts``);
    ``title`` (default: names and totals; ``""`` for none), ``legend``, ``rankdir`` and
    other backend options pass on."""
    from netdraw import backends

    fmt = format.lower().lstrip(".")
    chosen, rest = _options(dict(options))
    chosen = view_opts or chosen
    if side_by_side and fmt not in SIDE_BY_SIDE_FORMATS:
        raise NetdrawError(f"--side-by-side draws with Graphviz: write "
                           f"{', '.join('.' + f for f in SIDE_BY_SIDE_FORMATS)}, not .{fmt}")
    if fmt in ("html", "htm") and not side_by_side:
        # The page makes every view itself, from the union graph: each gets the looks.
        from netdraw.diff.page import DiffPage

        if title is None:
            title = default_title(result)
        return backends.render(result.union, fmt, style=style, title=title, view=chosen,
                               looks=DiffPage(result, legend=legend), **rest)
    if view is None:
        view = union_view(result, chosen, legend=legend)
    graph = side_by_side_graph(result, view, chosen) if side_by_side else view
    if fmt == "json":
        data = result.to_dict()
        data["view"] = graph.to_dict()
        return json_text(data, what="the diff", indent=1, ensure_ascii=False) + "\n"
    if title is None:
        title = default_title(result)
    return backends.render(graph, fmt, style=style, title=title, **rest)


# -- side by side ----------------------------------------------------------------------


def _side_graph(result: DiffResult, side: str,
                edge_status: dict[tuple[str, str], str]) -> Graph:
    """The union graph as seen from one side: its nodes with that side's facts (B: the
    union without removed nodes; A: without added ones, matched nodes with A's facts)."""
    union = result.union
    drop = "added" if side == "a" else "removed"
    source = result.a if side == "a" else result.b
    nodes: list[Node] = []
    for nid, node in union.nodes.items():
        rec = result.nodes[nid]
        if rec.status == drop:
            continue
        own_id = getattr(rec, side)
        original = source.nodes.get(own_id) if own_id is not None else None
        new = node.clone()
        if original is not None:
            new.name, new.op_type = original.name, original.op_type
            new.attrs = {**original.clone().attrs, "diff": node.attrs.get("diff")}
            new.params, new.inputs, new.outputs = \
                original.params, list(original.inputs), list(original.outputs)
        nodes.append(new)
    kept = {n.id for n in nodes}
    union_id = {getattr(rec, side): nid for nid, rec in result.nodes.items()
                if getattr(rec, side) is not None}
    own = {(union_id[e.src], union_id[e.dst]): e.tensor for e in source.edges}
    edges = [Edge(e.src, e.dst, own.get((e.src, e.dst), e.tensor)) for e in union.edges
             if e.src in kept and e.dst in kept
             and edge_status.get((e.src, e.dst), "same") != drop]
    graph = rebuild(union, nodes, edges)
    graph.name = result.name_a if side == "a" else result.name_b
    return graph


def side_by_side_graph(result: DiffResult, union: Graph, options: ViewOptions) -> Graph:
    """One graph holding A's view (group ``A``) and B's (group ``B``), decorated, with
    links and alignment between the two copies of each matched view node."""
    depth = (union.meta.get("view") or {}).get("depth")
    fixed = ViewOptions(**{**options.__dict__, "depth": depth}) if depth is not None \
        else options
    edge_status: dict[tuple[str, str], str] = {}
    for e in result.edges:  # a pair of nodes joined in both models counts as in both
        prev = edge_status.get((e.src, e.dst))
        edge_status[(e.src, e.dst)] = e.status if prev in (None, e.status) else "same"
    views = {side: decorate(make_view(_side_graph(result, side, edge_status), fixed),
                            result, legend=False) for side in ("a", "b")}
    combined = Graph(union.name)
    combined.meta = {k: v for k, v in union.meta.items() if k not in ("decorations", "view")}
    combined.meta["view"] = {**(union.meta.get("view") or {}), "columns": 1}
    decorations: dict[str, Any] = {"nodes": {}, "edges": [], "align": [],
                                   "legend": union.meta["decorations"].get("legend", [])}
    names = {"a": result.name_a, "b": result.name_b}
    for side, view in views.items():
        top = side.upper()
        combined.groups[(top,)] = Group((top,), "", f"{top}: {names[side]}")
        for path, group in view.groups.items():
            copy = combined.groups[(top, *path)] = group.copy((top, *path))
            copy.label = group.display_name
            copy.shared_with = (top, *group.shared_with) if group.shared_with else ()
        for node in view.nodes.values():
            new = node.clone()
            new.id = f"{side}/{node.id}"
            new.group = (top, *node.group)
            combined.add_node(new)
        for e in view.edges:
            combined.add_edge(f"{side}/{e.src}", f"{side}/{e.dst}", e.tensor)
        deco = view.meta["decorations"]
        for nid, look in deco["nodes"].items():
            decorations["nodes"][f"{side}/{nid}"] = look
        for spec in deco["edges"]:  # each side labels its own shapes
            spec = {k: v for k, v in spec.items() if k != "label"}
            decorations["edges"].append({**spec, "src": f"{side}/{spec['src']}",
                                         "dst": f"{side}/{spec['dst']}"})
    for nid, node in views["a"].nodes.items():
        if nid not in views["b"].nodes:
            continue
        status = (node.attrs.get("diff") or {}).get("status", "same")
        look = EDGE_LOOKS["changed" if status == "changed" else "same"]
        decorations["edges"].append({"src": f"a/{nid}", "dst": f"b/{nid}", "link": True,
                                     "stroke": look["stroke"], "width": 0.9})
        decorations["align"].append([f"a/{nid}", f"b/{nid}"])
    combined.meta["decorations"] = decorations
    combined.validate()
    return combined


__all__ = ["SIDE_BY_SIDE_FORMATS", "default_title", "render_diff", "side_by_side_graph",
           "union_view"]
