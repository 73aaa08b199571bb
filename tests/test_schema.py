"""The published JSON Schema (``netdraw/schema/graph-1.schema.json``) and its use.

Oracles: ``jsonschema`` (the reference implementation) checks that the file is a valid
draft-07 schema and agrees with netdraw's validator on good and bad documents; every JSON
file netdraw writes (the gallery, every zoo model, views) validates.
"""

from __future__ import annotations

import copy
import json
import warnings

import pytest
from conftest import ROOT, assert_one_line_error, require_module, run_cli

import netdraw
from netdraw import schema, zoo
from netdraw.errors import NetdrawError
from netdraw.ir import KINDS, SCHEMA, Graph

jsonschema = require_module("jsonschema")


def reference_errors(document) -> list[str]:
    validator = jsonschema.Draft7Validator(schema.schema())
    return [schema.json_path(e.absolute_path) for e in validator.iter_errors(document)]


def test_schema_file_is_valid_draft7_and_shipped():
    jsonschema.Draft7Validator.check_schema(schema.schema())
    assert schema.schema()["properties"]["schema"]["const"] == SCHEMA
    assert schema.schema()["definitions"]["node"]["properties"]["kind"]["enum"] == list(KINDS)
    import tomllib

    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "schema/*.json" in config["tool"]["setuptools"]["package-data"]["netdraw"]
    documented = (ROOT / "docs" / "schema.md").read_text()
    assert "netdraw/schema/graph-1.schema.json" in documented


def test_gallery_json_validates():
    files = sorted((ROOT / "gallery").glob("*.json"))
    assert files
    for path in files:
        document = json.loads(path.read_text())
        schema.validate(document)
        assert reference_errors(document) == [], path
        Graph.from_json(path.read_text())


SMALL_INPUTS = {"alexnet": (1, 3, 96, 96), "vgg16": (1, 3, 32, 32), "resnet18": (1, 3, 64, 64),
                "resnet50": (1, 3, 64, 64), "unet": (1, 3, 64, 64),
                "mobilenetv2": (1, 3, 64, 64)}


@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_every_zoo_model_writes_valid_json(name):
    if zoo.entry(name).framework == "torch":
        require_module("torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        graph = zoo.load(name, input_shape=SMALL_INPUTS.get(name))
    for options in ({}, {"depth": 1}, {"full": True}, {"expand": []}):
        text = netdraw.render(graph, "json", **options)
        document = json.loads(text)
        assert reference_errors(document) == [], (name, options)
        assert Graph.from_json(text).to_json() == text


def good_document() -> dict:
    from netdraw.zoo.onnx_models import small_resnet

    return json.loads(netdraw.load(small_resnet()).to_json())


def bad_documents() -> dict[str, tuple[dict, str]]:
    """name -> (document, the error's expected text)."""
    base = good_document()
    out = {}

    def variant(name: str, change, expected: str) -> None:
        doc = copy.deepcopy(base)
        change(doc)
        out[name] = (doc, expected)

    variant("float dim", lambda d: d["nodes"][3]["outputs"][0]["shape"].__setitem__(1, 2.5),
            "nodes[3].outputs[0].shape[1]: expected an integer or a name")
    variant("edges a string", lambda d: d.__setitem__("edges", "abc"),
            "edges: expected a list")
    variant("4,000-digit params", lambda d: d["nodes"][2].__setitem__("params", 10 ** 3999),
            "nodes[2].params: expected a whole number from 0 to 9,223,372,036,854,775,807, "
            "not a 4000-digit number")
    variant("negative params", lambda d: d["nodes"][2].__setitem__("params", -5),
            "nodes[2].params: expected a whole number")
    variant("no id", lambda d: d["nodes"][1].pop("id"), 'nodes[1]: missing "id"')
    variant("unknown kind", lambda d: d["nodes"][1].__setitem__("kind", "convolution"),
            "nodes[1].kind: expected a node kind")
    variant("long name", lambda d: d["nodes"][1].__setitem__("name", "x" * 70_000),
            "nodes[1].name: longer than 65,536 characters")
    variant("group a string", lambda d: d["nodes"][1].__setitem__("group", "layer1"),
            "nodes[1].group: expected a group path")
    variant("edge without dst", lambda d: d["edges"][0].pop("dst"), 'edges[0]: missing "dst"')
    variant("huge attr", lambda d: d["nodes"][1]["attrs"].__setitem__("x", 2 ** 70),
            "nodes[1].attrs.x: expected an integer of at most 64 bits")
    variant("meta a list", lambda d: d.__setitem__("meta", [1]), "meta: expected an object")
    variant("tensor a number", lambda d: d["edges"][0].__setitem__("tensor", 3),
            "edges[0].tensor: expected a tensor spec")
    variant("dtype a number", lambda d: d["edges"][0]["tensor"].__setitem__("dtype", 7),
            "edges[0].tensor.dtype: expected a dtype name")
    variant("empty group path", lambda d: d["groups"].append({"path": []}),
            "groups[")
    return out


@pytest.mark.parametrize("case", list(bad_documents()))
def test_schema_errors_name_the_path(case, tmp_path):
    document, expected = bad_documents()[case]
    assert reference_errors(document), "jsonschema accepts it too: the case tests nothing"
    with pytest.raises(NetdrawError) as info:
        Graph.from_dict(document)
    assert expected in str(info.value)
    assert "\n" not in str(info.value)


def test_json_importer_errors_are_one_line(tmp_path):
    cases = {
        "overflow": ('{"schema": "netdraw.graph/1", "nodes": [{"id": "a", "params": 1'
                     + "0" * 3999 + "}]}", "nodes[0].params: expected a whole number"),
        "edges string": ('{"schema": "netdraw.graph/1", "nodes": [], "edges": "oops"}',
                         "edges: expected a list"),
        "nan": ('{"schema": "netdraw.graph/1", "nodes": [{"id": "a", "attrs": {"x": NaN}}]}',
                "NaN is not a JSON number"),
        "huge float": ('{"schema": "netdraw.graph/1", "nodes": [{"id": "a", "attrs": '
                       '{"x": 1e999}}]}', "nodes[0].attrs.x: expected a finite number"),
        "deep": ('{"schema": "netdraw.graph/1", "nodes": [{"id": "a", "attrs": {"x": '
                 + "[" * 60 + "]" * 60 + "}}]}", "nested deeper than"),
        "very deep": ("[" * 200_000, "nested too deeply"),
        "digits": ('{"schema": "netdraw.graph/1", "nodes": [{"id": "a", "params": 1'
                   + "0" * 5000 + "}]}", "invalid JSON"),
        "other json": ('{"a": 1}', "not a netdraw graph"),
    }
    for name, (text, expected) in cases.items():
        path = tmp_path / f"{name.replace(' ', '_')}.json"
        path.write_text(text)
        out = tmp_path / f"{name.replace(' ', '_')}.svg"
        proc = run_cli(str(path), "-o", str(out))
        assert_one_line_error(proc, str(path), expected)
        assert not out.exists()


def test_non_finite_attributes_are_written_as_text():
    graph = zoo.load("onnx-lenet5")
    first = next(iter(graph))
    first.attrs["clip"] = float("inf")
    text = netdraw.render(graph, "json")
    assert '"clip": "inf"' in text
    assert Graph.from_json(text).nodes[first.id].attrs["clip"] == "inf"


def test_json_writer_refuses_graphs_it_could_not_read():
    graph = zoo.load("onnx-lenet5")
    next(iter(graph)).name = "n" * 70_000
    with pytest.raises(NetdrawError, match="cannot be written .* longer than 65,536"):
        netdraw.render(graph, "json")
