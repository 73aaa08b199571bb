"""The diff's rules at their boundaries: what counts as the same layer, what changed, and
how two graphs' nodes are paired.

Oracles are hand counts and hand-written expectations over small hand-built graphs (each
case says why), framework class names read from torch itself, and `format_count`'s
documented style; nothing is compared with another netdraw result.
"""

from __future__ import annotations

import pytest
from conftest import require_module

from netdraw.diff.compare import (
    Change,
    Side,
    canonical_shape,
    channels_last,
    comparable_attrs,
    compare,
    describe_change,
    headline,
    is_cause,
    normalise_value,
    op_family,
    shape_key,
    shapes_equal,
)
from netdraw.diff.match import longest_increasing, match_graphs, numbered_name, qualified_name
from netdraw.ir import Graph, Node, TensorSpec


def node(kind: str, op: str, attrs: dict | None = None, params: int = 0,
         ins: list | None = None, outs: list | None = None, nid: str = "n",
         layout: str | None = None, group: tuple = ()) -> Node:
    return Node(nid, nid, kind, op, attrs or {}, params,
                [TensorSpec(s) for s in (ins or [])],
                [TensorSpec(s, layout=layout) for s in (outs or [])], group)


def side(framework: str, *nodes: Node, data_format: str | None = None) -> Side:
    g = Graph("g")
    g.meta["framework"] = framework
    if data_format:
        g.meta["data_format"] = data_format
    for n in nodes:
        g.add_node(n)
    return Side(g)


# -- op families, kinds, layouts --------------------------------------------------------


@pytest.mark.parametrize(("kind", "op", "attrs", "family"), [
    # pooling: what is taken, not how the window is given
    ("pool", "MaxPool2d", {}, "maxpool"), ("pool", "MaxPool", {}, "maxpool"),
    ("pool", "MaxPooling2D", {}, "maxpool"), ("global_pool", "AdaptiveMaxPool2d", {}, "maxpool"),
    ("global_pool", "GlobalAveragePooling2D", {}, "avgpool"),
    ("pool", "AvgPool1d", {}, "avgpool"), ("global_pool", "ReduceMean", {}, "avgpool"),
    ("pool", "LPPool2d", {}, "lppool"), ("pool", "Pool", {}, "pool"),
    # normalisation and the 1d/2d/3d and "layer" suffixes
    ("norm", "BatchNorm2d", {}, "batchnorm"), ("norm", "BatchNormalization", {}, "batchnorm"),
    ("norm", "LayerNormalization", {}, "layernorm"), ("norm", "InstanceNorm3d", {}, "instancenorm"),
    ("upsample", "UpSampling2D", {}, "upsample"), ("upsample", "Resize", {}, "upsample"),
    ("recurrent", "SimpleRNN", {}, "rnn"), ("elementwise", "Dense_Layer", {}, "dense"),
    # activations: the op, or attrs["activation"] when it says
    ("activation", "ReLU6", {}, "clip"), ("activation", "Hardtanh", {}, "clip"),
    ("activation", "Activation", {"activation": "Relu_6"}, "clip"),
    ("activation", "Activation", {"activation": "swish"}, "swish"),
    ("activation", "SiLU", {"activation": ""}, "swish"),
    ("activation", "GELU", {"activation": 3}, "gelu"),
    ("softmax", "Activation", {"activation": "softmax"}, "softmax"),
    # a dense layer's activation attribute does not make it an activation
    ("dense", "Dense", {"activation": "relu"}, "dense"),
])
def test_op_family(kind, op, attrs, family):
    assert op_family(node(kind, op, attrs)) == family


def test_torch_and_onnx_pool_names_share_a_family():
    torch = require_module("torch")
    for cls, family in ((torch.nn.MaxPool2d, "maxpool"), (torch.nn.AdaptiveAvgPool2d, "avgpool"),
                        (torch.nn.AvgPool3d, "avgpool"), (torch.nn.LPPool1d, "lppool")):
        assert op_family(node("pool", cls.__name__)) == family


