"""Shared pieces of the NN-SVG-style backends: options, colours, sizes, text and SVG output.

Numbers are written with at most two decimals and element ids are generated, so the SVG is
byte-identical on every run; every string reaches the file through ElementTree, which
escapes ``& < > "``, after :func:`clean` removed what XML cannot hold.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import svgwrite

from netdraw.errors import NetdrawError
from netdraw.figure import themes

FONT = "Helvetica, Arial, sans-serif"
INK = "#222222"
EDGE = "#555555"
MUTED = "#666666"

_XML_BAD = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


@dataclass
class Options:
    """Options every NN-SVG style takes (see the package docstring for their meaning)."""

    scale: str = "log"
    spacing: float = 1.0
    angle: float = 40.0
    labels: bool = True
    legend: bool = True
    colors: dict[str, str] = field(default_factory=themes.palette)
    title: str | None = None
    max_neurons: int = 10
    max_maps: int = 8

    def fill(self, kind: str) -> str:
        return self.colors.get(kind) or self.colors.get("other") or "#dddddd"

    def fill_of(self, item: Any) -> str:
        """An item's fill: the author's colour for its layer or block (``--color PATH=``),
        else its kind's."""
        own = item.node.attrs.get("fill")
        return own if isinstance(own, str) and own else self.fill(item.kind)


def parse_options(*, scale: str | None = None, spacing: float | str | None = None,
                  angle: float | str | None = None, labels: bool | None = None,
                  legend: bool | None = None, colors: str | dict[str, str] | None = None,
                  theme: str | None = None, title: str | None = None,
                  max_neurons: int | None = None, max_maps: int | None = None,
                  **_: Any) -> Options:
    """Validate user options; a bad value raises NetdrawError saying what is allowed."""
    opts = Options(title=title)
    if scale is not None:
        if scale not in ("log", "linear"):
            raise NetdrawError(f"--scale must be log or linear, not {scale!r}")
        opts.scale = scale
    if spacing is not None:
        opts.spacing = _number(spacing, "--spacing", 0.2, 10.0)
    if angle is not None:
        opts.angle = _number(angle, "--angle", 5.0, 85.0)
    if labels is not None:
        opts.labels = bool(labels)
    if legend is not None:
        opts.legend = bool(legend)
    if colors or theme:
        opts.colors = themes.palette(theme, colors)
    for key, value in (("max_neurons", max_neurons), ("max_maps", max_maps)):
        if value is not None:
            setattr(opts, key, int(_number(value, key, 3, 64)))
    return opts


def _number(value: Any, name: str, lo: float, hi: float) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NetdrawError(f"{name} must be a number, not {value!r}") from None
    if not lo <= number <= hi or math.isnan(number):
        raise NetdrawError(f"{name} must be between {lo:g} and {hi:g}, not {number:g}")
    return number


def shade(colour: str, factor: float) -> str:
    """A darker (factor < 1) or lighter (factor > 1) version of a ``#rrggbb`` colour."""
    rgb = _rgb(colour)
    if rgb is None:
        return colour
    if factor <= 1:
        out = [round(c * factor) for c in rgb]
    else:
        out = [round(c + (255 - c) * (1 - 1 / factor)) for c in rgb]
    return "#" + "".join(f"{max(0, min(255, c)):02x}" for c in out)


def _rgb(colour: str) -> tuple[int, int, int] | None:
    if not colour.startswith("#"):
        return None
    h = colour[1:]
    if len(h) == 3:
        h = "".join(ch * 2 for ch in h)
    try:
        return int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
    except ValueError:
        return None


class Scaler:
    """Maps a dimension to pixels, log or linear, between ``lo`` and ``hi`` pixels.

    The largest value in the figure gets ``hi``; log: 1 gets ``lo``; linear: proportional,
    never under ``lo``. Unknown values get the middle of the range.
    """

    def __init__(self, values: Iterable[int | None], lo: float, hi: float, mode: str) -> None:
        known = [v for v in values if isinstance(v, int) and v > 0]
        self.vmax = max([*known, 2])
        self.lo, self.hi, self.mode = lo, hi, mode

    def __call__(self, value: int | None) -> float:
        if value is None or value <= 0:
            return (self.lo + self.hi) / 2
        if self.mode == "linear":
            return max(self.lo, self.hi * value / self.vmax)
        return self.lo + (self.hi - self.lo) * math.log(value) / math.log(self.vmax)


def clean(text: object, limit: int = 48) -> str:
    """Whitespace collapsed, characters XML cannot hold removed, long text shortened."""
    s = _XML_BAD.sub("", " ".join(str(text).split()))
    return s if len(s) <= limit else s[: limit - 1] + "…"


_NARROW = set("iIjl.,:;|!'()[]{} ft")
_WIDE = set("mwMW@%")


def text_width(text: str, size: float) -> float:
    """An estimate of the rendered width of ``text`` in a sans-serif font."""
    total = 0.0
    for ch in text:
        if ch in _NARROW:
            total += 0.3
        elif ch in _WIDE:
            total += 0.9
        elif ch.isupper() or ord(ch) > 0x2000:
            total += 0.68
        else:
            total += 0.57
    return total * size


