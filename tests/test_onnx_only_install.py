"""``pip install ".[onnx]"`` as the README says, on a fresh clone where ``npm ci`` never ran
and node is not even on the ``PATH``: a fresh virtual environment with netdraw and the ONNX
extra only (no torch, no keras). ONNX and ``.h5`` files draw; the zoo marks the models that
need torch; asking for one (or for Keras) is a one-line error with the install line that
works for an install from a checkout (the checkout's path, not ``netdraw[torch]``); the HTML
preview, whose browser library ``npm ci`` would have installed, says how to get it.

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


class Venv:
    """A virtual environment holding an installed copy of this checkout."""

    def __init__(self, folder: Path, source: Path) -> None:
        self.folder = folder
        self.source = source
        self.bin = folder / "bin"
        # What a fresh machine without node has: the venv, and a folder of the tools
        # netdraw calls (Graphviz, LaTeX, Poppler), but no node or npm.
        self.tools = folder / "tools"
        self.tools.mkdir(exist_ok=True)
        for tool in ("dot", "pdflatex", "pdftoppm", "kpsewhich"):
            (self.tools / tool).symlink_to(shutil.which(tool) or f"/usr/bin/{tool}")
        self.path = f"{self.bin}:{self.tools}"

    def install_line(self, extra: str) -> str:
        """The hint for a netdraw installed from the folder ``source``."""
        return f"pip install '{self.source}[{extra}]'"

    def run(self, *args: str, cwd: Path, program: str = "netdraw"
            ) -> subprocess.CompletedProcess[str]:
        env = {"PATH": self.path, "HOME": str(cwd), "LANG": "C.UTF-8"}
        return subprocess.run([str(self.bin / program), *args], capture_output=True, text=True,
                              cwd=cwd, env=env, timeout=600)


@pytest.fixture(scope="session")
def onnx_only(tmp_path_factory: pytest.TempPathFactory) -> Venv:
    root = tmp_path_factory.mktemp("onnx-only")
    source = root / "source"  # a fresh clone's files: no node_modules/, 'npm ci' never ran
    shutil.copytree(ROOT / "netdraw", source / "netdraw",
                    ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    for name in ("pyproject.toml", "setup.py", "README.md", "package.json",
                 "package-lock.json", "MANIFEST.in"):
        shutil.copy(ROOT / name, source / name)
    assert not (source / "node_modules").exists()
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=300)
    venv = Venv(root / "venv", source)
    assert shutil.which("node", path=venv.path) is None
    assert shutil.which("npm", path=venv.path) is None
    env = {"PATH": venv.path, "HOME": str(root), "LANG": "C.UTF-8"}
    proc = subprocess.run([str(venv.bin / "python"), "-m", "pip", "install", "--quiet",
                           ".[onnx]"], capture_output=True, text=True, timeout=900,
                          cwd=source, env=env)
    assert proc.returncode == 0, f"pip install '.[onnx]' failed:\n{proc.stderr[-3000:]}"
    proc = venv.run("-c", "import importlib.util as u; print([m for m in ('torch', 'keras', "
                    "'onnx', 'h5py', 'netdraw') if u.find_spec(m)])", cwd=root,
                    program="python")
    assert proc.stdout.strip() == "['onnx', 'h5py', 'netdraw']", proc.stdout + proc.stderr
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
    assert onnx_only.install_line("torch") in result.stdout


@pytest.mark.parametrize("args", [("zoo:resnet18", "-o", "r.svg"), ("summary", "zoo:mlp"),
                                  ("gallery", "-o", "g", "resnet18")])
def test_torch_zoo_models_give_the_install_line(onnx_only, tmp_path, args):
    result = onnx_only.run(*args, cwd=tmp_path)
    assert_one_line_error(result, "needs torch, which is not installed",
                          onnx_only.install_line("torch"))
    assert not (tmp_path / "r.svg").exists() and not (tmp_path / "g").exists()


def test_gallery_renders_what_it_can_and_names_the_rest(onnx_only, tmp_path):
    from netdraw import zoo

    result = onnx_only.run("gallery", "-o", "g", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    others = [n for n, e in zoo.ZOO.items() if e.framework != "onnx"]  # torch and keras
    onnx_models = [n for n, e in zoo.ZOO.items() if e.framework == "onnx"]
    lines = result.stderr.strip().splitlines()
    (skipped,) = [ln for ln in lines if ln.startswith("netdraw: skipped") and "zoo" in ln]
    (library,) = [ln for ln in lines if "HTML previews" in ln]
    assert not [ln for ln in lines if "error" in ln], lines
    assert skipped.startswith(f"netdraw: skipped {len(others)} zoo models") and \
        onnx_only.install_line("torch") in skipped and \
        onnx_only.install_line("keras") in skipped and all(n in skipped for n in others), \
        skipped
    assert "npm ci" in library and "HTML previews" in library, library
    written = {p.name for p in (tmp_path / "g").iterdir()}
    for name in onnx_models:
        assert {f"{name}.svg", f"{name}.png", f"{name}.json"} <= written
        assert f"{name}.html" not in written
        json.loads((tmp_path / "g" / f"{name}.json").read_text())
    assert "index.html" in written
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
    assert onnx_only.install_line("keras") in result.stdout


def test_h5_files_draw_with_the_onnx_extra(onnx_only, tmp_path):
    """The README says ``.h5`` files draw with the ONNX extra: it brings h5py."""
    import keras

    inputs = keras.Input((8,), name="features")
    hidden = keras.layers.Dense(16, activation="relu", name="hidden")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(3, name="logits")(hidden))
    model.save(tmp_path / "m.h5")
    result = onnx_only.run("m.h5", "-o", "m.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    names = {n["name"] for n in json.loads((tmp_path / "m.json").read_text())["nodes"]}
    assert {layer.name for layer in model.layers if layer.name != "features"} <= names


def test_html_without_the_browser_library_says_how_to_get_it(onnx_only, tmp_path):
    (tmp_path / "model.onnx").write_bytes(M.sequential_convnet().SerializeToString())
    result = onnx_only.run("model.onnx", "-o", "model.html", cwd=tmp_path)
    assert_one_line_error(result, "npm ci", str(onnx_only.source), "NETDRAW_GRAPHVIZ_JS")
    assert not (tmp_path / "model.html").exists()
