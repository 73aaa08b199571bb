"""Thumbnail rules at their boundaries, on hand-made activations: tile sizes, colour
scales, the input picture, heat strips, options and the side panel's pictures.

Oracles: arithmetic by hand (sizes, levels, pixel values), numpy block means and Pillow's
own resizing of the same array, Pillow decoding the PNG bytes. Nothing is compared with
another netdraw result.
"""

from __future__ import annotations

import io

import numpy as np
import pytest
from conftest import require_module

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.viz.activations import Activations
from netdraw.viz.thumbnails import (
    as_thumbnails,
    html_images,
    layer_scale,
    make_thumbnails,
    panel_png,
)

Image = require_module("PIL.Image")


def acts_of(values: dict[str, np.ndarray], kinds: dict[str, str] | None = None,
            axes: dict[str, str] | None = None) -> Activations:
    g = Graph("t")
    for nid, v in values.items():
        kind = (kinds or {}).get(nid, "conv")
        g.add_node(Node(nid, nid, kind, kind.title(), outputs=[TensorSpec(tuple(v.shape))]))
        if kind == "input":
            g.inputs.append(nid)
    return Activations(g, dict(values), dict(axes or {}))


def one_map(h: int, w: int, c: int = 1) -> np.ndarray:
    return np.arange(c * h * w, dtype=np.float32).reshape(1, c, h, w)


@pytest.mark.parametrize(("h", "w", "size"), [
    (1, 2, (32, 16)), (2, 2, (32, 32)), (31, 5, (10, 62)), (32, 8, (8, 32)),
    (56, 56, (56, 56)), (57, 57, (56, 56)), (112, 56, (28, 56)), (300, 3, (1, 56)),
])
def test_tiles_are_32_to_56_pixels_on_their_longer_side(h, w, size):
    thumb = make_thumbnails(acts_of({"c": one_map(h, w)}), count=1).nodes["c"]
    tile = thumb.tiles[0]
    assert tile.rgb.shape == (size[1], size[0], 3) and tile.levels.shape == (size[1], size[0])
    assert tile.label == "#0"


def test_a_small_map_is_repeated_and_a_large_one_box_averaged():
    # 2×2 values 0..3 on the sequential scale 0..3: levels i/3, each repeated 16×16
    tile = make_thumbnails(acts_of({"c": one_map(2, 2)}), count=1).nodes["c"].tiles[0]
    np.testing.assert_allclose(tile.levels[::16, ::16], [[0, 1 / 3], [2 / 3, 1]], atol=1e-6)
    assert (tile.levels[:16, :16] == 0).all() and (tile.levels[16:, 16:] == 1).all()
    # 112×112 -> 56×56: each level the mean of a 2×2 block (numpy), colours as Pillow boxes
    rng = np.random.default_rng(3)
    big = rng.random((1, 1, 112, 112)).astype(np.float32)
    tile = make_thumbnails(acts_of({"c": big}), count=1).nodes["c"].tiles[0]
    high = float(big.max())
    levels = big[0, 0] / high
    blocks = levels.reshape(56, 2, 56, 2).mean(axis=(1, 3))
    np.testing.assert_allclose(tile.levels, blocks, atol=1e-5)
    full = make_thumbnails(acts_of({"c": big[:, :, :56, :56]}), count=1).nodes["c"].tiles[0]
    assert full.rgb.shape == (56, 56, 3)  # no resize at the limit


@pytest.mark.parametrize(("low", "high", "colormap", "scale"), [
    (0.0, 4.0, "auto", (0.0, 4.0, "sequential")), (0.0, 0.0, "auto", (0.0, 1.0, "sequential")),
    (-1.0, 4.0, "auto", (-4.0, 4.0, "diverging")), (-3.0, 2.0, "auto", (-3.0, 3.0, "diverging")),
    (1.0, 4.0, "diverging", (-4.0, 4.0, "diverging")),
    (-5.0, 4.0, "diverging", (-5.0, 5.0, "diverging")),
    (0.0, 0.0, "diverging", (-1.0, 1.0, "diverging")),
    (2.0, 4.0, "heat", (0.0, 4.0, "heat")), (-2.0, 4.0, "gray", (-2.0, 4.0, "gray")),
    (0.0, 0.0, "sequential", (0.0, 1.0, "sequential")),
])
def test_layer_scales(low, high, colormap, scale):
    s = layer_scale(low, high, colormap)
    assert (s.vmin, s.vmax, s.cmap) == scale


