"""Tests whose expected values come from outside netdraw: the framework's own counts, a
hand count, the PDF's text, ``dot`` itself.

Each one guards a realistic bug that the rest of the suite once let through (issue 19):
a shared initializer counted at every use, parallel branches rolled as a repeat, LaTeX
look-alike glyphs, the default view's node limit, the batch multiplied into MACs, an
optional fold step, a fold across a skip, the NN-SVG box height taken from W, control
characters in DOT labels.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import unicodedata
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import dot_layout, require_module, run_cli
from onnx import TensorProto, helper, numpy_helper

import netdraw
from netdraw.api import view
from netdraw.backends.dot import to_dot
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes import ViewOptions, make_view

torch = require_module("torch")
nn = torch.nn


# -- helpers -----------------------------------------------------------------------------


def _onnx_model(nodes, inputs, outputs, inits) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "oracle", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return onnx.shape_inference.infer_shapes(model)


def _initializer_elements(model: onnx.ModelProto) -> int:
    """What the ONNX file itself holds: the elements of its float initializers."""
    return sum(int(np.prod(numpy_helper.to_array(t).shape)) for t in model.graph.initializer
               if t.data_type in (TensorProto.FLOAT, TensorProto.FLOAT16, TensorProto.DOUBLE))


def _chain(name: str, *dims: int) -> Graph:
    """input -> one node per consecutive pair of dims -> output, for hand-built graphs."""
    g = Graph(name)
    g.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((1, dims[0]))]))
    prev = "x"
    for i, (a, b) in enumerate(zip(dims, dims[1:], strict=False)):
        nid = f"fc{i}"
        g.add_node(Node(nid, nid, "dense", "Gemm", attrs={"units": b}, params=a * b,
                        inputs=[TensorSpec((1, a))], outputs=[TensorSpec((1, b))]))
        g.add_edge(prev, nid, TensorSpec((1, a)))
        prev = nid
    g.add_node(Node("y", "y", "output", "Output", inputs=[TensorSpec((1, dims[-1]))]))
    g.add_edge(prev, "y", TensorSpec((1, dims[-1])))
    return g


def _pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """pdftotext's reading of a PDF (a tool the set-up installs: missing is a failure)."""
    assert shutil.which("pdftotext"), "pdftotext is missing: run scripts/dev.sh"
    path = tmp_path / "read.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                          check=True, timeout=60).stdout.decode("utf-8")
    return unicodedata.normalize("NFC", text)


# -- ONNX importer: an initializer shared by two nodes counts once -------------------------


def test_tied_onnx_initializer_counts_once() -> None:
    """Two MatMuls read one weight (tied embeddings): the file holds 8·8 + 8 numbers."""
    w = numpy_helper.from_array(np.ones((8, 8), np.float32), "tied.w")
    b = numpy_helper.from_array(np.ones((8,), np.float32), "b")
    nodes = [helper.make_node("MatMul", ["x", "tied.w"], ["h"], name="enc"),
             helper.make_node("Add", ["h", "b"], ["hb"], name="bias"),
             helper.make_node("MatMul", ["hb", "tied.w"], ["y"], name="dec")]
    model = _onnx_model(nodes, [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8])],
                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 8])], [w, b])
    graph = netdraw.load(model)
    assert graph.total_params == _initializer_elements(model) == 72
    assert view(graph).total_params == 72
    assert view(graph, full=True).total_params == 72


