"""What a paper figure shows and the author's control over it (issue 24, items 7-13),
read back from the files written.

Oracles: the frameworks' own modules and layers (the attention gates a module defines,
the concatenations Keras' DenseNet121 has, the block counts of a transformers config),
the colours an author asks for, the pixels pdftoppm renders, pdflatex's log.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import assert_one_line_error, require_module, require_tool, run_cli
from paper_models import graph
from print_measure import svg_printed

import netdraw
from netdraw.backends import figure_fit
from netdraw.backends.tikz import preamble
from netdraw.figure.themes import THEMES, TIKZ_ROLES
from netdraw.latex import rasterise
from netdraw.passes import make_view

SVG = "{http://www.w3.org/2000/svg}"
STYLES = ("graph", "fcnn", "lenet", "alexnet", "tikz")


def _view(name: str, style: str, width: str = "text") -> netdraw.Graph:
    fmt = {"tikz": "tex", "graph": "svg"}.get(style, "svg")
    return make_view(graph(name), None, figure_fit(fmt, style, {"width": width}))


def _drawn(view: netdraw.Graph) -> list[str]:
    return [n.name for n in view if n.kind not in ("input", "output")]


# -- 7. the default view keeps the distinctive structure -------------------------------------


def test_dense_connections_show() -> None:
    """DenseNet121: a dense block is opened and its first layer's concatenation with the
    block's input (Keras' own conv2_block1_concat) is drawn, a skip into a ball."""
    keras = require_module("keras")
    names = {layer.name for layer in keras.applications.DenseNet121(weights=None).layers}
    assert "conv2_block1_concat" in names
    for style in ("tikz", "alexnet"):
        view = _view("keras-densenet121", style)
        assert "conv2_block1_concat" in _drawn(view), style
        tex_or_svg = netdraw.render(view, "tex" if style == "tikz" else "svg", style=style)
        assert ("\\ndBall" in tex_or_svg) if style == "tikz" else ('class="skip"' in tex_or_svg)


@pytest.mark.parametrize("name, counts", [
    ("convnext-t", (2, 3, 9, 3)),  # depths 3, 3, 9, 3: stage 1's first layer drawn open
    ("keras-efficientnet-b0", (2, 2, 3)),  # blocks 4b-4c, 5b-5c, 6b-6d
])
def test_repeat_counts_show(name: str, counts: tuple[int, ...]) -> None:
    """The ×N of each stage's repeated blocks is in the figure, as the model defines them
    (ConvNeXt-T's config depths; EfficientNetB0's block4a-4c, 5a-5c, 6a-6d)."""
    tex = netdraw.render(_view(name, "tikz"), "tex", style="tikz")
    shown = [int(n) for n in re.findall(r"\\node\[ndrepeat[^\]]*\][^{]*\{\$\\times\$(\d+)\}",
                                        tex)]
    assert sorted(shown) == sorted(counts), shown


def test_swin_stages_keep_their_counts() -> None:
    """Swin-T (depths 2, 2, 6, 2) in a column: its stages show their blocks' count."""
    transformers = require_module("transformers")
    config = transformers.AutoConfig.for_model("swin", depths=[2, 2, 6, 2])
    view = _view("swin-t", "tikz", "column")
    text = " ".join(f"{n.op_type} {n.attrs.get('repeat') or ''} {n.attrs.get('blocks') or ''}"
                    for n in view)
    for depth in config.depths:
        assert re.search(rf"\b{depth}\b", text), text


def test_llama_decoder_layer_is_opened() -> None:
    """LLaMA: the first decoder layer is drawn open (its attention and MLP, which the
    module defines as self_attn and mlp), the others rolled after it with their count."""
    torch = require_module("torch")
    from netdraw.zoo.hf_models import llama

    modules = dict(llama().named_modules())
    assert isinstance(modules["model.model.layers.0.self_attn"], torch.nn.Module)
    view = _view("llama", "tikz")
    drawn = " ".join(_drawn(view))
    assert "layers.0.self_attn" in drawn and "layers.0.mlp" in drawn
    assert any(n.attrs.get("repeat") == 3 for n in view)  # layers.1-layers.3


