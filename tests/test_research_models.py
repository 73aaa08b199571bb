"""Research patterns drawn right (issue 28, items 1, 2, 3 and 7), read back from every output.

Each oracle comes from outside netdraw: the framework's own parameter counts and output
shapes, a hand count of the operators a model's ``forward`` writes, the exported file's
own list of parameters. The models are in :mod:`research_models`.

1. A module called twice (a siamese encoder) is one block per call, marked as sharing
   weights, its parameters counted once; calls never roll into ``×N``.
2. Subtraction, division, maximum, minimum (and average) keep their own kind and symbol
   (⊖ ⊘ max min avg) in every style, legend and the summary; a bias add still folds.
3. Channels-last tensors (ConvNeXt's and Swin's ``(B, H, W, C)``) are drawn with C, H and W
   where they are.
7. A causal mask in GPT-2's ONNX export is no parameter, and its attention-score MatMul
   (two activations) no dense layer.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import onnx
import pytest
import research_models as R
from conftest import dot_layout, require_module, require_tool
from onnx import TensorProto, helper, numpy_helper

import netdraw
from netdraw import summary
from netdraw.api import view
from netdraw.describe import kind_name
from netdraw.figure.items import node_dims
from netdraw.ir import Graph

torch = require_module("torch")

SVG = "{http://www.w3.org/2000/svg}"
STYLES = ("lenet", "alexnet", "fcnn")


# -- reading outputs back -------------------------------------------------------------


def dot_boxes(dot: str) -> list[list[str]]:
    """The text lines of every box of a DOT source (its HTML-like label, tags removed)."""
    boxes = []
    for line in dot.splitlines():
        found = re.match(r"\s*n\d+ \[label=<(.*)> fillcolor", line)
        if found:
            cells = re.findall(r"<td[^>]*>(.*?)</td>", found.group(1))
            texts = [re.sub(r"<[^>]+>", "", c) for c in cells]
            boxes.append([t for t in texts if t.strip()])
    return boxes


def tikz_balls(tex: str) -> list[tuple[str, str]]:
    """(colour, symbol) of every operator ball of a TikZ figure, legend samples included."""
    return re.findall(r"\\ndBall\{[^}]*\}\{[^}]*\}\{[^}]*\}\{nd(\w+)\}\{(.*)\}", tex)


def tikz_texts(tex: str, role: str) -> list[str]:
    return re.findall(r"\\node\[nd" + role + r", anchor=\w+\] at \([^)]*\) \{(.*)\};", tex)


def svg_root(text: str) -> ET.Element:
    return ET.fromstring(text.encode("utf-8"))


def svg_merges(root: ET.Element, role: str = "merge") -> list[tuple[str, int, str]]:
    """(kind, number of strokes, text) of every operator ball (``role`` ``swatch``: of
    every legend sample) of an NN-SVG figure."""
    out = []
    for g in root.iter(f"{SVG}g"):
        classes = (g.get("class") or "").split()
        if classes[:1] == [role] and len(classes) == 2:
            lines = list(g.iter(f"{SVG}line"))
            text = "".join("".join(t.itertext()) for t in g.iter(f"{SVG}text"))
            out.append((classes[1], len(lines), text))
    return out


def svg_texts(root: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]


def page_model(html: str) -> dict:
    found = re.search(r'<script type="application/json" id="nd-model">(.*?)</script>',
                      html, re.S)
    assert found
    return json.loads(found.group(1))


def n_params(module) -> int:
    return sum(p.numel() for p in module.parameters())


def export_onnx(model, example: tuple, path: Path, dynamo: bool) -> Path:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(model, example, str(path), dynamo=True, verbose=False)
        else:
            torch.onnx.export(model, example, str(path), dynamo=False)
    return path


# -- 1. a module called twice is one block per call -----------------------------------


@pytest.fixture(scope="module")
def siamese():
    model = R.Siamese().eval()
    return model, netdraw.load(model, example_input=R.Siamese.example())


def _encoder_blocks(v: Graph) -> list:
    return [n for n in v if n.kind == "block" and n.name == "encoder"]


def _check_siamese_view(v: Graph, model) -> None:
    """Two encoder blocks, one per input, feeding the subtraction; weights counted on the
    first (the framework's count), the second marked as call 2 sharing them."""
    first, second = _encoder_blocks(v)
    assert first.params == n_params(model.encoder) and second.params == 0
    assert (first.attrs["call"], first.attrs["calls"]) == (1, 2)
    assert (second.attrs["call"], second.attrs["calls"]) == (2, 2)
    assert second.attrs["shared_with"] == first.id
    into = {e.dst: v.nodes[e.src].kind for e in v.edges}
    assert into[first.id] == into[second.id] == "input"
    assert {e.src for e in v.edges if e.dst in (first.id, second.id)} == set(v.inputs)
    sub = next(n for n in v if n.kind == "subtract")
    assert {e.src for e in v.edges if e.dst == sub.id} == {first.id, second.id}
    assert v.total_params == n_params(model)
    assert not [n for n in v if n.attrs.get("repeat")]


def test_siamese_live_is_one_block_per_call(siamese):
    model, graph = siamese
    _check_siamese_view(view(graph, depth=1), model)
    # opened, both calls show their layers: the weights on the first call's only
    opened = view(graph, depth=2)
    convs = [n for n in opened if n.name == "encoder.conv1"]
    assert [n.params for n in convs] == [n_params(model.encoder.conv1), 0]
    assert convs[1].attrs["shared_with"] == convs[0].id


def test_siamese_every_output_says_shared_and_subtraction(siamese, tmp_path):
    model, graph = siamese
    dot = netdraw.render(graph, "dot", depth=1)
    dot_layout(dot)  # Graphviz accepts it
    boxes = dot_boxes(dot)
    encoders = [b for b in boxes if b[0] == "encoder"]
    assert [b[1] for b in encoders] == ["Encoder · shared, call 1 of 2",
                                        "Encoder · shared, call 2 of 2"]
    assert f"{n_params(model.encoder) / 1000:.1f}k params" in encoders[0][2]
    assert "params" not in encoders[1][2]
    sub = next(b for b in boxes if b[0] == "sub")
    assert sub[1] == "⊖" and not any("⊕" in line for b in boxes for line in b)
    # opened: the cluster titles say it too
    opened = netdraw.render(graph, "dot", depth=2)
    assert "encoder · Encoder (shared, call 2 of 2)" in opened

    table = summary.table(view(graph, depth=1))
    rows = {line.split("  ")[0]: line for line in table.splitlines()}
    assert f"{n_params(model.encoder):,}" in rows["encoder (shared, call 1 of 2)"]
    assert re.search(r"\s0\s", rows["encoder (shared, call 2 of 2)"])
    assert re.search(r"^sub\s+Subtraction\s", rows["sub"])

    tex = netdraw.render(graph, "tex", style="tikz", depth=1)
    assert tikz_balls(tex) == [("subtract", "$-$"), ("subtract", "$-$")]  # ball, legend
    captions = tikz_texts(tex, "caption")
    assert "encoder (shared 1/2)" in captions and "encoder (shared 2/2)" in captions
    assert "Subtraction" in tikz_texts(tex, "legend")
    assert "Addition" not in tikz_texts(tex, "legend")

    for style in STYLES:
        root = svg_root(netdraw.render(graph, "svg", style=style, depth=1))
        assert svg_merges(root) == [("subtract", 1, "")], style  # one stroke: ⊖
        assert svg_merges(root, "swatch") == [("subtract", 1, "")], style
        texts = svg_texts(root)
        assert "Subtraction" in texts and "Add" not in texts and "Addition" not in texts
        names = [g.get("data-name") for g in root.iter(f"{SVG}g") if g.get("data-name")]
        assert names.count("encoder (shared 1/2)") == names.count("encoder (shared 2/2)") == 1

    page = page_model(netdraw.render(graph, "html", depth=1))
    groups = {tuple(g["path"]): g for g in page["groups"]}
    assert groups[("encoder",)]["params"] == n_params(model.encoder)
    assert groups[("encoder#2",)]["params"] == 0
    assert "shared, call 2 of 2" in groups[("encoder#2",)]["dot"]
    assert "(shared, call 2 of 2)" in groups[("encoder#2",)]["cluster"]
    assert [n["kind"] for n in page["nodes"] if n["op"] == "sub"] == ["subtract"]


def test_siamese_page_in_chromium(siamese, browser, tmp_path):
    """The interactive page, drawn by its own JavaScript in Chromium: two encoder boxes
    (call 1 and call 2) and a ⊖; opening the second shows it as a cluster of the call."""
    from html_helpers import open_page, wait_layouts

    _, graph = siamese
    path = tmp_path / "siamese.html"
    path.write_text(netdraw.render(graph, "html", depth=1), encoding="utf-8")
    page, log = open_page(browser, path.as_uri())
    boxes = page.evaluate(
        "[...document.querySelectorAll('#nd-graph g.node')].map((g) => g.textContent)")
    text = " | ".join(boxes)
    assert text.count("shared, call 1 of 2") == 1 and text.count("shared, call 2 of 2") == 1
    assert "⊖" in text and "⊕" not in text
    key = page.evaluate(
        "window.netdraw.view.nodes.find((v) => v.id === 'block:encoder#2').key")
    before = int(page.evaluate("Number(document.body.dataset.layouts)"))
    page.keyboard.press("f")
    page.locator(f'#nd-graph g.node[data-key="{key}"]').dblclick()
    wait_layouts(page, before + 1)
    titles = page.evaluate(
        "[...document.querySelectorAll('#nd-graph g.cluster > text')].map((t) => t.textContent)")
    assert any("(shared, call 2 of 2)" in t for t in titles), titles
    log.assert_clean()
    page.context.close()


def test_siamese_pdf_legend_reads_subtraction(siamese, tmp_path):
    """The TikZ figure compiles, and its legend, read from the PDF, says Subtraction."""
    require_tool("pdftotext")
    _, graph = siamese
    pdf = netdraw.render(graph, "pdf", style="tikz", depth=1)
    path = tmp_path / "siamese.pdf"
    path.write_bytes(pdf)
    text = subprocess.run(["pdftotext", "-raw", str(path), "-"], capture_output=True,
                          check=True, timeout=60).stdout.decode("utf-8")
    assert "Subtraction" in text and "Addition" not in text
    assert "encoder (shared 2/2)" in text


@pytest.mark.parametrize("source", ["program", "pt2"])
def test_siamese_torch_export(siamese, source, tmp_path):
    model, _ = siamese
    program = torch.export.export(model, R.Siamese.example())
    if source == "pt2":
        torch.export.save(program, str(tmp_path / "siamese.pt2"))
        graph = netdraw.load(tmp_path / "siamese.pt2")
    else:
        graph = netdraw.load(program)
    _check_siamese_view(view(graph, depth=1), model)


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
def test_siamese_onnx_exports(siamese, dynamo, tmp_path):
    model, _ = siamese
    path = export_onnx(model, R.Siamese.example(), tmp_path / "siamese.onnx", dynamo)
    graph = netdraw.load(path)
    _check_siamese_view(view(graph, depth=1), model)
    assert graph.groups[("encoder#2",)].shared_with == ("encoder",)
    # every conv of the second call reads the first call's weights
    convs = [n for n in graph if n.kind == "conv"]
    assert [n.group for n in convs] == [("encoder",)] * 2 + [("encoder#2",)] * 2
    assert [n.params for n in convs] == [n_params(model.encoder.conv1),
                                         n_params(model.encoder.conv2), 0, 0]


def test_onnx_local_function_called_twice_is_two_calls():
    """A model-local function applied to two inputs with the same weights: two groups,
    marked as calls of one function; the weights (8·8 + 8 numbers, by hand) once."""
    fn = helper.make_function(
        "local", "Encoder", ["x", "w", "b"], ["y"],
        [helper.make_node("MatMul", ["x", "w"], ["h"]),
         helper.make_node("Add", ["h", "b"], ["hb"]),
         helper.make_node("Relu", ["hb"], ["y"])],
        [helper.make_opsetid("", 17)])
    w = numpy_helper.from_array(__import__("numpy").ones((8, 8), "float32"), "w")
    b = numpy_helper.from_array(__import__("numpy").ones((8,), "float32"), "b")
    nodes = [helper.make_node("Encoder", ["a", "w", "b"], ["za"], domain="local", name="enc_a"),
             helper.make_node("Encoder", ["b_in", "w", "b"], ["zb"], domain="local",
                              name="enc_b"),
             helper.make_node("Sub", ["za", "zb"], ["d"], name="diff")]
    vi = [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 8]) for n in ("a", "b_in")]
    out = [helper.make_tensor_value_info("d", TensorProto.FLOAT, [1, 8])]
    model = helper.make_model(helper.make_graph(nodes, "twice", vi, out, [w, b]),
                              functions=[fn], opset_imports=[helper.make_opsetid("", 17),
                                                             helper.make_opsetid("local", 1)])
    graph = netdraw.load(model)
    assert graph.total_params == 8 * 8 + 8
    calls = sorted((g.call, g.calls, g.shared_with) for g in graph.groups.values()
                   if g.class_name == "Encoder")
    assert calls == [(1, 2, ()), (2, 2, ("enc_a",))]
    v = view(graph, depth=1)
    # each call folds to one dense layer (its bias add merged in), still marked as a call
    layers = [n for n in v if n.kind == "dense"]
    assert [n.params for n in layers] == [72, 0]
    assert [(n.attrs["call"], n.attrs["calls"]) for n in layers] == [(1, 2), (2, 2)]
    assert layers[1].attrs["shared_with"] == layers[0].id
    assert [n.kind for n in v if n.name == "diff"] == ["subtract"]


