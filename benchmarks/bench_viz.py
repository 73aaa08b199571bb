"""netdraw.viz on ResNet-50 (the zoo's, random init, 224², CPU, one image).

    .venv/bin/python benchmarks/bench_viz.py [--repeats 7]

1. Grad-CAM: netdraw against torchcam on the same layer (``layer4``, the last bottleneck's
   output), the two alternating, medians; also the two maps' correlation.
   pytorch-grad-cam needs torchvision, which does not install beside the pinned CPU torch.
2. Activations of every layer: ``netdraw.viz.capture`` and writing all pictures, against a
   bare forward pass.
3. Gradient ascent: one step (16 channels of layer3 at 128 px, one batch) against a bare
   forward + backward of a batch of the same size.

Prints a Markdown report; times are wall seconds.
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

from netdraw.viz import capture  # noqa: E402
from netdraw.viz.class_maps import run_cam  # noqa: E402
from netdraw.viz.feature_vis import ascent, torch_layer_function  # noqa: E402
from netdraw.viz.report import write_activations  # noqa: E402
from netdraw.viz.runtime_torch import TorchRuntime  # noqa: E402
from netdraw.zoo.torch_models import resnet50  # noqa: E402


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def median(values: list[float]) -> float:
    return statistics.median(values)


def bench_gradcam(model: torch.nn.Module, x: np.ndarray, repeats: int) -> dict[str, object]:
    from torchcam.methods import GradCAM

    runtime = TorchRuntime(model)
    xt = torch.from_numpy(x)

    def ours():
        return run_cam(runtime, [x], None, "layer4", "gradcam")

    def theirs():
        with GradCAM(model, "layer4") as extractor:
            scores = model(xt)
            return extractor(class_idx=scores.argmax(1).tolist(), scores=scores)[0]

    ours(), theirs()  # warm up
    times: dict[str, list[float]] = {"netdraw": [], "torchcam": []}
    for _ in range(repeats):
        t, a = timed(ours)
        times["netdraw"].append(t)
        t, b = timed(theirs)
        times["torchcam"].append(t)
    mine = np.maximum(a.maps[0], 0)
    other = b.detach().numpy()[0]
    corr = float(np.corrcoef(mine.ravel(), other.ravel())[0, 1])
    return {"times": {k: median(v) for k, v in times.items()}, "corr": corr,
            "layer": a.layer}


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
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    torch.set_num_threads(2)
    model = resnet50()
    x = np.random.default_rng(0).random((1, 3, 224, 224), dtype=np.float32)
    cam = bench_gradcam(model, x, args.repeats)
    acts = bench_activations(model, x, max(3, args.repeats // 2))
    step = bench_ascent(model, max(3, args.repeats // 2))
    t = cam["times"]
    print("## Grad-CAM on ResNet-50 (layer4, 224², one image; median of "
          f"{args.repeats}, alternating)\n")
    print("| tool | seconds |\n|---|---|")
    print(f"| netdraw.viz.cam | {t['netdraw']:.3f} |\n| torchcam GradCAM | {t['torchcam']:.3f} |")
    print(f"\nratio netdraw / torchcam: {t['netdraw'] / t['torchcam']:.2f}; map correlation "
          f"{cam['corr']:.5f}; netdraw's node {cam['layer']}\n")
    print("## Activations of every layer\n")
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
