"""The fold pass as a reader of the drawing sees it: the box of a folded Conv→BN→ReLU says
``+BN+relu`` and adds up the parameters and MACs counted by hand; Keras' own activation
layers and fused activations follow Keras' meaning; pattern errors say what is wrong.

Hand-built graphs only (Keras- and ONNX-shaped): the file takes about a second.
"""

from __future__ import annotations

import json

import pytest
from conftest import require_module

from netdraw.backends.dot import label_parts, tooltip_text
from netdraw.errors import NetdrawError
from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes.fold import fold, parse_pattern
from netdraw.schema import schema

IMG, FMAP = TensorSpec((1, 3, 32, 32)), TensorSpec((1, 16, 16, 16))


def _chain(*layers: Node, name: str = "net") -> Graph:
    """input -> layers… -> output, each edge carrying the layer before's output."""
    g = Graph(name)
    g.add_node(Node("x", "x", "input", "Input", outputs=[IMG]))
    prev, spec = "x", IMG
    for node in layers:
        g.add_node(node)
        g.add_edge(prev, node.id, spec)
        prev, spec = node.id, node.outputs[0] if node.outputs else spec
    g.add_node(Node("y", "y", "output", "Output", inputs=[spec]))
    g.add_edge(prev, "y", spec)
    return g


def _conv(nid: str = "conv", op: str = "Conv2D", **attrs) -> Node:
    # Conv2D(16, 3, strides=2) on 3 channels: 3·3·3·16 + 16 = 448 weights;
    # 16·16·16 outputs × 27 MACs each = 110,592 MACs
    return Node(nid, nid, "conv", op, params=448, inputs=[IMG], outputs=[FMAP],
                attrs={"kernel_size": [3, 3], "stride": [2, 2], "out_channels": 16,
                       "macs": 110_592, **attrs})


def _bn(nid: str = "bn", op: str = "BatchNormalization") -> Node:
    # gamma, beta, moving mean and variance of 16 channels: 64; one MAC per output value
    return Node(nid, nid, "norm", op, params=64, inputs=[FMAP], outputs=[FMAP],
                attrs={"macs": 4096})


def _act(nid: str = "act", op: str = "Activation", activation: str | None = "relu",
         kind: str = "activation") -> Node:
    attrs = {"activation": activation} if activation is not None else {}
    return Node(nid, nid, kind, op, inputs=[FMAP], outputs=[FMAP], attrs=attrs)


def test_conv_bn_activation_layers_box() -> None:
    """Keras: Conv2D, BatchNormalization, Activation("relu") as three layers."""
    folded = fold(_chain(_conv(), _bn(), _act()))
    assert list(folded.nodes) == ["x", "conv", "y"]
    conv = folded.nodes["conv"]
    assert label_parts(conv, folded) == ("conv", "Conv2D · 3×3/2, 16 +BN+relu",
                                         "1×16×16×16 · 512 params")
    assert tooltip_text(conv) == "conv (Conv2D): 512 params, 114.7k MACs"
    assert conv.params == 448 + 64 and conv.attrs["macs"] == 110_592 + 4096
    assert conv.attrs["activation"] == "relu" and conv.attrs["pattern"] == "ConvBNAct"
    assert [(f["id"], f["name"], f["kind"], f["op_type"], f["params"])
            for f in conv.attrs["folded"]] == [("bn", "bn", "norm", "BatchNormalization", 64),
                                               ("act", "act", "activation", "Activation", 0)]
    assert conv.attrs["folded"][1]["attrs"] == {"activation": "relu"}
    assert conv.attrs["output_node"] == "act"  # the box's output is the activation's
    # the folded graph is still a valid netdraw graph file (the published JSON Schema)
    jsonschema = require_module("jsonschema")
    jsonschema.validate(json.loads(folded.to_json()), schema())


def test_onnx_conv_bn_relu_box() -> None:
    """ONNX: Conv, BatchNormalization, Relu: the op type names the activation."""
    folded = fold(_chain(_conv(op="Conv"), _bn(), _act(op="Relu", activation=None)))
    conv = folded.nodes["conv"]
    assert label_parts(conv, folded)[1] == "Conv · 3×3/2, 16 +BN+relu"
    assert conv.attrs["activation"] == "relu"