class _TiedRefiner(torch.nn.Module):
    """One block applied three times in a row (weight tying), against three blocks."""

    def __init__(self, tied: bool) -> None:
        super().__init__()
        make = lambda: torch.nn.Sequential(  # noqa: E731
            torch.nn.Linear(8, 8), torch.nn.ReLU(), torch.nn.Linear(8, 8))
        self.tied = tied
        self.blocks = torch.nn.ModuleList([make()] if tied else [make() for _ in range(3)])

    def forward(self, x):
        for i in range(3):
            x = self.blocks[0 if self.tied else i](x)
        return x


def test_calls_of_one_module_never_roll():
    """Three calls of one block feeding each other are three blocks, not "×3" (which says
    three different layers); three different blocks do roll (the control)."""
    tied = netdraw.load(_TiedRefiner(True), input_shape=(1, 8))
    v = view(tied, depth=1)
    assert not [n for n in v if n.attrs.get("repeat")]
    blocks = [n for n in v if n.kind == "block"]
    assert [(n.attrs["call"], n.attrs["calls"]) for n in blocks] == [(1, 3), (2, 3), (3, 3)]
    assert [n.params for n in blocks] == [2 * (8 * 8 + 8), 0, 0]
    page = page_model(netdraw.render(tied, "html", depth=1))
    chains = [item[2] for g in page["groups"] for item in g["items"] if item[0] == 1]
    assert chains and not any(chains)  # the page never rolls them either
    untied = netdraw.load(_TiedRefiner(False), input_shape=(1, 8))
    assert [n.attrs.get("repeat") for n in view(untied, depth=1)
            if n.attrs.get("repeat")] == [3]


