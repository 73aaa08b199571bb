"""Paper figures that fit a page (issue 16), measured on what the reader gets.

Every figure style's default output of deep real models must be at most 4:1 and keep its
smallest label at 6 pt or more at a 16.5 cm text width: for SVG from the file's own size
and font sizes, for TikZ from the compiled PDF's page (pdfinfo) and the fonts the picture
sets (its preamble's sizes times the scale it writes). A real two-column ``article``
\\inputs the fragment at \\columnwidth and \\includegraphics the PDF at \\textwidth, and
pdflatex compiles both without an overfull box.
"""

from __future__ import annotations

import os
import re
import subprocess
import warnings
import xml.etree.ElementTree as ET
from functools import cache
from pathlib import Path

import pytest
from conftest import assert_one_line_error, require_module, run_cli
from print_measure import svg_printed

import netdraw
from netdraw import zoo
from netdraw.backends.tikz import preamble
from netdraw.latex import compile_pdf

STYLES = ("tikz", "fcnn", "lenet", "alexnet")
MODELS = ("resnet50", "unet", "keras-ResNet50", "keras-EfficientNetB0", "keras-DenseNet121",
          "bert")


@cache
def model(name: str) -> netdraw.Graph:
    """The issue's test models: the zoo's ResNet-50 and U-Net, three keras.applications
    (weights=None) and a BERT-like encoder (transformers, random init; 12 layers)."""
    if name.startswith("keras-"):
        os.environ.setdefault("KERAS_BACKEND", "torch")
        keras = require_module("keras")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return netdraw.load(getattr(keras.applications, name[6:])(weights=None))
    if name == "bert":
        transformers = require_module("transformers")
        torch = require_module("torch")
        torch.manual_seed(0)
        config = transformers.BertConfig(hidden_size=128, num_hidden_layers=12,
                                         num_attention_heads=2, intermediate_size=512)
        bert = transformers.BertModel(config).eval()
        return netdraw.load(bert, input_shape=(1, 64), input_dtype="int64", name="bert")
    return zoo.load(name)


def svg_print(svg: str) -> tuple[float, float]:
    """(aspect, smallest label in pt) of an SVG at the physical size it states."""
    width, height, smallest = svg_printed(svg)
    assert width <= 16.5 + 0.01 and height <= 16.5 + 0.01, (width, height)
    return max(width, height) / min(width, height), smallest


