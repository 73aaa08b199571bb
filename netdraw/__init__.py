"""netdraw: draw neural networks from PyTorch, Keras and ONNX models.

>>> import netdraw
>>> graph = netdraw.load("model.onnx")            # doctest: +SKIP
>>> svg = netdraw.render(graph, "svg", rankdir="LR")  # doctest: +SKIP
>>> changes = netdraw.diff("old.onnx", "new.onnx")    # doctest: +SKIP
"""

from netdraw.api import load, render
from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Group, Node, TensorSpec
from netdraw.notebook import show
from netdraw.version import __version__

__all__ = ["Edge", "Graph", "Group", "NetdrawError", "Node", "TensorSpec", "__version__",
           "diff", "load", "render", "show"]


def __getattr__(name: str):
    """``netdraw.diff`` (a package you can call: ``netdraw.diff(a, b)``), imported on use."""
    if name == "diff":
        import importlib

        return importlib.import_module("netdraw.diff")
    raise AttributeError(f"module 'netdraw' has no attribute {name!r}")
