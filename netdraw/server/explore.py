"""``netdraw serve MODEL --inputs DIR``: the explorer's answers, computed when asked.

The page (``explorer.js``) asks for what it shows, under ``/explore/``:

``inputs``   the inputs (the folder's images and ``.npy`` arrays in name order, then the
             files dropped on the page), each with its top predictions once known, and
             how far the pass over the folder is;
``picture``  an input as the model sees it (a PNG at the model's input size);
``thumbs``   the chosen input's strongest channels of the boxes on screen;
``layer``    every channel of one layer for one input, with its statistics;
``channel``  one channel at full resolution, its statistics and the folder's inputs that
             excite it most (:class:`netdraw.viz.dataset.TopInputs`);
``cam``      a class-activation map of one input for any class and method;
``ascent``   a channel's gradient-ascent image (computed once, kept);
``upload``   (POST) a file dropped on the page becomes an input.

One forward pass per input gives everything a page asks about it (kept for the last
:data:`KEPT_INPUTS` inputs). A background thread reads the folder once in batches (a
progress bar in the page), keeping each channel's top inputs, each layer's range (one
colour scale per layer across the inputs) and each input's predictions; the result is
cached beside the folder (``DIR/.netdraw/``), keyed by the model's weights and the
layers, and only new files are read on the next start. The folder is watched: a file
added to it becomes an input.

Every request is checked: the ``X-Netdraw`` header (a page of another origin cannot send
it without a preflight, which this server refuses), the ``Origin`` and ``Sec-Fetch-Site``
headers when present, every parameter parsed as a number in range. An upload is at most
:data:`MAX_UPLOAD` bytes, must decode as an image (PNG, JPEG, BMP) within Pillow's
decompression-bomb limit or as a ``.npy`` array without pickles, and is kept in memory.
"""

from __future__ import annotations

import copy
import hashlib
import io
import json
import math
import os
import shutil
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote

import numpy as np

from netdraw.backends.explorer_data import ExplorerData, LayerInfo
from netdraw.backends.html.explorer import pack
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.output import json_text
from netdraw.viz import explore as ex
from netdraw.viz.activations import representative
from netdraw.viz.dataset import TOP_K, TopInputs

#: Bytes an uploaded file may have.
MAX_UPLOAD = 32 * 1024 * 1024
#: Inputs whose activations are kept in memory.
KEPT_INPUTS = 4
#: Longest side of a tile: in a box of the diagram, in a layer's grid, in a channel's view.
THUMB_PIXELS, GRID_PIXELS, CHANNEL_PIXELS = 32, 64, 512
#: Longest side of a strip's or a token matrix's picture (longer ones are box-averaged).
MATRIX_PIXELS = 2048
#: Inputs per batch of the pass over the folder.
BATCH = 8
#: Seconds between two looks at the folder.
WATCH_SECONDS = 1.0
SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".npy")


