"""``netdraw cam MODEL --input IMG -o OUT.png``: where the evidence for a class lies."""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path
from typing import Any

METHOD_NAMES = ("gradcam", "gradcam++", "layercam", "scorecam", "cam",
                "integrated-gradients", "smoothgrad", "guided-gradcam")


def add_parser(sub: argparse._SubParsersAction) -> None:
    from netdraw.cli.common import add_input_arguments, add_model_arguments

    parser = sub.add_parser(
        "cam", help="class-activation maps and pixel attributions over input images, and "
                    "how faithful they are",
        description="Compute an attribution map of MODEL for each --input image (a folder "
                    "stands for its images) and draw it over the image. The class defaults "
                    "to each input's top prediction; the layer to the last one whose output "
                    "still has a spatial grid larger than 1x1 (vision-transformer tokens are "
                    "folded into their grid). A layer name means what the diagram's box of "
                    "that name shows. With --evaluate, measure the maps' faithfulness "
                    "(deletion/insertion AUC, pointing game, randomisation check).")
    add_model_arguments(parser)
    add_input_arguments(parser)
    parser.add_argument("-o", "--output", required=True, metavar="OUT.png|OUT.json",
                        help="the picture (.png); with several inputs OUT.0.png, OUT.1.png… "
                             "(or one figure with --panel); with --evaluate the .json "
                             "report (means on stdout)")
    target = parser.add_argument_group("what to explain")
    target.add_argument("--class", dest="class_index", metavar="N[,N…]",
                        help="class index to explain, or one per input (3,7,1); default: "
                             "each input's top prediction")
    target.add_argument("--minus", metavar="M[,M…]",
                        help="explain the logit difference class − M (why N rather than M)")
    target.add_argument("--output-name", dest="output_name", metavar="NAME|INDEX",
                        help="which output of a multi-output model (default: the one named "
                             "logits, else the first)")
    target.add_argument("--region", metavar="X0,Y0,X1,Y1|MASK.npy",
                        help="for a segmentation output (N, classes, H, W): the box or mask "
                             "of output pixels whose class scores are explained")
    method = parser.add_argument_group("method")
    method.add_argument("--layer", default="auto", metavar="auto|NAME",
                        help="layer to map: auto (default) or a box name, node name, id or "
                             "group")
    method.add_argument("--method", default="gradcam", metavar="NAME[,NAME…]",
                        help=f"one of {', '.join(METHOD_NAMES)} (default gradcam), or "
                             "several separated by commas (one figure: inputs × methods). "
                             "Gradient methods need PyTorch (or Keras on torch); "
                             "guided-gradcam PyTorch; cam needs global average pooling and "
                             "one linear layer at the end")
    method.add_argument("--smooth", type=int, default=0, metavar="N",
                        help="average the map over N noisy copies of each input "
                             "(SmoothGrad on any method)")
    method.add_argument("--noise", type=float, metavar="STD",
                        help="noise standard deviation for --smooth and smoothgrad "
                             "(default: 15%% of the input's range)")
    method.add_argument("--samples", type=int, default=25, metavar="N",
                        help="noisy copies for smoothgrad (default 25)")
    method.add_argument("--steps", type=int, default=50, metavar="N",
                        help="integration points for integrated-gradients (default 50)")
    method.add_argument("--seed", type=int, default=0, help="seed of the noise (default 0)")
    figure = parser.add_argument_group("figure")
    figure.add_argument("--colormap", default="heat", metavar="NAME",
                        help="heat (default, jet-like), viridis, gray or diverging")
    figure.add_argument("--alpha", type=float, default=0.5, metavar="A",
                        help="opacity of the map where it is strongest, 0-1 (default 0.5); "
                             "where the map is 0 the input shows unchanged")
    figure.add_argument("--scale", choices=["image", "shared"], default="image",
                        help="scale each map to 0-1 on its own (image, default) or all "
                             "inputs' maps on one scale (shared), so they compare")
    figure.add_argument("--panel", action="store_true",
                        help="one figure: a row per input, a column per method")
    figure.add_argument("--save-npy", metavar="FILE",
                        help="also write the raw maps (N, h, w) at the layer's resolution, "
                             "before normalisation, as .npy")
    evaluation = parser.add_argument_group("faithfulness (--evaluate)")
    evaluation.add_argument("--evaluate", nargs="?", const="deletion,insertion",
                            metavar="METRIC[,…]",
                            help="measure the maps: deletion, insertion (default both), "
                                 "pointing (needs --boxes), randomisation (PyTorch)")
    evaluation.add_argument("--baseline", choices=["zero", "blur", "mean"], default="blur",
                            help="what deleted pixels become (default blur)")
    evaluation.add_argument("--curve-steps", type=int, default=20, metavar="N",
                            help="points of the deletion/insertion curves (default 20)")
    evaluation.add_argument("--boxes", metavar="FILE.json",
                            help="one [x0, y0, x1, y1] box per input, in input pixels, for "
                                 "the pointing game")
    evaluation.add_argument("--batch-size", type=int, default=32, metavar="N",
                            help="inputs per batch (default 32): a folder streams through "
                                 "in batches")