@pytest.mark.parametrize(("layout", "attrs", "meta", "framework", "last"), [
    ("NHWC", {}, None, "", True), ("NCHW", {"data_format": "channels_last"}, None, "keras", False),
    ("NCDHW", {}, None, "", False), ("NDHWC", {}, None, "", True),
    # a layout without channels, or of rank 3, says nothing: the attrs and graph decide
    ("NLC", {}, None, "", False), ("NHWX", {}, None, "keras", True),
    (None, {"data_format": "NHWC"}, None, "", True),
    (None, {"data_format": "channels_first"}, None, "keras", False),
    (None, {"data_format": "NCHW"}, "channels_last", "keras", False),
    (None, {}, "channels_last", "", True), (None, {}, None, "keras", True),
    (None, {}, None, "pytorch", False), (None, {"data_format": "other"}, None, "", False),
])
def test_channels_last(layout, attrs, meta, framework, last):
    n = node("conv", "Conv", attrs, outs=[(1, 2, 3, 4)], layout=layout)
    g = Graph("g")
    g.meta["framework"] = framework
    if meta:
        g.meta["data_format"] = meta
    assert channels_last(g, n) is last


def test_channels_last_without_outputs_reads_the_attrs():
    g = Graph("g")
    assert channels_last(g, node("conv", "Conv", {"data_format": "NHWC"})) is True
    assert channels_last(g, node("conv", "Conv")) is False


def test_canonical_and_equal_shapes():
    assert canonical_shape(None, True) is None
    assert canonical_shape((1, 8, 6, 3), True) == (1, 3, 8, 6)
    assert canonical_shape((1, 8, 6, 4, 3), True) == (1, 3, 8, 6, 4)
    assert canonical_shape((1, 8, 3), True) == (1, 8, 3)  # rank 3 is not an image
    assert canonical_shape((1, 8, 6, 3), False) == (1, 8, 6, 3)
    assert canonical_shape(("batch", 8, None, 3), True) == (None, 3, 8, None)
    assert shapes_equal(None, None) and not shapes_equal(None, (1,)) and \
        not shapes_equal((1,), None)
    assert shapes_equal((1, 4), (7, 4))  # the batch is not compared
    assert not shapes_equal((4,), (7,))  # rank 1 has no batch
    assert not shapes_equal((1, 4), (1, 5)) and not shapes_equal((1, 4), (1, 4, 1))
    assert shapes_equal((1, None, 4), (1, 9, 4)) and shapes_equal((1, 9, 4), (1, None, 4))
    assert shape_key(None) is None
    assert shape_key((1, 8, None, 3)) == (4, (3, 8))
    assert shape_key((5,)) == (1, (5,))


@pytest.mark.parametrize(("key", "value", "out"), [
    ("padding", [1, 1, 1, 1], [1]), ("padding", [1, 2, 1, 2], [1, 2]),
    ("padding", [0, 1, 1, 0], [0, 1, 1, 0]), ("padding", [1, 2, 3], [1, 2, 3]),
    ("padding", [], []), ("pads", [1, 1, 1, 1], [1, 1, 1, 1]),
    ("kernel_size", (3, 3), [3]), ("kernel_size", 3, [3]), ("stride", [2, 1], [2, 1]),
    ("units", (3, 3), [3, 3]), ("units", 3, 3), ("dilation", True, True),
    ("axis", [2], [2]),
    ("units", 2.0, 2), ("eps", 1.0, 1.0), ("momentum", 0.0, 0.0), ("alpha", 0.5, 0.5),
    ("flag", True, True), ("flag", False, False),
])
def test_normalise_value(key, value, out):
    got = normalise_value(key, value)
    assert got == out and type(got) is type(out)


def test_comparable_attrs_drop_names():
    n = node("conv", "Conv", {"name": "x", "stack_trace": "t", "kernel_size": (3, 3),
                              "macs": 5})
    assert comparable_attrs(n) == {"kernel_size": [3]}


# -- what changed ---------------------------------------------------------------------


def _changes(a: Node, b: Node, fa: str = "pytorch", fb: str = "pytorch") -> list[dict]:
    a.id, b.id = "a", "b"
    return [c.to_dict() for c in compare(a, b, side(fa, a), side(fb, b))]