def test_colormap_names_reach_the_tiles():
    values = {"c": one_map(4, 4) - 3.0}  # -3 .. 12: signed
    for name, cmap in (("auto", "diverging"), ("viridis", "sequential"), ("jet", "heat"),
                       ("grey", "gray"), ("coolwarm", "diverging")):
        thumbs = make_thumbnails(acts_of(values), count=1, colormap=name)
        assert thumbs.nodes["c"].scale.cmap == cmap and thumbs.colormap == name
    gray = make_thumbnails(acts_of(values), count=1, colormap="gray").nodes["c"]
    # gray from -3 to 12: the first cell (-3) black, the last (12) white
    assert gray.tiles[0].rgb[0, 0].tolist() == [0, 0, 0]
    assert gray.tiles[0].rgb[-1, -1].tolist() == [255, 255, 255]


def test_options_are_checked():
    acts = acts_of({"c": one_map(4, 4)})
    with pytest.raises(NetdrawError, match=r"--thumbnail-order must be one of index, mean, "
                                           r"max, not 'big'"):
        make_thumbnails(acts, order="big")
    with pytest.raises(NetdrawError, match=r"unknown --colormap 'pink'; choose one of auto, "
                                           r"viridis"):
        make_thumbnails(acts, colormap="pink")
    with pytest.raises(NetdrawError, match=r"--thumbnails must be 1 or more, not 0"):
        make_thumbnails(acts, count=0)
    one = make_thumbnails(acts_of({"c": one_map(4, 4, 3)}), count=1, order="index")
    assert one.count == 1 and one.order == "index" and one.nodes["c"].channels == [0]
    assert one.nodes["c"].total == 3 and one.nodes["c"].shape == (3, 4, 4)
    np.testing.assert_allclose(one.nodes["c"].units, [7.5, 23.5, 39.5])  # 16-value means


def test_the_input_picture():
    # grey 0..1 input: kept as it is, repeated into three channels (then 16× larger)
    grey = np.array([[[[0.0, 0.5], [1.0, 0.25]]]], np.float32)
    thumbs = make_thumbnails(acts_of({"x": grey}, {"x": "input"}))
    thumb = thumbs.nodes["x"]
    assert thumb.kind == "image" and thumb.total == 1 and not thumb.cam
    rgb = thumb.tiles[0].rgb
    assert rgb.shape == (32, 32, 3) and thumb.tiles[0].levels is None
    assert rgb[0, 0].tolist() == [0] * 3 and rgb[0, 16].tolist() == [128] * 3
    assert rgb[16, 0].tolist() == [255] * 3 and rgb[16, 16].tolist() == [64] * 3
    np.testing.assert_allclose(thumb.units, [0.4375])
    assert thumbs.cam_note == ""
    # an RGB input outside 0..1 is scaled by its own range: -1 -> 0, 3 -> 255
    colour = np.zeros((1, 3, 2, 2), np.float32)
    colour[0, 0, 0, 0], colour[0, 1, 0, 1], colour[0, 2, 1, 1] = -1.0, 3.0, 1.0
    rgb = make_thumbnails(acts_of({"x": colour}, {"x": "input"})).nodes["x"].tiles[0].rgb
    assert rgb[0, 0].tolist() == [0, 64, 64] and rgb[0, 16].tolist() == [64, 255, 64]
    assert rgb[16, 16].tolist() == [64, 64, 128]
    # only above 1: scaled too (0..2 -> 0..255)
    rgb = make_thumbnails(acts_of({"x": grey * 2}, {"x": "input"})).nodes["x"].tiles[0].rgb
    assert rgb[16, 0].tolist() == [255] * 3 and rgb[0, 16].tolist() == [128] * 3
    # a constant input outside 0..1: no division by zero, all black
    rgb = make_thumbnails(acts_of({"x": np.full((1, 1, 2, 2), 5, np.float32)},
                                  {"x": "input"})).nodes["x"].tiles[0].rgb
    assert not rgb.any()


