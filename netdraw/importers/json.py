"""Reads a graph written by netdraw's JSON backend (schema ``netdraw.graph/1``)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph


def load(source: str | os.PathLike[str], **_: Any) -> Graph:
    path = Path(source)
    try:
        text = path.read_bytes()
    except OSError as exc:
        raise NetdrawError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not text.strip():
        raise NetdrawError(f"{path} is empty; write a graph with 'netdraw MODEL -o {path.name}'")
    return Graph.from_json(text)
