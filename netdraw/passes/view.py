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
from netdraw.passes.author import hide, paint, relabel, split_assignment
from netdraw.passes.collapse import (
    _NUMBER,
    GroupIndex,
    count_stages,
    is_plain_chain,
    resolve_paths,
    view_at,
)
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
    #: The author's touches (:mod:`netdraw.passes.author`): groups or layers left out,
    #: edges joined through (``--hide``); (PATH, TEXT) new names (``--label``; a
    #: ``"PATH=TEXT"`` string is split); (PATH, COLOUR) fills (``--color PATH=COLOUR``).
    hide: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    fills: tuple[tuple[str, str], ...] = ()
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
        for name in ("expand", "collapse", "fold_patterns", "hide"):
            value = getattr(self, name)
            if isinstance(value, str):
                object.__setattr__(self, name, (value,))
            else:
                object.__setattr__(self, name, tuple(value or ()))
        for name, what in (("renames", "TEXT"), ("fills", "COLOUR")):
            value = getattr(self, name)
            pairs = value.items() if isinstance(value, dict) else [
                split_assignment(v, "--label" if name == "renames" else "--color", what)
                if isinstance(v, str) else tuple(v) for v in (value or ())]
            object.__setattr__(self, name, tuple((str(k), str(v)) for k, v in pairs))


#: Keyword options (of ``netdraw.render``, ``view``, ``diff`` drawings) that choose the view.
VIEW_OPTIONS = ("depth", "expand", "collapse", "roll", "fold", "fold_patterns", "keep_all",
                "max_nodes", "full", "hide", "renames", "fills")


def view_options(*, full: bool = False, **options: Any) -> ViewOptions:
    """ViewOptions from keyword options (:data:`VIEW_OPTIONS`; ``full=True`` draws every
    node); an option given as None keeps its default."""
    if full:
        keep = {k: options[k] for k in ("expand", "collapse", "fold_patterns", "max_nodes",
                                        "hide", "renames", "fills", "optional")
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
    if not is_flat(g) and has_singletons(g):
        g = dissolve_singletons(g)
    # Fold first: Conv-BN-ReLU chains then never straddle an inferred block's border.
    if patterns:
        g = fold_pass(g, patterns)
    g = infer_groups(g)
    g = dissolve_singletons(g) if has_singletons(g) else g
    if options.hide:
        g = hide(g, options.hide)
    return relabel(g, options.renames) if options.renames else g


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
        if fit is not None:
            view = _marked(index, view)
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
        "hidden": len(merged) - len(prepared) - folded
        - int(prepared.meta.get("hidden_by_author") or 0),
        "merged": notes,
        "warnings": warnings,
        "columns": columns,
        "aspect": round(ratio, 2),
        "params": view.total_params,
        "macs": total_macs(view),
        "inferred_groups": prepared.meta.get("inferred_groups"),
    }
    view.meta.pop("inferred_groups", None)
    view.meta.pop("hidden_by_author", None)
    if prepared.meta.get("hidden_by_author"):
        view.meta["view"]["hidden_by_author"] = prepared.meta["hidden_by_author"]
    if fit is not None:
        view.meta["view"]["figure"] = fit.summary(view)
    if options.fills:
        view = paint(view, options.fills)
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
    """Whether the drawing of ``view`` fits a page, and how far it is from it (lower is
    better): for a diagram, its aspect (its longer side at most :data:`layout.MAX_ASPECT`
    times the shorter once wrapped); for a figure style, its own ``fit`` (with compact
    labels allowed when ``relaxed``), and the inverse of its score (1 fits; 2 has labels
    at half the size they need)."""
    if fit is not None:
        measured = fit(view, bool(relaxed))
        return measured.fits, 1.0 / max(measured.print.score(), 1e-9)
    _, ratio = layout.columns_for(view)
    return ratio <= layout.MAX_ASPECT, ratio


def _is_single_block(view: Graph) -> bool:
    return sum(1 for n in view if n.kind not in ("input", "output")) <= 1


def _choose(index: GroupIndex, expand: set, collapse: set,
            options: ViewOptions, fit: Any = None) -> tuple[int, Graph]:
    """The deepest view with at most ``max_nodes`` nodes whose drawing fits (a figure
    style: with all labels, else with compact ones); else the best-shaped view under the
    node limit (a figure style: the closest to fitting); else the smallest. Never a single
    block when a view of five or more nodes is under the limit. O(full depth × view_at)."""
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
                if fit is not None:
                    view = _marked(index, view)
                views[depth] = view
                if len(view) > options.max_nodes:
                    continue
                fits, ratio = _fits_page(view, fit, relaxed)
                aspect.setdefault(depth, ratio)
                if fits:
                    chosen = depth
                    break
            if chosen is not None:
                if fit is not None:
                    views[chosen] = _distinctive(index, chosen, expand, collapse, options,
                                                 fit, views[chosen], bool(relaxed))
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