def test_pixels_and_a_cam_over_the_input():
    from netdraw.viz import pictures
    x = np.zeros((2, 1, 4, 4), np.float32)
    pixels = np.ones((2, 3, 4, 4), np.float32) * np.array([0.2, 0.4, 0.6])[None, :, None, None]
    thumbs = make_thumbnails(acts_of({"x": x}, {"x": "input"}), pixels=pixels, example=1)
    assert thumbs.nodes["x"].tiles[0].rgb[0, 0].tolist() == [51, 102, 153]
    assert thumbs.nodes["x"].total == 3
    # a 2×2 map over a 4×4 picture: resized bilinearly to the picture (Pillow's numbers)
    cam = np.array([[0.0, 1.0], [1.0, 0.0]], np.float32)
    thumbs = make_thumbnails(acts_of({"x": x}, {"x": "input"}), pixels=pixels, cam=cam)
    assert thumbs.nodes["x"].cam and thumbs.cam_note == "class-activation map over the input"
    heat = np.asarray(Image.fromarray(cam, mode="F").resize((4, 4), Image.Resampling.BILINEAR))
    expected = pictures.overlay(pixels[0], np.clip(heat, 0, 1))
    assert thumbs.nodes["x"].tiles[0].rgb.shape == (32, 32, 3)
    np.testing.assert_array_equal(thumbs.nodes["x"].tiles[0].rgb[::8, ::8], expected)
    thumbs = make_thumbnails(acts_of({"x": x}, {"x": "input"}), cam=cam, cam_note="mine")
    assert thumbs.cam_note == "mine"


@pytest.mark.parametrize(("size", "cells", "width"), [
    (1, 1, 128), (10, 10, 130), (64, 64, 128), (65, 64, 128), (200, 64, 128),
])
def test_heat_strips_have_at_most_64_cells(size, cells, width):
    rng = np.random.default_rng(size)
    vector = rng.random((1, size)).astype(np.float32) + 0.5
    thumb = make_thumbnails(acts_of({"f": vector}, {"f": "dense"})).nodes["f"]
    assert thumb.kind == "strip" and thumb.total == size and thumb.shape == (size,)
    levels = thumb.tiles[0].levels
    assert levels.shape == (1, cells)
    assert thumb.tiles[0].rgb.shape == (8, width, 3)
    edges = [round(i * size / cells) for i in range(cells + 1)]
    means = [vector[0, a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=True)]
    np.testing.assert_allclose(levels[0], np.array(means) / vector.max(), atol=1e-6)
    np.testing.assert_allclose(thumb.units, vector[0])


def test_a_one_by_one_map_is_a_strip_of_its_channels():
    maps = np.array([1.0, 2.0, 4.0], np.float32).reshape(1, 3, 1, 1)
    thumb = make_thumbnails(acts_of({"p": maps}, {"p": "pool"})).nodes["p"]
    assert thumb.kind == "strip" and thumb.total == 3
    np.testing.assert_allclose(thumb.tiles[0].levels[0], [0.25, 0.5, 1.0])
    assert thumb.tiles[0].rgb.shape == (8, 129, 3)  # 3 cells of 43 pixels


def test_what_has_no_thumbnail():
    values = {"e": np.zeros((1, 0), np.float32), "s": np.array(["a"]),
              "z": np.zeros((1, 2), np.complex64), "b": np.array([[True, False]]),
              "i": np.array([[1, 3]], np.int64)}
    thumbs = make_thumbnails(acts_of(values, {k: "dense" for k in values}))
    assert sorted(thumbs.nodes) == ["b", "i"]
    np.testing.assert_allclose(thumbs.nodes["i"].tiles[0].levels, [[1 / 3, 1.0]])


def test_what_backends_may_be_given():
    acts = acts_of({"c": one_map(4, 4)})
    assert as_thumbnails(None, acts.graph) is None
    thumbs = make_thumbnails(acts)
    assert as_thumbnails(thumbs, acts.graph) is thumbs
    made = as_thumbnails(acts, acts.graph, count=1, colormap="gray")
    assert made.count == 1 and made.nodes["c"].scale.cmap == "gray"
    with pytest.raises(NetdrawError, match="a mapping of PNG images is for the html format"):
        as_thumbnails({"c": b"png"}, acts.graph)
    with pytest.raises(NetdrawError, match=r"capture\(...\)'s result, not a list$"):
        as_thumbnails([], acts.graph)


def decode(png: bytes):
    return Image.open(io.BytesIO(png))


def test_side_panel_pictures():
    maps = np.random.default_rng(1).random((1, 6, 8, 8)).astype(np.float32)
    values = {"x": np.full((1, 3, 8, 8), 0.5, np.float32), "c": maps,
              "f": np.arange(10, dtype=np.float32)[None]}
    acts = acts_of(values, {"x": "input", "c": "conv", "f": "dense"})
    thumbs = make_thumbnails(acts, count=6)
    # the input: its tile's own PNG
    assert panel_png(thumbs.nodes["x"]) == thumbs.nodes["x"].tiles[0].png
    # a strip 130×8 with a colour bar at least 60 high, 8 pixels apart, centred
    strip = decode(panel_png(thumbs.nodes["f"])).convert("RGB")
    assert strip.height >= 60 and strip.width > 130 + 8
    column = np.asarray(strip)[:, 10]
    rows = [y for y in range(strip.height) if tuple(column[y]) != tuple(column[0])]
    assert len(rows) == 8 and rows[0] == (strip.height - 8) // 2
    assert (np.asarray(strip)[:, 131:138] == np.asarray(strip)[0, 131]).all()
    # six channel maps in rows of four: two rows of tiles
    grid = decode(panel_png(thumbs.nodes["c"]))
    one = decode(panel_png(make_thumbnails(acts, count=4).nodes["c"]))
    assert grid.height > one.height and grid.width == one.width
    html = html_images(acts, thumbnails=6)(acts.graph)
    assert sorted(html) == ["c", "f", "x"]
    assert html["c"] == panel_png(thumbs.nodes["c"])


