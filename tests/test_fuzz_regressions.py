"""Every bug the fuzzers found, kept as the smallest example that showed it.

Each test names the fuzzer that found the bug and what used to happen; the real consumer
of the output (Graphviz, an XML parser, the JSON reader) is the oracle.
"""

from __future__ import annotations

import json
import subprocess
import sys
import xml.etree.ElementTree as ET

import pytest
from conftest import dot_layout, require_module

import netdraw
from netdraw.backends.dot import to_dot
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, TensorSpec


def one_node(name: str = "x", kind: str = "conv", **attrs) -> Graph:
    graph = Graph("g")
    graph.add_node(Node("a", name, kind, "Op", attrs=attrs, outputs=[TensorSpec((1, 2))]))
    return graph


@pytest.mark.parametrize("name", ["", "\x00", "\x1b\x07", "\ufffe", "\uffff", "\ud800"])
def test_dot_labels_graphviz_refused(name):
    """test_fuzz_ir: an empty or control-only name made ``<b></b>`` (Graphviz: "syntax
    error in line 1"); U+FFFE/U+FFFF and surrogates made labels Graphviz's XML parser
    refuses ("not well-formed")."""
    graph = one_node(name)
    graph.name = name
    graph.add_group(("grp",), name, name)
    graph.nodes["a"].group = ("grp",)
    graph.add_node(Node("b", "b", "add", "Add", outputs=[TensorSpec((1, name or "d"))]))
    graph.add_edge("a", "b", TensorSpec((name,)))
    graph.add_node(Node("c", "c", "add", "Add"))
    graph.add_edge("b", "c", TensorSpec((name,)))
    ET.fromstring(dot_layout(to_dot(graph)))
    ET.fromstring(netdraw.render(graph, "svg", full=True))


def test_lone_surrogates_reach_no_output():
    """test_fuzz_ir: a name with a lone surrogate (JSON input may hold "\\ud800") made every
    text backend fail with UnicodeEncodeError when the output was written."""
    graph = Graph.from_json('{"schema": "netdraw.graph/1", "name": "\\udfff", "nodes": '
                            '[{"id": "a", "name": "x\\ud800y", "kind": "conv"}]}')
    for style, fmt in (("graphviz", "dot"), ("graphviz", "svg"), ("json", "json"),
                       ("fcnn", "svg"), ("lenet", "svg"), ("alexnet", "svg"),
                       ("tikz", "tex")):
        data = netdraw.render(graph, fmt, style=style)
        text = data if isinstance(data, str) else data.decode("utf-8")
        text.encode("utf-8")
    assert "x\ufffdy" in netdraw.render(graph, "json")


def test_empty_graph_name_round_trips():
    """test_fuzz_ir (JSON round trip): a graph named "" was read back as "model"."""
    text = netdraw.render(one_node(), "json").replace('"name": "g"', '"name": ""')
    assert Graph.from_json(text).to_json() == text


@pytest.mark.parametrize("folded", [5, "conv", [1, 2], {"kind": "norm"}, None])
def test_folded_and_repeat_of_any_type(folded):
    """test_fuzz_ir: ``attrs["folded"]`` that is not a list of dicts made the view's
    signature pass raise TypeError ('int' object is not iterable); ``attrs["repeat"]`` that
    is not an int broke the figure layout (``int()`` of a dict or of 'gelu')."""
    for repeat in ("gelu", {"x": 1}, [2], 3.5, True):
        graph = one_node(kind="block", folded=folded, repeat=repeat)
        graph.add_node(Node("b", "b", "block", "Op", attrs={"folded": folded,
                                                            "repeat": repeat}))
        graph.add_edge("a", "b")
        for style in ("graphviz", "fcnn", "lenet", "alexnet", "tikz"):
            fmt = {"graphviz": "dot", "tikz": "tex"}.get(style, "svg")
            netdraw.render(graph, fmt, style=style)
        from netdraw.summary import table

        table(netdraw.api.view(graph), "text")


def test_onnx_text_fields_that_are_not_utf8(tmp_path):
    """Byte-flip fuzzing of ONNX files: a string field with invalid UTF-8 comes back from
    protobuf as bytes; the importer failed with TypeError ('startswith first arg must be
    bytes', 'can only concatenate str (not "bytes") to str')."""
    from netdraw.zoo.onnx_models import lenet5

    data = lenet5().SerializeToString()
    name = b"conv1"
    assert name in data
    damaged = tmp_path / "bad.onnx"
    damaged.write_bytes(data.replace(name, b"conv\xff", 1))
    with pytest.raises(NetdrawError, match="not valid UTF-8"):
        netdraw.load(damaged)


def test_onnx_conv_group_of_the_wrong_type():
    """test_fuzz_files (field edits of ONNX protobufs): a Conv whose ``group`` attribute is a
    list of ints (or a string) ended in TypeError: int() argument ... not 'list'."""
    from onnx import helper

    from netdraw.zoo.onnx_models import lenet5

    for value in ([2, 3], b"two", 0, -4):
        model = lenet5()
        conv = next(n for n in model.graph.node if n.op_type == "Conv")
        del conv.attribute[:]
        conv.attribute.append(helper.make_attribute("group", value))
        graph = netdraw.load(model)
        node = next(n for n in graph if n.op_type == "Conv")
        assert node.attrs["out_channels"] == 6 and node.attrs["in_channels"] == 1