def test_same_framework_compares_everything():
    a = node("dense", "Gemm", {"units": 4, "alpha": 1.0}, 20, [(1, 4)], [(1, 4)])
    b = node("dense", "Gemm", {"units": 4, "alpha": 1.0}, 20, [(9, 4)], [(9, 4)])
    assert _changes(a, b) == []
    b = node("matmul", "MatMul", {"units": 8, "beta": 0.0}, 40, [(1, 4)], [(1, 8)])
    assert _changes(a, b) == [
        {"what": "kind", "before": "dense", "after": "matmul"},
        {"what": "op_type", "before": "Gemm", "after": "MatMul"},
        # with the op changed only shared attributes compare
        {"what": "attr", "before": 4, "after": 8, "key": "units"},
        {"what": "outputs", "before": ["1×4"], "after": ["1×8"]},
        {"what": "params", "before": 20, "after": 40}]
    # the same op: every attribute either has
    b = node("dense", "Gemm", {"units": 4, "beta": 0.0}, 20, [(1, 4), (1, 4)], [(1, 4)])
    assert _changes(a, b) == [
        {"what": "attr", "before": 1, "after": None, "key": "alpha"},
        {"what": "attr", "before": None, "after": 0, "key": "beta"},
        {"what": "inputs", "before": ["1×4"], "after": ["1×4", "1×4"]}]


def test_an_activation_attribute_is_not_repeated_when_the_op_changed():
    a = node("activation", "Relu", {"activation": "relu"}, 0, [(1, 4)], [(1, 4)])
    b = node("activation", "Gelu", {"activation": "gelu"}, 0, [(1, 4)], [(1, 4)])
    assert _changes(a, b) == [{"what": "op_type", "before": "Relu", "after": "Gelu"}]
    b = node("activation", "Relu", {"activation": "gelu"}, 0, [(1, 4)], [(1, 4)])
    assert _changes(a, b) == [{"what": "attr", "before": "relu", "after": "gelu",
                               "key": "activation"}]


def test_across_frameworks_only_functions_and_shared_attributes_compare():
    # Keras' channels-last conv against torch's: the same layer
    a = node("conv", "Conv2d", {"kernel_size": (3, 3), "padding": (1, 1), "in_channels": 3},
             896, [(1, 3, 8, 8)], [(1, 32, 8, 8)])
    b = node("conv", "Conv2D", {"kernel_size": [3, 3], "padding": "same", "filters": 32},
             896, [(1, 8, 8, 3)], [(1, 8, 8, 32)])
    assert _changes(a, b, "pytorch", "keras") == []
    # a different pool function is named, a different pool op of one function not
    a = node("pool", "MaxPool2d", {}, 0, [(1, 4, 8, 8)], [(1, 4, 4, 4)])
    b = node("pool", "MaxPool", {}, 0, [(1, 4, 8, 8)], [(1, 4, 4, 4)])
    assert _changes(a, b, "pytorch", "onnx") == []
    b = node("pool", "AveragePool", {}, 0, [(1, 4, 8, 8)], [(1, 4, 4, 4)])
    assert _changes(a, b, "pytorch", "onnx") == [
        {"what": "op_type", "before": "MaxPool2d", "after": "AveragePool"}]
    # reshape/flatten are one class across frameworks, not within one
    a = node("flatten", "Flatten", {}, 0, [(1, 4, 2)], [(1, 8)])
    b = node("reshape", "Reshape", {}, 0, [(1, 4, 2), (2,)], [(1, 8)])
    assert _changes(a, b, "pytorch", "onnx") == []
    assert _changes(a, b, "onnx", "onnx")[0] == {"what": "kind", "before": "flatten",
                                                 "after": "reshape"}
    # a kind change across frameworks that is not one class
    a = node("dense", "Linear", {}, 10, [(1, 4)], [(1, 2)])
    b = node("conv", "Conv", {}, 10, [(1, 4)], [(1, 2)])
    assert _changes(a, b, "pytorch", "onnx") == [{"what": "kind", "before": "dense",
                                                  "after": "conv"}]
    # an op type is not compared for a weighted kind across frameworks
    b = node("dense", "Gemm", {}, 10, [(1, 4)], [(1, 2)])
    assert _changes(a, b, "pytorch", "onnx") == []


