"""The figure layout's rules on hand-built graphs, checked with geometry computed here:
boxes in order and apart, arrows from a box's right side to the next one's left, branch
lanes below the main path, rows that wrap where the narrowest widest row says (found by
trying every choice of cuts), captions, legend and title placement, the spacing option.

Oracles: hand counts, a brute-force search over the cuts, and bounding boxes computed
from the layout's own polygons (where the property is about positions, not about what
the layout decided).
"""

from __future__ import annotations

import itertools

import pytest

from netdraw.backends.tikz_boxes import TikzLook, layout_figure
from netdraw.errors import NetdrawError
from netdraw.figure import geometry as geo
from netdraw.figure.items import OPS, build_items
from netdraw.figure.layout import (
    Label,
    _tidy,
    captions,
    check_spacing,
    choose_breaks,
    column_widths,
    lay_out,
    place_title,
)
from netdraw.figure.plan import Bracket, make_plan
from netdraw.ir import Graph, Node, TensorSpec


def conv(g: Graph, nid: str, prev: str | list[str], c: int, h: int,
         group: tuple = (), kind: str = "conv", op: str = "Conv2d") -> str:
    out = TensorSpec((1, c, h, h))
    g.add_node(Node(nid, nid, kind, op, {"kernel_size": [3, 3]}, c * 9, [out], [out], group))
    for p in [prev] if isinstance(prev, str) else prev:
        g.add_edge(p, nid, out)
    return nid


def chain(n: int, groups: bool = False) -> Graph:
    g = Graph("chain")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 3, 32, 32))]))
    prev = "x"
    for k in range(n):
        group = (f"stage{k // 3}",) if groups else ()
        prev = conv(g, f"stage{k // 3}.c{k}" if groups else f"c{k}", prev, 8 * (1 + k % 2),
                    32, group)
    g.inputs.append("x")
    if groups:
        for s in range((n + 2) // 3):
            g.add_group((f"stage{s}",), class_name="Stage")
    return g


def boxes(fig) -> dict[str, tuple[float, float, float, float]]:
    """Node id of each item -> its glyph's bounding box."""
    return {p.item.node.id: geo.bbox(p.fp.outline) for p in fig.placed.values()}


def node_ids(fig, items: list[str]) -> list[str]:
    return [fig.items.items[v].node.id for v in items]


def test_a_chain_runs_left_to_right_with_arrows_between_faces():
    fig = lay_out(chain(6), make_plan(build_items(chain(6), OPS)), TikzLook())
    b = boxes(fig)
    order = ["x"] + [f"c{k}" for k in range(6)]
    assert node_ids(fig, fig.main) == order and fig.rows == 1 and fig.mode == "flat"
    for u, v in zip(order, order[1:], strict=False):
        assert b[u][2] < b[v][0]  # apart, in order
    for r in fig.routes:
        (x0, y0), (x1, y1) = r.points[0], r.points[-1]
        src, dst = node_ids(fig, [r.src, r.dst])
        assert x0 == pytest.approx(b[src][2], abs=0.05) and x1 == pytest.approx(
            b[dst][0], abs=0.05)
        assert y0 == y1 == 0 and not r.skip
    xb0, yb0, xb1, yb1 = fig.bounds()
    assert all(xb0 <= q[0] and q[2] <= xb1 and yb0 <= q[1] and q[3] <= yb1 for q in b.values())
    assert fig.crossings() == []


def test_a_branch_sits_in_a_lane_below_and_a_skip_arcs_over():
    g = Graph("branch")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 8, 16, 16))]))
    a = conv(g, "a", "x", 8, 16)
    b = conv(g, "b", a, 8, 16)
    c = conv(g, "c", b, 8, 16)
    p = conv(g, "p", a, 8, 16)  # a projection from a to the add: a lane below
    conv(g, "add", [c, p, a], 8, 16, kind="add", op="Add")
    g.inputs.append("x")
    fig = lay_out(g, make_plan(build_items(g, OPS)), TikzLook())
    placed = {p.item.node.id: p for p in fig.placed.values()}
    assert node_ids(fig, fig.main) == ["x", "a", "b", "c", "add"]
    assert placed["p"].lane == -1 and all(placed[v].lane == 0 for v in ("a", "b", "c"))
    bx = boxes(fig)
    assert bx["p"][3] < min(bx[v][1] for v in ("a", "b", "c"))  # wholly below the row
    skip = next(r for r in fig.routes if node_ids(fig, [r.src, r.dst]) == ["a", "add"])
    assert skip.skip and max(y for _, y in skip.points) > max(bx[v][3] for v in "bc")
    assert fig.crossings() == []


