"""Paper figures in the 3D-box look: IR -> drawable items -> positioned glyphs and routes.

Pure geometry (no LaTeX here): :mod:`items` simplifies a Graph into the things a figure
draws, :mod:`layout` places them and routes the arrows, :mod:`geometry` checks the result.
The TikZ backend turns a :class:`~netdraw.figure.layout.Figure` into LaTeX.
"""

from netdraw.figure.items import Dims, Item, build_items
from netdraw.figure.layout import Figure, layout_figure

__all__ = ["Dims", "Figure", "Item", "build_items", "layout_figure"]