def test_across_frameworks_values_of_another_representation_are_skipped():
    a = node("conv", "Conv2d", {"padding": [1], "groups": 1, "stride": 2}, 9)
    b = node("conv", "Conv", {"padding": "same", "groups": 2, "stride": [2, 2]}, 9)
    assert _changes(a, b, "pytorch", "onnx") == [
        {"what": "attr", "before": 1, "after": 2, "key": "groups"}]
    # a number against a bool is another representation too; an int against a float not
    a = node("norm", "BatchNorm2d", {"affine": True, "eps": 1e-5}, 8)
    b = node("norm", "BatchNormalization", {"affine": 1, "eps": 1e-3}, 8)
    assert _changes(a, b, "pytorch", "onnx") == [
        {"what": "attr", "before": 1e-5, "after": 1e-3, "key": "eps"}]


def test_across_frameworks_parameters_count_for_weighted_kinds_only():
    a = node("activation", "ReLU6", {}, 0, [(1, 4)], [(1, 4)])
    b = node("activation", "Clip", {}, 2, [(1, 4)], [(1, 4)])
    assert _changes(a, b, "pytorch", "onnx") == []
    assert _changes(a, b, "onnx", "onnx") == [
        {"what": "op_type", "before": "ReLU6", "after": "Clip"},
        {"what": "params", "before": 0, "after": 2}]
    a = node("norm", "BatchNorm2d", {}, 8, [(1, 4, 2, 2)], [(1, 4, 2, 2)])
    b = node("norm", "BatchNormalization", {}, 16, [(1, 4, 2, 2)], [(1, 4, 2, 2)])
    assert _changes(a, b, "pytorch", "onnx") == [{"what": "params", "before": 8,
                                                  "after": 16}]


def test_across_frameworks_inputs_are_the_set_of_data_tensors():
    a = node("dense", "Linear", {}, 0, [(1, 4), (4,), (1, 4)], [(1, 2)])
    b = node("dense", "Gemm", {}, 0, [(3, 4)], [(1, 2)])
    assert _changes(a, b, "pytorch", "onnx") == []
    b = node("dense", "Gemm", {}, 0, [(3, 5)], [(1, 2)])
    assert _changes(a, b, "pytorch", "onnx") == [
        {"what": "inputs", "before": ["1×4", "4", "1×4"], "after": ["3×5"]}]
    b = node("dense", "Gemm", {}, 0, [(3, 4), (3, 8)], [(1, 2)])
    assert _changes(a, b, "pytorch", "onnx")[0]["what"] == "inputs"
    b = node("dense", "Gemm", {}, 0, [None, (5,)], [(1, 2)])
    assert _changes(a, b, "pytorch", "onnx")[0]["after"] == ["?", "5"]
    # outputs keep their count and order across frameworks
    b = node("dense", "Gemm", {}, 0, [(1, 4)], [(1, 2), (1, 2)])
    assert _changes(a, b, "pytorch", "onnx") == [
        {"what": "outputs", "before": ["1×2"], "after": ["1×2", "1×2"]}]


def test_side_reads_a_node_outside_its_graph_fresh():
    inside = node("conv", "Conv", {"kernel_size": 3}, outs=[(1, 8, 8, 3)], nid="c")
    s = side("keras", inside)
    assert s.io(inside) == ([], [(1, 3, 8, 8)])
    assert s.attrs(inside) == {"kernel_size": [3]}
    # another node of the same id, not the graph's: read fresh, never from the cache
    other = node("conv", "Conv", {"kernel_size": 5, "data_format": "channels_first"},
                 outs=[(1, 8, 8, 3)], nid="c")
    assert s.io(other) == ([], [(1, 8, 8, 3)])
    assert s.attrs(other) == {"kernel_size": [5], "data_format": "channels_first"}
    assert s.io(inside) == ([], [(1, 3, 8, 8)])
    assert s.attrs(inside) == {"kernel_size": [3]}


def test_what_is_a_cause():
    ins = Change("inputs", ["1×4"], ["1×8"])
    assert not is_cause([])
    assert is_cause([Change("params", 1, 2)])
    assert not is_cause([ins, Change("outputs", ["1×4"], ["1×8"]), Change("params", 1, 2),
                         Change("attr", 4, 8, "in_features")])
    assert is_cause([ins, Change("attr", 4, 8, "units")])
    assert is_cause([ins, Change("op_type", "A", "B")])


