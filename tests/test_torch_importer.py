"""The PyTorch importer: live tracing, torch.export files, checkpoints, the CLI and the zoo."""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import assert_one_line_error, cli_env, dot_layout, require_module, run_cli

torch = require_module("torch")

import torch_models as TM  # noqa: E402

import netdraw  # noqa: E402
from netdraw import zoo  # noqa: E402
from netdraw.backends.dot import to_dot  # noqa: E402
from netdraw.cli import main  # noqa: E402
from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.ir import Graph  # noqa: E402
from netdraw.zoo import torch_models as zoo_torch  # noqa: E402

SVG = "{http://www.w3.org/2000/svg}"


def kinds(graph: Graph) -> collections.Counter:
    return collections.Counter(n.kind for n in graph)


def node(graph: Graph, name: str):
    found = [n for n in graph if n.name == name]
    assert found, f"no node named {name!r} in {[n.name for n in graph]}"
    return found[0]


def n_params(model) -> int:
    return sum(p.numel() for p in model.parameters())


def svg_texts(graph: Graph) -> str:
    root = ET.fromstring(dot_layout(to_dot(graph)))
    return " ".join(t.text or "" for t in root.iter(f"{SVG}text"))


def assert_well_formed(graph: Graph) -> None:
    """Every edge carries its producer's output shape; only inputs lack incoming edges."""
    preds = graph.predecessors()
    for n in graph:
        assert n.outputs and all(o.shape is not None for o in n.outputs), n
        if n.kind not in ("input", "constant"):
            assert preds[n.id], f"{n.name} has no incoming edge"
    for e in graph.edges:
        assert e.tensor in graph.nodes[e.src].outputs, (e, graph.nodes[e.src].outputs)


# -- the zoo ---------------------------------------------------------------------------

SMALL = {"alexnet": (1, 3, 64, 64), "vgg16": (1, 3, 32, 32), "resnet18": (1, 3, 64, 64),
         "resnet50": (1, 3, 64, 64), "unet": (1, 3, 64, 64), "mobilenetv2": (1, 3, 64, 64)}


@pytest.fixture(scope="module")
def zoo_graphs() -> dict[str, tuple[Graph, int]]:
    """Each torch zoo model traced once (small inputs for the big ones) with its param total."""
    out = {}
    for name, entry in zoo.ZOO.items():
        if entry.framework != "torch":
            continue
        model = entry.build()
        graph = netdraw.load(model, input_shape=SMALL.get(name, entry.input_shape),
                             input_dtype=entry.input_dtype, name=name)
        out[name] = (graph, n_params(model))
    return out


def test_zoo_lists_every_issue_model():
    torch_models = {n for n, e in zoo.ZOO.items() if e.framework == "torch"}
    assert torch_models >= {"lenet5", "alexnet", "vgg16", "resnet18", "resnet50", "unet",
                            "mobilenetv2", "mlp", "transformer"}
    for name in torch_models:
        assert zoo.ZOO[name].input_shape, name


