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
stage — never rolls with the blocks after it. Names never matter. When the depth would
draw the run's blocks open and the run has three or more, the first one is drawn open
(its layers show once, as in a paper's figure) and the others roll after it — unless an
open block of the same class stands just before the run (BERT's distinct ``layer.0``),
which already shows them. Two blocks stay one ``×2`` block (ResNet-18's ``layer1``).

**Wrappers.** A group whose only child is one group (MobileNetV2's ``features.1 ·
InvertedResidual`` holding ``features.1.conv · Sequential``; a small module wrapping a
whole UNet) is not a depth level of its own: it opens with its child, and an open wrapper
and its child are drawn as one cluster named after the outer group, whose class is the
informative one.

A block's ``attrs["output_node"]`` is the id of the node (of the graph it was made from) that
produces the block's output: the last member, in order, whose output leaves the block.

Costs: :class:`GroupIndex` is O(N·depth + E·depth); each :func:`view_at` is
O(N·depth + E) (plus a rebuild per dropped block in the rare case that blocks would form
a cycle).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Group, Node
from netdraw.passes._graph import append_unique, rebuild, shared_copy, try_rebuild
from netdraw.passes.macs import add_macs
from netdraw.passes.signature import group_members, group_signatures

Path = tuple[str, ...]
_IO = ("input", "output")
_NUMBER = re.compile(r"\d+$")
#: Kinds of real layers: a module holding one is no mere function of plain operations.
#: Container classes that only hold other modules (a stage's list of blocks).
_CONTAINERS = ("Sequential", "ModuleList", "ModuleDict", "Block")
_LAYER_KINDS = frozenset({"conv", "conv_transpose", "dense", "norm", "attention", "embedding",
                          "recurrent", "pool", "global_pool", "block"})


def block_id(path: Path) -> str:
    return "block:" + "/".join(path) if path else "block:"


@dataclass
class GroupIndex:
    """Facts about a graph's groups computed once and reused for every depth tried."""

    graph: Graph
    members: dict[Path, list[str]] = field(init=False)
    links: set[tuple[Path, Path]] = field(init=False)
    children: dict[Path, list[tuple[str, Path | str]]] = field(init=False)
    scattered: set[Path] = field(init=False)
    #: group path -> the depth from which it is drawn open (wrappers do not count)
    level: dict[Path, int] = field(init=False)
    #: groups whose only child is one group
    wrappers: set[Path] = field(init=False)
    full_depth: int = field(init=False)  # the depth at which every group is open

    def __post_init__(self) -> None:
        g = self.graph
        self.members = group_members(g)
        self._signature: dict[Path, tuple] | None = None
        self._chains: dict[Path, bool] = {}
        self._edges: dict[str, list[Edge]] | None = None
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
        self.wrappers = {p for p, items in self.children.items() if _only_group(g, items)}
        self.level = {(): 0}
        for path in sorted(self.members, key=len):
            if path:
                parent = path[:-1]
                self.level[path] = self.level[parent] + (0 if parent in self.wrappers else 1)
        self.full_depth = max((self.level[n.group] for n in g.nodes.values()), default=0) + 1

    @property
    def signature(self) -> dict[Path, tuple]:
        """Each group's structural signature (computed when rolling first asks)."""
        if self._signature is None:
            g = self.graph
            inner = {p: [n for n in ids if g.nodes[n].kind not in _IO]
                     for p, ids in self.members.items() if p}
            self._signature = group_signatures(g, inner)
        return self._signature

    def edges_of(self, path: Path) -> list[Edge]:
        """The edges that touch a member of group ``path`` (each once)."""
        if self._edges is None:
            self._edges = {}
            for e in self.graph.edges:
                self._edges.setdefault(e.src, []).append(e)
                if e.dst != e.src:
                    self._edges.setdefault(e.dst, []).append(e)
        seen: set[int] = set()
        out = []
        for m in self.members.get(path, ()):
            for e in self._edges.get(m, ()):
                if id(e) not in seen:
                    seen.add(id(e))
                    out.append(e)
        return out

    def squash(self, path: Path) -> Path:
        """The path drawn for a group path: the child of a wrapper is left out (the wrapper
        is drawn in its place), except directly under the root, which draws no cluster."""
        return tuple(p for i, p in enumerate(path) if i == 0 or path[:i] not in self.wrappers)

    def child_groups(self, path: Path) -> list[Path]:
        return [item for kind, item in self.children.get(path, []) if kind == "group"]

    def label(self, path: Path) -> str:
        group = self.graph.groups.get(path)
        return group.display_name if group else (path[-1] if path else self.graph.name)

    def class_name(self, path: Path) -> str:
        group = self.graph.groups.get(path)
        return group.class_name if group else ""

    def shared(self, path: Path) -> bool:
        """Whether the group is one call of a module applied several times: such calls
        never roll into ``×N`` (that would say they are different layers)."""
        group = self.graph.groups.get(path)
        return group is not None and group.calls > 1


def resolve_paths(graph: Graph, names: Iterable[str], flag: str,
                  optional: bool = False) -> set[Path]:
    """Group paths for user-given names: a label (``layer3.0``), a path joined by ``/``, or
    the last path element when that is unique. A name that matches no group is an error,
    unless ``optional`` (then it is left out)."""
    out: set[Path] = set()
    for name in names:
        hits = [p for p, g in graph.groups.items() if name in (g.display_name, "/".join(p))]
        if not hits:
            hits = [p for p in graph.groups if p[-1] == name]
        if not hits and optional:
            continue
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

    level = index.level

    def is_open(path: Path) -> bool:
        if path in collapse or path in unrolled:
            return False
        return path in opened or level[path] < depth

    def visible_open(path: Path) -> bool:
        return all(is_open(path[:d]) for d in range(len(path) + 1))

    assign: dict[str, tuple[str, Path]] = {}
    runs: dict[Path, list[Path]] = {}
    if roll:
        in_run: set[Path] = set()  # groups rolled into a run: their insides stay unrolled
        for parent, items in index.children.items():  # parents before their children
            if not visible_open(parent) or any(parent[:d] in in_run
                                               for d in range(1, len(parent) + 1)):
                continue
            found = _runs(index, items, opened)
            position = {item: i for i, (_, item) in enumerate(items)} if found else {}
            for run in found:
                # The first block is drawn open (its layers show once) before a run of
                # its copies, and stays open when the run is drawn block by block.
                first_open = len(run) > 2 and is_open(run[0]) and not _follows_open_twin(
                    index, items, position[run[0]], is_open)
                if parent in unroll:
                    unrolled.update(run[1:] if first_open else run)
                    continue
                if first_open:
                    run = run[1:]
                runs[run[0]] = run
                in_run.update(run)
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
    _same_class_as_blocks(index, assign, named)
    return _merge(index, assign, runs)


def _same_class_as_blocks(index: GroupIndex, assign: dict[str, tuple[str, Path]],
                          named: set[Path]) -> None:
    """A module drawn as (or inside) a block somewhere is a block everywhere: an open group
    without child groups, built from plain operations only (no convolution, dense, norm or
    attention layer inside: a module written with ``pow``, ``mean``, ``rsqrt``…), whose
    class is also hidden in a block (LLaMA's final ``norm ·
    LlamaRMSNorm`` beside the layers' ``input_layernorm`` blocks, T5's final
    ``T5LayerNorm``, inside every collapsed ``T5LayerSelfAttention``) is drawn as a block
    too. O(N·depth)."""
    blocked: set[str] = set()
    seen: set[tuple[Path, int]] = set()
    nodes = index.graph.nodes
    for nid, (_, path) in assign.items():
        group = nodes[nid].group
        if (group, len(path)) in seen:
            continue
        seen.add((group, len(path)))
        for d in range(max(1, len(path)), len(group) + 1):
            blocked.add(index.class_name(group[:d]))
    blocked.discard("")
    if not blocked:
        return
    leaf: dict[Path, bool] = {}
    for node in index.graph.nodes.values():
        group = node.group
        if node.id in assign or not group or group in named:
            continue
        if group not in leaf:
            leaf[group] = index.class_name(group) in blocked and is_plain_group(index, group)
        if leaf[group]:
            assign[node.id] = ("group", group)


def is_plain_chain(index: GroupIndex, path: Path) -> bool:
    """Whether a group's layers form one chain: each takes its data from the one before
    and feeds only the next (no residual add, gate, concatenation or parallel branch
    inside). Drawn as one block, such a group hides nothing but its length. O(members +
    their edges); the answer is kept."""
    known = index._chains.get(path)
    if known is not None:
        return known
    graph = index.graph
    members = [m for m in index.members.get(path, ()) if graph.nodes[m].kind not in _IO]
    inside = set(members)
    ins: dict[str, int] = dict.fromkeys(members, 0)
    outs: dict[str, int] = dict.fromkeys(members, 0)
    entries = 0
    for e in index.edges_of(path):
        if e.src in inside and e.dst in inside:
            ins[e.dst] += 1
            outs[e.src] += 1
        elif e.dst in inside:
            entries += 1
    plain = entries <= 1 and all(v <= 1 for v in ins.values()) and all(
        v <= 1 for v in outs.values())
    index._chains[path] = plain
    return plain


def is_plain_group(index: GroupIndex, path: Path) -> bool:
    """A group without child groups built from plain operations only (no layer kinds)."""
    nodes = index.graph.nodes
    return not index.child_groups(path) and not any(nodes[m].kind in _LAYER_KINDS
                                                     for m in index.members[path])


def _only_group(graph: Graph, items: list[tuple[str, Path | str]]) -> bool:
    """Items that are one group plus nothing but graph inputs and outputs."""
    groups = [i for k, i in items if k == "group"]
    others = [i for k, i in items if k == "node" and graph.nodes[i].kind not in _IO]
    return len(groups) == 1 and not others


def _follows_open_twin(index: GroupIndex, items: list[tuple[str, Path | str]], at: int,
                       is_open: Callable[[Path], bool]) -> bool:
    """Whether the group item before ``items[at]`` (a few layers between them aside) is
    drawn open and is a block of the same kind: the same class, or, where the exporter
    recorded no classes, the same name but for the number (``layer.0``, ``layer.1``).
    Then the run's blocks are already shown once."""
    twin = twin_before(index, items, at)
    return twin is not None and is_open(twin)


def twin_before(index: GroupIndex, items: list[tuple[str, Path | str]], at: int
                ) -> Path | None:
    """The group item before ``items[at]`` (within 8 items) when it is a block of the same
    kind as ``items[at]`` (see :func:`_follows_open_twin`), else None."""
    first = items[at][1]
    for kind, item in reversed(items[max(0, at - 8):at]):
        if kind == "group":
            return item if _same_kind(index, item, first) else None
    return None


def _same_kind(index: GroupIndex, a: Path, b: Path) -> bool:
    ca, cb = index.class_name(a), index.class_name(b)
    if ca or cb:
        return ca == cb
    return _NUMBER.sub("", index.label(a)) == _NUMBER.sub("", index.label(b))


def _runs(index: GroupIndex, items: list[tuple[str, Path | str]],
          opened: set[Path]) -> list[list[Path]]:
    def rollable(item: tuple[str, Path | str]) -> bool:
        return (item[0] == "group" and item[1] not in opened and item[1] not in index.scattered
                and item[1] in index.signature and not index.shared(item[1]))

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
    return view if view is not None else rebuild(graph, map(shared_copy, graph), graph.edges)


def _build(index: GroupIndex, assign: dict[str, tuple[str, Path]],
           runs: dict[Path, list[Path]]) -> Graph | None:
    graph = index.graph
    rep: dict[str, str] = {}
    blocks: dict[str, Node] = {}
    nodes: list[Node] = []
    squash = _Squash(index)
    for node in graph.nodes.values():
        key = assign.get(node.id)
        if key is None:
            rep[node.id] = node.id
            new = shared_copy(node)
            new.group = squash(node.group)
            nodes.append(new)
            continue
        kind, path = key
        bid = ("roll:" + "/".join(path)) if kind == "roll" else block_id(path)
        rep[node.id] = bid
        block = blocks.get(bid)
        if block is None:
            block = blocks[bid] = _new_block(index, kind, path, runs, bid)
            block.group = squash(block.group)
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
    last: dict[str, str] = {}  # block -> its last member in order
    for nid, bid in rep.items():
        if bid in blocks:
            last[bid] = nid
    for bid, block in blocks.items():
        if not block.outputs:
            block.outputs = list(graph.nodes[last[bid]].outputs)
        source = graph.nodes[leaving.get(bid, last[bid])]
        block.attrs["output_node"] = source.attrs.get("output_node", source.id)
    return try_rebuild(graph, nodes, edges, squash.groups(), dedupe=True)


class _Squash:
    """Group paths as drawn (see :meth:`GroupIndex.squash`), memoised, and the drawn
    group table: a wrapper keeps its own label and class."""

    def __init__(self, index: GroupIndex) -> None:
        self.index = index
        self.memo: dict[Path, Path] = {}

    def __call__(self, path: Path) -> Path:
        out = self.memo.get(path)
        if out is None:
            out = self.memo[path] = self.index.squash(path) if self.index.wrappers else path
        return out

    def groups(self) -> dict[Path, Group]:
        source = self.index.graph.groups
        if not self.index.wrappers:
            return source
        table: dict[Path, Group] = {}
        moved = []
        for path, group in source.items():
            drawn = self(path)
            if drawn == path:
                table[path] = group.copy()
            else:
                moved.append((drawn, group))
        for drawn, group in moved:
            if drawn not in table:
                table[drawn] = group.copy(drawn)
        return table


def drawn_groups(index: GroupIndex) -> dict[Path, Group]:
    """The group table of every view of ``index`` (wrappers squashed, see
    :meth:`GroupIndex.squash`)."""
    return _Squash(index).groups()


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
    block.attrs.update({"nodes": 0, "path": list(path), **call_attrs(graph.groups.get(path))})
    return block


def call_attrs(group: Group | None) -> dict[str, object]:
    """What a block records of the module call it stands for (see :class:`Group`):
    ``call``, ``calls`` and, after the first call, ``shared_with`` (the block id of the
    first call); empty for a group called once."""
    if group is None or group.calls < 2:
        return {}
    attrs: dict[str, object] = {"call": group.call, "calls": group.calls}
    if group.shared_with:
        attrs["shared_with"] = block_id(group.shared_with)
    return attrs


def inner_repeat(index: GroupIndex, path: Path) -> tuple[int, str] | None:
    """(count, class) of the blocks a group is a stage of: two or more child groups of
    one class (or, without classes, one name but for the number; containers such as
    ``Sequential`` do not count as a class of block) that hold most of the group, looked
    for among its children and inside a child that only holds them (a ``ModuleList``);
    as a paper's table counts a ResNet stage ``Bottleneck ×6``. None for the whole model
    and for other groups."""
    if not path:
        return None
    size = len(index.members.get(path, ()))
    best: tuple[int, str] | None = None
    places = [path] + [c for c in index.child_groups(path)
                       if len(index.child_groups(c)) >= 2
                       and index.class_name(c) in ("", *_CONTAINERS)]
    for place in places:
        counts: dict[tuple[str, str], list[Path]] = {}
        for child in index.child_groups(place):
            cls = index.class_name(child)
            if cls in _CONTAINERS:
                continue
            key = (cls, "" if cls else _NUMBER.sub("", index.label(child)))
            counts.setdefault(key, []).append(child)
        for (cls, _), children in counts.items():
            covered = sum(len(index.members.get(c, ())) for c in children)
            if len(children) >= 2 and covered * 5 >= size * 3 and (
                    best is None or len(children) > best[0]):
                best = (len(children), cls)
    return best


def count_stages(index: GroupIndex, view: Graph) -> None:
    """Mark each block of a (fresh) view that is a stage of repeated blocks with their
    count (``attrs["blocks"] = [N, class]``, see :func:`inner_repeat`); rolled runs keep
    their ``repeat``. In place: a view's block nodes are its own."""
    for node in view.nodes.values():
        path = node.attrs.get("path")
        if node.kind == "block" and path is not None and not node.attrs.get("repeat"):
            inner = inner_repeat(index, tuple(path))
            if inner is not None:
                node.attrs["blocks"] = [inner[0], inner[1]]


def collapse_to_depth(graph: Graph, depth: int) -> Graph:
    """Groups nested ``depth`` deep become blocks (no rolling); ``depth 0`` is one block."""
    return view_at(GroupIndex(graph), depth, roll=False)


__all__ = ["GroupIndex", "block_id", "call_attrs", "collapse_to_depth", "count_stages",
           "drawn_groups", "is_plain_chain", "is_plain_group", "resolve_paths", "twin_before",
           "view_at"]
