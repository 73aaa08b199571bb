"""Class-activation map arithmetic at its boundaries: scaling, layouts, the weight
formulas, noise averaging and the errors of `run_cam`.

Oracles: torch's own `interpolate` and `softmax`, numpy's `percentile`, the papers'
formulas written out here as loops, and hand counts.
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_module

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node
from netdraw.viz.class_maps import (
    CamResult,
    channels_first,
    combine,
    input_size,
    normalise,
    normalise_shared,
    run_cam,
    smoothed,
    softmax,
    weights_gradcam,
    weights_gradcampp,
)

torch = require_module("torch")


def result(maps: np.ndarray, size=None, clip=None) -> CamResult:
    g = Graph("g")
    g.add_node(Node("conv", "features.3", "conv", "Conv2d"))
    return CamResult(maps, "conv", "features.3", "gradcam", [0] * len(maps), [1.0],
                     np.zeros((len(maps), 2)), g, size=size, clip_percentile=clip)


def test_heatmaps_per_image_and_shared():
    maps = np.array([[[0.0, 1.0], [2.0, 4.0]], [[1.0, 1.0], [1.0, 3.0]]])
    r = result(maps)
    np.testing.assert_allclose(r.heatmaps, [[[0, 0.25], [0.5, 1]], [[0, 0], [0, 1]]])
    assert r.heatmaps.dtype == np.float32
    np.testing.assert_allclose(r.scaled("shared"), maps / 4)
    with pytest.raises(NetdrawError, match=r"unknown scale 'batch'; use one of image, shared"):
        r.scaled("batch")
    assert r.layer_path == "features.3"
    r.layer = "gone"
    assert r.layer_path == ""
    # a constant batch is all zeros either way
    flat = np.full((2, 2, 2), 3.0)
    assert not normalise(flat).any() and not normalise_shared(flat).any()


def test_heatmaps_are_upsampled_as_torch_does():
    maps = np.random.default_rng(2).random((2, 3, 4))
    r = result(maps, size=(9, 7))
    theirs = torch.nn.functional.interpolate(torch.from_numpy(normalise(maps))[:, None],
                                             size=(9, 7), mode="bilinear",
                                             align_corners=False)[:, 0].numpy()
    np.testing.assert_allclose(r.heatmaps, theirs, atol=1e-6)
    # the same size: nothing to resample
    same = result(maps, size=(3, 4))
    np.testing.assert_allclose(same.heatmaps, normalise(maps), atol=1e-7)


def test_pixel_maps_are_divided_by_their_percentile():
    rng = np.random.default_rng(5)
    maps = rng.standard_normal((2, 6, 6))
    r = result(maps, clip=90.0)
    for k in range(2):
        top = np.percentile(maps[k], 90)
        np.testing.assert_allclose(r.heatmaps[k], np.clip(maps[k] / top, 0, 1), atol=1e-6)
    top = np.percentile(maps, 90)
    np.testing.assert_allclose(r.scaled("shared"), np.clip(maps / top, 0, 1), atol=1e-6)
    # a percentile at or below zero divides by one
    negative = -np.abs(maps)
    np.testing.assert_allclose(result(negative, clip=50.0).heatmaps, 0)


def test_layouts_become_channels_first():
    x = np.arange(2 * 4 * 3 * 5, dtype=float).reshape(2, 4, 3, 5)
    assert channels_first(x, "NCHW") is x
    np.testing.assert_array_equal(channels_first(x, "NHWC"), x.transpose(0, 3, 1, 2))
    tokens = np.arange(2 * 5 * 3, dtype=float).reshape(2, 5, 3)  # 1 class token + 2×2
    folded = channels_first(tokens, "NTD")
    assert folded.shape == (2, 3, 2, 2)
    np.testing.assert_array_equal(folded[1, 2], tokens[1, 1:, 2].reshape(2, 2))
    with pytest.raises(NetdrawError, match=r"an output with axes NF has no spatial grid "
                                           r"larger than 1×1; choose an earlier layer"):
        channels_first(np.zeros((2, 3)), "NF")


def test_weights_follow_the_papers():
    rng = np.random.default_rng(1)
    a = rng.random((2, 3, 4, 4))
    g = rng.standard_normal((2, 3, 4, 4))
    g[0, 1] = 0.0  # a channel without gradient: alpha 0
    np.testing.assert_allclose(weights_gradcam(a, g), g.mean(axis=(2, 3)))
    expected = np.zeros((2, 3))
    for n in range(2):
        for k in range(3):
            total = a[n, k].sum()
            for i in range(4):
                for j in range(4):
                    gij = g[n, k, i, j]
                    denom = 2 * gij ** 2 + total * gij ** 3
                    alpha = gij ** 2 / denom if gij != 0 else 0.0
                    expected[n, k] += alpha * max(gij, 0.0)
    np.testing.assert_allclose(weights_gradcampp(a, g), expected, rtol=1e-10)
    w = rng.standard_normal((2, 3))
    loops = np.array([sum(w[n, k] * a[n, k] for k in range(3)) for n in range(2)])
    np.testing.assert_allclose(combine(w, a, relu=False), loops)
    np.testing.assert_allclose(combine(w, a), np.maximum(loops, 0))


def test_softmax_and_input_sizes():
    logits = np.array([[1.0, 2.0, 3.0], [1000.0, 1000.0, 0.0]])
    np.testing.assert_allclose(softmax(logits), torch.softmax(torch.from_numpy(logits), 1))
    assert input_size(np.zeros((1, 3, 8, 6)), "channels_first") == (8, 6)
    assert input_size(np.zeros((1, 8, 6, 3)), "channels_last") == (8, 6)
    assert input_size(np.zeros((1, 8)), "channels_first") is None


class FakeRuntime:
    layout = "channels_first"
    framework = "onnx"
    gradients_supported = False

    def __init__(self) -> None:
        self.stdevs: list[float] = []

    def normal(self, shape, stdev, seed):
        self.stdevs.append(stdev)
        return np.full(shape, float(seed), np.float32)


def test_run_cam_refuses_what_it_cannot_do():
    x = [np.zeros((1, 3, 4, 4), np.float32)]
    with pytest.raises(NetdrawError, match=r"unknown method 'grad'; use one of gradcam, "
                                           r"gradcam\+\+, layercam, scorecam, cam, "
                                           r"integrated-gradients"):
        run_cam(FakeRuntime(), x, method="grad")
    for method in ("gradcam", "gradcam++", "layercam", "smoothgrad"):
        with pytest.raises(NetdrawError, match=f"{method.replace('+', '[+]')} needs "
                                               "gradients, which onnx models do not give "
                                               "here; use --method cam or --method scorecam"):
            run_cam(FakeRuntime(), x, method=method)
    with pytest.raises(NetdrawError, match=r"steps, baseline: options of the pixel methods "
                                           r"\(integrated-gradients, smoothgrad, "
                                           r"guided-gradcam\), not of scorecam"):
        run_cam(FakeRuntime(), x, method="scorecam", steps=3, baseline=0)


def test_smoothing_averages_the_maps_of_noisy_copies():
    rt = FakeRuntime()
    x = np.zeros((2, 1, 2, 2), np.float32)
    x[1, 0, 0, 0] = 2.0  # range 2: default noise 0.3
    seen = []

    def maps_of(inputs):
        seen.append(inputs[0].copy())
        return inputs[0][:, 0] * 10 + len(seen)

    out = smoothed(rt, [x, "extra"], 3, None, 1, maps_of)
    assert rt.stdevs == [pytest.approx(0.3)]
    assert len(seen) == 3 and all(s.shape == x.shape for s in seen)
    # every copy is the input plus the (fake) noise 1.0; maps 10·(x+1) + 1, 2, 3: mean +2
    np.testing.assert_allclose(out, (x[:, 0] + 1) * 10 + 2)
    rt = FakeRuntime()
    smoothed(rt, [np.ones((1, 1, 2, 2), np.float32)], 1, None, 0, lambda xs: xs[0][:, 0])
    assert rt.stdevs == [pytest.approx(0.15)]  # a constant input: 15 % of 1
    smoothed(rt, [np.ones((1, 1, 2, 2), np.float32)], 2, 0.5, 0, lambda xs: xs[0][:, 0])
    assert rt.stdevs[-1] == 0.5
    with pytest.raises(NetdrawError, match=r"--smooth must be 1 or more, not 0"):
        smoothed(rt, [x], 0, None, 0, maps_of)


class Tiny(torch.nn.Module):
    """conv 1->4, ReLU, conv 4->6, ReLU, global average pooling, linear 6->3."""

    def __init__(self) -> None:
        super().__init__()
        torch.manual_seed(0)
        self.features = torch.nn.Sequential(torch.nn.Conv2d(1, 4, 3, padding=1),
                                            torch.nn.ReLU(),
                                            torch.nn.Conv2d(4, 6, 3, padding=1),
                                            torch.nn.ReLU())
        self.pool = torch.nn.AdaptiveAvgPool2d(1)
        self.fc = torch.nn.Linear(6, 3)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.features(x)), 1))


def autograd_gradcam(model, module, x, classes):
    """Grad-CAM written out with torch.autograd: ReLU(Σ_k mean(∂y_c/∂A_k) A_k)."""
    kept = {}
    handle = module.register_forward_hook(lambda m, a, o: kept.setdefault("a", o))
    out = model(torch.from_numpy(x))
    handle.remove()
    (g,) = torch.autograd.grad(out[torch.arange(len(x)), torch.tensor(classes)].sum(),
                               kept["a"])
    return torch.relu((g.mean((2, 3), keepdim=True) * kept["a"].detach()).sum(1)).numpy()


def test_a_view_given_with_the_default_layer_maps_the_last_grid():
    import netdraw
    from netdraw.api import view
    from netdraw.viz import cam

    model = Tiny().eval()
    x = np.random.default_rng(0).random((2, 1, 8, 8)).astype(np.float32)
    shown = view(netdraw.load(model, example_input=(torch.from_numpy(x[:1]),)))
    result = cam(model, x, graph=shown)
    expected = autograd_gradcam(model, model.features[3], x, result.classes)
    np.testing.assert_allclose(result.maps, expected, atol=1e-5)
    assert result.size == (8, 8) and result.method == "gradcam"


def test_cam_needs_a_classifier_weight_of_the_layers_width(monkeypatch):
    from netdraw.viz.api import open_model
    from netdraw.viz.class_maps import run_cam

    model = Tiny().eval()
    x = np.random.default_rng(1).random((1, 1, 8, 8)).astype(np.float32)
    runtime = open_model(model).runtime
    # CAM by hand: Σ_k W_ck A_k of the last ReLU's maps, for the top class
    feats = model.features(torch.from_numpy(x)).detach().numpy()
    logits = model(torch.from_numpy(x)).detach().numpy()
    top = int(logits.argmax())
    weight = model.fc.weight.detach().numpy()
    expected = np.einsum("c,chw->hw", weight[top], feats[0])
    np.testing.assert_allclose(run_cam(runtime, [x], method="cam").maps[0], expected,
                               atol=1e-5)
    for bad in (None, np.zeros(6, np.float32), np.zeros((3, 5), np.float32)):
        monkeypatch.setattr(runtime, "weight", lambda g, nid, bad=bad: bad)
        with pytest.raises(NetdrawError, match=r"cannot read the weights of fc matching 6 "
                                               r"channels"):
            run_cam(runtime, [x], method="cam")


def test_the_default_method_is_gradcam():
    with pytest.raises(NetdrawError, match=r"^gradcam needs gradients"):
        run_cam(FakeRuntime(), [np.zeros((1, 3, 4, 4), np.float32)])
