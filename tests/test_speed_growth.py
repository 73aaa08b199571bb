"""Cost grows linearly with the graph: doubling the nodes at most about doubles the time.

No absolute times are asserted (the machine is shared): the CPU time of the same pipeline
on 5k and 20k nodes, best of two runs each, must stay under a ratio of 7 — linear work gives
4, n log n about 5, a quadratic pass 16 — so noise on a loaded machine (caches, allocation)
does not read as a failure and a quadratic pass still does. Oracles: the node counts and the
ratio itself.
"""

from __future__ import annotations

import importlib.util
import time
from collections.abc import Callable

import pytest
from conftest import ROOT, require_module

from netdraw.backends.dot import to_dot
from netdraw.importers.onnx import load
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes import ViewOptions, make_view

require_module("onnx")

_spec = importlib.util.spec_from_file_location("synthetic", ROOT / "benchmarks" / "synthetic.py")
synthetic = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(synthetic)


def _best_cpu(work: Callable[[], object], runs: int = 2) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.process_time()
        work()
        best = min(best, time.process_time() - start)
    return best


def _ratio(make: Callable[[int], Callable[[], object]]) -> float:
    make(1_000)()  # imports and first-call costs
    small, large = make(5_000), make(20_000)
    return _best_cpu(large) / _best_cpu(small)


@pytest.mark.parametrize("full", [False, True], ids=["default-view", "full"])
def test_onnx_to_dot_grows_linearly(full: bool) -> None:
    """The residual-MLP chain of the benchmarks, ONNX bytes to DOT text."""
    options = ViewOptions.full() if full else ViewOptions()

    def make(n: int) -> Callable[[], object]:
        model = synthetic.residual_mlp(n)

        def run() -> str:
            graph = load(model)
            assert len(graph) > n * 0.99
            return to_dot(make_view(graph, options))
        return run

    ratio = _ratio(make)
    print(f"CPU time 20k / 5k nodes: {ratio:.2f}")
    assert ratio < 7


def _flat_keras_like(n: int) -> Graph:
    """A flat chain named like Keras' ResNet50 layers: groups are inferred from names."""
    g = Graph(f"flat-{n}")
    spec = TensorSpec((1, 8, 8, 16), "float32")
    g.add_node(Node("input", "input", "input", "Input", outputs=[spec]))
    prev = "input"
    per_block = ("1_conv", "1_bn", "1_relu", "2_conv", "2_bn", "out")
    kinds = {"conv": ("conv", "Conv2D"), "bn": ("norm", "BatchNormalization"),
             "relu": ("activation", "ReLU"), "out": ("add", "Add")}
    for i in range(n // len(per_block)):
        stage, block = 2 + i // 50, i % 50 + 1
        for suffix in per_block:
            name = f"conv{stage}_block{block}_{suffix}"
            kind, op = kinds[suffix.split("_")[-1]]
            g.add_node(Node(name, name, kind, op, params=16 if kind == "conv" else 0,
                            inputs=[spec], outputs=[spec]))
            g.add_edge(prev, name, spec)
            prev = name
    g.add_node(Node("output", "output", "output", "Output", inputs=[spec]))
    g.add_edge(prev, "output", spec)
    return g


def test_group_inference_from_names_grows_linearly() -> None:
    """Flat graphs (Keras applications, anonymous exports): names give the blocks."""
    def make(n: int) -> Callable[[], object]:
        graph = _flat_keras_like(n)

        def run() -> Graph:
            view = make_view(graph)
            assert view.meta["view"]["inferred_groups"] == "names"
            return view
        return run

    ratio = _ratio(make)
    print(f"CPU time 20k / 5k nodes: {ratio:.2f}")
    assert ratio < 7
