"""keras.applications models (weights=None): parameter totals and output shapes must equal
Keras' own, both from the live model and from the saved ``.keras`` read without Keras."""

from __future__ import annotations

import os
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

os.environ["KERAS_BACKEND"] = "torch"  # before keras is imported

sys.path.insert(0, str(Path(__file__).resolve().parent / "corpus"))

import keras  # noqa: E402
import keras_corpus  # noqa: E402
import pytest  # noqa: E402
from conftest import run_cli  # noqa: E402

import netdraw  # noqa: E402
from netdraw.importers.keras_config import graph_from_config  # noqa: E402
from netdraw.importers.keras_files import read_keras_config  # noqa: E402

APPLICATIONS = ("ResNet50", "MobileNetV2", "EfficientNetB0", "DenseNet121", "InceptionV3")
#: Totals Keras reports for these architectures (1000 classes, 224/299 px inputs).
EXPECTED_PARAMS = {"ResNet50": 25_636_712, "MobileNetV2": 3_538_984,
                   "EfficientNetB0": 5_330_571, "DenseNet121": 8_062_504,
                   "InceptionV3": 23_851_784}
pytestmark = pytest.mark.skipif(keras.backend.backend() != "torch",
                                reason="the Keras tests run on the torch backend")


@pytest.fixture(scope="module")
def applications(tmp_path_factory):
    """name -> (model, .keras path); each built once, on Keras' ``meta`` device (shapes
    without memory or random initialisation), its archive holding the genuine config and
    metadata Keras' saver writes, without weights (netdraw reads only the config;
    ``corpus/test_keras_samples.py`` saves models with their weights)."""
    folder = tmp_path_factory.mktemp("keras_apps")
    built = {}
    for name in APPLICATIONS:
        model = keras_corpus.build(name)
        built[name] = (model, keras_corpus.config_archive(model, folder / f"{name}.keras"))
    return built


@pytest.mark.parametrize("name", APPLICATIONS)
def test_application_live_and_file(applications, name):
    model, path = applications[name]
    total = model.count_params()
    assert total == EXPECTED_PARAMS[name]
    live = netdraw.load(model)
    read = netdraw.load(path)
    config, _ = read_keras_config(path)
    inferred = graph_from_config(config, trust_recorded=False)
    for graph in (live, read, inferred):
        assert graph.total_params == total
        (out,) = graph.outputs
        assert graph.nodes[out].outputs[0].shape == tuple(model.output_shape) == (None, 1000)
        assert graph.nodes[graph.inputs[0]].outputs[0].shape == tuple(model.input_shape)
    # One node per layer call (plus the output), the same in all three, layer by layer.
    assert len(live) == len(model.layers) + 1
    layers = {layer.name: layer for layer in model.layers}
    for nid, node in live.nodes.items():
        for other in (read, inferred):
            twin = other.nodes[nid]
            assert (twin.kind, twin.op_type, twin.params) == (node.kind, node.op_type,
                                                               node.params), nid
            assert twin.outputs[0].shape == node.outputs[0].shape, nid
        layer = layers.get(node.name)
        if layer is not None and node.kind not in ("input", "output"):
            assert node.params == layer.count_params(), nid
            assert node.outputs[0].shape == tuple(layer.output.shape), nid
    assert "other" not in {n.kind for n in read}


def test_application_kinds_and_attributes(applications):
    model, path = applications["MobileNetV2"]
    graph = netdraw.load(path)
    kinds = {n.op_type: n.kind for n in graph}
    assert kinds["DepthwiseConv2D"] == "conv" and kinds["ReLU"] == "activation"
    assert kinds["GlobalAveragePooling2D"] == "global_pool" and kinds["Add"] == "add"
    dw = graph.nodes["expanded_conv_depthwise"]
    assert dw.attrs["groups"] == dw.attrs["in_channels"] == dw.attrs["out_channels"] == 32
    assert graph.nodes["Conv1_relu"].attrs["activation"] == "relu6"
    assert graph.nodes["predictions"].attrs["activation"] == "softmax"


def test_cli_draws_resnet50_svg(applications, tmp_path):
    _, path = applications["ResNet50"]
    out = tmp_path / "resnet50.svg"
    result = run_cli("draw", str(path), "-o", str(out), "--full", "--rankdir", "LR")
    assert result.returncode == 0, result.stderr
    root = ET.parse(out).getroot()
    ns = {"svg": "http://www.w3.org/2000/svg"}
    nodes = root.findall(".//svg:g[@class='node']", ns)
    assert len(nodes) == 178  # 177 layers and the output
    text = out.read_text()
    assert "conv5_block3_out" in text and "?×7×7×2048" in text
    assert "1000, softmax" in text  # the fused activation of 'predictions'
    # The default view finds ResNet's stages and blocks in the Keras layer names.
    result = run_cli("draw", str(path), "-o", str(out))
    assert result.returncode == 0, result.stderr
    text = out.read_text()
    ET.fromstring(text)
    assert "conv4_block2–conv4_block6" in text and "Block ×5" in text


def _keras_macs(model) -> int:
    """MACs per example counted from Keras' own layers: every Conv2D output element costs
    kernel height × width × input channels, every Dense output element its input features."""
    import math

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            kernel = layer.kernel.shape  # (kh, kw, cin / groups, cout)
            total += math.prod(layer.output.shape[1:]) * math.prod(kernel[:-1])
        elif isinstance(layer, keras.layers.Dense):
            total += math.prod(layer.output.shape[1:]) * layer.kernel.shape[0]
    return total


def test_resnet50_macs_with_unknown_batch(applications, tmp_path):
    """The batch dim is None in Keras; MACs are per example, so they are all there: the
    README's 3.86 G, equal to the count from Keras' own layers."""
    model, path = applications["ResNet50"]
    expected = _keras_macs(model)
    assert abs(expected - 3.86e9) < 0.01e9
    for graph in (netdraw.load(model), netdraw.load(path)):
        assert netdraw.passes.make_view(graph).meta["view"]["macs"] == expected
        assert netdraw.passes.total_macs(graph) == expected  # on the loaded graph too
    result = run_cli("summary", str(path))
    assert result.returncode == 0, result.stderr
    total = result.stdout.strip().splitlines()[-1].split()
    assert total[0] == "Total" and total[-1] == "3.9G", total
    rows = [re.split(r"\s{2,}", line.strip()) for line in result.stdout.splitlines()[3:-2]]
    convs = [row for row in rows if row[1].startswith("Convolution") or "Block" in row[1]]
    assert len(convs) > 10 and all(row[-1] != "–" for row in convs), convs
