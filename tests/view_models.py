"""Models for the view tests, built by code (no downloads): a torch ResNet-50 and a small
ViT exported to ONNX, a flat ONNX ResNet-50 named exactly like Keras' ``ResNet50``, and
anonymised copies whose node names carry no structure at all."""

from __future__ import annotations

import math

import numpy as np
import onnx
from onnx import TensorProto, helper

# -- flat graphs with Keras' names ---------------------------------------------------------


class FlatBuilder:
    """ONNX nodes named like Keras layers (no '/' scopes, so the graph imports flat)."""

    def __init__(self, name: str, input_shape: tuple[int, ...]) -> None:
        self.name = name
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.inputs = [helper.make_tensor_value_info("input_layer", TensorProto.FLOAT,
                                                     input_shape)]
        self.params = 0

    def weight(self, name: str, shape: tuple[int, ...]) -> str:
        self.inits.append(helper.make_tensor(name, TensorProto.FLOAT, shape,
                                             np.zeros(shape, np.float32).tobytes(), raw=True))
        self.params += math.prod(shape)
        return name

    def op(self, op_type: str, name: str, inputs: list[str], **attrs: object) -> str:
        self.nodes.append(helper.make_node(op_type, inputs, [name], name=name, **attrs))
        return name

    def conv(self, x: str, name: str, cin: int, cout: int, k: int, stride: int = 1,
             pad: int = 0) -> str:
        w = self.weight(f"{name}/kernel", (cout, cin, k, k))
        b = self.weight(f"{name}/bias", (cout,))
        return self.op("Conv", name, [x, w, b], kernel_shape=[k, k], strides=[stride] * 2,
                       pads=[pad] * 4)

    def pad(self, x: str, name: str, width: int) -> str:
        pads = self.op("Constant", f"{name}/pads", [], value=helper.make_tensor(
            f"{name}/pads", TensorProto.INT64, (8,), [0, 0, width, width, 0, 0, width, width]))
        return self.op("Pad", name, [x, pads])

    def bn(self, x: str, name: str, c: int) -> str:
        ws = [self.weight(f"{name}/{p}", (c,))
              for p in ("gamma", "beta", "moving_mean", "moving_variance")]
        return self.op("BatchNormalization", name, [x, *ws], epsilon=1.001e-5)

    def model(self, output: str, shape: tuple[int, ...]) -> onnx.ModelProto:
        graph = helper.make_graph(self.nodes, self.name, self.inputs,
                                  [helper.make_tensor_value_info(output, TensorProto.FLOAT,
                                                                 shape)], self.inits)
        model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                                  producer_name="netdraw-tests")
        model.ir_version = 8
        return model


def keras_resnet50(size: int = 224) -> tuple[onnx.ModelProto, int]:
    """Keras' ``ResNet50`` layer for layer, names included (``conv4_block2_1_conv``), as
    flat ONNX; returns the model and its parameter count (BN statistics included, as
    Keras' ``count_params`` counts them)."""
    b = FlatBuilder("resnet50", (1, 3, size, size))
    x = b.pad("input_layer", "conv1_pad", 3)
    x = b.op("Relu", "conv1_relu", [b.bn(b.conv(x, "conv1_conv", 3, 64, 7, 2), "conv1_bn",
                                         64)])
    x = b.op("MaxPool", "pool1_pool", [b.pad(x, "pool1_pad", 1)], kernel_shape=[3, 3],
             strides=[2, 2])
    cin = 64
    for stage, (filters, blocks) in enumerate(((64, 3), (128, 4), (256, 6), (512, 3)), 2):
        for i in range(1, blocks + 1):
            name = f"conv{stage}_block{i}"
            stride = 2 if (i == 1 and stage > 2) else 1
            y = b.bn(b.conv(x, f"{name}_1_conv", cin, filters, 1, stride), f"{name}_1_bn",
                     filters)
            y = b.op("Relu", f"{name}_1_relu", [y])
            y = b.bn(b.conv(y, f"{name}_2_conv", filters, filters, 3, 1, 1), f"{name}_2_bn",
                     filters)
            y = b.op("Relu", f"{name}_2_relu", [y])
            if i == 1:  # Keras lists the shortcut's layers interleaved with the third conv's
                shortcut = b.conv(x, f"{name}_0_conv", cin, 4 * filters, 1, stride)
                y = b.conv(y, f"{name}_3_conv", filters, 4 * filters, 1)
                shortcut = b.bn(shortcut, f"{name}_0_bn", 4 * filters)
            else:
                shortcut = x
                y = b.conv(y, f"{name}_3_conv", filters, 4 * filters, 1)
            y = b.bn(y, f"{name}_3_bn", 4 * filters)
            x = b.op("Relu", f"{name}_out", [b.op("Add", f"{name}_add", [shortcut, y])])
            cin = 4 * filters
    x = b.op("GlobalAveragePool", "avg_pool", [x])
    x = b.op("Flatten", "flatten", [x])
    w = b.weight("predictions/kernel", (1000, 2048))
    x = b.op("Gemm", "predictions", [x, w, b.weight("predictions/bias", (1000,))], transB=1)
    x = b.op("Softmax", "predictions_softmax", [x])
    return b.model(x, (1, 1000)), b.params


