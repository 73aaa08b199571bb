"""``netdraw diff``: time and peak memory of diffing two models, against loading both.

    .venv/bin/python benchmarks/bench_diff.py [--repeats 5]

Pairs (graphs prepared once into ``benchmarks/work/diff/``):

- ResNet-50 against Wide ResNet-50-2 (every bottleneck twice as wide inside) and against
  ResNet-101 (17 more blocks in stage 3): the zoo's ResNet, traced live, saved as
  netdraw JSON;
- GPT-2 small (12 layers, 768 wide) against GPT-2 medium (24 layers, 1024 wide) from
  ``transformers`` configs with random weights (``HF_HUB_OFFLINE=1``: nothing is
  downloaded), traced live, saved as netdraw JSON;
- two synthetic 10k-node residual-MLP ONNX graphs (``synthetic.py``), B with one block's
  activation swapped and one block dropped, named alike ("named") or with every node
  renamed in B ("anonymous": structure alone must match them).

Each measurement is a whole process (median of ``--repeats``, the two commands
alternating): "load" reads both graphs; "diff" reads both and diffs them (the diff's own
seconds are timed inside the process). Peak memory is the process's VmHWM.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import ROOT, WORK, alternate, table  # noqa: E402

FOLDER = WORK / "diff"


# -- preparing the graphs (once) --------------------------------------------------------


def _trace_resnets() -> dict[str, Path]:
    import torch
    from torch import nn

    import netdraw
    from netdraw.zoo import torch_models as tm

    class WideBottleneck(tm.Bottleneck):
        """Wide ResNet-50-2: the bottleneck's inner width doubled, its output unchanged."""

        def __init__(self, cin: int, width: int, stride: int = 1,
                     downsample: nn.Module | None = None) -> None:
            super().__init__(cin, width, stride, downsample)
            inner, out = width * 2, width * 4
            self.conv1 = nn.Conv2d(cin, inner, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(inner)
            self.conv2 = nn.Conv2d(inner, inner, 3, stride, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(inner)
            self.conv3 = nn.Conv2d(inner, out, 1, bias=False)

    models = {
        "resnet50": tm.resnet50(),
        "wide_resnet50_2": tm._build(tm.ResNet, WideBottleneck, (3, 4, 6, 3)),
        "resnet101": tm._build(tm.ResNet, tm.Bottleneck, (3, 4, 23, 3)),
    }
    example = (torch.zeros(1, 3, 224, 224),)
    return {name: _save(netdraw.load(m, example_input=example, name=name), name)
            for name, m in models.items()}


def _trace_gpt2() -> dict[str, Path]:
    os.environ["HF_HUB_OFFLINE"] = "1"
    import torch
    from transformers import GPT2Config, GPT2Model

    import netdraw

    out = {}
    for name, config in (("gpt2-small", GPT2Config()),
                         ("gpt2-medium", GPT2Config(n_layer=24, n_embd=1024, n_head=16))):
        torch.manual_seed(0)
        model = GPT2Model(config).eval()
        tokens = torch.zeros(1, 64, dtype=torch.int64)
        start = time.perf_counter()
        graph = netdraw.load(model, example_input=(tokens,), name=name)
        print(f"traced {name}: {len(graph)} nodes in {time.perf_counter() - start:.1f} s",
              file=sys.stderr)
        out[name] = _save(graph, name)
        del model
    return out


def _synthetic() -> dict[str, Path]:
    import onnx
    from synthetic import residual_mlp

    a = residual_mlp(10_000)
    b = residual_mlp(10_000)
    b.graph.node[1501].op_type = "Sigmoid"  # block 500's Relu
    drop = [n for n in b.graph.node if "/block2000/" in n.name]
    for n in drop:
        b.graph.node.remove(n)
    for n in b.graph.node:
        n.input[:] = [x.replace("/stage20/block2000/out", "/stage19/block1999/out")
                      for x in n.input]
    anon = onnx.ModelProto()
    anon.CopyFrom(b)
    for i, n in enumerate(anon.graph.node):
        n.name = f"op{i}"
    paths = {}
    for name, model in (("synthetic-a", a), ("synthetic-b", b), ("synthetic-b-anon", anon)):
        path = FOLDER / f"{name}.onnx"
        onnx.save(model, str(path))
        paths[name] = path
    return paths


def _save(graph, name: str) -> Path:
    path = FOLDER / f"{name}.json"
    path.write_text(graph.to_json(indent=None))
    return path


#: (label, A, B, draw?): the anonymous union is a flat 10k-node graph, and the view
#: passes' structural grouping of flat graphs is far from linear, so it is not drawn.
PAIRS = [("ResNet-50 vs Wide ResNet-50-2", "resnet50.json", "wide_resnet50_2.json", True),
         ("ResNet-50 vs ResNet-101", "resnet50.json", "resnet101.json", True),
         ("GPT-2 small vs medium", "gpt2-small.json", "gpt2-medium.json", True),
         ("synthetic 10k, named", "synthetic-a.onnx", "synthetic-b.onnx", True),
         ("synthetic 10k, anonymous", "synthetic-a.onnx", "synthetic-b-anon.onnx", False)]


def prepare() -> None:
    FOLDER.mkdir(parents=True, exist_ok=True)
    if not (FOLDER / "resnet101.json").exists():
        _trace_resnets()
    if not (FOLDER / "gpt2-medium.json").exists():
        _trace_gpt2()
    if not (FOLDER / "synthetic-b-anon.onnx").exists():
        _synthetic()


# -- the measured processes -------------------------------------------------------------


def worker(mode: str, a: str, b: str, report: str) -> None:
    """One measured process: load both graphs (and diff them); timings to ``report``.
    The modules are imported before the clock starts, so both timings are the work."""
    import netdraw
    import netdraw.diff.build  # noqa: F401
    import netdraw.diff.draw  # noqa: F401
    from netdraw import importers

    for suffix in {Path(a).suffix, Path(b).suffix}:
        importers.find_importer(f"x{suffix}").loader()
    start = time.perf_counter()
    ga, gb = netdraw.load(a), netdraw.load(b)
    loaded = time.perf_counter()
    facts = {"load": loaded - start, "nodes": [len(ga), len(gb)]}
    if mode in ("diff", "draw"):
        result = netdraw.diff(ga, gb)
        facts["diff"] = time.perf_counter() - loaded
        facts["counts"] = result.counts()
        facts["matched"] = result.matched
        if mode == "draw":
            begin = time.perf_counter()
            result.render("dot")
            facts["draw"] = time.perf_counter() - begin
    Path(report).write_text(json.dumps(facts))


def measure(label: str, fa: str, fb: str, draw: bool, repeats: int,
            env: dict[str, str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The whole-process row and the in-process row of one pair."""
    a, b = str(FOLDER / fa), str(FOLDER / fb)
    modes = ("load", "diff", "draw") if draw else ("load", "diff")
    reports = {mode: FOLDER / f"report-{mode}.json" for mode in modes}
    inner: dict[str, list[dict]] = {mode: [] for mode in reports}
    commands = {mode: [[sys.executable, __file__, "--worker", mode, a, b, str(path)]]
                for mode, path in reports.items()}
    samples: dict[str, list[tuple[float, float]]] = {mode: [] for mode in reports}
    for _ in range(repeats):  # one repeat at a time, so every report is read
        once = alternate(commands, repeats=1, env=env, timeout=900)
        for mode, sample in once.items():
            if sample.failed:
                raise SystemExit(f"{label} {mode}: {sample.failed}")
            samples[mode].append((sample.wall, sample.memory))
            inner[mode].append(json.loads(reports[mode].read_text()))

    def med(mode: str, key: str) -> float:
        return statistics.median(r[key] for r in inner[mode])

    def whole(mode: str, k: int) -> float:
        return statistics.median(s[k] for s in samples[mode])

    nodes = inner["diff"][0]["nodes"]
    counts = inner["diff"][0]["counts"]
    row = (label, f"{nodes[0]:,} / {nodes[1]:,}", f"{whole('load', 0):.2f}",
           f"{whole('diff', 0):.2f}", f"{whole('diff', 0) / whole('load', 0):.2f}",
           f"{whole('load', 1):.0f}", f"{whole('diff', 1):.0f}",
           f"{whole('diff', 1) / whole('load', 1):.2f}")
    inner_row = (label, f"{med('load', 'load'):.2f}", f"{med('diff', 'diff'):.2f}",
                 f"{med('diff', 'diff') / med('load', 'load'):.2f}",
                 f"{med('draw', 'draw'):.2f}" if draw else "–",
                 ", ".join(f"{v} {k}" for k, v in counts.items() if v))
    return row, inner_row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--worker", nargs=4, metavar=("MODE", "A", "B", "REPORT"))
    args = parser.parse_args()
    if args.worker:
        worker(*args.worker)
        return
    prepare()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    rows, inner_rows = [], []
    for label, fa, fb, draw in PAIRS:
        row, inner_row = measure(label, fa, fb, draw, args.repeats, env)
        rows.append(row)
        inner_rows.append(inner_row)
        print(f"{label}: done", file=sys.stderr)
    print(f"Median of {args.repeats}; load average at the end "
          f"{os.getloadavg()[0]:.1f}.\n")
    print("Whole processes (wall seconds, peak RSS MiB):\n")
    print(table(rows, ("pair", "nodes A / B", "load both s", "load + diff s", "time ratio",
                       "load MiB", "load + diff MiB", "memory ratio")))
    print("\nInside the process (seconds; modules imported before the clock starts):\n")
    print(table(inner_rows, ("pair", "load both", "diff", "diff / load", "draw (DOT)",
                             "result")))


if __name__ == "__main__":
    main()
