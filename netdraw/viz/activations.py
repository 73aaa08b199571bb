"""What a forward pass produced, node by node: :class:`Activations` (numpy only).

An :class:`Activations` is plain data that any part of netdraw can use without a framework
(the diagram backends draw per-layer thumbnails from it):

``graph``
    the :class:`netdraw.ir.Graph` whose node ids key the values: the full graph of
    ``netdraw.load(model, ...)``, or a view of it (:meth:`Activations.for_graph`).
``values``
    node id -> ``numpy.ndarray``, the node's (first) output for the whole batch, batch
    axis first, exactly as the framework laid it out (float32 for floating outputs).
    Input nodes hold the input, output nodes their producer's value.
``axes``
    node id -> a string naming each axis of ``values[id]``: ``N`` batch, ``C`` channels,
    ``H``/``W`` height/width, ``L`` length (1-D signals), ``T`` tokens, ``D`` features of a
    token, ``F`` features of a vector, ``?`` anything else. PyTorch and ONNX give ``NCHW``,
    Keras ``NHWC`` (``layout`` says which the model uses); a transformer's hidden states are
    ``NTD``, a dense output ``NF``.
``layout``
    ``"channels_first"`` or ``"channels_last"``: the model's image layout.

Helpers give every backend the same framework-free pictures' data, for one example:
:meth:`Activations.spatial` (``(C, H, W)``, channels first whatever the layout; tokens whose
count, less up to 8 leading class/register tokens, is a square are folded into that grid),
:meth:`Activations.vector` (1-D), :meth:`Activations.tokens` (``(T, D)``),
:meth:`Activations.channel_stats` and :meth:`Activations.top_channels` (the ``index``,
``mean`` or ``max`` order to choose the strongest channels), :meth:`Activations.value_range`
and :meth:`Activations.summary` (shape, min, max, mean, fraction of zeros).
:meth:`Activations.save` / :meth:`Activations.load` keep one in a ``.npz`` file (no pickle).

>>> import numpy as np
>>> from netdraw.ir import Graph, Node
>>> g = Graph("m"); g.add_node(Node("conv", "conv", "conv", "Conv2d"))
>>> acts = Activations(g, {"conv": np.ones((1, 2, 3, 4), np.float32)}, {"conv": "NCHW"})
>>> acts.spatial("conv").shape, acts.value_range("conv")
((2, 3, 4), (1.0, 1.0))
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node

CHANNELS_FIRST = "channels_first"
CHANNELS_LAST = "channels_last"
#: Leading tokens (class, distillation, register tokens) dropped before folding a grid.
MAX_EXTRA_TOKENS = 8
ORDERS = ("index", "mean", "max")
_SPATIAL_KINDS = ("conv", "conv_transpose", "pool", "upsample", "pad")


def representative(node: Node) -> str:
    """The id of the source-graph node whose output ``node`` shows: itself, or for a view's
    folded node, merged bias add, collapsed block or rolled run ``attrs["output_node"]``
    (the last member whose output leaves it)."""
    source = node.attrs.get("output_node")
    if isinstance(source, str):
        return source
    folded = node.attrs.get("folded")
    if isinstance(folded, list) and folded and isinstance(folded[-1], dict):
        return str(folded[-1].get("id", node.id))
    return node.id


def fold_tokens(count: int) -> tuple[int, int, int] | None:
    """``(extra, h, w)`` when ``count`` tokens less ``extra`` leading ones make a square grid
    (``h = w``, at least 2×2); None otherwise. 197 ViT tokens -> (1, 14, 14)."""
    for extra in range(0, MAX_EXTRA_TOKENS + 1):
        side = math.isqrt(max(count - extra, 0))
        if side >= 2 and side * side == count - extra:
            return extra, side, side
    return None


def guess_axes(shape: tuple[int, ...], batch: int, layout: str, kind: str = "",
               op_type: str = "") -> str:
    """The axes string of an output of ``shape`` (see the module docstring)."""
    if not shape or shape[0] != batch:
        return "?" * len(shape)
    rank = len(shape)
    first = layout == CHANNELS_FIRST
    if rank == 1:
        return "N"
    if rank == 2:
        return "NF"
    if rank == 4:
        return "NCHW" if first else "NHWC"
    if rank == 3:
        one_d = kind in _SPATIAL_KINDS or "1d" in op_type.lower() or (
            kind == "norm" and "batch" in op_type.lower())
        if one_d:
            return "NCL" if first else "NLC"
        return "NTD"
    return "N" + "?" * (rank - 1)


def fill_outputs(graph: Graph, values: dict[str, np.ndarray]) -> None:
    """Give each output node its producer's value (in place)."""
    for e in graph.edges:
        if e.dst in graph.outputs and e.src in values and e.dst not in values:
            values[e.dst] = values[e.src]


