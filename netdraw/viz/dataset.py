"""The inputs of a folder that excite each channel most (Yosinski et al. 2015's "top images").

:class:`TopInputs` reads batches of activations (keyed by the page's node ids) and keeps,
for every channel of every layer, the ``k`` inputs whose largest value in that channel is
largest, with the position of that value (the explorer crops the input to the channel's
receptive field around it, :mod:`netdraw.viz.receptive`). A unit of a dense layer is a
channel with one position; a feature of a token layer has one position per token. Ties
go to the input read first. It also keeps each layer's range over all inputs (one colour
scale per layer across the folder) and each input's top predictions.

Only the running top ``k`` is kept (``(C, k)`` arrays per layer), so memory does not grow
with the folder. :meth:`TopInputs.save` and :meth:`TopInputs.load` keep it in an ``.npz``
file (no pickle) beside the folder, keyed by what it was computed from.

>>> import numpy as np
>>> top = TopInputs({"conv": "maps"}, k=2, grids={"conv": 2})
>>> top.add([0, 1, 2], {"conv": np.array([[[[1, 5]]], [[[7, 0]]], [[[3, 3]]]], np.float32)})
>>> top.top("conv", 0)   # (input, its maximum, y, x)
[(1, 7.0, 0, 0), (0, 5.0, 0, 1)]
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from netdraw.errors import NetdrawError

SCHEMA = "netdraw.top-inputs/1"
#: Inputs kept per channel.
TOP_K = 9


def positions(values: np.ndarray, kind: str) -> np.ndarray:
    """A batch of one layer as ``(N, C, positions)``: maps ``(N, C, h, w)`` as they are
    flattened, strips ``(N, F)`` one position per unit, tokens ``(N, T, D)`` per feature
    one position per token."""
    if kind in ("maps", "image"):
        return values.reshape(values.shape[0], values.shape[1], -1)
    if kind == "tokens":
        return np.moveaxis(values, 1, 2)
    return values.reshape(values.shape[0], -1, 1)


class TopInputs:
    """Running top-``k`` inputs per channel, layer ranges and predictions (module doc).

    ``layers`` maps node id -> kind (``maps``, ``strip``, ``tokens``, ``image``);
    ``grids`` node id -> the width of its grid (to turn a flat position into ``(y, x)``;
    1 for strips and tokens)."""

    def __init__(self, layers: dict[str, str], k: int = TOP_K,
                 grids: dict[str, int] | None = None) -> None:
        self.layers = dict(layers)
        self.k = k
        self.grids = dict(grids or {})
        self.values: dict[str, np.ndarray] = {}  # (C, k) float32, -inf where empty
        self.inputs: dict[str, np.ndarray] = {}  # (C, k) int64 input ids, -1 where empty
        self.where: dict[str, np.ndarray] = {}  # (C, k) int64 flat positions
        self.ranges: dict[str, tuple[float, float]] = {}
        self.predictions: dict[int, list[tuple[int, float]]] = {}
        self.seen: set[int] = set()

    def add(self, ids: list[int], batch: dict[str, np.ndarray]) -> None:
        """One batch: ``ids`` the inputs' ids (increasing across calls, so ties go to the
        input read first), ``batch`` node id -> values of those inputs, batch first
        (maps channels first, as :meth:`netdraw.viz.activations.Activations.spatial`)."""
        order = np.asarray(ids, dtype=np.int64)
        for nid, kind in self.layers.items():
            if nid not in batch:
                continue
            flat = positions(np.nan_to_num(np.asarray(batch[nid], dtype=np.float32),
                                           nan=-np.inf), kind)
            finite = flat[np.isfinite(flat)]
            if finite.size:
                low, high = self.ranges.get(nid, (np.inf, -np.inf))
                self.ranges[nid] = (min(low, float(finite.min())),
                                    max(high, float(finite.max())))
            best = flat.argmax(axis=2)  # (N, C)
            score = np.take_along_axis(flat, best[..., None], axis=2)[..., 0]
            channels = flat.shape[1]
            if nid not in self.values:
                self.values[nid] = np.full((channels, 0), -np.inf, np.float32)
                self.inputs[nid] = np.full((channels, 0), -1, np.int64)
                self.where[nid] = np.zeros((channels, 0), np.int64)
            vals = np.concatenate([self.values[nid], score.T.astype(np.float32)], axis=1)
            who = np.concatenate([self.inputs[nid], np.broadcast_to(order, score.T.shape)],
                                 axis=1)
            at = np.concatenate([self.where[nid], best.T.astype(np.int64)], axis=1)
            keep = np.argsort(-vals, axis=1, kind="stable")[:, :self.k]
            self.values[nid] = np.take_along_axis(vals, keep, axis=1)
            self.inputs[nid] = np.take_along_axis(who, keep, axis=1)
            self.where[nid] = np.take_along_axis(at, keep, axis=1)
        self.seen.update(int(i) for i in ids)

    def top(self, nid: str, channel: int) -> list[tuple[int, float, int, int]]:
        """``(input id, value, y, x)`` of the channel's top inputs, best first."""
        if nid not in self.values:
            return []
        width = self.grids.get(nid, 1)
        out = []
        for value, who, at in zip(self.values[nid][channel], self.inputs[nid][channel],
                                  self.where[nid][channel], strict=True):
            if who < 0:
                continue
            out.append((int(who), float(value), int(at) // width, int(at) % width))
        return out

    def drop(self, ids: set[int]) -> None:
        """Forget inputs (removed files): their entries leave the top lists (the lists are
        shorter until the folder is read again)."""
        for nid in list(self.values):
            gone = np.isin(self.inputs[nid], list(ids))
            self.values[nid] = np.where(gone, -np.inf, self.values[nid]).astype(np.float32)
            self.inputs[nid] = np.where(gone, -1, self.inputs[nid])
            keep = np.argsort(-self.values[nid], axis=1, kind="stable")
            for table in (self.values, self.inputs, self.where):
                table[nid] = np.take_along_axis(table[nid], keep, axis=1)
        for i in ids:
            self.predictions.pop(i, None)
        self.seen -= ids

    # -- files -------------------------------------------------------------------------
    def save(self, path: str | Path, key: str) -> None:
        """Write to ``path`` (an ``.npz`` without pickles), marked with ``key``."""
        names = sorted(self.values)
        header = {"schema": SCHEMA, "key": key, "k": self.k, "layers": self.layers,
                  "grids": self.grids, "nodes": names,
                  "ranges": {n: list(self.ranges[n]) for n in self.ranges},
                  "predictions": {str(i): p for i, p in self.predictions.items()},
                  "seen": sorted(self.seen)}
        arrays = {}
        for i, nid in enumerate(names):
            arrays[f"v{i}"], arrays[f"i{i}"], arrays[f"w{i}"] = \
                self.values[nid], self.inputs[nid], self.where[nid]
        buffer = io.BytesIO()
        np.savez_compressed(buffer, header=np.array(json.dumps(header)), **arrays)
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        temporary = path.with_name(path.name + ".part")
        temporary.write_bytes(buffer.getvalue())
        temporary.replace(path)

    @classmethod
    def load(cls, path: str | Path, key: str) -> TopInputs | None:
        """The index saved at ``path`` if it was computed from ``key``, else None."""
        try:
            with np.load(path, allow_pickle=False) as data:
                header = json.loads(str(data["header"]))
                if header.get("schema") != SCHEMA or header.get("key") != key:
                    return None
                top = cls(header["layers"], int(header["k"]), header["grids"])
                for i, nid in enumerate(header["nodes"]):
                    top.values[nid] = np.asarray(data[f"v{i}"], np.float32)
                    top.inputs[nid] = np.asarray(data[f"i{i}"], np.int64)
                    top.where[nid] = np.asarray(data[f"w{i}"], np.int64)
        except (OSError, ValueError, KeyError, TypeError):
            return None
        top.ranges = {n: (float(a), float(b)) for n, (a, b) in header["ranges"].items()}
        top.predictions = {int(i): [(int(c), float(p)) for c, p in rows]
                           for i, rows in header["predictions"].items()}
        top.seen = {int(i) for i in header["seen"]}
        return top


def check_k(k: int) -> int:
    if not 1 <= k <= 64:
        raise NetdrawError(f"--top-k must be 1 to 64, not {k}")
    return k


__all__ = ["SCHEMA", "TOP_K", "TopInputs", "check_k", "positions"]
