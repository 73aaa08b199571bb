"""The activations, filters and cam commands: files checked by their consumers (Pillow,
json, Chromium), numbers against the framework, and every bad input as one error line."""

from __future__ import annotations

import json
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import CHROMIUM_ARGS, assert_one_line_error, cli_env, require_module, run_cli

torch = require_module("torch")
Image = require_module("PIL.Image")

from netdraw.zoo.shapes import CLASSES, make_batch  # noqa: E402


@pytest.fixture(scope="module")
def shape_images(tmp_path_factory) -> tuple[list[Path], np.ndarray, np.ndarray]:
    folder = tmp_path_factory.mktemp("inputs")
    images, labels, boxes = make_batch(2, seed=99)
    paths = []
    for k, image in enumerate(images):
        path = folder / f"shape{k}.png"
        Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(path)
        paths.append(path)
    return paths, labels, boxes


def oracle_outputs(name: str, path: Path) -> dict[str, np.ndarray]:
    """Leaf-module outputs of the zoo's shapes network for one PNG, by forward hooks."""
    from netdraw.zoo.shapes.torch_model import shapes

    model = shapes()
    x = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), np.float32) / 255)
    x = x.permute(2, 0, 1)[None]
    seen: dict[str, np.ndarray] = {}

    def keeper(name: str):
        def hook(_m, _a, out) -> None:
            seen.setdefault(name, out.detach().clone().numpy())
        return hook

    handles = [m.register_forward_hook(keeper(n)) for n, m in model.named_modules()
               if n and not list(m.children())]
    with torch.no_grad():
        model(x)
    for h in handles:
        h.remove()
    return seen


def test_activations_writes_pictures_json_and_an_offline_index(shape_images, tmp_path):
    paths, _, _ = shape_images
    out = tmp_path / "acts"
    proc = run_cli("activations", "zoo:shapes", "--input", str(paths[0]), "-o", str(out),
                   "--channels", "8", "--order", "max", check=True)
    assert "pixels scaled to 0-1" in proc.stderr
    document = json.loads((out / "activations.json").read_text())
    nodes = document["nodes"]
    oracle = oracle_outputs("shapes", paths[0])
    for name in ("block1.conv", "block2.pool", "block4.bn", "fc"):
        entry = nodes[name]
        assert entry["shape"] == list(oracle[name].shape)
        assert entry["min"] == pytest.approx(float(oracle[name].min()), abs=1e-5)
        assert entry["max"] == pytest.approx(float(oracle[name].max()), abs=1e-5)
        assert entry["zeros"] == pytest.approx(float((oracle[name] == 0).mean()), abs=1e-6)
    assert nodes["block2.relu"]["zeros"] > 0.05  # post-ReLU maps have zeros
    for entry in nodes.values():
        for file in entry["files"]:
            with Image.open(out / file) as img:
                assert img.format == "PNG" and img.width > 100 and img.height > 60
    assert len(nodes["block1.conv"]["files"]) == 1
    with Image.open(out / nodes["fc"]["files"][0]) as img:  # a vector: a strip
        assert img.height < img.width
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto((out / "index.html").as_uri())
        loaded = page.evaluate("Array.from(document.images).map(i => i.complete && "
                               "i.naturalWidth > 0)")
        sections = page.evaluate("document.querySelectorAll('section').length")
        browser.close()
    assert not errors
    assert loaded and all(loaded)
    assert sections == len(nodes)


def test_activations_of_a_batch_and_of_chosen_layers(shape_images, tmp_path):
    paths, _, _ = shape_images
    out = tmp_path / "batch"
    run_cli("activations", "zoo:onnx-shapes", "--input", str(paths[0]), "--input",
            str(paths[1]), "-o", str(out), "--layer", "block3.relu", check=True)
    nodes = json.loads((out / "activations.json").read_text())["nodes"]
    relu = next(v for v in nodes.values() if v["name"] == "block3.relu")
    assert relu["shape"] == [2, 32, 16, 16] and len(relu["files"]) == 2
    assert relu["files"][0].endswith(".0.png") and relu["files"][1].endswith(".1.png")


