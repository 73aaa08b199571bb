"""What the HTML page's explorer shows: plain data (numpy arrays, PNG bytes), made by the face.

:mod:`netdraw.viz.explore` computes it from a model and its inputs; the HTML backend
(:mod:`netdraw.backends.html.explorer`) writes it into the page, and ``netdraw serve``
answers the page's requests with the same pieces. A backend never runs a model.

Values are stored as 8-bit *levels* on each layer's colour scale (:class:`Scale`, one per
layer across all the inputs, so two inputs compare): level ``k`` means the value
``vmin + k/255·(vmax − vmin)``. The page colours them with the same 256-step colour maps
netdraw's pictures use (:func:`netdraw.backends.thumbs.colormap`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from netdraw.backends.thumbs import Scale

#: Kinds of a layer in the explorer: an input picture, channel maps, a vector (dense
#: features, logits, 1×1 maps) and a token matrix (T × D).
KINDS = ("image", "maps", "strip", "tokens")
#: The placeholder cell a diagram box gets for its thumbnail: its background colour (the
#: page finds the cell by it and draws the thumbnail over it) and sizes in points.
PLACEHOLDER_COLOUR = "#f1f1f3"
PLACEHOLDER_PT = {"image": (40, 40), "maps": (40, 40), "strip": (100, 7), "tokens": (40, 40)}


@dataclass
class LayerInfo:
    """One layer the explorer can show (a node of the page's graph)."""

    node_id: str
    kind: str  #: one of :data:`KINDS`
    #: maps: (channels, h, w); strip: (units,); tokens: (tokens, features); image: (C, H, W)
    shape: tuple[int, ...]
    scale: Scale | None = None
    #: maps and tokens: the (h, w) each channel (the matrix) is stored at in the page
    stored: tuple[int, int] = (0, 0)
    #: receptive field (first, jump, size) on the height axis, then the width axis
    field: tuple[float, float, float, float, float, float] | None = None
    #: names of the units (the last layer's: the class names)
    unit_names: list[str] | None = None
    #: the scale covers this many inputs (``netdraw serve``: until its pass over the
    #: folder is done, the inputs seen so far)
    scale_inputs: int = 0

    @property
    def channels(self) -> int:
        return int(self.shape[0]) if self.shape else 0


@dataclass
class InputEntry:
    """One input of the strip: its picture and the model's predictions for it."""

    name: str
    picture: bytes | None  #: PNG of the picture the model sees (at its input size)
    size: tuple[int, int] = (0, 0)  #: (width, height)
    #: top classes: (class index, probability), best first
    predictions: list[tuple[int, float]] = field(default_factory=list)
    probabilities: bool = True  #: False: the scores are the model's outputs, not softmax
    error: str | None = None


@dataclass
class CamMap:
    """A class-activation map of one input for one class, 0-1, at ``maps``' grid."""

    class_index: int
    score: float
    values: np.ndarray  #: (h, w) float32 in 0-1


@dataclass
class LayerValues:
    """Precomputed values of one layer for every input (the static page)."""

    levels: np.ndarray  #: uint8 (N, C, h, w) maps; (N, units) strips; (N, T, D) tokens
    #: float32 (N, C, 5): mean, max, min, std and fraction of zeros per channel (maps)
    #: or (N, units) values (strips), (N, D) mean over tokens (tokens)
    stats: np.ndarray
    #: uint16 (N, C, 2): (y, x) of each channel's maximum at the layer's own grid
    argmax: np.ndarray | None = None


@dataclass
class ExplorerData:
    """Everything the page's explorer needs; per-input values only in a static page."""

    layers: dict[str, LayerInfo]
    inputs: list[InputEntry]
    classes: list[str] | None = None
    values: dict[str, LayerValues] = field(default_factory=dict)
    #: static page: per input, ``(method, class index) -> CamMap`` for its top classes
    cams: list[dict[tuple[str, int], CamMap]] = field(default_factory=list)
    cam_methods: list[str] = field(default_factory=list)
    cam_layer: str = ""
    #: gradient-ascent images: node id -> channel -> PNG
    ascent: dict[str, dict[int, bytes]] = field(default_factory=dict)
    #: the node whose output gives the predictions
    output_node: str | None = None
    notes: list[str] = field(default_factory=list)
    #: ``netdraw serve``: the page asks the server (``{"api": "/explore", ...}``)
    serve: dict | None = None
    #: channels per box in the diagram, chosen by ``order`` (index, mean or max)
    count: int = 4
    order: str = "mean"
    top_k: int = 9


def placeholder_cells(kind: str) -> tuple[str, str]:
    """(a cell right of a box's text, rows under it) reserving room for the thumbnail of a
    layer of ``kind``; the page draws the thumbnail over the cell (a Graphviz HTML-like
    label, as :func:`netdraw.backends.dot.label_table` takes it)."""
    width, height = PLACEHOLDER_PT[kind]
    cell = (f'<td fixedsize="true" width="{width}" height="{height}" '
            f'bgcolor="{PLACEHOLDER_COLOUR}"></td>')
    if kind == "strip":
        return "", f'<tr><td cellpadding="2"><table border="0" cellborder="0" ' \
                   f'cellspacing="0" cellpadding="0"><tr>{cell}</tr></table></td></tr>'
    return ('<table border="0" cellborder="0" cellspacing="0" cellpadding="0">'
            f"<tr>{cell}</tr></table>"), ""


__all__ = ["KINDS", "PLACEHOLDER_COLOUR", "CamMap", "ExplorerData", "InputEntry", "LayerInfo",
           "LayerValues", "placeholder_cells"]
