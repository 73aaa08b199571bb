"""Issue 25's defects and features, each against an oracle from outside netdraw: a digits
CNN written as a researcher writes it (``nn.Sequential`` blocks) and trained here, ONNX
files written by ``torch.onnx.export`` with its defaults (a fixed batch), captum's raw
attributions, gradients taken by torch.autograd in the test, deletion curves computed
pixel by pixel in the test."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_one_line_error, require_module, run_cli

torch = require_module("torch")
captum_attr = require_module("captum.attr")
Image = require_module("PIL.Image")

from viz_models import TinySegmenter, TwoHeads, train_digits  # noqa: E402

import netdraw  # noqa: E402
from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.viz import Target, cam, capture, evaluate, filters  # noqa: E402


@pytest.fixture(scope="module")
def trained():
    """(model, held-out digits, labels); the accuracy shows it learnt."""
    torch.manual_seed(0)
    model, accuracy, x, y = train_digits()
    assert accuracy >= 0.9, accuracy
    return model, x[:24], y[:24]


def hook_output(model, module, x: np.ndarray) -> np.ndarray:
    """The oracle for a layer's output: a forward hook (a copy, before any in-place op)."""
    kept = {}
    handle = module.register_forward_hook(lambda m, a, o: kept.setdefault("o", o.clone()))
    try:
        with torch.no_grad():
            model(torch.from_numpy(x))
    finally:
        handle.remove()
    return kept["o"].numpy()


def autograd_gradcam(model, module, x: np.ndarray, score_of) -> np.ndarray:
    """Grad-CAM written out here: hook the module's output, differentiate ``score_of(out)``
    summed over the batch with torch.autograd, ReLU(Σ_k mean(g_k) A_k)."""
    kept = {}
    handle = module.register_forward_hook(lambda m, a, o: kept.setdefault("a", o))
    try:
        out = model(torch.from_numpy(x))
    finally:
        handle.remove()
    (g,) = torch.autograd.grad(score_of(out).sum(), kept["a"])
    a = kept["a"].detach()
    return torch.relu((g.mean((2, 3), keepdim=True) * a).sum(1)).numpy()


def export(model, x: np.ndarray, path: Path, legacy: bool = False) -> Path:
    """``torch.onnx.export`` as a user calls it: no dynamic axes, so the batch is fixed."""
    kwargs = {"dynamo": False} if legacy else {}
    torch.onnx.export(model, (torch.from_numpy(x[:1]),), str(path), input_names=["x"],
                      output_names=["logits"], **kwargs)
    return path


