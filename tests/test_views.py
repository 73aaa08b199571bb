"""Readable views of big models: collapse, roll, fold, prune, the default view, statistics
and ``netdraw summary`` — on ResNet-50 and a ViT from several model sources.

Model sources (see ``view_models.py``): a torch ResNet-50 exported to ONNX by the legacy
exporter (BatchNorm kept) and by the dynamo exporter (BatchNorm folded), a flat ONNX graph
named exactly like Keras' ``ResNet50`` (``conv4_block2_1_conv``…), and an anonymised export
with no names at all; likewise for a ViT. Each source states the parameter total its
framework reports, which the summary must reproduce.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import onnx
import pytest
from conftest import require_module
from onnx import TensorProto, helper
from view_models import RESNET50, TRANSFORMER, Sources, keras_resnet50

from netdraw import NetdrawError, load, render
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes import ViewOptions, describe_view, make_view, parse_pattern
from netdraw.passes.stats import node_macs, total_macs
from netdraw.passes.view import prepare

ROOT = Path(__file__).resolve().parent.parent
ENV = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
       "KERAS_BACKEND": "torch"}
FULL = ViewOptions.full()


@pytest.fixture(scope="module")
def sources(tmp_path_factory) -> Sources:
    return Sources(tmp_path_factory.mktemp("views"))


@pytest.fixture(scope="module", params=RESNET50)
def resnet(request, sources):
    return request.param, *sources.get(request.param)


@pytest.fixture(scope="module", params=TRANSFORMER)
def transformer(request, sources):
    return request.param, *sources.get(request.param)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "netdraw", *args], capture_output=True,
                          text=True, env=ENV, cwd=ROOT, timeout=300)


def rolled(view: Graph) -> list[Node]:
    return [n for n in view if n.kind == "block" and n.attrs.get("repeat")]


# -- the default view ------------------------------------------------------------------


def test_resnet50_default_view_is_small_and_rolls_repeats(resnet):
    name, graph, _, _ = resnet
    view = make_view(graph)
    assert len(graph) > 120 and len(view) <= 40
    # Stages of 3, 4, 6 and 3 bottlenecks: the first of each stage changes shape, the rest
    # roll into one block each.
    assert sorted(n.attrs["repeat"] for n in rolled(view)) == [2, 2, 3, 5]
    info = view.meta["view"]
    assert info["auto"] and info["nodes"] == len(view) and info["source_nodes"] == len(graph)
    line = describe_view(view)
    assert "default view" in line and "--full" in line and "\n" not in line
    if name == "onnx-dynamo":  # the dynamo exporter records module classes
        assert {n.op_type for n in rolled(view)} == {"Bottleneck"}
    if name == "keras-names":
        assert {n.name for n in rolled(view)} == {
            "conv2_block2–conv2_block3", "conv3_block2–conv3_block4",
            "conv4_block2–conv4_block6", "conv5_block2–conv5_block3"}


def test_transformer_default_view_rolls_the_encoder(transformer):
    _, graph, total, note = transformer
    view = make_view(graph)
    assert len(view) <= 40
    # Six encoder layers: the first drawn open (its layers show once), five rolled after it.
    assert [n.attrs["repeat"] for n in rolled(view)] == [5]
    depth = len(rolled(view)[0].attrs["paths"][0])
    assert any(n.kind != "block" and len(n.group) >= depth for n in view)  # the open layer
    assert graph.total_params == total, note  # the framework's (or file's) own count
    assert view.total_params == total


@pytest.mark.parametrize("source", ["onnx-legacy", "vit-onnx-legacy"])
def test_default_drawing_fits_a_page(sources, source, tmp_path):
    """The real layout (Graphviz's SVG) has its longer side at most 4× the shorter."""
    graph = sources.get(source)[0]
    svg = render(graph, "svg")
    root = ET.fromstring(svg)
    width, height = (float(root.get(k).rstrip("pt")) for k in ("width", "height"))
    assert max(width, height) / min(width, height) <= 4.0
    assert len(root.findall(".//{http://www.w3.org/2000/svg}g[@class='node']")) <= 42


def test_cli_prints_one_line_about_the_view(sources, tmp_path):
    out = tmp_path / "r50.svg"
    result = run_cli(sources.file("onnx-legacy"), "-o", str(out))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netdraw: drew the default view")
    assert "--full" in lines[0]
    ET.parse(out)  # a complete SVG
    result = run_cli(sources.file("onnx-legacy"), "--depth", "1", "-o", str(out))
    assert result.returncode == 0 and result.stderr == ""


# -- the full view ----------------------------------------------------------------------


def _keeps_every_node(graph: Graph) -> None:
    for options in (FULL, ViewOptions(depth=10**6, roll=False, fold=False, keep_all=True)):
        view = make_view(graph, options)
        assert set(view.nodes) == set(graph.nodes)
        assert len(view.edges) == len(graph.edges)
        assert {(e.src, e.dst) for e in view.edges} == {(e.src, e.dst) for e in graph.edges}
        assert not any(n.kind == "block" for n in view)


def test_full_view_keeps_every_node(resnet):
    _keeps_every_node(resnet[1])


def test_full_view_keeps_every_transformer_node(transformer):
    _keeps_every_node(transformer[1])


def test_full_flag_and_json(sources, tmp_path):
    graph = sources.get("onnx-legacy")[0]
    out = tmp_path / "full.json"
    assert run_cli(sources.file("onnx-legacy"), "--full", "-o", str(out)).returncode == 0
    assert len(Graph.from_json(out.read_text()).nodes) == len(graph)
    # JSON is the full IR unless view options are given.
    assert len(Graph.from_json(render(graph, "json")).nodes) == len(graph)
    assert len(Graph.from_json(render(graph, "json", depth=1)).nodes) < 20


def test_make_view_does_not_touch_its_input(resnet):
    _, graph, _, _ = resnet
    before = graph.to_json()
    make_view(graph)
    make_view(graph, ViewOptions(depth=0))
    assert graph.to_json() == before


# -- collapse ---------------------------------------------------------------------------


def test_block_params_add_up_at_every_depth(resnet):
    _, graph, total, _ = resnet
    prepared = prepare(graph, ViewOptions())
    assert prepared.total_params == graph.total_params == total
    group_params: dict[tuple, int] = {}
    for node in prepared:
        for d in range(len(node.group) + 1):
            group_params[node.group[:d]] = group_params.get(node.group[:d], 0) + node.params
    for depth in range(0, 5):
        view = make_view(graph, ViewOptions(depth=depth))
        assert view.total_params == total
        assert total_macs(view) == total_macs(prepared)
        for node in view:
            if node.kind != "block":
                continue
            paths = node.attrs.get("paths") or [node.attrs["path"]]
            assert node.params == sum(group_params[tuple(p)] for p in paths)
            assert node.attrs["nodes"] >= 2
            assert node.inputs and node.outputs


def test_depth_zero_is_one_block(resnet):
    _, graph, total, _ = resnet
    view = make_view(graph, ViewOptions(depth=0))
    kinds = sorted(n.kind for n in view)
    assert kinds == ["block", "input", "output"]
    block = next(n for n in view if n.kind == "block")
    assert block.params == total
    assert block.outputs[0].shape[-1] == 1000
    assert [e.tensor.shape for e in view.edges if e.dst == block.id] == [(1, 3, 224, 224)]


def test_expand_and_collapse(sources):
    graph = sources.get("onnx-legacy")[0]
    one = make_view(graph, ViewOptions(depth=1))
    assert {n.name for n in one if n.kind == "block"} == {"layer1", "layer2", "layer3", "layer4"}
    opened = make_view(graph, ViewOptions(depth=1, expand=("layer3",)))
    names = {n.name for n in opened}
    assert "layer3" not in names and "layer2" in names
    assert not any(n.attrs.get("repeat") for n in opened)  # expanded children never roll
    for block in range(6):  # every bottleneck's layers show
        assert any(n.name.startswith(f"layer3.{block}.") for n in opened), block
    closed = make_view(graph, ViewOptions(collapse=("layer2",)))
    assert "layer2" in {n.name for n in closed if n.kind == "block"}
    with pytest.raises(NetdrawError, match="names no group.*layer1"):
        make_view(graph, ViewOptions(expand=("layer9",)))


# -- rolling ------------------------------------------------------------------------------


def test_rolling_never_merges_blocks_whose_shapes_differ(resnet):
    _, graph, _, _ = resnet
    prepared = prepare(graph, ViewOptions())
    for depth in range(1, 5):
        for block in rolled(make_view(graph, ViewOptions(depth=depth))):
            layouts = []
            for path in block.attrs["paths"]:
                members = [n for n in prepared if n.group[:len(path)] == tuple(path)]
                layouts.append([(n.kind, [t.shape for t in n.inputs],
                                 [t.shape for t in n.outputs]) for n in members])
            assert all(layout == layouts[0] for layout in layouts)
            # ResNet's rolled bottlenecks keep their shape; the shape-changing first block
            # of each stage is never part of a run.
            assert {t.shape for t in block.inputs} == {t.shape for t in block.outputs}


def _chain(channels: list[int], classes: list[str] | None = None) -> Graph:
    """input -> one group per entry (conv + relu with that many output channels)."""
    g = Graph("chain")
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, 8, 16, 16))]))
    prev, cin = "x", 8
    for i, c in enumerate(channels):
        path = (f"stage.{i}",)
        g.add_group(path, (classes or ["Unit"] * len(channels))[i], f"stage.{i}")
        shape = TensorSpec((1, c, 16, 16))
        g.add_node(Node(f"c{i}", f"stage.{i}.conv", "conv", "Conv",
                        attrs={"kernel_size": [3, 3], "out_channels": c, "in_channels": cin},
                        params=c * cin * 9, inputs=[TensorSpec((1, cin, 16, 16))],
                        outputs=[shape], group=path))
        g.add_node(Node(f"r{i}", f"stage.{i}.act", "activation", "Relu", inputs=[shape],
                        outputs=[shape], group=path))
        g.add_node(Node(f"a{i}", f"stage.{i}.add", "add", "Add", inputs=[shape, shape],
                        outputs=[shape], group=path))
        g.add_edge(prev, f"c{i}", TensorSpec((1, cin, 16, 16)))
        g.add_edge(f"c{i}", f"r{i}", shape)
        g.add_edge(f"r{i}", f"a{i}", shape)
        g.add_edge(prev if cin == c else f"r{i}", f"a{i}", shape)
        prev, cin = f"a{i}", c
    g.add_node(Node("y", "y", "output", "Output", inputs=[TensorSpec((1, cin, 16, 16))]))
    g.add_edge(prev, "y", TensorSpec((1, cin, 16, 16)))
    g.validate()
    return g


