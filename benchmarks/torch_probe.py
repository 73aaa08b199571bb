"""Runs inside benchmarks/.venv-torchview (torch 2.13.0 + torchview + netdraw's deps).

    python torch_probe.py inproc MODEL [--repeats 5]    # both tools in one process -> JSON
    python torch_probe.py once TOOL MODEL OUT.svg       # one whole run of one tool

``inproc`` builds the model once, warms each tool up once (untimed), then alternates
netdraw and torchview ``repeats`` times, each run right after a bare forward pass (the
compute both tools repeat). For each run it records module -> graph object ("trace"),
module -> SVG text ("svg"), the trace and the SVG minus their paired forward pass ("own",
"svg_own"), as wall
seconds and as CPU seconds (this process plus the ``dot`` it waits for), and prints JSON.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path

# netdraw from this checkout, or from NETDRAW_ROOT (another checkout, to compare versions)
sys.path.insert(0, os.environ.get("NETDRAW_ROOT") or str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

MODELS = {  # name: (netdraw.zoo.torch_models factory, input shape, dtype)
    "resnet50": ("resnet50", (1, 3, 224, 224), torch.float32),
    "transformer": ("transformer", (1, 64), torch.int64),
    "resnet152": ("resnet152", (1, 3, 224, 224), torch.float32),
}


def build(name: str) -> tuple[torch.nn.Module, torch.Tensor]:
    from netdraw.zoo import torch_models as zoo_torch

    factory, shape, dtype = MODELS[name]
    model = getattr(zoo_torch, factory)()
    x = torch.randn(shape) if dtype.is_floating_point else torch.zeros(shape, dtype=dtype)
    return model, x


def clocks() -> tuple[float, float]:
    """(wall, CPU) now; CPU counts this process and the children it has waited for."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.perf_counter(), time.process_time() + children.ru_utime + children.ru_stime


def timed(trace: Callable[[], object], draw: Callable[[object], str]) -> tuple[dict, str]:
    w0, c0 = clocks()
    graph = trace()
    w1, c1 = clocks()
    svg = draw(graph)
    w2, c2 = clocks()
    return {"trace": w1 - w0, "svg": w2 - w0, "trace_cpu": c1 - c0, "svg_cpu": c2 - c0}, svg


def run_netdraw(model: torch.nn.Module, x: torch.Tensor) -> tuple[dict, str]:
    """netdraw's default drawing (the readable view); "svg_full" also times drawing every
    node (``full=True``), the detail torchview's default comes closest to."""
    import netdraw

    graph: list[object] = []

    def draw(g: object) -> str:
        graph.append(g)
        svg = netdraw.render(g, "svg")
        return svg if isinstance(svg, str) else svg.decode()

    runs, svg = timed(lambda: netdraw.load(model, example_input=x), draw)
    w0, c0 = clocks()
    full = netdraw.render(graph[0], "svg", full=True)
    w1, c1 = clocks()
    runs["svg_full"] = runs["trace"] + (w1 - w0)
    runs["svg_full_cpu"] = runs["trace_cpu"] + (c1 - c0)
    runs["boxes_full"] = (full if isinstance(full, str) else full.decode()).count('class="node"')
    return runs, svg


def run_torchview(model: torch.nn.Module, x: torch.Tensor) -> tuple[dict, str]:
    from torchview import draw_graph

    return timed(lambda: draw_graph(model, input_data=x, device="cpu"),  # defaults: depth 3
                 lambda g: g.visual_graph.pipe(format="svg").decode())


def run_forward(model: torch.nn.Module, x: torch.Tensor) -> tuple[dict, str]:
    """The model's own compute, as both tools run it (eval, no grad): the shared floor."""
    def forward() -> None:
        with torch.no_grad():
            model(x)

    model.eval()
    return timed(forward, lambda _: "")


TOOLS = {"forward": run_forward, "netdraw": run_netdraw, "torchview": run_torchview}


def inproc(name: str, repeats: int) -> dict:
    model, x = build(name)
    result: dict = {"model": name, "params": sum(p.numel() for p in model.parameters())}
    for tool, run in TOOLS.items():
        _, svg = run(model, x)  # warm-up: lazy imports, first-call allocations
        result[tool] = {"runs": [], "svg_bytes": len(svg), "boxes": svg.count('class="node"')}
    for _ in range(repeats):
        for tool in ("netdraw", "torchview"):
            # each tool run is paired with a bare forward pass just before it, so its own
            # work (run minus forward) is measured under the same machine load
            fwd = run_forward(model, x)[0]
            runs = TOOLS[tool](model, x)[0]
            runs["own"] = runs["trace"] - fwd["trace"]
            runs["own_cpu"] = runs["trace_cpu"] - fwd["trace_cpu"]
            runs["svg_own"] = runs["svg"] - fwd["trace"]  # module -> SVG minus the forward
            runs["svg_own_cpu"] = runs["svg_cpu"] - fwd["trace_cpu"]
            result["forward"]["runs"].append(fwd)
            result[tool]["runs"].append(runs)
    return result


def once(tool: str, name: str, out: str) -> None:
    model, x = build(name)
    _, svg = TOOLS[tool](model, x)
    Path(out).write_text(svg, encoding="utf-8")


if __name__ == "__main__":
    if sys.argv[1] == "inproc":
        repeats = int(sys.argv[sys.argv.index("--repeats") + 1]) if "--repeats" in sys.argv \
            else 5
        print(json.dumps(inproc(sys.argv[2], repeats)))
    else:
        once(sys.argv[2], sys.argv[3], sys.argv[4])
