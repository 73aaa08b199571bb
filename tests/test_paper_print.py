"""Figures printed at a width (issue 24, items 1-6), measured in the files themselves.

The oracles are outside the code under test: the widths a LaTeX article gives
(``\\columnwidth`` 8.5 cm, ``\\textwidth`` 16.5 cm), the physical size an SVG states and
the font sizes its text elements use (times every transform), the page ``pdfinfo`` reads
from a PDF, the coordinates TikZ is told to draw, and pdflatex's own log.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
from conftest import require_tool, run_cli
from paper_models import graph
from print_measure import pdf_page_cm, svg_printed, tikz_smallest_pt

import netdraw
from netdraw.backends import figure_fit
from netdraw.latex import compile_pdf
from netdraw.passes import make_view

WIDTH_CM = {"column": 8.5, "text": 16.5}
MAX_HEIGHT_CM = {"column": 12.75, "text": 16.5}  # 1.5 times the width, at most 16.5 cm
REPORT = re.compile(r"(\w+) figure for --width (\w+) \(([\d.]+) cm\)(?: in (\d+) (rows?|"
                    r"columns?))?.*?smallest label ([\d.]+) pt")


def _figure_view(name: str, style: str, width: str) -> netdraw.Graph:
    fmt = {"tikz": "tex", "graph": "svg"}.get(style, "svg")
    return make_view(graph(name), None, figure_fit(fmt, style, {"width": width}))


# -- 1, 2. every SVG states its printed size; the Graphviz diagram takes --width ------------


@pytest.mark.parametrize("name, width", [
    ("zoo:resnet50", "column"), ("zoo:resnet50", "text"), ("attention-unet", "text"),
    ("swin-t", "column"), ("swin-t", "text"), ("llama", "column"), ("llama", "text")])
def test_graphviz_diagram_at_a_width(name: str, width: str, tmp_path: Path) -> None:
    """The diagram's SVG states its size in pt and its PDF page is that size: within the
    width and the page's height, every label 6 pt or more at that size."""
    require_tool("dot")
    view = _figure_view(name, "graph", width)
    svg = netdraw.render(view, "svg", width=width)
    w, h, smallest = svg_printed(svg)
    assert re.search(r'<svg width="[\d.]+pt" height="[\d.]+pt"', svg)
    assert w <= WIDTH_CM[width] + 0.02 and h <= MAX_HEIGHT_CM[width] + 0.02, (w, h)
    assert smallest >= 6.0, smallest
    pdf = tmp_path / "d.pdf"
    pdf.write_bytes(netdraw.render(view, "pdf", width=width))
    pw, ph = pdf_page_cm(pdf)
    assert abs(pw - w) < 0.05 and abs(ph - h) < 0.05  # no page margin around the drawing
    figure = view.meta["view"]["figure"]
    assert figure["fits"] and abs(figure["smallest_pt"] - smallest) <= 0.15


def test_graphviz_that_cannot_fit_says_so(tmp_path: Path) -> None:
    """The attention U-Net's diagram cannot reach 6 pt in a column (its U is 16 layers
    deep); it is drawn as close as it gets and the report says so, as the file measures."""
    require_tool("dot")
    src = tmp_path / "au.json"
    src.write_text(netdraw.render(graph("attention-unet"), "json"))
    r = run_cli(str(src), "-o", str(tmp_path / "au.svg"), "--width", "column")
    assert r.returncode == 0, r.stderr
    assert "so it does not fit the page" in r.stderr
    _, _, smallest = svg_printed((tmp_path / "au.svg").read_text())
    assert smallest < 6.0 and abs(float(REPORT.search(r.stderr).group(6)) - smallest) <= 0.1


def test_graphviz_without_width_is_the_screen_diagram() -> None:
    """Without --width the diagram keeps its own view rule and natural size."""
    view = make_view(graph("zoo:resnet50"))
    assert "figure" not in view.meta["view"]
    assert ' size="' not in netdraw.render(view, "dot")


