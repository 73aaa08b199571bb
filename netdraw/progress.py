"""Progress on stderr for work that takes longer than about a second.

Long work (the gallery, the default-view search on a big graph, a ``pdflatex`` run,
activations over many inputs, gradient ascent) reports through this module, and the user
sees a progress bar (`rich <https://rich.readthedocs.io>`_) on stderr — only when stderr is
a terminal, only once the work has lasted :data:`DELAY` seconds, and never with
``--quiet``. Nothing is ever written to stdout. When the display is off, a task costs a few
attribute updates and ``rich`` is not even imported.

Use it as a context manager around a loop (a known ``total`` gives a bar, ``None`` a
spinner), or wrap an iterable::

    from netdraw import progress

    with progress.task("activations", total=len(inputs)) as bar:
        for x in inputs:
            run(x)
            bar.advance()

    for name in progress.track(names, "gallery"):
        render(name)

    with progress.task("pdflatex"):      # one long step: a spinner and the elapsed time
        compile_pdf(source)

Tasks nest: a task opened inside another shows as a second line under it and disappears
when it ends. One-line informational messages (the CLI's view report) go through
:func:`note`, which ``--quiet`` silences and which prints above a running bar.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

T = TypeVar("T")

#: Seconds a task must run before the display appears (shorter work shows nothing);
#: the environment variable ``NETDRAW_PROGRESS_DELAY`` changes it (tests set 0).
DELAY = 1.0

_quiet = False
_lock = threading.RLock()


def set_quiet(quiet: bool) -> None:
    """Silence (``True``) or allow progress and notes; the CLI's ``--quiet`` calls this."""
    global _quiet
    _quiet = bool(quiet)


def is_quiet() -> bool:
    """Whether the user asked for silence (``--quiet``)."""
    return _quiet


def enabled() -> bool:
    """Whether progress can be shown: not quiet, and stderr is an interactive terminal."""
    if _quiet or os.environ.get("TERM") == "dumb":
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # replaced or closed stderr
        return False


def note(message: str) -> None:
    """Print a one-line informational message on stderr, unless quiet."""
    if _quiet:
        return
    print(message, file=sys.stderr, flush=True)


class Task:
    """One unit of work on the display: ``advance()`` it, ``update()`` its text or total."""

    def __init__(self, description: str, total: int | None) -> None:
        self.description = description
        self.total = total
        self.completed = 0
        self._id: Any = None  # the rich task id while shown

    def advance(self, steps: int = 1) -> None:
        """Count ``steps`` more units of work done."""
        self.completed += steps
        _display.refresh(self)

    def update(self, *, description: str | None = None, total: int | None = None,
               completed: int | None = None) -> None:
        """Change the text shown, the total or the count done."""
        if description is not None:
            self.description = description
        if total is not None:
            self.total = total
        if completed is not None:
            self.completed = completed
        _display.refresh(self)


@contextmanager
def task(description: str, total: int | None = None) -> Iterator[Task]:
    """A :class:`Task` for the ``with`` block; shown if it runs longer than :data:`DELAY`."""
    current = Task(description, total)
    _display.open(current)
    try:
        yield current
    finally:
        _display.close(current)


def track(items: Iterable[T], description: str, total: int | None = None) -> Iterator[T]:
    """Yield from ``items``, advancing a task by one per item (``total`` defaults to
    ``len(items)`` when it has one)."""
    if total is None and hasattr(items, "__len__"):
        total = len(items)  # type: ignore[arg-type]
    with task(description, total) as current:
        for item in items:
            yield item
            current.advance()


def _delay() -> float:
    try:
        return max(0.0, float(os.environ.get("NETDRAW_PROGRESS_DELAY", DELAY)))
    except ValueError:
        return DELAY


class _Display:
    """The one rich Progress shared by every open task; started by a timer after DELAY."""

    def __init__(self) -> None:
        self.tasks: list[Task] = []
        self.progress: Any = None
        self.timer: threading.Timer | None = None

    def open(self, current: Task) -> None:
        with _lock:
            self.tasks.append(current)
            if self.progress is not None:
                self._show(current)
            elif self.timer is None and enabled():
                self.timer = threading.Timer(_delay(), self._start)
                self.timer.daemon = True
                self.timer.start()

    def close(self, current: Task) -> None:
        with _lock:
            if current in self.tasks:
                self.tasks.remove(current)
            if self.progress is not None and current._id is not None:
                self.progress.remove_task(current._id)
                current._id = None
            if not self.tasks:
                if self.timer is not None:
                    self.timer.cancel()
                    self.timer = None
                if self.progress is not None:
                    self.progress.stop()
                    self.progress = None

    def refresh(self, current: Task) -> None:
        if self.progress is None or current._id is None:
            return
        with _lock:
            if self.progress is not None and current._id is not None:
                self.progress.update(current._id, description=current.description,
                                     total=current.total, completed=current.completed)

    def _start(self) -> None:
        with _lock:
            self.timer = None
            if not self.tasks or self.progress is not None or not enabled():
                return
            self.progress = _make_progress()
            for current in self.tasks:
                self._show(current)
            self.progress.start()

    def _show(self, current: Task) -> None:
        current._id = self.progress.add_task(current.description, total=current.total,
                                             completed=current.completed)


def _same_terminal() -> bool:
    """Whether stdout and stderr are the same terminal (then stdout lines go above the bar)."""
    try:
        if not sys.stdout.isatty():
            return False
        out, err = os.fstat(sys.stdout.fileno()), os.fstat(sys.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        return False
    return (out.st_dev, out.st_ino, out.st_rdev) == (err.st_dev, err.st_ino, err.st_rdev)


def _make_progress() -> Any:
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        Progress,
        ProgressColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
    )
    from rich.text import Text

    class Count(ProgressColumn):
        """``3/12`` for a task with a total; nothing for a single long step."""

        def render(self, task: Any) -> Text:
            if task.total is None:
                return Text("")
            return Text(f"{int(task.completed)}/{int(task.total)}", style="progress.download")

    console = Console(file=sys.stderr, stderr=True)
    # stdout is redirected above the bar only when it is the same terminal as stderr: a
    # piped stdout is never touched, so progress never writes a byte to it.
    return Progress(SpinnerColumn(), TextColumn("netdraw: {task.description}"), BarColumn(),
                    Count(), TimeElapsedColumn(), console=console,
                    transient=True, redirect_stdout=_same_terminal(), redirect_stderr=True)


_display = _Display()