def test_attention_gates_show_in_the_graphviz_u(tmp_path: Path) -> None:
    """The attention U-Net drawn by Graphviz at the text width is a U, and --depth 1
    --expand dec1 shows the gate the module defines (dec1.gate: AttentionGate)."""
    require_tool("dot")
    from netdraw.zoo.paper_models import AttentionGate, AttentionUNet

    assert isinstance(AttentionUNet().dec1.gate, AttentionGate)
    src = tmp_path / "au.json"
    src.write_text(netdraw.render(graph("attention-unet"), "json"))
    out = tmp_path / "au.svg"
    r = run_cli(str(src), "-o", str(out), "--width", "text", "--depth", "1", "--expand",
                "dec1")
    assert r.returncode == 0, r.stderr
    texts = " ".join(t.text or "" for t in ET.parse(out).getroot().iter(SVG + "text"))
    assert "AttentionGate" in texts and "psi" in texts and "wg" in texts


# -- 8. preprocessing drawn small; fcnn says what its links mean -----------------------------


def test_keras_preprocessing_drawn_small() -> None:
    """EfficientNetB0's Rescaling and Normalization (Keras preprocessing layers on the
    224×224 input) are thin slabs, far smaller than the input's box."""
    tex = netdraw.render(_view("keras-efficientnet-b0", "tikz"), "tex", style="tikz")
    boxes = {}
    for m in re.finditer(r"% (\S+) \(([^)]*)\)\n\\nd(?:Band)?Box\{([-\d.]+)\}\{([-\d.]+)\}"
                         r"\{([-\d.]+)\}\{([-\d.]+)\}", tex):
        boxes[m.group(2)] = (float(m.group(5)), float(m.group(6)))  # (t, h)
    assert boxes["Rescaling"][1] <= 0.7 and boxes["Normalization"][1] <= 0.7
    assert boxes["InputLayer"][1] >= 2 * boxes["Rescaling"][1]


def test_fcnn_draws_kernels_not_dense_links_between_maps() -> None:
    """fcnn on LeNet-5: channels are squares, a convolution's links are its kernels
    (every channel to every channel, dashed), a pooling's go channel to channel, and the
    legend says so; dense layers keep their neurons and full connections."""
    svg = netdraw.render(graph("zoo:lenet5"), "svg", style="fcnn")
    root = ET.fromstring(svg)
    groups = [g for g in root.iter(SVG + "g") if "connections" in (g.get("class") or "")]
    kinds = {g.get("class").split()[1] for g in groups}
    assert kinds == {"kernels", "channelwise", "dense"}
    for g in groups:
        lines = list(g.iter(SVG + "line"))
        if "channelwise" in g.get("class"):
            assert len({(ln.get("y1"), ln.get("y2")) for ln in lines}) == len(lines)
            assert all(abs(float(ln.get("y1")) - float(ln.get("y2"))) < 0.01 for ln in lines)
        if "kernels" in g.get("class"):
            assert g.get("stroke-dasharray")
    legend = " ".join(t.text for t in root.iter(SVG + "text"))
    assert "5×5 kernels: every channel to every channel" in legend
    assert "a channel (feature map), not a neuron" in legend
    assert any(r.get("class") == "channel" for r in root.iter(SVG + "rect"))


# -- 9. --label, --hide, --color in every style (and [tool.netdraw]) -------------------------


def _output(style: str, tmp_path: Path) -> Path:
    return tmp_path / ("f.tex" if style == "tikz" else "f.dot" if style == "graph" else "f.svg")


