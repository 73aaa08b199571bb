"""netdraw.viz against torchcam and captum: Grad-CAM speed, activations, gradient ascent.

    .venv/bin/python benchmarks/bench_viz.py [--repeats 9] [--skip-resnet]

1. Grad-CAM: ``netdraw.viz.cam(model, x)`` (layer chosen automatically: the graph is traced
   once per model and input shape, the layer chosen from it before any backward pass)
   against torchcam's ``GradCAM`` and captum's ``LayerGradCam`` on the same layer, the
   three alternating within one run, medians; ratios to torchcam. Models: the zoo's shapes
   network (64², one image and a batch of 32) and ResNet-50 (224², one image; a batch of
   32 at 112² — the same activations memory as 8 at 224², under this machine's 4 GB per
   process). pytorch-grad-cam needs torchvision, which does not install beside the pinned
   CPU torch.
2. Activations of every layer of ResNet-50: ``netdraw.viz.capture`` and writing all
   pictures, against a bare forward pass.
3. Gradient ascent: one step (16 channels of layer3 at 128 px) against a bare forward +
   backward of a batch of the same size.

Prints a Markdown report; times are wall milliseconds or seconds, one torch thread (the
machine is shared, and one thread keeps the three tools' ratios steady).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netdraw.viz import cam, capture  # noqa: E402
from netdraw.viz.feature_vis import ascent, torch_layer_function  # noqa: E402
from netdraw.viz.report import write_activations  # noqa: E402
from netdraw.zoo.shapes.torch_model import shapes  # noqa: E402
from netdraw.zoo.torch_models import resnet50  # noqa: E402


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_gradcam(model: torch.nn.Module, layer: str, x: np.ndarray, repeats: int
                  ) -> dict[str, object]:
    """Medians (ms) of netdraw, torchcam and captum, alternating, and the maps' agreement."""
    from captum.attr import LayerGradCam
    from torchcam.methods import GradCAM

    xt = torch.from_numpy(x)
    module = model.get_submodule(layer)
    captum = LayerGradCam(model, module)

    def ours():
        return cam(model, x)

    def theirs():
        with GradCAM(model, layer) as extractor:
            scores = model(xt)
            return extractor(class_idx=scores.argmax(1).tolist(), scores=scores)[0]

    def captum_map():
        with torch.no_grad():
            classes = model(xt).argmax(1).tolist()
        return captum.attribute(xt, target=classes, relu_attributions=True)

    tools = {"netdraw": ours, "torchcam": theirs, "captum": captum_map}
    results = {name: fn() for name, fn in tools.items()}  # warm up
    # One sample times `number` calls in a row (at least ~50 ms, as timeit's autorange):
    # on a shared machine a millisecond call is now and then paused for a scheduler slice,
    # and a single call's time is then either ~1 ms or ~15 ms; a sample of many calls
    # averages the pauses, and the median is over samples.
    number = max(1, int(np.ceil(0.05 / timed(theirs)[0])))
    times: dict[str, list[float]] = {name: [] for name in tools}
    for _ in range(repeats):
        for name, fn in tools.items():
            start = time.perf_counter()
            for _ in range(number):
                results[name] = fn()
            times[name].append((time.perf_counter() - start) / number * 1000)
    mine = results["netdraw"].maps
    other = results["captum"].detach().numpy()[:, 0]
    return {"times": {k: median(v) for k, v in times.items()},
            "max_diff": float(np.abs(mine - other).max()),
            "layer": results["netdraw"].layer, "name": results["netdraw"].layer_name}


def bench_activations(model: torch.nn.Module, x: np.ndarray, repeats: int
                      ) -> dict[str, float]:
    xt = torch.from_numpy(x)
    forward, grab, write = [], [], []
    for _ in range(repeats):
        with torch.no_grad():
            t, _ = timed(model, xt)
        forward.append(t)
        t, acts = timed(capture, model, x)
        grab.append(t)
        with tempfile.TemporaryDirectory() as folder:
            t, entries = timed(write_activations, acts, Path(folder))
        write.append(t)
    return {"forward": median(forward), "capture": median(grab), "write": median(write),
            "nodes": len(acts), "pictures": sum(1 for e in entries if e.files)}


