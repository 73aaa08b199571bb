"""Keras importer, live models: the graph must say what Keras itself says about the model."""

from __future__ import annotations

import os
import textwrap
import warnings
import xml.etree.ElementTree as ET

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported

import keras  # noqa: E402
import keras_builders as kb  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from keras import layers as L  # noqa: E402

import netdraw  # noqa: E402
from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.importers import find_importer  # noqa: E402

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the Keras tests run on the torch backend")


def flat_layers(model: keras.Model) -> dict[str, keras.layers.Layer]:
    """Every non-model layer, by name, however deeply nested."""
    out = {}
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if not isinstance(layer, keras.Model):
            out[layer.name] = layer
    return out


@pytest.fixture(scope="module")
def lenet():
    model = kb.lenet5()
    return model, netdraw.load(model)


@pytest.fixture(scope="module")
def siamese():
    model = kb.siamese()
    return model, netdraw.load(model)


@pytest.fixture(scope="module")
def multi_io():
    model = kb.multi_io()
    return model, netdraw.load(model)


def test_importer_is_found_by_type_through_the_mro(lenet):
    model, _ = lenet
    assert find_importer(model).name == "Keras"

    class Model:  # same class name, not Keras: must not match
        pass

    Model.__module__ = "notkeras.models"
    with pytest.raises(NetdrawError):
        find_importer(Model())


def test_sequential_lenet5_matches_keras(lenet):
    model, graph = lenet
    kinds = [n.kind for n in graph]
    assert kinds == ["input", "conv", "pool", "conv", "pool", "flatten", "dense", "dense",
                     "dense", "output"]
    assert graph.total_params == model.count_params() == 61706
    by_layer = flat_layers(model)
    for node in graph:
        if node.kind in ("input", "output"):
            continue
        layer = by_layer[node.name]
        assert node.op_type == type(layer).__name__
        assert node.outputs[0].shape == tuple(layer.output.shape)
        assert node.params == layer.count_params()
    c1 = graph.nodes["c1"]
    assert c1.attrs["kernel_size"] == [5, 5] and c1.attrs["stride"] == [1, 1]
    assert c1.attrs["out_channels"] == 6 and c1.attrs["padding"] == "valid"
    assert c1.attrs["activation"] == "tanh"
    assert graph.nodes["s2"].attrs["kernel_size"] == [2, 2]
    assert graph.nodes["s2"].attrs["stride"] == [2, 2]
    assert graph.nodes["out"].attrs == {**graph.nodes["out"].attrs, "units": 10,
                                        "activation": "softmax"}
    assert graph.nodes["image"].outputs[0].shape == (None, 32, 32, 1)
    assert [graph.nodes[o].outputs[0].shape for o in graph.outputs] == [(None, 10)]


def test_fused_activation_is_drawn_on_the_node(lenet):
    _, graph = lenet
    svg = netdraw.render(graph, "svg")
    svg = svg.decode("utf-8") if isinstance(svg, bytes) else svg
    ET.fromstring(svg)  # Graphviz produced well-formed SVG
    assert "5×5, 6, tanh" in svg  # conv c1: kernel, filters, fused activation
    assert "120, tanh" in svg


def test_nested_model_called_twice(siamese):
    model, graph = siamese
    assert graph.total_params == model.count_params()
    assert set(graph.groups) == {("tower",), ("tower", "mlp"), ("tower#2",),
                                 ("tower#2", "mlp")}
    assert graph.groups[("tower",)].class_name == "Functional"
    assert graph.groups[("tower", "mlp")].class_name == "Sequential"
    # one group per call, labelled alike, marked as calls of one model (shared weights)
    assert graph.groups[("tower#2",)].label == "tower"
    assert (graph.groups[("tower",)].call, graph.groups[("tower",)].calls) == (1, 2)
    assert (graph.groups[("tower#2",)].call, graph.groups[("tower#2",)].calls) == (2, 2)
    assert graph.groups[("tower#2",)].shared_with == ("tower",)
    first = [n for n in graph if n.group[:1] == ("tower",)]
    second = [n for n in graph if n.group[:1] == ("tower#2",)]
    assert [n.name for n in first] == [n.name for n in second] == [
        "tower_conv", "tower_bn", "tower_gap", "mlp_fc1", "mlp_fc2"]
    tower = model.get_layer("tower")
    assert sum(n.params for n in first) == tower.count_params()
    assert all(n.params == 0 for n in second)  # weights counted once
    assert [n.outputs[0].shape for n in first] == [n.outputs[0].shape for n in second]
    # The nested models' own input layers dissolve into edges.
    assert graph.inputs == ["left", "right"]
    edges = {(e.src, e.dst) for e in graph.edges}
    assert ("left", "tower/tower_conv") in edges
    assert ("right", "tower#2/tower_conv") in edges
    assert ("tower/mlp/mlp_fc2", "diff") in edges and ("tower#2/mlp/mlp_fc2", "diff") in edges
    assert graph.nodes["joined"].outputs[0].shape == (None, 48)


