"""The Graphviz diagram for print: ``--width`` chooses its direction and wrap, and its SVG and
PDF carry the physical size.

A diagram printed at a medium's width (:mod:`netdraw.figure.fit`: ``text``, ``column`` or
a length; at most 1.5 times as tall, and 16.5 cm) is scaled to fit both, never enlarged, so
its smallest label prints at ``9 pt × scale`` (the detail lines; the shape labels on the
edges are left out, since every box already shows the shape it makes). Tried in order,
the first arrangement whose smallest label reaches 6 pt wins: top to bottom in one column,
left to right in one row, then top to bottom wrapped into 2, 3, … side-by-side columns at
clean cuts (:func:`netdraw.passes.layout.split`). A ``--rankdir`` the author gives is kept.

Sizes are measured, not guessed: ``dot -Tplain`` lays each candidate out (an estimate first
skips those that cannot come close), and the drawing is written with Graphviz'
``size="W,H!"``, no page margin and no pad. Graphviz lays a sized drawing out anew, so its
printed size and scale are read back from that layout; the SVG gets that scale to six
decimals (Graphviz writes two). The file's size is the one the one-line report names.
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
import shutil
import weakref
from typing import Any

from netdraw import tools
from netdraw.figure.fit import MIN_PT, Fit, Medium, Print, medium
from netdraw.ir import Graph
from netdraw.passes import layout

CM_PER_PT = 2.54 / 72  # Graphviz points are PostScript points
PAD_PT = 0.0  # printed drawings have no pad: the page is the drawing
CAP = 1.0  # never enlarged: the fonts are 9-14 pt at their natural size
MAX_COLUMNS = 5
_FONT = re.compile(r'(?:point-size|fontsize)="([\d.]+)"')


def arrangements(rankdir: str | None, u_shaped: bool = False) -> list[tuple[str, int]]:
    """(rankdir, columns) tried in order; a given ``rankdir`` is kept. An encoder–decoder
    (:func:`u_pairs`) is first tried as a U (``columns`` 0)."""
    if rankdir and rankdir not in ("TB", "BT"):
        return [(rankdir, 1)]
    first = [(rankdir or "TB", 0)] if u_shaped else []
    first += [(rankdir or "TB", 1)] + ([] if rankdir else [("LR", 1)])
    return first + [(rankdir or "TB", k) for k in range(2, MAX_COLUMNS + 1)]


def u_pairs(graph: Graph) -> tuple[list[tuple[str, str]], set[tuple[str, str]]]:
    """An encoder–decoder drawn as a U: the (encoder, decoder) node pairs a skip joins at
    one resolution, drawn side by side on one rank, and the edges that climb back up
    (from a coarser resolution to a finer one after the deepest point), which then do not
    push their target down. Empty when the graph is no U: its longest path must fall in
    resolution by two halvings or more and rise again, and every skip join equal
    resolutions across the bottom. O(N + E)."""
    from netdraw.figure.items import node_dims

    order = list(graph.nodes)
    preds = graph.predecessors()
    dist: dict[str, int] = {}
    parent: dict[str, str | None] = {}
    for v in order:
        best = max(preds[v], key=lambda p: dist[p], default=None)
        dist[v] = dist[best] + 1 if best is not None else 0
        parent[v] = best
    end = max(reversed(order), key=lambda v: dist[v], default=None)
    main: list[str] = []
    while end is not None:
        main.append(end)
        end = parent[end]
    main.reverse()
    sides = {v: node_dims(graph, graph.nodes[v]).h for v in graph.nodes}
    known = [sides[v] for v in main if sides[v]]
    if len(known) < 5:
        return [], set()
    top = max(known)
    level: dict[str, int] = {}
    prev = round(math.log2(top / known[0]))
    for v in main:
        prev = round(math.log2(top / sides[v])) if sides[v] else prev
        level[v] = prev
    deepest = max(level.values())
    at = {v: i for i, v in enumerate(main)}
    first = min(i for v, i in at.items() if level[v] == deepest)
    last = max(i for v, i in at.items() if level[v] == deepest)
    if deepest < 2 or first == 0 or last == len(main) - 1:
        return [], set()
    pairs = [(e.src, e.dst) for e in graph.edges
             if e.src in at and e.dst in at and at[e.dst] > at[e.src] + 1
             and level[e.src] == level[e.dst] and at[e.src] < first and at[e.dst] > last]
    if len(pairs) < 2:
        return [], set()
    for v in graph.nodes:  # nodes off the main path take their own resolution
        if v not in level:
            level[v] = round(math.log2(top / sides[v])) if sides[v] else -1
    climbs = {(e.src, e.dst) for e in graph.edges
              if level[e.src] > level[e.dst] >= 0 and (at.get(e.src, last) >= last
                                                       or at.get(e.dst, last) > last)}
    return pairs, climbs


def source(graph: Graph, rankdir: str, columns: int, size: tuple[float, float] | None = None,
           **options: Any) -> str:
    """The DOT source of ``graph`` as printed: no edge labels, ``columns`` columns (0: a
    U, see :func:`u_pairs`)."""
    from netdraw.backends.dot import to_dot

    drawing = {k: v for k, v in options.items()
               if k not in ("rankdir", "columns", "edge_labels", "size", "width")}
    text = to_dot(graph, rankdir=rankdir, columns=max(columns, 1), edge_labels=False,
                  size=size, printed=True, **drawing)
    if columns != 0:
        return text
    pairs, climbs = u_pairs(graph)
    ids = {nid: f"n{i}" for i, nid in enumerate(n for n in graph.nodes
                                                 if graph.nodes[n].kind != "output")}
    up = {(ids[a], ids[b]) for a, b in climbs if a in ids and b in ids}

    def edge(m: re.Match[str]) -> str:
        if (m.group(1), m.group(2)) not in up:
            return m.group(0)
        rest = m.group(3)
        extra = 'constraint="false"'
        rest = rest[:-1] + f" {extra}]" if rest.endswith("]") else f" [{extra}]"
        return f"\t{m.group(1)} -> {m.group(2)}{rest}"

    text = re.sub(r"^\t(n\d+) -> (n\d+)((?: \[.*\])?)$", edge, text, flags=re.M)
    same = "".join(f"\t{{rank=same; {ids[a]}; {ids[b]}}}\n" for a, b in pairs
                   if a in ids and b in ids)
    return text[: text.rindex("}")] + same + "}\n"


def _drawing(options: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in options.items()
            if k not in ("rankdir", "columns", "edge_labels", "size", "width")}


def smallest_font(dot_source: str) -> float:
    """The smallest font size (pt) of the text a DOT source draws (11 pt: the node
    default); the edges' default counts only where an edge has a label."""
    labelled = re.search(r"-> \S+ \[[^\]]*\blabel=", dot_source) is not None
    lines = [ln for ln in dot_source.splitlines()
             if labelled or not ln.lstrip().startswith("edge [")]
    return min([11.0, *(float(v) for ln in lines for v in _FONT.findall(ln))])


