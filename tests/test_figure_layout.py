"""The one figure layout both figure backends draw from (netdraw/figure/).

Geometry is checked with the layout's own polygons only where the property is about the
layout itself (faces inside glyphs, reserved areas kept clear); what the reader sees is
checked in test_tikz.py (pdflatex, pdftotext) and test_nnsvg.py (Chromium).
"""

from __future__ import annotations

from functools import cache

import pytest

from netdraw import zoo
from netdraw.api import view
from netdraw.backends.nnsvg.alexnet import AlexNetStyle
from netdraw.backends.nnsvg.base import layout_style
from netdraw.backends.nnsvg.fcnn import FcnnStyle
from netdraw.backends.nnsvg.lenet import LeNetStyle
from netdraw.backends.tikz_boxes import TikzLook, layout_figure
from netdraw.figure import geometry as geo
from netdraw.figure.items import OPS, TENSORS, build_items
from netdraw.figure.layout import Footprint, lay_out
from netdraw.figure.plan import make_plan
from netdraw.ir import Graph


@cache
def resnet18() -> Graph:
    return view(zoo.load("resnet18"), depth=3)


def figures(graph: Graph) -> dict[str, object]:
    out = {"tikz": layout_figure(graph)}
    for cls in (FcnnStyle, LeNetStyle, AlexNetStyle):
        out[cls.name] = layout_style(cls, graph)[1]
    return out


def test_both_backends_draw_the_same_structure() -> None:
    """One plan: the same main path, skips and lanes whichever look sizes the items."""
    graph = resnet18()
    figs = figures(graph)
    names = {k: [f.placed[v].item.node.id for v in f.main] for k, f in figs.items()}
    # The NN-SVG styles leave norms/activations out, TikZ folds them in a view: the same
    # layers either way, in the same order.
    assert len({tuple(v) for v in names.values()}) == 1
    arcs = {k: sorted((f.placed[r.src].item.node.id, f.placed[r.dst].item.node.id)
                      for r in f.routes if r.arc) for k, f in figs.items()}
    assert len({tuple(v) for v in arcs.values()}) == 1 and len(arcs["tikz"]) == 3
    lanes = {k: sorted(p.item.node.id for p in f.placed.values() if p.lane) for k, f in
             figs.items()}
    assert len({tuple(v) for v in lanes.values()}) == 1 and len(lanes["tikz"]) == 3


@pytest.mark.parametrize("style", ["tikz", "lenet", "alexnet"])
def test_every_box_has_a_face_inside_it_and_clear_of_labels(style: str) -> None:
    """Where an image of a layer's output can go: on the glyph, never under a label."""
    fig = figures(resnet18())[style]
    labels = [geo.shrink(lb.polygon(), 0.01) for lb in fig.labels()]
    faces = 0
    for p in fig.placed.values():
        face = p.fp.face
        if p.item.is_merge or p.item.dims.is_vector:
            continue
        assert face is not None, p.item.name
        faces += 1
        x0, y0, x1, y1 = geo.bbox(p.fp.outline)
        fx0, fy0, fx1, fy1 = geo.bbox(face)
        assert x0 - 1e-6 <= fx0 < fx1 <= x1 + 1e-6 and y0 - 1e-6 <= fy0 < fy1 <= y1 + 1e-6
        assert not any(geo.polygons_overlap(geo.shrink(face, 0.01), lb) for lb in labels)
    assert faces >= 10


class ThumbnailLook(TikzLook):
    """TikZ boxes with a 1.2 cm square reserved under each caption (as a thumbnail
    strip would be)."""

    def footprint(self, item, caption):  # type: ignore[no-untyped-def]
        fp = super().footprint(item, caption)
        if fp.ball:
            return fp
        x0, y0, x1, y1 = fp.extent()
        cx = (x0 + x1) / 2
        fp.extras.append(geo.rect(cx - 0.6, y0 - 1.3, cx + 0.6, y0 - 0.1))
        return fp


