"""Class-activation maps against torchcam, the Adebayo et al. randomisation check, the
pointing game on held-out shapes, layer choice by shape, and ViT token folding."""

from __future__ import annotations

import copy

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch")
from torch import nn  # noqa: E402

from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.viz import cam  # noqa: E402
from netdraw.zoo.shapes import make_batch  # noqa: E402

torchcam = require_module("torchcam.methods")


@pytest.fixture(scope="module")
def model():
    from netdraw.zoo.shapes.torch_model import shapes

    return shapes()


@pytest.fixture(scope="module")
def held_out():
    """Images the training never saw (the training data uses seed 0)."""
    return make_batch(100, seed=2024)


def correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Pearson's r; two maps that are both all zero agree perfectly."""
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return 1.0 if np.ptp(a) == np.ptp(b) and not a.any() and not b.any() else 0.0
    return float(np.corrcoef(a.ravel(), b.ravel())[0, 1])


def rank_correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Spearman's rho (ties broken by order: the maps are continuous)."""
    ra = np.argsort(np.argsort(a.ravel())).astype(float)
    rb = np.argsort(np.argsort(b.ravel())).astype(float)
    return correlation(ra, rb)


def torchcam_maps(extractor_cls, model, x, classes, **kwargs) -> np.ndarray:
    with extractor_cls(model, "block4.relu", input_shape=(3, 64, 64), **kwargs) as extractor:
        scores = model(torch.from_numpy(x))
        maps = extractor(class_idx=classes, scores=scores)[0]
    return maps.detach().numpy()


@pytest.mark.parametrize("method, reference", [
    ("gradcam", "GradCAM"), ("layercam", "LayerCAM"), ("scorecam", "ScoreCAM"),
    ("cam", "CAM"),
])
def test_methods_agree_with_torchcam(model, held_out, method, reference):
    """netdraw's raw maps, untouched, against torchcam's raw output (which torchcam scales
    to 0-1 after its ReLU: a correlation, which no scaling changes, compares them)."""
    x = held_out[0][:6]
    ours = cam(model, x, method=method)
    assert ours.layer == "block4.relu"
    kwargs = {"fc_layer": "fc"} if method == "cam" else {}
    theirs = torchcam_maps(getattr(torchcam, reference), model, x, ours.classes, **kwargs)
    for k in range(len(x)):
        assert correlation(ours.maps[k], theirs[k]) >= 0.999, (method, k)
    if method != "cam":  # the ReLU is part of these methods: netdraw's maps have it
        assert ours.maps.min() >= 0
    if method == "gradcam":  # and Grad-CAM's clips negative evidence here
        assert (ours.maps == 0).any()


def test_gradcampp_follows_the_paper(model, held_out):
    """torchcam's GradCAMpp divides a copy (``alpha[mask].div_``) and so weights by g² ·
    ReLU(g); our oracle is the paper's formula written out here, with the activations and
    gradients taken by a forward hook and torch.autograd."""
    x = torch.from_numpy(held_out[0][:4])
    kept = {}
    handle = model.block4.relu.register_forward_hook(lambda m, a, out: kept.setdefault("a", out))
    try:
        logits = model(x)
    finally:
        handle.remove()
    classes = logits.argmax(1)
    score = logits.gather(1, classes[:, None]).sum()
    (g,) = torch.autograd.grad(score, kept["a"])
    a, g = kept["a"].detach().double(), g.double()
    alpha = g ** 2 / (2 * g ** 2 + a.sum((2, 3), keepdim=True) * g ** 3)
    alpha = torch.where(g != 0, alpha, torch.zeros_like(alpha))
    w = (alpha * g.clamp(min=0)).sum((2, 3))
    expected = torch.relu((w[:, :, None, None] * a).sum(1)).numpy()
    ours = cam(model, x.numpy(), method="gradcam++")
    assert ours.classes == classes.tolist()
    for k in range(4):
        assert correlation(ours.maps[k], expected[k]) >= 0.999


def test_randomising_the_top_layers_changes_the_map(model, held_out):
    """Adebayo et al. 2018: a faithful saliency map depends on the learnt weights."""
    x = held_out[0][:10]
    original = cam(model, x)
    randomised = copy.deepcopy(model)
    torch.manual_seed(1)
    for module in (randomised.fc, randomised.block4.conv, randomised.block4.bn):
        for p in module.parameters():
            nn.init.normal_(p, std=float(p.detach().std()) or 0.1)
    changed = cam(randomised, x, class_index=original.classes)
    rho = [rank_correlation(original.heatmaps[k], changed.heatmaps[k]) for k in range(len(x))]
    assert float(np.mean(rho)) < 0.5, rho


def test_pointing_game_on_held_out_images(model, held_out):
    """The map's peak falls inside the object's box (the true class's map): at least 90 %
    of the images for Grad-CAM++ and LayerCAM; Grad-CAM reaches 87 % with the committed
    weights (held-out accuracy 89 %), checked at 85 %."""
    images, labels, boxes = held_out
    for method, needed in (("gradcam++", 0.9), ("layercam", 0.9), ("gradcam", 0.85)):
        result = cam(model, images, class_index=labels.tolist(), method=method)
        hits = 0
        for heat, (x0, y0, x1, y1) in zip(result.heatmaps, boxes, strict=True):
            y, x = np.unravel_index(np.argmax(heat), heat.shape)
            hits += x0 <= x < x1 and y0 <= y < y1
        assert hits / len(images) >= needed, (method, hits)
    accuracy = float((result.logits.argmax(1) == labels).mean())
    assert accuracy >= 0.85, accuracy


