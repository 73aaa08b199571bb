"""The shapes network in ONNX (``zoo:onnx-shapes``), built with ``onnx.helper`` from the
trained weights: no PyTorch needed. Node names are ``/``-scoped as PyTorch's exporter writes
them, so netdraw names the layers as in the PyTorch model (``block1.conv``).
"""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from netdraw.zoo.shapes import BN_EPS, CLASSES, SIZE, WIDTHS, load_weights


def shapes(trained: bool = True) -> onnx.ModelProto:
    """The ONNX model ``x: (batch, 3, 64, 64) -> logits: (batch, 4)``."""
    if trained:
        w = load_weights()
    else:
        from netdraw.zoo.shapes.torch_model import shapes as torch_shapes

        w = {k: v.numpy() for k, v in torch_shapes(trained=False).state_dict().items()
             if v.dtype.is_floating_point}
    nodes: list[onnx.NodeProto] = []
    inits = [numpy_helper.from_array(np.asarray(v, np.float32), k) for k, v in w.items()]

    def op(op_type: str, inputs: list[str], scope: str, **attrs: object) -> str:
        name = f"/{scope}/{op_type}"
        out = f"{name}_output_0"
        nodes.append(helper.make_node(op_type, inputs, [out], name=name, **attrs))
        return out

    x = "x"
    for i in range(len(WIDTHS)):
        block = f"block{i + 1}"
        x = op("Conv", [x, f"{block}.conv.weight", f"{block}.conv.bias"], f"{block}/conv",
               kernel_shape=[3, 3], pads=[1, 1, 1, 1], strides=[1, 1])
        x = op("BatchNormalization", [x, *(f"{block}.bn.{p}" for p in (
            "weight", "bias", "running_mean", "running_var"))], f"{block}/bn", epsilon=BN_EPS)
        x = op("Relu", [x], f"{block}/relu")
        if i < len(WIDTHS) - 1:
            x = op("MaxPool", [x], f"{block}/pool", kernel_shape=[2, 2], strides=[2, 2])
    x = op("GlobalAveragePool", [x], "avgpool")
    x = op("Flatten", [x], "flatten", axis=1)
    x = op("Gemm", [x, "fc.weight", "fc.bias"], "fc", transB=1)
    nodes[-1].output[0] = "logits"
    graph = helper.make_graph(
        nodes, "shapes",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ("batch", 3, SIZE, SIZE))],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, ("batch", len(CLASSES)))],
        inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                              producer_name="netdraw")
    model.ir_version = 8
    helper.set_model_props(model, {"class_names": ",".join(CLASSES)})
    return model