def targets_for(output: str, count: int) -> list[str]:
    """The files written for ``count`` pictures: OUT.png, or OUT.0.png, OUT.1.png, …"""
    if count == 1:
        return [output]
    path = Path(output)
    return [str(path.with_name(f"{path.stem}.{k}{path.suffix}")) for k in range(count)]


def describe_files(files: list[str]) -> str:
    if len(files) <= 4:
        return ", ".join(files)
    return f"{len(files)} files {files[0]} … {files[-1]}"


def _methods(text: str) -> list[str]:
    from netdraw.errors import NetdrawError

    methods = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in methods if m not in METHOD_NAMES]
    if unknown or not methods:
        raise NetdrawError(f"--method {text!r}: use one or more of {', '.join(METHOD_NAMES)}")
    return methods


def _target(args: argparse.Namespace, opened: Any, size: Any) -> Any:
    import numpy as np

    from netdraw.errors import NetdrawError
    from netdraw.viz.targets import Target, box_mask, parse_classes

    region = None
    if args.region:
        if args.region.lower().endswith(".npy"):
            try:
                region = np.load(args.region, allow_pickle=False)
            except (OSError, ValueError) as exc:
                raise NetdrawError(f"cannot read --region {args.region}: {exc}") from None
        else:
            try:
                box = [float(v) for v in args.region.split(",")]
            except ValueError:
                box = []
            if len(box) != 4:
                raise NetdrawError(f"--region {args.region!r}: give X0,Y0,X1,Y1 or a .npy "
                                   "mask")
            region = ("box", box)
    output: Any = args.output_name
    if output is not None and output.isdigit():
        output = int(output)
    if isinstance(region, tuple):
        sample = opened.runtime.outputs(size, output)
        if sample.ndim != 4:
            raise NetdrawError(f"--region needs a segmentation output (N, classes, H, W); "
                               f"this output has shape {sample.shape}")
        hw = sample.shape[1:3] if opened.runtime.layout == "channels_last" else \
            sample.shape[2:]
        region = box_mask(region[1], tuple(hw))
    return Target(parse_classes(args.class_index), parse_classes(args.minus), output, region,
                  opened.runtime.layout)


def run(args: argparse.Namespace) -> int:
    from netdraw.cli.common import open_from_args
    from netdraw.errors import NetdrawError
    from netdraw.output import check_target

    suffix = Path(args.output).suffix.lower()
    wanted = ".json" if args.evaluate else ".png"
    if suffix != wanted:
        raise NetdrawError(f"-o {args.output}: cam writes a .png picture, and with "
                           "--evaluate a .json report")
    methods = _methods(args.method)
    if not 0 <= args.alpha <= 1:
        raise NetdrawError(f"--alpha must lie in 0-1, not {args.alpha}")
    if args.smooth < 0 or args.samples < 1 or args.steps < 1 or args.batch_size < 1:
        raise NetdrawError("--smooth must be 0 or more; --samples, --steps and --batch-size "
                           "1 or more")
    from netdraw.viz.pictures import heat_colormap

    heat_colormap(args.colormap)
    check_target(args.output)
    if args.save_npy:
        check_target(args.save_npy)
    opened = open_from_args(args)
    from netdraw.viz.class_maps import GRADIENT_METHODS

    for method in methods:
        if method in GRADIENT_METHODS and not opened.runtime.gradients_supported:
            raise NetdrawError(f"{method} needs gradients, which netdraw does not have for "
                               f"{opened.framework} models; use --method cam or --method "
                               "scorecam")
    if args.evaluate:
        return _evaluate(args, opened, methods)
    return _draw(args, opened, methods)


