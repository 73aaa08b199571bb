"""Activation thumbnails in the Graphviz diagram (see :mod:`netdraw.viz.thumbnails`).

Each node with a thumbnail gets rows under its label: a row of its channel maps (or the
input picture, or a heat strip for a vector) and a one-line caption. Graphviz places images
only from files, so :class:`ImageFiles` hands out generated names (``ndthumb-N.png``, no
user text), :func:`render_with_images` writes them into a private temporary folder, runs
``dot`` there and, for SVG, replaces each file reference by a ``data:`` URI so the SVG is
one file. A legend node explains the colour scales.
"""

from __future__ import annotations

import base64
import html
import re
import tempfile
from pathlib import Path
from typing import Any

#: Points per thumbnail tile (the longer side) and the input picture's side.
TILE_PT = 26.0
INPUT_PT = 44.0
STRIP_PT = (110.0, 7.0)
#: Channel maps per row (more channels wrap into a grid).
PER_ROW = 4
_NAME = re.compile(r'xlink:href="(ndthumb-\d+\.png)"')


class ImageFiles:
    """PNG bytes -> generated file names (the same bytes share one name)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self._names: dict[bytes, str] = {}

    def name(self, png: bytes) -> str:
        if png not in self._names:
            self._names[png] = f"ndthumb-{len(self._names)}.png"
            self.files[self._names[png]] = png
        return self._names[png]


def _cell(files: ImageFiles, tile: Any, width: float, height: float) -> str:
    return (f'<td fixedsize="true" width="{width:.0f}" height="{height:.0f}">'
            f'<img src="{files.name(tile.png)}" scale="true"/></td>')


def thumb_rows(thumb: Any, files: ImageFiles) -> str:
    """The label rows (HTML-like) that show ``thumb`` (a :class:`NodeThumb`)."""
    if thumb.kind == "image":
        tile = thumb.tiles[0]
        w, h = tile.size
        k = INPUT_PT / max(w, h)
        cells = _cell(files, tile, w * k, h * k)
        rows = [cells]
    elif thumb.kind == "maps":
        rows = []
        for start in range(0, len(thumb.tiles), PER_ROW):
            cells = ""
            for tile in thumb.tiles[start:start + PER_ROW]:
                w, h = tile.size
                k = TILE_PT / max(w, h)
                cells += _cell(files, tile, max(8.0, w * k), max(8.0, h * k))
            rows.append(cells)
    else:
        rows = [_cell(files, thumb.tiles[0], *STRIP_PT)]
    images = ('<tr><td><table border="0" cellborder="0" cellspacing="2" cellpadding="0">'
              + "".join(f"<tr>{cells}</tr>" for cells in rows) + "</table></td></tr>")
    caption = thumb.caption
    if thumb.kind == "maps":
        caption += ": " + " ".join(f"#{c}" for c in thumb.channels)
    return images + (f'<tr><td><font point-size="7" color="#666666">{html.escape(caption)}'
                     "</font></td></tr>")


def legend_lines(thumbs: Any, files: ImageFiles) -> list[str]:
    """A legend node for the colour scales the thumbnails use."""
    rows = [f'<tr><td colspan="3"><font point-size="9"><b>{html.escape("Activations")}'
            "</b></font></td></tr>"]
    names = {"sequential": "per layer", "diverging": "per layer, signed",
             "heat": "per layer", "gray": "per layer", "cam": "class-activation map"}
    for cmap, low, high, tile in thumbs.legend():
        rows.append(f'<tr><td align="right"><font point-size="8">{html.escape(low)}</font>'
                    f"</td>{_cell(files, tile, 70, 8)}"
                    f'<td align="left"><font point-size="8">{html.escape(high)} '
                    f'({html.escape(names.get(cmap, cmap))})</font></td></tr>')
    for line in thumbs.legend_text().split("; "):
        rows.append(f'<tr><td colspan="3"><font point-size="7" color="#666666">'
                    f"{html.escape(line)}</font></td></tr>")
    label = ('<<table border="0" cellborder="0" cellspacing="2" cellpadding="1">'
             + "".join(rows) + "</table>>")
    return [f'\tthumblegend [shape="box" style="rounded" color="#bbbbbb" label={label}]']


def render_with_images(source: str, fmt: str, files: ImageFiles, run: Any) -> bytes:
    """Run ``run(source, fmt, cwd)`` (Graphviz) with the images written in a temporary
    folder; SVG references become ``data:`` URIs."""
    with tempfile.TemporaryDirectory(prefix="netdraw-thumbs-") as folder:
        for name, data in files.files.items():
            Path(folder, name).write_bytes(data)
        out = run(source, fmt, folder)
    if fmt != "svg":
        return out

    def inline(match: re.Match[str]) -> str:
        data = base64.b64encode(files.files[match.group(1)]).decode("ascii")
        return f'xlink:href="data:image/png;base64,{data}" style="image-rendering:pixelated"'

    return _NAME.sub(inline, out.decode("utf-8")).encode("utf-8")
