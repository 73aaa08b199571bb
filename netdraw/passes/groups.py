"""Group trees for flat graphs, and tidying groups that hold a single node.

A graph whose nodes all sit at the top level (Keras applications, renamed or anonymous
ONNX exports) gets groups inferred in two ways (a graph whose top level is mostly loose
layers around a few groups, the first way only, each group moving as one piece):

1. **From names.** A name prefix ending in a token with a digit (``conv4``, ``conv4_block2``,
   ``block_3``, ``block2a`` and its stage ``block2``) is a group when at least two layers
   share it, followed by more words (``conv4_block2_1_conv``), and the layers it covers are
   (nearly) contiguous in the graph's order. Prefixes nest, so Keras' ResNet50 gets stages
   ``conv2…conv5`` holding blocks ``conv2_block1…``. Auto-numbered names (``conv2d_40``,
   ``batch_normalization_3``) never form groups, but a layer named after its class
   (``add``, ``add_3``) right after a group, reading only what the group makes or reads,
   closes it: Keras ConvNeXt's anonymous residual adds end their blocks. Labels leave out
   the model's name where layer names start with it (``convnext_tiny_stage_0`` is
   ``stage_0``).
2. **From structure**, when names do not help (covering less than half of the layers): the
   graph is cut at every node all data flows through; each stretch between two cuts that
   branches (a residual block, an Inception module) becomes a group, labelled with its
   last node's name (``mixed5``) when that is not an auto-generated one. Then runs of
   repeating stretches (period 2 or more: attention + MLP sub-blocks of a transformer layer)
   are wrapped into one group per repetition, so that rolling can find them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
    """A copy of ``graph`` with a group tree inferred from names or structure.

    A flat graph gets the whole tree. A graph whose top level is a run of loose layers
    between a few groups (a Keras model with nested Sequential blocks, such as ConvNeXt's
    stem and downsampling layers) gets groups from names at its top level, each existing
    top-level group moving as one piece; structure is not used there. Otherwise a flat
    graph comes back as a copy, a grouped one as itself (no pass mutates its input; a
    deep copy of a large module tree would cost more than the inference)."""
    if len(graph) < 4:
        return graph.copy()
    if not is_flat(graph):
        return _infer_top_level(graph)
    paths = name_groups(graph)
    source = "names"
    if paths is None:
        paths = suffix_groups(graph)
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


def _infer_top_level(graph: Graph) -> Graph:
    """Name groups over the top level of a grouped graph (see :func:`infer_groups`)."""
    units, unit_of = _top_units(graph)
    if sum(1 for u in units if not u.group and u.kind not in _IO) < 4:
        return graph
    op_types = {n.id: n.op_type for n in graph.nodes.values() if not n.group}
    spans = _name_spans(units, _unit_preds(graph, units, unit_of), _model_prefix(graph),
                        op_types)
    if spans is None:
        return graph
    nodes = []
    groups: dict[tuple[str, ...], Group] = {}
    moved: dict[tuple[str, ...], tuple[str, ...]] = {}
    for node in graph.nodes.values():
        new = shared_copy(node)
        path, labels = spans.get(unit_of[node.id], ((), ()))
        if path:
            for depth in range(1, len(path) + 1):
                groups.setdefault(path[:depth], Group(path[:depth], "", labels[depth - 1]))
            if node.group:
                moved[node.group[:1]] = path
            new.group = path + node.group
        nodes.append(new)
    for path, group in graph.groups.items():  # existing groups move with their members
        new_path = moved.get(path[:1], ()) + path
        groups[new_path] = Group(new_path, group.class_name, group.label)
    out = rebuild(graph, nodes, graph.edges, groups)
    out.meta["inferred_groups"] = "names"
    return out


# -- from names ------------------------------------------------------------------------


@dataclass
class _Unit:
    """One item of the level that names group: a node, or a whole existing group."""

    id: str
    name: str
    kind: str
    group: bool = False


def _top_units(graph: Graph) -> tuple[list[_Unit], dict[str, str]]:
    """The top level of a graph in node order: loose nodes and top-level groups (each at
    its first node), and the unit id of every node."""
    units: list[_Unit] = []
    unit_of: dict[str, str] = {}
    seen: set[str] = set()
    for node in graph.nodes.values():
        if not node.group:
            units.append(_Unit(node.id, node.name, node.kind))
            unit_of[node.id] = node.id
            continue
        key = "\x00" + node.group[0]
        unit_of[node.id] = key
        if key not in seen:
            seen.add(key)
            group = graph.groups.get(node.group[:1])
            name = group.display_name if group is not None else node.group[0]
            units.append(_Unit(key, name, "block", group=True))
    return units, unit_of


def _unit_preds(graph: Graph, units: list[_Unit], unit_of: dict[str, str]
                ) -> dict[str, set[str]]:
    """Unit id -> the units whose outputs it reads."""
    preds: dict[str, set[str]] = {u.id: set() for u in units}
    for e in graph.edges:
        src, dst = unit_of[e.src], unit_of[e.dst]
        if src != dst:
            preds[dst].add(src)
    return preds


def _model_prefix(graph: Graph) -> str:
    """The model's name as its layer names start with it (Keras applications name layers
    ``convnext_tiny_stage_0_…`` in the model ``convnext_tiny``); labels leave it out."""
    name = graph.name.strip()
    return f"{name}_" if name else ""


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


def _generated_name(unit: _Unit, op_type: str = "") -> bool:
    """A name a framework made up from the layer's class (``add``, ``add_3``,
    ``conv2d_40``), not one its author chose."""
    if _AUTO_NAME.match(unit.name) and not unit.name[-1:].isalpha() and \
            re.search(r"[_:/.]\d+$", unit.name):
        return True  # Add_3, n:12 (but not conv1, a name its author chose)
    base = re.sub(r"_\d+$", "", unit.name).lower()
    return bool(op_type) and (base == _snake(op_type) or
                              base.replace("_", "") == op_type.lower())


def _snake(name: str) -> str:
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def name_groups(graph: Graph) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None:
    """Node id -> (group path, labels) from name prefixes of a flat graph, or None if names
    do not help (see the module docstring and :func:`_name_spans`)."""
    units = [_Unit(n.id, n.name, n.kind) for n in graph.nodes.values()]
    preds: dict[str, set[str]] = {n: set() for n in graph.nodes}
    for e in graph.edges:
        preds[e.dst].add(e.src)
    op_types = {n.id: n.op_type for n in graph.nodes.values()}
    return _name_spans(units, preds, _model_prefix(graph), op_types)


def _name_spans(units: list[_Unit], preds: dict[str, set[str]], strip: str = "",
                op_types: dict[str, str] | None = None
                ) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None:
    """Unit id -> (group path, labels) from name prefixes, or None if names do not help.

    A prefix shared by two or more units whose span is (nearly) contiguous is a group;
    a unit with a generated name (``add_3``) right after the span, reading only what the
    span makes or reads, closes it (ConvNeXt's anonymous residual adds). Labels leave out
    ``strip`` (the model's name). O(N·W + N·D + S log S) for N units of at most W name
    words, S candidate prefixes and groups nested D deep: spans are accepted biggest first
    into a laminar family, each position remembering the innermost accepted span over it,
    so a crossing is seen from the two ends of a span alone.
    """
    order = [u for u in units if u.kind not in _IO]
    pos = {u.id: i for i, u in enumerate(order)}
    op_types = op_types or {}
    candidates: dict[str, list[str]] = {}
    for unit in order:
        for prefix in _prefixes(unit.name):
            candidates.setdefault(prefix, []).append(unit.id)
    spans = []
    for prefix, ids in candidates.items():
        if len(ids) < 2 or all(order[pos[i]].name == prefix for i in ids):
            continue
        lo, hi = pos[ids[0]], pos[ids[-1]]  # ids are in unit order
        if len(ids) * 4 < (hi - lo + 1) * 3:  # members must be (nearly) contiguous
            continue
        hi = _closing(order, lo, hi, preds, op_types)
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
    for unit in order:
        path = tuple(chains[pos[unit.id]])
        if path:
            out[unit.id] = (path, tuple(_strip(p, strip) for p in path))
    return out


def _closing(order: list[_Unit], lo: int, hi: int, preds: dict[str, set[str]],
             op_types: dict[str, str]) -> int:
    """The span ``lo..hi`` extended over the generated-name units right after it that read
    only what the span makes or reads (a residual ``add`` closing its block)."""
    inside = {order[p].id for p in range(lo, hi + 1)}
    feeding = set().union(*(preds.get(i, set()) for i in inside)) - inside
    while hi + 1 < len(order):
        unit = order[hi + 1]
        if not _generated_name(unit, op_types.get(unit.id, unit.kind)) or \
                not preds.get(unit.id) or not preds[unit.id] <= inside | feeding:
            break
        hi += 1
        inside.add(unit.id)
    return hi


def _strip(label: str, prefix: str) -> str:
    return label[len(prefix):] if prefix and label.startswith(prefix) and \
        len(label) > len(prefix) else label


_SUFFIX = re.compile(r"_(?:([A-Za-z]+)_)?(\d+)$")
_MIN_CELL = 2  # layers a suffix needs to name a block


def suffix_groups(graph: Graph) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]] | None:
    """Node id -> (group path, labels) from the block number names *end* with, or None.

    NASNet names its layers ``<op>_<cell kind>_<branch>_<cell>``
    (``separable_conv_1_normal_left1_5``, ``normal_concat_5``,
    ``reduction_add_1_reduce_6``): the layers of one cell share the last number, with the
    word before it when that word marks a kind of block many layers share (``reduce_6``,
    ``stem_1``). Layers with generated names (``activation_57``, ``add``) join the block all
    their consumers belong to (an activation: else the one all its producers belong to). A
    block is labelled with its last named layer (the cell's output, ``normal_concat_5``).
    A block whose layers are scattered (less than half of the stretch from its first to
    its last) is none: a suffix that merely counts ops (``matmul_2``, ``add_2``) never
    makes one. O(N + E).
    """
    order = [n for n in graph.nodes.values() if n.kind not in _IO]
    keys: dict[str, tuple[str, str]] = {}  # node id -> (specific key, number)
    for node in order:
        match = _SUFFIX.search(node.name)
        if match and not _generated(node) and \
                not _generated_name(_Unit(node.id, node.name, node.kind), node.op_type):
            word, number = match.groups()
            keys[node.id] = (f"{word}_{number}" if word else number, number)
    counts: dict[str, int] = {}
    for specific, _ in keys.values():
        counts[specific] = counts.get(specific, 0) + 1
    member: dict[str, str] = {nid: specific if counts[specific] >= _MIN_CELL else number
                              for nid, (specific, number) in keys.items()}
    sizes: dict[str, int] = {}
    for key in member.values():
        sizes[key] = sizes.get(key, 0) + 1
    member = {nid: key for nid, key in member.items() if sizes[key] >= _MIN_CELL}
    if len(set(member.values())) < 2:
        return None
    succs: dict[str, list[str]] = {n.id: [] for n in order}
    preds: dict[str, list[str]] = {n.id: [] for n in order}
    for e in graph.edges:
        if e.src in succs and e.dst in preds:
            succs[e.src].append(e.dst)
            preds[e.dst].append(e.src)
    generated = {n.id for n in order
                 if n.id not in member and _generated_name(_Unit(n.id, n.name, n.kind),
                                                           n.op_type)}
    for nodes, links, kinds in ((reversed(order), succs, None), (order, preds, _TAILS)):
        for node in nodes:
            if node.id not in generated or node.id in member or \
                    (kinds is not None and node.kind not in kinds):
                continue
            around = {member.get(other) for other in links[node.id]}
            if len(around) == 1 and None not in around:
                member[node.id] = around.pop()
    pos = {n.id: i for i, n in enumerate(order)}
    spans: dict[str, list[int]] = {}
    for nid, key in member.items():
        spans.setdefault(key, []).append(pos[nid])
    scattered = {key for key, at in spans.items() if len(at) * 2 < max(at) - min(at) + 1}
    member = {nid: key for nid, key in member.items() if key not in scattered}
    if len(member) * 2 < len(order) or len(set(member.values())) < 2:
        return None
    last: dict[str, str] = {}
    for node in order:
        if node.id in member and node.id not in generated:
            last[member[node.id]] = node.name
    return {nid: ((key,), (last.get(key, key),)) for nid, key in member.items()}


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