def test_cam_command_prints_layer_and_class_and_draws(shape_images, tmp_path):
    paths, _, _ = shape_images
    out = tmp_path / "cam.png"
    raw = tmp_path / "cam.npy"
    proc = run_cli("cam", "zoo:shapes", "--input", str(paths[0]), "-o", str(out),
                   "--save-npy", str(raw), check=True)
    assert "gradcam: layer block4.conv (auto" in proc.stdout  # the box's name …
    assert "the output of block4.relu; grid 8×8" in proc.stdout  # … and what it shows
    assert f"wrote {out}, {raw}" in proc.stderr
    top = int(np.argmax(oracle_outputs("shapes", paths[0])["fc"]))
    assert f"class: {top} ({CLASSES[top]})" in proc.stdout
    with Image.open(out) as img:
        assert img.format == "PNG" and img.width > 300
    maps = np.load(raw, allow_pickle=False)
    assert maps.shape == (1, 8, 8)
    proc = run_cli("cam", "zoo:keras-shapes", "--input", str(paths[0]), "-o", str(out),
                   "--method", "layercam", "--class", "2", check=True)
    assert "class: 2 (triangle)" in proc.stdout and "layer block4_conv" in proc.stdout
    assert "the output of block4_relu" in proc.stdout
    proc = run_cli("cam", "zoo:onnx-shapes", "--input", str(paths[0]), "-o", str(out),
                   "--method", "scorecam", check=True)
    assert "the output of block4.relu" in proc.stdout


def test_filters_command(tmp_path):
    out = tmp_path / "filters"
    run_cli("filters", "zoo:onnx-shapes", "-o", str(out), check=True)
    with Image.open(out / "filters.png") as img:
        assert img.width > 300
    out2 = tmp_path / "ascent"
    run_cli("filters", "zoo:shapes", "-o", str(out2), "--ascent", "--steps", "4",
            "--channels", "2", "--layer", "block3.conv", check=True)
    assert sorted(p.name for p in out2.iterdir()) == ["ascent-block3.conv.png",
                                                      "filters.png"]


def test_gradient_ascent_gives_the_same_bytes_whatever_the_threads(tmp_path):
    """Issue 27: the gallery's ascent picture changed on every run."""
    pictures = []
    for threads in ("1", "2"):
        out = tmp_path / f"t{threads}"
        run_cli("filters", "zoo:shapes", "-o", str(out), "--ascent", "--steps", "12",
                "--channels", "3", "--layer", "block3.conv", check=True,
                env={**cli_env(), "OMP_NUM_THREADS": threads, "MKL_NUM_THREADS": threads})
        pictures.append((out / "ascent-block3.conv.png").read_bytes())
    assert pictures[0] == pictures[1]


def test_raw_kernels_are_the_weights_in_every_framework():
    require_module("keras")
    from netdraw.viz import filters
    from netdraw.zoo import build

    expected = build("shapes").block1.conv.weight.detach().numpy()
    for name in ("shapes", "onnx-shapes", "keras-shapes"):
        kernels = filters(build(name)).kernels
        assert len(kernels) == 1
        np.testing.assert_allclose(next(iter(kernels.values())), expected, atol=1e-7)


def test_gradient_ascent_raises_the_channels_activation():
    from netdraw.viz import filters
    from netdraw.zoo.shapes.torch_model import shapes

    model = shapes()
    result = filters(model, ["block2.conv"], ascent=True, steps=64, channels=4, size=64)
    # the box block2.conv (Conv+BN+ReLU) shows, and ascent maximises, the ReLU's output
    assert list(result.images) == ["block2.relu"] and result.names == {
        "block2.relu": "block2.conv"}
    images = result.images["block2.relu"]
    assert images.shape == (4, 3, 64, 64) and 0 <= images.min() and images.max() <= 1
    seen = {}
    handle = model.block2.relu.register_forward_hook(
        lambda m, a, o: seen.update(out=o.clone()))
    with torch.no_grad():
        model(torch.from_numpy(images))
        ours = seen["out"].mean((2, 3)).diagonal().numpy()
        model(torch.full((4, 3, 64, 64), 0.5))
        grey = seen["out"].mean((2, 3))[:, :4].diagonal().numpy()
    handle.remove()
    assert (ours > grey).all(), (ours, grey)


