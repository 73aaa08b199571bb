"""Shared benchmark plumbing: run commands alternately, take medians of wall time and peak RSS."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
import venv
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
WORK = BENCH / "work"


@dataclass
class Sample:
    """Wall seconds and peak resident memory (MiB) of runs of one command."""

    label: str
    seconds: list[float] = field(default_factory=list)
    peak_mib: list[float] = field(default_factory=list)
    failed: str = ""

    @property
    def wall(self) -> float:
        return statistics.median(self.seconds) if self.seconds else float("nan")

    @property
    def memory(self) -> float:
        return statistics.median(self.peak_mib) if self.peak_mib else float("nan")


def _peak_kib(pid: int) -> int:
    """The process's peak resident set so far (VmHWM), 0 once it has exited."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_measured(cmd: list[str], timeout: float = 600, env: dict[str, str] | None = None,
                 stdout_path: Path | None = None) -> tuple[float, float, int]:
    """Run ``cmd``; return (wall seconds, peak RSS MiB of the process, exit code).

    The peak is the child's VmHWM, polled every 5 ms until it exits (``ru_maxrss`` of a
    child is useless here: Linux carries the parent's peak across fork and exec).
    """
    out = open(stdout_path, "wb") if stdout_path else subprocess.DEVNULL
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.DEVNULL, env=env)
    deadline = start + timeout
    peak = 0
    while True:
        peak = max(peak, _peak_kib(proc.pid))
        pid, status, _ = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() > deadline:
            proc.kill()
            pid, status, _ = os.wait4(proc.pid, 0)
            status = -1
            break
        time.sleep(0.005)
    wall = time.perf_counter() - start
    if stdout_path:
        out.close()
    code = os.waitstatus_to_exitcode(status) if status != -1 else -1
    return wall, peak / 1024, code


def alternate(commands: dict[str, list[list[str]]], repeats: int = 5, timeout: float = 600,
              env: dict[str, str] | None = None) -> dict[str, Sample]:
    """Run each labelled pipeline (a list of commands, timed together) ``repeats`` times,
    alternating between labels so drift in machine load hits every tool alike."""
    samples = {label: Sample(label) for label in commands}
    for _ in range(repeats):
        for label, pipeline in commands.items():
            sample = samples[label]
            if sample.failed:
                continue
            total, peak = 0.0, 0.0
            for cmd in pipeline:
                wall, mib, code = run_measured(cmd, timeout=timeout, env=env)
                total, peak = total + wall, max(peak, mib)
                if code != 0:
                    sample.failed = "timed out" if code == -1 else f"exit {code}"
                    break
            if not sample.failed:
                sample.seconds.append(total)
                sample.peak_mib.append(peak)
    return samples


def ensure_venv(name: str, packages: list[str]) -> Path:
    """A private venv under benchmarks/ for a peer tool; returns its python."""
    folder = BENCH / f".venv-{name}"
    python = folder / "bin" / "python"
    stamp = folder / ".installed"
    wanted = " ".join(packages)
    if not python.exists():
        venv.create(folder, with_pip=True)
    if not stamp.exists() or stamp.read_text() != wanted:
        subprocess.run([str(python), "-m", "pip", "install", "-q", *packages], check=True)
        stamp.write_text(wanted)
    return python


def netdraw_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "netdraw", *args]


def table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)