def test_graphviz_u_net_is_drawn_as_a_u(tmp_path: Path) -> None:
    """An encoder–decoder prints as a U: each skip's ends on one rank, side by side."""
    require_tool("dot")
    view = _figure_view("attention-unet", "graph", "text")
    dot = netdraw.render(view, "dot", width="text")
    pairs = re.findall(r"\{rank=same; (n\d+); (n\d+)\}", dot)
    assert len(pairs) == 4  # enc1-dec1 … enc4-dec4
    plain = subprocess.run(["dot", "-Tplain"], input=dot, capture_output=True, text=True,
                           check=True).stdout
    at = {p[1]: (float(p[2]), float(p[3])) for p in
          (ln.split() for ln in plain.splitlines()) if p and p[0] == "node"}
    for a, b in pairs:
        assert abs(at[a][1] - at[b][1]) < 0.01 and at[b][0] > at[a][0]  # same height


@pytest.mark.parametrize("style", ["fcnn", "lenet", "alexnet"])
@pytest.mark.parametrize("width", ["column", "text"])
def test_figure_svg_states_its_size_in_cm(style: str, width: str) -> None:
    svg = netdraw.render(_figure_view("vit-s", style, width), "svg", style=style,
                         width=width)
    head = svg.split(">", 2)[1]
    assert re.search(r' width="[\d.]+cm"', head) and re.search(r' height="[\d.]+cm"', head)
    w, h, smallest = svg_printed(svg)
    assert w <= WIDTH_CM[width] + 0.01 and h <= MAX_HEIGHT_CM[width] + 0.01
    assert smallest >= 6.0


# -- 3. a narrower width never draws a worse figure ------------------------------------------


@pytest.mark.parametrize("style", ["fcnn", "lenet", "alexnet"])
@pytest.mark.parametrize("name", ["zoo:unet", "vit-s"])
def test_column_figure_no_worse_than_the_text_one_shrunk(name: str, style: str) -> None:
    """Fitted to a column, a figure's smallest label is at least what the text-width
    figure would print at if shrunk to the column; and it fills the column unless its
    height is what limits it (it is never a narrow strip with room to spare)."""
    wide = svg_printed(netdraw.render(_figure_view(name, style, "text"), "svg", style=style,
                                      width="text"))
    narrow = svg_printed(netdraw.render(_figure_view(name, style, "column"), "svg",
                                        style=style, width="column"))
    shrunk = wide[2] * min(8.5 / wide[0], 12.75 / wide[1], 1.0)
    assert narrow[2] >= shrunk - 0.05, (narrow, wide)
    assert narrow[0] >= 0.95 * 8.5 or narrow[1] >= 0.98 * 12.75, narrow


# -- 4. the one-line report describes the file written ---------------------------------------


@pytest.mark.parametrize("style", ["graph", "fcnn", "lenet", "alexnet", "tikz"])
@pytest.mark.parametrize("width", ["column", "text"])
def test_report_describes_the_file(style: str, width: str, tmp_path: Path) -> None:
    """Rows (or the diagram's columns), smallest label and size in the report are read
    back from the SVG, or from the TikZ picture and its compiled page."""
    src = tmp_path / "swin.json"
    src.write_text(netdraw.render(graph("swin-t"), "json"))
    out = tmp_path / ("f.tex" if style == "tikz" else "f.svg")
    r = run_cli(str(src), "-o", str(out), "--style", style, "--width", width)
    assert r.returncode == 0, r.stderr
    m = REPORT.search(r.stderr)
    assert m, r.stderr
    assert m.group(2) == width and float(m.group(3)) == WIDTH_CM[width]
    reported = float(m.group(6))
    text = out.read_text()
    if style == "tikz":
        smallest = tikz_smallest_pt(text)
        pdf = tmp_path / "f.pdf"
        pdf.write_bytes(compile_pdf(text))
        w, _ = pdf_page_cm(pdf)
        assert w <= WIDTH_CM[width] + 0.02
        rows = int(m.group(4))
        assert (f", {rows} rows" in text) == (rows > 1)
    else:
        w, h, smallest = svg_printed(text)
        if style != "graph":
            assert f'data-rows="{m.group(4)}"' in text
    assert abs(smallest - reported) <= 0.1, (smallest, reported)


# -- 5. arrows end on the outline of their box, clear of it ----------------------------------


