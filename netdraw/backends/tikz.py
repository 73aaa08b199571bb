"""TikZ backend: paper figures of 3D boxes (the PlotNeuralNet look), laid out from the IR.

Formats: ``tex`` (a standalone document, or with ``fragment=True`` just the
``tikzpicture`` for ``\\input``; its preamble is :func:`preamble`), ``pdf`` (one
``pdflatex`` run) and ``png`` (the PDF through ``pdftoppm``). The drawing macros are our
own TikZ definitions in ``netdraw/templates/tikz/``, rendered with jinja2 using
LaTeX-safe delimiters (``<< >>``, ``<% %>``) and a finalizer that escapes every string
that is not already LaTeX, so a layer name can never run a command.

Options: ``width`` (``text``, the default: 16.5 cm or ``\\textwidth``; ``column``: 8.5 cm
or ``\\columnwidth``; or a length such as ``12cm``: the width the figure is printed at; it
is laid out to fit it, see :mod:`netdraw.figure.fit`), ``theme`` (``default``,
``colorblind``, ``greyscale``), ``title`` (none unless given), ``legend`` and ``labels``
(default True; the CLI's ``--no-legend``, ``--no-labels``), ``spacing`` (gap factor,
``--spacing``), ``u_shape`` (draw encoder–decoders as a U), ``fragment``,
``preamble_name`` (the file the fragment's comment tells to ``\\input``), ``dpi`` (PNG
resolution; default ``"auto"``: about 2400 pixels wide, 150 to 300 dpi).

The picture's coordinates are layout centimetres times ``\\ndunit``, and its labels are
scaled by ``\\ndk`` (= ``\\ndunit`` in cm), both set at its top: a standalone document
is exactly the width wide; a fragment for ``text`` or ``column`` computes them from
``\\textwidth`` or ``\\columnwidth``, so ``\\input`` at that width needs no
``\\resizebox``.

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
from netdraw.backends.tikz_boxes import BORDER_CM, FONT_PT, LEGEND_CHARS, Box, arranged, fit
from netdraw.describe import plural
from netdraw.errors import NetdrawError
from netdraw.figure import themes
from netdraw.figure.fit import PT_PER_CM, Fit, medium
from netdraw.figure.layout import Figure, Footprint, Label
from netdraw.ir import Graph
from netdraw.latex import Tex, compile_pdf, escape, rasterise
from netdraw.output import TextWithFiles

FORMATS = ("tex", "pdf", "png")
__all__ = ["document", "fit", "picture", "preamble", "render"]
#: What a ball shows inside its circle, by category (the operators of
#: :data:`netdraw.describe.OPERATORS`: a circled + is an addition, a circled − a subtraction).
_SYMBOLS = {"add": Tex("$+$"), "subtract": Tex("$-$"), "multiply": Tex(r"$\times$"),
            "divide": Tex("$/$"), "maximum": Tex(r"{\fontsize{5}{6}\selectfont\textsf{max}}"),
            "minimum": Tex(r"{\fontsize{5}{6}\selectfont\textsf{min}}"),
            "average": Tex(r"{\fontsize{5}{6}\selectfont\textsf{avg}}"),
            "concat": Tex(r"\textsf{C}"), "softmax": Tex(r"$\sigma$")}
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


#: Font shape of each label role (sizes: FONT_PT), in the order the preamble lists them.
_SHAPES = {"group": r"\itshape", "label": "", "caption": "", "sub": r"\itshape",
           "repeat": r"\bfseries", "legend": "", "title": r"\bfseries", "symbol": ""}


def preamble(theme: str | None = None, colors: str | dict[str, str] | None = None) -> str:
    """The preamble a ``--tikz-fragment`` picture needs (packages, styles, box macros) and
    the colours of every figure, once: those of ``theme`` with the ``KIND=COLOUR`` pairs of
    ``colors`` (see :func:`netdraw.figure.themes.palette`). An author restyles all figures
    of a paper by redefining them after the ``\\input`` (``\\definecolor{ndconv}{HTML}{...}``)."""
    fonts = {role: (FONT_PT[role], Tex(shape)) for role, shape in _SHAPES.items()}
    return _environment().get_template("preamble.tex.j2").render(
        fonts=fonts, colours=colour_definitions(theme, colors),
        theme=themes.theme_name(theme))


def colour_definitions(theme: str | None = None, colors: str | dict[str, str] | None = None
                       ) -> list[dict[str, Tex]]:
    """The palette of a figure as (xcolor name, ``RRGGBB``): one per TikZ colour role."""
    colours = themes.palette(theme, colors)
    return [{"name": _colour(role), "hex": Tex(themes.hex_of(colours[key]))}
            for role, key in themes.TIKZ_ROLES.items()]


def _colour(role: str) -> Tex:
    """The xcolor name of a palette role: ``dense_band`` -> ``nddenseband``."""
    return Tex("nd" + role.replace("_", ""))


def _glyph_context(fp: Footprint, comment: str, k: float,
                   fills: dict[int, Tex] | None = None,
                   images: list[dict[str, Tex]] | None = None) -> dict[str, Any]:
    """What the template needs to draw one glyph; ``fills`` overrides colours by ``id`` of
    the glyph's :class:`Box` (decorations, see :func:`decorate_figure`); ``images`` are
    drawn over it (:func:`_face_image`)."""
    g: Box = fp.data
    ox, oy = fp.origin
    override = (fills or {}).get(id(g))
    ctx: dict[str, Any] = {"shape": g.shape, "fill": override or _colour(g.category),
                           "comment": comment, "ghosts": [], "band": None,
                           "images": images or []}
    if g.shape == "ball":
        ctx.update(cx=num(k * (ox + g.x0 + g.r)), cy=num(k * (oy + g.y0 + g.r)),
                   r=num(k * g.r), symbol=_SYMBOLS.get(g.category, Tex("")))
        return ctx
    x0, y0 = ox + g.x0, oy + g.y0
    ctx.update(x0=num(k * x0), y0=num(k * y0), t=num(k * g.t), h=num(k * g.h),
               dx=num(k * g.dx), dy=num(k * g.dy))
    if g.band > 0 and g.band_role:
        ctx.update(band=num(k * g.band), band_fill=Tex(f"{override}!75!black") if override
                   else _colour(g.band_role))
    for i in range(g.ghosts, 0, -1):
        ctx["ghosts"].append({"x0": num(k * (x0 + i * g.ghost)),
                              "y0": num(k * (y0 + i * g.ghost))})
    return ctx


_UNSAFE_NAME = re.compile(r"[^A-Za-z0-9]+")


def image_folder_name(stem: str) -> str:
    """The folder of a figure's images, beside ``STEM.tex``: ``STEM-images`` with every run
    of characters other than ASCII letters and digits made one ``-`` (so the path needs no
    escaping in ``\\includegraphics``)."""
    safe = _UNSAFE_NAME.sub("-", stem).strip("-")[:60] or "figure"
    return f"{safe}-images"


def _face_image(fp: Footprint, k: float, file: str, face: str) -> dict[str, Tex]:
    """An image on a box's H×W face (``map``) or front face (``front``), in picture units."""
    g: Box = fp.data
    ox, oy = fp.origin
    x, y = ox + g.x0, oy + g.y0
    if face == "map":
        x, u = x + g.t, (g.dx, g.dy)
    else:
        u = (g.t, 0.0)
    return {"x": num(k * x), "y": num(k * y), "ux": num(k * u[0]), "uy": num(k * u[1]),
            "vx": num(0.0), "vy": num(k * g.h), "file": Tex(file)}


