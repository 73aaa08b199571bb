"""The parts of the ``onnx`` package the ONNX importer needs, without ``import onnx``.

``import onnx`` loads numpy, ``ml_dtypes`` (whose extension registers numpy dtypes: 0.2 s
on a quiet machine, seconds on a busy one) and dozens of helper modules. Reading a model
needs only the generated protobuf classes (``onnx.onnx_ml_pb2``) and the C++ shape
inference (``onnx.onnx_cpp2py_export``). Those two modules are loaded under a placeholder
``onnx`` package, which is removed again at once: a later ``import onnx`` runs the real
package, which finds the same two modules already loaded, so its ``onnx.ModelProto`` is
the class used here. When ``onnx`` is already imported, its modules are used directly.

>>> pb = protobuf()
>>> pb.ModelProto.__name__
'ModelProto'
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import types
from functools import cache
from typing import Any

_PB = "onnx.onnx_ml_pb2"
_CPP = "onnx.onnx_cpp2py_export"


@cache
def _modules() -> tuple[types.ModuleType, types.ModuleType]:
    loaded = sys.modules.get("onnx")
    if loaded is not None and hasattr(loaded, "ModelProto"):
        return importlib.import_module(_PB), importlib.import_module(_CPP)
    spec = importlib.util.find_spec("onnx")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("No module named 'onnx'")
    placeholder = types.ModuleType("onnx")
    placeholder.__path__ = list(spec.submodule_search_locations)
    sys.modules["onnx"] = placeholder
    try:
        pb, cpp = importlib.import_module(_PB), importlib.import_module(_CPP)
    finally:
        if sys.modules.get("onnx") is placeholder:
            del sys.modules["onnx"]
    return pb, cpp


def protobuf() -> types.ModuleType:
    """The generated protobuf module: ``ModelProto``, ``TensorProto``, ``AttributeProto``…"""
    return _modules()[0]


def infer_shapes(data: bytes) -> bytes:
    """ONNX shape inference (not strict, with data propagation) on a serialised model."""
    return _modules()[1].shape_inference.infer_shapes(data, False, False, True)


def attribute_value(attr: Any) -> Any:
    """The Python value of a scalar or list attribute (``onnx.helper.get_attribute_value``
    for the types a drawing uses); None for graphs, tensors and other protos."""
    pb = protobuf().AttributeProto
    kind = attr.type
    if kind == pb.FLOAT:
        return attr.f
    if kind == pb.INT:
        return attr.i
    if kind == pb.STRING:
        return attr.s
    if kind == pb.FLOATS:
        return list(attr.floats)
    if kind == pb.INTS:
        return list(attr.ints)
    if kind == pb.STRINGS:
        return list(attr.strings)
    return None


__all__ = ["attribute_value", "infer_shapes", "protobuf"]
