"""Keras importer, files: ``.keras`` and ``.h5`` read without Keras must match the live model."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported

import keras  # noqa: E402
import keras_builders as kb  # noqa: E402
import pytest  # noqa: E402
from conftest import assert_one_line_error, cli_env, require_module, run_cli  # noqa: E402

import netdraw  # noqa: E402
from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.importers.keras_config import graph_from_config  # noqa: E402
from netdraw.importers.keras_files import read_keras_config  # noqa: E402
from netdraw.ir import Graph  # noqa: E402

pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the Keras tests run on the torch backend")


def assert_same_graph(live: Graph, read: Graph) -> None:
    """Same nodes (ids, kinds, op types), output shapes, parameters, edges and groups."""
    assert list(read.nodes) == list(live.nodes)
    for nid, a in live.nodes.items():
        b = read.nodes[nid]
        assert (b.kind, b.op_type, b.name, b.group) == (a.kind, a.op_type, a.name, a.group), nid
        assert [o.shape for o in b.outputs] == [o.shape for o in a.outputs], nid
        assert b.params == a.params, nid
    assert {(e.src, e.dst) for e in read.edges} == {(e.src, e.dst) for e in live.edges}
    assert set(read.groups) == set(live.groups)
    assert read.inputs == live.inputs and read.outputs == live.outputs


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """Each test model: (model, live graph, .keras path, .h5 path)."""
    folder = tmp_path_factory.mktemp("keras_files")
    out = {}
    models = [kb.lenet5(), kb.siamese(), kb.multi_io(), kb.transfer(), *kb.layer_zoo()]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras calls .h5 "legacy"
        for model in models:
            path = folder / f"{model.name}.keras"
            h5 = folder / f"{model.name}.h5"
            model.save(path)
            model.save(h5)
            out[model.name] = (model, netdraw.load(model), path, h5)
    return out


def test_keras_files_match_the_live_models(saved):
    for name, (model, live, path, _) in saved.items():
        read = netdraw.load(path)
        assert read.total_params == model.count_params(), name
        assert read.meta["keras_version"] == keras.__version__
        if name == "zoo_attention":
            check_attention_scores(model, live, read)
            continue
        assert_same_graph(live, read)


def check_attention_scores(model, live, read):
    """Keras' symbolic spec gives MultiHeadAttention's scores as (B, H, Tq, Tq); running the
    layer gives (B, H, Tq, Tv), which is what netdraw infers from the config."""
    import numpy as np

    mha = model.get_layer("mha")
    _, scores = mha(np.zeros((1, 5, 8), "float32"), np.zeros((1, 7, 6), "float32"),
                    return_attention_scores=True)
    assert tuple(scores.shape) == (1, 3, 5, 7)
    assert read.nodes["mha"].outputs[1].shape == (None, 3, 5, 7)
    assert live.nodes["mha"].outputs[1].shape == (None, 3, 5, 5)  # Keras' own spec
    for nid in live.nodes:
        if nid not in ("mha", "output:mha:1"):
            assert [o.shape for o in read.nodes[nid].outputs] == \
                [o.shape for o in live.nodes[nid].outputs], nid


def test_shape_inference_alone_matches_keras(saved):
    """With the shapes Keras recorded in the config ignored, netdraw's own inference still
    gives every layer's output shape and parameter count."""
    for name, (_, live, path, _) in saved.items():
        config, _ = read_keras_config(path)
        inferred = graph_from_config(config, trust_recorded=False)
        assert inferred.total_params == live.total_params, name
        for nid, node in live.nodes.items():
            if nid in ("mha", "output:mha:1"):
                continue  # see check_attention_scores
            assert [o.shape for o in inferred.nodes[nid].outputs] == \
                [o.shape for o in node.outputs], (name, nid)


def test_h5_files_match_the_live_models(saved):
    for name, (model, live, _, h5) in saved.items():
        read = netdraw.load(h5)
        assert read.meta["source_format"] == "h5"
        assert read.total_params == model.count_params(), name
        if name != "zoo_attention":
            assert_same_graph(live, read)