def _options(args: argparse.Namespace, method: str) -> dict[str, Any]:
    if method == "integrated-gradients":
        return {"steps": args.steps}
    if method == "smoothgrad":
        return {"samples": args.samples}
    return {}


def _draw(args: argparse.Namespace, opened: Any, methods: list[str]) -> int:
    """Pictures: one per input (inputs stream through in batches of --batch-size), or one
    figure (--panel, several methods, --scale shared and --save-npy see every input at
    once)."""
    import numpy as np

    from netdraw import progress
    from netdraw.cli.common import report_inputs
    from netdraw.output import write_output
    from netdraw.viz.api import class_names
    from netdraw.viz.faithfulness import image_files, slice_target
    from netdraw.viz.inputs import load_inputs, parse_normalize
    from netdraw.viz.pictures import to_png
    from netdraw.viz.report import cam_image, cam_panel

    normalize = parse_normalize(args.normalize)
    files = image_files(args.input)
    one_figure = args.panel or len(methods) > 1
    whole = one_figure or args.scale == "shared" or bool(args.save_npy)
    size = len(files) if whole else args.batch_size
    chunks = [files[i:i + size] for i in range(0, len(files), size)]
    names = class_names(opened)
    written: list[str] = []
    target = None
    done = 0
    with progress.task(f"{', '.join(methods)}", total=len(files)) as bar:
        for chunk in chunks:
            batch = load_inputs(chunk, opened.spec, normalize)
            if target is None:
                target = _target(args, opened, batch.arrays)
            count = int(batch.arrays[0].shape[0])
            part = slice_target(target, done, count) if len(chunks) > 1 else target
            results = [_run(args, opened, batch.arrays, method, part) for method in methods]
            if done == 0:
                _print_layers(args, results)
            _print_classes(args, results[0], names, done, len(files))
            pixels = _pixels(batch, opened)
            if one_figure:
                labels = [Path(f).name for f in batch.files] if len(batch.files) == count \
                    else [f"input {k}" for k in range(count)]
                pictures = [to_png(cam_panel(pixels, list(zip(labels, [results] * count,
                                                                 strict=True)),
                                             names, cmap=args.colormap, alpha=args.alpha,
                                             scale=args.scale))]
                targets = [args.output]
            else:
                pictures = [to_png(cam_image(results[0], pixels, k, names,
                                             cmap=args.colormap, alpha=args.alpha,
                                             scale=args.scale)) for k in range(count)]
                targets = _picture_targets(args.output, done, count, len(files), len(chunks))
            for path, data in zip(targets, pictures, strict=True):
                write_output(path, data)
            written.extend(targets)
            if args.save_npy:
                buffer = io.BytesIO()
                np.save(buffer, results[0].maps, allow_pickle=False)
                write_output(args.save_npy, buffer.getvalue())
                written.append(args.save_npy)
            report_inputs(batch)
            done += count
            bar.advance(len(chunk))
    print(f"netdraw: {', '.join(methods)} on {results[0].graph.name}; wrote "
          f"{describe_files(written)}", file=sys.stderr)
    return 0


def _run(args: argparse.Namespace, opened: Any, arrays: list[Any], method: str,
         target: Any) -> Any:
    from netdraw.viz.class_maps import run_cam

    return run_cam(opened.runtime, arrays, None, args.layer, method, target=target,
                   smooth=args.smooth, noise=args.noise, seed=args.seed,
                   **_options(args, method))


def _picture_targets(output: str, done: int, count: int, total: int, chunks: int
                     ) -> list[str]:
    if chunks == 1:
        return targets_for(output, count)
    return targets_for(output, total)[done:done + count]


