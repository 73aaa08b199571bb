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
        module = model.get_submodule(name)
        for key in ("kernel_size", "stride", "dilation"):  # one value per spatial axis
            # (torch.export leaves out an argument at its default, 1 on every axis)
            default = [1] * len(module.kernel_size) if key != "kernel_size" else None
            assert node.attrs.get(key, default) == list(getattr(module, key)), (name, key)
        assert node.kind == ("conv_transpose" if "Transpose" in
                             type(model.get_submodule(name)).__name__ else "conv"), name
    for name, module in model.named_modules():  # an int pool size holds on every axis
        if isinstance(module, nn.MaxPool2d) and path != "onnx":
            node = next(n for n in graph if n.name == name)
            assert node.attrs["kernel_size"] == list(torch.nn.modules.utils._pair(
                module.kernel_size))
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
        self.w_c1 = nn.Parameter(torch.randn(5, 7, 2))  # a 1-D conv over the tokens

    def forward(self, x):
        y = torch.nn.functional.conv2d(x, self.w_conv, stride=2, padding=1, groups=2)
        y = torch.nn.functional.conv_transpose2d(y, self.w_up, stride=2, groups=3)
        g1 = torch.nn.functional.adaptive_avg_pool2d(y, 1)  # global: (N, 6, 1, 1)
        g2 = torch.nn.functional.adaptive_avg_pool2d(y, 2)  # not global: (N, 6, 2, 2)
        p = torch.nn.functional.max_pool2d(y, 2)  # an int kernel: 2×2
        y = torch.nn.functional.group_norm(y, 3)  # no normalized_shape: the channels
        y = y.clone()
        y.add_(1.0)  # in-place forms are their ops
        y.relu_()
        t = y.mean((2, 3)) + g1.flatten(1) + g2.mean((2, 3)) + p.amax((2, 3))  # (N, 6)
        t = torch.nn.functional.linear(t, self.w_fc)  # (N, 5)
        t = torch.addmm(self.b_c1d, t, self.w_c1d)  # (N, 7)
        e = torch.nn.functional.embedding(torch.tensor([[1, 4, 9]]), self.table)  # (1, 3, 7)
        e = torch.nn.functional.layer_norm(e, (7,), self.norm_w)
        q = torch.nn.functional.conv1d(e.transpose(1, 2), self.w_c1, stride=2)  # (1, 5, 1)
        s = torch.matmul(e, e.transpose(1, 2))  # (1, 3, 3): contracts 7
        s = torch.baddbmm(s, s, s.transpose(1, 2))  # (1, 3, 3): contracts 3
        v = torch.bmm(s, e)  # (1, 3, 7): contracts 3
        a = torch.einsum("bij,bjk->bik", v, e.transpose(1, 2))  # contracts 7
        b = torch.einsum("bij,bkj", v, v)  # implicit output ik: contracts b and j
        c = torch.einsum("bij,bij->bij", v, v)  # elementwise: no accumulation
        d = torch.einsum("ij,bjk->bik", s[0], v)  # a broadcast batch: contracts 3
        f = torch.einsum("ij->ji", s[0])  # one operand: a transpose, no multiplication
        return t.sum() + a.sum() + b.sum() + c.sum() + d.sum() + f.sum() + q.sum()

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
    # torch's counter knows every one of these ops' cost (the transpose's is 0)
    einsums = [n for n in graph if n.op_type == "einsum"]
    assert len(einsums) == 5
    assert all(isinstance(n.attrs.get("macs"), int) for n in einsums)
    convs = sorted((n.kind, n.attrs["in_channels"], n.attrs["out_channels"],
                    n.attrs.get("groups", 1), n.attrs["kernel_size"], n.outputs[0].shape)
                   for n in graph if n.kind in ("conv", "conv_transpose"))
    assert convs == [("conv", 4, 6, 2, [3, 3], (1, 6, 4, 4)),
                     ("conv", 7, 5, 1, [2], (1, 5, 1)),
                     ("conv_transpose", 6, 6, 3, [2, 2], (1, 6, 8, 8))]
    # an int argument is one value per spatial axis, as a module's attribute is
    strides = sorted(n.attrs["stride"] for n in graph if n.kind in ("conv", "conv_transpose"))
    assert strides == [[2], [2, 2], [2, 2]]
    dense = sorted((n.attrs.get("in_features"), n.attrs.get("units"))
                   for n in graph if n.kind == "dense")
    assert dense == [(5, 7), (6, 5)]
    pools = sorted((n.kind, n.outputs[0].shape, n.attrs.get("kernel_size"))
                   for n in graph if n.kind in ("pool", "global_pool"))
    assert pools == [("global_pool", (1, 6, 1, 1), None), ("pool", (1, 6, 2, 2), None),
                     ("pool", (1, 6, 4, 4), [2, 2])]
    assert [n.kind for n in graph if n.op_type == "relu"] == ["activation"]  # relu_
    assert not [n.op_type for n in graph if n.op_type.endswith("_")]
    norms = sorted(n.attrs["num_features"] for n in graph if n.kind == "norm")
    assert norms == [6, 7]  # group_norm's input channels, layer_norm's normalized_shape
    emb = [n for n in graph if n.kind == "embedding"]
    assert [(n.attrs["num_embeddings"], n.attrs["embedding_dim"]) for n in emb] == [(10, 7)]


