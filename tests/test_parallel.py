"""Parallel lanes drawn as one (netdraw.passes.parallel): hand-built graphs, hand counts.

Each test builds the graph a real model gives (a ``Concat`` of many graph inputs, an
``Input -> Gather`` pair per input, a ``Split`` fanning out into many ``Slice -> Output``
pairs) and checks the drawn result against what a person counts on it: which nodes remain,
their names, the summed parameters and MACs, the shapes they carry, the group they sit in,
the edges, and the one-line report. The limit is tested at, below and above its value.
"""

from __future__ import annotations

import pytest

from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes.parallel import MAX_PARALLEL, lanes, merge_parallel, wide_anchors


def _spec(*shape: int | str | None, dtype: str | None = "float32") -> TensorSpec:
    return TensorSpec(tuple(shape), dtype)


def concat_of_inputs(n: int, *, group: tuple[str, ...] = (), width: int = 4) -> Graph:
    """``n`` graph inputs of (1, width) into one Concat, then a dense head."""
    g = Graph("wide")
    for i in range(n):
        g.add_node(Node(f"x{i}", f"x{i}", "input", "Input", outputs=[_spec(1, width)]))
    g.add_node(Node("cat", "cat", "concat", "Concat", inputs=[_spec(1, width)],
                    outputs=[_spec(1, n * width)], group=group))
    g.add_node(Node("fc", "fc", "dense", "Gemm", attrs={"units": 2}, params=n * width * 2 + 2,
                    inputs=[_spec(1, n * width)], outputs=[_spec(1, 2)], group=group))
    for i in range(n):
        g.add_edge(f"x{i}", "cat", _spec(1, width))
    g.add_edge("cat", "fc", _spec(1, n * width))
    return g


def gathers_into_concat(n: int, *, group: tuple[str, ...] = ("features",),
                        params: int = 10) -> Graph:
    """``n`` lanes ``Input -> Gather(table)`` into one Concat, each Gather holding a table of
    ``params`` weights: the embedding-bag pattern of a recommender model."""
    g = Graph("embeddings")
    for i in range(n):
        ids = _spec(1, 3, dtype="int64")
        g.add_node(Node(f"ids{i}", f"ids{i}", "input", "Input", outputs=[ids]))
        g.add_node(Node(f"emb{i}", f"features.emb{i}", "embedding", "Gather", params=params,
                        inputs=[_spec(1, 3, dtype="int64")], outputs=[_spec(1, 3, 5)],
                        group=group + (f"features.emb{i}",)))
        g.add_edge(f"ids{i}", f"emb{i}", _spec(1, 3, dtype="int64"))
    g.add_node(Node("cat", "cat", "concat", "Concat", outputs=[_spec(1, 3, 5 * n)]))
    for i in range(n):
        g.add_edge(f"emb{i}", "cat", _spec(1, 3, 5))
    return g


def split_into_outputs(n: int) -> Graph:
    """One input split into ``n`` slices, each a dense layer and a graph output: fan-out."""
    g = Graph("heads")
    g.add_node(Node("x", "x", "input", "Input", outputs=[_spec(1, 8)]))
    g.add_node(Node("split", "split", "slice", "Split", outputs=[_spec(1, 8)]))
    g.add_edge("x", "split", _spec(1, 8))
    for i in range(n):
        g.add_node(Node(f"head{i}", f"head{i}", "dense", "Gemm", attrs={"units": 3},
                        params=27, inputs=[_spec(1, 8)], outputs=[_spec(1, 3)]))
        g.add_node(Node(f"out{i}", f"out{i}", "output", "Output", inputs=[_spec(1, 3)],
                        outputs=[_spec(1, 3)]))
        g.add_edge("split", f"head{i}", _spec(1, 8))
        g.add_edge(f"head{i}", f"out{i}", _spec(1, 3))
    return g


@pytest.mark.parametrize("n", [MAX_PARALLEL - 1, MAX_PARALLEL])
def test_up_to_the_limit_every_lane_is_drawn(n: int) -> None:
    g = concat_of_inputs(n)
    merged, report = merge_parallel(g)
    assert merged is g and report == []
    assert wide_anchors(g) == []


@pytest.mark.parametrize("n", [MAX_PARALLEL + 1, 20_000])
def test_above_the_limit_the_lanes_are_one_node(n: int) -> None:
    g = concat_of_inputs(n)
    merged, report = merge_parallel(g)
    assert [node.name for node in merged] == [f"{n:,} inputs", "cat", "fc"]
    assert report == [f"{n:,} parallel inputs into cat drawn as one node"]
    assert wide_anchors(g) == [f"{n:,} parallel inputs into cat"]
    node = merged.nodes["x0"]  # the merged node keeps its first member's id
    assert node.kind == "input" and node.op_type == "Input"
    assert node.attrs["parallel"] == n
    assert node.attrs["members"] == ["x0", "x1", "x2", "…", f"x{n - 1}"]
    assert node.outputs == [_spec(1, 4)] and node.inputs == []
    assert merged.inputs == ["x0"] and merged.outputs == g.outputs
    assert [(e.src, e.dst, e.tensor) for e in merged.edges] == [
        ("x0", "cat", _spec(1, 4)), ("cat", "fc", _spec(1, 4 * n))]
    assert merged.total_params == g.total_params  # the head's weights are untouched
    assert len(g) == n + 2  # the input graph is never changed


