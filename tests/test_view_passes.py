"""The view passes on small hand-built graphs: group inference from names, non-convex
groups, hostile names, empty graphs, JSON round trips (no framework needed)."""

from __future__ import annotations

import subprocess
import xml.etree.ElementTree as ET

import pytest

from netdraw import render
from netdraw.backends.dot import to_dot
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes import ViewOptions, make_view
from netdraw.passes.groups import infer_groups, name_groups, suffix_groups
from netdraw.passes.layout import split
from netdraw.summary import table

S = TensorSpec((1, 8, 4, 4))


def chain(names: list[str], kinds: list[str] | None = None) -> Graph:
    """input -> the named nodes in a chain -> output (all flat)."""
    g = Graph("flat")
    g.add_node(Node("in", "in", "input", "Input", outputs=[S]))
    prev = "in"
    for i, name in enumerate(names):
        kind = (kinds or ["conv"] * len(names))[i]
        g.add_node(Node(f"n{i}", name, kind, kind.title(), params=10, inputs=[S], outputs=[S]))
        g.add_edge(prev, f"n{i}", S)
        prev = f"n{i}"
    g.add_node(Node("out", "out", "output", "Output", inputs=[S]))
    g.add_edge(prev, "out", S)
    g.validate()
    return g


def paths_by_name(graph: Graph) -> dict[str, tuple[str, ...]]:
    return {n.name: n.group for n in infer_groups(graph)}


def test_keras_style_prefixes_nest():
    names = [f"conv{s}_block{b}_{i}_{k}" for s in (2, 3) for b in (1, 2)
             for i in (1, 2) for k in ("conv", "bn")]
    groups = paths_by_name(chain(names))
    assert groups["conv3_block2_1_bn"] == ("conv3", "conv3_block2", "conv3_block2_1")
    assert groups["conv2_block1_2_conv"][:2] == ("conv2", "conv2_block1")


def test_mobilenet_and_efficientnet_prefixes():
    mobile = [f"block_{b}_{p}" for b in (1, 2, 3) for p in ("expand", "expand_BN",
                                                             "depthwise", "project")]
    assert paths_by_name(chain(mobile))["block_2_depthwise"] == ("block_2",)
    eff = [f"block{s}{c}_{p}" for s in (1, 2) for c in "ab" for p in ("dwconv", "bn", "se")]
    assert paths_by_name(chain(eff))["block2b_se"] == ("block2", "block2b")


def test_auto_numbered_names_do_not_make_groups():
    names = []
    for i in range(6):
        names += [f"conv2d_{i}", f"batch_normalization_{i}", f"activation_{i}"]
    assert name_groups(chain(names)) is None


def residual_stages(name: str, stages: int, blocks: int) -> Graph:
    """Keras ConvNeXt's naming: ``<model>_stage_<s>_block_<b>_<layer>`` layers, each block
    closed by an anonymous ``add``/``add_N`` (a keras.ops call), a nested ``Sequential``
    downsampling group between stages."""
    g = Graph(name)
    g.add_node(Node("in", "input_layer", "input", "InputLayer", outputs=[S]))
    prev, adds = "in", 0
    for s in range(stages):
        if s:
            path = (f"{name}_downsampling_block_{s - 1}",)
            g.add_group(path, "Sequential")
            for layer in ("norm", "conv"):
                nid = f"{path[0]}/{layer}"
                g.add_node(Node(nid, f"{name}_downsampling_{layer}_{s - 1}", "conv", "Conv2D",
                                params=3, inputs=[S], outputs=[S], group=path))
                g.add_edge(prev, nid, S)
                prev = nid
        for b in range(blocks):
            block_in = prev
            for layer in ("depthwise_conv", "pointwise_conv_1", "pointwise_conv_2"):
                nid = f"{name}_stage_{s}_block_{b}_{layer}"
                g.add_node(Node(nid, nid, "conv", "Conv2D", params=5, inputs=[S], outputs=[S]))
                g.add_edge(prev, nid, S)
                prev = nid
            add = "add" if adds == 0 else f"add_{adds}"
            adds += 1
            g.add_node(Node(add, add, "add", "Add", inputs=[S, S], outputs=[S]))
            g.add_edge(prev, add, S)
            g.add_edge(block_in, add, S)
            prev = add
    g.add_node(Node("out", "out", "output", "Output", inputs=[S]))
    g.add_edge(prev, "out", S)
    g.validate()
    return g