def tikz_print(tex: str, tmp_path: Path) -> tuple[float, float, float]:
    """(aspect, smallest label in pt, picture width in cm) of a standalone TikZ document
    as pdflatex prints it: the page from pdfinfo less the 6 pt border; the fonts its
    labels use (the sizes the preamble gives their styles) times the scale it sets."""
    path = tmp_path / "f.pdf"
    path.write_bytes(compile_pdf(tex))
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    w, h = (float(v) * 72.27 / 72 - 12 for v in
            re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    sizes = dict(re.findall(r"(nd\w+)/\.style=\{font=\\normalfont\\fontsize\{([\d.]+)\}", tex))
    picture = tex.split(r"\begin{tikzpicture}")[1]
    used = set(re.findall(r"\\node\[(nd\w+)", picture))
    if r"\ndBall" in picture:
        used.add("ndsymbol")  # the + or C in a ball is a label too
    scale = float(re.search(r"\\def\\ndk\{([\d.]+)\}", picture).group(1))
    smallest = min(float(sizes[s]) for s in used) * scale
    return max(w, h) / min(w, h), smallest, w * 2.54 / 72.27


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("name", MODELS)
def test_default_figure_fits_a_text_width(name: str, style: str, tmp_path: Path) -> None:
    graph = model(name)
    if style == "tikz":
        aspect, smallest, width = tikz_print(netdraw.render(graph, "tex", style="tikz"),
                                             tmp_path)
        assert width < 16.55  # the page is the text width (narrower when tall)
        smallest *= 16.5 / width  # as the issue measures: scaled to 16.5 cm
    else:
        aspect, smallest = svg_print(netdraw.render(graph, "svg", style=style))
    assert aspect <= 4.0 and smallest >= 6.0, (aspect, smallest)


def test_wrapped_rows_are_joined_down_and_back(tmp_path: Path) -> None:
    """ResNet-50 does not fit one row: the main path wraps at clean cuts, and the arrow
    between rows leaves the last item, goes down, back to the left and into the first."""
    from netdraw.api import view
    from netdraw.backends.tikz_boxes import arranged

    graph = model("resnet50")
    how, fig = arranged(view(graph, depth=2))
    assert how.fits and fig.rows == how.rows >= 2 and fig.crossings() == []
    wraps = [r for r in fig.routes if r.wrap]
    assert len(wraps) == fig.rows - 1
    for r in wraps:
        a, b = fig.placed[r.src], fig.placed[r.dst]
        assert b.row == a.row + 1 and b.item.index == a.item.index + 1  # the main path
        xs = [x for x, _ in r.points]
        ys = [y for _, y in r.points]
        assert xs[1] == max(xs) and min(xs) < b.x  # right first, then back to the left
        assert ys == sorted(ys, reverse=True)  # only ever down
        below = [p for p in fig.placed.values() if p.row == a.row]
        assert min(ys[2:4]) < min(p.fp.extent()[1] for p in below)  # under the row
    svg = netdraw.render(view(graph, depth=2), "svg", style="alexnet")
    root = ET.fromstring(svg.encode("utf-8"))
    rows = [g for g in root.iter() if g.get("data-rows")]
    wrap_paths = [e for e in root.iter() if e.get("class") == "wrap"]
    assert int(rows[0].get("data-rows")) == len(wrap_paths) + 1 >= 2


@pytest.mark.parametrize("style", STYLES)
def test_unet_keeps_its_u(style: str) -> None:
    from netdraw.backends import figure_fit
    from netdraw.passes import make_view

    graph = model("unet")
    view = make_view(graph, None, figure_fit("tex" if style == "tikz" else "svg", style, {}))
    figure = view.meta["view"]["figure"]
    assert figure["rows"] == 1 and figure["fits"]
    if style == "tikz":
        from netdraw.backends.tikz_boxes import arranged

        _, fig = arranged(view)
        assert fig.mode == "u" and fig.crossings() == []
    else:
        svg = netdraw.render(view, "svg", style=style)
        assert 'data-layout="u"' in svg


def test_view_choice_uses_the_figure_fit() -> None:
    """The figure styles pick the deepest view that fits their print width: ResNet-50 at
    a text width shows its blocks, at a column width only its stages."""
    from netdraw.backends import figure_fit
    from netdraw.passes import describe_view, make_view

    graph = model("resnet50")
    text = make_view(graph, None, figure_fit("tex", "tikz", {}))
    column = make_view(graph, None, figure_fit("tex", "tikz", {"width": "column"}))
    assert text.meta["view"]["depth"] > column.meta["view"]["depth"] >= 1
    line = describe_view(text)
    rows = text.meta["view"]["figure"]["rows"]
    assert f"in {rows} rows" in line and "--width text (16.5 cm)" in line
    plain = make_view(graph)  # the diagram's own rule is untouched
    assert "figure" not in plain.meta["view"]


def _latex(folder: Path, name: str) -> str:
    done = subprocess.run(["pdflatex", "-halt-on-error", "-no-shell-escape",
                           "-interaction=nonstopmode", name], cwd=folder, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-3000:]
    return (folder / name.replace(".tex", ".log")).read_text(errors="replace")


_PAPER = r"""\documentclass[twocolumn]{article}
\usepackage{graphicx}
\input{net-preamble}
\newcommand\filler{Residual networks learn residual functions with reference to the
layer inputs; the figures show one at the width of a column and of the text. }
\begin{document}
\sbox0{\input{net}}\typeout{FIGURE=\the\wd0,COLUMN=\the\columnwidth}
\begin{figure}[t]
\centering
\input{net}
\caption{At the column width, by \texttt{\string\input}.}
\end{figure}
\begin{figure*}[t]
\centering
\includegraphics[width=\textwidth]{wide.pdf}
\caption{At the text width, by \texttt{\string\includegraphics}.}
\end{figure*}
\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler
\end{document}
"""


def test_two_column_article(tmp_path: Path) -> None:
    """A real paper: the fragment at \\columnwidth, the PDF at \\textwidth, no \\resizebox,
    no overfull box; the figure fills the column."""
    r = run_cli("zoo:resnet50", "-o", "net.tex", "--tikz-fragment", "--width", "column",
                cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert re.search(r"tikz figure for --width column \(8\.5 cm\) in \d rows?", r.stderr)
    assert r"\columnwidth/" in (tmp_path / "net.tex").read_text()
    assert (tmp_path / "net-preamble.tex").read_text() == preamble()
    r = run_cli("zoo:resnet50", "-o", "wide.pdf", "--style", "tikz", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    (tmp_path / "paper.tex").write_text(_PAPER)
    log = _latex(tmp_path, "paper.tex")
    assert "Overfull" not in log
    figure, column = (float(v) for v in re.search(r"FIGURE=([\d.]+)pt,COLUMN=([\d.]+)pt",
                                                   log).groups())
    assert 0.9 * column <= figure <= column + 0.1  # within \hfuzz: TeX does not call it overfull
    text = subprocess.run(["pdftotext", str(tmp_path / "paper.pdf"), "-"],
                          capture_output=True, text=True, check=True).stdout
    assert "layer1" in text and "avgpool" in text
    # The standalone PDF is the text width, so \includegraphics does not rescale it.
    info = subprocess.run(["pdfinfo", str(tmp_path / "wide.pdf")], capture_output=True,
                          text=True, check=True).stdout
    assert abs(float(re.search(r"Page size:\s+([\d.]+)", info).group(1)) - 16.5 / 2.54 * 72) < 1


def test_one_column_article_at_the_text_width(tmp_path: Path) -> None:
    graph = zoo.load("transformer")
    (tmp_path / "fig.tex").write_text(netdraw.render(graph, "tex", style="tikz",
                                                     fragment=True))
    (tmp_path / "fig-preamble.tex").write_text(preamble())
    (tmp_path / "doc.tex").write_text(
        "\\documentclass[12pt]{article}\n\\input{fig-preamble}\n\\begin{document}\n"
        "\\textbf{Bold context:}\\par\\noindent{\\bfseries\\large\\input{fig}}\n"
        "\\end{document}\n")
    log = _latex(tmp_path, "doc.tex")
    assert "Overfull" not in log
    fonts = subprocess.run(["pdffonts", str(tmp_path / "doc.pdf")], capture_output=True,
                           text=True, check=True).stdout
    assert "CMR7" in fonts  # the labels set their own size and shape, not the context's


@pytest.mark.parametrize("width, unit", [("8.5cm", r"\def\ndk{"), ("column", r"\columnwidth/"),
                                          ("text", r"\textwidth/"), ("85mm", r"\def\ndk{")])
def test_cli_width_is_written_into_the_fragment(width: str, unit: str, tmp_path: Path) -> None:
    out = tmp_path / "f.tex"
    r = run_cli("zoo:onnx-resnet", "-o", str(out), "--tikz-fragment", "--width", width)
    assert r.returncode == 0, r.stderr
    assert unit in out.read_text()


@pytest.mark.parametrize("args, message", [
    (["--width", "wide"], "--width must be text, column or a length"),
    (["--width", "100cm"], "--width must be text, column or a length"),
    (["--width", "text"], "--width is an option of --style"),
])
def test_cli_width_errors(args: list[str], message: str, tmp_path: Path) -> None:
    out = tmp_path / ("x.html" if args[1] == "text" else "x.tex")
    r = run_cli("zoo:onnx-lenet5", "-o", str(out), *args)
    assert_one_line_error(r, message)
    assert not out.exists()


def test_svg_styles_report_rows(tmp_path: Path) -> None:
    out = tmp_path / "r.svg"
    r = run_cli("zoo:onnx-resnet", "-o", str(out), "--style", "fcnn")
    assert r.returncode == 0, r.stderr
    line = r.stderr.strip().splitlines()[-1]
    assert line.startswith("netdraw: drew the default view at depth")
    rows = re.search(r"fcnn figure for --width text \(16\.5 cm\) in (\d) rows?", line)
    assert rows and f'data-rows="{rows.group(1)}"' in out.read_text()


def test_a_view_that_cannot_fit_comes_as_close_as_it_can_and_says_so() -> None:
    """Every layer of ResNet-50 cannot fit 16.5 cm (no clean cut between its residual
    blocks): it is drawn as close as it gets — its labels no smaller than with all labels
    kept (issue 24: a narrower width must not draw worse) — and the report says so."""
    from netdraw.backends import figure_fit
    from netdraw.backends.tikz_boxes import fit
    from netdraw.passes import ViewOptions, describe_view, make_view

    full = make_view(model("resnet50"), ViewOptions.full(), figure_fit("tex", "tikz", {}))
    figure = full.meta["view"]["figure"]
    assert not figure["fits"] and figure["rows"] == 1
    kept = fit(full, "full").print.smallest_pt  # the closest with every label kept
    assert figure["smallest_pt"] >= round(kept, 1)
    assert "so it does not fit the page" in describe_view(full)