def test_describe_and_headline():
    assert describe_change(Change("attr", 256, 512, "units")) == "units 256 → 512"
    assert describe_change(Change("attr", [3, 3], [5, 5], "kernel_size")) == \
        "kernel_size 3×3 → 5×5"
    assert describe_change(Change("attr", ["a", 1], [], "x")) == "x a, 1 → "
    assert describe_change(Change("attr", None, True, "bias")) == "bias – → True"
    assert describe_change(Change("attr", 9999, 10_000, "n")) == "n 9999 → 10.0k"
    assert describe_change(Change("attr", -10_000, 2.5, "n")) == "n -10.0k → 2.5"
    assert describe_change(Change("kind", "dense", "conv")) == "dense → conv"
    assert describe_change(Change("op_type", "Relu", "Gelu")) == "Relu → Gelu"
    assert describe_change(Change("name", "fc", "head")) == "renamed fc → head"
    assert describe_change(Change("params", 200_900, 401_900)) == "params 200.9k → 401.9k"
    assert describe_change(Change("outputs", ["1×256"], ["1×512"])) == "out 1×256 → 1×512"
    assert describe_change(Change("inputs", ["1×4", "1×4"], ["1×4"])) == \
        "in 1×4, 1×4 → 1×4"
    assert describe_change(Change("inputs", [], ["1×4"])) == "in – → 1×4"
    assert describe_change(Change("inputs", ["1×4"], [])) == "in 1×4 → –"
    assert headline([]) == ""
    changes = [Change("inputs", ["1×4"], ["1×8"]), Change("params", 1, 2),
               Change("outputs", ["1×4"], ["1×8"]), Change("attr", 4, 8, "in_features"),
               Change("attr", 1, 2, "groups")]
    assert headline(changes) == "groups 1 → 2"
    assert headline(changes[:4]) == "in_features 4 → 8"
    assert headline(changes[:3]) == "out 1×4 → 1×8"
    assert headline(changes[:2]) == "params 1 → 2"
    assert headline([Change("name", "a", "b"), changes[0]]) == "in 1×4 → 1×8"
    assert headline([changes[4], Change("op_type", "A", "B"),
                     Change("kind", "x", "y")]) == "x → y"
    assert Change("params", 1, 2).to_dict() == {"what": "params", "before": 1, "after": 2}


# -- matching -----------------------------------------------------------------------------


def _graph(name: str, specs: list[tuple], edges: list[tuple[str, str]],
           framework: str = "pytorch") -> Graph:
    """``specs``: (id, kind, op, width, attrs) in topological order; every tensor is 1×width."""
    g = Graph(name)
    g.meta["framework"] = framework
    width = {}
    for nid, kind, op, w, attrs in specs:
        width[nid] = w
        g.add_node(Node(nid, nid, kind, op, dict(attrs), 0,
                        [] if kind == "input" else [TensorSpec((1, w))],
                        [] if kind == "output" else [TensorSpec((1, w))]))
    for s, d in edges:
        g.add_edge(s, d, TensorSpec((1, width[s])))
    return g


def _pairs(m) -> set[tuple[str, str]]:
    return set(m.a_to_b.items())


def test_numbered_and_qualified_names():
    assert numbered_name("") and numbered_name("node_Conv_12") and numbered_name("conv2d_40")
    assert numbered_name("Relu:3") and numbered_name("a.7")
    assert not numbered_name("fc") and not numbered_name("layer1.0.conv1") and \
        not numbered_name("_3") and not numbered_name("conv_") and not numbered_name("12")
    n = node("conv", "Conv", group=("enc", "b1"))
    n.name = "conv2d_4"
    assert qualified_name(n) == ("enc", "b1", "conv2d_4")
    n.name = "stem"
    assert qualified_name(n) == ("stem",)


def test_longest_increasing_chain_is_the_longest():
    # hand-checked: (1,1),(2,2),(4,4),(5,5) or (…,(6,6)); five pairs increase at most
    pairs = [(0, 7), (1, 1), (2, 2), (3, 0), (4, 4), (5, 5), (6, 6), (7, 3)]
    assert longest_increasing(pairs) == [(1, 1), (2, 2), (4, 4), (5, 5), (6, 6)]
    assert longest_increasing([]) == []
    assert longest_increasing([(0, 5)]) == [(0, 5)]
    assert longest_increasing([(0, 2), (1, 1), (2, 0)]) == [(2, 0)]