def test_layer_norm_and_softmax_names() -> None:
    folded = fold(_chain(_conv(), _bn(op="GroupNormalization"), _act(op="Softmax",
                                                                        activation=None,
                                                                        kind="softmax")))
    # conv>norm>activation takes only an activation: the softmax stays a box of its own
    assert list(folded.nodes) == ["x", "conv", "act", "y"]
    assert label_parts(folded.nodes["conv"], folded)[1] == "Conv2D · 3×3/2, 16 +GN"
    dense = Node("fc", "fc", "dense", "Dense", params=170, inputs=[FMAP], outputs=[FMAP],
                 attrs={"units": 10})
    folded = fold(_chain(dense, _act(op="Softmax", activation=None, kind="softmax")))
    assert folded.nodes["fc"].attrs["activation"] == "softmax"


@pytest.mark.parametrize(("fused", "folds"), [
    ("relu", False), ("ReLU", False), ("linear", True), ("LINEAR", True), ("", True),
    ("none", True), ("identity", True), (None, True), (3, True),
])
def test_a_fused_activation_takes_no_second_one(fused, folds: bool) -> None:
    """Keras' Dense(10, activation="relu") already has its activation: a following
    Activation layer stays a box; "linear" (Keras' default) is no activation."""
    attrs = {"units": 10} if fused is None else {"units": 10, "activation": fused}
    dense = Node("fc", "fc", "dense", "Dense", params=170, inputs=[FMAP], outputs=[FMAP],
                 attrs=attrs)
    folded = fold(_chain(dense, _act(activation="tanh")))
    assert ("act" not in folded.nodes) is folds, list(folded.nodes)
    if folds:
        assert folded.nodes["fc"].attrs["activation"] == "tanh"


def test_folding_rewires_edges_and_keeps_the_last_output() -> None:
    pool_in = TensorSpec((1, 16, 16, 16))
    pool = Node("pool", "pool", "pool", "MaxPool2D", inputs=[pool_in],
                outputs=[TensorSpec((1, 16, 8, 8))])
    act = _act()
    act.outputs = [TensorSpec((1, 16, 16, 17))]  # a shape only the activation has
    folded = fold(_chain(_conv(), _bn(), act, pool))
    assert [(e.src, e.dst, e.tensor.shape) for e in folded.edges] == [
        ("x", "conv", (1, 3, 32, 32)), ("conv", "pool", (1, 16, 16, 17)),
        ("pool", "y", (1, 16, 8, 8))]
    assert folded.nodes["conv"].outputs[0].shape == (1, 16, 16, 17)


def test_a_chain_stays_inside_the_heads_group() -> None:
    inner = _chain(_conv(), _bn(), _act())
    inner.nodes["bn"].group = ("block",)  # deeper than the conv's group (): folds
    inner.nodes["act"].group = ("block",)
    assert list(fold(inner).nodes) == ["x", "conv", "y"]
    outer = _chain(_conv(), _bn(), _act())
    outer.nodes["conv"].group = ("a",)
    outer.nodes["bn"].group = ("b",)  # a sibling group: the BN is not the conv's to take
    outer.nodes["act"].group = ("b",)
    kept = fold(outer)
    assert "bn" in kept.nodes and "conv" in kept.nodes
    assert kept.nodes["bn"].attrs.get("pattern") == "BNAct"  # BN and ReLU fold in group b


def test_an_already_folded_tail_keeps_its_own_output_node() -> None:
    act = _act()
    act.attrs["output_node"] = "relu_source"
    folded = fold(_chain(_conv(), _bn(), act))
    assert folded.nodes["conv"].attrs["output_node"] == "relu_source"


def test_patterns_by_op_type_are_case_insensitive() -> None:
    pattern = parse_pattern("Conv2D>BATCHNORMALIZATION")
    folded = fold(_chain(_conv(), _bn(), _act()), [pattern])
    assert list(folded.nodes) == ["x", "conv", "act", "y"]
    assert folded.nodes["conv"].attrs["pattern"] == "Conv2DBatchnormalization"
    assert fold(_chain(_conv(), _bn()), []).nodes["bn"].kind == "norm"  # no patterns: as is


@pytest.mark.parametrize(("text", "name", "steps"), [
    ("conv>norm?", "ConvNorm", [(("conv",), False), (("norm",), True)]),
    (" conv_transpose | conv > activation = Up ", "Up",
     [(("conv_transpose", "conv"), False), (("activation",), False)]),
    ("dense>torch.nn.ReLU", "DenseTorch.Nn.Relu", [(("dense",), False),
                                                   (("torch.nn.relu",), False)]),
    ("conv_transpose>batch_norm", "ConvTransposeBatchNorm",
     [(("conv_transpose",), False), (("batch_norm",), False)]),
    ("dense>SOFTMAX?", "DenseSoftmax", [(("dense",), False), (("softmax",), True)]),
])
def test_parse_pattern_by_hand(text: str, name: str, steps) -> None:
    pattern = parse_pattern(text)
    assert pattern.name == name
    assert [(s.names, s.optional) for s in pattern.steps] == steps
    assert pattern.text == text.strip()


