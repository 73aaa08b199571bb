"""Drawing a file never runs its code: crafted ``.pt2``, ``.pt``, ``.keras``, ``.h5`` files.

Every crafted file carries a payload that touches a marker file when unpickled, evaluated or
called; each test first shows the payload is live (the framework's own loader, or plain
``pickle``/``exec``, creates the marker), then that netdraw draws or refuses the file and
the marker never appears.
"""

from __future__ import annotations

import json
import logging
import marshal
import os
import pickle
import subprocess
import sys
import warnings
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from conftest import assert_one_line_error, cli_env, require_module, run_cli

torch = require_module("torch")

import pt2_archives  # noqa: E402
import torch_models as TM  # noqa: E402
from torch import nn  # noqa: E402

import netdraw  # noqa: E402
from netdraw.cli import main  # noqa: E402
from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.importers import pt2, symexpr  # noqa: E402
from netdraw.ir import Graph  # noqa: E402
from netdraw.zoo import torch_models as zoo_torch  # noqa: E402

Dim = torch.export.Dim


class WithConstants(nn.Module):
    """A conv net with a buffer, a tensor constant, a bare parameter and symbolic sizes."""

    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, stride=2)
        self.bn = nn.BatchNorm2d(8)
        self.shift = nn.Parameter(torch.zeros(1, 8, 1, 1))
        self.register_buffer("scale", torch.ones(1))
        self.const = torch.tensor([2.0])
        self.head = nn.Linear(8, 4)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = torch.relu(self.bn(self.conv(x))) + self.shift
        y = torch.cat([y, y], dim=0) * self.scale * self.const
        return self.head(y.mean((2, 3)))


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def export(model: nn.Module, args: tuple, dynamic=None, decompose=False):
    program = torch.export.export(model.eval(), args, dynamic_shapes=dynamic)
    return program.run_decompositions() if decompose else program


@pytest.fixture(scope="module")
def genuine(tmp_path_factory) -> tuple[nn.Module, Path]:
    """A real archive with constants, a bare parameter and symbolic batch and spatial dims."""
    model = WithConstants()
    program = export(model, (torch.randn(2, 3, 16, 16),),
                     ({0: Dim.AUTO, 2: Dim.AUTO, 3: Dim.AUTO},))
    path = tmp_path_factory.mktemp("pt2") / "genuine.pt2"
    torch.export.save(program, str(path))
    return model, path


def leaf_modules(program) -> list[str]:
    """torch's own list of the torch.nn leaf modules the program's ops ran in, in order."""
    names: list[str] = []
    for fx_node in program.graph.nodes:
        stack = list((fx_node.meta.get("nn_module_stack") or {}).values())
        if fx_node.op != "call_function" or not stack:
            continue
        path, cls = stack[-1]
        cls = cls if isinstance(cls, str) else f"{cls.__module__}.{cls.__qualname__}"
        if cls.startswith("torch.nn.") and path and (not names or names[-1] != path):
            names.append(path)
    return names


CASES = {
    "residual blocks, dynamic batch": lambda: (
        nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), zoo_torch.BasicBlock(8, 8),
                      zoo_torch.BasicBlock(8, 16, 2, nn.Sequential(
                          nn.Conv2d(8, 16, 1, 2, bias=False), nn.BatchNorm2d(16)))),
        (torch.randn(2, 3, 16, 16),), ({0: Dim("batch", min=1, max=64)},), False),
    "lenet5, decomposed": lambda: (zoo_torch.lenet5(), (torch.randn(1, 1, 32, 32),), None,
                                   True),
    "LSTM, tuple outputs": lambda: (TM.Recurrent(), (torch.zeros(2, 7, dtype=torch.long),),
                                    None, False),
    "attention, functional ops": lambda: (TM.FunctionalAttention(dim=16, heads=2),
                                          (torch.randn(1, 5, 16),), None, False),
    "constants, symbolic sizes": lambda: (WithConstants(), (torch.randn(2, 3, 16, 16),),
                                          ({0: Dim.AUTO, 2: Dim.AUTO, 3: Dim.AUTO},), False),
}


