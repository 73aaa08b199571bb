"""The TikZ writer, read back from the ``.tex`` it writes: each box's coordinates, the
arrows that join them, ghost copies of a rolled run, colours, the bounding box, the unit,
names and numbers.

Oracles: the file itself (numbers parsed out of ``\\ndBox``, ``\\ndBall``, ``\\draw`` and
``\\definecolor``), the geometry of the box macros (a box's front face is ``t`` wide and
its depth goes ``dx`` right: an arrow leaves at ``x0 + t + dx``), and hand counts and
hand arithmetic. Whether the source compiles is `test_tikz.py`'s job (pdflatex).
"""

from __future__ import annotations

import re

import pytest

from netdraw import render
from netdraw.backends.tikz import _file_name, _finalize, _Images, auto_dpi, image_folder_name, num
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.latex import Tex

NUMBER = r"(-?[0-9.]+)"


def chain(repeat: int = 1, fill: dict[str, str] | None = None) -> Graph:
    """x (3@32×32) -> conv1 (+ReLU, 16@32×32) -> pool (16@16×16) -> add -> fc (10)."""
    g = Graph("tiny")
    def s(*d):
        return (TensorSpec((1, *d)))
    nodes = [("x", "x", "input", "Input", {}, [], [s(3, 32, 32)]),
             ("c", "conv1", "conv", "Conv2d", {"kernel_size": [3, 3]}, [s(3, 32, 32)],
              [s(16, 32, 32)]),
             ("r", "relu", "activation", "ReLU", {}, [s(16, 32, 32)], [s(16, 32, 32)]),
             ("p", "pool", "pool", "MaxPool2d", {"repeat": repeat} if repeat > 1 else {},
              [s(16, 32, 32)], [s(16, 16, 16)]),
             ("a", "add", "add", "Add", {}, [s(16, 16, 16)] * 2, [s(16, 16, 16)]),
             ("f", "fc", "dense", "Linear", {}, [s(4096)], [s(10)])]
    for nid, name, kind, op, attrs, ins, outs in nodes:
        attrs = dict(attrs)
        if fill and nid in fill:
            attrs["fill"] = fill[nid]
        g.add_node(Node(nid, name, kind, op, attrs, 0, ins, outs))
    ids = [n[0] for n in nodes]
    for a, b in zip(ids, ids[1:], strict=False):
        g.add_edge(a, b, TensorSpec((1,)))
    g.inputs.append("x")
    return g


def glyphs(tex: str) -> list[tuple[str, str, list[float], list[str]]]:
    """(comment, macro, numbers, colour arguments) of each glyph, in file order."""
    out, comment = [], ""
    for line in tex.splitlines():
        if line.startswith("% "):
            comment = line[2:]
            continue
        m = re.match(r"\\(ndBox|ndBandBox|ndBall)(.*)$", line)
        if m:
            args = re.findall(r"\{([^{}]*(?:\{[^{}]*\}[^{}]*)*)\}", m.group(2))
            numbers = [float(a) for a in args if re.fullmatch(r"-?[0-9.]+", a)]
            colours = [a for a in args if not re.fullmatch(r"-?[0-9.]+", a)]
            out.append((comment, m.group(1), numbers, colours))
    return out


def arrows(tex: str) -> list[tuple[str, list[tuple[float, float]]]]:
    out = []
    for m in re.finditer(r"\\draw\[([^\]]*)\] (.*);", tex):
        points = [(float(x), float(y)) for x, y in
                  re.findall(rf"\({NUMBER},{NUMBER}\)", m.group(2))]
        out.append((m.group(1), points))
    return out