def test_names_group_the_top_level_around_nested_groups():
    """Keras ConvNeXt (item 6 of issue 28): nested Sequential groups made the graph not
    flat, so its 100+ top-level layers were never grouped into stages and blocks."""
    graph = residual_stages("convnext_tiny", stages=3, blocks=3)
    groups = paths_by_name(graph)
    assert groups["convnext_tiny_stage_1_block_2_pointwise_conv_1"] == (
        "convnext_tiny_stage_1", "convnext_tiny_stage_1_block_2")
    # The anonymous residual add closes its block; the nested group moves as one piece.
    assert groups["add_4"] == ("convnext_tiny_stage_1", "convnext_tiny_stage_1_block_1")
    assert groups["add"] == ("convnext_tiny_stage_0", "convnext_tiny_stage_0_block_0")
    assert groups["convnext_tiny_downsampling_conv_0"] == ("convnext_tiny_downsampling_block_0",)
    inferred = infer_groups(graph)
    labels = {g.path: g.label for g in inferred.groups.values()}
    assert labels[("convnext_tiny_stage_2",)] == "stage_2"  # the model's name left out
    assert labels[("convnext_tiny_stage_2", "convnext_tiny_stage_2_block_0")] == \
        "stage_2_block_0"
    view = make_view(graph, ViewOptions(depth=2))  # stages open: their blocks roll
    rolled = [(n.name, n.attrs["repeat"]) for n in view if n.attrs.get("repeat")]
    assert rolled == [(f"stage_{s}_block_0–stage_{s}_block_2", 3) for s in range(3)]
    assert view.total_params == graph.total_params == 3 * 3 * 15 + 2 * 6


def nasnet_like(cells: int) -> Graph:
    """NASNet's naming: the cell number ends every name, generated activations between;
    each cell reads the two cells before it (so no single node cuts the graph)."""
    g = Graph("nasnet")
    g.add_node(Node("in", "input", "input", "InputLayer", outputs=[S]))
    outs = ["in", "in"]
    act = 0
    for c in range(cells):
        branch = []
        for side, source in (("left1", outs[-1]), ("right1", outs[-2])):
            relu = f"activation_{act}" if act else "activation"
            act += 1
            g.add_node(Node(relu, relu, "activation", "Activation", inputs=[S], outputs=[S]))
            g.add_edge(source, relu, S)
            conv = f"separable_conv_1_normal_{side}_{c}"
            g.add_node(Node(conv, conv, "conv", "SeparableConv2D", params=4, inputs=[S],
                            outputs=[S]))
            g.add_edge(relu, conv, S)
            branch.append(conv)
        concat = f"normal_concat_{c}"
        g.add_node(Node(concat, concat, "concat", "Concatenate", inputs=[S, S], outputs=[S]))
        for b in branch:
            g.add_edge(b, concat, S)
        outs.append(concat)
    g.add_node(Node("out", "out", "output", "Output", inputs=[S]))
    g.add_edge(outs[-1], "out", S)
    g.validate()
    return g


def test_cells_numbered_at_the_end_of_names():
    groups = paths_by_name(nasnet_like(5))
    assert groups["separable_conv_1_normal_right1_3"] == ("3",)
    assert groups["activation_7"] == ("3",)  # generated: it joins the cell it feeds
    labels = {g.path: g.label for g in infer_groups(nasnet_like(5)).groups.values()}
    assert labels[("3",)] == "normal_concat_3"
    view = make_view(nasnet_like(5), ViewOptions(depth=1))
    assert sum(n.attrs.get("repeat", 1) for n in view if n.kind == "block") == 5


def test_op_counters_at_the_end_of_names_make_no_cells():
    """``conv_1``, ``relu_1``, … ``conv_7`` named by an exporter's per-op counter: the
    layers sharing a number are scattered, never a block."""
    names = [f"enc_{k}_{i // 3 + (i % 3) * 4}" for i, k in enumerate(["conv", "bn", "act"] * 4)]
    assert len(set(names)) == len(names) and names[:4] == [
        "enc_conv_0", "enc_bn_4", "enc_act_8", "enc_conv_1"]
    assert suffix_groups(chain(names)) is None
    # The same layers numbered by block do make blocks.
    names = [f"enc_{k}_{i // 3}" for i, k in enumerate(["conv", "bn", "act"] * 4)]
    assert suffix_groups(chain(names))["n4"] == (("1",), ("enc_act_1",))


def test_structure_finds_repeats_without_names():
    """Residual blocks with anonymous names become groups and roll."""
    g = Graph("anon")
    g.add_node(Node("in", "x", "input", "Input", outputs=[S]))
    prev = "in"
    for b in range(4):
        a, c, r = f"a{b}", f"c{b}", f"r{b}"
        g.add_node(Node(a, f"n{3 * b}", "conv", "Conv", params=5, inputs=[S], outputs=[S]))
        g.add_node(Node(c, f"n{3 * b + 1}", "conv", "Conv", params=5, inputs=[S], outputs=[S]))
        g.add_node(Node(r, f"n{3 * b + 2}", "add", "Add", inputs=[S, S], outputs=[S]))
        for src, dst in ((prev, a), (a, c), (c, r), (prev, r)):
            g.add_edge(src, dst, S)
        prev = r
    g.add_node(Node("out", "y", "output", "Output", inputs=[S]))
    g.add_edge(prev, "out", S)
    g.validate()
    view = make_view(g)
    # The first block is drawn open (a single ×4 box would hide every layer), the rest roll.
    assert [(n.kind, n.attrs.get("repeat")) for n in view] == [
        ("input", None), ("conv", None), ("conv", None), ("add", None), ("block", 3),
        ("output", None)]
    assert view.total_params == 40
    rolled = make_view(g, ViewOptions(depth=1))
    assert [(n.kind, n.attrs.get("repeat")) for n in rolled] == [
        ("input", None), ("block", 4), ("output", None)]


