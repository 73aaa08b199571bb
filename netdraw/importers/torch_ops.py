"""What a torch op's arguments say about the layer, without importing torch.

Shared by the live tracer (:mod:`netdraw.importers.torch_trace`) and the torch.export
converter (:mod:`netdraw.importers.torch_program`), which also reads ``.pt2`` archives with
no torch installed. Tensors appear here as :class:`~netdraw.ir.TensorSpec` (shape and
dtype); the live tracer turns its tensors into specs before asking.

>>> from netdraw.ir import TensorSpec
>>> weight = TensorSpec((16, 3, 5, 5), "float32")
>>> function_attrs("conv2d", "conv", (TensorSpec((1, 3, 32, 32)), weight), {"stride": 2}, {})
{'stride': [2, 2], 'out_channels': 16, 'in_channels': 3, 'kernel_size': [5, 5]}
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from netdraw import ops
from netdraw.ir import TensorSpec

#: torch.nn classes that are drawn as one node although they have submodules.
ATOMIC_MODULES = frozenset({"MultiheadAttention"})
#: Module and function arguments that say nothing about the architecture.
NOISE_ATTRS = frozenset({"training", "inplace", "transposed", "batch_first", "dump_patches",
                         "call_super_init", "cudnn_enabled"})
SPATIAL_ATTRS = ("kernel_size", "stride", "padding", "dilation")


def canonical_name(name: str) -> str:
    """``__radd__``, ``add_`` and ``_add`` -> ``add``; aliases from :data:`ops.TORCH_ALIASES`."""
    if name.startswith("__") and name.endswith("__"):
        name = name[2:-2]
    elif name.endswith("_") and not name.startswith("_"):
        name = name[:-1]  # in-place variant
    name = name.lstrip("_") or "op"
    return ops.TORCH_ALIASES.get(name, name)


def plain(value: Any) -> Any:
    """A JSON-friendly attribute value, or None when it is not worth keeping."""
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    if isinstance(value, (tuple, list)) and len(value) <= 8:
        items = [plain(v) for v in value]
        if all(isinstance(v, (int, float, str, bool)) for v in items):
            return items
    return None


def expand_spatial(attrs: dict[str, Any], ndim: int) -> None:
    """Ints for kernel/stride/padding/dilation become per-dimension lists ([3, 3])."""
    if ndim <= 0:
        return
    for key in SPATIAL_ATTRS:
        if isinstance(attrs.get(key), int) and not isinstance(attrs[key], bool):
            attrs[key] = [attrs[key]] * ndim


def iter_specs(obj: Any) -> Iterator[TensorSpec]:
    """Every tensor spec inside nested tuples, lists and dicts, in order."""
    if isinstance(obj, TensorSpec):
        yield obj
    elif isinstance(obj, (tuple, list)):
        for item in obj:
            yield from iter_specs(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from iter_specs(item)


def _rank(spec: TensorSpec | None) -> int:
    return len(spec.shape) if spec is not None and spec.shape is not None else -1


def _is_float(spec: TensorSpec) -> bool:
    return "float" in (spec.dtype or "")


def function_attrs(name: str, kind: str, args: tuple | list, kwargs: dict,
                   renames: dict[str, str]) -> dict[str, Any]:
    """Hyper-parameters of a functional op, from its arguments (and weight shapes).

    ``args`` and ``kwargs`` hold plain values and :class:`TensorSpec` for tensors.
    """
    bound: dict[str, Any] = {}
    names = ops.TORCH_SIGNATURES.get(name, ())
    for i, value in enumerate(args):
        if i < len(names):
            bound[names[i]] = value
    gathered = ops.TORCH_VARARGS.get(name)
    if gathered is not None and len(args) > 2:
        bound[gathered] = list(args[1:])
    bound.update(kwargs)
    attrs: dict[str, Any] = {}
    for key, value in bound.items():
        if isinstance(value, TensorSpec) or key.startswith("_") or key in NOISE_ATTRS \
                or key in ("input", "self", "tensors"):
            continue
        value = plain(value)
        if value is not None:
            attrs[renames.get(key, key)] = value
    first = next(iter_specs(args), None)
    weight = bound.get("weight")
    weight_shape = list(weight.shape) if isinstance(weight, TensorSpec) and weight.shape \
        is not None else None
    if kind == "activation":
        attrs["activation"] = name
    elif kind in ("conv", "conv_transpose") and weight_shape is not None and \
            len(weight_shape) >= 2:
        groups = attrs.get("groups", 1)
        groups = groups if isinstance(groups, int) and groups > 0 else 1
        w = weight_shape
        if kind == "conv":
            attrs.update(out_channels=w[0], in_channels=_times(w[1], groups))
        else:
            attrs.update(in_channels=w[0], out_channels=_times(w[1], groups))
        attrs["kernel_size"] = w[2:]
        expand_spatial(attrs, len(w) - 2)
    elif kind == "dense" and weight_shape is not None and len(weight_shape) == 2:
        attrs.update(units=weight_shape[0], in_features=weight_shape[1])
    elif kind == "dense" and name == "addmm" and _rank(bound.get("mat2")) == 2:
        # addmm(bias, x, w) computes x @ w: w is (in, out), the other way round from linear
        # (transformers' Conv1D).
        attrs.update(in_features=bound["mat2"].shape[0], units=bound["mat2"].shape[1])
    elif kind == "matmul":
        contraction = _contraction(name, args, bound)
        if contraction is not None:
            attrs["contraction"] = contraction
    elif kind == "pool" and first is not None:
        if "output_size" in attrs:
            size = attrs["output_size"]
            if all(s == 1 for s in (size if isinstance(size, list) else [size])):
                attrs["global"] = True
        expand_spatial(attrs, _rank(first) - 2)
    elif kind == "norm" and first is not None:
        shape = attrs.get("normalized_shape")
        if isinstance(shape, list) and shape:
            attrs["num_features"] = shape[-1]
        elif _rank(first) >= 2 and first.shape[1] is not None:  # type: ignore[index]
            attrs["num_features"] = first.shape[1]  # type: ignore[index]
    elif kind == "embedding":
        table = next((t for t in iter_specs(args) if _is_float(t) and _rank(t) == 2), None)
        if table is not None:
            attrs.update(num_embeddings=table.shape[0],  # type: ignore[index]
                         embedding_dim=table.shape[1])  # type: ignore[index]
    elif kind == "attention" and name == "multi_head_attention_forward":
        attrs["batch_first"] = False  # F.multi_head_attention_forward takes (L, N, E)
    elif kind == "attention" and _rank(first) == 4:
        heads, width = first.shape[1], first.shape[3]  # type: ignore[union-attr,index]
        attrs["num_heads"] = heads
        if isinstance(heads, int) and isinstance(width, int):
            attrs["embed_dim"] = heads * width
    return attrs


#: Matmul-like ops -> the argument whose last axis is contracted.
_CONTRACTED_OPERAND = {"matmul": 0, "mm": 0, "bmm": 0, "grouped_mm": 0, "baddbmm": 1,
                       "addbmm": 1}


def _contraction(name: str, args: tuple | list, bound: dict[str, Any]) -> int | None:
    """The size a matmul-like op sums over for each output element (its MACs are the output
    elements times this), read from all its operands, weights included: the recorded
    inputs hold only the tensors that flow in, so they cannot tell which one comes first."""
    if name == "einsum":
        operands = list(iter_specs(args[1:]))
        equation = bound.get("equation")
        return _einsum_contraction(equation, operands) if isinstance(equation, str) else None
    index = _CONTRACTED_OPERAND.get(name)
    tensors = [a for a in args if isinstance(a, TensorSpec)]
    if index is None or len(tensors) <= index or not tensors[index].shape:
        return None
    last = tensors[index].shape[-1]
    return last if isinstance(last, int) else None


def _einsum_contraction(equation: str, operands: list[TensorSpec]) -> int | None:
    """Of a two-operand einsum: the product of the indices both operands share and the
    output drops (an index only one operand has is summed before multiplying, as torch
    does); 0 when nothing is contracted (an elementwise or outer product, like ``mul``) and
    for one operand (a transpose, trace or sum).

    >>> q, k = TensorSpec((2, 4, 16, 8)), TensorSpec((2, 4, 16, 8))
    >>> _einsum_contraction("bhid,bhjd->bhij", [q, k]), _einsum_contraction("ij->ji", [q])
    (8, 0)
    """
    text = equation.replace(" ", "")
    lhs, arrow, rhs = text.partition("->")
    terms = lhs.split(",")
    if len(terms) == 1 and len(operands) == 1:
        return 0
    if len(terms) != 2 or len(operands) != 2 or "." in text:
        return None
    if not arrow:  # implicit output: the indices that appear once, in order
        rhs = "".join(sorted(c for c in set(lhs) if c.isalpha() and lhs.count(c) == 1))
    sizes: dict[str, Any] = {}
    for term, spec in zip(terms, operands, strict=True):
        if spec.shape is None or len(spec.shape) != len(term):
            return None
        for letter, dim in zip(term, spec.shape, strict=True):
            if sizes.get(letter, 1) == 1:  # a broadcast 1 takes the other operand's size
                sizes[letter] = dim
    shared = (set(terms[0]) & set(terms[1])) - set(rhs)
    if not shared:
        return 0  # an elementwise or outer product: multiplies, but accumulates nothing
    dims = [sizes[c] for c in sorted(shared)]
    return math.prod(dims) if all(isinstance(d, int) for d in dims) else None


def _times(dim: Any, groups: int) -> Any:
    """A weight dim times the group count; a symbolic or unknown dim stays as it is."""
    return dim * groups if isinstance(dim, int) else dim
