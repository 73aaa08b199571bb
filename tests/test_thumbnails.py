"""Activation thumbnails inside the diagrams (draw --input, render(..., activations=acts)).

Oracles from outside the code under test: the shapes network's structure counted by hand
(four blocks of 8, 16, 32, 32 channels, max-pooling after the first three: eight outputs
with a grid, the input's included), PyTorch's own forward pass through hooks (the colours
of a tile, the fcnn neurons), the input PNG's pixels, an XML parser and Chromium for SVG,
pdflatex -no-shell-escape and pdfimages for TikZ, and Pillow for every embedded PNG.
"""

from __future__ import annotations

import base64
import io
import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
from conftest import CHROMIUM_ARGS, assert_one_line_error, require_module, run_cli

torch = require_module("torch")
Image = require_module("PIL.Image")

import netdraw  # noqa: E402
from netdraw.api import render, view  # noqa: E402
from netdraw.zoo.shapes import make_batch  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"
XLINK = "{http://www.w3.org/1999/xlink}href"
#: The default view of zoo:shapes and what each node shows, counted from the network:
#: the input picture, four channel maps for each layer with a grid (2-D outputs of 8..32
#: channels), one heat strip for the 1×1 pooled map, the flattened vector, the logits and
#: the output (the logits again).
EXPECTED = {"x": 1, "block1.conv": 4, "block1.pool": 4, "block2.conv": 4, "block2.pool": 4,
            "block3.conv": 4, "block3.pool": 4, "block4.conv": 4, "avgpool": 1,
            "flatten": 1, "fc": 1, "output": 1}
CHANNELS = {"block1": 8, "block2": 16, "block3": 32, "block4": 32}


@pytest.fixture(scope="module")
def shape_png(tmp_path_factory) -> Path:
    """One of the images zoo:shapes was trained on (the README's shape.png)."""
    path = tmp_path_factory.mktemp("input") / "shape.png"
    image = make_batch(1, seed=7)[0][0]
    Image.fromarray((image.transpose(1, 2, 0) * 255).clip(0, 255).astype(np.uint8)).save(path)
    return path


@pytest.fixture(scope="module")
def captured(shape_png):
    """(the default view, its activations) for the shapes network and shape.png."""
    from netdraw.viz import capture

    graph = view(netdraw.load("zoo:shapes"))
    return graph, capture("zoo:shapes", [str(shape_png)])


def hooked(path: Path) -> dict[str, np.ndarray]:
    """Leaf-module outputs of the shapes network for one PNG (PyTorch forward hooks)."""
    from netdraw.zoo.shapes.torch_model import shapes

    model = shapes()
    x = torch.from_numpy(np.asarray(Image.open(path).convert("RGB"), np.float32) / 255)
    seen: dict[str, np.ndarray] = {}

    def keeper(name: str):
        def hook(_m, _a, out) -> None:  # returns None: the output is left as it is
            seen.setdefault(name, out.detach().numpy().copy())
        return hook

    handles = [m.register_forward_hook(keeper(n)) for n, m in model.named_modules()
               if n and not list(m.children())]
    with torch.no_grad():
        model(x.permute(2, 0, 1)[None])
    for h in handles:
        h.remove()
    return seen


def node_images(svg: str) -> dict[str, list[ET.Element]]:
    """Graphviz SVG: node name (from its tooltip) -> its <image> elements."""
    root = ET.fromstring(svg)
    out: dict[str, list[ET.Element]] = {}
    for g in root.iter(f"{SVG}g"):
        if g.get("class") != "node":
            continue
        link = g.find(f".//{SVG}a")
        title = link.get("{http://www.w3.org/1999/xlink}title") if link is not None else ""
        name = (title or "").split(" (")[0]
        if name:
            out[name] = list(g.iter(f"{SVG}image"))
    return out


def png_of(image: ET.Element) -> np.ndarray:
    href = image.get(XLINK)
    assert href.startswith("data:image/png;base64,"), href[:40]
    return np.asarray(Image.open(io.BytesIO(base64.b64decode(href.split(",", 1)[1]))))


# -- Graphviz ------------------------------------------------------------------------------


