"""ONNX test models built in code (nothing downloaded). Each returns an onnx.ModelProto."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HOSTILE = 'evil " < > & \\ { } % $ # _ ^ ~ \n naïve ∑ 名前'
FLOAT = TensorProto.FLOAT


def _w(name: str, *shape: int) -> onnx.TensorProto:
    rng = np.random.default_rng(len(name))
    return numpy_helper.from_array(rng.standard_normal(shape).astype(np.float32), name)


def _model(nodes, inputs, outputs, inits=(), functions=(), opset=17) -> onnx.ModelProto:
    graph = helper.make_graph(nodes, "test", inputs, outputs, list(inits))
    opsets = [helper.make_opsetid("", opset)]
    domains = {f.domain for f in functions}
    opsets += [helper.make_opsetid(d, 1) for d in sorted(domains)]
    model = helper.make_model(graph, opset_imports=opsets, functions=list(functions))
    model.ir_version = 8
    return model


def _vi(name: str, shape) -> onnx.ValueInfoProto:
    return helper.make_tensor_value_info(name, FLOAT, shape)


def sequential_convnet(batch: int | str = 1) -> onnx.ModelProto:
    """conv(3->8, 3x3) -> relu -> maxpool 2 -> conv(8->16, 3x3/2) -> gap -> flatten -> gemm 10."""
    nodes = [
        helper.make_node("Conv", ["x", "c1.w", "c1.b"], ["c1"], name="conv1",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["p1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["p1", "c2.w"], ["c2"], name="conv2", kernel_shape=[3, 3],
                         strides=[2, 2], pads=[1, 1, 1, 1]),
        helper.make_node("GlobalAveragePool", ["c2"], ["g"], name="gap"),
        helper.make_node("Flatten", ["g"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc.w", "fc.b"], ["y"], name="fc", transB=1),
    ]
    inits = [_w("c1.w", 8, 3, 3, 3), _w("c1.b", 8), _w("c2.w", 16, 8, 3, 3),
             _w("fc.w", 10, 16), _w("fc.b", 10)]
    return _model(nodes, [_vi("x", [batch, 3, 32, 32])], [_vi("y", None)], inits)


SEQUENTIAL_PARAMS = 8 * 27 + 8 + 16 * 72 + 160 + 10


def residual() -> onnx.ModelProto:
    """x -> conv -> relu -> conv, added back to x (scoped names as the torch exporter writes)."""
    nodes = [
        helper.make_node("Conv", ["x", "a.w"], ["a"], name="/block/conv1/Conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["a"], ["b"], name="/block/relu/Relu"),
        helper.make_node("Conv", ["b", "c.w"], ["c"], name="/block/conv2/Conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Add", ["c", "x"], ["y"], name="/block/Add"),
    ]
    return _model(nodes, [_vi("x", [1, 4, 8, 8])], [_vi("y", None)],
                  [_w("a.w", 4, 4, 3, 3), _w("c.w", 4, 4, 3, 3)])


def concat4() -> onnx.ModelProto:
    """Four parallel 1x1 convs of different widths concatenated along channels."""
    nodes, inits, outs = [], [], []
    for i, c in enumerate((8, 16, 4, 4)):
        nodes.append(helper.make_node("Conv", ["x", f"b{i}.w"], [f"b{i}"], name=f"branch{i}",
                                      kernel_shape=[1, 1]))
        inits.append(_w(f"b{i}.w", c, 3, 1, 1))
        outs.append(f"b{i}")
    nodes.append(helper.make_node("Concat", outs, ["y"], name="concat", axis=1))
    return _model(nodes, [_vi("x", [2, 3, 16, 16])], [_vi("y", None)], inits)


def if_and_loop() -> onnx.ModelProto:
    """An If whose branches add or multiply, then a Loop that adds a constant 3 times."""
    then_g = helper.make_graph(
        [helper.make_node("Add", ["x", "x"], ["t_out"], name="then_add")],
        "then", [], [_vi("t_out", [2, 3])])
    else_g = helper.make_graph(
        [helper.make_node("Mul", ["x", "x"], ["e_out"], name="else_mul")],
        "else", [], [_vi("e_out", [2, 3])])
    body = helper.make_graph(
        [helper.make_node("Identity", ["cond_in"], ["cond_out"], name="body_cond"),
         helper.make_node("Add", ["acc_in", "one"], ["acc_out"], name="body_add")],
        "body",
        [helper.make_tensor_value_info("i", TensorProto.INT64, []),
         helper.make_tensor_value_info("cond_in", TensorProto.BOOL, []), _vi("acc_in", [2, 3])],
        [helper.make_tensor_value_info("cond_out", TensorProto.BOOL, []), _vi("acc_out", [2, 3])],
        [numpy_helper.from_array(np.ones((2, 3), np.float32), "one")])
    nodes = [
        helper.make_node("ReduceSum", ["x"], ["s"], name="sum", keepdims=0),
        helper.make_node("Greater", ["s", "zero"], ["c"], name="positive"),
        helper.make_node("If", ["c"], ["branch"], name="choose", then_branch=then_g,
                         else_branch=else_g),
        helper.make_node("Loop", ["trip", "true", "branch"], ["y"], name="repeat", body=body),
    ]
    inits = [numpy_helper.from_array(np.array(0, np.float32), "zero"),
             numpy_helper.from_array(np.array(3, np.int64), "trip"),
             numpy_helper.from_array(np.array(True), "true")]
    return _model(nodes, [_vi("x", [2, 3])], [_vi("y", [2, 3])], inits)


def custom_op() -> onnx.ModelProto:
    """A custom-domain op between two standard ones."""
    nodes = [
        helper.make_node("Relu", ["x"], ["a"], name="relu"),
        helper.make_node("FancyWarp", ["a"], ["b"], name="warp", domain="com.example",
                         strength=0.5),
        helper.make_node("Sigmoid", ["b"], ["y"], name="sigmoid"),
    ]
    model = _model(nodes, [_vi("x", [1, 16])], [_vi("y", None)])
    model.opset_import.append(helper.make_opsetid("com.example", 1))
    return model


def local_function() -> onnx.ModelProto:
    """A model-local function (MLP block) called twice."""
    fn = helper.make_function(
        "custom.blocks", "MlpBlock", ["inp", "w"], ["out"],
        [helper.make_node("MatMul", ["inp", "w"], ["h"], name="matmul"),
         helper.make_node("Relu", ["h"], ["out"], name="relu")],
        [helper.make_opsetid("", 17)])
    nodes = [
        helper.make_node("MlpBlock", ["x", "w1"], ["h1"], name="block1", domain="custom.blocks"),
        helper.make_node("MlpBlock", ["h1", "w2"], ["y"], name="block2", domain="custom.blocks"),
    ]
    return _model(nodes, [_vi("x", [1, 8])], [_vi("y", None)], [_w("w1", 8, 8), _w("w2", 8, 4)],
                  functions=[fn])


def hostile_names() -> onnx.ModelProto:
    """Every name (graph, tensors, nodes) full of characters that break DOT, XML and LaTeX."""
    x, y = "in" + HOSTILE, "out" + HOSTILE
    nodes = [
        helper.make_node("Conv", [x, "w" + HOSTILE], ["c" + HOSTILE], name="/sc\"ope<1>/" + HOSTILE,
                         kernel_shape=[1, 1]),
        helper.make_node("Relu", ["c" + HOSTILE], [y], name=HOSTILE + "\\"),
    ]
    model = _model(nodes, [_vi(x, [1, 2, 4, 4])], [_vi(y, None)], [_w("w" + HOSTILE, 3, 2, 1, 1)])
    model.graph.name = "graph" + HOSTILE
    return model


def cyclic() -> onnx.ModelProto:
    """Two nodes that read each other's outputs."""
    nodes = [
        helper.make_node("Add", ["x", "b"], ["a"], name="first"),
        helper.make_node("Relu", ["a"], ["b"], name="second"),
    ]
    return _model(nodes, [_vi("x", [1])], [_vi("b", [1])])


def dangling() -> onnx.ModelProto:
    """A node that reads a tensor nothing provides."""
    nodes = [helper.make_node("Add", ["x", "ghost"], ["y"], name="add")]
    return _model(nodes, [_vi("x", [1])], [_vi("y", [1])])
