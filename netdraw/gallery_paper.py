"""The figure gallery's paper pages: a two-column article (``\\documentclass[twocolumn]
{article}``, compiled with pdflatex, rendered with pdftoppm) holding one figure in every
style, drawn by default from models outside the zoo (:mod:`netdraw.zoo.paper_models`), at
``\\columnwidth`` (``paper-column.png``) and at ``\\textwidth`` (``paper-text.png``, the
figures in ``figure*``).

Every figure is placed at the size its file states — TikZ fragments ``\\input`` for the
width, Graphviz PDFs and the NN-SVG looks (turned into PDF by ``rsvg-convert``, which keeps
their physical size) ``\\includegraphics`` without a width — so the page shows what an
author gets unedited. :func:`paper_document` returns the LaTeX and the files it needs;
:func:`paper_pages` compiles it and reports overfull boxes as errors.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from netdraw.errors import NetdrawError
from netdraw.ir import Graph

#: (model, style) of each figure, per width: every style once, each from a model outside
#: the zoo; the research-pattern models written for it (attention U-Net, siamese network)
#: among them.
PAPER_FIGURES: dict[str, tuple[tuple[str, str], ...]] = {
    "column": (("siamese", "tikz"), ("convnext-t", "alexnet"), ("vit-s", "lenet"),
               ("siamese", "fcnn"), ("swin-t", "graph")),
    "text": (("attention-unet", "tikz"), ("swin-t", "alexnet"), ("convnext-t", "lenet"),
             ("siamese", "fcnn"), ("attention-unet", "graph")),
}
WIDTH_TEX = {"column": r"\columnwidth", "text": r"\textwidth"}

_DOCUMENT = r"""\documentclass[twocolumn]{article}
\usepackage[margin=2cm]{geometry}
\usepackage{graphicx}
%(preamble)s
\newcommand\filler{A figure drawn from the model itself, for the width it is printed at:
its labels are 6\,pt or more there, and it stays within the page. }
\title{Figures at %(what)s}\author{netdraw}\date{}
\begin{document}
\maketitle
%(figures)s
\section{Method}
\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler
\section{Results}
\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler
\end{document}
"""


@dataclass(frozen=True)
class Figure:
    """One figure of the page: its LaTeX (a float), the files it needs and its report."""

    tex: str
    files: dict[str, bytes]
    report: str


def _rsvg_pdf(svg: str) -> bytes:
    exe = shutil.which("rsvg-convert")
    if exe is None:
        raise NetdrawError("the paper pages turn SVG figures into PDF with 'rsvg-convert': "
                           "run 'sudo apt-get install librsvg2-bin'")
    proc = subprocess.run([exe, "-f", "pdf"], input=svg.encode("utf-8"), capture_output=True,
                          timeout=300)
    if proc.returncode != 0:
        raise NetdrawError(f"rsvg-convert failed: {proc.stderr.decode(errors='replace')[:200]}")
    return proc.stdout


def figure(graph: Graph, style: str, width: str, stem: str) -> Figure:
    """``graph`` drawn in ``style`` for ``width`` as the float of a two-column article."""
    from netdraw.api import render
    from netdraw.backends import figure_fit
    from netdraw.latex import escape
    from netdraw.passes import describe_view, make_view

    fmt = {"tikz": "tex", "graph": "pdf"}.get(style, "svg")
    fit = figure_fit(fmt, style, {"width": width})
    view = make_view(graph, None, fit)
    if style == "tikz":
        body = render(view, "tex", style="tikz", fragment=True, width=width)
        files = {f"{stem}.tex": str(body).encode("utf-8")}
        include = rf"\input{{{stem}}}"
    else:
        data = render(view, fmt, style=style, width=width)
        pdf = data if fmt == "pdf" else _rsvg_pdf(str(data))
        files = {f"{stem}.pdf": bytes(pdf)}
        include = rf"\includegraphics{{{stem}.pdf}}"
    env = "figure*" if width == "text" else "figure"
    caption = escape(f"{graph.name}, style {style}, --width {width}")
    tex = (f"\\begin{{{env}}}[!htbp]\n\\centering\n{include}\n"
           f"\\caption{{{caption}.}}\n\\end{{{env}}}\n")
    return Figure(tex, files, describe_view(view))


def paper_document(width: str, models: dict[str, Callable[[], Graph]] | None = None,
                   figures: tuple[tuple[str, str], ...] | None = None
                   ) -> tuple[str, dict[str, bytes], list[str]]:
    """The article for ``width`` (``column`` or ``text``): its source, the figure files and
    one report line per figure."""
    from netdraw.backends.tikz import preamble

    if models is None:
        from netdraw.zoo.paper_models import PAPER_MODELS

        models = PAPER_MODELS
    graphs: dict[str, Graph] = {}
    parts, files, reports = [], {}, []
    for i, (name, style) in enumerate(figures or PAPER_FIGURES[width]):
        if name not in graphs:
            graphs[name] = models[name]()
        one = figure(graphs[name], style, width, f"fig{i}-{style}")
        parts.append(one.tex)
        files.update(one.files)
        reports.append(f"{name} ({style}): {one.report}")
    what = WIDTH_TEX[width].replace("\\", r"\texttt{\char`\\}")
    source = _DOCUMENT % {"preamble": preamble(), "figures": "".join(parts),
                          "what": f"{what} ({width})"}
    return source, files, reports


def compile_pages(source: str, files: dict[str, bytes], dpi: int = 110) -> tuple[bytes, str]:
    """The article's pages, three to a row, as one PNG, and the pdflatex log. An overfull
    box (a figure wider than its column) is an error."""
    from PIL import Image

    with tempfile.TemporaryDirectory(prefix="netdraw-paper-") as tmp:
        for rel, data in files.items():
            Path(tmp, rel).write_bytes(data)
        Path(tmp, "paper.tex").write_text(source, encoding="utf-8")
        proc = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error",
                               "-no-shell-escape", "paper.tex"], cwd=tmp, capture_output=True,
                              timeout=600)
        log = Path(tmp, "paper.log").read_text("utf-8", "replace")
        if proc.returncode != 0:
            raise NetdrawError(f"the paper page did not compile: {log[-600:]}")
        over = re.findall(r"Overfull \\[hv]box.*", log)
        if over:
            raise NetdrawError(f"a figure overflows the paper page: {over[0]}")
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), "paper.pdf", "page"], cwd=tmp,
                       check=True, capture_output=True, timeout=300)
        pages = [Image.open(p).convert("RGB") for p in sorted(Path(tmp).glob("page-*.png"))]
        gap, across = 12, min(3, len(pages))  # pages in rows of three, as a spread
        w, h = max(p.width for p in pages), max(p.height for p in pages)
        down = -(-len(pages) // across)
        sheet = Image.new("RGB", (across * w + gap * (across - 1), down * h + gap * (down - 1)),
                          (150, 150, 150))
        for k, page in enumerate(pages):
            sheet.paste(page, ((k % across) * (w + gap), (k // across) * (h + gap)))
        out = io.BytesIO()
        sheet.save(out, "PNG", optimize=True)
        return out.getvalue(), log


def paper_pages(folder: Path, widths: tuple[str, ...] = ("column", "text")) -> list[str]:
    """Write ``paper-WIDTH.png`` for each width into ``folder``; returns the report lines."""
    from netdraw.output import write_output

    lines = []
    for width in widths:
        source, files, reports = paper_document(width)
        png, _ = compile_pages(source, files)
        write_output(str(folder / f"paper-{width}.png"), png)
        lines += reports + [f"wrote {folder / f'paper-{width}.png'}"]
    return lines
