"""Renders every zoo model into ``gallery/`` (the README's main command runs this)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from netdraw import zoo
from netdraw.api import render
from netdraw.ir import Graph
from netdraw.output import write_output

#: (suffix, render options) written for every zoo model.
GALLERY_OUTPUTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("svg", {}),
    ("png", {}),
    ("json", {}),
)

#: Zoo models also drawn in the NN-SVG figure styles as NAME.STYLE.svg, with their render
#: options; a name not (yet) in the zoo is skipped.
FIGURE_MODELS: dict[str, dict[str, object]] = {
    "lenet5": {}, "alexnet": {}, "resnet18": {"depth": 2},
    "onnx-lenet5": {}, "onnx-resnet": {},
    "resnet50": {}, "transformer": {},  # as drawn by default, for a 16.5 cm text width
}
FIGURE_STYLES = ("fcnn", "lenet", "alexnet")

#: Zoo models that also get a TikZ paper figure: NAME.tex and NAME.tikz.png (pdflatex and
#: pdftoppm). Names not in the zoo are skipped, so entries can precede their models.
TIKZ_GALLERY: tuple[str, ...] = ("lenet5", "resnet18", "unet", "resnet50", "transformer")

#: Zoo models shown on the first page of a two-column article, NAME.paper.png: the figure
#: \\input at the column width (its text-width version follows on the next page).
PAPER_GALLERY: tuple[str, ...] = ("resnet50",)

_PAPER = r"""\documentclass[twocolumn]{article}
%(preamble)s
\newcommand\filler{Residual networks learn residual functions with reference to the layer
inputs. Each stage halves the resolution and doubles the channels; repeated blocks are
drawn once with their count, and a block's first layer carries the projection shortcut. }
\title{Paper figures that fit a page}\author{netdraw}\date{}
\begin{document}
\maketitle
\begin{figure}[!t]
\centering
%(narrow)s\caption{%(name)s at the column width (\texttt{--width column}).}
\end{figure}
\begin{figure*}[t]
\centering
%(wide)s\caption{%(name)s at the text width (\texttt{--width text}).}
\end{figure*}
\section{Method}
\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler
\section{Results}
\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler
\end{document}
"""


def paper_page(graph: Graph) -> bytes:
    """The first page (PNG) of a two-column article holding ``graph`` as TikZ fragments:
    at the column width on that page, at the text width (a ``figure*``) on the next."""
    from netdraw.backends.tikz import preamble
    from netdraw.latex import compile_pdf, escape, rasterise

    wide, narrow = (render(graph, "tex", style="tikz", fragment=True, width=width)
                    for width in ("text", "column"))
    source = _PAPER % {"preamble": preamble(), "wide": wide, "narrow": narrow,
                       "name": escape(graph.name)}
    return rasterise(compile_pdf(source), "png", dpi=110)


def render_gallery(folder: Path, names: list[str] | None = None) -> Iterator[str]:
    """Write each zoo model's gallery files; yields one progress line per file."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or list(zoo.ZOO):
        graph = zoo.load(name)
        for suffix, options in GALLERY_OUTPUTS:
            target = folder / f"{name}.{suffix}"
            write_output(str(target), render(graph, suffix, **options))
            yield f"wrote {target}"
        if name in FIGURE_MODELS:
            for style in FIGURE_STYLES:
                target = folder / f"{name}.{style}.svg"
                write_output(str(target), render(graph, "svg", style=style,
                                                 **FIGURE_MODELS[name]))
                yield f"wrote {target}"
        if name in TIKZ_GALLERY:
            for target, fmt, options in ((folder / f"{name}.tex", "tex", {}),
                                         (folder / f"{name}.tikz.png", "png", {})):
                write_output(str(target), render(graph, fmt, style="tikz", **options))
                yield f"wrote {target}"
        if name in PAPER_GALLERY:
            target = folder / f"{name}.paper.png"
            write_output(str(target), paper_page(graph))
            yield f"wrote {target}"
