"""Group trees for flat graphs, and tidying groups that hold a single node.

A graph whose nodes all sit at the top level (Keras applications, renamed or anonymous
ONNX exports) gets groups inferred in two ways:

1. **From names.** A name prefix ending in a token with a digit (``conv4``, ``conv4_block2``,
   ``block_3``, ``block2a`` and its stage ``block2``) is a group when at least two layers
   share it, followed by more words (``conv4_block2_1_conv``), and the layers it covers are
   (nearly) contiguous in the graph's order. Prefixes nest, so Keras' ResNet50 gets stages
   ``conv2…conv5`` holding blocks ``conv2_block1…``. Auto-numbered names (``conv2d_40``,
   ``batch_normalization_3``) never form groups.
2. **From structure**, when names do not help (covering less than half of the layers): the
   graph is cut at every node all data flows through; each stretch between two cuts that
   branches (a residual block, an Inception module) becomes a group, labelled with its
   last node's name (``mixed5``) when that is not an auto-generated one. Then runs of
   repeating stretches (period 2 or more: attention + MLP sub-blocks of a transformer layer)
   are wrapped into one group per repetition, so that rolling can find them.
"""

from __future__ import annotations

import re

from netdraw.ir import Graph, Group, Node
from netdraw.passes._graph import rebuild, shared_copy
from netdraw.passes.signature import node_signature, signatures

_WORD = re.compile(r"[^_./:\-\s]+")
_LETTER = re.compile(r"[A-Za-z]")
_STAGE = re.compile(r"^(.*\d)([a-z])$")  # block2a -> stage block2, block a
_DIM_SUFFIX = re.compile(r"[123]d$", re.IGNORECASE)  # conv2d, pooling1d are not stages
_AUTO_NAME = re.compile(r"^[A-Za-z]{0,4}[_:/.]?\d+$")
_MAX_PERIOD = 6
_IO = ("input", "output")
_TAILS = ("activation", "dropout")


def is_flat(graph: Graph) -> bool:
    return not any(n.group for n in graph.nodes.values())


def infer_groups(graph: Graph) -> Graph:
    """A copy of a flat graph with a group tree inferred from names or structure; graphs
    that already have groups are returned as copies unchanged."""
    if not is_flat(graph) or len(graph) < 4:
        return graph.copy()
    paths = name_groups(graph)
    source = "names"
    if paths is None:
        paths = structural_groups(graph)
        source = "structure"
    if not paths:
        return graph.copy()
    nodes = []
    groups: dict[tuple[str, ...], Group] = {}
    for node in graph.nodes.values():
        new = shared_copy(node)
        path, labels = paths.get(node.id, ((), ()))
        new.group = path
        for depth in range(1, len(path) + 1):
            groups.setdefault(path[:depth], Group(path[:depth], "", labels[depth - 1]))
        nodes.append(new)
    out = rebuild(graph, nodes, graph.edges, groups)
    out.meta["inferred_groups"] = source
    return out


# -- from names ------------------------------------------------------------------------


def _prefixes(name: str) -> list[str]:
    """Candidate group prefixes of one layer name."""
    out = []
    words = list(_WORD.finditer(name))
    for k, m in enumerate(words):
        token = m.group()
        rest = name[m.end():]
        stage = _STAGE.match(token)
        if stage and not _DIM_SUFFIX.search(token) and k + 1 < len(words):
            out.append(name[: m.start() + len(stage.group(1))])
        if not any(c.isdigit() for c in token):
            continue
        if not rest or _LETTER.search(rest):
            out.append(name[: m.end()])
    return out