def save_pngs(x: np.ndarray, folder: Path) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for k, image in enumerate(x):
        path = folder / f"digit{k}.png"
        Image.fromarray((image[0] * 255).round().astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def read_png(path: Path) -> np.ndarray:
    with Image.open(path) as img:
        return np.asarray(img.convert("RGB"), np.float32) / 255


# -- defect 1: fixed-batch ONNX files ---------------------------------------------------


@pytest.mark.parametrize("legacy", [False, True], ids=["dynamo", "torchscript"])
def test_fixed_batch_onnx_runs_every_method_on_a_batch(trained, tmp_path, legacy):
    require_module("onnxruntime")
    torchcam = require_module("torchcam.methods")
    model, x, _ = trained
    path = export(model, x, tmp_path / "digits.onnx", legacy)
    import onnx

    dim = onnx.load(str(path)).graph.input[0].type.tensor_type.shape.dim[0]
    assert dim.dim_value == 1  # the file fixes the batch: the case that failed
    batch = x[:5]
    acts = capture(str(path), batch)
    logits = acts[acts.graph.outputs[0]]
    with torch.no_grad():
        expected = model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(logits, expected, atol=1e-4)
    ours = cam(str(path), batch, method="scorecam")
    assert ours.layer_path == "block4.2"  # the last ReLU (BatchNorm folded by the exporter)
    with torchcam.ScoreCAM(model, "block4.2", input_shape=(1, 16, 16)) as extractor:
        scores = model(torch.from_numpy(batch))
        theirs = extractor(class_idx=ours.classes, scores=scores)[0].numpy()
    for k in range(len(batch)):
        r = np.corrcoef(ours.maps[k].ravel(), theirs[k].ravel())[0, 1]
        assert r >= 0.999, (k, r)
    assert ours.maps.min() >= 0  # Score-CAM's ReLU, in netdraw's raw output
    gap = cam(str(path), batch, method="cam")
    assert gap.classes == expected.argmax(1).tolist()


def test_fixed_batch_onnx_through_the_commands(trained, tmp_path):
    require_module("onnxruntime")
    model, x, _ = trained
    path = export(model, x, tmp_path / "digits.onnx")
    pngs = save_pngs(x[:3], tmp_path / "in")
    inputs = [a for p in pngs for a in ("--input", str(p))]
    proc = run_cli("cam", str(path), *inputs, "--method", "scorecam", "-o",
                   str(tmp_path / "out.png"), check=True)
    written = [tmp_path / f"out.{k}.png" for k in range(3)]
    assert all(p.is_file() for p in written) and not (tmp_path / "out.png").exists()
    # defect 3: the files reported are the files written
    assert all(str(p) in proc.stderr for p in written), proc.stderr
    assert f"wrote {tmp_path / 'out.png'}" not in proc.stderr
    run_cli("activations", str(path), *inputs, "-o", str(tmp_path / "acts"), check=True)
    document = json.loads((tmp_path / "acts" / "activations.json").read_text())
    assert all(v["shape"][0] == 3 for v in document["nodes"].values())
    run_cli(str(path), "--input", str(pngs[0]), "--cam", "-o", str(tmp_path / "d.svg"),
            check=True)
    svg = (tmp_path / "d.svg").read_text()
    assert "data:image/png;base64," in svg


# -- defect 2: one message for a layer without a grid ------------------------------------


def test_every_method_says_the_same_about_a_layer_without_a_grid(trained, tmp_path):
    model, x, _ = trained
    messages = set()
    for method in ("gradcam", "gradcam++", "layercam", "scorecam"):
        with pytest.raises(NetdrawError) as info:
            cam(model, x[:2], layer="fc", method=method)
        messages.add(str(info.value))
    assert len(messages) == 1, messages
    (message,) = messages
    assert "'fc' has no spatial output larger than 1×1" in message and "(its output is 10)" \
        in message and "earlier layer" in message and "axes" not in message
    png = save_pngs(x[:1], tmp_path)[0]
    proc = run_cli("cam", "zoo:shapes", "--input", str(png), "--layer", "fc", "-o",
                   str(tmp_path / "o.png"), cwd=tmp_path)
    assert_one_line_error(proc, "'fc' has no spatial output larger than 1×1")


# -- defect 4: a name means what the diagram's box shows ----------------------------------


def test_a_box_name_means_the_boxs_output_everywhere(trained, tmp_path):
    model, x, _ = trained
    batch = x[:4]
    view = netdraw.api.view(netdraw.load(model, example_input=torch.from_numpy(batch[:1])))
    box = view.nodes["block3.0"]
    assert [f["name"] for f in box.attrs["folded"]] == ["block3.1", "block3.2"]
    relu = hook_output(model, model.block3[2], batch)  # what the box shows
    acts = capture(model, batch)
    np.testing.assert_allclose(acts.for_graph(view)["block3.0"], relu, atol=1e-6)
    np.testing.assert_allclose(acts.layer("block3.0"), relu, atol=1e-6)
    np.testing.assert_allclose(capture(model, batch, nodes=["block3.0"]).layer("block3.0"),
                               relu, atol=1e-6)
    # the raw convolution stays reachable by its node id
    np.testing.assert_allclose(acts.values["block3.0"],
                               hook_output(model, model.block3[0], batch), atol=1e-5)
    result = cam(model, batch, layer="block3.0")
    expected = autograd_gradcam(model, model.block3[2], batch,
                                lambda out: out[torch.arange(len(batch)),
                                                out.argmax(1)])
    np.testing.assert_allclose(result.maps, expected, atol=1e-5)
    assert result.layer_name == "block3.0" and result.layer_path == "block3.2"
    out = tmp_path / "acts"
    path = save_pngs(batch[:1], tmp_path / "in")[0]
    run_cli("activations", "tests.viz_models:digits_model", "--input-shape", "1,1,16,16",
            "--input", str(path), "--layer", "block3.0", "-o", str(out), check=True,
            cwd=Path(__file__).resolve().parent.parent)
    nodes = json.loads((out / "activations.json").read_text())["nodes"]
    assert [v["name"] for v in nodes.values()] == ["block3.2"]


# -- defect 5: displayed names and module paths in every framework ------------------------


def test_onnx_and_keras_activations_answer_to_displayed_names(trained, tmp_path):
    require_module("onnxruntime")
    model, x, _ = trained
    batch = x[:3]
    path = export(model, x, tmp_path / "legacy.onnx", legacy=True)
    acts = capture(str(path), batch)
    assert "/block1/block1.0/Conv" in acts.values  # the ONNX node name keys the values
    # by name: the exporter folded BatchNorm into the Conv, so its output is the BN's
    np.testing.assert_allclose(acts["block1.0"], hook_output(model, model.block1[1], batch),
                               atol=1e-4)
    assert acts.spatial("block1.0").shape == (16, 16, 16)
    # the box block1.0 (Conv+ReLU here, Conv+BN+ReLU in PyTorch): the same tensor in both
    np.testing.assert_allclose(acts.layer("block1.0"),
                               capture(model, batch).layer("block1.0"), atol=1e-4)
    result = cam(str(path), batch, method="scorecam", layer="block4.0")
    assert result.layer_name == "block4.0"
    with pytest.raises(NetdrawError, match="close names"):
        acts.spatial("block9.0")
    require_module("keras")
    from netdraw.zoo import build

    keras_acts = capture(build("keras-shapes"),
                         np.zeros((1, 64, 64, 3), np.float32))
    np.testing.assert_array_equal(keras_acts["block1.conv"], keras_acts["block1_conv"])


# -- defect 6 ----------------------------------------------------------------------------


def test_keras_arrays_in_the_wrong_layout_get_a_clear_error():
    require_module("keras")
    from netdraw.zoo import build

    with pytest.raises(NetdrawError, match=r"channels-last input \(N, H, W, C\) = "
                                           r"\(N, 64, 64, 3\).*np.moveaxis\(x, 1, -1\)"):
        cam(build("keras-shapes"), np.zeros((2, 3, 64, 64), np.float32))
    with pytest.raises(NetdrawError, match=r"channels-first.*np.moveaxis\(x, -1, 1\)"):
        capture(build("shapes"), np.zeros((2, 64, 64, 3), np.float32))


def test_ascent_images_have_the_models_size_and_the_first_layer_is_not_flat():
    from torch import nn

    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                          nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2)).eval()
    with torch.no_grad():  # edge detectors (zero-sum kernels), as first layers learn: the
        w = model[0].weight  # mean of the raw convolution is the same for every pattern
        w -= w.mean(dim=(1, 2, 3), keepdim=True)
    result = filters(model, ["0"], ascent=True, steps=24, channels=4,
                     input_shape=(1, 3, 32, 32))
    (images,) = result.images.values()
    assert images.shape == (4, 3, 32, 32)  # the model's size, not 128 px
    assert result.names[next(iter(result.images))] == "0"
    # the box (Conv+BN+ReLU) is maximised: a pattern, not one flat colour per image
    spread = images.reshape(4, 3, -1).std(axis=2).max(axis=1)
    assert (spread > 0.05).all(), spread
    unknown = filters(model, ["0"], ascent=True, steps=2, channels=1)
    assert next(iter(unknown.images.values())).shape[-1] == 64
    assert any("input size is unknown" in n for n in unknown.notes)


