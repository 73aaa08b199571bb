"""netdraw's PyTorch importer vs torchview on the same live models, in one run.

    .venv/bin/python benchmarks/bench_torch.py [--repeats 5] [--models resnet50 ...]

torchview and torch==2.13.0 go into their own venv, benchmarks/.venv-torchview (made here);
netdraw runs from this checkout inside the same venv, so both tools see the same torch.
Models: ResNet-50 and the Transformer encoder from netdraw's zoo, and ResNet-152 (deeper).

Two figures, medians of N runs, tools alternating:
1. own work in one process: the model is built once; each tool is timed from the module to
   its graph object ("trace") and to SVG text ("svg", Graphviz layout included);
2. whole process: a fresh ``python`` per run that imports torch, builds the model, draws it
   and writes the SVG: wall time and peak resident memory.
Prints the results as Markdown (also written to benchmarks/work/results-torch.md) for
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

from common import BENCH, WORK, alternate, ensure_venv, table

PACKAGES = ["torch==2.13.0", "torchview==0.2.7", "graphviz", "numpy", "jinja2", "svgwrite"]
PROBE = str(BENCH / "torch_probe.py")
LABELS = {"resnet50": "ResNet-50", "transformer": "Transformer encoder (zoo)",
          "resnet152": "ResNet-152"}


def thread_env(threads: int) -> dict[str, str]:
    """torch's intra-op threads for both tools (on a shared 2-core machine one thread keeps
    the forward pass from stalling on descheduled worker threads)."""
    env = dict(os.environ)
    if threads > 0:
        env.update(OMP_NUM_THREADS=str(threads), MKL_NUM_THREADS=str(threads))
    return env


def own_work(python: Path, models: list[str], repeats: int, env: dict[str, str]) -> list[dict]:
    results = []
    for name in models:
        proc = subprocess.run([str(python), PROBE, "inproc", name, "--repeats", str(repeats)],
                              capture_output=True, text=True, check=True, timeout=3600,
                              env=env)
        results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        print(f"own work measured: {name}", file=sys.stderr)
    return results


def whole_process(python: Path, models: list[str], repeats: int,
                  env: dict[str, str]) -> dict:
    WORK.mkdir(exist_ok=True)
    commands = {}
    for name in models:
        for tool in ("netdraw", "torchview"):
            out = WORK / f"{name}-{tool}.svg"
            commands[(name, tool)] = [[str(python), PROBE, "once", tool, name, str(out)]]
    labelled = {f"{n}/{t}": cmds for (n, t), cmds in commands.items()}
    return alternate(labelled, repeats=repeats, timeout=1800, env=env)


def stat(result: dict, tool: str, key: str) -> float:
    return statistics.median(run[key] for run in result[tool]["runs"])


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}×" if b > 0 else "–"


def tracing_table(own: list[dict], suffix: str) -> str:
    rows = []
    for r in own:
        fwd = stat(r, "forward", "trace" + suffix)
        nd, tv = stat(r, "netdraw", "trace" + suffix), stat(r, "torchview", "trace" + suffix)
        nd_own, tv_own = stat(r, "netdraw", "own" + suffix), stat(r, "torchview", "own" + suffix)
        rows.append((LABELS[r["model"]], f"{r['params'] / 1e6:.1f}M", f"{fwd:.3f}",
                     f"{nd:.3f}", f"{tv:.3f}", ratio(nd, tv),
                     f"{nd_own:.3f}", f"{tv_own:.3f}", ratio(nd_own, tv_own)))
    return table(rows, ("model", "params", "forward pass", "netdraw", "torchview", "ratio",
                        "netdraw own", "torchview own", "ratio"))


def svg_table(own: list[dict], suffix: str, before: list[dict] | None = None) -> str:
    """Module -> SVG; "own" is that minus the paired bare forward pass."""
    rows = []
    for i, r in enumerate(own):
        nd, tv = stat(r, "netdraw", "svg" + suffix), stat(r, "torchview", "svg" + suffix)
        full = stat(r, "netdraw", "svg_full" + suffix)
        nd_own = stat(r, "netdraw", "svg_own" + suffix)
        tv_own = stat(r, "torchview", "svg_own" + suffix)
        boxes = r["netdraw"]["runs"][0]["boxes_full"]
        row = [LABELS[r["model"]], f"{nd:.3f}", f"{full:.3f}", f"{tv:.3f}",
               ratio(nd, tv), ratio(full, tv), f"{nd_own:.3f}", f"{tv_own:.3f}",
               ratio(nd_own, tv_own)]
        if before:
            b = before[i]
            row.append(ratio(stat(b, "netdraw", "svg_own" + suffix),
                             stat(b, "torchview", "svg_own" + suffix)))
        row.append(f"{r['netdraw']['boxes']} / {boxes} / {r['torchview']['boxes']}")
        rows.append(tuple(row))
    header = ["model", "netdraw", "netdraw full", "torchview", "ratio", "ratio (full)",
              "netdraw own", "torchview own", "own ratio"]
    if before:
        header.append("own ratio, before")
    return table(rows, (*header, "boxes (nd / nd full / tv)"))


def report(own: list[dict], whole: dict, repeats: int, version: str, threads: int,
           load: tuple[float, float], before: list[dict] | None = None) -> str:
    rows = []
    for r in own if whole else []:
        name = r["model"]
        nd, tv = whole[f"{name}/netdraw"], whole[f"{name}/torchview"]
        rows.append((LABELS[name],
                     nd.failed or f"{nd.wall:.2f}", tv.failed or f"{tv.wall:.2f}",
                     nd.failed or f"{nd.memory:.0f}", tv.failed or f"{tv.memory:.0f}"))
    whole_table = table(rows, ("model", "netdraw wall s", "torchview wall s",
                               "netdraw peak MiB", "torchview peak MiB"))
    return f"""## PyTorch importer vs torchview