class _Images:
    """The image files of one figure: relative path -> PNG bytes, names made here."""

    def __init__(self, folder: str) -> None:
        self.folder, self.files = folder, {}

    def add(self, stem: str, png: bytes) -> str:
        name = f"{self.folder}/{_UNSAFE_NAME.sub('-', stem).strip('-')[:60] or 'image'}.png"
        self.files[name] = png
        return name


def _thumb_images(p: Any, thumbs: Any, images: _Images, index: int,
                  k: float) -> list[dict[str, Tex]]:
    """The thumbnail images of placed item ``p``: its strongest channel (or the input
    picture) on the H×W face of its box, a dense layer's heat strip on its front face."""
    from netdraw.backends.thumbs import item_thumb

    g: Box = p.fp.data
    thumb = item_thumb(thumbs, p.item.node_ids)
    if thumb is None or g.shape != "box":
        return []
    stem = f"{index:02d}-{p.item.full_name or p.item.id}"
    if thumb.kind == "strip":
        return [_face_image(p.fp, k, images.add(stem, thumb.vertical_png()), "front")]
    return [_face_image(p.fp, k, images.add(stem, thumb.tiles[0].png), "map")]


def _label_context(lb: Label, k: float) -> dict[str, Any]:
    return {"style": Tex("nd" + lb.role), "anchor": Tex(lb.anchor), "x": num(k * lb.x),
            "y": num(k * lb.y), "rotate": num(lb.rotate) if lb.rotate else None,
            "text": escape(lb.text, LEGEND_CHARS if lb.role in ("legend", "title")
                           else _LIMIT)}


def _path(points: list[tuple[float, float]], k: float) -> Tex:
    return Tex(" -- ".join(f"({num(k * x)},{num(k * y)})" for x, y in points))


