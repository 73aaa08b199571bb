"""The explorer (issue 26) in Chromium, on the zoo's trained shapes network.

Every number the page shows is read back from the page and compared with torch itself:
forward hooks on the network's modules (the maps and vectors), ``torch.softmax`` of its
output (the predictions), a brute-force ranking of the inputs by a channel's maximum (the
dataset examples) and the gradient's support in a linearised copy of the network (the
receptive field an example is cropped to). The static page is checked from ``file://``
with every request recorded; ``netdraw serve`` on a folder of the shapes test images.
"""

from __future__ import annotations

import shutil
import struct
import urllib.error
import urllib.request
import zlib
from pathlib import Path

import numpy as np
import pytest
from conftest import assert_one_line_error, cli_env, require_module, run_cli
from html_helpers import ServerProcess, open_page, wait_until

torch = require_module("torch")
Image = require_module("PIL.Image")

from netdraw.zoo.shapes import make_batch  # noqa: E402
from netdraw.zoo.shapes.torch_model import shapes  # noqa: E402

#: Inputs of the static page, and of the served folder.
PAGE_INPUTS, FOLDER_INPUTS = 5, 12
#: Class names given with --labels (not the model's own, so the page must read the file).
LABELS = ("round", "box", "tri", "plus")
#: The page's boxes and the module whose output each shows (a Conv+BN+ReLU box: its ReLU).
SHOWN = {"block1.conv": "block1.relu", "block1.pool": "block1.pool",
         "block2.conv": "block2.relu", "block2.pool": "block2.pool",
         "block3.conv": "block3.relu", "block3.pool": "block3.pool",
         "block4.conv": "block4.relu", "avgpool": "avgpool", "flatten": "avgpool",
         "fc": "fc"}


# -- the oracle: torch itself ------------------------------------------------------------


def read_png(path: Path) -> torch.Tensor:
    x = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), np.float32) / 255)
    return x.permute(2, 0, 1)[None]


def hooked(path: Path) -> dict[str, np.ndarray]:
    """Every leaf module's output for one image (forward hooks), and ``#logits``."""
    model = shapes()
    seen: dict[str, np.ndarray] = {}

    def keeper(name: str):
        def hook(_m, _a, out) -> None:
            seen.setdefault(name, out.detach().clone().numpy()[0])
        return hook

    handles = [m.register_forward_hook(keeper(n)) for n, m in model.named_modules()
               if n and not list(m.children())]
    with torch.no_grad():
        seen["#logits"] = model(read_png(path)).numpy()[0]
    for handle in handles:
        handle.remove()
    return seen


def field_box(module: str, channel: int, y: int, x: int) -> tuple[int, int, int, int]:
    """The input pixels position (y, x) of ``module``'s output sees, as (x0, y0, x1, y1):
    the support of its gradient in a copy of the network made linear and positive (every
    weight |w| + 0.01, no ReLU, average instead of max pooling), so no path is cut."""
    model = shapes()
    for child in list(model.modules()):
        for attr, sub in list(child.named_children()):
            if isinstance(sub, torch.nn.ReLU):
                setattr(child, attr, torch.nn.Identity())
            elif isinstance(sub, torch.nn.MaxPool2d):
                setattr(child, attr, torch.nn.AvgPool2d(2))
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(p.abs() + 0.01)
    model.eval()
    target = dict(model.named_modules())[module.replace(".relu", ".bn")]
    seen = {}
    target.register_forward_hook(lambda _m, _a, out: seen.setdefault("out", out))
    x_in = torch.rand(1, 3, 64, 64, requires_grad=True)
    model(x_in)
    seen["out"][0, channel, y, x].backward()
    ys, xs = np.nonzero(x_in.grad[0].abs().sum(0).numpy())
    return int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1


def brute_force_top(outputs: list[dict[str, np.ndarray]], module: str, channel: int,
                    k: int = 9) -> list[tuple[int, float]]:
    """(input, the channel's maximum) of every input, largest first, ties by input order."""
    scored = [(i, float(o[module][channel].max())) for i, o in enumerate(outputs)]
    return sorted(scored, key=lambda r: (-r[1], r[0]))[:k]


def softmax(logits: np.ndarray) -> np.ndarray:
    return torch.softmax(torch.from_numpy(logits), 0).numpy()


