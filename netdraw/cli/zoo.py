"""``netdraw zoo``: list the built-in example models."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("zoo", help="list the built-in example models")


def run(args: argparse.Namespace) -> int:
    from netdraw import zoo

    for name, entry in zoo.ZOO.items():
        print(f"{name:18} {entry.framework:6} {entry.description}")
    return 0