def _brute_best(wa: list, wb: list, weight) -> int:
    """The best total weight of non-crossing pairs, by trying every choice recursively."""
    import functools

    @functools.lru_cache(None)
    def best(i: int, j: int) -> int:
        if i == len(wa) or j == len(wb):
            return 0
        w = weight(wa[i], wb[j])
        return max(best(i + 1, j), best(i, j + 1), (w + best(i + 1, j + 1)) if w else 0)
    return best(0, 0)


def _weight(x: tuple, y: tuple) -> int:
    """Hand rule of the docstring: same kind 1, and same width 2, and same kernel too 4."""
    if x[0] != y[0]:
        return 0
    return 4 if x == y else 2 if x[1] == y[1] else 1


@pytest.mark.parametrize("seed", range(12))
def test_unanchored_stretches_are_aligned_by_the_best_weighted_subsequence(seed,
                                                                           monkeypatch):
    import random

    from netdraw.diff import match as match_module
    rng = random.Random(seed)
    kinds = [("conv", 8, 3), ("conv", 8, 5), ("conv", 16, 3), ("dense", 8, 0),
             ("dense", 16, 0)]
    na, nb = rng.randint(1, 7), rng.randint(1, 7)
    seq_a = [rng.choice(kinds) for _ in range(na)]
    seq_b = [rng.choice(kinds) for _ in range(nb)]

    def chain(name: str, seq: list) -> Graph:
        specs = [(f"{name}{k}", kind, kind.title(), w, {"kernel": ks} if ks else {})
                 for k, (kind, w, ks) in enumerate(seq)]
        return _graph(name, specs, [(f"{name}{k}", f"{name}{k + 1}")
                                    for k in range(len(seq) - 1)])

    if seed % 3 == 2:  # the banded DP, with a band wide enough to hold every pair
        monkeypatch.setattr(match_module, "DP_CELLS", 1)
    m = match_module.Matcher(chain("a", seq_a), chain("b", seq_b))
    m._dp(list(range(na)), list(range(nb)))
    pairs = sorted((int(a[1:]), int(b[1:])) for a, b in m.match.a_to_b.items())
    assert all(i1 < i2 and j1 < j2 for (i1, j1), (i2, j2) in zip(pairs, pairs[1:], strict=False))
    assert all(_weight(seq_a[i], seq_b[j]) for i, j in pairs)
    got = sum(_weight(seq_a[i], seq_b[j]) for i, j in pairs)
    assert got == _brute_best(seq_a, seq_b, _weight)


def test_the_banded_alignment_keeps_to_the_diagonal(monkeypatch):
    from netdraw.diff import match as match_module
    monkeypatch.setattr(match_module, "DP_CELLS", 100)  # band 4 for 30 × 31 cells
    seq = [("conv", 8, 3), ("dense", 8, 0), ("conv", 16, 3)] * 10
    specs_a = [(f"a{k}", kind, kind.title(), w, {"kernel": ks}) for k, (kind, w, ks)
               in enumerate(seq)]
    specs_b = [("b0", "pool", "Pool", 8, {})] + [(f"b{k + 1}", kind, kind.title(), w,
                                                  {"kernel": ks})
                                                 for k, (kind, w, ks) in enumerate(seq)]
    m = match_module.Matcher(_graph("a", specs_a, []), _graph("b", specs_b, []))
    m._dp(list(range(30)), list(range(31)))
    # every layer pairs with its copy one place further on in B (hand count: 30 pairs)
    assert _pairs(m.match) == {(f"a{k}", f"b{k + 1}") for k in range(30)}


def test_unpaired_layers_take_their_neighbours_partners_neighbour():
    # two branches (conv, conv) and (dense, dense) between an input and a concat; with
    # only some layers paired, the others are found through a paired predecessor (b2)
    # or successor (a1), and a layer of another width is not taken
    from netdraw.diff.match import Matcher

    def branches(name: str, wide: bool = False) -> Graph:
        specs = [(f"{name}x", "input", "Input", 8, {}), (f"{name}a1", "conv", "Conv", 8, {}),
                 (f"{name}a2", "conv", "Conv", 8, {}), (f"{name}b1", "dense", "Dense", 4, {}),
                 (f"{name}b2", "dense", "Dense", 8 if wide else 4, {}),
                 (f"{name}j", "concat", "Concat", 12, {})]
        edges = [(f"{name}x", f"{name}a1"), (f"{name}a1", f"{name}a2"),
                 (f"{name}a2", f"{name}j"), (f"{name}x", f"{name}b1"),
                 (f"{name}b1", f"{name}b2"), (f"{name}b2", f"{name}j")]
        return _graph(name, specs, edges)

    for wide in (False, True):
        m = Matcher(branches("p"), branches("q", wide))
        for k in (2, 3, 5):  # a2, b1, j
            m.pair(k, k, "structure")
        m.neighbours()
        expected = {(f"p{k}", f"q{k}") for k in ("x", "a1", "a2", "b1", "j")}
        if not wide:  # a dense layer 4 wide is not one 8 wide (kind alone scores 1)
            expected.add(("pb2", "qb2"))
        assert _pairs(m.match) == expected