@dataclass
class Activations:
    """Node outputs of one forward pass, keyed by node id of :attr:`graph` (see module doc)."""

    graph: Graph
    values: dict[str, np.ndarray]
    axes: dict[str, str] = field(default_factory=dict)
    layout: str = CHANNELS_FIRST
    #: Facts about how they were made: framework, preprocessing, input files.
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for nid, value in self.values.items():
            if nid not in self.axes:
                node = self.graph.nodes.get(nid)
                self.axes[nid] = guess_axes(value.shape, self.batch, self.layout,
                                            node.kind if node else "",
                                            node.op_type if node else "")

    # -- the mapping ----------------------------------------------------------------
    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.find(key) is not None

    def __getitem__(self, key: str) -> np.ndarray:
        """The output of node ``key``: a node id, else a name (module doc)."""
        return self.values[self.id_of(key)]

    def find(self, key: str, box: bool = False) -> str | None:
        """The node id with a value that ``key`` means, or None: ``key`` itself when it
        is a node id with a value, else the node a name means — the framework's name or
        module path (``block1.0`` for ONNX's ``/block1/block1.0/Conv``, ``block1.conv``
        for Keras's ``block1_conv``), a group. ``box``: a name means what the diagram's
        box of that name shows (:mod:`netdraw.viz.layers`), first."""
        from netdraw.viz.layers import find_layer

        if not box and key in self.values:
            return key
        found = find_layer(self.graph, key, fold=box)
        return found if found in self.values else None

    def id_of(self, key: str, box: bool = False) -> str:
        """As :meth:`find`, raising a clear error (with close names) when nothing fits."""
        found = self.find(key, box)
        if found is not None:
            return found
        from netdraw.viz.layers import resolve_layer

        nid = resolve_layer(self.graph, key, fold=box)  # raises naming close names
        raise NetdrawError(f"{key!r} ({self.graph.nodes[nid].name}) was not captured; "
                           "capture it (nodes=None captures every node)")

    def layer(self, name: str) -> np.ndarray:
        """What the diagram's box called ``name`` shows: for a Conv+BN+ReLU box named
        after its convolution, the ReLU's output (as ``netdraw cam --layer`` and
        ``netdraw activations --layer`` read a name)."""
        return self.values[self.id_of(name, box=True)]

    def __iter__(self) -> Iterator[str]:
        """Node ids with a value, in the graph's (topological) order."""
        return (nid for nid in self.graph.nodes if nid in self.values)

    def __len__(self) -> int:
        return len(self.values)

    @property
    def batch(self) -> int:
        """The number of examples (the inputs' batch size)."""
        for nid in self.graph.inputs:
            if nid in self.values and self.values[nid].ndim:
                return int(self.values[nid].shape[0])
        first = next(iter(self.values.values()), None)
        return int(first.shape[0]) if first is not None and first.ndim else 1

    def node(self, nid: str) -> Node:
        return self.graph.nodes[nid]

    # -- views ----------------------------------------------------------------------
    def for_graph(self, graph: Graph) -> Activations:
        """The same values keyed by the ids of ``graph``, a view made from :attr:`graph`:
        each node shows its representative's output (:func:`representative`). Arrays are
        shared, not copied; nodes whose representative has no value are left out."""
        values: dict[str, np.ndarray] = {}
        axes: dict[str, str] = {}
        for node in graph.nodes.values():
            source = representative(node)
            if source in self.values:
                values[node.id] = self.values[source]
                axes[node.id] = self.axes[source]
        return Activations(graph, values, axes, self.layout, dict(self.meta))

    def select(self, nodes: Iterable[str]) -> Activations:
        """Only the given node ids (those that have values)."""
        keep = [n for n in nodes if n in self.values]
        return Activations(self.graph, {n: self.values[n] for n in keep},
                           {n: self.axes[n] for n in keep}, self.layout, dict(self.meta))

    # -- what a backend draws ---------------------------------------------------------
    def kind(self, nid: str) -> str:
        """``spatial`` (a grid of channels, folded tokens included), ``tokens``,
        ``vector`` or ``other``."""
        nid = self.id_of(nid)
        axes = self.axes.get(nid, "")
        if axes in ("NCHW", "NHWC", "NCL", "NLC"):
            return "spatial"
        if axes == "NTD":
            return "spatial" if fold_tokens(self.values[nid].shape[1]) else "tokens"
        if axes in ("NF", "N"):
            return "vector"
        return "other"

    def spatial(self, nid: str, example: int = 0) -> np.ndarray | None:
        """One example's maps as ``(C, H, W)`` float32, channels first whatever the
        framework's layout; 1-D signals are ``(C, 1, L)``; foldable tokens ``(D, h, w)``
        (leading class/register tokens dropped). None when the output is not spatial."""
        nid = self.id_of(nid)
        value, axes = self.values[nid], self.axes.get(nid, "")
        x = value[example]
        if axes == "NCHW":
            out = x
        elif axes == "NHWC":
            out = np.moveaxis(x, -1, 0)
        elif axes == "NCL":
            out = x[:, None, :]
        elif axes == "NLC":
            out = np.moveaxis(x, -1, 0)[:, None, :]
        elif axes == "NTD":
            folded = fold_tokens(x.shape[0])
            if folded is None:
                return None
            extra, h, w = folded
            out = np.moveaxis(x[extra:], -1, 0).reshape(x.shape[1], h, w)
        else:
            return None
        return np.asarray(out, dtype=np.float32)

    def tokens(self, nid: str, example: int = 0) -> np.ndarray | None:
        """One example's ``(T, D)`` token matrix, or None when the output is not tokens."""
        nid = self.id_of(nid)
        if self.axes.get(nid) != "NTD":
            return None
        return np.asarray(self.values[nid][example], dtype=np.float32)

    def vector(self, nid: str, example: int = 0) -> np.ndarray:
        """One example's output flattened to 1-D float32 (a dense layer's features)."""
        nid = self.id_of(nid)
        return np.asarray(self.values[nid][example], dtype=np.float32).reshape(-1)

    def channel_stats(self, nid: str, example: int = 0) -> dict[str, np.ndarray]:
        """Per channel of :meth:`spatial`: ``mean``, ``max``, ``min`` and ``std``."""
        maps = self.spatial(nid, example)
        if maps is None:
            raise NetdrawError(f"node {nid!r} has no spatial output "
                               f"(axes {self.axes.get(nid, '?')})")
        flat = maps.reshape(maps.shape[0], -1)
        return {"mean": flat.mean(1), "max": flat.max(1), "min": flat.min(1),
                "std": flat.std(1)}

    def top_channels(self, nid: str, count: int, order: str = "index",
                     example: int = 0) -> list[int]:
        """``count`` channel indices: the first ones (``index``) or the most active ones,
        by mean or by maximum value, strongest first."""
        if order not in ORDERS:
            raise NetdrawError(f"unknown channel order {order!r}; use one of "
                               f"{', '.join(ORDERS)}")
        maps = self.spatial(nid, example)
        channels = 0 if maps is None else maps.shape[0]
        count = max(0, min(count, channels))
        if order == "index" or maps is None:
            return list(range(count))
        flat = maps.reshape(maps.shape[0], -1)
        score = flat.mean(1) if order == "mean" else flat.max(1)
        return [int(i) for i in np.argsort(-score, kind="stable")[:count]]

    def value_range(self, nid: str, example: int | None = None) -> tuple[float, float]:
        """``(min, max)`` of the output, of one example or (None) of the whole batch."""
        nid = self.id_of(nid)
        value = self.values[nid] if example is None else self.values[nid][example]
        if value.size == 0:
            return (0.0, 0.0)
        finite = value[np.isfinite(value)] if value.dtype.kind == "f" else value
        if finite.size == 0:
            return (0.0, 0.0)
        return float(finite.min()), float(finite.max())

    def summary(self, nid: str) -> dict[str, Any]:
        """Shape, axes, min, max, mean and fraction of exact zeros over the batch."""
        nid = self.id_of(nid)
        value = self.values[nid]
        low, high = self.value_range(nid)
        return {"shape": list(value.shape), "axes": self.axes.get(nid, ""),
                "min": low, "max": high,
                "mean": float(value.mean()) if value.size else 0.0,
                "zeros": float((value == 0).mean()) if value.size else 0.0}

    # -- files ----------------------------------------------------------------------
    def save(self, path: str | Path) -> None:
        """Write the values, axes and graph to one ``.npz`` file (no pickled objects)."""
        from netdraw.output import write_output

        keys = list(self)
        header = {"schema": "netdraw.activations/1", "layout": self.layout,
                  "meta": self.meta, "nodes": keys, "axes": [self.axes[k] for k in keys],
                  "graph": json.loads(self.graph.to_json())}
        buffer = io.BytesIO()
        arrays = {f"v{i}": self.values[k] for i, k in enumerate(keys)}
        np.savez_compressed(buffer, header=np.array(json.dumps(header)), **arrays)
        write_output(str(path), buffer.getvalue())

    @classmethod
    def load(cls, path: str | Path) -> Activations:
        """Read a file written by :meth:`save` (``allow_pickle=False``)."""
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                values = {k: np.asarray(data[f"v{i}"]) for i, k in enumerate(header["nodes"])}
        except (OSError, ValueError, KeyError) as exc:
            raise NetdrawError(f"cannot read activations from {path}: {exc}") from None
        if header.get("schema") != "netdraw.activations/1":
            raise NetdrawError(f"{path} is not a netdraw activations file")
        graph = Graph.from_json(json.dumps(header["graph"]))
        axes = dict(zip(header["nodes"], header["axes"], strict=True))
        return cls(graph, values, axes, header["layout"], header.get("meta") or {})
