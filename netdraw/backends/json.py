"""JSON backend: the IR in its public, versioned form (schema ``netdraw.graph/1``).

The document is checked against the published schema before it is written, so netdraw
never writes a graph it (or any validator) would refuse to read.
"""

from __future__ import annotations

import json
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph


def render(graph: Graph, fmt: str = "json", **_: Any) -> str:
    from netdraw.schema import validate

    text = graph.to_json()
    try:
        validate(json.loads(text))
    except NetdrawError as exc:
        raise NetdrawError(f"the graph cannot be written as netdraw.graph/1 JSON: {exc}"
                           ) from None
    return text
