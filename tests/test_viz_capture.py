"""netdraw.viz.capture against each framework's own numbers: torch hooks written here, Keras
layers called one by one, onnxruntime on an exported model, and the trained shapes network
in all three frameworks."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import require_module

torch = require_module("torch")
from torch import nn  # noqa: E402

import netdraw  # noqa: E402
from netdraw.errors import NetdrawError  # noqa: E402
from netdraw.viz import capture  # noqa: E402
from netdraw.zoo.shapes import make_batch  # noqa: E402


def hook_outputs(model: nn.Module, x: torch.Tensor) -> dict[str, list[torch.Tensor]]:
    """The oracle: every leaf module's output per call, copied by a plain forward hook."""
    seen: dict[str, list[torch.Tensor]] = {}
    handles = []
    for name, module in model.named_modules():
        if name and not list(module.children()):
            def hook(_m, _a, out, name=name):
                seen.setdefault(name, []).append(out.detach().clone())
            handles.append(module.register_forward_hook(hook))
    try:
        with torch.no_grad():
            model(x)
    finally:
        for h in handles:
            h.remove()
    return seen


def no_hooks_left(model: nn.Module) -> bool:
    return all(not m._forward_hooks and not m._forward_pre_hooks
               and not m._backward_hooks for m in model.modules()) \
        and torch._C._len_torch_function_stack() == 0


@pytest.fixture(scope="module")
def shapes_torch():
    from netdraw.zoo.shapes.torch_model import shapes

    return shapes()


@pytest.fixture(scope="module")
def images():
    return make_batch(3, seed=4242)[0]


def test_torch_capture_equals_hooks_and_ids_equal_load(shapes_torch, images):
    x = torch.from_numpy(images)
    acts = capture(shapes_torch, images)
    graph = netdraw.load(shapes_torch, example_input=x)
    assert list(acts.graph.nodes) == list(graph.nodes)
    oracle = hook_outputs(shapes_torch, x)
    compared = 0
    for name, outs in oracle.items():
        if name.endswith("relu"):  # in-place: the hook sees the value after the ReLU
            continue
        np.testing.assert_allclose(acts[name], outs[0].numpy(), rtol=0, atol=1e-6)
        compared += 1
    assert compared >= 12
    np.testing.assert_array_equal(acts["x"], images)
    assert acts.batch == 3 and acts.axes["block1.conv"] == "NCHW"
    assert no_hooks_left(shapes_torch)


class InplaceNet(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3, padding=1)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(4, 4, 1)

    def forward(self, x):
        y = self.relu(self.conv(x))
        y += 1.0  # an in-place add on the ReLU's output
        return self.conv2(y)


def test_inplace_relu_does_not_corrupt_the_conv_map():
    torch.manual_seed(0)
    model = InplaceNet().eval()
    x = torch.randn(1, 3, 8, 8)
    acts = capture(model, x)
    conv = torch.nn.functional.conv2d(x, model.conv.weight, model.conv.bias, padding=1)
    np.testing.assert_allclose(acts["conv"], conv.detach().numpy(), atol=1e-6)
    assert (acts["conv"] < 0).any()  # the ReLU did not overwrite it
    np.testing.assert_allclose(acts["relu"], conv.clamp(min=0).detach().numpy(), atol=1e-6)
    add = next(n for n in acts.graph.nodes if "add" in n)
    np.testing.assert_allclose(acts[add], conv.clamp(min=0).detach().numpy() + 1, atol=1e-6)


