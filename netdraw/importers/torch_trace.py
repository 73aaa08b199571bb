"""Trace a live ``nn.Module`` into a Graph by running one forward pass.

Only public torch APIs are used: forward pre-hooks and hooks on every submodule give the
module hierarchy and the leaf-module calls; a ``TorchFunctionMode`` sees every torch
function and tensor method called *between* modules (``+``, ``torch.cat``, ``view``,
``F.relu``…). Tensors are followed by identity (``id`` plus a weak reference, so a reused
``id`` is never mistaken for an old tensor), which gives the edges and their real shapes.

A *leaf* is a module from ``torch.nn`` with no submodules (``Conv2d``, ``BatchNorm2d``…) or
one drawn as a unit (``MultiheadAttention``): it becomes one node and the ops inside it are
not recorded. Every other module (the user's own, ``Sequential``…) becomes a group.

An *observer* (``trace(..., observer=f)``) sees every node's output tensors in the same
forward pass, the moment the node is recorded: ``f(node_id, tensors)``. It can copy them
(activations, before a later in-place op overwrites them) or keep them for gradients, and
may return replacement tensors that the rest of the forward uses instead (a module or op with
a single tensor output); :mod:`netdraw.viz` captures activations and CAM gradients this way,
so their node ids are exactly those of ``netdraw.load``.
"""

from __future__ import annotations

import inspect
import weakref
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from netdraw import ops
from netdraw.errors import NetdrawError
from netdraw.importers.calls import call_element, mark_calls
from netdraw.importers.torch_ops import (
    ATOMIC_MODULES,
    NOISE_ATTRS,
    canonical_name,
    expand_spatial,
    function_attrs,
    plain,
)
from netdraw.ir import Graph, Node, TensorSpec, UniqueIds

#: torch.nn classes that only hold other modules: never a leaf, never a kind.
_CONTAINERS = frozenset({"Module", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
                         "ParameterDict", "Container"})
#: Kinds whose parameter operands are data flowing in (a position embedding added, a class
#: token concatenated), not weights of the op: such a parameter becomes a source node.
_DATA_KINDS = frozenset({"add", "concat", "reshape", "transpose", "slice", "pad", "flatten",
                         "elementwise", "upsample", "reduce"})

_DTYPE_NAMES: dict[torch.dtype, str] = {}

#: ``observer(node_id, outputs) -> replacements or None``, see the module docstring.
Observer = Callable[[str, list[torch.Tensor]], "list[torch.Tensor] | None"]


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"``."""
    name = _DTYPE_NAMES.get(dtype)
    if name is None:
        name = _DTYPE_NAMES[dtype] = str(dtype).removeprefix("torch.")
    return name


def dim_value(d: Any) -> int | str:
    """A concrete dim as int; a symbolic one (``SymInt`` from torch.export) as its text."""
    return d if isinstance(d, int) else str(d)


def spec_of(t: torch.Tensor) -> TensorSpec:
    return TensorSpec(tuple(d if type(d) is int else dim_value(d) for d in t.shape),
                      dtype_name(t.dtype))


def as_specs(obj: Any) -> Any:
    """Arguments with tensors as TensorSpec, dtypes as names and SymInts as text (the form
    :func:`~netdraw.importers.torch_ops.function_attrs` reads)."""
    if isinstance(obj, torch.Tensor):
        return spec_of(obj)
    if isinstance(obj, torch.dtype):
        return dtype_name(obj)
    if isinstance(obj, torch.SymInt):
        return dim_value(obj)
    if isinstance(obj, (tuple, list)):
        return [as_specs(v) for v in obj] if isinstance(obj, list) else \
            tuple(as_specs(v) for v in obj)
    if isinstance(obj, dict):
        return {k: as_specs(v) for k, v in obj.items()}
    return obj


def iter_tensors(obj: Any) -> Iterator[torch.Tensor]:
    """Every tensor inside a pytree of tuples, lists and dicts, in order."""
    if isinstance(obj, torch.Tensor):
        yield obj
    elif isinstance(obj, (tuple, list)) and not isinstance(obj, torch.Size):
        for item in obj:
            yield from iter_tensors(item)
    elif isinstance(obj, dict):
        for item in obj.values():
            yield from iter_tensors(item)