class Dynamic(nn.Module):
    """Sizes computed from the batch (SymInts and a SymFloat in the program): half the batch
    kept, a reshape to (batch, -1), an LSTM's tuple of outputs, advanced indexing."""

    def __init__(self):
        super().__init__()
        self.fc = nn.Linear(6, 4)
        self.rnn = nn.LSTM(4, 5, batch_first=True)

    def forward(self, x):
        h = self.fc(x)[: x.shape[0] // 2]
        out, (state, _) = self.rnn(h)
        picked = out[:, torch.tensor([0, 2])]  # index with a None: optional tensors
        return picked.reshape(out.shape[0], -1) * (x.shape[0] * 0.5) + state.sum()


def _torch_dims(value) -> tuple:
    """torch's own sizes of a fake tensor: ints, or the symbol's text (``s77``)."""
    return tuple(int(d) if isinstance(d, int) else str(d) for d in value.shape)


def test_pt2_with_symbolic_sizes_says_what_the_program_says(tmp_path):
    """The input's and output's sizes, symbols included, are the exported program's own
    (its placeholders' and output's fake tensors); parameters are torch's numel."""
    model = Dynamic().eval()
    x = torch.randn(4, 3, 6)
    batch = 2 * torch.export.Dim("half", min=2)  # even, so that half of it is exact
    program = torch.export.export(model, (x,), dynamic_shapes=({0: batch},))
    torch.export.save(program, str(tmp_path / "d.pt2"))
    graph = netdraw.load(tmp_path / "d.pt2")
    fx = program.graph_module.graph
    user = next(n for n in fx.nodes if n.op == "placeholder" and n.name == "x")
    (result,) = next(n for n in fx.nodes if n.op == "output").args[0]
    assert graph.nodes[graph.inputs[0]].outputs[0].shape == _torch_dims(user.meta["val"])
    assert graph.nodes[graph.outputs[0]].outputs[0].shape == _torch_dims(result.meta["val"])
    assert isinstance(graph.nodes[graph.inputs[0]].outputs[0].shape[0], str)
    assert graph.total_params == sum(p.numel() for p in model.parameters())
    (rnn,) = [n for n in graph if n.kind == "recurrent"]
    assert rnn.params == sum(p.numel() for p in model.rnn.parameters())


def _damaged(tmp_path, damage) -> str:
    """The error of a genuine archive whose program JSON ``damage`` changed in place."""
    import json
    import zipfile

    from netdraw.errors import NetdrawError

    model = Dynamic().eval()
    program = torch.export.export(model, (torch.randn(4, 3, 6),),
                                  dynamic_shapes=({0: 2 * torch.export.Dim("half", min=2)},))
    torch.export.save(program, str(tmp_path / "ok.pt2"))
    with zipfile.ZipFile(tmp_path / "ok.pt2") as archive:
        entries = {i.filename: archive.read(i) for i in archive.infolist()}
    (name,) = [n for n in entries if n.endswith("models/model.json")]
    data = json.loads(entries[name])
    damage(data)
    entries[name] = json.dumps(data).encode()
    with zipfile.ZipFile(tmp_path / "bad.pt2", "w") as archive:
        for entry, raw in entries.items():
            archive.writestr(entry, raw)
    with pytest.raises(NetdrawError) as err:
        netdraw.load(tmp_path / "bad.pt2")
    assert "not a valid torch.export program" in str(err.value)
    return str(err.value)


def _first(nodes, key: str, where: str = "inputs") -> dict:
    return next(a["arg"] if where == "inputs" else a for n in nodes for a in n[where]
                if key in (a["arg"] if where == "inputs" else a))


@pytest.mark.parametrize(("case", "detail"), [
    ("int", "is not a int"), ("sym ints", "is not a name"),
    ("target", "a node has no target"), ("sym output", "is not a name"),
    ("optional", "is not a"), ("no graph module", "graph_module is not"),
    ("size", "sizes[0] is not a size"), ("argument", "].inputs[0] is not")])
def test_a_malformed_program_is_named_in_the_error(tmp_path, case, detail):
    """A program with one wrong value: a one-line error naming what is wrong and where."""
    def damage(data):
        nodes = data["graph_module"]["graph"]["nodes"]
        if case == "int":
            _first(nodes, "as_int")["as_int"] = [1, 2]
        elif case == "sym ints":
            _first(nodes, "as_sym_ints")["as_sym_ints"] = [{"as_name": 3}]
        elif case == "target":
            nodes[0]["target"] = ""
        elif case == "sym output":
            _first(nodes, "as_sym_int", "outputs")["as_sym_int"] = {"as_name": 3}
        elif case == "optional":
            arg = _first(nodes, "as_optional_tensors")
            arg["as_optional_tensors"] = [{"as_tensor": {"name": 7}}]
        elif case == "int lists":
            nodes[0]["inputs"][0]["arg"] = {"as_int_lists": [5]}
        elif case == "argument":
            nodes[0]["inputs"][0]["arg"] = []
        elif case == "no graph module":
            data["graph_module"] = []
        else:
            values = data["graph_module"]["graph"]["tensor_values"]
            next(iter(values.values()))["sizes"][0] = {"as_int": "x"}

    message = _damaged(tmp_path, damage)
    assert detail in message
    if case not in ("target",):
        assert "None" not in message.split("(", 1)[1]  # the place is named


def test_an_archive_whose_model_has_another_name_draws(tmp_path):
    """``models/<name>.json`` of another name than ``model`` (the only program there)."""
    import zipfile

    model = Convs1d().eval()
    torch.export.save(torch.export.export(model, (model.example(),)), str(tmp_path / "a.pt2"))
    with zipfile.ZipFile(tmp_path / "a.pt2") as src, \
            zipfile.ZipFile(tmp_path / "b.pt2", "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename.replace("models/model.json", "models/encoder.json"),
                         src.read(info))
    graph = netdraw.load(tmp_path / "b.pt2")
    assert graph.total_params == sum(p.numel() for p in model.parameters())
    assert sorted(n.name for n in graph if n.kind in ("conv", "conv_transpose")) == \
        sorted(name for name, m in model.named_modules() if isinstance(m, CONVS))


class Positions(nn.Module):
    """A parameter read on its own (a position table sliced to the input's length)."""

    def __init__(self):
        super().__init__()
        self.pos = nn.Parameter(torch.randn(1, 10, 6))
        self.fc = nn.Linear(6, 6)
        self.act = nn.GELU()

    def forward(self, x):
        return self.act(self.fc(x + self.pos[:, : x.shape[1]]))


@pytest.mark.parametrize("path", ["export", "pt2"])
def test_program_names_parameters_and_ops_after_the_modules(path, tmp_path):
    """A parameter used on its own is a node named after torch's parameter (``pos``,
    holding its numel); ops inside a module are named after the module's path (torch's
    ``named_modules``) and apart from each other; a clone is no layer."""
    model = Positions().eval()
    x = torch.randn(1, 4, 6)
    graph = load(model, x, path, tmp_path)
    (pos,) = [n for n in graph if n.op_type == "Parameter"]
    assert (pos.name, pos.kind, pos.params) == ("pos", "constant", model.pos.numel())
    # a leaf module's node has its path for id; an activation module says the function
    # torch applies (nn.GELU computes torch.nn.functional.gelu)
    assert graph.nodes["fc"].kind == "dense"
    assert graph.nodes["act"].attrs["activation"] == type(model.act).__name__.lower()
    (out,) = graph.outputs
    assert (graph.nodes[out].name, graph.nodes[out].kind) == ("output", "output")
    assert graph.total_params == sum(p.numel() for p in model.parameters())
    wrapped = nn.Sequential(Functional()).eval()
    inner = load(wrapped, Functional.example(), path, tmp_path)
    (scope,) = [name for name, _ in wrapped.named_children()]
    einsums = [n.name for n in inner if n.op_type == "einsum"]
    assert len(einsums) == len(set(einsums)) == 5
    assert all(name.startswith(f"{scope}.") for name in einsums)
    assert not [n for n in inner if n.op_type in ("clone", "alias", "contiguous")]