_BOX = re.compile(r"\\ndBox\{([-\d.]+)\}\{([-\d.]+)\}\{([-\d.]+)\}\{([-\d.]+)\}\{([-\d.]+)\}"
                  r"\{([-\d.]+)\}\{nd(?!\w*!)")
_BAND = re.compile(r"\\ndBandBox\{([-\d.]+)\}\{([-\d.]+)\}\{([-\d.]+)\}\{([-\d.]+)\}"
                   r"\{([-\d.]+)\}\{([-\d.]+)\}")
_BALL = re.compile(r"\\ndBall\{([-\d.]+)\}\{([-\d.]+)\}\{([-\d.]+)\}")
_ARROW = re.compile(r"\\draw\[nd(?:flow|skip)[^\]]*\] (.*);")


def _outlines(picture: str) -> list[list[tuple[float, float]]]:
    """Every box (its front face and depth, as the macros draw it) and ball, as polygons."""
    import math

    out = []
    for m in [*_BOX.finditer(picture), *_BAND.finditer(picture)]:
        x, y, t, h, dx, dy = (float(v) for v in m.groups())
        out.append([(x, y), (x + t, y), (x + t + dx, y + dy), (x + t + dx, y + h + dy),
                    (x + dx, y + h + dy), (x, y + h)])
    for m in _BALL.finditer(picture):
        cx, cy, r = (float(v) for v in m.groups())
        out.append([(cx + r * math.cos(2 * math.pi * k / 48),
                     cy + r * math.sin(2 * math.pi * k / 48)) for k in range(48)])
    return out


def _distance(p: tuple[float, float], poly: list[tuple[float, float]]) -> float:
    """Distance from a point to a polygon's boundary; negative inside it."""
    best = float("inf")
    for (ax, ay), (bx, by) in zip(poly, poly[1:] + poly[:1], strict=True):
        vx, vy = bx - ax, by - ay
        t = max(0.0, min(1.0, ((p[0] - ax) * vx + (p[1] - ay) * vy) / (vx * vx + vy * vy
                                                                         or 1e-12)))
        best = min(best, ((p[0] - ax - t * vx) ** 2 + (p[1] - ay - t * vy) ** 2) ** 0.5)
    inside = False
    for (ax, ay), (bx, by) in zip(poly, poly[1:] + poly[:1], strict=True):
        if (ay > p[1]) != (by > p[1]) and p[0] < ax + (p[1] - ay) * (bx - ax) / (by - ay):
            inside = not inside
    return -best if inside else best


@pytest.mark.parametrize("width", ["column", "text"])
@pytest.mark.parametrize("name", ["zoo:unet", "attention-unet", "zoo:resnet50"])
def test_tikz_arrowheads_end_on_the_box(name: str, width: str) -> None:
    """Each arrow ends on the outline of a box or ball (not inside it), and its last
    straight piece is longer than its head (4.2 pt, scaled with the picture like
    everything in it), so the head points into the box it reaches."""
    tex = netdraw.render(_figure_view(name, "tikz", width), "tex", style="tikz", width=width)
    picture = tex.split(r"\begin{tikzpicture}")[1]
    assert "scale=\\ndk" in tex  # heads scale with the picture, in picture units below
    boxes = _outlines(picture)
    head = 4.2 / 72.27 * 2.54  # cm at the picture's natural unit
    arrows = [[tuple(float(v) for v in p.split(",")) for p in
               re.findall(r"\(([-\d.]+,[-\d.]+)\)", m.group(1))]
              for m in _ARROW.finditer(picture)]
    assert arrows
    for pts in arrows:
        end, before = pts[-1], pts[-2]
        gaps = [_distance(end, b) for b in boxes]
        assert min(abs(g) for g in gaps) < 0.03, (pts, min(gaps, key=abs))
        assert all(g > -0.03 for g in gaps), pts  # not inside any glyph
        last = ((end[0] - before[0]) ** 2 + (end[1] - before[1]) ** 2) ** 0.5
        assert last >= head, (pts, last)


# -- 5, 6. brackets with --expand; no wrap that is not needed; a U as tall as it needs -------


