"""The explorer's data: every layer's channels for several inputs, predictions, CAMs.

The HTML page's explorer (``netdraw draw MODEL --input A.png --input B.png -o x.html``, and
``netdraw serve MODEL --inputs DIR``) lets a reader pick an input and see what each layer
computes for it. This module turns a model and its inputs into the plain data of
:mod:`netdraw.backends.explorer_data`, keyed by the ids of the page's graph (a folded box
shows its last member's output, as the diagram's thumbnails do):

- each layer's kind (``image``, ``maps``, ``strip``, ``tokens``), its colour scale across
  all the inputs (:func:`netdraw.viz.thumbnails.layer_scale` of the values' overall
  range) and its receptive field (:mod:`netdraw.viz.receptive`);
- per input and channel: the map as 8-bit levels on that scale, at the layer's own grid or,
  for a static page that would pass :data:`STATIC_BUDGET` bytes, box-averaged to the
  largest equal pixel count per channel that fits (:func:`storage_sizes`); the statistics
  (mean, max, min, std, fraction of zeros) and the position of the maximum at full
  resolution;
- the top-5 predictions (the softmax of the model's output, or the output itself when it
  already is probabilities) with class names;
- the class-activation maps of each input's top classes, and gradient-ascent images of
  the convolutions' channels when the model is small enough (:data:`ASCENT_BUDGET`).

>>> storage_sizes({"a": (8, 64, 64), "b": (32, 8, 8)}, inputs=2, budget=2 * (8 * 256 + 32 * 64))
{'a': (16, 16), 'b': (8, 8)}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from netdraw import progress
from netdraw.backends.explorer_data import (
    CamMap,
    ExplorerData,
    InputEntry,
    LayerInfo,
    LayerValues,
)
from netdraw.backends.thumbs import Scale, to_png
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.viz.activations import Activations, representative

#: Bytes of 8-bit levels a static page may hold (the page's other parts come on top).
STATIC_BUDGET = 11_000_000
#: Predictions shown per input.
TOP_CLASSES = 5
#: Static pages: gradient ascent for every convolution channel when steps × channels ×
#: the MACs up to the layer × 3 (forward and backward) stays under this.
ASCENT_BUDGET = 6e10
#: Gradient-ascent steps (as ``netdraw filters --ascent``).
ASCENT_STEPS = 64
#: Statistics per channel, in this order.
STATS = ("mean", "max", "min", "std", "zeros")


# -- arrays ------------------------------------------------------------------------------


def layer_kind(acts: Activations, nid: str) -> str | None:
    """``image`` (an input picture), ``maps``, ``strip``, ``tokens`` or None (nothing to
    show: integers, empty outputs, shapes the explorer does not read)."""
    value = acts.values[nid]
    if value.dtype.kind not in "fiub" or value.size == 0:
        return None
    kind = acts.kind(nid)
    node = acts.node(nid)
    if kind == "spatial":
        maps = acts.spatial(nid)
        if maps is None or maps.shape[0] == 0:
            return None
        if node.kind == "input":
            return "image" if maps.shape[1] * maps.shape[2] > 1 else "strip"
        return "maps" if maps.shape[1] * maps.shape[2] > 1 else "strip"
    if kind == "tokens":
        return "tokens" if node.kind != "input" else None
    if kind == "vector":
        return "strip" if node.kind != "input" else None
    return None


def layer_array(acts: Activations, nid: str, kind: str, example: int = 0) -> np.ndarray:
    """One example's values: maps/image ``(C, h, w)``, strip ``(units,)``, tokens ``(T, D)``."""
    if kind in ("maps", "image"):
        return acts.spatial(nid, example)  # type: ignore[return-value]
    if kind == "tokens":
        return acts.tokens(nid, example)  # type: ignore[return-value]
    return acts.vector(nid, example)


def batch_array(acts: Activations, nid: str, kind: str) -> np.ndarray:
    """Every example's values, batch first (as :func:`layer_array` gives one)."""
    return np.stack([layer_array(acts, nid, kind, i) for i in range(acts.batch)])


def fit_size(h: int, w: int, limit: int) -> tuple[int, int]:
    """(h, w) reduced to at most ``limit`` on the longer side, keeping the aspect."""
    if max(h, w) <= limit:
        return h, w
    k = limit / max(h, w)
    return max(1, round(h * k)), max(1, round(w * k))