def name_groups(graph: Graph) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None:
    """Node id -> (group path, labels) from name prefixes, or None if names do not help.

    O(N·W + N·D + S log S) for N layers of at most W name words, S candidate prefixes and
    groups nested D deep: spans are accepted biggest first into a laminar family, each
    position remembering the innermost accepted span over it, so a crossing is seen from
    the two ends of a span alone.
    """
    order = [n for n in graph.nodes.values() if n.kind not in _IO]
    pos = {n.id: i for i, n in enumerate(order)}
    candidates: dict[str, list[str]] = {}
    for node in order:
        for prefix in _prefixes(node.name):
            candidates.setdefault(prefix, []).append(node.id)
    spans = []
    for prefix, ids in candidates.items():
        if len(ids) < 2 or all(graph.nodes[i].name == prefix for i in ids):
            continue
        lo, hi = pos[ids[0]], pos[ids[-1]]  # ids are in graph order
        if len(ids) * 4 < (hi - lo + 1) * 3:  # members must be (nearly) contiguous
            continue
        spans.append((lo, hi, prefix))
    # Keep a laminar family: bigger spans first; drop any that crosses an accepted one.
    spans.sort(key=lambda s: (-(s[1] - s[0]), -len(s[2])))
    owner: list[int] = [-1] * len(order)  # innermost accepted span over each position
    accepted: list[tuple[int, int, str]] = []
    taken: set[tuple[int, int]] = set()
    for lo, hi, prefix in spans:
        if (lo, hi) in taken or owner[lo] != owner[hi]:
            continue
        taken.add((lo, hi))
        accepted.append((lo, hi, prefix))
        number = len(accepted) - 1
        for p in range(lo, hi + 1):
            owner[p] = number
    if len(accepted) < 2:
        return None
    if sum(1 for o in owner if o >= 0) * 2 < len(order):
        return None
    # Each position's chain of spans, outermost first (accepted is biggest first).
    chains: list[list[str]] = [[] for _ in order]
    for lo, hi, prefix in accepted:
        for p in range(lo, hi + 1):
            chains[p].append(prefix)
    out = {}
    for node in order:
        labels = tuple(chains[pos[node.id]])
        if labels:
            out[node.id] = (labels, labels)
    return out


# -- from structure --------------------------------------------------------------------


def _segments(graph: Graph) -> list[list[str]]:
    """The node order cut at nodes every path passes through (cut node ends a segment)."""
    order = list(graph.nodes)
    pos = {nid: i for i, nid in enumerate(order)}
    reach = [i for i in range(len(order))]
    for e in graph.edges:
        reach[pos[e.src]] = max(reach[pos[e.src]], pos[e.dst])
    segments: list[list[str]] = []
    current: list[str] = []
    furthest = 0  # the furthest position an edge from an earlier node reaches
    for i, nid in enumerate(order):
        current.append(nid)
        if furthest <= i:  # nothing jumps over node i: it is a cut, ending the segment
            segments.append(current)
            current = []
        furthest = max(furthest, reach[i])
    if current:
        segments.append(current)
    return segments


def _label(graph: Graph, ids: list[str], fallback: str) -> str:
    last: Node = graph.nodes[ids[-1]]
    name = last.name.strip("/")
    lowered = name.lower()
    if (not name or _AUTO_NAME.match(name) or last.op_type.lower() in lowered
            or last.kind in lowered):
        return fallback
    return name


