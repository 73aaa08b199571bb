"""TikZ backend: paper figures of 3D boxes (the PlotNeuralNet look), laid out from the IR.

Formats: ``tex`` (a standalone document, or with ``fragment=True`` just the
``tikzpicture`` for ``\\input``; its preamble is :func:`preamble`), ``pdf`` (one
``pdflatex`` run) and ``png`` (the PDF through ``pdftoppm``). The drawing macros are our
own TikZ definitions in ``netdraw/templates/tikz/``, rendered with jinja2 using
LaTeX-safe delimiters (``<< >>``, ``<% %>``) and a finalizer that escapes every string
that is not already LaTeX, so a layer name can never run a command.

Options: ``theme`` (``default``, ``colorblind``, ``greyscale``), ``title`` (none unless
given), ``legend`` and ``labels`` (default True; the CLI's ``--no-legend``, ``--no-labels``),
``spacing`` (gap factor, ``--spacing``), ``u_shape`` (draw encoder–decoders as a U),
``fragment``, ``preamble_name`` (the file the fragment's comment tells to ``\\input``),
``dpi`` (PNG resolution; default ``"auto"``: about 2400 pixels wide, 150 to 300 dpi).

>>> from netdraw.ir import Graph, Node, TensorSpec
>>> g = Graph("tiny")
>>> _ = g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 3, 32, 32))]))
>>> _ = g.add_node(Node("c", "conv_1", "conv", "Conv", outputs=[TensorSpec((1, 8, 32, 32))]))
>>> g.add_edge("x", "c")
>>> tex = render(g, "tex")
>>> "\\\\documentclass" in tex and "conv\\\\_1" in tex
True
"""

from __future__ import annotations

import functools
import os
import re
from typing import Any

import jinja2

from netdraw.errors import NetdrawError
from netdraw.figure import themes
from netdraw.figure.layout import GHOST, Figure, Glyph, Label, layout_figure
from netdraw.ir import Graph
from netdraw.latex import Tex, compile_pdf, escape, rasterise

FORMATS = ("tex", "pdf", "png")
_SYMBOLS = {"add": Tex("$+$"), "multiply": Tex(r"$\times$"), "concat": Tex(r"\textsf{C}"),
            "softmax": Tex(r"$\sigma$")}
_LIMIT = 40  # characters of a caption before it is shortened
#: Largest figure side in cm; bigger figures are scaled down (TeX stops near 575 cm).
MAX_CM = 540.0


def _finalize(value: Any) -> Any:
    """Every value a template prints: LaTeX as is, numbers compact, other text escaped."""
    if isinstance(value, Tex):
        return value
    if isinstance(value, bool):
        return escape(str(value))
    if isinstance(value, float):
        return num(value)
    if isinstance(value, int):
        return str(value)
    return escape("" if value is None else value)