def test_layer_option_writes_only_that_layer(tmp_path):
    out = tmp_path / "acts"
    from netdraw.zoo.shapes import make_batch

    image = make_batch(1, seed=3)[0][0]
    path = tmp_path / "s.png"
    Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(path)
    run_cli("activations", "zoo:shapes", "--input", str(path), "--layer", "block3", "-o",
            str(out), check=True)
    nodes = json.loads((out / "activations.json").read_text())["nodes"]
    assert list(nodes) == ["block3.pool"]  # the group's output, not the input picture
    assert sorted(p.name for p in out.glob("*.png")) == nodes["block3.pool"]["files"]


def test_onnx_kernels_say_batchnorm_was_folded(trained, tmp_path):
    require_module("onnxruntime")
    model, x, _ = trained
    path = export(model, x, tmp_path / "digits.onnx")
    result = filters(str(path))
    (kernels,) = result.kernels.values()
    conv, bn = model.block1[0], model.block1[1]
    scale = (bn.weight / torch.sqrt(bn.running_var + bn.eps)).detach().numpy()
    np.testing.assert_allclose(kernels, conv.weight.detach().numpy()
                               * scale[:, None, None, None], atol=1e-5)
    assert any("BatchNormalization" in note and "folded" in note for note in result.notes)
    proc = run_cli("filters", str(path), "-o", str(tmp_path / "f"), check=True)
    assert "fold" in proc.stderr