class Twice(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.lin = nn.Linear(4, 4)

    def forward(self, x):
        return self.lin(torch.tanh(self.lin(x)))


def test_module_called_twice_gives_two_nodes_with_their_own_values():
    torch.manual_seed(0)
    model = Twice().eval()
    x = torch.randn(2, 4)
    acts = capture(model, x)
    first = model.lin(x)
    second = model.lin(torch.tanh(first))
    assert [n for n in acts.graph.nodes if n.startswith("lin")] == ["lin", "lin#2"]
    np.testing.assert_allclose(acts["lin"], first.detach().numpy(), atol=1e-6)
    np.testing.assert_allclose(acts["lin#2"], second.detach().numpy(), atol=1e-6)
    assert acts.kind("lin") == "vector"


class Failing(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 4, 3)
        self.head = nn.Linear(10, 2)

    def forward(self, x):
        return self.head(self.conv(x).flatten(1))


def test_hooks_are_gone_after_every_call_and_after_a_failing_forward(shapes_torch, images):
    from netdraw.viz import cam, filters

    capture(shapes_torch, images)
    cam(shapes_torch, images)
    cam(shapes_torch, images, method="scorecam")
    filters(shapes_torch, ["block2.conv"], ascent=True, steps=2, channels=2)
    assert no_hooks_left(shapes_torch)
    model = Failing().eval()
    with pytest.raises(NetdrawError, match="'head' \\(Linear\\)"):
        capture(model, np.zeros((1, 3, 8, 8), np.float32))
    assert no_hooks_left(model)
    with pytest.raises(NetdrawError, match="head"):
        cam(model, np.zeros((1, 3, 8, 8), np.float32))
    assert no_hooks_left(model)


def test_view_nodes_show_their_last_members_output(images):
    from netdraw.zoo.torch_models import resnet18

    model = resnet18()
    x = np.random.default_rng(0).standard_normal((1, 3, 64, 64)).astype(np.float32)
    acts = capture(model, x)
    view = netdraw.api.view(acts.graph, depth=2)
    on_view = acts.for_graph(view)
    oracle = hook_outputs(model, torch.from_numpy(x))
    stem = view.nodes["conv1"]  # conv1 + bn1 + relu folded: the post-ReLU map
    assert stem.attrs["pattern"] == "ConvBNAct"
    np.testing.assert_allclose(on_view["conv1"], oracle["relu"][0].numpy(), atol=1e-5)
    rolled = [n for n in view.nodes.values() if n.attrs.get("repeat")]
    blocks = [n for n in view.nodes.values() if n.kind == "block" and not n.attrs.get("repeat")]
    assert blocks
    for block in blocks + rolled:
        # The block's output is its last member's: the ReLU closing its last basic block.
        last_path = block.attrs.get("paths", [block.attrs.get("path")])[-1]
        relu_calls = oracle[f"{last_path[-1]}.relu"]
        np.testing.assert_allclose(on_view[block.id], relu_calls[-1].numpy(), atol=1e-5)
    # capture(graph=view) gives the same, keyed by the view's ids.
    direct = capture(model, x, graph=view, nodes=[blocks[0].id])
    np.testing.assert_array_equal(direct[blocks[0].id], on_view[blocks[0].id])


def test_activations_helpers_and_file_round_trip(shapes_torch, images, tmp_path):
    from netdraw.viz import Activations

    acts = capture(shapes_torch, images)
    maps = acts.spatial("block2.relu", example=1)
    assert maps.shape == (16, 32, 32)
    np.testing.assert_array_equal(maps, acts["block2.relu"][1])
    stats = acts.channel_stats("block2.relu", 1)
    top = acts.top_channels("block2.relu", 3, "max", 1)
    assert top == list(np.argsort(-maps.reshape(16, -1).max(1), kind="stable")[:3])
    assert stats["mean"][top[0]] <= maps.max()
    assert acts.value_range("block2.relu") == (float(acts["block2.relu"].min()),
                                               float(acts["block2.relu"].max()))
    path = tmp_path / "acts.npz"
    acts.save(path)
    back = Activations.load(path)
    assert list(back) == list(acts) and back.axes == acts.axes
    np.testing.assert_array_equal(back["block4.relu"], acts["block4.relu"])


def test_keras_functional_capture_equals_layers_called_one_by_one():
    keras = require_module("keras")
    from keras import layers

    inputs = keras.Input((12, 12, 3), name="img")
    a = layers.Conv2D(4, 3, padding="same", name="conv_a")(inputs)
    b = layers.Conv2D(4, 1, name="conv_b")(inputs)
    s = layers.Add(name="merge")([a, b])
    r = layers.ReLU(name="act")(s)
    g = layers.GlobalAveragePooling2D(name="gap")(r)
    out = layers.Dense(3, name="head")(g)
    model = keras.Model(inputs, out, name="func")
    x = np.random.default_rng(1).standard_normal((2, 12, 12, 3)).astype(np.float32)
    acts = capture(model, x)
    assert list(acts.graph.nodes) == list(netdraw.load(model).nodes)
    own = {}
    own["conv_a"] = model.get_layer("conv_a")(x)
    own["conv_b"] = model.get_layer("conv_b")(x)
    own["merge"] = model.get_layer("merge")([own["conv_a"], own["conv_b"]])
    own["act"] = model.get_layer("act")(own["merge"])
    own["gap"] = model.get_layer("gap")(own["act"])
    own["head"] = model.get_layer("head")(own["gap"])
    for name, value in own.items():
        np.testing.assert_allclose(acts[name], keras.ops.convert_to_numpy(value), atol=1e-5)
    assert acts.layout == "channels_last" and acts.axes["conv_a"] == "NHWC"
    assert acts.spatial("conv_a").shape == (4, 12, 12)


def test_onnx_export_capture_equals_torch(shapes_torch, images, tmp_path):
    require_module("onnxruntime")
    path = tmp_path / "shapes.onnx"
    torch.onnx.export(shapes_torch, (torch.from_numpy(images[:1]),), str(path),
                      dynamo=False, input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}})
    acts = capture(str(path), images)
    oracle = hook_outputs(shapes_torch, torch.from_numpy(images))
    names = {n.name: nid for nid, n in acts.graph.nodes.items()}
    compared = 0
    for name in ("block1.relu", "block1.pool", "block3.relu", "block4.relu", "fc"):
        nid = names.get(name) or next(i for n, i in names.items() if n.endswith(name))
        np.testing.assert_allclose(acts[nid], oracle[name][0].numpy(), atol=1e-4)
        compared += 1
    assert compared == 5