def structural_groups(graph: Graph) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Node id -> (group path, labels) from cut points and repeating stretches."""
    items: list[list[str]] = []  # each item: node ids; groups are items with > 1 node
    for seg in _segments(graph):
        core = [n for n in seg if graph.nodes[n].kind not in _IO]
        rest = [n for n in seg if graph.nodes[n].kind in _IO]
        items.extend([n] for n in rest)
        if (len(core) == 1 and items and len(items[-1]) > 1
                and graph.nodes[core[0]].kind in _TAILS):
            items[-1].extend(core)  # a block's closing activation belongs to it
        elif len(core) > 1:
            items.append(core)
        else:
            items.extend([n] for n in core)
    sigs = signatures(graph, {i: ids for i, ids in enumerate(items) if len(ids) > 1})
    keys = [sigs[i] if len(ids) > 1 else node_signature(graph.nodes[ids[0]])
            for i, ids in enumerate(items)]

    out: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {}
    count = 0

    def label(ids: list[str], number: str) -> str:
        return _label(graph, ids, f"block {number}")

    i = 0
    while i < len(items):
        period, repeats = _repeat_at(keys, i)
        unit_nodes = sum(len(items[j]) for j in range(i, i + period))
        if period > 1 and repeats > 1 and unit_nodes > 2:
            for r in range(repeats):
                count += 1
                unit = items[i + r * period: i + (r + 1) * period]
                outer = (f"block{count}", label([n for item in unit for n in item], str(count)))
                inner_count = 0
                for item in unit:
                    if len(item) > 1:
                        inner_count += 1
                        number = f"{count}.{inner_count}"
                        inner = (f"block{number}", label(item, number))
                        for n in item:
                            out[n] = ((outer[0], inner[0]), (outer[1], inner[1]))
                    else:
                        out[item[0]] = ((outer[0],), (outer[1],))
            i += period * repeats
            continue
        if len(items[i]) > 1:
            count += 1
            path, text = f"block{count}", label(items[i], str(count))
            for n in items[i]:
                out[n] = ((path,), (text,))
        i += 1
    return out


def _repeat_at(keys: list, start: int) -> tuple[int, int]:
    """(period, repeats) of the longest tandem repeat starting at ``start`` (smallest period
    among equals); (1, 1) when nothing repeats."""
    best = (1, 1)
    for period in range(1, _MAX_PERIOD + 1):
        unit = keys[start:start + period]
        if len(unit) < period:
            break
        repeats = 1
        while keys[start + repeats * period: start + (repeats + 1) * period] == unit:
            repeats += 1
        if repeats > 1 and period * repeats > best[0] * best[1]:
            best = (period, repeats)
    return best


# -- tidying ---------------------------------------------------------------------------


def has_singletons(graph: Graph) -> bool:
    """Whether some group holds exactly one node. O(N·depth)."""
    count: dict[tuple[str, ...], int] = {}
    for node in graph.nodes.values():
        group = node.group
        for depth in range(1, len(group) + 1):
            count[group[:depth]] = count.get(group[:depth], 0) + 1
    return 1 in count.values()


def dissolve_singletons(graph: Graph) -> Graph:
    """A copy where a group holding one node (after folding, say) is no longer a group:
    the node moves to the parent group and takes the group's label as its name when the
    node's own name is a generated one, and the group's ``call``/``calls`` when the group
    was one call of a module applied several times. O(N·depth + E)."""
    count: dict[tuple[str, ...], int] = {}
    for node in graph.nodes.values():
        for depth in range(1, len(node.group) + 1):
            count[node.group[:depth]] = count.get(node.group[:depth], 0) + 1
    if 1 not in count.values():  # nothing to dissolve: a copy sharing nodes' attrs
        out = Graph(graph.name)
        out.nodes = {nid: shared_copy(n) for nid, n in graph.nodes.items()}
        out.edges = list(graph.edges)
        out.inputs, out.outputs = list(graph.inputs), list(graph.outputs)
        out.groups = {p: g.copy() for p, g in graph.groups.items()}
        out.meta = dict(graph.meta)
        return out
    nodes = []
    for node in graph.nodes.values():
        new = shared_copy(node)
        while new.group and count.get(new.group) == 1:
            group = graph.groups.get(new.group)
            if group is not None and group.label and _generated(new):
                new.name = group.label
            if group is not None and group.calls > 1 and "calls" not in new.attrs:
                # the node stands for one call of a module applied several times
                new.attrs = {**new.attrs, "call": group.call, "calls": group.calls}
            new.group = new.group[:-1]
        nodes.append(new)
    return rebuild(graph, nodes, graph.edges)


def _generated(node: Node) -> bool:
    """A name an exporter made up (``node_MatMul_11``, ``/layer1/0/Conv``), not a module's."""
    name = node.name
    return (name == node.id and (name.startswith("node_") or "/" in name)) or \
        name.startswith("/") or _AUTO_NAME.match(name) is not None or \
        "onnx_name" in node.attrs  # the ONNX importer made it up from scope and op


__all__ = ["dissolve_singletons", "has_singletons", "infer_groups", "is_flat", "name_groups",
           "structural_groups"]