def legacy_tf_keras_config() -> dict:
    """A tf.keras 2 style config: list-style inbound nodes, batch_input_shape, a nested
    Sequential whose calls are numbered from 1."""
    def layer(cls, name, inbound, **config):
        return {"class_name": cls, "name": name, "inbound_nodes": inbound,
                "config": {"name": name, "trainable": True, "dtype": "float32", **config}}

    conv = {"kernel_size": [3, 3], "strides": [1, 1], "padding": "same",
            "data_format": "channels_last", "dilation_rate": [1, 1], "groups": 1,
            "use_bias": True, "kernel_initializer": {"class_name": "GlorotUniform",
                                                     "config": {"seed": None}}}
    head = {"class_name": "Sequential", "name": "head", "inbound_nodes": [[["flatten", 0, 0,
                                                                              {}]]],
            "config": {"name": "head", "layers": [
                {"class_name": "InputLayer", "config": {"batch_input_shape": [None, 1568],
                                                        "dtype": "float32", "name": "h_in"}},
                {"class_name": "Dense", "config": {"name": "logits", "units": 10,
                                                   "activation": "softmax",
                                                   "use_bias": True}}]}}
    return {"class_name": "Functional", "keras_version": "2.13.1", "backend": "tensorflow",
            "config": {"name": "legacy", "layers": [
                {"class_name": "InputLayer", "name": "input_1", "inbound_nodes": [],
                 "config": {"batch_input_shape": [None, 28, 28, 1], "dtype": "float32",
                            "name": "input_1"}},
                layer("Conv2D", "conv2d", [[["input_1", 0, 0, {}]]], filters=8,
                      activation="relu", **conv),
                layer("BatchNormalization", "bn", [[["conv2d", 0, 0, {}]]], axis=[3],
                      epsilon=0.001, center=True, scale=True),
                layer("MaxPooling2D", "pool", [[["bn", 0, 0, {}]]], pool_size=[2, 2],
                      strides=[2, 2], padding="valid"),
                layer("Conv2D", "conv2d_1", [[["pool", 0, 0, {}]]], filters=8,
                      activation="linear", **{**conv, "kernel_size": [1, 1]}),
                layer("Add", "add", [[["pool", 0, 0, {}], ["conv2d_1", 0, 0, {}]]]),
                layer("Flatten", "flatten", [[["add", 0, 0, {}]]]),
                head],
                "input_layers": [["input_1", 0, 0]], "output_layers": [["head", 1, 0]]}}


def test_legacy_tf_keras_h5(tmp_path):
    h5py = require_module("h5py")
    path = tmp_path / "legacy.h5"
    with h5py.File(path, "w") as handle:
        handle.attrs["model_config"] = json.dumps(legacy_tf_keras_config())
        handle.attrs["keras_version"] = "2.13.1"
    graph = netdraw.load(path)
    assert [n.kind for n in graph] == ["input", "conv", "norm", "pool", "conv", "add",
                                       "flatten", "dense", "output"]
    params = {n.name: n.params for n in graph}
    assert params == {"input_1": 0, "conv2d": 80, "bn": 32, "pool": 0, "conv2d_1": 72,
                      "add": 0, "flatten": 0, "logits": 15690, "head": 0}
    assert graph.total_params == 15874
    assert graph.nodes["add"].outputs[0].shape == (None, 14, 14, 8)
    assert graph.nodes["head/logits"].outputs[0].shape == (None, 10)
    assert graph.nodes["head/logits"].group == ("head",)
    assert graph.meta["keras_version"] == "2.13.1"


def test_old_sequential_with_batch_input_shape_on_the_first_layer():
    config = {"class_name": "Sequential", "config": {"name": "old", "layers": [
        {"class_name": "Dense", "config": {"name": "d1", "units": 4, "activation": "relu",
                                           "batch_input_shape": [None, 3]}},
        {"class_name": "Dropout", "config": {"name": "drop", "rate": 0.5}},
        {"class_name": "Dense", "config": {"name": "d2", "units": 2}}]}}
    graph = graph_from_config(config)
    assert [n.id for n in graph] == ["old_input", "d1", "drop", "d2", "output:d2"]
    assert graph.nodes["old_input"].outputs[0].shape == (None, 3)
    assert graph.total_params == (3 * 4 + 4) + (4 * 2 + 2)
    assert graph.nodes["drop"].attrs["rate"] == 0.5


