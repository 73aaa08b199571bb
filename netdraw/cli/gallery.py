"""``netdraw gallery [-o DIR] [NAME…]``: render the built-in zoo into a folder."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from netdraw.errors import NetdrawError


def add_parser(sub: argparse._SubParsersAction) -> None:
    gallery = sub.add_parser(
        "gallery", help="render the built-in zoo into a folder",
        description="Render zoo models into DIR in every style (Graphviz .svg/.png/.json, "
                    "the NN-SVG looks, TikZ .tex and .tikz.png) and write DIR/index.html, one "
                    "page showing every model found in DIR in every style. Without NAMEs: "
                    "every model whose framework is installed (the others are listed on "
                    "stderr as skipped).")
    gallery.add_argument("-o", "--output", default="gallery", metavar="DIR")
    gallery.add_argument("names", nargs="*", metavar="NAME",
                         help="zoo models, or 'paper' for the two-column paper pages "
                              "(default: all)")


def run(args: argparse.Namespace) -> int:
    from netdraw import zoo
    from netdraw.describe import plural
    from netdraw.gallery import PAPER_PAGES, TRANSFORMER_GALLERY, render_gallery

    if args.names:
        for name in args.names:
            if name not in TRANSFORMER_GALLERY and name != PAPER_PAGES:
                zoo.require(name)  # a named model that cannot be built fails before any output
        names = list(args.names)
    else:
        names = [name for name, entry in zoo.ZOO.items() if entry.available()]
        names += [*TRANSFORMER_GALLERY, PAPER_PAGES]
        skipped = [name for name in zoo.ZOO if name not in names]
        if skipped:
            packages = sorted({zoo.ZOO[n].framework for n in skipped})
            lines = "; ".join(zoo.install_line(p) for p in packages)
            print(f"netdraw: skipped {plural(len(skipped), 'zoo model')}"
                  f" whose framework is not installed ({', '.join(skipped)}): {lines}",
                  file=sys.stderr)
    if not names:
        raise NetdrawError(f"no zoo model can be built here: {zoo.install_line('onnx')} or "
                           f"{zoo.install_line('torch')}")
    failed: list[tuple[str, str]] = []
    for line in render_gallery(Path(args.output), names, failed):
        print(line)
    for name, message in failed:
        print(f"netdraw: error: gallery model {name} failed: {message}", file=sys.stderr)
    return 1 if failed else 0