class _TiedLM(nn.Module):
    """An embedding whose weight is also the output projection (GPT-2's tying)."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.mix = nn.Linear(16, 16)
        self.head = nn.Linear(16, 50, bias=False)
        self.head.weight = self.embed.weight

    def forward(self, ids):
        return self.head(torch.relu(self.mix(self.embed(ids))))


def test_tied_weights_match_torch_and_the_onnx_file(tmp_path: Path) -> None:
    model = _TiedLM().eval()
    ids = torch.zeros(1, 6, dtype=torch.int64)
    torch_total = sum(p.numel() for p in model.parameters())  # torch counts a tied one once
    assert torch_total == 50 * 16 + 16 * 16 + 16
    assert netdraw.load(model, example_input=ids).total_params == torch_total
    path = tmp_path / "tied.onnx"
    torch.onnx.export(model, (ids,), str(path), dynamo=True, optimize=False)
    exported = onnx.load(str(path))
    assert netdraw.load(str(path)).total_params == _initializer_elements(exported)


# -- roll: only a sequence rolls, never parallel branches ----------------------------------


class _Tower(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.fc1 = nn.Linear(8, 8)
        self.fc2 = nn.Linear(8, 8)

    def forward(self, x):
        return self.fc2(torch.relu(self.fc1(x)))


class _TwoTowers(nn.Module):
    """Two identical towers side by side, joined by a concat: not a repeated sequence."""

    def __init__(self) -> None:
        super().__init__()
        self.left = _Tower()
        self.right = _Tower()

    def forward(self, x):
        return torch.cat([self.left(x), self.right(x)], dim=1)


class _Stack(nn.Module):
    """The same two towers one after the other: a sequence, which does roll."""

    def __init__(self) -> None:
        super().__init__()
        self.first = _Tower()
        self.second = _Tower()

    def forward(self, x):
        return self.second(self.first(x))


@pytest.mark.parametrize("depth", [None, 1, 2])
def test_parallel_identical_branches_never_roll(depth) -> None:
    graph = netdraw.load(_TwoTowers(), input_shape=(1, 8))
    v = make_view(graph, ViewOptions(depth=depth))
    assert not [n.name for n in v if n.attrs.get("repeat")]
    names = " ".join(n.name for n in v)
    assert "left" in names and "right" in names
    assert v.total_params == 2 * (8 * 8 + 8) * 2  # torch: two towers of two Linear(8, 8)


def test_a_sequence_of_the_same_towers_rolls() -> None:
    """The counterpart: the same blocks feeding each other are drawn once as ×2."""
    v = make_view(netdraw.load(_Stack(), input_shape=(1, 8)), ViewOptions(depth=1))
    assert [n.attrs["repeat"] for n in v if n.attrs.get("repeat")] == [2]


def test_a_run_at_the_very_start_rolls_whole() -> None:
    """Three identical towers, the first one the model's first child: one block ×3."""
    model = nn.Sequential(_Tower(), _Tower(), _Tower())
    v = make_view(netdraw.load(model, input_shape=(1, 8)), ViewOptions(depth=1))
    assert [n.attrs["repeat"] for n in v if n.attrs.get("repeat")] == [3]
    assert v.total_params == 3 * 2 * (8 * 8 + 8)  # torch: three towers of two Linear(8, 8)
    # the same run as the first children of an inner group (no input node before it)
    nested = nn.Sequential(nn.Sequential(_Tower(), _Tower(), _Tower()), nn.Linear(8, 2))
    v = make_view(netdraw.load(nested, input_shape=(1, 8)), ViewOptions(depth=2))
    assert [n.attrs["repeat"] for n in v if n.attrs.get("repeat")] == [3]


def test_keras_siamese_towers_never_roll() -> None:
    require_module("keras")
    import keras_builders

    model = keras_builders.siamese()
    for depth in (None, 1, 2):
        v = make_view(netdraw.load(model), ViewOptions(depth=depth))
        assert not [n.name for n in v if n.attrs.get("repeat")], depth
        assert v.total_params == model.count_params()


# -- LaTeX: < > | print as themselves, not as OT1's ¡ ¿ — ---------------------------------


def test_tikz_pdf_prints_angle_brackets_and_bar(tmp_path: Path) -> None:
    graph = _chain("a<b>c|d", 4, 3)
    graph.nodes["fc0"].name = "x<y>z|w"
    text = _pdf_text(netdraw.render(graph, "pdf", style="tikz", title="a<b>c|d"), tmp_path)
    assert "a<b>c|d" in text
    assert "x<y>z|w" in text
    assert not set("¡¿—") & set(text)


def test_summary_latex_prints_angle_brackets_and_bar(tmp_path: Path) -> None:
    from netdraw.latex import compile_pdf
    from netdraw.summary import table

    graph = _chain("net", 4, 3)
    graph.nodes["fc0"].name = "p<q>r|s"
    doc = ("\\documentclass{article}\\usepackage{booktabs,tabularx,longtable}"
           "\\begin{document}\n"
           + table(view(graph, full=True), "latex") + "\n\\end{document}\n")
    text = _pdf_text(compile_pdf(doc), tmp_path)
    assert "p<q>r|s" in text
    assert not set("¡¿—") & set(text)


# -- the default view's node limit -------------------------------------------------------


class _Stage(nn.Module):
    """Four Linear layers; widths differ per stage, so stages never roll together."""

    def __init__(self, width: int) -> None:
        super().__init__()
        self.layers = nn.ModuleList(nn.Linear(width if i == 0 else width + 1, width + 1)
                                    for i in range(4))

    def forward(self, x):
        for layer in self.layers:
            x = layer(x)
        return x


