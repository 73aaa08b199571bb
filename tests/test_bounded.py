"""Bounded work: very wide graphs draw fast, external programs never run without end.

Oracles: the ONNX model itself (how many inputs its Concat reads, its initializers), the
real consumers of each output (Graphviz, an XML parser), and stand-in ``dot``/``pdflatex``/
``pdftoppm`` programs that never finish.
"""

from __future__ import annotations

import os
import stat
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import (
    assert_one_line_error,
    cli_env,
    dot_layout,
    require_module,
    require_tool,
    run_cli,
)

onnx = require_module("onnx")
import numpy as np  # noqa: E402
from onnx import TensorProto, helper, numpy_helper  # noqa: E402

import netdraw  # noqa: E402
from netdraw import zoo  # noqa: E402
from netdraw.backends import BACKENDS  # noqa: E402
from netdraw.passes import ViewOptions, describe_view, make_view  # noqa: E402
from netdraw.passes.parallel import MAX_PARALLEL, merge_parallel  # noqa: E402
from netdraw.passes.stats import annotate, total_macs  # noqa: E402

FLOAT = TensorProto.FLOAT


def _model(nodes, inputs, outputs, inits=()) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "wide", inputs, outputs, list(inits))
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def wide_concat(n: int, widths=None) -> onnx.ModelProto:
    """One Concat of ``n`` graph inputs (the issue's 20,000-input model)."""
    widths = widths or [4] * n
    inputs = [helper.make_tensor_value_info(f"x{i}", FLOAT, [1, w]) for i, w in
              enumerate(widths)]
    out = helper.make_tensor_value_info("y", FLOAT, [1, sum(widths)])
    node = helper.make_node("Concat", [f"x{i}" for i in range(n)], ["y"], axis=1,
                            name="concat")
    return _model([node], inputs, [out])


def wide_dense(n: int) -> onnx.ModelProto:
    """``n`` inputs, each through its own Gemm (with weights), into one Concat."""
    rng = np.random.default_rng(0)
    inputs, nodes, inits = [], [], []
    for i in range(n):
        inputs.append(helper.make_tensor_value_info(f"x{i}", FLOAT, [1, 8]))
        inits.append(numpy_helper.from_array(rng.standard_normal((8, 3)).astype(np.float32),
                                             f"w{i}"))
        nodes.append(helper.make_node("Gemm", [f"x{i}", f"w{i}"], [f"h{i}"], name=f"fc{i}"))
    nodes.append(helper.make_node("Concat", [f"h{i}" for i in range(n)], ["y"], axis=1,
                                  name="concat"))
    out = helper.make_tensor_value_info("y", FLOAT, [1, 3 * n])
    return _model(nodes, inputs, [out], inits)


def wide_split(n: int) -> onnx.ModelProto:
    """One Split into ``n`` pieces, each through a Relu to its own graph output."""
    x = helper.make_tensor_value_info("x", FLOAT, [1, 2 * n])
    nodes = [helper.make_node("Split", ["x"], [f"s{i}" for i in range(n)], axis=1,
                              num_outputs=n, name="split")]
    outs = []
    for i in range(n):
        nodes.append(helper.make_node("Relu", [f"s{i}"], [f"r{i}"], name=f"relu{i}"))
        outs.append(helper.make_tensor_value_info(f"r{i}", FLOAT, [1, 2]))
    model = _model(nodes, [x], outs)
    model.opset_import[0].version = 18
    return model


