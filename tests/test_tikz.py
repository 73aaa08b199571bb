"""The TikZ backend: every figure must compile with pdflatex and say the right things.

pdflatex (``-halt-on-error -no-shell-escape``) is the consumer of the ``.tex``; pdftotext
reads the words back out of the PDF and pdftoppm turns it into pixels.
"""

from __future__ import annotations

import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
import tikz_models
from conftest import assert_one_line_error, cli_env, require_module, run_cli

from netdraw import backends, load, render, zoo
from netdraw.api import view
from netdraw.backends.tikz import preamble
from netdraw.backends.tikz_boxes import extent, layout_figure, thickness
from netdraw.errors import NetdrawError
from netdraw.figure.items import build_items, hidden, tensor_dims
from netdraw.figure.themes import THEMES, tikz_palette
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.latex import compile_pdf, escape, rasterise


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The words of a PDF, with OT1's look-alike glyphs mapped back to ASCII."""
    path = tmp_path / "t.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                          check=True).stdout.decode("utf-8")
    text = text.translate(str.maketrans({"ˆ": "^", "˜": "~", "”": '"', "’": "'", "‘": "`",
                                         "“": '"'}))
    return "".join(c for c in unicodedata.normalize("NFD", text)
                   if not unicodedata.combining(c))


def pdf_pages(pdf: bytes, tmp_path: Path) -> tuple[int, float, float]:
    """(pages, width cm, height cm) of a PDF according to pdfinfo."""
    path = tmp_path / "i.pdf"
    path.write_bytes(pdf)
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True,
                          text=True).stdout
    fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
    w, _, h = fields["Page size"].split()[:3]
    return int(fields["Pages"]), float(w) * 2.54 / 72, float(h) * 2.54 / 72


def drawn_node_ids(graph: Graph) -> set[str]:
    return {nid for item in build_items(graph).items.values() for nid in item.node_ids}


@pytest.fixture(scope="module")
def onnx_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    require_module("torch")
    return tikz_models.export_onnx(tmp_path_factory.mktemp("onnx"))


@pytest.fixture(scope="module")
def graphs(onnx_files: dict[str, Path]) -> dict[str, Graph]:
    return {name: load(path) for name, path in onnx_files.items()}


# -- escaping --------------------------------------------------------------------------


@pytest.mark.parametrize("char, tex", [
    ("\\", r"\textbackslash{}"), ("{", r"\{"), ("}", r"\}"), ("%", r"\%"), ("$", r"$\$$"),
    ("#", r"\#"), ("_", r"\_"), ("^", r"\textasciicircum{}"), ("~", r"\textasciitilde{}"),
    ("&", r"\&"), ("é", r"\'{e}"), ("×", r"$\times$"), ("中", r"\textless{}U+4E2D\textgreater{}"),
])
def test_escape_maps_every_special_character(char: str, tex: str) -> None:
    assert escape(char) == tex


