"""Collapsing and rolling (``passes/collapse.py``) on ResNet-18 and ResNet-50 traced live,
against the torch modules themselves: each stage holds ``len(model.layerN)`` blocks of one
class, and a stage's first block rolls with the others only when torch gave it no
``downsample`` (its shapes are then the same)."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import netdraw
from netdraw.passes.collapse import GroupIndex, count_stages, view_at
from netdraw.zoo import torch_models as Z

STAGES = ("layer1", "layer2", "layer3", "layer4")


@pytest.fixture(scope="module", params=["resnet18", "resnet50"])
def resnet(request):
    model = getattr(Z, request.param)()
    return model, GroupIndex(netdraw.load(model, input_shape=(1, 3, 64, 64)))


def _blocks(view) -> dict[str, int | None]:
    return {n.name: n.attrs.get("repeat") for n in view if n.kind == "block"}


def _expected_runs(model) -> dict[str, int | None]:
    """Per stage: a first block with a downsample stands alone, the rest roll (a single
    remaining block is no run); without a downsample the whole stage rolls."""
    out: dict[str, int | None] = {}
    for stage in STAGES:
        blocks = getattr(model, stage)
        n = len(blocks)
        if blocks[0].downsample is None:
            out[f"{stage}.0–{stage}.{n - 1}"] = n
            continue
        rest = n - 1
        out.update({f"{stage}.1–{stage}.{n - 1}": rest} if rest >= 2 else {f"{stage}.1": None})
    return out


def test_depth_one_draws_each_stage_with_its_block_count(resnet):
    model, index = resnet
    view = view_at(index, 1)
    count_stages(index, view)
    stages = {n.name: n.attrs.get("blocks") for n in view if n.kind == "block"}
    assert stages == {s: [len(getattr(model, s)), type(getattr(model, s)[0]).__name__]
                      for s in STAGES}
    assert sum(n.params for n in view) == sum(p.numel() for p in model.parameters())


@pytest.mark.parametrize("depth", [2, 3])
def test_runs_of_identical_blocks_roll_and_downsampling_blocks_do_not(resnet, depth):
    model, index = resnet
    view = view_at(index, depth)
    blocks = _blocks(view)
    expected = _expected_runs(model)
    rolled = {name: n for name, n in blocks.items() if n}
    assert rolled == {name: n for name, n in expected.items() if n}
    for stage in STAGES:
        if getattr(model, stage)[0].downsample is not None:
            # the first block: one block at depth 2, open with its downsample at depth 3
            first = f"{stage}.0.downsample" if depth == 3 else f"{stage}.0"
            assert blocks[first] is None
    assert sum(n.params for n in view) == sum(p.numel() for p in model.parameters())


def test_without_rolling_every_block_is_drawn(resnet):
    model, index = resnet
    view = view_at(index, 2, roll=False)
    assert sorted(_blocks(view)) == sorted(f"{s}.{i}" for s in STAGES
                                           for i in range(len(getattr(model, s))))


def test_expand_and_collapse_flags(resnet):
    model, index = resnet
    view = view_at(index, 1, expand={("layer3",)}, collapse={("layer3", "layer3.0")})
    assert set(_blocks(view)) == {"layer1", "layer2", "layer3.0", "layer4"}
    opened = {n.group[:2] for n in view if n.group[:1] == ("layer3",) and len(n.group) > 1}
    assert opened == {("layer3", f"layer3.{i}") for i in range(1, len(model.layer3))}
    whole = view_at(index, 0)
    assert [n.kind for n in whole if n.kind not in ("input", "output")] == ["block"]


def test_block_ids_and_plain_chains_follow_the_modules(resnet):
    """A block's id is its module path (``block:layer3/layer3.0``, what the JSON and the
    page name it by); a Sequential of a conv and a norm (torch's ``downsample``) is a plain
    chain, a bottleneck with its residual add is not."""
    from netdraw.passes.collapse import block_id, is_plain_chain

    model, index = resnet
    view = view_at(index, 2, roll=False)
    ids = {n.name: n.id for n in view if n.kind == "block"}
    assert ids["layer3.0"] == block_id(("layer3", "layer3.0")) == "block:layer3/layer3.0"
    assert is_plain_chain(index, ("layer2", "layer2.0", "layer2.0.downsample"))
    assert isinstance(model.layer2[0].downsample, nn.Sequential)
    assert not is_plain_chain(index, ("layer2", "layer2.0"))


def test_an_unknown_group_name_is_an_error_that_lists_the_groups(resnet):
    from netdraw.errors import NetdrawError
    from netdraw.passes.collapse import resolve_paths

    model, index = resnet
    assert resolve_paths(index.graph, ["layer3.0"], "--expand") == {("layer3", "layer3.0")}
    assert resolve_paths(index.graph, ["nope"], "--expand", optional=True) == set()
    with pytest.raises(NetdrawError) as err:
        resolve_paths(index.graph, ["nope"], "--expand")
    message = str(err.value)
    assert message.startswith("--expand 'nope' names no group of the model; groups are: ")
    names = sorted(name for name, _ in model.named_modules() if name and "." not in name
                   and any(True for _ in getattr(model, name).children()))
    assert all(name in message for name in names[:2])


def _cells(classes: bool):
    """input -> stem -> cell1, cell2, cell3 (two convs each, shapes kept) -> out; the cells
    inside a group ``body`` beside the loose stem; with or without class names."""
    from netdraw.ir import Graph, Group, Node, TensorSpec

    s = TensorSpec((1, 4, 8, 8))
    g = Graph("cells")
    g.add_node(Node("in", "in", "input", "Input", outputs=[s]))
    g.add_node(Node("stem", "stem", "activation", "Relu", inputs=[s], outputs=[s]))
    g.add_edge("in", "stem", s)
    prev = "stem"
    for cell in ("cell1", "cell2", "cell3"):
        for layer in ("a", "b"):
            nid = f"{cell}.{layer}"
            g.add_node(Node(nid, nid, "conv", "Conv", params=148,
                            attrs={"kernel_size": [3, 3], "in_channels": 4, "out_channels": 4},
                            inputs=[s], outputs=[s], group=("body", cell)))
            g.add_edge(prev, nid, s)
            prev = nid
    g.add_node(Node("out", "out", "output", "Output", inputs=[s]))
    g.add_edge(prev, "out", s)
    g.inputs, g.outputs = ["in"], ["out"]
    if classes:
        g.groups = {("body",): Group(("body",), "Stage", "body"),
                    **{("body", c): Group(("body", c), "Cell", c)
                       for c in ("cell1", "cell2", "cell3")}}
    return g


@pytest.mark.parametrize("classes", [True, False])
def test_cells_with_or_without_classes_roll_and_count(classes):
    """Three alike cells roll ×3; without class names the labels (cell1, cell2, cell3:
    one name but for the number) say they are alike. The whole model is one block of the
    model's class (``Model`` when unknown), a block of unknown class a ``Block``."""
    graph = _cells(classes)
    index = GroupIndex(graph)
    two = view_at(index, 2)
    assert [(n.name, n.attrs.get("repeat")) for n in two if n.kind == "block"] == [
        ("cell1–cell3", 3)]
    # drawn open, the first cell shows its layers once and the other two roll
    three = view_at(index, 3)
    assert [(n.name, n.attrs.get("repeat")) for n in three if n.kind != "input"] == [
        ("stem", None), ("cell1.a", None), ("cell1.b", None), ("cell2–cell3", 2),
        ("out", None)]
    one = view_at(index, 1)
    count_stages(index, one)
    (body,) = [n for n in one if n.kind == "block"]
    assert body.attrs["blocks"] == [3, "Cell" if classes else ""]
    assert body.op_type == ("Stage" if classes else "Block")
    (whole,) = [n for n in view_at(index, 0) if n.kind == "block"]
    assert whole.op_type == "Model"
    assert whole.params == sum(n.params for n in graph) == 6 * 148


def test_a_block_without_its_residual_is_drawn_as_one_cluster():
    """MobileNetV2's inverted residuals without a residual (torch's ``use_residual`` False)
    hold nothing but their ``conv`` Sequential: drawn as one cluster named after the outer
    module; those with the residual add keep both levels."""
    from netdraw.passes.collapse import drawn_groups

    model = Z.mobilenetv2()
    index = GroupIndex(netdraw.load(model, input_shape=(1, 3, 64, 64)))
    drawn = drawn_groups(index)
    for i, block in enumerate(model.features):
        if not isinstance(block, Z.InvertedResidual):
            continue
        outer, inner = ("features", f"features.{i}"), ("features", f"features.{i}",
                                                       f"features.{i}.conv")
        assert drawn[outer].class_name == "InvertedResidual"
        assert (inner in drawn) is block.use_residual, i


@pytest.mark.parametrize("depth", [0, 1, 2])
def test_blocks_carry_the_macs_of_their_layers(resnet, depth):
    """The view's MACs (blocks carry their members' sum) are torch's FlopCounterMode count."""
    from torch.utils.flop_counter import FlopCounterMode

    from netdraw.passes.stats import total_macs

    model, index = resnet
    with FlopCounterMode(display=False) as counter:
        model(torch.randn(1, 3, 64, 64))
    view = view_at(index, depth)
    assert all("macs" in n.attrs for n in view if n.kind == "block")
    assert total_macs(view) == counter.get_total_flops() // 2


class Cell(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(4, 4, 3, padding=1)
        self.norm = nn.BatchNorm2d(4)

    def forward(self, x):
        return x + self.norm(self.conv(x))


class Stage(nn.Module):
    """Its blocks in a container (a ModuleList looped over, or a Sequential called), beside
    a layer of its own."""

    def __init__(self, count: int, container: type[nn.Module]):
        super().__init__()
        cells = [Cell() for _ in range(count)]
        self.blocks = container(cells) if container is nn.ModuleList else container(*cells)
        self.act = nn.ReLU()

    def forward(self, x):
        if isinstance(self.blocks, nn.ModuleList):
            for block in self.blocks:
                x = block(x)
        else:
            x = self.blocks(x)
        return self.act(x)


@pytest.mark.parametrize("container", [nn.ModuleList, nn.Sequential])
def test_a_stage_counts_the_blocks_of_its_container(container):
    model = nn.Sequential(nn.Conv2d(3, 4, 1), Stage(3, container), Stage(2, container))
    index = GroupIndex(netdraw.load(model, input_shape=(1, 3, 8, 8)))
    view = view_at(index, 1)
    count_stages(index, view)
    stages = {n.name: n.attrs.get("blocks") for n in view if n.kind == "block"}
    assert stages == {str(i): [len(model[i].blocks), "Cell"] for i in (1, 2)}


def test_a_run_after_an_open_twin_rolls_whole_without_classes():
    """No class names (an ONNX export's scopes): cell0 changes the channels, so it is drawn
    apart, open at depth 3; cell1-cell3 are alike and of cell0's kind by name (``cell`` and
    a number), so cell0 already shows their layers and the run rolls whole, ×3."""
    from netdraw.ir import Graph, Node, TensorSpec

    narrow, wide = TensorSpec((1, 2, 8, 8)), TensorSpec((1, 4, 8, 8))
    g = Graph("cells")
    g.add_node(Node("in", "in", "input", "Input", outputs=[narrow]))
    g.add_node(Node("stem", "stem", "activation", "Relu", inputs=[narrow], outputs=[narrow]))
    g.add_edge("in", "stem", narrow)
    prev, spec = "stem", narrow
    for cell in ("cell0", "cell1", "cell2", "cell3"):
        for layer in ("a", "b"):
            nid = f"{cell}.{layer}"
            cin = spec.shape[1]
            g.add_node(Node(nid, nid, "conv", "Conv", params=(cin * 9 + 1) * 4,
                            attrs={"kernel_size": [3, 3], "in_channels": cin,
                                   "out_channels": 4},
                            inputs=[spec], outputs=[wide], group=("body", cell)))
            g.add_edge(prev, nid, spec)
            prev, spec = nid, wide
    g.add_node(Node("out", "out", "output", "Output", inputs=[wide]))
    g.add_edge(prev, "out", wide)
    g.inputs, g.outputs = ["in"], ["out"]
    view = view_at(GroupIndex(g), 3)
    assert [(n.name, n.attrs.get("repeat")) for n in view if n.kind not in ("input", "output")
            ] == [("stem", None), ("cell0.a", None), ("cell0.b", None), ("cell1–cell3", 3)]
