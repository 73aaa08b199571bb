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


#: Real-world architectures from Hugging Face configs (:mod:`netdraw.zoo.hf_models`, traced
#: live, random weights): gallery name -> model name. Each gets NAME.png (Graphviz, the
#: default view), NAME.tex and NAME.tikz.png (TikZ); they need ``transformers`` and
#: ``diffusers`` (the ``test`` extra) and are skipped with a note without them.
TRANSFORMER_GALLERY: dict[str, str] = {
    "gpt2": "gpt2", "bert": "bert", "llama": "llama", "t5": "t5", "vit": "vit",
    "sd-unet": "sd_unet",
}


def render_transformer_gallery(folder: Path, names: list[str] | None = None
                               ) -> Iterator[str]:
    """Write the default views of :data:`TRANSFORMER_GALLERY` models in the Graphviz and
    TikZ styles; yields one progress line per file."""
    try:
        from netdraw.zoo import hf_models
    except ImportError as exc:  # transformers/diffusers missing: the zoo still renders
        yield f"skipped the transformer gallery ({exc})"
        return
    folder.mkdir(parents=True, exist_ok=True)
    for name in names or list(TRANSFORMER_GALLERY):
        spec = hf_models.MODELS[TRANSFORMER_GALLERY[name]]
        from netdraw.api import load

        graph = load(spec.factory(), example_input=spec.example_input(), name=spec.title)
        for target, fmt, style in ((folder / f"{name}.png", "png", None),
                                   (folder / f"{name}.tex", "tex", "tikz"),
                                   (folder / f"{name}.tikz.png", "png", "tikz")):
            write_output(str(target), render(graph, fmt, style=style))
            yield f"wrote {target}"


def render_gallery(folder: Path, names: list[str] | None = None) -> Iterator[str]:
    """Write each zoo model's gallery files (and the transformer gallery's); yields one
    progress line per file."""
    folder.mkdir(parents=True, exist_ok=True)
    wanted = [n for n in TRANSFORMER_GALLERY if names is None or n in names]
    if wanted:
        yield from render_transformer_gallery(folder, wanted)
    for name in [n for n in names or list(zoo.ZOO) if n not in TRANSFORMER_GALLERY]:
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