def test_hostile_names_compile_print_literally_and_run_nothing(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    graph = tikz_models.hostile_graph()
    assert compile_pdf(render(graph, "tex", style="tikz"))  # the default view compiles too
    assert compile_pdf(render(graph, "tex", style="tikz", full=True))
    source = backends.render(graph, "tex", style="tikz")  # raw: every name, bands folded
    monkeypatch.chdir(tmp_path)  # pdflatex runs in its own folder; nothing may appear here
    pdf = compile_pdf(source)
    text = pdf_text(pdf, tmp_path)
    flat = text.replace("\n", " ")
    squeezed = flat.replace(" ", "")
    for name in ["\\input{/etc/passwd}", "{50%} $x$", "#1 & #2", "}]\\end{tikzpicture}",
                 "\\immediate\\write18", "\"q\" 'r' `s` -", "Große × 2 → π",
                 "<U+4E2D><U+6587> <U+1F642>", "^^5c^^5cbye", "x y z"]:
        expected = "".join(c for c in unicodedata.normalize("NFD", name)
                           if not unicodedata.combining(c))
        assert expected.replace(" ", "") in squeezed, (name, flat)
    assert "a b^c~d" in flat or "ab^c~d" in flat.replace(" ", "")  # \_ is a rule, not text
    assert "Convolution + Weird Act{}" in flat  # the legend names the odd activation literally
    assert not (tmp_path / "pwned").exists() and not Path("pwned").exists()
    (tmp_path / "h.pdf").write_bytes(pdf)
    fonts = subprocess.run(["pdffonts", str(tmp_path / "h.pdf")], capture_output=True,
                           text=True, check=True).stdout
    assert "Type 3" not in fonts and "CMR8" in fonts  # vector fonts only, no bitmaps
    assert "\\input{/etc/passwd}" not in source  # only ever as escaped text


# -- every model compiles --------------------------------------------------------------


@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_every_zoo_model_compiles_and_draws_every_layer(name: str, tmp_path: Path) -> None:
    graph = zoo.load(name)
    for shown_graph in (view(graph), view(graph, full=True)):  # the default view, every node
        pdf = render(shown_graph, "pdf", style="tikz")
        pages, width, height = pdf_pages(pdf, tmp_path)  # at most 16.5 cm either way
        assert pages == 1 and max(width, height) > 3 and width < 16.55 and height < 16.55
        drawn = drawn_node_ids(shown_graph)
        for node in shown_graph:
            assert hidden(node) or node.id in drawn, f"{node.name} ({node.kind}) is not drawn"
        fig = layout_figure(shown_graph)
        assert fig.crossings() == []
        words = "".join(pdf_text(pdf, tmp_path).split())
        for p in fig.placed.values():
            for label in p.labels:  # \_ prints as a rule, which has no text
                text = label.text.replace("_", " ").replace("…", "...")  # \ldots: ". . ."
                assert "".join(text.split()) in words


@pytest.mark.parametrize("name", ["lenet5", "resnet", "unet", "mlp"])
def test_torch_exported_onnx_compiles(name: str, graphs: dict[str, Graph],
                                      tmp_path: Path) -> None:
    graph = graphs[name]
    pdf = render(graph, "pdf", style="tikz", theme="colorblind")
    assert pdf_pages(pdf, tmp_path)[0] == 1
    assert layout_figure(graph).crossings() == []


def test_json_importer_graph_compiles(graphs: dict[str, Graph], tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(graphs["resnet"].to_json())
    graph = load(path)
    assert pdf_pages(render(graph, "pdf", style="tikz"), tmp_path)[0] == 1


def _live_importer(obj: object, name: str) -> bool:
    """Whether the importer called ``name`` reads ``obj`` (Keras 3 layers on the torch
    backend are torch modules too, so the importer found must be the right one)."""
    from netdraw.importers import find_importer

    try:
        return name.lower() in find_importer(obj).name.lower()
    except NetdrawError:
        return False


def test_pytorch_importer_graph_compiles(tmp_path: Path) -> None:
    model, shape = tikz_models.torch_models()["resnet"]
    assert _live_importer(model, "torch"), "the PyTorch importer must read a live nn.Module"
    import torch

    graph = load(model, example_input=torch.randn(*shape))
    assert pdf_pages(render(graph, "pdf", style="tikz"), tmp_path)[0] == 1
    assert layout_figure(graph).crossings() == []


def test_keras_importer_graph_compiles(tmp_path: Path) -> None:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = require_module("keras")
    model = keras.Sequential([keras.Input((28, 28, 1)), keras.layers.Conv2D(8, 3,
                              activation="relu"), keras.layers.MaxPooling2D(),
                              keras.layers.Flatten(), keras.layers.Dense(10)])
    assert _live_importer(model, "keras"), "the Keras importer must read a live Keras model"
    graph = load(model)
    fig = layout_figure(graph)
    conv = next(p for p in fig.placed.values() if p.item.category == "conv")
    assert (conv.item.dims.c, conv.item.dims.h) == (8, 26)  # NHWC read as C=8, H=26
    assert pdf_pages(render(graph, "pdf", style="tikz"), tmp_path)[0] == 1


# -- what the figures show -------------------------------------------------------------


def test_lenet_boxes_follow_channels_and_resolution(graphs: dict[str, Graph]) -> None:
    fig = layout_figure(graphs["lenet5"])
    main = [fig.items.items[v] for v in fig.main]
    assert [(i.category, i.band) for i in main] == [
        ("input", None), ("conv", "ReLU"), ("pool", None), ("conv", "ReLU"), ("pool", None),
        ("dense", "ReLU"), ("dense", "ReLU"), ("dense", None)]
    box = {v: p.fp.data for v, p in fig.placed.items()}
    conv1, pool1, conv2, pool2 = (box[v] for v in fig.main[1:5])
    assert conv1.h > pool1.h > conv2.h > pool2.h  # 28 > 14 > 10 > 5
    assert conv2.t > conv1.t  # 16 channels are thicker than 6
    assert pool1.t < conv1.t  # pooling is a thinner box
    labels = {lb.text for p in fig.placed.values() for lb in p.labels}
    assert {"28×28", "14×14", "10×10", "5×5", "6", "16", "120", "84", "10"} <= labels
    placed = list(fig.placed.values())
    assert all(abs(p.y) < 1e-9 for p in placed)  # a chain: one row, left to right
    assert [p.x for p in placed] == sorted(p.x for p in placed)
    assert {e.label.text for e in fig.legend} == {"Input", "Convolution + ReLU", "Pooling",
                                                  "Fully connected + ReLU", "Fully connected"}


def test_sizes_are_log_scaled_and_clamped() -> None:
    heights = [extent(n) for n in (1, 2, 7, 28, 56, 224, 1024, 10 ** 6)]
    assert heights == sorted(heights)
    assert heights[0] == extent(1) == 0.35 and heights[-1] == extent(10 ** 9) == 2.9
    assert extent(56) - extent(28) == pytest.approx(extent(28) - extent(14))  # log scale
    widths = [thickness(c) for c in (1, 3, 64, 512, 10 ** 6)]
    assert widths == sorted(widths) and widths[0] == 0.12 and widths[-1] == 1.05


def test_resnet_skips_are_arcs_and_projections_sit_below(graphs: dict[str, Graph]) -> None:
    graph = graphs["resnet"]
    fig = layout_figure(graph)
    assert fig.mode == "flat" and fig.crossings() == []
    placed = list(fig.placed.values())
    adds = [p for p in placed if p.item.category == "add"]
    assert len(adds) == 8 and all(p.lane == 0 for p in adds)
    projections = [p for p in placed if p.lane != 0]
    assert len(projections) == 3 and all(p.item.category == "conv" and p.lane == -1
                                         for p in projections)
    into_adds = [r for r in fig.routes if r.dst in {p.id for p in adds} and r.skip]
    assert len(into_adds) == 8
    arcs = [r for r in into_adds if max(y for _, y in r.points) > 0.5]
    assert len(arcs) == 5 and all(r.arc for r in arcs)  # identity shortcuts pass above
    for r in arcs:
        top = max(y for _, y in r.points)
        between = [p for p in placed if r.points[0][0] < p.x < r.points[-1][0]]
        assert all(p.top() < top for p in between)
    assert {m.label.text for m in fig.marks} >= {"layer1", "layer1.0", "layer4.1"}


def test_unet_is_drawn_as_a_u(graphs: dict[str, Graph]) -> None:
    fig = layout_figure(graphs["unet"])
    assert fig.mode == "u" and fig.crossings() == []
    glyph = fig.placed
    ys = [glyph[v].y for v in fig.main]
    bottom = ys.index(min(ys))
    assert all(a >= b for a, b in zip(ys[:bottom], ys[1:bottom + 1], strict=True))
    assert all(a <= b for a, b in zip(ys[bottom:], ys[bottom + 1:], strict=False))
    assert len(set(ys)) == 4  # 64, 32, 16 and 8 pixels
    skips = [r for r in fig.routes if r.skip]
    assert len(skips) == 3
    for r in skips:
        a, b = glyph[r.src], glyph[r.dst]
        assert a.y == b.y and b.item.category == "concat"
        (x1, y1), (x2, y2) = r.points[1], r.points[2]
        assert y1 == y2 > a.top() and x2 > x1  # one straight run above its level
    assert [p.item.category for p in fig.placed.values()].count("deconv") == 3


def test_inception_branches_get_their_own_lanes() -> None:
    fig = layout_figure(zoo.load("onnx-inception"))
    concat = next(p for p in fig.placed.values() if p.item.category == "concat")
    assert len([r for r in fig.routes if r.dst == concat.id]) == 4
    assert sorted({p.lane for p in fig.placed.values()}) == [-3, -2, -1, 0]
    assert fig.crossings() == []


def test_view_blocks_rolls_and_folds_are_drawn(tmp_path: Path) -> None:
    graph = tikz_models.rolled_resnet()
    fig = layout_figure(graph)
    cats = [(p.item.category, p.item.band, p.item.repeat) for p in fig.placed.values()]
    assert cats[:3] == [("input", None, 1), ("conv", "ReLU", 1), ("pool", None, 1)]
    assert [(c, r) for c, _, r in cats[3:7]] == [("block", 2), ("block", 2), ("block", 3),
                                                ("block", 2)]
    assert cats[-1] == ("softmax", None, 1)
    assert [p.fp.data.ghosts for p in fig.placed.values()
            if p.item.category == "block"] == [1, 1, 2, 1]
    assert fig.crossings() == []
    text = pdf_text(render(graph, "pdf", style="tikz"), tmp_path)
    assert text.count("×2") == 3 and text.count("×3") == 1
    assert "BasicBlock" in text and "Block" in text and "Softmax" in text
    assert "Convolution + ReLU" in text


def test_keras_nhwc_shapes(tmp_path: Path) -> None:
    graph = tikz_models.keras_like_cnn()
    items = list(build_items(graph).items.values())
    assert [(i.dims.c, i.dims.h, i.dims.w) for i in items[:4]] == [
        (3, 64, 48), (32, 64, 48), (32, 32, 24), (64, 32, 24)]
    assert [i.band for i in items] == [None, "ReLU", None, None, None, "softmax"]
    assert tensor_dims(TensorSpec((1, 3, 64, 48)), False, True).c == 3  # NCHW stays NCHW
    text = pdf_text(render(graph, "pdf", style="tikz"), tmp_path)
    assert "64×48" in "".join(text.split())


def test_huge_figures_are_scaled_into_what_tex_can_address(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from netdraw.backends import tikz

    graph = zoo.load("onnx-resnet")
    x0, _, x1, _ = layout_figure(graph).bounds()
    monkeypatch.setattr(tikz, "MAX_CM", (x1 - x0) / 4)  # as if the figure were 4× too big
    source = render(graph, "tex", style="tikz", width="60cm")
    picture = source[source.index("\\begin{tikzpicture}"):]
    xs = [float(m) for m in re.findall(r"\((-?[0-9.]+),", picture)]
    xs += [float(m) for m in re.findall(r"\\nd(?:Band)?Box\{(-?[0-9.]+)\}", picture)]
    assert len(xs) > 50
    assert max(xs) <= (x1 - x0) / 4 + 0.01
    # \ndk makes up for it: the page is printed at the scale the width asks for.
    pages, width, _ = pdf_pages(compile_pdf(source), tmp_path)
    assert pages == 1 and 10 < width <= 60.01


def test_tikz_imports_no_framework(tmp_path: Path) -> None:
    path = tmp_path / "g.json"
    path.write_text(tikz_models.rolled_resnet().to_json())
    code = ("import sys, netdraw; netdraw.render(netdraw.load(sys.argv[1]), 'tex', "
            "style='tikz'); print(sorted(m for m in sys.modules if m.split('.')[0] in "
            "('torch', 'keras', 'onnx', 'tensorflow', 'onnxruntime')))")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True,
                          text=True, env=cli_env(), check=True)
    assert done.stdout.strip() == "[]"


def test_group_brackets_and_short_captions() -> None:
    graph = Graph("groups")
    shape = (1, 8, 16, 16)
    specs = [("x", "x", ()), ("a", "enc.block.0", ("enc", "enc.block")),
             ("b", "enc.block.3", ("enc", "enc.block")), ("c", "head.fc.0", ("head", "head.fc")),
             ("d", "head.proj", ("head",)), ("e", "head.fc.1", ("head", "head.fc"))]
    prev = None
    for nid, name, group in specs:
        kind = "input" if nid == "x" else "conv"
        graph.add_node(Node(nid, name, kind, "Conv", outputs=[TensorSpec(shape)], group=group))
        if prev:
            graph.add_edge(prev, nid)
        prev = nid
    graph.add_group(("enc",), "DoubleConv", "enc")
    graph.add_group(("enc", "enc.block"), "Sequential", "enc.block")
    graph.add_group(("head",), "Head", "head")
    graph.add_group(("head", "head.fc"), "Sequential", "head.fc")
    graph.validate()
    fig = layout_figure(graph)
    # The Sequential wrapping exactly enc's layers adds nothing; head.fc is interrupted by
    # head.proj, so a bracket over it would claim proj too.
    assert sorted((m.label.text, m.bracket.row) for m in fig.marks) == [
        ("enc · DoubleConv", 0), ("head · Head", 0)]
    assert [next(lb.text for lb in p.labels if lb.role == "caption")
            for p in fig.placed.values()] == ["x", "block.0", "block.3", "fc.0", "proj", "fc.1"]
    assert fig.crossings() == []


def test_onnx_recurrent_output_reads_sequence_and_hidden_size() -> None:
    graph = Graph("rnn")
    graph.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((12, 1, 64))]))
    graph.add_node(Node("l", "lstm", "recurrent", "LSTM", attrs={"units": 128},
                        outputs=[TensorSpec((12, 1, 1, 128))]))
    graph.add_edge("x", "l")
    item = build_items(graph).items["i1"]
    assert (item.dims.c, item.dims.h) == (128, 12)
    assert layout_figure(graph).crossings() == []