def test_boxes_sit_left_to_right_and_arrows_join_their_faces():
    tex = render(chain(), "tex", style="tikz", fragment=True, width="8cm")
    # five boxes (the ReLU is folded into the convolution's band) of the view's 5 nodes
    assert "% netdraw figure of tiny: 5 layers drawn of 5 nodes, left to right" in tex
    layers = [g for g in glyphs(tex) if g[0] != "legend"]
    assert [(c, macro) for c, macro, _, _ in layers] == [
        ("x (Input)", "ndBox"), ("conv1 (Conv2d)", "ndBandBox"), ("pool (MaxPool2d)", "ndBox"),
        ("add (Add)", "ndBall"), ("fc (Linear)", "ndBox")]
    assert [c for _, _, _, c in layers] == [["ndinput"], ["ndconv", "ndband"], ["ndpool"],
                                            ["ndadd", "$+$"], ["nddense"]]

    def right(g) -> float:  # where an arrow leaves: front face plus depth
        n = g[2]
        return n[0] + n[2] if g[1] == "ndBall" else n[0] + n[2] + n[4]

    def left(g) -> float:
        n = g[2]
        return n[0] - n[2] if g[1] == "ndBall" else n[0]

    flows = [pts for style, pts in arrows(tex) if style == "ndflow"]
    assert len(flows) == 4  # x->conv, conv->pool, pool->add, add->fc (ReLU folded in)
    for (a, b), pts in zip(zip(layers, layers[1:], strict=False), flows, strict=True):
        assert pts[0][0] == pytest.approx(right(a), abs=0.002)
        assert pts[-1][0] == pytest.approx(left(b), abs=0.002)
        assert pts[0][1] == pts[-1][1] == 0
    # the boxes show their resolution: 32×32 boxes are taller than the 16×16 pool's
    assert layers[0][2][3] == layers[1][2][3] > layers[2][2][3]
    # the bounding box holds every coordinate written
    x0, y0, x1, y1 = map(float, re.search(
        rf"\\useasboundingbox \({NUMBER},{NUMBER}\) rectangle \({NUMBER},{NUMBER}\);",
        tex).groups())
    for _, macro, n, _ in glyphs(tex):
        xs = [n[0] - n[2], n[0] + n[2]] if macro == "ndBall" else [n[0], n[0] + n[2] + n[4]]
        assert x0 - 1e-3 <= min(xs) and max(xs) <= x1 + 1e-3
    for _, pts in arrows(tex):
        assert all(x0 - 1e-3 <= x <= x1 + 1e-3 and y0 - 1e-3 <= y <= y1 + 1e-3
                   for x, y in pts)


@pytest.mark.parametrize(("repeat", "ghosts"), [(2, 1), (3, 2), (7, 2)])
def test_a_rolled_run_draws_its_copies_behind(repeat, ghosts):
    tex = render(chain(repeat), "tex", style="tikz", fragment=True, width="8cm")
    lines = tex.splitlines()
    start = lines.index("% pool (MaxPool2d)")
    block = lines[start + 1:start + 2 + ghosts]
    copies = [list(map(float, re.findall(r"\{(-?[0-9.]+)\}", ln))) for ln in block[:-1]]
    assert all(ln.endswith("{ndpool!50!white}") for ln in block[:-1])
    assert block[-1].startswith(r"\ndBox") and block[-1].endswith("{ndpool}")
    box = list(map(float, re.findall(r"\{(-?[0-9.]+)\}", block[-1])))
    # the farthest copy first, each one step up and to the right of the one before it
    steps = [(c[0] - box[0], c[1] - box[1]) for c in copies]
    assert len(steps) == ghosts and all(dx > 0 and dy > 0 for dx, dy in steps)
    assert steps == sorted(steps, reverse=True)
    assert all(c[2:6] == box[2:6] for c in copies)  # same size as the box
    assert f"×{repeat}" in tex or rf"$\times${repeat}" in tex


def test_author_fills_are_defined_once_and_used_by_their_boxes():
    tex = render(chain(fill={"c": "#ff8000", "p": "#FF8000", "f": "teal"}), "tex",
                 style="tikz", fragment=True, width="8cm")
    defined = dict(re.findall(r"\\definecolor\{(nd\w+)\}\{HTML\}\{(\w{6})\}", tex))
    assert defined["ndfill0"].upper() == "FF8000" and "ndfill1" in defined
    assert "ndfill2" not in defined
    layers = {g[0]: g[3] for g in glyphs(tex) if g[0] != "legend"}
    # a band box takes a darker shade of the author's colour for its band
    assert layers["conv1 (Conv2d)"] == ["ndfill0", "ndfill0!75!black"]
    assert layers["pool (MaxPool2d)"] == ["ndfill0"]
    assert layers["fc (Linear)"] == ["ndfill1"]
    assert layers["x (Input)"] == ["ndinput"]
    # without fills: no colours inside the picture (the preamble defines them)
    assert r"\definecolor" not in render(chain(), "tex", style="tikz", fragment=True)