@pytest.mark.parametrize("style", STYLES)
def test_label_hide_and_colour_in_every_style(style: str, tmp_path: Path) -> None:
    out = _output(style, tmp_path)
    args = ["zoo:onnx-lenet5", "-o", str(out), "--width", "text", "--label",
            "conv1=First conv", "--hide", "pool2", "--color", "fc1=#ff8800",
            "--color", "conv=steelblue"]
    if style != "graph":
        args += ["--style", style]
    r = run_cli(*args)
    assert r.returncode == 0, r.stderr
    text = out.read_text()
    assert "First conv" in text and "pool2" not in text
    if style == "graph":
        assert 'fillcolor="#ff8800"' in text and 'fillcolor="steelblue"' in text
        # the hidden pool's input now feeds its consumer directly
        conv2 = re.search(r'(n\d+) \[label=<[^\n]*conv2', text).group(1)
        assert re.search(rf"n\d+ -> {conv2}", text)
    elif style == "tikz":
        pre = text.split(r"\begin{tikzpicture}")[0]
        assert re.search(r"\\definecolor\{ndconv\}\{HTML\}\{4682B4\}", pre)  # steelblue
        assert re.search(r"\\definecolor\{ndfill0\}\{HTML\}\{FF8800\}", text)
        assert re.search(r"% fc1 .*\n\\nd\w*Box\{[^\n]*\{ndfill0\}", text)
    else:
        root = ET.fromstring(text)
        layer = next(g for g in root.iter(SVG + "g") if g.get("data-name") == "fc1")
        assert "#ff8800" in {e.get("fill") for e in layer.iter()}
        conv = next(g for g in root.iter(SVG + "g") if g.get("data-name") == "First conv")
        assert "steelblue" in {e.get("fill") for e in conv.iter()}