def test_empty_model_is_a_clear_error() -> None:
    graph = Graph("empty")
    graph.add_node(Node("o", "out", "output", "Output"))
    with pytest.raises(NetdrawError, match="no layers to draw"):
        render(graph, "tex", style="tikz")


# -- themes ----------------------------------------------------------------------------


def _ppm_pixels(data: bytes) -> tuple[int, int, bytes]:
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6" and parts[3] == b"255"
    return int(parts[1]), int(parts[2]), parts[4]


def test_greyscale_theme_has_no_colour() -> None:
    assert all(v[0:2] == v[2:4] == v[4:6] for v in THEMES["greyscale"].values())
    pdf = render(zoo.load("onnx-resnet"), "pdf", style="tikz", theme="greyscale")
    w, h, pixels = _ppm_pixels(rasterise(pdf, "ppm", dpi=40))
    assert max(max(pixels[i:i + 3]) - min(pixels[i:i + 3])
               for i in range(0, len(pixels), 3)) <= 2
    colour = rasterise(render(zoo.load("onnx-resnet"), "pdf", style="tikz"), "ppm", dpi=40)
    _, _, pixels = _ppm_pixels(colour)
    assert max(max(pixels[i:i + 3]) - min(pixels[i:i + 3])
               for i in range(0, len(pixels), 3)) > 60


