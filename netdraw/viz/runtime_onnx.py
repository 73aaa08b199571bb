"""Running an ONNX model for :mod:`netdraw.viz` with onnxruntime (imported on use).

The model is read by the importer (:func:`netdraw.importers.onnx.convert`), so node ids are
those of ``netdraw.load(path)``; the output tensors of the nodes asked for are added as graph
outputs and one onnxruntime session computes them all. This is the only place netdraw reads
ONNX weights: every external-data location is resolved with
:func:`netdraw.importers.onnx.external_data_path`, which refuses a location outside the
model's folder. ONNX has no gradients here: CAM methods are ``cam`` and ``scorecam``, and
filters are the raw kernels.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from netdraw.errors import NetdrawError
from netdraw.importers import onnx as onnx_importer
from netdraw.ir import Graph
from netdraw.viz.activations import CHANNELS_FIRST, Activations, fill_outputs

_NUMPY = {"float32": np.float32, "float64": np.float64, "float16": np.float16,
          "int64": np.int64, "int32": np.int32, "int8": np.int8, "uint8": np.uint8,
          "bool": np.bool_}


def resolve_external_data(model: onnx.ModelProto, folder: Path | None) -> None:
    """Read every external initializer into the model, through the importer's path check."""
    for tensor in _initializers(model.graph):
        if tensor.data_location != onnx.TensorProto.EXTERNAL:
            continue
        info = {e.key: e.value for e in tensor.external_data}
        if folder is None:
            raise NetdrawError(f"initializer {tensor.name!r} is stored in an external file, "
                               "but the model was given in memory; pass its path instead")
        path = onnx_importer.external_data_path(folder, info.get("location", ""))
        offset, length = int(info.get("offset", 0) or 0), info.get("length")
        try:
            with open(path, "rb") as fh:
                fh.seek(offset)
                data = fh.read(int(length)) if length else fh.read()
        except OSError as exc:
            raise NetdrawError(f"cannot read the weights of {tensor.name!r} from {path}: "
                               f"{exc.strerror or exc}") from None
        tensor.raw_data = data
        del tensor.external_data[:]
        tensor.data_location = onnx.TensorProto.DEFAULT


def _initializers(graph: onnx.GraphProto):
    yield from graph.initializer
    for node in graph.node:
        for attr in node.attribute:
            if attr.type == onnx.AttributeProto.GRAPH:
                yield from _initializers(attr.g)
            elif attr.type == onnx.AttributeProto.TENSOR:
                yield attr.t