def _unit(fit: Fit, k: float, fragment: bool) -> tuple[str, Tex]:
    """(``\\ndk`` as a number or a pgfmath expression, a comment saying the print size).

    ``k`` shrinks coordinates that TeX could not address; a fragment fills the whole
    width (a standalone document leaves its border inside it)."""
    grow = fit.medium.cm / (fit.medium.cm - BORDER_CM) if fragment else 1.0
    scale = fit.print.scale * grow / k
    note = (f"{fit.print.width_cm * grow:.1f} cm wide, smallest label "
            f"{fit.print.smallest_pt * grow:.1f} pt")
    if fragment and fit.medium.tex:
        points = fit.medium.cm * PT_PER_CM / scale  # \textwidth / points = \ndk
        return (f"{fit.medium.tex}/{points:.4f}",
                Tex(f"at {fit.medium.tex} = {fit.medium.cm:g} cm: {note}"))
    return f"{scale:.6f}", Tex(note)


def picture(fig: Figure, graph: Graph, fit: Fit, *, theme: str | None = None,
            colors: str | dict[str, str] | None = None, fragment: bool = False,
            preamble_name: str = "figure-preamble.tex", thumbs: Any = None,
            images: _Images | None = None, inline_colours: bool = False) -> str:
    """The ``tikzpicture`` source of a laid-out figure, printed as ``fit`` says (drawn
    with the graph's decorations, if it has any: see :func:`decoration_styles`); with
    ``thumbs`` (:class:`netdraw.backends.thumbs.Thumbnails`) each box shows its thumbnail,
    the image files collected in ``images``. The palette is the preamble's
    (:func:`preamble`); ``inline_colours`` defines ``theme``'s inside the picture instead
    (for a document whose preamble holds another theme's)."""
    extra, fills, arrow_styles = decoration_styles(fig, graph)
    x0, y0, x1, y1 = fig.bounds()
    k = min(1.0, MAX_CM / max(x1 - x0, y1 - y0, 1e-9))
    unit, printed = _unit(fit, k, fragment)
    placed = sorted(fig.placed.values(), key=lambda p: (p.row, p.x, -p.y))
    rows = f", {fig.rows} rows" if fig.rows > 1 else ""
    context = {
        "name": graph.name,
        "summary": f"{plural(len(fig.placed), 'layer')} drawn of "
                   f"{plural(len(graph.nodes), 'node')}, "
                   f"{'U-shaped' if fig.mode == 'u' else 'left to right'}{rows}",
        "printed": printed, "unit": Tex(unit), "pgfmath": "/" in unit,
        "bounds": Tex(f"({num(k * x0)},{num(k * y0)}) rectangle ({num(k * x1)},{num(k * y1)})"),
        "fragment": fragment, "preamble_name": preamble_name,
        "colours": (colour_definitions(theme, colors) if inline_colours else []) + extra,
        "glyphs": [_glyph_context(p.fp, f"{p.item.full_name} ({p.item.op_type})", k, fills,
                                  _thumb_images(p, thumbs, images, i, k)
                                  if thumbs is not None and images is not None else None)
                   for i, p in enumerate(placed)]
                  + [_glyph_context(e.fp, "legend", k, fills,
                                    _legend_images(e, thumbs, images, k))
                     for e in fig.legend],
        "arrows": [{"style": arrow_styles.get(id(r)) or Tex("ndskip" if r.skip else "ndflow"),
                    "path": _path(r.points, k)}
                   for r in fig.routes]
                  + [{"style": Tex("ndbracket"), "path": _path(m.path_points(), k)}
                     for m in fig.marks],
        "labels": [_label_context(lb, k) for lb in fig.labels()],
    }
    return _environment().get_template("picture.tex.j2").render(**context)


def _legend_images(entry: Any, thumbs: Any, images: _Images | None,
                   k: float) -> list[dict[str, Tex]]:
    """A colour scale's ramp on its legend sample's front face."""
    if thumbs is None or images is None or not (isinstance(entry.key, tuple)
                                                 and entry.key[0] == "scale"):
        return []
    for cmap, _, tile in thumbs.legend_labels():
        if cmap == entry.key[1]:
            return [_face_image(entry.fp, k, images.add(f"scale-{cmap}", tile.png), "front")]
    return []


