"""netdraw vs onnx.tools.net_drawer (+ dot) on the same ONNX files, in one run.

    .venv/bin/python benchmarks/bench_onnx.py [--repeats 5] [--skip-100k]

net_drawer was removed in onnx 1.23, so it runs from its own venv with onnx==1.22.0
(benchmarks/.venv-onnx122, made here). Models: a ResNet-50 exported with torch.onnx.export
from netdraw's zoo definition, and synthetic residual-MLP graphs of 10k and 100k nodes.
Medians of N runs, tools alternating. Writes benchmarks/work/results-onnx.md (git-ignored);
benchmarks/README.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

from common import BENCH, WORK, alternate, ensure_venv, netdraw_cmd, table

sys.path.insert(0, str(BENCH))

EMIT_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import netdraw
from netdraw.backends.dot import to_dot
t1 = time.perf_counter()
graph = netdraw.load(sys.argv[1])
t2 = time.perf_counter()
text = to_dot(graph)
t3 = time.perf_counter()
print(json.dumps({"import_netdraw": t1 - t0, "load": t2 - t1, "emit": t3 - t2,
                  "nodes": len(graph)}))
"""


def make_models(skip_100k: bool) -> dict[str, Path]:
    import onnx
    from synthetic import residual_mlp

    WORK.mkdir(exist_ok=True)
    models: dict[str, Path] = {}
    resnet = WORK / "resnet50.onnx"
    if not resnet.exists():
        import torch

        from netdraw import zoo

        model = zoo.build("resnet50").eval()
        torch.onnx.export(model, (torch.randn(1, 3, 224, 224),), str(resnet), dynamo=True)
    models["ResNet-50"] = resnet
    for n in (10_000, 100_000):
        if skip_100k and n == 100_000:
            continue
        path = WORK / f"synthetic-{n // 1000}k.onnx"
        if not path.exists():
            onnx.save(residual_mlp(n), str(path))
        models[f"synthetic {n // 1000}k"] = path
    return models


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-100k", action="store_true")
    args = parser.parse_args()

    peer = ensure_venv("onnx122", ["onnx==1.22.0", "pydot"])
    models = make_models(args.skip_100k)
    out = WORK / "out"
    out.mkdir(exist_ok=True)
    rows = []
    for label, path in models.items():
        small = label == "ResNet-50"
        commands = {
            "netdraw → DOT": [netdraw_cmd(str(path), "-o", str(out / "nd.dot"), "--full")],
            "net_drawer → DOT": [[str(peer), "-m", "onnx.tools.net_drawer", "--input", str(path),
                                  "--output", str(out / "peer.dot"), "--embed_docstring"]],
        }
        if small:  # laying out 10k+ node graphs with dot takes minutes for any tool
            commands["netdraw → SVG (dot)"] = [
                netdraw_cmd(str(path), "-o", str(out / "nd.svg"), "--full")]
            commands["net_drawer + dot → SVG"] = [
                *commands["net_drawer → DOT"],
                ["dot", "-Tsvg", str(out / "peer.dot"), "-o", str(out / "peer.svg")]]
        # net_drawer runs a full 'dot' layout even to write DOT: give up after 2 minutes.
        samples = alternate(commands, repeats=args.repeats, timeout=900 if small else 120)
        for name, sample in samples.items():
            failed = "did not finish in 120 s" if sample.failed == "timed out" else sample.failed
            rows.append((label, name, f"{sample.wall:.2f}" if not sample.failed else failed,
                         f"{sample.memory:.0f}" if not sample.failed else "–"))
        print(f"done {label}", file=sys.stderr)

    emits = []
    for label, path in models.items():
        runs = [json.loads(subprocess.run([sys.executable, "-c", EMIT_PROBE, str(path)],
                                          capture_output=True, text=True, check=True).stdout)
                for _ in range(args.repeats)]
        med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
        emits.append((label, str(med["nodes"]), f"{med['load']:.2f}", f"{med['emit']:.2f}",
                      f"{med['load'] + med['emit']:.2f}", f"{med['import_netdraw']:.2f}"))
    help_samples = alternate({"help": [netdraw_cmd("--help")]}, repeats=args.repeats)

    report = [
        "### netdraw vs onnx.tools.net_drawer",
        "",
        f"Whole process, median of {args.repeats} (wall seconds, peak RSS MiB):",
        "",
        table(rows, ("model", "tool", "wall s", "peak MiB")),
        "",
        "In-process cost inside netdraw (median; seconds):",
        "",
        table(emits, ("model", "nodes", "load", "DOT emission", "load + emission",
                      "import netdraw")),
        "",
        f"`netdraw --help`: {help_samples['help'].wall:.2f} s wall (median).",
    ]
    text = "\n".join(report) + "\n"
    (WORK / "results-onnx.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