def test_html_images_options():
    acts = acts_of({"x": np.full((1, 1, 4, 4), 0.5, np.float32), "c": one_map(4, 4, 6)},
                   {"x": "input", "c": "conv"})
    mapping = {"c": b"png"}
    copied = html_images(mapping)
    assert copied == mapping and copied is not mapping
    with pytest.raises(NetdrawError, match="capture\\(...\\)'s result, not a str"):
        html_images("acts")
    with pytest.raises(NetdrawError, match="--thumbnail-order must be one of index, mean, "
                                           "max, not 'top'"):
        html_images(acts, thumbnail_order="top")
    default = decode(html_images(acts)(acts.graph)["c"])
    four = decode(html_images(acts, thumbnails=4, thumbnail_order="mean",
                              colormap="auto")(acts.graph)["c"])
    six = decode(html_images(acts, thumbnails=6)(acts.graph)["c"])
    assert default.size == four.size and six.height > four.height
    assert html_images(acts, thumbnails=4)(acts.graph)["c"] == \
        html_images(acts)(acts.graph)["c"]
    # the order: max puts channel 5 (largest peak) first, index channel 0
    by_index = html_images(acts, thumbnails=1, thumbnail_order="index")(acts.graph)["c"]
    by_max = html_images(acts, thumbnails=1, thumbnail_order="max")(acts.graph)["c"]
    assert by_index != by_max
    gray = html_images(acts, thumbnails=1, thumbnail_order="index",
                       colormap="gray")(acts.graph)["c"]
    assert gray != by_index

    class Result:  # a CAM result: its first heatmap goes over the input
        heatmaps = [np.ones((4, 4), np.float32)]

    plain = html_images(acts)(acts.graph)["x"]
    with_cam = html_images(acts, cam=Result())(acts.graph)["x"]
    assert with_cam != plain
    assert with_cam == html_images(acts, cam=Result.heatmaps[0])(acts.graph)["x"]


def test_defaults_and_the_input_picture_means_per_channel():
    # four channel maps by default (of six), the strongest means first
    maps = np.arange(6, dtype=np.float32)[None, :, None, None] * np.ones((1, 6, 3, 3))
    thumb = make_thumbnails(acts_of({"c": maps.astype(np.float32)})).nodes["c"]
    assert thumb.channels == [5, 4, 3, 2] and [t.label for t in thumb.tiles] == [
        "#5", "#4", "#3", "#2"]
    # an RGB input: one mean per channel (red 0.2, green 0.4, blue 0.6)
    rgb = np.ones((1, 3, 2, 2), np.float32) * np.array([0.2, 0.4, 0.6],
                                                       np.float32)[None, :, None, None]
    thumb = make_thumbnails(acts_of({"x": rgb}, {"x": "input"})).nodes["x"]
    np.testing.assert_allclose(thumb.units, [0.2, 0.4, 0.6], atol=1e-6)


def test_a_panel_is_the_tiles_a_gap_and_the_colour_bar():
    from netdraw.viz import pictures
    thumb = make_thumbnails(acts_of({"f": np.arange(10, dtype=np.float32)[None]},
                                    {"f": "dense"})).nodes["f"]
    panel = np.asarray(decode(panel_png(thumb)).convert("RGB"))
    bar, _ = pictures.colorbar(60, thumb.scale.vmin, thumb.scale.vmax, thumb.scale.cmap, "")
    bar = np.asarray(bar.convert("RGB"))
    # 130 pixels of strip, 8 of background, then the bar, whole, as tall as the panel
    assert panel.shape == (max(60, bar.shape[0]), 130 + 8 + bar.shape[1], 3)
    np.testing.assert_array_equal(panel[(panel.shape[0] - bar.shape[0]) // 2:][
        :bar.shape[0], 138:], bar)
    top = (panel.shape[0] - 8) // 2
    np.testing.assert_array_equal(panel[top:top + 8, :130], thumb.tiles[0].rgb)