def test_onnx_external_data_is_read_inside_the_folder_only(tmp_path, images):
    require_module("onnxruntime")
    import onnx

    from netdraw.zoo.shapes.onnx_model import shapes

    model = shapes()
    folder = tmp_path / "m"
    folder.mkdir()
    onnx.save_model(model, str(folder / "shapes.onnx"), save_as_external_data=True,
                    all_tensors_to_one_file=True, location="weights.bin",
                    size_threshold=0)
    assert (folder / "weights.bin").stat().st_size > 50_000
    from_file = capture(str(folder / "shapes.onnx"), images)
    in_memory = capture(shapes(), images)
    np.testing.assert_allclose(from_file[from_file.graph.outputs[0]],
                               in_memory[in_memory.graph.outputs[0]], atol=1e-6)
    # A location outside the model's folder is refused, never read.
    escaped = onnx.load(str(folder / "shapes.onnx"), load_external_data=False)
    for t in escaped.graph.initializer:
        for entry in t.external_data:
            if entry.key == "location":
                entry.value = "../weights.bin"
    (tmp_path / "weights.bin").write_bytes((folder / "weights.bin").read_bytes())
    onnx.save_model(escaped, str(folder / "escaped.onnx"))
    with pytest.raises(NetdrawError, match="outside the model's folder"):
        capture(str(folder / "escaped.onnx"), images)


def test_trained_shapes_network_gives_the_same_activations_in_three_frameworks(images):
    require_module("onnxruntime")
    require_module("keras")
    from netdraw.zoo import build

    by_framework = {name: capture(build(name), images if name != "keras-shapes"
                                  else np.moveaxis(images, 1, -1))
                    for name in ("shapes", "onnx-shapes", "keras-shapes")}
    reference = by_framework["shapes"]
    layers = ["block1.conv", "block1.bn", "block1.relu", "block1.pool", "block2.relu",
              "block3.conv", "block3.pool", "block4.bn", "block4.relu", "fc"]
    for framework, acts in by_framework.items():
        names = {n.name.replace("_", "."): nid for nid, n in acts.graph.nodes.items()}
        for layer in layers:
            nid = names[layer]
            ours = acts.spatial(nid) if acts.kind(nid) == "spatial" else acts.vector(nid)
            ref_id = layer
            ref = reference.spatial(ref_id) if reference.kind(ref_id) == "spatial" \
                else reference.vector(ref_id)
            np.testing.assert_allclose(ours, ref, atol=1e-4, err_msg=f"{framework} {layer}")