_H5_PROBE = """
import sys, h5py
try:
    with h5py.File(sys.argv[1], "r") as handle:
        handle.attrs.get("model_config")
except Exception as exc:
    print(type(exc).__name__)
"""


def _small_h5(path):
    h5py = require_module("h5py")
    with h5py.File(path, "w") as handle:  # the same bytes on every run
        handle.attrs["model_config"] = json.dumps({"class_name": "Sequential",
                                                   "config": {"layers": []}})
        handle.create_group("model_weights").attrs["layer_names"] = [b"d"]
    return path.read_bytes()


@pytest.mark.parametrize(("offset", "what"), [(857, "crash"), (2072, "hang"),
                                              (112, "KeyError"), (858, "TypeError")])
def test_damaged_h5_is_a_clean_error(tmp_path, monkeypatch, offset, what):
    """test_fuzz_files (bit flips of .h5 files) and a one-byte sweep of a small file: h5py
    reported a damaged object header as KeyError ('bad object header version number'),
    which ended as an internal error; and the HDF5 C library itself crashes (signal 11) or
    loops for ever on other single flipped bytes. The file is now read in a child process
    with a time limit: every case is one NetdrawError."""
    data = bytearray(_small_h5(tmp_path / "genuine.h5"))
    data[offset] ^= 0xFF
    path = tmp_path / "damaged.h5"
    path.write_bytes(bytes(data))
    try:  # the oracle: what h5py does with this file on its own
        probe = subprocess.run([sys.executable, "-c", _H5_PROBE, str(path)],
                               capture_output=True, text=True, timeout=5)
        seen = "crash" if probe.returncode < 0 else probe.stdout.strip() or "read"
    except subprocess.TimeoutExpired:
        seen = "hang"
    if seen != what:
        pytest.skip(f"this HDF5 build gives {seen} for byte {offset}, not {what}")
    monkeypatch.setenv("NETDRAW_TIMEOUT", "5")
    expected = {"crash": "HDF5 library crashed", "hang": "did not finish within 5 s",
                "KeyError": "not a readable HDF5 file", "TypeError": "not a readable HDF5"}[what]
    with pytest.raises(NetdrawError, match=expected):
        netdraw.load(path)


@pytest.mark.parametrize("key", ["netdraw.group", "pkg.torch.onnx.name_scopes"])
@pytest.mark.parametrize("value", ["None", "[1, 2, 3]", "['no separator']", "5", "[[",
                                   "{'a': 1}", "[" * 50 + "]" * 50, "__import__('os')"])
def test_onnx_scope_metadata_of_any_shape(key, value):
    """test_fuzz_files (ONNX metadata edits): scope metadata that is not the list torch (or
    netdraw's function expansion) writes ended in TypeError ('NoneType' object is not
    iterable), AttributeError ('int' object has no attribute 'split') or ValueError (not
    enough values to unpack)."""
    from netdraw.zoo.onnx_models import lenet5

    model = lenet5()
    entry = model.graph.node[0].metadata_props.add()
    entry.key, entry.value = key, value
    graph = netdraw.load(model)
    assert graph.total_params == netdraw.load(lenet5()).total_params
    dot_layout(to_dot(netdraw.api.view(graph)))


def test_onnx_function_bomb_is_refused():
    """Found reading the importer while fixing the fuzzers' ONNX finds: local functions
    that call each other twice at each of 40 levels would be inlined into 2⁴⁰ nodes (a hang
    and then memory exhaustion); a function that calls itself recursed until RecursionError.
    """
    from onnx import TensorProto, helper

    functions = []
    for level in range(40):
        body = [helper.make_node("Relu", ["x"], ["y"])] if level == 0 else [
            helper.make_node(f"f{level - 1}", ["x"], ["h"], domain="local"),
            helper.make_node(f"f{level - 1}", ["h"], ["y"], domain="local")]
        functions.append(helper.make_function("local", f"f{level}", ["x"], ["y"], body,
                                              [helper.make_opsetid("", 17)]))
    for calls in ("f39", "self"):
        fns = list(functions)
        if calls == "self":
            fns = [helper.make_function("local", "self", ["x"], ["y"], [
                helper.make_node("self", ["x"], ["y"], domain="local")],
                [helper.make_opsetid("", 17)])]
        graph = helper.make_graph(
            [helper.make_node(calls, ["x"], ["y"], domain="local")], "bomb",
            [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 4])],
            [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 4])])
        model = helper.make_model(graph, functions=fns, opset_imports=[
            helper.make_opsetid("", 17), helper.make_opsetid("local", 1)])
        with pytest.raises(NetdrawError, match="expand to more than 2,000,000 nodes"):
            netdraw.load(model)
