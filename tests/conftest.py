"""Shared test helpers: run the CLI in a subprocess, check outputs with their real consumers."""

from __future__ import annotations

import importlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 runs on torch here; no TensorFlow
sys.path.insert(0, str(Path(__file__).resolve().parent))

#: How the tests start Debian's Chromium (no sandbox as root, nothing fetched in the background).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def cli_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.setdefault("KERAS_BACKEND", "torch")
    env.pop("NETDRAW_DEBUG", None)
    return env


def run_cli(*args: str, cwd: Path | None = None, check: bool = False,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """``python -m netdraw ARGS`` in a subprocess; returns the completed process."""
    proc = subprocess.run([sys.executable, "-m", "netdraw", *args], capture_output=True,
                          text=True, cwd=cwd, env=env or cli_env(), timeout=600)
    if check and proc.returncode != 0:
        raise AssertionError(f"netdraw {' '.join(args)} failed:\n{proc.stderr}")
    return proc


def assert_one_line_error(proc: subprocess.CompletedProcess[str], *fragments: str) -> None:
    """Exit 2, exactly one stderr line starting with 'netdraw: error:', no traceback."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith("netdraw: error: "), proc.stderr
    assert "Traceback" not in proc.stderr
    for fragment in fragments:
        assert fragment.lower() in lines[0].lower(), (fragment, lines[0])


def dot_layout(source: str, fmt: str = "svg") -> bytes:
    """Run Graphviz's real ``dot`` on DOT text; fails the test on any error or warning."""
    proc = subprocess.run(["dot", f"-T{fmt}"], input=source.encode("utf-8"),
                          capture_output=True, timeout=300)
    assert proc.returncode == 0, proc.stderr.decode()
    assert not proc.stderr.strip(), proc.stderr.decode()
    return proc.stdout


@pytest.fixture(scope="session")
def artefacts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder for rendered files (kept in pytest's temp dir for looking at)."""
    return tmp_path_factory.mktemp("artefacts")


# -- no silent skips -------------------------------------------------------------------------
#
# The README set-up (scripts/dev.sh: `pip install -e '.[all,test,docs]'`, its apt-get list,
# `npm ci`) installs every tool and package below, and CI runs that set-up. A test that needs
# one of them fails when it is missing: a skip would let a broken install, or a broken
# import, pass as green. Any other skip must say why (pytest runs with -ra).

SETUP_TOOLS = ("dot", "pdflatex", "pdftoppm", "pdftotext", "pdfimages", "pdfinfo", "chromium",
               "npm")
SETUP_MODULES = ("torch", "keras", "h5py", "onnx", "onnxruntime", "onnxscript", "PIL",
                 "torchcam", "transformers", "diffusers", "hypothesis", "jsonschema",
                 "playwright", "sphinx", "myst_parser", "nbclient", "nbformat", "nbconvert",
                 "sympy")


def require_tool(name: str) -> str:
    """The path of a command-line tool the set-up installs; fails the test when missing."""
    path = shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: run scripts/dev.sh (it installs it)", pytrace=False)
    return path


def require_module(name: str):
    """Import a package the set-up installs; fails the test (not a skip) when missing."""
    try:
        return importlib.import_module(name)
    except ImportError as exc:
        pytest.fail(f"{name} does not import ({exc}): run scripts/dev.sh, which installs "
                    "netdraw with its [all,test,docs] extras", pytrace=False)


_SETUP_SKIP = re.compile(
    r"could not import '(?P<module>[\w.]+)'|\b(?P<tool>" + "|".join(SETUP_TOOLS) + r")\b")


def _setup_part_named(reason: str) -> str | None:
    """The set-up tool or package a skip reason blames, if any."""
    m = _SETUP_SKIP.search(reason)
    if m is None:
        return None
    if m.group("module"):
        root = m.group("module").split(".")[0]
        return root if root in SETUP_MODULES else None
    return m.group("tool")


def _fail_setup_skip(report: pytest.TestReport | pytest.CollectReport) -> None:
    if not report.skipped or not isinstance(report.longrepr, tuple):
        return
    reason = str(report.longrepr[2])
    part = _setup_part_named(reason)
    if part is not None:
        report.outcome = "failed"
        report.longrepr = (f"skipped for want of {part}, which the README set-up installs; "
                           f"run scripts/dev.sh ({reason})")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    """A skip caused by a missing set-up tool or package (say a stray importorskip) fails."""
    outcome = yield
    _fail_setup_skip(outcome.get_result())


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector: pytest.Collector):
    """The same for a whole module skipped at import time."""
    outcome = yield
    _fail_setup_skip(outcome.get_result())


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium through Playwright, one per test module."""
    require_module("playwright.sync_api")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=require_tool("chromium"), args=CHROMIUM_ARGS)
        yield b
        b.close()