def test_nested_model_collapses_with_depth(siamese):
    model, graph = siamese
    collapsed = netdraw.render(graph, "json", depth=None)
    assert '"tower#2/mlp/mlp_fc1"' in collapsed
    from netdraw.passes import collapse_to_depth

    view = collapse_to_depth(graph, 1)  # top-level groups as blocks
    blocks = {n.id: n for n in view if n.kind == "block"}
    assert set(blocks) == {"block:tower", "block:tower#2"}
    assert [blocks[b].name for b in blocks] == ["tower", "tower"]
    assert blocks["block:tower"].params == model.get_layer("tower").count_params()
    assert blocks["block:tower#2"].params == 0
    assert (blocks["block:tower#2"].attrs["call"], blocks["block:tower#2"].attrs["calls"],
            blocks["block:tower#2"].attrs["shared_with"]) == (2, 2, "block:tower")
    assert view.total_params == model.count_params()


def test_multi_input_multi_output_shared_dense_and_lstm(multi_io):
    model, graph = multi_io
    assert graph.total_params == model.count_params()
    assert graph.inputs == ["tokens", "features"]
    assert graph.nodes["tokens"].outputs[0].dtype == "int32"
    outs = [graph.nodes[o] for o in graph.outputs]
    assert [o.outputs[0].shape for o in outs] == [tuple(t.shape) for t in model.outputs]
    shared = [n for n in graph if n.op_type == "Dense" and n.name.startswith("shared")]
    assert [n.id for n in shared] == ["shared", "shared#2"]
    assert [n.name for n in shared] == ["shared", "shared"]
    assert shared[0].params == model.get_layer("shared").count_params() == 72
    assert shared[1].params == 0 and shared[1].attrs["call"] == 2
    assert shared[1].attrs["calls"] == 2 and shared[1].attrs["shared_with"] == "shared"
    lstm = graph.nodes["lstm"]
    assert lstm.kind == "recurrent" and lstm.attrs["units"] == 6
    assert [o.shape for o in lstm.outputs] == [(None, 12, 6), (None, 6), (None, 6)]
    assert graph.nodes["attn"].kind == "attention"
    assert graph.nodes["attn"].attrs["num_heads"] == 2
    assert graph.nodes["attn"].attrs["key_dim"] == 3
    emb = graph.nodes["embed"]
    assert emb.kind == "embedding"
    assert (emb.attrs["num_embeddings"], emb.attrs["embedding_dim"]) == (50, 8)
    # The LSTM's states feed 'states' (both) and its sequence feeds 'attn' and an output.
    assert {e.dst for e in graph.edges if e.src == "lstm"} == {"attn", "states",
                                                              "output:lstm"}
    # h and c are two tensors: two edges, although they have the same shape.
    assert [e.tensor.shape for e in graph.edges if (e.src, e.dst) == ("lstm", "states")] == [
        (None, 6), (None, 6)]


def test_layer_zoo_live_shapes_and_params():
    for model in kb.layer_zoo():
        graph = netdraw.load(model)
        assert graph.total_params == model.count_params(), model.name
        layers = flat_layers(model)
        for node in graph:
            layer = layers.get(node.name)
            if layer is None or node.kind in ("input", "output"):
                continue
            assert node.params == layer.count_params(), node.id
            out = layer.output
            shapes = [tuple(t.shape) for t in (out if isinstance(out, (list, tuple)) else [out])]
            assert [o.shape for o in node.outputs] == shapes, node.id
        assert "other" not in {n.kind for n in graph if n.op_type != "Lambda"}, model.name


