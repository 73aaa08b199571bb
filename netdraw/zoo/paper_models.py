"""Models a researcher puts in a paper, from outside the zoo: the figure gallery's two-column
pages (:mod:`netdraw.gallery_paper`) and the paper-figure tests draw them.

- ``attention_unet``: an attention U-Net (Oktay et al. 2018) written here: four encoder
  stages of two 3×3 convolutions, max-pooling between them, a bottleneck, and four decoder
  stages, each an up-convolution whose skip connection passes an additive attention gate
  (1×1 convolutions of the gating and skip signals, their sum, ReLU, a 1×1 convolution to
  one channel, sigmoid, up-sampled, multiplying the skip) before the concatenation.
- ``siamese``: a siamese network: one convolutional encoder applied to two images (shared
  weights), the absolute difference of the embeddings, a small dense head.
- ``convnext_t``, ``swin_t``, ``vit_s``: ConvNeXt-T, Swin-T and ViT-S/16 as
  ``transformers`` builds them from their published configurations, random weights.
- ``llama``: the LLaMA decoder of :mod:`netdraw.zoo.hf_models`.
- ``keras_efficientnet_b0``, ``keras_densenet121``: ``keras.applications`` with
  ``weights=None``.

Nothing is downloaded (``HF_HUB_OFFLINE=1``). :data:`PAPER_MODELS` maps a name to a
function returning the loaded :class:`netdraw.Graph`.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import torch  # noqa: E402
from torch import nn  # noqa: E402

from netdraw.ir import Graph  # noqa: E402


class ConvBlock(nn.Module):
    """Two 3×3 convolutions, each with batch norm and ReLU."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.bn2 = nn.BatchNorm2d(cout)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(x)))


class AttentionGate(nn.Module):
    """Additive attention on a skip connection, gated by the coarser decoder signal."""

    def __init__(self, gate: int, skip: int, inner: int) -> None:
        super().__init__()
        self.wg = nn.Conv2d(gate, inner, 1)
        self.wx = nn.Conv2d(skip, inner, 1, stride=2)
        self.psi = nn.Conv2d(inner, 1, 1)
        self.up = nn.Upsample(scale_factor=2, mode="bilinear")

    def forward(self, g: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        a = torch.relu(self.wg(g) + self.wx(x))
        return x * self.up(torch.sigmoid(self.psi(a)))


class Up(nn.Module):
    """A decoder stage: up-convolution, the gated skip, concatenation, two convolutions."""

    def __init__(self, cin: int, skip: int, cout: int) -> None:
        super().__init__()
        self.gate = AttentionGate(cin, skip, skip // 2)
        self.up = nn.ConvTranspose2d(cin, cout, 2, stride=2)
        self.conv = ConvBlock(cout + skip, cout)

    def forward(self, g: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.conv(torch.cat([self.up(g), self.gate(g, skip)], 1))


class AttentionUNet(nn.Module):
    """The attention U-Net: 32-64-128-256 channels, a 512-channel bottleneck."""

    def __init__(self, widths: tuple[int, ...] = (32, 64, 128, 256, 512),
                 classes: int = 2) -> None:
        super().__init__()
        c = widths
        self.enc1, self.enc2 = ConvBlock(3, c[0]), ConvBlock(c[0], c[1])
        self.enc3, self.enc4 = ConvBlock(c[1], c[2]), ConvBlock(c[2], c[3])
        self.pool = nn.MaxPool2d(2)
        self.bottleneck = ConvBlock(c[3], c[4])
        self.dec4, self.dec3 = Up(c[4], c[3], c[3]), Up(c[3], c[2], c[2])
        self.dec2, self.dec1 = Up(c[2], c[1], c[1]), Up(c[1], c[0], c[0])
        self.head = nn.Conv2d(c[0], classes, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        e1 = self.enc1(x)
        e2 = self.enc2(self.pool(e1))
        e3 = self.enc3(self.pool(e2))
        e4 = self.enc4(self.pool(e3))
        d = self.bottleneck(self.pool(e4))
        d = self.dec4(d, e4)
        d = self.dec3(d, e3)
        d = self.dec2(d, e2)
        return self.head(self.dec1(d, e1))


class Siamese(nn.Module):
    """One encoder for two 28×28 images; a dense head on |f(a) - f(b)|."""

    def __init__(self) -> None:
        super().__init__()
        self.encoder = nn.Sequential(
            nn.Conv2d(1, 32, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(32, 64, 5), nn.ReLU(), nn.MaxPool2d(2),
            nn.Flatten(), nn.Linear(64 * 4 * 4, 128))
        self.head = nn.Sequential(nn.Linear(128, 64), nn.ReLU(), nn.Linear(64, 1))

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.head(torch.abs(self.encoder(a) - self.encoder(b))))


class _Pixels(nn.Module):
    """A transformers vision model called on pixels, returning its last hidden state."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values, return_dict=True).last_hidden_state


def _transformers(model_type: str, **config: Any) -> nn.Module:
    from transformers import AutoConfig, AutoModel

    torch.manual_seed(0)
    return _Pixels(AutoModel.from_config(AutoConfig.for_model(model_type, **config))).eval()


def _load(model: Any, name: str, **options: Any) -> Graph:
    from netdraw.importers import load

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load(model, name=name, **options)


def attention_unet() -> Graph:
    torch.manual_seed(0)
    return _load(AttentionUNet().eval(), "Attention U-Net", input_shape=(1, 3, 128, 128))


def siamese() -> Graph:
    torch.manual_seed(0)
    return _load(Siamese().eval(), "Siamese network",
                 input_shape=[(1, 1, 28, 28), (1, 1, 28, 28)])


def convnext_t() -> Graph:
    model = _transformers("convnext", depths=[3, 3, 9, 3], hidden_sizes=[96, 192, 384, 768])
    return _load(model, "ConvNeXt-T", input_shape=(1, 3, 224, 224))


def swin_t() -> Graph:
    model = _transformers("swin", image_size=224, embed_dim=96, depths=[2, 2, 6, 2],
                          num_heads=[3, 6, 12, 24])
    return _load(model, "Swin-T", input_shape=(1, 3, 224, 224))


def vit_s() -> Graph:
    model = _transformers("vit", image_size=224, patch_size=16, hidden_size=384,
                          num_hidden_layers=12, num_attention_heads=6, intermediate_size=1536)
    return _load(model, "ViT-S/16", input_shape=(1, 3, 224, 224))


def llama() -> Graph:
    from netdraw.zoo.hf_models import MODELS

    spec = MODELS["llama"]
    return _load(spec.factory(), "LLaMA", example_input=spec.example_input())


def _keras(name: str) -> Graph:
    os.environ.setdefault("KERAS_BACKEND", "torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import keras

        return _load(getattr(keras.applications, name)(weights=None), name)


def keras_efficientnet_b0() -> Graph:
    return _keras("EfficientNetB0")


def keras_densenet121() -> Graph:
    return _keras("DenseNet121")


#: name -> a function that builds the model and returns its graph.
PAPER_MODELS: dict[str, Callable[[], Graph]] = {
    "attention-unet": attention_unet, "siamese": siamese, "convnext-t": convnext_t,
    "swin-t": swin_t, "vit-s": vit_s, "llama": llama,
    "keras-efficientnet-b0": keras_efficientnet_b0, "keras-densenet121": keras_densenet121,
}

__all__ = ["PAPER_MODELS", "AttentionUNet", "Siamese"]