def _marked(index: GroupIndex, view: Graph) -> Graph:
    """A figure's candidate view as it will be drawn: marked as a view (``meta["view"]``,
    filled in once chosen; figures fuse layers into bands only in a graph no view pass has
    made, :mod:`netdraw.figure.items`) and its stages counted (a block of repeated blocks
    says ``ConvNextLayer ×3``: :func:`netdraw.passes.collapse.count_stages`)."""
    view.meta["view"] = {}
    count_stages(index, view)
    return view


def _distinctive(index: GroupIndex, depth: int, expand: set, collapse: set,
                 options: ViewOptions, fit: Any, view: Graph, relaxed: bool) -> Graph:
    """The figure view ``view`` (at ``depth``) with the blocks that hide a structure opened
    while the figure still fits: a block whose layers are not a plain chain (a residual
    add, an attention gate, a dense concatenation, a decoder layer) is drawn open — all
    blocks of its class if they fit, else the first one (a run's first block, the others
    rolled after it with their count) — shallowest first, then what that shows, up to
    three levels down. Structure is worth compact labels: a block opens when the figure
    then fits with them. An encoder–decoder drawn as a U stays one (a block that would
    make it a flat chain stays closed). O(levels × classes × the fit's measure)."""
    opened: set[tuple[str, ...]] = set()
    done: set[tuple[int, str]] = set()  # classes already shown open (all, or the first)
    u_shaped = fit(view, relaxed).mode == "u"  # a U stays a U
    for _ in range(3):
        changed = False
        for cls, paths in _hiding(index, view, collapse):
            if cls in done:
                continue
            done.add(cls)
            for trial in ([paths, paths[:1]] if len(paths) > 1 else [paths]):
                wider = _marked(index, view_at(index, depth, expand, collapse,
                                               options.roll, opened | set(trial)))
                if len(wider) > options.max_nodes:
                    continue
                measured = fit(wider, relaxed)
                if not measured.fits:
                    measured = fit(wider, True)
                if measured.fits and (measured.mode == "u" or not u_shaped):
                    view, changed = wider, True
                    opened |= set(trial)
                    break
        if not changed:
            break
    return view


def _hiding(index: GroupIndex, view: Graph, collapse: set
            ) -> list[tuple[tuple[int, str], list[tuple[str, ...]]]]:
    """The blocks of ``view`` whose group is not a plain chain, by class (the first block
    of a rolled run stands for the run), shallowest and earliest first: (class, paths)."""
    by_class: dict[tuple[int, str], list[tuple[str, ...]]] = {}
    for node in view.nodes.values():
        if node.kind != "block":
            continue
        runs = node.attrs.get("paths")
        own = node.attrs.get("path")
        path = tuple(runs[0]) if runs else tuple(own) if own is not None else None
        if not path or path in collapse or path not in index.members \
                or is_plain_chain(index, path):
            continue
        key = (len(path), index.class_name(path) or _NUMBER.sub("", index.label(path)))
        by_class.setdefault(key, []).append(path)
    return [(k, by_class[k]) for k in sorted(by_class, key=lambda k: k[0])]


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
    if info.get("hidden_by_author"):
        parts.append(f"{plural(info['hidden_by_author'], 'layer')} hidden by --hide")
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
    if figure.get("rankdir"):  # the Graphviz diagram: columns (0: a U), and its direction
        way = "left to right" if figure["rankdir"] in ("LR", "RL") else "top to bottom"
        shape = f"in {plural(rows, 'column')}, {way}" if rows > 1 else \
            f"as a U, {way}" if rows == 0 else way
    else:
        shape = f"in {plural(rows, 'row')}"
    text = (f"; {figure['style']} figure for --width {figure['width']} "
            f"({figure['width_of']:g} cm) {shape}"
            f"{', compact labels' if figure.get('compact') else ''}, smallest label "
            f"{figure['smallest_pt']:g} pt")
    if not figure.get("fits"):
        text += (f" and {figure['aspect']:g}:1, so it does not fit the page (labels under "
                 "6 pt, taller than 4:1 or wider than 8:1): try a smaller --depth or a "
                 "wider --width")
    return text