@pytest.mark.parametrize("case", list(CASES))
def test_pt2_file_draws_like_the_program_in_memory(case, tmp_path):
    model, args, dynamic, decompose = CASES[case]()
    program = export(model, args, dynamic, decompose)
    path = tmp_path / "m.pt2"
    torch.export.save(program, str(path))
    from_file = netdraw.load(path, name="m")
    in_memory = netdraw.load(program, name="m")
    assert from_file.to_json() == in_memory.to_json()
    assert from_file.total_params == n_params(model)  # torch's count
    names = [n.name for n in from_file if n.op_type and n.kind not in ("input", "output")]
    leaves = leaf_modules(program)
    assert [n for n in names if n in leaves] == leaves  # every leaf call, in torch's order
    symbolic = [d for n in from_file for s in n.outputs for d in s.shape or () if
                isinstance(d, str)]
    assert bool(symbolic) == bool(dynamic)


def test_symbolic_sizes_print_as_torch_prints_them():
    """The srepr text of real symbolic sizes prints as str(SymInt) does (sympy's printer)."""
    sympy = require_module("sympy")
    program = export(WithConstants(), (torch.randn(2, 3, 16, 16),),
                     ({0: Dim.AUTO, 2: Dim.AUTO, 3: Dim.AUTO},))
    seen = set()
    for fx_node in program.graph.nodes:
        val = fx_node.meta.get("val")
        for d in getattr(val, "shape", ()):
            if isinstance(d, torch.SymInt):
                seen.add(str(d))
                assert symexpr.dim_text(sympy.srepr(d.node.expr)) == str(d)
    assert len(seen) >= 3, seen  # s0, 2*s0 and a conv output size at least
    s0, s1 = sympy.symbols("s0 s1", positive=True, integer=True)
    from torch.utils._sympy.functions import FloorDiv, Mod

    for expr in (s0 * s1, 3 * s0 - 1, -s0 + 4, (s0 + 1) ** 2, FloorDiv(s0 * 2, 3) + s1,
                 Mod(s0, 4) + 1, sympy.Max(s0, s1), 4 * FloorDiv(s0 - 1, 2) * (s1 + 1)):
        assert symexpr.dim_text(sympy.srepr(expr)) == str(expr), expr


def test_scalar_types_match_torch():
    from torch._export.serde.serialize import _SERIALIZE_TO_TORCH_DTYPE

    expected = {int(k): str(v).removeprefix("torch.") for k, v in
                _SERIALIZE_TO_TORCH_DTYPE.items() if int(k)}
    assert {k: v for k, v in pt2.SCALAR_TYPES.items() if k in expected} == expected


def test_pt2_reading_needs_no_torch(genuine, tmp_path):
    """The CLI draws a .pt2 with torch and sympy unimportable (poisoned on the path)."""
    model, path = genuine
    poison = tmp_path / "poison"
    for name in ("torch", "sympy"):
        (poison / name).mkdir(parents=True)
        (poison / name / "__init__.py").write_text(f"raise RuntimeError('imported {name}')\n")
    env = cli_env()
    env["PYTHONPATH"] = f"{poison}{os.pathsep}{env['PYTHONPATH']}"
    out = tmp_path / "g.json"
    proc = run_cli(str(path), "-o", str(out), env=env)
    assert proc.returncode == 0, proc.stderr
    graph = Graph.from_json(out.read_text())
    assert graph.total_params == n_params(model)
    proc = run_cli(str(path), "-o", str(tmp_path / "g.svg"), env=env)
    assert proc.returncode == 0, proc.stderr
    ET.parse(tmp_path / "g.svg")
    probe = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True,
                           env=env)
    assert probe.returncode != 0 and b"imported torch" in probe.stderr


def build_variants(genuine_path: Path, folder: Path) -> dict[str, tuple[Path, Path]]:
    out = {}
    for name, build in pt2_archives.VARIANTS.items():
        slug = name.replace(" ", "_")
        marker = folder / f"marker_{slug}"
        out[name] = (build(genuine_path, folder / f"{slug}.pt2", marker), marker)
    return out


