"""Hypothesis strategies that damage real model files: bytes, JSON, ONNX protobufs, zips.

Each strategy takes a genuine file (bytes or a parsed document) and draws a damaged copy:
bit flips, truncation, deleted/inserted/duplicated chunks; for JSON, replaced, deleted,
swapped, retyped and duplicated values anywhere in the document; for ONNX, field-level
edits of the protobuf (op types, inputs, attributes, dims, initializers, opsets, domains);
for zip archives, a damaged member.
"""

from __future__ import annotations

import copy
import io
import json
import zipfile
from typing import Any

from fuzz_strategies import NASTY, json_values, names
from hypothesis import strategies as st


@st.composite
def damaged_bytes(draw, data: bytes) -> bytes:
    """``data`` with 1–4 byte-level edits."""
    buf = bytearray(data)
    for op in draw(st.lists(st.sampled_from(["flip", "flip", "truncate", "delete", "insert",
                                              "duplicate", "zero"]), min_size=1, max_size=4)):
        if not buf:
            break
        at = draw(st.integers(0, len(buf) - 1))
        if op == "flip":
            buf[at] ^= 1 << draw(st.integers(0, 7))
        elif op == "truncate":
            del buf[at:]
        elif op == "delete":
            del buf[at:at + draw(st.integers(1, 64))]
        elif op == "insert":
            buf[at:at] = draw(st.binary(min_size=1, max_size=16))
        elif op == "duplicate":
            size = draw(st.integers(1, 256))
            buf[at:at] = buf[at:at + size]
        else:
            buf[at:at + draw(st.integers(1, 8))] = bytes(draw(st.integers(1, 8)))
    return bytes(buf)


def _paths(doc: Any, prefix: tuple = (), limit: int = 20000) -> list[tuple]:
    """Every path to a value inside ``doc`` (root excluded), breadth first, at most ``limit``."""
    out: list[tuple] = []
    queue = [(doc, prefix)]
    while queue and len(out) < limit:
        value, path = queue.pop(0)
        items = value.items() if isinstance(value, dict) else \
            enumerate(value) if isinstance(value, list) else ()
        for key, child in items:
            out.append((*path, key))
            queue.append((child, (*path, key)))
    return out


def _get(doc: Any, path: tuple) -> Any:
    for key in path:
        doc = doc[key]
    return doc


@st.composite
def damaged_json(draw, doc: Any) -> Any:
    """A deep copy of ``doc`` with 1–4 edits at random places."""
    doc = copy.deepcopy(doc)
    for _ in range(draw(st.integers(1, 4))):
        paths = _paths(doc)
        if not paths:
            return draw(json_values())
        path = draw(st.sampled_from(paths))
        parent, key = _get(doc, path[:-1]), path[-1]
        op = draw(st.sampled_from(["replace", "delete", "swap", "retype", "duplicate",
                                   "nasty"]))
        value = parent[key]
        if op == "replace":
            parent[key] = draw(json_values())
        elif op == "delete":
            del parent[key]
        elif op == "swap":
            other = draw(st.sampled_from(paths))
            try:
                other_parent = _get(doc, other[:-1])
                parent[key], other_parent[other[-1]] = other_parent[other[-1]], value
            except (KeyError, IndexError, TypeError):
                pass
        elif op == "retype":
            parent[key] = draw(st.sampled_from(
                [str(value), [value], {"x": value}, None, True, -1, 2 ** 64, 1.5, ""]))
        elif op == "duplicate" and isinstance(parent, list):
            parent.insert(key, copy.deepcopy(value))
        else:
            parent[key] = draw(st.sampled_from(NASTY))
    return doc


def json_bytes(doc: Any) -> bytes:
    return json.dumps(doc, ensure_ascii=False).encode("utf-8", "surrogatepass")


@st.composite
def damaged_zip(draw, data: bytes, member_suffix: str, mutate_json: bool = True) -> bytes:
    """The zip archive ``data`` with the member ending in ``member_suffix`` damaged (as JSON
    or as bytes), rewritten; or the archive's own bytes damaged."""
    if draw(st.integers(0, 3)) == 0:
        return draw(damaged_bytes(data))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        entries = {info.filename: archive.read(info.filename) for info in archive.infolist()}
    name = next(n for n in entries if n.endswith(member_suffix))
    if mutate_json and draw(st.integers(0, 3)) > 0:
        entries[name] = json_bytes(draw(damaged_json(json.loads(entries[name]))))
    else:
        entries[name] = draw(damaged_bytes(entries[name]))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as archive:
        for entry, payload in entries.items():
            archive.writestr(entry, payload)
    return out.getvalue()


def _proto_text(text: str) -> str:
    """Protobuf strings must be valid UTF-8: lone surrogates dropped."""
    return "".join(c for c in text if not 0xD800 <= ord(c) <= 0xDFFF)