def test_unknown_layer_draws_without_warnings(tmp_path):
    @keras.saving.register_keras_serializable(package="netdraw_tests")
    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), name="w")

        def call(self, x):
            return x * self.w

    x = keras.Input((4,), name="x")
    model = keras.Model(x, keras.layers.Dense(3, name="d")(Scale(name="scale")(x)))
    path = tmp_path / "custom.keras"
    model.save(path)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        graph = netdraw.load(path)
    scale = graph.nodes["scale"]
    assert (scale.kind, scale.op_type) == ("other", "Scale")
    assert scale.outputs[0].shape is None  # marked unknown, not guessed
    # Dense after it still knows what it received (Keras recorded it) and its weights.
    assert graph.nodes["d"].inputs[0].shape == (None, 4)
    assert graph.nodes["d"].params == 15
    # Its weights are counted from the shapes the archive's weights file lists.
    assert scale.params == 4 and graph.total_params == model.count_params() == 19
    assert "uncounted_params" not in graph.meta and graph.meta["params_from_weights"]
    svg = netdraw.render(graph, "svg")
    ET.fromstring(svg)
    # Without the weights file (a config-only archive) the total is a lower bound, said so.
    bare = tmp_path / "bare.keras"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(bare, "w") as dst:
        for member in ("config.json", "metadata.json"):
            dst.writestr(member, src.read(member))
    graph = netdraw.load(bare)
    assert graph.nodes["scale"].params == 0 and graph.total_params == 15
    assert graph.meta["uncounted_params"] == ["scale"]


def test_via_keras_loads_with_safe_mode(saved, tmp_path):
    _, live, path, _ = saved["lenet5"]
    assert_same_graph(live, netdraw.load(path, via_keras=True))
    _, _, ops_path, _ = saved["zoo_ops"]
    with pytest.raises(NetdrawError, match="safe_mode=True"):
        netdraw.load(ops_path, via_keras=True)  # a Lambda's code is never run
    graph = netdraw.load(ops_path)  # the config reader draws it
    assert graph.nodes["take5"].kind == "other"
    assert graph.nodes["take5"].outputs[0].shape == (None, 5)


def test_cli_draws_keras_without_importing_keras(saved, tmp_path):
    poison = tmp_path / "poison"
    for name in ("keras", "tensorflow"):
        (poison / name).mkdir(parents=True)
        (poison / name / "__init__.py").write_text(
            f"raise RuntimeError('netdraw imported {name}')\n")
    env = cli_env()
    env["PYTHONPATH"] = f"{poison}{os.pathsep}{env['PYTHONPATH']}"
    _, live, path, h5 = saved["siamese"]
    svg = tmp_path / "siamese.svg"
    result = run_cli("draw", str(path), "-o", str(svg), "--full", env=env)
    assert result.returncode == 0, result.stderr
    root = ET.parse(svg).getroot()
    assert root.tag.endswith("svg")
    text = svg.read_text()
    assert "tower · Functional (shared, call 2 of 2)" in text and "mlp_fc2" in text
    out_json = tmp_path / "siamese.json"
    result = run_cli(str(h5), "-o", str(out_json), env=env)
    assert result.returncode == 0, result.stderr
    graph = Graph.from_json(out_json.read_text())
    assert graph.total_params == live.total_params
    # The poison is real: importing keras through it fails.
    probe = subprocess.run([sys.executable, "-c", "import keras"], capture_output=True,
                           env=env)
    assert probe.returncode != 0 and b"netdraw imported keras" in probe.stderr


