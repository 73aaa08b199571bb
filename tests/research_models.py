"""Research-pattern models written as their authors would (issue 28): the architectures a
figure most easily misstates.

- :class:`Siamese`: one encoder applied to both inputs, a ``|za - zb|`` head.
- :class:`AttentionGateUNet`: skip features multiplied by a sigmoid gate (Oktay et al.).
- :class:`ConvNeXtBlock` / :class:`ConvNeXtNet`: depthwise conv, then a LayerNorm and two
  Linear layers on the channels-last tensor (``permute(0, 2, 3, 1)``), as in ConvNeXt.
- :class:`SwinBlockNet`: a patch embedding whose blocks work on ``(B, H, W, C)``.
- :class:`Arithmetic`: subtraction, division, elementwise maximum and minimum, a product
  and a matrix product of two activations.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


class Encoder(nn.Module):
    """A small conv encoder to a 16-d embedding."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(1, 8, 3, padding=1)
        self.conv2 = nn.Conv2d(8, 16, 3, stride=2, padding=1)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(16, 16)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(self.conv1(x))
        x = F.relu(self.conv2(x))
        return self.fc(torch.flatten(self.pool(x), 1))


class Siamese(nn.Module):
    """Both inputs through the same encoder (shared weights), then ``|za - zb|`` -> score."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = Encoder()
        self.head = nn.Linear(16, 1)

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        za = self.encoder(a)
        zb = self.encoder(b)
        return torch.sigmoid(self.head(torch.abs(za - zb)))

    @staticmethod
    def example() -> tuple[torch.Tensor, torch.Tensor]:
        return torch.randn(1, 1, 16, 16), torch.randn(1, 1, 16, 16)


class AttentionGate(nn.Module):
    """Oktay et al.'s additive attention gate: the skip features times a sigmoid map."""

    def __init__(self, skip: int, gate: int, inner: int) -> None:
        super().__init__()
        self.theta = nn.Conv2d(skip, inner, 1)
        self.phi = nn.Conv2d(gate, inner, 1)
        self.psi = nn.Conv2d(inner, 1, 1)

    def forward(self, x: torch.Tensor, g: torch.Tensor) -> torch.Tensor:
        a = torch.sigmoid(self.psi(F.relu(self.theta(x) + self.phi(g))))
        return x * a


def _double_conv(cin: int, cout: int) -> nn.Sequential:
    return nn.Sequential(nn.Conv2d(cin, cout, 3, padding=1), nn.ReLU(),
                         nn.Conv2d(cout, cout, 3, padding=1), nn.ReLU())