def test_training_script_runs_on_a_tiny_budget(tmp_path):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))
    try:
        import train_shapes
    finally:
        sys.path.pop(0)
    model, accuracy = train_shapes.train(steps=3, batch=4, train_size=16, log=False)
    assert 0 <= accuracy <= 1
    train_shapes.save(model, tmp_path / "w.npz")
    from netdraw.zoo.shapes import load_weights

    weights = load_weights(tmp_path / "w.npz")
    np.testing.assert_array_equal(weights["fc.weight"], model.fc.weight.detach().numpy())


def _bomb_png(path: Path, side: int = 30000) -> None:
    """A tiny PNG file that claims side × side pixels."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b""))


def test_bad_inputs_are_one_line_errors_without_output(shape_images, tmp_path):
    paths, _, _ = shape_images
    image = str(paths[0])
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    bomb = tmp_path / "bomb.png"
    _bomb_png(bomb)
    wrong = tmp_path / "wrong.npy"
    np.save(wrong, np.zeros((3, 32, 32), np.float32))
    failing = tmp_path / "failing_model.py"
    failing.write_text("import torch\nfrom torch import nn\n"
                       "class M(nn.Module):\n"
                       "    def __init__(self):\n"
                       "        super().__init__()\n"
                       "        self.conv = nn.Conv2d(3, 4, 3)\n"
                       "        self.head = nn.Linear(7, 2)\n"
                       "    def forward(self, x):\n"
                       "        return self.head(self.conv(x).flatten(1))\n")
    out = tmp_path / "out"
    cases = [
        (("activations", "zoo:shapes", "--input", str(tmp_path / "missing.png"), "-o",
          str(out)), ["no such file"]),
        (("activations", "zoo:shapes", "--input", str(text), "-o", str(out)),
         ["cannot read", "as an image"]),
        (("activations", "zoo:shapes", "--input", str(bomb), "-o", str(out)),
         ["too large", "pixel limit"]),
        (("activations", "zoo:shapes", "--input", str(wrong), "-o", str(out)),
         ["does not fit", "1×3×64×64"]),
        (("cam", "zoo:shapes", "--input", image, "--class", "7", "-o", str(out) + ".png"),
         ["out of range", "4 classes"]),
        (("cam", "zoo:shapes", "--input", image, "--layer", "block9.relu",
          "-o", str(out) + ".png"), ["names no layer", "close names: block"]),
        (("cam", "zoo:mlp", "--input", image, "-o", str(out) + ".png"),
         ["no layer with a spatial output"]),
        (("cam", "zoo:onnx-shapes", "--input", image, "-o", str(out) + ".png"),
         ["needs gradients", "--method cam"]),
        (("filters", "zoo:onnx-shapes", "--ascent", "-o", str(out)),
         ["raw kernels only"]),
        (("activations", "failing_model:M", "--input-shape", "1,3,8,8", "--input", image,
          "-o", str(out)), ["failed in module 'head' (Linear)"]),
    ]
    for args, fragments in cases:
        proc = run_cli(*args, cwd=tmp_path)
        assert_one_line_error(proc, *fragments)
        assert not out.exists() and not Path(str(out) + ".png").exists(), args
        assert not [p for p in tmp_path.iterdir() if p.name.startswith(".out")], args


def test_help_of_the_new_commands_imports_no_framework():
    from test_cli_and_dot import _loaded

    for command in ("activations", "filters", "cam"):
        assert _loaded(command, "--help") == set()
