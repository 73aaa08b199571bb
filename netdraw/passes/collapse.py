"""Collapse groups into block nodes and roll runs of repeated sibling groups.

Depth counts group nesting from the whole model: ``depth 0`` draws the whole model as one
block (between its inputs and outputs), ``depth 1`` its top-level groups (``layer1``…) as
blocks, ``depth 2`` those groups as clusters holding their children as blocks, and so on.
``expand`` opens a group and its children (so their layers or sub-blocks show) whatever
the depth; ``collapse`` draws a group as one block whatever the depth.

**Roll rule.** Inside every group that is drawn open, consecutive child groups roll into
one block marked ``×N`` when (1) their layers match one to one in kind, op type,
attributes, parameter count and input/output shapes, (2) their internal wiring is the same
and the shapes entering and leaving them are the same, (3) their class names agree, and
(4) each feeds the next (a sequence, not parallel branches). Shapes include channels and
spatial size, so a block that changes either — the downsampling first block of a ResNet
stage — never rolls with the blocks after it. Names never matter.

A block's ``attrs["output_node"]`` is the id of the node (of the graph it was made from) that
produces the block's output: the last member, in order, whose output leaves the block.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Node
from netdraw.passes._graph import append_unique, clone_node, rebuild, try_rebuild
from netdraw.passes.macs import add_macs
from netdraw.passes.signature import group_members, signatures

Path = tuple[str, ...]
_IO = ("input", "output")


def block_id(path: Path) -> str:
    return "block:" + "/".join(path) if path else "block:"


@dataclass
class GroupIndex:
    """Facts about a graph's groups computed once and reused for every depth tried."""

    graph: Graph
    members: dict[Path, list[str]] = field(init=False)
    signature: dict[Path, tuple] = field(init=False)
    links: set[tuple[Path, Path]] = field(init=False)
    children: dict[Path, list[tuple[str, Path | str]]] = field(init=False)
    scattered: set[Path] = field(init=False)
    full_depth: int = field(init=False)  # the depth at which every group is open

    def __post_init__(self) -> None:
        g = self.graph
        self.members = group_members(g)
        inner = {p: [n for n in ids if g.nodes[n].kind not in _IO]
                 for p, ids in self.members.items() if p}
        self.signature = signatures(g, inner)
        self.links = set()
        for e in g.edges:
            a, b = g.nodes[e.src].group, g.nodes[e.dst].group
            for d in range(1, min(len(a), len(b)) + 1):
                if a[:d] != b[:d]:
                    if a[:d - 1] == b[:d - 1]:
                        self.links.add((a[:d], b[:d]))
                    break
        self.children = {}
        self.scattered = set()
        for parent in self.members:
            items: list[tuple[str, Path | str]] = []
            seen: set[Path] = set()
            for nid in self.members[parent]:
                node = g.nodes[nid]
                if len(node.group) > len(parent):
                    child = node.group[: len(parent) + 1]
                    if items and items[-1] == ("group", child):
                        continue
                    if child in seen:
                        self.scattered.add(child)
                        continue
                    seen.add(child)
                    items.append(("group", child))
                else:
                    items.append(("node", nid))
            self.children[parent] = items
        self.full_depth = max((len(n.group) for n in g.nodes.values()), default=0) + 1

    def child_groups(self, path: Path) -> list[Path]:
        return [item for kind, item in self.children.get(path, []) if kind == "group"]

    def label(self, path: Path) -> str:
        group = self.graph.groups.get(path)
        return group.display_name if group else (path[-1] if path else self.graph.name)

    def class_name(self, path: Path) -> str:
        group = self.graph.groups.get(path)
        return group.class_name if group else ""


