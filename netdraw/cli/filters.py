"""``netdraw filters MODEL -o DIR``: the first layer's kernels, and what channels respond to."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    from netdraw.cli.common import add_model_arguments

    parser = sub.add_parser(
        "filters", help="draw the first convolution's kernels and, with --ascent, the "
                        "input each channel responds to most",
        description="Write into DIR filters.png (the first convolution's kernels as RGB "
                    "tiles, from the weights, any framework) and, with --ascent, one "
                    "ascent-LAYER.png per chosen layer: for each channel the input that "
                    "maximises its mean activation, found by gradient ascent (PyTorch, and "
                    "Keras on the torch backend; ONNX models give raw kernels only).")
    add_model_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="DIR",
                        help="folder to write into (created if missing)")
    parser.add_argument("--layer", action="append", default=[], metavar="NAME",
                        help="layer for --ascent (repeatable; default: up to four "
                             "convolutions spread over the network)")
    parser.add_argument("--ascent", action="store_true",
                        help="find each channel's preferred input by gradient ascent")
    parser.add_argument("--steps", type=int, default=64, metavar="N",
                        help="gradient-ascent steps (default 64)")
    parser.add_argument("--size", type=int, metavar="PX",
                        help="size of the ascent images (default: the model's input size, "
                             "else 128)")
    parser.add_argument("--channels", type=int, default=16, metavar="N",
                        help="channels per layer for --ascent (default 16: the first 16)")
    parser.add_argument("--normalize", default="none", metavar="imagenet|none|MEAN,STD",
                        help="preprocessing the model expects, applied to the ascent images")


def run(args: argparse.Namespace) -> int:
    from netdraw.cli.common import open_from_args
    from netdraw.errors import NetdrawError
    from netdraw.output import FolderWriter, write_output
    from netdraw.viz.api import filters
    from netdraw.viz.inputs import parse_normalize
    from netdraw.viz.pictures import to_png
    from netdraw.viz.report import ascent_image, file_stem, filter_image

    if args.steps < 1 or args.channels < 1 or (args.size is not None and args.size < 8):
        raise NetdrawError("--steps and --channels must be 1 or more, --size 8 or more")
    if not args.ascent:  # configured ascent settings are defaults for runs with --ascent
        from netdraw.settings import from_config

        for dest, default in (("layer", []), ("size", None), ("steps", 64)):
            if from_config(args, dest):
                setattr(args, dest, default)
    if (args.layer or args.size or args.steps != 64) and not args.ascent:
        raise NetdrawError("--layer, --steps and --size choose the gradient ascent: add "
                           "--ascent")
    normalize = parse_normalize(args.normalize)
    writer = FolderWriter(args.output)
    try:
        opened = open_from_args(args)
        if args.ascent and not opened.runtime.gradients_supported:
            raise NetdrawError(f"{opened.name} is an {opened.framework} model: netdraw has "
                               "no gradients for it, so it shows the raw kernels only; drop "
                               "--ascent")
        result = filters(opened, args.layer or None, ascent=args.ascent, steps=args.steps,
                         size=args.size, channels=args.channels, normalize=normalize)
    except BaseException:
        writer.__exit__(RuntimeError, None, None)
        raise
    graph = result.graph
    with writer as folder:
        for nid, kernels in result.kernels.items():
            node = graph.nodes[nid]
            stored = "weights as stored (BatchNorm folded in)" if any(
                "BatchNormalization" in note for note in result.notes) else "raw weights"
            subtitle = f"first convolution ({node.op_type}), {stored} · {graph.name}"
            write_output(str(folder / "filters.png"),
                         to_png(filter_image(kernels, node.name, subtitle)))
        for position, (nid, images) in enumerate(result.images.items()):
            shown = result.names.get(nid, graph.nodes[nid].name)
            subtitle = (f"gradient ascent, {result.steps} steps, {images.shape[-1]} px · "
                        f"{graph.name}")
            name = file_stem(position, shown).replace(f"{position:02d}-", "ascent-", 1)
            write_output(str(folder / f"{name}.png"),
                         to_png(ascent_image(images, result.channels[nid], shown,
                                             subtitle, result.objective[nid])))
    for note in result.notes:
        print(f"netdraw: {note}", file=sys.stderr)
    print(f"netdraw: wrote {len(result.kernels) + len(result.images)} picture(s) to "
          f"{Path(args.output)}", file=sys.stderr)
    return 0
