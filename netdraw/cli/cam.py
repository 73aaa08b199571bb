"""``netdraw cam MODEL --input IMG -o OUT.png``: where the evidence for a class lies."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    from netdraw.cli.common import add_input_arguments, add_model_arguments

    parser = sub.add_parser(
        "cam", help="class-activation map (Grad-CAM and friends) over an input image",
        description="Compute a class-activation map of MODEL for the --input image and "
                    "draw it over the image. The class defaults to the top prediction; the "
                    "layer to the last one whose output still has a spatial grid larger "
                    "than 1x1 (vision-transformer tokens are folded into their grid).")
    add_model_arguments(parser)
    add_input_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT.png",
                        help="the picture (.png); with several inputs OUT.0.png, OUT.1.png…")
    parser.add_argument("--class", dest="class_index", type=int, metavar="N",
                        help="class index to explain (default: the top prediction)")
    parser.add_argument("--layer", default="auto", metavar="auto|NAME",
                        help="layer to map: auto (default) or a node name, id or group")
    parser.add_argument("--method", default="gradcam",
                        choices=["gradcam", "gradcam++", "layercam", "scorecam", "cam"],
                        help="gradcam (default), gradcam++, layercam (gradients: PyTorch, "
                             "Keras on torch), scorecam or cam (forward only; cam needs "
                             "global average pooling and one linear layer at the end)")
    parser.add_argument("--save-npy", metavar="FILE",
                        help="also write the raw maps (N, h, w) at the layer's resolution, "
                             "before normalisation, as .npy")


def _targets(output: str, count: int) -> list[str]:
    if count == 1:
        return [output]
    path = Path(output)
    return [str(path.with_name(f"{path.stem}.{k}{path.suffix}")) for k in range(count)]


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from netdraw.cli.common import open_from_args, read_inputs, report_inputs
    from netdraw.errors import NetdrawError
    from netdraw.output import check_target, write_output
    from netdraw.viz.api import class_names
    from netdraw.viz.class_maps import run_cam
    from netdraw.viz.pictures import to_png
    from netdraw.viz.report import cam_image

    if Path(args.output).suffix.lower() != ".png":
        raise NetdrawError(f"-o {args.output}: cam writes a .png picture")
    check_target(args.output)
    if args.save_npy:
        check_target(args.save_npy)
    opened = open_from_args(args)
    from netdraw.viz.class_maps import GRADIENT_METHODS

    if args.method in GRADIENT_METHODS and not opened.runtime.gradients_supported:
        raise NetdrawError(f"{args.method} needs gradients, which netdraw does not have for "
                           f"{opened.framework} models; use --method cam or --method scorecam")
    batch = read_inputs(opened, args)
    result = run_cam(opened.runtime, batch.arrays, args.class_index, args.layer, args.method)
    names = class_names(opened)
    how = ("auto: the last layer with a spatial grid larger than 1×1" if args.layer == "auto"
           else "as asked")
    grid = f"{result.maps.shape[1]}×{result.maps.shape[2]}"
    print(f"layer: {result.layer_name} ({how}; grid {grid})")
    pictures = []
    for k, c in enumerate(result.classes):
        label = f" ({names[c]})" if names and c < len(names) else ""
        chosen = "top prediction" if args.class_index is None else "as asked"
        print(f"class: {c}{label}, score {result.scores[k]:.4f} ({chosen})"
              + (f" [input {k}]" if len(result.classes) > 1 else ""))
        pictures.append(to_png(cam_image(result, batch.pixels, k, names)))
    for target, data in zip(_targets(args.output, len(pictures)), pictures, strict=True):
        write_output(target, data)
    if args.save_npy:
        buffer = io.BytesIO()
        np.save(buffer, result.maps, allow_pickle=False)
        write_output(args.save_npy, buffer.getvalue())
    report_inputs(batch)
    print(f"netdraw: {args.method} on {result.graph.name}; wrote {args.output}",
          file=sys.stderr)
    return 0
