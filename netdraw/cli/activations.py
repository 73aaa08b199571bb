"""``netdraw activations MODEL --input IMG -o DIR``: every layer's output for an input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netdraw.cli.common import add_input_arguments, add_model_arguments


def add_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "activations", help="draw what every layer outputs for an input",
        description="Run MODEL on the --input files and write, into DIR, one PNG per layer "
                    "with a spatial or vector output (a grid of channels with a colour bar, "
                    "the layer's name, shape and value range), index.html (every layer on "
                    "one page) and activations.json (per layer: files, shape, min, max, "
                    "mean, fraction of zeros).")
    add_model_arguments(parser)
    add_input_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="folder to write into (created if missing)")
    parser.add_argument("--channels", type=int, default=16, metavar="N",
                        help="channels drawn per layer (default 16)")
    parser.add_argument("--order", choices=["index", "mean", "max"], default="index",
                        help="which channels: the first N (index, default) or the N most "
                             "active by mean or by maximum")
    parser.add_argument("--layer", action="append", default=[], metavar="NAME",
                        help="only this layer (a node name or id, or a group such as "
                             "layer3; repeatable); default: every layer")


def run(args: argparse.Namespace) -> int:
    from netdraw.cli.common import configured_layers, open_from_args, read_inputs, report_inputs
    from netdraw.errors import NetdrawError
    from netdraw.output import FolderWriter
    from netdraw.viz.layers import resolve_layer
    from netdraw.viz.report import write_activations

    if args.channels < 1:
        raise NetdrawError(f"--channels must be 1 or more, not {args.channels}")
    writer = FolderWriter(args.output)  # a bad output folder fails before any work
    try:
        opened = open_from_args(args)
        batch = read_inputs(opened, args)
        acts = opened.runtime.capture(batch.arrays)
        acts.meta["inputs"] = batch.notes
        layers = configured_layers(args, acts.graph)
        if layers:  # the layers asked for, not the input picture
            acts = acts.select([resolve_layer(acts.graph, name) for name in layers])
    except BaseException:
        writer.__exit__(RuntimeError, None, None)
        raise
    with writer as folder:
        entries = write_activations(acts, folder, args.channels, args.order)
    report_inputs(batch)
    drawn = sum(1 for e in entries if e.files)
    print(f"netdraw: wrote {drawn} layer pictures, index.html and activations.json to "
          f"{Path(args.output)}", file=sys.stderr)
    return 0