class RequestError(Exception):
    """A request the explorer refuses: an HTTP status and a message for the page."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class InputItem:
    """One input of the strip."""

    id: int
    name: str
    path: Path | None = None
    stamp: tuple[int, int] = (0, 0)
    upload: bool = False
    error: str | None = None
    array: np.ndarray | None = None  # (1, ...) as fed to the model
    picture: bytes | None = None  # PNG


def _clean_name(text: str) -> str:
    name = "".join(ch for ch in Path(text.replace("\\", "/")).name if ch.isprintable())
    return (name or "dropped")[:100]


class InputFolder:
    """The folder's input files (watched) and the files dropped on the page."""

    def __init__(self, folder: Path, spec: Any, normalize: Any = None) -> None:
        if not folder.is_dir():
            raise NetdrawError(f"--inputs {folder}: no such folder")
        self.folder = folder
        self.spec = spec
        self.normalize = normalize
        self.items: dict[int, InputItem] = {}
        self.version = 0
        self.lock = threading.Lock()
        self._next = 0
        self._uploads = Path(tempfile.mkdtemp(prefix="netdraw-uploads-"))
        self.scan()

    def close(self) -> None:
        shutil.rmtree(self._uploads, ignore_errors=True)

    def _files(self) -> dict[str, tuple[Path, tuple[int, int]]]:
        out = {}
        try:
            entries = sorted(os.scandir(self.folder), key=lambda e: e.name)
        except OSError:
            return out
        for entry in entries:
            if entry.name.startswith(".") or not entry.name.lower().endswith(SUFFIXES):
                continue
            try:
                if not entry.is_file():
                    continue
                st = entry.stat()
            except OSError:
                continue
            out[entry.name] = (Path(entry.path), (st.st_mtime_ns, st.st_size))
        return out

    def scan(self) -> tuple[list[int], list[int]]:
        """Look at the folder again: (ids added, ids removed); a changed file is both."""
        files = self._files()
        added, removed = [], []
        with self.lock:
            known = {item.name: item for item in self.items.values() if not item.upload}
            for name, item in known.items():
                if name not in files or files[name][1] != item.stamp:
                    removed.append(item.id)
                    del self.items[item.id]
            for name, (path, stamp) in files.items():
                if name in known and known[name].id in self.items:
                    continue
                item = InputItem(self._next, name, path, stamp)
                self._next += 1
                self.items[item.id] = item
                added.append(item.id)
            if added or removed:
                self.version += 1
        return added, removed

    def folder_items(self) -> list[InputItem]:
        with self.lock:
            return [i for i in self.items.values() if not i.upload]

    def get(self, input_id: int) -> InputItem:
        with self.lock:
            item = self.items.get(input_id)
        if item is None:
            raise RequestError(404, f"no input {input_id}")
        return item

    def add_upload(self, name: str, data: bytes) -> InputItem:
        """A file dropped on the page, checked (see the module docstring) and loaded."""
        name = _clean_name(name)
        suffix = check_upload(name, data)
        with self.lock:
            item = InputItem(self._next, name, None, upload=True)
            self._next += 1
        path = self._uploads / f"upload-{item.id}{suffix}"
        path.write_bytes(data)
        item.path = path
        try:
            self.load(item)
        finally:
            path.unlink(missing_ok=True)
        if item.error:
            raise RequestError(415, f"{name}: {item.error}")
        with self.lock:
            self.items[item.id] = item
            self.version += 1
        return item

    def load(self, item: InputItem) -> InputItem:
        """Read the item's file once (its error kept on the item)."""
        if item.array is not None or item.error:
            return item
        from netdraw.viz.inputs import load_inputs

        try:
            batch = load_inputs([str(item.path)], self.spec, self.normalize)
        except NetdrawError as exc:
            item.error = str(exc).replace(str(item.path), item.name)
            return item
        item.array = batch.arrays[0]
        image = batch.pixels[0] if batch.pixels is not None else None
        if image is None:
            x = np.asarray(item.array[0])
            if x.ndim == 3 and self.spec.layout == "channels_last":
                x = np.moveaxis(x, -1, 0)
            if x.ndim == 3 and x.shape[0] in (1, 3) and x.dtype.kind == "f":
                image = x
        item.picture = ex.picture_png(image) if image is not None else None
        return item


def check_upload(name: str, data: bytes) -> str:
    """The suffix an uploaded file is read with, or a :class:`RequestError` saying why it
    is refused (too large, not an image or array, over Pillow's pixel limit)."""
    if len(data) > MAX_UPLOAD:
        raise RequestError(413, f"{name} is larger than {MAX_UPLOAD // 2**20} MB")
    if data[:6] == b"\x93NUMPY":
        try:
            x = np.load(io.BytesIO(data), allow_pickle=False)
        except (ValueError, OSError) as exc:
            raise RequestError(415, f"{name} is not a readable .npy array ({exc})") from None
        if x.dtype.kind not in "biuf":
            raise RequestError(415, f"{name} holds {x.dtype} values, not numbers")
        return ".npy"
    from PIL import Image

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                kind, size = image.format, image.size
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise RequestError(413, f"{name} has more pixels than Pillow's safe limit "
                                f"({Image.MAX_IMAGE_PIXELS:,}); resize it first") from None
    except Exception:  # noqa: BLE001 - whatever Pillow raises, it is not an image
        raise RequestError(415, f"{name} is not an image netdraw reads (PNG, JPEG, BMP) "
                                "nor a .npy array") from None
    if kind not in ("PNG", "JPEG", "BMP"):
        raise RequestError(415, f"{name} is a {kind} image; drop a PNG, JPEG or BMP image "
                                "or a .npy array")
    if size[0] * size[1] > Image.MAX_IMAGE_PIXELS:
        raise RequestError(413, f"{name} has more pixels than Pillow's safe limit "
                                f"({Image.MAX_IMAGE_PIXELS:,}); resize it first")
    return {"PNG": ".png", "JPEG": ".jpg", "BMP": ".bmp"}[kind]