def test_rolling_by_structure_not_by_name():
    view = make_view(_chain([8, 8, 8, 16, 16, 32]), ViewOptions(depth=1, fold=False))
    runs = {n.name: n.attrs["repeat"] for n in rolled(view)}
    # stage.0-2 keep 8 channels, stage.3 changes 8 -> 16 (its own block), stage.4 is 16 -> 16
    # alone, stage.5 changes again.
    assert runs == {"stage.0–stage.2": 3}
    assert view.total_params == _chain([8, 8, 8, 16, 16, 32]).total_params
    # Different classes never roll together, even when the structure matches.
    mixed = make_view(_chain([8, 8, 8], ["A", "B", "A"]), ViewOptions(depth=1))
    assert not rolled(mixed)
    assert not rolled(make_view(_chain([8, 8, 8]), ViewOptions(depth=1, roll=False)))


# -- folding ------------------------------------------------------------------------------


def test_folding_keeps_params_and_attributes(resnet):
    _, graph, _, _ = resnet
    prepared = prepare(graph, ViewOptions(fold=False))
    folded = [n for n in prepare(graph, ViewOptions()) if n.attrs.get("folded")]
    assert len(folded) >= 49  # every conv with a BN or ReLU after it (dynamo: BN pre-folded)
    for node in folded:
        layers = node.attrs["folded"]
        head = prepared.nodes.get(node.id)
        assert head is not None and head.kind == node.kind and head.op_type == node.op_type
        absorbed = sum(f["params"] for f in layers)
        assert node.params == head.params + absorbed
        for f in layers:
            original = prepared.nodes[f["id"]]
            assert (original.name, original.kind, original.params) == \
                (f["name"], f["kind"], f["params"])
    conv1 = next(n for n in folded if n.kind == "conv" and n.attrs.get("kernel_size") == [7, 7])
    assert conv1.attrs["activation"] == "relu"
    assert conv1.attrs["pattern"] in ("ConvBNAct", "ConvAct")