class _TenStages(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stages = nn.ModuleList(_Stage(4 + 2 * i) for i in range(10))
        self.adapt = nn.ModuleList(nn.Linear(5 + 2 * i, 6 + 2 * i) for i in range(9))

    def forward(self, x):
        for i, stage in enumerate(self.stages):
            x = stage(x)
            if i < 9:
                x = self.adapt[i](x)
        return x


def test_default_view_respects_the_node_limit(tmp_path: Path) -> None:
    """Every layer is 49 boxes + input + output = 51 nodes: above 40, so by hand the
    default view is the next depth, ten stage blocks and nine adapters (21 nodes)."""
    graph = netdraw.load(_TenStages(), input_shape=(1, 4))
    full = make_view(graph, ViewOptions(depth=1_000))
    assert len(full) == 10 * 4 + 9 + 2
    default = make_view(graph)
    assert len(default) == 21
    assert sum(n.kind == "block" for n in default) == 10
    roomy = make_view(graph, ViewOptions(max_nodes=51))
    assert len(roomy) == 51  # with room for every layer, every layer is drawn
    (tmp_path / "g.json").write_text(graph.to_json(), encoding="utf-8")
    proc = run_cli(str(tmp_path / "g.json"), "-o", str(tmp_path / "g.dot"), check=True)
    assert ": 21 of 51 nodes" in proc.stderr  # the command line's default limit is 40 too


def test_default_view_takes_a_view_just_under_the_limit() -> None:
    """38 layers in 19 pairs + input + output = 40 nodes: exactly at the default limit,
    so every layer is drawn; one node less of budget and the pairs are drawn as blocks."""
    graph = _chain("chain", *range(3, 3 + 39))
    for i, node in enumerate(n for n in graph if n.kind == "dense"):
        node.group = (f"pair{i // 2}",)
        graph.add_group(node.group, class_name="Pair")
    assert len(graph) == 40
    assert len(make_view(graph)) == 40
    assert len(make_view(graph, ViewOptions(max_nodes=39))) == 21  # input, 19 blocks, output


# -- MACs are per example: a batch of 2 costs what a batch of 1 costs ------------------------


def test_conv_macs_leave_out_the_batch() -> None:
    """Conv 3→8, 3×3, padding 1 on 8×8: 8·8·8 outputs × 3·3·3 weights = 13,824 per example."""
    conv = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1))
    for batch in (1, 2, 5):
        graph = netdraw.load(conv, input_shape=(batch, 3, 8, 8))
        node = next(n for n in view(graph, full=True) if n.kind == "conv")
        assert node.attrs["macs"] == 13_824, batch


def test_dense_and_onnx_conv_macs_leave_out_the_batch() -> None:
    dense = nn.Sequential(nn.Linear(10, 4))
    node = next(n for n in view(netdraw.load(dense, input_shape=(3, 10)), full=True)
                if n.kind == "dense")
    assert node.attrs["macs"] == 40
    w = numpy_helper.from_array(np.ones((8, 3, 3, 3), np.float32), "w")
    model = _onnx_model([helper.make_node("Conv", ["x", "w"], ["y"], name="c",
                                          kernel_shape=[3, 3], pads=[1, 1, 1, 1])],
                        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3, 8, 8])],
                        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)], [w])
    node = next(n for n in view(netdraw.load(model), full=True) if n.kind == "conv")
    assert node.attrs["macs"] == 13_824


# -- folding -----------------------------------------------------------------------------


def test_optional_fold_step_may_be_absent() -> None:
    """``conv>norm?>activation`` folds a Conv→ReLU that has no norm between."""
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU(), nn.Conv2d(4, 4, 3), nn.BatchNorm2d(4),
                          nn.ReLU())
    graph = netdraw.load(model, input_shape=(1, 3, 12, 12))
    v = make_view(graph, ViewOptions(depth=9, fold=False,
                                     fold_patterns=("conv>norm?>activation=CBA",)))
    convs = [n for n in v if n.kind == "conv"]
    assert [n.attrs.get("pattern") for n in convs] == ["CBA", "CBA"]
    assert [len(n.attrs["folded"]) for n in convs] == [1, 2]  # ReLU; BN and ReLU
    assert not [n for n in v if n.kind in ("activation", "norm")]