def iter_leaves(obj: Any, path: str) -> Iterator[tuple[str, torch.Tensor]]:
    """(path, tensor) for every tensor in a pytree: ``x``, ``x[0]``, ``x['mask']``."""
    if isinstance(obj, torch.Tensor):
        yield path, obj
    elif isinstance(obj, (tuple, list)) and not isinstance(obj, torch.Size):
        fields = getattr(obj, "_fields", None)  # namedtuple: name the field
        for i, item in enumerate(obj):
            yield from iter_leaves(item, f"{path}.{fields[i]}" if fields else f"{path}[{i}]")
    elif isinstance(obj, dict):
        for key, item in obj.items():
            yield from iter_leaves(item, f"{path}[{key!r}]")


def torch_class(module: nn.Module) -> type | None:
    """The first ``torch.nn`` class in the module's MRO that is not a container."""
    for cls in type(module).__mro__:
        if cls.__module__.startswith("torch.nn.") and cls.__name__ not in _CONTAINERS:
            return cls
    return None


def is_leaf(module: nn.Module) -> bool:
    cls = torch_class(module)
    if cls is None:
        return False
    return cls.__name__ in ATOMIC_MODULES or next(iter(module.children()), None) is None


def op_name(func: Any) -> str:
    """The canonical name of a torch function or tensor method (``__iadd__`` -> ``add``)."""
    name = getattr(func, "__name__", "") or type(func).__name__
    if name == "__get__":  # a tensor property (x.T, x.data)
        name = getattr(getattr(func, "__self__", None), "__name__", "get")
    return canonical_name(name)


def module_attrs(module: nn.Module, kind: str, cls_name: str,
                 renames: dict[str, str]) -> dict[str, Any]:
    """A leaf module's public hyper-parameters under the IR's attribute names."""
    attrs: dict[str, Any] = {}
    for key, value in vars(module).items():
        if key.startswith("_") or key in NOISE_ATTRS:
            continue
        value = plain(dtype_name(value) if isinstance(value, torch.dtype) else value)
        if value is not None:
            attrs[renames.get(key, key)] = value
    if kind in ("conv", "conv_transpose", "pool"):
        digits = [c for c in cls_name if c.isdigit()]
        expand_spatial(attrs, int(digits[-1]) if digits else 0)
    if kind == "pool" and "output_size" in attrs:
        size = attrs["output_size"]
        sizes = size if isinstance(size, list) else [size]
        if sizes and all(s == 1 for s in sizes):
            attrs["global"] = True
    if kind == "norm" and "num_features" not in attrs:
        shape = attrs.get("normalized_shape")
        if isinstance(shape, list) and shape:
            attrs["num_features"] = shape[-1]
    if kind == "activation":
        attrs["activation"] = ops.TORCH_ACTIVATIONS.get(cls_name, cls_name.lower())
    if kind == "attention" and isinstance(getattr(module, "batch_first", None), bool):
        attrs["batch_first"] = module.batch_first  # its inputs' layout: (L, N, E) if not
    return attrs


@dataclass
class _Frame:
    """A module call in progress; ``element`` is its group path element (the qualified
    name, ``encoder#2`` for a module's second call)."""

    qualname: str
    module: nn.Module
    leaf: bool
    inputs: list[torch.Tensor] = field(default_factory=list)
    element: str = ""