def _print_layers(args: argparse.Namespace, results: list[Any]) -> None:
    for result in results:
        if not result.layer:
            continue
        how = "auto: the last layer with a spatial grid larger than 1×1" \
            if args.layer == "auto" else "as asked"
        inner = f", the output of {result.layer_path}" \
            if result.layer_path != result.layer_name else ""
        if result.attributions is not None:  # a pixel method using a layer's Grad-CAM
            print(f"{result.method}: Grad-CAM factor on layer {result.layer_name} "
                  f"({how}{inner})")
            continue
        grid = f"{result.maps.shape[1]}×{result.maps.shape[2]}"
        print(f"{result.method}: layer {result.layer_name} ({how}{inner}; grid {grid})")
    for note in results[0].notes:
        print(f"note: {note}")


def _print_classes(args: argparse.Namespace, result: Any, names: Any, done: int,
                   total: int) -> None:
    for k, c in enumerate(result.classes):
        label = f" ({names[c]})" if names and c < len(names) else ""
        chosen = "top prediction" if args.class_index is None else "as asked"
        print(f"class: {c}{label}, {result.score_kind} {result.scores[k]:.4f} ({chosen})"
              + (f" [input {done + k}]" if total > 1 else ""))


def _pixels(batch: Any, opened: Any) -> Any:
    """The inputs as 0-1 pictures (N, C, H, W): the images read, or arrays scaled."""
    import numpy as np

    if batch.pixels is not None:
        return batch.pixels
    x = np.asarray(batch.arrays[0], np.float32)
    x = np.moveaxis(x, -1, 1) if opened.runtime.layout == "channels_last" else x
    low, high = float(x.min()), float(x.max())
    return (x - low) / ((high - low) or 1.0)


def _evaluate(args: argparse.Namespace, opened: Any, methods: list[str]) -> int:
    import json

    from netdraw.errors import NetdrawError
    from netdraw.output import write_output
    from netdraw.viz.faithfulness import METRICS, evaluate, image_files
    from netdraw.viz.inputs import parse_normalize
    from netdraw.viz.targets import parse_classes

    metrics = [m.strip() for m in args.evaluate.split(",") if m.strip()]
    unknown = [m for m in metrics if m not in METRICS]
    if unknown or not metrics:
        raise NetdrawError(f"--evaluate {args.evaluate!r}: use one or more of "
                           f"{', '.join(METRICS)}")
    if len(methods) != 1:
        raise NetdrawError("--evaluate measures one --method at a time")
    if args.region or args.output_name:
        raise NetdrawError("--evaluate explains classes of a classifier; drop --region and "
                           "--output-name")
    boxes = None
    if args.boxes:
        try:
            with open(args.boxes, encoding="utf-8") as fh:
                boxes = json.load(fh)
        except (OSError, ValueError) as exc:
            raise NetdrawError(f"cannot read --boxes {args.boxes}: {exc}") from None
        if not isinstance(boxes, list) or not all(
                isinstance(b, list) and len(b) == 4 and all(isinstance(v, (int, float))
                                                              for v in b) for b in boxes):
            raise NetdrawError(f"--boxes {args.boxes}: give a JSON list of [x0, y0, x1, y1]")
    from netdraw.viz.targets import Target

    files = image_files(args.input)
    target = Target(parse_classes(args.class_index), parse_classes(args.minus),
                    layout=opened.runtime.layout)
    method = methods[0]
    result = evaluate(opened, files, method, metrics, baseline=args.baseline,
                      steps=args.curve_steps, boxes=boxes, target=target, layer=args.layer,
                      batch_size=args.batch_size, seed=args.seed,
                      normalize=parse_normalize(args.normalize), smooth=args.smooth,
                      noise=args.noise, **_options(args, method))
    summary = result.summary()
    print(f"{method} on {opened.name}: {len(result.classes)} inputs"
          + (f", layer {result.layer}" if result.layer else "")
          + (f", baseline {args.baseline}" if {"deletion", "insertion"} & set(metrics)
             else ""))
    for key, value in summary.items():
        print(f"{key}: {value:.4f}")
    write_output(args.output, result.to_json())
    print(f"netdraw: wrote {args.output}", file=sys.stderr)
    return 0
