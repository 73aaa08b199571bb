"""Grouped, depthwise, dilated and transposed convolutions through every path a torch model
reaches netdraw by: the live tracer, ``torch.export`` in memory, a ``.pt2`` archive and an
ONNX file (the legacy exporter). The oracles are torch's own: each module's output shape from
a forward hook, its ``sum(p.numel())``, and ``FlopCounterMode`` for the MACs."""

from __future__ import annotations

import pytest
import torch
from torch import nn

import netdraw
from netdraw.passes.stats import total_macs


class Convs2d(nn.Module):
    """Every conv rule at once: groups, depthwise, dilation, stride, padding, transposed
    with groups, output padding and dilation, a depthwise transposed conv, no bias."""

    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv2d(4, 8, 3, padding=1, groups=2)
        self.depthwise = nn.Conv2d(8, 16, 3, stride=2, groups=8, bias=False)
        self.dilated = nn.Conv2d(16, 6, 3, dilation=2, padding=(2, 1))
        self.up = nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, groups=2)
        self.up_depthwise = nn.ConvTranspose2d(4, 8, 2, stride=2, dilation=2, groups=4,
                                               bias=False)
        self.norm = nn.BatchNorm2d(8)
        self.pool = nn.MaxPool2d(2)
        self.fc = nn.Linear(8, 3)

    def forward(self, x):
        x = torch.relu(self.grouped(x))
        x = self.depthwise(x)
        x = self.dilated(x)
        x = self.up(x)
        x = self.norm(self.up_depthwise(x))
        x = self.pool(x).mean((2, 3))
        return self.fc(x)

    @staticmethod
    def example():
        return torch.randn(2, 4, 13, 11)


class Convs1d(nn.Module):
    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv1d(6, 9, 4, stride=2, groups=3)
        self.depthwise = nn.Conv1d(9, 9, 3, dilation=3, groups=9)
        self.up = nn.ConvTranspose1d(9, 6, 3, stride=3, groups=3, output_padding=2)

    def forward(self, x):
        return self.up(self.depthwise(self.grouped(x)))

    @staticmethod
    def example():
        return torch.randn(2, 6, 30)


class Convs3d(nn.Module):
    def __init__(self):
        super().__init__()
        self.grouped = nn.Conv3d(4, 4, (1, 3, 3), padding=(0, 1, 1), groups=4)
        self.up = nn.ConvTranspose3d(4, 2, 2, stride=2, groups=2)

    def forward(self, x):
        return self.up(self.grouped(x))

    @staticmethod
    def example():
        return torch.randn(1, 4, 3, 5, 6)


MODELS = {"2d": Convs2d, "1d": Convs1d, "3d": Convs3d}
CONVS = (nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d, nn.ConvTranspose2d,
         nn.ConvTranspose3d)


def torch_facts(model: nn.Module, x: torch.Tensor):
    """name -> (output shape, parameters, groups) of every conv; and the MACs per example."""
    from torch.utils.flop_counter import FlopCounterMode

    shapes, hooks = {}, []
    for name, module in model.named_modules():
        if isinstance(module, CONVS):
            hooks.append(module.register_forward_hook(
                lambda m, i, o, name=name: shapes.__setitem__(name, tuple(o.shape))))
    with FlopCounterMode(display=False) as counter:
        model(x)
    for hook in hooks:
        hook.remove()
    convs = {name: (shapes[name], sum(p.numel() for p in m.parameters()), m.groups)
             for name, m in model.named_modules() if isinstance(m, CONVS)}
    return convs, counter.get_total_flops() // 2 // x.shape[0]


def load(model: nn.Module, x: torch.Tensor, path: str, tmp_path):
    if path == "live":
        return netdraw.load(model, example_input=x)
    program = torch.export.export(model, (x,))
    if path == "export":
        return netdraw.load(program)
    if path == "pt2":
        torch.export.save(program, str(tmp_path / "m.pt2"))
        return netdraw.load(tmp_path / "m.pt2")
    torch.onnx.export(model, (x,), str(tmp_path / "m.onnx"), dynamo=False,
                      input_names=["x"], output_names=["y"])
    return netdraw.load(tmp_path / "m.onnx")


