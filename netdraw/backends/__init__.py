"""Backend registry: output format -> the backend that writes it.

Backends see only the IR and never import a framework.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph


@dataclass(frozen=True)
class BackendSpec:
    """One backend: the formats it writes and whether they are binary."""

    name: str
    module: str  # must define render(graph, fmt, **options) -> str | bytes
    formats: tuple[str, ...]
    binary_formats: tuple[str, ...] = ()


BACKENDS: list[BackendSpec] = [
    BackendSpec("graphviz", "netdraw.backends.dot", ("dot", "gv", "svg", "png", "pdf"),
                ("png", "pdf")),
    BackendSpec("json", "netdraw.backends.json", ("json",)),
]


def register(spec: BackendSpec) -> None:
    BACKENDS.insert(0, spec)


def formats() -> list[str]:
    return sorted({f for spec in BACKENDS for f in spec.formats})


def find_backend(fmt: str, style: str | None = None) -> BackendSpec:
    for spec in BACKENDS:
        if fmt in spec.formats and (style is None or style == spec.name):
            return spec
    if style is not None:
        raise NetdrawError(f"style {style!r} cannot write .{fmt}")
    raise NetdrawError(f"unknown output format {fmt!r}; choose one of {', '.join(formats())}")


def render(graph: Graph, fmt: str, style: str | None = None, **options: Any) -> str | bytes:
    spec = find_backend(fmt, style)
    return importlib.import_module(spec.module).render(graph, fmt, **options)
