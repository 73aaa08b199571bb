"""Command line: ``netdraw draw MODEL -o OUT`` (or ``netdraw MODEL -o OUT``).

Imports no framework at start-up; errors are one line ``netdraw: error: …`` and exit 2.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any, NoReturn

from netdraw.cli_views import (
    VIEW_HELP,
    add_summary_parser,
    add_view_arguments,
    cmd_summary,
    report_view,
    view_options,
)
from netdraw.errors import NetdrawError

COMMANDS = ("draw", "summary", "gallery", "zoo")
TEXT_FORMATS = ("dot", "gv", "json", "svg", "tex", "html")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one ``netdraw: error:`` line and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise NetdrawError(f"{message} (see 'netdraw --help')")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netdraw",
        description="Draw neural networks from ONNX, PyTorch and Keras models.",
        epilog="Shorthand: 'netdraw MODEL -o OUT' is 'netdraw draw MODEL -o OUT'.",
    )
    parser.add_argument("--version", action="version", version=f"netdraw {_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)

    draw = sub.add_parser("draw", help="draw a model to a file",
                          description="Draw MODEL to OUT; the format comes from OUT's suffix.",
                          epilog=VIEW_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    draw.add_argument("model", metavar="MODEL",
                      help="a model file (.onnx, .pt2, .keras, .h5, .json written by netdraw, "
                           "…), zoo:NAME, or pkg.module:factory (a function or class that "
                           "builds the model)")
    draw.add_argument("-o", "--output", required=True, metavar="OUT",
                      help="output file: .dot .gv .svg .png .pdf .json .tex; '-' for stdout "
                           "(text formats, with --format)")
    draw.add_argument("--format", help="output format when OUT is '-' (default: dot)")
    draw.add_argument("--rankdir", default="TB", choices=["TB", "LR", "BT", "RL"],
                      help="layout direction: top-to-bottom (default) or left-to-right")
    draw.add_argument("--title", help="title drawn above the diagram (default: model name; "
                                      "'' for none)")
    draw.add_argument("--theme", metavar="NAME",
                      help="TikZ colours: default, colorblind (Okabe-Ito) or greyscale")
    draw.add_argument("--tikz-fragment", action="store_true",
                      help="with -o FIG.tex: write only the tikzpicture, plus "
                           "FIG-preamble.tex to \\input in your paper's preamble")
    draw.add_argument("--input-shape", action="append", type=_shape, metavar="SHAPE",
                      help="example input shape for a PyTorch module, e.g. 1,3,224,224; "
                           "repeat for several inputs")
    draw.add_argument("--input-dtype", metavar="DTYPE",
                      help="example input dtype (float32 by default; int64 for token ids); "
                           "comma-separated for several inputs")
    add_view_arguments(draw)
    _add_style_options(draw)
    add_summary_parser(sub)

    gallery = sub.add_parser("gallery", help="render the built-in zoo into a folder")
    gallery.add_argument("-o", "--output", default="gallery", metavar="DIR")
    gallery.add_argument("names", nargs="*", metavar="NAME", help="zoo models (default: all)")

    sub.add_parser("zoo", help="list the built-in example models")
    return parser


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
                     help="colour theme 'default' or 'mono' and/or KIND=COLOUR pairs, e.g. "
                          "'mono,conv=#9ecae1,dense=orange'")
    fig.add_argument("--no-labels", dest="labels", action="store_false", default=None,
                     help="leave out dimension, name and op labels")
    fig.add_argument("--no-legend", dest="legend", action="store_false", default=None,
                     help="leave out the colour legend")


def _style_options(args: argparse.Namespace) -> dict[str, Any]:
    """The figure-style options the user gave (unset ones are left to the backend)."""
    names = ("scale", "spacing", "angle", "colors", "labels", "legend")
    return {n: getattr(args, n) for n in names if getattr(args, n, None) is not None}


def _style_stdout_format(args: argparse.Namespace) -> str | None:
    """``-o -`` with a figure style writes that style's own format (``svg``), not DOT."""
    from netdraw.backends import BACKENDS

    if args.output != "-" or not args.style:
        return None
    spec = next((s for s in BACKENDS if s.answers_to(args.style)), None)
    return spec.formats[0] if spec is not None and "dot" not in spec.formats else None


def _version() -> str:
    from netdraw import __version__

    return __version__


def _output_format(output: str, explicit: str | None) -> str:
    if explicit:
        return explicit.lower().lstrip(".")
    if output == "-":
        return "dot"
    suffix = Path(output).suffix.lower().lstrip(".")
    if not suffix:
        raise NetdrawError(f"cannot tell the output format of {output!r}: give it a suffix "
                           "such as .svg, .png, .pdf, .dot or .json")
    return suffix


def _shape(text: str) -> tuple[int, ...]:
    """``1,3,224,224`` (or ``1x3x224x224``) -> (1, 3, 224, 224)."""
    parts = [p for p in text.replace("x", ",").replace(" ", ",").split(",") if p]
    try:
        shape = tuple(int(p) for p in parts)
    except ValueError:
        shape = ()
    if not shape or any(d < 0 for d in shape):
        raise NetdrawError(f"--input-shape {text!r} is not a shape; write it like 1,3,224,224")
    return shape


