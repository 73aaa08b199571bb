"""netdraw: draw neural networks from PyTorch, Keras and ONNX models.

>>> import netdraw
>>> graph = netdraw.load("model.onnx")            # doctest: +SKIP
>>> svg = netdraw.render(graph, "svg", rankdir="LR")  # doctest: +SKIP
"""

from netdraw.api import load, render
from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Group, Node, TensorSpec
from netdraw.notebook import show

__version__ = "0.1.0"
__all__ = ["Edge", "Graph", "Group", "NetdrawError", "Node", "TensorSpec", "load", "render",
           "show"]