class _SkipFromConv(nn.Module):
    """The conv's raw output feeds both a ReLU and the residual add."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.act = nn.ReLU()
        self.conv2 = nn.Conv2d(4, 4, 3, padding=1)

    def forward(self, x):
        y = self.conv(x)
        return y + self.conv2(self.act(y))


def test_no_fold_across_a_skip() -> None:
    graph = netdraw.load(_SkipFromConv(), input_shape=(1, 4, 8, 8))
    v = view(graph, depth=9)
    ids = {n.name: n.id for n in v}
    assert "act" in ids, "the ReLU must stay: the conv's output also feeds the add"
    assert "folded" not in v.nodes[ids["conv"]].attrs
    add = next(n for n in v if n.kind == "add")
    sources = {e.src for e in v.edges if e.dst == add.id}
    assert ids["conv"] in sources  # the skip still leaves the conv, before the ReLU
    assert len(sources) == 2


# -- NN-SVG alexnet: height follows H, depth into the page follows W ------------------------


def _front_and_depth(svg: str, layer_name: str) -> tuple[float, float]:
    """(front face height, receding top-face width) of a layer's box in an alexnet SVG."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg.encode("utf-8"))
    for g in root.iterfind(".//s:g", ns):
        if g.get("data-name") != layer_name:
            continue
        faces = {p.get("class"): [tuple(map(float, pt.split(",")))
                                  for pt in p.get("points").split()]
                 for p in g.iterfind("s:polygon", ns)}
        front = faces["front"]
        top = faces["top"]
        height = max(y for _, y in front) - min(y for _, y in front)
        receding = max(x for x, _ in top) - min(x for x, _ in top) - (
            max(x for x, _ in front) - min(x for x, _ in front))
        return height, receding
    raise AssertionError(f"no layer {layer_name!r} in the SVG")


def test_alexnet_box_height_follows_h_and_depth_follows_w() -> None:
    model = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1))
    tall = netdraw.render(netdraw.load(model, input_shape=(1, 3, 64, 16)), "svg",
                          style="alexnet")
    wide = netdraw.render(netdraw.load(model, input_shape=(1, 3, 16, 64)), "svg",
                          style="alexnet")
    tall_h, tall_d = _front_and_depth(tall, "0")
    wide_h, wide_d = _front_and_depth(wide, "0")
    assert tall_h > wide_h  # H = 64 is drawn taller than H = 16
    assert wide_d > tall_d  # W = 64 recedes further than W = 16
    assert tall_h > 2 * tall_d * 0.5  # a 64×16 map is higher than it is deep


# -- DOT: control characters in names never reach dot ---------------------------------------


@pytest.mark.parametrize("name", ["a\x01b", "tab\there", "bell\x07", "del\x7fx", "nul\x00z",
                                  "esc\x1b[31mred", "line\u2028sep"])
def test_control_characters_in_names_are_accepted_by_dot(name: str) -> None:
    graph = _chain(name, 4, 3, 2)
    graph.nodes["fc0"].name = name
    graph.add_group(("blk" + name,), class_name=name)
    graph.nodes["fc1"].group = ("blk" + name,)
    source = to_dot(view(graph, full=True))
    assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]", source)
    dot_layout(source)


# -- JSON: what the file says is what the source model says -------------------------------


def test_json_carries_the_onnx_models_own_facts(tmp_path: Path) -> None:
    """Read back with the json module (not netdraw) and compared with the ONNX proto:
    a field that both to_json and from_json dropped would show here."""
    import json

    import onnx_models

    model = onnx.shape_inference.infer_shapes(onnx_models.residual())
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    run_cli(str(path), "-o", str(tmp_path / "g.json"), check=True)
    data = json.loads((tmp_path / "g.json").read_text(encoding="utf-8"))
    shapes = {vi.name: [d.dim_value if d.HasField("dim_value") else d.dim_param
                        for d in vi.type.tensor_type.shape.dim]
              for vi in [*model.graph.value_info, *model.graph.output, *model.graph.input]}
    inits = {t.name: int(np.prod(t.dims)) for t in model.graph.initializer}
    layers = [n for n in data["nodes"] if n["kind"] not in ("input", "output")]
    assert [n["op_type"] for n in layers] == [p.op_type for p in model.graph.node]
    for node, proto in zip(layers, model.graph.node, strict=True):
        assert node["outputs"][0]["shape"] == shapes[proto.output[0]], proto.name
        assert node["outputs"][0]["dtype"] == "float32"
        assert node["params"] == sum(inits.get(i, 0) for i in proto.input), proto.name
    conv = layers[0]
    assert conv["attrs"]["kernel_size"] == [3, 3] and conv["attrs"]["padding"] == [1, 1, 1, 1]
    assert [g["path"] for g in data["groups"]] == [["block"]]
    assert {tuple(n["group"]) for n in data["nodes"] if n["kind"] not in ("input", "output")} \
        == {("block",)}
    src = {e["src"] for e in data["edges"]}
    dst = {e["dst"] for e in data["edges"]}
    assert data["inputs"] == [n["id"] for n in data["nodes"] if n["kind"] == "input"]
    assert set(data["inputs"]) <= src and set(data["outputs"]) <= dst
    assert data["meta"]["framework"] == "onnx"
    assert sum(n["params"] for n in data["nodes"]) == sum(inits.values())
