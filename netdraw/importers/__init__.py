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
from netdraw.passes.stats import set_macs
from netdraw.passes.tensor_layout import infer_layouts


@dataclass(frozen=True)
class ImporterSpec:
    """One importer: its name, the file suffixes it reads and the object types it accepts."""

    name: str
    module: str  # "netdraw.importers.onnx"; must define load(source, **options) -> Graph
    suffixes: tuple[str, ...] = ()
    #: (module prefix, class name) pairs matched against the MRO of a live object.
    object_types: tuple[tuple[str, str], ...] = ()
    extra: str = ""  # netdraw's extra that installs the framework when it is missing

    def loader(self) -> Callable[..., Graph]:
        try:
            module = importlib.import_module(self.module)
        except ImportError as exc:
            from netdraw.install import install_line

            raise NetdrawError(f"reading {self.name} models needs {exc.name or 'a package'}, "
                               f"which is not installed: {install_line(self.extra)}"
                               ) from None
        return module.load


IMPORTERS: list[ImporterSpec] = [
    ImporterSpec("netdraw JSON", "netdraw.importers.json", (".json",)),
    ImporterSpec("ONNX", "netdraw.importers.onnx", (".onnx",),
                 (("onnx", "ModelProto"),), "onnx"),
    # Files are read without Keras; live models need it (imported lazily inside). Before
    # PyTorch: Keras 3 models on the torch backend are torch Modules too.
    ImporterSpec("Keras", "netdraw.importers.keras", (".keras", ".h5", ".hdf5"),
                 (("keras", "Model"),), "keras"),
    # torch.export archives are read as data, without torch (see importers/pt2.py).
    ImporterSpec("torch.export archive", "netdraw.importers.pt2", (".pt2",)),
    ImporterSpec("PyTorch", "netdraw.importers.pytorch", (".pt", ".pth"),
                 (("torch", "Module"), ("torch", "ExportedProgram")), "torch"),
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


#: Options that describe a Python model's example input; model files have their own.
INPUT_OPTIONS = ("input_shape", "input_dtype")


def load(source: Any, **options: Any) -> Graph:
    """Read any supported model into a Graph (see :func:`netdraw.load`).

    ``source`` is what the command line's MODEL argument takes — a model file, ``zoo:NAME``
    or ``pkg.module:factory`` — or a live framework model; the CLI loads through here too.
    """
    if isinstance(source, Graph):
        return source
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if isinstance(text, str) and text.startswith("zoo:"):
            return _load_zoo(text, options)
        from netdraw.factory import build, is_factory_spec

        if isinstance(text, str) and is_factory_spec(text) and not os.path.exists(text):
            return load(build(text), **options)
        _check_file(text, options)
    loader = find_importer(source).loader()
    # Building a graph allocates many small objects and frees none: the cyclic garbage
    # collector's repeated full scans would make big imports quadratic, so pause it.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        graph = loader(source, **options)
    finally:
        if was_enabled:
            gc.enable()
    # every loaded graph carries its tensors' layouts and its MACs (attrs["macs"])
    return set_macs(infer_layouts(graph))


def takes_input_options(source: Any) -> bool:
    """Whether ``source`` (a MODEL argument or a live model) is built from Python and so
    takes ``input_shape``/``input_dtype``: ``pkg.module:factory``, a zoo model of a Python
    framework, a live object. A model file (and an ONNX zoo model) has its own inputs."""
    if isinstance(source, Graph):
        return False
    if not isinstance(source, (str, os.PathLike)):
        return True
    text = os.fspath(source)
    if isinstance(text, str) and text.startswith("zoo:"):
        from netdraw import zoo

        return text[4:] in zoo.ZOO and zoo.ZOO[text[4:]].framework != "onnx"
    from netdraw.factory import is_factory_spec

    return isinstance(text, str) and is_factory_spec(text) and not os.path.exists(text)


def _load_zoo(spec: str, options: dict[str, Any]) -> Graph:
    from netdraw import zoo

    given = {k: v for k, v in options.items() if v is not None}
    if any(k in given for k in INPUT_OPTIONS) and zoo.entry(spec[4:]).framework == "onnx":
        raise NetdrawError(f"{spec} is an ONNX model with fixed shapes; input_shape and "
                           "input_dtype (--input-shape, --input-dtype) apply to PyTorch models")
    return zoo.load(spec[4:], **given)


def _check_file(path: Any, options: dict[str, Any]) -> None:
    """A model file must exist and be readable, and takes no example-input options."""
    if any(options.get(k) is not None for k in INPUT_OPTIONS):
        raise NetdrawError("input_shape and input_dtype (--input-shape, --input-dtype) apply to "
                           "Python models (pkg.module:factory, zoo:NAME), not to model files")
    name = os.fsdecode(path)
    if not os.path.exists(path):
        raise NetdrawError(f"cannot read {name!r}: no such file")
    if os.path.isdir(path):
        raise NetdrawError(f"{name!r} is a folder; give a model file")
    if not os.access(path, os.R_OK):
        raise NetdrawError(f"cannot read {name!r}: permission denied")
