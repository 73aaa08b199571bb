"""The ONNX importer's rules at their boundaries, on files built here: Gemm with and without
``transB``, a MatMul reading a weight (a dense layer) or an activation, grouped and depthwise
Conv and ConvTranspose, Gather from a weight table (an embedding) or from an activation.
The oracles come from outside netdraw: onnxruntime's output shapes, the initializers' sizes
in the file itself and hand counts."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

import netdraw
from netdraw.passes.stats import total_macs

FLOAT = TensorProto.FLOAT


def _w(name: str, *shape: int) -> onnx.TensorProto:
    rng = np.random.default_rng(len(name))
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def _model(nodes, inputs, inits) -> onnx.ModelProto:
    outputs = [helper.make_tensor_value_info(nodes[-1].output[0], FLOAT, None)]
    graph = helper.make_graph(nodes, "rules", inputs, outputs, inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model


def _run(model: onnx.ModelProto, feeds: dict) -> dict[str, tuple]:
    """Every node output's shape as onnxruntime computes it (each output made a graph
    output, so the session returns it)."""
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    known = {o.name for o in probe.graph.output}
    for node in probe.graph.node:
        for name in node.output:
            if name and name not in known:
                probe.graph.output.append(helper.make_tensor_value_info(name, FLOAT, None))
    session = ort.InferenceSession(probe.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    names = [o.name for o in session.get_outputs()]
    return dict(zip(names, (tuple(a.shape) for a in session.run(None, feeds)), strict=True))


def _by_name(graph):
    return {n.name: n for n in graph}


def _initializer_sizes(model: onnx.ModelProto) -> dict[str, int]:
    return {t.name: int(np.prod(t.dims)) for t in model.graph.initializer}


@pytest.mark.parametrize("trans_b", [0, 1, None])
def test_gemm_units_with_and_without_trans_b(trans_b):
    """Gemm's weight is (in, out), or (out, in) with transB=1: units are the output width."""
    w = _w("w", 5, 7) if trans_b else _w("w", 7, 5)  # 7 inputs, 5 units
    attrs = {} if trans_b is None else {"transB": trans_b}
    model = _model([helper.make_node("Gemm", ["x", "w", "b"], ["y"], name="fc", **attrs)],
                   [helper.make_tensor_value_info("x", FLOAT, [3, 7])], [w, _w("b", 5)])
    shapes = _run(model, {"x": np.zeros((3, 7), np.float32)})
    graph = netdraw.load(model)
    fc = _by_name(graph)["fc"]
    assert fc.kind == "dense"
    assert fc.attrs["units"] == shapes["y"][-1] == 5
    assert fc.outputs[0].shape == shapes["y"]
    assert fc.params == graph.total_params == 7 * 5 + 5
    assert total_macs(graph) == 7 * 5  # per example: units × inputs


def test_matmul_reading_a_weight_is_dense_and_between_activations_is_not():
    nodes = [helper.make_node("MatMul", ["x", "w"], ["h"], name="proj"),
             helper.make_node("MatMul", ["h", "z"], ["y"], name="scores")]
    model = _model(nodes, [helper.make_tensor_value_info("x", FLOAT, [1, 4, 6]),
                           helper.make_tensor_value_info("z", FLOAT, [1, 3, 2])],
                   [_w("w", 6, 3)])
    shapes = _run(model, {"x": np.zeros((1, 4, 6), np.float32),
                          "z": np.zeros((1, 3, 2), np.float32)})
    nodes_ = _by_name(netdraw.load(model))
    assert (nodes_["proj"].kind, nodes_["proj"].attrs["units"]) == ("dense", 3)
    assert nodes_["proj"].params == 18
    assert nodes_["scores"].kind == "matmul" and nodes_["scores"].params == 0
    assert nodes_["proj"].outputs[0].shape == shapes["h"]
    assert nodes_["scores"].outputs[0].shape == shapes["y"]
    # 4 rows × 3 units × 6 inputs, then 4×2 outputs × 3 shared
    assert total_macs(netdraw.load(model)) == 4 * 3 * 6 + 4 * 2 * 3


@pytest.mark.parametrize(("op", "groups", "cin", "cout"), [
    ("Conv", 1, 4, 6), ("Conv", 2, 4, 6), ("Conv", 4, 4, 8),
    ("ConvTranspose", 1, 4, 6), ("ConvTranspose", 2, 4, 6), ("ConvTranspose", 4, 4, 4)])