def test_colorblind_theme_uses_okabe_ito() -> None:
    okabe_ito = {"E69F00", "56B4E9", "009E73", "F0E442", "0072B2", "D55E00", "CC79A7",
                 "000000"}
    palette = tikz_palette("colorblind")
    for role in ("conv", "band", "pool", "dense", "dense_band", "add", "concat", "deconv"):
        assert palette[role] in okabe_ito
    assert set(THEMES["default"]) == set(THEMES["colorblind"]) == set(THEMES["greyscale"])


# -- command line ----------------------------------------------------------------------


def test_cli_tex_pdf_png_and_fragment(tmp_path: Path) -> None:
    tex, pdf, png = tmp_path / "fig.tex", tmp_path / "fig.pdf", tmp_path / "fig.png"
    assert run_cli("zoo:onnx-lenet5", "-o", str(tex)).returncode == 0
    assert tex.read_text().startswith("% Written by netdraw")
    assert "\\documentclass[border=6pt]{standalone}" in tex.read_text()
    r = run_cli("zoo:onnx-lenet5", "-o", str(pdf), "--style", "tikz", "--theme", "greyscale")
    assert r.returncode == 0, r.stderr
    assert pdf.read_bytes().startswith(b"%PDF") and b"pdfTeX" in pdf.read_bytes()
    r = run_cli("zoo:onnx-lenet5", "-o", str(png), "--style", "tikz")
    assert r.returncode == 0 and png.read_bytes().startswith(b"\x89PNG")

    frag = tmp_path / "net.tex"
    r = run_cli("zoo:onnx-resnet", "-o", str(frag), "--tikz-fragment")
    assert r.returncode == 0, r.stderr
    pre = tmp_path / "net-preamble.tex"
    assert pre.read_text() == preamble()
    assert frag.read_text().count("\\begin{tikzpicture}") == 1
    assert "\\documentclass" not in frag.read_text()
    paper = tmp_path / "paper.tex"
    paper.write_text("\\documentclass{article}\n\\input{net-preamble}\n\\begin{document}\n"
                     "Figure:\\par\\resizebox{\\linewidth}{!}{\\input{net}}\n\\end{document}\n")
    done = subprocess.run(["pdflatex", "-halt-on-error", "-no-shell-escape",
                           "-interaction=nonstopmode", "paper.tex"], cwd=tmp_path,
                          capture_output=True, timeout=120)
    assert done.returncode == 0, done.stdout[-2000:]