def widths_of(plan, fps):
    return column_widths(plan, fps, uniform=False)


def brute_force_breaks(plan, widths, rows, gap):
    """The cuts (each row at least two main items) whose widest row is narrowest."""
    best, best_cuts = float("inf"), []
    n = len(widths)
    for k in range(1, rows):
        for cuts in itertools.combinations(plan.cuts, k):
            starts = [0, *[c + 1 for c in cuts], n]
            if any(b - a < 2 for a, b in zip(starts, starts[1:], strict=False)):
                continue
            widest = max(sum(widths[a:b]) + gap * (b - a - 1)
                         for a, b in zip(starts, starts[1:], strict=False))
            if widest < best - 1e-9:
                best, best_cuts = widest, list(cuts)
    return best, best_cuts


@pytest.mark.parametrize("rows", [2, 3, 4])
def test_rows_wrap_where_the_widest_row_is_narrowest(rows):
    import random
    rng = random.Random(rows)
    plan = make_plan(build_items(chain(9), OPS))
    widths = [rng.uniform(0.5, 3.0) for _ in plan.main]
    cuts = choose_breaks(plan, widths, rows, 0.4)
    best, _ = brute_force_breaks(plan, widths, rows, 0.4)
    starts = [0, *[c + 1 for c in cuts], len(widths)]
    assert len(cuts) <= rows - 1 and all(b - a >= 2 for a, b in zip(starts, starts[1:],
                                                                     strict=False))
    got = max(sum(widths[a:b]) + 0.4 * (b - a - 1) for a, b in zip(starts, starts[1:],
                                                                   strict=False))
    assert got == pytest.approx(best)
    assert choose_breaks(plan, widths, 1, 0.4) == []


def test_a_cut_inside_a_stage_costs_an_eighth_of_a_row():
    # x + three stages of three convs: 10 columns, the last six 0.9 wide. Two rows: a cut
    # after column 4 (inside stage1) leaves rows of 4.9 and 4.5; after column 3 (between
    # stages) 4 and 5.4. A cut inside a stage adds an eighth of an average row
    # (9.4 / 2 / 8 = 0.5875) to both its rows: 5.4875 > 5.4, so the stage stays whole
    widths = [1.0] * 4 + [0.9] * 6
    plan = make_plan(build_items(chain(9, groups=True), OPS))
    assert choose_breaks(plan, widths, 2, 0.0) == [3]
    flat = make_plan(build_items(chain(9), OPS))
    assert choose_breaks(flat, widths, 2, 0.0) == [4]


def test_a_wrapped_figure_puts_each_row_below_the_last():
    g = chain(10)
    fig = lay_out(g, make_plan(build_items(g, OPS)), TikzLook(), rows=3)
    assert fig.rows == 3
    rows = {}
    for _v, p in fig.placed.items():
        rows.setdefault(p.row, []).append(geo.bbox(p.fp.outline))
    assert sorted(rows) == [0, 1, 2]
    for r in (1, 2):
        assert max(b[3] for b in rows[r]) < min(b[1] for b in rows[r - 1])
    wraps = [r for r in fig.routes if r.wrap]
    assert len(wraps) == 2
    for r in wraps:  # right, down, back left, down, into the next row's first item
        xs = [x for x, _ in r.points]
        assert r.points[-1][0] > min(xs) and r.points[0][0] < max(xs)
        assert all(a[0] == pytest.approx(b[0]) or a[1] == pytest.approx(b[1])
                   for a, b in zip(r.points, r.points[1:], strict=False))
    assert fig.crossings() == []
    # asking for more rows than the chain can give: as many as it can
    assert lay_out(g, make_plan(build_items(g, OPS)), TikzLook(), rows=50).rows <= 6