def test_a_graph_without_an_input_node_aligns_from_its_first_node():
    a = _graph("a", [("c1", "constant", "Const", 4, {}), ("d1", "dense", "Dense", 4, {}),
                     ("o1", "output", "Output", 4, {})], [("c1", "d1"), ("d1", "o1")])
    b = _graph("b", [("c2", "constant", "Const", 4, {}), ("d2", "dense", "Dense", 4, {}),
                     ("o2", "output", "Output", 4, {})], [("c2", "d2"), ("d2", "o2")])
    m = match_graphs(a, b)
    assert _pairs(m) == {("c1", "c2"), ("d1", "d2"), ("o1", "o2")}
    assert m.how == {"c1": "structure", "d1": "structure", "o1": "structure"}


def test_a_layer_of_another_kind_under_its_name_is_paired_by_name_last():
    a = _graph("a", [("x", "input", "Input", 4, {}), ("f", "activation", "Relu", 4, {}),
                     ("o", "output", "Output", 4, {})], [("x", "f"), ("f", "o")])
    b = _graph("b", [("x", "input", "Input", 4, {}), ("f", "elementwise", "Relu", 4, {}),
                     ("o", "output", "Output", 4, {})], [("x", "f"), ("f", "o")])
    m = match_graphs(a, b)
    assert m.how == {"x": "name", "f": "name", "o": "name"}
    assert m.exact == {"x", "o"}


def test_exact_pairs_have_the_same_output_shape():
    specs = [("x", "input", "Input", 4, {}), ("f", "reshape", "View", 4, {}),
             ("o", "output", "Output", 4, {})]
    a = _graph("a", specs, [("x", "f"), ("f", "o")])
    b = _graph("b", specs, [("x", "f"), ("f", "o")])
    b.nodes["f"].outputs = [TensorSpec((1, 2, 2))]
    m = match_graphs(a, b)
    assert set(m.a_to_b) == {"x", "f", "o"} and m.exact == {"x", "o"}
    assert m.counts() == {"name": 3, "structure": 0}


def test_every_pair_on_a_cycle_goes_after_the_careful_rounds():
    from netdraw.diff.match import Matcher

    def chain(name: str, ops: list[str]) -> Graph:
        specs = [("x", "input", "Input", 4, {})] + [(op, "activation", op, 4, {})
                                                    for op in ops]
        specs.append(("out", "output", "Output", 4, {}))
        ids = ["x", *ops, "out"]
        return _graph(name, specs, list(zip(ids, ids[1:], strict=False)))

    for rounds, left in ((16, 1), (0, 0)):
        m = Matcher(chain("a", ["Relu", "Tanh"]), chain("b", ["Tanh", "Relu"]))
        m.by_name()
        m.break_cycles(careful_rounds=rounds)
        # the careful way undoes one pair (the latest in A's order), the hasty one both
        paired = set(m.match.a_to_b) - {"x", "out"}
        assert len(paired) == left and paired <= {"Relu"}
        assert m.ab.count(-1) == 2 - left and m.ba.count(-1) == 2 - left


def test_a_structural_pair_on_a_cycle_goes_before_a_named_one():
    from netdraw.diff.match import Matcher
    # A: x -> p -> q -> out, B: x -> q' -> p -> out, where q' has another name
    a = _graph("a", [("x", "input", "Input", 4, {}), ("p", "activation", "Relu", 4, {}),
                     ("q", "activation", "Tanh", 4, {}), ("out", "output", "Output", 4, {})],
               [("x", "p"), ("p", "q"), ("q", "out")])
    b = _graph("b", [("x", "input", "Input", 4, {}), ("r", "activation", "Tanh", 4, {}),
                     ("p", "activation", "Relu", 4, {}), ("out", "output", "Output", 4, {})],
               [("x", "r"), ("r", "p"), ("p", "out")])
    m = Matcher(a, b)
    m.by_name()
    m.pair(2, 1, "structure")  # q with r: merging closes the cycle p -> q=r -> p
    m.break_cycles()
    assert _pairs(m.match) == {("x", "x"), ("p", "p"), ("out", "out")}


