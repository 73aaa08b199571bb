"""``netdraw gallery [-o DIR] [NAME…]``: render the built-in zoo into a folder."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    gallery = sub.add_parser("gallery", help="render the built-in zoo into a folder")
    gallery.add_argument("-o", "--output", default="gallery", metavar="DIR")
    gallery.add_argument("names", nargs="*", metavar="NAME", help="zoo models (default: all)")


def run(args: argparse.Namespace) -> int:
    from netdraw.gallery import render_gallery

    for line in render_gallery(Path(args.output), args.names or None):
        print(line)
    return 0
