"""Small PyTorch models for the importer tests, each exercising one tracing situation."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import nn


class Branchy(nn.Module):
    """Data-dependent ``if`` and a Python loop: only the path taken is drawn."""

    def __init__(self, steps: int = 3) -> None:
        super().__init__()
        self.steps = steps
        self.pos = nn.Linear(8, 8)
        self.neg = nn.Linear(8, 8)
        self.block = nn.Sequential(nn.Linear(8, 8), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pos(x) if x.sum() > 0 else self.neg(x)
        for _ in range(self.steps):
            x = self.block(x)
        return x


class DictIn(nn.Module):
    """Takes a dict of tensors, returns a tuple with a nested dict."""

    def __init__(self) -> None:
        super().__init__()
        self.image = nn.Conv2d(3, 4, 3, padding=1)
        self.meta = nn.Linear(5, 4)

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple:
        a = self.image(batch["image"]).mean(dim=(2, 3))
        b = self.meta(batch["meta"])
        return a + b, {"image": a, "meta": b}


class Twice(nn.Module):
    """One Linear called twice (shared weights) and a shared module under two names."""

    def __init__(self) -> None:
        super().__init__()
        self.fc = nn.Linear(6, 6)
        self.alias = self.fc  # the same module registered twice
        self.head = nn.Linear(6, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(torch.relu(self.alias(self.fc(x))))


HOSTILE = 'evil " < > & \\ { } % $'


class Hostile(nn.Module):
    """Submodule names full of characters that break DOT, XML, LaTeX and shells."""

    def __init__(self) -> None:
        super().__init__()
        self.blocks = nn.ModuleDict({HOSTILE: nn.Sequential(nn.Linear(4, 4), nn.ReLU()),
                                     "naïve ∑": nn.Linear(4, 3)})

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.blocks["naïve ∑"](self.blocks[HOSTILE](x) + x)


class FunctionalAttention(nn.Module):
    """Self-attention written with functional ops between Linear projections."""

    def __init__(self, dim: int = 32, heads: int = 4) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)
        self.norm = nn.LayerNorm(dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = self.qkv(self.norm(x)).chunk(3, dim=-1)
        q, k, v = (t.view(b, n, self.heads, d // self.heads).transpose(1, 2) for t in (q, k, v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(d // self.heads)
        manual = torch.matmul(F.softmax(scores, dim=-1), v)
        fused = F.scaled_dot_product_attention(q, k, v)
        out = (manual + fused).transpose(1, 2).reshape(b, n, d)
        return x + self.proj(out)


class Raises(nn.Module):
    """Fails inside ``stage2.fc`` (wrong in_features) after ``stage1`` ran."""

    def __init__(self) -> None:
        super().__init__()
        self.stage1 = nn.Sequential(nn.Linear(8, 16), nn.ReLU())
        self.stage2 = nn.Sequential()
        self.stage2.add_module("fc", nn.Linear(10, 4))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.stage2(self.stage1(x))


class Recurrent(nn.Module):
    """Embedding, LSTM (tuple output) and a head on the last step."""

    def __init__(self) -> None:
        super().__init__()
        self.embed = nn.Embedding(50, 16)
        self.lstm = nn.LSTM(16, 24, num_layers=2, batch_first=True, bidirectional=True)
        self.head = nn.Linear(48, 3)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        out, (h, c) = self.lstm(self.embed(tokens))
        return self.head(out[:, -1])
