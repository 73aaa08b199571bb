"""PyTorch importer: live ``nn.Module`` objects, ``torch.export`` programs and ``.pt2`` files.

A live module is traced by running one forward pass on an example input (see
:mod:`netdraw.importers.torch_trace`); an ``ExportedProgram`` in memory is read from its
graph (:mod:`netdraw.importers.torch_export`), and a ``.pt2`` archive saved with
``torch.export.save`` from the program's JSON without torch (:mod:`netdraw.importers.pt2`).
A ``.pt``/``.pth`` file is only ever opened with ``torch.load(weights_only=True)``: a state
dict holds no architecture, so it gets an error that says how to draw the model instead.

>>> import torch
>>> graph = load(torch.nn.Sequential(torch.nn.Linear(4, 2)), input_shape=(1, 4))
>>> [(n.name, n.kind, n.outputs[0].shape) for n in graph]
[('input', 'input', (1, 4)), ('0', 'dense', (1, 2)), ('output', 'output', (1, 2))]
"""

from __future__ import annotations

import os
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from netdraw.describe import plural
from netdraw.errors import NetdrawError
from netdraw.importers import torch_trace
from netdraw.ir import Graph

Shape = Sequence[int]


def load(module_or_path: Any, *, example_input: Any = None,
         input_shape: Shape | Sequence[Shape] | None = None,
         input_dtype: str | torch.dtype | Sequence[str | torch.dtype] | None = None,
         name: str | None = None) -> Graph:
    """Import a PyTorch model into a Graph.

    ``module_or_path`` is an ``nn.Module`` (traced with one forward pass), an
    ``ExportedProgram`` or a path to a ``.pt2`` file. A module needs ``example_input`` (a
    tensor; a tuple or list of positional arguments; a dict of keyword arguments) or
    ``input_shape`` (one shape such as ``(1, 3, 224, 224)`` or a list of shapes, one per
    input) with ``input_dtype`` (``"float32"`` by default; one or one per input).
    """
    if isinstance(module_or_path, (str, os.PathLike)):
        return _load_file(Path(module_or_path), name)
    if isinstance(module_or_path, torch.export.ExportedProgram):
        from netdraw.importers import torch_export

        return torch_export.convert(module_or_path, name or "model")
    if not isinstance(module_or_path, nn.Module):
        raise NetdrawError(f"the PyTorch importer reads nn.Module, ExportedProgram or .pt2 "
                           f"files, not {type(module_or_path).__name__}")
    model = module_or_path
    args, kwargs = _example_arguments(model, example_input, input_shape, input_dtype)
    return torch_trace.trace(model, args, kwargs, name or type(model).__name__)


# -- example inputs --------------------------------------------------------------------


def parse_dtype(value: str | torch.dtype) -> torch.dtype:
    """``"float32"``, ``"torch.int64"``, ``"long"`` or a torch.dtype -> torch.dtype."""
    if isinstance(value, torch.dtype):
        return value
    text = str(value).strip().removeprefix("torch.")
    dtype = getattr(torch, text, None)
    if not isinstance(dtype, torch.dtype):
        raise NetdrawError(f"unknown input dtype {value!r}; use a torch dtype name such as "
                           "float32, float16, int64 or bool")
    return dtype


def _shapes(input_shape: Shape | Sequence[Shape]) -> list[tuple[int, ...]]:
    items = list(input_shape)
    if not items:
        raise NetdrawError("the input shape is empty; give one such as 1,3,224,224")
    nested = [isinstance(s, (tuple, list, torch.Size)) for s in items]
    shapes = [tuple(s) for s in items] if all(nested) else [tuple(items)] if not any(nested) \
        else None
    if shapes is None:
        raise NetdrawError(f"input shape {input_shape!r} mixes numbers and shapes; give one "
                           "shape (1, 3, 224, 224) or a list of shapes")
    for shape in shapes:
        if not all(isinstance(d, int) and not isinstance(d, bool) and d >= 0 for d in shape):
            raise NetdrawError(f"input shape {shape!r} must be non-negative whole numbers, "
                               "such as 1,3,224,224")
    return shapes