def test_a_non_convex_group_stays_open():
    """Collapsing {a1, a3} around an outside node b would make a cycle: it stays open."""
    g = Graph("nc")
    g.add_node(Node("in", "in", "input", "Input", outputs=[S]))
    g.add_group(("A",), "Thing", "A")
    g.add_node(Node("a1", "a1", "conv", "Conv", params=1, inputs=[S], outputs=[S], group=("A",)))
    g.add_node(Node("b", "b", "conv", "Conv", params=2, inputs=[S], outputs=[S]))
    g.add_node(Node("a3", "a3", "conv", "Conv", params=3, inputs=[S], outputs=[S], group=("A",)))
    g.add_node(Node("out", "out", "output", "Output", inputs=[S]))
    for src, dst in (("in", "a1"), ("a1", "b"), ("b", "a3"), ("a3", "out")):
        g.add_edge(src, dst, S)
    g.validate()
    view = make_view(g, ViewOptions(depth=1))
    assert {"a1", "b", "a3"} <= set(view.nodes)
    assert view.total_params == 6


HOSTILE = 'x<y>&"z\\ {a}_%$#^~\nnew'


def test_hostile_group_names_reach_dot_and_latex_safely(tmp_path):
    g = Graph(HOSTILE)
    g.add_node(Node("in", HOSTILE, "input", "Input", outputs=[S]))
    prev = "in"
    for b in range(3):
        path = (f"{HOSTILE}.{b}",)
        g.add_group(path, HOSTILE, f"{HOSTILE}.{b}")
        for k in range(2):
            nid = f"{b}-{k}"
            g.add_node(Node(nid, HOSTILE + nid, "conv", "Conv", params=7, inputs=[S],
                            outputs=[S], group=path))
            g.add_edge(prev, nid, S)
            prev = nid
    g.add_node(Node("out", "out", "output", "Output", inputs=[S]))
    g.add_edge(prev, "out", S)
    g.validate()
    view = make_view(g, ViewOptions(depth=1))
    assert [n.attrs.get("repeat") for n in view if n.kind == "block"] == [3]
    svg = render(view, "svg")
    ET.fromstring(svg)
    tex = table(view, "latex")
    doc = tmp_path / "t.tex"
    doc.write_text("\\documentclass{article}\\usepackage{booktabs,tabularx,longtable}"
                   "\\begin{document}\n"
                   f"{tex}\\end{{document}}\n")
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "-halt-on-error", "t.tex"],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stdout[-1500:]
    md = table(view, "markdown")
    assert md.count("\n") == len(view) + 2  # header, rule, rows (no output row), total


def test_empty_and_tiny_graphs():
    empty = Graph("empty")
    view = make_view(empty)
    assert len(view) == 0 and view.meta["view"]["nodes"] == 0
    assert "digraph" in to_dot(view)
    tiny = chain(["only"])
    assert [n.name for n in make_view(tiny)] == ["in", "only", "out"]


def test_view_json_round_trip_is_drawn_as_it_is():
    g = chain([f"stage{s}_unit{u}_{k}" for s in (1, 2) for u in (1, 2, 3)
               for k in ("conv", "relu")], ["conv", "activation"] * 6)
    view = make_view(g)
    again = Graph.from_json(view.to_json())
    assert again.to_json() == view.to_json()
    # A graph that already is a view is not viewed again.
    assert render(again, "dot") == render(view, "dot")


def test_tall_chains_wrap_into_columns():
    g = chain([f"layer{i}" for i in range(24)], ["conv", "pool"] * 12)
    view = make_view(g, ViewOptions(fold=False))
    columns = view.meta["view"]["columns"]
    assert columns >= 2 and view.meta["view"]["aspect"] <= 4
    assert max(split(view, columns).values()) == columns - 1
    svg = ET.fromstring(render(view, "svg"))
    width, height = (float(svg.get(k).rstrip("pt")) for k in ("width", "height"))
    assert max(width, height) / min(width, height) <= 4


@pytest.mark.parametrize("bad", [{"depth": -1}, {"max_nodes": 0}])
def test_bad_options(bad):
    from netdraw import NetdrawError

    with pytest.raises(NetdrawError):
        ViewOptions(**bad)