class MobileTail(nn.Module):
    """A MobileNetV3-style end: features, global pooling, then a 1×1 conv as classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.Hardswish(),
                                      nn.Conv2d(8, 16, 3, 2, 1), nn.Hardswish())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.logits = nn.Conv2d(16, 5, 1)

    def forward(self, x):
        return self.logits(self.pool(self.features(x))).flatten(1)


def test_auto_layer_is_chosen_by_shape_not_type():
    torch.manual_seed(0)
    model = MobileTail().eval()
    x = np.random.default_rng(0).random((1, 3, 32, 32), dtype=np.float32)
    result = cam(model, x)
    # The last 8×8 map (the Hardswish closing the Conv+Hardswish box the diagram calls
    # features.2), not the 1×1 logits conv.
    assert result.layer_path == "features.3" and result.layer_name == "features.2"
    assert result.maps.shape == (1, 8, 8) and result.heatmaps.shape == (1, 32, 32)
    with pytest.raises(NetdrawError, match="no spatial output larger than 1×1"):
        cam(model, x, layer="logits")
    with pytest.raises(NetdrawError, match="close names: features"):
        cam(model, x, layer="feature.3")
    with pytest.raises(NetdrawError, match="out of range"):
        cam(model, x, class_index=5)


def test_vit_tokens_are_folded_without_user_code():
    transformers = require_module("transformers")
    config = transformers.ViTConfig(image_size=32, patch_size=8, hidden_size=32,
                                    num_hidden_layers=2, num_attention_heads=2,
                                    intermediate_size=64, num_labels=3)
    torch.manual_seed(0)
    model = transformers.ViTForImageClassification(config).eval()
    x = np.random.default_rng(0).random((2, 3, 32, 32), dtype=np.float32)
    result = cam(model, x)
    assert result.maps.shape == (2, 4, 4)  # 17 tokens = class token + 4×4 patches
    assert result.heatmaps.shape == (2, 32, 32)
    assert np.ptp(result.maps[0]) > 0  # the gradient reaches the patch tokens
    with torch.no_grad():
        expected = model(pixel_values=torch.from_numpy(x)).logits.argmax(1).tolist()
    assert result.classes == expected
    from netdraw.viz import capture

    acts = capture(model, x)
    folded = [n for n in acts if acts.axes[n] == "NTD" and acts.kind(n) == "spatial"]
    assert folded
    tokens = acts[folded[-1]][0]
    np.testing.assert_array_equal(acts.spatial(folded[-1])[:, 1, 2], tokens[1 + 1 * 4 + 2])


def test_onnx_cam_equals_the_formula_on_onnxruntimes_numbers(held_out):
    """The oracle: onnxruntime's own feature map (the model with that tensor added as an
    output, here) and the classifier's weights read from the file with onnx.numpy_helper:
    Σ_k W[c, k] A_k for the top class."""
    require_module("onnxruntime")
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    from netdraw.zoo import build

    x = held_out[0][:3]
    proto = build("onnx-shapes")
    ours = cam(proto, x, method="cam")
    gemm = next(n for n in proto.graph.node if n.op_type in ("Gemm", "MatMul"))
    weights = {t.name: numpy_helper.to_array(t) for t in proto.graph.initializer}
    w = weights[gemm.input[1]]
    attrs = {a.name: a.i for a in gemm.attribute}
    w = w if attrs.get("transB") else w.T  # (classes, channels)
    pool = next(n for n in proto.graph.node if n.op_type in ("GlobalAveragePool",
                                                             "ReduceMean"))
    probe = onnx.ModelProto()
    probe.CopyFrom(proto)
    probe.graph.output.append(onnx.ValueInfoProto(name=pool.input[0]))
    session = ort.InferenceSession(probe.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    logits, features = session.run([proto.graph.output[0].name, pool.input[0]],
                                   {proto.graph.input[0].name: x})
    classes = logits.argmax(1)
    expected = np.einsum("nc,nchw->nhw", w[classes], features)
    assert ours.classes == classes.tolist()
    np.testing.assert_allclose(ours.maps, expected, atol=1e-4)
    with pytest.raises(NetdrawError, match="needs gradients"):
        cam(proto, x, method="gradcam")


def test_keras_gradcam_equals_gradients_taken_by_keras():
    """The oracle: Keras (torch backend) computes the layer's output and the class score in
    one model built here, torch.autograd differentiates, Grad-CAM is written out here in
    channels-last."""
    keras = require_module("keras")
    if keras.backend.backend() != "torch":
        pytest.fail("the Keras tests run with KERAS_BACKEND=torch")
    from netdraw.zoo import build

    model = build("keras-shapes")
    x = np.moveaxis(make_batch(3, seed=77)[0], 1, -1)
    ours = cam(model, x, method="gradcam")
    layer = model.get_layer(ours.layer_path)
    probe = keras.Model(model.inputs, [layer.output, model.outputs[0]])
    a, logits = probe(torch.from_numpy(x), training=False)
    classes = logits.argmax(1)
    score = logits.gather(1, classes[:, None]).sum()
    (g,) = torch.autograd.grad(score, a)
    expected = torch.relu((g.mean((1, 2), keepdim=True) * a).sum(-1)).detach().numpy()
    assert ours.classes == classes.tolist() and ours.layer_path == "block4_relu"
    np.testing.assert_allclose(ours.maps, expected, atol=1e-5)
