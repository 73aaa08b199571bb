"""The shapes network in PyTorch (``zoo:shapes``), with its trained weights loaded.

Four blocks of 3×3 convolution, BatchNorm and ReLU (max-pooling after the first three),
then global average pooling and one linear layer: the layout class-activation mapping
(CAM, Zhou et al. 2016) was made for, so every CAM method applies.
"""

from __future__ import annotations

import torch
from torch import nn

from netdraw.zoo.shapes import BN_EPS, CLASSES, WIDTHS, load_weights


class ConvBlock(nn.Module):
    """3×3 convolution, BatchNorm, ReLU and (optionally) 2×2 max-pooling."""

    def __init__(self, cin: int, cout: int, pool: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn = nn.BatchNorm2d(cout, eps=BN_EPS)
        self.relu = nn.ReLU(inplace=True)
        self.pool = nn.MaxPool2d(2) if pool else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn(self.conv(x)))
        return self.pool(x) if self.pool is not None else x


class ShapesNet(nn.Module):
    """3×64×64 image -> logits of circle, square, triangle, cross."""

    class_names = CLASSES

    def __init__(self, num_classes: int = len(CLASSES)) -> None:
        super().__init__()
        cin = 3
        for i, width in enumerate(WIDTHS):
            self.add_module(f"block{i + 1}", ConvBlock(cin, width, pool=i < len(WIDTHS) - 1))
            cin = width
        self.avgpool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(len(WIDTHS)):
            x = getattr(self, f"block{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


def shapes(trained: bool = True) -> ShapesNet:
    """The network in eval mode, with the committed trained weights (``trained=False``:
    random ones, seeded)."""
    torch.manual_seed(0)
    model = ShapesNet()
    if trained:
        state = {k: torch.from_numpy(v) for k, v in load_weights().items()}
        result = model.load_state_dict(state, strict=False)
        missing = [k for k in result.missing_keys if not k.endswith("num_batches_tracked")]
        if missing or result.unexpected_keys:
            raise ValueError(f"shapes weights do not fit the network: missing {missing}, "
                             f"unexpected {result.unexpected_keys}")
    return model.eval()