def bench_ascent(model: torch.nn.Module, repeats: int, channels: int = 16,
                 size: int = 128, steps: int = 5) -> dict[str, float]:
    from netdraw.importers.torch_trace import trace

    graph = trace(model, (torch.zeros(1, 3, 64, 64),), {}, "resnet50")
    layer = "layer3.5.conv3"
    function = torch_layer_function(model, graph, layer)
    x = torch.rand(channels, 3, size, size)

    def bare():
        for _ in range(steps):
            model.zero_grad(set_to_none=True)
            xi = x.clone().requires_grad_(True)
            model(xi).mean().backward()

    def to_layer():
        for _ in range(steps):
            xi = x.clone().requires_grad_(True)
            function(xi).mean().backward()

    def ours():
        ascent(function, list(range(channels)), size, steps=steps)

    for p in model.parameters():
        p.requires_grad_(False)  # ascent never needs weight gradients; neither does bare
    ours()
    results: dict[str, list[float]] = {"bare": [], "to_layer": [], "ascent": []}
    for _ in range(repeats):
        results["bare"].append(timed(bare)[0] / steps)
        results["to_layer"].append(timed(to_layer)[0] / steps)
        results["ascent"].append(timed(ours)[0] / steps)
    for p in model.parameters():
        p.requires_grad_(True)
    return {k: median(v) for k, v in results.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=9,
                        help="samples for ResNet-50; three times as many for the small model")
    parser.add_argument("--skip-resnet", action="store_true",
                        help="only the small model (no ResNet-50 sections)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    runs = [("shapes", shapes, "block4.relu", (1, 3, 64, 64)),
            ("shapes", shapes, "block4.relu", (32, 3, 64, 64))]
    if not args.skip_resnet:
        runs += [("ResNet-50", resnet50, "layer4", (1, 3, 224, 224)),
                 ("ResNet-50", resnet50, "layer4", (32, 3, 112, 112))]
    print(f"## Grad-CAM: netdraw, torchcam, captum (median of {args.repeats} samples, "
          f"{args.repeats * 3} for the small model, alternating, one thread; a sample is "
          "the mean of enough calls in a row to last 50 ms)\n")
    print("| model | input | netdraw ms | torchcam ms | captum ms | netdraw / torchcam "
          "| captum / torchcam | max abs diff netdraw vs captum |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, build, layer, shape in runs:
        x = rng.random(shape, dtype=np.float32)
        # a small model's call lasts about a millisecond, where a shared machine's pauses
        # weigh most: many more repeats
        repeats = args.repeats * 3 if name == "shapes" else args.repeats
        r = bench_gradcam(build(), layer, x, repeats)
        t = r["times"]
        print(f"| {name} | {shape[0]}×{shape[2]}² | {t['netdraw']:.1f} | {t['torchcam']:.1f} | "
              f"{t['captum']:.1f} | {t['netdraw'] / t['torchcam']:.2f} | "
              f"{t['captum'] / t['torchcam']:.2f} | {r['max_diff']:.1e} |", flush=True)
    print(f"\nnetdraw's layer: the auto choice, the node torchcam and captum hook "
          f"({r['layer']}, shown as {r['name']})\n")
    if args.skip_resnet:
        return 0
    model = resnet50()
    x = rng.random((1, 3, 224, 224), dtype=np.float32)
    acts = bench_activations(model, x, 3)
    step = bench_ascent(model, 3)
    print("## Activations of every layer (ResNet-50, 224²)\n")
    print(f"bare forward {acts['forward']:.3f} s; capture of {acts['nodes']} nodes "
          f"{acts['capture']:.3f} s (+{acts['capture'] - acts['forward']:.3f} s); writing "
          f"{acts['pictures']} pictures, index.html and JSON {acts['write']:.3f} s; beyond "
          f"the forward pass: {acts['capture'] - acts['forward'] + acts['write']:.3f} s\n")
    print("## Gradient ascent, per step (16 channels of layer3.5.conv3, 128 px)\n")
    print(f"bare forward + backward of the whole network: {step['bare']:.3f} s; forward to "
          f"the layer + backward: {step['to_layer']:.3f} s; netdraw ascent step: "
          f"{step['ascent']:.3f} s (×{step['ascent'] / step['bare']:.2f} of the bare "
          f"network, ×{step['ascent'] / step['to_layer']:.2f} of the truncated pass)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