# -- pixel methods against captum -------------------------------------------------------


def test_integrated_gradients_smoothgrad_guided_gradcam_equal_captum(trained):
    model, x, _ = trained
    batch = x[:6]
    xt = torch.from_numpy(batch)
    ig = cam(model, batch, method="integrated-gradients", steps=32)
    ref = captum_attr.IntegratedGradients(model).attribute(
        xt, target=ig.classes, n_steps=32).detach().numpy()
    assert np.abs(ig.attributions - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())
    sg = cam(model, batch, method="smoothgrad", samples=10, noise=0.1, seed=7)
    torch.manual_seed(7)
    ref = captum_attr.NoiseTunnel(captum_attr.Saliency(model)).attribute(
        xt, nt_type="smoothgrad", nt_samples=10, stdevs=0.1, target=sg.classes,
        abs=False).detach().numpy()
    assert np.abs(sg.attributions - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())
    gg = cam(model, batch, method="guided-gradcam", layer="block4.0")
    ref = captum_attr.GuidedGradCam(model, model.block4[2]).attribute(
        xt, target=gg.classes, interpolate_mode="bilinear").detach().numpy()
    assert np.abs(gg.attributions - ref).max() <= 1e-4 * max(1.0, np.abs(ref).max())
    assert np.abs(ref).max() > 0
    np.testing.assert_allclose(gg.maps, np.abs(ref).sum(1), atol=1e-5)
    with pytest.raises(NetdrawError, match="needs gradients"):
        from netdraw.zoo import build

        cam(build("onnx-shapes"), np.zeros((1, 3, 64, 64), np.float32),
            method="integrated-gradients")


def test_smoothing_a_cam_averages_it_over_noisy_inputs(trained):
    model, x, _ = trained
    batch = x[:3]
    smooth = cam(model, batch, smooth=4, noise=0.1, seed=1)
    clean = cam(model, batch)
    generator = torch.Generator().manual_seed(1)
    noise = torch.normal(torch.zeros((12, 1, 16, 16)), torch.full((12, 1, 16, 16), 0.1),
                         generator=generator).numpy()
    noisy = np.repeat(batch, 4, axis=0) + noise
    maps = [autograd_gradcam(model, model.block4[2], noisy[k::4],
                             lambda out: out[torch.arange(3), torch.tensor(clean.classes)])
            for k in range(4)]
    np.testing.assert_allclose(smooth.maps, np.mean(maps, axis=0), atol=1e-5)
    assert smooth.classes == clean.classes


# -- targets ------------------------------------------------------------------------------


def test_a_class_per_input_and_a_logit_difference(trained, tmp_path):
    model, x, _ = trained
    batch = x[:3]
    result = cam(model, batch, class_index=[3, 7, 1])
    expected = autograd_gradcam(model, model.block4[2], batch,
                                lambda out: out[torch.arange(3), torch.tensor([3, 7, 1])])
    np.testing.assert_allclose(result.maps, expected, atol=1e-5)
    assert result.classes == [3, 7, 1]
    diff = cam(model, batch, target=Target(classes=(3, 7, 1), minus=5))
    expected = autograd_gradcam(model, model.block4[2], batch,
                                lambda out: out[torch.arange(3), torch.tensor([3, 7, 1])]
                                - out[:, 5])
    np.testing.assert_allclose(diff.maps, expected, atol=1e-5)
    with torch.no_grad():
        logits = model(torch.from_numpy(batch)).numpy()
    np.testing.assert_allclose(diff.scores, logits[[0, 1, 2], [3, 7, 1]] - logits[:, 5],
                               atol=1e-5)
    assert diff.score_kind == "logit difference"
    with pytest.raises(NetdrawError, match="2 classes for 3 inputs"):
        cam(model, batch, class_index=[3, 7])
    paths = save_pngs(batch, tmp_path / "in")
    proc = run_cli("cam", "tests.viz_models:digits_model", "--input-shape", "1,1,16,16",
                   *[a for p in paths for a in ("--input", str(p))], "--class", "3,7,1",
                   "-o", str(tmp_path / "o.png"), check=True,
                   cwd=Path(__file__).resolve().parent.parent)
    assert all(f"class: {c}" in proc.stdout for c in (3, 7, 1))


