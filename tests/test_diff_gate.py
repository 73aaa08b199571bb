"""``netdraw diff`` as a CI gate: a rename is a change (exit 1, the verdict names it, the
rows and the drawing agree), and a module checked against its own ``torch.onnx.export``
passes with ``--equivalent`` (exit 0, each difference the exporter made listed as such),
with ``--input-shape`` going to the side that needs it.

Oracles: the module names and the BatchNorm modules torch itself lists
(``named_modules``), Graphviz's SVG for the drawing's colours.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest
from conftest import assert_one_line_error, require_module, run_cli

torch = require_module("torch")

import netdraw  # noqa: E402
from netdraw.diff.view import LOOKS  # noqa: E402

MODELS = '''\
import torch.nn as nn


class Net(nn.Module):
    def __init__(self, head="head", width=16):
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(3, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.Conv2d(8, 8, 3), nn.BatchNorm2d(8), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d(1), nn.Flatten())
        self.head_name = head
        setattr(self, head, nn.Sequential(nn.Linear(8, width), nn.ReLU(),
                                          nn.Linear(width, 4)))

    def forward(self, x):
        return getattr(self, self.head_name)(self.body(x))


def before():
    return Net().eval()


def renamed():
    return Net(head="classifier").eval()


def renamed_and_wider():
    return Net(head="classifier", width=32).eval()
'''

SHAPE = "1,3,16,16"


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gate")
    (folder / "nets.py").write_text(MODELS)
    return folder


def _modules(factory: str, project) -> dict[str, str]:
    import importlib.util

    spec = importlib.util.spec_from_file_location("nets_oracle", project / "nets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return {name: type(m).__name__ for name, m in getattr(module, factory)().named_modules()
            if name}


def test_a_rename_is_a_change(project):
    proc = run_cli("diff", "nets:before", "nets:renamed", "--input-shape", SHAPE, cwd=project)
    assert proc.returncode == 1, proc.stdout + proc.stderr
    lines = proc.stdout.strip().splitlines()
    verdict = lines[-1]
    assert verdict.startswith("same architecture, renamed head → classifier"), verdict
    # The rows agree with the verdict: every row is a rename, and every renamed layer of
    # torch's module list is in one.
    before = _modules("before", project)
    after = _modules("renamed", project)
    layers = {n for n, kind in before.items() if n.startswith("head.") and kind != "ReLU"}
    assert {n.replace("head.", "classifier.", 1) for n in layers} <= set(after)
    rows = [ln for ln in lines if ln.startswith(("renamed", "changed", "added", "removed"))]
    assert rows and all(ln.startswith("renamed ") for ln in rows), rows
    for name in layers:
        assert f"renamed {name} → {name.replace('head.', 'classifier.', 1)}" in proc.stdout


def test_a_rename_in_the_python_api_and_the_drawing(project, monkeypatch):
    monkeypatch.chdir(project)
    monkeypatch.syspath_prepend(str(project))
    a = netdraw.load("nets:before", input_shape=(1, 3, 16, 16))
    b = netdraw.load("nets:renamed", input_shape=(1, 3, 16, 16))
    result = netdraw.diff(a, b)
    data = json.loads(result.to_json())
    assert data["renames"] == [{"a": "head", "b": "classifier"}]
    assert not data["same"]
    flagged = {n["name_a"] for n in data["nodes"] if n["renamed"]}
    assert flagged and all(name.startswith("head.") for name in flagged)
    # The drawing colours the renamed layers as changed, not as the same.
    svg = ET.fromstring(result.render("svg", full=True))
    ns = "{http://www.w3.org/2000/svg}"
    fills = {}
    for g in svg.iter(f"{ns}g"):
        if g.get("class") != "node":
            continue
        texts = " ".join(t.text or "" for t in g.iter(f"{ns}text"))
        shape = next((s for s in g.iter() if s.tag in (f"{ns}path", f"{ns}polygon")), None)
        if shape is not None:
            fills[texts] = shape.get("fill")
    renamed = [f for text, f in fills.items() if "classifier.0" in text or "classifier.2" in text]
    assert renamed and all(f == LOOKS["changed"]["fill"] for f in renamed), fills
    kept = [f for text, f in fills.items() if "body.0" in text]
    assert kept and all(f == LOOKS["same"]["fill"] for f in kept), fills


def test_a_rename_and_a_real_change_are_both_named(project):
    proc = run_cli("diff", "nets:before", "nets:renamed_and_wider", "--input-shape", SHAPE,
                   cwd=project)
    assert proc.returncode == 1
    verdict = proc.stdout.strip().splitlines()[-1]
    assert verdict.startswith("architectures differ; renamed head → classifier"), verdict


def _export(project, factory: str) -> str:
    import importlib.util

    spec = importlib.util.spec_from_file_location("nets_export", project / "nets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    path = project / f"{factory}.onnx"
    torch.onnx.export(getattr(module, factory)(), (torch.randn(1, 3, 16, 16),), str(path),
                      dynamo=True)
    return path.name


def test_a_module_against_its_own_export(project):
    """The exporter folds each eval-mode BatchNorm into the convolution before it: with
    --equivalent that is no difference (exit 0) and each fold is listed."""
    onnx_file = _export(project, "before")
    norms = [n for n, kind in _modules("before", project).items() if kind == "BatchNorm2d"]
    assert len(norms) == 2
    strict = run_cli("diff", "nets:before", onnx_file, "--input-shape", SHAPE, cwd=project)
    assert strict.returncode == 1, strict.stderr  # without the mode: the graphs differ
    assert "architectures differ" in strict.stdout
    for order in (("nets:before", onnx_file), (onnx_file, "nets:before")):
        proc = run_cli("diff", *order, "--input-shape", SHAPE, "--equivalent", "--full",
                       cwd=project)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        lines = proc.stdout.strip().splitlines()
        assert lines[-1].startswith("equivalent: the same architecture up to "), lines[-1]
        rows = [ln for ln in lines if ln.split(" ", 1)[0] in
                ("equivalent", "changed", "renamed", "added", "removed", "reshaped")]
        assert rows and all(ln.startswith("equivalent ") for ln in rows), rows
        for name in norms:
            assert any(name in ln and "folded into" in ln for ln in rows), (name, rows)


def test_input_shape_for_two_files_is_refused(project):
    onnx_file = _export(project, "renamed")
    proc = run_cli("diff", onnx_file, onnx_file, "--input-shape", SHAPE, cwd=project)
    assert_one_line_error(proc, "--input-shape", "both model files")