def test_inline_colours_and_themes():
    tex = render(chain(), "tex", style="tikz", fragment=True, inline_colours=True,
                 colors="conv=#123456")
    defined = dict(re.findall(r"\\definecolor\{(nd\w+)\}\{HTML\}\{(\w{6})\}", tex))
    assert defined["ndconv"].upper() == "123456" and "ndinput" in defined
    with pytest.raises(NetdrawError):
        render(chain(), "tex", style="tikz", colors="conv=notacolour")


def test_the_unit_of_a_fragment_and_of_a_document():
    tex = render(chain(), "tex", style="tikz", fragment=True, width="text")
    m = re.search(r"\\pgfmathsetmacro\{\\ndk\}\{\\textwidth/([0-9.]+)\}", tex)
    assert m and float(m.group(1)) > 0
    assert re.search(r"% printed at \\textwidth = [0-9.]+ cm: [0-9.]+ cm wide, smallest "
                     r"label [0-9.]+ pt", tex)
    assert "% Needs \\input{figure-preamble.tex} in the preamble" in tex
    tex = render(chain(), "tex", style="tikz", fragment=True, width="8cm",
                 preamble_name="out/my_pre.tex")
    assert re.search(r"\\def\\ndk\{[0-9.]+\}%", tex) and r"\pgfmathsetmacro" not in tex
    assert "% printed 8.0 cm wide" in tex
    assert r"\input{my_pre.tex}" in tex
    doc = render(chain(), "tex", style="tikz", width="8cm")
    assert doc.startswith("%") and r"\begin{document}" in doc and r"\end{document}" in doc
    assert "% Needs" not in doc and r"\definecolor{ndconv}" in doc


def test_a_huge_figure_is_scaled_into_what_tex_addresses(monkeypatch):
    from netdraw.backends import tikz
    natural = render(chain(), "tex", style="tikz", fragment=True, width="8cm")
    box = re.compile(rf"\\useasboundingbox \({NUMBER},{NUMBER}\) rectangle "
                     rf"\({NUMBER},{NUMBER}\);")
    x0, y0, x1, y1 = map(float, box.search(natural).groups())
    assert max(x1 - x0, y1 - y0) < 10
    monkeypatch.setattr(tikz, "MAX_CM", 3.0)  # as if the figure were far too big for TeX
    tex = render(chain(), "tex", style="tikz", fragment=True, width="8cm")
    values = [abs(v) for g in glyphs(tex) for v in g[2]]
    values += [abs(v) for _, pts in arrows(tex) for p in pts for v in p]
    values += [abs(float(v)) for v in re.findall(rf"at \({NUMBER},{NUMBER}\)", tex) for v in v]
    assert len(values) > 60 and max(values) <= 3.001
    s0, t0, s1, t1 = map(float, box.search(tex).groups())
    assert max(s1 - s0, t1 - t0) == pytest.approx(3.0, abs=0.002)  # the longer side
    assert (s1 - s0) / (x1 - x0) == pytest.approx(3.0 / max(x1 - x0, y1 - y0), rel=1e-3)
    # \ndk makes up for it: the unit grows as the coordinates shrink (same print size)
    ratio = float(re.search(r"\\def\\ndk\{([0-9.]+)\}", tex).group(1)) / float(
        re.search(r"\\def\\ndk\{([0-9.]+)\}", natural).group(1))
    assert ratio == pytest.approx((x1 - x0) / (s1 - s0), rel=1e-3)


def test_errors_of_the_format():
    from netdraw.backends import tikz
    with pytest.raises(NetdrawError, match=r"the TikZ style writes tex, pdf, png, not 'svg'"):
        tikz.render(chain(), "svg")
    with pytest.raises(NetdrawError, match=r"--tikz-fragment writes LaTeX source: give an "
                                           r"output ending in \.tex"):
        render(chain(), "pdf", style="tikz", fragment=True)