def resolve_paths(graph: Graph, names: Iterable[str], flag: str) -> set[Path]:
    """Group paths for user-given names: a label (``layer3.0``), a path joined by ``/``, or
    the last path element when that is unique."""
    out: set[Path] = set()
    for name in names:
        hits = [p for p, g in graph.groups.items() if name in (g.display_name, "/".join(p))]
        if not hits:
            hits = [p for p in graph.groups if p[-1] == name]
        if not hits:
            known = sorted(g.display_name for g in graph.groups.values())
            sample = ", ".join(known[:8]) + (", …" if len(known) > 8 else "")
            hint = f"groups are: {sample}" if known else "the model has no groups"
            raise NetdrawError(f"{flag} {name!r} names no group of the model; {hint}")
        out.update(hits)
    return out


def view_at(index: GroupIndex, depth: int, expand: set[Path] = frozenset(),
            collapse: set[Path] = frozenset(), roll: bool = True,
            open_paths: set[Path] = frozenset(), unroll: set[Path] = frozenset()) -> Graph:
    """The graph at ``depth`` with ``expand``/``collapse`` applied and repeats rolled.

    ``open_paths`` opens groups one level (their children show as blocks unless the depth
    opens them too), as an interactive viewer does on double-click; ``unroll`` names groups
    whose rolled runs are drawn as their separate member blocks instead of ``×N``.
    """
    if depth < 0:
        raise NetdrawError(f"--depth must be 0 or more, not {depth}")
    graph = index.graph
    named = {p[:d] for p in (*expand, *open_paths) for d in range(len(p) + 1)}
    # An expanded group is open, and so are its children: their contents show.
    opened = named | {c for p in expand for c in index.child_groups(p)}
    unrolled: set[Path] = set()  # members of runs drawn separately, each as a block

    def is_open(path: Path) -> bool:
        if path in collapse or path in unrolled:
            return False
        return path in opened or len(path) < depth

    def visible_open(path: Path) -> bool:
        return all(is_open(path[:d]) for d in range(len(path) + 1))

    assign: dict[str, tuple[str, Path]] = {}
    runs: dict[Path, list[Path]] = {}
    if roll:
        for parent, items in index.children.items():
            if not visible_open(parent):
                continue
            for run in _runs(index, items, opened):
                if parent in unroll:
                    unrolled.update(run)
                    continue
                runs[run[0]] = run
                for path in run:
                    for nid in index.members[path]:
                        assign[nid] = ("roll", run[0])
    for node in graph.nodes.values():
        if node.id in assign or node.kind in _IO:
            continue
        for d in range(len(node.group) + 1):
            if not is_open(node.group[:d]):
                assign[node.id] = ("group", node.group[:d])
                break
    return _merge(index, assign, runs)


def _runs(index: GroupIndex, items: list[tuple[str, Path | str]],
          opened: set[Path]) -> list[list[Path]]:
    def rollable(item: tuple[str, Path | str]) -> bool:
        return (item[0] == "group" and item[1] not in opened and item[1] not in index.scattered
                and item[1] in index.signature)

    out: list[list[Path]] = []
    i = 0
    while i < len(items):
        if not rollable(items[i]):
            i += 1
            continue
        run = [items[i][1]]
        j = i + 1
        while j < len(items) and rollable(items[j]):
            prev, cur = run[-1], items[j][1]
            if (index.signature[cur] != index.signature[prev]
                    or index.class_name(cur) != index.class_name(prev)
                    or (prev, cur) not in index.links):
                break
            run.append(cur)
            j += 1
        if len(run) > 1:
            out.append(run)
        i = j
    return out


