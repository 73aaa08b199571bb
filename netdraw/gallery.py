"""Renders every zoo model into ``gallery/`` in every style, with an ``index.html`` that shows
them all on one page (the README's main command runs this)."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from netdraw import progress, zoo
from netdraw.api import render
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.output import write_output, write_with_files

#: The folder (in the gallery) holding the scripts and style every HTML page shares.
ASSETS = "netdraw-assets"
#: (suffix, render options) written for every zoo model: the Graphviz diagram.
GALLERY_OUTPUTS: tuple[tuple[str, dict[str, object]], ...] = (
    ("svg", {}),
    ("png", {}),
    ("json", {}),
    # The interactive preview: open it in a browser, offline. The pages share one copy of
    # their scripts (mostly the layout engine) in ASSETS instead of carrying 0.9 MB each.
    ("html", {"assets": ASSETS}),
)

#: Render options of the figure styles (NN-SVG looks and TikZ) for some zoo models; every
#: other model is drawn with the defaults. Names not (yet) in the zoo are ignored.
FIGURE_MODELS: dict[str, dict[str, object]] = {
    "lenet5": {}, "alexnet": {}, "resnet18": {"depth": 2},
    "onnx-lenet5": {}, "onnx-resnet": {},
    "resnet50": {}, "transformer": {},  # as drawn by default, for a 16.5 cm text width
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
    # The interactive preview is the Graphviz look too: a link beside the diagram's files.
    Style("graph", "Graphviz diagram", ("{name}.svg", "{name}.png", "{name}.json",
                                        "{name}.html")),
    Style("fcnn", "FCNN (NN-SVG)", ("{name}.fcnn.svg",)),
    Style("lenet", "LeNet (NN-SVG)", ("{name}.lenet.svg",)),
    Style("alexnet", "AlexNet (NN-SVG)", ("{name}.alexnet.svg",)),
    Style("tikz", "TikZ (PlotNeuralNet look)", ("{name}.tikz.png", "{name}.tex")),
)


#: Zoo models shown on the first page of a two-column article, NAME.paper.png: the figure
#: \\input at the column width (its text-width version follows on the next page).
PAPER_GALLERY: tuple[str, ...] = ("resnet50",)

_PAPER = r"""\documentclass[twocolumn]{article}
%(preamble)s
\newcommand\filler{Residual networks learn residual functions with reference to the layer
inputs. Each stage halves the resolution and doubles the channels; repeated blocks are
drawn once with their count, and a block's first layer carries the projection shortcut. }
\title{Paper figures that fit a page}\author{netdraw}\date{}
\begin{document}
\maketitle
\begin{figure}[!t]
\centering
%(narrow)s\caption{%(name)s at the column width (\texttt{--width column}).}
\end{figure}
\begin{figure*}[t]
\centering
%(wide)s\caption{%(name)s at the text width (\texttt{--width text}).}
\end{figure*}
\section{Method}
\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler
\section{Results}
\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler\filler
\end{document}
"""


def paper_page(graph: Graph) -> bytes:
    """The first page (PNG) of a two-column article holding ``graph`` as TikZ fragments:
    at the column width on that page, at the text width (a ``figure*``) on the next."""
    from netdraw.backends.tikz import preamble
    from netdraw.latex import compile_pdf, escape, rasterise

    wide, narrow = (render(graph, "tex", style="tikz", fragment=True, width=width)
                    for width in ("text", "column"))
    source = _PAPER % {"preamble": preamble(), "wide": wide, "narrow": narrow,
                       "name": escape(graph.name)}
    return rasterise(compile_pdf(source), "png", dpi=110)


#: Trained zoo models that also get what they compute (netdraw.viz, needs torch):
#: NAME.activations-LAYER.png, NAME.filters.png, NAME.ascent-LAYER.png, NAME.cam.png.
VIZ_GALLERY: tuple[str, ...] = ("shapes",)


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
    import importlib.util

    missing = [m for m in ("torch", "transformers", "diffusers")
               if importlib.util.find_spec(m) is None]
    if missing:  # the test extra's packages: the zoo still renders without them
        progress.note("netdraw: skipped the transformer gallery (it needs "
                      f"{', '.join(missing)}, which {'is' if len(missing) == 1 else 'are'} "
                      "not installed)")
        return
    from netdraw.zoo import hf_models

    folder.mkdir(parents=True, exist_ok=True)
    for name in names or list(TRANSFORMER_GALLERY):
        spec = hf_models.MODELS[TRANSFORMER_GALLERY[name]]
        from netdraw.api import load

        graph = load(spec.factory(), example_input=spec.example_input(), name=spec.title)
        for target, fmt, style in ((folder / f"{name}.png", "png", None),
                                   (folder / f"{name}.tex", "tex", "tikz"),
                                   (folder / f"{name}.tikz.png", "png", "tikz")):
            write_output(str(target), _diagram(render(graph, fmt, style=style)))
            yield f"wrote {target}"


#: The gallery name of the two-column paper pages (:mod:`netdraw.gallery_paper`):
#: ``paper-column.png`` and ``paper-text.png``.
PAPER_PAGES = "paper"


def render_paper_pages(folder: Path) -> Iterator[str]:
    """Write the paper pages; skipped with a note without torch and transformers (their
    models are built with them)."""
    try:
        import transformers  # noqa: F401

        from netdraw.gallery_paper import paper_pages
    except ImportError as exc:
        yield f"skipped the paper pages ({exc})"
        return
    for line in paper_pages(folder):
        if line.startswith("wrote ") and line.endswith(".png"):  # kept as palette PNGs
            page = Path(line.removeprefix("wrote "))
            write_output(str(page), _diagram(page.read_bytes()))
        yield line


def render_gallery(folder: Path, names: list[str] | None = None,
                   failed: list[tuple[str, str]] | None = None) -> Iterator[str]:
    """Write each model's gallery files — zoo models, the :data:`TRANSFORMER_GALLERY`
    ones and the paper pages (:data:`PAPER_PAGES`), all of them by default — and then
    ``index.html``; yields one line per file written. A model that fails is added to
    ``failed`` as (name, message) and the others are drawn all the same, the index too.
    Shows progress on stderr (see
    :mod:`netdraw.progress`)."""
    folder.mkdir(parents=True, exist_ok=True)
    names = names or [*zoo.ZOO, *TRANSFORMER_GALLERY, PAPER_PAGES]
    paper = PAPER_PAGES in names
    names = [n for n in names if n != PAPER_PAGES]
    transformers = [n for n in names if n in TRANSFORMER_GALLERY]
    models = [n for n in names if n not in TRANSFORMER_GALLERY]
    failures = failed if failed is not None else []
    if not _pages_available():
        from netdraw.backends.html.assets import NPM_PACKAGE
        from netdraw.install import browser_library_hint

        progress.note("netdraw: the HTML previews are left out: they need the browser "
                      f"library {NPM_PACKAGE}, which is not installed; "
                      f"{browser_library_hint(NPM_PACKAGE)}")
    with progress.task("gallery", total=len(models) + bool(transformers) + paper) as bar:
        for name, files in [*((n, _render_model(folder, n)) for n in models),
                            *([("transformers", render_transformer_gallery(folder,
                                                                           transformers))]
                              if transformers else []),
                            *([("paper pages", render_paper_pages(folder))] if paper else [])]:
            bar.update(description=f"gallery: {name}")
            try:
                yield from files
            except Exception as exc:  # one broken model must not cost the others
                text = str(exc) if isinstance(exc, NetdrawError) else \
                    f"internal error ({type(exc).__name__}: {exc})"
                failures.append((name, " ".join(text.split())[:400]))
            bar.advance()
    _prune_assets(folder)
    target = folder / "index.html"
    write_output(str(target), index_html(folder))
    yield f"wrote {target}"


def _prune_assets(folder: Path) -> None:
    """Remove the shared scripts no page of the gallery loads any more (those of an older
    netdraw), so the folder holds one copy."""
    shared = folder / ASSETS
    if not shared.is_dir():
        return
    pages = "".join(p.read_text("utf-8", errors="replace") for p in folder.glob("*.html"))
    for item in shared.iterdir():
        if item.is_file() and f"{ASSETS}/{item.name}" not in pages:
            item.unlink()


def _diagram(data: str | bytes) -> str | bytes:
    """A diagram as the gallery keeps it: a PNG with a 256-colour palette (about a third of
    the bytes; flat fills and anti-aliased lines and text lose nothing a reader sees, a
    mean difference of about 1/255 per channel), anything else as it is. The pictures of
    what a model computes (activations, filters, CAMs) are kept in full colour. Without
    Pillow (the viz extra), PNGs stay as drawn."""
    if not isinstance(data, bytes) or not data.startswith(b"\x89PNG\r\n\x1a\n"):
        return data
    try:
        from PIL import Image
    except ImportError:
        return data
    import io

    picture = Image.open(io.BytesIO(data))
    if picture.mode == "RGBA":
        palette = picture.quantize(256, method=Image.Quantize.FASTOCTREE,
                                   dither=Image.Dither.NONE)
    else:
        palette = picture.convert("RGB").quantize(256, method=Image.Quantize.MEDIANCUT,
                                                  dither=Image.Dither.NONE)
    out = io.BytesIO()
    palette.save(out, "PNG", optimize=True)
    return out.getvalue() if out.tell() < len(data) else data


def _pages_available() -> bool:
    """Whether HTML previews can be written here (see :mod:`netdraw.backends.html.assets`)."""
    from netdraw.backends.html import assets

    return assets.available()


def _render_model(folder: Path, name: str) -> Iterator[str]:
    graph = zoo.load(name)
    pages = _pages_available()
    for suffix, options in GALLERY_OUTPUTS:
        if suffix == "html" and not pages:
            continue
        target = folder / f"{name}.{suffix}"
        write_with_files(str(target), _diagram(render(graph, suffix, **options)))
        yield f"wrote {target}"
    options = FIGURE_MODELS.get(name, {})
    for style in FIGURE_STYLES:
        target = folder / f"{name}.{style}.svg"
        write_output(str(target), render(graph, "svg", style=style, **options))
        yield f"wrote {target}"
    for target, fmt in ((folder / f"{name}.tex", "tex"), (folder / f"{name}.tikz.png", "png")):
        write_output(str(target), _diagram(render(graph, fmt, style="tikz", **options)))
        yield f"wrote {target}"
    if name in PAPER_GALLERY:
        target = folder / f"{name}.paper.png"
        write_output(str(target), _diagram(paper_page(graph)))
        yield f"wrote {target}"
    if name in VIZ_GALLERY:
        yield from render_viz(folder, name)


def render_viz(folder: Path, name: str) -> Iterator[str]:
    """Activations, filters (raw and gradient ascent) and CAMs of a trained zoo model on
    generated examples, one of each class (the shapes data generator's images)."""
    import numpy as np

    from netdraw.viz import capture, filters
    from netdraw.viz.api import class_names, open_model
    from netdraw.viz.class_maps import CAM_METHODS, run_cam
    from netdraw.viz.pictures import to_png
    from netdraw.viz.report import activation_image, ascent_image, cam_panel, filter_image
    from netdraw.zoo.shapes import make_batch

    opened = open_model(f"zoo:{name}")
    names = class_names(opened)
    images, labels, _ = make_batch(64, seed=31)
    picks = [int(np.flatnonzero(labels == c)[0]) for c in range(len(names or [0]))]
    examples = images[picks]

    def write(suffix: str, img: object) -> str:
        target = folder / f"{name}.{suffix}.png"
        write_output(str(target), to_png(img))
        return f"wrote {target}"

    acts = capture(opened, examples[2:3])
    for layer in ("block1.conv", "block3.relu", "fc"):
        yield write(f"activations-{layer}", activation_image(acts, layer, channels=16))
    result = filters(opened, ["block3.conv"], ascent=True, channels=16)
    for nid, kernels in result.kernels.items():
        yield write("filters", filter_image(kernels, result.graph.nodes[nid].name,
                                            f"first convolution, raw weights · {name}"))
    for nid, ascent in result.images.items():
        yield write(f"ascent-{result.names[nid]}", ascent_image(
            ascent, result.channels[nid], result.names[nid],
            f"gradient ascent, {result.steps} steps, {ascent.shape[-1]} px · {name}",
            result.objective[nid]))
    rows = []
    for k in range(len(examples)):
        one = examples[k:k + 1]
        results = [run_cam(opened.runtime, [one], None, "auto", method)
                   for method in CAM_METHODS]
        rows.append((f"input: {names[labels[picks[k]]]}" if names else "input", results))
    yield write("cam", cam_panel(examples, rows, names))
    yield from render_thumbnails(folder, name, opened)


#: The diagrams with activation thumbnails of a VIZ_GALLERY model, NAME.thumbs.SUFFIX:
#: (suffix, format, style).
THUMBNAIL_OUTPUTS: tuple[tuple[str, str, str | None], ...] = (
    ("svg", "svg", None), ("png", "png", None), ("lenet.svg", "svg", "lenet"),
    ("alexnet.svg", "svg", "alexnet"), ("fcnn.svg", "svg", "fcnn"),
    ("tex", "tex", "tikz"), ("tikz.png", "png", "tikz"), ("html", "html", None))


def render_thumbnails(folder: Path, name: str, opened: object) -> Iterator[str]:
    """The model drawn in every style with the activations of the README's ``shape.png``
    (``make_batch(1, seed=7)``) and Grad-CAM over the input: NAME.thumbs.svg, .png,
    .lenet.svg, .alexnet.svg, .fcnn.svg, .tex (images in NAME-thumbs-images/),
    .tikz.png and .html."""
    from netdraw.output import write_with_files
    from netdraw.viz import capture
    from netdraw.viz.class_maps import run_cam
    from netdraw.zoo.shapes import make_batch

    image = make_batch(1, seed=7)[0]
    acts = capture(opened, image)
    cam = run_cam(opened.runtime, [image], None, "auto", "gradcam")  # type: ignore[attr-defined]
    graph = zoo.load(name)
    pages = _pages_available()
    for suffix, fmt, style in THUMBNAIL_OUTPUTS:
        if fmt == "html" and not pages:
            continue
        target = folder / f"{name}.thumbs.{suffix}"
        extra = {"assets": ASSETS} if fmt == "html" else {}
        write_with_files(str(target), _diagram(render(graph, fmt, style=style,
                                                      activations=acts, pixels=image,
                                                      cam=cam, image_stem=target.stem,
                                                      **extra)))
        yield f"wrote {target}"


# -- the index page ---------------------------------------------------------------------------


def index_html(folder: Path) -> str:
    """``index.html`` for a gallery folder: every zoo model found there in every style, one
    page, each thumbnail linking to its full file. Plain HTML with its CSS inline: no script,
    nothing fetched from the network, links relative so the folder can be moved."""
    from netdraw.version import __version__

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
    explorer = [{"file": name, "title": title} for name, title in EXPLORER_SHOTS
                if (folder / name).is_file()]
    return _environment().get_template("index.html.j2").render(
        models=models, styles=STYLES, version=__version__, explorer=explorer)


#: Screenshots of the explorer on the shapes network (``scripts/explorer_screenshots.py``).
EXPLORER_SHOTS = (("explorer-grid.png", "A layer's channels, one scale across the inputs"),
                  ("explorer-channel.png", "A channel: its map, statistics, gradient-ascent "
                                           "image and the inputs that excite it most"),
                  ("explorer-cam.png", "Predictions and Grad-CAM for a chosen class"))


@functools.lru_cache(maxsize=1)
def _environment():
    import jinja2

    return jinja2.Environment(loader=jinja2.PackageLoader("netdraw", "templates/gallery"),
                              autoescape=True, trim_blocks=True, lstrip_blocks=True,
                              undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
