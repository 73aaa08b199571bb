"""Crafted ``.pt2`` archives for the safety tests: genuine programs with payloads that run
code when ``torch.export.load`` unpickles or evaluates them.

Every payload touches a marker file; a test passes when the marker never appears. Building
them needs no torch: a genuine archive is rewritten with :mod:`zipfile` and :mod:`json`.
"""

from __future__ import annotations

import json
import pathlib
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path


class Touch:
    """Unpickling this object creates ``marker`` (``__reduce__`` calls ``Path.touch``)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (pathlib.Path.touch, (pathlib.Path(self.marker),))


def payload(marker: Path) -> bytes:
    """A pickle whose loading touches ``marker`` (plain pickle: torch.load falls back to it)."""
    return pickle.dumps(Touch(marker), protocol=2)


def _entries(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _write(entries: dict[str, bytes], out: Path) -> Path:
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return out


def _root(entries: dict[str, bytes]) -> str:
    return next(n for n in entries if n.endswith("/archive_format")).rsplit("/", 1)[0]


def _config(entries: dict[str, bytes], name: str) -> dict:
    return json.loads(entries[name]) if name in entries else {"config": {}}


def pickled_weight(archive: Path, out: Path, marker: Path) -> Path:
    """The first weight is marked ``use_pickle`` and its bytes replaced by the payload."""
    entries = _entries(archive)
    root = _root(entries)
    name = f"{root}/data/weights/model_weights_config.json"
    config = _config(entries, name)
    fqn, meta = next(iter(config["config"].items()))
    meta["use_pickle"] = True
    entries[f"{root}/data/weights/{meta['path_name']}"] = payload(marker)
    config["config"][fqn] = meta
    entries[name] = json.dumps(config).encode()
    return _write(entries, out)


def _constant(kind: str) -> Callable[[Path, Path, Path], Path]:
    def build(archive: Path, out: Path, marker: Path) -> Path:
        entries = _entries(archive)
        root = _root(entries)
        name = f"{root}/data/constants/model_constants_config.json"
        config = _config(entries, name)
        path_name = {"pickled": "tensor_99", "opaque": "opaque_obj_0",
                     "custom": "custom_obj_0"}[kind]
        config["config"][f"evil_{kind}"] = {"path_name": path_name, "is_param": False,
                                           "use_pickle": True, "tensor_meta": None}
        entries[f"{root}/data/constants/{path_name}"] = payload(marker)
        entries[name] = json.dumps(config).encode()
        return _write(entries, out)

    build.__name__ = f"{kind}_constant"
    return build


pickled_constant = _constant("pickled")
opaque_object = _constant("opaque")
custom_object = _constant("custom")


def sample_inputs(archive: Path, out: Path, marker: Path) -> Path:
    """The sample inputs (a torch.save file torch.load falls back to unpickling)."""
    entries = _entries(archive)
    root = _root(entries)
    entries[f"{root}/data/sample_inputs/model.pt"] = payload(marker)
    return _write(entries, out)


def sympy_size(archive: Path, out: Path, marker: Path) -> Path:
    """A symbolic size whose text, evaluated by ``sympy.sympify``, touches the marker."""
    entries = _entries(archive)
    root = _root(entries)
    name = f"{root}/models/model.json"
    program = json.loads(entries[name])
    code = f"__import__('pathlib').Path({str(marker)!r}).touch() or Symbol('s0')"
    for meta in program["graph_module"]["graph"]["tensor_values"].values():
        for size in meta["sizes"]:
            if "as_expr" in size:
                size["as_expr"]["expr_str"] = code
    entries[name] = json.dumps(program).encode()
    return _write(entries, out)


#: Every crafted variant: name -> builder(genuine archive, output path, marker path).
VARIANTS: dict[str, Callable[[Path, Path, Path], Path]] = {
    "pickled weight": pickled_weight,
    "pickled constant": pickled_constant,
    "opaque object": opaque_object,
    "custom object": custom_object,
    "sample inputs": sample_inputs,
    "sympy size": sympy_size,
}
