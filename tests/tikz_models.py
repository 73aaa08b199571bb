"""Small models for the TikZ tests: PyTorch modules exported to ONNX, and IR graphs built by
hand in the shape the view passes produce (blocks with ``repeat``, folded conv-BN-ReLU)."""

from __future__ import annotations

from pathlib import Path

from netdraw.ir import Graph, Node, TensorSpec


def torch_models() -> dict[str, tuple[object, tuple[int, ...]]]:
    """name -> (module, input shape): LeNet-5, a ResNet-18-like net, a U-Net, an MLP."""
    import torch
    import torch.nn.functional as F  # noqa: N812
    from torch import nn

    class LeNet5(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1, self.pool1 = nn.Conv2d(1, 6, 5), nn.MaxPool2d(2)
            self.conv2, self.pool2 = nn.Conv2d(6, 16, 5), nn.MaxPool2d(2)
            self.fc1, self.fc2, self.fc3 = nn.Linear(400, 120), nn.Linear(120, 84), \
                nn.Linear(84, 10)

        def forward(self, x):  # noqa: ANN001, ANN202
            x = self.pool1(F.relu(self.conv1(x)))
            x = self.pool2(F.relu(self.conv2(x)))
            x = torch.flatten(x, 1)
            return self.fc3(F.relu(self.fc2(F.relu(self.fc1(x)))))

    class BasicBlock(nn.Module):
        def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.bn1 = nn.BatchNorm2d(cout)
            self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.bn2 = nn.BatchNorm2d(cout)
            self.downsample = None
            if stride != 1 or cin != cout:
                self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                                nn.BatchNorm2d(cout))

        def forward(self, x):  # noqa: ANN001, ANN202
            y = self.bn2(self.conv2(F.relu(self.bn1(self.conv1(x)))))
            return F.relu(y + (x if self.downsample is None else self.downsample(x)))

    class ResNet(nn.Module):
        """ResNet-18's layout (four stages of two basic blocks) at a quarter of the width."""

        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv2d(3, 16, 7, 2, 3, bias=False)
            self.bn1 = nn.BatchNorm2d(16)
            self.maxpool = nn.MaxPool2d(3, 2, 1)
            cin = 16
            for i, (c, s) in enumerate([(16, 1), (32, 2), (64, 2), (128, 2)], 1):
                setattr(self, f"layer{i}", nn.Sequential(BasicBlock(cin, c, s),
                                                         BasicBlock(c, c)))
                cin = c
            self.avgpool = nn.AdaptiveAvgPool2d(1)
            self.fc = nn.Linear(128, 10)

        def forward(self, x):  # noqa: ANN001, ANN202
            x = self.maxpool(F.relu(self.bn1(self.conv1(x))))
            for i in range(1, 5):
                x = getattr(self, f"layer{i}")(x)
            return self.fc(torch.flatten(self.avgpool(x), 1))

    class DoubleConv(nn.Sequential):
        def __init__(self, cin: int, cout: int) -> None:
            super().__init__(nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout),
                             nn.ReLU(), nn.Conv2d(cout, cout, 3, padding=1),
                             nn.BatchNorm2d(cout), nn.ReLU())

    class UNet(nn.Module):
        def __init__(self, depth: int = 3, base: int = 8) -> None:
            super().__init__()
            chs = [base * 2 ** i for i in range(depth + 1)]
            self.inc = DoubleConv(1, chs[0])
            self.downs = nn.ModuleList(DoubleConv(chs[i], chs[i + 1]) for i in range(depth))
            self.ups = nn.ModuleList(nn.ConvTranspose2d(chs[i + 1], chs[i], 2, stride=2)
                                     for i in reversed(range(depth)))
            self.dec = nn.ModuleList(DoubleConv(chs[i] * 2, chs[i])
                                     for i in reversed(range(depth)))
            self.outc = nn.Conv2d(chs[0], 2, 1)

        def forward(self, x):  # noqa: ANN001, ANN202
            skips = [self.inc(x)]
            for down in self.downs:
                skips.append(down(F.max_pool2d(skips[-1], 2)))
            x = skips.pop()
            for up, dec in zip(self.ups, self.dec, strict=True):
                x = dec(torch.cat([skips.pop(), up(x)], dim=1))
            return self.outc(x)

    mlp = nn.Sequential(nn.Linear(20, 64), nn.ReLU(), nn.Dropout(0.1), nn.Linear(64, 3),
                        nn.Softmax(dim=1))
    return {"lenet5": (LeNet5(), (1, 1, 32, 32)), "resnet": (ResNet(), (1, 3, 64, 64)),
            "unet": (UNet(), (1, 1, 64, 64)), "mlp": (mlp, (1, 20))}


