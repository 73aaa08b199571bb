"""What changed between two models: ``netdraw.diff(a, b)`` and ``netdraw diff A B``.

It works on two IRs only (never a framework), so any two models netdraw reads can be
compared, across frameworks too:

>>> import netdraw
>>> result = netdraw.diff("zoo:resnet18", "zoo:resnet50")   # doctest: +SKIP
>>> result.same, result.counts()["added"]                   # doctest: +SKIP
(False, 97)
>>> svg = result.render("svg")                              # doctest: +SKIP

Parts: :mod:`~netdraw.diff.compare` (when two nodes are the same layer, what changed),
:mod:`~netdraw.diff.match` (which node of A is which node of B; the algorithm and its
cost are documented there), :mod:`~netdraw.diff.build` (the result and the union graph),
:mod:`~netdraw.diff.view` (statuses of a view's nodes and how they are drawn),
:mod:`~netdraw.diff.table` (``--summary``) and :mod:`~netdraw.diff.draw` (drawings).

``netdraw.diff`` is this package and also the function: calling the package calls
:func:`diff`.
"""

from __future__ import annotations

import sys
import types
from typing import Any

from netdraw.diff.result import SCHEMA, STATUSES, DiffResult, EdgeDiff, GroupDiff, NodeDiff
from netdraw.ir import Graph


def load_side(model: Any, **options: Any) -> Graph:
    """A Graph from anything :func:`netdraw.load` accepts (``zoo:NAME`` and Graphs too)."""
    from netdraw.importers import load

    return load(model, **options)


def diff(a: Any, b: Any, *, keep_all: bool = False, **load_options: Any) -> DiffResult:
    """Compare model ``a`` (before) with model ``b`` (after).

    ``a`` and ``b`` are anything :func:`netdraw.load` reads (files, live models, Graphs,
    ``zoo:NAME``), in any mix of frameworks; ``load_options`` go to both loads. Plumbing
    (dropout, shape arithmetic, bias adds…) is left out of the comparison as drawings
    leave it out, unless ``keep_all``. Returns a :class:`DiffResult`: per node added /
    removed / changed (which attributes, shapes, parameters) / same, per group the same
    summarised, totals of parameters and MACs, and the union graph to draw.
    """
    from netdraw.diff.build import diff_graphs

    return diff_graphs(load_side(a, **load_options), load_side(b, **load_options),
                       keep_all=keep_all)


class _CallableModule(types.ModuleType):
    """Lets ``netdraw.diff(a, b)`` call :func:`diff` although ``netdraw.diff`` is a package."""

    def __call__(self, a: Any, b: Any, **options: Any) -> DiffResult:
        return diff(a, b, **options)


sys.modules[__name__].__class__ = _CallableModule

__all__ = ["SCHEMA", "STATUSES", "DiffResult", "EdgeDiff", "GroupDiff", "NodeDiff", "diff",
           "load_side"]
