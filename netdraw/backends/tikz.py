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

from netdraw.backends.decorations import Decorations
from netdraw.describe import plural
from netdraw.errors import NetdrawError
from netdraw.figure import themes
from netdraw.figure.geometry import bbox
from netdraw.figure.items import Dims, Item
from netdraw.figure.layout import (
    GHOST,
    Figure,
    Glyph,
    Label,
    LegendEntry,
    layout_figure,
    text_width,
)
from netdraw.ir import Graph
from netdraw.latex import Tex, compile_pdf, escape, rasterise

FORMATS = ("tex", "pdf", "png")
_SYMBOLS = {"add": Tex("$+$"), "multiply": Tex(r"$\times$"), "concat": Tex(r"\textsf{C}"),
            "softmax": Tex(r"$\sigma$")}
_LIMIT = 40  # characters of a caption before it is shortened
_LEGEND_LIMIT = 90  # characters of a legend line (a diff's numbered notes are long)
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


def _glyph_context(g: Glyph, k: float, fills: dict[int, Tex] | None = None) -> dict[str, Any]:
    item = g.item
    ctx: dict[str, Any] = {
        "shape": g.shape, "fill": (fills or {}).get(id(g)) or _colour(item.category),
        "comment": f"{item.full_name or item.name} ({item.op_type})", "ghosts": [], "band": None,
    }
    if g.shape == "ball":
        ctx.update(cx=num(k * g.cx), cy=num(k * g.yc), r=num(k * g.r),
                   symbol=_SYMBOLS.get(item.category, Tex("")))
        return ctx
    ctx.update(x0=num(k * g.x0), y0=num(k * g.y0), t=num(k * g.t), h=num(k * g.h),
               dx=num(k * g.dx), dy=num(k * g.dy))
    if g.band > 0:
        override = (fills or {}).get(id(g))
        ctx.update(band=num(k * g.band),
                   band_fill=Tex(f"{override}!75!black") if override
                   else _colour(themes.band_role(item.category)))
    for i in range(g.ghosts, 0, -1):
        ctx["ghosts"].append({"x0": num(k * (g.x0 + i * GHOST)),
                              "y0": num(k * (g.y0 + i * GHOST))})
    return ctx


def _label_context(lb: Label, k: float) -> dict[str, Any]:
    return {"style": Tex("nd" + lb.font), "anchor": Tex(lb.anchor), "x": num(k * lb.x),
            "y": num(k * lb.y), "rotate": num(lb.rotate) if lb.rotate else None,
            "text": escape(lb.text, _LEGEND_LIMIT if lb.font in ("legend", "title")
                           else _LIMIT)}


def _path(points: list[tuple[float, float]], k: float) -> Tex:
    return Tex(" -- ".join(f"({num(k * x)},{num(k * y)})" for x, y in points))


def picture(fig: Figure, graph: Graph, *, theme: str | None = None, fragment: bool = False,
            preamble_name: str = "figure-preamble.tex") -> str:
    """The ``tikzpicture`` source of a laid-out figure (drawn with the graph's
    decorations, if it has any: see :func:`decorate_figure`)."""
    palette = themes.theme(theme)
    extra, fills, arrow_styles = decorate_figure(fig, graph)
    x0, y0, x1, y1 = fig.bounds()
    k = min(1.0, MAX_CM / max(x1 - x0, y1 - y0, 1e-9))
    glyphs = sorted(fig.glyphs, key=lambda g: (g.x0, -g.yc))
    context = {
        "name": graph.name,
        "summary": f"{plural(len(fig.glyphs), 'layer')} drawn of "
                   f"{plural(len(graph.nodes), 'node')}, "
                   f"{'U-shaped' if fig.mode == 'u' else 'left to right'}",
        "fragment": fragment, "preamble_name": preamble_name,
        "colours": [{"name": _colour(role), "hex": Tex(palette[role])}
                    for role in themes.ROLES] + extra,
        "glyphs": [_glyph_context(g, k, fills) for g in glyphs]
                  + [_glyph_context(e.glyph, k, fills) for e in fig.legend],
        "arrows": [{"style": arrow_styles.get(id(r)) or Tex("ndskip" if r.skip else "ndflow"),
                    "path": _path(r.points, k)}
                   for r in fig.routes]
                  + [{"style": Tex("ndbracket"), "path": _path(b.path_points(), k)}
                     for b in fig.brackets],
        "labels": [_label_context(lb, k) for lb in fig.labels()],
    }
    return _environment().get_template("picture.tex.j2").render(**context)