@functools.lru_cache(maxsize=256)
def _plain_size(digest: str, text: str) -> tuple[float, float]:
    exe = shutil.which("dot")
    assert exe is not None
    proc = tools.run([exe, "-Tplain"], program="Graphviz 'dot'", input=text.encode("utf-8"))
    first = proc.stdout.decode("utf-8", "replace").split("\n", 1)[0].split()
    if proc.returncode != 0 or len(first) < 4 or first[0] != "graph":
        from netdraw.errors import NetdrawError

        raise NetdrawError("Graphviz 'dot' could not lay out the diagram to measure it")
    return float(first[2]) * 72 + 2 * PAD_PT, float(first[3]) * 72 + 2 * PAD_PT


def natural_size(dot_source: str) -> tuple[float, float]:
    """(width, height) in pt of a DOT source as ``dot`` lays it out at its natural size
    (its pad included), or the estimate of :mod:`netdraw.passes.layout` without ``dot``."""
    digest = hashlib.sha1(dot_source.encode("utf-8")).hexdigest()
    return _plain_size(digest, dot_source)


def estimate(graph: Graph, rankdir: str, columns: int) -> tuple[float, float]:
    """A quick (width, height) in pt without edge labels (to skip hopeless arrangements)."""
    if not graph.nodes:
        return 10.0, 10.0
    sizes = layout._Sizes(graph)
    sizes.labelled = False
    sizes.label = [layout.NODE_GAP] * len(sizes.label)
    rank = layout.ranks(graph)
    if rankdir in ("LR", "RL"):
        wide: dict[int, float] = {}
        tall: dict[int, float] = {}
        for nid, r in rank.items():
            w, h = sizes.box[nid]
            wide[r] = max(wide.get(r, 0.0), w)
            tall[r] = tall.get(r, -layout.NODE_GAP) + h + layout.NODE_GAP
        return (sum(wide.values()) + layout.RANK_GAP * len(wide),
                max(tall.values()) + 2 * layout.CLUSTER_PAD)
    column = layout.split(graph, columns, rank) if columns > 1 else None
    return layout.extent(graph, column, rank, sizes)