class Recorder(TorchFunctionMode):
    """Builds the Graph while the forward pass runs (hooks and torch functions report here)."""

    def __init__(self, model: nn.Module, name: str, observer: Observer | None = None) -> None:
        super().__init__()
        self.graph = Graph(name)
        self.observer = observer
        self.names: dict[int, str] = {}
        for qualname, module in model.named_modules():
            self.names.setdefault(id(module), qualname)
        self.root = model
        self.stack: list[_Frame] = []
        self.leaf_depth = 0
        #: id(tensor) -> (weak reference, producing node id, spec)
        self.producers: dict[int, tuple[weakref.ref, str, TensorSpec]] = {}
        self.param_names: dict[int, str] = {}
        for pname, p in model.named_parameters():
            self.param_names[id(p)] = pname
        self.counted: set[int] = set()
        self.unique_id = UniqueIds("#")
        self.op_counts: dict[tuple[tuple[str, ...], str], int] = {}
        self.module_nodes: set[str] = set()
        self.first_call: dict[int, str] = {}
        #: id(module) -> its calls so far: group paths (modules drawn as groups) or node ids
        self.group_calls: dict[int, list[tuple[str, ...]]] = {}
        self.node_calls: dict[int, list[str]] = {}
        self.kinds: dict[type, tuple[str, str, dict[str, str]] | None] = {}
        self.leaves: dict[int, bool] = {}

    # -- bookkeeping -------------------------------------------------------------------
    def group(self) -> tuple[str, ...]:
        return tuple(f.element for f in self.stack if f.qualname)

    def scope(self) -> str:
        """The qualified name of the innermost module running (what op names start with)."""
        return next((f.qualname for f in reversed(self.stack) if f.qualname), "")

    def producer(self, t: torch.Tensor) -> tuple[str, TensorSpec] | None:
        entry = self.producers.get(id(t))
        if entry is None or entry[0]() is not t:
            return None
        return entry[1], entry[2]

    def produce(self, t: torch.Tensor, nid: str, spec: TensorSpec | None = None) -> TensorSpec:
        spec = spec or spec_of(t)
        self.producers[id(t)] = (weakref.ref(t), nid, spec)
        return spec

    def connect(self, nid: str, tensors: list[torch.Tensor]) -> list[TensorSpec]:
        """Edges from the producers of ``tensors`` into node ``nid``; returns input specs."""
        specs: list[TensorSpec] = []
        seen: set[int] = set()
        for t in tensors:
            if id(t) in seen:
                continue
            seen.add(id(t))
            found = self.producer(t)
            if found is not None:
                self.graph.add_edge(found[0], nid, found[1])
                specs.append(found[1])
        return specs

    def count_params(self, params: list[nn.Parameter] | list[torch.Tensor]) -> int:
        total = 0
        for p in params:
            if id(p) not in self.counted:
                self.counted.add(id(p))
                total += p.numel()
        return total

    def register_group(self) -> None:
        """Register the groups of the modules now running (outermost first)."""
        path: tuple[str, ...] = ()
        for frame in self.stack:
            if frame.qualname:
                path = (*path, frame.element)
                if path not in self.graph.groups:
                    self.graph.add_group(path, class_name=type(frame.module).__name__,
                                         label=frame.qualname)
                    self.group_calls.setdefault(id(frame.module), []).append(path)

    # -- graph inputs and outputs ------------------------------------------------------
    def add_input(self, path: str, t: torch.Tensor) -> None:
        if self.producer(t) is not None:
            return  # the same tensor passed twice
        nid = self.unique_id(path)
        spec = self.produce(t, nid)
        self.graph.add_node(Node(nid, path, "input", "Input", outputs=[spec]))
        if self.observer is not None:
            self.observer(nid, [t])  # inputs are seen, never replaced

    def add_output(self, path: str, t: torch.Tensor) -> None:
        nid = self.unique_id(f"output:{path}")
        found = self.producer(t)
        spec = found[1] if found else spec_of(t)
        self.graph.add_node(Node(nid, path, "output", "Output", inputs=[spec], outputs=[spec]))
        if found is not None:
            self.graph.add_edge(found[0], nid, spec)

    # -- module hooks --------------------------------------------------------------------
    def pre_hook(self, module: nn.Module, args: tuple, kwargs: dict) -> None:
        if self.leaf_depth:
            self.stack.append(_Frame("", module, True))
            self.leaf_depth += 1
            return
        qualname = self.names.get(id(module), "")
        if module is self.root:
            qualname = ""
        leaf = self.leaves.get(id(module))
        if leaf is None:
            leaf = self.leaves[id(module)] = is_leaf(module) and module is not self.root
        frame = _Frame(qualname, module, leaf)
        if qualname and not leaf:
            calls = self.group_calls.get(id(module), ())
            frame.element = call_element(qualname, len(calls) + 1)
        if leaf:
            frame.inputs = [*iter_tensors(args), *iter_tensors(kwargs)]
            self.leaf_depth += 1
        self.stack.append(frame)

    def post_hook(self, module: nn.Module, args: tuple, kwargs: dict, output: Any) -> None:
        index = len(self.stack) - 1
        while index >= 0 and self.stack[index].module is not module:
            index -= 1
        if index < 0:
            return
        frame = self.stack[index]
        del self.stack[index:]  # also drops frames left by exceptions caught inside
        self.leaf_depth = sum(1 for f in self.stack if f.leaf)
        if frame.leaf and frame.qualname and not self.leaf_depth:
            return self.add_module_node(frame, output)
        return None

    def observe(self, nid: str, outputs: list[torch.Tensor]) -> list[torch.Tensor]:
        """Show a new node's outputs to the observer; the tensors the forward goes on with."""
        if self.observer is None:
            return outputs
        replaced = self.observer(nid, outputs)
        return outputs if replaced is None else list(replaced)

    def add_module_node(self, frame: _Frame, output: Any) -> Any:
        """Record a leaf module's call; returns a replacement output or None."""
        module = frame.module
        info = self.kind_of(module)
        kind, cls_name, renames = info if info else ("other", type(module).__name__, {})
        outputs = list(iter_tensors(output))
        if kind == "identity":
            source = next((self.producer(t) for t in frame.inputs if self.producer(t)), None)
            if source is not None:
                for t in outputs:
                    self.produce(t, source[0], source[1])
            return
        self.register_group()
        attrs = module_attrs(module, kind, cls_name, renames)
        if kind == "pool" and attrs.pop("global", False):
            kind = "global_pool"
        first = self.first_call.get(id(module))
        if first is not None:
            attrs["shared_with"] = first
        nid = self.unique_id(frame.qualname)
        self.first_call.setdefault(id(module), nid)
        self.node_calls.setdefault(id(module), []).append(nid)
        # A leaf's own parameters, and those handed to it (a weight-norm parametrization
        # gets its module's ``original0``/``original1``).
        given = [t for t in frame.inputs if id(t) in self.param_names]
        node = Node(nid, frame.qualname, kind, type(module).__name__, attrs=attrs,
                    params=self.count_params([*module.parameters(), *given]),
                    group=self.group())
        self.graph.add_node(node)
        self.module_nodes.add(nid)
        node.inputs = self.connect(nid, frame.inputs)
        seen = self.observe(nid, outputs)
        node.outputs = [self.produce(t, nid) for t in seen]
        if isinstance(output, torch.Tensor) and seen and seen[0] is not output:
            return seen[0]
        return None

    def kind_of(self, module: nn.Module) -> tuple[str, str, dict[str, str]] | None:
        cls = type(module)
        if cls not in self.kinds:
            info = None
            for base in cls.__mro__:
                kind, renames = ops.lookup("torch", base.__name__)
                if kind != "other" and base.__module__.startswith("torch.nn."):
                    info = (kind, base.__name__, renames)
                    break
            self.kinds[cls] = info
        return self.kinds[cls]

    # -- functional ops ------------------------------------------------------------------
    def __torch_function__(self, func: Any, types: Any, args: tuple = (),
                           kwargs: dict | None = None) -> Any:
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        if self.leaf_depth:
            return result
        try:
            replaced = self.record(func, args, kwargs, result)
        except Exception as exc:  # never let drawing break the user's forward pass
            raise NetdrawError(f"netdraw could not record {op_name(func)!r}: "
                               f"{type(exc).__name__}: {exc}") from exc
        return result if replaced is None else replaced

    def record(self, func: Any, args: tuple, kwargs: dict, result: Any) -> Any:
        """Record one functional op; returns a replacement result or None."""
        if isinstance(result, torch.Tensor):
            outputs = [result]
        elif isinstance(result, (tuple, list)) and not isinstance(result, torch.Size):
            outputs = list(iter_tensors(result))
        elif result is None and getattr(func, "__name__", "") == "__setitem__" and args:
            outputs = [args[0]]  # x[i] = y writes into x
        else:
            return None
        if not outputs:
            return None
        inputs = [*iter_tensors(args), *iter_tensors(kwargs)]
        tracked = [t for t in inputs if self.producer(t) is not None]
        params = [t for t in inputs if id(t) in self.param_names and self.producer(t) is None]
        if not tracked and not params:
            return None  # constants (torch.zeros, arange, buffers): not part of the drawing
        name = op_name(func)
        if name in ops.TORCH_TWO_TENSOR_FORMS and len(args) > 1 and \
                isinstance(args[1], torch.Tensor):
            name = ops.TORCH_TWO_TENSOR_FORMS[name]
        kind, renames = ops.lookup("torch", name)
        if kind == "identity":
            if tracked:
                source = self.producer(tracked[0])
                for t in outputs:
                    self.produce(t, source[0], source[1])  # type: ignore[index]
                return None
        if not tracked or kind in _DATA_KINDS:
            # A parameter used on its own (pos_embed[:, :n], cls_token.expand) or as data
            # (x + self.pos_embed, torch.cat([self.cls_token, x])): draw the parameter as a
            # source node so its path and its size stay visible. A bias vector added to a
            # layer's output stays on the add, which the view merges into that layer.
            sources = [p for p in params
                       if not tracked or not (kind == "add" and p.dim() <= 1)]
            for p in sources:
                self.add_param_node(p)
            params = [p for p in params if all(p is not q for q in sources)]
        self.register_group()
        group = self.group()
        key = (group, name)
        count = self.op_counts[key] = self.op_counts.get(key, 0) + 1
        scope = self.scope()
        node_name = (f"{scope}.{name}" if scope else name) + (f"_{count}" if count > 1 else "")
        nid = self.unique_id(node_name)
        attrs = function_attrs(name, kind, as_specs(args), as_specs(kwargs), renames)
        if kind == "pool" and attrs.pop("global", False):
            kind = "global_pool"
        node = Node(nid, node_name, kind, name, attrs=attrs, params=self.count_params(params),
                    group=group)
        self.graph.add_node(node)
        node.inputs = self.connect(nid, inputs)
        seen = self.observe(nid, outputs)
        node.outputs = [self.produce(t, nid) for t in seen]
        if isinstance(result, torch.Tensor) and seen and seen[0] is not result:
            return seen[0]
        return None

    def add_param_node(self, p: torch.Tensor) -> None:
        pname = self.param_names[id(p)]
        self.register_group()
        nid = self.unique_id(pname)
        spec = self.produce(p, nid)
        self.graph.add_node(Node(nid, pname, "constant", "Parameter", outputs=[spec],
                                 params=self.count_params([p]), group=self.group()))
        self.module_nodes.add(nid)  # never pruned: it holds parameters

    # -- finishing -----------------------------------------------------------------------
    def failing_module(self) -> tuple[str, str]:
        """(qualified name, class) of the innermost module still running."""
        for frame in reversed(self.stack):
            if frame.qualname:
                return frame.qualname, type(frame.module).__name__
        return "", type(self.root).__name__

    def finish(self) -> Graph:
        prune_dead_ops(self.graph, self.module_nodes)
        mark_calls(self.graph, self.group_calls.values(), self.node_calls.values())
        self.graph.validate()
        return self.graph


