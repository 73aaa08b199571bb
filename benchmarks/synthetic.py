"""Synthetic ONNX graphs of any size: residual MLP blocks (MatMul, Relu, Add)."""

from __future__ import annotations

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


def residual_mlp(n_nodes: int, width: int = 16) -> onnx.ModelProto:
    """About ``n_nodes`` nodes: blocks of MatMul -> Relu -> Add(skip), named /blockK/..."""
    nodes, inits = [], []
    x = "input"
    weight = numpy_helper.from_array(np.zeros((width, width), np.float32), "w_shared")
    inits.append(weight)
    for k in range(max(1, n_nodes // 3)):
        scope = f"/stage{k // 100}/block{k}"
        w = f"w{k}"
        inits.append(numpy_helper.from_array(np.zeros((width, width), np.float32), w))
        nodes += [
            helper.make_node("MatMul", [x, w], [f"{scope}/mm"], name=f"{scope}/fc/MatMul"),
            helper.make_node("Relu", [f"{scope}/mm"], [f"{scope}/act"], name=f"{scope}/act/Relu"),
            helper.make_node("Add", [f"{scope}/act", x], [f"{scope}/out"], name=f"{scope}/Add"),
        ]
        x = f"{scope}/out"
    graph = helper.make_graph(
        nodes, f"synthetic-{n_nodes}",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, ["batch", width])],
        [helper.make_tensor_value_info(x, TensorProto.FLOAT, None)], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    return model