def test_strong_components_and_cycles_by_hand():
    from netdraw.diff.match import _acyclic, _strong_components
    succ = [[1], [2], [0, 3], [4], [3, 5], [], [6]]
    assert sorted(sorted(c) for c in _strong_components(succ)) == [[0, 1, 2], [3, 4], [5],
                                                                   [6]]
    assert not _acyclic(succ)
    assert _acyclic([[1, 2], [2], []]) and _acyclic([])
    assert sorted(sorted(c) for c in _strong_components([[1, 2], [2], []])) == [[0], [1], [2]]
    # a long chain closed into one ring: one component, no recursion limit
    n = 5000
    ring = [[k + 1] for k in range(n - 1)] + [[0]]
    assert [sorted(c) for c in _strong_components(ring)] == [list(range(n))]


def test_layers_alike_only_in_kind_align_from_the_first_node():
    # no input node: the first stretch starts at each graph's node 0; two layers of
    # other widths (kind alone in common, which the neighbour pass never takes) still
    # pair by position
    def g(name: str, width: int) -> Graph:
        return _graph(name, [(f"c{name}", "constant", "Const", width, {}),
                             (f"d{name}", "dense", "Dense", width, {}),
                             (f"o{name}", "output", "Output", width, {})],
                      [(f"c{name}", f"d{name}"), (f"d{name}", f"o{name}")])

    m = match_graphs(g("1", 4), g("2", 8))
    assert _pairs(m) == {("c1", "c2"), ("d1", "d2"), ("o1", "o2")}
    assert m.exact == set()


def test_a_layer_b_lacks_stays_unpaired():
    # A: a0 and i both feed s; B: only a0 feeds s. i has no partner: B's a0 is taken
    a = _graph("a", [("a0", "dense", "Dense", 4, {}), ("i", "dense", "Dense", 4, {}),
                     ("s", "add", "Add", 4, {})], [("a0", "s"), ("i", "s")])
    b = _graph("b", [("a0", "dense", "Dense", 4, {}), ("s", "add", "Add", 4, {})],
               [("a0", "s")])
    m = match_graphs(a, b)
    assert m.a_to_b == {"a0": "a0", "s": "s"} and m.b_to_a == {"a0": "a0", "s": "s"}


def test_the_banded_alignment_is_a_valid_alignment(monkeypatch):
    # long stretches aligned within a band of 4 (a hundred random pairs of sequences, A's
    # drawn from fewer kinds): whatever it finds is a set of non-crossing pairs of like
    # layers (checked pair by pair), and it ends
    import random

    from netdraw.diff import match as match_module
    monkeypatch.setattr(match_module, "DP_CELLS", 1)
    kinds = [("conv", 8, 3), ("conv", 16, 3), ("dense", 8, 0), ("pool", 8, 0)]

    def chain(name: str, seq: list) -> Graph:
        return _graph(name, [(f"{name}{k}", kind, kind.title(), w, {"kernel": ks})
                             for k, (kind, w, ks) in enumerate(seq)], [])

    for seed in range(1000, 1100):
        rng = random.Random(seed)
        na, nb = rng.randint(5, 30), rng.randint(2, 30)
        seq_a = [rng.choice(kinds[:rng.randint(1, 4)]) for _ in range(na)]
        seq_b = [rng.choice(kinds) for _ in range(nb)]
        m = match_module.Matcher(chain("a", seq_a), chain("b", seq_b))
        m._dp(list(range(na)), list(range(nb)))
        pairs = sorted((int(a[1:]), int(b[1:])) for a, b in m.match.a_to_b.items())
        assert all(i1 < i2 and j1 < j2
                   for (i1, j1), (i2, j2) in zip(pairs, pairs[1:], strict=False)), seed
        assert all(seq_a[i][0] == seq_b[j][0] for i, j in pairs), seed
