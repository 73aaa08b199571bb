"""The IR and its public JSON format."""

from __future__ import annotations

import json

import onnx_models as M
import pytest

import netdraw
from netdraw.errors import NetdrawError
from netdraw.ir import KINDS, SCHEMA, Graph, Node, TensorSpec


@pytest.mark.parametrize("build", [M.sequential_convnet, M.residual, M.if_and_loop,
                                   M.local_function, M.hostile_names, M.custom_op])
def test_json_round_trip_is_byte_identical(build):
    text = netdraw.load(build()).to_json()
    again = Graph.from_json(text).to_json()
    assert again == text
    assert Graph.from_json(again).to_json() == text


def test_json_has_the_documented_keys():
    data = json.loads(netdraw.load(M.sequential_convnet()).to_json())
    assert data["schema"] == SCHEMA == "netdraw.graph/1"
    for key in ("name", "nodes", "edges", "inputs", "outputs"):
        assert key in data
    node = data["nodes"][1]
    assert set(node) >= {"id", "name", "kind", "op_type", "attrs", "params", "inputs", "outputs",
                         "group"}
    assert isinstance(node["params"], int) and node["kind"] in KINDS
    # a conv's output: its layout is known (channels first)
    assert set(node["outputs"][0]) == {"shape", "dtype", "layout"}
    assert node["outputs"][0]["layout"] == "NCHW"
    assert set(data["edges"][0]) == {"src", "dst", "tensor"}
    ids = {n["id"] for n in data["nodes"]}
    assert set(data["inputs"]) <= ids and set(data["outputs"]) <= ids
    assert all(n["kind"] == "input" for n in data["nodes"] if n["id"] in data["inputs"])


def test_kinds_of_the_design_notes_are_kept():
    for kind in ("input", "output", "conv", "conv_transpose", "dense", "pool", "global_pool",
                 "norm", "activation", "softmax", "dropout", "flatten", "reshape", "transpose",
                 "concat", "add", "multiply", "matmul", "attention", "embedding", "recurrent",
                 "upsample", "pad", "slice", "constant", "subgraph", "other"):
        assert kind in KINDS


def test_from_json_rejects_bad_documents():
    with pytest.raises(NetdrawError, match="schema"):
        Graph.from_json('{"schema": "something/else"}')
    with pytest.raises(NetdrawError, match="invalid JSON"):
        Graph.from_json('{"schema": ')
    cyc = {"schema": SCHEMA, "nodes": [{"id": "a"}, {"id": "b"}],
           "edges": [{"src": "a", "dst": "b"}, {"src": "b", "dst": "a"}]}
    with pytest.raises(NetdrawError, match="cycle"):
        Graph.from_dict(cyc)
    dangling = {"schema": SCHEMA, "nodes": [{"id": "a"}], "edges": [{"src": "a", "dst": "z"}]}
    with pytest.raises(NetdrawError, match="unknown node"):
        Graph.from_dict(dangling)
    with pytest.raises(NetdrawError, match='invalid netdraw graph: nodes.0.: missing "id"'):
        Graph.from_dict({"schema": SCHEMA, "nodes": [{"name": "no id"}]})


def test_tensor_spec_formatting():
    assert TensorSpec((None, "batch", 3)).format_shape() == "?×batch×3"
    assert TensorSpec().format_shape() == ""


def test_graph_copy_is_independent():
    g = netdraw.load(M.sequential_convnet())
    c = g.copy()
    next(iter(c)).name = "changed"
    assert next(iter(g)).name != "changed"
    assert c.to_json() != g.to_json()
    assert isinstance(next(iter(c)), Node)
