"""Hypothesis strategies and settings shared by the fuzz tests.

Budget: every fuzz test runs a fixed number of examples, derandomized (the same examples
on every run), so CI's time stays in hand. ``NETDRAW_FUZZ=N`` multiplies the budget by N
and draws new random examples on each run (see tests/README.md).
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

from netdraw.ir import KINDS, Graph, Node, TensorSpec

#: Multiplier of every fuzz test's example budget (``NETDRAW_FUZZ``); 0 or unset: default.
SCALE = max(0, int(os.environ.get("NETDRAW_FUZZ", "0") or 0))


def fuzz_settings(examples: int) -> settings:
    """A fixed budget of ``examples`` (times ``NETDRAW_FUZZ``), reproducible by default."""
    return settings(max_examples=examples * max(1, SCALE), derandomize=SCALE == 0,
                    deadline=None, database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


#: Fragments that break markup, TeX, XML, DOT, JSON, shells and terminals when unescaped.
NASTY = (
    '"', "'", "<", ">", "&", "\\", "{", "}", "%", "$", "#", "_", "^", "~", "|", "`", "\n",
    "\r", "\t", "\x00", "\x08", "\x0b", "\x1b[31m", "\x7f", "\x85", "\u2028", "\u2029",
    "\ufeff", "\ufffe", "\ud800", "\udfff", "\U0001f600", "e\u0301", "\u202e", "名前",
    "]]>", "<!--", "-->", "<![CDATA[", "<script>alert(1)</script>", "&amp;", "&#0;", "&lt",
    "\\end{document}", "\\input{/etc/passwd}", "\\write18{touch x}", "\\def\\x{", "\\\\",
    "\\csname", "^^5c", "^^00", "$(touch x)", "`id`", "; rm -rf ~", "../../etc/passwd",
    "digraph", "}; digraph x {", "label=<", "\\N", "\\G", "\\l", "\\E", "->", "--",
    "%s%n", "{{7*7}}", "<< x >>", "<% x %>", "<# x #>", "×", "…", "–", "·", " ", "",
)

#: Any character, surrogates and control characters included.
CHARS = st.characters(blacklist_categories=())


def names(max_size: int = 24, long: bool = True) -> st.SearchStrategy[str]:
    """Names from the whole of Unicode, hostile fragments, and (``long``) now and then very
    long ones."""
    options = [st.text(CHARS, max_size=max_size),
               st.lists(st.one_of(st.sampled_from(NASTY), st.text(CHARS, max_size=4)),
                        max_size=5).map("".join),
               st.sampled_from(NASTY)]
    if long:
        options.append(st.text(st.sampled_from("ab_.0/ "), min_size=80, max_size=400))
    return st.one_of(*options)


def dims() -> st.SearchStrategy:
    return st.one_of(st.integers(0, 4096), st.integers(0, 2 ** 62), st.none(),
                     st.integers(-3, -1), names(8))


def specs() -> st.SearchStrategy[TensorSpec]:
    shapes = st.one_of(st.none(), st.lists(dims(), max_size=6).map(tuple))
    dtypes = st.one_of(st.none(), st.sampled_from(["float32", "int64", "bool", "bfloat16"]),
                       names(8, long=False))
    return st.builds(TensorSpec, shapes, dtypes)


def json_values() -> st.SearchStrategy:
    leaves = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 63, 2 ** 63),
                       st.floats(allow_nan=True, allow_infinity=True), names(12))
    return st.recursive(leaves, lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(names(8), inner, max_size=4)),
        max_leaves=8)


ATTR_KEYS = ("kernel_size", "stride", "padding", "dilation", "groups", "in_channels",
             "out_channels", "units", "activation", "num_heads", "embed_dim", "num_features",
             "num_embeddings", "embedding_dim", "output_size", "axis", "repeat", "folded",
             "pattern", "macs", "shared_with", "p", "eps", "global", "parallel", "members",
             "data_format", "normalized_shape")


def attrs() -> st.SearchStrategy[dict]:
    plausible = st.one_of(st.integers(0, 512), st.lists(st.integers(0, 9), max_size=3),
                          st.sampled_from(["relu", "gelu", "channels_last", "same"]))
    return st.dictionaries(st.one_of(st.sampled_from(ATTR_KEYS), names(8)),
                           st.one_of(plausible, json_values()), max_size=5)


@st.composite
def graphs(draw, max_nodes: int = 12) -> Graph:
    """A random DAG: random kinds, hostile names, shapes with symbolic and unknown dims,
    random groups (some nested), attributes of every type, edges with random specs."""
    graph = Graph(draw(names()))
    n = draw(st.integers(1, max_nodes))
    pool = draw(st.lists(names(10), min_size=1, max_size=4))
    ids: list[str] = []
    for i in range(n):
        nid = f"{draw(names(10))}#{i}"
        depth = draw(st.integers(0, 3))
        group = tuple(draw(st.sampled_from(pool)) for _ in range(depth))
        node = Node(nid, draw(names()), draw(st.sampled_from(KINDS)), draw(names(12)),
                    attrs=draw(attrs()), params=draw(st.integers(0, 2 ** 40)),
                    inputs=draw(st.lists(specs(), max_size=2)),
                    outputs=draw(st.lists(specs(), max_size=2)), group=group)
        graph.add_node(node)
        if group:
            graph.add_group(group, draw(names(10)), draw(names(10)))
        for src in draw(st.lists(st.integers(0, i - 1), max_size=3)) if i else []:
            tensor = draw(st.one_of(st.just(None), specs()))
            src_node = graph.nodes[ids[src]]
            if tensor is None and src_node.outputs:
                tensor = src_node.outputs[0]
            graph.add_edge(ids[src], nid, tensor)
        ids.append(nid)
    graph.meta.update(draw(st.dictionaries(names(8), json_values(), max_size=3)))
    return graph


#: View options in the shape of :func:`netdraw.api.render`'s keyword options.
def view_options(group_names: list[str]) -> st.SearchStrategy[dict]:
    known = st.sampled_from(group_names) if group_names else st.nothing()
    paths = st.lists(st.one_of(known, known, known, names(6, long=False)), max_size=2)
    return st.fixed_dictionaries({}, optional={
        "depth": st.integers(0, 4), "expand": paths, "collapse": paths,
        "roll": st.booleans(), "fold": st.booleans(), "keep_all": st.booleans(),
        "max_nodes": st.integers(1, 60), "full": st.booleans(),
        "fold_patterns": st.lists(st.sampled_from(
            ["conv>norm>activation=CBA", "dense>gelu", "add>activation", "x>y?=Z", ">>",
             "conv|dense>norm?"]), max_size=2),
    })
