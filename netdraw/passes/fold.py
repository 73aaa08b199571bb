"""Fold chains such as Conv → BatchNorm → ReLU into one node.

Pattern syntax (``--fold``)::

    conv>norm>activation=ConvBNAct      a chain of three, named ConvBNAct
    conv|conv_transpose>norm?=ConvBN    '|' separates alternatives, '?' marks an optional step

Each step names a canonical kind (``conv``, ``norm``, ``activation``…) or an op type
(``BatchNormalization``, ``ReLU``; case-insensitive). A chain folds when every later node
is the only consumer of the one before and reads nothing else, and lies in the head's group
(or deeper). The folded node keeps the head's id, name, kind and op type, adds the absorbed
layers' parameters and MACs, and records them in ``attrs["folded"]`` (name, kind, op type,
params and attrs of each, in order), with ``attrs["pattern"]`` and, when an activation was
absorbed, ``attrs["activation"]``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from netdraw.errors import NetdrawError
from netdraw.ir import Edge, Graph, Node, folded_layers
from netdraw.passes._graph import clone_node, is_prefix, rebuild, shared_copy
from netdraw.passes.macs import add_macs

#: Folded by default, tried in this order (longest first).
DEFAULT_PATTERNS: tuple[str, ...] = (
    "conv|conv_transpose>norm>activation=ConvBNAct",
    "conv|conv_transpose>norm=ConvBN",
    "conv|conv_transpose>activation=ConvAct",
    "dense>norm>activation=DenseBNAct",
    "dense>activation|softmax=DenseAct",
    "norm>activation=BNAct",
    "add>activation=AddAct",
)

_TOKEN = re.compile(r"^[A-Za-z_][A-Za-z0-9_.:]*$")
_EXAMPLE = "write it like 'conv>norm>activation=ConvBNAct'"


@dataclass(frozen=True)
class Step:
    names: tuple[str, ...]  # lower case kinds or op types
    optional: bool = False

    def matches(self, node: Node) -> bool:
        return node.kind in self.names or node.op_type.lower() in self.names


@dataclass(frozen=True)
class FoldPattern:
    name: str
    steps: tuple[Step, ...]
    text: str


def parse_pattern(text: str) -> FoldPattern:
    """Parse ``a>b|c>d?=Name``; raises NetdrawError with a hint when malformed."""
    spec, _, name = text.strip().partition("=")
    name = name.strip()
    if name and not _TOKEN.match(name):
        raise NetdrawError(f"bad fold pattern {text!r}: the name {name!r} must be a word; "
                           f"{_EXAMPLE}")
    steps = []
    for part in spec.split(">"):
        part = part.strip()
        optional = part.endswith("?")
        names = tuple(n.strip().lower() for n in part.rstrip("?").split("|"))
        if not part or not all(_TOKEN.match(n) for n in names):
            raise NetdrawError(f"bad fold pattern {text!r}: step {part!r} is not a kind or op "
                               f"type (alternatives with '|', optional with '?'); {_EXAMPLE}")
        steps.append(Step(names, optional))
    if len(steps) < 2:
        raise NetdrawError(f"bad fold pattern {text!r}: it needs at least two steps joined "
                           f"by '>'; {_EXAMPLE}")
    if steps[0].optional:
        raise NetdrawError(f"bad fold pattern {text!r}: the first step cannot be optional")
    if not name:
        name = "".join(s.names[0].title().replace("_", "") for s in steps)
    return FoldPattern(name, tuple(steps), text.strip())


def default_patterns() -> list[FoldPattern]:
    return [parse_pattern(p) for p in DEFAULT_PATTERNS]


def activation_name(node: Node) -> str:
    """``relu`` for ReLU/Relu/Activation(relu); ``softmax`` for a softmax."""
    act = node.attrs.get("activation")
    if isinstance(act, str) and act:
        return act.lower()
    return node.op_type.lower() or node.kind


def _has_activation(node: Node) -> bool:
    act = node.attrs.get("activation")
    return isinstance(act, str) and act.lower() not in ("", "linear", "none", "identity")


def fold(graph: Graph, patterns: list[FoldPattern] | None = None) -> Graph:
    """A copy of ``graph`` with each pattern's chains folded into their head node.

    O(N·P·S + E) for P patterns of at most S steps: each node is tried as a head once.
    """
    patterns = default_patterns() if patterns is None else patterns
    if not patterns:
        return graph.copy()
    nodes = {nid: shared_copy(n) for nid, n in graph.nodes.items()}
    succ: dict[str, list[Edge]] = {nid: [] for nid in nodes}
    pred: dict[str, list[Edge]] = {nid: [] for nid in nodes}
    for e in graph.edges:
        succ[e.src].append(e)
        pred[e.dst].append(e)
    absorbed_by: dict[str, str] = {}

    def next_in_chain(cur: str, head: Node) -> Node | None:
        targets = {e.dst for e in succ[cur]}
        if len(targets) != 1:
            return None
        cand = nodes[next(iter(targets))]
        if ({e.src for e in pred[cand.id]} != {cur} or cand.kind in ("input", "output", "block")
                or not is_prefix(head.group, cand.group) or cand.id in absorbed_by):
            return None
        return cand

    def match(head: Node, pattern: FoldPattern) -> list[Node]:
        if not pattern.steps[0].matches(head):
            return []
        chain: list[Node] = []
        cur = head.id
        has_act = _has_activation(head)
        for step in pattern.steps[1:]:
            cand = next_in_chain(cur, head)
            ok = cand is not None and step.matches(cand) and not (
                has_act and cand.kind in ("activation", "softmax"))
            if ok:
                chain.append(cand)
                has_act = has_act or cand.kind in ("activation", "softmax")
                cur = cand.id
            elif not step.optional:
                return []
        return chain

    # Patterns by the kinds and op types their first step takes: a node tries only those.
    starting: dict[str, list[int]] = {}
    for i, pattern in enumerate(patterns):
        for step_name in pattern.steps[0].names:
            starting.setdefault(step_name, []).append(i)
    for nid in list(nodes):
        if nid in absorbed_by:
            continue
        head = nodes[nid]
        if head.kind in ("input", "output", "block"):
            continue
        tried = starting.get(head.kind, []) + starting.get(head.op_type.lower(), [])
        for pattern in [patterns[i] for i in sorted(set(tried))]:
            chain = match(head, pattern)
            if chain:
                head = nodes[nid] = clone_node(head)  # the only nodes whose attrs change
                _absorb(head, chain, pattern)
                for n in chain:
                    absorbed_by[n.id] = nid
                break

    edges = []
    for e in graph.edges:
        src = absorbed_by.get(e.src, e.src)
        dst = absorbed_by.get(e.dst, e.dst)
        if src != dst:
            edges.append(Edge(src, dst, e.tensor))
    return rebuild(graph, [n for nid, n in nodes.items() if nid not in absorbed_by], edges)


def _absorb(head: Node, chain: list[Node], pattern: FoldPattern) -> None:
    folded = folded_layers(head)
    for n in chain:
        folded.append({"id": n.id, "name": n.name, "kind": n.kind, "op_type": n.op_type,
                       "params": n.params, "attrs": dict(n.attrs)})
        head.params += n.params
        macs = add_macs(head.attrs.get("macs"), n.attrs.get("macs"))
        if macs is not None:
            head.attrs["macs"] = macs
        if n.kind in ("activation", "softmax"):
            head.attrs["activation"] = activation_name(n)
    head.attrs["folded"] = folded
    head.attrs["pattern"] = pattern.name
    head.attrs["output_node"] = output_node(chain[-1])
    head.outputs = list(chain[-1].outputs)


def output_node(node: Node) -> str:
    """The id of the source node whose output ``node``'s output is (itself unless a pass
    merged later layers into it)."""
    source = node.attrs.get("output_node")
    return source if isinstance(source, str) else node.id
