"""External programs (Graphviz ``dot``, ``pdflatex``, ``pdftoppm``), run with a time limit.

No input makes netdraw wait without end: every program runs at most :func:`time_limit`
seconds (120 by default; the ``NETDRAW_TIMEOUT`` environment variable or a backend's
``timeout`` option changes it), is killed when the time is up, and the user gets one line
naming the program and saying how to draw less.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Mapping, Sequence

from netdraw.errors import NetdrawError

DEFAULT_TIMEOUT = 120.0
#: What to do when a layout or a compile takes too long.
SMALLER_VIEW = ("draw a smaller view with --depth 1 or 2 (or --collapse PATH), without "
                "--full, or set NETDRAW_TIMEOUT=SECONDS to wait longer")


def time_limit(timeout: float | str | None = None) -> float:
    """The time limit in seconds: ``timeout`` if given, else ``NETDRAW_TIMEOUT``, else 120."""
    value = timeout if timeout is not None else os.environ.get("NETDRAW_TIMEOUT")
    if value is None or value == "":
        return DEFAULT_TIMEOUT
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        raise NetdrawError(f"the time limit must be a number of seconds, not {value!r} "
                           "(NETDRAW_TIMEOUT)") from None
    if not 0 < seconds < 1e6:
        raise NetdrawError(f"the time limit must be between 0 and 1,000,000 seconds, not "
                           f"{value!r} (NETDRAW_TIMEOUT)")
    return seconds


def run(cmd: Sequence[str], *, program: str, input: bytes | None = None,
        timeout: float | str | None = None, cwd: str | None = None,
        env: Mapping[str, str] | None = None,
        advice: str = SMALLER_VIEW) -> subprocess.CompletedProcess[bytes]:
    """Run ``cmd`` (output captured); a NetdrawError naming ``program`` (and giving
    ``advice``) if it runs too long or cannot start. The exit status is the caller's."""
    limit = time_limit(timeout)
    try:
        return subprocess.run(list(cmd), input=input, capture_output=True, cwd=cwd,
                              env=dict(env) if env is not None else None, timeout=limit,
                              stdin=subprocess.DEVNULL if input is None else None)
    except subprocess.TimeoutExpired:
        raise NetdrawError(f"{program} did not finish within {limit:g} s and was stopped; "
                           f"{advice}") from None
    except OSError as exc:
        raise NetdrawError(f"could not run {program} ({cmd[0]}): {exc.strerror or exc}"
                           ) from None