def test_author_options_from_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "netdraw.toml").write_text(
        'label = ["conv1=Stem"]\nhide = ["pool1"]\ncolor = ["dense=#123456"]\n'
        'theme = "greyscale"\n')
    r = run_cli("zoo:onnx-lenet5", "-o", "g.dot", "--width", "column", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    text = (tmp_path / "g.dot").read_text()
    assert "Stem" in text and "pool1" not in text and '"#123456"' in text
    # a configured colour is a default for the drawings; .json has none and is not refused
    assert run_cli("zoo:onnx-lenet5", "-o", "g.json", cwd=tmp_path).returncode == 0


@pytest.mark.parametrize("args, message", [
    (["--label", "conv1"], "--label takes PATH=TEXT"),
    (["--hide", "nosuchlayer"], "--hide 'nosuchlayer' names no group or layer"),
    (["--color", "conv1=notacolour"], "is not a colour"),
    (["--color", "nosuch=red"], "--color 'nosuch' names no kind, group or layer"),
    (["--theme", "neon"], "unknown theme 'neon'"),
])
def test_author_option_errors(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / "x.svg"
    r = run_cli("zoo:onnx-lenet5", "-o", str(out), *args)
    assert_one_line_error(r, message)
    assert not out.exists()


# -- 10. one palette and one set of themes for every style -----------------------------------


def _fills(text: str, style: str) -> set[str]:
    if style == "graph":
        return {c.lower() for c in re.findall(r'fillcolor="(#[0-9a-fA-F]{6})"', text)}
    root = ET.fromstring(text)
    return {e.get("fill").lower() for e in root.iter()
            if (e.get("fill") or "").startswith("#") and len(e.get("fill")) == 7}


@pytest.mark.parametrize("theme", ["default", "colorblind", "greyscale"])
def test_one_palette_for_every_style(theme: str, tmp_path: Path) -> None:
    """A convolution and a pooling have one colour in every style: the theme's."""
    conv, pool = ("#" + THEMES[theme][k].lower() for k in ("conv", "pool"))
    for style in ("graph", "fcnn", "lenet", "alexnet"):
        out = tmp_path / ("f.dot" if style == "graph" else "f.svg")
        args = ["zoo:onnx-lenet5", "-o", str(out), "--theme", theme]
        r = run_cli(*args, *([] if style == "graph" else ["--style", style]))
        assert r.returncode == 0, r.stderr
        assert {conv, pool} <= _fills(out.read_text(), style), style
    pre = preamble(theme)
    for role in ("conv", "pool"):
        assert f"\\definecolor{{nd{role}}}{{HTML}}{{{THEMES[theme][TIKZ_ROLES[role]]}}}" in pre


def test_mono_greys_everything_even_the_kernel_pyramids() -> None:
    svg = netdraw.render(graph("zoo:lenet5"), "svg", style="alexnet", colors="mono")
    fills = _fills(svg, "alexnet") - {"#ffffff"}
    assert fills and all(f[1:3] == f[3:5] == f[5:7] for f in fills), fills
    root = ET.fromstring(svg)
    kernels = [e for g in root.iter(SVG + "g") if g.get("class") == "kernel" for e in g]
    assert kernels and all(e.get("fill")[1:3] == e.get("fill")[3:5] for e in kernels)


def test_greyscale_kinds_print_apart() -> None:
    """The kinds a figure shows side by side differ in lightness by 6 % or more in the
    greyscale theme (balls carry a symbol and dense layers are bars, so they may share)."""
    boxes = ("input", "block", "conv", "upsample", "conv_transpose", "attention", "pool")
    levels = sorted(int(THEMES["greyscale"][k][:2], 16) / 255 for k in boxes)
    assert all(b - a >= 0.06 - 1e-9 for a, b in zip(levels, levels[1:], strict=False)), levels
    assert all(v[0:2] == v[2:4] == v[4:6] for v in THEMES["greyscale"].values())


@pytest.mark.parametrize("style", STYLES)
def test_greyscale_prints_grey(style: str, tmp_path: Path) -> None:
    """Rendered in the greyscale theme, no pixel of any style has colour."""
    require_tool("pdftoppm")
    out = tmp_path / ("f.pdf" if style in ("graph", "tikz") else "f.svg")
    args = ["zoo:onnx-resnet", "-o", str(out), "--theme", "greyscale"]
    r = run_cli(*args, *([] if style == "graph" else ["--style", style]))
    assert r.returncode == 0, r.stderr
    if out.suffix == ".svg":
        require_tool("rsvg-convert")
        pdf = subprocess.run(["rsvg-convert", "-f", "pdf", str(out)], capture_output=True,
                             check=True).stdout
    else:
        pdf = out.read_bytes()
    data = rasterise(pdf, "ppm", dpi=40)
    parts = data.split(maxsplit=4)
    pixels = parts[4]
    assert max(max(pixels[i:i + 3]) - min(pixels[i:i + 3])
               for i in range(0, len(pixels), 3)) <= 3


# -- 11. TikZ colours once, in the preamble, for the author to change -------------------------


def test_tikz_colours_live_in_the_preamble(tmp_path: Path) -> None:
    """A fragment defines no palette colour; its preamble does, and a \\definecolor after
    the preamble's \\input restyles the figure (a red convolution in the rendered page)."""
    out = tmp_path / "net.tex"
    r = run_cli("zoo:onnx-lenet5", "-o", str(out), "--tikz-fragment", "--width", "column")
    assert r.returncode == 0, r.stderr
    assert "\\definecolor" not in out.read_text()
    assert "\\definecolor{ndconv}" in (tmp_path / "net-preamble.tex").read_text()
    doc = ("\\documentclass{article}\n\\input{net-preamble}\n"
           "\\definecolor{ndconv}{HTML}{FF0000}\n\\begin{document}\n\\input{net}\n"
           "\\end{document}\n")
    (tmp_path / "doc.tex").write_text(doc)
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                           "doc.tex"], cwd=tmp_path, capture_output=True, timeout=300)
    assert done.returncode == 0, done.stdout[-1500:]
    pixels = rasterise((tmp_path / "doc.pdf").read_bytes(), "ppm", dpi=60).split(maxsplit=4)[4]
    red = sum(1 for i in range(0, len(pixels), 3)
              if pixels[i] > 200 and pixels[i + 1] < 60 and pixels[i + 2] < 60)
    assert red > 50


# -- 12. a style option given to another style is refused, never a silent switch -------------


def test_theme_keeps_a_pdf_graphviz(tmp_path: Path) -> None:
    out = tmp_path / "x.pdf"
    r = run_cli("zoo:onnx-lenet5", "-o", str(out), "--theme", "greyscale")
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF") and b"pdfTeX" not in data and b"cairo" in data


