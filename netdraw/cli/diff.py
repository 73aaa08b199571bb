"""``netdraw diff A B``: what changed between two models, drawn (``-o OUT``) or tabled
(``--summary``)."""

from __future__ import annotations

import argparse
import sys

from netdraw.cli.common import (
    VIEW_HELP,
    add_model_arguments,
    add_view_arguments,
    load_model_from_args,
    output_format,
    report_view,
    view_options,
)
from netdraw.errors import NetdrawError

DIFF_HELP = """\
statuses:
  removed (only in A: red, dashed, '-'), added (only in B: green, '+'), changed (amber,
  'Δ', the change in the label: 'units 256 -> 512'), reshaped (pale amber: only shapes
  and parameters changed, because a layer upstream did), same (grey). A block is
  changed when anything inside it changed; --expand PATH opens it.

matching:
  nodes are matched by qualified name first, then by structure (kind, op type,
  attributes, shapes, position), so a model and its own ONNX export or Keras port
  match; see 'netdraw.diff.match' for the algorithm.

renames:
  a matched layer or module whose name changed (head -> classifier) is a change: weights
  saved under the old names no longer load. The verdict names the renamed modules.

exit status:
  with --summary (or without -o): 0 when A and B are the same architecture with the same
  names (with --equivalent: up to differences exporters make), 1 when they differ, 2 on
  error. Writing a drawing alone exits 0.

""" + VIEW_HELP


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "diff", help="what changed between two models, drawn or as a table",
        description="Compare model A (before) with model B (after): draw the union of\n"
                    "both coloured by what changed (-o OUT), and/or print the table of\n"
                    "changes (--summary). A and B may come from different frameworks.",
        epilog=DIFF_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(parser, "A", "a")
    add_model_arguments(parser, "B", "b")
    parser.add_argument("-o", "--output", metavar="OUT",
                        help="write the drawing: .svg .png .pdf .dot .gv .json .tex .html "
                             "(the interactive preview); '-' for stdout (text formats, "
                             "with --format)")
    parser.add_argument("--format", help="output format when OUT is '-' (default: dot)")
    parser.add_argument("--summary", action="store_true",
                        help="print the table of changes (the default without -o)")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true",
                     help="the table as a Markdown pipe table (implies --summary)")
    fmt.add_argument("--latex", action="store_true",
                     help="the table as a LaTeX booktabs tabular (implies --summary)")
    parser.add_argument("--side-by-side", action="store_true",
                        help="draw A and B next to each other, matched nodes aligned and "
                             "linked, instead of their union (Graphviz formats)")
    parser.add_argument("--rankdir", default="TB", choices=["TB", "LR", "BT", "RL"],
                        help="layout direction: top-to-bottom (default) or left-to-right")
    parser.add_argument("--title", help="title above the drawing (default: the names and "
                                        "totals of both; '' for none)")
    parser.add_argument("--style", choices=["graph", "tikz"],
                        help="graph (Graphviz, the default) or tikz (3D boxes; the default "
                             "for .tex)")
    parser.add_argument("--no-legend", dest="legend", action="store_false",
                        help="leave out the legend of statuses")
    parser.add_argument("--equivalent", action="store_true",
                        help="an export check: differences that exporters make (a folded "
                             "BatchNorm, a fused activation, constant folding, an operation "
                             "spelled out) count as the same; they are listed as "
                             "'equivalent' and the exit status is 0 when nothing else "
                             "differs")
    add_view_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from netdraw.diff import diff
    from netdraw.diff.draw import SIDE_BY_SIDE_FORMATS, render_diff, union_view
    from netdraw.output import check_target, write_output

    summary = args.summary or args.markdown or args.latex or not args.output
    fmt = None
    if args.output:
        fmt = output_format(args.output, args.format)
        _check_format(fmt, args)
        if args.side_by_side and fmt not in SIDE_BY_SIDE_FORMATS:
            raise NetdrawError("--side-by-side draws with Graphviz: write "
                               + ", ".join("." + f for f in SIDE_BY_SIDE_FORMATS))
        check_target(args.output)
    elif args.format or args.side_by_side:
        raise NetdrawError("--format and --side-by-side are for drawings: give -o OUT")
    options = view_options(args)
    _check_input_options(args)
    a = load_model_from_args(args, "a", where_taken=True)
    b = load_model_from_args(args, "b", where_taken=True)
    result = diff(a, b, keep_all=options.keep_all)
    view = union_view(result, options, legend=args.legend)
    if args.output:
        style = "tikz" if args.style == "tikz" else None
        data = render_diff(result, fmt, view=view, view_opts=options,
                           side_by_side=args.side_by_side,
                           title=args.title, legend=args.legend, style=style,
                           rankdir=args.rankdir)
        write_output(args.output, data)
        report_view(view)
    if summary:
        table = "markdown" if args.markdown else "latex" if args.latex else "text"
        sys.stdout.write(result.table(table, view, equivalent=args.equivalent))
        sys.stdout.flush()
        return 0 if result.same or (args.equivalent and result.equivalent) else 1
    from netdraw.diff.table import verdict

    print(f"netdraw: {verdict(result, args.equivalent)}", file=sys.stderr)
    return 0


def _check_input_options(args: argparse.Namespace) -> None:
    """Typed --input-shape/--input-dtype go to the side that is a Python model; with two
    model files they apply to neither, which is an error."""
    from netdraw.importers import takes_input_options
    from netdraw.settings import from_config

    typed = [f"--{key.replace('_', '-')}" for key in ("input_shape", "input_dtype")
             if getattr(args, key, None) and not from_config(args, key)]
    if typed and not (takes_input_options(args.a) or takes_input_options(args.b)):
        raise NetdrawError(f"{' and '.join(typed)} describe a Python model's example input "
                           "(pkg.module:factory, zoo:NAME); A and B are both model files, "
                           "which carry their own")


def _check_format(fmt: str, args: argparse.Namespace) -> None:
    """Fail on a format nobody writes before any model is read."""
    from netdraw.backends import find_backend

    if fmt == "json":
        return
    spec = find_backend(fmt, "tikz" if args.style == "tikz" else None)
    if args.output == "-" and fmt in spec.binary_formats:
        raise NetdrawError(f".{fmt} is binary: write it to a file, not stdout")