def test_a_named_output_and_a_region_of_a_segmentation(tmp_path):
    torch.manual_seed(0)
    model = TwoHeads().eval()
    x = np.random.default_rng(0).random((2, 3, 12, 12), dtype=np.float32)
    aux = cam(model, x, target=Target(output="aux"))
    expected = autograd_gradcam(model, model.features[3], x,
                                lambda out: out["aux"][torch.arange(2),
                                                       out["aux"].argmax(1)])
    np.testing.assert_allclose(aux.maps, expected, atol=1e-6)
    assert aux.logits.shape == (2, 3)
    with pytest.raises(NetdrawError, match="no tensor of that name; it has logits, aux"):
        cam(model, x, target=Target(output="main"))
    seg = TinySegmenter().eval()
    mask = np.zeros((16, 16), np.float32)
    mask[4:10, 2:8] = 1
    y = np.random.default_rng(1).random((2, 3, 16, 16), dtype=np.float32)
    result = cam(seg, y, target=Target(classes=2, region=mask), layer="mid.1")
    expected = autograd_gradcam(seg, seg.mid[1], y,
                                lambda out: (out[:, 2] * torch.from_numpy(mask)).sum((1, 2)))
    np.testing.assert_allclose(result.maps, expected, atol=1e-6)
    with torch.no_grad():
        out = seg(torch.from_numpy(y)).numpy()
    np.testing.assert_allclose(result.scores, (out[:, 2] * mask).sum((1, 2)), rtol=1e-5)
    with pytest.raises(NetdrawError, match="segmentation output"):
        cam(TwoHeads().eval(), x, target=Target(region=mask))


# -- faithfulness ---------------------------------------------------------------------------


def brute_force_curve(model, image: np.ndarray, heat: np.ndarray, cls: int, mode: str,
                      baseline: np.ndarray, steps: int) -> list[float]:
    """The curve as the paper describes it, one pixel and one forward at a time."""
    h, w = heat.shape
    ranked = sorted((-heat[i, j], i * w + j) for i in range(h) for j in range(w))
    order = [p for _, p in ranked]
    curve = []
    for k in range(steps + 1):
        count = round(k * h * w / steps)
        current = (image.copy() if mode == "deletion" else baseline.copy())
        source = baseline if mode == "deletion" else image
        for p in order[:count]:
            current[:, p // w, p % w] = source[:, p // w, p % w]
        with torch.no_grad():
            probs = torch.softmax(model(torch.from_numpy(current[None])), 1)[0]
        curve.append(float(probs[cls]))
    return curve


def brute_force_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    """A Gaussian blur written as a plain 2-D convolution with reflected edges."""
    radius = int(np.ceil(3 * sigma))
    t = np.arange(-radius, radius + 1)
    kernel = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * sigma ** 2))
    kernel /= kernel.sum()
    out = np.zeros_like(image, dtype=np.float64)
    padded = np.pad(image, ((0, 0), (radius, radius), (radius, radius)), mode="reflect")
    for dy in range(2 * radius + 1):
        for dx in range(2 * radius + 1):
            out += kernel[dy, dx] * padded[:, dy:dy + image.shape[1], dx:dx + image.shape[2]]
    return out.astype(np.float32)


@pytest.mark.parametrize("baseline", ["zero", "blur", "mean"])
def test_deletion_and_insertion_aucs_equal_a_brute_force_computation(trained, baseline):
    model, x, _ = trained
    batch = x[:2]
    steps = 8
    result = evaluate(model, batch, "gradcam", ["deletion", "insertion"], baseline=baseline,
                      steps=steps, blur_sigma=2.0)
    heat = cam(model, batch).heatmaps
    for k in range(len(batch)):
        image = batch[k]
        base = {"zero": np.zeros_like(image), "mean": np.full_like(image, image.mean()),
                "blur": brute_force_blur(image, 2.0)}[baseline]
        for mode in ("deletion", "insertion"):
            curve = brute_force_curve(model, image, heat[k], result.classes[k], mode, base,
                                      steps)
            np.testing.assert_allclose(getattr(result, mode)[k], curve, atol=1e-5)
            area = np.trapezoid(curve, dx=1 / steps)
            assert getattr(result, f"{mode}_auc")[k] == pytest.approx(area, abs=1e-6)
    summary = result.summary()
    assert summary["deletion_auc"] < summary["insertion_auc"]  # the map points at evidence


