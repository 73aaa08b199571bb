"""``pip install ".[all]" -c constraints.txt`` as the README says, into a fresh virtual
environment, used the way a new user does: without ``KERAS_BACKEND`` and with the
``~/.keras/keras.json`` that Keras writes on its first import (naming TensorFlow, which
``.[all]`` does not install). ``netdraw zoo:keras-shapes`` and ``netdraw gallery`` crashed
there ("No module named 'tensorflow'") and the gallery stopped after 60 files without its
index; every entry point now runs Keras on the installed backend.

The environment is built once per session from the project's own files (about two minutes:
torch comes from ``-c constraints.txt``, the CPU build, never a CUDA one). Marked ``venv``.
"""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import ROOT

pytestmark = pytest.mark.venv


class Environment:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.bin = root / "venv" / "bin"

    def run(self, *args: str, cwd: Path, program: str = "netdraw", timeout: int = 1800
            ) -> subprocess.CompletedProcess[str]:
        home = cwd / "home"
        (home / ".keras").mkdir(parents=True, exist_ok=True)
        (home / ".keras" / "keras.json").write_text(json.dumps(
            {"floatx": "float32", "epsilon": 1e-07, "backend": "tensorflow",
             "image_data_format": "channels_last"}))
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8",
               "NETDRAW_CONFIG": "", "HF_HUB_OFFLINE": "1"}
        return subprocess.run([str(self.bin / program), *args], capture_output=True, text=True,
                              cwd=cwd, env=env, timeout=timeout)


@pytest.fixture(scope="session")
def everything(tmp_path_factory: pytest.TempPathFactory) -> Environment:
    root = tmp_path_factory.mktemp("all-extras")
    source = root / "source"  # the checkout's files, after 'npm ci' as the README says
    shutil.copytree(ROOT / "netdraw", source / "netdraw",
                    ignore=shutil.ignore_patterns("__pycache__", "vendor"))
    for name in ("pyproject.toml", "setup.py", "README.md", "package.json",
                 "package-lock.json", "MANIFEST.in", "constraints.txt"):
        shutil.copy(ROOT / name, source / name)
    library = Path("node_modules", "@hpcc-js", "wasm-graphviz")
    for name in ("dist/index.js", "LICENSE"):
        (source / library / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / library / name, source / library / name)
    subprocess.run([sys.executable, "-m", "venv", str(root / "venv")], check=True, timeout=300)
    found = Environment(root)
    proc = subprocess.run([str(found.bin / "python"), "-m", "pip", "install", "--quiet",
                           ".[all]", "-c", "constraints.txt"], capture_output=True, text=True,
                          timeout=1800, cwd=source)
    assert proc.returncode == 0, f"pip install '.[all]' failed:\n{proc.stderr[-3000:]}"
    code = ("import importlib.metadata as m\nimport importlib.util as u\n"
            "print(m.version('torch'), [x for x in ('keras', 'onnxruntime', 'tensorflow', "
            "'transformers') if u.find_spec(x)])")
    proc = found.run("-c", code, cwd=root, program="python")
    assert proc.stdout.split(" ", 1) == ["2.13.0+cpu", "['keras', 'onnxruntime']\n"], \
        proc.stdout + proc.stderr
    return found


def test_keras_zoo_model_without_keras_backend(everything, tmp_path):
    result = everything.run("zoo:keras-shapes", "-o", "k.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "running Keras on torch" in result.stderr
    graph = json.loads((tmp_path / "k.json").read_text())
    assert graph["meta"]["framework"] == "keras"


class _Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.sections: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("a", "img") and (found.get("href") or found.get("src")):
            self.links.append(found.get("href") or found.get("src") or "")
        if tag == "section" and found.get("id"):
            self.sections.append(found["id"] or "")


def test_gallery_without_keras_backend_draws_every_model_and_its_index(everything, tmp_path):
    from urllib.parse import unquote

    from netdraw import zoo

    result = everything.run("gallery", "-o", "g", cwd=tmp_path)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr and "error" not in result.stderr, result.stderr
    assert "skipped the transformer gallery" in result.stderr  # a note, on stderr
    assert "skipped the transformer gallery" not in result.stdout
    folder = tmp_path / "g"
    parser = _Links()
    parser.feed((folder / "index.html").read_text(encoding="utf-8"))
    assert parser.sections == list(zoo.ZOO)  # every zoo model: all frameworks are here
    local = [unquote(link) for link in parser.links if not link.startswith(("#", "http"))]
    assert local and all((folder / link).is_file() for link in local), \
        [link for link in local if not (folder / link).is_file()]
    for name in zoo.ZOO:
        assert {f"{name}.svg", f"{name}.html", f"{name}.tex"} <= set(local), name