@pytest.fixture(scope="module")
def wide20k(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("wide") / "wide20k.onnx"
    onnx.save(wide_concat(20_000), path)
    return path


def test_twenty_thousand_inputs_are_one_node(wide20k):
    model = onnx.load(wide20k)
    assert len(model.graph.node[0].input) == 20_000  # the oracle: what the file holds
    graph = netdraw.load(wide20k)
    assert len(graph) == 20_002
    view = make_view(graph)
    assert [(n.name, n.kind) for n in view] == [("20,000 inputs", "input"),
                                                ("concat", "concat"), ("y", "output")]
    head = view.nodes[view.inputs[0]]
    assert head.attrs["parallel"] == 20_000 and head.outputs[0].shape == (1, 4)
    assert head.attrs["members"] == ["x0", "x1", "x2", "…", "x19999"]
    assert "20,000 parallel inputs into concat drawn as one node" in describe_view(view)


def _formats():
    """(style, format) for every format of every registered backend (later ones too)."""
    out = []
    for spec in BACKENDS:
        for fmt in spec.formats:
            out.append((spec.name, fmt))
    return out


@pytest.fixture(scope="module")
def wide_view(wide20k):
    return make_view(netdraw.load(wide20k))


@pytest.mark.parametrize(("style", "fmt"), _formats())
def test_every_backend_draws_the_wide_model(wide_view, style, fmt):
    """The default view of the 20,000-input model in every backend, checked by its consumer."""
    if fmt in ("png", "pdf") and style == "tikz":
        require_tool("pdflatex")
    graph = wide_view
    data = netdraw.render(graph, fmt, style=style)
    if fmt in ("dot", "gv"):
        dot_layout(data)
    elif fmt == "svg":
        ET.fromstring(data)
    elif fmt == "json":
        assert netdraw.Graph.from_json(data).total_params == 0
    elif fmt == "png":
        assert data[:8] == b"\x89PNG\r\n\x1a\n"
    elif fmt == "pdf":
        assert data[:5] == b"%PDF-"
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    if fmt in ("dot", "gv", "svg", "tex") and style in ("graphviz", "tikz"):
        assert "20,000 inputs" in text


def test_cli_draws_the_wide_model_and_says_so(wide20k, tmp_path):
    out = tmp_path / "wide.svg"
    proc = run_cli(str(wide20k), "-o", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "20,000 parallel inputs into concat drawn as one node" in proc.stderr
    ET.parse(out)


def test_parallel_branches_keep_params_and_macs():
    model = wide_dense(40)
    weights = sum(int(np.prod(t.dims)) for t in model.graph.initializer)
    graph = netdraw.load(model)
    merged, report = merge_parallel(annotate(graph))
    assert report == ["40 parallel branches into concat drawn as one branch"]
    assert [(n.name, n.kind) for n in merged] == [
        ("40 inputs", "input"), ("40 × Gemm", "dense"), ("concat", "concat"), ("y", "output")]
    assert merged.total_params == graph.total_params == weights
    assert total_macs(merged) == total_macs(annotate(graph)) == 40 * 8 * 3
    view = make_view(graph)
    assert view.total_params == weights and len(view) <= 4


def test_fan_out_is_bounded_too():
    graph = netdraw.load(wide_split(100))
    view = make_view(graph)
    names = [n.name for n in view]
    assert "100 × Relu" in names and "100 outputs" in names and len(view) == 4
    assert "100 parallel branches out of split" in describe_view(view)


def test_mixed_lanes_merge_by_kind():
    # five shapes, twelve inputs each: five merged inputs, each with its exact shape
    graph = netdraw.load(wide_concat(60, [1 + i % 5 for i in range(60)]))
    heads = [make_view(graph).nodes[i] for i in make_view(graph).inputs]
    assert [(h.name, h.outputs[0].shape) for h in heads] == [
        ("12 inputs", (1, w)) for w in range(1, 6)]
    # sixty shapes: too many kinds of lane to draw apart, one input with an unknown width
    view = make_view(netdraw.load(wide_concat(60, list(range(1, 61)))))
    head = view.nodes[view.inputs[0]]
    assert head.name == "60 inputs" and head.outputs[0].shape == (1, None)


def test_below_the_limit_nothing_changes():
    graph = netdraw.load(wide_concat(MAX_PARALLEL))
    assert merge_parallel(graph)[0] is graph
    for name, entry in zoo.ZOO.items():
        if entry.framework == "onnx":
            graph = zoo.load(name)
            assert merge_parallel(graph) == (graph, []), name


def test_full_keeps_every_node_and_warns(tmp_path):
    graph = netdraw.load(wide_concat(40))
    view = make_view(graph, ViewOptions.full())
    assert len(view) == 42
    assert view.meta["view"]["warnings"] == [
        "40 parallel inputs into concat; drawing them all can take the layout very long "
        "(drop --full to draw them as one node)"]
    path = tmp_path / "w40.onnx"
    onnx.save(wide_concat(40), path)
    proc = run_cli(str(path), "--full", "-o", str(tmp_path / "w.svg"))
    assert proc.returncode == 0
    assert proc.stderr.startswith("netdraw: warning: 40 parallel inputs into concat")
    assert ET.parse(tmp_path / "w.svg").getroot().tag.endswith("svg")


# -- external programs run with a time limit ---------------------------------------------


def _stall(folder: Path, *names: str) -> dict[str, str]:
    """An environment where ``names`` are programs that never finish (they sleep)."""
    folder.mkdir(exist_ok=True)
    for name in names:
        script = folder / name
        script.write_text("#!/bin/sh\nexec sleep 60\n")
        script.chmod(script.stat().st_mode | stat.S_IEXEC)
    env = cli_env()
    env["PATH"] = f"{folder}{os.pathsep}{env['PATH']}"
    env["NETDRAW_TIMEOUT"] = "2"
    return env


@pytest.mark.parametrize(("program", "out", "extra"), [
    ("dot", "x.svg", ()), ("pdflatex", "x.pdf", ("--style", "tikz")),
])
def test_a_stalled_program_is_stopped_with_advice(program, out, extra, tmp_path):
    env = _stall(tmp_path / "bin", program)
    target = tmp_path / out
    proc = run_cli("zoo:onnx-lenet5", "-o", str(target), *extra, env=env)
    name = "Graphviz 'dot'" if program == "dot" else program
    assert_one_line_error(proc, f"{name} did not finish within 2 s", "--depth",
                          "without --full")
    assert not target.exists()


def test_stalled_pdftoppm_is_stopped(tmp_path, monkeypatch):
    require_tool("pdflatex")
    from netdraw.latex import rasterise

    pdf = netdraw.render(zoo.load("onnx-lenet5"), "pdf", style="tikz")
    monkeypatch.setenv("PATH", _stall(tmp_path / "bin", "pdftoppm")["PATH"])
    with pytest.raises(netdraw.NetdrawError, match="pdftoppm did not finish within 1 s"):
        rasterise(pdf, "png", timeout=1)


def test_bad_time_limit_is_a_clear_error(tmp_path):
    env = cli_env()
    env["NETDRAW_TIMEOUT"] = "soon"
    proc = run_cli("zoo:onnx-lenet5", "-o", str(tmp_path / "x.svg"), env=env)
    assert_one_line_error(proc, "time limit must be a number of seconds")
