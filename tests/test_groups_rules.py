"""Group inference and singleton dissolving (``passes/groups.py``) against outside oracles:
the block counts the papers give for Keras applications (ResNet-50 [3, 4, 6, 3], DenseNet-121's
dense blocks [6, 12, 24, 16], EfficientNet-B0's stages [1, 2, 2, 3, 3, 4, 1], ConvNeXt-T
[3, 3, 9, 3]), and hand-built graphs whose answer is written out in each test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from netdraw.ir import Graph, Group, Node, TensorSpec
from netdraw.passes.groups import dissolve_singletons, infer_groups, name_groups

S = TensorSpec((1, 4))


def chain(names: list[str]) -> Graph:
    """input -> the named conv nodes in a chain -> output (all flat)."""
    g = Graph("flat")
    g.add_node(Node("in", "in", "input", "Input", outputs=[S]))
    prev = "in"
    for i, name in enumerate(names):
        g.add_node(Node(f"n{i}", name, "conv", "Conv", params=10, inputs=[S], outputs=[S]))
        g.add_edge(prev, f"n{i}", S)
        prev = f"n{i}"
    g.add_node(Node("out", "out", "output", "Output", inputs=[S]))
    g.add_edge(prev, "out", S)
    g.inputs, g.outputs = ["in"], ["out"]
    return g


def test_the_biggest_name_group_counts_towards_the_coverage():
    """Nine of thirteen layers in two named blocks: more than half, so names make groups."""
    names = [f"blk1_{c}" for c in "abcdefg"] + ["blk2_a", "blk2_b", "head", "pool", "fc",
                                                   "tail"]
    paths = name_groups(chain(names))
    assert paths is not None
    assert {paths[f"n{i}"][0] for i in range(7)} == {("blk1",)}
    assert {paths[f"n{i}"][0] for i in (7, 8)} == {("blk2",)}
    assert not any(f"n{i}" in paths for i in range(9, 13))


def _singletons() -> Graph:
    """Three groups of one node each: an exporter's node name, an ONNX scope name and a
    module's own name; the second group is the first of two calls of one module."""
    g = Graph("singletons")
    g.add_node(Node("in", "in", "input", "Input", outputs=[S]))
    g.add_node(Node("node_Conv_0", "node_Conv_0", "conv", "Conv", params=10, inputs=[S],
                    outputs=[S], group=("stem",)))
    g.add_node(Node("n1", "/enc/Conv", "conv", "Conv", params=10, inputs=[S], outputs=[S],
                    group=("enc",)))
    g.add_node(Node("n2", "proj", "conv", "Conv", params=10, inputs=[S], outputs=[S],
                    group=("head",)))
    g.add_node(Node("out", "out", "output", "Output", inputs=[S]))
    for src, dst in (("in", "node_Conv_0"), ("node_Conv_0", "n1"), ("n1", "n2"),
                    ("n2", "out")):
        g.add_edge(src, dst, S)
    g.inputs, g.outputs = ["in"], ["out"]
    g.groups = {("stem",): Group(("stem",), "Conv2d", "stem"),
                ("enc",): Group(("enc",), "Encoder", "encoder", call=1, calls=2),
                ("head",): Group(("head",), "Linear", "the head")}
    g.meta["framework"] = "onnx"
    return g


def test_a_group_of_one_node_gives_it_its_label_and_call():
    out = dissolve_singletons(_singletons())
    by_id = {n.id: n for n in out}
    assert all(not n.group for n in out)
    assert by_id["node_Conv_0"].name == "stem"  # dynamo's node_<Op>_<n>
    assert by_id["n1"].name == "encoder"  # the legacy exporter's /scope/Op
    assert by_id["n2"].name == "proj"  # a name its author chose stays
    assert (by_id["n1"].attrs["call"], by_id["n1"].attrs["calls"]) == (1, 2)
    assert "calls" not in by_id["n2"].attrs


