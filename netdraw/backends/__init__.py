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
    aliases: tuple[str, ...] = ()  # other names --style accepts

    def answers_to(self, style: str) -> bool:
        return style == self.name or style in self.aliases


BACKENDS: list[BackendSpec] = [
    BackendSpec("graphviz", "netdraw.backends.dot", ("dot", "gv", "svg", "png", "pdf"),
                ("png", "pdf"), aliases=("graph",)),
    BackendSpec("json", "netdraw.backends.json", ("json",)),
    # NN-SVG figure styles: only chosen by --style (the first backend for a format is its
    # default, so these stay after graphviz).
    BackendSpec("fcnn", "netdraw.backends.nnsvg.fcnn", ("svg",)),
    BackendSpec("lenet", "netdraw.backends.nnsvg.lenet", ("svg",)),
    BackendSpec("alexnet", "netdraw.backends.nnsvg.alexnet", ("svg",)),
    # After graphviz, so .pdf/.png stay Graphviz unless --style tikz asks for TikZ.
    BackendSpec("tikz", "netdraw.backends.tikz", ("tex", "pdf", "png"), ("pdf", "png")),
]


def register(spec: BackendSpec) -> None:
    BACKENDS.insert(0, spec)


def formats() -> list[str]:
    return sorted({f for spec in BACKENDS for f in spec.formats})


def styles() -> list[str]:
    """The drawing styles ``--style`` offers (a backend's first alias, else its name)."""
    return [(spec.aliases or (spec.name,))[0] for spec in BACKENDS
            if set(spec.formats) - {"json"}]


def find_backend(fmt: str, style: str | None = None) -> BackendSpec:
    for spec in BACKENDS:
        if fmt in spec.formats and (style is None or spec.answers_to(style)):
            return spec
    if style is not None:
        known = [spec for spec in BACKENDS if spec.answers_to(style)]
        if not known:
            raise NetdrawError(f"unknown style {style!r}; choose one of {', '.join(styles())}")
        writes = ", ".join(f".{f}" for f in known[0].formats)
        raise NetdrawError(f"style {style!r} cannot write .{fmt}; it writes {writes}")
    raise NetdrawError(f"unknown output format {fmt!r}; choose one of {', '.join(formats())}")


def render(graph: Graph, fmt: str, style: str | None = None, **options: Any) -> str | bytes:
    """Draw ``graph`` as ``fmt`` with the backend that writes it (text is valid Unicode)."""
    spec = find_backend(fmt, style)
    data = importlib.import_module(spec.module).render(graph, fmt, **options)
    return valid_unicode(data) if isinstance(data, str) else data


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"``, which JSON input can hold but no file
    can store) replaced by U+FFFD, so every text output encodes as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
