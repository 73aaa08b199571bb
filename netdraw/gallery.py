"""Renders every zoo model into ``gallery/`` (the README's main command runs this)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from netdraw import zoo
from netdraw.api import render
from netdraw.output import write_output

#: (suffix, render options) written for every zoo model.
GALLERY_OUTPUTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("svg", {}),
    ("png", {}),
    ("json", {}),
    ("html", {}),  # the interactive preview: open it in a browser, offline
)

#: Zoo models also drawn in the NN-SVG figure styles as NAME.STYLE.svg, with their render
#: options; a name not (yet) in the zoo is skipped.
FIGURE_MODELS: dict[str, dict[str, object]] = {
    "lenet5": {}, "alexnet": {}, "resnet18": {"depth": 2},
    "onnx-lenet5": {}, "onnx-resnet": {},
}
FIGURE_STYLES = ("fcnn", "lenet", "alexnet")

#: Zoo models that also get a TikZ paper figure: NAME.tex and NAME.tikz.png (pdflatex and
#: pdftoppm). Names not in the zoo are skipped, so entries can precede their models.
TIKZ_GALLERY: tuple[str, ...] = ("lenet5", "resnet18", "unet")


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