def decorate_figure(fig: Figure, graph: Graph) -> tuple[list[dict[str, Tex]],
                                                       dict[int, Tex], dict[int, Tex]]:
    """Apply ``graph.meta["decorations"]`` (see :mod:`netdraw.backends.decorations`) to a
    laid-out figure: fill colours and name prefixes of decorated boxes, colours and dashes
    of decorated arrows, and — when the decorations bring a legend — that legend instead
    of the colour legend, followed by one numbered line per box with notes (the box
    shows its number above it). Returns the extra colours to define and the fill and
    arrow-style overrides (by ``id`` of glyph and route)."""
    deco = Decorations(graph)
    if not deco:
        return [], {}, {}
    names: dict[str, Tex] = {}

    def colour(hex_value: str) -> Tex:
        if hex_value not in names:
            names[hex_value] = Tex(f"nddeco{len(names)}")
        return names[hex_value]

    fills: dict[int, Tex] = {}
    notes: list[tuple[Glyph, str]] = []
    for g in sorted(fig.glyphs, key=lambda g: (g.x0, -g.yc)):
        style = next((deco.node(n) for n in g.item.node_ids if deco.node(n)), None)
        if style is None:
            continue
        if style.fill:
            fills[id(g)] = colour(style.fill)
        for lb in g.labels:
            if lb.font == "caption" and style.prefix:
                lb.text = f"{style.prefix} {lb.text}"
        if style.notes:
            notes.append((g, "; ".join(style.notes)))
    arrows: dict[int, Tex] = {}
    owner = {n: g.item.id for g in fig.glyphs for n in g.item.node_ids}
    by_items: dict[tuple[str, str], object] = {}
    for (src, dst), style in deco.edges.items():
        if src in owner and dst in owner and not style.link:
            by_items[(owner[src], owner[dst])] = style
    for r in fig.routes:
        style = by_items.get((r.src, r.dst))
        if style is not None and style.stroke:
            arrows[id(r)] = Tex(f"{'ndskip' if r.skip else 'ndflow'}, draw={colour(style.stroke)}"
                                + (", dashed" if style.dashed else ""))
    if deco.legend:
        fig.legend = _decoration_legend(fig, deco, notes, fills, colour)
    extra = [{"name": name, "hex": Tex(hex_value[1:].upper())}
             for hex_value, name in names.items()]
    return extra, fills, arrows


def _decoration_legend(fig: Figure, deco: Decorations, notes: list[tuple[Glyph, str]],
                       fills: dict[int, Tex], colour) -> list[LegendEntry]:
    """Swatches for the decorations' legend, then numbered notes; numbers on the boxes."""
    for number, (g, _) in enumerate(notes, 1):
        low = min([g.y0, *(bbox(lb.polygon())[1] for lb in g.labels)])
        g.labels.append(Label(f"[{number}]", g.x0 + g.width / 2, low - 0.04, "north",
                              "repeat"))
    x_min, y_min, x_max, _ = fig.bounds()
    wrap = max(x_max - x_min, 12.0)
    x, y = x_min, y_min - 0.7
    out: list[LegendEntry] = []
    rows: list[tuple[str, str | None]] = [(item.label, item.fill) for item in deco.legend]
    for number, (g, text) in enumerate(notes, 1):
        style = next(s for s in map(deco.node, g.item.node_ids) if s is not None)
        rows.append((f"[{number}] {g.item.full_name or g.item.name}: {text}", style.fill))
    for i, (text, fill_hex) in enumerate(rows):
        sample = Item("legend", "other", [], "", "", Dims())
        glyph = Glyph(sample, "box", t=0.32, h=0.5, d=0.45)
        if fill_hex:
            fills[id(glyph)] = colour(fill_hex)
        label_text = text if len(text) <= _LEGEND_LIMIT else text[:_LEGEND_LIMIT - 1] + "…"
        w = glyph.width + 0.12 + text_width(label_text, "legend")
        if x > x_min and (x + w > x_min + wrap or i > len(deco.legend)):
            x, y = x_min, y - 0.75
        glyph.x0, glyph.yc = x, y - 0.35
        out.append(LegendEntry(glyph, Label(label_text, x + glyph.width + 0.12,
                                            glyph.yc + 0.05, "west", "legend"),
                               ("other", None)))
        x += w + 0.55
    return out


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
    pdf = compile_pdf(source)
    if fmt == "pdf":
        return pdf
    dpi = options.get("dpi") or "auto"
    return rasterise(pdf, "png", dpi=auto_dpi(fig) if dpi == "auto" else int(dpi))
