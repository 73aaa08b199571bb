"""Activation thumbnails in the diagrams: ResNet-50 (the zoo's, random init, 224², CPU).

    .venv/bin/python benchmarks/bench_thumbnails.py [--repeats 5]

For each backend, the default view drawn without and with thumbnails of one image's
activations (captured once); the cost of thumbnails is the difference of the medians
("time beyond the plain drawing"), reported beside the forward pass (``capture``) that
the thumbnails need anyway. Also the size of each drawing with and without thumbnails
(targets: thumbnails under 1 s beyond drawing + forward pass, the Graphviz SVG under 2 MB).
Runs alternate (plain, with), medians of ``--repeats``; prints a Markdown table.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import netdraw  # noqa: E402
from netdraw.api import render  # noqa: E402
from netdraw.viz import capture  # noqa: E402
from netdraw.zoo.torch_models import resnet50  # noqa: E402

CASES = [("Graphviz .svg", "svg", None), ("Graphviz .png", "png", None),
         ("Graphviz .pdf", "pdf", None), ("lenet .svg", "svg", "lenet"),
         ("alexnet .svg", "svg", "alexnet"), ("fcnn .svg", "svg", "fcnn"),
         ("TikZ .tex", "tex", "tikz"), ("TikZ .pdf", "pdf", "tikz"),
         ("HTML page", "html", None)]


def timed(fn, *args, **kwargs) -> tuple[float, object]:
    start = time.perf_counter()
    result = fn(*args, **kwargs)
    return time.perf_counter() - start, result


def size(data: object) -> int:
    body = data.encode("utf-8") if isinstance(data, str) else bytes(data)
    return len(body) + sum(len(v) for v in (getattr(data, "files", None) or {}).values())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    torch.manual_seed(0)
    model = resnet50().eval()
    graph = netdraw.load(model, input_shape=(1, 3, 224, 224))
    x = np.random.default_rng(0).random((1, 3, 224, 224), dtype=np.float32)
    forward = []
    for _ in range(args.repeats):
        seconds, acts = timed(capture, model, x)
        forward.append(seconds)
    print(f"ResNet-50, one 224×224 image; capture (forward pass keeping every node's "
          f"output): {statistics.median(forward):.2f} s (median of {args.repeats})\n")
    print("| backend | plain | with thumbnails | thumbnails cost | size plain | "
          "size with thumbnails |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for label, fmt, style in CASES:
        plain_s, with_s = [], []
        for _ in range(args.repeats):
            s, plain = timed(render, graph, fmt, style=style)
            plain_s.append(s)
            s, shown = timed(render, graph, fmt, style=style, activations=acts)
            with_s.append(s)
        a, b = statistics.median(plain_s), statistics.median(with_s)
        print(f"| {label} | {a:.2f} s | {b:.2f} s | {b - a:+.2f} s | "
              f"{size(plain) / 1e6:.2f} MB | {size(shown) / 1e6:.2f} MB |", flush=True)


if __name__ == "__main__":
    main()
