"""The files the ``activations``, ``filters`` and ``cam`` commands write.

``netdraw activations`` writes into a folder, for every node with a spatial or vector
output, one PNG per example (``NN-<name>.png``; ``NN-<name>.<k>.png`` for example ``k`` of a
batch), ``index.html`` (every layer in order on one page, no network needed) and
``activations.json`` (node id -> name, kind, files, shape, min, max, mean, fraction of
zeros). Writing is atomic per file, and nothing is written before the forward pass worked.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from netdraw.output import json_text, write_output
from netdraw.viz import pictures
from netdraw.viz.activations import Activations

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def file_stem(index: int, name: str) -> str:
    """``03-block1.conv``: position first (files sort in layer order), then a safe name."""
    safe = _UNSAFE.sub("_", name).strip("._") or "node"
    return f"{index:02d}-{safe[:80]}"


def _shape_text(shape: tuple[int, ...]) -> str:
    return "×".join(str(d) for d in shape)


def activation_image(acts: Activations, nid: str, example: int = 0, channels: int = 16,
                     order: str = "index") -> Any | None:
    """The picture of one node's output for one example (None: nothing to draw)."""
    node = acts.node(nid)
    kind = acts.kind(nid)
    value = acts[nid]
    if value.dtype.kind not in "fiub" or value.size == 0:
        return None
    low, high = acts.value_range(nid, example)
    vmin, vmax, cmap = pictures.scale_for(low, high)
    subtitle = (f"{node.kind} · {node.op_type} · output {_shape_text(value.shape[1:])}"
                f" ({acts.axes[nid][1:]}) · range {pictures._fmt(low)} … {pictures._fmt(high)}")
    scale = "diverging, symmetric around 0" if cmap == "diverging" else "sequential from 0"
    bar_label = f"scale per layer: {scale}"
    if kind == "spatial":
        maps = acts.spatial(nid, example)
        picked = acts.top_channels(nid, channels, order, example)
        if not picked:
            return None
        body = pictures.map_grid(maps, picked, vmin, vmax, cmap)
        shown = {"index": f"channels {picked[0]}–{picked[-1]}" if len(picked) > 1
                 else f"channel {picked[0]}",
                 "mean": "the most active channels by mean",
                 "max": "the most active channels by maximum"}[order]
        footer = f"{len(picked)} of {maps.shape[0]} channels shown: {shown}"
        if acts.axes[nid] == "NTD":
            footer += " (tokens folded into their grid)"
    elif kind == "tokens":
        body = pictures.token_map(acts.tokens(nid, example), vmin, vmax, cmap)
        footer = f"{value.shape[1]} tokens (down) × {value.shape[2]} features (across)"
    elif kind == "vector":
        vector = acts.vector(nid, example)
        body = pictures.strip(vector, vmin, vmax, cmap)
        footer = f"{vector.size} values" + (f", argmax {int(vector.argmax())}"
                                            if vector.size <= 1000 else "")
    else:
        return None
    bar = pictures.colorbar(max(body.height, 80), vmin, vmax, cmap, bar_label)
    return pictures.compose(node.name, subtitle, body, bar, footer)


@dataclass
class Entry:
    nid: str
    name: str
    kind: str
    files: list[str]
    summary: dict[str, Any]