def num(value: float) -> str:
    """A number for an SVG attribute: at most two decimals, no trailing zeros."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class Canvas:
    """A thin layer over ``svgwrite.Drawing`` writing rounded numbers and clean text."""

    def __init__(self) -> None:
        self.dwg = svgwrite.Drawing(profile="full", debug=False)
        self.stack: list[Any] = [self.dwg]
        marker = self.dwg.marker(id="nd-arrow", insert=("5", "3"), size=("6", "6"),
                                 orient="auto", markerUnits="userSpaceOnUse")
        marker.add(self.dwg.path(d="M0,0 L6,3 L0,6 z", fill=EDGE))
        self.dwg.defs.add(marker)

    @property
    def top(self) -> Any:
        return self.stack[-1]

    def add(self, element: Any) -> Any:
        self.top.add(element)
        return element

    def open(self, tooltip: str | None = None, **attrs: Any) -> Any:
        group = self.dwg.g(**attrs)
        if tooltip:
            group.set_desc(title=clean(tooltip, 400))
        self.add(group)
        self.stack.append(group)
        return group

    def close(self) -> None:
        self.stack.pop()

    def rect(self, x: float, y: float, w: float, h: float, **attrs: Any) -> Any:
        return self.add(self.dwg.rect(insert=(num(x), num(y)), size=(num(w), num(h)), **attrs))

    def polygon(self, points: Sequence[tuple[float, float]], **attrs: Any) -> Any:
        return self.add(self.dwg.polygon([(num(x), num(y)) for x, y in points], **attrs))

    def line(self, a: tuple[float, float], b: tuple[float, float], **attrs: Any) -> Any:
        return self.add(self.dwg.line(start=(num(a[0]), num(a[1])), end=(num(b[0]), num(b[1])),
                                      **attrs))

    def path(self, d: str, **attrs: Any) -> Any:
        return self.add(self.dwg.path(d=d, **attrs))

    def circle(self, x: float, y: float, r: float, **attrs: Any) -> Any:
        return self.add(self.dwg.circle(center=(num(x), num(y)), r=num(r), **attrs))

    def image(self, png: bytes, x: float, y: float, w: float, h: float,
              **attrs: Any) -> Any:
        """PNG bytes inlined as a ``data:`` URI, stretched over the box (x, y, w, h)."""
        import base64

        href = "data:image/png;base64," + base64.b64encode(png).decode("ascii")
        return self.add(self.dwg.image(href, insert=(num(x), num(y)), size=(num(w), num(h)),
                                       preserveAspectRatio="none",
                                       style="image-rendering:pixelated", **attrs))

    def face_image(self, png: bytes, origin: tuple[float, float], u: tuple[float, float],
                   v: tuple[float, float], **attrs: Any) -> Any:
        """PNG bytes mapped onto the parallelogram ``origin + s·u + t·v`` (s, t in 0-1):
        the image's top edge along ``u``, its left edge along ``v``."""
        element = self.image(png, 0, 0, 1, 1, **attrs)
        element.attribs["transform"] = (f"matrix({u[0]:.4f} {u[1]:.4f} {v[0]:.4f} "
                                        f"{v[1]:.4f} {num(origin[0])} {num(origin[1])})")
        return element

    def text(self, x: float, y: float, text: str, size: float = 11, anchor: str = "middle",
             limit: int = 80, **attrs: Any) -> Any:
        attrs.setdefault("fill", INK)
        return self.add(self.dwg.text(clean(text, limit), insert=(num(x), num(y)),
                                      font_size=num(size), text_anchor=anchor, **attrs))

    def arrow(self, d: str) -> Any:
        return self.path(d, fill="none", stroke=EDGE, stroke_width="1.1",
                         marker_end="url(#nd-arrow)")

    def tostring(self, width: float, height: float, title: str,
                 printed_cm: tuple[float, float] | None = None) -> str:
        """The document: ``width`` × ``height`` user units (the viewBox), printed
        ``printed_cm`` (width, height in cm; default: at 96 units per inch)."""
        w_cm, h_cm = printed_cm or (width * 2.54 / 96, height * 2.54 / 96)
        self.dwg.attribs.update({"width": f"{w_cm:.2f}cm", "height": f"{h_cm:.2f}cm",
                                 "viewBox": f"0 0 {num(width)} {num(height)}",
                                 "font-family": FONT})
        self.dwg.set_desc(title=clean(title or "network", 200))
        background = self.dwg.rect(insert=("0", "0"), size=("100%", "100%"), fill="#ffffff")
        self.dwg.elements.insert(2, background)
        return '<?xml version="1.0" encoding="utf-8" ?>\n' + self.dwg.tostring() + "\n"


def rounded(points: list[tuple[float, float]], radius: float = 6.0) -> str:
    """SVG path data through ``points`` with rounded corners."""
    pts = [p for k, p in enumerate(points) if k == 0 or p != points[k - 1]]
    if len(pts) < 2:
        return ""
    d = [f"M{num(pts[0][0])},{num(pts[0][1])}"]
    for k in range(1, len(pts) - 1):
        (x0, y0), (x1, y1), (x2, y2) = pts[k - 1], pts[k], pts[k + 1]
        la = math.hypot(x1 - x0, y1 - y0)
        lb = math.hypot(x2 - x1, y2 - y1)
        r = min(radius, la / 2, lb / 2)
        if r <= 0.5:
            d.append(f"L{num(x1)},{num(y1)}")
            continue
        ax, ay = x1 - (x1 - x0) * r / la, y1 - (y1 - y0) * r / la
        bx, by = x1 + (x2 - x1) * r / lb, y1 + (y2 - y1) * r / lb
        d.append(f"L{num(ax)},{num(ay)} Q{num(x1)},{num(y1)} {num(bx)},{num(by)}")
    d.append(f"L{num(pts[-1][0])},{num(pts[-1][1])}")
    return " ".join(d)
