"""Placing a figure's layers on a grid of columns and rows, for any DAG.

- Columns: the longest path from a source, so every edge goes left to right.
- Main path: from the right-most sink back through the right-most predecessor; it is
  row 0. Other layers (a ResNet downsample, Inception branches, a second input) go to lanes
  below it, a lane being a row whose horizontal span is free.
- U layout: when the main path's spatial size falls by at least 4× and rises again by at
  least 4× (U-Net, encoder-decoders), row = resolution level (log2 of the size ratio), so
  the encoder descends and the decoder climbs back: the figure is a U.
- Same-row edges with a layer between their ends become arcs over the top; arcs nest by
  span (shorter arcs lower). Edges between rows are elbows routed through the gaps between
  columns, entering merges from below or above.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from netdraw.backends.nnsvg.figure import Figure, Layer


@dataclass(frozen=True)
class Shape:
    """A layer's drawing relative to its origin (the row line is y = 0).

    ``body`` (x0, y0, x1, y1) is the drawn glyph. Labels take ``above`` pixels over the
    body and ``below`` pixels under the lowest body of the row (labels of a row share one
    baseline); ``label_w`` is the widest label, centred on the body. Ports are where
    edges attach.
    """

    body: tuple[float, float, float, float]
    in_port: tuple[float, float]
    out_port: tuple[float, float]
    above: float = 0.0
    below: float = 0.0
    label_w: float = 0.0

    @property
    def full(self) -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = self.body
        cx, half = (x0 + x1) / 2, max(x1 - x0, self.label_w) / 2
        return cx - half, y0 - self.above, cx + half, y1 + self.below

    @property
    def top_port(self) -> tuple[float, float]:
        return ((self.body[0] + self.body[2]) / 2, self.body[1] - self.above)

    @property
    def bottom_port(self) -> tuple[float, float]:
        return ((self.body[0] + self.body[2]) / 2, self.body[3])


@dataclass
class Arc:
    src: int
    dst: int
    row: int
    level: int


@dataclass
class Placement:
    """Where everything goes: per layer origin, column and row; arcs; the drawing size."""

    col: list[int]
    row: list[int]
    origin: list[tuple[float, float]]
    shapes: list[Shape]
    col_x: list[float]
    col_w: list[float]
    row_y: list[float]
    row_floor: list[float]  # y of the lowest body in each row: where labels start
    arcs: list[Arc] = field(default_factory=list)
    width: float = 0.0
    bottom: float = 0.0
    u_shaped: bool = False
    main: list[int] = field(default_factory=list)

    def port(self, i: int, which: str) -> tuple[float, float]:
        shape = self.shapes[i]
        px, py = getattr(shape, which)
        ox, oy = self.origin[i]
        return ox + px, oy + py

    def box(self, i: int, which: str = "full") -> tuple[float, float, float, float]:
        x0, y0, x1, y1 = getattr(self.shapes[i], which)
        ox, oy = self.origin[i]
        return ox + x0, oy + y0, ox + x1, oy + y1


def columns(fig: Figure) -> list[int]:
    col = [0] * len(fig.layers)
    for layer in fig.layers:  # topological order
        if layer.preds:
            col[layer.index] = max(col[p] for p in layer.preds) + 1
    return col


def main_path(fig: Figure, col: list[int]) -> list[int]:
    if not fig.layers:
        return []
    sinks = [lay.index for lay in fig.layers if not lay.succs]
    end = max(sinks, key=lambda i: (col[i], -i))
    path = [end]
    while fig.layers[path[-1]].preds:
        preds = fig.layers[path[-1]].preds
        path.append(max(preds, key=lambda i: (col[i], -i)))
    return path[::-1]


def _level(layer: Layer) -> int | None:
    d = layer.dims
    if d.is_vector or d.height is None:
        return None
    return d.height


def u_levels(fig: Figure, main: list[int]) -> dict[int, int] | None:
    """Resolution level per main-path layer if the path is U-shaped, else None."""
    sizes = [_level(fig.layers[i]) for i in main]
    known = [s for s in sizes if s]
    if len(known) < 5:
        return None
    top = max(known)
    levels: dict[int, int] = {}
    current = 0
    for i, s in zip(main, sizes, strict=True):
        if s:
            current = max(0, round(math.log2(top / s)))
        levels[i] = current
    seq = [levels[i] for i, s in zip(main, sizes, strict=True) if s]
    deepest = max(seq)
    bottom_at = seq.index(deepest)
    if deepest < 2 or min(seq[:bottom_at + 1]) > 0 or seq[-1] > deepest - 2:
        return None
    return levels


def assign_rows(fig: Figure, col: list[int], main: list[int]) -> tuple[list[int], bool]:
    """Row per layer (see module docstring); True when the U layout was chosen."""
    n = len(fig.layers)
    lane = [-1] * n
    for i in main:
        lane[i] = 0
    spans: dict[int, list[tuple[int, int, int]]] = {}  # lane -> (start, end, layer)
    for layer in fig.layers:
        i = layer.index
        if lane[i] == 0:
            continue
        start = min([col[p] + 1 for p in layer.preds] + [col[i]])
        end = max([col[s] for s in layer.succs] + [col[i]])
        mates = set(layer.preds)

        def free(lane_no: int, start: int = start, end: int = end, mates: set = mates) -> bool:
            return all(e < start or s > end or who in mates
                       for s, e, who in spans.get(lane_no, []))

        chain = [lane[p] for p in layer.preds if lane[p] > 0]
        choice = next((c for c in chain if free(c)), None)
        if choice is None:
            choice = 1
            while not free(choice):
                choice += 1
        lane[i] = choice
        spans.setdefault(choice, []).append((start, end, i))
    levels = u_levels(fig, main)
    if levels is None:
        return lane, False
    deepest = max(levels.values())
    return [levels[i] if lane[i] == 0 else deepest + lane[i] for i in range(n)], True


@dataclass(frozen=True)
class Spacing:
    """Gaps in pixels (already multiplied by the user's --spacing)."""

    col_gap: float
    row_gap: float
    arc_step: float = 12.0
    arc_margin: float = 10.0


def place(fig: Figure, shapes: list[Shape], spacing: Spacing, left: float,
          top: float, uniform: bool = False) -> Placement:
    """Compute every layer's origin; ``left``/``top`` is where the grid starts.

    ``uniform`` gives every column with a non-merge layer the width of the widest.
    """
    col = columns(fig)
    main = main_path(fig, col)
    row, u_shaped = assign_rows(fig, col, main)
    used_rows = sorted(set(row))
    row_index = {r: k for k, r in enumerate(used_rows)}
    row = [row_index[r] for r in row]
    nrows, ncols = len(used_rows), (max(col) + 1 if col else 0)

    members: dict[int, list[int]] = {}
    for i, r in enumerate(row):
        members.setdefault(r, []).append(i)
    arcs = _arcs(fig, col, row, members)

    col_w = [0.0] * ncols
    for i, shape in enumerate(shapes):
        col_w[col[i]] = max(col_w[col[i]], shape.full[2] - shape.full[0])
    if uniform and col_w:  # merge-only columns stay narrow
        wide = {col[i] for i, layer in enumerate(fig.layers) if not layer.is_merge}
        widest = max(col_w)
        col_w = [widest if c in wide else w for c, w in enumerate(col_w)]
    col_x, x = [], left
    for w in col_w:
        col_x.append(x)
        x += w + spacing.col_gap
    width = x - spacing.col_gap if ncols else left

    up = [max((-shapes[i].full[1] for i in members.get(r, [])), default=0.0)
          for r in range(nrows)]
    floor = [max((shapes[i].body[3] for i in members.get(r, [])), default=0.0)
             for r in range(nrows)]
    down = [floor[r] + max((shapes[i].below for i in members.get(r, [])), default=0.0)
            for r in range(nrows)]
    headroom = [0.0] * nrows
    for arc in arcs:
        need = spacing.arc_margin + (arc.level + 1) * spacing.arc_step
        headroom[arc.row] = max(headroom[arc.row], need)
    row_y, y = [], top
    for r in range(nrows):
        y += headroom[r] + up[r]
        row_y.append(y)
        y += down[r] + spacing.row_gap
    bottom = y - spacing.row_gap if nrows else top

    origin = []
    for i, shape in enumerate(shapes):
        c = col[i]
        fw = shape.full[2] - shape.full[0]
        origin.append((col_x[c] + (col_w[c] - fw) / 2 - shape.full[0], row_y[row[i]]))
    return Placement(col, row, origin, shapes, col_x, col_w, row_y,
                     [row_y[r] + floor[r] for r in range(nrows)], arcs, width, bottom,
                     u_shaped, main)


def _arcs(fig: Figure, col: list[int], row: list[int],
          members: dict[int, list[int]]) -> list[Arc]:
    """Same-row edges with a same-row layer between their ends, with nesting levels."""
    found: list[tuple[int, int]] = []
    for a, b in fig.edges:
        if row[a] != row[b]:
            continue
        between = any(col[a] < col[m] < col[b] for m in members[row[a]])
        if between:
            found.append((a, b))
    found.sort(key=lambda e: (col[e[1]] - col[e[0]], col[e[0]], e))
    placed: list[Arc] = []
    for a, b in found:
        level = 0
        while any(arc.row == row[a] and arc.level == level
                  and col[arc.src] < col[b] and col[a] < col[arc.dst] for arc in placed):
            level += 1
        placed.append(Arc(a, b, row[a], level))
    return placed


def rounded(points: list[tuple[float, float]], radius: float = 6.0) -> str:
    """SVG path data through ``points`` with rounded corners."""
    from netdraw.backends.nnsvg.canvas import num

    pts = [p for k, p in enumerate(points) if k == 0 or p != points[k - 1]]
    if len(pts) < 2:
        return ""
    d = [f"M{num(pts[0][0])},{num(pts[0][1])}"]
    for k in range(1, len(pts) - 1):
        (x0, y0), (x1, y1), (x2, y2) = pts[k - 1], pts[k], pts[k + 1]
        la = math.hypot(x1 - x0, y1 - y0)
        lb = math.hypot(x2 - x1, y2 - y1)
        r = min(radius, la / 2, lb / 2)
        if r <= 0.5:
            d.append(f"L{num(x1)},{num(y1)}")
            continue
        ax, ay = x1 - (x1 - x0) * r / la, y1 - (y1 - y0) * r / la
        bx, by = x1 + (x2 - x1) * r / lb, y1 + (y2 - y1) * r / lb
        d.append(f"L{num(ax)},{num(ay)} Q{num(x1)},{num(y1)} {num(bx)},{num(by)}")
    d.append(f"L{num(pts[-1][0])},{num(pts[-1][1])}")
    return " ".join(d)