EXPECTED = {  # name: (kind counts that must match, output shape)
    "lenet5": ({"conv": 2, "pool": 2, "dense": 3, "activation": 4, "flatten": 1}, (1, 10)),
    "alexnet": ({"conv": 5, "pool": 4, "dense": 3, "dropout": 2, "activation": 7}, (1, 1000)),
    "vgg16": ({"conv": 13, "pool": 6, "dense": 3, "activation": 15}, (1, 1000)),
    "resnet18": ({"conv": 20, "norm": 20, "add": 8, "dense": 1, "global_pool": 1}, (1, 1000)),
    "resnet50": ({"conv": 53, "norm": 53, "add": 16, "dense": 1, "global_pool": 1}, (1, 1000)),
    "unet": ({"conv": 19, "conv_transpose": 4, "concat": 4, "pool": 4, "norm": 18},
             (1, 2, 64, 64)),
    "mobilenetv2": ({"conv": 52, "norm": 52, "add": 10, "global_pool": 1, "dense": 1},
                    (1, 1000)),
    "mlp": ({"dense": 3, "flatten": 1, "activation": 2, "dropout": 2}, (1, 10)),
    "transformer": ({"attention": 2, "embedding": 1, "norm": 5, "dense": 5, "add": 5,
                     "constant": 1}, (1, 10)),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_zoo_model_kinds_shapes_and_params(zoo_graphs, name):
    graph, total = zoo_graphs[name]
    counts, out_shape = EXPECTED[name]
    assert {k: kinds(graph)[k] for k in counts} == counts
    assert graph.total_params == total
    assert [graph.nodes[o].outputs[0].shape for o in graph.outputs] == [out_shape]
    assert_well_formed(graph)
    graph.validate()
    assert Graph.from_json(graph.to_json()).to_json() == graph.to_json()


def test_resnet50_groups_and_attributes(zoo_graphs):
    graph, _ = zoo_graphs["resnet50"]
    conv = node(graph, "layer3.0.conv2")
    assert conv.group == ("layer3", "layer3.0")
    assert conv.attrs["kernel_size"] == [3, 3] and conv.attrs["stride"] == [2, 2]
    assert conv.attrs["in_channels"] == conv.attrs["out_channels"] == 256
    assert conv.params == 256 * 256 * 9
    assert conv.outputs[0].shape == (1, 256, 4, 4) and conv.outputs[0].dtype == "float32"
    down = node(graph, "layer3.0.downsample.0")
    assert down.group == ("layer3", "layer3.0", "layer3.0.downsample")
    block = graph.groups[("layer3", "layer3.0")]
    assert (block.class_name, block.label) == ("Bottleneck", "layer3.0")
    assert graph.groups[("layer3",)].class_name == "Sequential"
    add = node(graph, "layer3.0.add")
    assert add.group == ("layer3", "layer3.0")
    srcs = {graph.nodes[e.src].name for e in graph.edges if e.dst == add.id}
    assert srcs == {"layer3.0.bn3", "layer3.0.downsample.1"}  # the residual is visible
    assert node(graph, "fc").attrs["units"] == 1000
    assert node(graph, "bn1").attrs["num_features"] == 64
    assert node(graph, "relu").attrs["activation"] == "relu"


def test_mobilenet_depthwise_and_functional_pool(zoo_graphs):
    graph, _ = zoo_graphs["mobilenetv2"]
    dw = node(graph, "features.2.conv.1.0")
    assert dw.attrs["groups"] == dw.attrs["in_channels"] == 96
    pool = node(graph, "adaptive_avg_pool2d")
    assert pool.kind == "global_pool" and pool.outputs[0].shape == (1, 1280, 1, 1)


def test_unet_skip_concats(zoo_graphs):
    graph, _ = zoo_graphs["unet"]
    cat = node(graph, "up4.cat")
    assert cat.group == ("up4",) and cat.outputs[0].shape == (1, 64, 64, 64)
    srcs = sorted(graph.nodes[e.src].name for e in graph.edges if e.dst == cat.id)
    assert srcs == ["inc.block.5", "up4.up"]  # the encoder's output skips across
    pools = [n for n in graph if n.name == "pool"]
    assert len(pools) == 4 and all(p.attrs.get("shared_with") == pools[0].id
                                   for p in pools[1:])


def test_transformer_attention_and_embedding(zoo_graphs):
    graph, total = zoo_graphs["transformer"]
    attn = node(graph, "layers.1.self_attn")
    assert (attn.kind, attn.attrs["num_heads"], attn.attrs["embed_dim"]) == ("attention", 4, 128)
    assert attn.params == 4 * 128 * 128 + 4 * 128
    emb = node(graph, "embed")
    assert (emb.attrs["num_embeddings"], emb.attrs["embedding_dim"]) == (1000, 128)
    assert graph.nodes[graph.inputs[0]].outputs[0].dtype == "int64"
    pos = node(graph, "pos_embed")  # a bare nn.Parameter: a source node with its size
    assert (pos.kind, pos.params) == ("constant", 64 * 128)
    assert graph.total_params == total


def test_zoo_load_uses_default_shape_and_renders_through_dot():
    graph = zoo.load("lenet5")
    assert graph.name == "lenet5"
    assert graph.nodes[graph.inputs[0]].outputs[0].shape == (1, 1, 32, 32)
    texts = svg_texts(graph)
    assert "features · Sequential" in texts and "Conv2d · 5×5, 6" in texts
    assert "1×6×28×28 · 156 params" in texts


# -- tracing situations ----------------------------------------------------------------


def test_data_dependent_if_and_python_loop():
    model = TM.Branchy(steps=3)
    pos = netdraw.load(model, example_input=torch.ones(2, 8))
    neg = netdraw.load(model, example_input=-torch.ones(2, 8))
    assert "pos" in [n.name for n in pos] and "neg" not in [n.name for n in pos]
    assert "neg" in [n.name for n in neg] and "pos" not in [n.name for n in neg]
    assert [n.name for n in pos if n.kind == "dense"] == ["pos", *["block.0"] * 3]
    # the condition (sum, > 0) reaches no output, so it is not drawn
    assert not [n for n in pos if n.kind in ("reduce", "elementwise", "other")]
    # neg's weights were never used: on no node, named as such, and in the model's total
    assert sum(n.params for n in pos) == n_params(model) - 72
    assert pos.meta["unused_params"] == {"neg": 72} == {"neg": n_params(model.neg)}
    assert pos.total_params == n_params(model)
    blocks = [n for n in pos if n.name == "block.0"]
    # three calls of one Sequential: three groups, each a call of the same module
    assert [b.group for b in blocks] == [("block",), ("block#2",), ("block#3",)]
    assert [(pos.groups[b.group].call, pos.groups[b.group].calls) for b in blocks] == \
        [(1, 3), (2, 3), (3, 3)]
    assert blocks[0].params == 72
    assert blocks[1].params == 0 and blocks[1].attrs["shared_with"] == blocks[0].id


def test_dict_input_and_tuple_output():
    model = TM.DictIn()
    batch = {"image": torch.randn(2, 3, 8, 8), "meta": torch.randn(2, 5)}
    before = {k: v.clone() for k, v in batch.items()}
    graph = netdraw.load(model, example_input=(batch,))
    names = [graph.nodes[i].name for i in graph.inputs]
    assert names == ["batch['image']", "batch['meta']"]
    outs = [graph.nodes[o] for o in graph.outputs]
    assert [o.name for o in outs] == ["output[0]", "output[1]['image']", "output[1]['meta']"]
    assert all(o.outputs[0].shape == (2, 4) for o in outs)
    assert graph.total_params == n_params(model)
    assert all(torch.equal(batch[k], before[k]) for k in batch)  # inputs left as they were
    # keyword arguments work too
    kw = netdraw.load(model, example_input={"batch": batch})
    assert [kw.nodes[i].name for i in kw.inputs] == names


def test_module_called_twice_counts_params_once():
    model = TM.Twice()
    graph = netdraw.load(model, input_shape=(3, 6))
    calls = [n for n in graph if n.name == "fc"]
    assert len(calls) == 2 and calls[0].id != calls[1].id
    assert calls[0].params == 42 and calls[1].params == 0
    assert graph.total_params == n_params(model) == 42 + 14
    assert [n.name for n in graph if n.kind != "output"] == ["x", "fc", "fc", "relu", "head"]
    assert node(graph, "relu").group == ()  # functional op at the root


def test_hostile_names_reach_svg_intact():
    graph = netdraw.load(TM.Hostile(), input_shape=(1, 4))
    lin = node(graph, f"blocks.{TM.HOSTILE}.0")
    assert lin.group == (f"blocks.{TM.HOSTILE}",)
    texts = svg_texts(graph)
    assert TM.HOSTILE in texts and "naïve ∑" in texts
    assert graph.total_params == n_params(TM.Hostile())


def test_functional_attention_block():
    model = TM.FunctionalAttention(dim=32, heads=4)
    graph = netdraw.load(model, input_shape=(2, 10, 32))
    sdpa = node(graph, "scaled_dot_product_attention")
    assert sdpa.kind == "attention" and sdpa.attrs["num_heads"] == 4
    assert sdpa.attrs["embed_dim"] == 32 and sdpa.outputs[0].shape == (2, 4, 10, 8)
    matmuls = [n for n in graph if n.kind == "matmul"]
    assert [m.outputs[0].shape for m in matmuls] == [(2, 4, 10, 10), (2, 4, 10, 8)]
    assert node(graph, "softmax").attrs["dim"] == -1
    chunk = node(graph, "chunk")
    assert chunk.kind == "slice" and len(chunk.outputs) == 3
    assert kinds(graph)["transpose"] == 5 and kinds(graph)["reshape"] == 4
    assert graph.total_params == n_params(model)
    # the residual: the input feeds the final add directly
    final = node(graph, "add_2")
    assert {graph.nodes[e.src].kind for e in graph.edges if e.dst == final.id} == \
        {"input", "dense"}
    assert_well_formed(graph)
    assert "scaled_dot_product_attention" in svg_texts(graph)


def test_recurrent_and_embedding_attrs():
    model = TM.Recurrent()
    graph = netdraw.load(model, input_shape=(2, 7), input_dtype="int64")
    lstm = node(graph, "lstm")
    assert lstm.kind == "recurrent" and lstm.attrs["units"] == 24
    assert lstm.attrs["num_layers"] == 2 and lstm.attrs["bidirectional"] is True
    assert [o.shape for o in lstm.outputs] == [(2, 7, 48), (4, 2, 24), (4, 2, 24)]
    assert graph.total_params == n_params(model)


def test_forward_error_names_module_and_keeps_partial_graph():
    model = TM.Raises().train()
    with pytest.raises(NetdrawError) as info:
        netdraw.load(model, input_shape=(2, 8))
    message = str(info.value)
    assert "'stage2.fc' (Linear)" in message and "RuntimeError" in message
    assert "\n" not in message
    partial = info.value.partial
    assert [n.name for n in partial if n.kind != "input"] == ["stage1.0", "stage1.1"]
    assert model.training and all(m.training for m in model.modules())  # state restored
    assert not model._forward_hooks and not model.stage1[0]._forward_pre_hooks


def test_training_state_and_grad_mode_restored():
    model = zoo_torch.MLP().train()
    model.layers[1].eval()
    states = [m.training for m in model.modules()]
    graph = netdraw.load(model, input_shape=(1, 1, 28, 28))
    assert [m.training for m in model.modules()] == states
    assert torch.is_grad_enabled()
    assert graph.total_params == n_params(model)


def test_input_options_are_checked():
    model = TM.Twice()
    with pytest.raises(NetdrawError, match="needs an example input"):
        netdraw.load(model)
    with pytest.raises(NetdrawError, match="unknown input dtype"):
        netdraw.load(model, input_shape=(1, 6), input_dtype="float33")
    with pytest.raises(NetdrawError, match="mixes numbers and shapes"):
        netdraw.load(model, input_shape=[1, (2, 3)])
    two = netdraw.load(TM.DictIn().meta.double(), input_shape=[(2, 5)], input_dtype=["float64"])
    assert two.nodes[two.inputs[0]].outputs[0].dtype == "float64"


# -- files -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def resnet18_small():
    model = zoo_torch.resnet18()
    return model, netdraw.load(model, input_shape=(2, 3, 64, 64))


def test_torch_export_file_matches_live_trace(resnet18_small, tmp_path):
    model, live = resnet18_small
    batch = torch.export.Dim("batch", min=1, max=64)
    program = torch.export.export(model, (torch.randn(2, 3, 64, 64),),
                                  dynamic_shapes=({0: batch},))
    path = tmp_path / "r18.pt2"
    torch.export.save(program, str(path))
    graph = netdraw.load(path)
    assert graph.name == "r18" and graph.meta["framework"] == "torch.export"
    assert graph.total_params == live.total_params == n_params(model)
    core = ("conv", "norm", "dense", "pool", "global_pool", "add")
    assert [(n.name, n.kind) for n in graph if n.kind in core] == \
        [(n.name, n.kind) for n in live if n.kind in core]
    sym = graph.nodes[graph.inputs[0]].outputs[0].shape
    assert isinstance(sym[0], str) and sym[1:] == (3, 64, 64)  # the batch dim stays symbolic
    conv = node(graph, "layer2.0.conv1")
    assert conv.group == ("layer2", "layer2.0")
    assert conv.attrs["stride"] == [2, 2] and conv.attrs["out_channels"] == 128
    assert graph.groups[("layer2", "layer2.0")].class_name == "BasicBlock"
    texts = svg_texts(graph)
    assert "layer2.0 · BasicBlock" in texts and f"{sym[0]}×128×8×8" in texts


def test_decomposed_export_keeps_layers(tmp_path):
    """After run_decompositions() ops are low-level aten (convolution, addmm…)."""
    model = zoo_torch.lenet5()
    program = torch.export.export(model, (torch.randn(1, 1, 32, 32),)).run_decompositions()
    path = tmp_path / "lenet.pt2"
    torch.export.save(program, str(path))
    low = netdraw.load(path)
    assert [(n.name, n.kind) for n in low if n.kind in ("conv", "pool", "dense")] == [
        ("features.0", "conv"), ("features.2", "pool"), ("features.3", "conv"),
        ("features.5", "pool"), ("classifier.1", "dense"), ("classifier.3", "dense"),
        ("classifier.5", "dense")]
    conv = node(low, "features.3")
    assert (conv.attrs["kernel_size"], conv.attrs["out_channels"]) == ([5, 5], 16)
    assert node(low, "classifier.1").outputs[0].shape == (1, 120)
    assert low.total_params == n_params(model)


def test_exported_program_in_memory():
    model = TM.FunctionalAttention(dim=16, heads=2).eval()
    program = torch.export.export(model, (torch.randn(1, 5, 16),))
    graph = netdraw.load(program, name="attn")
    assert graph.total_params == n_params(model)
    assert kinds(graph)["attention"] == 1 and kinds(graph)["dense"] == 2


def test_checkpoints_get_clear_errors(resnet18_small, tmp_path):
    model, _ = resnet18_small
    sd = tmp_path / "weights.pt"
    torch.save(model.state_dict(), sd)
    with pytest.raises(NetdrawError, match=r"state dict \(122 tensors\).*architecture"):
        netdraw.load(sd)
    whole = tmp_path / "whole.pth"
    torch.save(TM.Twice(), whole)
    with pytest.raises(NetdrawError, match="will not unpickle"):
        netdraw.load(whole)
    script = tmp_path / "script.pt"
    torch.jit.save(torch.jit.trace(TM.Twice(), torch.randn(1, 6)), str(script))
    with pytest.raises(NetdrawError, match="TorchScript"):
        netdraw.load(script)
    junk = tmp_path / "junk.pt2"
    junk.write_bytes(b"not a zip")
    with pytest.raises(NetdrawError, match="not a torch.export archive"):
        netdraw.load(junk)


# -- command line ----------------------------------------------------------------------


def test_cli_factory_with_two_inputs_and_dtype(tmp_path):
    (tmp_path / "mynets.py").write_text(textwrap.dedent("""
        import torch
        from torch import nn

        class Pair(nn.Module):
            def __init__(self):
                super().__init__()
                self.embed = nn.Embedding(10, 4)
                self.fc = nn.Linear(3, 4)

            def forward(self, tokens, feats):
                return self.embed(tokens).mean(1) + self.fc(feats)

        def build():
            return Pair()
    """))
    out = tmp_path / "pair.json"
    run_cli("draw", "mynets:build", "--input-shape", "2,5", "--input-shape", "2,3",
            "--input-dtype", "int64,float32", "-o", str(out), cwd=tmp_path, check=True)
    graph = Graph.from_json(out.read_text())
    specs = [graph.nodes[i].outputs[0] for i in graph.inputs]
    assert [(s.shape, s.dtype) for s in specs] == [((2, 5), "int64"), ((2, 3), "float32")]
    assert graph.total_params == 40 + 16


def test_cli_forward_error_is_one_line(tmp_path):
    (tmp_path / "bad.py").write_text("from torch_models import Raises as build\n")
    env = cli_env()
    env["PYTHONPATH"] += os.pathsep + str(Path(__file__).resolve().parent)
    proc = run_cli("bad:build", "--input-shape", "2,8", "-o", str(tmp_path / "x.svg"),
                   cwd=tmp_path, env=env)
    assert_one_line_error(proc, "'stage2.fc' (Linear)", "forward pass failed")
    assert not (tmp_path / "x.svg").exists()


def cli_error(capsys, *argv: str) -> str:
    """Run the CLI in-process; return its one error line (exit status 2)."""
    assert main(list(argv)) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("netdraw: error: "), lines
    return lines[0]


def test_cli_input_errors(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    (tmp_path / "nets_for_errors.py").write_text(
        "from torch import nn\nclass Net(nn.Linear):\n    def __init__(self):\n"
        "        super().__init__(3, 2)\nnet = Net()\n")
    assert "needs an example input" in cli_error(capsys, "nets_for_errors:Net", "-o", "x.svg")
    assert "has no attribute 'Nope'" in cli_error(capsys, "nets_for_errors:Nope", "-o", "x.svg")
    assert "no such module" in cli_error(capsys, "no_such_mod:Net", "-o", "x.svg")
    assert "not a shape" in cli_error(capsys, "nets_for_errors:Net", "--input-shape", "2,a",
                                      "-o", "x.svg")
    assert "mat1 and mat2" in cli_error(capsys, "nets_for_errors:Net", "--input-shape", "2,4",
                                        "-o", "x.svg")
    torch.save({"w": torch.zeros(2)}, tmp_path / "sd.pt")
    line = cli_error(capsys, "sd.pt", "-o", "y.svg")
    assert "state dict (1 tensor)" in line and "pkg.module:factory" in line
    assert "apply to Python models" in cli_error(capsys, "sd.pt", "--input-shape", "1",
                                                 "-o", "y.svg")
    assert not list(tmp_path.glob("*.svg"))
    assert main(["nets_for_errors:Net", "--input-shape", "4,3", "-o", "ok.json"]) == 0
    assert Graph.from_json((tmp_path / "ok.json").read_text()).total_params == 8
    assert main(["nets_for_errors:net", "--input-shape", "4,3", "-o", "obj.json"]) == 0
    assert Graph.from_json((tmp_path / "obj.json").read_text()).total_params == 8


def test_onnx_cli_never_imports_torch(tmp_path):
    from netdraw.zoo.onnx_models import lenet5

    model = tmp_path / "lenet.onnx"
    model.write_bytes(lenet5().SerializeToString())
    probe = textwrap.dedent(f"""
        import sys
        from netdraw.cli import main
        code = main([{str(model)!r}, "-o", {str(tmp_path / 'l.svg')!r}])
        loaded = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "keras"))
        print(code, loaded)
    """)
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env=cli_env(), timeout=120)
    assert proc.stdout.strip() == "0 []", proc.stdout + proc.stderr
    assert (tmp_path / "l.svg").stat().st_size > 1000


def test_cli_gallery_renders_torch_zoo(tmp_path, capsys):
    assert main(["gallery", "-o", str(tmp_path), "lenet5", "transformer"]) == 0
    out = capsys.readouterr().out
    for name in ("lenet5", "transformer"):
        for suffix in ("svg", "png", "json"):
            assert f"wrote {tmp_path / f'{name}.{suffix}'}" in out
    for name in ("lenet5", "transformer"):
        assert (tmp_path / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        ET.parse(tmp_path / f"{name}.svg")
        graph = Graph.from_json((tmp_path / f"{name}.json").read_text())
        assert graph.total_params == n_params(zoo.build(name))