def test_a_short_member_list_names_every_member() -> None:
    g = concat_of_inputs(MAX_PARALLEL + 1)
    merged, _ = merge_parallel(g, limit=2)
    assert merged.nodes["x0"].attrs["members"][:3] == ["x0", "x1", "x2"]
    small = concat_of_inputs(4)
    merged, _ = merge_parallel(small, limit=3)
    assert merged.nodes["x0"].attrs["members"] == ["x0", "x1", "x2", "x3"]
    assert merged.nodes["x0"].name == "4 inputs"


def test_two_node_lanes_merge_position_by_position_with_summed_parameters() -> None:
    n = 40
    g = gathers_into_concat(n, params=10)
    merged, report = merge_parallel(g)
    assert report == [f"{n} parallel branches into cat drawn as one branch"]
    assert [node.name for node in merged] == [f"{n} inputs", f"{n} × Gather", "cat"]
    gather = merged.nodes["emb0"]
    assert gather.kind == "embedding" and gather.params == 10 * n
    assert merged.total_params == g.total_params == 10 * n
    assert gather.inputs == [_spec(1, 3, dtype="int64")]
    assert gather.outputs == [_spec(1, 3, 5)]
    # the members sat in sibling groups: the merged node sits in their common parent
    assert gather.group == ("features",)
    assert [(e.src, e.dst) for e in merged.edges] == [("ids0", "emb0"), ("emb0", "cat")]


def test_fan_out_lanes_are_merged_and_described_from_their_source() -> None:
    n = MAX_PARALLEL + 3
    g = split_into_outputs(n)
    merged, report = merge_parallel(g)
    assert report == [f"{n} parallel branches out of split drawn as one branch"]
    assert [node.name for node in merged] == ["x", "split", f"{n} × Gemm", f"{n} outputs"]
    head = merged.nodes["head0"]
    assert head.params == 27 * n
    assert head.outputs == [_spec(1, 3)]
    assert merged.outputs == ["out0"]
    assert [(e.src, e.dst) for e in merged.edges] == [
        ("x", "split"), ("split", "head0"), ("head0", "out0")]


def test_macs_of_the_members_are_summed() -> None:
    n = MAX_PARALLEL + 1
    g = split_into_outputs(n)
    merged, _ = merge_parallel(g)
    # each head: 3 units x 8 features = 24 MACs per example (no MACs were stored on it)
    assert merged.nodes["head0"].attrs["macs"] == 24 * n


def test_macs_are_left_out_when_a_member_has_none() -> None:
    n = MAX_PARALLEL + 1
    g = split_into_outputs(n)
    g.nodes["head5"].inputs = [TensorSpec(None)]
    g.nodes["head5"].params = 0  # no shape and no weights: its MACs are unknown
    merged, _ = merge_parallel(g)
    assert "macs" not in merged.nodes["head0"].attrs


def test_one_odd_lane_stays_apart_from_the_merged_ones() -> None:
    """33 inputs, one of another width: two signatures, so the 32 alike merge (a set of
    more than one lane) and the odd one is drawn on its own."""
    n = MAX_PARALLEL + 1
    g = concat_of_inputs(n)
    g.nodes["x7"].outputs = [_spec(1, 9)]
    merged, _ = merge_parallel(g)
    assert [node.name for node in merged] == ["32 inputs", "x7", "cat", "fc"]
    assert merged.nodes["x0"].outputs == [_spec(1, 4)]


def many_widths(n: int) -> Graph:
    """``n`` inputs of ``n`` different widths into one Concat: more signatures than the
    limit, so the lanes merge by kind."""
    g = concat_of_inputs(n)
    for i in range(n):
        g.nodes[f"x{i}"].outputs = [_spec(1, i + 1)]
    return g


def test_members_shapes_that_differ_become_unknown_dims() -> None:
    n = MAX_PARALLEL + 8
    merged, _ = merge_parallel(many_widths(n))
    node = merged.nodes["x0"]
    assert [m.name for m in merged] == [f"{n} inputs", "cat", "fc"]
    assert node.outputs == [_spec(1, None)]


