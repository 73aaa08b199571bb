"""Read how a figure prints from the file itself: an SVG's physical size and the size its
smallest label prints at, a PDF's page, a TikZ picture's fonts at its scale.

Shared by the paper-figure tests; nothing here calls netdraw.
"""

from __future__ import annotations

import re
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

SVG = "{http://www.w3.org/2000/svg}"
CM = {"cm": 1.0, "mm": 0.1, "in": 2.54, "pt": 2.54 / 72, "px": 2.54 / 96, "": 2.54 / 96}
PT_PER_CM = 72.27 / 2.54  # TeX points, as the figures state them


def length_cm(value: str) -> float:
    """An SVG length (``8.5cm``, ``241pt``, ``320`` user units at 96 per inch) in cm."""
    m = re.fullmatch(r"\s*([\d.]+)\s*(cm|mm|in|pt|px|)\s*", value)
    assert m, value
    return float(m.group(1)) * CM[m.group(2)]


def _scale(transform: str | None) -> float:
    """The uniform scale a ``transform`` attribute applies (``scale(s s)``, ``matrix``)."""
    if not transform:
        return 1.0
    k = 1.0
    for name, args in re.findall(r"(scale|matrix)\(([^)]*)\)", transform):
        nums = [float(v) for v in re.split(r"[\s,]+", args.strip()) if v]
        if name == "scale":
            k *= nums[0]
        else:
            k *= (abs(nums[0] * nums[3] - nums[1] * nums[2])) ** 0.5
    return k


def svg_printed(svg: str | bytes) -> tuple[float, float, float]:
    """(width cm, height cm, smallest label pt) of an SVG as printed at its own size."""
    root = ET.fromstring(svg.encode("utf-8") if isinstance(svg, str) else svg)
    width, height = length_cm(root.get("width")), length_cm(root.get("height"))
    box = [float(v) for v in re.split(r"[\s,]+", root.get("viewBox").strip())]
    cm_per_unit = width / box[2]
    assert abs(height / box[3] - cm_per_unit) < 0.01 * cm_per_unit, "non-uniform scale"
    sizes: list[float] = []

    def walk(el: ET.Element, k: float) -> None:
        k *= _scale(el.get("transform"))
        if el.tag == SVG + "text" and (el.text or "").strip():
            size = el.get("font-size")
            if size is None:
                m = re.search(r"font-size:\s*([\d.]+)", el.get("style") or "")
                size = m.group(1) if m else None
            if size is not None:
                sizes.append(float(re.sub(r"[a-z]+$", "", size)) * k)
        for child in el:
            walk(child, k)

    walk(root, 1.0)
    smallest = min(sizes) * cm_per_unit * PT_PER_CM if sizes else float("inf")
    return width, height, smallest


def pdf_page_cm(path: Path) -> tuple[float, float]:
    """A PDF's first page size in cm (pdfinfo)."""
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True,
                          check=True).stdout
    w, h = (float(v) * 2.54 / 72 for v in
            re.search(r"Page size:\s+([\d.]+) x ([\d.]+)", info).groups())
    return w, h


def tikz_smallest_pt(tex: str, preamble: str | None = None, width_pt: float | None = None
                     ) -> float:
    """The smallest label of a TikZ picture in pt: the font size its preamble gives each
    label style it uses, times the scale ``\\ndk`` it sets (for a fragment scaled from
    ``\\textwidth``/``\\columnwidth``, ``width_pt`` is that length)."""
    sizes = dict(re.findall(r"(nd\w+)/\.style=\{font=\\normalfont\\fontsize\{([\d.]+)\}",
                            preamble or tex))
    picture = tex.split(r"\begin{tikzpicture}")[1]
    used = set(re.findall(r"\\node\[(nd\w+)", picture))
    if r"\ndBall" in picture:
        used.add("ndsymbol")  # the + or C in a ball is a label too
    m = re.search(r"\\def\\ndk\{([\d.]+)\}", picture)
    if m:
        scale = float(m.group(1))
    else:
        m = re.search(r"\\pgfmathsetmacro\{\\ndk\}\{\\(?:text|column)width/([\d.]+)\}", picture)
        assert m and width_pt, "a fragment scaled from a LaTeX length needs width_pt"
        scale = width_pt / float(m.group(1))
    return min(float(sizes[s]) for s in used) * scale
