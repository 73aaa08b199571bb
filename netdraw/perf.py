"""Keeping big graphs fast: Python's cycle collector paused while a graph is built.

Importing or viewing a 100k-node graph allocates millions of small objects; each full
collection walks every live object, so with the collector running, cost grows faster
than the graph. The IR makes no reference cycles, so nothing is lost by pausing it for
the duration and collecting once at the end (the caller's setting is restored).
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cycle collector inside the block (nested uses are fine)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
