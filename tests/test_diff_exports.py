"""The zoo's PyTorch models against their own ONNX exports and Keras ports.

Every layer must match, except what the exporter or the port visibly rewrites; the
oracle for "visibly" is torch's own module list and Keras' own layer configs, not the
diff code:

- an eval-mode ``BatchNorm`` module right after a convolution has no node of its own in
  the export (``torch.onnx`` folds it into the convolution);
- an ``nn.MultiheadAttention`` module is one node live and many operations in the export,
  all inside that module's scope;
- a Keras layer with ``activation="tanh"`` holds what is a separate ``Tanh`` module in
  PyTorch.

The matching rate of each pair is printed (``pytest -s``) and recorded in docs/diff.md.
The default run exports a few models with the dynamo exporter (``torch.onnx.export``'s
default) and the rest with the TorchScript one (same model, other node names);
``NETDRAW_SLOW_TESTS=1`` exports every model both ways.
"""

from __future__ import annotations

import os
import warnings

import pytest
from conftest import require_module

torch = require_module("torch")

import netdraw  # noqa: E402
from netdraw import zoo  # noqa: E402
from netdraw.importers.pytorch import make_inputs  # noqa: E402

TORCH_ZOO = [name for name, entry in zoo.ZOO.items() if entry.framework == "torch"]
SLOW = bool(os.environ.get("NETDRAW_SLOW_TESTS"))
#: Exported with the dynamo exporter in the default run (the others: TorchScript).
DYNAMO = TORCH_ZOO if SLOW else ["mlp", "resnet18", "transformer"]
#: TorchScript exports write the weights inline: the biggest stay in the slow run.
LEGACY = TORCH_ZOO if SLOW else [n for n in TORCH_ZOO
                                 if n not in ("alexnet", "vgg16", "resnet50")]
CASES = [(n, "dynamo") for n in DYNAMO] + [(n, "torchscript") for n in LEGACY]


def export(name: str, exporter: str, folder) -> tuple[torch.nn.Module, netdraw.Graph, str]:
    entry = zoo.ZOO[name]
    model = entry.build()
    example = tuple(make_inputs(entry.input_shape, entry.input_dtype))
    live = netdraw.load(model, example_input=example, name=name)
    path = folder / f"{name}.{exporter}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if exporter == "dynamo":
            require_module("onnxscript")
            program = torch.onnx.export(model, example, dynamo=True, verbose=False)
            program.save(str(path), external_data=True)
        else:
            torch.onnx.export(model, example, str(path), dynamo=False)
    return model, live, str(path)


def module(model: torch.nn.Module, name: str | None) -> torch.nn.Module | None:
    try:
        return model.get_submodule(name) if name else None
    except AttributeError:
        return None


@pytest.mark.parametrize(("name", "exporter"), CASES)
def test_zoo_model_against_its_onnx_export(name, exporter, tmp_path):
    model, live, path = export(name, exporter, tmp_path)
    result = netdraw.diff(live, path)
    removed, added = result.unmatched()
    attention = {n for n, m in model.named_modules()
                 if isinstance(m, torch.nn.MultiheadAttention)}
    producers = result.a.predecessors()
    for rec in removed:
        mod = module(model, rec.name_a)
        if isinstance(mod, torch.nn.modules.batchnorm._BatchNorm):
            (src,) = producers[rec.a]
            assert isinstance(module(model, result.a.nodes[src].name), torch.nn.Conv2d), rec
            assert rec.explanation.startswith("folded into"), rec
        else:
            assert rec.name_a in attention, f"unexplained: {rec.name_a} ({rec.op_type_a})"
            assert rec.explanation.startswith("spelled out"), rec
    for rec in added:
        scope = result.b.nodes[rec.b].group
        inside = {".".join(scope[:d]) for d in range(1, len(scope) + 1)} | set(scope)
        assert inside & attention, f"unexplained: {rec.name_b} ({rec.op_type_b}) in {scope}"
        assert rec.explanation.startswith("part of"), rec
    assert [n.name for n in result.nodes.values() if n.status == "changed"] == []
    pairs = sum(result.matched.values())
    print(f"\n{name} vs its {exporter} export: {pairs} pairs ({result.matched['name']} by "
          f"name) = {pairs / len(result.a):.0%} of {len(result.a)} live nodes, "
          f"{pairs / len(result.b):.0%} of {len(result.b)} export nodes; {len(removed)} "
          f"live-only, {len(added)} export-only, all explained")
    expected_unmatched = sum(1 for n, m in model.named_modules()
                             if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)) + \
        len(attention)
    assert len(removed) == expected_unmatched


# conftest makes torch the default backend; another backend chosen by hand skips these two
keras = require_module("keras") if os.environ.get("KERAS_BACKEND") == "torch" else None


@pytest.mark.skipif(keras is None, reason="KERAS_BACKEND is not torch, the backend these tests use")
def test_keras_lenet5_port():
    import keras_builders

    port = keras_builders.lenet5()
    result = netdraw.diff(zoo.load("lenet5"), port)
    model = zoo.build("lenet5")
    tanh = {n for n, m in model.named_modules() if isinstance(m, torch.nn.Tanh)}
    fused = {layer.name for layer in port.layers
             if layer.get_config().get("activation") == "tanh"}
    removed, added = result.unmatched()
    assert {r.name_a for r in removed} == tanh and not added
    assert {r.explanation.split()[2] for r in removed} == fused  # "fused into c1 (tanh)"
    # the port ends in a softmax the PyTorch model leaves to its loss
    softmax = [layer.name for layer in port.layers
               if layer.get_config().get("activation") == "softmax"]
    changed = [n for n in result.nodes.values() if n.status == "changed"]
    assert [(n.name_b, c.key, c.before, c.after) for n in changed for c in n.changes] == \
        [(softmax[0], "activation", "none", "softmax")]
    assert result.params[0] == result.params[1] == sum(p.numel() for p in model.parameters())
    print(f"\nlenet5 vs its Keras port: matched {sum(result.matched.values())} of "
          f"{len(result.a)} live nodes; {len(removed)} Tanh fused into Keras layers")


@pytest.mark.skipif(keras is None, reason="KERAS_BACKEND is not torch, the backend these tests use")
def test_keras_mlp_port():
    from keras import layers as L

    port = keras.Sequential([
        keras.Input((28, 28, 1)), L.Flatten(), L.Dense(256, activation="relu"),
        L.Dropout(0.1), L.Dense(128, activation="relu"), L.Dropout(0.1), L.Dense(10)])
    result = netdraw.diff("zoo:mlp", port)
    model = zoo.build("mlp")
    relus = {n for n, m in model.named_modules() if isinstance(m, torch.nn.ReLU)}
    removed, added = result.unmatched()
    assert {r.name_a for r in removed} == relus and not added
    assert all(r.explanation.startswith("fused into") for r in removed)
    assert result.counts()["changed"] == 0
    assert result.params == (sum(p.numel() for p in model.parameters()), port.count_params())
    assert result.params[0] == result.params[1]