class AttentionGateUNet(nn.Module):
    """A two-level U-Net whose skip connections pass through attention gates."""

    def __init__(self) -> None:
        super().__init__()
        self.down1 = _double_conv(3, 8)
        self.down2 = _double_conv(8, 16)
        self.bottom = _double_conv(16, 32)
        self.up2 = nn.Upsample(scale_factor=2, mode="nearest")
        self.gate2 = AttentionGate(16, 32, 8)
        self.dec2 = _double_conv(48, 16)
        self.up1 = nn.Upsample(scale_factor=2, mode="nearest")
        self.gate1 = AttentionGate(8, 16, 4)
        self.dec1 = _double_conv(24, 8)
        self.out = nn.Conv2d(8, 2, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s1 = self.down1(x)
        s2 = self.down2(F.max_pool2d(s1, 2))
        b = self.up2(self.bottom(F.max_pool2d(s2, 2)))
        d2 = self.dec2(torch.cat([self.gate2(s2, b), b], dim=1))
        d2 = self.up1(d2)
        d1 = self.dec1(torch.cat([self.gate1(s1, d2), d2], dim=1))
        return self.out(d1)

    @staticmethod
    def example() -> torch.Tensor:
        return torch.randn(1, 3, 32, 32)


class ConvNeXtBlock(nn.Module):
    """ConvNeXt's block: a 7×7 depthwise conv, then LayerNorm and an inverted-bottleneck
    MLP (``pwconv1``/``pwconv2``: Linear layers) on the channels-last tensor."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.dwconv = nn.Conv2d(dim, dim, 7, padding=3, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, 4 * dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(4 * dim, dim)
        self.gamma = nn.Parameter(1e-6 * torch.ones(dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shortcut = x
        x = self.dwconv(x)
        x = x.permute(0, 2, 3, 1)  # (N, C, H, W) -> (N, H, W, C)
        x = self.pwconv2(self.act(self.pwconv1(self.norm(x))))
        x = self.gamma * x
        x = x.permute(0, 3, 1, 2)  # (N, H, W, C) -> (N, C, H, W)
        return shortcut + x


class ConvNeXtNet(nn.Module):
    """A 4×4 patchify stem to 24 channels, one ConvNeXt block, pooling and a classifier."""

    def __init__(self, dim: int = 24) -> None:
        super().__init__()
        self.stem = nn.Conv2d(3, dim, 4, stride=4)
        self.block = ConvNeXtBlock(dim)
        self.head = nn.Linear(dim, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(self.stem(x))
        return self.head(x.mean(dim=(2, 3)))

    @staticmethod
    def example() -> torch.Tensor:
        return torch.randn(1, 3, 32, 32)


class SwinLikeBlock(nn.Module):
    """A Swin-style block on ``(B, H, W, C)``: LayerNorm, an MLP, a residual."""

    def __init__(self, dim: int) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, 2 * dim)
        self.fc2 = nn.Linear(2 * dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.fc2(F.gelu(self.fc1(self.norm(x))))


class SwinBlockNet(nn.Module):
    """Patch embedding to ``(B, H, W, C)`` (``permute``), two channels-last blocks, a patch
    merging Linear (4C -> 2C on the last axis) and a pooled classifier."""

    def __init__(self, dim: int = 12) -> None:
        super().__init__()
        self.patch_embed = nn.Conv2d(3, dim, 4, stride=4)
        self.block1 = SwinLikeBlock(dim)
        self.merge = nn.Linear(4 * dim, 2 * dim)
        self.block2 = SwinLikeBlock(2 * dim)
        self.head = nn.Linear(2 * dim, 5)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.patch_embed(x).permute(0, 2, 3, 1)  # (B, 8, 8, C)
        x = self.block1(x)
        x = torch.cat([x[:, 0::2, 0::2], x[:, 1::2, 0::2], x[:, 0::2, 1::2],
                       x[:, 1::2, 1::2]], dim=-1)  # (B, 4, 4, 4C)
        x = self.block2(self.merge(x))
        return self.head(x.mean(dim=(1, 2)))

    @staticmethod
    def example() -> torch.Tensor:
        return torch.randn(1, 3, 32, 32)


class Arithmetic(nn.Module):
    """Two branches combined by every elementwise operator a paper draws, then a matrix
    product of two activations."""

    def __init__(self) -> None:
        super().__init__()
        self.left = nn.Linear(8, 8)
        self.right = nn.Linear(8, 8)
        self.out = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        a, b = self.left(x), self.right(x)
        diff = a - b
        ratio = a / (b.abs() + 1.0)
        high = torch.maximum(diff, ratio)
        low = torch.minimum(diff, ratio)
        prod = high * low
        gram = prod.unsqueeze(2) @ prod.unsqueeze(1)  # (N, 8, 8): two activations
        return self.out(gram.mean(dim=2))

    @staticmethod
    def example() -> torch.Tensor:
        return torch.randn(2, 8)


# -- Keras equivalents (keras imported when built) -------------------------------------


def keras_siamese():
    """The siamese network in Keras: a nested encoder model applied to both inputs, then
    ``|za - zb|`` (a Subtract layer) and a sigmoid score."""
    import keras
    from keras import layers

    image = keras.Input((16, 16, 1))
    x = layers.Conv2D(8, 3, padding="same", activation="relu", name="conv1")(image)
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu", name="conv2")(x)
    x = layers.GlobalAveragePooling2D(name="pool")(x)
    encoder = keras.Model(image, layers.Dense(16, name="fc")(x), name="encoder")
    a, b = keras.Input((16, 16, 1), name="a"), keras.Input((16, 16, 1), name="b")
    diff = layers.Subtract(name="diff")([encoder(a), encoder(b)])
    score = layers.Dense(1, activation="sigmoid", name="head")(keras.ops.abs(diff))
    return keras.Model([a, b], score, name="siamese")


def keras_arithmetic():
    """Two Dense branches combined by Keras' merge layers and operators."""
    import keras
    from keras import layers

    x = keras.Input((8,), name="x")
    a, b = layers.Dense(8, name="left")(x), layers.Dense(8, name="right")(x)
    merged = [layers.Subtract(name="sub")([a, b]), layers.Average(name="avg")([a, b]),
              layers.Maximum(name="hi")([a, b]), layers.Minimum(name="lo")([a, b]),
              layers.Multiply(name="prod")([a, b])]
    ratio = keras.ops.divide(merged[0], keras.ops.add(keras.ops.abs(merged[1]), 1.0))
    out = layers.Dense(3, name="out")(layers.Concatenate(name="cat")([*merged, ratio]))
    return keras.Model(x, out, name="arithmetic")