@pytest.mark.parametrize(("text", "message"), [
    ("conv", "bad fold pattern 'conv': it needs at least two steps joined by '>'; write it "
     "like 'conv>norm>activation=ConvBNAct'"),
    ("conv>norm=two words", "bad fold pattern 'conv>norm=two words': the name 'two words' "
     "must be a word; write it like 'conv>norm>activation=ConvBNAct'"),
    ("conv>>norm", "bad fold pattern 'conv>>norm': step '' is not a kind or op type "
     "(alternatives with '|', optional with '?'); write it like "
     "'conv>norm>activation=ConvBNAct'"),
    ("conv>no rm", "step 'no rm' is not a kind or op type"),
    ("conv>a|", "step 'a|' is not a kind or op type"),
    ("norm?>conv", "bad fold pattern 'norm?>conv': the first step cannot be optional"),
])
def test_bad_patterns_say_what_is_wrong(text: str, message: str) -> None:
    with pytest.raises(NetdrawError) as err:
        parse_pattern(text)
    assert message in str(err.value)


def test_a_hostile_activation_attribute_is_ignored() -> None:
    """An ``activation`` that is no name (a hand-edited JSON file) leaves the op type's."""
    folded = fold(_chain(_conv(op="Conv"), _bn(), _act(op="Relu", activation=5)))
    assert folded.nodes["conv"].attrs["activation"] == "relu"


def test_a_fused_activation_takes_no_softmax() -> None:
    dense = Node("fc", "fc", "dense", "Dense", params=170, inputs=[FMAP], outputs=[FMAP],
                 attrs={"units": 10, "activation": "relu"})
    folded = fold(_chain(dense, _act(op="Softmax", activation=None, kind="softmax")))
    assert "act" in folded.nodes


@pytest.mark.parametrize(("pattern", "second", "kept"), [
    # one activation per box: after a ReLU, neither another activation nor a softmax
    ("conv>activation>activation?=CA", _act("act2", op="Sigmoid", activation=None), True),
    ("conv>activation>softmax?=CA", _act("act2", op="Softmax", activation=None,
                                         kind="softmax"), True),
    ("conv>activation>norm?=CA", _bn("act2"), False),
])
def test_one_activation_per_box(pattern: str, second: Node, kept: bool) -> None:
    folded = fold(_chain(_conv(), _act(op="Relu", activation=None), second),
                  [parse_pattern(pattern)])
    assert "act" not in folded.nodes
    assert ("act2" in folded.nodes) is kept


def test_after_a_softmax_no_activation() -> None:
    folded = fold(_chain(_conv(), _act(op="Softmax", activation=None, kind="softmax"),
                         _act("act2", op="Relu", activation=None)),
                  [parse_pattern("conv>softmax>activation?=CS")])
    assert "act" not in folded.nodes and "act2" in folded.nodes


@pytest.mark.parametrize("kind", ["input", "output", "block"])
def test_inputs_outputs_and_blocks_head_no_chain(kind: str) -> None:
    g = Graph("g")
    g.add_node(Node("h", "h", kind, "Thing", outputs=[FMAP]))
    g.add_node(_act(op="Relu", activation=None))
    g.add_edge("h", "act", FMAP)
    folded = fold(g, [parse_pattern(f"{kind}>activation=HA")])
    assert sorted(folded.nodes) == ["act", "h"]


@pytest.mark.parametrize("kind", ["input", "output", "block"])
def test_inputs_outputs_and_blocks_are_never_absorbed(kind: str) -> None:
    tail = Node("t", "t", kind, "Thing", inputs=[FMAP], outputs=[FMAP])
    folded = fold(_chain(_conv(), tail), [parse_pattern(f"conv>{kind}=CT")])
    assert "t" in folded.nodes and "folded" not in folded.nodes["conv"].attrs


def test_a_layer_that_also_reads_another_tensor_is_not_absorbed() -> None:
    """x -> conv -> add <- x: the add reads the input too, so it is not the conv's alone."""
    add = Node("add", "add", "add", "Add", inputs=[FMAP, FMAP], outputs=[FMAP])
    g = _chain(_conv(), add)
    g.add_edge("x", "add", FMAP)
    folded = fold(g, [parse_pattern("conv>add=CA")])
    assert "add" in folded.nodes
    assert sorted((e.src, e.dst) for e in folded.edges) == [
        ("add", "y"), ("conv", "add"), ("x", "add"), ("x", "conv")]
