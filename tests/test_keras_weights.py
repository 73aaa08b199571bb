"""Weights of custom Keras layers, counted from the variables a saved file lists.

A researcher's own layer (weights made with ``add_weight`` in ``build``, a ``get_config``,
registered with ``keras.saving.register_keras_serializable``) is in no rule of netdraw's:
its weight count comes from the shapes in the file's weights (``model.weights.h5`` inside
a ``.keras`` archive, ``model_weights`` of a legacy ``.h5``). The oracle is Keras'
``count_params()``, for the model and for every layer.
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported

import h5py  # noqa: E402
import keras  # noqa: E402
import pytest  # noqa: E402
from conftest import run_cli  # noqa: E402

import netdraw  # noqa: E402


@keras.saving.register_keras_serializable(package="netdraw_research")
class GatedMix(keras.layers.Layer):
    """``proj(x * gate) + x @ mix``: two weights of its own and a Dense sub-layer."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.proj = keras.layers.Dense(units, name="proj")

    def build(self, input_shape):
        self.gate = self.add_weight(shape=(input_shape[-1],), name="gate")
        self.mix = self.add_weight(shape=(input_shape[-1], self.units), name="mix")
        self.proj.build(input_shape)

    def call(self, x):
        return self.proj(x * self.gate) + keras.ops.matmul(x, self.mix)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


@keras.saving.register_keras_serializable(package="netdraw_research")
class Dense(keras.layers.Layer):
    """A user's class that shares a built-in's name but not its weights."""

    def __init__(self, units: int, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), name="kernel")
        self.scale = self.add_weight(shape=(3, self.units), name="scale")

    def call(self, x):
        return keras.ops.matmul(x, self.kernel) * self.scale[0]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def research_model() -> keras.Model:
    """Custom layers at the top level and inside a nested Functional model."""
    inner_in = keras.Input((16,))
    hidden = keras.layers.Dense(16, name="inner_dense")(inner_in)
    encoder = keras.Model(inner_in, GatedMix(8, name="inner_mix")(hidden), name="encoder")
    x = keras.Input((12,), name="x")
    h = keras.layers.Dense(16, name="d1")(x)
    h = GatedMix(16, name="mix")(h)
    h = encoder(h)
    h = Dense(5, name="own_dense")(h)
    return keras.Model(x, keras.layers.Dense(3, name="head")(h), name="research")


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> tuple[keras.Model, Path, Path]:
    folder = tmp_path_factory.mktemp("custom_weights")
    model = research_model()
    keras_path, h5_path = folder / "research.keras", folder / "research.h5"
    model.save(keras_path)
    model.save(h5_path)
    return model, keras_path, h5_path


def per_layer(model: keras.Model) -> dict[str, int]:
    """node id -> Keras' own count for every layer (nested ones as ``outer/inner``)."""
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue  # a nested model's input layer dissolves into the edges
        if isinstance(layer, keras.Model):
            out.update({f"{layer.name}/{k}": v for k, v in per_layer(layer).items()})
        else:
            out[layer.name] = layer.count_params()
    return out


def assert_counts(graph: netdraw.Graph, model: keras.Model) -> None:
    assert graph.total_params == model.count_params()
    for nid, count in per_layer(model).items():
        assert graph.nodes[nid].params == count, nid
    assert "uncounted_params" not in graph.meta


@pytest.mark.parametrize("which", ["keras", "h5"])
def test_custom_layers_counted_from_the_file(saved, which):
    model, keras_path, h5_path = saved
    graph = netdraw.load(keras_path if which == "keras" else h5_path)
    # d1 208, mix 544, encoder 272 + 280, own_dense 55, head 18 (a hand count)
    assert model.count_params() == 1_377
    assert_counts(graph, model)
    assert graph.nodes["mix"].params == 16 + 16 * 16 + 16 * 16 + 16  # gate, mix, proj
    assert graph.nodes["own_dense"].params == 8 * 5 + 3 * 5  # not the Dense rule's 45
    assert graph.meta["params_from_weights"]


def test_summary_total_is_keras_total(saved):
    model, keras_path, _ = saved
    result = run_cli("summary", str(keras_path))
    assert result.returncode == 0, result.stderr
    (total,) = [line.split() for line in result.stdout.splitlines()
                if line.startswith("Total")]
    assert total[1] == f"{model.count_params():,}", result.stdout


def test_weights_file_without_layer_names(saved, tmp_path):
    """Keras before 3.9 or so wrote no ``name`` attribute on a layer's ``vars`` group: the
    layers are then found by class and order, as Keras' own loader finds them."""
    model, keras_path, _ = saved
    plain = tmp_path / "unnamed.keras"
    weights = tmp_path / "model.weights.h5"
    with zipfile.ZipFile(keras_path) as archive:
        weights.write_bytes(archive.read("model.weights.h5"))
        members = {name: archive.read(name) for name in ("config.json", "metadata.json")}
    removed = []
    with h5py.File(weights, "r+") as handle:
        def strip(name, obj):
            if "name" in obj.attrs:
                del obj.attrs["name"]
                removed.append(name)
        handle.visititems(strip)
    assert len(removed) > 8
    with zipfile.ZipFile(plain, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
        archive.write(weights, "model.weights.h5")
    assert_counts(netdraw.load(plain), model)


def test_damaged_weights_file_still_draws(saved, tmp_path):
    """A weights file h5py cannot read costs the custom layers' counts, nothing else."""
    _, keras_path, _ = saved
    damaged = tmp_path / "damaged.keras"
    with zipfile.ZipFile(keras_path) as src, zipfile.ZipFile(damaged, "w") as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename == "model.weights.h5":
                data = data[:200]
            dst.writestr(info.filename, data)
    graph = netdraw.load(damaged)
    assert graph.nodes["d1"].params == 12 * 16 + 16
    assert graph.nodes["mix"].params == graph.nodes["own_dense"].params == 0
    # A user's class named Dense is not counted as Keras' Dense would be.
    assert set(graph.meta["uncounted_params"]) == {"mix", "inner_mix", "own_dense"}
    assert "not a readable HDF5 file" in graph.meta["weights_unreadable"]
    result = run_cli("draw", str(damaged), "-o", str(tmp_path / "damaged.svg"))
    assert result.returncode == 0, result.stderr