def _merge(index: GroupIndex, assign: dict[str, tuple[str, Path]],
           runs: dict[Path, list[Path]]) -> Graph:
    """Replace assigned nodes by their blocks; blocks that would make a cycle stay open."""
    graph = index.graph
    view = _build(index, assign, runs)
    if view is not None:
        return view
    # Largest blocks first; ties in order of first appearance (a set's order would change
    # from run to run, and with it the drawing).
    counts: dict[tuple[str, Path], int] = {}
    for key in assign.values():
        counts[key] = counts.get(key, 0) + 1
    keys = sorted(counts, key=lambda k: -counts[k])
    dropped: list[tuple[str, Path]] = []
    for key in keys:
        dropped.append(key)
        trial = {n: k for n, k in assign.items() if k not in dropped}
        view = _build(index, trial, runs)
        if view is not None:
            break
    for key in list(dropped):
        trial_drop = [k for k in dropped if k != key]
        trial = {n: k for n, k in assign.items() if k not in trial_drop}
        candidate = _build(index, trial, runs)
        if candidate is not None:
            dropped, view = trial_drop, candidate
    return view if view is not None else rebuild(graph, map(clone_node, graph), graph.edges)


def _build(index: GroupIndex, assign: dict[str, tuple[str, Path]],
           runs: dict[Path, list[Path]]) -> Graph | None:
    graph = index.graph
    rep: dict[str, str] = {}
    blocks: dict[str, Node] = {}
    nodes: list[Node] = []
    for node in graph.nodes.values():
        key = assign.get(node.id)
        if key is None:
            rep[node.id] = node.id
            nodes.append(clone_node(node))
            continue
        kind, path = key
        bid = ("roll:" + "/".join(path)) if kind == "roll" else block_id(path)
        rep[node.id] = bid
        block = blocks.get(bid)
        if block is None:
            block = blocks[bid] = _new_block(index, kind, path, runs, bid)
            nodes.append(block)
        block.params += node.params
        block.attrs["nodes"] += 1
        macs = add_macs(block.attrs.get("macs"), node.attrs.get("macs"))
        if macs is not None:
            block.attrs["macs"] = macs
    edges = []
    for e in graph.edges:
        src, dst = rep[e.src], rep[e.dst]
        if src == dst:
            continue
        edges.append(Edge(src, dst, e.tensor))
        if dst in blocks:
            append_unique(blocks[dst].inputs, e.tensor)
        if src in blocks:
            append_unique(blocks[src].outputs, e.tensor)
    position = {nid: i for i, nid in enumerate(graph.nodes)}
    leaving: dict[str, str] = {}  # block -> its last member whose output leaves it
    for e in graph.edges:
        bid = rep[e.src]
        if bid in blocks and rep[e.dst] != bid and (
                bid not in leaving or position[e.src] > position[leaving[bid]]):
            leaving[bid] = e.src
    for bid, block in blocks.items():
        last = [n for n, r in rep.items() if r == bid][-1]
        if not block.outputs:
            block.outputs = list(graph.nodes[last].outputs)
        source = graph.nodes[leaving.get(bid, last)]
        block.attrs["output_node"] = source.attrs.get("output_node", source.id)
    return try_rebuild(graph, nodes, edges, dedupe=True)


def _new_block(index: GroupIndex, kind: str, path: Path, runs: dict[Path, list[Path]],
               bid: str) -> Node:
    graph = index.graph
    if kind == "roll":
        run = runs[path]
        first, last = index.label(run[0]), index.label(run[-1])
        class_name = index.class_name(path) or "Block"
        block = Node(bid, f"{first}–{last}", "block", class_name, group=path[:-1])
        block.attrs.update({"repeat": len(run), "nodes": 0,
                            "members": [index.label(p) for p in run],
                            "paths": [list(p) for p in run]})
        return block
    if not path:
        name = graph.name
        op_type = str(graph.meta.get("class_name") or "Model")
    else:
        name, op_type = index.label(path), index.class_name(path) or "Block"
    block = Node(bid, name, "block", op_type, group=path[:-1])
    block.attrs.update({"nodes": 0, "path": list(path)})
    return block


def collapse_to_depth(graph: Graph, depth: int) -> Graph:
    """Groups nested ``depth`` deep become blocks (no rolling); ``depth 0`` is one block."""
    return view_at(GroupIndex(graph), depth, roll=False)


__all__ = ["GroupIndex", "block_id", "collapse_to_depth", "resolve_paths", "view_at"]
