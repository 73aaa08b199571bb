"""``netdraw draw MODEL -o OUT`` (also ``netdraw MODEL -o OUT``): draw a model to a file."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from netdraw.cli.common import (
    VIEW_HELP,
    add_model_arguments,
    add_view_arguments,
    load_model_from_args,
    output_format,
    report_view,
    view_options,
    warn_view,
)
from netdraw.errors import NetdrawError


def add_parser(sub: argparse._SubParsersAction) -> None:
    draw = sub.add_parser("draw", help="draw a model to a file",
                          description="Draw MODEL to OUT; the format comes from OUT's suffix.",
                          epilog=VIEW_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(draw)
    draw.add_argument("-o", "--output", required=True, metavar="OUT",
                      help="output file: .dot .gv .svg .png .pdf .json .tex .html; '-' for stdout "
                           "(text formats, with --format)")
    draw.add_argument("--format", help="output format when OUT is '-' (default: dot) or has "
                                       "no suffix; with a suffix it must agree")
    draw.add_argument("--rankdir", choices=["TB", "LR", "BT", "RL"],
                      help="Graphviz layout direction: top-to-bottom (the default; with "
                           "--width, chosen to fit) or left-to-right")
    draw.add_argument("--title", help="title drawn above the diagram (default: model name; "
                                      "'' for none)")
    draw.add_argument("--theme", metavar="NAME",
                      help="colours of every style: default, colorblind (Okabe-Ito) or "
                           "greyscale (also: mono)")
    draw.add_argument("--tikz-fragment", action="store_true",
                      help="with -o FIG.tex: write only the tikzpicture, plus "
                           "FIG-preamble.tex to \\input in your paper's preamble")
    draw.add_argument("--assets", metavar="DIR",
                      help="with -o PAGE.html: put the page's scripts and style (0.9 MB, "
                           "mostly the layout engine) into DIR and load them from there, so "
                           "pages written with the same DIR (a docs site, a gallery) share "
                           "one copy; without it the page is one self-contained file")
    add_view_arguments(draw)
    _add_style_options(draw)
    add_author_arguments(draw)
    _add_thumbnail_options(draw)


def add_author_arguments(parser: argparse.ArgumentParser, colours: bool = True) -> None:
    """--label, --hide (and --color): the author's own names, omissions and colours."""
    group = parser.add_argument_group(
        "the author's touches",
        "A PATH is a group as --expand names it (layer3.0, its path joined by '/', or its "
        "last element) or a layer's name.")
    group.add_argument("--label", action="append", default=[], metavar="PATH=TEXT",
                       help="draw this group or layer under another name (repeatable), "
                            "e.g. 'dec1.gate=Attention gate'")
    group.add_argument("--hide", action="append", default=[], metavar="PATH",
                       help="leave this group or layer out, its edges joined through "
                            "(repeatable)")
    if colours:
        group.add_argument("--color", action="append", default=[],
                           metavar="PATH|KIND=COLOUR",
                           help="fill a group or layer, or every layer of a kind, with a "
                                "colour (#rgb, #rrggbb or an SVG colour name; repeatable), "
                                "in every style: 'dec1.gate=orange', 'conv=#9ecae1'")


def _add_thumbnail_options(draw: argparse.ArgumentParser) -> None:
    """--input IMG and how its activations are drawn into the diagram."""
    from netdraw.cli.common import add_input_arguments

    add_input_arguments(draw, required=False)
    for action in draw._actions:
        if action.dest == "input":
            action.help = ("an image (.png .jpg .bmp) or array (.npy) to run the model on; "
                           "its activations are drawn into the diagram. An .html page "
                           "takes several (repeat --input, or a folder): it explores them")
    group = draw.add_argument_group(
        "activation thumbnails",
        "With --input, netdraw runs the model on the image and draws what each layer "
        "outputs inside the diagram (Graphviz .svg/.png/.pdf, the figure styles, TikZ). "
        "An .html page becomes an explorer of its inputs: pick one, see every layer's "
        "channels, the predictions, class-activation maps and, per channel, the inputs "
        "that excite it most.")
    group.add_argument("--thumbnails", type=int, metavar="N",
                       help="channels shown per layer (default: 4 for Graphviz, every "
                            "drawn square for lenet, one face for alexnet and tikz)")
    group.add_argument("--thumbnail-order", choices=["index", "mean", "max"],
                       help="which channels: the most active by mean (default) or by "
                            "maximum, or the first N (index)")
    group.add_argument("--colormap", metavar="NAME",
                       help="auto (default: sequential from 0 for non-negative layers, "
                            "diverging around 0 for signed ones), viridis, diverging, heat "
                            "or gray")
    group.add_argument("--cam", action="store_true",
                       help="draw a class-activation map (Grad-CAM of the top class, on the "
                            "layer 'netdraw cam' chooses) over the input's thumbnail")
    group.add_argument("--no-thumbnails", action="store_true",
                       help="draw without thumbnails even with --input")
    group.add_argument("--labels", metavar="FILE", dest="class_labels",
                       help=".html: class names, one a line, for the predictions (default: "
                            "the model's own, else class 0, class 1, …)")