def bad_files(folder: Path, good: Path) -> dict[str, Path]:
    data = good.read_bytes()
    files = {}
    files["truncated"] = folder / "truncated.keras"
    files["truncated"].write_bytes(data[: len(data) // 2])
    files["not_zip"] = folder / "not_zip.keras"
    files["not_zip"].write_text("this is not a zip archive\n")
    files["no_config"] = folder / "no_config.keras"
    with zipfile.ZipFile(files["no_config"], "w") as archive:
        archive.writestr("metadata.json", '{"keras_version": "3.0.0"}')
    files["broken_config"] = folder / "broken_config.keras"
    with zipfile.ZipFile(files["broken_config"], "w") as archive:
        archive.writestr("config.json", '{"class_name": "Functional", "config": {"lay')
    files["subclassed"] = folder / "subclassed.keras"
    with zipfile.ZipFile(files["subclassed"], "w") as archive:
        archive.writestr("config.json", json.dumps(
            {"class_name": "Net", "config": {"trainable": True},
             "build_config": {"input_shape": [None, 8]}}))
    files["dangling"] = folder / "dangling.keras"
    with zipfile.ZipFile(files["dangling"], "w") as archive:
        archive.writestr("config.json", json.dumps(
            {"class_name": "Functional", "config": {
                "name": "m", "layers": [], "input_layers": [["x", 0, 0]],
                "output_layers": [["y", 0, 0]]}}))
    files["empty"] = folder / "empty.keras"
    files["empty"].write_bytes(b"")
    files["not_hdf5"] = folder / "not_hdf5.h5"
    files["not_hdf5"].write_text("not hdf5\n")
    return files


def test_broken_files_are_clean_errors(saved, tmp_path):
    model, _, path, _ = saved["lenet5"]
    files = bad_files(tmp_path, path)
    weights = tmp_path / "weights_only.h5"
    model.save_weights(tmp_path / "lenet.weights.h5")
    (tmp_path / "lenet.weights.h5").rename(weights)
    files["weights_only"] = weights
    expected = {"truncated": "not a .keras archive", "not_zip": "not a .keras archive",
                "no_config": "no config.json", "broken_config": "not valid JSON",
                "subclassed": "subclassed", "dangling": "no layer of that name",
                "empty": "is empty", "not_hdf5": "not a readable HDF5 file",
                "weights_only": "no model_config"}
    for name, bad in files.items():
        out = tmp_path / f"{name}.svg"
        assert_one_line_error(run_cli("draw", str(bad), "-o", str(out)), expected[name])
        assert not out.exists(), name
        assert not list(tmp_path.glob(f".{name}.svg.*")), name


def test_hostile_layer_names_render(tmp_path):
    nasty = 'a"<b>&c\\d{e}%$#_^~\nnew line ünï'
    config = {"class_name": "Sequential", "config": {"name": nasty, "layers": [
        {"class_name": "InputLayer", "config": {"name": nasty + "in", "batch_shape": [None, 3]}},
        {"class_name": "Dense", "config": {"name": nasty, "units": 2}},
        {"class_name": "Mystery</text>", "config": {"name": "<script>x</script>"}}]}}
    path = tmp_path / "nasty.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("config.json", json.dumps(config))
    out = tmp_path / "nasty.svg"
    result = run_cli("draw", str(path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    assert "<script>" not in out.read_text()


def test_unknown_layer_with_two_outputs_keeps_both_edges():
    def tensor(layer: str, index: int = 0) -> dict:
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, 4], "keras_history": [layer, 0, index]}}

    config = {"class_name": "Functional", "config": {"name": "m", "layers": [
        {"class_name": "InputLayer", "name": "x", "inbound_nodes": [],
         "config": {"batch_shape": [None, 4], "name": "x"}},
        {"class_name": "Splitter", "name": "split", "config": {"name": "split"},
         "inbound_nodes": [{"args": [tensor("x")], "kwargs": {}}]},
        {"class_name": "Add", "name": "add", "config": {"name": "add"},
         "inbound_nodes": [{"args": [[tensor("split"), tensor("split", 1)]], "kwargs": {}}]}],
        "input_layers": [["x", 0, 0]], "output_layers": [["add", 0, 0], ["split", 0, 1]]}}
    graph = graph_from_config(config)
    assert graph.nodes["split"].kind == "other"
    assert graph.nodes["split"].outputs[0].shape is None
    assert [(e.src, e.dst) for e in graph.edges].count(("split", "add")) == 2
    assert graph.nodes["add"].outputs[0].shape == (None, 4)  # from what Keras recorded
    assert ("split", "output:split:1") in {(e.src, e.dst) for e in graph.edges}


def test_backbone_inside_sequential_collapses_to_one_block(saved):
    model, _, path, _ = saved["transfer"]
    from netdraw.passes import collapse_to_depth

    graph = netdraw.load(path)
    base = model.layers[0]
    assert list(graph.groups) == [(base.name,)]
    assert graph.groups[(base.name,)].class_name == "Functional"
    view = collapse_to_depth(graph, 1)  # top-level groups as blocks
    assert [n.kind for n in view] == ["input", "block", "global_pool", "dense", "output"]
    block = view.nodes[f"block:{base.name}"]
    assert block.params == base.count_params()
    assert block.outputs[0].shape == tuple(base.output.shape) == (None, 2, 2, 1280)
    assert view.total_params == model.count_params()


def test_linear_activation_is_an_identity(tmp_path):
    """``Activation("linear")`` (ConvNeXt's ``…_identity`` stochastic-depth placeholder)
    returns its input unchanged: kind ``identity``, left out of the default view."""
    x = keras.Input((4,), name="x")
    y = keras.layers.Dense(3, name="d")(keras.layers.Activation("linear", name="lin")(x))
    model = keras.Model(x, keras.layers.Activation("relu", name="act")(y))
    path = tmp_path / "linear.keras"
    model.save(path)
    for graph in (netdraw.load(model), netdraw.load(path)):
        assert graph.nodes["lin"].kind == "identity"
        assert graph.nodes["act"].kind == "activation"
        view = netdraw.passes.make_view(graph)
        assert "lin" not in {n.name for n in view}
