"""Imports go down the layers only (scripts/layers.py holds the layers), and the docs'
drawing of the import graph (docs/imports.dot) is the one the source gives today.

The checker itself is tested on a copy of the package with an upward import planted, lazy
inside a function, as the bugs it guards against were (``ir.py`` importing the API for its
Jupyter hooks, the backend registry building thumbnails with ``netdraw.viz``).
"""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import pytest
from conftest import ROOT


def _layers():
    spec = importlib.util.spec_from_file_location("netdraw_layers", ROOT / "scripts" / "layers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


layers = _layers()


def test_no_part_imports_a_part_above_it() -> None:
    assert layers.violations() == []


def test_every_part_has_a_layer() -> None:
    parts = {p.stem if p.is_file() else p.name
             for p in (ROOT / "netdraw").iterdir()
             if (p.suffix == ".py") or (p.is_dir() and (p / "__init__.py").exists())}
    for part in parts:
        layers.layer_of(part)  # KeyError names a part nobody placed


def test_the_docs_drawing_is_current() -> None:
    assert (ROOT / "docs" / "imports.dot").read_text(encoding="utf-8") == layers.dot(), (
        "run: .venv/bin/python scripts/layers.py --write")


@pytest.mark.parametrize(("file", "line", "expected"), [
    ("ir.py", "    from netdraw.api import render\n",
     "ir (base) imports api (face): netdraw/ir.py"),
    ("backends/__init__.py", "    from netdraw.viz import thumbnails\n",
     "backends (readers and writers) imports viz (features): netdraw/backends/__init__.py"),
    ("backends/dot.py", "    import netdraw.importers.onnx\n",
     "backends imports importers, which stay apart: netdraw/backends/dot.py"),
    ("passes/view.py", "    from netdraw import zoo\n",
     "passes (transforms) imports zoo (readers and writers): netdraw/passes/view.py"),
    ("passes/view.py", "    from ..cli import main\n",
     "passes (transforms) imports cli (face): netdraw/passes/view.py"),
    ("ir.py", "    from .api import render\n", "ir (base) imports api (face): netdraw/ir.py"),
])
def test_a_planted_upward_import_is_found(tmp_path: Path, file: str, line: str,
                                          expected: str) -> None:
    package = tmp_path / "netdraw"
    shutil.copytree(ROOT / "netdraw", package,
                    ignore=shutil.ignore_patterns("__pycache__", "templates", "*.json"))
    target = package / file
    target.write_text(target.read_text(encoding="utf-8")
                      + "\n\ndef _planted() -> None:\n" + line, encoding="utf-8")
    found = layers.violations(package)
    assert any(v.startswith(expected) for v in found), found