def test_graphviz_svg_has_the_images_each_node_should(captured, shape_png) -> None:
    graph, acts = captured
    svg = render(graph, "svg", activations=acts)
    images = node_images(svg)
    assert {k: len(v) for k, v in images.items()} == EXPECTED
    for element in (e for v in images.values() for e in v):
        assert png_of(element).ndim == 3  # every one decodes as an RGB picture
    # The input node shows the input picture itself, pixel for pixel.
    original = np.asarray(Image.open(shape_png).convert("RGB"))
    assert np.array_equal(png_of(images["x"][0]), original)
    assert "Activations" in svg and "one colour scale per layer" in svg  # the legend


@pytest.mark.parametrize("count", [6, 10])
def test_thumbnail_count_stops_at_the_channels_a_layer_has(captured, count) -> None:
    graph, acts = captured
    images = node_images(render(graph, "svg", activations=acts, thumbnails=count))
    for name, block in (("block1.conv", "block1"), ("block2.conv", "block2"),
                        ("block4.conv", "block4")):
        assert len(images[name]) == min(count, CHANNELS[block])


def test_tiles_are_the_frameworks_numbers_after_the_folded_relu(captured, shape_png) -> None:
    """block4.conv is Conv→BN→ReLU folded: its tiles are ReLU's output (PyTorch hooks),
    channels 0-3 in index order, coloured on the layer's scale 0..max."""
    from netdraw.viz.pictures import colormap

    graph, acts = captured
    relu = hooked(shape_png)["block4.relu"][0]  # (32, 8, 8)
    images = node_images(render(graph, "svg", activations=acts, thumbnail_order="index"))
    table = colormap("sequential")
    for k, element in enumerate(images["block4.conv"]):
        tile = png_of(element)
        assert tile.shape[:2] == (32, 32)  # 8×8 drawn 4× bigger, nearest neighbour
        expected = table[np.round(np.clip(relu[k] / relu.max(), 0, 1) * 255).astype(int)]
        assert np.abs(tile[::4, ::4].astype(int) - expected.astype(int)).max() <= 1


def test_order_max_picks_the_channels_with_the_largest_peaks(captured, shape_png) -> None:
    graph, acts = captured
    relu = hooked(shape_png)["block3.relu"][0]
    svg = render(graph, "svg", activations=acts, thumbnail_order="max")
    strongest = np.argsort(-relu.reshape(32, -1).max(1), kind="stable")[:4]
    node = svg[svg.index("block3.conv (Conv2d)"):]
    node = node[:node.index('class="node"')]
    titles = re.findall(r"<title>#(\d+) of 32 channels</title>", node)  # each tile's tooltip
    assert [int(c) for c in titles] == [int(c) for c in strongest]


def test_no_thumbnails_where_nothing_was_captured(captured) -> None:
    graph, acts = captured
    some = acts.select(["block2.relu", "x"])  # only two source nodes were captured
    images = node_images(render(graph, "svg", activations=some))
    assert {k: len(v) for k, v in images.items() if v} == {"x": 1, "block2.conv": 4}
    assert "<image" not in render(graph, "svg")  # without activations: no images at all


def test_thumbnails_never_overlap_text_or_other_nodes(captured, tmp_path) -> None:
    """The geometry Chromium lays out (getBBox of every shape, text and image): each image
    lies inside its own node's box, clear of every text line and of every other node."""
    from playwright.sync_api import sync_playwright

    graph, acts = captured
    path = tmp_path / "g.svg"
    path.write_text(render(graph, "svg", activations=acts, thumbnails=8), "utf-8")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.goto(path.as_uri())
        nodes = page.evaluate("""() => [...document.querySelectorAll('g.node')].map(g => {
            const box = b => { const r = b.getBBox(); return [r.x, r.y, r.x + r.width,
                                                              r.y + r.height]; };
            const outline = g.querySelector('path, polygon, ellipse');
            return {box: box(outline), texts: [...g.querySelectorAll('text')].map(box),
                    images: [...g.querySelectorAll('image')].map(box)}; })""")
        browser.close()

    def overlap(a, b) -> bool:
        return a[0] < b[2] - 0.5 and b[0] < a[2] - 0.5 and a[1] < b[3] - 0.5 and \
            b[1] < a[3] - 0.5

    texts = [t for n in nodes for t in n["texts"]]
    images = [(im, i) for i, n in enumerate(nodes) for im in n["images"]]
    # 8 channels (not 4) for the seven layers with a grid, and the legend's two ramps
    assert len(images) == sum(EXPECTED.values()) + 7 * 4 + 2
    for rect, owner in images:
        b = nodes[owner]["box"]
        assert b[0] <= rect[0] and rect[2] <= b[2] and b[1] <= rect[1] and rect[3] <= b[3]
        assert not any(overlap(rect, t) for t in texts), rect
        assert not any(overlap(rect, n["box"]) for i, n in enumerate(nodes) if i != owner)