def test_members_of_different_rank_or_dtype_give_an_unknown_shape_or_dtype() -> None:
    g = many_widths(MAX_PARALLEL + 8)
    g.nodes["x3"].outputs = [_spec(1, 4, 1)]
    g.nodes["x4"].outputs = [_spec(1, 5, dtype="float16")]
    assert merge_parallel(g)[0].nodes["x0"].outputs == [TensorSpec(None, None)]
    g.nodes["x3"].outputs = [_spec(1, 4)]
    assert merge_parallel(g)[0].nodes["x0"].outputs == [_spec(1, None, dtype=None)]


def test_lanes_of_different_kinds_merge_by_kind_first() -> None:
    """40 inputs into a Concat: 20 plain inputs, 20 Input -> Gather pairs. Same anchor
    (the Concat), 40 lanes in 2 kinds of lane: each kind is merged on its own."""
    g = Graph("mixed")
    g.add_node(Node("cat", "cat", "concat", "Concat", outputs=[_spec(1, 200)]))
    for i in range(40):
        g.add_node(Node(f"x{i}", f"x{i}", "input", "Input", outputs=[_spec(1, 5)]))
        if i % 2:
            g.add_node(Node(f"g{i}", f"g{i}", "embedding", "Gather", params=3,
                            outputs=[_spec(1, 5)]))
            g.add_edge(f"x{i}", f"g{i}", _spec(1, 5))
            g.add_edge(f"g{i}", "cat", _spec(1, 5))
        else:
            g.add_edge(f"x{i}", "cat", _spec(1, 5))
    merged, report = merge_parallel(g)
    assert sorted(n.name for n in merged) == ["20 inputs", "20 inputs", "20 × Gather", "cat"]
    assert sorted(report) == ["20 parallel branches into cat drawn as one branch",
                              "20 parallel inputs into cat drawn as one node"]
    assert merged.total_params == 60


def test_when_kinds_are_too_many_lanes_of_one_length_merge_regardless_of_kind() -> None:
    """40 single-node lanes of 40 different kinds (op types) into one Concat: more kinds
    than the limit, so they merge by length, into one node of kind ``other``."""
    g = Graph("zoo of ops")
    g.add_node(Node("x", "x", "input", "Input", outputs=[_spec(1, 5)]))
    g.add_node(Node("cat", "cat", "concat", "Concat", outputs=[_spec(1, 200)]))
    for i in range(40):
        g.add_node(Node(f"op{i}", f"op{i}", f"kind{i}", f"Op{i}", outputs=[_spec(1, 5)]))
        g.add_edge("x", f"op{i}", _spec(1, 5))
        g.add_edge(f"op{i}", "cat", _spec(1, 5))
    merged, report = merge_parallel(g, limit=32)
    assert [n.name for n in merged] == ["x", "40 × various", "cat"]
    assert merged.nodes["op0"].kind == "other"
    assert report == ["40 parallel branches into cat drawn as one node"]


def test_lanes_inside_a_group_keep_the_group() -> None:
    g = concat_of_inputs(MAX_PARALLEL + 1, group=("encoder",))
    for i in range(MAX_PARALLEL + 1):
        g.nodes[f"x{i}"].group = ("encoder", "encoder.stem")
    merged, _ = merge_parallel(g)
    assert merged.nodes["x0"].group == ("encoder", "encoder.stem")
    g.nodes["x3"].group = ("encoder", "encoder.other")
    merged, _ = merge_parallel(g)
    assert merged.nodes["x0"].group == ("encoder",)
    g.nodes["x4"].group = ("decoder",)
    merged, _ = merge_parallel(g)
    assert merged.nodes["x0"].group == ()


def test_lanes_are_maximal_chains_and_cover_every_node_once() -> None:
    g = gathers_into_concat(3)
    found = lanes(g)
    assert sorted(lane.nodes for lane in found) == sorted(
        [("ids0", "emb0"), ("ids1", "emb1"), ("ids2", "emb2"), ("cat",)])
    assert {lane.anchor for lane in found if lane.nodes != ("cat",)} == {((), ("cat",))}
    # a node with two successors ends its lane; a node with two predecessors starts one
    h = split_into_outputs(2)
    chains = sorted(lane.nodes for lane in lanes(h))
    assert chains == [("head0", "out0"), ("head1", "out1"), ("x", "split")]


def test_duplicate_edges_between_the_same_nodes_are_one_link() -> None:
    """An input read twice by the Concat (two edges) is still a one-node lane."""
    g = concat_of_inputs(MAX_PARALLEL + 1)
    g.add_edge("x0", "cat", _spec(1, 4))
    merged, _ = merge_parallel(g)
    assert [n.name for n in merged][0] == f"{MAX_PARALLEL + 1:,} inputs"
    assert sum(1 for e in merged.edges if e.dst == "cat") == 1


