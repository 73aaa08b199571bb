"""Reads a graph written by netdraw's JSON backend (schema ``netdraw.graph/1``).

The document is checked against the published schema (:mod:`netdraw.schema`) before any
field is used; errors name the file and the JSON path.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph

#: Larger files are refused before reading (a million-node graph is about 500 MB).
MAX_BYTES = 1024 ** 3


def load(source: str | os.PathLike[str], **_: Any) -> Graph:
    path = Path(source)
    try:
        size = path.stat().st_size
        if size > MAX_BYTES:
            raise NetdrawError(f"{path} is {size:,} bytes; netdraw reads graph JSON of up to "
                               f"{MAX_BYTES:,} bytes")
        text = path.read_bytes()
    except OSError as exc:
        raise NetdrawError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not text.strip():
        raise NetdrawError(f"{path} is empty; write a graph with 'netdraw MODEL -o {path.name}'")
    try:
        return Graph.from_json(text)
    except NetdrawError as exc:
        raise NetdrawError(f"{path}: {exc}") from None
