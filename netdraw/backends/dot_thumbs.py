"""Activation thumbnails in the Graphviz diagram (see :mod:`netdraw.viz.thumbnails`).

Each node with a thumbnail shows it beside its label (a grid of its channel maps, two rows
as tall as the label's text, or the input picture) or under it (a vector's heat strip).
Graphviz places images only from files, so :class:`ImageFiles` hands out generated names
(``ndthumb-N.png``, no user text), :func:`render_with_images` writes them into a private
temporary folder, runs ``dot`` there and, for SVG, replaces each file reference by a
``data:`` URI so the SVG is one file. A legend node explains the colour scales.
"""

from __future__ import annotations

import base64
import html
import re
import tempfile
from pathlib import Path
from typing import Any

#: Points per thumbnail tile (the longer side), the input picture's side, a strip's size.
TILE_PT = 19.0
INPUT_PT = 40.0
STRIP_PT = (100.0, 6.0)
#: Rows of the grid of channel maps beside a label (two rows are as tall as its text).
ROWS = 2
_IMAGE = re.compile(r'<image ([^>]*?)xlink:href="(ndthumb-\d+\.png)"([^>]*?)/>')


class ImageFiles:
    """PNG bytes and a tooltip -> generated file names (the same pair shares one name)."""

    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}
        self.titles: dict[str, str] = {}
        self._names: dict[tuple[bytes, str], str] = {}

    def name(self, png: bytes, title: str = "") -> str:
        key = (png, title)
        if key not in self._names:
            name = self._names[key] = f"ndthumb-{len(self._names)}.png"
            self.files[name], self.titles[name] = png, title
        return self._names[key]


def _cell(files: ImageFiles, tile: Any, width: float, height: float, title: str = "") -> str:
    """A fixed-size cell holding a tile; ``title`` becomes the SVG image's tooltip."""
    return (f'<td fixedsize="true" width="{width:.0f}" height="{height:.0f}">'
            f'<img src="{files.name(tile.png, title)}" scale="true"/></td>')


def thumb_cells(thumb: Any, files: ImageFiles) -> tuple[str, str]:
    """(a cell right of the label's text, rows under it) that show ``thumb`` (a
    :class:`NodeThumb`): channel maps in a grid of two rows beside the text (as tall as
    its three lines, so boxes grow wider, not taller), the input picture beside it, a
    heat strip under it. Each map's channel number is its tooltip."""
    if thumb.kind == "strip":
        return "", ('<tr><td cellpadding="2">'
                    + _table([[_cell(files, thumb.tiles[0], *STRIP_PT, thumb.caption)]])
                    + "</td></tr>")
    if thumb.kind == "image":
        tile = thumb.tiles[0]
        w, h = tile.size
        k = INPUT_PT / max(w, h)
        return _table([[_cell(files, tile, w * k, h * k, thumb.caption)]]), ""
    per_row = max(1, -(-len(thumb.tiles) // ROWS))
    rows = []
    for start in range(0, len(thumb.tiles), per_row):
        cells = []
        for tile in thumb.tiles[start:start + per_row]:
            w, h = tile.size
            k = TILE_PT / max(w, h)
            cells.append(_cell(files, tile, max(6.0, w * k), max(6.0, h * k),
                               f"{tile.label} of {thumb.total} channels"))
        rows.append(cells)
    return _table(rows), ""


def _table(rows: list[list[str]]) -> str:
    return ('<table border="0" cellborder="0" cellspacing="2" cellpadding="0">'
            + "".join("<tr>" + "".join(r) + "</tr>" for r in rows) + "</table>")


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
        before, name, after = match.groups()
        data = base64.b64encode(files.files[name]).decode("ascii")
        title = files.titles.get(name)
        tip = f"<title>{html.escape(title, quote=False)}</title>" if title else ""
        return (f'<image {before}xlink:href="data:image/png;base64,{data}"{after} '
                f'style="image-rendering:pixelated">{tip}</image>')

    return _IMAGE.sub(inline, out.decode("utf-8")).encode("utf-8")