@pytest.mark.parametrize("path", ["live", "export", "pt2", "onnx"])
@pytest.mark.parametrize("model_name", list(MODELS))
def test_convs_match_torch_on_every_path(model_name, path, tmp_path):
    model = MODELS[model_name]().eval()
    x = model.example()
    convs, macs = torch_facts(model, x)
    graph = load(model, x, path, tmp_path)
    found = {n.name: n for n in graph if n.kind in ("conv", "conv_transpose")}
    assert sorted(found) == sorted(convs)
    for name, (shape, params, groups) in convs.items():
        node = found[name]
        assert node.outputs[0].shape == shape, name
        assert node.params == params, name
        assert node.attrs.get("groups", 1) == groups, name
        assert node.kind == ("conv_transpose" if "Transpose" in
                             type(model.get_submodule(name)).__name__ else "conv"), name
    params = sum(p.numel() for p in model.parameters())
    if path == "onnx":  # a BatchNormalization reads its running statistics as inputs
        params += sum(b.numel() for name, b in model.named_buffers()
                      if name.endswith(("running_mean", "running_var")))
    assert graph.total_params == params
    assert total_macs(graph) == macs


class Functional(nn.Module):
    """The functional forms, whose hyper-parameters come from the arguments alone: grouped
    and transposed convs, linear, addmm (transformers' Conv1D), matmul, bmm, baddbmm and
    einsum (explicit, implicit, broadcast and elementwise), an embedding, a layer norm."""

    def __init__(self):
        super().__init__()
        self.w_conv = nn.Parameter(torch.randn(6, 2, 3, 3))  # groups=2 over 4 channels
        self.w_up = nn.Parameter(torch.randn(6, 2, 2, 2))  # transposed: 6 in, 2·3 out
        self.w_fc = nn.Parameter(torch.randn(5, 6))
        self.w_c1d = nn.Parameter(torch.randn(5, 7))  # addmm: (in, out)
        self.b_c1d = nn.Parameter(torch.randn(7))
        self.table = nn.Parameter(torch.randn(10, 7))
        self.norm_w = nn.Parameter(torch.ones(7))

    def forward(self, x):
        y = torch.nn.functional.conv2d(x, self.w_conv, stride=2, padding=1, groups=2)
        y = torch.nn.functional.conv_transpose2d(y, self.w_up, stride=2, groups=3)
        t = y.mean((2, 3))  # (N, 6)
        t = torch.nn.functional.linear(t, self.w_fc)  # (N, 5)
        t = torch.addmm(self.b_c1d, t, self.w_c1d)  # (N, 7)
        e = torch.nn.functional.embedding(torch.tensor([[1, 4, 9]]), self.table)  # (1, 3, 7)
        e = torch.nn.functional.layer_norm(e, (7,), self.norm_w)
        s = torch.matmul(e, e.transpose(1, 2))  # (1, 3, 3): contracts 7
        s = torch.baddbmm(s, s, s.transpose(1, 2))  # (1, 3, 3): contracts 3
        v = torch.bmm(s, e)  # (1, 3, 7): contracts 3
        a = torch.einsum("bij,bjk->bik", v, e.transpose(1, 2))  # contracts 7
        b = torch.einsum("bij,bkj", v, v)  # implicit output ik: contracts b and j
        c = torch.einsum("bij,bij->bij", v, v)  # elementwise: no accumulation
        d = torch.einsum("ij,bjk->bik", s[0], v)  # a broadcast batch: contracts 3
        return t.sum() + a.sum() + b.sum() + c.sum() + d.sum()

    @staticmethod
    def example():
        return torch.randn(1, 4, 8, 8)


@pytest.mark.parametrize("path", ["live", "export", "pt2"])
def test_functional_ops_match_torch(path, tmp_path):
    """No modules to hook: the MACs (FlopCounterMode), the parameters (numel) and the convs'
    channels, read from the weights' shapes, are what torch says."""
    from torch.utils.flop_counter import FlopCounterMode

    model = Functional().eval()
    x = model.example()
    with FlopCounterMode(display=False) as counter:
        model(x)
    graph = load(model, x, path, tmp_path)
    assert graph.total_params == sum(p.numel() for p in model.parameters())
    assert total_macs(graph) == counter.get_total_flops() // 2
    convs = sorted((n.kind, n.attrs["in_channels"], n.attrs["out_channels"],
                    n.attrs.get("groups", 1), n.attrs["kernel_size"], n.outputs[0].shape)
                   for n in graph if n.kind in ("conv", "conv_transpose"))
    assert convs == [("conv", 4, 6, 2, [3, 3], (1, 6, 4, 4)),
                     ("conv_transpose", 6, 6, 3, [2, 2], (1, 6, 8, 8))]
    dense = sorted((n.attrs.get("in_features"), n.attrs.get("units"))
                   for n in graph if n.kind == "dense")
    assert dense == [(5, 7), (6, 5)]
    emb = [n for n in graph if n.kind == "embedding"]
    assert [(n.attrs["num_embeddings"], n.attrs["embedding_dim"]) for n in emb] == [(10, 7)]
