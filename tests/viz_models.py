"""Models for the attribution tests that nobody in netdraw wrote the way the zoo is written:
a digits CNN in the ``nn.Sequential`` style a researcher writes (``block1.0`` is a Conv,
``block1.1`` its BatchNorm, ``block1.2`` the ReLU), trained here in seconds; a model with
two named outputs; a tiny segmentation network.

The digits are scikit-learn's 8×8 handwritten digits when scikit-learn is installed, else
digits drawn here from a 5×7 font with random shifts, stroke noise and pixel noise; either
way upsampled to 16×16 so the last block still has a 4×4 grid.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

SIZE = 16
_FONT = {  # 5×7 glyphs, one string per row
    0: ["01110", "10001", "10011", "10101", "11001", "10001", "01110"],
    1: ["00100", "01100", "00100", "00100", "00100", "00100", "01110"],
    2: ["01110", "10001", "00001", "00010", "00100", "01000", "11111"],
    3: ["11110", "00001", "00001", "01110", "00001", "00001", "11110"],
    4: ["00010", "00110", "01010", "10010", "11111", "00010", "00010"],
    5: ["11111", "10000", "11110", "00001", "00001", "10001", "01110"],
    6: ["00110", "01000", "10000", "11110", "10001", "10001", "01110"],
    7: ["11111", "00001", "00010", "00100", "01000", "01000", "01000"],
    8: ["01110", "10001", "10001", "01110", "10001", "10001", "01110"],
    9: ["01110", "10001", "10001", "01111", "00001", "00010", "01100"],
}


def _procedural(count: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    images = np.zeros((count, 1, SIZE, SIZE), np.float32)
    labels = rng.integers(0, 10, count)
    for k, label in enumerate(labels):
        glyph = np.array([[c == "1" for c in row] for row in _FONT[int(label)]], np.float32)
        glyph = glyph.repeat(2, 0).repeat(2, 1)[:, :10]  # 14×10
        glyph *= rng.random(glyph.shape) > 0.1  # broken strokes
        y, x = rng.integers(0, SIZE - 14 + 1), rng.integers(0, SIZE - 10 + 1)
        images[k, 0, y:y + 14, x:x + 10] = glyph
    images += rng.normal(0, 0.15, images.shape).astype(np.float32)
    return np.clip(images, 0, 1), labels


def digits(count: int = 1200, seed: int = 0) -> tuple[np.ndarray, np.ndarray, str]:
    """``(images (N, 1, 16, 16) in 0-1, labels, source)``."""
    try:
        from sklearn.datasets import load_digits
    except ImportError:
        images, labels = _procedural(count, seed)
        return images, labels, "procedural"
    data = load_digits()
    rng = np.random.default_rng(seed)
    pick = rng.permutation(len(data.target))[:count]
    x = (data.images[pick] / 16.0).astype(np.float32)
    x = x.repeat(2, 1).repeat(2, 2)[:, None]
    return x, data.target[pick], "scikit-learn"


class Digits(nn.Module):
    """Three Conv-BN-ReLU blocks in nn.Sequential (the middle one pooled), global average
    pooling and a linear classifier."""

    def __init__(self) -> None:
        super().__init__()
        self.block1 = nn.Sequential(nn.Conv2d(1, 16, 3, padding=1), nn.BatchNorm2d(16),
                                    nn.ReLU())
        self.block2 = nn.Sequential(nn.Conv2d(16, 32, 3, padding=1), nn.BatchNorm2d(32),
                                    nn.ReLU(), nn.MaxPool2d(2))
        self.block3 = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32),
                                    nn.ReLU(), nn.MaxPool2d(2))
        self.block4 = nn.Sequential(nn.Conv2d(32, 32, 3, padding=1), nn.BatchNorm2d(32),
                                    nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block4(self.block3(self.block2(self.block1(x))))
        return self.fc(torch.flatten(self.pool(x), 1))


def train_digits(steps: int = 150, seed: int = 0) -> tuple[Digits, float, np.ndarray,
                                                           np.ndarray]:
    """A Digits network trained for ``steps`` Adam steps (a few seconds on a CPU); returns
    it in eval mode, its accuracy on held-out digits, and those digits and labels."""
    torch.manual_seed(seed)
    images, labels, _ = digits(1400, seed)
    train_x, train_y = torch.from_numpy(images[:1200]), torch.from_numpy(labels[:1200])
    model = Digits()
    optimiser = torch.optim.Adam(model.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(seed)
    for _ in range(steps):
        pick = torch.randint(0, len(train_x), (64,), generator=generator)
        loss = nn.functional.cross_entropy(model(train_x[pick]), train_y[pick])
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
    model.eval()
    test_x, test_y = images[1200:], labels[1200:]
    with torch.no_grad():
        accuracy = float((model(torch.from_numpy(test_x)).argmax(1).numpy() == test_y).mean())
    return model, accuracy, test_x, test_y


class TwoHeads(nn.Module):
    """A model whose output is a dict: ``{"logits": 5 classes, "aux": 3 classes}``."""

    def __init__(self) -> None:
        super().__init__()
        self.features = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(),
                                      nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.head = nn.Linear(8, 5)
        self.aux = nn.Linear(8, 3)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        f = torch.flatten(self.pool(self.features(x)), 1)
        return {"logits": self.head(f), "aux": self.aux(f)}


class TinySegmenter(nn.Module):
    """(N, 3, 16, 16) -> per-pixel scores of 4 classes (N, 4, 16, 16)."""

    def __init__(self) -> None:
        super().__init__()
        self.down = nn.Sequential(nn.Conv2d(3, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2))
        self.mid = nn.Sequential(nn.Conv2d(8, 8, 3, padding=1), nn.ReLU())
        self.up = nn.Upsample(scale_factor=2)
        self.classify = nn.Conv2d(8, 4, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.classify(self.up(self.mid(self.down(x))))


def digits_model() -> Digits:
    """An untrained Digits network with seeded weights (``tests.viz_models:digits_model``
    for the commands)."""
    torch.manual_seed(0)
    return Digits().eval()