def test_fold_patterns_and_syntax(sources, tmp_path):
    graph = sources.get("vit-onnx-legacy")[0]
    view = make_view(graph, ViewOptions(fold=False, fold_patterns=("dense>gelu=MLPUp",)))
    mlp = [n for n in prepare(graph, ViewOptions(fold=False, fold_patterns=("dense>gelu=MLPUp",)))
           if n.attrs.get("pattern") == "MLPUp"]
    assert len(mlp) == 6 and all(n.attrs["activation"] == "gelu" for n in mlp)
    assert view.total_params == graph.total_params
    assert parse_pattern("conv|conv_transpose>norm?>activation").name == "ConvNormActivation"
    for bad in ("conv", ">conv", "conv>>norm", "conv>norm=Two Words", "conv?>norm", ""):
        with pytest.raises(NetdrawError, match="fold pattern"):
            parse_pattern(bad)
    result = run_cli(sources.file("vit-onnx-legacy"), "--fold", "conv>>x", "-o",
                     str(tmp_path / "x.svg"))
    assert result.returncode == 2 and result.stderr.startswith("netdraw: error: bad fold")
    assert len(result.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x.svg").exists()


# -- pruning ------------------------------------------------------------------------------


def test_prune_hides_plumbing_and_keeps_params(transformer):
    name, graph, total, _ = transformer
    full = make_view(graph, FULL)
    view = make_view(graph, ViewOptions(depth=10**6, roll=False, fold=False))
    # Live PyTorch traces and the dynamo exporter have no Shape plumbing to hide.
    assert any(n.op_type == "Shape" for n in full) == (name in ("vit-onnx-legacy", "vit-anonymous"))
    assert not any(n.op_type in ("Shape", "Unsqueeze", "ConstantOfShape") for n in view)
    assert graph.total_params == total
    assert view.total_params == full.total_params == total
    # Every Linear is one dense node after its weight transposes and bias adds merge in.
    assert sum(1 for n in view if n.kind == "dense") == 6 * 4 + 1


def test_prune_reconnects_pass_through_layers():
    x, y = (helper.make_tensor_value_info(n, TensorProto.FLOAT, (1, 4)) for n in "xy")
    w = helper.make_tensor("w", TensorProto.FLOAT, (4, 4), [0.0] * 16)
    nodes = [helper.make_node("Gemm", ["x", "w"], ["a"], name="fc"),
             helper.make_node("Dropout", ["a"], ["b"], name="drop"),
             helper.make_node("Cast", ["b"], ["c"], name="cast", to=TensorProto.FLOAT),
             helper.make_node("Relu", ["c"], ["y"], name="act")]
    model = helper.make_model(helper.make_graph(nodes, "g", [x], [y], [w]),
                              opset_imports=[helper.make_opsetid("", 17)])
    graph = load(model)
    view = make_view(graph, ViewOptions(depth=5, fold=False))
    assert [n.name for n in view] == ["x", "fc", "act", "y"]
    assert ("fc", "act") in {(e.src, e.dst) for e in view.edges}
    assert len(make_view(graph, ViewOptions(depth=5, fold=False, keep_all=True))) == 6


# -- statistics ---------------------------------------------------------------------------


def _one_layer(node: onnx.NodeProto, inputs: dict, weights: dict, out_shape) -> Node:
    vis = [helper.make_tensor_value_info(k, TensorProto.FLOAT, s) for k, s in inputs.items()]
    inits = [helper.make_tensor(k, TensorProto.FLOAT, s, [0.0] * int(__import__("math").prod(s)))
             for k, s in weights.items()]
    out = helper.make_tensor_value_info(node.output[0], TensorProto.FLOAT, out_shape)
    model = helper.make_model(helper.make_graph([node], "one", vis, [out], inits),
                              opset_imports=[helper.make_opsetid("", 17)])
    graph = load(model)
    return next(n for n in graph if n.kind not in ("input", "output"))


def test_macs_by_hand():
    conv = _one_layer(helper.make_node("Conv", ["x", "w", "b"], ["y"], kernel_shape=[3, 3],
                                       pads=[1, 1, 1, 1], strides=[2, 2]),
                      {"x": (1, 3, 32, 32)}, {"w": (16, 3, 3, 3), "b": (16,)}, None)
    # 16 output channels × 16×16 positions, each a 3×3×3 dot product.
    assert node_macs(conv) == 16 * 16 * 16 * (3 * 3 * 3) == 110_592
    depthwise = _one_layer(helper.make_node("Conv", ["x", "w"], ["y"], kernel_shape=[3, 3],
                                            pads=[1, 1, 1, 1], group=8),
                           {"x": (1, 8, 10, 10)}, {"w": (8, 1, 3, 3)}, None)
    assert node_macs(depthwise) == 8 * 10 * 10 * 9
    dense = _one_layer(helper.make_node("Gemm", ["x", "w", "b"], ["y"], transB=1),
                       {"x": ("batch", 2048)}, {"w": (1000, 2048), "b": (1000,)}, None)
    assert node_macs(dense) == 2048 * 1000
    tokens = _one_layer(helper.make_node("MatMul", ["x", "w"], ["y"]),
                        {"x": (1, 17, 64)}, {"w": (64, 192)}, None)
    assert tokens.kind == "dense" and node_macs(tokens) == 17 * 64 * 192
    scores = _one_layer(helper.make_node("MatMul", ["q", "k"], ["y"]),
                        {"q": (1, 4, 17, 16), "k": (1, 4, 16, 17)}, {}, None)
    assert node_macs(scores) == 4 * 17 * 17 * 16
    up = _one_layer(helper.make_node("ConvTranspose", ["x", "w"], ["y"], kernel_shape=[2, 2],
                                     strides=[2, 2]),
                    {"x": (1, 8, 5, 5)}, {"w": (8, 4, 2, 2)}, None)
    assert node_macs(up) == 8 * 5 * 5 * 4 * 2 * 2


def test_resnet50_macs_match_the_published_figures(resnet):
    name, graph, _, _ = resnet
    macs = make_view(graph).meta["view"]["macs"]
    if name == "keras-names":
        # Keras' ResNet50 is the paper's v1 (stride in the first 1×1 conv): He et al. 2016,
        # Table 1, give 3.8 × 10⁹ multiply-adds.
        expected, tolerance = 3.8e9, 0.02
    else:
        # torchvision's v1.5 (stride in the 3×3 conv) is listed at 4.09 GFLOPS (MACs).
        expected, tolerance = 4.09e9, 0.005
    assert abs(macs - expected) / expected < tolerance, (name, macs)


# -- summary ------------------------------------------------------------------------------


def _total(text: str) -> int:
    line = next(ln for ln in text.splitlines() if "Total" in ln)
    numbers = re.findall(r"\d{1,3}(?:,\d{3})+|\d+", line)
    return int(numbers[0].replace(",", ""))


def test_summary_totals_equal_the_framework_count(resnet, sources):
    name, graph, total, note = resnet
    path = sources.file(name)
    text = run_cli("summary", path)
    assert text.returncode == 0, text.stderr
    assert _total(text.stdout) == total, note
    rows = [ln for ln in text.stdout.splitlines()[3:-2]]
    assert 10 <= len(rows) <= 40 and any("×5" in r for r in rows)
    full = run_cli("summary", path, "--full", "--markdown")
    assert full.returncode == 0 and _total(full.stdout) == total
    body = [ln for ln in full.stdout.splitlines()[2:-1]]
    assert len(body) == len(graph) - len(graph.outputs)
    assert all(ln.startswith("| ") and ln.count(" | ") >= 4 for ln in body)


def test_summary_latex_compiles(sources, tmp_path):
    result = run_cli("summary", sources.file("keras-names"), "--latex")
    assert result.returncode == 0, result.stderr
    doc = ("\\documentclass{article}\\usepackage{booktabs,tabularx,longtable}"
           "\\begin{document}\n"
           f"{result.stdout}\\end{{document}}\n")
    (tmp_path / "t.tex").write_text(doc)
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-2000:]
    pdftext = subprocess.run(["pdftotext", "t.pdf", "-"], cwd=tmp_path, capture_output=True,
                             text=True)  # poppler-utils: the set-up installs it
    assert pdftext.returncode == 0, pdftext.stderr
    assert "25,636,712" in pdftext.stdout and "conv4" in pdftext.stdout  # Keras' own count


def test_keras_names_and_count_match_keras():
    """The flat test graph is Keras' own ResNet50, layer for layer."""
    keras = require_module("keras")
    model = keras.applications.ResNet50(weights=None)
    ours, params = keras_resnet50()
    assert params == model.count_params() == 25_636_712
    names = {n.name for n in ours.graph.node if n.op_type != "Constant"}
    keras_names = {layer.name for layer in model.layers[1:]}
    assert names - {"flatten", "predictions_softmax"} == keras_names
