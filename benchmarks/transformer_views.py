"""The default views of the Hugging Face models in netdraw/zoo/hf_models.py, from ONNX
(dynamo and legacy exporters) and from the live module: nodes, depth, rolled runs, the
estimated aspect and the aspect of Graphviz's real layout, and the time the view took.

    .venv/bin/python benchmarks/transformer_views.py [MODEL ...]

Exports go to benchmarks/work/hf/ (git-ignored) and are reused. Prints a Markdown table
(also written to benchmarks/work/results-transformers.md).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time

from common import ROOT, WORK, table

sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

import netdraw  # noqa: E402
from netdraw.backends.dot import to_dot  # noqa: E402
from netdraw.passes import make_view  # noqa: E402
from netdraw.zoo import hf_models  # noqa: E402


def real_aspect(view: netdraw.Graph) -> str:
    svg = subprocess.run(["dot", "-Tsvg"], input=to_dot(view).encode(), capture_output=True,
                         check=True).stdout.decode()
    w, h = (float(v) for v in re.search(r'<svg width="([\d.]+)pt" height="([\d.]+)pt"',
                                         svg).groups())
    return f"{max(w, h) / min(w, h):.2f} ({w:.0f}×{h:.0f} pt)"


def main() -> None:
    names = sys.argv[1:] or list(hf_models.MODELS)
    folder = WORK / "hf"
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for name in names:
        spec = hf_models.MODELS[name]
        sources = ["live"] + ([] if name == "sd_unet" else ["dynamo", "legacy"])
        for source in sources:
            if source == "live":
                graph = netdraw.load(spec.factory(), example_input=spec.example_input(),
                                     name=name)
            else:
                path = folder / f"{name}.{source}.onnx"
                if not path.exists():
                    hf_models.export_onnx(name, path, dynamo=source == "dynamo")
                graph = netdraw.load(path)
            start = time.process_time()
            view = make_view(graph)
            took = time.process_time() - start
            info = view.meta["view"]
            runs = ", ".join(f"{n.name} ×{n.attrs['repeat']}" for n in view
                             if n.attrs.get("repeat"))
            rows.append((spec.title, source, f"{info['nodes']} of {info['source_nodes']}",
                         f"{info['depth']} of {info['full_depth']}", runs or "–",
                         f"{info['aspect']:.2f} ({info['columns']} col.)", real_aspect(view),
                         f"{took:.2f}"))
            print(f"done {name} {source}", file=sys.stderr)
    text = table(rows, ("model", "source", "nodes", "depth", "rolled", "aspect, estimated",
                        "aspect, dot", "view CPU s")) + "\n"
    (WORK / "results-transformers.md").write_text(text, encoding="utf-8")
    print(text)


if __name__ == "__main__":
    main()
