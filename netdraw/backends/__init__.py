"""Backend registry: output format -> the backend that writes it.

Backends see only the IR and never import a framework. :func:`render` returns ``bytes``
for the formats in :data:`BINARY_FORMATS` and ``str`` for every other (text) format,
whichever backend or style draws it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph

#: Output formats that are bytes (every other format is text, returned as ``str``).
BINARY_FORMATS = frozenset({"png", "pdf"})
#: Options of the paper-figure styles (``--scale``, ``--angle``, ``--no-labels``, …).
FIGURE_OPTIONS = ("scale", "spacing", "angle", "colors", "labels", "legend", "width")
_NNSVG = ("scale", "spacing", "colors", "labels", "legend", "width")


@dataclass(frozen=True)
class BackendSpec:
    """One backend: its name, the formats it writes, other names ``--style`` accepts."""

    name: str
    module: str  # must define render(graph, fmt, **options) -> str | bytes
    formats: tuple[str, ...]
    aliases: tuple[str, ...] = ()  # other names --style accepts
    #: The backend makes its own views: it gets the source graph and ``view=ViewOptions``
    #: instead of a graph already made into a view (the HTML page opens any block).
    own_views: bool = False
    #: The figure options (:data:`FIGURE_OPTIONS`) this backend reads; the CLI refuses the
    #: others rather than ignoring them.
    options: tuple[str, ...] = ()

    @property
    def binary_formats(self) -> tuple[str, ...]:
        """The formats of this backend that are binary (see :data:`BINARY_FORMATS`)."""
        return tuple(f for f in self.formats if f in BINARY_FORMATS)

    def answers_to(self, style: str) -> bool:
        return style == self.name or style in self.aliases


BACKENDS: list[BackendSpec] = [
    BackendSpec("graphviz", "netdraw.backends.dot", ("dot", "gv", "svg", "png", "pdf"),
                aliases=("graph",), options=("colors", "width")),
    BackendSpec("json", "netdraw.backends.json", ("json",)),
    BackendSpec("html", "netdraw.backends.html", ("html", "htm"), own_views=True),
    # NN-SVG figure styles: only chosen by --style (the first backend for a format is its
    # default, so these stay after graphviz).
    BackendSpec("fcnn", "netdraw.backends.nnsvg.fcnn", ("svg",),
                options=("spacing", "colors", "labels", "legend", "width")),
    BackendSpec("lenet", "netdraw.backends.nnsvg.lenet", ("svg",), options=_NNSVG),
    BackendSpec("alexnet", "netdraw.backends.nnsvg.alexnet", ("svg",),
                options=(*_NNSVG, "angle")),
    # After graphviz, so .pdf/.png stay Graphviz unless --style tikz asks for TikZ.
    BackendSpec("tikz", "netdraw.backends.tikz", ("tex", "pdf", "png"),
                options=("spacing", "colors", "labels", "legend", "width")),
]


#: Formats that are a document of their own, not a drawing style.
_NOT_STYLES = {"json", "html", "htm"}


def register(spec: BackendSpec) -> None:
    BACKENDS.insert(0, spec)


def formats() -> list[str]:
    return sorted({f for spec in BACKENDS for f in spec.formats})


def styles() -> list[str]:
    """The drawing styles ``--style`` offers (a backend's first alias, else its name)."""
    return [(spec.aliases or (spec.name,))[0] for spec in BACKENDS
            if set(spec.formats) - _NOT_STYLES]


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


def is_binary(fmt: str) -> bool:
    """Whether ``fmt`` is written as bytes (``png``, ``pdf``) rather than text."""
    return fmt in BINARY_FORMATS


def figure_fit(fmt: str, style: str | None, options: dict[str, Any]) -> Any:
    """The measure of fit the view choice uses for a figure style (its backend module's
    ``fit``, as a :class:`netdraw.figure.fit.ViewFit` with the drawing's options), or
    None for backends that have none (Graphviz without a ``width``: the view's own rule;
    with one, :func:`netdraw.backends.dot_print.fit`)."""
    spec = find_backend(fmt, style)
    if spec.name == "graphviz":
        if options.get("width") is None or options.get("activations") is not None:
            return None  # the diagram's own rule, unless printed at a width
        from netdraw.backends.dot_print import fit as measure
    else:
        measure = getattr(importlib.import_module(spec.module), "fit", None)
    if measure is None:
        return None
    from netdraw.figure.fit import ViewFit

    return ViewFit(spec.name, measure, dict(options))


def render(graph: Graph, fmt: str, style: str | None = None, **options: Any) -> str | bytes:
    """Draw ``graph`` as ``fmt``: ``bytes`` for a binary format, ``str`` for a text one.

    ``activations`` is plain thumbnail data the face made (:func:`netdraw.api.render`
    turns captured activations into it): a backend never calls ``netdraw.viz``."""
    spec = find_backend(fmt, style)
    data = importlib.import_module(spec.module).render(graph, fmt, **options)
    if is_binary(fmt):
        return data.encode("utf-8") if isinstance(data, str) else bytes(data)
    text = data.decode("utf-8") if isinstance(data, (bytes, bytearray)) else data
    files = getattr(text, "files", None)
    if files:  # a TikZ figure's images (netdraw.output.TextWithFiles) stay attached
        from netdraw.output import TextWithFiles

        return TextWithFiles(valid_unicode(text), files)
    return valid_unicode(text)


def valid_unicode(text: str) -> str:
    """``text`` with lone surrogates (``"\\ud800"``, which JSON input can hold but no file
    can store) replaced by U+FFFD, so every text output encodes as UTF-8."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