def test_crafted_archives_run_code_in_torch_export_load(genuine, tmp_path):
    """The oracle: torch.export.load runs the payloads (so the tests below mean something)."""
    _, path = genuine
    variants = build_variants(path, tmp_path)
    logging.disable(logging.CRITICAL)  # torch logs each failure with a traceback
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for archive, _ in variants.values():
                try:
                    torch.export.load(str(archive))
                except Exception:  # most fail after the payload ran
                    pass
    finally:
        logging.disable(logging.NOTSET)
    ran = {name for name, (_, marker) in variants.items() if marker.exists()}
    assert {"pickled weight", "pickled constant", "opaque object", "sample inputs",
            "sympy size"} <= ran


@pytest.mark.parametrize("variant", list(pt2_archives.VARIANTS))
def test_crafted_archives_draw_without_running_code(genuine, variant, tmp_path):
    model, path = genuine
    archive, marker = build_variants(path, tmp_path)[variant]
    graph = netdraw.load(archive, name="genuine")
    assert not marker.exists()
    assert graph.total_params == n_params(model)
    clean = netdraw.load(path)
    if variant != "sympy size":
        assert graph.to_json() == clean.to_json()
    else:  # the sizes' text was code: drawn as unknown dims, the rest unchanged
        assert [n.name for n in graph] == [n.name for n in clean]
        assert graph.nodes[graph.inputs[0]].outputs[0].shape == (None, 3, None, None)
    out = tmp_path / "x.svg"
    assert main([str(archive), "-o", str(out)]) == 0
    ET.parse(out)
    assert not marker.exists()


