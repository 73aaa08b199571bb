"""Every JSON file netdraw writes is JSON as strict parsers read it: no ``NaN``/``Infinity``.

Python's ``json`` writes a float that is not finite as a bare word no JSON parser outside
Python accepts. The oracle here is a strict parser: ``json.loads`` with a
``parse_constant`` that refuses ``NaN``, ``Infinity`` and ``-Infinity`` (as browsers'
``JSON.parse`` and jq do). The model under test makes such values on purpose: a LeakyReLU
whose slope is NaN (an attribute the IR JSON carries) turns every negative value into NaN,
so the activations, the predictions and the evaluation's curves are NaN too.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from netdraw.output import json_text


def _refuse(word: str):
    raise ValueError(f"not JSON: {word}")


def strict(text: str):
    """``text`` parsed as JSON allows it: a bare NaN or Infinity is an error."""
    return json.loads(text, parse_constant=_refuse)


def _leaves(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _leaves(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    else:
        yield path, value


def test_the_strict_parser_refuses_what_pythons_json_writes():
    with pytest.raises(ValueError, match="NaN"):
        strict(json.dumps({"a": float("nan")}))
    with pytest.raises(ValueError, match="Infinity"):
        strict(json.dumps([float("-inf")]))


def test_json_text_writes_null_for_each_value_that_is_not_finite(capsys):
    value = {"ok": 1.5, "nan": float("nan"), "curve": [0.5, float("inf"), (float("-inf"), 2)],
             "numpy": np.float64("nan"), "n": 3, "s": "NaN"}
    text = json_text(value, what="the thing", indent=1)
    assert strict(text) == {"ok": 1.5, "nan": None, "curve": [0.5, None, [None, 2]],
                            "numpy": None, "n": 3, "s": "NaN"}
    err = capsys.readouterr().err.splitlines()
    assert err == ["netdraw: warning: the thing: 4 values not a finite number (NaN or "
                   "infinity) written as null (the first at nan)"]


def test_json_text_of_finite_values_is_pythons_json_and_says_nothing(capsys):
    value = {"a": [1.0, -2.5e-30, 1.7976931348623157e308], "b": {"c": None, "d": True}}
    assert json_text(value, what="x", indent=1, sort_keys=True) == json.dumps(
        value, indent=1, sort_keys=True)
    assert capsys.readouterr().err == ""


@pytest.fixture(scope="module")
def nan_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Conv -> LeakyRelu(alpha=NaN) -> GlobalAveragePool -> Flatten -> Gemm, and an image."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper
    from PIL import Image

    folder = tmp_path_factory.mktemp("nan")
    rng = np.random.default_rng(0)
    inits = [numpy_helper.from_array(rng.standard_normal(s).astype(np.float32), n)
             for n, s in (("conv.weight", (8, 3, 3, 3)), ("conv.bias", (8,)),
                          ("fc.weight", (4, 8)), ("fc.bias", (4,)))]
    nodes = [
        helper.make_node("Conv", ["image", "conv.weight", "conv.bias"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("LeakyRelu", ["c"], ["r"], name="act", alpha=float("nan")),
        helper.make_node("GlobalAveragePool", ["r"], ["p"], name="pool"),
        helper.make_node("Flatten", ["p"], ["f"], name="flatten"),
        helper.make_node("Gemm", ["f", "fc.weight", "fc.bias"], ["logits"], name="fc",
                         transB=1),
    ]
    graph = helper.make_graph(
        nodes, "nan-net", [helper.make_tensor_value_info("image", TensorProto.FLOAT,
                                                        [1, 3, 32, 32])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 4])], inits)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, folder / "nan.onnx")
    pixels = (rng.random((32, 32, 3)) * 255).astype(np.uint8)
    Image.fromarray(pixels).save(folder / "img.png")
    return folder


def test_the_model_really_computes_nan(nan_model: Path):
    """The premise, from onnxruntime itself."""
    import onnxruntime as ort

    session = ort.InferenceSession(str(nan_model / "nan.onnx"),
                                   providers=["CPUExecutionProvider"])
    x = np.random.default_rng(1).random((1, 3, 32, 32), dtype=np.float32)
    assert np.isnan(session.run(None, {"image": x})[0]).all()


def _check(proc, path: Path, where: str) -> dict:
    assert proc.returncode == 0, proc.stderr
    data = strict(path.read_text(encoding="utf-8"))
    nulls = [p for p, v in _leaves(data) if v is None]
    warnings = [ln for ln in proc.stderr.splitlines() if ln.startswith("netdraw: warning:")]
    assert len(warnings) == 1, proc.stderr
    assert f"{where}: {len(nulls)} value" in warnings[0], (warnings, nulls[:5])
    assert "Traceback" not in proc.stderr
    return data


def test_the_graph_json_is_strict_with_a_nan_attribute(nan_model: Path):
    """The IR writes a non-finite attribute as its text (``"nan"``, ``ir._sorted_json``),
    so the graph needs no null and says nothing."""
    proc = run_cli("nan.onnx", "-o", "g.json", "--full", cwd=nan_model)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    data = strict((nan_model / "g.json").read_text(encoding="utf-8"))
    act = next(n for n in data["nodes"] if n["name"] == "act")
    assert act["attrs"]["alpha"] == "nan"


def test_the_evaluation_json_is_strict(nan_model: Path):
    proc = run_cli("cam", "nan.onnx", "--input", "img.png", "--method", "cam", "--evaluate",
                   "-o", "eval.json", cwd=nan_model)
    data = _check(proc, nan_model / "eval.json", "the evaluation")
    assert data["schema"] == "netdraw.evaluation/1"
    image = data["images"][0]
    assert image["deletion_auc"] is None and set(image["deletion"]) == {None}


def test_activations_json_is_strict(nan_model: Path):
    proc = run_cli("activations", "nan.onnx", "--input", "img.png", "-o", "acts",
                   cwd=nan_model)
    data = _check(proc, nan_model / "acts" / "activations.json", "activations.json")
    assert data["schema"] == "netdraw.activations-index/1"


def test_a_finite_graph_writes_no_warning(tmp_path: Path):
    proc = run_cli("zoo:onnx-resnet", "-o", "g.json", cwd=tmp_path)
    assert proc.returncode == 0 and "warning" not in proc.stderr, proc.stderr
    data = strict((tmp_path / "g.json").read_text(encoding="utf-8"))
    assert all(not (isinstance(v, float) and not math.isfinite(v)) for _, v in _leaves(data))
