"""The published JSON Schema of netdraw's graph format, and validation against it.

``graph-1.schema.json`` (JSON Schema draft-07, shipped in the package next to this file)
describes ``netdraw.graph/1``. Every graph read from JSON is checked against it before any
field is used, with ``fastjsonschema``, which compiles the schema into Python once per
process (20,000 nodes validate in seconds, about 15× faster than ``jsonschema``). Two
limits a schema cannot state are checked first: finite numbers only, and documents nested
at most :data:`MAX_DEPTH` levels. Errors name the JSON path:

>>> validate({"schema": "netdraw.graph/1", "nodes": [{"id": "x", "params": 2.5}]})
... # doctest: +ELLIPSIS
Traceback (most recent call last):
...
netdraw.errors.NetdrawError: nodes[0].params: expected a whole number from 0 to ..., not 2.5
"""

from __future__ import annotations

import functools
import json
import math
import re
from collections.abc import Callable, Iterable
from importlib import resources
from typing import Any

from netdraw.errors import NetdrawError

#: The file name of the schema inside this package.
SCHEMA_FILE = "graph-1.schema.json"
#: Deepest nesting of a whole graph document (attrs and meta values sit at depth 4).
MAX_DEPTH = 36
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


@functools.lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The schema as a dict (``netdraw/schema/graph-1.schema.json``)."""
    text = resources.files(__package__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")
    return json.loads(text)


@functools.lru_cache(maxsize=1)
def _validator() -> Callable[[Any], Any]:
    try:
        import fastjsonschema
    except ImportError:  # a core dependency; only a broken install lacks it
        raise NetdrawError("validating graph JSON needs fastjsonschema, which is not "
                           "installed: pip install fastjsonschema") from None
    return fastjsonschema.compile(schema())


def json_path(parts: Iterable[Any]) -> str:
    """``["nodes", 3, "outputs", 0]`` -> ``nodes[3].outputs[0]``."""
    out = ""
    for part in parts:
        if isinstance(part, int):
            out += f"[{part}]"
        elif _IDENTIFIER.fullmatch(str(part)):
            out += f".{part}" if out else str(part)
        else:
            out += f"[{json.dumps(str(part), ensure_ascii=False)[:60]}]"
    return out or "(top level)"


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return f"a list of {len(value):,}" if value else "an empty list"
    text = json.dumps(value, ensure_ascii=False) if not isinstance(value, int) or \
        abs(value) < 10 ** 30 else f"a {len(str(abs(value)))}-digit number"
    return text if len(text) <= 40 else text[:39] + "…"


def _locate(data: Any, parts: list[str]) -> tuple[list[Any], Any]:
    """fastjsonschema's path (``["data", "nodes", "3"]``) -> real keys and the value there."""
    keys: list[Any] = []
    value = data
    for part in parts[1:]:
        if isinstance(value, list):
            try:
                index = int(part)
                value = value[index]
            except (ValueError, IndexError):
                break
            keys.append(index)
        elif isinstance(value, dict) and part in value:
            keys.append(part)
            value = value[part]
        else:
            break
    return keys, value


def _message(error: Any, data: Any) -> str:
    keys, instance = _locate(data, list(error.path))
    where = json_path(keys)
    rule, definition = error.rule, error.definition if isinstance(error.definition, dict) \
        else {}
    if rule == "required":
        required = definition.get("required") or []
        missing = next((k for k in required if not isinstance(instance, dict)
                        or k not in instance), "?")
        return f"{where}: missing {json.dumps(missing)}"
    if rule in ("maxItems", "maxProperties"):
        return f"{where}: more than {definition.get(rule, 0):,} items; netdraw reads at most " \
               f"{definition.get(rule, 0):,}"
    if rule == "maxLength":
        return f"{where}: longer than {definition.get(rule, 0):,} characters"
    expected = definition.get("errorMessage")
    if expected:
        return f"{where}: {expected}, not {_shown(instance)}"
    detail = str(error.message).removeprefix("data").lstrip(". ")
    return f"{where}: {' '.join(detail.split())[:160]}"


def _check_numbers_and_depth(data: Any) -> None:
    """Reject non-finite numbers and nesting deeper than :data:`MAX_DEPTH` (iteratively)."""
    stack: list[tuple[Any, tuple, int]] = [(data, (), 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            raise NetdrawError(f"{json_path(path)}: expected a finite number, not {value}")
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise NetdrawError(f"{json_path(path)}: nested deeper than {MAX_DEPTH} levels")
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((v, (*path, k), depth + 1) for k, v in items
                         if isinstance(v, (dict, list, float)))


def validate(data: Any) -> None:
    """Raise NetdrawError naming the first place where ``data`` breaks the schema."""
    _check_numbers_and_depth(data)
    import fastjsonschema

    try:
        _validator()(data)
    except fastjsonschema.JsonSchemaValueException as error:
        raise NetdrawError(_message(error, data)) from None
