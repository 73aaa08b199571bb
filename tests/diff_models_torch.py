"""PyTorch factories the diff CLI tests name as ``diff_models_torch:NAME``."""

from __future__ import annotations

from torch import nn

from netdraw.zoo import torch_models as tm


def wide_mlp() -> nn.Module:
    """The zoo's MLP with its first hidden layer twice as wide (256 -> 512)."""
    return tm._build(tm.MLP, (784, 512, 128, 10))
