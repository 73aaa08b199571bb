"""The author's own touches on a view: ``--hide PATH``, ``--label PATH=TEXT`` and the fill of
``--color PATH=COLOUR``.

A PATH names a group the way ``--expand`` does (its label ``layer3.0``, its path joined by
``/``, or its last path element when that is unique) or a layer by its name. Hiding a group
removes all its layers; hiding a layer removes it; either way every edge into what was
hidden is joined to every edge out of it, so the drawing stays connected. A label renames
a group (its block, its bracket, its cluster) or a layer. A fill colours the layer, or the
block and every layer of the group, in every style (``attrs["fill"]``).

All three are pure functions ``Graph -> Graph``; O(N·depth + E).
"""

from __future__ import annotations

from collections.abc import Iterable

from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Group, Node
from netdraw.passes._graph import rebuild, shared_copy

Path = tuple[str, ...]


def split_assignment(text: str, flag: str, what: str) -> tuple[str, str]:
    """``PATH=VALUE`` -> (PATH, VALUE); a missing ``=`` or an empty side is an error."""
    path, sep, value = str(text).partition("=")
    if not sep or not path.strip() or not value.strip():
        raise NetdrawError(f"{flag} takes PATH={what}, not {text!r} (e.g. {flag} "
                           f"dec1={'Decoder' if what == 'TEXT' else '#9ecae1'})")
    return path.strip(), value.strip()


def _group_hits(graph: Graph, name: str) -> list[Path]:
    hits = [p for p, g in graph.groups.items() if name in (g.display_name, "/".join(p))]
    return hits or [p for p in graph.groups if p[-1] == name]


def resolve(graph: Graph, name: str, flag: str) -> tuple[list[Path], list[str]]:
    """The groups and the layers (node ids) that ``name`` names; an error naming some of
    the model's groups when it names nothing."""
    groups = _group_hits(graph, name)
    nodes = [nid for nid, n in graph.nodes.items() if n.name == name and n.kind != "output"]
    if not groups and not nodes:
        known = sorted(g.display_name for g in graph.groups.values())
        sample = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
        hint = f"its groups are: {sample}" if known else "the model has no groups"
        raise NetdrawError(f"{flag} {name!r} names no group or layer of the model; {hint} "
                           "(or give a layer's name)")
    return groups, nodes


def hide(graph: Graph, names: Iterable[str]) -> Graph:
    """``graph`` without the groups and layers ``names`` name, edges joined through."""
    names = list(names)
    if not names:
        return graph
    gone: set[str] = set()
    for name in names:
        groups, nodes = resolve(graph, name, "--hide")
        gone.update(nodes)
        for path in groups:
            gone.update(nid for nid, n in graph.nodes.items()
                        if n.group[:len(path)] == path)
    gone -= {nid for nid, n in graph.nodes.items() if n.kind in ("input", "output")}
    if len(gone) >= sum(1 for n in graph.nodes.values() if n.kind not in ("input", "output")):
        raise NetdrawError("--hide would hide every layer of the model; hide less")
    into: dict[str, list[Edge]] = {}
    out_of: dict[str, list[Edge]] = {}
    for e in graph.edges:
        into.setdefault(e.dst, []).append(e)
        out_of.setdefault(e.src, []).append(e)

    def sources(nid: str, seen: set[str]) -> list[Edge]:
        """The edges from outside the hidden set that reach ``nid`` through hidden nodes."""
        found = []
        for e in into.get(nid, []):
            if e.src not in gone:
                found.append(e)
            elif e.src not in seen:
                seen.add(e.src)
                found += sources(e.src, seen)
        return found

    edges: list[Edge] = []
    for e in graph.edges:
        if e.src in gone or e.dst in gone:
            if e.dst not in gone and e.src in gone:
                for s in sources(e.src, {e.src}):
                    edges.append(Edge(s.src, e.dst, e.tensor))
            continue
        edges.append(e)
    nodes = [shared_copy(n) for nid, n in graph.nodes.items() if nid not in gone]
    out = rebuild(graph, nodes, edges, dedupe=True)
    out.meta["hidden_by_author"] = len(gone) + int(graph.meta.get("hidden_by_author") or 0)
    return out


def relabel(graph: Graph, labels: Iterable[tuple[str, str]]) -> Graph:
    """``graph`` with the groups and layers named by each ``(PATH, TEXT)`` renamed."""
    labels = list(labels)
    if not labels:
        return graph
    new_groups = dict(graph.groups)
    renamed: dict[str, str] = {}
    for name, text in labels:
        groups, nodes = resolve(graph, name, "--label")
        for path in groups:
            old = new_groups[path]
            new_groups[path] = Group(old.path, old.class_name, text)
        for nid in nodes:
            renamed[nid] = text
    out_nodes: list[Node] = []
    for nid, node in graph.nodes.items():
        copy = shared_copy(node)
        if nid in renamed:
            copy.name = renamed[nid]
            copy.attrs = {**node.attrs, "author_label": True}
        out_nodes.append(copy)
    return rebuild(graph, out_nodes, graph.edges, new_groups)


def paint(view: Graph, fills: Iterable[tuple[str, str]]) -> Graph:
    """``view`` with ``attrs["fill"]`` set on the layers and blocks each ``(PATH, COLOUR)``
    names: a group's block, the rolled runs of its members and every layer inside it."""
    fills = list(fills)
    if not fills:
        return view
    colour_of: dict[str, str] = {}
    for name, colour in fills:
        groups = _group_hits(view, name)
        hit = False
        for nid, node in view.nodes.items():
            paths = [tuple(p) for p in node.attrs.get("paths") or []]
            own = node.attrs.get("path")
            if own is not None:
                paths.append(tuple(own))
            inside = [node.group] + paths
            if node.name == name or any(g[:len(p)] == p for p in groups for g in inside) \
                    or any("/".join(p) == name or (p and p[-1] == name) for p in paths):
                colour_of[nid] = colour
                hit = True
        if not hit:
            raise NetdrawError(f"--color {name!r} names no kind, group or layer of the drawn "
                               "view; give a kind (conv, pool, …), a group such as it is "
                               "named in --expand, or a layer's name")
    nodes = []
    for nid, node in view.nodes.items():
        copy = shared_copy(node)
        if nid in colour_of:
            copy.attrs = {**node.attrs, "fill": colour_of[nid]}
        nodes.append(copy)
    out = rebuild(view, nodes, view.edges, view.groups)
    return out
