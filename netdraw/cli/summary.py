"""``netdraw summary MODEL``: a table of layers, shapes, parameters and MACs."""

from __future__ import annotations

import argparse

from netdraw.cli.common import (
    VIEW_HELP,
    add_model_arguments,
    add_view_arguments,
    load_model_from_args,
    report_view,
    view_options,
    warn_view,
)


def add_parser(sub: argparse._SubParsersAction) -> None:
    summary = sub.add_parser(
        "summary", help="print a table of layers, shapes, parameters and MACs",
        description="Print MODEL's layers (or blocks, as in the default drawing) with\n"
                    "output shapes, parameters and multiply-accumulates, and the totals.",
        epilog=VIEW_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_model_arguments(summary)
    fmt = summary.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="a Markdown pipe table")
    fmt.add_argument("--latex", action="store_true", help="a LaTeX booktabs tabular")
    summary.add_argument("-o", "--output", default="-", metavar="OUT",
                         help="write the table to OUT instead of stdout")
    summary.add_argument("--columns", metavar="LIST",
                         help="the columns, a comma list of name, kind, shape, params, macs "
                              "(default: all); name,shape,params fits a paper's column")
    add_view_arguments(summary)
    from netdraw.cli.draw import add_author_arguments

    add_author_arguments(summary, colours=False)


def run(args: argparse.Namespace) -> int:
    from netdraw.output import write_output
    from netdraw.passes import make_view
    from netdraw.summary import parse_columns, table

    parse_columns(args.columns)  # a bad list fails before the model is read
    options = view_options(args)
    graph = load_model_from_args(args)
    view = make_view(graph, options)
    warn_view(view)
    report_view(view)
    fmt = "markdown" if args.markdown else "latex" if args.latex else "text"
    write_output(args.output, table(view, fmt, args.columns))
    return 0
