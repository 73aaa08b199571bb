"""The readable view: prune, infer groups, fold, roll and collapse, in one entry point.

**Default view rule.** Without ``depth``, netdraw tries every depth from the full one (every
group open) down to 1 and draws the deepest one that has at most ``max_nodes`` (40) nodes
and whose estimated drawing (:mod:`netdraw.passes.layout`: box sizes, ranks, edges passing
ranks, wrapped into side-by-side columns where it is a tall chain) has its longer side at
most 4× the shorter. When no depth qualifies it draws the best-proportioned view with at
most ``max_nodes`` nodes, and only when every view has more, the one with the fewest. A
view that is a single block is never chosen while a view of five or more nodes is under
the node limit. Wrappers (a group whose only child is one group) are no depth level of
their own (:mod:`netdraw.passes.collapse`). The chosen view is described in
``meta["view"]`` and by :func:`describe_view`.

**Figure styles** measure the fit their own way: :func:`make_view` takes their ``fit``
(:class:`netdraw.figure.fit.ViewFit`), called as ``fit(view, relaxed)``; the deepest
depth whose figure fits with all its labels wins, else the deepest that fits with compact
labels (``relaxed``). How the figure fits is recorded in ``meta["view"]["figure"]``.

Costs: :func:`prepare` is O(N + E) per pass (prune, fold, groups); choosing the default
view builds one view per depth, each O(N·depth + E) (plus a figure style's own measure).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from netdraw.describe import plural
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.passes import layout
from netdraw.passes.collapse import GroupIndex, resolve_paths, view_at
from netdraw.passes.fold import default_patterns, parse_pattern
from netdraw.passes.fold import fold as fold_pass
from netdraw.passes.groups import dissolve_singletons, has_singletons, infer_groups, is_flat
from netdraw.passes.parallel import merge_parallel, wide_anchors
from netdraw.passes.prune import prune
from netdraw.passes.stats import annotate, total_macs
from netdraw.perf import paused_gc

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
    #: Of ``expand`` and ``collapse``, those whose names may match no group of the model
    #: (project defaults from a configuration file): such names are left out, not errors.
    optional: frozenset[str] = frozenset()

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


#: Keyword options (of ``netdraw.render``, ``view``, ``diff`` drawings) that choose the view.
VIEW_OPTIONS = ("depth", "expand", "collapse", "roll", "fold", "fold_patterns", "keep_all",
                "max_nodes", "full")


def view_options(*, full: bool = False, **options: Any) -> ViewOptions:
    """ViewOptions from keyword options (:data:`VIEW_OPTIONS`; ``full=True`` draws every
    node); an option given as None keeps its default."""
    if full:
        keep = {k: options[k] for k in ("expand", "collapse", "fold_patterns", "max_nodes",
                                        "optional")
                if options.get(k) is not None}
        return replace(ViewOptions.full(), **keep)
    return ViewOptions(**{k: v for k, v in options.items() if v is not None})


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
        if has_singletons(g):
            g = dissolve_singletons(g)
        if patterns:
            g = fold_pass(g, patterns)
    return dissolve_singletons(g) if has_singletons(g) else g


@dataclass
class ViewPlan:
    """How a view was made: the prepared graph (pruned, grouped, folded), its group index,
    the depth chosen and the resolved ``expand``/``collapse`` paths. An interactive viewer
    starts from it and makes other views of the same prepared graph."""

    prepared: Graph
    index: GroupIndex
    depth: int
    expand: set[tuple[str, ...]]
    collapse: set[tuple[str, ...]]
    options: ViewOptions
    view: Graph


def plan_view(graph: Graph, options: ViewOptions | None = None, fit: Any = None) -> ViewPlan:
    """The view of ``graph`` that ``options`` ask for, with everything that made it;
    ``fit`` is a figure style's measure of fit (see the module docstring)."""
    with paused_gc():
        return _plan_view(graph, options or ViewOptions(), fit)


def _plan_view(graph: Graph, options: ViewOptions, fit: Any) -> ViewPlan:
    merged, notes = merge_parallel(graph) if options.merge_parallel else (graph, [])
    warnings = [] if options.merge_parallel else \
        [f"{w}; drawing them all can take the layout very long (drop --full to draw them as "
         "one node)" for w in wide_anchors(graph)]
    prepared = prepare(merged, options)
    index = GroupIndex(prepared)
    expand = resolve_paths(prepared, options.expand, "--expand", "expand" in options.optional)
    collapse = resolve_paths(prepared, options.collapse, "--collapse",
                             "collapse" in options.optional)
    auto = options.depth is None
    if auto:
        depth, view = _choose(index, expand, collapse, options, fit)
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
    if fit is not None:
        view.meta["view"]["figure"] = fit.summary(view)
    return ViewPlan(prepared, index, depth, expand, collapse, options, view)


