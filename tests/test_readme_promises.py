"""What the README promises, the tool does (issue 18): each item checked against an oracle
outside netdraw (a hand count, the framework's own numbers, the output's real consumer).

The ONNX-only installation is tested in ``test_onnx_only_install.py``, Keras' ResNet50 MACs
in ``test_keras_applications.py`` and every README example in ``test_readme_examples.py``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import onnx_models as M
import pytest
from conftest import ROOT, assert_one_line_error, cli_env, run_cli

import netdraw
from netdraw.api import view
from netdraw.passes import describe_view, make_view, node_macs, total_macs

SVG = "{http://www.w3.org/2000/svg}"
#: conv1 (8×32×32 outputs × 3·3·3), conv2 (stride 2 after a 2×2 pool: 16×8×8 × 8·3·3),
#: fc (10 × 16): counted by hand.
SEQUENTIAL_MACS = {"conv1": 8 * 32 * 32 * 27, "conv2": 16 * 8 * 8 * 72, "fc": 10 * 16}


@pytest.fixture(scope="module")
def convnet_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("promises") / "convnet.onnx"
    path.write_bytes(M.sequential_convnet("batch").SerializeToString())
    return path


# -- 1. MACs per example; a symbolic length stays a variable ------------------------------


def _with_batch(graph: netdraw.Graph, batch) -> netdraw.Graph:
    """The graph with every tensor's batch dim replaced (Keras' is None)."""
    def spec(t: netdraw.TensorSpec) -> netdraw.TensorSpec:
        return netdraw.TensorSpec((batch, *t.shape[1:]) if t.shape else t.shape, t.dtype)

    out = graph.copy()
    for node in out.nodes.values():
        node.attrs.pop("macs", None)
        node.inputs = [spec(t) for t in node.inputs]
        node.outputs = [spec(t) for t in node.outputs]
    return out


def test_unknown_batch_never_matters_for_macs():
    graph = netdraw.load(M.sequential_convnet())
    for batch in (1, "batch", None):  # Keras' batch is None
        other = _with_batch(graph, batch)
        assert {n: node_macs(other.nodes[n]) for n in SEQUENTIAL_MACS} == SEQUENTIAL_MACS
        assert make_view(other).meta["view"]["macs"] == sum(SEQUENTIAL_MACS.values())


def test_keras_sequence_model_macs_are_formulas_in_the_length(tmp_path):
    import keras

    from netdraw.passes.macs import Macs, format_macs

    tokens = keras.Input((None,), dtype="int32")
    x = keras.layers.Embedding(1000, 64)(tokens)
    x = keras.layers.Dense(128, activation="relu", name="up")(x)
    x = keras.layers.LSTM(32, name="rnn")(x)
    out = keras.layers.Dense(10, name="head")(x)
    model = keras.Model(tokens, out)
    model.save(tmp_path / "seq.keras")
    rnn_weights = model.get_layer("rnn").count_params()
    for graph in (netdraw.load(model), netdraw.load(tmp_path / "seq.keras")):
        macs = {n.name: n.attrs.get("macs") for n in graph if n.kind != "output"}
        # Per token: 64 inputs × 128 units; the LSTM multiplies every weight once a step.
        assert macs["up"] == "8192*d1"
        assert macs["rnn"] == f"{rnn_weights}*d1"
        assert macs["head"] == 32 * 10
        total = Macs.parse(total_macs(graph))
        assert total is not None and total.terms == {("d1",): 8192 + rnn_weights, (): 320}
    result = run_cli("summary", str(tmp_path / "seq.keras"), "--full", check=True)
    total_line = result.stdout.strip().splitlines()[-1]
    assert total_line.endswith(format_macs(f"{8192 + rnn_weights}*d1 + 320"))
    assert "·d1" in total_line


def test_symbolic_sequence_in_onnx_gives_a_formula_with_its_name():
    from onnx import TensorProto, helper

    attn = helper.make_node("MatMul", ["q", "k"], ["s"], name="scores")
    model = helper.make_model(helper.make_graph(
        [attn], "attn",
        [helper.make_tensor_value_info("q", TensorProto.FLOAT, ["batch", "seq", 16]),
         helper.make_tensor_value_info("k", TensorProto.FLOAT, ["batch", 16, "seq"])],
        [helper.make_tensor_value_info("s", TensorProto.FLOAT, ["batch", "seq", "seq"])]),
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    from netdraw.passes.macs import format_macs

    node = next(n for n in netdraw.load(model) if n.name == "scores")
    assert node.attrs["macs"] == "16*seq**2"  # seq·seq outputs × 16 shared
    assert eval(node.attrs["macs"], {"seq": 10}) == 10 * 10 * 16  # a Python expression
    assert format_macs(node.attrs["macs"]) == "16·seq²"


# -- 2. KERAS_BACKEND unset: the installed backend is chosen and named --------------------


def _keras_env(tmp_path: Path, configured: str | None) -> dict[str, str]:
    env = cli_env()
    env.pop("KERAS_BACKEND", None)
    home = tmp_path / "keras-home"
    home.mkdir(exist_ok=True)
    if configured:  # what Keras writes itself on its first import
        (home / "keras.json").write_text(json.dumps({"backend": configured}))
    env["KERAS_HOME"] = str(home)
    return env


def test_factory_keras_model_without_keras_backend(tmp_path):
    (tmp_path / "kmodels.py").write_text(textwrap.dedent("""\
        import keras

        def small():
            inputs = keras.Input((8,))
            return keras.Model(inputs, keras.layers.Dense(4, name="fc")(inputs))
        """))
    # keras.json names tensorflow (Keras' default), which is not installed here.
    env = _keras_env(tmp_path, "tensorflow")
    result = run_cli("kmodels:small", "-o", "k.json", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    assert "KERAS_BACKEND is not set; running Keras on torch" in result.stderr
    graph = netdraw.Graph.from_json((tmp_path / "k.json").read_text())
    assert graph.nodes["fc"].params == 8 * 4 + 4
    # A torch factory says nothing about Keras.
    (tmp_path / "tmodels.py").write_text("import torch\n\ndef net():\n"
                                         "    return torch.nn.Linear(8, 4)\n")
    result = run_cli("tmodels:net", "--input-shape", "1,8", "-o", "t.json", cwd=tmp_path, env=env)
    assert result.returncode == 0 and "KERAS" not in result.stderr, result.stderr


def test_via_keras_without_keras_backend(tmp_path):
    import keras

    inputs = keras.Input((8,))
    keras.Model(inputs, keras.layers.Dense(4, name="fc")(inputs)).save(tmp_path / "m.keras")
    code = ("import netdraw; g = netdraw.load('m.keras', via_keras=True); "
            "print(g.nodes['fc'].params)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=tmp_path, env=_keras_env(tmp_path, None), timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "36"
    assert "running Keras on torch" in result.stderr


def test_keras_import_errors_are_netdraw_errors(monkeypatch):
    from netdraw.importers import keras_backend

    monkeypatch.setattr(keras_backend, "_installed", lambda module: False)
    with pytest.raises(netdraw.NetdrawError, match=r"needs keras.*pip install"):
        keras_backend.import_keras("loading a Keras file through Keras (via_keras=True)")
    monkeypatch.setattr(keras_backend, "_installed", lambda module: module == "keras")
    monkeypatch.delenv("KERAS_BACKEND", raising=False)
    monkeypatch.delitem(sys.modules, "keras", raising=False)
    assert keras_backend.choose_backend() is None  # nothing installed to choose


# -- 4. render: str for text formats, bytes for binary ones, whatever the style -----------


def test_render_types_for_every_format_and_style():
    from netdraw.backends import BACKENDS

    binary = {"png", "pdf"}  # what a file of that format is; every other format is text
    graph = netdraw.load(M.sequential_convnet())
    checked = set()
    for spec in BACKENDS:
        style = (spec.aliases or (spec.name,))[0]
        for fmt in spec.formats:
            data = netdraw.render(graph, fmt, style=style)
            checked.add((style, fmt))
            if fmt in binary:
                assert isinstance(data, bytes), (style, fmt)
                magic = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}[fmt]
                assert data.startswith(magic), (style, fmt)
            else:
                assert isinstance(data, str), (style, fmt, type(data))
                if fmt == "svg":
                    ET.fromstring(data)
                elif fmt == "json":
                    json.loads(data)
    assert {("graph", "svg"), ("alexnet", "svg"), ("tikz", "pdf"), ("graph", "png")} <= checked


# -- 5. load takes what the command line takes ---------------------------------------------


def test_load_zoo_name_and_factory(tmp_path, monkeypatch):
    from netdraw import zoo

    graph = netdraw.load("zoo:resnet18")
    module = zoo.build("resnet18")
    assert graph.total_params == sum(p.numel() for p in module.parameters())
    assert graph.nodes[graph.inputs[0]].outputs[0].shape == (1, 3, 224, 224)
    (tmp_path / "factories.py").write_text(textwrap.dedent("""\
        import torch

        def mlp():
            return torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.ReLU(),
                                       torch.nn.Linear(5, 2))
        """))
    monkeypatch.chdir(tmp_path)
    graph = netdraw.load("factories:mlp", input_shape=(3, 6))
    assert graph.nodes[graph.inputs[0]].outputs[0].shape == (3, 6)
    assert graph.total_params == 6 * 5 + 5 + 5 * 2 + 2
    assert graph.nodes["0"].attrs["macs"] == 6 * 5  # per example
    small = netdraw.load("zoo:mlp", input_shape=(2, 1, 28, 28))
    assert small.nodes[small.inputs[0]].outputs[0].shape == (2, 1, 28, 28)
    with pytest.raises(netdraw.NetdrawError, match="apply to Python models"):
        netdraw.load(str(tmp_path / "factories.py"), input_shape=(1, 6))
    with pytest.raises(netdraw.NetdrawError, match="no zoo model 'nope'"):
        netdraw.load("zoo:nope")


# -- 6. MACs on a loaded graph and in -o graph.json ---------------------------------------


def test_loaded_graph_and_json_carry_macs(convnet_file, tmp_path):
    graph = netdraw.load(convnet_file)
    assert {n: graph.nodes[n].attrs["macs"] for n in SEQUENTIAL_MACS} == SEQUENTIAL_MACS
    run_cli(str(convnet_file), "-o", str(tmp_path / "g.json"), check=True)
    data = json.loads((tmp_path / "g.json").read_text())
    written = {n["id"]: n["attrs"].get("macs") for n in data["nodes"]}
    assert {n: written[n] for n in SEQUENTIAL_MACS} == SEQUENTIAL_MACS
    assert "macs" not in next(n for n in data["nodes"] if n["id"] == "relu1")["attrs"]


# -- 7. --expand opens a rolled run inside the group ---------------------------------------


def test_expand_opens_the_rolled_run_inside():
    from netdraw import zoo

    graph = zoo.load("onnx-resnet")
    closed = view(graph, depth=2)
    assert "layer1.0–layer1.1" in {n.name for n in closed}  # rolled when not expanded
    opened = view(graph, depth=1, expand=["layer1"])
    names = {n.name for n in opened}
    assert not any(n.attrs.get("repeat") for n in opened)
    for block in ("layer1.0", "layer1.1"):  # both blocks' layers show
        assert {f"{block}.conv1", f"{block}.conv2"} <= names
    assert "layer2" in names  # not expanded: one block


# -- 8. --format against the output's suffix ----------------------------------------------


def test_format_contradicting_the_suffix_is_refused(convnet_file, tmp_path):
    out = tmp_path / "out.svg"
    result = run_cli(str(convnet_file), "-o", str(out), "--format", "dot")
    assert_one_line_error(result, "--format dot contradicts", ".svg")
    assert not out.exists()
    run_cli(str(convnet_file), "-o", str(tmp_path / "same.gv"), "--format", "dot", check=True)
    run_cli(str(convnet_file), "-o", str(tmp_path / "plain"), "--format", "svg", check=True)
    ET.parse(tmp_path / "plain")  # no suffix: --format chose SVG


# -- 9. a bare nn.Parameter in forward is a source node ------------------------------------


def test_bare_parameter_added_in_forward_is_a_source_node():
    import torch
    from torch import nn

    class Tokens(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.proj = nn.Linear(8, 16)
            self.pos = nn.Parameter(torch.zeros(1, 5, 16))
            self.cls = nn.Parameter(torch.zeros(1, 1, 16))
            self.w = nn.Parameter(torch.zeros(16, 4))
            self.b = nn.Parameter(torch.zeros(4))

        def forward(self, x):
            x = self.proj(x) + self.pos
            x = torch.cat([self.cls, x], dim=1)
            return x @ self.w + self.b  # a hand-written linear layer: w and b are weights

    graph = netdraw.load(Tokens(), input_shape=(1, 5, 8))
    sources = {n.name: n for n in graph if n.op_type == "Parameter"}
    assert set(sources) == {"pos", "cls"}
    assert sources["pos"].params == 5 * 16 and sources["pos"].outputs[0].shape == (1, 5, 16)
    assert sources["cls"].params == 16 and sources["cls"].kind == "constant"
    add = next(n for n in graph if n.kind == "add" and n.inputs[0].shape == (1, 5, 16))
    assert add.params == 0 and {e.src for e in graph.edges if e.dst == add.id} >= {"pos"}
    assert graph.total_params == 8 * 16 + 16 + 80 + 16 + 64 + 4
    full = view(graph, full=True)
    assert {"pos", "cls"} <= {n.name for n in full}
    # The bias vector stays on its add, which the view merges into the matmul: one layer.
    layer = next(n for n in view(graph) if n.params == 16 * 4 + 4)
    assert layer.kind == "dense"


# -- 10. figure options: colours checked, --angle only for alexnet; plurals ---------------


def test_colours_are_checked(convnet_file, tmp_path):
    out = tmp_path / "fig.svg"
    result = run_cli(str(convnet_file), "-o", str(out), "--style", "alexnet",
                     "--colors", "conv=notacolour")
    assert_one_line_error(result, "'notacolour'", "#rgb", "#rrggbb", "colour names")
    assert not out.exists()
    run_cli(str(convnet_file), "-o", str(out), "--style", "alexnet", "--colors",
            "mono,conv=SteelBlue,dense=#f80", check=True)
    fills = {el.get("fill") for el in ET.parse(out).getroot().iter()}
    assert {"steelblue", "#f80"} <= fills


def test_figure_options_need_a_style_that_uses_them(convnet_file, tmp_path):
    out = tmp_path / "fig.svg"
    result = run_cli(str(convnet_file), "-o", str(out), "--angle", "30")
    assert_one_line_error(result, "--angle", "--style alexnet")
    result = run_cli(str(convnet_file), "-o", str(out), "--style", "lenet", "--angle", "30")
    assert_one_line_error(result, "--angle", "lenet")
    result = run_cli(str(convnet_file), "-o", str(out), "--scale", "linear")
    assert_one_line_error(result, "--scale", "graph style")
    assert not out.exists()
    run_cli(str(convnet_file), "-o", str(out), "--style", "alexnet", "--angle", "30",
            check=True)


def test_one_layer_folded_is_singular():
    from onnx import TensorProto, helper

    nodes = [helper.make_node("Conv", ["x", "w"], ["c"], name="conv", kernel_shape=[1, 1]),
             helper.make_node("Relu", ["c"], ["y"], name="relu")]
    model = helper.make_model(helper.make_graph(
        nodes, "one", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)],
        [helper.make_tensor("w", TensorProto.FLOAT, [2, 2, 1, 1], [0.0] * 4)]),
        opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    line = describe_view(view(netdraw.load(model)))
    assert "(1 layer folded)" in line, line
    assert "of 4 nodes" in line


def test_cli_module_and_python_agree_on_load(tmp_path):
    """The CLI loads through netdraw.load: the same zoo graph from both, byte for byte."""
    out = tmp_path / "mlp.json"
    subprocess.run([sys.executable, "-m", "netdraw", "zoo:mlp", "-o", str(out)], check=True,
                   env=cli_env(), cwd=ROOT, capture_output=True, timeout=300)
    assert out.read_text() == netdraw.render(netdraw.load("zoo:mlp"), "json")