def make_inputs(input_shape: Shape | Sequence[Shape],
                input_dtype: Any = None, device: torch.device | None = None
                ) -> list[torch.Tensor]:
    """Deterministic example tensors: normal noise for floats, zeros for integers and bools
    (zeros are valid indices for any embedding)."""
    shapes = _shapes(input_shape)
    if input_dtype is None or isinstance(input_dtype, (str, torch.dtype)):
        dtypes = [parse_dtype(input_dtype or "float32")] * len(shapes)
    else:
        dtypes = [parse_dtype(d) for d in input_dtype]
        if len(dtypes) == 1:
            dtypes *= len(shapes)
        if len(dtypes) != len(shapes):
            raise NetdrawError(f"{len(dtypes)} input dtypes for {len(shapes)} input shapes; "
                               "give one dtype, or one per shape")
    generator = torch.Generator().manual_seed(0)
    tensors = []
    for shape, dtype in zip(shapes, dtypes, strict=True):
        if dtype.is_floating_point or dtype.is_complex:
            t = torch.randn(shape, generator=generator).to(dtype)
        else:
            t = torch.zeros(shape, dtype=dtype)
        tensors.append(t if device is None else t.to(device))
    return tensors


def _example_arguments(model: nn.Module, example_input: Any, input_shape: Any,
                       input_dtype: Any) -> tuple[tuple, dict]:
    if example_input is not None:
        if isinstance(example_input, dict):
            return (), dict(example_input)
        if isinstance(example_input, (tuple, list)):
            return tuple(example_input), {}
        return (example_input,), {}
    if input_shape is None:
        raise NetdrawError(f"tracing {type(model).__name__} needs an example input: pass "
                           "example_input=... or input_shape=(1, 3, 224, 224) from Python, "
                           "or --input-shape 1,3,224,224 on the command line")
    param = next(model.parameters(), None)
    return tuple(make_inputs(input_shape, input_dtype,
                             param.device if param is not None else None)), {}


# -- files -----------------------------------------------------------------------------


def _load_file(path: Path, name: str | None) -> Graph:
    if not path.is_file():
        raise NetdrawError(f"cannot read {path}: no such file")
    if path.stat().st_size == 0:
        raise NetdrawError(f"{path} is empty; save the model again")
    if path.suffix.lower() == ".pt2":
        from netdraw.importers import pt2

        return pt2.load(path, name=name)
    return _explain_checkpoint(path)


_HOW = ("netdraw needs the architecture: draw the model from Python with "
        "netdraw.load(model, input_shape=...), on the command line with "
        "'netdraw draw pkg.module:factory --input-shape 1,3,224,224 -o out.svg', or save it "
        "with torch.export.save(torch.export.export(model, (x,)), 'model.pt2')")


def _is_torchscript(path: Path) -> bool:
    if not zipfile.is_zipfile(path):
        return False
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError):
        return False
    return any(n.endswith("/constants.pkl") or "/code/" in n for n in names)


def _explain_checkpoint(path: Path) -> Graph:
    """A ``.pt``/``.pth`` file never holds a drawable architecture; say what it holds."""
    if _is_torchscript(path):  # torch.load would hand it to torch.jit.load: never run it
        raise NetdrawError(f"{path} is a TorchScript archive, which netdraw does not read; "
                           + _HOW)
    try:
        data = torch.load(str(path), map_location="cpu", weights_only=True)
    except Exception as exc:
        text = str(exc)
        if "Weights only load failed" in text or "weights_only" in text:
            raise NetdrawError(f"{path} holds a pickled Python object (a whole model?), which "
                               "netdraw will not unpickle because that can run arbitrary code; "
                               + _HOW) from None
        raise NetdrawError(f"{path} is not a readable PyTorch file ({type(exc).__name__}); "
                           "is it truncated?") from None
    tensors = _count_tensors(data)
    what = (f"a state dict ({plural(tensors, 'tensor')})" if tensors else
            f"a {type(data).__name__} without tensors")
    raise NetdrawError(f"{path} holds only {what}: weights, not an architecture. " + _HOW)


def _count_tensors(data: Any) -> int:
    if isinstance(data, torch.Tensor):
        return 1
    if isinstance(data, dict):
        return sum(_count_tensors(v) for v in data.values())
    if isinstance(data, (list, tuple)):
        return sum(_count_tensors(v) for v in data)
    return 0
