"""Progress goes to stderr only, when stderr is a terminal, and never with ``--quiet``.

The terminal is a real pseudo-terminal (``pty.openpty``) given to the child as its stderr,
while stdout stays a pipe: what the pipe receives must be exactly what it receives without
any terminal. ``NETDRAW_PROGRESS_DELAY=0`` shows the display at once, so the tests do not
depend on how long the work takes on this machine.
"""

from __future__ import annotations

import os
import pty
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import cli_env

ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


def run_with_tty_stderr(args: list[str], cwd: Path, env: dict[str, str]
                        ) -> tuple[int, str, str]:
    """Run ``python -m netdraw ARGS`` with stderr on a pty; returns (code, stdout, tty)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "netdraw", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    stdout = proc.stdout.read().decode()
    proc.wait(timeout=300)
    os.close(master)
    return proc.returncode, stdout, b"".join(chunks).decode("utf-8", "replace")


@pytest.fixture
def env() -> dict[str, str]:
    env = cli_env()
    env.update(NETDRAW_PROGRESS_DELAY="0", TERM="xterm-256color", NETDRAW_CONFIG="")
    return env


GALLERY = ["gallery", "-o", "g", "onnx-lenet5", "onnx-inception"]


def test_gallery_progress_on_a_terminal_and_nothing_on_stdout(tmp_path, env):
    code, stdout, tty = run_with_tty_stderr(GALLERY, tmp_path, env)
    assert code == 0, tty
    text = ANSI.sub("", tty)
    assert "netdraw: gallery" in text and "netdraw: pdflatex" in text, text[:500]
    assert re.search(r"\d/2", text), "the gallery bar counts models"
    piped = subprocess.run([sys.executable, "-m", "netdraw", *GALLERY[:2], "g2", *GALLERY[3:]],
                           cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0, piped.stderr
    assert piped.stderr == "", "no terminal: no progress"
    assert stdout == piped.stdout.replace("g2/", "g/")
    assert all(line.startswith("wrote ") for line in stdout.splitlines())
    assert "\x1b" not in stdout


def test_quiet_silences_progress_and_the_view_report(tmp_path, env):
    args = ["zoo:onnx-resnet", "-o", "f.pdf", "--style", "tikz"]
    code, stdout, tty = run_with_tty_stderr(args, tmp_path, env)
    assert code == 0 and stdout == ""
    text = ANSI.sub("", tty)
    assert "netdraw: pdflatex" in text and "netdraw: drew the default view" in text
    code, stdout, tty = run_with_tty_stderr([*args, "--quiet"], tmp_path, env)
    assert code == 0 and stdout == "" and tty == "", repr(tty)
    assert (tmp_path / "f.pdf").read_bytes().startswith(b"%PDF")


def test_errors_still_show_with_quiet(tmp_path, env):
    code, _, tty = run_with_tty_stderr(["missing.onnx", "-o", "x.svg", "-q"], tmp_path, env)
    assert code == 2 and tty.startswith("netdraw: error: "), tty


def test_short_work_shows_nothing(tmp_path, env):
    env["NETDRAW_PROGRESS_DELAY"] = "30"
    code, _, tty = run_with_tty_stderr(["zoo:onnx-lenet5", "-o", "x.svg", "--depth", "1"],
                                       tmp_path, env)
    assert code == 0 and tty == "", repr(tty)


def test_api_tasks_nest_and_track(monkeypatch):
    from netdraw import progress

    monkeypatch.setattr(progress, "enabled", lambda: False)
    seen = []
    with progress.task("outer", total=2) as outer:
        for item in progress.track(["a", "b", "c"], "inner"):
            seen.append(item)
        outer.advance()
        outer.update(description="outer: done", completed=2)
        assert (outer.completed, outer.description) == (2, "outer: done")
    assert seen == ["a", "b", "c"] and progress._display.tasks == []