# -- fixtures ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def folder(tmp_path_factory) -> Path:
    """The shapes network's test images as PNG files, and a labels file beside them."""
    root = tmp_path_factory.mktemp("shapes")
    images, _, _ = make_batch(FOLDER_INPUTS, seed=26)
    pictures = root / "images"
    pictures.mkdir()
    for k, image in enumerate(images):
        Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(
            pictures / f"shape{k:02d}.png")
    (root / "labels.txt").write_text("\n".join(LABELS) + "\n")
    return pictures


@pytest.fixture(scope="module")
def oracle(folder: Path) -> list[dict[str, np.ndarray]]:
    return [hooked(p) for p in sorted(folder.glob("*.png"))]


@pytest.fixture(scope="module")
def static_page(folder: Path, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("page") / "explorer.html"
    paths = sorted(folder.glob("*.png"))[:PAGE_INPUTS]
    args = [a for p in paths for a in ("--input", str(p))]
    run_cli("draw", "zoo:shapes", *args, "--labels", str(folder.parent / "labels.txt"),
            "-o", str(out), check=True)
    return out


# -- reading the page ------------------------------------------------------------------------


def node_index(page, name: str) -> int:
    return page.evaluate(f"window.netdraw.model.nodes.findIndex((n) => n.name === {name!r})")


def choose_input(page, i: int) -> None:
    page.locator(f'.nd-x-input[data-input="{i}"]').click()
    wait_until(page, f"document.body.dataset.input === '{i}'")


def drawn_thumbs(page) -> dict[str, dict]:
    return page.evaluate("""(() => { const out = {};
      for (const [n, t] of window.netdraw.explorer.thumbs) out[n] = {input: t.input,
        kind: t.kind, scale: t.scale, tiles: t.tiles.map((x) => ({channel: x.channel,
        h: x.h, w: x.w, levels: Array.from(x.levels)}))};
      return out; })()""")


def values_of(tile: dict, scale: list) -> np.ndarray:
    levels = np.asarray(tile["levels"], np.float64).reshape(tile["h"], tile["w"])
    return scale[0] + levels / 255 * (scale[1] - scale[0])


def box_average(array: np.ndarray, h: int, w: int) -> np.ndarray:
    """(h, w) means of equal blocks (the page's thumbnails of a larger map)."""
    big_h, big_w = array.shape
    return array.reshape(h, big_h // h, w, big_w // w).mean(axis=(1, 3))


def click_node(page, name: str) -> None:
    i = node_index(page, name)
    key = page.evaluate(f"window.netdraw.view.nodes.find((v) => v.type === 'node' && "
                        f"v.index === {i}).key")
    page.locator(f'#nd-graph g.node[data-key="{key}"]').click()


def open_channel(page, name: str, channel: int) -> None:
    click_node(page, name)
    page.wait_for_selector("#nd-x-grid .nd-x-tile")
    page.locator(f'#nd-x-grid .nd-x-tile[data-channel="{channel}"]').click()
    wait_until(page, f"document.querySelector('#nd-x-channel[data-channel=\"{channel}\"]') "
                     "!== null && document.querySelectorAll('#nd-x-examples .nd-x-example')"
                     ".length > 0")


def examples(page) -> list[dict]:
    return page.evaluate("""[...document.querySelectorAll('#nd-x-examples .nd-x-example')]
      .map((e) => ({input: Number(e.dataset.input), value: Number(e.dataset.value),
                    box: e.querySelector('canvas').dataset.box.split(',').map(Number),
                    name: e.querySelector('.nd-x-cap').textContent}))""")


def check_thumbnails(page, names: dict[int, str], outputs: dict[str, np.ndarray],
                     input_id: int, pages_inputs: list[dict[str, np.ndarray]] | None) -> None:
    """Every box's thumbnail holds the hooked values of the chosen input (box-averaged
    when the page shows a map smaller than the layer's), its channels are the strongest by
    mean, and the drawn <image> elements say so. ``pages_inputs``: all the page's inputs,
    when the scale must span them (the static page)."""
    thumbs = drawn_thumbs(page)
    shown = {name: thumbs[str(i)] for i, name in names.items() if str(i) in thumbs}
    assert set(shown) == set(SHOWN), sorted(shown)
    for name, t in shown.items():
        assert t["input"] == input_id
        truth = outputs[SHOWN[name]].reshape(outputs[SHOWN[name]].shape[0], -1) \
            if t["kind"] == "maps" else outputs[SHOWN[name]].reshape(1, -1)
        scale = t["scale"]
        step = (scale[1] - scale[0]) / 255
        if t["kind"] == "maps":
            means = truth.mean(axis=1)
            picked = [tile["channel"] for tile in t["tiles"]]
            assert len(picked) == 4
            others = [c for c in range(len(means)) if c not in picked]
            assert means[picked].min() >= means[others].max() - 1e-6, (name, picked)
            full = outputs[SHOWN[name]]
            for tile in t["tiles"]:
                expected = box_average(full[tile["channel"]], tile["h"], tile["w"])
                assert np.abs(values_of(tile, scale) - expected).max() <= step / 2 + 1e-5, name
        else:
            (tile,) = t["tiles"]
            got = values_of(tile, scale).ravel()
            assert np.abs(got - truth.ravel()).max() <= step / 2 + 1e-5, name
        if pages_inputs is not None:  # one scale per layer, across every input of the page
            bound = max(np.abs(o[SHOWN[name]]).max() for o in pages_inputs)
            assert max(abs(scale[0]), abs(scale[1])) == pytest.approx(bound, rel=1e-4)
    drawn = page.evaluate("""[...document.querySelectorAll('#nd-graph image.nd-x-thumb')]
      .map((i) => [i.dataset.node, i.dataset.input, i.dataset.channels])""")
    assert {n for n, _, _ in drawn} >= {str(i) for i, name in names.items() if name in SHOWN}
    assert {inp for _, inp, _ in drawn} == {str(input_id)}
    for node, _, channels in drawn:
        if node in thumbs:
            assert channels == ",".join(str(t["channel"]) for t in thumbs[node]["tiles"])


def check_predictions(page, logits: np.ndarray) -> None:
    rows = page.evaluate("""[...document.querySelectorAll('#nd-x-predictions li')]
      .map((li) => [Number(li.dataset.class), Number(li.dataset.p),
                    li.querySelector('.nd-x-cls').textContent])""")
    probs = softmax(logits)
    order = np.argsort(-probs, kind="stable")
    assert [r[0] for r in rows] == order.tolist()
    assert [r[1] for r in rows] == pytest.approx(probs[order].tolist(), abs=1e-6)
    assert [r[2] for r in rows] == [LABELS[k] for k in order]


# -- the static page ------------------------------------------------------------------------


def test_static_page_switches_inputs_to_the_hooked_values(browser, static_page, oracle):
    page, log = open_page(browser, static_page.as_uri())
    wait_until(page, "document.body.dataset.explorer === '1'")
    names = dict(enumerate(page.evaluate("window.netdraw.model.nodes.map((n) => n.name)")))
    # The strip shows the page's inputs as pictures, the first one chosen.
    strip = page.evaluate("""[...document.querySelectorAll('.nd-x-input')].map((e) =>
      [e.dataset.input, e.querySelector('.nd-x-name').textContent])""")
    assert strip == [[str(i), f"shape{i:02d}.png"] for i in range(PAGE_INPUTS)]
    wait_until(page, "document.querySelectorAll('.nd-x-input img').length === "
                     f"{PAGE_INPUTS}")
    inputs = oracle[:PAGE_INPUTS]
    before = None
    for i in (0, 3, 1):
        if i:
            choose_input(page, i)
        check_thumbnails(page, names, inputs[i], i, inputs)
        check_predictions(page, inputs[i]["#logits"])
        now = drawn_thumbs(page)
        if before is not None:
            assert now != before  # switching inputs changed the thumbnails
        before = now
    # The CAM of a chosen class (the second most likely): the map is redrawn for it.
    second = int(np.argsort(-inputs[1]["#logits"], kind="stable")[1])
    page.select_option("#nd-x-cam-class", label=LABELS[second])
    wait_until(page, "document.querySelector('#nd-x-cam') && "
                     f"document.querySelector('#nd-x-cam').dataset.class === '{second}'")
    log.assert_clean()  # from file://: no request at all, no console error


def test_static_page_channel_grid_and_dataset_examples(browser, static_page, oracle):
    page, log = open_page(browser, static_page.as_uri())
    wait_until(page, "document.body.dataset.explorer === '1'")
    inputs = oracle[:PAGE_INPUTS]
    choose_input(page, 2)
    click_node(page, "block2.conv")
    page.wait_for_selector("#nd-x-grid .nd-x-tile")
    tiles = page.evaluate("""[...document.querySelectorAll('#nd-x-grid .nd-x-tile')].map((t) =>
      { const r = t.querySelector('canvas').getBoundingClientRect();
        return [Number(t.dataset.channel), r.width, r.height]; })""")
    maps = inputs[2]["block2.relu"]
    means = maps.reshape(16, -1).mean(axis=1)
    assert [c for c, _, _ in tiles] == np.argsort(-means, kind="stable").tolist()
    assert min(min(w, h) for _, w, h in tiles) >= 64  # tiles sized to be read
    channel = int(np.argsort(-means, kind="stable")[0])
    open_channel(page, "block2.conv", channel)
    stats = dict(page.evaluate("""[...document.querySelectorAll('#nd-x-stats tr')]
      .map((r) => [r.cells[0].textContent, r.cells[1].textContent])"""))
    truth = maps[channel]
    assert float(stats["mean"]) == pytest.approx(truth.mean(), rel=5e-3)
    assert float(stats["min"]) == pytest.approx(truth.min(), abs=1e-6)
    at = np.unravel_index(int(truth.argmax()), truth.shape)
    assert f"at ({at[0]}, {at[1]}) of 32×32" in stats["max"]
    assert float(stats["max"].split()[0]) == pytest.approx(truth.max(), rel=5e-3)
    found = examples(page)
    expected = brute_force_top(inputs, "block2.relu", channel)
    assert [e["input"] for e in found] == [i for i, _ in expected]
    assert [e["value"] for e in found] == pytest.approx([v for _, v in expected], rel=1e-5)
    for e in found:
        grid = inputs[e["input"]]["block2.relu"][channel]
        y, x = np.unravel_index(int(grid.argmax()), grid.shape)
        assert e["box"] == list(field_box("block2.relu", channel, int(y), int(x)))
    log.assert_clean()


# -- netdraw serve ------------------------------------------------------------------------------


def _bomb_png(path: Path, side: int = 30000) -> None:
    """A tiny PNG file that claims side × side pixels (over Pillow's safe limit)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data)))
    ihdr = struct.pack(">IIBBBBB", side, side, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
                     + chunk(b"IDAT", zlib.compress(b"\x00" * 10)) + chunk(b"IEND", b""))


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}),
                                    timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_serve_explores_a_folder_of_shapes_images(browser, folder, oracle, tmp_path):
    served = tmp_path / "inputs"
    shutil.copytree(folder, served)
    labels = folder.parent / "labels.txt"
    server = ServerProcess(["zoo:shapes", "--inputs", str(served), "--labels", str(labels)],
                           tmp_path, cli_env())
    try:
        url = server.url
        assert url.startswith("http://127.0.0.1:")  # loopback unless told otherwise
        # Nothing outside the server's own routes.
        assert _status(url + "etc/passwd") == 404
        assert _status(url + "explore/../../etc/passwd", {"X-Netdraw": "1"}) == 404
        assert _status(url + "explore/nothing", {"X-Netdraw": "1"}) == 404
        assert _status(url + "explore/inputs", {"X-Netdraw": "1"}) == 200
        page, log = open_page(browser, url, allow_origin=url)
        wait_until(page, "document.body.dataset.explorer === '1'")
        wait_until(page, "document.querySelector('.nd-x-progress').dataset.done === '1'", 120)
        names = dict(enumerate(page.evaluate("window.netdraw.model.nodes.map((n) => n.name)")))
        choose_input(page, 7)
        check_thumbnails(page, names, oracle[7], 7, None)
        check_predictions(page, oracle[7]["#logits"])
        # A channel's examples: the whole folder ranked by the channel's maximum.
        maps = oracle[7]["block3.relu"]
        channel = int(np.argsort(-maps.reshape(32, -1).max(axis=1), kind="stable")[0])
        open_channel(page, "block3.conv", channel)
        found = examples(page)
        expected = brute_force_top(oracle, "block3.relu", channel)
        assert [e["input"] for e in found] == [i for i, _ in expected]
        assert [e["name"] for e in found] == [f"shape{i:02d}.png" for i, _ in expected]
        assert [e["value"] for e in found] == pytest.approx([v for _, v in expected], rel=1e-5)
        for e in found[:3]:
            grid = oracle[e["input"]]["block3.relu"][channel]
            y, x = np.unravel_index(int(grid.argmax()), grid.shape)
            assert e["box"] == list(field_box("block3.relu", channel, int(y), int(x)))
        # The pass over the folder is cached beside it.
        assert list((served / ".netdraw").glob("top-inputs-*.npz"))
        # An image over Pillow's safe limit dropped on the page: a message in the page.
        bomb = tmp_path / "huge.png"
        _bomb_png(bomb)
        page.set_input_files("#nd-inputs input[type=file]", str(bomb))
        wait_until(page, "!document.getElementById('nd-banner').hidden")
        banner = page.locator("#nd-banner").inner_text()
        assert "huge.png" in banner and "Pillow's safe limit" in banner, banner
        # A file added to the folder becomes an input; a bomb there is marked, not read.
        shutil.copy(served / "shape00.png", served / "zz-added.png")
        _bomb_png(served / "zz-bomb.png")
        wait_until(page, "document.querySelectorAll('.nd-x-input').length === "
                         f"{FOLDER_INPUTS + 2}", 60)
        bad = page.evaluate("""[...document.querySelectorAll('.nd-x-input.nd-x-bad')]
          .map((e) => e.title)""")
        assert len(bad) == 1 and bad[0].startswith("zz-bomb.png:"), bad
        assert "limit" in bad[0].lower() or "pixels" in bad[0].lower(), bad
        # the browser logs the refused upload's status, and nothing else
        assert [e for e in log.errors if "status of 413" not in e] == [], log.errors
        assert not log.requests, log.requests
    finally:
        assert server.stop() == 0
    assert not any("Traceback" in line for line in server.stderr), server.stderr


# -- bad input ---------------------------------------------------------------------------------


def test_bad_explorer_input_is_one_error_line_and_no_file(folder, tmp_path):
    out = tmp_path / "x.html"
    text = tmp_path / "notes.png"
    text.write_text("not an image")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n")
    image = str(sorted(folder.glob("*.png"))[0])
    cases = [
        (("draw", "zoo:shapes", "--input", str(tmp_path / "missing.png"), "-o", str(out)),
         ["no such file"]),
        (("draw", "zoo:shapes", "--input", str(text), "-o", str(out)), ["as an image"]),
        (("draw", "zoo:shapes", "--input", image, "--labels", str(empty), "-o", str(out)),
         ["--labels", "empty"]),
        (("draw", "zoo:shapes", "--labels", str(folder.parent / "labels.txt"), "-o",
          str(out)), ["--labels", "--input"]),
        (("serve", "zoo:shapes", "--inputs", str(tmp_path / "nowhere"), "--port", "0"),
         ["--inputs", "no such folder"]),
        (("serve", "zoo:shapes", "--inputs", str(folder), "--labels",
          str(tmp_path / "none.txt"), "--port", "0"), ["--labels"]),
    ]
    for args, fragments in cases:
        assert_one_line_error(run_cli(*args), *fragments)
        assert not out.exists(), args


def test_serve_reads_its_cached_index_back(folder, oracle, tmp_path):
    """The pass over the folder is saved beside it; the next start reads it back (no input
    read again) and ranks a channel as the brute force does."""
    from netdraw.api import render
    from netdraw.importers import load
    from netdraw.server.explore import ExploreSession, InputFolder
    from netdraw.viz.api import open_model

    served = tmp_path / "inputs"
    shutil.copytree(folder, served)
    graph = load("zoo:shapes")
    sessions = []
    for _ in range(2):
        opened = open_model("zoo:shapes")
        session = ExploreSession(opened, InputFolder(served, opened.spec))
        render(graph, "html", explorer=session.page_data)
        sessions.append(session)
    first, _ = sessions
    first.index_pass()
    again = ExploreSession(first.opened, InputFolder(served, first.opened.spec))
    render(graph, "html", explorer=again.page_data)
    assert again.top.seen == set(range(FOLDER_INPUTS))  # nothing left to read
    node = next(n for n in again.layers if again.graph.nodes[n].name == "block3.conv")
    for channel in (0, 5):
        got = [(who, value) for who, value, _, _ in again.top.top(node, channel)]
        expected = brute_force_top(oracle, "block3.relu", channel)
        assert [w for w, _ in got] == [i for i, _ in expected]
        assert [v for _, v in got] == pytest.approx([v for _, v in expected], rel=1e-5)
    for session in (*sessions, again):
        session.stop()