def test_reserved_areas_are_kept_clear() -> None:
    graph = resnet18()
    plain = lay_out(graph, make_plan(build_items(graph, OPS)), TikzLook())
    fig = lay_out(graph, make_plan(build_items(graph, OPS)), ThumbnailLook())
    assert fig.crossings() == []  # no arrow or other label crosses a reserved square
    extras = [(p.id, q) for p in fig.placed.values() for q in p.fp.extras]
    assert len(extras) > 20
    for pid, area in extras:
        for other in fig.placed.values():
            if other.id != pid:
                assert not geo.polygons_overlap(geo.shrink(area, 0.01), other.fp.outline)
    # The room comes from the layout: lanes move apart by the squares' height.
    lane_gap = [min(p.y for p in f.placed.values()) for f in (plain, fig)]
    assert lane_gap[1] < lane_gap[0] - 1.0


def test_tensor_policy_leaves_out_what_does_not_change_shape() -> None:
    graph = view(zoo.load("resnet18"), full=True)
    ops = {i.kind for i in build_items(graph, OPS).items.values()}
    tensors = {i.kind for i in build_items(graph, TENSORS).items.values()}
    assert {"norm", "activation"} <= ops
    assert not {"norm", "activation", "softmax"} & tensors
    assert {"conv", "add", "pool", "dense"} <= tensors


def test_item_face_matches_the_map_face_of_a_tikz_box() -> None:
    fp: Footprint = TikzLook().footprint(
        next(i for i in build_items(resnet18()).items.values() if i.category == "conv"), None)
    box = fp.data
    fx0, fy0, fx1, fy1 = geo.bbox(fp.face)
    assert fx0 == pytest.approx(box.x0 + box.t) and fx1 == pytest.approx(box.x0 + box.t + box.dx)
    assert fy1 - fy0 == pytest.approx(box.h + box.dy)


@pytest.mark.parametrize("name, caption", [
    ("model.transformer.h.1–model.transformer.h.5", "h.1–h.5"),      # GPT-2's rolled blocks
    ("model.encoder.layer.1–model.encoder.layer.3", "layer.1–layer.3"),  # BERT's
    ("layer1.1–layer1.2", "layer1.1–layer1.2"),  # nothing shared but the part with letters
    ("features.8–features.10", "features.8–features.10"),  # a bare index says nothing
    ("encoder", "encoder"),  # a collapsed block, not a run
])
def test_rolled_run_captions_drop_the_shared_module_path(name, caption):
    from netdraw.figure.items import roll_name

    assert roll_name(name) == caption


def test_nested_arcs_take_the_lowest_free_height():
    """Arcs stacked over one another: the height an arc gets is the lowest step above its
    base more than 0.9 steps from every arc it passes, as stepping up one at a time finds."""
    import random

    import numpy as np

    from netdraw.figure.layout import _free_height

    def step_by_step(base: float, step: float, taken: list[float]) -> float:
        height = base
        while any(abs(h - height) < 0.9 * step for h in taken):
            height += step
        return height

    rng = random.Random(0)
    for _ in range(500):
        step = rng.choice([12.0, 7.5, 3.0])
        base = rng.uniform(-20, 40)
        taken = [rng.choice([base + k * step for k in range(8)] + [rng.uniform(-30, 120)])
                 for _ in range(rng.randint(0, 12))]
        assert _free_height(base, step, np.array(taken)) == pytest.approx(
            step_by_step(base, step, taken))
    # boundaries: exactly 0.9 steps away is free, a hair closer is not (and 10 is then
    # 1.001 from it)
    assert _free_height(0.0, 10.0, np.array([9.0])) == 0.0
    assert _free_height(0.0, 10.0, np.array([-9.0])) == 0.0  # the same from below
    assert _free_height(0.0, 10.0, np.array([8.999])) == 20.0
    assert _free_height(0.0, 10.0, np.array([-8.999, 0.0, 10.0, 20.0])) == 30.0