def make_view(graph: Graph, options: ViewOptions | None = None, fit: Any = None) -> Graph:
    """The view of ``graph`` that ``options`` ask for (a new graph; the input is untouched);
    ``fit`` is a figure style's measure of fit (see the module docstring).

    >>> from netdraw import load
    >>> from netdraw.zoo.onnx_models import small_resnet
    >>> view = make_view(load(small_resnet()))
    >>> [n.name for n in view if n.attrs.get("repeat")]
    ['layer1.0–layer1.1']
    """
    return plan_view(graph, options, fit).view


def _fits_page(view: Graph, fit: Any = None, relaxed: bool | None = None
               ) -> tuple[bool, float]:
    """Whether the drawing of ``view`` fits a page, and its aspect: for a diagram, its
    longer side at most :data:`layout.MAX_ASPECT` times the shorter once wrapped; for a
    figure style, its own ``fit`` (with compact labels allowed when ``relaxed``)."""
    if fit is not None:
        measured = fit(view, bool(relaxed))
        return measured.fits, measured.print.aspect
    _, ratio = layout.columns_for(view)
    return ratio <= layout.MAX_ASPECT, ratio


def _is_single_block(view: Graph) -> bool:
    return sum(1 for n in view if n.kind not in ("input", "output")) <= 1


def _choose(index: GroupIndex, expand: set, collapse: set,
            options: ViewOptions, fit: Any = None) -> tuple[int, Graph]:
    """The deepest view with at most ``max_nodes`` nodes whose drawing fits (a figure
    style: with all labels, else with compact ones); else the best-shaped view under the
    node limit; else the smallest. Never a single block when a view of five or more nodes
    is under the limit. O(full depth × view_at)."""
    views: dict[int, Graph] = {}
    aspect: dict[int, float] = {}
    chosen: int | None = None
    from netdraw.progress import task

    passes = (False, True) if fit is not None else (None,)
    with task("choosing the view", total=index.full_depth * len(passes)) as searching:
        for relaxed in passes:
            for depth in range(index.full_depth, 0, -1):
                searching.update(description=f"choosing the view: trying depth {depth}")
                searching.advance()
                view = views.get(depth) or view_at(index, depth, expand, collapse,
                                                   options.roll)
                views[depth] = view
                if len(view) > options.max_nodes:
                    continue
                fits, ratio = _fits_page(view, fit, relaxed)
                aspect.setdefault(depth, ratio)
                if fits:
                    chosen = depth
                    break
            if chosen is not None:
                break
    under = [d for d in views if len(views[d]) <= options.max_nodes]
    if chosen is None:
        if under:  # nothing fits: the best proportions under the node limit, deeper on ties
            chosen = min(under, key=lambda d: (aspect[d], -d))
        else:
            chosen = min(views, key=lambda d: (len(views[d]), -d))
    if _is_single_block(views[chosen]):
        richer = [d for d in under if len(views[d]) >= 5]
        if richer:
            chosen = min(richer, key=lambda d: (aspect[d], -d))
    return chosen, views[chosen]


def describe_view(view: Graph) -> str:
    """One line saying which view a graph is and how to get the full graph."""
    info = view.meta.get("view")
    if not info:
        return f"drew the full graph: {plural(len(view), 'node')}"
    parts = []
    if info.get("rolled"):
        parts.append(f"{plural(info['rolled'], 'repeated run')} rolled (×N)")
    if info.get("folded"):
        parts.append(f"{plural(info['folded'], 'layer')} folded")
    if info.get("hidden"):
        parts.append(f"{plural(info['hidden'], 'plumbing node')} hidden")
    parts += info.get("merged") or []
    if info.get("inferred_groups"):
        parts.append(f"blocks inferred from {info['inferred_groups']}")
    which = "default view" if info.get("auto") else "view"
    full = info.get("full_depth", 1)
    depth = f"depth {info['depth']} of {full}" if full > 1 else "full depth"
    detail = f" ({'; '.join(parts)})" if parts else ""
    return (f"drew the {which} at {depth}: {info['nodes']} of "
            f"{plural(info['source_nodes'], 'node')}"
            f"{detail}{_describe_figure(info.get('figure'))}; --full draws every node, "
            "--depth N chooses the depth")


def _describe_figure(figure: dict | None) -> str:
    """``; tikz figure for --width text (16.5 cm) in 2 rows, smallest label 7.1 pt``."""
    if not figure:
        return ""
    rows = figure["rows"]
    text = (f"; {figure['style']} figure for --width {figure['width']} "
            f"({figure['width_of']:g} cm) in {plural(rows, 'row')}"
            f"{', compact labels' if figure.get('compact') else ''}, smallest label "
            f"{figure['smallest_pt']:g} pt")
    if not figure.get("fits"):
        text += (f" and {figure['aspect']:g}:1, so it does not fit the page (labels under "
                 "6 pt, or longer than 4:1): try a smaller --depth or a wider --width")
    return text
