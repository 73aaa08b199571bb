"""The Python API: load a model into a Graph, render a Graph to a format."""

from __future__ import annotations

from typing import Any

from netdraw import backends, importers
from netdraw.ir import Graph
from netdraw.passes import collapse_to_depth


def load(model_or_path: Any, **options: Any) -> Graph:
    """Read a model file (``.onnx``, ``.json``, …) or a live framework model into a Graph.

    Options go to the importer (e.g. ``example_input`` for a PyTorch module).
    """
    return importers.load(model_or_path, **options)


def render(graph: Graph, format: str = "svg", *, depth: int | None = None,
           style: str | None = None, **options: Any) -> str | bytes:
    """Draw a Graph: text (``dot``, ``json``, ``svg``) or bytes (``png``, ``pdf``).

    ``depth`` collapses groups nested deeper than it into blocks; other options go to the
    backend (``rankdir``, ``title``, …).
    """
    fmt = format.lower().lstrip(".")
    view = graph if depth is None or fmt == "json" else collapse_to_depth(graph, depth)
    return backends.render(view, fmt, style=style, **options)
