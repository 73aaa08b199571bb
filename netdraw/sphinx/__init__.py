"""Sphinx extension: ``extensions = ["netdraw.sphinx"]`` adds the ``netdraw`` directive, which
draws a model at build time, so a diagram in the docs never goes stale.

reStructuredText::

    .. netdraw:: models/net.onnx
       :depth: 2
       :caption: The network, drawn from the file.
       :summary:

MyST Markdown (with ``myst_parser`` in ``extensions``)::

    ```{netdraw} zoo:resnet18
    :style: tikz
    ```

MODEL is a path relative to the document (``/path`` is relative to the source folder),
``zoo:NAME`` or ``pkg.module:factory`` (importable from the build: ``sys.path`` in
``conf.py``). The options are those of ``netdraw draw`` without dashes — ``:depth:``,
``:style:``, ``:input-shape:``, ``:expand:`` (several separated by spaces), ``:full:``,
``:theme:``, ``:rankdir:``, ``:no-roll:``, … every option the ``draw`` parser has, read from
it — and the directive's own: ``:format: svg|html|png`` (what HTML pages show; ``html`` is
the interactive page in an iframe), ``:caption:``, ``:alt:``, ``:width:``, ``:height:``,
``:align:``, ``:name:`` (a label for ``:numref:``), ``:class:`` and ``:summary:`` (the
layer table of ``netdraw summary`` under the figure). ``[tool.netdraw]`` in the
``pyproject.toml`` nearest the source folder gives the defaults, as for the command line.

HTML builders get the SVG (or PNG, or the HTML page in an iframe); the LaTeX builder gets
the TikZ figure itself for ``:style: tikz`` (``\\input`` with the preamble in a
``netdraw.sty`` package the build adds), a Graphviz PDF for the diagram, and the SVG turned
into PDF (``rsvg-convert``) for the NN-SVG looks — vector figures in the docs' PDF.
Figures are cached beside the doctrees by a hash of the model file and the options
(see :mod:`netdraw.sphinx.render`); a model that cannot be drawn is a warning pointing at
the document and line, and the build goes on. Parallel builds (``-j N``) are safe.
"""

from __future__ import annotations

import os
import posixpath
import shutil
from html import escape
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.util import logging

from netdraw.errors import NetdrawError
from netdraw.sphinx.directive import (
    NetdrawDirective,
    cache_folder,
    netdraw_figure,
    option_spec,
)
from netdraw.sphinx.render import ASSETS, Request, ensure

logger = logging.getLogger("netdraw.sphinx")

LATEX_PACKAGE = "netdraw"


def setup(app: Any) -> dict[str, Any]:
    """Register the directive, its node and the LaTeX package."""
    from netdraw.version import __version__

    NetdrawDirective.option_spec = option_spec()
    app.add_node(netdraw_figure, html=(visit_html, None), latex=(visit_latex, None))
    app.add_directive("netdraw", NetdrawDirective)
    app.add_latex_package(LATEX_PACKAGE)
    app.connect("doctree-resolved", _other_builders)
    app.connect("build-finished", _write_latex_package)
    return {"version": __version__, "parallel_read_safe": True, "parallel_write_safe": True}


# -- writing ---------------------------------------------------------------------------------


def _figure(translator: Any, node: netdraw_figure) -> Path:
    """The node's cached figure (drawn again if the cache was emptied), copied to ``folder``."""
    request = Request.from_dict(node["request"])
    try:
        return ensure(request, cache_folder(translator.builder.env)).figure
    except NetdrawError as exc:
        logger.warning("netdraw: %s: %s", request.model, exc, location=node, type="netdraw",
                       subtype="model")
        raise nodes.SkipNode from None