def test_keras_siamese_is_one_block_per_call(tmp_path):
    require_module("keras")
    model = R.keras_siamese()
    encoder = model.get_layer("encoder")
    for source in (model, _saved(model, tmp_path / "siamese.keras")):
        graph = netdraw.load(source)
        assert graph.total_params == model.count_params()
        v = view(graph, depth=1)
        first, second = _encoder_blocks(v)
        assert first.params == encoder.count_params() and second.params == 0
        assert (second.attrs["call"], second.attrs["calls"]) == (2, 2)
        assert [n.kind for n in v if n.name == "diff"] == ["subtract"]
        boxes = dot_boxes(netdraw.render(graph, "dot", depth=1))
        assert [b[1] for b in boxes if b[0] == "encoder"] == [
            "Functional · shared, call 1 of 2", "Functional · shared, call 2 of 2"]


def _saved(model, path: Path) -> Path:
    model.save(str(path))
    return path


# -- 2. every operator keeps its kind and symbol --------------------------------------

#: The operators Arithmetic.forward writes, in order (a hand count): a - b, b.abs() + 1.0,
#: a / (…), torch.maximum, torch.minimum, high * low, then the matrix product.
ARITHMETIC = ["subtract", "add", "divide", "maximum", "minimum", "multiply", "matmul"]
OPERATOR_KINDS = ("add", "subtract", "multiply", "divide", "maximum", "minimum", "average",
                  "matmul")