def test_png_and_pdf_embed_the_images(captured, tmp_path) -> None:
    graph, acts = captured
    plain = np.asarray(Image.open(io.BytesIO(render(graph, "png"))).convert("RGB"))
    shown = np.asarray(Image.open(io.BytesIO(render(graph, "png", activations=acts)))
                       .convert("RGB"))
    assert shown.shape[0] > plain.shape[0]  # the rows of images make the boxes taller
    pdf = tmp_path / "g.pdf"
    pdf.write_bytes(render(graph, "pdf", activations=acts))
    listed = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True,
                            text=True, check=True).stdout.splitlines()[2:]
    # One placement per thumbnail, plus the legend's ramps (sequential, diverging).
    assert len(listed) == sum(EXPECTED.values()) + 2


# -- the figure styles ------------------------------------------------------------------


def test_lenet_squares_are_channel_maps_and_alexnet_faces_carry_one(captured) -> None:
    graph, acts = captured
    for style, per_layer in (("lenet", {8: 8, 16: 8, 32: 8}), ("alexnet", {8: 1, 16: 1,
                                                                              32: 1})):
        root = ET.fromstring(render(graph, "svg", style=style, activations=acts))
        layers = [g for g in root.iter(f"{SVG}g") if "layer" in (g.get("class") or "")]
        counts = {g.get("data-name"): len(list(g.iter(f"{SVG}image"))) for g in layers}
        for name, c in (("conv", 8), ("block4.conv", 32)):
            assert counts[name] == per_layer[c], (style, name, counts)
        assert counts["x"] == 1  # the input picture
        # dense layers: a heat strip of one cell per value (fc: 4 logits)
        fc = next(g for g in layers if g.get("data-name") == "fc")
        cells = [p for p in fc.iter(f"{SVG}polygon") if p.get("stroke") == "none"] + \
            [r for r in fc.iter(f"{SVG}rect") if r.get("stroke") == "none"]
        assert len(cells) == 4, style


def test_fcnn_neurons_are_filled_by_the_logits(captured, shape_png) -> None:
    from netdraw.viz.pictures import colormap

    graph, acts = captured
    logits = hooked(shape_png)["fc"][0]
    root = ET.fromstring(render(graph, "svg", style="fcnn", activations=acts))
    fc = next(g for g in root.iter(f"{SVG}g") if g.get("data-name") == "fc")
    fills = [c.get("fill") for c in fc.iter(f"{SVG}circle")]
    bound = np.abs(logits).max()
    table = colormap("diverging")
    expected = ["#{:02x}{:02x}{:02x}".format(*table[round((v + bound) / (2 * bound) * 255)])
                for v in logits]
    assert fills == expected


def test_chromium_shows_every_style_without_errors(captured, tmp_path) -> None:
    from playwright.sync_api import sync_playwright

    graph, acts = captured
    files = []
    for style in (None, "lenet", "alexnet", "fcnn"):
        path = tmp_path / f"{style or 'graph'}.svg"
        path.write_text(render(graph, "svg", style=style, activations=acts), "utf-8")
        files.append(path)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for path in files:
            page = browser.new_page()
            errors: list[str] = []
            page.on("console", lambda m, e=errors: e.append(m.text) if m.type == "error"
                    else None)
            page.on("pageerror", lambda exc, e=errors: e.append(str(exc)))
            page.goto(path.as_uri())
            decoded = page.evaluate("""async () => {
                const hrefs = [...document.querySelectorAll('image')].map(
                    i => i.getAttribute('href') || i.getAttribute('xlink:href'));
                let ok = 0;
                for (const h of hrefs) { const im = new Image(); im.src = h;
                    try { await im.decode(); ok += 1; } catch (e) {} }
                return [ok, hrefs.length]; }""")
            page.close()
            assert not errors, (path.name, errors)
            assert decoded[0] == decoded[1], (path.name, decoded)
            assert (decoded[1] > 0) == (path.name != "fcnn.svg")  # fcnn fills its neurons
        browser.close()


# -- TikZ -----------------------------------------------------------------------------------


