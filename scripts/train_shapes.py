"""Train the ``zoo:shapes`` network on procedurally drawn shapes; write its weights.

    python scripts/train_shapes.py -o /tmp/stage1.npz            # stage 1: from scratch
    python scripts/train_shapes.py --resume /tmp/stage1.npz --steps 600 --seed 1 --lr 3e-3
                                                          # stage 2: the committed weights
    python scripts/train_shapes.py --steps 5 -o /tmp/w.npz       # a smoke test

Everything is seeded (data, initial weights, batch order) and torch runs on two threads,
so a rerun on the same machine gives the same weights. Writes ``.npz`` arrays keyed by
state-dict names (no pickle) and prints the accuracy on held-out images.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netdraw.zoo.shapes import CLASSES, WEIGHTS, load_weights, make_batch  # noqa: E402
from netdraw.zoo.shapes.torch_model import shapes  # noqa: E402


def train(steps: int, batch: int, train_size: int, seed: int = 0, log: bool = True,
          lr: float = 6e-3, resume: Path | None = None) -> tuple[nn.Module, float]:
    """Train from scratch (or from ``resume``'s weights) on ``train_size`` images drawn with
    ``seed``; returns the network (eval mode) and its held-out accuracy."""
    torch.manual_seed(seed)
    torch.set_num_threads(2)
    images, labels, _ = make_batch(train_size, seed=seed)
    x_all, y_all = torch.from_numpy(images), torch.from_numpy(labels)
    model = shapes(trained=False)
    if resume is not None:
        state = {k: torch.from_numpy(v) for k, v in load_weights(resume).items()}
        model.load_state_dict(state, strict=False)
    model.train()
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=steps,
                                                   pct_start=0.15)
    loss_fn = nn.CrossEntropyLoss()
    order = torch.Generator().manual_seed(seed)
    start = time.time()
    for step in range(steps):
        index = torch.randint(0, train_size, (batch,), generator=order)
        x, y = x_all[index], y_all[index]
        if step % 2:  # flips: shapes have no handedness
            x = x.flip(3)
        loss = loss_fn(model(x), y)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        schedule.step()
        if log and (step % 100 == 0 or step == steps - 1):
            print(f"step {step:5d}  loss {loss.item():.4f}  {time.time() - start:.0f}s",
                  flush=True)
    model.eval()
    return model, accuracy(model)


def accuracy(model: nn.Module, n: int = 1000, seed: int = 12345) -> float:
    """Accuracy on ``n`` held-out images (a seed the training data never uses)."""
    images, labels, _ = make_batch(n, seed=seed)
    with torch.no_grad():
        predicted = model(torch.from_numpy(images)).argmax(1).numpy()
    return float((predicted == labels).mean())


def save(model: nn.Module, path: Path) -> None:
    arrays = {k: v.detach().cpu().numpy().astype(np.float32)
              for k, v in model.state_dict().items() if v.dtype.is_floating_point}
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        np.savez_compressed(fh, **arrays)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--train-size", type=int, default=8000)
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the order")
    parser.add_argument("--lr", type=float, default=6e-3, help="peak learning rate")
    parser.add_argument("--resume", type=Path, help="start from these weights (.npz)")
    parser.add_argument("-o", "--output", type=Path, default=WEIGHTS)
    args = parser.parse_args(argv)
    model, acc = train(args.steps, args.batch, args.train_size, args.seed, lr=args.lr,
                       resume=args.resume)
    save(model, args.output)
    print(f"held-out accuracy {acc:.3f} over {', '.join(CLASSES)}; wrote {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