def _operators(graph: Graph) -> list[str]:
    return [n.kind for n in graph if n.kind in OPERATOR_KINDS]


@pytest.fixture(scope="module")
def arithmetic():
    model = R.Arithmetic().eval()
    return model, netdraw.load(model, example_input=R.Arithmetic.example())


def test_arithmetic_kinds_live_export_and_onnx(arithmetic, tmp_path):
    model, graph = arithmetic
    assert _operators(graph) == ARITHMETIC
    assert _operators(netdraw.load(torch.export.export(model, (R.Arithmetic.example(),)))) \
        == ARITHMETIC
    for dynamo in (True, False):
        path = export_onnx(model, (R.Arithmetic.example(),), tmp_path / f"a{dynamo}.onnx",
                           dynamo)
        assert _operators(netdraw.load(path)) == ARITHMETIC, dynamo


def test_arithmetic_symbols_in_every_style(arithmetic):
    _, graph = arithmetic
    dot = netdraw.render(graph, "dot", full=True)
    dot_layout(dot)
    symbols = {b[0]: b[1] for b in dot_boxes(dot) if len(b) > 1}
    assert (symbols["sub"], symbols["div"], symbols["maximum"], symbols["minimum"],
            symbols["mul"]) == ("⊖", "⊘", "max", "min", "⊗")
    assert symbols["add"] == "⊕"  # the one real addition: b.abs() + 1.0

    tex = netdraw.render(graph, "tex", style="tikz", full=True)
    balls = [symbol for colour, symbol in tikz_balls(tex)]
    legend = tikz_texts(tex, "legend")
    for symbol, name in (("$-$", "Subtraction"), ("$/$", "Division"),
                         (r"{\fontsize{5}{6}\selectfont\textsf{max}}", "Maximum"),
                         (r"{\fontsize{5}{6}\selectfont\textsf{min}}", "Minimum"),
                         (r"$\times$", "Multiplication")):
        assert balls.count(symbol) == 2, symbol  # the ball and its legend sample
        assert name in legend
    assert "Matrix product" in legend

    strokes = {"subtract": 1, "divide": 1, "multiply": 2, "maximum": 0, "minimum": 0}
    for style in STYLES:
        root = svg_root(netdraw.render(graph, "svg", style=style, full=True))
        merges = {kind: (n, text) for kind, n, text in svg_merges(root)}
        for kind, n in strokes.items():
            if kind in merges:  # a style draws only merges of two drawn inputs
                assert merges[kind][0] == n, (style, kind)
        assert merges.get("maximum", (0, "max"))[1] == "max"
        assert set(merges) >= {"subtract", "divide", "maximum", "minimum", "multiply"}, style
        texts = svg_texts(root)
        for name in ("Subtraction", "Division", "Maximum", "Minimum", "Multiplication"):
            assert name in texts, (style, name)

    rows = summary.table(view(graph, full=True)).splitlines()
    kinds = [re.split(r"\s{2,}", r)[1] for r in rows[2:-2]]
    names = {kind_name(k) for k in OPERATOR_KINDS}  # the summary names kinds as legends do
    assert [k for k in kinds if k in names] == [kind_name(k) for k in ARITHMETIC]