def test_numbers_names_and_resolutions():
    assert num(1.25) == "1.25" and num(2.0) == "2" and num(-1.5) == "-1.5"
    assert num(0.0001) == "0" and num(-0.0004) == "0" and num(0.0) == "0"
    assert num(12.3456) == "12.346" and num(-3.1) == "-3.1" and num(10.0) == "10"
    assert _finalize(True) == "True" and _finalize(7) == "7" and _finalize(None) == ""
    assert _finalize(0.5) == "0.5" and _finalize("a_b") == r"a\_b"
    tex = Tex(r"\x_y")
    assert _finalize(tex) is tex
    assert image_folder_name("my fig") == "my-fig-images"
    assert image_folder_name("--a..b--") == "a-b-images"
    assert image_folder_name("ñ€") == "figure-images"
    assert image_folder_name("a" * 70) == "a" * 60 + "-images"
    images = _Images("f-images")
    assert images.add("03-layer1.0/conv", b"1") == "f-images/03-layer1-0-conv.png"
    assert images.add("§§", b"2") == "f-images/image.png"
    assert images.add("b" * 80, b"3") == f"f-images/{'b' * 60}.png"
    assert images.files == {"f-images/03-layer1-0-conv.png": b"1",
                            "f-images/image.png": b"2", f"f-images/{'b' * 60}.png": b"3"}
    assert auto_dpi(2.54 * 8) == 300 and auto_dpi(2.54 * 10) == 240
    assert auto_dpi(2.54 * 16) == 150 and auto_dpi(2.54 * 20) == 150
    assert auto_dpi(2.54 * 10, width_px=1000, lo=50) == 100
    assert _file_name(None) == "figure-preamble.tex"
    assert _file_name("some/dir/pre-amble_1.tex") == "pre-amble_1.tex"
    assert _file_name("dir/a%b.tex") == r"a\%b.tex"
    assert _file_name("a+b.tex") == "a+b.tex" and _file_name("") == "figure-preamble.tex"


def bounding_width(tex: str) -> tuple[float, float]:
    x0, y0, x1, y1 = map(float, re.search(
        rf"\\useasboundingbox \({NUMBER},{NUMBER}\) rectangle \({NUMBER},{NUMBER}\);",
        tex).groups())
    return x1 - x0, y1 - y0


def test_the_printed_width_is_the_width_asked_for():
    # a fragment fills the width; a standalone document keeps its border (read from its
    # \documentclass line) inside it. \ndk cm per unit times the picture's width in units
    fragment = render(chain(), "tex", style="tikz", fragment=True, width="8cm")
    unit = float(re.search(r"\\def\\ndk\{([0-9.]+)\}", fragment).group(1))
    assert unit * bounding_width(fragment)[0] == pytest.approx(8.0, abs=0.002)
    doc = render(chain(), "tex", style="tikz", width="8cm")
    border_pt = float(re.search(r"\\documentclass\[border=([0-9.]+)pt\]\{standalone\}",
                                doc).group(1))
    unit = float(re.search(r"\\def\\ndk\{([0-9.]+)\}", doc).group(1))
    border_cm = 2 * border_pt * 2.54 / 72.27
    assert unit * bounding_width(doc)[0] + border_cm == pytest.approx(8.0, abs=0.002)
    # at \textwidth: \ndk = \textwidth (in TeX points) / the number written
    text = render(chain(), "tex", style="tikz", fragment=True, width="text")
    points = float(re.search(r"\\textwidth/([0-9.]+)\}", text).group(1))
    cm, printed = map(float, re.search(r"at \\textwidth = ([0-9.]+) cm: ([0-9.]+) cm wide",
                                       text).groups())
    ndk = cm * 72.27 / 2.54 / points  # \textwidth in TeX points over the number
    assert ndk * bounding_width(text)[0] == pytest.approx(printed, abs=0.05)  # as it says


def test_a_tall_figure_is_scaled_by_its_height(monkeypatch):
    from netdraw.backends import tikz
    g = Graph("tall")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 8, 16, 16))]))
    for k in range(8):  # eight parallel branches: eight lanes under a short main path
        g.add_node(Node(f"b{k}", f"b{k}", "conv", "Conv2d", {}, 0, [TensorSpec((1, 8, 16, 16))],
                        [TensorSpec((1, 8, 16, 16))]))
        g.add_edge("x", f"b{k}", TensorSpec((1, 8, 16, 16)))
    g.add_node(Node("cat", "cat", "concat", "Concat", {}, 0, [TensorSpec((1, 8, 16, 16))] * 8,
                    [TensorSpec((1, 64, 16, 16))]))
    for k in range(8):
        g.add_edge(f"b{k}", "cat", TensorSpec((1, 8, 16, 16)))
    g.inputs.append("x")
    w, h = bounding_width(render(g, "tex", style="tikz", fragment=True, legend=False))
    assert h > w
    monkeypatch.setattr(tikz, "MAX_CM", h / 2)
    w2, h2 = bounding_width(render(g, "tex", style="tikz", fragment=True, legend=False))
    assert h2 == pytest.approx(h / 2, abs=0.002) and w2 == pytest.approx(w / 2, abs=0.002)