def test_nothing_to_dissolve_is_an_equal_copy():
    graph = chain(["a", "b"])
    graph.meta["framework"] = "onnx"
    out = dissolve_singletons(graph)
    assert out is not graph
    assert out.to_json() == graph.to_json()
    assert (out.inputs, out.outputs, out.meta) == (["in"], ["out"], {"framework": "onnx"})


_BUILT: dict[str, Graph] = {}


def keras_app(name: str) -> Graph:
    """The application's graph (weights=None, on Keras' meta device) with groups inferred."""
    if name not in _BUILT:
        os.environ["KERAS_BACKEND"] = "torch"
        sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))
        import keras_corpus

        import netdraw

        _BUILT[name] = infer_groups(netdraw.load(keras_corpus.build(name)))
    return _BUILT[name]


def _blocks(graph: Graph, stage: str) -> int:
    return len({n.group[1] for n in graph if len(n.group) >= 2 and n.group[0] == stage})


@pytest.mark.parametrize(("name", "stages"), [
    ("ResNet50", {"conv2": 3, "conv3": 4, "conv4": 6, "conv5": 3}),  # He et al., Table 1
    ("DenseNet121", {"conv2": 6, "conv3": 12, "conv4": 24, "conv5": 16}),  # Huang et al.
    # Tan & Le, Table 1: stages 2-7 of 1, 2, 2, 3, 3, 4, 1 MBConv blocks; a stage of one
    # block is that block
    ("EfficientNetB0", {"block1a": 0, "block2": 2, "block3": 2, "block4": 3, "block5": 3,
                        "block6": 4, "block7a": 0}),
    ("ConvNeXtTiny", {"convnext_tiny_stage_0": 3, "convnext_tiny_stage_1": 3,
                      "convnext_tiny_stage_2": 9, "convnext_tiny_stage_3": 3}),  # Liu et al.
])
def test_keras_applications_stages_hold_the_papers_block_counts(name, stages):
    graph = keras_app(name)
    tops = {n.group[0] for n in graph if n.group}
    assert set(stages) <= tops
    assert {stage: _blocks(graph, stage) for stage in stages} == stages


def test_repeating_pairs_of_stretches_wrap_into_one_group_per_repetition():
    """Three transformer layers without usable names: each is an attention stretch and an
    MLP stretch (both residual), so three groups of two sub-blocks, labelled by their last
    layers' names."""
    g = Graph("anonymous")
    shape = TensorSpec((1, 4, 8))
    g.add_node(Node("in", "in", "input", "Input", outputs=[shape]))
    prev, k = "in", 0
    for _ in range(3):
        for names, kinds, last in ((("norm", "attend"), ("norm", "attention"), "attn_sum"),
                                   (("fc", "fc"), ("dense", "dense"), "mlp_sum")):
            start = prev
            for name, kind in zip(names, kinds, strict=True):
                g.add_node(Node(f"v{k}", name, kind, kind.title(), params=8, inputs=[shape],
                                outputs=[shape]))
                g.add_edge(prev, f"v{k}", shape)
                prev, k = f"v{k}", k + 1
            g.add_node(Node(f"v{k}", last, "add", "Add", inputs=[shape, shape],
                            outputs=[shape]))
            g.add_edge(prev, f"v{k}", shape)
            g.add_edge(start, f"v{k}", shape)  # the residual
            prev, k = f"v{k}", k + 1
    g.add_node(Node("out", "out", "output", "Output", inputs=[shape]))
    g.add_edge(prev, "out", shape)
    g.inputs, g.outputs = ["in"], ["out"]
    out = infer_groups(g)
    assert out.meta["inferred_groups"] == "structure"
    outer = sorted({n.group[0] for n in out if n.group})
    assert outer == ["block1", "block2", "block3"]
    for top in outer:
        members = [n for n in out if n.group[:1] == (top,)]
        assert len(members) == 6
        assert len({n.group for n in members}) == 2  # the attention and the MLP sub-block
        assert out.groups[(top,)].label == "mlp_sum"
        inner = sorted(out.groups[n.group].label for n in members)
        assert inner == ["attn_sum"] * 3 + ["mlp_sum"] * 3