def compile_here(tex: Path) -> Path:
    proc = subprocess.run(["pdflatex", "-no-shell-escape", "-halt-on-error",
                           "-interaction=nonstopmode", tex.name], cwd=tex.parent,
                          capture_output=True, text=True, stdin=subprocess.DEVNULL,
                          env={"PATH": "/usr/bin:/bin", "openin_any": "p",
                               "openout_any": "p"})
    assert proc.returncode == 0, proc.stdout[-2000:]
    return tex.with_suffix(".pdf")


def placements(pdf: Path) -> int:
    out = subprocess.run(["pdfimages", "-list", str(pdf)], capture_output=True, text=True,
                         check=True).stdout
    return len(out.splitlines()) - 2


def test_tikz_writes_images_beside_the_tex_and_compiles(shape_png, tmp_path) -> None:
    """A hostile output name: the folder's name is made safe, the paths are relative, the
    standalone file compiles with -no-shell-escape and shows every thumbnail."""
    out = tmp_path / "my fig $&#%'{x}.tex"
    run_cli("draw", "zoo:shapes", "--input", str(shape_png), "-o", str(out), check=True)
    folder = tmp_path / "my-fig-x-images"
    names = sorted(p.name for p in folder.iterdir())
    assert names[0] == "00-x.png" and "07-block4-conv.png" in names
    assert all(re.fullmatch(r"[A-Za-z0-9-]+\.png", n) for n in names)
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no leftovers
    tex = out.read_text("utf-8")
    assert str(tmp_path) not in tex and "{my-fig-x-images/00-x.png}" in tex
    safe = tmp_path / "figure.tex"  # compile it under a plain name, as a user's Makefile
    safe.write_text(tex, "utf-8")
    # 8 outputs with a grid + avgpool's and fc's strips + the legend's two colour scales
    assert placements(compile_here(safe)) == 8 + 2 + 2


def test_tikz_fragment_keeps_working_with_thumbnails(captured, tmp_path) -> None:
    from netdraw.backends.tikz import preamble
    from netdraw.output import write_output, write_with_files

    graph, acts = captured
    write_with_files(str(tmp_path / "net.tex"), render(
        graph, "tex", style="tikz", fragment=True, activations=acts, image_stem="net"))
    write_output(str(tmp_path / "net-preamble.tex"), preamble())
    assert (tmp_path / "net-images" / "00-x.png").is_file()
    paper = tmp_path / "paper.tex"
    paper.write_text("\\documentclass{article}\n\\input{net-preamble.tex}\n"
                     "\\begin{document}\n\\input{net.tex}\n\\end{document}\n", "utf-8")
    assert placements(compile_here(paper)) == 12


# -- the command line -------------------------------------------------------------------


def test_cli_output_is_byte_identical_across_runs(shape_png, tmp_path) -> None:
    outputs = []
    for run in (1, 2):
        target = tmp_path / f"{run}.svg"
        run_cli("draw", "zoo:shapes", "--input", str(shape_png), "--cam", "-o", str(target),
                check=True)
        outputs.append(target.read_bytes())
    assert outputs[0] == outputs[1]
    # every thumbnail, and the legend's sequential, diverging and CAM scales
    assert outputs[0].count(b"<image") == sum(EXPECTED.values()) + 3


def test_every_format_is_byte_identical_for_the_same_input(shape_png) -> None:
    """Two captures of the same image, drawn in every style: the same bytes."""
    from netdraw.viz import capture

    graph = view(netdraw.load("zoo:shapes"))
    drawings = []
    for _ in range(2):
        acts = capture("zoo:shapes", [str(shape_png)])
        tex = render(graph, "tex", style="tikz", activations=acts)
        drawings.append([render(graph, "pdf", activations=acts), tex, tex.files,
                         *(render(graph, "svg", style=s, activations=acts)
                           for s in ("lenet", "alexnet", "fcnn"))])
    assert drawings[0] == drawings[1]


def test_onnx_and_keras_shapes_get_the_same_thumbnails(shape_png) -> None:
    from netdraw.viz import capture

    for name in ("onnx-shapes", "keras-shapes"):
        graph = view(netdraw.load(f"zoo:{name}"))
        acts = capture(f"zoo:{name}", [str(shape_png)])
        counts = [len(v) for v in node_images(render(graph, "svg",
                                                     activations=acts)).values()]
        # the input and seven layers with a grid; strips for the vectors (Keras has no
        # flatten and no output node, ONNX names its output 'logits')
        assert counts.count(4) == 7 and all(c in (1, 4) for c in counts), name
        assert len(counts) == {"onnx-shapes": 12, "keras-shapes": 10}[name]