def test_grouped_and_depthwise_convs(op, groups, cin, cout):
    # Conv's weight is (out, in/groups, k, k); ConvTranspose's (in, out/groups, k, k)
    shape = (cout, cin // groups, 3, 3) if op == "Conv" else (cin, cout // groups, 3, 3)
    node = helper.make_node(op, ["x", "w"], ["y"], name="c", group=groups,
                            kernel_shape=[3, 3], strides=[2, 2])
    model = _model([node], [helper.make_tensor_value_info("x", FLOAT, [2, cin, 7, 7])],
                   [_w("w", *shape)])
    shapes = _run(model, {"x": np.zeros((2, cin, 7, 7), np.float32)})
    graph = netdraw.load(model)
    c = _by_name(graph)["c"]
    assert c.outputs[0].shape == shapes["y"]
    assert (c.attrs["in_channels"], c.attrs["out_channels"]) == (cin, cout)
    assert c.attrs["kernel_size"] == [3, 3]
    assert c.params == _initializer_sizes(model)["w"]
    out = shapes["y"]
    if op == "Conv":  # per example: every output element reads in/groups × 3×3
        expected = out[1] * out[2] * out[3] * (cin // groups) * 9
    else:  # every input element is spread over out/groups × 3×3 outputs
        expected = cin * 7 * 7 * (cout // groups) * 9
    assert total_macs(graph) == expected


@pytest.mark.parametrize("table_is_weight", [True, False])
def test_gather_from_a_weight_table_is_an_embedding(table_is_weight):
    inputs = [helper.make_tensor_value_info("ids", TensorProto.INT64, [1, 5])]
    inits = []
    if table_is_weight:
        inits.append(_w("table", 11, 4))
    else:
        inputs.append(helper.make_tensor_value_info("table", FLOAT, [11, 4]))
    model = _model([helper.make_node("Gather", ["table", "ids"], ["y"], name="g")],
                   inputs, inits)
    feeds = {"ids": np.array([[0, 3, 5, 10, 1]], np.int64)}
    if not table_is_weight:
        feeds["table"] = np.zeros((11, 4), np.float32)
    shapes = _run(model, feeds)
    g = _by_name(netdraw.load(model))["g"]
    assert g.outputs[0].shape == shapes["y"]
    if table_is_weight:
        assert g.kind == "embedding" and g.params == 44
        assert (g.attrs["num_embeddings"], g.attrs["embedding_dim"]) == (11, 4)
    else:
        assert g.kind == "slice" and g.params == 0


def test_control_flow_bodies_are_groups_named_by_their_attributes():
    """The file names each body by the attribute holding it: then_branch, else_branch, body."""
    import onnx_models

    model = onnx_models.if_and_loop()
    graph = netdraw.load(model)
    attrs = {(n.name, a.name) for n in model.graph.node for a in n.attribute
             if a.type == onnx.AttributeProto.GRAPH}
    assert attrs == {("choose", "then_branch"), ("choose", "else_branch"), ("repeat", "body")}
    for node_name, attr in attrs:
        group = graph.groups[(node_name, attr)]
        assert (group.label, group.class_name) == (attr, attr)


def test_a_tensor_attribute_is_kept_as_its_dims():
    value = numpy_helper.from_array(np.array([0.5], np.float32), "value")
    shape = numpy_helper.from_array(np.array([2, 3], np.int64), "shape")
    model = _model([helper.make_node("ConstantOfShape", ["shape"], ["c"], name="fill",
                                     value=value),
                    helper.make_node("Add", ["x", "c"], ["y"], name="add")],
                   [helper.make_tensor_value_info("x", FLOAT, [2, 3])], [shape])
    shapes = _run(model, {"x": np.zeros((2, 3), np.float32)})
    nodes = _by_name(netdraw.load(model))
    assert nodes["fill"].attrs["value"] == {"tensor": list(value.dims)}
    assert nodes["fill"].outputs[0].shape == shapes["c"] == (2, 3)


@pytest.mark.parametrize("count", [1, 2, 3])
def test_outputs_named_by_tensor_numbers_are_numbered_when_there_are_several(count):
    """A legacy export names its outputs after tensor numbers ('601'): one output is
    'output', several are 'output 1', 'output 2'…, each fed by the node that makes it."""
    nodes = [helper.make_node("Relu", ["x"], [str(600 + i)], name=f"act{i}")
             for i in range(count)]
    graph = helper.make_graph(nodes, "outs", [helper.make_tensor_value_info("x", FLOAT, [2])],
                              [helper.make_tensor_value_info(str(600 + i), FLOAT, [2])
                               for i in range(count)])
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    g = netdraw.load(model)
    names = [g.nodes[o].name for o in g.outputs]
    assert names == (["output"] if count == 1 else [f"output {i + 1}" for i in range(count)])
    preds = g.predecessors()
    assert [[g.nodes[p].name for p in preds[o]] for o in g.outputs] == \
        [[f"act{i}"] for i in range(count)]


def test_a_shape_constant_read_twice_is_no_shared_weight():
    """Two Reshapes read one int64 shape initializer: shape data, neither a weight nor
    shared (only learned float tensors are)."""
    shape = numpy_helper.from_array(np.array([3, 2], np.int64), "shape")
    model = _model([helper.make_node("Reshape", ["x", "shape"], ["a"], name="first"),
                    helper.make_node("Relu", ["a"], ["r"], name="act"),
                    helper.make_node("Reshape", ["r", "shape"], ["y"], name="second")],
                   [helper.make_tensor_value_info("x", FLOAT, [2, 3])], [shape])
    shapes = _run(model, {"x": np.zeros((2, 3), np.float32)})
    nodes = _by_name(netdraw.load(model))
    assert nodes["second"].outputs[0].shape == shapes["y"]
    assert "shared_with" not in nodes["first"].attrs
    assert "shared_with" not in nodes["second"].attrs
    assert nodes["first"].params == nodes["second"].params == 0
