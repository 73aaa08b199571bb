"""``.pt2`` archives (``torch.export.save``) read as data: no torch, nothing unpickled.

A ``.pt2`` file is a zip archive. Under its root folder it holds ``archive_format``
(``pt2``), ``models/<name>.json`` (the serialized program: graph, signature, every value's
dtype and shape), ``data/weights/`` and ``data/constants/`` (tensor bytes, or pickles when
their config says ``use_pickle``), ``data/sample_inputs/<name>.pt`` (a pickle) and custom
objects (pickles). ``torch.export.load`` unpickles all of these, and evaluates the
program's symbolic sizes with ``sympy.sympify``: a crafted archive runs code when loaded.

netdraw opens only ``archive_format`` and ``models/<name>.json`` (or an older archive's
``serialized_exported_program.json``) with :mod:`zipfile` and :mod:`json`. The graph, the
module hierarchy, the shapes and the parameter counts all come from that JSON; weights,
constants, sample inputs and custom objects are never read, and symbolic sizes are parsed
as text (:mod:`netdraw.importers.symexpr`). The description goes to the same converter as
an in-memory ``ExportedProgram`` (:mod:`netdraw.importers.torch_program`).
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.importers.symexpr import dim_text
from netdraw.importers.torch_ops import canonical_name
from netdraw.importers.torch_program import OPAQUE, Call, Placeholder, Program, Ref, convert
from netdraw.ir import Graph, TensorSpec

#: The program JSON is read only up to this size (a zip entry may claim any size).
MAX_PROGRAM_BYTES = 512 * 1024 * 1024
_LEGACY_PROGRAM = "serialized_exported_program.json"
#: torch.export's serialized ScalarType numbers -> dtype names (torch/_export/serde/schema.py).
SCALAR_TYPES = {
    1: "uint8", 2: "int8", 3: "int16", 4: "int32", 5: "int64", 6: "float16", 7: "float32",
    8: "float64", 9: "complex32", 10: "complex64", 11: "complex128", 12: "bool",
    13: "bfloat16", 28: "uint16", 29: "float8_e4m3fn", 30: "float8_e5m2",
    31: "float8_e4m3fnuz", 32: "float8_e5m2fnuz", 33: "float8_e8m0fnu", 34: "uint32",
    35: "uint64",
}
_INPUT_KINDS = {"user_input": "user_input", "parameter": "parameter", "buffer": "buffer",
                "tensor_constant": "constant", "custom_obj": "custom_obj", "token": "token",
                "constant_input": "constant"}
_MAX_DIM = 2 ** 63 - 1
_HOW = "write one with torch.export.save(torch.export.export(model, args), 'model.pt2')"


class _Malformed(ValueError):
    """The program JSON does not have the shape torch.export writes."""


def load(source: str | os.PathLike[str], *, name: str | None = None, **_: Any) -> Graph:
    """Draw a ``.pt2`` archive: its program's graph, read without torch."""
    path = Path(source)
    program = read_program(path)
    return convert(program, name or path.stem)


def read_program(path: Path) -> Program:
    """The neutral description of the program saved in the archive at ``path``."""
    data = _program_json(path)
    try:
        program = _describe(data)
    except (_Malformed, KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        raise NetdrawError(f"{path} is not a valid torch.export program ({_detail(exc)}); "
                           + _HOW) from None
    except RecursionError:
        raise NetdrawError(f"{path} is nested too deeply to be a torch.export program") from None
    return program


def _detail(exc: Exception) -> str:
    text = " ".join(str(exc).split())[:120]
    return f"{type(exc).__name__}: {text}" if not isinstance(exc, _Malformed) else text


# -- the archive ------------------------------------------------------------------------


def _program_json(path: Path) -> dict[str, Any]:
    """The program JSON of the archive, parsed; a NetdrawError for anything else."""
    try:
        if not path.is_file():
            raise NetdrawError(f"cannot read {path}: no such file")
        if path.stat().st_size == 0:
            raise NetdrawError(f"{path} is empty; save the model again")
        if not zipfile.is_zipfile(path):
            raise NetdrawError(f"{path} is not a torch.export archive (not a zip file); "
                               + _HOW)
        with zipfile.ZipFile(path) as archive:
            entry = _program_entry(path, archive)
            raw = _read_limited(archive, entry)
    except NetdrawError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError,
            NotImplementedError, RuntimeError) as exc:
        raise NetdrawError(f"{path} is a damaged zip archive ({_detail(exc)}); save the "
                           "model again") from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise NetdrawError(f"{path}: the program {entry.filename} is not valid JSON "
                           f"({_detail(exc)}); save the model again") from None
    except RecursionError:
        raise NetdrawError(f"{path}: the program {entry.filename} is nested too deeply"
                           ) from None
    if not isinstance(data, dict):
        raise NetdrawError(f"{path}: the program {entry.filename} is not a JSON object; "
                           + _HOW)
    return data