@pytest.mark.parametrize(("args", "fragments"), [
    (["--input", "missing.png"], ("missing.png", "no such file")),
    (["--input", "bad.npy"], ("bad.npy", "does not fit")),
    (["--thumbnails", "0", "--input", "shape.png"], ("--thumbnails",)),
    (["--colormap", "rainbow", "--input", "shape.png"], ("--colormap",)),
    (["--cam"], ("--cam", "--input")),
])
def test_bad_input_is_one_line_and_writes_nothing(shape_png, tmp_path, args,
                                                  fragments) -> None:
    np.save(tmp_path / "bad.npy", np.zeros((5, 7), np.float32))
    (tmp_path / "shape.png").write_bytes(shape_png.read_bytes())
    proc = run_cli("draw", "zoo:shapes", *args, "-o", "out.tex", cwd=tmp_path)
    assert_one_line_error(proc, *fragments)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.npy", "shape.png"]


def test_dot_text_refuses_thumbnails(shape_png, tmp_path) -> None:
    proc = run_cli("draw", "zoo:shapes", "--input", str(shape_png), "-o",
                   str(tmp_path / "a.dot"))
    assert_one_line_error(proc, ".dot", "svg")
    assert not list(tmp_path.iterdir())


HOSTILE = "conv<&>\"'$%#_{}\\~^ x"


def test_hostile_layer_names_come_out_literally(tmp_path) -> None:
    """Activations made by hand (no framework): a layer name full of XML, LaTeX and shell
    metacharacters is the SVG's text as is, and the TikZ figure with its image compiles."""
    from netdraw.ir import Graph, Node, TensorSpec
    from netdraw.viz import Activations

    g = Graph("hostile & <net>")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 3, 16, 16))]))
    g.add_node(Node("c", HOSTILE, "conv", "Conv2d", outputs=[TensorSpec((1, 4, 16, 16))]))
    g.add_edge("x", "c")
    g.outputs.append("c")
    rng = np.random.default_rng(0)
    acts = Activations(g, {"x": rng.random((1, 3, 16, 16), np.float32),
                           "c": rng.standard_normal((1, 4, 16, 16)).astype(np.float32)})
    svg = render(g, "svg", activations=acts)
    assert HOSTILE in ["".join(t.itertext()) for t in ET.fromstring(svg).iter(f"{SVG}text")]
    assert {k: len(v) for k, v in node_images(svg).items()} == {"x": 1, HOSTILE: 4}
    tex = render(g, "tex", style="tikz", activations=acts)
    for rel, data in tex.files.items():
        assert re.fullmatch(r"figure-images/[A-Za-z0-9-]+\.png", rel)
        (tmp_path / rel).parent.mkdir(exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    (tmp_path / "figure.tex").write_text(tex, "utf-8")
    pdf = compile_here(tmp_path / "figure.tex")
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    assert "conv<&>" in text and "$%#" in text
    assert placements(pdf) == 2 + 1  # two boxes, the diverging scale (signed values)


def test_a_figure_whose_image_folder_cannot_be_made_writes_nothing(captured, tmp_path) -> None:
    from netdraw.errors import NetdrawError
    from netdraw.output import write_with_files

    graph, acts = captured
    tex = render(graph, "tex", style="tikz", activations=acts, image_stem="fig")
    (tmp_path / "fig-images").write_text("a file where the folder should go")
    with pytest.raises(NetdrawError, match="images into .*fig-images: it is a file"):
        write_with_files(str(tmp_path / "fig.tex"), tex)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["fig-images"]  # no .tex, no temp


def test_html_side_panel_gets_one_picture_per_layer(captured) -> None:
    graph, acts = captured
    page = render(netdraw.load("zoo:shapes"), "html", activations=acts)
    uris = re.findall(r"data:image/png;base64,([A-Za-z0-9+/=]+)", page)
    # the page's graph folds like the default view: the twelve nodes of EXPECTED
    assert len(uris) == len(EXPECTED)
    sizes = [Image.open(io.BytesIO(base64.b64decode(u))).size for u in uris]
    assert (64, 64) in sizes  # the input picture as it is
