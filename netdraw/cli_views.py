"""Command-line flags that choose the view, and the ``netdraw summary`` command."""

from __future__ import annotations

import argparse
import sys

from netdraw.errors import NetdrawError

VIEW_HELP = """\
views:
  Without --depth netdraw draws the default view: the deepest group level with at most
  --max-nodes (40) nodes whose drawing, wrapped into columns if it is a tall chain, is at
  most 4x longer than wide; it says on stderr which view it drew. --full draws every node.

  Depth: 0 is the whole model as one block, 1 its top-level groups (layer1, ...) as blocks,
  2 their children, and so on. Flat models (Keras applications, anonymous ONNX) get groups
  from name prefixes (conv4_block2_1_conv -> conv4 > conv4_block2) or, failing that, from
  the structure (stretches between nodes all data flows through).

  Rolling: consecutive sibling groups whose layers match one to one in kind, op type,
  attributes and input/output shapes, wired alike, of one class, each feeding the next,
  are drawn once as 'Bottleneck xN'. A block that changes shape never rolls.

  Folding: chains fold into their first node. Defaults: conv>norm>activation (ConvBNAct),
  conv>norm, conv>activation, dense>norm>activation, dense>activation|softmax,
  norm>activation, add>activation. Add your own with --fold 'STEP>STEP...=Name': each step
  is a kind (conv, norm, activation, dense, ...) or an op type (BatchNormalization, ReLU),
  'a|b' for alternatives, 'step?' when optional. --no-fold turns the defaults off
  (your --fold patterns still apply).

  Hidden unless --keep-all: dropout, identity, casts, shape arithmetic (Shape, Gather of a
  shape, Unsqueeze of a constant, ...), weight transposes and bias adds (merged into their
  layer).
"""


def add_view_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags that choose what part of the model is drawn (shared by draw and summary)."""
    group = parser.add_argument_group("view")
    group.add_argument("--depth", type=int, metavar="N",
                       help="draw groups nested N deep as one block each (0: the whole model "
                            "as one block; default: chosen automatically)")
    group.add_argument("--expand", action="append", default=[], metavar="PATH",
                       help="draw this group open with its children open too, so their "
                            "layers show (repeatable), e.g. layer3")
    group.add_argument("--collapse", action="append", default=[], metavar="PATH",
                       help="draw this group as one block (repeatable)")
    group.add_argument("--no-roll", action="store_true",
                       help="draw repeated blocks one by one instead of once with ×N")
    group.add_argument("--fold", action="append", default=[], metavar="PATTERN",
                       help="fold chains matching PATTERN into one node, e.g. "
                            "'conv>norm>activation=ConvBNAct' (repeatable)")
    group.add_argument("--no-fold", action="store_true",
                       help="do not fold the default patterns (Conv→BN→act, Dense→act, …); "
                            "--fold patterns still apply")
    group.add_argument("--keep-all", action="store_true",
                       help="show plumbing: dropout, identity, casts, shape arithmetic")
    group.add_argument("--max-nodes", type=int, default=40, metavar="N",
                       help="node budget of the default view (default: 40)")
    group.add_argument("--full", action="store_true",
                       help="draw every node: all depths, nothing rolled, folded or hidden")


def view_options(args: argparse.Namespace):  # -> ViewOptions (imported lazily)
    from netdraw.api import view_options as make

    if args.full and args.depth is not None:
        raise NetdrawError("--full draws every level; drop --depth or --full")
    return make(full=args.full, depth=args.depth, expand=args.expand, collapse=args.collapse,
                roll=not args.no_roll, fold=not args.no_fold, fold_patterns=args.fold,
                keep_all=args.keep_all, max_nodes=args.max_nodes)


def report_view(view) -> None:
    """Say on stderr which view was drawn, when netdraw chose it."""
    from netdraw.passes import describe_view

    info = view.meta.get("view") or {}
    if info.get("auto"):
        print(f"netdraw: {describe_view(view)}", file=sys.stderr)


def add_summary_parser(sub: argparse._SubParsersAction) -> None:
    summary = sub.add_parser(
        "summary", help="print a table of layers, shapes, parameters and MACs",
        description="Print MODEL's layers (or blocks, as in the default drawing) with\n"
                    "output shapes, parameters and multiply-accumulates, and the totals.",
        epilog=VIEW_HELP, formatter_class=argparse.RawDescriptionHelpFormatter)
    summary.add_argument("model", metavar="MODEL", help="a model file or zoo:NAME")
    fmt = summary.add_mutually_exclusive_group()
    fmt.add_argument("--markdown", action="store_true", help="a Markdown pipe table")
    fmt.add_argument("--latex", action="store_true", help="a LaTeX booktabs tabular")
    summary.add_argument("-o", "--output", default="-", metavar="OUT",
                         help="write the table to OUT instead of stdout")
    add_view_arguments(summary)


def cmd_summary(args: argparse.Namespace) -> int:
    from netdraw.cli import load_model
    from netdraw.output import write_output
    from netdraw.passes import make_view
    from netdraw.summary import table

    options = view_options(args)
    graph = load_model(args.model)
    view = make_view(graph, options)
    report_view(view)
    fmt = "markdown" if args.markdown else "latex" if args.latex else "text"
    write_output(args.output, table(view, fmt))
    return 0
