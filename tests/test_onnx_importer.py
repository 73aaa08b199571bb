"""ONNX importer: kinds, shapes, parameters, groups, subgraphs, functions, external data."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import onnx
import onnx_models as M
import pytest
from conftest import cli_env, require_module
from onnx import TensorProto, helper, numpy_helper

import netdraw
from netdraw.errors import NetdrawError
from netdraw.importers.onnx import external_data_path


def kinds(graph: netdraw.Graph) -> list[str]:
    return [n.kind for n in graph]


def test_sequential_kinds_shapes_and_params():
    g = netdraw.load(M.sequential_convnet())
    assert kinds(g) == ["input", "conv", "activation", "pool", "conv", "global_pool", "flatten",
                        "dense", "output"]
    by_name = {n.name: n for n in g}
    assert by_name["conv1"].outputs[0].shape == (1, 8, 32, 32)
    assert by_name["pool1"].outputs[0].shape == (1, 8, 16, 16)
    assert by_name["conv2"].outputs[0].shape == (1, 16, 8, 8)
    assert by_name["fc"].outputs[0].shape == (1, 10)
    assert by_name["conv2"].attrs["stride"] == [2, 2]
    assert by_name["conv2"].attrs["kernel_size"] == [3, 3]
    assert by_name["conv2"].attrs["out_channels"] == 16
    assert by_name["fc"].attrs["units"] == 10
    assert by_name["conv1"].params == 8 * 27 + 8
    assert g.total_params == M.SEQUENTIAL_PARAMS
    # Initializers are parameter counts, not nodes; every edge carries its shape.
    assert not any("w" in n.name.split(".")[-1] for n in g if n.kind == "constant")
    assert all(e.tensor.shape is not None for e in g.edges)
    assert g.inputs == ["x"] and len(g.outputs) == 1


def test_dynamic_batch_keeps_symbolic_dim():
    g = netdraw.load(M.sequential_convnet(batch="batch"))
    shapes = [n.outputs[0].shape for n in g if n.kind == "conv"]
    assert shapes == [("batch", 8, 32, 32), ("batch", 16, 8, 8)]


def test_residual_add_has_two_inputs_and_groups():
    g = netdraw.load(M.residual())
    add = next(n for n in g if n.kind == "add")
    sources = sorted(g.nodes[e.src].kind for e in g.edges if e.dst == add.id)
    assert sources == ["conv", "input"]
    # '/block/conv1/Conv' is scope 'block', leaf scope 'conv1' dissolved into the node name.
    conv1 = next(n for n in g if n.op_type == "Conv")
    assert conv1.group == ("block",) and conv1.name == "block.conv1"
    assert ("block",) in g.groups


def test_concat_of_four_branches():
    g = netdraw.load(M.concat4())
    concat = next(n for n in g if n.kind == "concat")
    assert len([e for e in g.edges if e.dst == concat.id]) == 4
    assert concat.outputs[0].shape == (2, 32, 16, 16)


def test_if_and_loop_bodies_become_groups():
    g = netdraw.load(M.if_and_loop())
    by_name = {n.name: n for n in g}
    assert by_name["choose"].kind == "subgraph" and by_name["repeat"].kind == "subgraph"
    assert by_name["then_add"].group == ("choose", "then_branch")
    assert by_name["else_mul"].group == ("choose", "else_branch")
    assert by_name["body_add"].group == ("repeat", "body")
    # Body results flow into the control-flow node; the loop body reads the If's result.
    preds = g.predecessors()
    assert {"then_add", "else_mul"} <= set(preds["choose"])
    assert "choose" in preds["body_add"]
    assert g.groups[("choose",)].class_name == "If"


def test_local_function_calls_become_groups():
    g = netdraw.load(M.local_function())
    matmuls = [n for n in g if n.op_type == "MatMul"]
    assert len(matmuls) == 2
    assert {m.group for m in matmuls} == {("block1",), ("block2",)}
    assert g.groups[("block1",)].class_name == "MlpBlock"
    assert matmuls[1].outputs[0].shape == (1, 4)
    assert g.total_params == 8 * 8 + 8 * 4
    assert all(m.kind == "dense" for m in matmuls)  # MatMul with a weight is a dense layer


def test_custom_domain_op_draws_as_other():
    g = netdraw.load(M.custom_op())
    warp = next(n for n in g if n.name == "warp")
    assert warp.kind == "other" and warp.op_type == "FancyWarp"
    assert warp.attrs["domain"] == "com.example" and warp.attrs["strength"] == 0.5


def test_cycle_and_dangling_are_errors():
    with pytest.raises(NetdrawError, match="cycle"):
        netdraw.load(M.cyclic())
    with pytest.raises(NetdrawError, match="ghost"):
        netdraw.load(M.dangling())


def test_nodes_out_of_order_are_sorted():
    model = M.sequential_convnet()
    nodes = list(model.graph.node)
    del model.graph.node[:]
    model.graph.node.extend(reversed(nodes))
    g = netdraw.load(model)
    assert kinds(g)[1:4] == ["conv", "activation", "pool"]


def test_identity_and_constant_do_not_clutter():
    nodes = [
        helper.make_node("Constant", [], ["k"], name="const",
                         value=numpy_helper.from_array(np.ones((1, 4), np.float32))),
        helper.make_node("Identity", ["x"], ["x2"], name="ident"),
        helper.make_node("Add", ["x2", "k"], ["y"], name="add"),
    ]
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info("x", 1, [1, 4])],
                              [helper.make_tensor_value_info("y", 1, None)])
    g = netdraw.load(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]))
    assert kinds(g) == ["input", "add", "output"]
    assert [(e.src, e.dst) for e in g.edges][0] == ("x", "add")


def _external_model(folder: Path, location: str, size: tuple[int, ...]) -> Path:
    """A model whose weight tensor lives in an external file at ``location``."""
    weight = onnx.TensorProto()
    weight.name, weight.data_type = "w", TensorProto.FLOAT
    weight.dims.extend(size)
    weight.data_location = TensorProto.EXTERNAL
    for key, value in (("location", location), ("offset", "0"),
                       ("length", str(4 * int(np.prod(size))))):
        entry = weight.external_data.add()
        entry.key, entry.value = key, value
    node = helper.make_node("MatMul", ["x", "w"], ["y"], name="fc")
    graph = helper.make_graph([node], "ext", [helper.make_tensor_value_info("x", 1, [1, size[0]])],
                              [helper.make_tensor_value_info("y", 1, None)], [weight])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    path = folder / "model.onnx"
    path.write_bytes(model.SerializeToString())
    return path


def test_external_data_is_never_read(tmp_path: Path):
    """A 512 MB external weight file: drawing costs far less memory than the weights."""
    rows, cols = 8192, 16384  # 512 MiB of float32
    blob = tmp_path / "weights.bin"
    with open(blob, "wb") as fh:  # sparse: costs no disk
        fh.truncate(4 * rows * cols)
    model = _external_model(tmp_path, "weights.bin", (rows, cols))
    script = textwrap.dedent(f"""
        import netdraw
        g = netdraw.load({str(model)!r})
        fc = next(n for n in g if n.name == "fc")
        assert fc.params == {rows * cols} and fc.outputs[0].shape == (1, {cols}), fc
        # VmHWM, not ru_maxrss: Linux keeps ru_maxrss across exec, so a big test process
        # (torch loaded) would be counted as this child's peak.
        print(next(l.split()[1] for l in open("/proc/self/status") if l.startswith("VmHWM")))
    """)
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env=cli_env(), timeout=120)
    assert proc.returncode == 0, proc.stderr
    peak_mb = int(proc.stdout.split()[-1]) / 1024
    assert peak_mb < 256, f"peak RSS {peak_mb:.0f} MB for a 512 MB model"


def test_external_data_outside_folder_is_not_needed_and_refused(tmp_path: Path):
    inner = tmp_path / "model"
    inner.mkdir()
    model = _external_model(inner, "../../secret/weights.bin", (4, 4))
    g = netdraw.load(model)  # drawing needs no weight bytes, so nothing is read
    assert next(n for n in g if n.name == "fc").params == 16
    with pytest.raises(NetdrawError, match="outside"):
        external_data_path(inner, "../../secret/weights.bin")
    with pytest.raises(NetdrawError, match="outside"):
        external_data_path(inner, "/etc/passwd")
    assert external_data_path(inner, "w.bin") == (inner / "w.bin").resolve()


def test_torch_exporter_metadata_gives_module_hierarchy(tmp_path: Path):
    """Name scopes and classes from the torch.export-based exporter become the group tree."""
    torch = require_module("torch")
    require_module("onnxscript")

    class Block(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = torch.nn.Conv2d(4, 4, 3, padding=1)
            self.act = torch.nn.ReLU()

        def forward(self, x):
            return self.act(self.conv(x)) + x

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.layer1 = torch.nn.Sequential(Block(), Block())

        def forward(self, x):
            return self.layer1(x)

    path = tmp_path / "net.onnx"
    torch.onnx.export(Net().eval(), (torch.randn(1, 4, 8, 8),), str(path), dynamo=True,
                      verbose=False)
    g = netdraw.load(path)
    assert g.groups[("layer1",)].class_name == "Sequential"
    assert g.groups[("layer1", "layer1.1")].class_name == "Block"
    conv = next(n for n in g if n.kind == "conv" and n.group == ("layer1", "layer1.1"))
    assert conv.name == "layer1.1.conv" and conv.outputs[0].shape == (1, 4, 8, 8)
    assert g.total_params == 2 * (4 * 4 * 9 + 4)