def test_keras_merge_layers_keep_their_kind(tmp_path):
    require_module("keras")
    model = R.keras_arithmetic()
    expected = {"sub": "subtract", "avg": "average", "hi": "maximum", "lo": "minimum",
                "prod": "multiply", "divide": "divide", "add": "add"}
    for source in (model, _saved(model, tmp_path / "arith.keras")):
        graph = netdraw.load(source)
        # keras.ops.add and keras.ops.divide are named by Keras' session-wide counter
        # ("add", or "add_3" after other tests in the same worker built some)
        plain = {re.sub(r"_\d+$", "", n.name): n.kind for n in graph}
        assert {name: kind for name, kind in plain.items() if name in expected} == expected
        boxes = {re.sub(r"_\d+$", "", b[0]): b[1]
                 for b in dot_boxes(netdraw.render(graph, "dot", full=True))}
        assert boxes["sub"] == "⊖ Subtract" and boxes["avg"] == "avg Average"
        assert boxes["divide"] == "⊘ Divide" and boxes["add"] == "⊕ Add"


@pytest.mark.parametrize("source", ["live", "dynamo", "legacy"])
def test_attention_gates_multiply_the_skips(source, tmp_path):
    """Each attention gate adds its two projections (⊕) and multiplies the skip features
    by the sigmoid map (⊗): by hand, two gates give [add, multiply] twice, nothing else."""
    model = R.AttentionGateUNet().eval()
    x = R.AttentionGateUNet.example()
    if source == "live":
        graph = netdraw.load(model, example_input=x)
    else:
        graph = netdraw.load(export_onnx(model, (x,), tmp_path / "agu.onnx",
                                         source == "dynamo"))
    assert _operators(graph) == ["add", "multiply"] * 2
    assert graph.total_params == n_params(model)
    gates = [n for n in graph if n.kind == "multiply"]
    assert [n.group[0].split("#")[0] for n in gates] == ["gate2", "gate1"]
    # the gate's output is the skip's shape: a map of the skip's channels
    assert [node_dims(graph, n).text() for n in gates] == ["16@16×16", "8@32×32"]
    dot = netdraw.render(graph, "dot", expand=["gate2", "gate1"])
    boxes = dot_boxes(dot)
    assert sum(1 for b in boxes if len(b) > 1 and b[1].startswith("⊗")) == 2
    assert sum(1 for b in boxes if len(b) > 1 and b[1].startswith("⊕")) == 2
    tex = netdraw.render(graph, "tex", style="tikz", expand=["gate2", "gate1"])
    balls = [symbol for _, symbol in tikz_balls(tex)]
    assert balls.count(r"$\times$") == 3 and balls.count("$+$") == 3  # 2 + legend each


