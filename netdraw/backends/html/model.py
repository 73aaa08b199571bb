"""The data an HTML page carries: the prepared graph, its group tree, and every DOT fragment
the page needs to make any view of it in the browser.

The page computes views itself (``view.js`` mirrors :func:`netdraw.passes.collapse.view_at`),
so it can open and close any block offline. Everything that decides how a box looks is
made here by the DOT backend's own functions (:mod:`netdraw.backends.dot`): each layer's
and each group block's attribute list, each cluster's title line, each edge's label. Only a
rolled run's box is filled in by the page, from a label template made here, because which
runs exist depends on what is open.

Strings are data: the page puts names into the document with ``textContent`` only, and the
JSON is escaped for a ``<script>`` element (see :func:`script_json`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from typing import Any

from netdraw.backends import dot
from netdraw.backends.explorer_data import ExplorerData
from netdraw.backends.html import explorer as explore
from netdraw.backends.html.looks import LooksSource, apply_looks
from netdraw.describe import shape_text, unused_note
from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Node, TensorSpec
from netdraw.passes._graph import shared_copy
from netdraw.passes.collapse import (
    GroupIndex,
    block_id,
    call_attrs,
    drawn_groups,
    is_plain_group,
    twin_before,
    view_at,
)
from netdraw.passes.view import ViewOptions, ViewPlan, plan_view

SCHEMA = "netdraw.page/1"
Path = tuple[str, ...]
_IO = ("input", "output")
#: Placeholders of the rolled-run label template: name, detail, facts, tooltip.
PLACEHOLDERS = ("\ue000", "\ue001", "\ue002", "\ue003")
#: Image types a node thumbnail may have (``data:`` URIs only: the page loads nothing).
IMAGE_TYPES = ("image/png", "image/jpeg", "image/webp", "image/gif")


def page_model(graph: Graph, view: ViewOptions | None = None, *, rankdir: str = "TB",
               title: str | None = None, edge_labels: bool = True,
               activations: Mapping[str, Any] | Callable[[Graph], Any] | None = None,
               extra: Mapping[str, Any] | None = None,
               extra_title: str = "Details", prelayout: bool = True,
               looks: LooksSource | None = None,
               plan: ViewPlan | None = None,
               explorer: ExplorerData | Callable[[Graph], ExplorerData] | None = None
               ) -> dict[str, Any]:
    """Everything the page needs, as JSON-ready data (schema ``netdraw.page/1``).

    ``view`` chooses the first view (as for every other format). A graph that already is a
    view (``meta["view"]``) is shown as it is, its blocks closed for good.
    ``activations`` maps node ids to thumbnails (PNG bytes or ``data:image/…`` URIs) shown in
    the side panel, or is a function of the prepared graph returning that mapping (what
    ``render(..., activations=netdraw.viz.capture(...))`` passes); ``extra`` maps node ids
    to ``{label: text}`` rows shown under ``extra_title`` (another tool's per-node facts,
    e.g. what changed). ``prelayout`` lays the first view out with the ``dot`` program,
    when installed, so the page paints it without waiting for the WebAssembly build.
    ``looks`` colours nodes and edges by a status in every view (a diff's; see
    :mod:`netdraw.backends.html.looks`). ``plan`` is the first view already planned
    (:func:`netdraw.passes.view.plan_view` of ``graph`` with ``view``), e.g. by a caller
    that reports it. ``explorer`` (or a function of the prepared graph returning it) makes
    the page an explorer of what the network computes for its inputs (see
    :mod:`netdraw.backends.html.explorer`): every box with a value gets a thumbnail.
    """
    options = view or ViewOptions()
    if "view" in graph.meta:
        prepared = graph
        index = GroupIndex(prepared)
        state = {"depth": index.full_depth, "expand": set(), "collapse": set(), "roll": False}
        info = dict(graph.meta["view"])
        first = view_at(index, index.full_depth, roll=False)
    else:
        plan = plan if plan is not None else plan_view(graph, options)
        prepared, index = plan.prepared, plan.index
        state = {"depth": plan.depth, "expand": plan.expand, "collapse": plan.collapse,
                 "roll": options.roll}
        info = dict(plan.view.meta["view"])
        first = plan.view
    header = dot.header_lines(prepared, rankdir, title)
    data = explorer(prepared) if callable(explorer) else explorer
    kinds = explore.thumb_kinds(data)
    outputs = _group_outputs(prepared, index) if data is not None else {}
    builder = _Builder(prepared, index, edge_labels, kinds, outputs)
    model = builder.build()
    _source_names(model["nodes"], graph)
    gi = builder.group_index
    model.update({
        "schema": SCHEMA,
        "name": prepared.name,
        "rankdir": rankdir,
        "header": header,
        "state": {"depth": state["depth"], "roll": state["roll"],
                  "expand": sorted(gi[p] for p in state["expand"] if p in gi),
                  "collapse": sorted(gi[p] for p in state["collapse"] if p in gi)},
        "info": {k: info.get(k) for k in ("auto", "depth", "full_depth", "source_nodes",
                                           "folded", "hidden", "params", "macs",
                                           "inferred_groups")},
        "unused": unused_note(prepared),
        "roll_labels": _roll_templates(),
        "activations": _thumbnails(activations(prepared) if callable(activations)
                                   else activations, builder.node_index),
        "extra": _extra(extra, builder.node_index),
        "extra_title": str(extra_title),
    })
    if data is not None:
        model["explorer"] = explore.explorer_model(
            data, builder.node_index,
            {builder.group_index[p]: nid for p, nid in outputs.items()
             if p in builder.group_index})
    # A tall chain is wrapped into side-by-side columns, as the static drawing is: the first
    # view into the columns its view rule chose, later ones as the page measures them.
    wraps = looks is None and rankdir in ("TB", "BT")
    columns = int((first.meta.get("view") or {}).get("columns") or 1) if wraps else 1
    if looks is not None:
        apply_looks(model, builder, looks.page_data(prepared), looks.title)
        first = looks.decorate(first)
    model.update({
        "columns": columns, "wrap": wraps, "connector": dot.connector_attrs(PLACEHOLDERS[0]),
        "first_svg": _first_drawing(first, rankdir, title, edge_labels, columns,
                                    _first_cells(first, prepared, kinds)) if prelayout else None,
        "first_ids": list(first.nodes),
    })
    return model


def _source_names(nodes: list[dict[str, Any]], graph: Graph) -> None:
    """A node the view renamed (a one-layer module's layer takes the module's name) keeps
    the name it has in the loaded model as ``source_name``: the panel shows it and search
    finds it."""
    for entry in nodes:
        source = graph.nodes.get(entry["id"])
        if source is not None and source.name != entry["name"]:
            entry["source_name"] = source.name


def _first_drawing(view: Graph, rankdir: str, title: str | None,
                   edge_labels: bool, columns: int = 1,
                   cells: dict[str, tuple[str, str]] | None = None) -> str | None:
    """The first view laid out by Graphviz's ``dot`` here, so the page paints at once
    (the page makes the same DOT text; the tests check that). None without ``dot``."""
    source = dot.to_dot(view, rankdir=rankdir, title=title, edge_labels=edge_labels,
                        columns=columns, thumb_cells=cells)
    try:
        return dot.render_dot(source, "svg").decode("utf-8")
    except NetdrawError:
        return None


def _group_outputs(graph: Graph, index: GroupIndex) -> dict[Path, str]:
    """Group path -> the node whose output its closed block shows: its last member, in
    order, whose output leaves the group (as :func:`netdraw.passes.collapse.view_at`
    chooses a block's ``output_node``), else its last member."""
    position = {nid: i for i, nid in enumerate(graph.nodes)}
    out: dict[Path, str] = {}
    for e in graph.edges:
        a, b = graph.nodes[e.src].group, graph.nodes[e.dst].group
        for d in range(1, len(a) + 1):
            path = a[:d]
            if b[:d] == path and graph.nodes[e.dst].kind not in _IO:
                continue
            if path not in out or position[e.src] > position[out[path]]:
                out[path] = e.src
    for path, ids in index.members.items():
        if path and path not in out:
            inner = [nid for nid in ids if graph.nodes[nid].kind not in _IO]
            if inner:
                out[path] = inner[-1]
    return out


def _first_cells(view: Graph, prepared: Graph, kinds: dict[str, str]
                 ) -> dict[str, tuple[str, str]]:
    """The thumbnail cells of the first view's boxes: a layer's own, a block's those of
    the layer whose output it shows (its ``output_node``, which names that layer's own
    ``output_node`` when it has one)."""
    if not kinds:
        return {}
    shown_by = {str(n.attrs.get("output_node", n.id)): n.id for n in prepared.nodes.values()}
    out = {}
    for node in view.nodes.values():
        kind = kinds.get(node.id)
        source = node.attrs.get("output_node")
        if kind is None and node.kind == "block" and isinstance(source, str):
            kind = kinds.get(shown_by.get(source, source))
        found = explore.cells(kind)
        if found is not None:
            out[node.id] = found
    return out


class _Builder:
    """Collects nodes, groups, tensors and edges into index-based tables."""

    def __init__(self, graph: Graph, index: GroupIndex, edge_labels: bool,
                 thumbs: dict[str, str] | None = None,
                 group_outputs: dict[Path, str] | None = None) -> None:
        self.graph = graph
        self.index = index
        self.edge_labels = edge_labels
        #: node id -> the kind of thumbnail its box shows (the explorer's layers)
        self.thumbs = thumbs or {}
        self.group_outputs = group_outputs or {}
        self.node_index = {nid: i for i, nid in enumerate(graph.nodes)}
        paths = [p for p in index.members if p]
        self.group_index: dict[Path, int] = {(): 0}
        for path in paths:
            self.group_index[path] = len(self.group_index)
        # Views draw a wrapper and its only child as one cluster (GroupIndex.squash): each
        # group's drawn cluster is that of its representative, the outermost of the chain.
        self.drawn_graph = Graph(graph.name)
        self.drawn_graph.groups = drawn_groups(index)
        self.representative: dict[Path, Path] = {}
        for path in sorted(self.group_index, key=len):
            wrapped = len(path) > 1 and path[:-1] in index.wrappers
            self.representative[path] = self.representative[path[:-1]] if wrapped else path
        self.tensors: list[dict[str, Any]] = []
        self.tensor_index: dict[TensorSpec, int] = {}
        self.shape_keys: dict[tuple, int] = {}
        self.signatures: dict[Any, int] = {}

    def tensor(self, spec: TensorSpec) -> int:
        found = self.tensor_index.get(spec)
        if found is not None:
            return found
        key = self.shape_keys.setdefault(spec.shape or (), len(self.shape_keys))
        edge = dot.edge_attrs(Edge("", "", spec), self.edge_labels)
        self.tensors.append({"shape": None if spec.shape is None else list(spec.shape),
                             "dtype": spec.dtype, "layout": spec.layout,
                             "text": shape_text(spec), "key": key, "dot": edge})
        self.tensor_index[spec] = len(self.tensors) - 1
        return self.tensor_index[spec]

    def build(self) -> dict[str, Any]:
        g, index = self.graph, self.index
        nodes = [self.node(node) for node in g.nodes.values()]
        edges = [[self.node_index[e.src], self.node_index[e.dst], self.tensor(e.tensor)]
                 for e in g.edges]
        blocks = self.blocks = _group_blocks(g, index)
        for block in blocks.values():
            block.group = index.squash(block.group)
        groups = []
        for path, i in self.group_index.items():
            groups.append(self.group(path, blocks.get(path)))
            assert len(groups) == i + 1
        return {"nodes": nodes, "edges": edges, "groups": groups, "tensors": self.tensors,
                "full_depth": index.full_depth}

    def node(self, node: Node) -> dict[str, Any]:
        attrs = {k: v for k, v in node.attrs.items() if k != "macs"}
        macs = node.attrs.get("macs")
        return {
            "id": node.id, "name": node.name, "kind": node.kind, "op": node.op_type,
            "group": self.group_index.get(node.group, 0),
            "params": node.params, "macs": macs if isinstance(macs, int) else None,
            "attrs": _json_safe(attrs),
            "inputs": [self.tensor(t) for t in node.inputs],
            "outputs": [self.tensor(t) for t in node.outputs],
            "io": node.kind in _IO,
            "dot": dot.format_attrs(dot.node_attrs(self.drawn(node), self.drawn_graph,
                                                   thumb=explore.cells(self.thumbs.get(node.id)))),
        }

    def drawn(self, node: Node) -> Node:
        """The node as views draw it: in its group's drawn cluster (names are shortened
        by that cluster's name)."""
        drawn = self.index.squash(node.group)
        if drawn == node.group:
            return node
        copy = shared_copy(node)
        copy.group = drawn
        return copy

    def group(self, path: Path, block: Node | None) -> dict[str, Any]:
        index = self.index
        rep = self.representative[path]
        drawn = index.squash(path)
        group = self.drawn_graph.groups.get(drawn) if drawn else None
        entry: dict[str, Any] = {
            "path": list(path), "label": index.label(path), "class": index.class_name(path),
            "parent": self.group_index[path[:-1]] if path else -1,
            "items": self.items(path),
            "sig": None, "scattered": path in index.scattered,
            # the depth from which it is open (wrappers are no level of their own)
            "level": index.level[path],
            # the group whose cluster draws it, and that cluster's parent cluster
            "drawn": self.group_index[rep],
            "up": self.group_index[self.representative[rep[:-1]]] if rep else -1,
            "cluster": dot.cluster_attrs(self.drawn_graph, drawn) if path == rep and path
            else "",
            # the drawn cluster's name, which names inside it are shortened by
            "shown": group.display_name if group is not None else None,
            # no child groups and no real layer: a block where its class is one elsewhere
            "plain": bool(path) and is_plain_group(index, path),
        }
        if path in index.signature:
            entry["sig"] = self.signature_id(index.signature[path])
        if block is not None:
            macs = block.attrs.get("macs")
            entry.update({
                "id": block.id, "params": block.params,
                "macs": macs if isinstance(macs, int) else None,
                "nodes": block.attrs["nodes"],
                "inputs": [self.tensor(t) for t in block.inputs],
                "outputs": [self.tensor(t) for t in block.outputs],
                "dot": dot.format_attrs(dot.node_attrs(
                    block, self.drawn_graph,
                    thumb=explore.cells(self.thumbs.get(self.group_outputs.get(path, ""))))),
            })
        return entry

    def items(self, path: Path) -> list[list[int]]:
        """Children in order: ``[0, node]`` or ``[1, group, chains, twin]``, where ``chains``
        is 1 when this group may roll on from the group item just before it (same signature
        and class, and the one before feeds it), and ``twin`` the group before it of the
        same kind, if any, else -1 (a run after an open twin rolls whole)."""
        out: list[list[int]] = []
        prev: Path | None = None
        index = self.index
        items = index.children.get(path, [])
        for at, (kind, item) in enumerate(items):
            if kind == "node":
                out.append([0, self.node_index[item]])
                prev = None
                continue
            chains = int(prev is not None and prev in index.signature
                         and item in index.signature
                         and index.signature[prev] == index.signature[item]
                         and index.class_name(prev) == index.class_name(item)
                         and (prev, item) in index.links
                         and not index.shared(prev) and not index.shared(item))
            twin = twin_before(index, items, at)
            out.append([1, self.group_index[item], chains,
                        -1 if twin is None else self.group_index[twin]])
            prev = item
        return out

    def signature_id(self, signature: tuple) -> int:
        """A small number per distinct signature: equal numbers, equal signatures."""
        try:
            key: Any = (hash(signature), signature)
        except TypeError:  # an attribute that is not hashable: compare its text
            key = repr(signature)
        return self.signatures.setdefault(key, len(self.signatures))


def _group_blocks(graph: Graph, index: GroupIndex) -> dict[Path, Node]:
    """The block node each group becomes when drawn closed, as ``view_at`` makes it: its
    members' parameters and MACs, and the tensors entering and leaving it — each tensor
    once however many layers inside read it, and two tensors of one shape twice (a tensor
    is its producer's output)."""
    blocks: dict[Path, Node] = {}
    entering: dict[Path, set] = {}
    leaving: dict[Path, set] = {}
    last: dict[Path, str] = {}
    for path, ids in index.members.items():
        if path:
            name, op_type = index.label(path), index.class_name(path) or "Block"
        else:  # depth 0: the whole model as one block
            name, op_type = graph.name, str(graph.meta.get("class_name") or "Model")
        block = Node(block_id(path), name, "block", op_type, group=path[:-1])
        block.attrs.update({"nodes": 0, "path": list(path),
                            **call_attrs(graph.groups.get(path))})
        for nid in ids:
            node = graph.nodes[nid]
            if node.kind in _IO:
                continue
            block.params += node.params
            block.attrs["nodes"] += 1
            macs = node.attrs.get("macs")
            if isinstance(macs, int):
                block.attrs["macs"] = block.attrs.get("macs", 0) + macs
            last[path] = nid
        if block.attrs["nodes"]:
            blocks[path] = block

    for e in graph.edges:
        src, dst = graph.nodes[e.src], graph.nodes[e.dst]
        a, b = src.group, dst.group
        first = 0  # inputs and outputs are never inside a block: every block is crossed
        if src.kind not in _IO and dst.kind not in _IO:
            while first < min(len(a), len(b)) and a[first] == b[first]:
                first += 1
            first += 1
        tensor = (e.src, e.tensor)
        if dst.kind not in _IO:
            for d in range(first, len(b) + 1):
                if b[:d] in blocks and tensor not in entering.setdefault(b[:d], set()):
                    entering[b[:d]].add(tensor)
                    blocks[b[:d]].inputs.append(e.tensor)
        if src.kind not in _IO:
            for d in range(first, len(a) + 1):
                if a[:d] in blocks and tensor not in leaving.setdefault(a[:d], set()):
                    leaving[a[:d]].add(tensor)
                    blocks[a[:d]].outputs.append(e.tensor)
    for path, block in blocks.items():
        if not block.outputs:
            block.outputs = list(graph.nodes[last[path]].outputs)
    return blocks


def _roll_templates() -> dict[str, str]:
    """DOT attribute lists of a rolled run's box with placeholders the page fills in."""
    name, detail, facts, tooltip = PLACEHOLDERS
    probe = Node("roll", name, "block", "Block", attrs={"repeat": 2})
    attrs = dot.node_attrs(probe)
    out = {}
    for key, label in (("facts", dot.label_table(name, detail, facts)),
                       ("plain", dot.label_table(name, detail))):
        out[key] = dot.format_attrs({**attrs, "label": label, "tooltip": tooltip})
    return out


def _thumbnails(activations: Mapping[str, Any] | None,
                node_index: dict[str, int]) -> dict[str, str]:
    """Node index -> ``data:`` URI, for the nodes of the graph that have a thumbnail."""
    out: dict[str, str] = {}
    for nid, image in (activations or {}).items():
        if nid not in node_index:
            continue
        out[str(node_index[nid])] = image_uri(image)
    return out


def image_uri(image: Any) -> str:
    """A ``data:image/…;base64,`` URI for PNG bytes or an image data URI (checked)."""
    if isinstance(image, (bytes, bytearray, memoryview)):
        data = bytes(image)
        kind = ("image/png" if data.startswith(b"\x89PNG\r\n\x1a\n") else
                "image/jpeg" if data.startswith(b"\xff\xd8\xff") else None)
        if kind is None:
            raise NetdrawError("an activation thumbnail must be PNG or JPEG bytes or a "
                               "data:image/png;base64,… URI")
        return f"data:{kind};base64," + base64.b64encode(data).decode("ascii")
    if isinstance(image, str):
        head, _, payload = image.partition(",")
        kind = head[5:].split(";")[0] if head.startswith("data:") else ""
        if kind in IMAGE_TYPES and head.endswith(";base64"):
            try:
                base64.b64decode(payload, validate=True)
            except ValueError:
                pass
            else:
                return image
    raise NetdrawError("an activation thumbnail must be PNG or JPEG bytes or a "
                       "data:image/png;base64,… URI")


def _extra(extra: Mapping[str, Any] | None, node_index: dict[str, int]) -> dict[str, Any]:
    """Node index -> rows ``[[label, text], …]`` of extra facts for the side panel."""
    out: dict[str, Any] = {}
    for nid, rows in (extra or {}).items():
        if nid not in node_index:
            continue
        items = rows.items() if isinstance(rows, Mapping) else rows
        out[str(node_index[nid])] = [[str(k), str(v)] for k, v in items]
    return out


def _json_safe(value: Any) -> Any:
    """Attrs as JSON: tuples as lists, keys as strings, other objects as their text."""
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    return str(value)


def script_json(data: Any) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the
    line separators are ``\\u`` escapes, so no name can close the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    for char, escape in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, escape)
    return text


__all__ = ["PLACEHOLDERS", "SCHEMA", "image_uri", "page_model", "script_json"]
