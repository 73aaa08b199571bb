"""Fast in-process tests of viz's numpy parts at their boundaries, each against a value
computed here by other means: token folding, thumbnails of tokens (B, L, C), axes, the
upsampling against torch, layer names through the default fold, a graph traced once."""

from __future__ import annotations

import math

import numpy as np
import pytest
from conftest import require_module

from netdraw.ir import Graph, Node, TensorSpec
from netdraw.viz.activations import Activations, fold_tokens, guess_axes


def test_token_folding_boundaries():
    assert fold_tokens(197) == (1, 14, 14)  # ViT-B/16: class token + 14×14
    assert fold_tokens(5) == (1, 2, 2)
    assert fold_tokens(3) is None  # no 2×2 grid left
    assert fold_tokens(108) == (8, 10, 10)  # 8 leading tokens: the most dropped
    assert fold_tokens(109) is None  # 9 would be needed
    for count in range(4, 300):
        found = fold_tokens(count)
        if found is not None:
            extra, h, w = found
            assert h == w and h * w + extra == count and extra <= 8
            assert all(math.isqrt(count - e) ** 2 != count - e for e in range(extra))


def test_axes_of_each_rank_and_layout():
    assert guess_axes((2, 8, 4, 4), 2, "channels_first") == "NCHW"
    assert guess_axes((2, 4, 4, 8), 2, "channels_last") == "NHWC"
    assert guess_axes((2, 8, 30), 2, "channels_first", "conv", "Conv1d") == "NCL"
    assert guess_axes((2, 30, 8), 2, "channels_last", "pool", "MaxPooling1D") == "NLC"
    assert guess_axes((2, 17, 32), 2, "channels_first", "norm", "LayerNorm") == "NTD"
    assert guess_axes((2, 10), 2, "channels_first") == "NF"
    assert guess_axes((3, 10), 2, "channels_first") == "??"  # not the batch: unknown


def token_acts(count: int, width: int) -> Activations:
    g = Graph("t")
    g.add_node(Node("x", "x", "input", "input", outputs=[TensorSpec((1, count, width))]))
    g.add_node(Node("ln", "ln", "norm", "LayerNorm", outputs=[TensorSpec((1, count, width))]))
    g.inputs.append("x")
    rng = np.random.default_rng(count)
    return Activations(g, {"ln": rng.standard_normal((1, count, width)).astype(np.float32)})


def test_a_token_strip_shows_the_mean_over_tokens():
    from netdraw.viz import pictures
    from netdraw.viz.thumbnails import make_thumbnails

    acts = token_acts(3, 96)  # 3 tokens fold into no grid: (B, L, C) drawn as a strip
    assert acts.kind("ln") == "tokens"
    thumb = make_thumbnails(acts, count=4).nodes["ln"]
    assert thumb.kind == "strip" and thumb.total == 96
    tokens = acts.values["ln"][0].astype(np.float64)
    mean = tokens.mean(axis=0)
    np.testing.assert_allclose(thumb.units, mean, atol=1e-6)
    edges = [round(i * 96 / 64) for i in range(65)]  # 96 values into 64 cells
    cells = np.array([mean[a:b].mean() for a, b in zip(edges[:-1], edges[1:], strict=True)])
    bound = float(np.abs(tokens).max())  # signed: diverging, symmetric around 0
    low, high = float(tokens.min()), float(tokens.max())
    assert thumb.scale.cmap == "diverging" and thumb.scale.vmax == pytest.approx(
        max(abs(low), abs(high)))
    levels = np.clip((cells + bound) / (2 * bound), 0, 1)
    np.testing.assert_allclose(thumb.tiles[0].levels[0], levels, atol=1e-6)
    table = pictures.colormap("diverging")
    colours = [table[int(round(v * 255))] for v in levels]
    assert thumb.strip_colours() == ["#{:02x}{:02x}{:02x}".format(*c) for c in colours]
    folded = make_thumbnails(token_acts(17, 8), count=2).nodes["ln"]
    assert folded.kind == "maps" and folded.tiles[0].size[0] >= 32  # 1 + 4×4 tokens