def test_lanes_between_several_sources_and_sinks_are_described_without_a_place() -> None:
    """40 ops each reading both inputs and feeding both outputs: anchors of two nodes on
    each side, so the report names no single node."""
    g = Graph("crossbar")
    for name in ("a", "b"):
        g.add_node(Node(name, name, "input", "Input", outputs=[_spec(1, 5)]))
    for i in range(40):
        g.add_node(Node(f"op{i}", f"op{i}", "add", "Add", outputs=[_spec(1, 5)]))
        g.add_edge("a", f"op{i}", _spec(1, 5))
        g.add_edge("b", f"op{i}", _spec(1, 5))
    for name in ("c", "d"):
        g.add_node(Node(name, name, "concat", "Concat", outputs=[_spec(1, 200)]))
        for i in range(40):
            g.add_edge(f"op{i}", name, _spec(1, 5))
    merged, report = merge_parallel(g)
    assert report == ["40 parallel branches drawn as one node"]
    assert [n.name for n in merged] == ["a", "b", "40 × Add", "c", "d"]
    assert sorted((e.src, e.dst) for e in merged.edges) == [
        ("a", "op0"), ("b", "op0"), ("op0", "c"), ("op0", "d")]


def test_macs_stored_on_the_members_are_the_ones_summed() -> None:
    """A member's stored ``attrs["macs"]`` (an importer's count) wins over a recount."""
    n = MAX_PARALLEL + 1
    g = split_into_outputs(n)
    for i in range(n):
        g.nodes[f"head{i}"].attrs["macs"] = 100
    assert merge_parallel(g)[0].nodes["head0"].attrs["macs"] == 100 * n


def test_five_members_are_listed_with_an_ellipsis_four_in_full() -> None:
    five = merge_parallel(concat_of_inputs(5), limit=4)[0]
    assert five.nodes["x0"].attrs["members"] == ["x0", "x1", "x2", "…", "x4"]
    four = merge_parallel(concat_of_inputs(4), limit=3)[0]
    assert four.nodes["x0"].attrs["members"] == ["x0", "x1", "x2", "x3"]


def test_the_second_member_in_another_group_moves_the_node_up() -> None:
    g = concat_of_inputs(MAX_PARALLEL + 1)
    for i in range(MAX_PARALLEL + 1):
        g.nodes[f"x{i}"].group = ("encoder", "encoder.stem")
    g.nodes["x1"].group = ("decoder",)
    assert merge_parallel(g)[0].nodes["x0"].group == ()


def test_a_member_of_unknown_rank_makes_the_shape_unknown_and_keeps_the_dtype() -> None:
    g = many_widths(MAX_PARALLEL + 8)
    for i in range(MAX_PARALLEL + 8):
        g.nodes[f"x{i}"].outputs = [_spec(i + 1)]  # rank 1
    g.nodes["x9"].outputs = [TensorSpec(None, "float32")]
    assert merge_parallel(g)[0].nodes["x0"].outputs == [TensorSpec(None, "float32")]
    g.nodes["x9"].outputs = [_spec(1, 2)]  # rank 2 among rank 1: same dtype is kept
    assert merge_parallel(g)[0].nodes["x0"].outputs == [TensorSpec(None, "float32")]


def test_exactly_the_limit_of_signatures_merges_only_the_alike() -> None:
    """33 inputs of 32 widths (two share one): 32 kinds of lane is not more than the
    limit, so only the two alike merge and 31 lanes stay as drawn."""
    n = MAX_PARALLEL + 1
    g = many_widths(n)
    g.nodes["x1"].outputs = [_spec(1, 1)]  # the same width as x0
    merged, report = merge_parallel(g)
    assert report == ["2 parallel inputs into cat drawn as one node"]
    assert len(merged) == n - 1 + 2
    assert merged.nodes["x0"].name == "2 inputs"


def test_exactly_the_limit_of_kinds_merges_by_kind() -> None:
    """40 lanes of 40 widths (signatures) but 32 kinds: merged by kind, 32 nodes."""
    g = Graph("kinds")
    g.add_node(Node("x", "x", "input", "Input", outputs=[_spec(1, 5)]))
    g.add_node(Node("cat", "cat", "concat", "Concat", outputs=[_spec(1, 200)]))
    for i in range(40):
        kind = f"kind{i % MAX_PARALLEL}"
        g.add_node(Node(f"op{i}", f"op{i}", kind, f"Op{i % MAX_PARALLEL}",
                        outputs=[_spec(1, i + 1)]))
        g.add_edge("x", f"op{i}", _spec(1, 5))
        g.add_edge(f"op{i}", "cat", _spec(1, i + 1))
    merged, report = merge_parallel(g)
    assert len(report) == 40 - MAX_PARALLEL  # kinds 0..7 have two lanes each
    assert len(merged) == 2 + MAX_PARALLEL
    assert merged.nodes["op0"].name == "2 × Op0"
