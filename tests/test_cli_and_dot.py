"""The CLI end to end, and every Graphviz output checked by its real consumer."""

from __future__ import annotations

import json
import os
import re
import struct
import textwrap
import xml.etree.ElementTree as ET
from pathlib import Path

import onnx_models as M
import pytest
from conftest import assert_one_line_error, cli_env, dot_layout, run_cli

import netdraw
from netdraw.backends.dot import to_dot

MODELS = {
    "sequential": M.sequential_convnet, "residual": M.residual, "concat4": M.concat4,
    "dynamic": lambda: M.sequential_convnet("batch"), "if_loop": M.if_and_loop,
    "custom": M.custom_op, "function": M.local_function, "hostile": M.hostile_names,
}


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("models")
    paths = {}
    for name, build in MODELS.items():
        paths[name] = folder / f"{name}.onnx"
        paths[name].write_bytes(build().SerializeToString())
    return paths


@pytest.mark.parametrize("name", list(MODELS))
@pytest.mark.parametrize("rankdir", ["TB", "LR"])
def test_every_dot_output_lays_out_with_dot(name, rankdir):
    graph = netdraw.load(MODELS[name]())
    svg = dot_layout(to_dot(graph, rankdir=rankdir))
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    nodes = [t for t in titles if t and re.fullmatch(r"n\d+", t)]
    assert len(nodes) == len(graph)
    assert len([t for t in titles if t and "->" in t]) == len(graph.edges)


def test_hostile_names_survive_dot_and_xml(model_files, tmp_path):
    out = tmp_path / "hostile.svg"
    run_cli(str(model_files["hostile"]), "-o", str(out), check=True)
    root = ET.parse(out).getroot()  # a broken escape would fail to parse
    texts = " ".join(t.text or "" for t in root.iter("{http://www.w3.org/2000/svg}text"))
    assert 'evil " < > & \\ { } % $ # _ ^ ~' in texts
    assert "naïve ∑ 名前" in texts
    assert not list(root.iter("{http://www.w3.org/2000/svg}script"))
    dot_text = run_cli(str(model_files["hostile"]), "-o", "-", check=True).stdout
    dot_layout(dot_text)


def test_formats_from_suffix(model_files, tmp_path):
    src = str(model_files["residual"])
    for suffix in ("dot", "gv", "svg", "png", "pdf", "json"):
        out = tmp_path / f"out.{suffix}"
        run_cli("draw", src, "-o", str(out), check=True)
        data = out.read_bytes()
        if suffix in ("dot", "gv"):
            assert data.startswith(b"digraph")
            dot_layout(data.decode())
        elif suffix == "svg":
            assert ET.fromstring(data).tag.endswith("svg")
        elif suffix == "png":
            assert data[:8] == b"\x89PNG\r\n\x1a\n"
            width, height = struct.unpack(">II", data[16:24])
            assert width > 100 and height > 200
        elif suffix == "pdf":
            assert data.startswith(b"%PDF")
        else:
            assert json.loads(data)["schema"] == "netdraw.graph/1"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        f"out.{s}" for s in ("dot", "gv", "svg", "png", "pdf", "json"))


def test_json_round_trip_through_the_cli(model_files, tmp_path):
    first, second = tmp_path / "a.json", tmp_path / "b.json"
    run_cli(str(model_files["if_loop"]), "-o", str(first), check=True)
    run_cli(str(first), "-o", str(second), check=True)
    assert first.read_bytes() == second.read_bytes()
    run_cli(str(first), "-o", str(tmp_path / "c.svg"), check=True)


def test_stdout_title_rankdir_depth(model_files):
    proc = run_cli(str(model_files["residual"]), "-o", "-", "--rankdir", "LR", "--title",
                   "My <net>", check=True)
    assert "rankdir=LR" in proc.stdout and "My &lt;net&gt;" in proc.stdout
    collapsed = run_cli(str(model_files["residual"]), "-o", "-", "--format", "json",
                        "--depth", "0", check=True)
    data = json.loads(collapsed.stdout)
    assert [n["kind"] for n in data["nodes"]] == ["input", "block", "output"]
    dot_text = run_cli(str(model_files["residual"]), "-o", "-", "--depth", "0", check=True).stdout
    assert "cluster" not in dot_text
    dot_layout(dot_text)


def test_depth_collapses_groups_into_blocks():
    graph = netdraw.load(M.local_function())
    view = netdraw.passes.collapse_to_depth(graph, 1)
    blocks = [n for n in view if n.kind == "block"]
    assert [b.name for b in blocks] == ["block1", "block2"]
    assert sum(b.params for b in blocks) == graph.total_params
    assert blocks[0].outputs[0].shape == (1, 8)
    assert len(graph) == 6 and len(view) == 4  # input, two blocks, output


BAD_INPUTS = {
    "empty": b"",
    "random": os.urandom(4096),
    "text": b"this is not a model\n",
}