def test_bias_adds_still_fold_and_masks_do_not():
    """ONNX spells Linear as MatMul + Add: the add folds into a dense layer (its numbers
    the bias, one per unit). A constant added to a product of two activations stays."""
    import numpy as np

    w = numpy_helper.from_array(np.ones((8, 4), np.float32), "fc.weight")
    bias = numpy_helper.from_array(np.ones((4,), np.float32), "fc.bias")
    mask = numpy_helper.from_array(np.zeros((1, 6, 6), np.float32), "mask")
    nodes = [helper.make_node("MatMul", ["x", "fc.weight"], ["h"], name="/fc/MatMul"),
             helper.make_node("Add", ["h", "fc.bias"], ["y"], name="/fc/Add"),
             helper.make_node("Transpose", ["y"], ["yt"], perm=[0, 2, 1], name="/t"),
             helper.make_node("MatMul", ["y", "yt"], ["s"], name="/scores"),
             helper.make_node("Add", ["s", "mask"], ["m"], name="/mask"),
             helper.make_node("Softmax", ["m"], ["p"], axis=-1, name="/softmax")]
    model = helper.make_model(helper.make_graph(
        nodes, "attn", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 6, 8])],
        [helper.make_tensor_value_info("p", TensorProto.FLOAT, [1, 6, 6])],
        [w, bias, mask]), opset_imports=[helper.make_opsetid("", 17)])
    v = view(netdraw.load(model))
    kinds = [n.kind for n in v if n.kind not in ("input", "output")]
    assert kinds[:1] == ["dense"] and v.nodes["/fc/MatMul"].params == 8 * 4 + 4
    scores = next(n for n in v if n.id == "/scores")
    assert scores.kind == "matmul" and not scores.attrs.get("folded")
    assert "softmax" in kinds


# -- 3. channels-last tensors ----------------------------------------------------------


def _dims_text(graph: Graph, name: str) -> str:
    return node_dims(graph, next(n for n in graph if n.name == name)).text()


def test_convnext_block_pointwise_linears_show_their_channels():
    model = R.ConvNeXtNet().eval()
    x = R.ConvNeXtNet.example()
    graph = netdraw.load(model, example_input=x)
    captured = {}
    hooks = [getattr(model.block, n).register_forward_hook(
        lambda m, i, o, n=n: captured.__setitem__(n, tuple(o.shape)))
        for n in ("pwconv1", "pwconv2", "dwconv")]
    with torch.no_grad():
        model(x)
    for h in hooks:
        h.remove()
    # the framework: pwconv1 is Linear(24, 96) on (1, 8, 8, 24), its output (1, 8, 8, 96)
    assert captured["pwconv1"] == (1, 8, 8, model.block.pwconv1.out_features) == (1, 8, 8, 96)
    n, h, w, c = captured["pwconv1"]
    assert _dims_text(graph, "block.pwconv1") == f"{c}@{h}×{w}" == "96@8×8"
    assert _dims_text(graph, "block.pwconv2") == "24@8×8"
    n, c, h, w = captured["dwconv"]  # the depthwise conv is channels-first
    assert _dims_text(graph, "block.dwconv") == f"{c}@{h}×{w}"
    node = next(n for n in graph if n.name == "block.pwconv1")
    assert node.outputs[0].layout == "NHWC"
    # the outputs say it: the summary's shape, the figures' labels
    table = summary.table(view(graph, full=True))
    assert re.search(r"block\.pwconv1\s+Fully connected\s+1×8×8×96 NHWC\s", table)
    lenet = svg_texts(svg_root(netdraw.render(graph, "svg", style="lenet", full=True)))
    assert "96@8×8" in lenet and "8@8×96" not in lenet
    tex = netdraw.render(graph, "tex", style="tikz", full=True)
    labels = tikz_texts(tex, "label")
    assert "96" in labels and "8$\\times$96" not in labels


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
def test_convnext_block_onnx_transposes(dynamo, tmp_path):
    model = R.ConvNeXtNet().eval()
    path = export_onnx(model, (R.ConvNeXtNet.example(),), tmp_path / "cx.onnx", dynamo)
    graph = netdraw.load(path)
    dense = [n for n in graph if n.kind == "dense" and n.outputs[0].shape
             and len(n.outputs[0].shape) == 4]
    assert [node_dims(graph, n).text() for n in dense] == ["96@8×8", "24@8×8"]
    v = view(graph, depth=10, roll=False)
    linears = [n for n in v if n.kind == "dense" and n.name.startswith("block.pwconv")]
    # the bias adds folded in: torch's own counts of the two Linear layers
    assert [n.params for n in linears] == [n_params(model.block.pwconv1),
                                           n_params(model.block.pwconv2)]