def model_fingerprint(opened: Any) -> str:
    """A hash of the model's weights (what the cached index was computed with)."""
    digest = hashlib.sha256(opened.framework.encode())
    runtime = opened.runtime
    if opened.framework == "torch":
        for name, tensor in runtime.model.state_dict().items():
            digest.update(name.encode())
            digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    elif opened.framework == "keras":
        for weights in runtime.model.get_weights():
            digest.update(np.ascontiguousarray(weights).tobytes())
    else:
        digest.update(runtime.model.SerializeToString())
    return digest.hexdigest()


class ExploreSession:
    """One model's explorer under ``netdraw serve`` (see the module docstring).

    ``opened`` is the model ready to run (:func:`netdraw.viz.open_model`), ``folder`` its
    inputs, ``labels`` the class names, ``publish(event, data)`` sends an event to the
    open pages."""

    def __init__(self, opened: Any, folder: InputFolder, labels: list[str] | None = None,
                 publish: Callable[[str, dict], None] | None = None, k: int = TOP_K,
                 cache: bool = True) -> None:
        self.opened = opened
        self.runtime = opened.runtime
        self.folder = folder
        self.labels = labels
        self.publish = publish or (lambda event, data: None)
        self.k = k
        self.cache = cache
        self.lock = threading.Lock()  # one model run at a time
        self.waiting = 0  # requests waiting for the model (the folder pass yields to them)
        self.kept: OrderedDict[int, dict[str, Any]] = OrderedDict()
        self.stopping = threading.Event()
        self.work = threading.Event()
        self.graph: Graph | None = None
        self.nodes: list[str] = []  # page node index -> node id
        self.layers: dict[str, LayerInfo] = {}
        self.reps: dict[str, str] = {}
        self.source: Graph | None = None
        self.top: TopInputs | None = None
        self.index_state: dict[str, Any] = {"done": 0, "total": 0, "error": None}
        self.ascents: dict[tuple[str, int], bytes] = {}
        self.ascent_lock = threading.Lock()
        self._ascent_model: Any = None
        self._ranges: dict[str, tuple[float, float]] = {}
        self._covered: set[int] = set()
        self.threads: list[threading.Thread] = []
        self.output_id: str | None = None
        self._last_progress = 0.0

    # -- the page ---------------------------------------------------------------------
    def page_data(self, prepared: Graph) -> ExplorerData:
        """The explorer the page carries (layers, no values): called by the HTML backend
        with the page's graph, whose node order is the page's node indexes."""
        self.graph = prepared
        self.nodes = list(prepared.nodes)
        self.reps = {nid: representative(node) for nid, node in prepared.nodes.items()}
        items = self.folder.folder_items()
        probe = next((self.folder.load(i) for i in items if not self.folder.load(i).error),
                     None)
        if probe is not None:
            sample = probe.array
        else:
            shape = self.opened.spec.shape
            if not shape or not all(isinstance(d, int) for d in shape[1:]):
                raise NetdrawError("the folder holds no readable input, and the model's "
                                   "input size is unknown; add an image to --inputs")
            sample = np.zeros((1, *shape[1:]), dtype=self.opened.spec.dtype)
        with self.lock:
            acts = self.runtime.capture([sample], None)
        self.source = acts.graph
        from netdraw.viz.receptive import receptive_fields

        view = acts.for_graph(prepared)
        self.layers = ex.describe_layers(view, receptive_fields(acts.graph), self.classes())
        self.output_id = ex.output_node(prepared)
        grids = {nid: (info.shape[-1] if info.kind in ("maps", "image") else 1)
                 for nid, info in self.layers.items()}
        self.top = TopInputs({nid: info.kind for nid, info in self.layers.items()}, self.k,
                             grids)
        self._load_cache()
        methods = self.cam_methods()
        return ExplorerData(self.layers, [], self.classes(), serve={
            "api": "/explore", "cam_methods": methods, "index": self.index_json()},
            output_node=self.output_id, top_k=self.k)

    def classes(self) -> list[str] | None:
        if self.labels:
            return self.labels
        from netdraw.viz.api import class_names

        return class_names(self.opened)

    def cam_methods(self) -> list[str]:
        from netdraw.viz.class_maps import METHODS
        from netdraw.viz.layers import gap_head

        if self.runtime.gradients_supported:
            return list(METHODS) if self.opened.framework == "torch" else \
                [m for m in METHODS if m != "guided-gradcam"]
        out = ["scorecam"]
        if self.source is not None and gap_head(self.source) is not None:
            out.insert(0, "cam")
        return out

    # -- running the model --------------------------------------------------------------
    def _run(self, fn: Callable[[], Any]) -> Any:
        self.waiting += 1
        try:
            with self.lock:
                return fn()
        finally:
            self.waiting -= 1

    def values(self, input_id: int) -> dict[str, Any]:
        """node id -> the input's values (channels first), plus its predictions."""
        with self.folder.lock:
            kept = self.kept.get(input_id)
        if kept is not None:
            with self.folder.lock:
                self.kept.move_to_end(input_id)
            return kept
        item = self.folder.load(self.folder.get(input_id))
        if item.error:
            raise RequestError(422, f"{item.name}: {item.error}")
        wanted = set(self.reps.values()) & set(self.source.nodes)
        acts = self._run(lambda: self.runtime.capture([item.array], wanted))
        view = acts.for_graph(self.graph)
        out: dict[str, Any] = {}
        for nid, info in self.layers.items():
            if nid in view.values:
                out[nid] = ex.layer_array(view, nid, info.kind)
                self._widen(nid, out[nid])
        out["#predictions"] = self._predictions(view, item)
        self._covered.add(input_id)
        with self.folder.lock:
            self.kept[input_id] = out
            while len(self.kept) > KEPT_INPUTS:
                self.kept.popitem(last=False)
        return out

    def _predictions(self, view: Any, item: InputItem) -> list[tuple[int, float]]:
        output = None
        if self.graph is not None and self.graph.outputs and \
                self.graph.outputs[0] in view.values:
            output = view.values[self.graph.outputs[0]]
        if output is None or output.ndim != 2 or output.shape[1] < 2:
            return []
        return ex.predictions(output)[0][0]

    def _widen(self, nid: str, array: np.ndarray) -> None:
        lo, hi = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
        if not (math.isfinite(lo) and math.isfinite(hi)):  # NaN or ±inf somewhere: skip them
            finite = array[np.isfinite(array)]
            if not finite.size:
                return
            lo, hi = float(finite.min()), float(finite.max())
        elif not array.size:
            return
        low, high = self._ranges.get(nid, (np.inf, -np.inf))
        self._ranges[nid] = (min(low, lo), max(high, hi))

    def scale(self, nid: str) -> tuple[Any, int]:
        """The layer's colour scale over every input seen (the folder's pass included),
        and how many inputs that is."""
        from netdraw.viz.thumbnails import layer_scale

        low, high = self._ranges.get(nid, (np.inf, -np.inf))
        if self.top is not None and nid in self.top.ranges:
            a, b = self.top.ranges[nid]
            low, high = min(low, a), max(high, b)
        if low > high:
            low, high = 0.0, 0.0
        seen = len(self._covered | (self.top.seen if self.top is not None else set()))
        return layer_scale(low, high, "auto"), seen

    # -- answers ----------------------------------------------------------------------
    def node_id(self, index: int) -> str:
        if not 0 <= index < len(self.nodes) or self.nodes[index] not in self.layers:
            raise RequestError(404, f"no layer {index}")
        return self.nodes[index]

    def inputs_json(self) -> dict[str, Any]:
        with self.folder.lock:
            items = sorted(self.folder.items.values(), key=lambda i: (i.upload, i.id))
            version = self.folder.version
        out = []
        for item in items:
            predictions = None
            kept = self.kept.get(item.id)
            if kept is not None:
                predictions = kept["#predictions"]
            elif self.top is not None and item.id in self.top.predictions:
                predictions = self.top.predictions[item.id]
            out.append({"id": item.id, "name": item.name, "error": item.error,
                        "upload": item.upload,
                        "predictions": [[k, p] for k, p in predictions or []]})
        return {"version": version, "inputs": out, "index": self.index_json()}

    def index_json(self) -> dict[str, Any]:
        return dict(self.index_state)

    def picture(self, input_id: int) -> bytes:
        item = self.folder.load(self.folder.get(input_id))
        if item.error:
            raise RequestError(422, f"{item.name}: {item.error}")
        if item.picture is None:
            raise RequestError(404, f"{item.name} is not a picture")
        return item.picture

    def _levels(self, nid: str, array: np.ndarray) -> np.ndarray:
        scale, _ = self.scale(nid)
        return ex.quantize(array, scale)

    def _scale_json(self, nid: str) -> tuple[list[Any], int]:
        scale, seen = self.scale(nid)
        return [scale.vmin, scale.vmax, scale.cmap], seen

    def thumbs(self, input_id: int, nodes: list[int], order: str, count: int) -> dict:
        values = self.values(input_id)
        out = {}
        for index in nodes:
            nid = self.node_id(index)
            info = self.layers[nid]
            if info.kind == "image" or nid not in values:
                continue
            array = values[nid]
            scale, _ = self._scale_json(nid)
            if info.kind == "maps":
                picked = self._order(array, order)[:count]
                h, w = ex.fit_size(*array.shape[1:], THUMB_PIXELS)
                tiles = ex.resample(array[picked], (h, w))
                levels = self._levels(nid, tiles)
                out[str(index)] = {"kind": "maps", "scale": scale, "channels": picked,
                                   "h": h, "w": w, "levels": pack(levels, "u1", 1)}
            else:
                matrix = array[None, None, :] if info.kind == "strip" else array[None]
                h, w = ex.fit_size(*matrix.shape[1:], MATRIX_PIXELS)
                levels = self._levels(nid, ex.resample(matrix, (h, w)))
                out[str(index)] = {"kind": info.kind, "scale": scale, "channels": [-1],
                                   "h": h, "w": w, "levels": pack(levels, "u1", 1)}
        return {"input": input_id, "nodes": out}

    @staticmethod
    def _order(maps: np.ndarray, order: str) -> list[int]:
        if order not in ("index", "mean", "max"):
            raise RequestError(400, f"unknown order {order!r}")
        if order == "index":
            return list(range(maps.shape[0]))
        flat = maps.reshape(maps.shape[0], -1)
        score = flat.mean(1) if order == "mean" else flat.max(1)
        return [int(i) for i in np.argsort(-score, kind="stable")]

    def layer(self, input_id: int, index: int) -> dict:
        nid = self.node_id(index)
        info = self.layers[nid]
        array = self.values(input_id).get(nid)
        if array is None:
            raise RequestError(404, f"layer {index} has no value for this input")
        scale, seen = self._scale_json(nid)
        out: dict[str, Any] = {"kind": info.kind, "scale": scale, "scale_inputs": seen,
                               "native": list(array.shape)}
        if info.kind in ("maps", "image"):
            h, w = ex.fit_size(*array.shape[1:], GRID_PIXELS)
            out.update(channels=int(array.shape[0]), h=h, w=w,
                       levels=pack(self._levels(nid, ex.resample(array, (h, w))), "u1", 1),
                       stats=pack(ex.channel_stats(array), "f4", 1),
                       argmax=pack(ex.argmax_positions(array), "u2", 1))
        elif info.kind == "tokens":
            h, w = ex.fit_size(*array.shape, MATRIX_PIXELS)
            out.update(channels=int(array.shape[1]), h=h, w=w,
                       levels=pack(self._levels(nid, ex.resample(array[None], (h, w))[0]),
                                   "u1", 1),
                       values=pack(array.mean(axis=0), "f4", 1))
        else:
            out.update(channels=int(array.size), h=1, w=int(array.size),
                       levels=pack(self._levels(nid, array), "u1", 1),
                       values=pack(array, "f4", 1))
        return out

    def channel(self, input_id: int, index: int, channel: int) -> dict:
        nid = self.node_id(index)
        info = self.layers[nid]
        if info.kind != "maps" or not 0 <= channel < info.channels:
            raise RequestError(404, f"layer {index} has no channel {channel}")
        array = self.values(input_id)[nid][channel]
        stats = ex.channel_stats(array[None])[0]
        at = ex.argmax_positions(array[None])[0]
        h, w = ex.fit_size(*array.shape, CHANNEL_PIXELS)
        scale, seen = self._scale_json(nid)
        top = None
        if self.top is not None and self.index_state["done"] >= self.index_state["total"]:
            top = []
            for who, value, y, x in self.top.top(nid, channel):
                try:
                    item = self.folder.get(who)
                except RequestError:
                    continue
                top.append({"input": who, "name": item.name, "value": value, "y": y, "x": x})
        return {"h": h, "w": w, "scale": scale, "scale_inputs": seen,
                "levels": pack(self._levels(nid, ex.resample(array[None], (h, w))[0]),
                               "u1", 1),
                "stats": dict(zip(ex.STATS, (float(v) for v in stats), strict=True)),
                "argmax": [int(at[0]), int(at[1])], "topk": top,
                "native": list(array.shape)}

    def cam(self, input_id: int, class_index: int, method: str) -> dict:
        from netdraw.viz.class_maps import run_cam

        if method not in self.cam_methods():
            raise RequestError(400, f"{method!r} is not a method for this model; use one "
                                    f"of {', '.join(self.cam_methods())}")
        classes = self.classes()
        if class_index < 0 or (classes is not None and class_index >= len(classes)):
            raise RequestError(400, f"no class {class_index}")
        item = self.folder.load(self.folder.get(input_id))
        if item.error:
            raise RequestError(422, f"{item.name}: {item.error}")
        try:
            result = self._run(lambda: run_cam(self.runtime, [item.array], [class_index],
                                               "auto", method))
        except NetdrawError as exc:
            raise RequestError(422, str(exc)) from None
        heat = result.heatmaps[0]
        return {"h": int(heat.shape[0]), "w": int(heat.shape[1]), "map": pack(heat, "f4", 1),
                "score": float(result.scores[0]), "layer": result.layer_name,
                "method": method}

    def ascent(self, index: int, channel: int) -> bytes:
        nid = self.node_id(index)
        info = self.layers[nid]
        if info.kind != "maps" or not 0 <= channel < info.channels:
            raise RequestError(404, f"layer {index} has no channel {channel}")
        if not self.runtime.gradients_supported:
            raise RequestError(501, f"gradient ascent needs gradients, which "
                                    f"{self.opened.framework} models do not give here")
        key = (nid, channel)
        with self.ascent_lock:
            if key not in self.ascents:
                # the box's own layer (a Conv+BN+ReLU box: its convolution, as 'netdraw
                # filters --ascent' does): a ReLU's zero gradient would leave a flat image
                target = nid if self.source is not None and nid in self.source.nodes \
                    else self.reps[nid]
                self.ascents[key] = self._ascent(target, channel)
            return self.ascents[key]

    def _ascent(self, source_id: str, channel: int) -> bytes:
        from netdraw.viz import feature_vis as fv

        normalize = self.folder.normalize
        if self.opened.framework == "torch":
            # a copy of the model: its hooks never meet a page's forward pass
            if self._ascent_model is None:
                self._ascent_model = copy.deepcopy(self.runtime.model)
            shape = self.opened.spec.shape
            size = shape[2] if shape and isinstance(shape[2], int) else 64
            in_channels = shape[1] if shape and isinstance(shape[1], int) else 3
            function = fv.torch_layer_function(self._ascent_model, self.source, source_id)
            images, _ = fv.ascent(function, [channel], size, in_channels,
                                  steps=ex.ASCENT_STEPS, normalize=normalize)
            return ex.picture_png(images[0])
        images = self._run(lambda: ex.ascent_images(self.opened, source_id, self.source,
                                                    [channel], normalize))
        return ex.picture_png(images[channel])

    def upload(self, name: str, data: bytes) -> dict:
        item = self.folder.add_upload(name, data)
        self.publish("inputs", {"version": self.folder.version, "index": self.index_json()})
        return {"id": item.id, "name": item.name}

    # -- the pass over the folder ------------------------------------------------------
    def start(self) -> None:
        for target, name in ((self._index_loop, "netdraw-index"),
                             (self._watch_loop, "netdraw-inputs")):
            thread = threading.Thread(target=target, name=name, daemon=True)
            thread.start()
            self.threads.append(thread)
        self.work.set()

    def stop(self) -> None:
        self.stopping.set()
        self.work.set()
        self.folder.close()

    def _watch_loop(self) -> None:
        while not self.stopping.wait(WATCH_SECONDS):
            added, removed = self.folder.scan()
            if not added and not removed:
                continue
            if removed and self.top is not None:
                self.top.drop(set(removed))
                with self.folder.lock:
                    for i in removed:
                        self.kept.pop(i, None)
            self.index_state["total"] = len(self.folder.folder_items())
            self.index_state["done"] = min(self.index_state["done"],
                                           self.index_state["total"])
            self.publish("inputs", {"version": self.folder.version,
                                    "index": self.index_json()})
            self.work.set()

    def _cache_key(self) -> str:
        parts = {"model": model_fingerprint(self.opened), "k": self.k,
                 "layers": sorted(self.layers), "normalize": repr(self.folder.normalize),
                 "spec": [str(d) for d in (self.opened.spec.shape or ())]}
        return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()

    def _cache_path(self, key: str) -> Path:
        return self.folder.folder / ".netdraw" / f"top-inputs-{key[:20]}.npz"

    def _load_cache(self) -> None:
        """The index saved by an earlier run, if it was computed from the same model and
        layers and the folder's files it read are unchanged."""
        if not self.cache:
            return
        self._key = self._cache_key()
        path = self._cache_path(self._key)
        if not path.is_file():
            return
        try:
            names = json.loads(path.with_suffix(".json").read_text("utf-8"))
        except (OSError, ValueError):
            return
        top = TopInputs.load(path, self._key)
        if top is None or not isinstance(names, dict):
            return
        current = {(item.name, tuple(item.stamp)): item.id
                   for item in self.folder.folder_items()}
        remap: dict[int, int] = {}
        for old, entry in names.items():
            if not (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[1], list)):
                return
            new = current.get((entry[0], tuple(entry[1])))
            if new is None:
                return  # a file read then is gone or changed: read the folder again
            remap[int(old)] = new
        for nid in top.inputs:
            table = top.inputs[nid]
            top.inputs[nid] = np.vectorize(lambda i: remap.get(int(i), -1),
                                           otypes=[np.int64])(table) if table.size else table
        top.predictions = {remap[i]: p for i, p in top.predictions.items() if i in remap}
        top.seen = {remap[i] for i in top.seen if i in remap}
        self.top = top

    def _save_cache(self) -> None:
        if not self.cache or self.top is None:
            return
        key = getattr(self, "_key", None)
        if key is None:
            return
        path = self._cache_path(key)
        names = {str(item.id): [item.name, list(item.stamp)]
                 for item in self.folder.folder_items() if item.id in self.top.seen}
        try:
            self.top.save(path, key)
            path.with_suffix(".json").write_text(json.dumps(names), "utf-8")
        except OSError as exc:
            self.index_state["note"] = f"the index is not cached: {exc.strerror or exc}"

    def _progress(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._last_progress > 0.3:
            self._last_progress = now
            self.publish("inputs", {"version": self.folder.version,
                                    "index": self.index_json()})

    def _index_loop(self) -> None:
        while not self.stopping.is_set():
            self.work.wait()
            self.work.clear()
            if self.stopping.is_set() or self.top is None:
                return
            try:
                self.index_pass()
            except Exception as exc:  # noqa: BLE001 - the page says why; serving goes on
                from netdraw.server.source import error_text

                self.index_state["error"] = error_text(exc)
                self._progress(force=True)

    def index_pass(self) -> None:
        """Read every folder input the index has not seen, in batches."""
        items = self.folder.folder_items()
        todo = [i for i in items if i.id not in self.top.seen]
        self.index_state.update(total=len(items), done=len(items) - len(todo), error=None)
        self._progress(force=True)
        wanted = set(self.reps.values()) & set(self.source.nodes)
        changed = False
        for start in range(0, len(todo), BATCH):
            if self.stopping.is_set():
                return
            while self.waiting and not self.stopping.is_set():
                time.sleep(0.005)  # a page is waiting for the model: let it go first
            part = [self.folder.load(i) for i in todo[start:start + BATCH]]
            good = [i for i in part if not i.error]
            if good:
                arrays = np.concatenate([i.array for i in good])
                with self.lock:
                    acts = self.runtime.capture([arrays], wanted)
                view = acts.for_graph(self.graph)
                batch = {nid: ex.batch_array(view, nid, info.kind)
                         for nid, info in self.layers.items() if nid in view.values}
                ids = [i.id for i in good]
                self.top.add(ids, batch)
                if self.graph.outputs and self.graph.outputs[0] in view.values:
                    output = view.values[self.graph.outputs[0]]
                    if output.ndim == 2 and output.shape[1] >= 2:
                        for who, row in zip(ids, ex.predictions(output)[0], strict=True):
                            self.top.predictions[who] = row
                changed = True
            self.top.seen.update(i.id for i in part)
            self.index_state["done"] += len(part)
            self._progress()
        if changed:
            self._save_cache()
        self._progress(force=True)


# -- the routes ------------------------------------------------------------------------


def _int(query: dict[str, list[str]], name: str, low: int = 0, high: int = 2**31) -> int:
    values = query.get(name)
    if not values or len(values) != 1:
        raise RequestError(400, f"give one {name}")
    text = values[0]
    if not text.isdigit() or len(text) > 10:
        raise RequestError(400, f"{name} must be a whole number")
    value = int(text)
    if not low <= value <= high:
        raise RequestError(400, f"{name} must be {low} to {high}")
    return value


def _text(query: dict[str, list[str]], name: str, default: str) -> str:
    values = query.get(name) or [default]
    return values[0][:64]


def answer_get(session: ExploreSession, route: str, query_text: str
               ) -> tuple[str, bytes]:
    """``(content type, body)`` for ``GET /explore/<route>?query``."""
    query = parse_qs(query_text, keep_blank_values=True, max_num_fields=16)
    if route == "inputs":
        return _json(session.inputs_json())
    if route == "picture":
        return "image/png", session.picture(_int(query, "input"))
    if route == "thumbs":
        text = (query.get("nodes") or [""])[0]
        parts = text.split(",") if text else []
        if len(parts) > 10_000 or not all(p.isdigit() and len(p) < 10 for p in parts):
            raise RequestError(400, "nodes must be node numbers separated by commas")
        return _json(session.thumbs(_int(query, "input"), [int(p) for p in parts],
                                    _text(query, "order", "mean"),
                                    _int(query, "count", 1, 64)))
    if route == "layer":
        return _json(session.layer(_int(query, "input"), _int(query, "node")))
    if route == "channel":
        return _json(session.channel(_int(query, "input"), _int(query, "node"),
                                     _int(query, "channel")))
    if route == "cam":
        return _json(session.cam(_int(query, "input"), _int(query, "class"),
                                 _text(query, "method", "gradcam")))
    if route == "ascent":
        return "image/png", session.ascent(_int(query, "node"), _int(query, "channel"))
    raise RequestError(404, "not found")


def _json(data: Any) -> tuple[str, bytes]:
    return "application/json", json_text(data, what="an /explore/ answer",
                                         separators=(",", ":")).encode("utf-8")


def upload_name(header: str | None) -> str:
    return _clean_name(unquote(header or "dropped")[:300])


__all__ = ["ExploreSession", "InputFolder", "MAX_UPLOAD", "RequestError", "answer_get",
           "check_upload", "model_fingerprint", "upload_name"]