def channel_stats(maps: np.ndarray) -> np.ndarray:
    """(C, 5) float32: each channel's mean, max, min, std and fraction of exact zeros."""
    flat = np.nan_to_num(maps.reshape(maps.shape[0], -1).astype(np.float64))
    return np.stack([flat.mean(1), flat.max(1), flat.min(1), flat.std(1),
                     (flat == 0).mean(1)], axis=1).astype(np.float32)


def argmax_positions(maps: np.ndarray) -> np.ndarray:
    """(C, 2) uint16: (y, x) of each channel's maximum (the first one in reading order)."""
    c, _, w = maps.shape
    flat = np.nan_to_num(maps.reshape(c, -1), nan=-np.inf).argmax(1)
    return np.stack([flat // w, flat % w], axis=1).astype(np.uint16)


def _area_matrix(src: int, dst: int) -> np.ndarray:
    """(dst, src) weights averaging each output cell's share of the input cells."""
    if src == dst:
        return np.eye(src, dtype=np.float64)
    edges = np.arange(dst + 1) * src / dst
    out = np.zeros((dst, src))
    for i in range(dst):
        lo, hi = edges[i], edges[i + 1]
        for j in range(int(math.floor(lo)), min(src, int(math.ceil(hi)))):
            out[i, j] = min(hi, j + 1) - max(lo, j)
        out[i] /= hi - lo
    return out


def resample(maps: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``(C, h, w)`` box-averaged (each output cell the mean of the input area it covers)
    to ``(C, *size)``; the same array when the size is unchanged."""
    h, w = maps.shape[1:]
    if (h, w) == tuple(size):
        return maps
    ry, rx = _area_matrix(h, size[0]), _area_matrix(w, size[1])
    # rows, then columns: two matrix products (a three-way einsum sums every (h, w) for
    # every output cell, 50× slower on a 112×112 map)
    return (ry @ maps.astype(np.float64) @ rx.T).astype(np.float32)


def storage_sizes(shapes: dict[str, tuple[int, int, int]], inputs: int,
                  budget: int = STATIC_BUDGET) -> dict[str, tuple[int, int]]:
    """The (h, w) each layer's channels are stored at so that all layers' levels for
    ``inputs`` inputs fit in ``budget`` bytes: layers keep their own grid up to a pixel
    count per channel shared by all (the largest that fits), larger grids are reduced to
    about that count, keeping their aspect."""
    def size_at(cap: float, h: int, w: int) -> tuple[int, int]:
        if h * w <= cap:
            return h, w
        k = math.sqrt(cap / (h * w))
        return max(1, int(h * k)), max(1, int(w * k))

    def total(cap: float) -> int:
        return sum(c * math.prod(size_at(cap, h, w)) for c, h, w in shapes.values()) * inputs

    largest = max((h * w for _, h, w in shapes.values()), default=1)
    if total(largest) <= budget:
        return {nid: (h, w) for nid, (_, h, w) in shapes.items()}
    low, high = 1.0, float(largest)
    for _ in range(40):
        mid = (low + high) / 2
        if total(mid) <= budget:
            low = mid
        else:
            high = mid
    return {nid: size_at(low, h, w) for nid, (_, h, w) in shapes.items()}


def quantize(values: np.ndarray, scale: Scale) -> np.ndarray:
    """Values as 8-bit levels on ``scale``."""
    return (scale.levels(values) * 255).round().astype(np.uint8)


def picture_png(image: np.ndarray) -> bytes:
    """A (C, H, W) input as a PNG picture (RGB for three channels, else the first as grey),
    scaled by its own range unless it already is 0-1."""
    from PIL import Image

    x = np.nan_to_num(np.asarray(image, dtype=np.float32))
    low, high = float(x.min()), float(x.max())
    if low < 0 or high > 1:
        x = (x - low) / ((high - low) or 1.0)
    pixels = (np.clip(x, 0, 1) * 255).round().astype(np.uint8)
    if pixels.shape[0] == 3:
        return to_png(Image.fromarray(np.ascontiguousarray(np.moveaxis(pixels, 0, -1)), "RGB"))
    return to_png(Image.fromarray(np.ascontiguousarray(pixels[0]), "L"))


def predictions(output: np.ndarray, top: int = TOP_CLASSES
                ) -> tuple[list[list[tuple[int, float]]], bool, np.ndarray]:
    """Each example's ``top`` classes with their probabilities (best first), whether they
    are probabilities (the softmax of the output, or the output itself when each row
    already sums to 1 with no negative value) and the (N, K) probabilities."""
    scores = np.asarray(output, dtype=np.float64).reshape(output.shape[0], -1)
    sums = scores.sum(axis=1)
    if scores.min() >= 0 and np.allclose(sums, 1.0, atol=1e-4):
        probs = scores
    else:
        z = np.exp(scores - scores.max(axis=1, keepdims=True))
        probs = z / z.sum(axis=1, keepdims=True)
    out = []
    for row in probs:
        order = np.argsort(-row, kind="stable")[:top]
        out.append([(int(k), float(row[k])) for k in order])
    return out, True, probs


def read_labels(path: str) -> list[str]:
    """Class names, one a line (blank lines kept as empty names, trailing ones dropped)."""
    try:
        with open(path, encoding="utf-8") as fh:
            lines = [line.rstrip("\r\n") for line in fh.read(4_000_000).split("\n")]
    except (OSError, UnicodeDecodeError) as exc:
        raise NetdrawError(f"cannot read --labels {path}: {exc}") from None
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise NetdrawError(f"--labels {path} is empty; give one class name a line")
    return [line.strip()[:200] for line in lines]


# -- the layers of a page ------------------------------------------------------------


def output_node(graph: Graph) -> str | None:
    """The node of ``graph`` whose output is the model's (first) output: the producer of
    the first output node."""
    if not graph.outputs:
        return None
    target = graph.outputs[0]
    producers = [e.src for e in graph.edges if e.dst == target]
    return producers[0] if producers else None


def describe_layers(acts: Activations, fields: dict[str, Any] | None = None,
                    classes: Sequence[str] | None = None) -> dict[str, LayerInfo]:
    """A :class:`LayerInfo` for every node of ``acts.graph`` (a view) that has something to
    show; ``fields`` are the receptive fields of the source graph's nodes."""
    out: dict[str, LayerInfo] = {}
    last = output_node(acts.graph)
    for nid in acts:
        node = acts.node(nid)
        if node.kind == "output":
            continue
        kind = layer_kind(acts, nid)
        if kind is None:
            continue
        array = layer_array(acts, nid, kind)
        field_ = None
        if fields is not None and kind == "maps":
            found = fields.get(representative(node))
            if found is not None:
                fy, fx = found
                field_ = (fy.first, fy.jump, fy.size, fx.first, fx.jump, fx.size)
        names = None
        if kind == "strip" and nid == last and classes and len(classes) == array.size:
            names = list(classes)
        out[nid] = LayerInfo(nid, kind, tuple(int(d) for d in array.shape), field=field_,
                             unit_names=names)
    return out


@dataclass
class _Accumulator:
    """Per layer: its values for every input as they are captured."""

    info: LayerInfo
    stored: tuple[int, int] = (0, 0)
    low: float = math.inf
    high: float = -math.inf
    arrays: list[np.ndarray] = field(default_factory=list)
    stats: list[np.ndarray] = field(default_factory=list)
    argmax: list[np.ndarray] = field(default_factory=list)

    def add(self, array: np.ndarray) -> None:
        finite = array[np.isfinite(array)]
        if finite.size:
            self.low = min(self.low, float(finite.min()))
            self.high = max(self.high, float(finite.max()))
        kind = self.info.kind
        if kind in ("maps", "image"):
            self.stats.append(channel_stats(array))
            self.argmax.append(argmax_positions(array))
            self.arrays.append(resample(array, self.stored))
        elif kind == "tokens":
            self.stats.append(array.mean(axis=0).astype(np.float32))
            self.arrays.append(resample(array[None], self.stored)[0])
        else:
            self.stats.append(array.astype(np.float32))
            self.arrays.append(array.astype(np.float32))

    def finish(self, colormap: str = "auto") -> LayerValues:
        from netdraw.viz.thumbnails import layer_scale

        low, high = (self.low, self.high) if self.low <= self.high else (0.0, 0.0)
        scale = layer_scale(low, high, colormap)
        self.info.scale = scale
        self.info.scale_inputs = len(self.arrays)
        levels = quantize(np.stack(self.arrays), scale)
        argmax = np.stack(self.argmax) if self.argmax else None
        return LayerValues(levels, np.stack(self.stats), argmax)


class Explorer:
    """Builds the explorer of a static page: called with the page's graph (a view made
    from the model's graph), it runs the model on every input and returns
    :class:`ExplorerData` keyed by that graph's ids.

    ``model``: anything :func:`netdraw.viz.open_model` opens; ``inputs``: image or ``.npy``
    files (or a :class:`netdraw.viz.inputs.Batch`); ``labels``: class names (else the
    model's own, else ``class N``); ``cam``: compute class-activation maps of each input's
    top classes; ``ascent``: gradient-ascent images (``None``: when the model is small
    enough, see :data:`ASCENT_BUDGET`); ``budget``: bytes of levels the page may hold."""

    def __init__(self, model: Any, inputs: Any, *, labels: Sequence[str] | None = None,
                 cam: bool = True, ascent: bool | None = None, budget: int = STATIC_BUDGET,
                 colormap: str = "auto", count: int = 4, order: str = "mean",
                 normalize: Any = None) -> None:
        from netdraw.viz.api import open_model, prepare_inputs
        from netdraw.viz.inputs import Batch

        self.opened = open_model(model)
        if isinstance(inputs, Batch):
            self.batch = inputs
        else:
            items = [inputs] if isinstance(inputs, str) else list(inputs)
            if items and all(isinstance(i, str) for i in items):
                from netdraw.viz.inputs import load_inputs

                self.batch = load_inputs(items, self.opened.spec, normalize)
            else:
                self.batch = prepare_inputs(self.opened, inputs, normalize)
        self.labels = list(labels) if labels else None
        self.cam, self.ascent, self.budget = cam, ascent, budget
        self.colormap, self.count, self.order = colormap, count, order
        self.normalize = normalize

    # -- what the page gets --------------------------------------------------------
    def __call__(self, graph: Graph) -> ExplorerData:
        runtime = self.opened.runtime
        arrays = self.batch.arrays
        n = int(np.asarray(arrays[0]).shape[0])
        wanted = {representative(node) for node in graph.nodes.values()}
        classes = self.class_names()
        first = runtime.capture([a[:1] for a in arrays], None)
        source = first.graph
        from netdraw.viz.receptive import receptive_fields

        fields = receptive_fields(source)
        view = first.for_graph(graph)
        layers = describe_layers(view, fields, classes)
        maps = {nid: info.shape for nid, info in layers.items()
                if info.kind in ("maps", "image")}
        tokens = {nid: (1, *info.shape) for nid, info in layers.items() if info.kind == "tokens"}
        strips = sum(info.channels for info in layers.values() if info.kind == "strip")
        sizes = storage_sizes({**maps, **tokens}, n, max(1, self.budget - strips * n))
        accumulators = {nid: _Accumulator(info, sizes.get(nid, (0, 0)))
                        for nid, info in layers.items()}
        for acc in accumulators.values():
            acc.info.stored = acc.stored
        with progress.task("explorer: activations", total=n) as bar:
            for i in range(n):
                acts = first if i == 0 else runtime.capture([a[i:i + 1] for a in arrays],
                                                            wanted & set(source.nodes))
                view = acts.for_graph(graph)
                for nid, acc in accumulators.items():
                    acc.add(layer_array(view, nid, acc.info.kind))
                bar.advance()
        values = {nid: acc.finish(self.colormap) for nid, acc in accumulators.items()}
        data = ExplorerData(layers, self.entries(n, values), classes, values,
                            count=self.count, order=self.order)
        data.output_node = output_node(graph)
        self._predictions(data)
        reduced = [nid for nid, acc in accumulators.items()
                   if acc.info.kind in ("maps", "tokens") and acc.stored != acc.info.shape[-2:]]
        if reduced:
            data.notes.append(f"{len(reduced)} layers are stored at a coarser grid than "
                              "they compute, so that the page stays small; netdraw serve "
                              "shows every map at full resolution")
        if self.cam and data.inputs and data.inputs[0].predictions:
            self._cams(data, graph)
        self._ascent(data, graph, source)
        return data

    def class_names(self) -> list[str] | None:
        if self.labels:
            return self.labels
        from netdraw.viz.api import class_names

        return class_names(self.opened)

    def entries(self, n: int, values: dict[str, LayerValues]) -> list[InputEntry]:
        files = self.batch.files or [f"input {i + 1}" for i in range(n)]
        pixels = self.batch.pixels
        out = []
        for i in range(n):
            from pathlib import Path

            name = Path(files[i]).name if i < len(files) else f"input {i + 1}"
            picture, size = None, (0, 0)
            image = pixels[i] if pixels is not None else None
            if image is None:
                x = np.asarray(self.batch.arrays[0][i])
                if x.ndim == 3 and self.opened.spec.layout == "channels_last":
                    x = np.moveaxis(x, -1, 0)
                if x.ndim == 3 and x.shape[0] in (1, 3) and x.dtype.kind == "f":
                    image = x
            if image is not None:
                picture = picture_png(image)
                size = (int(image.shape[2]), int(image.shape[1]))
            out.append(InputEntry(name, picture, size))
        return out

    def _predictions(self, data: ExplorerData) -> None:
        try:
            output = self.opened.runtime.outputs(self.batch.arrays)
        except NetdrawError as exc:
            data.notes.append(f"no predictions: {exc}")
            return
        if output.ndim != 2 or output.shape[1] < 2:
            data.notes.append("no predictions: the model's output is not a vector of class "
                              "scores")
            return
        top, _, _ = predictions(output)
        for entry, row in zip(data.inputs, top, strict=False):
            entry.predictions = row
        if data.classes is None:
            data.classes = [f"class {k}" for k in range(output.shape[1])]

    def _cams(self, data: ExplorerData, graph: Graph) -> None:
        from netdraw.viz.class_maps import run_cam
        from netdraw.viz.layers import gap_head

        runtime = self.opened.runtime
        if runtime.gradients_supported:
            method = "gradcam"
        elif gap_head(runtime.graph_for(self.batch.arrays)) is not None:
            method = "cam"
        else:
            data.notes.append("class-activation maps need gradients or a global-pooling "
                              "head; netdraw serve computes Score-CAM on demand")
            return
        data.cams = [{} for _ in data.inputs]
        ranks = min(TOP_CLASSES, len(data.inputs[0].predictions))
        try:
            for rank in range(ranks):
                classes = [entry.predictions[rank][0] for entry in data.inputs]
                result = run_cam(runtime, self.batch.arrays, classes, "auto", method)
                for i in range(len(data.inputs)):
                    raw = result.maps[i].astype(np.float64)
                    low, high = float(raw.min()), float(raw.max())
                    scaled = (raw - low) / (high - low) if high > low else np.zeros_like(raw)
                    data.cams[i][(method, classes[i])] = CamMap(
                        classes[i], float(result.scores[i]), scaled.astype(np.float32))
                data.cam_layer = result.layer_name
        except NetdrawError as exc:
            data.cams = []
            data.notes.append(f"no class-activation maps: {exc}")
            return
        data.cam_methods = [method]

    def _ascent(self, data: ExplorerData, graph: Graph, source: Graph) -> None:
        runtime = self.opened.runtime
        if self.ascent is False:
            return
        if not runtime.gradients_supported:
            data.notes.append("gradient-ascent images need gradients, which "
                              f"{runtime.framework} models do not give here")
            return
        shape = self.opened.spec.shape
        if not shape or len(shape) != 4 or not all(isinstance(d, int) for d in shape[1:]):
            return
        convs = [nid for nid, info in data.layers.items()
                 if info.kind == "maps" and graph.nodes[nid].kind in ("conv", "conv_transpose")]
        cost = 0.0
        macs = 0
        plan = []
        for nid, node in graph.nodes.items():
            value = node.attrs.get("macs")
            macs += value if isinstance(value, int) else 0
            if nid in convs:
                plan.append(nid)
                cost += ASCENT_STEPS * 3 * macs * data.layers[nid].channels
        if not plan:
            return
        if self.ascent is None and cost > ASCENT_BUDGET:
            data.notes.append("gradient-ascent images are left out of this page (the model "
                              "is too large to optimise every channel here); netdraw serve "
                              "computes them on demand")
            return
        for nid in progress.track(plan, "explorer: gradient ascent"):
            target = nid if nid in source.nodes else representative(graph.nodes[nid])
            images = ascent_images(self.opened, target, source,
                                   list(range(data.layers[nid].channels)), self.normalize)
            data.ascent[nid] = {c: picture_png(img) for c, img in images.items()}


def ascent_images(opened: Any, nid: str, source: Graph, channels: list[int],
                  normalize: Any = None) -> dict[int, np.ndarray]:
    """Gradient-ascent images (C, H, W) in 0-1 of ``channels`` of node ``nid`` (an id of
    the model's full graph), as ``netdraw filters --ascent`` makes them."""
    from netdraw.viz import feature_vis as fv

    runtime = opened.runtime
    shape = opened.spec.shape
    size = shape[2] if shape and isinstance(shape[2], int) else 64
    in_channels = shape[1] if shape and isinstance(shape[1], int) else 3
    if opened.framework == "torch":
        function = fv.torch_layer_function(runtime.model, source, nid)
    else:
        function = runtime.ascent_function(nid)
    images, _ = fv.ascent(function, channels, size, in_channels, steps=ASCENT_STEPS,
                          normalize=normalize)
    return dict(zip(channels, images, strict=True))


__all__ = ["Explorer", "argmax_positions", "ascent_images", "batch_array", "channel_stats",
           "fit_size",
           "describe_layers", "layer_array", "layer_kind", "predictions", "quantize",
           "read_labels", "resample", "storage_sizes"]
