"""Each torch zoo model drawn live and drawn from its ``torch.onnx.export`` file agree.

Both graphs must list the same conv / dense / pool / norm layers, in order, with the same
output shapes. Two differences come from the exporter, not from netdraw, and are applied
to the live sequence explicitly:

- the exporter's optimizer folds every eval-mode BatchNorm into the convolution before it,
  so a norm whose input is a conv has no ONNX node of its own (the fused conv keeps the
  conv's output shape, which is compared);
- ``nn.MultiheadAttention`` is one node live, while ONNX spells out its projections: ONNX
  nodes inside a MultiheadAttention module scope are compared as that one node.
"""

from __future__ import annotations

import pytest
from conftest import require_module

torch = require_module("torch")
require_module("onnxscript")

import netdraw  # noqa: E402
from netdraw import zoo  # noqa: E402
from netdraw.importers.pytorch import make_inputs  # noqa: E402
from netdraw.importers.torch_trace import ATOMIC_MODULES  # noqa: E402
from netdraw.ir import Graph  # noqa: E402

COMPARED = ("conv", "dense", "pool", "norm", "attention")
TORCH_ZOO = [name for name, entry in zoo.ZOO.items() if entry.framework == "torch"]


def live_sequence(graph: Graph) -> list[tuple[str, tuple]]:
    producers = graph.predecessors()
    out = []
    for n in graph:
        if n.kind not in COMPARED:
            continue
        srcs = [graph.nodes[s] for s in producers[n.id]]
        if n.kind == "norm" and n.op_type.startswith("BatchNorm") and \
                [s.kind for s in srcs] == ["conv"]:
            continue  # folded into the conv by the exporter
        out.append((n.kind, n.outputs[0].shape))
    return out


def onnx_sequence(graph: Graph) -> list[tuple[str, tuple]]:
    out: list[tuple[str, tuple]] = []
    seen_attention: set[tuple[str, ...]] = set()
    for n in graph:
        atomic = next((n.group[:i + 1] for i in range(len(n.group))
                       if graph.groups[n.group[:i + 1]].class_name in ATOMIC_MODULES), None)
        if atomic is not None:
            if atomic not in seen_attention:
                seen_attention.add(atomic)
                out.append(("attention", None))
            continue
        if n.kind in COMPARED:
            out.append((n.kind, n.outputs[0].shape))
    return out


@pytest.mark.parametrize("name", TORCH_ZOO)
def test_live_trace_matches_onnx_export(name, tmp_path):
    entry = zoo.ZOO[name]
    model = entry.build()
    example = tuple(make_inputs(entry.input_shape, entry.input_dtype))
    live = netdraw.load(model, example_input=example, name=name)
    program = torch.onnx.export(model, example, dynamo=True, verbose=False)
    path = tmp_path / f"{name}.onnx"
    program.save(str(path), external_data=True)  # weights beside it: never read by netdraw
    exported = netdraw.load(path)

    expected = live_sequence(live)
    got = onnx_sequence(exported)
    # attention output shapes: ONNX has no single node to read it from
    expected_cmp = [(k, None if k == "attention" else s) for k, s in expected]
    assert got == expected_cmp
    assert len(expected) >= 3
    assert [exported.nodes[o].outputs[0].shape for o in exported.outputs] == \
        [live.nodes[o].outputs[0].shape for o in live.outputs]