def _program_entry(path: Path, archive: zipfile.ZipFile) -> zipfile.ZipInfo:
    """The zip entry holding the program: ``<root>/models/model.json`` (or the only model)."""
    infos = archive.infolist()
    by_name = {info.filename: info for info in infos}
    if _LEGACY_PROGRAM in by_name:
        return by_name[_LEGACY_PROGRAM]
    roots = sorted({n.split("/", 1)[0] for n in by_name if "/" in n})
    for root in roots:
        marker = by_name.get(f"{root}/archive_format")
        if marker is None or _read_limited(archive, marker, 64).strip() != b"pt2":
            continue
        models = sorted(n for n in by_name
                        if n.startswith(f"{root}/models/") and n.endswith(".json")
                        and "/" not in n[len(f"{root}/models/"):])
        if not models:
            if any(n.startswith(f"{root}/data/aotinductor/") for n in by_name):
                raise NetdrawError(f"{path} is an AOTInductor package: compiled code without "
                                   "the program's graph; " + _HOW)
            raise NetdrawError(f"{path} holds no exported program (no models/*.json); "
                               + _HOW)
        main = f"{root}/models/model.json"
        return by_name[main if main in by_name else models[0]]
    if any(n.endswith("/data.pkl") or n.endswith("/constants.pkl") for n in by_name):
        raise NetdrawError(f"{path} is a torch.save or TorchScript file, not a torch.export "
                           "archive; " + _HOW)
    raise NetdrawError(f"{path} is not a torch.export archive (no archive_format 'pt2'); "
                       + _HOW)


def _read_limited(archive: zipfile.ZipFile, info: zipfile.ZipInfo,
                  limit: int | None = None) -> bytes:
    """The entry's bytes, refusing more than ``limit`` (default :data:`MAX_PROGRAM_BYTES`)."""
    limit = MAX_PROGRAM_BYTES if limit is None else limit
    if info.file_size > limit:
        raise NetdrawError(f"{info.filename} is {info.file_size:,} bytes; netdraw reads "
                           f"programs of up to {limit:,} bytes")
    with archive.open(info) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise NetdrawError(f"{info.filename} unpacks to more than {limit:,} bytes")
    return data


# -- the program JSON --------------------------------------------------------------------


