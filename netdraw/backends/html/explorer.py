"""The explorer's part of the page model: :class:`~netdraw.backends.explorer_data.ExplorerData`
as JSON-ready data keyed by the page's node indexes.

Arrays travel as base64 text of their little-endian bytes, compressed with zlib
(``deflate``: the page inflates them with the browser's ``DecompressionStream``, no
library, no request); pictures as ``data:image/png`` URIs. ``netdraw serve`` answers the
page's requests with the same encodings (:func:`pack`).
"""

from __future__ import annotations

import base64
import zlib
from typing import Any

import numpy as np

from netdraw.backends.explorer_data import ExplorerData, LayerInfo, placeholder_cells
from netdraw.backends.thumbs import colormap

#: The colour maps the page draws levels with (the same tables as netdraw's pictures).
COLORMAPS = ("sequential", "diverging", "heat", "gray")
_DTYPES = {"u1": "<u1", "u2": "<u2", "f4": "<f4", "i4": "<i4"}


def pack(array: np.ndarray, kind: str = "f4", level: int = 6) -> str:
    """``array`` as base64 of its zlib-compressed little-endian ``kind`` bytes."""
    data = np.ascontiguousarray(np.asarray(array), dtype=np.dtype(_DTYPES[kind])).tobytes()
    return base64.b64encode(zlib.compress(data, level)).decode("ascii")


def png_uri(png: bytes | None) -> str | None:
    return None if png is None else "data:image/png;base64," + \
        base64.b64encode(png).decode("ascii")


def colormaps() -> dict[str, str]:
    """Each colour map as base64 of 256 × (r, g, b) bytes."""
    return {name: base64.b64encode(colormap(name).tobytes()).decode("ascii")
            for name in COLORMAPS}


def layer_entry(info: LayerInfo) -> dict[str, Any]:
    """What the page knows about a layer before any value arrives."""
    scale = info.scale
    return {
        "kind": info.kind, "shape": list(info.shape), "stored": list(info.stored),
        "scale": None if scale is None else [scale.vmin, scale.vmax, scale.cmap],
        "scale_inputs": info.scale_inputs,
        "field": None if info.field is None else [float(v) for v in info.field],
        "units": info.unit_names,
    }


def thumb_kinds(data: ExplorerData | None) -> dict[str, str]:
    """Node id -> the kind of thumbnail its box shows."""
    if data is None:
        return {}
    return {nid: info.kind for nid, info in data.layers.items()}


def cells(kind: str | None) -> tuple[str, str] | None:
    """The placeholder cells of a box showing a ``kind`` thumbnail (None: no thumbnail)."""
    return placeholder_cells(kind) if kind else None


def explorer_model(data: ExplorerData, node_index: dict[str, int],
                   group_outputs: dict[int, str]) -> dict[str, Any]:
    """The page model's ``explorer`` entry (see the module docstring)."""
    layers: dict[str, Any] = {}
    values: dict[str, Any] = {}
    ascent: dict[str, Any] = {}
    for nid, info in data.layers.items():
        if nid not in node_index:
            continue
        key = str(node_index[nid])
        layers[key] = layer_entry(info)
        found = data.values.get(nid)
        if found is not None:
            values[key] = {"levels": pack(found.levels, "u1"), "stats": pack(found.stats),
                           "argmax": None if found.argmax is None
                           else pack(found.argmax, "u2")}
        if nid in data.ascent:
            ascent[key] = {str(c): png_uri(png) for c, png in sorted(data.ascent[nid].items())}
    inputs = [{"name": e.name, "picture": png_uri(e.picture), "size": list(e.size),
               "predictions": [[k, p] for k, p in e.predictions], "error": e.error}
              for e in data.inputs]
    cams = []
    for per_input in data.cams:
        cams.append([{"method": method, "class": cam.class_index, "score": cam.score,
                      "h": int(cam.values.shape[0]), "w": int(cam.values.shape[1]),
                      "map": pack(cam.values)}
                     for (method, _), cam in per_input.items()])
    groups = {str(g): node_index[nid] for g, nid in group_outputs.items()
              if nid in node_index and nid in data.layers}
    return {
        "mode": "serve" if data.serve else "static",
        "serve": data.serve,
        "colormaps": colormaps(),
        "classes": data.classes,
        "inputs": inputs,
        "layers": layers,
        "values": values,
        "groups": groups,
        "cams": cams,
        "cam_methods": list(data.cam_methods),
        "cam_layer": data.cam_layer,
        "ascent": ascent,
        "output": node_index.get(data.output_node) if data.output_node else None,
        "notes": list(data.notes),
        "count": data.count, "order": data.order, "top_k": data.top_k,
    }


__all__ = ["cells", "colormaps", "explorer_model", "pack", "png_uri", "thumb_kinds"]
