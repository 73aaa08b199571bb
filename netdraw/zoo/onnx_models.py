"""Small ONNX models built with ``onnx.helper`` (random weights): the ONNX part of the zoo.

Node names are ``/``-scoped as PyTorch's exporter writes them, so the examples show groups.
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class OnnxBuilder:
    """Appends nodes and random initializers; keeps track of the current tensor shape."""

    def __init__(self, name: str, input_shape: tuple[int | str, ...], seed: int = 0) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.rng = np.random.default_rng(seed)
        self.inputs = [helper.make_tensor_value_info("input", TensorProto.FLOAT, input_shape)]
        self.count = 0

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        data = (self.rng.standard_normal(shape) * 0.1).astype(np.float32)
        self.inits.append(numpy_helper.from_array(data, name))
        return name

    def op(self, op_type: str, inputs: list[str], scope: str, name: str | None = None,
           **attrs: object) -> str:
        self.count += 1
        node_name = f"{scope}/{name or op_type}" if scope else f"/{name or op_type}_{self.count}"
        out = f"{node_name}_output_0"
        self.nodes.append(helper.make_node(op_type, inputs, [out], name=node_name, **attrs))
        return out

    def conv(self, x: str, scope: str, cin: int, cout: int, k: int, stride: int = 1,
             pad: int | None = None, group: int = 1) -> str:
        pad = k // 2 if pad is None else pad
        w = self.weight(f"{scope[1:].replace('/', '.')}.weight", (cout, cin // group, k, k))
        b = self.weight(f"{scope[1:].replace('/', '.')}.bias", (cout,))
        return self.op("Conv", [x, w, b], scope, kernel_shape=[k, k], strides=[stride, stride],
                       pads=[pad] * 4, group=group)

    def variance(self, name: str, shape: tuple[int, ...]) -> str:
        """A BatchNorm running variance: positive, near 1 (a random normal one would be
        negative for half the channels, and its square root NaN)."""
        data = (1.0 + np.abs(self.rng.standard_normal(shape)) * 0.1).astype(np.float32)
        self.inits.append(numpy_helper.from_array(data, name))
        return name

    def bn(self, x: str, scope: str, c: int) -> str:
        stem = scope[1:].replace("/", ".")
        names = [self.weight(f"{stem}.{p}", (c,)) for p in ("weight", "bias", "mean")]
        return self.op("BatchNormalization", [x, *names, self.variance(f"{stem}.var", (c,))],
                       scope)

    def dense(self, x: str, scope: str, cin: int, cout: int) -> str:
        w = self.weight(f"{scope[1:].replace('/', '.')}.weight", (cout, cin))
        b = self.weight(f"{scope[1:].replace('/', '.')}.bias", (cout,))
        return self.op("Gemm", [x, w, b], scope, transB=1)

    def build(self, output: str, output_shape: tuple[int | str, ...]) -> onnx.ModelProto:
        graph = helper.make_graph(
            self.nodes, self.name, self.inputs,
            [helper.make_tensor_value_info(output, TensorProto.FLOAT, output_shape)],
            self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name="netdraw")
        model.ir_version = 8
        return model


def lenet5() -> onnx.ModelProto:
    """LeNet-5 on 1×32×32 digits: two conv/pool stages and three dense layers."""
    b = OnnxBuilder("LeNet-5", ("batch", 1, 32, 32))
    x = b.conv("input", "/conv1", 1, 6, 5, pad=0)
    x = b.op("Tanh", [x], "/act1")
    x = b.op("AveragePool", [x], "/pool1", kernel_shape=[2, 2], strides=[2, 2])
    x = b.conv(x, "/conv2", 6, 16, 5, pad=0)
    x = b.op("Tanh", [x], "/act2")
    x = b.op("AveragePool", [x], "/pool2", kernel_shape=[2, 2], strides=[2, 2])
    x = b.op("Flatten", [x], "/flatten")
    x = b.op("Tanh", [b.dense(x, "/fc1", 400, 120)], "/act3")
    x = b.op("Tanh", [b.dense(x, "/fc2", 120, 84)], "/act4")
    x = b.dense(x, "/fc3", 84, 10)
    return b.build(x, ("batch", 10))


def small_resnet() -> onnx.ModelProto:
    """A ResNet-style net: stem, two stages of two basic blocks (one downsampling), head."""
    b = OnnxBuilder("small-resnet", ("batch", 3, 64, 64))
    x = b.op("Relu", [b.bn(b.conv("input", "/stem/conv", 3, 32, 7, 2), "/stem/bn", 32)],
             "/stem/relu")
    x = b.op("MaxPool", [x], "/stem/maxpool", kernel_shape=[3, 3], strides=[2, 2],
             pads=[1, 1, 1, 1])
    cin = 32
    for stage, cout in ((1, 32), (2, 64)):
        for block in range(2):
            scope = f"/layer{stage}/layer{stage}.{block}"
            stride = 2 if (stage > 1 and block == 0) else 1
            y = b.bn(b.conv(x, f"{scope}/conv1", cin, cout, 3, stride), f"{scope}/bn1", cout)
            y = b.op("Relu", [y], f"{scope}/relu")
            y = b.bn(b.conv(y, f"{scope}/conv2", cout, cout, 3), f"{scope}/bn2", cout)
            if stride != 1 or cin != cout:
                x = b.bn(b.conv(x, f"{scope}/downsample/0", cin, cout, 1, stride, pad=0),
                         f"{scope}/downsample/1", cout)
            x = b.op("Relu", [b.op("Add", [y, x], scope)], scope, name="Relu_1")
            cin = cout
    x = b.op("GlobalAveragePool", [x], "/avgpool")
    x = b.op("Flatten", [x], "/flatten")
    x = b.dense(x, "/fc", 64, 10)
    return b.build(x, ("batch", 10))


def inception_block() -> onnx.ModelProto:
    """One Inception-v1 module: four parallel branches concatenated along channels."""
    b = OnnxBuilder("inception-block", ("batch", 192, 28, 28))
    scope = "/inception3a"
    br1 = b.op("Relu", [b.conv("input", f"{scope}/branch1/conv", 192, 64, 1)], f"{scope}/branch1")
    br2 = b.op("Relu", [b.conv("input", f"{scope}/branch2/reduce", 192, 96, 1)],
               f"{scope}/branch2", name="Relu_reduce")
    br2 = b.op("Relu", [b.conv(br2, f"{scope}/branch2/conv", 96, 128, 3)], f"{scope}/branch2")
    br3 = b.op("Relu", [b.conv("input", f"{scope}/branch3/reduce", 192, 16, 1)],
               f"{scope}/branch3", name="Relu_reduce")
    br3 = b.op("Relu", [b.conv(br3, f"{scope}/branch3/conv", 16, 32, 5)], f"{scope}/branch3")
    br4 = b.op("MaxPool", ["input"], f"{scope}/branch4", kernel_shape=[3, 3], strides=[1, 1],
               pads=[1, 1, 1, 1])
    br4 = b.op("Relu", [b.conv(br4, f"{scope}/branch4/proj", 192, 32, 1)], f"{scope}/branch4")
    x = b.op("Concat", [br1, br2, br3, br4], scope, axis=1)
    return b.build(x, ("batch", 256, 28, 28))