def _copy(source: Path, folder: Path) -> None:
    target = folder / source.name
    if target.is_file() and target.stat().st_size == source.stat().st_size:
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{source.name}.{os.getpid()}.tmp"
    shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def visit_html(self: Any, node: netdraw_figure) -> None:
    figure = _figure(self, node)
    images = Path(self.builder.outdir) / self.builder.imagedir
    _copy(figure, images)
    shared = figure.parent / ASSETS
    if figure.suffix == ".html" and shared.is_dir():  # the pages' one copy of the scripts
        for item in shared.iterdir():
            _copy(item, images / ASSETS)
    uri = posixpath.join(self.builder.imgpath, figure.name)
    style = "".join(f"{key}: {node[key]};" for key in ("width", "height") if node.get(key))
    alt = escape(node["alt"], quote=True)
    classes = " ".join(["netdraw", *node.get("classes", [])])
    if figure.suffix == ".html":
        style = style or "width: 100%; height: 600px;"
        tag = (f'<iframe class="{classes}" src="{escape(uri)}" title="{alt}" '
               f'style="border: 1px solid #ccc; {style}" loading="lazy"></iframe>')
    else:
        style_attr = f' style="{style}"' if style else ""
        tag = f'<img class="{classes}" src="{escape(uri)}" alt="{alt}"{style_attr} />'
    if node.get("align") and not isinstance(node.parent, nodes.figure):
        tag = f'<div class="netdraw align-{node["align"]}">{tag}</div>'
    self.body.append(tag + "\n")
    raise nodes.SkipNode


def visit_latex(self: Any, node: netdraw_figure) -> None:
    figure = _figure(self, node)
    _copy(figure, Path(self.builder.outdir))
    width = self.latex_image_length(node["width"]) if node.get("width") else None
    command = "netdrawfigure" if figure.suffix == ".tex" else "netdrawgraphics"
    body = rf"\{command}{{{width or ''}}}{{{figure.name}}}"
    if isinstance(node.parent, nodes.figure):
        self.body.append(body + "\n")
    else:
        align = node.get("align", "center")
        env = {"left": "flushleft", "right": "flushright"}.get(align, "center")
        self.body.append(f"\n\\begin{{{env}}}\n{body}\n\\end{{{env}}}\n")
    raise nodes.SkipNode


def _other_builders(app: Any, doctree: nodes.document, docname: str) -> None:
    """Builders without pictures (text, man, …) get the figure's alt text."""
    if app.builder.format in ("html", "latex"):
        return
    for node in list(doctree.findall(netdraw_figure)):
        node.replace_self(nodes.paragraph(text=f"[{node['alt']}]"))


def latex_package() -> str:
    """``netdraw.sty``: the TikZ preamble of the figures, ``\\netdrawfigure{width}{file}``,
    which inputs a TikZ figure, and ``\\netdrawgraphics{width}{file}``, which includes a PDF
    or PNG. Both scale the figure to ``width`` (or down to the line width) and then down to
    ``\\netdrawmaxheight`` (0.8\\textheight: room for a caption), so a tall diagram never
    makes a float too large for the page."""
    from netdraw.backends.tikz import preamble

    body = preamble().replace("\\usepackage", "\\RequirePackage")
    return "\n".join([
        r"\NeedsTeXFormat{LaTeX2e}",
        r"\ProvidesPackage{netdraw}[netdraw figures in a Sphinx document]",
        r"\RequirePackage{graphicx}",
        body,
        r"\makeatletter",
        r"\newsavebox\netdraw@box",
        r"\newlength\netdraw@maxh",
        r"\providecommand\netdrawmaxheight{0.8\textheight}",
        r"\newcommand\netdraw@fit[1]{\def\netdraw@w{#1}%",
        r"  \ifx\netdraw@w\@empty",
        r"    \ifdim\wd\netdraw@box>\linewidth",
        r"      \sbox\netdraw@box{\resizebox{\linewidth}{!}{\usebox\netdraw@box}}\fi",
        r"  \else\sbox\netdraw@box{\resizebox{#1}{!}{\usebox\netdraw@box}}\fi",
        r"  \setlength\netdraw@maxh{\netdrawmaxheight}%",
        r"  \ifdim\dimexpr\ht\netdraw@box+\dp\netdraw@box\relax>\netdraw@maxh",
        r"    \sbox\netdraw@box{\resizebox*{!}{\netdraw@maxh}{\usebox\netdraw@box}}\fi",
        r"  \usebox\netdraw@box}",
        r"\newcommand\netdrawfigure[2]{\sbox\netdraw@box{\input{#2}}\netdraw@fit{#1}}",
        r"\newcommand\netdrawgraphics[2]{\sbox\netdraw@box{\includegraphics{#2}}%",
        r"  \netdraw@fit{#1}}",
        r"\makeatother",
        "",
    ])


def _write_latex_package(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "latex":
        target = Path(app.builder.outdir) / f"{LATEX_PACKAGE}.sty"
        text = latex_package()
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