class OnnxRuntime:
    """An ONNX model file or ``ModelProto``: capture, predict and weights (no gradients)."""

    framework = "onnx"
    layout = CHANNELS_FIRST
    gradients_supported = False

    def __init__(self, source: str | os.PathLike[str] | onnx.ModelProto,
                 name: str | None = None) -> None:
        self.graph, model, self.tensors = onnx_importer.convert(source, name=name,
                                                                    keep_weights=True)
        folder = None if isinstance(source, onnx.ModelProto) else Path(source).resolve().parent
        self.model = onnx.ModelProto()
        self.model.CopyFrom(model)
        resolve_external_data(self.model, folder)
        self.name = self.graph.name
        self.initializers = {t.name: t for t in self.model.graph.initializer}
        init_names = set(self.initializers)
        self.inputs = [vi for vi in self.model.graph.input if vi.name not in init_names]
        self._sessions: dict[tuple[str, ...], Any] = {}

    # -- inputs -----------------------------------------------------------------------
    def input_shapes(self) -> list[tuple[int | str | None, ...]]:
        out = []
        for vi in self.inputs:
            dims = vi.type.tensor_type.shape.dim
            out.append(tuple(d.dim_value if d.HasField("dim_value") else
                             (d.dim_param or None) for d in dims))
        return out

    def first_conv_channels(self) -> int | None:
        shapes = self.input_shapes()
        if shapes and len(shapes[0]) == 4 and isinstance(shapes[0][1], int):
            return shapes[0][1]
        return None

    def feed(self, inputs: Sequence[Any]) -> dict[str, np.ndarray]:
        if len(inputs) != len(self.inputs):
            raise NetdrawError(f"the model takes {len(self.inputs)} input(s) "
                               f"({', '.join(vi.name for vi in self.inputs)}), "
                               f"not {len(inputs)}")
        feed = {}
        for vi, x in zip(self.inputs, inputs, strict=True):
            elem = onnx.helper.tensor_dtype_to_np_dtype(vi.type.tensor_type.elem_type)
            feed[vi.name] = np.ascontiguousarray(np.asarray(x).astype(elem, copy=False))
        return feed

    # -- running ------------------------------------------------------------------------
    def session(self, outputs: tuple[str, ...]) -> Any:
        """An onnxruntime session whose outputs are ``outputs`` (cached)."""
        if outputs in self._sessions:
            return self._sessions[outputs]
        import onnxruntime as ort

        model = onnx.ModelProto()
        model.CopyFrom(self.model)
        declared = {o.name for o in model.graph.output}
        known = {vi.name: vi for vi in model.graph.value_info}
        for name in outputs:
            if name not in declared:
                model.graph.output.append(known.get(name) or onnx.ValueInfoProto(name=name))
        options = ort.SessionOptions()
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_DISABLE_ALL
        options.log_severity_level = 3
        try:
            session = ort.InferenceSession(model.SerializeToString(), options,
                                           providers=["CPUExecutionProvider"])
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            raise NetdrawError(f"onnxruntime cannot run {self.name}: {detail}") from None
        self._sessions[outputs] = session
        return session

    @property
    def fixed_batch(self) -> int | None:
        """The batch size the file fixes (``torch.onnx.export`` writes the example's batch
        unless told ``dynamic_axes``/``dynamic_shapes``), or None when it is free."""
        sizes = {shape[0] for shape in self.input_shapes() if shape}
        if len(sizes) == 1:
            (size,) = sizes
            return size if isinstance(size, int) and size > 0 else None
        return None

    def run(self, inputs: Sequence[Any], outputs: tuple[str, ...]) -> list[np.ndarray]:
        """Compute ``outputs`` for a batch. A file with a fixed batch size gets the batch in
        pieces of that size (the last one padded with copies of its last example and the
        padding dropped again), so any number of examples runs on any ONNX file."""
        session = self.session(outputs)
        fixed = self.fixed_batch
        count = int(np.asarray(inputs[0]).shape[0]) if inputs and np.ndim(inputs[0]) else 0
        if fixed is None or count in (0, fixed):
            return self._run(session, outputs, inputs)
        pieces: list[list[np.ndarray]] = []
        batched: list[bool] = []
        for start in range(0, count, fixed):
            chunk = [np.asarray(x)[start:start + fixed] for x in inputs]
            real = chunk[0].shape[0]
            if real < fixed:
                chunk = [np.concatenate([c, np.repeat(c[-1:], fixed - real, axis=0)])
                         for c in chunk]
            results = self._run(session, outputs, chunk)
            batched = batched or [o.ndim > 0 and o.shape[0] == fixed for o in results]
            pieces.append([o[:real] if b else o for o, b in zip(results, batched,
                                                                 strict=True)])
        return [np.concatenate([p[k] for p in pieces]) if batched[k] else pieces[0][k]
                for k in range(len(outputs))]

    def _run(self, session: Any, outputs: tuple[str, ...], inputs: Sequence[Any]
             ) -> list[np.ndarray]:
        try:
            return session.run(list(outputs), self.feed(inputs))
        except NetdrawError:
            raise
        except Exception as exc:
            detail = " ".join(str(exc).split())[:300]
            raise NetdrawError(f"the forward pass of {self.name} failed in onnxruntime: "
                               f"{detail}") from None

    def capture(self, inputs: Sequence[Any], nodes: set[str] | None = None) -> Activations:
        """One onnxruntime run computing the first output of every node asked for."""
        wanted = [nid for nid in self.graph.nodes if nid in self.tensors
                  and self.tensors[nid][1] and (nodes is None or nid in nodes)]
        names = tuple(dict.fromkeys(self.tensors[nid][1][0] for nid in wanted))
        results = dict(zip(names, self.run(inputs, names), strict=True)) if names else {}
        values = {nid: _float(results[self.tensors[nid][1][0]]) for nid in wanted}
        for nid, x in zip((n for n in self.graph.inputs), inputs, strict=False):
            values[nid] = _float(np.asarray(x))
        fill_outputs(self.graph, values)
        return Activations(self.graph, values, layout=self.layout, meta={"framework": "onnx"})

    def predict(self, inputs: Sequence[Any]) -> np.ndarray:
        """The model's first output for a batch."""
        return self.outputs(inputs)

    def outputs(self, inputs: Sequence[Any], output: str | int | None = None) -> np.ndarray:
        """One output of the model, by name or index (default: the first)."""
        names = [o.name for o in self.model.graph.output]
        if output is None:
            output = 0
        if isinstance(output, str):
            if output not in names:
                raise NetdrawError(f"--output {output!r}: the model's outputs are "
                                   f"{', '.join(names)}")
            name = output
        elif 0 <= int(output) < len(names):
            name = names[int(output)]
        else:
            raise NetdrawError(f"--output {output}: the model has {len(names)} output(s)")
        return _float(self.run(inputs, (name,))[0])

    def graph_for(self, inputs: Sequence[Any]) -> Graph:
        """The model's graph (read once from the file)."""
        return self.graph

    def normal(self, shape: tuple[int, ...], stdev: float, seed: int) -> np.ndarray:
        return np.random.default_rng(seed).normal(0.0, stdev, shape).astype(np.float32)

    # -- weights ------------------------------------------------------------------------
    def weight(self, graph: Graph, nid: str) -> np.ndarray | None:
        """The weight initializer of a Conv/Gemm/MatMul node (as stored: Gemm with
        ``transB`` gives ``(out, in)``, otherwise transposed to it)."""
        entry = self.tensors.get(nid)
        if entry is None or len(entry[0]) < 2 or entry[0][1] not in self.initializers:
            return None
        w = numpy_helper.to_array(self.initializers[entry[0][1]]).astype(np.float32)
        node = graph.nodes[nid]
        if node.op_type in ("Gemm", "MatMul") and w.ndim == 2 and not node.attrs.get("transB"):
            w = w.T
        return w

    def bias(self, graph: Graph, nid: str) -> np.ndarray | None:
        entry = self.tensors.get(nid)
        if entry is None or len(entry[0]) < 3 or entry[0][2] not in self.initializers:
            return None
        return numpy_helper.to_array(self.initializers[entry[0][2]]).astype(np.float32)


def _float(x: np.ndarray) -> np.ndarray:
    return x.astype(np.float32) if x.dtype.kind == "f" and x.dtype != np.float32 else x