def test_upsample_equals_torch_and_a_constant_map_normalises_to_zero():
    torch = require_module("torch")
    from netdraw.viz.class_maps import normalise, upsample

    maps = np.random.default_rng(0).random((2, 3, 5))
    ours = upsample(maps, (7, 11))
    theirs = torch.nn.functional.interpolate(torch.from_numpy(maps)[:, None], size=(7, 11),
                                             mode="bilinear", align_corners=False)[:, 0]
    np.testing.assert_allclose(ours, theirs.numpy(), atol=1e-12)
    flat = np.full((1, 3, 3), 2.5)
    assert not normalise(flat).any()
    assert normalise(maps).min() == 0 and normalise(maps).max() == 1


def chain_graph() -> Graph:
    """x -> block.0 (conv) -> block.1 (norm) -> block.2 (relu) -> head (dense) -> out."""
    g = Graph("m")
    spec = TensorSpec((1, 4, 6, 6))
    g.add_node(Node("x", "x", "input", "input", outputs=[TensorSpec((1, 3, 6, 6))]))
    for nid, kind, op in (("block.0", "conv", "Conv2d"), ("block.1", "norm", "BatchNorm2d"),
                          ("block.2", "activation", "ReLU")):
        g.add_node(Node(nid, nid, kind, op, outputs=[spec], group=("block",)))
    g.add_node(Node("head", "head", "dense", "Linear", outputs=[TensorSpec((1, 2))]))
    g.add_node(Node("out", "out", "output", "output"))
    ids = list(g.nodes)
    for a, b in zip(ids, ids[1:], strict=False):
        g.add_edge(a, b)
    g.inputs.append("x")
    g.outputs.append("out")
    return g


def test_a_name_means_the_box_and_an_id_the_node():
    from netdraw.viz.layers import choose_layer, display_name, find_layer

    g = chain_graph()
    values = {nid: np.full((1, 4, 6, 6), k, np.float32)
              for k, nid in enumerate(["block.0", "block.1", "block.2"])}
    acts = Activations(g, values)
    assert find_layer(g, "block.0") == "block.2"  # the Conv+BN+ReLU box
    assert find_layer(g, "block.0", fold=False) == "block.0"
    assert find_layer(g, "block_1") == "block.1"  # Keras-style spelling
    assert display_name(g, "block.2") == "block.0" and display_name(g, "block.1") == "block.1"
    assert float(acts["block.0"][0, 0, 0, 0]) == 0  # an id: that node
    assert float(acts.layer("block.0")[0, 0, 0, 0]) == 2  # a name as the diagram shows it
    assert choose_layer(g, 1, "channels_first") == "block.2"


def test_a_model_is_traced_once_per_input_shape(monkeypatch):
    torch = require_module("torch")
    from netdraw.importers import torch_trace
    from netdraw.viz import cam
    from netdraw.zoo.shapes.torch_model import shapes

    calls = []
    real = torch_trace.trace
    monkeypatch.setattr(torch_trace, "trace",
                        lambda *a, **k: calls.append(a[1][0].shape) or real(*a, **k))
    model = shapes()
    x = np.random.default_rng(0).random((2, 3, 64, 64), dtype=np.float32)
    grads = []
    real_grad = torch.autograd.grad
    monkeypatch.setattr(torch.autograd, "grad",
                        lambda out, inputs, **k: grads.append(inputs) or real_grad(
                            out, inputs, **k))
    for _ in range(3):
        cam(model, x)
    cam(model, x[:1])  # another batch size: the same graph
    assert len(calls) == 1
    assert all(isinstance(g, torch.Tensor) for g in grads) and len(grads) == 4  # one layer
    cam(model, np.zeros((1, 3, 32, 32), np.float32))
    assert len(calls) == 2