def test_column_widths_take_the_widest_box_of_each_column():
    g = chain(4)
    plan = make_plan(build_items(g, OPS))
    look = TikzLook()
    fps = {v: look.footprint(item, None) for v, item in plan.ig.items.items()}
    widths = widths_of(plan, fps)
    for v, fp in fps.items():
        x0, _, x1, _ = fp.extent()
        assert widths[plan.col[v]] == pytest.approx(x1 - x0)
    uniform = column_widths(plan, fps, uniform=True)
    assert uniform == [max(widths)] * len(widths)


def test_captions_drop_the_enclosing_bracket_name():
    g = chain(6, groups=True)
    ig = build_items(g, OPS)
    item_of = {item.node.id: v for v, item in ig.items.items()}
    members = [item_of[f"stage0.c{k}"] for k in range(3)]
    brackets = [Bracket(("stage0",), members, "stage0", "Stage")]
    assert captions(g, ig, brackets) == dict(zip(members, ["c0", "c1", "c2"], strict=True))
    assert captions(g, ig, []) == {}


def test_tidy_drops_repeated_and_collinear_points():
    assert _tidy([(0, 0), (0, 0), (1, 0), (2, 0), (2, 1), (2, 3), (3, 3)]) == [
        (0, 0), (2, 0), (2, 3), (3, 3)]
    assert _tidy([]) == [] and _tidy([(1, 1)]) == [(1, 1)]
    assert _tidy([(0, 0), (1, 1), (2, 2)]) == [(0, 0), (1, 1), (2, 2)]  # diagonal kept


def test_spacing_option():
    assert check_spacing(0.2) == 0.2 and check_spacing("10") == 10.0
    for bad, message in ((0.19, "must be between 0.2 and 10, not 0.19"),
                         (10.5, "must be between 0.2 and 10, not 10.5"),
                         ("x", "must be a number, not 'x'"), (None, "must be a number"),
                         (float("nan"), "must be between 0.2 and 10, not nan")):
        with pytest.raises(NetdrawError, match=f"--spacing {message}"):
            check_spacing(bad)


def test_title_above_the_figure():
    fig = layout_figure(chain(3), legend=False)
    x0, y0, x1, y1 = fig.bounds()
    label = Label("T", 0, 0, 2.0, 0.5, "south", "title")
    place_title(fig, label, 0.3, centred=True)
    assert (fig.title.x, fig.title.y, fig.title.anchor) == (pytest.approx((x0 + x1) / 2),
                                                            pytest.approx(y1 + 0.3), "south")
    fig.title = None
    place_title(fig, label, 0.3, centred=False)
    assert (fig.title.x, fig.title.y, fig.title.anchor) == (x0, pytest.approx(y1 + 0.3),
                                                            "south west")
    assert fig.title.text == "T" and fig.title.w == 2.0 and fig.title.role == "title"


def test_the_legend_wraps_under_the_figure():
    fig = layout_figure(chain(2))
    no_legend = layout_figure(chain(2), legend=False)
    _, low, _, _ = no_legend.bounds()
    assert fig.legend and all(geo.bbox(e.fp.outline)[3] < low for e in fig.legend)
    for e in fig.legend:  # each label just right of its sample, on its line
        sx0, sy0, sx1, sy1 = geo.bbox(e.fp.outline)
        assert e.label.anchor == "west" and e.label.x > sx1
        assert e.label.y == pytest.approx((sy0 + sy1) / 2)
    # a long chain: one line; a narrow one wraps to more lines
    lines = {round(e.label.y, 6) for e in fig.legend}
    x0, _, x1, _ = no_legend.bounds()
    for y in lines:
        on_line = [e for e in fig.legend if round(e.label.y, 6) == y]
        if len(on_line) > 1:
            assert max(e.label.box()[2] for e in on_line) <= x0 + max(x1 - x0, 6.0) + 3.0


