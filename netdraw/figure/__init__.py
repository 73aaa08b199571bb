"""Paper figures, laid out once for every figure style (TikZ, NN-SVG's fcnn, lenet, alexnet).

Pure geometry, no output format here: :mod:`items` simplifies a Graph into the things a
figure draws, :mod:`plan` finds their structure (main path, lanes, skips, U, clean cuts),
:mod:`layout` places the footprints a style measured for them and routes the arrows, and
:mod:`geometry` checks the result. Each backend supplies its look (sizes, labels, fonts)
and draws the placed figure.
"""

from netdraw.figure.items import Dims, Item, ItemGraph, build_items
from netdraw.figure.layout import Figure, Footprint, Label, Spacing, lay_out
from netdraw.figure.plan import Plan, make_plan

__all__ = ["Dims", "Figure", "Footprint", "Item", "ItemGraph", "Label", "Plan", "Spacing",
           "build_items", "lay_out", "make_plan"]