def num(value: float) -> Tex:
    """A coordinate in cm with at most 3 decimals: ``1.250`` -> ``1.25``."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return Tex("0" if text in ("-0", "") else text)


@functools.lru_cache(maxsize=1)
def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.PackageLoader("netdraw", "templates/tikz"),
        block_start_string="<%", block_end_string="%>",
        variable_start_string="<<", variable_end_string=">>",
        comment_start_string="<#", comment_end_string="#>",
        trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined, finalize=_finalize, autoescape=False)


def preamble() -> str:
    """The preamble a ``--tikz-fragment`` picture needs (packages, styles, box macros)."""
    return _environment().get_template("preamble.tex.j2").render()


def _colour(role: str) -> Tex:
    """The xcolor name of a palette role: ``dense_band`` -> ``nddenseband``."""
    return Tex("nd" + role.replace("_", ""))


def _glyph_context(g: Glyph, k: float) -> dict[str, Any]:
    item = g.item
    ctx: dict[str, Any] = {
        "shape": g.shape, "fill": _colour(item.category),
        "comment": f"{item.full_name or item.name} ({item.op_type})", "ghosts": [], "band": None,
    }
    if g.shape == "ball":
        ctx.update(cx=num(k * g.cx), cy=num(k * g.yc), r=num(k * g.r),
                   symbol=_SYMBOLS.get(item.category, Tex("")))
        return ctx
    ctx.update(x0=num(k * g.x0), y0=num(k * g.y0), t=num(k * g.t), h=num(k * g.h),
               dx=num(k * g.dx), dy=num(k * g.dy))
    if g.band > 0:
        ctx.update(band=num(k * g.band), band_fill=_colour(themes.band_role(item.category)))
    for i in range(g.ghosts, 0, -1):
        ctx["ghosts"].append({"x0": num(k * (g.x0 + i * GHOST)),
                              "y0": num(k * (g.y0 + i * GHOST))})
    return ctx


def _label_context(lb: Label, k: float) -> dict[str, Any]:
    return {"style": Tex("nd" + lb.font), "anchor": Tex(lb.anchor), "x": num(k * lb.x),
            "y": num(k * lb.y), "rotate": num(lb.rotate) if lb.rotate else None,
            "text": escape(lb.text, _LIMIT)}


def _path(points: list[tuple[float, float]], k: float) -> Tex:
    return Tex(" -- ".join(f"({num(k * x)},{num(k * y)})" for x, y in points))


def picture(fig: Figure, graph: Graph, *, theme: str | None = None, fragment: bool = False,
            preamble_name: str = "figure-preamble.tex") -> str:
    """The ``tikzpicture`` source of a laid-out figure."""
    palette = themes.theme(theme)
    x0, y0, x1, y1 = fig.bounds()
    k = min(1.0, MAX_CM / max(x1 - x0, y1 - y0, 1e-9))
    glyphs = sorted(fig.glyphs, key=lambda g: (g.x0, -g.yc))
    context = {
        "name": graph.name,
        "summary": f"{len(fig.glyphs)} layers drawn of {len(graph.nodes)} nodes, "
                   f"{'U-shaped' if fig.mode == 'u' else 'left to right'}",
        "fragment": fragment, "preamble_name": preamble_name,
        "colours": [{"name": _colour(role), "hex": Tex(palette[role])}
                    for role in themes.ROLES],
        "glyphs": [_glyph_context(g, k) for g in glyphs]
                  + [_glyph_context(e.glyph, k) for e in fig.legend],
        "arrows": [{"style": Tex("ndskip" if r.skip else "ndflow"), "path": _path(r.points, k)}
                   for r in fig.routes]
                  + [{"style": Tex("ndbracket"), "path": _path(b.path_points(), k)}
                     for b in fig.brackets],
        "labels": [_label_context(lb, k) for lb in fig.labels()],
    }
    return _environment().get_template("picture.tex.j2").render(**context)


def document(graph: Graph, fig: Figure | None = None, **options: Any) -> str:
    """A standalone LaTeX document with the figure of ``graph`` (laid out unless given)."""
    from netdraw import __version__

    fig = fig or _layout(graph, options)
    body = picture(fig, graph, theme=options.get("theme"))
    return _environment().get_template("document.tex.j2").render(
        version=__version__, file_hint=Tex("FILE.tex"), preamble=Tex(preamble()),
        picture=Tex(body))


def auto_dpi(fig: Figure, width_px: int = 2400, lo: int = 150, hi: int = 300) -> int:
    """A PNG resolution that makes the figure about ``width_px`` wide, within [lo, hi]."""
    x0, _, x1, _ = fig.bounds()
    return int(min(hi, max(lo, width_px / ((x1 - x0) / 2.54))))


def _layout(graph: Graph, options: dict[str, Any]) -> Figure:
    return layout_figure(graph, legend=options.get("legend") is not False,
                         title=options.get("title") or None,
                         u_shape=options.get("u_shape") is not False,
                         labels=options.get("labels") is not False,
                         spacing=float(options.get("spacing") or 1.0))


def _file_name(name: object) -> str:
    """A file name for a comment: verbatim when plain, else escaped like any user text."""
    text = os.path.basename(str(name or "figure-preamble.tex"))
    return Tex(text) if re.fullmatch(r"[A-Za-z0-9._/+-]+", text) else escape(text)


def render(graph: Graph, fmt: str = "tex", **options: Any) -> str | bytes:
    """``tex`` text (document or fragment), or ``pdf`` / ``png`` bytes."""
    if fmt not in FORMATS:
        raise NetdrawError(f"the TikZ style writes {', '.join(FORMATS)}, not {fmt!r}")
    themes.theme(options.get("theme"))  # fail on a bad theme before any work
    if options.get("fragment"):
        if fmt != "tex":
            raise NetdrawError("--tikz-fragment writes LaTeX source: give an output ending "
                               "in .tex")
        fig = _layout(graph, options)
        return picture(fig, graph, theme=options.get("theme"), fragment=True,
                       preamble_name=_file_name(options.get("preamble_name")))
    fig = _layout(graph, options)
    source = document(graph, fig, **options)
    if fmt == "tex":
        return source
    pdf = compile_pdf(source, options.get("timeout"))
    if fmt == "pdf":
        return pdf
    dpi = options.get("dpi") or "auto"
    return rasterise(pdf, "png", dpi=auto_dpi(fig) if dpi == "auto" else int(dpi),
                     timeout=options.get("timeout"))
