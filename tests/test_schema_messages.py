"""What a user reads when a graph file breaks the schema: the exact one-line messages.

The oracle is the message written out in full by hand for a document built in the test:
the JSON path of the offending value, the rule in words, and the value as shown (a long
string cut at 40 characters, a huge number by its digit count, a list by its length). The
limits that no JSON Schema can state (finite numbers, nesting depth) are tested at the
limit, one below and one above.
"""

from __future__ import annotations

import copy
from typing import Any

import fastjsonschema
import pytest

from netdraw import schema
from netdraw.errors import NetdrawError
from netdraw.ir import Graph

BASE: dict[str, Any] = {
    "schema": "netdraw.graph/1", "name": "m",
    "nodes": [{"id": "a", "name": "a", "kind": "input", "op_type": "Input", "attrs": {},
               "params": 0, "inputs": [], "outputs": [], "group": []}],
    "edges": [], "inputs": ["a"], "outputs": [], "groups": [], "meta": {},
}


def message(change) -> str | None:
    """The error for BASE after ``change(document)``; None when it validates."""
    document = copy.deepcopy(BASE)
    change(document)
    try:
        schema.validate(document)
    except NetdrawError as exc:
        return str(exc)
    return None


def nested(levels: int) -> Any:
    value: Any = 1
    for _ in range(levels):
        value = [value]
    return value


def test_the_base_document_is_valid() -> None:
    assert message(lambda d: None) is None
    assert Graph.from_dict(copy.deepcopy(BASE)).nodes["a"].kind == "input"


@pytest.mark.parametrize(("value", "shown"), [
    (5, "5"),
    (None, "null"),
    ({"a": 1}, "an object"),
    ([1, 2], "a list of 2"),
    (list(range(12_345)), "a list of 12,345"),
    ([], "an empty list"),
    (True, "true"),
    (2.5, "2.5"),
])
def test_a_wrong_type_names_the_path_the_rule_and_the_value(value: Any, shown: str) -> None:
    assert message(lambda d: d.__setitem__("name", value)) == (
        f"name: expected a string of at most 65,536 characters, not {shown}")


def test_long_values_are_cut_at_forty_characters() -> None:
    assert message(lambda d: d.__setitem__("schema", "x" * 100)) == (
        'schema: expected "netdraw.graph/1", not "' + "x" * 38 + "…")
    # 40 characters exactly are shown whole: the quotes and 38 letters
    assert message(lambda d: d.__setitem__("schema", "y" * 38)) == (
        'schema: expected "netdraw.graph/1", not "' + "y" * 38 + '"')
    assert message(lambda d: d.__setitem__("schema", "é" * 39)) == (
        'schema: expected "netdraw.graph/1", not "' + "é" * 38 + "…")


@pytest.mark.parametrize(("value", "shown"), [
    (10 ** 30 - 1, "999999999999999999999999999999"),
    (10 ** 30, "a 31-digit number"),
    (-(10 ** 30), "a 31-digit number"),
    (10 ** 3999, "a 4000-digit number"),
])
def test_huge_numbers_are_shown_by_their_digit_count(value: int, shown: str) -> None:
    assert message(lambda d: d["nodes"][0]["attrs"].__setitem__("n", value)) == (
        f"nodes[0].attrs.n: expected an integer of at most 64 bits, not {shown}")


def test_keys_that_are_not_identifiers_are_quoted_in_the_path() -> None:
    assert message(lambda d: d["nodes"][0]["attrs"].__setitem__("a b", 10 ** 30)) == (
        'nodes[0].attrs["a b"]: expected an integer of at most 64 bits, '
        "not a 31-digit number")
    long_key = "k-" * 50
    text = message(lambda d: d["nodes"][0]["attrs"].__setitem__(long_key, 10 ** 30))
    quoted = ('"' + long_key)[:60]  # the key as JSON, cut at 60 characters
    assert text == (f"nodes[0].attrs[{quoted}]: expected an integer of at most 64 bits, "
                    "not a 31-digit number")


def test_json_path_forms() -> None:
    assert schema.json_path([]) == "(top level)"
    assert schema.json_path(["nodes", 3, "outputs", 0]) == "nodes[3].outputs[0]"
    assert schema.json_path([0, "id"]) == "[0].id"
    assert schema.json_path(["attrs", "kernel size", "x"]) == 'attrs["kernel size"].x'
    assert schema.json_path(["_private", "a1"]) == "_private.a1"
    assert schema.json_path(["1abc"]) == '["1abc"]'
    assert schema.json_path(["ünïcode"]) == '["ünïcode"]'


def test_a_missing_field_is_named() -> None:
    assert message(lambda d: d["edges"].append({"src": "a"})) == 'edges[0]: missing "dst"'
    assert message(lambda d: d["nodes"][0].pop("id")) == 'nodes[0]: missing "id"'
    assert message(lambda d: d.pop("nodes")) == '(top level): missing "nodes"'