def decoration_styles(fig: Figure, graph: Graph) -> tuple[list[dict[str, Tex]],
                                                          dict[int, Tex], dict[int, Tex]]:
    """The colours ``graph.meta["decorations"]`` give a laid-out figure (whose layout
    :func:`netdraw.backends.tikz_boxes.decorate_layout` already made): fills of decorated
    boxes and of the decorations' legend samples, colours and dashes of decorated arrows.
    Returns the colours to define and the fill and arrow-style overrides (by ``id`` of
    glyph :class:`Box` and of route). The author's fills (``attrs["fill"]``, from
    ``--color PATH=COLOUR``) come first, as ``ndfill0``, ``ndfill1``, …"""
    names: dict[str, Tex] = {}
    own: dict[str, Tex] = {}
    fills: dict[int, Tex] = {}
    for p in fig.placed.values():
        value = p.item.node.attrs.get("fill")
        if isinstance(value, str) and value:
            hex_value = "#" + themes.hex_of(value)
            if hex_value not in own:
                own[hex_value] = Tex(f"ndfill{len(own)}")
            fills[id(p.fp.data)] = own[hex_value]
    defined = [{"name": name, "hex": Tex(hex_value[1:])} for hex_value, name in own.items()]
    deco = Decorations(graph)
    if not deco:
        return defined, fills, {}

    def colour(hex_value: str) -> Tex:
        if hex_value not in names:
            names[hex_value] = Tex(f"nddeco{len(names)}")
        return names[hex_value]

    for p in fig.placed.values():
        style = deco.first(p.item.node_ids)
        if style is not None and style.fill:
            fills[id(p.fp.data)] = colour(style.fill)
    for entry in fig.legend:
        if isinstance(entry.key, tuple) and entry.key[0] == "decoration" and entry.key[1]:
            fills[id(entry.fp.data)] = colour(entry.key[1])
    arrows: dict[int, Tex] = {}
    owner = {n: p.item.id for p in fig.placed.values() for n in p.item.node_ids}
    by_items: dict[tuple[str, str], Any] = {}
    for (src, dst), style in deco.edges.items():
        if src in owner and dst in owner and not style.link:
            by_items[(owner[src], owner[dst])] = style
    for r in fig.routes:
        style = by_items.get((r.src, r.dst))
        if style is not None and style.stroke:
            arrows[id(r)] = Tex(f"{'ndskip' if r.skip else 'ndflow'}, draw={colour(style.stroke)}"
                                + (", dashed" if style.dashed else ""))
    extra = [{"name": name, "hex": Tex(hex_value[1:].upper())}
             for hex_value, name in names.items()]
    return defined + extra, fills, arrows


def document(graph: Graph, images: _Images | None = None, **options: Any) -> str:
    """A standalone LaTeX document with the figure of ``graph``, as wide as the width
    (thumbnails from ``options["activations"]``, their files collected in ``images``)."""
    from netdraw.version import __version__

    how, fig = arranged(graph, **options)
    body = picture(fig, graph, how, thumbs=options.get("activations"), images=images)
    return _environment().get_template("document.tex.j2").render(
        version=__version__, file_hint=Tex("FILE.tex"),
        preamble=Tex(preamble(options.get("theme"), options.get("colors"))),
        picture=Tex(body))


def auto_dpi(width_cm: float, width_px: int = 2400, lo: int = 150, hi: int = 300) -> int:
    """A PNG resolution that makes a page ``width_cm`` wide about ``width_px`` pixels."""
    return int(min(hi, max(lo, width_px / (width_cm / 2.54))))


def _file_name(name: object) -> str:
    """A file name for a comment: verbatim when plain, else escaped like any user text."""
    text = os.path.basename(str(name or "figure-preamble.tex"))
    return Tex(text) if re.fullmatch(r"[A-Za-z0-9._/+-]+", text) else escape(text)


def render(graph: Graph, fmt: str = "tex", **options: Any) -> str | bytes:
    """``tex`` text (document or fragment), or ``pdf`` / ``png`` bytes."""
    if fmt not in FORMATS:
        raise NetdrawError(f"the TikZ style writes {', '.join(FORMATS)}, not {fmt!r}")
    themes.palette(options.get("theme"), options.get("colors"))  # fail before any work
    thumbs = options.get("activations")
    images = _Images(image_folder_name(str(options.get("image_stem") or "figure")))
    if thumbs is not None:
        options["thumbnail_scales"] = [(cmap, text)
                                       for cmap, text, _ in thumbs.legend_labels()]
    if options.get("fragment"):
        if fmt != "tex":
            raise NetdrawError("--tikz-fragment writes LaTeX source: give an output ending "
                               "in .tex")
        how, fig = arranged(graph, **options)
        text = picture(fig, graph, how, theme=options.get("theme"),
                       colors=options.get("colors"), fragment=True,
                       inline_colours=bool(options.get("inline_colours")),
                       preamble_name=_file_name(options.get("preamble_name")),
                       thumbs=thumbs, images=images)
        return TextWithFiles(text, images.files) if images.files else text
    source = document(graph, images, **options)
    if fmt == "tex":
        return TextWithFiles(source, images.files) if images.files else source
    pdf = compile_pdf(source, options.get("timeout"), images.files)
    if fmt == "pdf":
        return pdf
    dpi = options.get("dpi") or "auto"
    width = medium(options.get("width")).cm
    return rasterise(pdf, "png", dpi=auto_dpi(width) if dpi == "auto" else int(dpi),
                     timeout=options.get("timeout"))
