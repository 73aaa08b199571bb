"""The zoo's ONNX models (random weights, built with onnx.helper) compute finite numbers.

onnxruntime is the oracle: it runs each model on ordinary inputs (pixels in 0-1, as the
images netdraw reads give) and every output must be a finite number. ``zoo:onnx-resnet``
once drew its BatchNorm variances from a normal distribution, so half of them were negative
and every output was NaN (and ``netdraw cam --evaluate`` wrote NaN into its JSON).
"""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_module

from netdraw import zoo

ONNX_ZOO = [name for name, entry in zoo.ZOO.items() if entry.framework == "onnx"]


def _input_shape(model) -> tuple[int, ...]:
    dims = model.graph.input[0].type.tensor_type.shape.dim
    return tuple(d.dim_value if d.HasField("dim_value") else 2 for d in dims)  # batch: 2


def test_the_zoo_has_onnx_models():
    assert {"onnx-lenet5", "onnx-resnet", "onnx-inception"} <= set(ONNX_ZOO)


@pytest.mark.parametrize("name", ONNX_ZOO)
def test_onnx_zoo_model_outputs_are_finite(name: str):
    ort = require_module("onnxruntime")
    model = zoo.build(name)
    session = ort.InferenceSession(model.SerializeToString(),
                                   providers=["CPUExecutionProvider"])
    rng = np.random.default_rng(3)
    shape = _input_shape(model)
    for x in (rng.random(shape, dtype=np.float32), np.zeros(shape, np.float32),
              np.ones(shape, np.float32)):
        for output in session.run(None, {model.graph.input[0].name: x}):
            assert np.isfinite(output).all(), f"zoo:{name} gives {output.ravel()[:4]}…"


@pytest.mark.parametrize("name", ONNX_ZOO)
def test_batchnorm_variances_are_positive(name: str):
    """Read from the file: the running variance (BatchNormalization's fifth input) of every
    BatchNorm is above 0, so its square root is a number."""
    from onnx import numpy_helper

    model = zoo.build(name)
    inits = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    norms = [n for n in model.graph.node if n.op_type == "BatchNormalization"]
    for node in norms:
        assert (inits[node.input[4]] > 0).all(), f"zoo:{name} {node.name}: variance ≤ 0"
    if name == "onnx-resnet":
        assert len(norms) == 10  # the stem, two per block × 4, one downsample