def test_expanded_decoder_bracket_spans_only_its_own_items() -> None:
    """--depth 1 --expand dec1: a bracket spans exactly the items of its group."""
    from netdraw.api import view
    from netdraw.backends.tikz_boxes import arranged

    _, fig = arranged(view(graph("attention-unet"), depth=1, expand=["dec1"]))
    assert fig.marks
    for mark in fig.marks:
        path = mark.bracket.path
        inside = [p for p in fig.placed.values() if p.item.node.group[:len(path)] == path]
        xs = [x for p in inside for x in (p.fp.extent()[0], p.fp.extent()[2])]
        others = [p for p in fig.placed.values() if p not in inside and p.row == inside[0].row
                  and p.lane == 0]
        assert mark.x_lo >= min(xs) - 0.05 and mark.x_hi <= max(xs) + 0.05
        assert not any(mark.x_lo < (p.fp.extent()[0] + p.fp.extent()[2]) / 2 < mark.x_hi
                       for p in others)


def _chain(n: int) -> netdraw.Graph:
    """An input and ``n`` convolutions, each halving the map and doubling the channels."""
    from netdraw.ir import Graph, Node, TensorSpec

    g = Graph("chain")
    for i in range(n + 1):
        c, hw = (3, 64) if i == 0 else (8 * 2 ** min(i, 6), max(64 // 2 ** i, 2))
        g.add_node(Node(f"n{i}", f"c{i}" if i else "x", "conv" if i else "input",
                        "Conv" if i else "Input", attrs={"kernel_size": [3, 3]} if i else {},
                        outputs=[TensorSpec((1, c, hw, hw))]))
        if i:
            g.add_edge(f"n{i - 1}", f"n{i}", TensorSpec((1, c, hw, hw)))
    return g


@pytest.mark.parametrize("n, width, styles", [
    (5, "column", ("tikz",)), (8, "text", ("tikz", "fcnn", "lenet", "alexnet"))])
def test_no_wrap_where_none_is_needed(n: int, width: str, styles: tuple[str, ...]) -> None:
    """A chain that is legible in one row is drawn in one row."""
    for style in styles:
        fmt = "tex" if style == "tikz" else "svg"
        view = make_view(_chain(n), None, figure_fit(fmt, style, {"width": width}))
        figure = view.meta["view"]["figure"]
        assert figure["rows"] == 1 and figure["fits"], (style, figure)


def test_a_strip_across_the_page_fits_a_tall_column_does_not() -> None:
    """Print fits by legibility and the page: a figure 8× wider than tall is a strip
    across the page (fits); one more than 4× taller than wide does not."""
    from netdraw.figure.fit import Print

    assert Print(1.0, 16.5, 16.5 / 7.9, 6.0).fits
    assert not Print(1.0, 16.5, 16.5 / 8.2, 6.0).fits
    assert not Print(1.0, 3.0, 12.5, 6.0).fits and Print(1.0, 3.2, 12.5, 6.0).fits


def test_u_net_is_not_taller_than_its_nesting_needs(tmp_path: Path) -> None:
    """The U's levels stack only where they meet: the attention U-Net's TikZ figure at the
    text width is well under a page (it filled all 16.5 cm before) and keeps its U."""
    from netdraw.backends.tikz_boxes import arranged

    view = _figure_view("attention-unet", "tikz", "text")
    how, fig = arranged(view, width="text")
    assert fig.mode == "u" and how.fits
    assert how.print.height_cm <= 12.0, how.print
    levels = sorted({round(p.y, 3) for p in fig.placed.values()}, reverse=True)
    assert len(levels) == 5  # five resolutions, each on its own line, top to bottom


# -- 14. Graphviz figures of a LaTeX build stay within the text height ----------------------


def test_sphinx_latex_graphviz_pdf_within_the_page(tmp_path: Path) -> None:
    """The Sphinx directive's PDF for a LaTeX build of a tall model is printed at the
    text width: its page is at most 16.5 cm tall (it was 1 m: "Float too large")."""
    require_tool("dot")
    from netdraw.sphinx.render import Request, ensure

    result = ensure(Request("zoo:resnet50", ("--depth", "2"), "pdf", str(tmp_path)),
                    tmp_path / "cache")
    w, h = pdf_page_cm(result.figure)
    assert w <= 16.52 and h <= 16.52, (w, h)
