"""What the HTML page model computes in Python and the page only shows: each group's
parameters, MACs, layer count and the tensors entering and leaving it (the side panel's
Inputs and Outputs), each layer's shapes, the children order and the rolling hints.

Oracles from outside netdraw: PyTorch itself (``named_modules``, ``numel``, forward hooks
for the shapes a module receives and returns, ``FlopCounterMode`` for MACs) and hand
counts on graphs built here.
"""

from __future__ import annotations

from collections import Counter

import pytest
from conftest import require_module

import netdraw
from netdraw.backends.html.model import page_model
from netdraw.ir import Graph, Node, TensorSpec

torch = require_module("torch")
nn = torch.nn


class Pair(nn.Module):
    """Two inputs of the same shape: two tensors enter the module."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Linear(16, 16)
        self.right = nn.Linear(16, 16)

    def forward(self, a, b):
        return self.left(a) + self.right(b)


class Branches(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.stem = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.up = nn.Linear(16, 16)
        self.down = nn.Linear(16, 16)
        self.pair = Pair()
        self.head = nn.Sequential(nn.Linear(16, 32), nn.ReLU(), nn.Linear(32, 4))

    def forward(self, x):
        h = self.stem(x)
        return self.head(self.pair(self.up(h), self.down(h)))


def _torch_facts(model: nn.Module, example: torch.Tensor):
    """Per module name: its parameter count, the shapes it receives and returns (forward
    hooks), and its MACs (FlopCounterMode's FLOPs / 2)."""
    from torch.utils.flop_counter import FlopCounterMode

    seen: dict[str, tuple[list, list]] = {}

    def shapes(value) -> list[tuple[int, ...]]:
        items = value if isinstance(value, (tuple, list)) else [value]
        return [tuple(t.shape) for t in items if isinstance(t, torch.Tensor)]

    def recorder(name: str):
        def hook(module, args, out) -> None:  # returns None: the output is left alone
            seen.setdefault(name, (shapes(args), shapes(out)))
        return hook

    hooks = [m.register_forward_hook(recorder(name)) for name, m in model.named_modules()
             if name]
    counter = FlopCounterMode(display=False)
    with torch.no_grad(), counter:
        model(example)
    for h in hooks:
        h.remove()
    flops = counter.get_flop_counts()
    prefix = type(model).__name__
    macs = {name: sum(flops.get(f"{prefix}.{name}", {}).values()) // 2
            for name, _ in model.named_modules() if name}
    params = {name: sum(p.numel() for p in m.parameters())
              for name, m in model.named_modules() if name}
    return params, seen, macs


@pytest.mark.parametrize("build, shape", [
    (lambda: Branches().eval(), (1, 8)),
    (lambda: __import__("netdraw.zoo.torch_models", fromlist=["resnet18"]).resnet18().eval(),
     (1, 3, 64, 64)),
], ids=["branches", "resnet18"])
def test_groups_carry_torchs_parameters_macs_and_the_tensors_crossing_them(build, shape):
    model = build()
    example = torch.randn(*shape)
    params, shapes, macs = _torch_facts(model, example)
    data = page_model(netdraw.load(model, example_input=example))
    tensors = data["tensors"]
    checked = 0
    for group in data["groups"][1:]:
        name = group["path"][-1]
        if name not in params or "params" not in group:
            continue
        checked += 1
        assert group["params"] == params[name], name
        assert (group["macs"] or 0) == macs[name], name
        received, returned = shapes[name]
        # The side panel's Inputs and Outputs: the tensors the module receives and returns,
        # one entry per tensor (two inputs of one shape are two inputs).
        assert Counter(tuple(tensors[t]["shape"]) for t in group["inputs"]) == \
            Counter(received), (name, "inputs")
        assert Counter(tuple(tensors[t]["shape"]) for t in group["outputs"]) == \
            Counter(returned), (name, "outputs")
    assert checked >= 2
    total = sum(p.numel() for p in model.parameters())
    assert data["info"]["params"] == total
    assert data["groups"][0]["params"] == total


def test_layers_carry_the_shapes_torch_passes_them():
    model = Branches().eval()
    example = torch.randn(1, 8)
    params, shapes, _ = _torch_facts(model, example)
    data = page_model(netdraw.load(model, example_input=example), prelayout=False)
    tensors = data["tensors"]
    leaves = {name for name, m in model.named_modules() if name and not list(m.children())}
    checked = 0
    for node in data["nodes"]:
        name = node.get("source_name", node["name"])
        if name not in leaves or name not in shapes or node["kind"] != "dense":
            continue
        checked += 1
        received, returned = shapes[name]
        assert [tuple(tensors[t]["shape"]) for t in node["outputs"]] == returned, name
        assert Counter(tuple(tensors[t]["shape"]) for t in node["inputs"]
                       if len(tensors[t]["shape"] or []) > 1) >= Counter(received), name
        assert node["params"] == params[name], name
    assert checked == 7  # every Linear, counted by hand


def _chain(blocks: list[tuple[str, int]]) -> Graph:
    """input → blocks (each: a dense layer of the given width and an activation, in group
    ("stack", label)) → output."""
    g = Graph("hand")
    width = 4
    g.add_node(Node("in", "in", "input", "Input", outputs=[TensorSpec((1, width))]))
    prev = "in"
    for label, units in blocks:
        group = ("stack", label)
        fc = g.add_node(Node(f"{label}.fc", f"{label}.fc", "dense", "Linear",
                             {"units": units}, width * units + units,
                             [TensorSpec((1, width))], [TensorSpec((1, units))], group))
        g.add_edge(prev, fc.id, TensorSpec((1, width)))
        act = g.add_node(Node(f"{label}.act", f"{label}.act", "activation", "Tanh", {}, 0,
                              [TensorSpec((1, units))], [TensorSpec((1, units))], group))
        g.add_edge(fc.id, act.id, TensorSpec((1, units)))
        prev, width = act.id, units
    g.add_node(Node("out", "out", "output", "Output", inputs=[TensorSpec((1, width))]))
    g.add_edge(prev, "out", TensorSpec((1, width)))
    g.add_group(("stack",), class_name="Stack")
    for label, _ in blocks:
        g.add_group(("stack", label), class_name="Block")
    g.validate()
    return g


def test_items_chains_and_twins_by_hand():
    """Blocks a, b, c of width 8 (b and c the same as each other, a different: it takes
    the width-4 input), then d of width 6, then e of width 6 (d takes 8, e takes 6)."""
    g = _chain([("a", 8), ("b", 8), ("c", 8), ("d", 6), ("e", 6)])
    from netdraw.passes.view import ViewOptions

    data = page_model(g, ViewOptions(fold=False), prelayout=False)
    groups = data["groups"]
    index = {tuple(gr["path"]): i for i, gr in enumerate(groups)}
    stack = groups[index[("stack",)]]
    kinds = [item[0] for item in stack["items"]]
    assert kinds == [1, 1, 1, 1, 1]  # five groups, no loose layer
    order = [groups[item[1]]["path"][-1] for item in stack["items"]]
    assert order == ["a", "b", "c", "d", "e"]
    chains = [item[2] for item in stack["items"]]
    # a: nothing before; b after a: other input width, no; c after b: the same, yes;
    # d after c: other width, no; e after d: other input width (8 against 6), no.
    assert chains == [0, 0, 1, 0, 0]
    # The group item before each, of the same class (Block): a's none, then each one's.
    assert [item[3] for item in stack["items"]] == [-1, *(item[1] for item in
                                                           stack["items"][:-1])]
    signature = {groups[item[1]]["path"][-1]: groups[item[1]]["sig"] for item in stack["items"]}
    assert signature["b"] == signature["c"] and len(set(signature.values())) == 4
    for label, units, width in (("a", 8, 4), ("b", 8, 8), ("d", 6, 8), ("e", 6, 6)):
        block = groups[index[("stack", label)]]
        assert block["params"] == width * units + units  # weights and biases
        assert block["nodes"] == 2
        assert [data["tensors"][t]["shape"] for t in block["inputs"]] == [[1, width]]
        assert [data["tensors"][t]["shape"] for t in block["outputs"]] == [[1, units]]
    assert stack["params"] == sum((w * u + u) for w, u in ((4, 8), (8, 8), (8, 8), (8, 6),
                                                           (6, 6)))
    # Depth levels: "stack" is all the model holds besides its input and output, so it
    # is no level of its own (depth 1 already shows its blocks); the blocks open at 2.
    assert stack["level"] == 0 and all(groups[index[("stack", x)]]["level"] == 1
                                       for x in "abcde")
    assert data["info"]["source_nodes"] == len(g) == 12
