"""Paper figures that fit a page: the width a figure is printed at, and the rows and glyph
size that keep it legible there.

A figure is printed at a *medium*'s width: ``text`` (16.5 cm, LaTeX's ``\\textwidth``),
``column`` (8.5 cm, ``\\columnwidth``) or a length such as ``12cm`` — a tall figure
narrower, so that it is no taller than 1.5 times the width and at most 16.5 cm
(:data:`MAX_HEIGHT_CM`): it must fit on a page, or in a column, with its caption. It
**fits** when, scaled so,

- it is at most 4× taller than wide (:data:`MAX_ASPECT`) or 8× wider than tall
  (:data:`MAX_WIDE`: a strip across the page is a figure; a longer one shrinks its glyphs
  to nothing beside their labels), and
- its smallest label is at least 6 pt (:data:`MIN_PT`).

:func:`arrange` finds how to draw a view so that it fits: the main path in as few rows as
possible (wrapped at clean cuts), and with the largest glyphs (a style's natural size, or
0.8, 0.64, 0.5 of it: labels keep their size); only if that fails, with *compact* labels
(a style keeps the essential ones, stacked narrow) and glyphs down to 0.3. The default
view of a figure style is the deepest depth that some arrangement fits
(:func:`netdraw.passes.view.make_view` takes the fit as a function); a U-Net is never
wrapped, so it keeps its U.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from netdraw.errors import NetdrawError
from netdraw.figure.layout import Figure
from netdraw.ir import Graph

MIN_PT = 6.0
MAX_ASPECT = 4.0
MAX_WIDE = 8.0
MAX_HEIGHT_CM = 16.5
#: Glyph sizes tried, largest first (1 is the style's natural size), with all labels and
#: with compact ones.
SIZES = (1.0, 0.8, 0.64, 0.5)
COMPACT_SIZES = (0.64, 0.5, 0.4, 0.3)
MAX_ROWS = 6
MIN_LAYERS = 3
PT_PER_CM = 72.27 / 2.54  # TeX points


@dataclass(frozen=True)
class Medium:
    """The width a figure is printed at: ``cm``, and the LaTeX length it stands for (None
    for an absolute width)."""

    name: str
    cm: float
    tex: str | None = None

    @property
    def max_height_cm(self) -> float:
        """The tallest a figure may print: 1.5 times the width, at most 16.5 cm."""
        return min(MAX_HEIGHT_CM, 1.5 * self.cm)


MEDIA = {"text": Medium("text", 16.5, r"\textwidth"),
         "column": Medium("column", 8.5, r"\columnwidth")}
_UNITS = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72.27, "bp": 2.54 / 72}


def medium(spec: str | Medium | None) -> Medium:
    """``text`` (default), ``column`` or a length (``16.5cm``, ``85mm``, ``6.5in``, ``469pt``)."""
    if isinstance(spec, Medium):
        return spec
    text = (spec or "text").strip().lower()
    if text in MEDIA:
        return MEDIA[text]
    m = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*(cm|mm|in|pt|bp)", text)
    cm = float(m.group(1)) * _UNITS[m.group(2)] if m else 0.0
    if not m or not 3.0 <= cm <= 60.0:
        raise NetdrawError(f"--width must be text, column or a length from 3 to 60 cm such "
                           f"as 16.5cm or 85mm, not {spec!r}")
    return Medium(f"{float(m.group(1)):g}{m.group(2)}", cm)


@dataclass(frozen=True)
class Print:
    """A laid-out figure scaled to a medium: ``scale`` is the printed size of one layout
    unit relative to its natural size; sizes in cm, the smallest label in points."""

    scale: float
    width_cm: float
    height_cm: float
    smallest_pt: float
    room_cm: float = MAX_HEIGHT_CM  # the tallest it may be

    @property
    def aspect(self) -> float:
        return max(self.width_cm, self.height_cm) / max(min(self.width_cm, self.height_cm),
                                                         1e-9)

    @property
    def limit(self) -> float:
        """The longest aspect allowed: :data:`MAX_WIDE` wide, :data:`MAX_ASPECT` tall."""
        return MAX_WIDE if self.width_cm >= self.height_cm else MAX_ASPECT

    @property
    def fits(self) -> bool:
        return self.smallest_pt >= MIN_PT - 1e-9 and self.aspect <= self.limit + 1e-9

    def score(self) -> float:
        """How close to fitting: 1 or more fits; the worse of the two ratios."""
        return min(self.smallest_pt / MIN_PT, self.limit / self.aspect)


def printed(fig: Figure, width_cm: float, cm_per_unit: float, pt_of: Callable[[str], float],
            cap: float | None = None, height_cm: float = MAX_HEIGHT_CM,
            margin: float = 0.0) -> Print:
    """``fig`` (in a style's unit, ``cm_per_unit`` cm each at natural size, its labels
    ``pt_of(role)`` points, ``margin`` units around it) scaled to ``width_cm``, or less if
    it would then be taller than ``height_cm``; never enlarged beyond ``cap``."""
    x0, y0, x1, y1 = fig.bounds()
    natural_w = (x1 - x0 + 2 * margin) * cm_per_unit
    natural_h = (y1 - y0 + 2 * margin) * cm_per_unit
    scale = min(width_cm / max(natural_w, 1e-9), height_cm / max(natural_h, 1e-9))
    if cap is not None:
        scale = min(scale, cap)
    roles = {lb.role for lb in fig.labels()}
    smallest = min((pt_of(r) for r in roles), default=MIN_PT / scale) * scale
    return Print(scale, natural_w * scale, natural_h * scale, smallest, height_cm)


@dataclass(frozen=True)
class Fit:
    """How a view is drawn for a medium: rows, glyph size, labels (``compact`` keeps only
    the essential ones, stacked narrow), and how it prints."""

    medium: Medium
    rows: int
    size: float
    compact: bool
    print: Print
    enough: bool = True  # the view shows enough to be a figure (see ViewFit)
    #: The Graphviz diagram's rank direction (``rows`` then counts its columns); None for
    #: the figure styles, which always run left to right.
    direction: str | None = None
    #: ``u`` when the figure is drawn as a U (an encoder–decoder), else ``flat``.
    mode: str = "flat"

    @property
    def fits(self) -> bool:
        return self.print.fits and self.enough

    def summary(self, style: str) -> dict[str, object]:
        """What ``meta["view"]["figure"]`` records (and the one-line report says)."""
        p = self.print
        extra = {"rankdir": self.direction} if self.direction else {}
        return {"style": style, "width": self.medium.name, "width_of": self.medium.cm,
                "rows": self.rows, **extra,
                "size": self.size, "compact": self.compact, "fits": self.fits,
                "aspect": round(p.aspect, 2), "smallest_pt": round(p.smallest_pt, 1),
                "width_cm": round(p.width_cm, 2), "height_cm": round(p.height_cm, 2)}


Layout = Callable[[int, float, bool], Figure]


def arrange(lay: Layout, measure: Callable[[Figure], Print], medium_: Medium,
            detail: str = "any") -> tuple[Fit, Figure]:
    """The arrangement that fits with all labels, else with compact ones (``detail``:
    ``any``; ``full`` or ``compact`` tries only those); of those, the fewest rows, then
    the largest glyphs. If none fits, the one that comes closest: a narrower width never
    prints smaller labels than a wider one's figure shrunk to it. ``lay(rows, size,
    compact)`` lays the figure out."""
    best: tuple[float, Fit, Figure] | None = None
    steps = [(c, sizes) for c, sizes in ((False, SIZES), (True, COMPACT_SIZES))
             if detail == "any" or (detail == "compact") == c]
    for compact, sizes in steps:
        smallest = lay(1, sizes[-1], compact)  # the smallest glyphs: if even they cannot
        plan = smallest.plan                   # fit in any number of rows, skip the rest
        most = 1 if plan.u_shaped else min(MAX_ROWS, len(plan.cuts) + 1)
        first = measure(smallest)
        if not first.fits and not any(_promising(first, r) for r in range(2, most + 1)):
            score = first.score()
            if best is None or score > best[0] + 1e-9:
                best = (score, Fit(medium_, 1, sizes[-1], compact, first,
                                   mode=smallest.mode), smallest)
            continue
        single = {s: smallest if s == sizes[-1] else lay(1, s, compact) for s in sizes}
        printed1 = {s: first if s == sizes[-1] else measure(f) for s, f in single.items()}
        for rows in range(1, most + 1):
            for size in sizes:
                one = printed1[size]
                if rows > 1 and not _promising(one, rows):
                    continue
                fig = single[size] if rows == 1 else lay(rows, size, compact)
                if fig.rows < rows:
                    continue  # too few clean cuts for that many rows
                p = one if rows == 1 else measure(fig)
                fit = Fit(medium_, rows, size, compact, p, mode=fig.mode)
                if p.fits:
                    return fit, fig
                if best is None or p.score() > best[0] + 1e-9:
                    best = (p.score(), fit, fig)
    assert best is not None
    return best[1], best[2]


def _promising(one: Print, rows: int) -> bool:
    """Whether wrapping a one-row figure into ``rows`` rows may make it fit (a generous
    estimate: each row a ``rows``-th as wide, the figure ``rows`` times as tall)."""
    if one.fits:
        return False  # it fitted in fewer rows already
    natural_h = one.height_cm / one.scale
    gain = min(rows * 1.15, one.room_cm / (natural_h * rows * 0.8) / one.scale)
    return one.smallest_pt * gain >= MIN_PT and math.isfinite(one.aspect)


@dataclass(frozen=True)
class ViewFit:
    """A figure style's measure of fit, for the view choice
    (:func:`netdraw.passes.view.make_view`): ``measure(view, detail, **options)`` is the
    style's own ``fit``. Not ``relaxed``, only all labels count, and a view of fewer than
    :data:`MIN_LAYERS` layers (a whole Inception module as one block) shows too little;
    ``relaxed``, compact labels count too. Results are kept for the views of one choice."""

    style: str
    measure: Callable[..., Fit]
    options: dict[str, object]
    _seen: dict[tuple[int, bool], Fit] = field(default_factory=dict, repr=False,
                                               compare=False)
    #: The views measured, kept alive so that no later view reuses one's ``id``.
    _views: list[Graph] = field(default_factory=list, repr=False, compare=False)

    def __call__(self, view: Graph, relaxed: bool = True) -> Fit:
        key = (id(view), relaxed)
        if key not in self._seen:
            self._views.append(view)
            strict = self._seen.get((id(view), False))
            if not relaxed:
                fit = self.measure(view, "full", **self.options)
            elif strict is not None and not strict.print.fits:
                fit = self.measure(view, "compact", **self.options)  # full labels failed
            else:
                fit = self.measure(view, "any", **self.options)
            layers = sum(1 for n in view if n.kind not in ("input", "output"))
            self._seen[key] = replace(fit, enough=relaxed or layers >= MIN_LAYERS)
        return self._seen[key]

    def summary(self, view: Graph) -> dict[str, object]:
        """How the figure of ``view`` is drawn: exactly as the style's renderer arranges
        it (its ``fit`` with any labels), so the report describes the file."""
        return self.measure(view, "any", **self.options).summary(self.style)