def anonymised(model: onnx.ModelProto) -> onnx.ModelProto:
    """A copy whose nodes are called ``n0, n1, …`` with no scope metadata: only the
    structure is left to find blocks by."""
    out = onnx.ModelProto()
    out.CopyFrom(model)
    for i, node in enumerate(out.graph.node):
        node.name = f"n{i}"
        del node.metadata_props[:]
    return out


# -- torch models --------------------------------------------------------------------------


def torch_models():
    """(ResNet-50 factory, ViT class): the zoo's ResNet-50, and a ViT defined on first use so
    that importing this module does not import torch."""
    import torch
    from torch import nn

    from netdraw.zoo.torch_models import resnet50

    class Attention(nn.Module):
        def __init__(self, dim: int, heads: int) -> None:
            super().__init__()
            self.heads = heads
            self.qkv = nn.Linear(dim, dim * 3)
            self.proj = nn.Linear(dim, dim)

        def forward(self, x):
            b, n, d = x.shape
            qkv = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads)
            q, k, v = qkv.permute(2, 0, 3, 1, 4)
            a = ((q @ k.transpose(-2, -1)) * (d // self.heads) ** -0.5).softmax(dim=-1)
            return self.proj((a @ v).transpose(1, 2).reshape(b, n, d))

    class Mlp(nn.Module):
        def __init__(self, dim: int, hidden: int) -> None:
            super().__init__()
            self.fc1 = nn.Linear(dim, hidden)
            self.act = nn.GELU()
            self.fc2 = nn.Linear(hidden, dim)

        def forward(self, x):
            return self.fc2(self.act(self.fc1(x)))

    class EncoderBlock(nn.Module):
        def __init__(self, dim: int, heads: int) -> None:
            super().__init__()
            self.norm1 = nn.LayerNorm(dim)
            self.attn = Attention(dim, heads)
            self.norm2 = nn.LayerNorm(dim)
            self.mlp = Mlp(dim, dim * 4)

        def forward(self, x):
            x = x + self.attn(self.norm1(x))
            return x + self.mlp(self.norm2(x))

    class ViT(nn.Module):
        def __init__(self, image: int = 32, patch: int = 8, dim: int = 64, depth: int = 6,
                     heads: int = 4, classes: int = 10) -> None:
            super().__init__()
            self.patch_embed = nn.Conv2d(3, dim, patch, patch)
            self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
            self.pos_embed = nn.Parameter(torch.zeros(1, (image // patch) ** 2 + 1, dim))
            self.blocks = nn.Sequential(*[EncoderBlock(dim, heads) for _ in range(depth)])
            self.norm = nn.LayerNorm(dim)
            self.head = nn.Linear(dim, classes)

        def forward(self, x):
            x = self.patch_embed(x).flatten(2).transpose(1, 2)
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1)
            x = self.norm(self.blocks(x + self.pos_embed))
            return self.head(x[:, 0])

    return resnet50, ViT


def export_onnx(module, example, path: str, dynamo: bool) -> None:
    """Export with the dynamo exporter, or the legacy TorchScript one with BatchNorm kept
    as its own node (training mode, no constant folding)."""
    import contextlib
    import io
    import warnings

    import torch

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        if dynamo:
            torch.onnx.export(module.eval(), (example,), path, dynamo=True, verbose=False)
        else:
            torch.onnx.export(module, (example,), path, dynamo=False,
                              training=torch.onnx.TrainingMode.TRAINING,
                              do_constant_folding=False)


# -- model sources for the view tests --------------------------------------------------------
#
# A source turns a work folder into (graph, expected parameter total, what the total is).
# Add importer-based sources (PyTorch module, Keras model) here; the tests are parametrised
# over the keys of RESNET50 and TRANSFORMER.


def _torch_state(module) -> tuple[int, int]:
    """(parameters, BatchNorm running-statistics elements) as torch counts them."""
    params = sum(p.numel() for p in module.parameters())
    stats = sum(b.numel() for n, b in module.named_buffers()
                if n.endswith(("running_mean", "running_var")))
    return params, stats


def _distinct_params(module) -> int:
    """What a dynamo export holds of a module's parameters: each distinct tensor once
    (the exporter stores identical initializers, LayerNorm's ones and zeros, one time)."""
    import torch

    seen: list = []
    total = 0
    for p in module.parameters():
        if not any(q.shape == p.shape and torch.equal(q, p) for q in seen):
            seen.append(p.detach())
            total += p.numel()
    return total


def _initializer_total(path: str) -> int:
    model = onnx.load(path, load_external_data=False)
    # netdraw counts floating-point initializers; integer/bool ones are shape and index data.
    weights = {onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.BFLOAT16,
               onnx.TensorProto.DOUBLE, onnx.TensorProto.INT8, onnx.TensorProto.UINT8}
    return sum(math.prod(t.dims) for t in model.graph.initializer if t.data_type in weights)


class Sources:
    """Builds each model once per test module and caches the import."""

    def __init__(self, folder) -> None:
        self.folder = folder
        self.cache: dict[str, tuple] = {}
        self.files: dict[str, str] = {}

    def get(self, name: str):
        """(graph, expected parameter total, what that total is) for a source name."""
        if name not in self.cache:
            self.cache[name] = BUILDERS[name](self)
        return self.cache[name]

    def file(self, name: str) -> str:
        """A model file of the source, for command-line tests."""
        self.get(name)
        return self.files[name]

    def path(self, name: str) -> str:
        return str(self.folder / f"{name}.onnx")

    # ResNet-50 -------------------------------------------------------------------------
    def resnet_legacy(self):
        import torch

        from netdraw import load

        resnet, _ = torch_models()
        torch.manual_seed(0)
        module = resnet()
        export_onnx(module, torch.randn(1, 3, 224, 224), self.path("resnet50-legacy"), False)
        params, stats = _torch_state(module)
        # ONNX keeps BatchNorm's running mean and variance as initializers; netdraw counts
        # every initializer, so the total is torch's parameters plus those statistics.
        self.files["onnx-legacy"] = self.path("resnet50-legacy")
        return load(self.path("resnet50-legacy")), params + stats, "torch params + BN stats"

    def resnet_dynamo(self):
        import torch

        from netdraw import load

        resnet, _ = torch_models()
        torch.manual_seed(0)
        export_onnx(resnet(), torch.randn(1, 3, 224, 224), self.path("resnet50-dynamo"), True)
        # The dynamo exporter folds BatchNorm into the convolutions and shares identical
        # initializers, so the file's own initializer total is the reference.
        path = self.files["onnx-dynamo"] = self.path("resnet50-dynamo")
        return load(path), _initializer_total(path), "ONNX initializer total"

    def resnet_keras_names(self):
        from netdraw import load

        model, params = keras_resnet50()
        onnx.save(model, self.files.setdefault("keras-names", self.path("resnet50-keras")))
        return load(model), params, "Keras count_params (BN stats included)"

    def resnet_anonymous(self):
        from netdraw import load

        graph, total, _ = self.get("onnx-legacy")
        model = anonymised(onnx.load(self.path("resnet50-legacy")))
        onnx.save(model, self.files.setdefault("anonymous", self.path("resnet50-anon")))
        return load(model), total, "torch params + BN stats"

    def resnet_torch_live(self):
        """The zoo's ResNet-50 traced live by the PyTorch importer (file: ``zoo:resnet50``)."""
        from netdraw import zoo

        module = zoo.build("resnet50")
        self.files["torch-live"] = "zoo:resnet50"
        return zoo.load("resnet50"), _torch_state(module)[0], "torch params"

    # Transformer -----------------------------------------------------------------------
    def vit_torch_live(self):
        import torch

        from netdraw import load

        _, vit = torch_models()
        torch.manual_seed(0)
        module = vit()
        return load(module, input_shape=(1, 3, 32, 32)), _torch_state(module)[0], "torch params"

    def vit(self, dynamo: bool):
        import torch

        from netdraw import load

        _, vit = torch_models()
        torch.manual_seed(0)
        module = vit()
        name = f"vit-{'dynamo' if dynamo else 'legacy'}"
        export = export_onnx if dynamo else _export_folded
        export(module, torch.randn(1, 3, 32, 32), self.path(name), dynamo)
        self.files[f"vit-onnx-{'dynamo' if dynamo else 'legacy'}"] = self.path(name)
        if dynamo:
            return load(self.path(name)), _distinct_params(module), \
                "torch params, identical ones once (the exporter keeps one copy)"
        return load(self.path(name)), _torch_state(module)[0], "torch params"

    def vit_anonymous(self):
        from netdraw import load

        _, total, note = self.get("vit-onnx-legacy")
        model = anonymised(onnx.load(self.path("vit-legacy")))
        onnx.save(model, self.files.setdefault("vit-anonymous", self.path("vit-anon")))
        return load(model), total, note


def _export_folded(module, example, path: str, dynamo: bool) -> None:
    """Legacy export with constant folding (weights pre-transposed): plain Gemm/MatMul."""
    import contextlib
    import io
    import warnings

    import torch

    with warnings.catch_warnings(), contextlib.redirect_stdout(io.StringIO()):
        warnings.simplefilter("ignore")
        torch.onnx.export(module.eval(), (example,), path, dynamo=False)


BUILDERS = {
    "onnx-legacy": Sources.resnet_legacy,
    "onnx-dynamo": Sources.resnet_dynamo,
    "keras-names": Sources.resnet_keras_names,
    "anonymous": Sources.resnet_anonymous,
    "torch-live": Sources.resnet_torch_live,
    "vit-onnx-legacy": lambda s: s.vit(False),
    "vit-onnx-dynamo": lambda s: s.vit(True),
    "vit-anonymous": Sources.vit_anonymous,
    "vit-torch-live": Sources.vit_torch_live,
}
RESNET50 = ("onnx-legacy", "onnx-dynamo", "keras-names", "anonymous", "torch-live")
TRANSFORMER = ("vit-onnx-legacy", "vit-onnx-dynamo", "vit-anonymous", "vit-torch-live")