def _add_style_options(draw: argparse.ArgumentParser) -> None:
    """--style and the options of the figure styles (NN-SVG look: fcnn, lenet, alexnet)."""
    from netdraw.backends import styles

    fig = draw.add_argument_group("figure styles")
    fig.add_argument("--style", metavar="STYLE",
                     help=f"drawing style: {', '.join(styles())} (default: graph, the Graphviz "
                          "diagram); fcnn, lenet and alexnet write NN-SVG-style .svg figures; "
                          "tikz writes 3D-box paper figures (.tex, or .pdf/.png with pdflatex)")
    fig.add_argument("--scale", choices=["log", "linear"],
                     help="lenet/alexnet: sizes follow dimensions on a log (default) or "
                          "linear scale")
    fig.add_argument("--spacing", type=float, metavar="X",
                     help="multiply the gaps between layers by X (default 1)")
    fig.add_argument("--angle", type=float, metavar="DEG",
                     help="alexnet: angle of the boxes' receding edges, 5-85 (default 40)")
    fig.add_argument("--colors", metavar="SPEC",
                     help="a theme (default, colorblind, greyscale or mono) and/or "
                          "KIND=COLOUR pairs, in every style, e.g. "
                          "'mono,conv=#9ecae1,dense=orange'")
    fig.add_argument("--width", metavar="W",
                     help="the width the figure is printed at: text (16.5 cm, \\textwidth; "
                          "the figure styles' default), column (8.5 cm, \\columnwidth) or a "
                          "length such as 12cm; the default view, rows (Graphviz: direction "
                          "and columns) and sizes are chosen to keep every label at 6 pt or "
                          "more, and the file carries that printed size")
    fig.add_argument("--no-labels", dest="labels", action="store_false", default=None,
                     help="leave out dimension, name and op labels")
    fig.add_argument("--no-legend", dest="legend", action="store_false", default=None,
                     help="leave out the colour legend")


def _style_options(args: argparse.Namespace) -> dict[str, Any]:
    """The figure-style options the user gave (unset ones are left to the backend)."""
    names = ("scale", "spacing", "angle", "colors", "labels", "legend", "width")
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _check_style_options(args: argparse.Namespace, spec: Any) -> None:
    """Refuse a figure option the chosen style does not read (it would be ignored); one set
    by the configuration file is a default for the styles that read it, dropped here."""
    from netdraw.backends import BACKENDS, FIGURE_OPTIONS
    from netdraw.settings import from_config

    for name in FIGURE_OPTIONS:
        if getattr(args, name, None) is None or name in spec.options:
            continue
        if from_config(args, name):
            setattr(args, name, None)
            continue
        flag = f"--no-{name}" if name in ("labels", "legend") else f"--{name}"
        users = [(s.aliases or (s.name,))[0] for s in BACKENDS if name in s.options]
        shown = (spec.aliases or (spec.name,))[0]
        raise NetdrawError(f"{flag} is an option of --style {' or '.join(users)}; the "
                           f"{shown} style does not use it")


def _style_stdout_format(args: argparse.Namespace) -> str | None:
    """``-o -`` with a figure style writes that style's own format (``svg``), not DOT."""
    from netdraw.backends import BACKENDS

    if args.output != "-" or not args.style:
        return None
    spec = next((s for s in BACKENDS if s.answers_to(args.style)), None)
    return spec.formats[0] if spec is not None and "dot" not in spec.formats else None