Run `python benchmarks/bench_torch.py` (it creates `benchmarks/.venv-torchview` with
`torch==2.13.0` and `torchview==0.2.7`; netdraw runs from the checkout in the same venv).
Medians of {repeats} runs, tools alternating, on this machine (2 cores, CPU only),
torch {version}, {threads or 'default'} intra-op thread(s) for both tools, load average
{load[0]:.1f} before and {load[1]:.1f} after the run (the machine is shared with other
jobs, so CPU seconds are the steadier figure). torchview is called as
`draw_graph(model, input_data=x).visual_graph` (its defaults: depth 3) and rendered with
`.pipe(format="svg")`; netdraw as `netdraw.render(netdraw.load(model, example_input=x),
"svg")`. Both run the model's real forward pass, and both lay out with the same `dot` binary.

**Tracing, in one process**: the model is built once, each tool warmed up once (untimed);
seconds from the module to the tool's graph object. "forward pass" is a bare `model(x)`
under `no_grad`, the compute both tools repeat; every tool run follows one, and "own" is
the median of (run − that forward pass): each tool's own tracing work.

CPU seconds:

{tracing_table(own, "_cpu")}

Wall seconds:

{tracing_table(own, "")}

**Module → SVG text, in one process** (the same runs, Graphviz `dot` included, its CPU
counted as the waiting process's children). "netdraw" is its default drawing, the
readable view (repeated blocks rolled, deep groups collapsed); "netdraw full" draws every
node (`full=True`), about the detail torchview's default depth 3 gives. "own" is the
module → SVG time minus the paired bare forward pass; "before" is the same ratio for the
checkout given with `--before`, measured in the same run.

CPU seconds:

{svg_table(own, "_cpu", before)}

Wall seconds:

{svg_table(own, "", before)}

**Whole process** (fresh `python` per run: import torch, build the model, draw, write the SVG):

{whole_table}
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=list(LABELS))
    parser.add_argument("--threads", type=int, default=1,
                        help="torch intra-op threads for both tools (0: torch's default)")
    parser.add_argument("--before", type=Path, help="another netdraw checkout to time too")
    parser.add_argument("--skip-whole", action="store_true",
                        help="only the in-process figures")
    args = parser.parse_args()
    python = ensure_venv("torchview", PACKAGES)
    version = subprocess.run([str(python), "-c", "import torch; print(torch.__version__)"],
                             capture_output=True, text=True, check=True).stdout.strip()
    env = thread_env(args.threads)
    before = os.getloadavg()[0]
    own = own_work(python, args.models, args.repeats, env)
    earlier = (own_work(python, args.models, args.repeats,
                        dict(env, NETDRAW_ROOT=str(args.before.resolve())))
               if args.before else None)
    whole = {} if args.skip_whole else whole_process(python, args.models, args.repeats, env)
    text = report(own, whole, args.repeats, version, args.threads,
                  (before, os.getloadavg()[0]), earlier)
    (WORK / "results-torch.md").write_text(text, encoding="utf-8")
    (WORK / "results-torch.json").write_text(json.dumps(own, indent=1), encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