def test_too_many_items_and_too_long_strings() -> None:
    assert message(lambda d: d["groups"].append({"path": ["x"] * 257})) == (
        "groups[0].path: more than 256 items; netdraw reads at most 256")
    assert message(lambda d: d["groups"].append({"path": ["x"] * 256})) is None
    assert message(lambda d: d["nodes"][0].__setitem__(
        "attrs", {str(i): 1 for i in range(100_001)})) == (
        "nodes[0].attrs: more than 100,000 items; netdraw reads at most 100,000")
    assert message(lambda d: d["nodes"][0].__setitem__(
        "attrs", {str(i): 1 for i in range(100_000)})) is None
    assert message(lambda d: d["nodes"][0].__setitem__("name", "x" * 65_537)) == (
        "nodes[0].name: longer than 65,536 characters")
    assert message(lambda d: d["nodes"][0].__setitem__("name", "x" * 65_536)) is None


def test_an_empty_node_id_is_refused_with_what_an_id_is() -> None:
    assert message(lambda d: d.__setitem__("inputs", [""])) == (
        "inputs[0]: expected a node id (a non-empty string of at most 65,536 "
        'characters), not ""')


@pytest.mark.parametrize("bad", [float("inf"), float("-inf"), float("nan")])
def test_non_finite_numbers_are_refused_wherever_they_are(bad: float) -> None:
    shown = "nan" if bad != bad else ("inf" if bad > 0 else "-inf")
    assert message(lambda d: d["nodes"][0]["attrs"].__setitem__("x", [{"y": bad}])) == (
        f"nodes[0].attrs.x[0].y: expected a finite number, not {shown}")
    assert message(lambda d: d["meta"].__setitem__("m", {"k": {"j": bad}})) == (
        f"meta.m.k.j: expected a finite number, not {shown}")
    assert message(lambda d: d["nodes"][0].__setitem__("params", bad)) == (
        f"nodes[0].params: expected a finite number, not {shown}")


def test_nesting_is_counted_through_lists_and_objects_up_to_the_limit() -> None:
    # the document is level 1, meta 2, the value of "deep" 3: 34 lists reach level 36
    assert schema.MAX_DEPTH == 36
    assert message(lambda d: d["meta"].__setitem__("deep", nested(34))) is None
    assert message(lambda d: d["meta"].__setitem__("deep", nested(35))) == (
        "meta.deep" + "[0]" * 34 + ": nested deeper than 36 levels")
    objects: Any = 1
    for _ in range(34):
        objects = {"o": objects}
    assert message(lambda d: d["meta"].__setitem__("deep", objects)) is None
    assert message(lambda d: d["meta"].__setitem__("deep", {"o": objects})) == (
        "meta.deep" + ".o" * 34 + ": nested deeper than 36 levels")


def test_a_top_level_that_is_not_an_object() -> None:
    with pytest.raises(NetdrawError) as info:
        schema.validate([1, 2])
    assert str(info.value) == (
        '(top level): expected a netdraw graph: an object with "schema": '
        '"netdraw.graph/1" and "nodes", not a list of 2')


def test_a_rule_without_a_message_of_its_own_reads_the_validator_text() -> None:
    """A rule the schema gives no ``errorMessage`` is reported with the validator's own
    words, the ``data`` prefix dropped, spaces collapsed, at most 160 characters."""
    error = fastjsonschema.JsonSchemaValueException(
        "data.nodes[0]  must be   valid " + "x" * 300, value=1,
        name="data.nodes.0", definition={"type": "string"}, rule="format")
    document = copy.deepcopy(BASE)
    text = schema._message(error, document)
    assert text == "nodes[0]: " + ("nodes[0] must be valid " + "x" * 300)[:160]
    error = fastjsonschema.JsonSchemaValueException(
        "data. must be a thing", value=1, name="data", definition=None, rule="format")
    assert schema._message(error, document) == "(top level): must be a thing"


def test_a_path_beyond_the_data_stops_where_the_data_ends() -> None:
    error = fastjsonschema.JsonSchemaValueException(
        "data.nodes[7].id must be string", value=1, name="data.nodes.7.id",
        definition={"errorMessage": "expected a node id"}, rule="type")
    assert schema._message(error, copy.deepcopy(BASE)) == (
        "nodes: expected a node id, not a list of 1")
    error = fastjsonschema.JsonSchemaValueException(
        "data.meta.nope must be string", value=1, name="data.meta.nope",
        definition={"errorMessage": "expected text"}, rule="type")
    assert schema._message(error, copy.deepcopy(BASE)) == "meta: expected text, not an object"