def prune_dead_ops(graph: Graph, keep: set[str]) -> None:
    """Drop functional ops whose results reach no output and no module (``if x.sum() > 0``)."""
    if not graph.outputs:
        return
    succ = graph.successors()
    useful: set[str] = set()
    for nid in reversed(list(graph.nodes)):
        node = graph.nodes[nid]
        if (node.kind in ("input", "output") or nid in keep or node.params
                or any(s in useful for s in succ[nid])):
            useful.add(nid)
    if len(useful) == len(graph.nodes):
        return
    graph.nodes = {nid: n for nid, n in graph.nodes.items() if nid in useful}
    graph.edges = [e for e in graph.edges if e.src in useful and e.dst in useful]


def trace(model: nn.Module, args: tuple, kwargs: dict, name: str,
          observer: Observer | None = None, grad: bool = False) -> Graph:
    """Run ``model(*args, **kwargs)`` once (eval mode, no grad unless ``grad``) and record it
    as a Graph; ``observer`` sees every node's outputs (see the module docstring). Hooks
    are removed and train/eval flags restored however the forward ends."""
    recorder = Recorder(model, name, observer)
    training = {m: m.training for m in model.modules()}
    handles = []
    try:
        for module in model.modules():
            handles.append(module.register_forward_pre_hook(recorder.pre_hook, with_kwargs=True))
            handles.append(module.register_forward_hook(recorder.post_hook, with_kwargs=True))
        model.eval()
        for i, (path, t) in enumerate(_input_leaves(model, args, kwargs)):
            recorder.add_input(path or f"input_{i}", t)
        try:
            with torch.set_grad_enabled(grad), recorder:
                output = model(*args, **kwargs)
        except NetdrawError:
            raise
        except Exception as exc:
            where, cls = recorder.failing_module()
            place = f"module {where!r} ({cls})" if where else f"the forward of {cls}"
            detail = " ".join(str(exc).split())[:300]
            partial = recorder.graph
            try:
                prune_dead_ops(partial, recorder.module_nodes)
            except Exception:  # the partial graph is a courtesy; never mask the real error
                pass
            raise NetdrawError(f"the forward pass failed in {place}: {type(exc).__name__}: "
                               f"{detail}; check the example input (--input-shape, "
                               "--input-dtype)", partial=partial) from exc
        leaves = list(iter_leaves(output, "output"))
        if not leaves:
            raise NetdrawError(f"{name} returned no tensor ({type(output).__name__}); netdraw "
                               "draws the path from the inputs to the output tensors")
        for path, t in leaves:
            recorder.add_output(path, t)
    finally:
        for handle in handles:
            handle.remove()
        for module, mode in training.items():
            module.training = mode
    graph = recorder.finish()
    graph.meta.update({"framework": "torch", "torch_version": torch.__version__.split("+")[0]})
    unused = unused_parameters(model, recorder.counted)
    if unused:
        graph.meta["unused_params"] = unused
    return graph