def _printed_as_laid_out(sized: str, smallest: float, planned: Print) -> tuple[Print, float]:
    """How a DOT source with its ``size`` prints: Graphviz lays it out again at that size
    (its text measured at the smaller scale), so its scale and extent are read back from
    ``dot -Tplain`` (``graph SCALE WIDTH HEIGHT``, inches at scale 1)."""
    exe = shutil.which("dot")
    assert exe is not None
    proc = tools.run([exe, "-Tplain"], program="Graphviz 'dot'", input=sized.encode("utf-8"))
    first = proc.stdout.decode("utf-8", "replace").split("\n", 1)[0].split()
    if proc.returncode != 0 or len(first) < 4 or first[0] != "graph":
        return planned, planned.scale
    scale, w_in, h_in = (float(v) for v in first[1:4])
    width_cm, height_cm = w_in * scale * 2.54, h_in * scale * 2.54
    return Print(scale, width_cm, height_cm, smallest * scale, planned.room_cm), scale


def print_of(width_pt: float, height_pt: float, smallest: float, target: Medium) -> Print:
    """A drawing of that natural size scaled to the medium (never enlarged)."""
    width_cm, height_cm = width_pt * CM_PER_PT, height_pt * CM_PER_PT
    room = target.max_height_cm
    scale = min(target.cm / width_cm, room / height_cm, CAP)
    return Print(scale, width_cm * scale, height_cm * scale, smallest * scale, room)


#: Arrangements already measured, per graph object (the view choice asks twice per view).
_SEEN: weakref.WeakKeyDictionary[Graph, dict[tuple, tuple[Fit, dict[str, Any]]]] = \
    weakref.WeakKeyDictionary()


def _arranged(graph: Graph, options: dict[str, Any]) -> tuple[Fit, dict[str, Any]]:
    target = medium(options.get("width"))
    have_dot = shutil.which("dot") is not None
    best: tuple[float, Fit, dict[str, Any]] | None = None
    u_shaped = bool(u_pairs(graph)[0])
    for rankdir, columns in arrangements(options.get("rankdir"), u_shaped):
        if columns > 1:
            used = max(layout.split(graph, columns).values(), default=0) + 1
            if used < columns:
                break  # no more clean cuts: more columns draw the same
        text = source(graph, rankdir, columns, **_drawing(options))
        smallest = smallest_font(text)
        guess = print_of(*estimate(graph, rankdir, max(columns, 1)), smallest, target)
        if best is not None and guess.smallest_pt < 0.7 * MIN_PT:
            continue  # cannot come close: not worth a layout
        size = natural_size(text) if have_dot else estimate(graph, rankdir, max(columns, 1))
        printed = print_of(*size, smallest, target)
        how = {"rankdir": rankdir, "columns": columns,
               "size": (printed.width_cm / 2.54, printed.height_cm / 2.54)}
        if have_dot:  # dot lays a drawing out anew at its printed size: measure that one
            printed, how["scale"] = _printed_as_laid_out(
                source(graph, rankdir, columns, how["size"], **_drawing(options)), smallest,
                printed)
        fit = Fit(target, columns, 1.0, False, printed, direction=rankdir,
                  mode="u" if columns == 0 else "flat")
        if printed.fits:
            return fit, how
        if best is None or printed.score() > best[0] + 1e-9:
            best = (printed.score(), fit, how)
    assert best is not None
    return best[1], best[2]


def arranged(graph: Graph, **options: Any) -> tuple[Fit, dict[str, Any]]:
    """How the diagram of ``graph`` is printed at ``options["width"]``: its fit and the
    :func:`source` options that draw it (``rankdir``, ``columns``, ``size`` in inches)."""
    key = tuple(sorted((k, repr(v)) for k, v in options.items()
                       if k in ("width", "rankdir", "title")))
    seen = _SEEN.setdefault(graph, {})
    if key not in seen:
        seen[key] = _arranged(graph, options)
    return seen[key]


def fit(graph: Graph, detail: str = "any", **options: Any) -> Fit:
    """How the diagram of ``graph`` fits ``options["width"]`` (the view choice's measure;
    ``detail`` is the figure styles' and does not change a diagram)."""
    return arranged(graph, **options)[0]


def render_printed(graph: Graph, fmt: str, **options: Any) -> str | bytes:
    """DOT text, or SVG/PNG/PDF bytes, of ``graph`` printed at ``options["width"]``."""
    from netdraw.backends.dot import render_dot

    fit, how = arranged(graph, **options)
    text = source(graph, how["rankdir"], how["columns"], how["size"], **_drawing(options))
    if fmt in ("dot", "gv"):
        return text
    if fmt == "svg":  # Graphviz writes its scale with two decimals: write it exactly
        svg = render_dot(text, "svg", options.get("timeout")).decode("utf-8")
        k = how.get("scale")
        if k:
            svg = re.sub(r'transform="scale\([\d.]+ [\d.]+\)',
                         f'transform="scale({k:.6f} {k:.6f})', svg, count=1)
        return svg.encode("utf-8")
    if fmt == "png":  # print resolution: 300 pixels per inch of the printed size
        text = text.replace('pad="0"]', 'pad="0" dpi="300"]', 1)
    return render_dot(text, fmt, options.get("timeout"))