@pytest.mark.parametrize("kind", list(BAD_INPUTS))
def test_bad_files_give_one_line_error_and_no_output(tmp_path, kind):
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(BAD_INPUTS[kind])
    out = tmp_path / "out.svg"
    assert_one_line_error(run_cli(str(bad), "-o", str(out)))
    assert not out.exists() and list(tmp_path.iterdir()) == [bad]


def test_truncated_cyclic_and_dangling_models(tmp_path, model_files):
    whole = model_files["sequential"].read_bytes()
    cases = {
        "truncated.onnx": whole[: len(whole) // 2],
        "cycle.onnx": M.cyclic().SerializeToString(),
        "dangling.onnx": M.dangling().SerializeToString(),
    }
    for name, data in cases.items():
        path = tmp_path / name
        path.write_bytes(data)
        out = tmp_path / f"{name}.png"
        assert_one_line_error(run_cli(str(path), "-o", str(out)))
        assert not out.exists()
    bad_json = tmp_path / "bad.json"
    bad_json.write_text('{"schema": "netdraw.graph/1", "nodes": [')
    assert_one_line_error(run_cli(str(bad_json), "-o", str(tmp_path / "x.svg")), "JSON")


def test_usage_errors(model_files, tmp_path):
    src = str(model_files["sequential"])
    assert_one_line_error(run_cli(src, "-o", str(tmp_path / "x.docx")), "format")
    assert_one_line_error(run_cli(src, "-o", str(tmp_path / "noext")), "suffix")
    assert_one_line_error(run_cli(str(tmp_path / "missing.onnx"), "-o", "x.svg"), "no such")
    assert_one_line_error(run_cli(src), "-o")
    assert_one_line_error(run_cli(src, "-o", "x.svg", "--rankdir", "XY"), "rankdir")
    assert_one_line_error(run_cli(src, "-o", "-", "--format", "png"), "binary")
    assert_one_line_error(run_cli(src, "-o", str(tmp_path / "nodir" / "x.svg")), "folder")
    assert_one_line_error(run_cli("zoo:nope", "-o", "x.svg"), "zoo")
    assert_one_line_error(run_cli(str(tmp_path), "-o", "x.svg"), "folder")
    assert not any(tmp_path.iterdir())


def test_missing_dot_binary_is_explained(model_files, tmp_path):
    env = cli_env()
    env["PATH"] = str(tmp_path)  # no dot on it
    python_dir = os.path.dirname(os.path.realpath(__import__("sys").executable))
    env["PATH"] += os.pathsep + python_dir if not Path(python_dir, "dot").exists() else ""
    out = tmp_path / "x.svg"
    proc = run_cli(str(model_files["sequential"]), "-o", str(out), env=env)
    assert_one_line_error(proc, "graphviz", "install")
    assert not out.exists()
    ok = run_cli(str(model_files["sequential"]), "-o", str(tmp_path / "x.dot"), env=env)
    assert ok.returncode == 0, ok.stderr


FRAMEWORK_PROBE = textwrap.dedent("""
    import runpy, sys
    sys.argv = ["netdraw", *sys.argv[1:]]
    try:
        runpy.run_module("netdraw", run_name="__main__")
    except SystemExit as exc:
        code = exc.code
    heavy = sorted({m.split(".")[0] for m in sys.modules} & {"torch", "keras", "tensorflow",
                                                             "onnx", "onnxruntime"})
    print("LOADED", ",".join(heavy), file=sys.stderr)
""")


def _loaded(*args: str) -> set[str]:
    import subprocess
    import sys

    proc = subprocess.run([sys.executable, "-c", FRAMEWORK_PROBE, *args], capture_output=True,
                          text=True, env=cli_env(), timeout=120)
    line = [ln for ln in proc.stderr.splitlines() if ln.startswith("LOADED")][-1]
    return set(filter(None, line.split(" ", 1)[1].split(",")))


def test_help_imports_no_framework():
    assert _loaded("--help") == set()
    assert _loaded("draw", "--help") == set()


def test_drawing_onnx_imports_neither_torch_nor_keras(model_files, tmp_path):
    assert _loaded(str(model_files["residual"]), "-o", str(tmp_path / "r.dot")) == {"onnx"}
    json_file = tmp_path / "r.json"
    run_cli(str(model_files["residual"]), "-o", str(json_file), check=True)
    assert _loaded(str(json_file), "-o", str(tmp_path / "r2.dot")) == set()


def test_python_api_and_jupyter_repr():
    graph = netdraw.load(M.residual())
    svg = graph._repr_svg_()
    assert ET.fromstring(svg.encode()).tag.endswith("svg")
    png = netdraw.render(graph, "png")
    assert isinstance(png, bytes) and png.startswith(b"\x89PNG")
    assert isinstance(netdraw.render(graph, "dot"), str)