def export_onnx(folder: Path) -> dict[str, Path]:
    """Export every model of :func:`torch_models` to ``folder``; name -> path."""
    import warnings

    import torch

    out = {}
    for name, (model, shape) in torch_models().items():
        model.eval()  # type: ignore[attr-defined]
        path = folder / f"{name}.onnx"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # dynamo=False is the fast path
            torch.onnx.export(model, torch.randn(*shape), str(path), dynamo=False,
                              input_names=["input"], output_names=["output"])
        out[name] = path
    return out


def _add(g: Graph, nid: str, name: str, kind: str, op: str, shape: tuple | None,
         src: list[str], **attrs: object) -> Node:
    node = g.add_node(Node(nid, name, kind, op, attrs=dict(attrs),
                           outputs=[TensorSpec(shape)] if shape else []))
    for s in src:
        g.add_edge(s, nid, TensorSpec(shape))
    return node


def rolled_resnet() -> Graph:
    """ResNet-18 as the views issue draws it: folded stem, four rolled stages of 2 blocks."""
    g = Graph("resnet18-view")
    _add(g, "x", "input", "input", "Input", (1, 3, 224, 224), [])
    _add(g, "stem", "conv1", "conv", "Conv2d", (1, 64, 112, 112), ["x"],
         folded=[{"name": "conv1", "kind": "conv", "op_type": "Conv2d"},
                 {"name": "bn1", "kind": "norm", "op_type": "BatchNorm2d"},
                 {"name": "relu", "kind": "activation", "op_type": "ReLU"}],
         pattern="ConvBNAct", activation="relu")
    _add(g, "mp", "maxpool", "pool", "MaxPool2d", (1, 64, 56, 56), ["stem"])
    prev = "mp"
    for i, (c, s, n) in enumerate([(64, 56, 2), (128, 28, 2), (256, 14, 3), (512, 7, 2)], 1):
        _add(g, f"l{i}", f"layer{i}", "block", "BasicBlock", (1, c, s, s), [prev], repeat=n,
             nodes=7 * n)
        prev = f"l{i}"
    _add(g, "gap", "avgpool", "global_pool", "AdaptiveAvgPool2d", (1, 512, 1, 1), [prev])
    _add(g, "fl", "flatten", "flatten", "Flatten", (1, 512), ["gap"])
    _add(g, "fc", "fc", "dense", "Linear", (1, 1000), ["fl"], units=1000)
    _add(g, "sm", "softmax", "softmax", "Softmax", (1, 1000), ["fc"])
    g.meta["view"] = {"auto": False, "depth": 1}  # already a view: render draws it as is
    g.validate()
    return g


def keras_like_cnn() -> Graph:
    """A Keras-imported CNN: NHWC shapes with batch None, activations inside the layers."""
    g = Graph("keras-cnn")
    g.meta["framework"] = "keras"
    _add(g, "in", "input_layer", "input", "InputLayer", (None, 64, 48, 3), [])
    _add(g, "c1", "conv2d", "conv", "Conv2D", (None, 64, 48, 32), ["in"], activation="relu",
         data_format="channels_last")
    _add(g, "p1", "max_pooling2d", "pool", "MaxPooling2D", (None, 32, 24, 32), ["c1"])
    _add(g, "c2", "conv2d_1", "conv", "Conv2D", (None, 32, 24, 64), ["p1"], activation="linear")
    _add(g, "gp", "gap", "global_pool", "GlobalAveragePooling2D", (None, 64), ["c2"])
    _add(g, "d", "dense", "dense", "Dense", (None, 10), ["gp"], activation="softmax", units=10)
    g.validate()
    return g


#: Every character LaTeX treats specially, plus quotes, dashes and non-ASCII text.
HOSTILE = ["\\input{/etc/passwd}", "a_b^c~d", "{50%} $x$", "#1 & #2", "}]\\end{tikzpicture}",
           "\\immediate\\write18{touch pwned}", "\"q\" 'r' `s` --t", "Größe × 2 → π",
           "中文 🙂", "^^5c^^5cbye", "x\ny\tz"]


def hostile_graph() -> Graph:
    """A small CNN whose every user string (names, groups, ops, graph name) is hostile."""
    g = Graph("net_%$#{}~^&\\")
    g.meta["framework"] = "onnx"
    _add(g, "x", HOSTILE[0], "input", "Input", (1, 3, 32, 32), [])
    prev = "x"
    for i, name in enumerate(HOSTILE[1:], 1):
        kind = "conv" if i % 3 else "pool"
        _add(g, f"n{i}", name, kind, "Conv$%" if kind == "conv" else "Pool#",
             (1, 8 * i, 32, 32), [prev])
        g.nodes[f"n{i}"].group = ("grp_{%}", f"blk&{i // 4}")
        prev = f"n{i}"
    _add(g, "act", "act^", "activation", "Weird_Act{}", (1, 88, 32, 32), [prev])
    g.add_group(("grp_{%}",), class_name="Seq~uential&")
    for i in range(3):
        g.add_group(("grp_{%}", f"blk&{i}"), class_name="Blo#ck")
    g.validate()
    return g
