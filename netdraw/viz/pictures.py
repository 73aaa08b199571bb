"""PNG pictures of activations, filters and CAMs, drawn with Pillow (no framework).

Colour scales: a layer's maps share one scale. Signed values get a symmetric diverging scale
around 0 (blue - white - red, ``±max|x|``); non-negative ones a sequential scale from 0 (dark
blue - green - yellow, like viridis). The bar beside every grid states the range. CAM
heatmaps are 0-1 (normalised per image) in a jet-like scale over the greyed input.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

# the colour scales and the PNG writer are shared with the figures' legends (backends)
from netdraw.backends.thumbs import colormap as colormap
from netdraw.backends.thumbs import to_png as to_png

BACKGROUND = (255, 255, 255)
INK = (30, 30, 30)
MUTED = (110, 110, 110)
TILE = 96  # target tile size in pixels
GAP = 4


@cache
def font(size: int = 13, bold: bool = False):
    from PIL import ImageFont

    for name in (("DejaVuSans-Bold.ttf", "DejaVuSans.ttf") if bold else ("DejaVuSans.ttf",)):
        try:
            return ImageFont.truetype(name, size)
        except OSError:
            continue
    return ImageFont.load_default(size=size)


def scale_for(low: float, high: float) -> tuple[float, float, str]:
    """(vmin, vmax, colormap): symmetric diverging for signed values, else sequential."""
    if low < 0:
        bound = max(abs(low), abs(high)) or 1.0
        return -bound, bound, "diverging"
    return 0.0, (high if high > 0 else 1.0), "sequential"


def colorize(x: np.ndarray, vmin: float, vmax: float, cmap: str) -> np.ndarray:
    """A 2-D array -> (H, W, 3) uint8."""
    span = vmax - vmin or 1.0
    t = np.clip((np.nan_to_num(x) - vmin) / span, 0, 1)
    return colormap(cmap)[(t * 255).round().astype(np.int64)]


def _fmt(v: float) -> str:
    if v == 0:
        return "0"
    if abs(v) >= 1000 or abs(v) < 0.01:
        return f"{v:.2e}".replace("-", "−")
    return f"{v:.3g}".replace("-", "−")


def text(draw, xy: tuple[int, int], s: str, size: int = 13, fill=INK, bold: bool = False,
         anchor: str = "la") -> None:
    draw.text(xy, s, font=font(size, bold), fill=fill, anchor=anchor)


def text_width(s: str, size: int = 13, bold: bool = False) -> int:
    return int(math.ceil(font(size, bold).getlength(s)))


def colorbar(height: int, vmin: float, vmax: float, cmap: str, label: str):
    """A vertical colour bar with its range and ``label`` (a PIL image)."""
    from PIL import Image, ImageDraw

    bar_w, pad = 14, 6
    labels = [_fmt(vmax), _fmt(vmin)] + ([_fmt(0)] if vmin < 0 < vmax else [])
    width = bar_w + pad + max(text_width(s, 11) for s in labels) + 4
    height = max(height, 60)
    img = Image.new("RGB", (width, height), BACKGROUND)
    ramp = np.linspace(vmax, vmin, height - 20)[:, None].repeat(bar_w, axis=1)
    img.paste(Image.fromarray(colorize(ramp, vmin, vmax, cmap)), (0, 10))
    draw = ImageDraw.Draw(img)
    draw.rectangle((0, 10, bar_w - 1, height - 11), outline=MUTED)
    text(draw, (bar_w + pad, 10), _fmt(vmax), 11, anchor="lm")
    text(draw, (bar_w + pad, height - 11), _fmt(vmin), 11, anchor="lm")
    if vmin < 0 < vmax:
        zero = 10 + (height - 21) * vmax / (vmax - vmin)
        text(draw, (bar_w + pad, int(zero)), "0", 11, anchor="lm")
    return img, label


def _tile_scale(h: int, w: int) -> tuple[int, int]:
    """The size (h, w) a map is drawn at: about TILE pixels on its longer side."""
    longest = max(h, w)
    factor = TILE / longest
    if factor >= 1:
        factor = max(1, int(factor))  # whole-number upscaling keeps cells crisp
    return max(1, round(h * factor)), max(1, round(w * factor))


def _resize(rgb: np.ndarray, size: tuple[int, int]):
    from PIL import Image

    img = Image.fromarray(rgb)
    if img.size == (size[1], size[0]):
        return img
    upscale = size[0] >= rgb.shape[0]
    return img.resize((size[1], size[0]),
                      Image.Resampling.NEAREST if upscale else Image.Resampling.BILINEAR)


def compose(title: str, subtitle: str, body, bar=None, footer: str = ""):
    """Title lines above ``body``, the colour bar right of it, a footer line below."""
    from PIL import Image, ImageDraw

    bar_img, bar_label = bar if bar is not None else (None, "")
    pad = 12
    head = 44 if subtitle else 26
    foot = 20 if footer else 0
    bar_w = bar_img.width + 10 if bar_img is not None else 0
    width = max(body.width + bar_w + 2 * pad, text_width(title, 15, True) + 2 * pad,
                text_width(subtitle, 12) + 2 * pad, text_width(footer, 11) + 2 * pad,
                text_width(bar_label, 11) + body.width + 2 * pad)
    height = head + body.height + foot + 2 * pad + (16 if bar_label else 0)
    img = Image.new("RGB", (width, height), BACKGROUND)
    draw = ImageDraw.Draw(img)
    text(draw, (pad, pad), title, 15, bold=True)
    if subtitle:
        text(draw, (pad, pad + 22), subtitle, 12, fill=MUTED)
    img.paste(body, (pad, pad + head))
    if bar_img is not None:
        x = pad + body.width + 10
        img.paste(bar_img, (x, pad + head + (body.height - bar_img.height) // 2))
    y = pad + head + body.height + 4
    if bar_label:
        text(draw, (width - pad, y), bar_label, 11, fill=MUTED, anchor="ra")
        y += 16
    if footer:
        text(draw, (pad, y), footer, 11, fill=MUTED)
    return img


def grid(tiles: list, labels: list[str], columns: int | None = None):
    """Tiles (PIL images of one size) in a grid, each with a small label under it."""
    from PIL import Image, ImageDraw

    count = len(tiles)
    columns = columns or max(1, math.ceil(math.sqrt(count)))
    rows = math.ceil(count / columns)
    tw, th = tiles[0].size
    label_h = 16 if any(labels) else 0
    cell_w = max(tw, max((text_width(s, 11) for s in labels), default=0)) + GAP
    img = Image.new("RGB", (columns * cell_w - GAP, rows * (th + label_h + GAP) - GAP),
                    BACKGROUND)
    draw = ImageDraw.Draw(img)
    for i, (tile, label) in enumerate(zip(tiles, labels, strict=True)):
        x, y = (i % columns) * cell_w, (i // columns) * (th + label_h + GAP)
        img.paste(tile, (x + (cell_w - GAP - tw) // 2, y))
        if label:
            text(draw, (x + (cell_w - GAP) // 2, y + th + 1), label, 11, fill=MUTED,
                 anchor="ma")
    return img


def map_grid(maps: np.ndarray, channels: list[int], vmin: float, vmax: float, cmap: str):
    """(C, H, W) maps: the chosen channels as coloured tiles labelled ``#k``."""
    size = _tile_scale(*maps.shape[1:])
    tiles = [_resize(colorize(maps[c], vmin, vmax, cmap), size) for c in channels]
    return grid(tiles, [f"#{c}" for c in channels])