def _dict(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise _Malformed(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        raise _Malformed(f"{where} is not a list")
    return value


def _union(value: Any, where: str) -> tuple[str, Any]:
    """A serialized union ``{"as_tensor": {...}}`` -> (``"as_tensor"``, payload)."""
    value = _dict(value, where)
    if len(value) != 1:
        raise _Malformed(f"{where} is not a single-key union")
    ((key, payload),) = value.items()
    return str(key), payload


def _name(value: Any, where: str) -> str:
    name = _dict(value, where).get("name")
    if not isinstance(name, str):
        raise _Malformed(f"{where} has no name")
    return name


def _size(value: Any, where: str) -> int | str | None:
    """A serialized SymInt size -> an int, or the symbolic dim's text."""
    key, payload = _union(value, where)
    if key == "as_int":
        if not isinstance(payload, int) or isinstance(payload, bool) \
                or not 0 <= payload <= _MAX_DIM:
            raise _Malformed(f"{where} is not a size")
        return payload
    if key == "as_expr":
        return dim_text(_dict(payload, where).get("expr_str"))
    raise _Malformed(f"{where} is not a size")


def _tensor_spec(meta: Any, where: str) -> TensorSpec:
    meta = _dict(meta, where)
    sizes = _list(meta.get("sizes"), f"{where}.sizes")
    shape = tuple(_size(s, f"{where}.sizes[{i}]") for i, s in enumerate(sizes))
    dtype = meta.get("dtype")
    return TensorSpec(shape, SCALAR_TYPES.get(dtype) if isinstance(dtype, int) else None)


def _argument(arg: Any, where: str) -> Any:
    """A serialized Argument -> a plain value, a :class:`Ref`, or OPAQUE."""
    key, value = _union(arg, where)
    if key in ("as_none",):
        return None
    if key == "as_tensor":
        return Ref(_name(value, where))
    if key == "as_tensors":
        return [Ref(_name(v, where)) for v in _list(value, where)]
    if key in ("as_int", "as_float", "as_bool", "as_string"):
        if not isinstance(value, (int, float, str)):
            raise _Malformed(f"{where} is not a {key[3:]}")
        return value
    if key in ("as_ints", "as_floats", "as_bools", "as_strings"):
        items = _list(value, where)
        if not all(isinstance(v, (int, float, str)) for v in items):
            raise _Malformed(f"{where} is not a list of {key[3:]}")
        return list(items)
    if key in ("as_sym_int", "as_sym_float", "as_sym_bool"):
        return _sym(value, where)
    if key in ("as_sym_ints", "as_sym_floats", "as_sym_bools"):
        return [_sym(v, where) for v in _list(value, where)]
    if key == "as_scalar_type":
        return SCALAR_TYPES.get(value, OPAQUE) if isinstance(value, int) else OPAQUE
    if key == "as_optional_tensors":
        return [_optional_tensor(v, where) for v in _list(value, where)]
    if key == "as_optional_tensor":
        return _optional_tensor(value, where)
    if key == "as_nested_tensors":
        return [[Ref(_name(t, where)) for t in _list(v, where)] for v in _list(value, where)]
    if key in ("as_int_lists", "as_float_lists"):
        return [list(_list(v, where)) for v in _list(value, where)]
    return OPAQUE  # devices, layouts, memory formats, subgraphs, custom objects, operators


def _sym(value: Any, where: str) -> Any:
    key, payload = _union(value, where)
    if key == "as_name":
        if not isinstance(payload, str):
            raise _Malformed(f"{where} is not a name")
        return Ref(payload)
    return payload if isinstance(payload, (int, float, bool)) else OPAQUE


def _optional_tensor(value: Any, where: str) -> Ref | None:
    key, payload = _union(value, where)
    return Ref(_name(payload, where)) if key == "as_tensor" else None


def _output_names(outputs: Any, where: str) -> tuple[str, ...]:
    """The value names a node produces, one per result (list results flattened)."""
    names: list[str] = []
    for i, out in enumerate(_list(outputs, where)):
        key, value = _union(out, f"{where}[{i}]")
        if key == "as_tensor":
            names.append(_name(value, where))
        elif key == "as_tensors":
            names += [_name(v, where) for v in _list(value, where)]
        elif key in ("as_sym_int", "as_sym_float", "as_sym_bool"):
            ref = _sym(value, where)
            if isinstance(ref, Ref):
                names.append(ref.name)
        elif key == "as_optional_tensors":
            names += [r.name for r in (_optional_tensor(v, where) for v in _list(value, where))
                      if r is not None]
    return tuple(names)


def _op_name(target: Any) -> str:
    """``torch.ops.aten.conv2d.default`` -> ``conv2d``; ``_operator.add`` -> ``add``."""
    if not isinstance(target, str) or not target:
        raise _Malformed("a node has no target")
    if target.startswith("torch.ops."):
        parts = target[len("torch.ops."):].split(".")
        name = parts[1] if len(parts) > 1 else parts[0]
    else:
        name = target.rsplit(".", 1)[-1]
    return canonical_name(name)


def _split_entry(entry: str) -> list[str]:
    """``key,path,type`` split at commas outside brackets (as torch's reader does)."""
    out, start, depth = [], 0, 0
    for i, ch in enumerate(entry):
        if ch in "[(":
            depth += 1
        elif ch in ")]":
            depth -= 1
        elif ch == "," and depth == 0:
            out.append(entry[start:i])
            start = i + 1
    out.append(entry[start:])
    return out


def _stack(metadata: Any) -> tuple[tuple[str, str, str], ...]:
    text = metadata.get("nn_module_stack") if isinstance(metadata, dict) else None
    if not isinstance(text, str) or not text:
        return ()
    stack = []
    for entry in text.split(";"):
        parts = _split_entry(entry)
        if len(parts) == 3:
            stack.append((parts[0], parts[1], parts[2]))
    return tuple(stack)


def _describe(data: dict[str, Any]) -> Program:
    module = _dict(data.get("graph_module"), "graph_module")
    graph = _dict(module.get("graph"), "graph_module.graph")
    signature = _dict(module.get("signature"), "graph_module.signature")
    values: dict[str, TensorSpec | None] = {}
    tensor_values = _dict(graph.get("tensor_values", {}), "graph.tensor_values")
    for value_name, meta in tensor_values.items():
        values[str(value_name)] = _tensor_spec(meta, f"tensor_values[{value_name!r}]")

    placeholders = []
    for i, spec in enumerate(_list(signature.get("input_specs"), "signature.input_specs")):
        where = f"signature.input_specs[{i}]"
        key, body = _union(spec, where)
        body = _dict(body, where)
        arg = body.get("arg")
        if key == "user_input":
            arg_key, arg_value = _union(arg, where)
            if arg_key != "as_tensor":
                continue  # an int, None or SymInt input: not drawn
            value_name = _name(arg_value, where)
        elif key == "constant_input":
            continue
        else:
            value_name = _name(arg, where)
        target = body.get("parameter_name") or body.get("buffer_name") or \
            body.get("tensor_constant_name") or body.get("custom_obj_name") or ""
        placeholders.append(Placeholder(value_name, _INPUT_KINDS.get(key, key), str(target)))

    calls = []
    seen: set[str] = set()
    for i, node in enumerate(_list(graph.get("nodes"), "graph.nodes")):
        where = f"graph.nodes[{i}]"
        node = _dict(node, where)
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        for j, named in enumerate(_list(node.get("inputs"), f"{where}.inputs")):
            named = _dict(named, f"{where}.inputs[{j}]")
            value = _argument(named.get("arg"), f"{where}.inputs[{j}]")
            arg_name = named.get("name")
            if named.get("kind") == 2 and isinstance(arg_name, str):
                kwargs[arg_name] = value
            else:
                args.append(value)
        outputs = _output_names(node.get("outputs"), f"{where}.outputs")
        call_name = node.get("name")
        call_name = call_name if isinstance(call_name, str) and call_name else \
            (outputs[0] if outputs else f"node{i}")
        if call_name in seen:
            call_name = f"{call_name}#{i}"
        seen.add(call_name)
        calls.append(Call(call_name, _op_name(node.get("target")), tuple(args), kwargs,
                          outputs, _stack(node.get("metadata"))))
    for call in calls:
        for out in call.outputs:
            values.setdefault(out, None)

    results = _list(graph.get("outputs"), "graph.outputs")
    output_specs = _list(signature.get("output_specs"), "signature.output_specs")
    outputs = []
    for i, (result, spec) in enumerate(zip(results, output_specs, strict=False)):
        kind, _ = _union(spec, f"signature.output_specs[{i}]")
        value = _argument(result, f"graph.outputs[{i}]")
        outputs.append((value, kind))
    version = data.get("torch_version")
    meta = {"torch_version": version.split("+")[0]} if isinstance(version, str) and \
        0 < len(version) <= 64 else {}
    return Program(placeholders, calls, outputs, values, meta)
