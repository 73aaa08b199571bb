"""Mutation fuzzing of real model files (Hypothesis): a drawing or a one-line error.

Genuine files — ONNX models, a Keras model saved as ``.keras`` and ``.h5``, a
``torch.export`` archive, netdraw JSON — are damaged by :mod:`fuzz_mutations` (bit flips,
truncation, chunk edits; JSON edits anywhere in Keras' ``config.json``, the ``.h5``
``model_config`` attribute, the ``.pt2`` program and netdraw JSON; field-level edits of
ONNX protobufs) and drawn with the command line, in-process. Properties: exit status 0
with a valid output, or 2 with one ``netdraw: error:`` line — never an internal error
(status 1, a traceback), never a hang (a per-case alarm), never a file other than the
output, in the output's folder or in the working directory.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import signal
import tempfile
import warnings
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from conftest import require_module

hypothesis = require_module("hypothesis")
from fuzz_mutations import (  # noqa: E402
    damaged_bytes,
    damaged_json,
    damaged_onnx,
    damaged_zip,
    json_bytes,
)
from fuzz_strategies import fuzz_settings  # noqa: E402
from hypothesis import event, given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from netdraw.cli import main  # noqa: E402
from netdraw.ir import Graph  # noqa: E402

#: Seconds one damaged file may take before the case counts as a hang.
CASE_LIMIT = 60
OUTPUTS = st.sampled_from(["out.dot", "out.svg", "out.json"])


class Hang(Exception):
    """A case ran longer than :data:`CASE_LIMIT`."""


@contextlib.contextmanager
def alarm(seconds: int):
    def ring(signum, frame):
        raise Hang(f"no answer within {seconds} s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def draw_file(name: str, data: bytes, output: str) -> tuple[int, str]:
    """Draw ``data`` saved as ``name`` to ``output`` in a fresh folder; check the answer."""
    with tempfile.TemporaryDirectory(prefix="netdraw-fuzz-") as tmp, \
            tempfile.TemporaryDirectory(prefix="netdraw-fuzz-cwd-") as cwd:
        folder = Path(tmp)
        (folder / name).write_bytes(data)
        err = io.StringIO()
        home = os.getcwd()
        os.chdir(cwd)  # a file written to the working directory would show here
        try:
            with alarm(CASE_LIMIT), contextlib.redirect_stderr(err), \
                    contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings():
                warnings.simplefilter("ignore")
                code = main([str(folder / name), "-o", str(folder / output)])
        finally:
            os.chdir(home)
        assert not os.listdir(cwd), os.listdir(cwd)
        lines = [ln for ln in err.getvalue().splitlines() if ln.strip()]
        assert code in (0, 2), f"exit {code}: {err.getvalue()[-500:]}"
        created = {p.name for p in folder.iterdir()} - {name}
        if code == 2:
            errors = [ln for ln in lines if ln.startswith("netdraw: error: ")]
            assert len(errors) == 1 and lines[-1] == errors[0], lines
            assert "Traceback" not in err.getvalue()
            assert not created, created
            event("refused: " + re.sub(r"/\S+", "FILE", errors[0][16:])[:48])
        else:
            assert created == {output}, created
            check_output(folder / output)
            event("drawn")
        return code, lines[-1] if lines else ""


def check_output(path: Path) -> None:
    data = path.read_bytes()
    if path.suffix == ".svg":
        ET.fromstring(data)
    elif path.suffix == ".json":
        Graph.from_json(data)
    else:
        assert data.startswith(b"digraph")


# -- genuine files ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def onnx_seeds() -> list[bytes]:
    require_module("onnx")
    import onnx_models as T

    from netdraw.zoo import onnx_models as Z

    models = [Z.lenet5(), Z.small_resnet(), Z.inception_block(), T.if_and_loop(),
              T.local_function(), T.hostile_names()]
    return [m.SerializeToString() for m in models]


@pytest.fixture(scope="module")
def keras_seeds(tmp_path_factory) -> dict[str, bytes]:
    require_module("keras")
    require_module("h5py")
    import keras_builders

    folder = tmp_path_factory.mktemp("keras")
    model = keras_builders.siamese()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model.save(folder / "m.keras")
        model.save(folder / "m.h5")
    return {"keras": (folder / "m.keras").read_bytes(), "h5": (folder / "m.h5").read_bytes()}


@pytest.fixture(scope="module")
def pt2_seed(tmp_path_factory) -> bytes:
    torch = require_module("torch")
    import torch_models as TM

    folder = tmp_path_factory.mktemp("pt2")
    program = torch.export.export(TM.FunctionalAttention(dim=8, heads=2).eval(),
                                  (torch.randn(2, 5, 8),),
                                  dynamic_shapes=({0: torch.export.Dim.AUTO},))
    torch.export.save(program, str(folder / "m.pt2"))
    return (folder / "m.pt2").read_bytes()


@pytest.fixture(scope="module")
def json_seeds() -> list[dict]:
    import netdraw
    from netdraw.zoo import onnx_models as Z

    graph = netdraw.load(Z.small_resnet())
    return [json.loads(graph.to_json()), json.loads(netdraw.render(graph, "json", depth=1))]


# -- the fuzzers ------------------------------------------------------------------------


@fuzz_settings(400)
@given(data=st.data(), output=OUTPUTS)
def test_damaged_onnx_models(onnx_seeds, data, output):
    seed = data.draw(st.sampled_from(onnx_seeds), label="seed")
    draw_file("model.onnx", data.draw(damaged_onnx(seed), label="damaged"), output)


@fuzz_settings(200)
@given(data=st.data(), output=OUTPUTS)
def test_damaged_keras_archives(keras_seeds, data, output):
    damaged = data.draw(damaged_zip(keras_seeds["keras"], "config.json"), label="damaged")
    draw_file("model.keras", damaged, output)


@fuzz_settings(30)
@given(data=st.data(), output=OUTPUTS)
def test_damaged_h5_model_configs(keras_seeds, data, output, tmp_path_factory):
    """The ``model_config`` attribute damaged as JSON or retyped; the file's own bytes."""
    import h5py
    import numpy as np

    folder = tmp_path_factory.mktemp("h5", numbered=True)
    path = folder / "m.h5"
    path.write_bytes(keras_seeds["h5"])
    choice = data.draw(st.sampled_from(["json", "json", "type", "bytes"]), label="how")
    if choice == "bytes":
        damaged = data.draw(damaged_bytes(keras_seeds["h5"]), label="damaged")
    else:
        with h5py.File(path, "r+") as handle:
            config = json.loads(handle.attrs["model_config"])
            if choice == "json":
                handle.attrs["model_config"] = json_bytes(
                    data.draw(damaged_json(config), label="config"))
            else:
                handle.attrs["model_config"] = data.draw(st.sampled_from(
                    [np.int64(3), np.zeros(3), b"\xff\xfe", "[]", "null", np.array([b"{}"])]),
                    label="attribute")
            if data.draw(st.booleans(), label="version"):
                handle.attrs["keras_version"] = np.zeros(2)
        damaged = path.read_bytes()
    draw_file("model.h5", damaged, output)


@fuzz_settings(200)
@given(data=st.data(), output=OUTPUTS)
def test_damaged_pt2_archives(pt2_seed, data, output):
    damaged = data.draw(damaged_zip(pt2_seed, "models/model.json"), label="damaged")
    draw_file("model.pt2", damaged, output)


@fuzz_settings(200)
@given(data=st.data(), output=OUTPUTS)
def test_damaged_netdraw_json(json_seeds, data, output):
    seed = data.draw(st.sampled_from(json_seeds), label="seed")
    if data.draw(st.booleans(), label="as bytes"):
        damaged = data.draw(damaged_bytes(json_bytes(seed)), label="damaged")
    else:
        damaged = json_bytes(data.draw(damaged_json(seed), label="damaged"))
    draw_file("graph.json", damaged, output)