def strip(values: np.ndarray, vmin: float, vmax: float, cmap: str, labels: bool = True):
    """A vector as a heat strip, wrapped into rows of up to 64 cells."""
    from PIL import Image, ImageDraw

    n = values.size
    per_row = min(n, 64)
    rows = math.ceil(n / per_row)
    cell = max(6, min(40, 640 // per_row))
    padded = np.full(rows * per_row, np.nan)
    padded[:n] = values
    rgb = colorize(padded.reshape(rows, per_row), vmin, vmax, cmap)
    rgb[np.isnan(padded.reshape(rows, per_row))] = BACKGROUND
    img = Image.fromarray(rgb).resize((per_row * cell, rows * cell), Image.Resampling.NEAREST)
    if labels and n <= 16:
        canvas = Image.new("RGB", (img.width, img.height + 16), BACKGROUND)
        canvas.paste(img, (0, 0))
        draw = ImageDraw.Draw(canvas)
        for i in range(n):
            text(draw, (i * cell + cell // 2, img.height + 1), str(i), 11, fill=MUTED,
                 anchor="ma")
        return canvas
    return img


def token_map(tokens: np.ndarray, vmin: float, vmax: float, cmap: str):
    """(T, D) tokens as a heat map, tokens down, features across (at most ~640 px)."""
    from PIL import Image

    t, d = tokens.shape
    img = Image.fromarray(colorize(tokens, vmin, vmax, cmap))
    width = min(640, max(d, 64) * max(1, 640 // max(d, 1)))
    height = min(480, max(t, 16) * max(1, 480 // max(t, 1)))
    mode = Image.Resampling.NEAREST if width >= d and height >= t else Image.Resampling.BOX
    return img.resize((width, height), mode)


#: Colour maps a heatmap can be drawn in (``--colormap``), by the names users know.
HEAT_COLORMAPS = {"heat": "heat", "jet": "heat", "viridis": "sequential",
                  "sequential": "sequential", "gray": "gray", "grey": "gray",
                  "diverging": "diverging", "coolwarm": "diverging"}


def heat_colormap(name: str) -> str:
    """The colour scale of :data:`HEAT_COLORMAPS` called ``name`` (a clear error else)."""
    if name not in HEAT_COLORMAPS:
        from netdraw.errors import NetdrawError

        raise NetdrawError(f"unknown --colormap {name!r}; choose one of "
                           f"{', '.join(HEAT_COLORMAPS)}")
    return HEAT_COLORMAPS[name]


def overlay(image: np.ndarray, heat: np.ndarray, alpha: float = 0.5,
            cmap: str = "heat") -> np.ndarray:
    """A (C, H, W) 0-1 image under a (H, W) 0-1 heatmap -> (H, W, 3) uint8.

    The colour covers each pixel in proportion to its heat (``alpha · heat``): where the
    map is 0 the input shows unchanged, where it is 1 the colour covers ``alpha`` of it,
    so the input stays visible around the evidence."""
    base = image if image.shape[0] == 3 else np.repeat(image[:1], 3, axis=0)
    base = np.moveaxis(np.clip(base, 0, 1), 0, -1)
    heat = np.clip(np.nan_to_num(heat), 0, 1)
    colours = colorize(heat, 0.0, 1.0, heat_colormap(cmap)).astype(np.float32) / 255
    weight = (alpha * heat)[..., None]
    mixed = (1 - weight) * base + weight * colours
    return (np.clip(mixed, 0, 1) * 255).round().astype(np.uint8)


