"""NN-SVG-style figures drawn from any model: ``fcnn``, ``lenet`` and ``alexnet``.

Pure Python (svgwrite), no Graphviz. Each style is a backend for ``.svg`` chosen with
``--style`` (``render(graph, "svg", style="alexnet")``):

- ``fcnn``: layers as columns of neurons, fully connected to the next column; a layer
  wider than ``max_neurons`` (10) shows that many with an ellipsis, its true size below.
- ``lenet``: feature maps as stacks of offset squares (at most ``max_maps``, 8), the true
  ``C@H×W`` above; kernels as small squares projected to the next layer; dense layers as bars.
- ``alexnet``: 3D boxes whose height, depth into the page and thickness follow H, W and C,
  kernel pyramids between layers, dimension labels on the edges; dense layers as thin bars.

Which nodes become layers (policy ``TENSORS``), how shapes are read (NCHW vs NHWC) and how
non-sequential graphs are laid out (branches in lanes, skips as arcs, U-Nets as a U) is the
shared figure layout's business (:mod:`netdraw.figure`, also drawn by the TikZ backend);
:mod:`~netdraw.backends.nnsvg.base` sizes the layers in pixels and writes the SVG.

Options (CLI flag in brackets):

- ``width`` (``--width``): the width the figure is meant to be printed at (``text``, 16.5
  cm, the default; ``column``, 8.5 cm; or a length): rows, glyph sizes and labels are
  chosen so that, scaled to it, the drawing is at most 4:1 with labels of 6 pt or more
  (:mod:`netdraw.figure.fit`).
- ``scale`` (``--scale log|linear``): how dimensions map to sizes; default ``log``.
- ``spacing`` (``--spacing X``): multiply the gaps between layers by X (0.2–10).
- ``angle`` (``--angle DEG``): alexnet only, angle of the receding axis, 5–85°, default 40.
- ``labels`` (``--no-labels``): dimension, name and op labels; on by default.
- ``legend`` (``--no-legend``): the colour key under the figure; on by default.
- ``colors`` (``--colors SPEC``): a theme (``default``, ``mono``) and/or ``KIND=COLOUR``
  pairs, e.g. ``mono,conv=#9ecae1``; ``all=white`` paints every kind.
- ``title`` (``--title``): the heading (default: the model name; ``''`` for none).
- ``max_neurons``, ``max_maps`` (Python only): the caps above.

Output is deterministic (same bytes on every run) and every string is XML-escaped.
"""
