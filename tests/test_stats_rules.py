"""MAC rules of ``passes/stats.py`` at their boundaries, on paths the model tests never take:
recurrent layers (weights × time steps, sequence-first and batch-first), a layer whose input
width is only known from its parameter count, a layer of zero input features, an attention
node that lost its inputs. Oracles: torch's own parameter counts and ``FlopCounterMode``,
and hand counts written out in each test."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import netdraw
from netdraw.ir import Node, TensorSpec
from netdraw.passes.stats import node_macs, total_macs


class _FirstOutput(nn.Module):
    def __init__(self, layer: nn.Module):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)[0]


@pytest.mark.parametrize("cell", [nn.LSTM, nn.GRU, nn.RNN])
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize(("batch", "steps"), [(2, 5), (3, 1)])
def test_recurrent_macs_are_weights_times_steps(cell, batch_first, batch, steps):
    """Each time step multiplies every weight once per example: steps × torch's parameter
    count, whichever axis holds the batch (the final state (layers, batch, hidden) tells)."""
    layer = cell(3, 4, batch_first=batch_first)
    shape = (batch, steps, 3) if batch_first else (steps, batch, 3)
    graph = netdraw.load(_FirstOutput(layer), example_input=torch.randn(*shape))
    assert total_macs(graph) == steps * sum(p.numel() for p in layer.parameters())


def test_recurrent_node_of_one_output_is_sequence_first():
    """An ONNX LSTM that returns only its sequence (no final state): (steps, batch, in)."""
    lstm = Node("l", "l", "recurrent", "LSTM", params=100,
                inputs=[TensorSpec((7, 2, 3))], outputs=[TensorSpec((7, 1, 2, 4))])
    assert node_macs(lstm) == 7 * 100
    short = Node("s", "s", "recurrent", "LSTM", params=100, inputs=[TensorSpec((2, 3))])
    assert node_macs(short) is None  # no time axis


@pytest.mark.parametrize(("kind", "groups", "bias"), [
    ("conv", 1, True), ("conv", 1, False), ("conv", 2, True), ("conv", 4, False),
    ("conv_transpose", 2, True)])
def test_conv_input_channels_solved_from_the_parameter_count(kind, groups, bias):
    """A conv that does not say its input channels: params = out · in/groups · k (+ out)."""
    cin, cout, k = 8, 12, 3
    params = cout * (cin // groups) * k * k + (cout if bias else 0)
    attrs = {"kernel_size": [k, k], "out_channels": cout, "groups": groups}
    node = Node("c", "c", kind, "Conv", attrs=attrs, params=params,
                inputs=[TensorSpec((1, cin, 6, 6))], outputs=[TensorSpec((1, cout, 5, 5))])
    if kind == "conv":  # every output element reads in/groups · k·k inputs
        assert node_macs(node) == cout * 5 * 5 * (cin // groups) * k * k
    else:  # every input element is spread over out/groups · k·k outputs
        assert node_macs(node) == cin * 6 * 6 * (cout // groups) * k * k


def test_dense_input_width_solved_from_the_parameter_count():
    """No input shape: a bias-free Linear(3, 4) holds 12 weights, so 3 features."""
    node = Node("d", "d", "dense", "Linear", attrs={"units": 4}, params=12,
                outputs=[TensorSpec((1, 5, 4))])
    assert node_macs(node) == 5 * 4 * 3


@pytest.mark.parametrize("bias", [True, False])
def test_dense_of_zero_input_features_has_no_macs(bias):
    """torch's counter: a Linear that reads nothing multiplies nothing."""
    from torch.utils.flop_counter import FlopCounterMode

    layer = nn.Linear(0, 4, bias=bias)
    x = torch.randn(1, 0)
    with FlopCounterMode(display=False) as counter:
        layer(x)
    graph = netdraw.load(layer, example_input=x)
    assert total_macs(graph) == counter.get_total_flops() // 2 == 0


def test_attention_without_inputs_has_unknown_macs():
    node = Node("a", "a", "attention", "Attention", params=40, outputs=[TensorSpec((1, 4, 8))])
    assert node_macs(node) is None


def test_conv_holding_only_its_bias_has_unknown_macs():
    """A conv whose 8 parameters are its bias (the weight lives elsewhere): nothing to solve."""
    node = Node("c", "c", "conv", "Conv", attrs={"kernel_size": [3, 3], "out_channels": 8},
                params=8, outputs=[TensorSpec((1, 8, 5, 5))])
    assert node_macs(node) is None


def _conv_graph(batch: int, given: int | None = None):
    from netdraw.ir import Graph

    graph = Graph("g")
    graph.add_node(Node("x", "x", "input", "Input", outputs=[TensorSpec((batch, 3, 6, 6))]))
    attrs = {"kernel_size": [3, 3], "in_channels": 3, "out_channels": 4}
    if given is not None:
        attrs["macs"] = given
    graph.add_node(Node("c", "c", "conv", "Conv", attrs=attrs, params=112,
                        inputs=[TensorSpec((batch, 3, 6, 6))],
                        outputs=[TensorSpec((batch, 4, 4, 4))]))
    graph.add_node(Node("y", "y", "output", "Output"))
    graph.add_edge("x", "c", TensorSpec((batch, 3, 6, 6)))
    graph.add_edge("c", "y", TensorSpec((batch, 4, 4, 4)))
    graph.inputs, graph.outputs = ["x"], ["y"]
    return graph


def test_annotate_counts_per_example_and_keeps_given_counts():
    from netdraw.passes.stats import annotate, model_batch

    per_example = 4 * 4 * 4 * 3 * 3 * 3  # output elements × in channels × kernel area
    graph = _conv_graph(batch=2)
    assert model_batch(graph) == 2
    assert annotate(graph).nodes["c"].attrs["macs"] == per_example
    assert annotate(_conv_graph(batch=2, given=5)).nodes["c"].attrs["macs"] == 5


def test_an_input_without_outputs_says_nothing_about_the_batch():
    from netdraw.passes.stats import model_batch

    graph = _conv_graph(batch=3)
    graph.add_node(Node("flag", "flag", "input", "Input"))
    graph.inputs.append("flag")
    assert model_batch(graph) == 3


def test_dense_reading_zero_features_from_its_input_shape_has_no_macs():
    """No declared width; the input's last axis (0) says it, not the 4 bias parameters."""
    node = Node("d", "d", "dense", "Gemm", attrs={"units": 4}, params=4,
                inputs=[TensorSpec((1, 0))], outputs=[TensorSpec((1, 4))])
    assert node_macs(node) == 0


def test_torch_attention_widths_from_its_attributes_when_shapes_do_not_say():
    """nn.MultiheadAttention(8, 2, kdim=4, vdim=4) with unknown widths in its shapes: the
    module's own embed_dim, kdim and vdim give 2·Lq·E² + Lk·E·(kdim + vdim) + 2·Lq·Lk·E."""
    node = Node("a", "a", "attention", "MultiheadAttention",
                attrs={"embed_dim": 8, "kdim": 4, "vdim": 4, "batch_first": True},
                params=8 * 8 * 2 + 8 * 4 * 2 + 4 * 8,
                inputs=[TensorSpec((1, 5, None)), TensorSpec((1, 7, None))],
                outputs=[TensorSpec((1, 5, 8))])
    assert node_macs(node, batch=1) == 2 * 5 * 8 * 8 + 7 * 8 * (4 + 4) + 2 * 5 * 7 * 8