def load_model(spec: str, input_shape: list[tuple[int, ...]] | None = None,
               input_dtype: str | None = None) -> Any:
    """A model argument -> Graph: a file path, ``zoo:NAME`` or ``pkg.module:factory``."""
    from netdraw.api import load

    options: dict[str, Any] = {}
    if input_shape:
        options["input_shape"] = input_shape[0] if len(input_shape) == 1 else input_shape
    if input_dtype:
        dtypes = [d.strip() for d in input_dtype.split(",") if d.strip()]
        options["input_dtype"] = dtypes[0] if len(dtypes) == 1 else dtypes
    if spec.startswith("zoo:"):
        from netdraw import zoo

        if options and zoo.entry(spec[4:]).framework == "onnx":
            raise NetdrawError(f"{spec} is an ONNX model with fixed shapes; --input-shape and "
                               "--input-dtype apply to PyTorch models")
        return zoo.load(spec[4:], **options)
    from netdraw.factory import build, is_factory_spec

    if is_factory_spec(spec) and not os.path.exists(spec):
        return load(build(spec), **options)
    if options:
        raise NetdrawError("--input-shape and --input-dtype apply to Python models "
                           "(pkg.module:factory, zoo:NAME), not to model files")
    if not os.path.exists(spec):
        raise NetdrawError(f"cannot read {spec!r}: no such file")
    if os.path.isdir(spec):
        raise NetdrawError(f"{spec!r} is a folder; give a model file")
    if not os.access(spec, os.R_OK):
        raise NetdrawError(f"cannot read {spec!r}: permission denied")
    return load(spec)


def cmd_draw(args: argparse.Namespace) -> int:
    from netdraw.api import render
    from netdraw.backends import find_backend
    from netdraw.output import check_target, write_output
    from netdraw.passes import ViewOptions, make_view

    fmt = _output_format(args.output, args.format or _style_stdout_format(args))
    style, extra = _tikz_options(args, fmt)
    spec = find_backend(fmt, style)  # fail on a bad format before any model is read
    if args.output == "-" and fmt in spec.binary_formats:
        raise NetdrawError(f".{fmt} is binary: write it to a file, not stdout")
    check_target(args.output)  # a bad output path fails before the model is read
    options = view_options(args)
    graph = load_model(args.model, args.input_shape, args.input_dtype)
    if fmt != "json" or options != ViewOptions():
        graph = make_view(graph, options)
    data = render(graph, fmt, style=style, rankdir=args.rankdir, title=args.title,
                  **_style_options(args), **extra)
    if args.tikz_fragment:
        from netdraw.backends.tikz import preamble

        write_output(extra["preamble_name"], preamble())
    write_output(args.output, data)
    report_view(graph)
    return 0


def _tikz_options(args: argparse.Namespace, fmt: str) -> tuple[str | None, dict[str, Any]]:
    """The style to draw with and the TikZ-only options (--theme, --tikz-fragment)."""
    style = args.style
    extra: dict[str, Any] = {}
    if args.theme or args.tikz_fragment:
        if style not in (None, "tikz") or fmt not in ("tex", "pdf", "png"):
            raise NetdrawError("--theme and --tikz-fragment are for TikZ figures: write .tex, "
                               "or .pdf/.png with --style tikz")
        style = "tikz"
        from netdraw.figure.themes import theme

        theme(args.theme)  # a bad name fails before the model is read
        extra["theme"] = args.theme
    if args.tikz_fragment:
        if fmt != "tex" or args.output == "-":
            raise NetdrawError("--tikz-fragment writes two files: give -o FIG.tex")
        out = Path(args.output)
        extra["fragment"] = True
        extra["preamble_name"] = str(out.with_name(out.stem + "-preamble.tex"))
    return style, extra


def cmd_gallery(args: argparse.Namespace) -> int:
    from netdraw.gallery import render_gallery

    for line in render_gallery(Path(args.output), args.names or None):
        print(line)
    return 0


def cmd_zoo(_: argparse.Namespace) -> int:
    from netdraw import zoo

    for name, entry in zoo.ZOO.items():
        print(f"{name:18} {entry.framework:6} {entry.description}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "draw")  # shorthand: netdraw MODEL -o OUT
    try:
        args = build_parser().parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        handler = {"draw": cmd_draw, "summary": cmd_summary, "gallery": cmd_gallery,
                   "zoo": cmd_zoo}[args.command]
        return handler(args)
    except NetdrawError as exc:
        print(f"netdraw: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netdraw: error: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        print("netdraw: error: the model is nested too deeply to read", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug in netdraw: still one line, unless debugging
        if os.environ.get("NETDRAW_DEBUG"):
            raise
        print(f"netdraw: error: internal error ({type(exc).__name__}: {exc}); please report "
              "it, with NETDRAW_DEBUG=1 for the traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
