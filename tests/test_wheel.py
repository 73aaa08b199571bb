"""``python -m build`` makes an sdist and, from it, a wheel that installs into a fresh
virtual environment outside the checkout and draws every format its registry offers.

The checkout is copied first (pip and build would leave ``build/`` behind), without the
top-level ``templates`` symlink, so the package cannot lean on it. ``python -m build``
without ``--sdist``/``--wheel`` builds the wheel from the unpacked sdist, so a file missing
from the sdist fails here too. The fresh environment gets the wheel and its dependencies
only — no framework — and draws a ``.json`` graph (which needs none) in every
(style, format) pair that ``netdraw.backends.BACKENDS`` lists *in that environment*, so a
backend added later (HTML) is tested without a change here. Each output is checked by its
consumer: ``dot`` for DOT, an XML parser for SVG, ``pdflatex`` for the TikZ ``.tex``, the
magic bytes for PNG/PDF, ``json`` for JSON, Python's HTML parser for HTML.

Marked ``venv`` (about a minute: pip installs the dependencies from the package index).
"""

from __future__ import annotations

import html.parser
import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, require_module

import netdraw

pytestmark = pytest.mark.venv

#: Left out of the copy: everywhere, caches and build output; at the top, what no build needs.
_ANYWHERE = shutil.ignore_patterns("__pycache__", "*.egg-info", ".pytest_cache")
_AT_TOP = {".git", ".venv", "build", "dist", "gallery", "tests", "benchmarks", "docs"}


def _ignore(folder: str, names: list[str]) -> set[str]:
    skipped = set(_ANYWHERE(folder, names))
    if Path(folder) == ROOT:
        skipped |= _AT_TOP & set(names)
    return skipped


MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-"}


class Installed:
    def __init__(self, root: Path, wheel: Path, sdist: Path) -> None:
        self.root, self.wheel, self.sdist = root, wheel, sdist
        self.bin = root / "venv" / "bin"

    def run(self, *args: str, cwd: Path, program: str = "netdraw"
            ) -> subprocess.CompletedProcess[str]:
        env = {"PATH": f"{self.bin}:/usr/bin:/bin", "HOME": str(cwd), "LANG": "C.UTF-8",
               "NETDRAW_CONFIG": ""}
        return subprocess.run([str(self.bin / program), *args], capture_output=True, text=True,
                              cwd=cwd, env=env, timeout=600)


def _check(command: list[str], timeout: int = 900) -> None:
    proc = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, f"{' '.join(command)} failed:\n{proc.stderr[-3000:]}"


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    shutil.copytree(ROOT, source, ignore=_ignore, symlinks=True)
    templates = source / "templates"
    if templates.is_symlink():
        templates.unlink()  # the wheel must not need it
    _check([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(root / "dist"),
            str(source)])
    (wheel,) = (root / "dist").glob("*.whl")
    (sdist,) = (root / "dist").glob("*.tar.gz")
    found = Installed(root, wheel, sdist)
    _check([sys.executable, "-m", "venv", str(root / "venv")])
    _check([str(found.bin / "python"), "-m", "pip", "install", "--quiet", str(wheel)])
    return found


def test_wheel_carries_every_package_file(installed):
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    package = ROOT / "netdraw"
    for path in package.rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            assert f"netdraw/{path.relative_to(package).as_posix()}" in names, path
    assert not any(n.startswith("templates/") for n in names)


def test_version_is_one_source(installed, tmp_path):
    proc = installed.run("--version", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == f"netdraw {netdraw.__version__}"
    proc = installed.run("-c", "import importlib.metadata as m, netdraw; "
                         "print(m.version('netdraw'), netdraw.__file__)",
                         cwd=tmp_path, program="python")
    version, where = proc.stdout.split()
    assert version == netdraw.__version__
    assert str(installed.root / "venv") in where and str(ROOT) not in where
    assert installed.wheel.name.startswith(f"netdraw-{netdraw.__version__}-")
    assert installed.sdist.name == f"netdraw-{netdraw.__version__}.tar.gz"


def _registry(installed: Installed, cwd: Path) -> list[tuple[str | None, str]]:
    """(style, format) pairs of the installed registry; style None for a format's default."""
    code = ("import json; from netdraw.backends import BACKENDS\n"
            "print(json.dumps([[s.name, (s.aliases or (s.name,))[0], list(s.formats)] "
            "for s in BACKENDS]))")
    proc = installed.run("-c", code, cwd=cwd, program="python")
    assert proc.returncode == 0, proc.stderr
    pairs: set[tuple[str | None, str]] = set()
    for _name, style, formats in json.loads(proc.stdout):
        for fmt in formats:
            pairs.add((None, fmt))  # the format's default backend
            if style != "json":
                pairs.add((style, fmt))
    return sorted(pairs, key=lambda p: (p[1], p[0] or ""))


def test_installed_wheel_draws_every_format(installed, tmp_path):
    from netdraw.zoo.onnx_models import small_resnet

    require_module("onnx")
    (tmp_path / "model.json").write_text(netdraw.load(small_resnet()).to_json())
    pairs = _registry(installed, tmp_path)
    assert {"svg", "png", "pdf", "dot", "json", "tex"} <= {fmt for _, fmt in pairs}
    for style, fmt in pairs:
        out = tmp_path / f"out-{style or 'default'}.{fmt}"
        args = ["model.json", "-o", out.name, "--quiet"] + (["--style", style] if style else [])
        proc = installed.run(*args, cwd=tmp_path)
        assert proc.returncode == 0, (style, fmt, proc.stderr)
        assert proc.stderr == "", (style, fmt, proc.stderr)
        data = out.read_bytes()
        assert data, (style, fmt)
        _consume(fmt, data, tmp_path, (style, fmt))


def _consume(fmt: str, data: bytes, folder: Path, what: object) -> None:
    """Give an output to its real consumer."""
    if fmt in MAGIC:
        assert data.startswith(MAGIC[fmt]), what
    elif fmt == "svg":
        assert ET.fromstring(data).tag.endswith("svg"), what
    elif fmt in ("dot", "gv"):
        proc = subprocess.run(["dot", "-Tsvg"], input=data, capture_output=True, timeout=300)
        assert proc.returncode == 0 and not proc.stderr.strip(), (what, proc.stderr)
    elif fmt == "json":
        assert json.loads(data)["nodes"], what
    elif fmt == "tex":
        if shutil.which("pdflatex") is None:
            pytest.fail("pdflatex is needed to check the TikZ figure (scripts/dev.sh installs it)")
        (folder / "figure.tex").write_bytes(data)
        proc = subprocess.run(["pdflatex", "-halt-on-error", "-no-shell-escape",
                               "-interaction=nonstopmode", "figure.tex"], cwd=folder,
                              capture_output=True, timeout=300, stdin=subprocess.DEVNULL)
        assert proc.returncode == 0, (what, proc.stdout[-2000:])
        assert (folder / "figure.pdf").read_bytes().startswith(b"%PDF-")
    elif fmt in ("html", "htm"):
        text = data.decode("utf-8")
        parser = html.parser.HTMLParser()
        parser.feed(text)
        parser.close()
        assert "<html" in text.lower(), what
    else:  # a format added after this test: at least non-empty, text or binary
        assert len(data) > 16, what