@pytest.mark.parametrize("args, message", [
    (["-o", "{out}/x.svg", "--tikz-fragment"], "--tikz-fragment writes two files"),
    (["-o", "{out}/x.pdf", "--tikz-fragment"], "--tikz-fragment writes two files"),
    (["-o", "{out}/x.svg", "--angle", "30"], "--angle is an option of --style alexnet"),
    (["-o", "{out}/x.html", "--theme", "greyscale"], "--theme colours a drawing"),
])
def test_style_options_of_another_style_are_refused(args: list[str], message: str,
                                                    tmp_path: Path) -> None:
    r = run_cli("zoo:onnx-lenet5", *[a.format(out=tmp_path) for a in args])
    assert_one_line_error(r, message)
    assert list(tmp_path.iterdir()) == []


# -- 13. summary --latex for a paper ----------------------------------------------------------


def _latex(folder: Path, body: str, twocolumn: bool) -> str:
    doc = (f"\\documentclass{'[twocolumn]' if twocolumn else ''}{{article}}\n"
           "\\usepackage{booktabs,tabularx,longtable}\n\\begin{document}\n"
           f"{body}\n\\end{{document}}\n")
    (folder / "t.tex").write_text(doc)
    done = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                          cwd=folder, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:]
    return (folder / "t.log").read_text(errors="replace")


def test_summary_latex_fits_a_column(tmp_path: Path) -> None:
    r = run_cli("summary", "zoo:resnet50", "--latex", "--columns", "name,shape,params")
    assert r.returncode == 0, r.stderr
    table = r.stdout
    assert "Layer & Output shape & Params" in table and "Kind" not in table
    assert not re.search(r"& 1\$\\times\$", table)  # no batch axis
    assert "64$\\times$56$\\times$56" in table
    log = _latex(tmp_path, "\\sbox0{\\begin{minipage}{\\columnwidth}" + table
                 + "\\end{minipage}}\\typeout{W=\\the\\wd0,C=\\the\\columnwidth}"
                 "\\noindent\\usebox0",
                 twocolumn=True)
    assert "Overfull" not in log
    w, c = (float(v) for v in re.search(r"W=([\d.]+)pt,C=([\d.]+)pt", log).groups())
    assert w <= c + 0.01
    text = subprocess.run(["pdftotext", str(tmp_path / "t.pdf"), "-"], capture_output=True,
                          text=True, check=True).stdout
    require_module("torch")
    from netdraw.zoo.torch_models import resnet50

    total = sum(p.numel() for p in resnet50().parameters())  # torch's own count
    assert f"{total:,}" in text


def test_summary_long_table_breaks_across_pages(tmp_path: Path) -> None:
    r = run_cli("summary", "zoo:resnet50", "--full", "--latex")
    assert r.returncode == 0, r.stderr
    assert "\\begin{longtable}" in r.stdout and "\\endhead" in r.stdout
    log = _latex(tmp_path, r.stdout, twocolumn=False)
    assert "Overfull" not in log
    info = subprocess.run(["pdfinfo", str(tmp_path / "t.pdf")], capture_output=True, text=True,
                          check=True).stdout
    assert int(re.search(r"Pages:\s+(\d+)", info).group(1)) >= 3


def test_summary_kinds_speak_the_legends_words() -> None:
    """The summary's Kind column and the figures' legends name kinds alike."""
    r = run_cli("summary", "zoo:lenet5", "--columns", "kind")
    assert r.returncode == 0, r.stderr
    svg = netdraw.render(graph("zoo:lenet5"), "svg", style="alexnet")
    legend = {t.text for g in ET.fromstring(svg).iter(SVG + "g") if g.get("class") == "legend"
              for t in g.iter(SVG + "text")}
    kinds = {ln.strip().split(" +")[0] for ln in r.stdout.splitlines()[3:-2]}
    assert {"Convolution", "Pooling", "Fully connected"} <= kinds & legend


def test_svg_size_from_file_matches_print() -> None:
    """The helper reads what a browser would: an NN-SVG figure of 8.5 cm states 8.5cm."""
    svg = netdraw.render(graph("zoo:lenet5"), "svg", style="lenet", width="column")
    w, _, _ = svg_printed(svg)
    assert abs(w - 8.5) < 0.02
