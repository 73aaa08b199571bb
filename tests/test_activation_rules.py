"""`Activations` at its boundaries, on hand-made values: axes, layouts, tokens, channel
orders, ranges, views, names and the .npz file.

Oracles: numpy's own transposes and statistics of the same arrays, hand counts, and the
.npz file read back with numpy (not with netdraw).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node
from netdraw.viz.activations import Activations, fill_outputs, guess_axes, representative


def graph_of(nodes: dict[str, tuple[str, str]], inputs=(), outputs=()) -> Graph:
    g = Graph("t")
    for nid, (kind, op) in nodes.items():
        g.add_node(Node(nid, nid, kind, op))
    g.inputs.extend(inputs)
    g.outputs.extend(outputs)
    return g


def test_representatives():
    assert representative(Node("a", "a", "conv", "Conv", {"output_node": "z"})) == "z"
    assert representative(Node("a", "a", "conv", "Conv", {"output_node": 3})) == "a"
    folded = [{"id": "bn"}, {"id": "relu"}]
    assert representative(Node("a", "a", "conv", "Conv", {"folded": folded})) == "relu"
    assert representative(Node("a", "a", "conv", "Conv", {"folded": [{"op": "x"}]})) == "a"
    assert representative(Node("a", "a", "conv", "Conv", {"folded": ["relu"]})) == "a"
    assert representative(Node("a", "a", "conv", "Conv", {"folded": []})) == "a"
    assert representative(Node("a", "a", "conv", "Conv", {"folded": {"id": "b"}})) == "a"


@pytest.mark.parametrize(("shape", "layout", "kind", "op", "axes"), [
    ((), "channels_first", "", "", ""), ((2,), "channels_first", "", "", "N"),
    ((3,), "channels_first", "", "", "?"), ((2, 5, 7), "channels_first", "pool", "", "NCL"),
    ((2, 5, 7), "channels_last", "upsample", "", "NLC"),
    ((2, 5, 7), "channels_first", "conv_transpose", "", "NCL"),
    ((2, 5, 7), "channels_first", "pad", "", "NCL"),
    ((2, 5, 7), "channels_first", "other", "AvgPool1D", "NCL"),
    ((2, 5, 7), "channels_first", "norm", "BatchNorm1d", "NCL"),
    ((2, 5, 7), "channels_first", "norm", "Batch_Norm", "NCL"),
    ((2, 5, 7), "channels_first", "norm", "LayerNorm", "NTD"),
    ((2, 5, 7), "channels_first", "dense", "Linear", "NTD"),
    ((2, 3, 4, 5, 6), "channels_first", "conv", "Conv3d", "N????"),
])
def test_axes_by_rank_kind_and_op(shape, layout, kind, op, axes):
    assert guess_axes(shape, 2, layout, kind, op) == axes


def test_axes_are_guessed_from_the_batch_of_the_inputs():
    g = graph_of({"x": ("input", "Input"), "c": ("conv", "Conv2d"), "f": ("dense", "Linear")},
                 inputs=["x"])
    acts = Activations(g, {"c": np.zeros((3, 4, 5, 5)), "x": np.zeros((3, 1, 5, 5)),
                           "f": np.zeros((3, 10))}, layout="channels_last")
    assert acts.batch == 3 and acts.axes == {"c": "NHWC", "x": "NHWC", "f": "NF"}
    assert list(acts) == ["x", "c", "f"] and len(acts) == 3
    # without an input value: the first value's batch; a scalar input says nothing
    g2 = graph_of({"x": ("input", "Input"), "f": ("dense", "Linear")}, inputs=["x"])
    assert Activations(g2, {"x": np.float32(1.0), "f": np.zeros((5, 2))}).batch == 1
    assert Activations(g2, {"f": np.zeros((5, 2))}).batch == 5
    assert Activations(g2, {}).batch == 1
    # a value of a node the graph has not: guessed without kind
    assert Activations(g2, {"f": np.zeros((5, 2)), "ghost": np.zeros((5, 2, 3))}).axes[
        "ghost"] == "NTD"
    # given axes are kept
    assert Activations(g2, {"f": np.zeros((5, 2))}, {"f": "??"}).axes == {"f": "??"}


def test_fill_outputs():
    g = graph_of({"a": ("dense", "Linear"), "b": ("dense", "Linear"), "o": ("output", "O"),
                  "p": ("output", "O")}, outputs=["o", "p"])
    g.add_edge("a", "o")
    g.add_edge("a", "b")
    g.add_edge("b", "p")
    one, two = np.ones(2), np.zeros(2)
    values = {"a": one, "p": two}
    fill_outputs(g, values)
    assert values["o"] is one and values["p"] is two and "b" not in values


def test_spatial_views_of_each_layout():
    rng = np.random.default_rng(0)
    x = rng.random((2, 3, 4, 5)).astype(np.float32)
    g = graph_of({k: ("conv", "Conv") for k in "abcdefgh"})
    acts = Activations(g, {"a": x, "b": x, "c": x[:, :, 0], "d": x[:, :, 0],
                           "e": rng.random((2, 21, 6)), "f": rng.random((2, 3, 6)),
                           "g": x.astype(np.float64), "h": x},
                       {"a": "NCHW", "b": "NHWC", "c": "NCL", "d": "NLC", "e": "NTD",
                        "f": "NTD", "g": "NCHW", "h": "NCHWX"})
    np.testing.assert_array_equal(acts.spatial("a", 1), x[1])
    np.testing.assert_array_equal(acts.spatial("b"), x[0].transpose(2, 0, 1))
    np.testing.assert_array_equal(acts.spatial("c"), x[0, :, 0][:, None, :])
    np.testing.assert_array_equal(acts.spatial("d"), x[0, :, 0].T[:, None, :])
    tokens = acts.values["e"][1]  # 21 = 5 extra + 4×4
    np.testing.assert_allclose(acts.spatial("e", 1), tokens[5:].T.reshape(6, 4, 4))
    assert acts.spatial("f") is None and acts.spatial("h") is None
    assert acts.spatial("g").dtype == np.float32
    assert [acts.kind(k) for k in "abcdefgh"] == ["spatial"] * 5 + ["tokens", "spatial",
                                                                     "other"]
    np.testing.assert_allclose(acts.tokens("f", 1), acts.values["f"][1])
    assert acts.tokens("a") is None and acts.tokens("f").dtype == np.float32
    np.testing.assert_array_equal(acts.vector("a", 1), x[1].reshape(-1))
    assert Activations(g, {"a": np.zeros((1, 4))}).kind("a") == "vector"
    assert Activations(g, {"a": np.zeros((4,))}, {"a": "N"}).kind("a") == "vector"


def test_channel_statistics_and_orders():
    maps = np.zeros((1, 4, 2, 2), np.float32)
    maps[0, 0] = [[0, 0], [0, 8]]  # mean 2, max 8
    maps[0, 1] = [[3, 3], [3, 3]]  # mean 3, max 3
    maps[0, 2] = [[1, 1], [1, 1]]  # mean 1, max 1
    maps[0, 3] = [[3, 3], [3, 3]]  # ties with 1: kept in index order
    g = graph_of({"c": ("conv", "Conv"), "f": ("dense", "Linear")})
    acts = Activations(g, {"c": maps, "f": np.zeros((1, 3))})
    stats = acts.channel_stats("c")
    np.testing.assert_allclose(stats["mean"], [2, 3, 1, 3])
    np.testing.assert_allclose(stats["max"], [8, 3, 1, 3])
    np.testing.assert_allclose(stats["min"], [0, 3, 1, 3])
    np.testing.assert_allclose(stats["std"], maps[0].reshape(4, -1).std(1))
    assert acts.top_channels("c", 3) == [0, 1, 2]
    assert acts.top_channels("c", 3, "mean") == [1, 3, 0]
    assert acts.top_channels("c", 2, "max") == [0, 1]
    assert acts.top_channels("c", 9, "index") == [0, 1, 2, 3]
    assert acts.top_channels("c", -1, "max") == []
    # a layer without channel maps has no channels to order (no crash for mean or max)
    assert acts.top_channels("f", 2) == [] and acts.top_channels("f", 2, "mean") == []
    assert acts.top_channels("f", 2, "max") == []
    with pytest.raises(NetdrawError, match=r"unknown channel order 'min'; use one of "
                                           r"index, mean, max"):
        acts.top_channels("c", 1, "min")
    with pytest.raises(NetdrawError, match=r"node 'f' has no spatial output \(axes NF\)"):
        acts.channel_stats("f")


def test_value_ranges_and_summaries():
    v = np.array([[1.0, np.nan, -2.0, np.inf], [5.0, 0.0, 0.0, 0.0]], np.float32)
    g = graph_of({k: ("dense", "Linear") for k in "abcd"})
    acts = Activations(g, {"a": v, "b": np.zeros((1, 0)), "c": np.full((1, 2), np.nan),
                           "d": np.array([[3, -7]], np.int64)})
    assert acts.value_range("a") == (-2.0, 5.0)
    assert acts.value_range("a", 0) == (-2.0, 1.0) and acts.value_range("a", 1) == (0.0, 5.0)
    assert acts.value_range("b") == (0.0, 0.0) and acts.value_range("c") == (0.0, 0.0)
    assert acts.value_range("d") == (-7.0, 3.0)
    s = Activations(g, {"d": acts.values["d"]}).summary("d")
    assert s == {"shape": [1, 2], "axes": "NF", "min": -7.0, "max": 3.0, "mean": -2.0,
                 "zeros": 0.0}
    assert acts.summary("a")["zeros"] == 3 / 8
    empty = Activations(g, {"b": acts.values["b"]})
    assert empty.summary("b") == {"shape": [1, 0], "axes": "NF", "min": 0.0, "max": 0.0,
                                  "mean": 0.0, "zeros": 0.0}


def test_views_selections_and_names():
    g = graph_of({"x": ("input", "Input"), "conv": ("conv", "Conv2d"),
                  "relu": ("activation", "ReLU")}, inputs=["x"])
    g.add_edge("x", "conv")
    g.add_edge("conv", "relu")
    x, c, r = np.zeros((1, 1, 2, 2)), np.ones((1, 2, 2, 2)), np.full((1, 2, 2, 2), 2.0)
    acts = Activations(g, {"x": x, "conv": c, "relu": r}, meta={"framework": "torch"})
    view = graph_of({"x": ("input", "Input"), "box": ("conv", "Conv2d"),
                     "gone": ("dense", "Linear")}, inputs=["x"])
    view.nodes["box"].attrs["folded"] = [{"id": "conv"}, {"id": "relu"}]
    viewed = acts.for_graph(view)
    assert list(viewed) == ["x", "box"] and viewed["box"] is r
    assert viewed.axes == {"x": "NCHW", "box": "NCHW"} and viewed.meta == {"framework": "torch"}
    assert viewed.meta is not acts.meta
    chosen = acts.select(["relu", "nothing", "x"])
    assert list(chosen) == ["x", "relu"] and chosen.axes == {"relu": "NCHW", "x": "NCHW"}
    assert "relu" in acts and 3 not in acts and "nothing" not in acts
    assert acts.node("conv").op_type == "Conv2d"
    partial = acts.select(["conv"])
    with pytest.raises(NetdrawError, match=r"'relu' \(relu\) was not captured; capture it"):
        partial["relu"]


def test_the_npz_file(tmp_path):
    g = graph_of({"x": ("input", "Input"), "f": ("dense", "Linear")}, inputs=["x"])
    g.add_edge("x", "f")
    x, f = np.arange(4, dtype=np.float32).reshape(1, 4), np.ones((1, 3), np.float64)
    acts = Activations(g, {"f": f, "x": x}, layout="channels_last", meta={"files": ["a"]})
    path = tmp_path / "acts.npz"
    acts.save(path)
    with np.load(path, allow_pickle=False) as data:  # read back with numpy alone
        header = json.loads(str(data["header"]))
        assert header["schema"] == "netdraw.activations/1"
        assert header["nodes"] == ["x", "f"] and header["axes"] == ["NF", "NF"]
        assert header["layout"] == "channels_last" and header["meta"] == {"files": ["a"]}
        assert sorted(n["id"] for n in header["graph"]["nodes"]) == ["f", "x"]
        np.testing.assert_array_equal(data["v0"], x)
        np.testing.assert_array_equal(data["v1"], f)
    back = Activations.load(path)
    assert back.layout == "channels_last" and back.meta == {"files": ["a"]}
    assert back.axes == {"x": "NF", "f": "NF"} and list(back.graph.nodes) == ["x", "f"]
    np.testing.assert_array_equal(back["f"], f)
    bad = tmp_path / "bad.npz"
    np.savez(bad, header=np.array(json.dumps({"schema": "other", "nodes": []})))
    with pytest.raises(NetdrawError, match=r"bad.npz is not a netdraw activations file"):
        Activations.load(bad)
    np.savez(bad, nothing=np.zeros(1))
    with pytest.raises(NetdrawError, match=r"cannot read activations from .*bad.npz: "):
        Activations.load(bad)
    no_meta = tmp_path / "m.npz"
    header = {"schema": "netdraw.activations/1", "layout": "channels_first", "nodes": ["x"],
              "axes": ["NF"], "graph": json.loads(g.to_json())}
    np.savez(no_meta, header=np.array(json.dumps(header)), v0=x)
    assert Activations.load(no_meta).meta == {}
    with pytest.raises(NetdrawError, match="cannot read activations from"):
        Activations.load(tmp_path / "missing.npz")