def test_group_brackets_are_drawn():
    g = chain()
    for nid in ("c", "r", "p"):
        g.nodes[nid].group = ("features",)
    g.add_group(("features",), class_name="Sequential")
    tex = render(g, "tex", style="tikz", fragment=True, width="8cm")
    brackets = [pts for style, pts in arrows(tex) if style == "ndbracket"]
    assert len(brackets) == 1 and len(brackets[0]) >= 2
    assert re.search(r"\\node\[ndgroup, anchor=\w+\] at \([-0-9.]+,[-0-9.]+\) \{features\}",
                     tex)


def test_thumbnails_sit_on_their_boxes_faces_and_are_written_beside(tmp_path):
    import io

    import numpy as np
    from PIL import Image

    from netdraw.viz.activations import Activations
    g = chain()
    values = {"x": np.random.default_rng(0).random((1, 3, 32, 32)).astype(np.float32),
              "r": np.random.default_rng(1).random((1, 16, 32, 32)).astype(np.float32),
              "f": np.arange(10, dtype=np.float32)[None]}
    for fragment in (True, False):
        out = render(g, "tex", style="tikz", fragment=fragment, width="8cm",
                     activations=Activations(g, values), image_stem="my fig")
        lines = str(out).splitlines()
        images = {}
        for i, line in enumerate(lines):
            if line.startswith(r"\ndImage"):
                box = lines[i - 1]
                images[re.search(r"\{([^{}]*\.png)\}", line).group(1)] = (
                    [float(v) for v in re.findall(r"\{(-?[0-9.]+)\}", box)][:6],
                    [float(v) for v in re.findall(r"\{(-?[0-9.]+)\}", line)])
        names = sorted(images)
        assert names == ["my-fig-images/00-x.png", "my-fig-images/01-conv1.png",
                         "my-fig-images/04-fc.png", "my-fig-images/scale-sequential.png"]
        for name in names[:2]:  # a map on the H×W face: right of the front, up its depth
            (x0, y0, t, h, dx, dy), im = images[name]
            assert im == pytest.approx([x0 + t, y0, dx, dy, 0, h], abs=0.002)
        (x0, y0, t, h, dx, dy), im = images[names[2]]  # a strip on the front face
        assert im == pytest.approx([x0, y0, t, 0, 0, h], abs=0.002)
        assert sorted(out.files) == names
        for data in out.files.values():
            assert Image.open(io.BytesIO(data)).format == "PNG"
    for fragment in (True, False):  # without images: plain text, no files to write
        plain = render(g, "tex", style="tikz", fragment=fragment)
        assert type(plain) is str and not re.search(r"^\\ndImage", plain, re.M)


def test_a_bad_colour_fails_a_fragment_too():
    from netdraw.backends import tikz
    for fragment in (True, False):  # the writer itself checks, not only the front end
        with pytest.raises(NetdrawError, match="notacolour"):
            tikz.render(chain(), "tex", fragment=fragment, colors="conv=notacolour")


def test_a_diff_colours_changed_boxes_and_arrows():
    import netdraw
    a = chain()
    b = chain()
    b.nodes["f"].outputs = [TensorSpec((1, 12))]  # the head widened: 10 -> 12
    b.nodes["f"].attrs["units"] = 12
    tex = netdraw.diff(a, b).render("tex", style="tikz", fragment=True, width="8cm")
    defined = dict(re.findall(r"\\definecolor\{(nddeco\d+)\}\{HTML\}\{(\w{6})\}", tex))
    assert defined and all(re.fullmatch(r"[0-9A-F]{6}", v) for v in defined.values())
    fills = {c: g[3][0] for g in glyphs(tex) for c in [g[0]] if g[0] != "legend"}
    changed = [c for c, fill in fills.items() if fill.startswith("nddeco")]
    assert any(c.startswith("fc") or "fc" in c for c in changed)
    assert set(fills.values()) - {"ndinput", "ndconv", "ndpool", "ndadd", "nddense"} <= \
        set(defined)