@pytest.mark.parametrize(("anchor", "rotate", "box"), [
    ("north", 0, (-1, -1, 1, 0)), ("south", 0, (-1, 0, 1, 1)),
    ("west", 0, (0, -0.5, 2, 0.5)), ("east", 0, (-2, -0.5, 0, 0.5)),
    ("south west", 0, (0, 0, 2, 1)), ("north east", 0, (-2, -1, 0, 0)),
    ("center", 0, (-1, -0.5, 1, 0.5)), ("north", 90, (0, -1, 1, 1)),
])
def test_label_boxes_by_anchor(anchor, rotate, box):
    # a 2 × 1 label at the origin: where its box lies for each anchor (worked by hand)
    label = Label("t", 0.0, 0.0, 2.0, 1.0, anchor, rotate=rotate)
    assert label.box() == pytest.approx(box, abs=1e-9)
    moved = label.shifted(3.0, -1.0)
    assert moved.box() == pytest.approx((box[0] + 3, box[1] - 1, box[2] + 3, box[3] - 1),
                                        abs=1e-9)


def test_footprints_move_with_their_origin_and_spacing_scales_gaps():
    from netdraw.figure.layout import Footprint, Spacing
    fp = Footprint([(0, 0), (2, 0), (2, 1), (0, 1)], [Label("a", 1, 0, 1, 1)],
                   origin=(0.5, 0.25), extras=[[(3, 0), (4, 0), (4, 1)]])
    moved = fp.moved(1.0, 2.0)
    assert moved.origin == (1.5, 2.25) and moved.cx == 2.0
    assert moved.outline[0] == (1.0, 2.0) and moved.extras[0][0] == (4.0, 2.0)
    assert moved.extent() == (1.0, 1.0, 5.0, 3.0) and fp.extent() == (0, -1, 4, 1)
    s = Spacing(1, 2, 3, 4, 5, 6, 7, 8, 9, 10)
    assert s.times(2) == Spacing(2, 4, 6, 4, 5, 6, 7, 8, 9, 10)


def unet_graph() -> Graph:
    """64 -> 32 -> 16 -> up 32 (concat with 32) -> up 64 (concat with 64): a U-Net."""
    g = Graph("unet")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 3, 64, 64))]))
    e1 = conv(g, "e1", "x", 8, 64)
    p1 = conv(g, "p1", e1, 8, 32, kind="pool", op="MaxPool2d")
    e2 = conv(g, "e2", p1, 16, 32)
    p2 = conv(g, "p2", e2, 16, 16, kind="pool", op="MaxPool2d")
    b = conv(g, "b", p2, 32, 16)
    u2 = conv(g, "u2", b, 16, 32, kind="conv_transpose", op="ConvTranspose2d")
    c2 = conv(g, "c2", [u2, e2], 32, 32, kind="concat", op="Concat")
    d2 = conv(g, "d2", c2, 16, 32)
    u1 = conv(g, "u1", d2, 8, 64, kind="conv_transpose", op="ConvTranspose2d")
    c1 = conv(g, "c1", [u1, e1], 16, 64, kind="concat", op="Concat")
    conv(g, "d1", c1, 8, 64)
    g.inputs.append("x")
    return g


