"""Importer registry: file suffix or Python object type -> the importer that reads it.

Importers are named by module path and imported only when used, so reading an ``.onnx``
file never imports torch or keras, and ``netdraw --help`` imports no framework at all.
"""

from __future__ import annotations

import gc
import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph


@dataclass(frozen=True)
class ImporterSpec:
    """One importer: its name, the file suffixes it reads and the object types it accepts."""

    name: str
    module: str  # "netdraw.importers.onnx"; must define load(source, **options) -> Graph
    suffixes: tuple[str, ...] = ()
    #: (module prefix, class name) pairs matched against the MRO of a live object.
    object_types: tuple[tuple[str, str], ...] = ()
    requirement: str = ""  # what to pip install when the framework is missing

    def loader(self) -> Callable[..., Graph]:
        try:
            module = importlib.import_module(self.module)
        except ImportError as exc:
            raise NetdrawError(f"reading {self.name} models needs {exc.name or 'a package'}, "
                               f"which is not installed: pip install '{self.requirement}'"
                               ) from None
        return module.load


IMPORTERS: list[ImporterSpec] = [
    ImporterSpec("netdraw JSON", "netdraw.importers.json", (".json",)),
    ImporterSpec("ONNX", "netdraw.importers.onnx", (".onnx",),
                 (("onnx", "ModelProto"),), "netdraw[onnx]"),
    # Files are read without Keras; live models need it (imported lazily inside). Before
    # PyTorch: Keras 3 models on the torch backend are torch Modules too.
    ImporterSpec("Keras", "netdraw.importers.keras", (".keras", ".h5", ".hdf5"),
                 (("keras", "Model"),), "netdraw[keras]"),
    # torch.export archives are read as data, without torch (see importers/pt2.py).
    ImporterSpec("torch.export archive", "netdraw.importers.pt2", (".pt2",)),
    ImporterSpec("PyTorch", "netdraw.importers.pytorch", (".pt", ".pth"),
                 (("torch", "Module"), ("torch", "ExportedProgram")), "netdraw[torch]"),
]


def register(spec: ImporterSpec) -> None:
    """Add an importer (later registrations win for the same suffix or type)."""
    IMPORTERS.insert(0, spec)


def _matches(obj: object, spec: ImporterSpec) -> bool:
    for cls in type(obj).__mro__:
        for module_prefix, class_name in spec.object_types:
            if cls.__name__ == class_name and cls.__module__.split(".")[0] == module_prefix:
                return True
    return False


def find_importer(source: Any) -> ImporterSpec:
    """The importer for a path (by suffix) or a live model object (by type)."""
    if isinstance(source, (str, os.PathLike)):
        suffix = Path(source).suffix.lower()
        for spec in IMPORTERS:
            if suffix in spec.suffixes:
                return spec
        known = sorted({s for spec in IMPORTERS for s in spec.suffixes})
        raise NetdrawError(f"cannot tell the format of {str(source)!r} from its suffix "
                           f"{suffix or '(none)'!r}; netdraw reads {', '.join(known)}")
    for spec in IMPORTERS:
        if _matches(source, spec):
            return spec
    raise NetdrawError(f"netdraw cannot read a {type(source).__module__}."
                       f"{type(source).__name__}; give a model file or a framework model object")


def load(source: Any, **options: Any) -> Graph:
    """Read any supported model into a Graph (see :func:`netdraw.load`)."""
    if isinstance(source, Graph):
        return source
    loader = find_importer(source).loader()
    # Building a graph allocates many small objects and frees none: the cyclic garbage
    # collector's repeated full scans would make big imports quadratic, so pause it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return loader(source, **options)
    finally:
        if was_enabled:
            gc.enable()
