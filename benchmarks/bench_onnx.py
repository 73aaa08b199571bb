"""netdraw vs onnx.tools.net_drawer (+ dot) on the same ONNX files, and netdraw's speed goals
on synthetic 10k and 100k-node graphs, in one run.

    .venv/bin/python benchmarks/bench_onnx.py [--repeats 5] [--skip-100k] [--before DIR]
                                              [--peer-synthetic]

net_drawer was removed in onnx 1.23, so it runs from its own venv with onnx==1.22.0
(benchmarks/.venv-onnx122, made here). Models: a ResNet-50 exported with torch.onnx.export
from netdraw's zoo definition, and synthetic residual-MLP graphs of 10k and 100k nodes.
``--before DIR`` also times another netdraw checkout (``git worktree add DIR COMMIT`` or
``git archive COMMIT | tar -x -C DIR``), alternating with this one, so a change is measured
under the same machine load. ``--peer-synthetic`` also runs net_drawer on the synthetic
graphs (it did not finish 10k nodes in 120 s, and crashed on 100k, when last tried).
Medians of N runs, tools alternating. Writes benchmarks/work/results-onnx.md
(git-ignored); benchmarks/README.md quotes it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

from common import BENCH, ROOT, WORK, alternate, ensure_venv, table

sys.path.insert(0, str(BENCH))

EMIT_PROBE = """
import json, sys, time
t0 = time.perf_counter()
import netdraw
from netdraw.backends.dot import to_dot
from netdraw.passes import make_view
t1 = time.perf_counter()
graph = netdraw.load(sys.argv[1])
t2 = time.perf_counter()
view = make_view(graph)
t3 = time.perf_counter()
text = to_dot(view)
t4 = time.perf_counter()
print(json.dumps({"import_netdraw": t1 - t0, "load": t2 - t1, "view": t3 - t2,
                  "emit": t4 - t3, "nodes": len(graph)}))
"""


def netdraw_at(root: Path, *args: str) -> list[str]:
    """``python -m netdraw ARGS`` running the checkout at ``root`` (``-P``: not the current
    directory's ``netdraw``, which ``-m`` would otherwise put first on the path)."""
    return ["env", f"PYTHONPATH={root}", sys.executable, "-P", "-m", "netdraw", *args]


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


def cases(models: dict[str, Path], out: Path, peer: Path, before: Path | None,
          peer_synthetic: bool) -> list[tuple[str, dict[str, list[list[str]]], float]]:
    """(case, labelled pipelines, timeout) for every row of the speed table."""
    versions = {"netdraw": ROOT, **({"netdraw (before)": before} if before else {})}
    found: list[tuple[str, dict[str, list[list[str]]], float]] = []
    for label, path in models.items():
        if label == "ResNet-50":
            commands = {f"{tool} → SVG": [netdraw_at(root, str(path), "-o", str(out / "nd.svg"))]
                        for tool, root in versions.items()}
            commands["net_drawer + dot → SVG"] = [
                [str(peer), "-m", "onnx.tools.net_drawer", "--input", str(path), "--output",
                 str(out / "peer.dot"), "--embed_docstring"],
                ["dot", "-Tsvg", str(out / "peer.dot"), "-o", str(out / "peer.svg")]]
            found.append((f"{label} → SVG", commands, 900))
            continue
        views = [("default view", ())] + ([("--full", ("--full",))] if "100k" in label else [])
        for view, extra in views:
            commands = {f"{tool} → DOT": [netdraw_at(root, str(path), "-o", str(out / "nd.dot"),
                                                     *extra)]
                        for tool, root in versions.items()}
            if peer_synthetic and view == "--full":
                commands["net_drawer → DOT"] = [
                    [str(peer), "-m", "onnx.tools.net_drawer", "--input", str(path),
                     "--output", str(out / "peer.dot"), "--embed_docstring"]]
            found.append((f"{label}, {view}", commands, 300))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--skip-100k", action="store_true")
    parser.add_argument("--before", type=Path, help="another netdraw checkout to time too")
    parser.add_argument("--peer-synthetic", action="store_true")
    args = parser.parse_args()

    peer = ensure_venv("onnx122", ["onnx==1.22.0", "pydot"])
    models = make_models(args.skip_100k)
    out = WORK / "out"
    out.mkdir(exist_ok=True)
    load_before = os.getloadavg()[0]
    rows = []
    for case, commands, timeout in cases(models, out, peer, args.before,
                                         args.peer_synthetic):
        samples = alternate(commands, repeats=args.repeats, timeout=timeout)
        for name, sample in samples.items():
            failed = (f"did not finish in {timeout:.0f} s" if sample.failed == "timed out"
                      else sample.failed)
            rows.append((case, name, f"{sample.wall:.2f}" if not sample.failed else failed,
                         f"{sample.memory:.0f}" if not sample.failed else "–"))
        print(f"done {case}", file=sys.stderr)

    emits = []
    for label, path in models.items():
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        runs = [json.loads(subprocess.run([sys.executable, "-c", EMIT_PROBE, str(path)],
                                          capture_output=True, text=True, check=True,
                                          env=env).stdout)
                for _ in range(args.repeats)]
        med = {k: sorted(r[k] for r in runs)[len(runs) // 2] for k in runs[0]}
        emits.append((label, str(med["nodes"]), f"{med['load']:.2f}", f"{med['view']:.2f}",
                      f"{med['emit']:.2f}", f"{med['import_netdraw']:.2f}"))
    help_samples = alternate({"help": [netdraw_at(ROOT, "--help")]}, repeats=args.repeats)

    report = [
        "### netdraw vs onnx.tools.net_drawer, and the synthetic graphs",
        "",
        f"Whole process, median of {args.repeats} (wall seconds, peak RSS MiB); load "
        f"average {load_before:.1f} at the start and {os.getloadavg()[0]:.1f} at the end:",
        "",
        table(rows, ("case", "tool", "wall s", "peak MiB")),
        "",
        "In-process cost inside netdraw, default view (median; seconds):",
        "",
        table(emits, ("model", "nodes", "load", "view", "DOT emission", "import netdraw")),
        "",
        f"`netdraw --help`: {help_samples['help'].wall:.2f} s wall (median).",
    ]
    text = "\n".join(report) + "\n"
    (WORK / "results-onnx.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
