"""JSON backend: the IR in its public, versioned form (schema ``netdraw.graph/1``)."""

from __future__ import annotations

from typing import Any

from netdraw.ir import Graph


def render(graph: Graph, fmt: str = "json", **_: Any) -> str:
    return graph.to_json()
