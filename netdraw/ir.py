"""The layer-graph IR every importer produces and every backend consumes.

Pure Python (numpy is not even needed here): no framework type ever lives inside a Graph.

>>> g = Graph("tiny")
>>> x = g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 3))]))
>>> fc = g.add_node(Node("fc", "fc", "dense", "Linear", attrs={"units": 2}, params=8,
...                      outputs=[TensorSpec((1, 2))]))
>>> g.add_edge("x", "fc", TensorSpec((1, 3)))
>>> Graph.from_json(g.to_json()).to_json() == g.to_json()
True
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from netdraw.errors import NetdrawError

SCHEMA = "netdraw.graph/1"

#: Canonical node kinds. They are part of the public JSON format: never rename one.
KINDS: tuple[str, ...] = (
    "input", "output", "conv", "conv_transpose", "dense", "pool", "global_pool", "norm",
    "activation", "softmax", "dropout", "flatten", "reshape", "transpose", "concat", "add",
    "multiply", "matmul", "attention", "embedding", "recurrent", "upsample", "pad", "slice",
    "constant", "subgraph", "block", "reduce", "cast", "identity", "elementwise", "other",
    "subtract", "divide", "maximum", "minimum", "average",
)

#: Axis letters of a :attr:`TensorSpec.layout`: ``N`` the batch, ``C`` the channels (or
#: features), ``D``/``H``/``W`` spatial axes, ``L`` a sequence; ``?`` an axis of no role.
LAYOUT_LETTERS = frozenset("NCDHWL?")

Dim = int | str | None


@dataclass(frozen=True, slots=True)
class TensorSpec:
    """Shape and dtype of a tensor; ``shape`` None means the rank is unknown.

    Dims are ints, strings for symbolic dims (``"batch"``) or None when unknown. ``layout``
    names each axis by a letter (:data:`LAYOUT_LETTERS`; ``"NCHW"``, ``"NHWC"``, ``"NLC"``)
    when it is known; read channels and spatial dims with :func:`channels_and_spatial`.
    """

    shape: tuple[Dim, ...] | None = None
    dtype: str | None = None
    layout: str | None = None

    def to_dict(self) -> dict[str, Any]:
        data = {"shape": None if self.shape is None else list(self.shape), "dtype": self.dtype}
        if self.layout:
            data["layout"] = self.layout
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TensorSpec:
        shape = None if data.get("shape") is None else tuple(data["shape"])
        layout = data.get("layout")
        if layout is not None and not (isinstance(layout, str) and shape is not None
                                       and len(layout) == len(shape)
                                       and set(layout) <= LAYOUT_LETTERS):
            raise ValueError(f"tensor layout {str(layout)[:40]!r} does not fit shape "
                             f"{shape}: give one letter of NCDHWL? per axis")
        return cls(shape, data.get("dtype"), layout)

    def format_shape(self, sep: str = "×") -> str:
        """``1×64×56×56``; ``?`` for unknown dims, empty for an unknown rank."""
        if self.shape is None:
            return ""
        if not self.shape:
            return "scalar"
        return sep.join("?" if d is None else str(d) for d in self.shape)


def spatial_layout(rank: int, channels_last: bool) -> str | None:
    """The layout of an image-like tensor of ``rank`` axes (batch first): ``NCHW`` or
    ``NHWC`` for rank 4, ``NCW``/``NWC`` for 3, ``NCDHW``/``NDHWC`` for 5, ``NC`` for 2.

    >>> spatial_layout(4, False), spatial_layout(4, True), spatial_layout(3, True)
    ('NCHW', 'NHWC', 'NWC')
    """
    spatial = {2: "", 3: "W", 4: "HW", 5: "DHW"}.get(rank)
    if spatial is None:
        return None
    return f"N{spatial}C" if channels_last else f"NC{spatial}"


def channels_and_spatial(spec: TensorSpec | None, layout: str | None = None
                         ) -> tuple[Dim, tuple[Dim, ...]] | None:
    """The channels and the spatial dims (in order: D, H, W or a sequence's L) of a tensor,
    read where its layout puts them; ``layout`` is the fallback for a spec that has none.
    None when the rank or the layout is unknown, or the layout has no ``C`` axis.

    The one place a layout is read: every backend, the summary and the figures ask here.

    >>> channels_and_spatial(TensorSpec((1, 56, 56, 96), layout="NHWC"))
    (96, (56, 56))
    >>> channels_and_spatial(TensorSpec((1, 96, 56, 56)), layout="NCHW")
    (96, (56, 56))
    """
    if spec is None or spec.shape is None:
        return None
    letters = spec.layout or layout
    if not letters or len(letters) != len(spec.shape) or "C" not in letters:
        return None
    spatial = tuple(d for d, a in zip(spec.shape, letters, strict=True) if a in "DHWL")
    return spec.shape[letters.index("C")], spatial


@dataclass(slots=True)  # slots: a 100k-node graph is a third smaller and faster to build
class Node:
    """One layer or operation."""

    id: str
    name: str
    kind: str
    op_type: str
    attrs: dict[str, Any] = field(default_factory=dict)
    params: int = 0
    inputs: list[TensorSpec] = field(default_factory=list)
    outputs: list[TensorSpec] = field(default_factory=list)
    group: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "kind": self.kind,
            "op_type": self.op_type,
            "attrs": _sorted_json(self.attrs),
            "params": self.params,
            "inputs": [t.to_dict() for t in self.inputs],
            "outputs": [t.to_dict() for t in self.outputs],
            "group": list(self.group),
        }

    def clone(self) -> Node:
        """A deep copy (attrs copied recursively; tensor specs are immutable and shared)."""
        return Node(self.id, self.name, self.kind, self.op_type, _clone_json(self.attrs),
                    self.params, list(self.inputs), list(self.outputs), self.group)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Node:
        return cls(
            id=str(data["id"]),
            name=str(data.get("name", data["id"])),
            kind=str(data.get("kind", "other")),
            op_type=str(data.get("op_type", "")),
            attrs=dict(data.get("attrs") or {}),
            params=int(data.get("params") or 0),
            inputs=[TensorSpec.from_dict(t) for t in data.get("inputs") or []],
            outputs=[TensorSpec.from_dict(t) for t in data.get("outputs") or []],
            group=tuple(str(p) for p in data.get("group") or ()),
        )


@dataclass(slots=True)
class Edge:
    """A tensor flowing from node ``src`` to node ``dst``."""

    src: str
    dst: str
    tensor: TensorSpec = field(default_factory=TensorSpec)

    def to_dict(self) -> dict[str, Any]:
        return {"src": self.src, "dst": self.dst, "tensor": self.tensor.to_dict()}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Edge:
        tensor = TensorSpec.from_dict(data.get("tensor") or {})
        return cls(str(data["src"]), str(data["dst"]), tensor)


@dataclass
class Group:
    """A node of the group tree: a module, a name scope, a subgraph body or a function.

    ``path`` is the chain of names from the root, e.g. ``("layer1", "layer1.0")``; ``label``
    is what a diagram shows (defaults to the last path element); ``class_name`` is the
    module or function class (``Bottleneck``), if known.

    A module applied several times (a siamese encoder) is one group per call: ``call`` is
    this call's number (1, 2, …) and ``calls`` how many there are; every call after the
    first names the first call's path in ``shared_with``, whose weights it uses (they are
    counted on the first call only). A group called once has ``call == calls == 0``.
    """

    path: tuple[str, ...]
    class_name: str = ""
    label: str = ""
    call: int = 0
    calls: int = 0
    shared_with: tuple[str, ...] = ()

    @property
    def display_name(self) -> str:
        return self.label or (self.path[-1] if self.path else "")

    def copy(self, path: tuple[str, ...] | None = None) -> Group:
        """The same group (at ``path`` if given)."""
        return Group(self.path if path is None else path, self.class_name, self.label,
                     self.call, self.calls, self.shared_with)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"path": list(self.path), "class_name": self.class_name,
                                "label": self.label}
        if self.calls:
            data.update({"call": self.call, "calls": self.calls})
        if self.shared_with:
            data["shared_with"] = list(self.shared_with)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Group:
        calls = data.get("calls") or 0
        call = data.get("call") or 0
        if not (isinstance(calls, int) and isinstance(call, int) and 0 < call <= calls):
            call = calls = 0
        return cls(tuple(str(p) for p in data["path"]), str(data.get("class_name") or ""),
                   str(data.get("label") or ""), call, calls,
                   tuple(str(p) for p in data.get("shared_with") or ()))


class Graph:
    """Nodes in topological order, the edges between them and the group tree."""

    def __init__(self, name: str = "model") -> None:
        self.name = name
        self.nodes: dict[str, Node] = {}
        self.edges: list[Edge] = []
        self.inputs: list[str] = []
        self.outputs: list[str] = []
        self.groups: dict[tuple[str, ...], Group] = {}
        #: Free-form facts about the source (framework, file, …); kept in the JSON.
        self.meta: dict[str, Any] = {}

    # -- building -----------------------------------------------------------------------
    def add_node(self, node: Node) -> Node:
        if node.id in self.nodes:
            raise ValueError(f"duplicate node id {node.id!r}")
        self.nodes[node.id] = node
        if node.kind == "input":
            self.inputs.append(node.id)
        elif node.kind == "output":
            self.outputs.append(node.id)
        return node

    def add_edge(self, src: str, dst: str, tensor: TensorSpec | None = None) -> None:
        self.edges.append(Edge(src, dst, tensor or TensorSpec()))

    def add_group(self, path: Sequence[str], class_name: str = "", label: str = "") -> Group:
        """Register a group (and its ancestors); keeps an existing one's non-empty facts."""
        path = tuple(path)
        for depth in range(len(path) - 1, 0, -1):
            if path[:depth] in self.groups:
                break
            self.groups[path[:depth]] = Group(path[:depth])
        group = self.groups.get(path)
        if group is None:
            group = self.groups[path] = Group(path, class_name, label)
        else:
            group.class_name = group.class_name or class_name
            group.label = group.label or label
        return group

    # -- reading ------------------------------------------------------------------------
    def __len__(self) -> int:
        return len(self.nodes)

    def __iter__(self) -> Iterator[Node]:
        return iter(self.nodes.values())

    @property
    def total_params(self) -> int:
        """The model's parameters: every node's, plus those the source holds that no node
        reached (:func:`unused_params`), so the total is the framework's own."""
        return sum(n.params for n in self.nodes.values()) + sum(unused_params(self).values())

    def successors(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for e in self.edges:
            out[e.src].append(e.dst)
        return out

    def predecessors(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {nid: [] for nid in self.nodes}
        for e in self.edges:
            out[e.dst].append(e.src)
        return out

    def group_of(self, node: Node) -> Group | None:
        return self.groups.get(node.group) if node.group else None

    def copy(self) -> Graph:
        """A deep copy: nodes, edges, groups and meta are new objects."""
        out = Graph(self.name)
        out.nodes = {nid: node.clone() for nid, node in self.nodes.items()}
        out.edges = [Edge(e.src, e.dst, e.tensor) for e in self.edges]
        out.inputs, out.outputs = list(self.inputs), list(self.outputs)
        out.groups = {p: g.copy() for p, g in self.groups.items()}
        out.meta = _clone_json(self.meta)
        return out

    # -- checking -----------------------------------------------------------------------
    def validate(self) -> None:
        """Raise NetdrawError if edges dangle or the graph has a cycle; reorder topologically."""
        for e in self.edges:
            for end in (e.src, e.dst):
                if end not in self.nodes:
                    raise NetdrawError(f"edge {e.src!r} -> {e.dst!r} names unknown node {end!r}; "
                                       "every edge must join two listed nodes")
        for nid in [*self.inputs, *self.outputs]:
            if nid not in self.nodes:
                raise NetdrawError(f"graph input/output {nid!r} is not a node of the graph")
        order = topological_order(self.nodes, self.edges)
        self.nodes = {nid: self.nodes[nid] for nid in order}

    # -- JSON ---------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        for node in self.nodes.values():
            if node.group and node.group not in self.groups:
                self.add_group(node.group)
        data: dict[str, Any] = {
            "schema": SCHEMA,
            "name": self.name,
            "nodes": [n.to_dict() for n in self.nodes.values()],
            "edges": [e.to_dict() for e in self.edges],
            "inputs": list(self.inputs),
            "outputs": list(self.outputs),
            "groups": [g.to_dict() for _, g in sorted(self.groups.items())],
            "meta": _sorted_json(self.meta),
        }
        return data

    def to_json(self, indent: int | None = 1) -> str:
        """The public JSON form (schema ``netdraw.graph/1``); deterministic."""
        from netdraw.output import json_text

        return json_text(self.to_dict(), what=f"the graph {self.name}", indent=indent,
                         ensure_ascii=False) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Graph:
        if not isinstance(data, dict) or data.get("schema") != SCHEMA:
            found = data.get("schema") if isinstance(data, dict) else type(data).__name__
            raise NetdrawError(f"not a netdraw graph (schema {str(found)[:60]!r}, expected "
                               f"{SCHEMA!r}); write one with 'netdraw MODEL -o graph.json'")
        from netdraw.schema import validate

        try:
            validate(data)  # the published schema and its limits, before any field is used
        except NetdrawError as exc:
            raise NetdrawError(f"invalid netdraw graph: {exc}") from None
        try:
            graph = cls(str(data.get("name", "model")))
            for nd in data.get("nodes") or []:
                node = Node.from_dict(nd)
                if node.id in graph.nodes:
                    raise NetdrawError(f"node id {node.id!r} appears twice; ids must be unique")
                graph.nodes[node.id] = node
            graph.edges = [Edge.from_dict(e) for e in data.get("edges") or []]
            graph.inputs = [str(i) for i in data.get("inputs") or []]
            graph.outputs = [str(o) for o in data.get("outputs") or []]
            for gd in data.get("groups") or []:
                group = Group.from_dict(gd)
                graph.groups[group.path] = group
            graph.meta = dict(data.get("meta") or {})
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise NetdrawError(f"malformed netdraw graph JSON ({type(exc).__name__}: {exc}); "
                               "check it against netdraw/schema/graph-1.schema.json") from None
        for node in graph.nodes.values():
            if node.group:
                graph.add_group(node.group)
        graph.validate()
        return graph

    @classmethod
    def from_json(cls, text: str | bytes) -> Graph:
        try:
            data = json.loads(text, parse_constant=_no_constant)
        except (ValueError, UnicodeDecodeError) as exc:
            raise NetdrawError(f"invalid JSON ({str(exc)[:200]}); is the file complete?"
                               ) from None
        except RecursionError:
            raise NetdrawError("invalid JSON: nested too deeply") from None
        return cls.from_dict(data)

    def __repr__(self) -> str:
        return (f"<Graph {self.name!r}: {len(self.nodes)} nodes, {len(self.edges)} edges, "
                f"{self.total_params:,} params>")


def unused_params(graph: Graph) -> dict[str, int]:
    """Parameters the model holds that its traced forward never read (``mask_token``, a
    pooler the output does not reach): name -> count, from ``meta["unused_params"]``; a
    bare count (older files) has the name ``""``. Anything else a JSON file put there is
    left out."""
    value = graph.meta.get("unused_params")
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return {"": value}
    if not isinstance(value, dict):
        return {}
    return {str(k): v for k, v in value.items()
            if isinstance(v, int) and not isinstance(v, bool) and v > 0}


def folded_layers(node: Node) -> list[dict[str, Any]]:
    """The layers a fold absorbed into ``node`` (``attrs["folded"]``, see docs/views.md), each
    a dict; anything else a hand-edited or hostile JSON file put there is skipped."""
    folded = node.attrs.get("folded")
    return [f for f in folded if isinstance(f, dict)] if isinstance(folded, list) else []


class UniqueIds:
    """Hands out unique node ids: the base itself, then ``base{sep}2``, ``base{sep}3``…

    >>> ids = UniqueIds("#")
    >>> ids("conv"), ids("conv"), ids("")
    ('conv', 'conv#2', 'node')
    """

    def __init__(self, sep: str = "_") -> None:
        self.sep = sep
        self.used: set[str] = set()

    def __call__(self, base: str) -> str:
        base = base or "node"
        nid, k = base, 1
        while nid in self.used:
            k += 1
            nid = f"{base}{self.sep}{k}"
        self.used.add(nid)
        return nid


def topological_order(nodes: Iterable[str], edges: Iterable[Edge]) -> list[str]:
    """Kahn's algorithm, stable with respect to the given node order; errors on a cycle.

    O(N + E) when the order is already topological (checked first), else O((N + E) log N).
    """
    order_in = list(nodes)
    index = {nid: i for i, nid in enumerate(order_in)}
    edges = edges if isinstance(edges, list) else list(edges)
    if all(index[e.src] < index[e.dst] for e in edges):
        return order_in
    indeg = dict.fromkeys(order_in, 0)
    succ: dict[str, list[str]] = {nid: [] for nid in order_in}
    for e in edges:
        succ[e.src].append(e.dst)
        indeg[e.dst] += 1
    import heapq

    ready = [index[n] for n in order_in if indeg[n] == 0]
    heapq.heapify(ready)
    out: list[str] = []
    while ready:
        nid = order_in[heapq.heappop(ready)]
        out.append(nid)
        for d in succ[nid]:
            indeg[d] -= 1
            if indeg[d] == 0:
                heapq.heappush(ready, index[d])
    if len(out) != len(order_in):
        stuck = [n for n in order_in if indeg[n] > 0][:3]
        raise NetdrawError(f"the graph has a cycle (through {', '.join(map(repr, stuck))}); "
                           "netdraw draws acyclic graphs only")
    return out


def _clone_json(value: Any) -> Any:
    """A deep copy of JSON-like data (dicts, lists, tuples and scalars)."""
    if isinstance(value, dict):
        return {k: _clone_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clone_json(v) for v in value]
    return value


def _sorted_json(value: Any) -> Any:
    """Attrs/meta with dict keys sorted and tuples as lists, so JSON output is stable; a
    non-finite float (which JSON cannot hold) is written as its text (``"nan"``)."""
    if isinstance(value, dict):
        return {str(k): _sorted_json(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, (list, tuple)):
        return [_sorted_json(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")