def test_cli_figure_style_options_apply_to_tikz(tmp_path: Path) -> None:
    plain = run_cli("zoo:onnx-resnet", "-o", "-", "--style", "tikz", "--no-labels",
                    "--no-legend", "--spacing", "2")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("% Written by netdraw")  # '-o -' writes the style's .tex
    assert "ndcaption" not in plain.stdout.split("\\begin{tikzpicture}")[1]
    assert "ndlegend" not in plain.stdout.split("\\begin{tikzpicture}")[1]
    graph = view(zoo.load("onnx-resnet"))
    narrow, wide = layout_figure(graph), layout_figure(graph, spacing=2)
    assert wide.bounds()[2] - narrow.bounds()[2] > 0.5 * len(narrow.main)
    bare = layout_figure(graph, labels=False)
    assert {lb.role for p in bare.placed.values() for lb in p.labels} == {"repeat"}


def test_cli_pdf_defaults_to_graphviz(tmp_path: Path) -> None:
    out = tmp_path / "g.pdf"
    assert run_cli("zoo:onnx-lenet5", "-o", str(out)).returncode == 0
    assert b"pdfTeX" not in out.read_bytes() and out.read_bytes().startswith(b"%PDF")


@pytest.mark.parametrize("args, message", [
    (["-o", "{out}/x.svg", "--tikz-fragment"], "--tikz-fragment writes two files"),
    (["-o", "{out}/x.tex", "--theme", "purple"], "unknown theme 'purple'"),
    (["-o", "-", "--format", "tex", "--tikz-fragment"], "writes two files"),
    (["-o", "{out}/x.svg", "--style", "tikz"], "style 'tikz' cannot write .svg"),
])
def test_cli_option_errors(args: list[str], message: str, tmp_path: Path) -> None:
    r = run_cli("zoo:onnx-lenet5", *[a.format(out=tmp_path) for a in args])
    assert_one_line_error(r, message)
    assert list(tmp_path.iterdir()) == []