def test_a_u_net_is_laid_out_as_a_u():
    g = unet_graph()
    fig = lay_out(g, make_plan(build_items(g, OPS)), TikzLook())
    assert fig.mode == "u"
    placed = {p.item.node.id: p for p in fig.placed.values()}
    level = {"x": 0, "e1": 0, "p1": 1, "e2": 1, "p2": 2, "b": 2, "u2": 1, "c2": 1, "d2": 1,
             "u1": 0, "c1": 0, "d1": 0}
    # one height per resolution level, lower for deeper levels
    heights = {}
    for v, lv in level.items():
        heights.setdefault(lv, set()).add(round(placed[v].y, 6))
    assert all(len(ys) == 1 for ys in heights.values())
    assert heights[0].pop() > heights[1].pop() > heights[2].pop()
    # left to right along the main path, and no two boxes overlap
    xs = [placed[v].x for v in node_ids(fig, fig.main)]
    assert xs == sorted(xs)
    b = boxes(fig)
    names = list(b)
    for i, u in enumerate(names):
        for v in names[i + 1:]:
            bu, bv = b[u], b[v]
            assert bu[2] <= bv[0] or bv[2] <= bu[0] or bu[3] <= bv[1] or bv[3] <= bu[1], (u, v)
    # the two skips run straight at their level's height, above it
    skips = [r for r in fig.routes if r.skip]
    assert sorted(node_ids(fig, [r.src, r.dst]) for r in skips) == [["e1", "c1"],
                                                                     ["e2", "c2"]]
    for r in skips:
        src = placed[node_ids(fig, [r.src])[0]]
        assert max(y for _, y in r.points) > src.top()
    assert fig.crossings() == []


def test_nested_group_brackets_are_all_placed():
    # stage0 holds blocks b0 (c0, c1) and b1 (c2, c3): two inner brackets and the outer
    g = Graph("nested")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 3, 16, 16))]))
    prev = "x"
    for k in range(4):
        prev = conv(g, f"c{k}", prev, 8, 16, group=("stage0", f"stage0.b{k // 2}"))
    conv(g, "head", prev, 8, 16)
    g.inputs.append("x")
    g.add_group(("stage0",), class_name="Stage")
    for k in range(2):
        g.add_group(("stage0", f"stage0.b{k}"), class_name="Block")
    fig = layout_figure(g, legend=False)
    marks = {m.label.text: m for m in fig.marks}
    assert len(marks) == 3
    outer = next(m for m in fig.marks if len(m.bracket.path) == 1)
    inner = [m for m in fig.marks if len(m.bracket.path) == 2]
    assert all(outer.y > m.y for m in inner)  # the outer bracket a row further out
    assert outer.x_lo <= min(m.x_lo for m in inner) and outer.x_hi >= max(m.x_hi for m in inner)
    assert fig.crossings() == []


def test_an_arrow_from_a_lane_climbs_in_the_gap_before_a_box():
    # a -> b -> c -> d on the main path, a -> p -> d through a lane: p's arrow runs along
    # its lane, up in the gap between c and d, and into d's left side at the row's line
    g = Graph("climb")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 8, 16, 16))]))
    a = conv(g, "a", "x", 8, 16)
    c = conv(g, "c", conv(g, "b", a, 8, 16), 8, 16)
    p = conv(g, "p", a, 8, 16)
    conv(g, "d", [c, p], 8, 16)
    g.inputs.append("x")
    fig = lay_out(g, make_plan(build_items(g, OPS)), TikzLook())
    b = boxes(fig)
    route = next(r for r in fig.routes if node_ids(fig, [r.src, r.dst]) == ["p", "d"])
    end = route.points[-1]
    assert end == (pytest.approx(b["d"][0], abs=1e-6), 0.0)
    climbs = [(p0, p1) for p0, p1 in zip(route.points, route.points[1:], strict=False)
              if p0[0] == pytest.approx(p1[0]) and p0[1] != p1[1]]
    assert len(climbs) == 1 and b["c"][2] < climbs[0][0][0] < b["d"][0]
    assert route.points[0][1] == pytest.approx(fig.placed[route.src].y)
    assert fig.crossings() == []
