"""Renders every zoo model into ``gallery/`` in every style, with an ``index.html`` that shows
them all on one page (the README's main command runs this)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from netdraw import progress, zoo
from netdraw.api import render
from netdraw.output import write_output

#: (suffix, render options) written for every zoo model: the Graphviz diagram.
GALLERY_OUTPUTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("svg", {}),
    ("png", {}),
    ("json", {}),
)

#: Render options of the figure styles (NN-SVG looks and TikZ) for some zoo models; every
#: other model is drawn with the defaults. Names not (yet) in the zoo are ignored.
FIGURE_MODELS: dict[str, dict[str, object]] = {
    "lenet5": {}, "alexnet": {}, "resnet18": {"depth": 2},
    "onnx-lenet5": {}, "onnx-resnet": {},
}
#: The NN-SVG figure styles, written as NAME.STYLE.svg for every model.
FIGURE_STYLES = ("fcnn", "lenet", "alexnet")


@dataclass(frozen=True)
class Style:
    """One look in the gallery: its files for a model NAME (the first is the thumbnail)."""

    name: str
    title: str
    files: tuple[str, ...]  # patterns with {name}

    def paths(self, name: str) -> list[str]:
        return [pattern.format(name=name) for pattern in self.files]


#: Every style, in the order of the index page.
STYLES: tuple[Style, ...] = (
    Style("graph", "Graphviz diagram", ("{name}.svg", "{name}.png", "{name}.json")),
    Style("fcnn", "FCNN (NN-SVG)", ("{name}.fcnn.svg",)),
    Style("lenet", "LeNet (NN-SVG)", ("{name}.lenet.svg",)),
    Style("alexnet", "AlexNet (NN-SVG)", ("{name}.alexnet.svg",)),
    Style("tikz", "TikZ (PlotNeuralNet look)", ("{name}.tikz.png", "{name}.tex")),
)


def render_gallery(folder: Path, names: list[str] | None = None) -> Iterator[str]:
    """Write each zoo model's gallery files and then ``index.html``; yields one line per
    file written. Shows progress on stderr (see :mod:`netdraw.progress`)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = names or list(zoo.ZOO)
    with progress.task("gallery", total=len(names)) as bar:
        for name in names:
            bar.update(description=f"gallery: {name}")
            yield from _render_model(folder, name)
            bar.advance()
    target = folder / "index.html"
    write_output(str(target), index_html(folder))
    yield f"wrote {target}"


def _render_model(folder: Path, name: str) -> Iterator[str]:
    graph = zoo.load(name)
    for suffix, options in GALLERY_OUTPUTS:
        target = folder / f"{name}.{suffix}"
        write_output(str(target), render(graph, suffix, **options))
        yield f"wrote {target}"
    options = FIGURE_MODELS.get(name, {})
    for style in FIGURE_STYLES:
        target = folder / f"{name}.{style}.svg"
        write_output(str(target), render(graph, "svg", style=style, **options))
        yield f"wrote {target}"
    for target, fmt in ((folder / f"{name}.tex", "tex"), (folder / f"{name}.tikz.png", "png")):
        write_output(str(target), render(graph, fmt, style="tikz", **options))
        yield f"wrote {target}"


# -- the index page ---------------------------------------------------------------------------


def index_html(folder: Path) -> str:
    """``index.html`` for a gallery folder: every zoo model found there in every style, one
    page, each thumbnail linking to its full file. Plain HTML with its CSS inline: no script,
    nothing fetched from the network, links relative so the folder can be moved."""
    from netdraw import __version__

    models = []
    for name, entry in zoo.ZOO.items():
        styles = []
        for style in STYLES:
            present = [p for p in style.paths(name) if (folder / p).is_file()]
            if present and present[0] == style.paths(name)[0]:
                styles.append({"name": style.name, "title": style.title, "thumb": present[0],
                               "files": present})
        if styles:
            models.append({"name": name, "description": entry.description,
                           "framework": zoo.FRAMEWORK_NAMES.get(entry.framework,
                                                                entry.framework),
                           "styles": styles})
    return _environment().get_template("index.html.j2").render(
        models=models, styles=STYLES, version=__version__)


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("netdraw", "templates/gallery"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