def unused_parameters(model: nn.Module, counted: set[int]) -> dict[str, int]:
    """The parameters the forward never read (not in ``counted``), named as briefly as
    possible: the outermost module none of whose parameters was read (``pooler``), else
    the parameter itself (``embeddings.mask_token``); name -> number of values, in the
    model's order. Tied parameters count once, as torch's ``parameters()`` does."""
    unused = {id(p) for p in model.parameters() if id(p) not in counted}
    if not unused:
        return {}
    idle = {qualname for qualname, module in model.named_modules()
            if qualname and all(id(p) in unused for p in module.parameters())}
    out: dict[str, int] = {}
    for pname, p in model.named_parameters():
        if id(p) in unused:
            parts = pname.split(".")
            prefixes = (".".join(parts[:i]) for i in range(1, len(parts)))
            name = next((prefix for prefix in prefixes if prefix in idle), pname)
            out[name] = out.get(name, 0) + p.numel()
    return out


def _input_leaves(model: nn.Module, args: tuple, kwargs: dict) -> Iterator[tuple[str, Any]]:
    """Name the input tensors after the forward's parameters (``x``, ``batch['image']``)."""
    try:
        params = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        params = []
    positional = [p.name for p in params
                  if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)]
    variadic = next((p.name for p in params if p.kind == p.VAR_POSITIONAL), "args")
    for i, value in enumerate(args):
        base = positional[i] if i < len(positional) else f"{variadic}[{i - len(positional)}]"
        yield from iter_leaves(value, base)
    for key, value in kwargs.items():
        yield from iter_leaves(value, key)