def test_swin_like_blocks_on_bhwc():
    model = R.SwinBlockNet().eval()
    graph = netdraw.load(model, example_input=R.SwinBlockNet.example())
    assert _dims_text(graph, "block1.fc1") == "24@8×8"
    assert _dims_text(graph, "block1.add") == "12@8×8"
    assert _dims_text(graph, "merge") == "24@4×4"  # patch merging: 4C -> 2C on 4×4
    assert _dims_text(graph, "block2.fc2") == "24@4×4"
    # a JSON round trip keeps the layouts; a file without them still loads
    again = Graph.from_json(graph.to_json())
    assert _dims_text(again, "block1.fc1") == "24@8×8"
    data = json.loads(graph.to_json())
    for node in data["nodes"]:
        for spec in node["inputs"] + node["outputs"]:
            spec.pop("layout", None)
    for edge in data["edges"]:
        edge["tensor"].pop("layout", None)
    old = netdraw.load(_write(data))
    assert _dims_text(old, "block1.fc1") == "24@8×8"  # inferred again on load


def _write(data: dict) -> Path:
    import tempfile

    path = Path(tempfile.mkdtemp()) / "old.json"
    path.write_text(json.dumps(data))
    return path


def test_hf_swin_and_convnext_from_small_configs():
    """Real models from transformers (random weights, small configs): every 4-D tensor
    drawn with the channels and the spatial size the framework's own channels-first
    ``reshaped_hidden_states`` give for its stage."""
    require_module("transformers")
    from transformers import AutoConfig, AutoModel

    x = torch.randn(1, 3, 32, 32)
    swin = AutoModel.from_config(AutoConfig.for_model(
        "swin", image_size=32, patch_size=4, embed_dim=16, depths=[1, 1], num_heads=[1, 2],
        window_size=4)).eval()
    with torch.no_grad():
        stages = swin(x, output_hidden_states=True).reshaped_hidden_states
    expected = {(h, w, c) for c, h, w in (tuple(s.shape[1:]) for s in stages)}
    graph = netdraw.load(swin, example_input=(x,))
    seen = set()
    for n in graph:
        spec = n.outputs[0] if n.outputs else None
        if spec is None or spec.shape is None or len(spec.shape) != 4 or n.kind == "input":
            continue
        dims = node_dims(graph, n)
        if (spec.shape[1], spec.shape[2], spec.shape[3]) in expected:  # (B, H, W, C)
            assert spec.layout == "NHWC", n.name
            assert (dims.h, dims.w, dims.c) == tuple(spec.shape[1:]), n.name
            seen.add(tuple(spec.shape[1:]))
    assert seen  # the blocks' windows were read channels-last
    assert sum(p.numel() for p in swin.parameters()) == graph.total_params + \
        graph.meta.get("unused_params", 0)

    convnext = AutoModel.from_config(AutoConfig.for_model(
        "convnext", num_channels=3, num_stages=2, hidden_sizes=[8, 16], depths=[1, 1],
        image_size=32)).eval()
    graph = netdraw.load(convnext, example_input=(x,))
    for stage, hidden in enumerate(convnext.config.hidden_sizes):
        layer = convnext.encoder.stages[stage].layers[0]
        name = f"encoder.stages.{stage}.layers.0.pwconv1"
        node = next(n for n in graph if n.name == name)
        assert node_dims(graph, node).c == layer.pwconv1.out_features == 4 * hidden
        assert node.outputs[0].layout == "NHWC"