def test_curves_of_a_logit_difference_per_input(trained):
    model, x, _ = trained
    batch = x[:2]
    result = evaluate(model, batch, "gradcam", ["deletion"], steps=2,
                      target=Target(classes=(1, 2), minus=(3, 4)))
    with torch.no_grad():
        logits = model(torch.from_numpy(batch)).numpy()
    assert result.classes == [1, 2]
    assert result.deletion[0][0] == pytest.approx(logits[0, 1] - logits[0, 3], abs=1e-5)
    assert result.deletion[1][0] == pytest.approx(logits[1, 2] - logits[1, 4], abs=1e-5)


def test_pointing_game_and_randomisation_check(trained):
    model, x, _ = trained
    batch = x[:8]
    heat = cam(model, batch).heatmaps
    peaks = [np.unravel_index(int(np.argmax(h)), h.shape) for h in heat]
    boxes = [[px - 1, py - 1, px + 2, py + 2] if k % 2 == 0 else [0, 0, 1, 1]
             for k, (py, px) in enumerate(peaks)]
    result = evaluate(model, batch, "gradcam", ["pointing", "randomisation"], boxes=boxes)
    expected = [k % 2 == 0 or (peaks[k][0] < 1 and peaks[k][1] < 1) for k in range(8)]
    assert result.pointing == expected
    assert np.mean(result.randomisation) < 0.5, result.randomisation
    with pytest.raises(NetdrawError, match="needs a box per input"):
        evaluate(model, batch, "gradcam", ["pointing"])


def test_evaluate_over_a_folder_in_batches(trained, tmp_path):
    model, x, _ = trained
    folder = tmp_path / "digits"
    save_pngs(x[:5], folder)
    boxes = [[0, 0, 16, 16]] * 5
    (tmp_path / "boxes.json").write_text(json.dumps(boxes))
    report = tmp_path / "report.json"
    proc = run_cli("cam", "tests.viz_models:digits_model", "--input-shape", "1,1,16,16", "--input",
                   str(folder), "--evaluate", "deletion,insertion,pointing", "--boxes",
                   str(tmp_path / "boxes.json"), "--batch-size", "2", "--curve-steps", "4",
                   "-o", str(report), check=True, cwd=Path(__file__).resolve().parent.parent)
    document = json.loads(report.read_text())
    assert len(document["images"]) == 5 and document["mean"]["pointing"] == 1.0
    assert [Path(i["file"]).name for i in document["images"]] == \
        [f"digit{k}.png" for k in range(5)]
    assert f"deletion_auc: {document['mean']['deletion_auc']:.4f}" in proc.stdout
    # the same numbers as one batch through the API (the untrained factory model)
    from viz_models import digits_model

    pixels = np.stack([read_png(folder / f"digit{k}.png")[None, :, :, 0] for k in range(5)])
    whole = evaluate(digits_model(), pixels, "gradcam", ["deletion"], steps=4)
    assert [round(v, 4) for v in whole.deletion_auc] == \
        [round(i["deletion_auc"], 4) for i in document["images"]]


def test_a_folder_streams_through_in_batches_one_picture_each(trained, tmp_path):
    model, x, _ = trained
    folder = tmp_path / "digits"
    save_pngs(x[:5], folder)
    out = tmp_path / "cam.png"
    proc = run_cli("cam", "tests.viz_models:digits_model", "--input-shape", "1,1,16,16",
                   "--input", str(folder), "--batch-size", "2", "--class", "1,2,3,4,5",
                   "-o", str(out), check=True, cwd=Path(__file__).resolve().parent.parent)
    written = [tmp_path / f"cam.{k}.png" for k in range(5)]
    assert all(p.is_file() for p in written)
    assert f"wrote 5 files {written[0]} … {written[-1]}" in proc.stderr
    assert [line.split(",")[0] for line in proc.stdout.splitlines()
            if line.startswith("class:")] == [f"class: {c}" for c in (1, 2, 3, 4, 5)]
    assert "[input 4]" in proc.stdout