def test_subclassed_model_is_traced_without_side_effects():
    model = kb.small_net()
    before = {layer.name: (len(layer._inbound_nodes), len(layer._outbound_nodes))
              for layer in model._flatten_layers()}
    graph = netdraw.load(model)
    after = {layer.name: (len(layer._inbound_nodes), len(layer._outbound_nodes))
             for layer in model._flatten_layers()}
    assert before == after
    assert graph.total_params == model.count_params() == 853
    assert [n.kind for n in graph] == ["input", "conv", "conv", "add", "global_pool", "dense",
                                       "output"]
    assert graph.nodes["small_net_input"].outputs[0].shape == (None, 16, 16, 3)
    assert graph.nodes["head"].outputs[0].shape == (None, 5)
    add = next(n for n in graph if n.kind == "add")
    assert {e.src for e in graph.edges if e.dst == add.id} == {"conv", "conv2"}
    # Still usable by Keras afterwards.
    assert tuple(model(np.zeros((1, 16, 16, 3), "float32")).shape) == (1, 5)


def test_untraceable_subclassed_model_draws_its_layers_with_a_warning():
    import torch

    class TorchOps(keras.Model):
        def __init__(self):
            super().__init__(name="torch_ops")
            self.a = L.Dense(4, name="a")
            self.b = L.Dense(2, name="b")

        def call(self, x):
            return self.b(torch.relu(torch.as_tensor(self.a(x))))

    model = TorchOps()
    model(np.zeros((1, 3), "float32"))
    with pytest.warns(UserWarning, match="could not trace"):
        graph = netdraw.load(model)
    assert [n.name for n in graph if n.kind == "dense"] == ["a", "b"]
    assert graph.total_params == model.count_params() == 16 + 10


def test_custom_layer_draws_as_other_with_keras_shapes():
    class Twice(L.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), name="w")

        def call(self, x):
            return keras.ops.concatenate([x * self.w, x], axis=-1)

    x = keras.Input((3,), name="x")
    model = keras.Model(x, L.Dense(2, name="d")(Twice(name="twice")(x)))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = netdraw.load(model)
    twice = graph.nodes["twice"]
    assert twice.kind == "other" and twice.op_type == "Twice"
    assert twice.outputs[0].shape == (None, 6) and twice.params == 3
    assert graph.total_params == model.count_params()


def test_unbuilt_sequential_is_a_clear_error():
    model = keras.Sequential([L.Dense(3)], name="unbuilt")
    with pytest.raises(NetdrawError, match="not built"):
        netdraw.load(model)


def test_weights_owned_by_a_subclassed_model_itself_are_reported():
    class Scaled(keras.Model):
        def __init__(self):
            super().__init__(name="scaled")
            self.dense = L.Dense(2, name="dense")

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(2,), name="scale")

        def call(self, x):
            return self.dense(x) * self.scale

    model = Scaled()
    model(np.zeros((1, 3), "float32"))
    graph = netdraw.load(model)
    assert graph.nodes["dense"].params == 8
    assert graph.meta["unattributed_params"] == 2 == model.count_params() - graph.total_params


def test_unbuilt_subclassed_model_with_an_input_shape():
    model = kb.SmallNet()  # never called: Keras does not know its input shape
    with pytest.raises(NetdrawError, match="input shape"):
        netdraw.load(model)
    graph = netdraw.load(model, input_shape=(1, 16, 16, 3))  # batch first, as for PyTorch
    assert graph.nodes["small_net_input"].outputs[0].shape == (None, 16, 16, 3)
    # Tracing built the layers (not the model itself): their weights are all counted.
    assert graph.total_params == sum(layer.count_params() for layer in model.layers) == 853


def test_cli_draws_a_keras_factory_with_input_shape(tmp_path):
    from conftest import run_cli

    (tmp_path / "kfactory.py").write_text(textwrap.dedent("""
        import keras
        from keras import layers as L

        class Tiny(keras.Model):
            def __init__(self):
                super().__init__(name="tiny")
                self.conv = L.Conv2D(4, 3, name="conv")
                self.pool = L.GlobalAveragePooling2D(name="pool")
                self.head = L.Dense(2, name="head")

            def call(self, x):
                return self.head(self.pool(self.conv(x)))
    """))
    out = tmp_path / "tiny.json"
    result = run_cli("draw", "kfactory:Tiny", "--input-shape", "1,8,8,3", "-o", str(out),
                     cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    graph = netdraw.Graph.from_json(out.read_text())
    assert [n.kind for n in graph] == ["input", "conv", "global_pool", "dense", "output"]
    assert graph.nodes["conv"].outputs[0].shape == (None, 6, 6, 4)
    assert graph.total_params == (3 * 3 * 3 * 4 + 4) + (4 * 2 + 2)