def run(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from netdraw.api import render
    from netdraw.backends import figure_fit, find_backend
    from netdraw.output import check_target, write_output, write_with_files
    from netdraw.passes import ViewOptions, make_view

    fmt = output_format(args.output, args.format or _style_stdout_format(args))
    style, extra = _tikz_options(args, fmt)
    spec = find_backend(fmt, style)  # fail on a bad format before any model is read
    if args.output == "-" and fmt in spec.binary_formats:
        raise NetdrawError(f".{fmt} is binary: write it to a file, not stdout")
    _check_style_options(args, spec)
    theme, kinds, fills = _colour_options(args, spec)
    _check_assets(args, fmt)
    check_target(args.output)  # a bad output path fails before the model is read
    # Graphviz printed at a width chooses its direction when none is given.
    rankdir = args.rankdir or (None if spec.name == "graphviz" else "TB")
    drawing = dict(rankdir=rankdir, title=args.title, **_style_options(args), **extra)
    drawing.pop("colors", None)
    drawing.update({k: v for k, v in (("theme", theme), ("colors", kinds)) if v})
    fit = figure_fit(fmt, style, drawing)
    if fit is not None or args.width is not None:
        from netdraw.figure.fit import medium

        medium(args.width)  # a bad width fails before the model is read
    _check_thumbnail_options(args, fmt)
    options = view_options(args)
    if fills:
        options = replace(options, fills=tuple(fills))
    graph = load_model_from_args(args)
    if args.input and not args.no_thumbnails:
        drawing.update(_explorer(args) if fmt in ("html", "htm") else _thumbnails(args))
    first_view = None
    if spec.own_views:  # the HTML page: it starts at this view and can open every block
        from netdraw.passes.view import plan_view

        drawing["view"] = options
        if "view" not in graph.meta:
            plan = plan_view(graph, options)
            drawing["plan"] = plan
            first_view = plan.view
    elif fmt != "json" or options != ViewOptions():
        graph = make_view(graph, options, fit)
        warn_view(graph)
    if args.output != "-":
        drawing["image_stem"] = Path(args.output).stem  # TikZ: FIG-images/ beside FIG.tex
    if args.assets:
        drawing["assets"] = assets_url(args.assets, args.output)
    data = render(graph, fmt, style=style, **drawing)
    if args.tikz_fragment:
        from netdraw.backends.tikz import preamble

        write_output(extra["preamble_name"], preamble(theme, kinds))
    write_with_files(args.output, data)
    if not spec.own_views:
        report_view(graph)
    elif first_view is not None:
        report_view(first_view, "; the page opens every block")
    return 0


def _colour_options(args: argparse.Namespace, spec: Any
                    ) -> tuple[str | None, dict[str, str], list[tuple[str, str]]]:
    """--theme, --colors and --color as (theme, {kind: colour}, [(PATH, colour)]), checked
    before any model is read. A page (.html) or graph (.json) draws no colours of its own:
    given there they are refused, configured they are left out."""
    from netdraw.figure.themes import author_colours
    from netdraw.settings import from_config

    if spec.name in ("json", "html"):
        for name, flag in (("theme", "--theme"), ("colors", "--colors"), ("color", "--color")):
            if getattr(args, name, None) and not from_config(args, name):
                raise NetdrawError(f"{flag} colours a drawing; .{spec.formats[0]} has no "
                                   "colours of its own (write .svg, .pdf, .png or .tex)")
        return None, {}, []
    return author_colours(args.theme, args.colors, args.color)


def _check_assets(args: argparse.Namespace, fmt: str) -> None:
    """--assets is for pages written to a file; a configured one is a default for them."""
    from netdraw.settings import from_config

    if not args.assets:
        return
    if fmt not in ("html", "htm") or args.output == "-":
        if from_config(args, "assets"):
            args.assets = None
            return
        raise NetdrawError("--assets DIR is for HTML pages written to a file: give "
                           "-o PAGE.html")


def assets_url(folder: str, page: str) -> str:
    """The URL of the assets ``folder`` as seen from the page written to ``page``."""
    import os

    start = os.path.dirname(os.path.abspath(page))
    return Path(os.path.relpath(os.path.abspath(folder), start)).as_posix()


_THUMB_FLAGS = (("thumbnails", "--thumbnails"), ("thumbnail_order", "--thumbnail-order"),
                ("colormap", "--colormap"), ("cam", "--cam"))


def _check_thumbnail_options(args: argparse.Namespace, fmt: str) -> None:
    """Refuse thumbnail options that would do nothing, before any model is read."""
    given = [flag for name, flag in _THUMB_FLAGS if getattr(args, name, None)]
    if given and not args.input:
        raise NetdrawError(f"{given[0]} draws activations: give an image with --input IMG")
    if args.class_labels and (fmt not in ("html", "htm") or not args.input):
        raise NetdrawError("--labels names the classes of an .html page's predictions: "
                           "write .html with --input")
    if not args.input or args.no_thumbnails:
        return
    if fmt in ("html", "htm"):
        from netdraw.viz.faithfulness import image_files

        files = image_files(args.input)
        if len(files) > MAX_PAGE_INPUTS:
            raise NetdrawError(f"a static page holds up to {MAX_PAGE_INPUTS} inputs, not "
                               f"{len(files)}; explore a folder with 'netdraw serve MODEL "
                               "--inputs DIR'")
        for item in files:
            if not Path(item).is_file():
                raise NetdrawError(f"cannot read --input {item}: no such file")
        args.input = files
        return
    if len(args.input) > 1:
        raise NetdrawError("a diagram shows the activations of one input; give one --input "
                           "(an .html page explores several)")
    if fmt in ("dot", "gv", "json"):
        raise NetdrawError(f".{fmt} cannot hold activation thumbnails; write .svg, .png, "
                           ".pdf, .tex or .html (or leave out --input)")
    if args.thumbnails is not None and args.thumbnails < 1:
        raise NetdrawError(f"--thumbnails must be 1 or more, not {args.thumbnails} "
                           "(--no-thumbnails draws none)")
    from netdraw.viz.thumbnails import COLORMAPS

    if args.colormap is not None and args.colormap not in COLORMAPS:
        raise NetdrawError(f"unknown --colormap {args.colormap!r}; choose one of "
                           f"{', '.join(COLORMAPS)}")
    if not Path(args.input[0]).is_file():
        raise NetdrawError(f"cannot read --input {args.input[0]}: no such file")


def _thumbnails(args: argparse.Namespace) -> dict[str, Any]:
    """Run the model on --input: the render options that draw its thumbnails."""
    from netdraw.cli.common import open_from_args, read_inputs, report_inputs

    opened = open_from_args(args)
    batch = read_inputs(opened, args)
    acts = opened.runtime.capture(batch.arrays)
    acts.meta["inputs"] = batch.notes
    out: dict[str, Any] = {"activations": acts, "pixels": batch.pixels,
                           "thumbnail_order": args.thumbnail_order or "mean"}
    if args.thumbnails is not None:
        out["thumbnails"] = args.thumbnails
    if args.colormap:
        out["colormap"] = args.colormap
    if args.cam:
        from netdraw.viz.class_maps import run_cam

        method = "gradcam" if opened.runtime.gradients_supported else "scorecam"
        out["cam"] = run_cam(opened.runtime, batch.arrays, None, "auto", method)
    report_inputs(batch)
    return out


#: Inputs a static explorer page holds (``netdraw serve --inputs DIR`` takes any number).
MAX_PAGE_INPUTS = 64


def _explorer(args: argparse.Namespace) -> dict[str, Any]:
    """Run the model on every --input: the explorer the .html page carries."""
    from netdraw.cli.common import open_from_args, read_inputs, report_inputs
    from netdraw.viz.explore import Explorer, read_labels

    labels = read_labels(args.class_labels) if args.class_labels else None
    opened = open_from_args(args)
    batch = read_inputs(opened, args)
    explorer = Explorer(opened, batch, labels=labels, colormap=args.colormap or "auto",
                        count=args.thumbnails or 4, order=args.thumbnail_order or "mean",
                        normalize=batch.normalize)
    report_inputs(batch)
    return {"explorer": explorer}


def _tikz_options(args: argparse.Namespace, fmt: str) -> tuple[str | None, dict[str, Any]]:
    """The style to draw with and the TikZ-only option (--tikz-fragment). A style never
    changes because of another option: --theme colours every style, and --tikz-fragment
    asks for .tex."""
    from netdraw.settings import from_config

    style = args.style
    extra: dict[str, Any] = {}
    if style and from_config(args, "style"):
        from netdraw.backends import BACKENDS

        spec = next((s for s in BACKENDS if s.answers_to(style)), None)
        if spec is not None and fmt not in spec.formats:
            style = args.style = None  # a configured style is for the formats it writes
    if args.tikz_fragment and from_config(args, "tikz_fragment") and fmt != "tex":
        args.tikz_fragment = False
    if args.tikz_fragment:
        if fmt != "tex" or args.output == "-" or style not in (None, "tikz"):
            raise NetdrawError("--tikz-fragment writes two files of the TikZ style: give "
                               "-o FIG.tex")
        out = Path(args.output)
        extra["fragment"] = True
        extra["inline_colours"] = bool(getattr(args, "inline_colours", False))
        extra["preamble_name"] = str(out.with_name(out.stem + "-preamble.tex"))
    return style, extra