# -- figures ------------------------------------------------------------------------------


def test_overlay_keeps_the_input_and_follows_colormap_and_opacity():
    from netdraw.viz import pictures

    image = np.random.default_rng(0).random((3, 8, 8)).astype(np.float32)
    heat = np.zeros((8, 8), np.float32)
    heat[2, 3] = 1.0
    heat[5, 5] = 0.5
    rgb = pictures.overlay(image, heat, alpha=0.6, cmap="viridis")
    as_bytes = (np.moveaxis(image, 0, -1) * 255).round()
    cold = heat == 0
    np.testing.assert_array_equal(rgb[cold], as_bytes[cold])  # background: the input
    top = np.array([0xfd, 0xe7, 0x25]) / 255  # viridis' last anchor colour
    expected = 0.4 * np.moveaxis(image, 0, -1)[2, 3] + 0.6 * top
    np.testing.assert_allclose(rgb[2, 3] / 255, expected, atol=1 / 255)
    assert not np.array_equal(rgb[5, 5], as_bytes[5, 5])
    np.testing.assert_array_equal(pictures.overlay(image, heat, alpha=0.0), as_bytes)
    with pytest.raises(NetdrawError, match="unknown --colormap 'rainbow'"):
        pictures.overlay(image, heat, cmap="rainbow")


def test_shared_scale_and_the_inputs_by_methods_panel(trained, tmp_path):
    model, x, _ = trained
    batch = x[:3]
    result = cam(model, batch)
    maps = torch.from_numpy(result.maps.astype(np.float64))[:, None]

    def up(m):  # torch's bilinear resize, half-pixel centres
        return torch.nn.functional.interpolate(m, size=(16, 16), mode="bilinear",
                                               align_corners=False)[:, 0].numpy()

    low = maps.amin((2, 3), keepdim=True)
    own = up((maps - low) / (maps.amax((2, 3), keepdim=True) - low))
    shared = up((maps - maps.min()) / (maps.max() - maps.min()))
    np.testing.assert_allclose(result.heatmaps, own, atol=1e-6)
    np.testing.assert_allclose(result.scaled("shared"), shared, atol=1e-6)
    assert len({round(float(m.max()), 3) for m in result.scaled("shared")}) > 1
    paths = save_pngs(batch, tmp_path / "in")
    out = tmp_path / "panel.png"
    proc = run_cli("cam", "tests.viz_models:digits_model", "--input-shape", "1,1,16,16",
                   *[a for p in paths for a in ("--input", str(p))], "--method",
                   "gradcam,integrated-gradients", "--scale", "shared", "--colormap", "gray",
                   "--alpha", "0.8", "-o", str(out), check=True,
                   cwd=Path(__file__).resolve().parent.parent)
    assert f"wrote {out}" in proc.stderr and not (tmp_path / "panel.0.png").exists()
    with Image.open(out) as img:
        width, height = img.size
    assert width > 3 * 128 and height > 3 * 128  # 3 rows × (input + 2 methods)


def test_the_parameter_count_says_why_it_differs_by_framework():
    """The same trained network: PyTorch's sum(p.numel()) and Keras's count_params()
    differ by BatchNorm's running statistics, and the summary says so."""
    require_module("keras")
    from netdraw.zoo import build

    torch_model, keras_model = build("shapes"), build("keras-shapes")
    statistics = sum(b.numel() for name, b in torch_model.named_buffers()
                     if name.endswith(("running_mean", "running_var")))
    counts = {}
    for name, own in (("shapes", sum(p.numel() for p in torch_model.parameters())),
                      ("keras-shapes", keras_model.count_params())):
        proc = run_cli("summary", f"zoo:{name}", check=True)
        total = next(line for line in proc.stdout.splitlines() if line.startswith("Total"))
        counts[name] = int(total.split()[1].replace(",", ""))
        assert counts[name] == own
        assert "note: " in proc.stdout and "running mean and variance" in proc.stdout
    assert counts["keras-shapes"] - counts["shapes"] == statistics
