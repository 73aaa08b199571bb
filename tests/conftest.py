"""Shared test helpers: run the CLI in a subprocess, check outputs with their real consumers."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("KERAS_BACKEND", "torch")  # Keras 3 runs on torch here; no TensorFlow
sys.path.insert(0, str(Path(__file__).resolve().parent))


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
