"""The readable view: prune, infer groups, fold, roll and collapse, in one entry point.

**Default view rule.** Without ``depth``, netdraw tries every depth from the full one (every
group open) down to 1 and draws the deepest one that has at most ``max_nodes`` (40) nodes
and whose estimated drawing, wrapped into side-by-side columns where it is a tall chain,
has its longer side at most 4× the shorter. When no depth qualifies it draws the one with
the fewest nodes. The chosen view is described in ``meta["view"]`` and by
:func:`describe_view`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.passes import layout
from netdraw.passes.collapse import GroupIndex, resolve_paths, view_at
from netdraw.passes.fold import default_patterns, parse_pattern
from netdraw.passes.fold import fold as fold_pass
from netdraw.passes.groups import dissolve_singletons, infer_groups, is_flat
from netdraw.passes.parallel import merge_parallel, wide_anchors
from netdraw.passes.prune import prune
from netdraw.passes.stats import annotate, total_macs

#: ``--depth`` at least this large draws every level.
FULL_DEPTH = 1_000_000


@dataclass(frozen=True)
class ViewOptions:
    """What to draw. ``depth`` None means the default view (see the module docstring)."""

    depth: int | None = None
    expand: tuple[str, ...] = ()
    collapse: tuple[str, ...] = ()
    roll: bool = True
    fold: bool = True
    #: Extra patterns (``conv>norm>activation=ConvBNAct``); tried before the defaults and
    #: applied even when ``fold`` is False (which only turns the defaults off).
    fold_patterns: tuple[str, ...] = field(default_factory=tuple)
    keep_all: bool = False
    max_nodes: int = 40
    #: Draw more than ``parallel.MAX_PARALLEL`` parallel lanes as one (see passes/parallel).
    merge_parallel: bool = True

    @classmethod
    def full(cls) -> ViewOptions:
        """Every node of the graph: all depths, nothing rolled, folded, hidden or merged."""
        return cls(depth=FULL_DEPTH, roll=False, fold=False, keep_all=True,
                   merge_parallel=False)

    def __post_init__(self) -> None:
        if self.depth is not None and (not isinstance(self.depth, int) or self.depth < 0):
            raise NetdrawError(f"--depth must be a whole number 0 or more, not {self.depth!r}")
        if self.max_nodes < 1:
            raise NetdrawError(f"--max-nodes must be 1 or more, not {self.max_nodes}")
        for name in ("expand", "collapse", "fold_patterns"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value or ()))


def prepare(graph: Graph, options: ViewOptions) -> Graph:
    """Everything that does not depend on the depth: stats, prune, groups, fold."""
    patterns = [parse_pattern(p) for p in options.fold_patterns]
    if options.fold:
        patterns += default_patterns()
    g = annotate(graph)
    if not options.keep_all:
        g = prune(g)
    if is_flat(g):
        # Fold first: Conv-BN-ReLU chains then never straddle an inferred block's border.
        if patterns:
            g = fold_pass(g, patterns)
        g = infer_groups(g)
    else:
        g = dissolve_singletons(g)
        if patterns:
            g = fold_pass(g, patterns)
    return dissolve_singletons(g)


def make_view(graph: Graph, options: ViewOptions | None = None) -> Graph:
    """The view of ``graph`` that ``options`` ask for (a new graph; the input is untouched).

    >>> from netdraw import load
    >>> from netdraw.zoo.onnx_models import small_resnet
    >>> view = make_view(load(small_resnet()))
    >>> [n.name for n in view if n.attrs.get("repeat")]
    ['layer1.0–layer1.1']
    """
    options = options or ViewOptions()
    merged, notes = merge_parallel(graph) if options.merge_parallel else (graph, [])
    warnings = [] if options.merge_parallel else \
        [f"{w}; drawing them all can take the layout very long (drop --full to draw them as "
         "one node)" for w in wide_anchors(graph)]
    prepared = prepare(merged, options)
    index = GroupIndex(prepared)
    expand = resolve_paths(prepared, options.expand, "--expand")
    collapse = resolve_paths(prepared, options.collapse, "--collapse")
    auto = options.depth is None
    if auto:
        depth, view = _choose(index, expand, collapse, options)
    else:
        depth = min(options.depth, index.full_depth)
        view = view_at(index, depth, expand, collapse, options.roll)
    columns, ratio = layout.columns_for(view)
    folded = sum(len(f) for n in prepared if isinstance(f := n.attrs.get("folded"), list))
    view.meta["view"] = {
        "auto": auto,
        "depth": depth,
        "full_depth": index.full_depth,
        "nodes": len(view),
        "source_nodes": len(graph),
        "rolled": sum(1 for n in view if n.attrs.get("repeat")),
        "folded": folded,
        "hidden": len(merged) - len(prepared) - folded,
        "merged": notes,
        "warnings": warnings,
        "columns": columns,
        "aspect": round(ratio, 2),
        "params": view.total_params,
        "macs": total_macs(view),
        "inferred_groups": prepared.meta.get("inferred_groups"),
    }
    view.meta.pop("inferred_groups", None)
    return view


def _choose(index: GroupIndex, expand: set, collapse: set,
            options: ViewOptions) -> tuple[int, Graph]:
    tried: list[tuple[int, Graph]] = []
    for depth in range(index.full_depth, 0, -1):
        view = view_at(index, depth, expand, collapse, options.roll)
        _, ratio = layout.columns_for(view)
        if len(view) <= options.max_nodes and ratio <= layout.MAX_ASPECT:
            return depth, view
        tried.append((depth, view))
    depth, view = min(tried, key=lambda t: (len(t[1]), -t[0]))
    return depth, view


def describe_view(view: Graph) -> str:
    """One line saying which view a graph is and how to get the full graph."""
    info = view.meta.get("view")
    if not info:
        return f"drew the full graph: {len(view)} nodes"
    parts = []
    if info.get("rolled"):
        parts.append(f"{info['rolled']} repeated run{'s' if info['rolled'] != 1 else ''} "
                     "rolled (×N)")
    if info.get("folded"):
        parts.append(f"{info['folded']} layers folded")
    if info.get("hidden"):
        parts.append(f"{info['hidden']} plumbing nodes hidden")
    parts += info.get("merged") or []
    if info.get("inferred_groups"):
        parts.append(f"blocks inferred from {info['inferred_groups']}")
    which = "default view" if info.get("auto") else "view"
    full = info.get("full_depth", 1)
    depth = f"depth {info['depth']} of {full}" if full > 1 else "full depth"
    detail = f" ({'; '.join(parts)})" if parts else ""
    return (f"drew the {which} at {depth}: {info['nodes']} of {info['source_nodes']} nodes"
            f"{detail}; --full draws every node, --depth N chooses the depth")
