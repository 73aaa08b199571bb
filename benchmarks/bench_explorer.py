"""The explorer (issue 26) against bare inference on the same model, as ratios in one run.

    .venv/bin/python benchmarks/bench_explorer.py [--model zoo:resnet50] [--images 64]
                                                  [--repeats 5]

1. Switching input under ``netdraw serve``: the server's answer to a new input (one
   forward pass with every layer captured, then the four strongest channels of every box
   of the page as 8-bit levels) against one bare forward pass of the same image.
2. Drilling into a channel: the server's answer for a layer's grid and for one channel
   (its map, statistics and top inputs of the folder), the input already chosen.
3. The top-k index over a folder of N images (the pass ``serve`` runs once, batches of 8)
   against bare batched inference over the same images (batches of 8, ``no_grad``).
4. A static page with 8 inputs (``netdraw draw MODEL --input … -o x.html``): its size.

The images are the shapes test images drawn at the model's input size. Prints a Markdown
report; medians of ``--repeats`` runs, the explorer and the bare pass alternating; one
torch thread (the machine is shared).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from netdraw.api import render  # noqa: E402
from netdraw.importers import load  # noqa: E402
from netdraw.server.explore import ExploreSession, InputFolder  # noqa: E402
from netdraw.viz.api import open_model  # noqa: E402
from netdraw.viz.explore import Explorer  # noqa: E402
from netdraw.zoo.shapes import make_batch  # noqa: E402


def write_images(folder: Path, n: int, size: int) -> list[Path]:
    from PIL import Image

    images, _, _ = make_batch(n, seed=7, size=size)
    paths = []
    for k, image in enumerate(images):
        path = folder / f"img{k:04d}.png"
        Image.fromarray((image.transpose(1, 2, 0) * 255).round().astype(np.uint8)).save(path)
        paths.append(path)
    return paths


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="zoo:resnet50")
    parser.add_argument("--images", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    opened = open_model(args.model)
    size = int(opened.spec.shape[2])
    model = opened.runtime.model
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "images"
        folder.mkdir()
        paths = write_images(folder, args.images, size)
        session = ExploreSession(opened, InputFolder(folder, opened.spec), cache=False)
        graph = load(args.model)
        page = render(graph, "html", explorer=session.page_data)
        nodes = [i for i, nid in enumerate(session.nodes) if nid in session.layers]
        items = session.folder.folder_items()
        batch0 = session.folder.load(items[0]).array

        def bare_forward(x: np.ndarray) -> None:
            with torch.no_grad():
                model(torch.from_numpy(x))

        # 1. switching input: a new input each time (nothing kept), against a bare forward
        switch, bare = [], []
        for r in range(args.repeats):
            item = session.folder.load(items[1 + r % (len(items) - 1)])
            session.kept.clear()
            bare.append(timed(lambda item=item: bare_forward(item.array)))
            switch.append(timed(lambda item=item: session.thumbs(item.id, nodes, "mean", 4)))
        s, b = statistics.median(switch), statistics.median(bare)
        rows.append(("switch input (serve): capture + 4 tiles of every box",
                     f"{s * 1000:.0f} ms", f"{b * 1000:.0f} ms (bare forward)", f"{s / b:.2f}×"))

        # 3. the top-k index over the folder, against bare batched inference
        arrays = [session.folder.load(i).array for i in items]
        index_t, bare_t = [], []
        for _ in range(max(1, args.repeats // 2)):
            def bare_pass() -> None:
                for start in range(0, len(arrays), 8):
                    bare_forward(np.concatenate(arrays[start:start + 8]))

            bare_t.append(timed(bare_pass))
            session.top.__init__(session.top.layers, session.k, session.top.grids)
            index_t.append(timed(session.index_pass))
        s, b = statistics.median(index_t), statistics.median(bare_t)
        rows.append((f"top-k index over {len(arrays)} images (batches of 8)",
                     f"{s:.1f} s", f"{b:.1f} s (bare batched inference)", f"{s / b:.2f}×"))

        # 2. drilling into a layer and a channel, the input chosen (its values kept)
        session.values(items[0].id)
        conv = max(nodes, key=lambda i: session.layers[session.nodes[i]].channels
                   if session.layers[session.nodes[i]].kind == "maps" else -1)
        grid_t = [timed(lambda: session.layer(items[0].id, conv)) for _ in range(args.repeats)]
        chan_t = [timed(lambda: session.channel(items[0].id, conv, 0))
                  for _ in range(args.repeats)]
        info = session.layers[session.nodes[conv]]
        rows.append((f"layer grid ({info.channels} channels of "
                     f"{info.shape[1]}×{info.shape[2]})",
                     f"{statistics.median(grid_t) * 1000:.0f} ms", "", ""))
        rows.append(("one channel: map, statistics, top inputs",
                     f"{statistics.median(chan_t) * 1000:.0f} ms", "", ""))
        rows.append(("serve's page (no values)", f"{len(page.encode()) / 1e6:.2f} MB", "", ""))
        session.stop()

        # 4. the static page with 8 inputs
        explorer = Explorer(opened, [str(p) for p in paths[:8]])
        start = time.perf_counter()
        static = render(graph, "html", explorer=explorer)
        took = time.perf_counter() - start
        rows.append(("static page, 8 inputs", f"{len(static.encode()) / 1e6:.2f} MB",
                     f"made in {took:.0f} s", ""))
        del batch0
    print(f"## Explorer: {args.model}, {size}×{size}, {args.images} images, one torch thread\n")
    print("| case | explorer | reference | ratio |\n| --- | --- | --- | --- |")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