def write_activations(acts: Activations, folder: Path, channels: int = 16,
                      order: str = "index", title: str = "") -> list[Entry]:
    """All pictures, ``index.html`` and ``activations.json`` into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: list[Entry] = []
    drawable = [nid for nid in acts if acts.node(nid).kind != "output"]
    for position, nid in enumerate(drawable):
        node = acts.node(nid)
        files = []
        stem = file_stem(position, node.name)
        for example in range(acts.batch):
            img = activation_image(acts, nid, example, channels, order)
            if img is None:
                break
            name = f"{stem}.png" if acts.batch == 1 else f"{stem}.{example}.png"
            write_output(str(folder / name), pictures.to_png(img))
            files.append(name)
        entries.append(Entry(nid, node.name, acts.kind(nid), files, acts.summary(nid)))
    document = {
        "schema": "netdraw.activations-index/1",
        "model": acts.graph.name,
        "layout": acts.layout,
        "inputs": acts.meta.get("inputs", []),
        "nodes": {e.nid: {"name": e.name, "kind": e.kind, "files": e.files, **e.summary}
                  for e in entries},
    }
    write_output(str(folder / "activations.json"),
                 json_text(document, what="activations.json", indent=1) + "\n")
    write_output(str(folder / "index.html"), index_html(entries, acts, title))
    return entries


def index_html(entries: list[Entry], acts: Activations, title: str = "") -> str:
    """One offline page: every layer in order with its pictures and numbers."""
    esc = html.escape
    heading = esc(title or f"Activations of {acts.graph.name}")
    rows = []
    for e in entries:
        s = e.summary
        facts = (f"{esc(e.kind)} · shape {esc(_shape_text(tuple(s['shape'])))} · "
                 f"min {s['min']:.4g} · max {s['max']:.4g} · mean {s['mean']:.4g} · "
                 f"zeros {100 * s['zeros']:.1f} %")
        images = "".join(f'<img src="{esc(f, quote=True)}" alt="{esc(e.name, quote=True)}">'
                         for f in e.files) or "<p class=none>(not drawn: no spatial or "\
                                               "vector output)</p>"
        rows.append(f'<section id="{esc(e.nid, quote=True)}"><h2>{esc(e.name)}</h2>'
                    f"<p>{facts}</p>{images}</section>")
    notes = "".join(f"<li>{esc(n)}</li>" for n in acts.meta.get("inputs", []))
    return ("<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>"
            f"<title>{heading}</title><style>"
            "body{font:14px/1.4 system-ui,sans-serif;margin:2em;color:#222}"
            "section{margin:0 0 2em}h2{font-size:16px;margin:.2em 0}"
            "p{margin:.2em 0;color:#555}img{max-width:100%;display:block;margin:.4em 0}"
            ".none{color:#999}</style></head><body>"
            f"<h1>{heading}</h1><ul>{notes}</ul>" + "".join(rows) + "</body></html>\n")


def _pixels_like(pixels: np.ndarray | None, shape: tuple[int, int]) -> np.ndarray | None:
    """A (C, H, W) 0-1 picture resized to ``shape`` (H, W)."""
    from PIL import Image

    if pixels is None:
        return None
    if pixels.shape[1:] == shape:
        return pixels
    h, w = shape
    return np.stack([np.asarray(Image.fromarray((np.clip(c, 0, 1) * 255).astype(np.uint8))
                                .resize((w, h))) / 255.0 for c in pixels])


def _class_label(result: Any, example: int, class_names: list[str] | None) -> str:
    c = result.classes[example]
    label = class_names[c] if class_names and c < len(class_names) else f"class {c}"
    score = result.scores[example]
    if result.score_kind == "probability":
        return f"{label} ({100 * score:.1f} %)"
    return f"{label} ({result.score_kind} {score:.3g})"


def _layer_text(result: Any) -> str:
    if not result.layer:
        return "input pixels"
    grid = f"grid {result.maps.shape[1]}×{result.maps.shape[2]}"
    inner = f" = {result.layer_path}" if result.layer_path != result.layer_name else ""
    return f"layer {result.layer_name}{inner} · {grid}"


def _scale_text(scale: str, count: int) -> str:
    if scale == "shared":
        return f"one 0–1 scale shared by the {count} inputs" if count > 1 else \
            "map scaled to 0–1"
    return "map scaled to 0–1 per image"


def cam_image(result: Any, pixels: np.ndarray | None, example: int, class_names: list[str]
              | None = None, *, cmap: str = "heat", alpha: float = 0.5,
              scale: str = "image", heat: np.ndarray | None = None) -> Any:
    """The input, the map over it and a colour bar, with the class, score and layer named.
    ``heat`` (N, H, W) in 0-1 overrides ``result.scaled(scale)``."""
    heats = heat if heat is not None else result.scaled(scale)
    one = heats[example]
    h, w = one.shape
    size = pictures._tile_scale(h, w)
    while max(size) < 180:
        size = (size[0] * 2, size[1] * 2)
    colours = pictures.heat_colormap(cmap)
    if pixels is not None:
        image = _pixels_like(pixels[example], (h, w))
        left = pictures._resize((np.moveaxis(np.repeat(image, 3 // image.shape[0], 0), 0, -1)
                                 * 255).round().astype(np.uint8), size)
        right = pictures._resize(pictures.overlay(image, one, alpha, cmap), size)
        tiles, labels = [left, right], ["input", f"{result.method} over the input"]
    else:
        tiles = [pictures._resize(pictures.colorize(one, 0, 1, colours), size)]
        labels = [result.method]
    body = pictures.grid(tiles, labels, columns=len(tiles))
    title = f"{result.method}: {_class_label(result, example, class_names)}"
    subtitle = f"{_layer_text(result)} · {result.graph.name}"
    bar = pictures.colorbar(max(body.height, 80), 0.0, 1.0, colours,
                            _scale_text(scale, len(heats)))
    footer = " · ".join(result.notes)
    return pictures.compose(title, subtitle, body, bar, footer)


def filter_image(kernels: np.ndarray, name: str, subtitle: str) -> Any:
    """Raw kernels as a grid of RGB (or grey) tiles, one scale for the layer."""
    from netdraw.viz.feature_vis import to_tiles

    tiles01 = to_tiles(kernels)
    kh, kw = tiles01.shape[2:]
    factor = max(4, 48 // max(kh, kw))
    tiles = []
    for t in tiles01:
        rgb = np.moveaxis(np.repeat(t, 3 // t.shape[0], axis=0), 0, -1)
        tiles.append(pictures._resize((rgb * 255).round().astype(np.uint8),
                                      (kh * factor, kw * factor)))
    body = pictures.grid(tiles, [f"#{i}" for i in range(len(tiles))],
                         columns=min(len(tiles), 8))
    bound = float(np.abs(kernels).max())
    footer = (f"{kernels.shape[0]} kernels {kh}×{kw} over {kernels.shape[1]} input channels;"
              f" grey = 0, full colour = ±{bound:.3g} (one scale for the layer)")
    return pictures.compose(name, subtitle, body, None, footer)


def ascent_image(images: np.ndarray, channels: list[int], name: str, subtitle: str,
                 scores: list[float]) -> Any:
    """Gradient-ascent images, one per channel."""
    size = images.shape[-1]
    scale = max(1, 96 // size)
    tiles = []
    for img in images:
        rgb = np.moveaxis(np.repeat(img, 3 // img.shape[0], axis=0), 0, -1)
        tiles.append(pictures._resize((np.clip(rgb, 0, 1) * 255).round().astype(np.uint8),
                                      (size * scale, size * scale)))
    body = pictures.grid(tiles, [f"#{c} ({s:.2g})" for c, s in zip(channels, scores,
                                                                    strict=True)])
    return pictures.compose(name, subtitle, body, None,
                            "each image maximises one channel's mean activation "
                            "(value in brackets)")


def cam_panel(pixels: np.ndarray, rows: list[tuple[str, list[Any]]],
              class_names: list[str] | None = None, *, cmap: str = "heat",
              alpha: float = 0.5, scale: str = "image") -> Any:
    """Inputs (rows) × methods (columns): each row the input and each method's map over
    it, labelled with the method, class and score. ``rows``: (row label, [CamResult per
    method]), each result holding that row's input at index 0, or all rows' inputs (then
    row ``k`` reads index ``k``; ``scale="shared"`` then uses one scale per method across
    the rows)."""
    from PIL import Image

    tiles, labels = [], []
    columns = 1 + max(len(results) for _, results in rows)
    for k, (label, results) in enumerate(rows):
        image = pixels[k]
        size = pictures._tile_scale(*image.shape[1:])
        while max(size) < 128:
            size = (size[0] * 2, size[1] * 2)
        rgb = (np.moveaxis(np.repeat(image, 3 // image.shape[0], 0), 0, -1) * 255)
        tiles.append(pictures._resize(rgb.round().astype(np.uint8), size))
        labels.append(label)
        for result in results:
            index = k if len(result.classes) == len(rows) and len(rows) > 1 else 0
            heat = result.scaled(scale)[index]
            image_k = _pixels_like(image, heat.shape)
            tiles.append(pictures._resize(pictures.overlay(image_k, heat, alpha, cmap), size))
            c = result.classes[index]
            name = class_names[c] if class_names and c < len(class_names) else f"class {c}"
            value = result.scores[index]
            score = f"{100 * value:.0f} %" if result.score_kind == "probability" \
                else f"{value:.3g}"
            labels.append(f"{result.method}: {name} {score}")
        for _ in range(columns - 1 - len(results)):
            tiles.append(Image.new("RGB", tiles[-1].size, pictures.BACKGROUND))
            labels.append("")
    body = pictures.grid(tiles, labels, columns=columns)
    first = rows[0][1][0]
    layers = sorted({r.layer_name for _, results in rows for r in results if r.layer})
    bar = pictures.colorbar(min(body.height, 240), 0.0, 1.0, pictures.heat_colormap(cmap),
                            _scale_text(scale, len(rows)).replace("map ", "maps "))
    return pictures.compose(f"Attribution maps · {first.graph.name}",
                            (f"layer {', '.join(layers)} (CAM methods)" if layers else
                             "pixel attributions") + " · class and score under each map",
                            body, bar)