def test_cli_without_pdflatex_says_how_to_install(tmp_path: Path) -> None:
    bindir = tmp_path / "bin"
    bindir.mkdir()
    env = dict(cli_env(), PATH=str(bindir))
    out = tmp_path / "fig.pdf"
    r = run_cli("zoo:onnx-lenet5", "-o", str(out), "--style", "tikz", env=env)
    assert r.returncode == 2 and "needs 'pdflatex'" in r.stderr
    assert "apt-get install texlive-latex-base" in r.stderr and not out.exists()
    assert run_cli("zoo:onnx-lenet5", "-o", str(tmp_path / "f.tex"), env=env).returncode == 0


# -- gallery ---------------------------------------------------------------------------


def test_gallery_renders_tikz_pictures_for_every_zoo_model(tmp_path: Path) -> None:
    from netdraw import gallery

    lines = list(gallery.render_gallery(tmp_path, ["onnx-lenet5", "onnx-inception"]))
    for name in ("onnx-lenet5", "onnx-inception"):
        assert f"wrote {tmp_path / (name + '.tikz.png')}" in lines
        assert (tmp_path / f"{name}.tikz.png").read_bytes().startswith(b"\x89PNG")
        assert (tmp_path / f"{name}.tex").read_text().startswith("% Written by netdraw")
