"""``pip install ".[onnx]"`` as the README says: a fresh virtual environment with netdraw and
the ONNX extra only (no torch, no keras). ONNX models draw; the zoo marks the models that
need torch; asking for one (or for Keras) is a one-line error with the install line.

The virtual environment is made once per test session (about a minute: ``python -m venv``
and ``pip install`` from the configured package index); the tests are marked ``venv``
(``pytest -m venv`` runs only them, ``-m "not venv"`` leaves them out). A failure to build
it fails the tests: they are never skipped.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import onnx_models as M
import pytest
from conftest import ROOT, assert_one_line_error

pytestmark = pytest.mark.venv
INSTALL_TORCH = "pip install 'netdraw[torch]'"


class Venv:
    """A virtual environment holding an installed copy of this checkout."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.bin = folder / "bin"

    def run(self, *args: str, cwd: Path, program: str = "netdraw"
            ) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8"}
        return subprocess.run([str(self.bin / program), *args], capture_output=True, text=True,
                              cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="session")
def onnx_only(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("onnx-only")
    source = root / "source"  # a copy: pip's in-tree build would leave build/ in the checkout
    shutil.copytree(ROOT / "netdraw", source / "netdraw",
                    ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "setup.py", "README.md", "package.json"):
        shutil.copy(ROOT / name, source / name)
    # The README's order: 'npm ci' first, so the build puts the HTML preview's library in.
    library = Path("node_modules", "@hpcc-js", "wasm-graphviz")
    for name in ("dist/index.js", "LICENSE"):
        (source / library / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / library / name, source / library / name)
    venv = Venv(root / "venv")
    for command in ([sys.executable, "-m", "venv", str(venv.folder)],
                    [str(venv.bin / "python"), "-m", "pip", "install", "--quiet",
                     f"{source}[onnx]"]):
        proc = subprocess.run(command, capture_output=True, text=True, timeout=900)
        assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stderr[-3000:]}"
    proc = venv.run("-c", "import importlib.util as u; print([m for m in ('torch', 'keras', "
                    "'onnx', 'netdraw') if u.find_spec(m)])", cwd=root, program="python")
    assert proc.stdout.strip() == "['onnx', 'netdraw']", proc.stdout + proc.stderr
    return venv


def test_onnx_files_draw_without_torch(onnx_only, tmp_path):
    (tmp_path / "model.onnx").write_bytes(M.sequential_convnet().SerializeToString())
    result = onnx_only.run("model.onnx", "-o", "model.svg", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ET.parse(tmp_path / "model.svg")
    result = onnx_only.run("zoo:onnx-lenet5", "-o", "lenet.svg", "--style", "lenet",
                           cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    ET.parse(tmp_path / "lenet.svg")


def test_zoo_marks_the_models_that_need_torch(onnx_only, tmp_path):
    from netdraw import zoo

    result = onnx_only.run("zoo", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    rows = {line.split()[0]: line for line in result.stdout.splitlines() if line.strip()}
    for name, entry in zoo.ZOO.items():
        assert ("[needs torch]" in rows[name]) == (entry.framework == "torch"), rows[name]
    assert INSTALL_TORCH in result.stdout


@pytest.mark.parametrize("args", [("zoo:resnet18", "-o", "r.svg"), ("summary", "zoo:mlp"),
                                  ("gallery", "-o", "g", "resnet18")])
def test_torch_zoo_models_give_the_install_line(onnx_only, tmp_path, args):
    result = onnx_only.run(*args, cwd=tmp_path)
    assert_one_line_error(result, "needs torch, which is not installed", INSTALL_TORCH)
    assert not (tmp_path / "r.svg").exists() and not (tmp_path / "g").exists()


def test_gallery_renders_what_it_can_and_names_the_rest(onnx_only, tmp_path):
    from netdraw import zoo

    result = onnx_only.run("gallery", "-o", "g", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    others = [n for n, e in zoo.ZOO.items() if e.framework != "onnx"]  # torch and keras
    onnx_models = [n for n, e in zoo.ZOO.items() if e.framework == "onnx"]
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith(f"netdraw: skipped {len(others)} zoo models") and \
        INSTALL_TORCH in line and "pip install 'netdraw[keras]'" in line and \
        all(n in line for n in others), line
    written = {p.name for p in (tmp_path / "g").iterdir()}
    for name in onnx_models:
        assert {f"{name}.svg", f"{name}.png", f"{name}.json", f"{name}.html"} <= written
        json.loads((tmp_path / "g" / f"{name}.json").read_text())
    assert not any(p.split(".")[0] in others for p in written)


def test_keras_files_without_keras(onnx_only, tmp_path):
    import keras

    inputs = keras.Input((8,))
    keras.Model(inputs, keras.layers.Dense(4, name="fc")(inputs)).save(tmp_path / "m.keras")
    result = onnx_only.run("m.keras", "-o", "m.json", cwd=tmp_path)  # config.json only
    assert result.returncode == 0, result.stderr
    code = ("import netdraw\ntry:\n    netdraw.load('m.keras', via_keras=True)\n"
            "except netdraw.NetdrawError as exc:\n    print('NetdrawError:', exc)\n")
    result = onnx_only.run("-c", code, cwd=tmp_path, program="python")
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert result.stdout.startswith("NetdrawError: ") and "needs keras" in result.stdout
    assert "pip install 'netdraw[keras]'" in result.stdout