def test_keras_conv_is_channels_last():
    """Keras' Conv2D output (None, 56, 56, 96) is C = 96 on 56×56 (Keras' own shape)."""
    keras = require_module("keras")
    inputs = keras.Input((56, 56, 3))
    x = keras.layers.Conv2D(96, 3, padding="same", name="conv")(inputs)
    x = keras.layers.LayerNormalization(name="ln")(x)
    x = keras.layers.Dense(384, name="pw")(x)
    model = keras.Model(inputs, x)
    graph = netdraw.load(model)
    assert tuple(model.get_layer("conv").output.shape) == (None, 56, 56, 96)
    assert _dims_text(graph, "conv") == "96@56×56"
    assert _dims_text(graph, "pw") == "384@56×56"
    assert graph.nodes["conv"].outputs[0].layout == "NHWC"


# -- 7. a causal mask is no parameter -------------------------------------------------


def _folded_copies(path: Path) -> int:
    """The numbers of the weights a legacy export computed and stored under names of its
    own (``onnx::MatMul_1543``: GPT-2's tied output projection, transposed)."""
    model = onnx.load(str(path), load_external_data=False)
    return sum(math.prod(i.dims) for i in model.graph.initializer
               if i.name.startswith("onnx::") and i.data_type == TensorProto.FLOAT)


def _listed_parameters(path: Path) -> int:
    """The numbers of the initializers the file itself lists as parameters (the dynamo
    exporter's program signature) or names after a module (the legacy exporter)."""
    model = onnx.load(str(path), load_external_data=False)
    meta = {p.key: p.value for p in model.graph.metadata_props}
    sig = meta.get("pkg.torch.export.ExportedProgram.graph_signature")
    floats = [i for i in model.graph.initializer if i.data_type == TensorProto.FLOAT]
    if sig is not None:
        listed = set(re.findall(r"PARAMETER target='([^']*)'", sig))
        return sum(math.prod(i.dims) for i in floats if i.name in listed)
    return sum(math.prod(i.dims) for i in floats)


@pytest.mark.parametrize("dynamo", [True, False], ids=["dynamo", "legacy"])
def test_gpt2_onnx_causal_mask_is_no_parameter(dynamo, tmp_path):
    require_module("transformers")
    from netdraw.zoo import hf_models

    path = tmp_path / "gpt2.onnx"
    hf_models.export_onnx("gpt2", path, dynamo=dynamo)
    graph = netdraw.load(path)
    if dynamo:
        assert graph.total_params == _listed_parameters(path)
    else:  # torch's own count, plus the weight copies the exporter folded (onnx::…)
        model = hf_models.MODELS["gpt2"].factory()
        assert graph.total_params == n_params(model) + _folded_copies(path)
    full = view(graph, full=True)
    layers = {}
    for n in full:
        found = re.search(r"\.h\.(\d+)\.attn\.", n.name)
        if found and n.kind not in ("reshape", "transpose", "slice"):
            layers.setdefault(int(found.group(1)), []).append((n.kind, n.params > 0))
    assert len(layers) == 6
    assert all(layers[k] == layers[0] for k in layers)  # layer 0 like the others
    assert ("matmul", False) in layers[0] and ("softmax", False) in layers[0]
    assert not [n for n in full if n.params == 16 * 16]  # no mask counted as weights
    v = view(graph)
    assert not [n for n in v if n.kind == "dense" and any(
        f.get("kind") == "softmax" for f in n.attrs.get("folded", []))]


def test_shapes_say_channels_last_with_and_without_the_batch_axis():
    """A label writes a channels-last tensor's layout beside its dims; a paper's table
    (batch axis left out) drops the N from the layout too. Hand-written expectations."""
    from netdraw.describe import shape_text
    from netdraw.ir import TensorSpec

    nhwc = TensorSpec((1, 56, 56, 96), layout="NHWC")
    assert shape_text(nhwc) == "1×56×56×96 NHWC"
    assert shape_text(nhwc, batch=False) == "56×56×96 HWC"
    nchw = TensorSpec((1, 64, 56, 56), layout="NCHW")
    assert shape_text(nchw) == "1×64×56×56"
    assert shape_text(nchw, batch=False) == "64×56×56"
    assert shape_text(TensorSpec((1, 16, 64), layout="NLC"), batch=False) == "16×64"