@st.composite
def damaged_onnx(draw, data: bytes) -> bytes:
    """Field-level edits of an ONNX model (the protobuf stays parseable), or byte damage."""
    import onnx
    from onnx import AttributeProto, helper

    if draw(st.integers(0, 3)) == 0:
        return draw(damaged_bytes(data))
    model = onnx.ModelProto()
    model.ParseFromString(data)
    graph = model.graph
    for _ in range(draw(st.integers(1, 3))):
        nodes = graph.node
        op = draw(st.sampled_from(["op_type", "inputs", "swap_inputs", "attribute", "dim",
                                   "initializer", "opset", "domain", "duplicate", "outputs",
                                   "remove_node", "metadata", "function"]))
        node = nodes[draw(st.integers(0, len(nodes) - 1))] if nodes else None
        if op == "op_type" and node is not None:
            node.op_type = draw(st.one_of(st.sampled_from(
                ["Conv", "Gemm", "Concat", "If", "Loop", "Scan", "Reshape", "MaxPool",
                 "Split", "Add", "Identity", "Constant", "LSTM", "Attention", "Foo", ""]),
                names(8).map(_proto_text)))
        elif op == "inputs" and node is not None:
            all_names = [n for x in nodes for n in x.output] + ["", "nowhere"]
            node.input.append(draw(st.sampled_from(all_names)))
        elif op == "swap_inputs" and len(nodes) > 1:
            other = nodes[draw(st.integers(0, len(nodes) - 1))]
            a, b = list(node.input), list(other.input)
            del node.input[:], other.input[:]
            node.input.extend(b)
            other.input.extend(a)
        elif op == "attribute" and node is not None:
            name = draw(st.sampled_from(["kernel_shape", "strides", "pads", "axis", "group",
                                         "then_branch", "body", "perm", "dilations",
                                         "num_outputs", "split"]))
            kind = draw(st.sampled_from(["ints", "int", "string", "float", "graph", "huge"]))
            if kind == "ints":
                attr = helper.make_attribute(name, draw(st.lists(st.integers(-3, 99),
                                                                 min_size=1, max_size=5)))
            elif kind == "int":
                attr = helper.make_attribute(name, draw(st.integers(-2 ** 40, 2 ** 40)))
            elif kind == "string":
                attr = helper.make_attribute(name, draw(st.sampled_from(NASTY)).encode(
                    "utf-8", "surrogatepass"))
            elif kind == "float":
                attr = helper.make_attribute(name, draw(st.floats(allow_nan=True)))
            elif kind == "graph":
                attr = AttributeProto(name=name, type=AttributeProto.GRAPH)
                attr.g.CopyFrom(graph)
            else:
                attr = helper.make_attribute(name, [2 ** 62] * 3)
            del node.attribute[:]
            node.attribute.append(attr)
        elif op == "dim":
            values = list(graph.input) + list(graph.output) + list(graph.value_info)
            if values:
                shape = values[draw(st.integers(0, len(values) - 1))].type.tensor_type.shape
                if shape.dim:
                    dim = shape.dim[draw(st.integers(0, len(shape.dim) - 1))]
                    if draw(st.booleans()):
                        dim.dim_value = draw(st.sampled_from([0, -1, 2 ** 62, 7, 10 ** 12]))
                    else:
                        dim.dim_param = _proto_text(draw(st.sampled_from(NASTY)))
                elif draw(st.booleans()):
                    shape.dim.add().dim_value = 3
        elif op == "initializer" and graph.initializer:
            init = graph.initializer[draw(st.integers(0, len(graph.initializer) - 1))]
            action = draw(st.sampled_from(["remove", "huge", "rename", "dtype"]))
            if action == "remove":
                graph.initializer.remove(init)
            elif action == "huge":
                del init.dims[:]
                init.dims.extend([2 ** 40, 2 ** 40])
            elif action == "rename":
                init.name = draw(st.sampled_from([n for x in nodes for n in x.output] or ["x"]))
            else:
                init.data_type = draw(st.integers(0, 40))
        elif op == "opset":
            for opset in model.opset_import:
                opset.version = draw(st.sampled_from([1, 7, 13, 17, 99999, -1]))
        elif op == "domain" and node is not None:
            node.domain = draw(st.sampled_from(["com.microsoft", "ai.onnx.ml", "local",
                                                "pkg.torch", "<x>"]))
        elif op == "duplicate" and node is not None:
            graph.node.append(copy.deepcopy(node))
        elif op == "outputs":
            del graph.output[:draw(st.integers(0, len(graph.output)))]
        elif op == "remove_node" and node is not None:
            graph.node.remove(node)
        elif op == "metadata" and node is not None:
            entry = node.metadata_props.add()
            entry.key = draw(st.sampled_from(["pkg.torch.onnx.name_scopes",
                                              "pkg.torch.onnx.class_hierarchy",
                                              "netdraw.group", "namespace"]))
            entry.value = draw(st.sampled_from(
                ["['', 'a', 'b']", "5", "[[", "['a', 3]", "{'a': 1}", "None", "[1, 2, 3]",
                 "['x\\x1fY']", "[" * 50 + "]" * 50, "__import__('os')", "'a'", ""]))
        elif op == "function" and model.functions:
            # a local function calling itself (or another one) from inside its own body
            fn = model.functions[draw(st.integers(0, len(model.functions) - 1))]
            if fn.node:
                inner = fn.node[draw(st.integers(0, len(fn.node) - 1))]
                target = model.functions[draw(st.integers(0, len(model.functions) - 1))]
                inner.op_type, inner.domain = target.name, target.domain
                for _ in range(draw(st.integers(0, 2))):
                    fn.node.append(copy.deepcopy(inner))
    return model.SerializeToString()