def _zip(path: Path, entries: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    return path


def test_broken_archives_are_one_line_errors(genuine, tmp_path, capsys):
    _, path = genuine
    data = path.read_bytes()
    with zipfile.ZipFile(path) as zf:
        program = json.loads(zf.read("genuine/models/model.json"))
    broken_nodes = dict(program)
    broken_nodes["graph_module"] = dict(program["graph_module"],
                                        graph=dict(program["graph_module"]["graph"],
                                                   nodes="oops"))
    cases = {
        "truncated": (data[: len(data) // 2], "not a torch.export archive"),
        "empty": (b"", "is empty"),
        "text": (b"hello", "not a torch.export archive"),
        "no_marker": ({"m/models/model.json": "{}"}, "no archive_format"),
        "no_program": ({"m/archive_format": "pt2", "m/data/weights/w": "x"},
                       "no exported program"),
        "aoti": ({"m/archive_format": "pt2", "m/data/aotinductor/model/x.so": "x"},
                 "AOTInductor"),
        "bad_json": ({"m/archive_format": "pt2", "m/models/model.json": "{not json"},
                     "not valid JSON"),
        "deep_json": ({"m/archive_format": "pt2", "m/models/model.json": "[" * 100_000},
                      "program"),
        "list_json": ({"m/archive_format": "pt2", "m/models/model.json": "[]"},
                      "not a JSON object"),
        "wrong_shape": ({"m/archive_format": "pt2",
                         "m/models/model.json": json.dumps(broken_nodes)},
                        "graph.nodes is not a list"),
        "torch_save": (None, "torch.save"),
    }
    for name, (content, fragment) in cases.items():
        bad = tmp_path / f"{name}.pt2"
        if content is None:
            torch.save({"w": torch.zeros(2)}, bad)
        elif isinstance(content, bytes):
            bad.write_bytes(content)
        else:
            _zip(bad, content)
        out = tmp_path / f"{name}.svg"
        assert main([str(bad), "-o", str(out)]) == 2, name
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("netdraw: error: "), (name, lines)
        assert fragment.lower() in lines[0].lower(), (name, lines[0])
        assert not out.exists()
    proc = run_cli(str(tmp_path / "wrong_shape.pt2"), "-o", str(tmp_path / "w.svg"))
    assert_one_line_error(proc, "not a valid torch.export program")


def test_oversized_program_entry_is_refused(tmp_path, monkeypatch):
    big = _zip(tmp_path / "big.pt2", {"m/archive_format": "pt2",
                                      "m/models/model.json": "{}" + " " * 5000})
    monkeypatch.setattr(pt2, "MAX_PROGRAM_BYTES", 4096)
    with pytest.raises(NetdrawError, match="netdraw reads programs of up to 4,096 bytes"):
        netdraw.load(big)


# -- the other file types -----------------------------------------------------------------


def test_pickled_checkpoints_are_refused_unexecuted(tmp_path):
    """``.pt``/``.pth``: torch.load(weights_only=True) refuses the pickle; nothing runs."""
    marker = tmp_path / "marker"
    pickle.loads(pt2_archives.payload(marker))  # the payload is live
    assert marker.exists()
    marker.unlink()
    zipped = tmp_path / "evil.pt"
    torch.save(pt2_archives.Touch(marker), zipped)
    legacy = tmp_path / "evil.pth"
    legacy.write_bytes(pt2_archives.payload(marker))
    for path in (zipped, legacy):
        with pytest.raises(NetdrawError, match="will not unpickle|not a readable PyTorch"):
            netdraw.load(path)
        assert not marker.exists(), path


def _lambda_code(marker: Path) -> str:
    import base64

    source = f"lambda x: (__import__('pathlib').Path({str(marker)!r}).touch(), x)[1]"
    code = compile(source, "<payload>", "eval").co_consts[0]
    return base64.b64encode(marshal.dumps(code)).decode()


def _keras_config(marker: Path) -> dict:
    dtype = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
             "registered_name": None}

    def tensor(layer: str) -> dict:
        return {"class_name": "__keras_tensor__",
                "config": {"shape": [None, 4], "dtype": "float32",
                           "keras_history": [layer, 0, 0]}}

    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "registered_name": "Functional", "config": {
        "name": "evil", "trainable": True, "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "name": "x",
             "config": {"batch_shape": [None, 4], "dtype": "float32", "name": "x"},
             "inbound_nodes": []},
            {"module": "keras.layers", "class_name": "Lambda", "name": "payload",
             "config": {"name": "payload", "trainable": True, "dtype": dtype,
                        "function": {"class_name": "__lambda__",
                                     "config": {"code": _lambda_code(marker),
                                                "defaults": None, "closure": None}},
                        "arguments": {}},
             "build_config": {"input_shape": [None, 4]},
             "inbound_nodes": [{"args": [tensor("x")], "kwargs": {}}]},
            {"module": "keras.layers", "class_name": "Dense", "name": "fc",
             "config": {"name": "fc", "trainable": True, "dtype": dtype, "units": 2,
                        "activation": "linear", "use_bias": True},
             "build_config": {"input_shape": [None, 4]},
             "inbound_nodes": [{"args": [tensor("payload")], "kwargs": {}}]}],
        "input_layers": ["x", 0, 0], "output_layers": ["fc", 0, 0]}}


def test_keras_files_with_code_draw_unexecuted(tmp_path):
    """``.keras``/``.h5``: a Lambda's marshalled code is data to netdraw."""
    marker = tmp_path / "marker"
    config = _keras_config(marker)
    code = config["config"]["layers"][1]["config"]["function"]["config"]["code"]
    import base64
    import types

    types.FunctionType(marshal.loads(base64.b64decode(code)), {})(0)  # the payload is live
    assert marker.exists()
    marker.unlink()
    keras_file = _zip(tmp_path / "evil.keras", {"config.json": json.dumps(config),
                                                "metadata.json": '{"keras_version": "3.15"}'})
    files = [keras_file]
    h5py = require_module("h5py")
    h5 = tmp_path / "evil.h5"
    with h5py.File(h5, "w") as handle:
        handle.attrs["model_config"] = json.dumps(config)
    files.append(h5)
    for path in files:
        graph = netdraw.load(path)
        assert graph.nodes["payload"].kind == "other" and graph.total_params == 10, path
        assert main([str(path), "-o", str(tmp_path / "evil.svg")]) == 0
        assert not marker.exists(), path
    keras = require_module("keras")
    with pytest.raises(NetdrawError, match="safe_mode"):
        netdraw.load(keras_file, via_keras=True)
    assert not marker.exists()
    # keras itself, told the config is trusted, runs the code when it builds the model
    keras.saving.deserialize_keras_object(config, safe_mode=False)
    assert marker.exists()
