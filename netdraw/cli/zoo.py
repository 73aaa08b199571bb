"""``netdraw zoo``: list the built-in example models."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("zoo", help="list the built-in example models")


def run(args: argparse.Namespace) -> int:
    from netdraw import zoo

    missing: dict[str, str] = {}  # package -> install line, for the frameworks not installed
    for name, entry in zoo.ZOO.items():
        note = ""
        if not entry.available():
            note = f"  [needs {entry.requirement}]"
            missing[entry.requirement] = zoo.install_line(entry.framework)
        print(f"{name:18} {entry.framework:6} {entry.description}{note}")
    if missing:
        print()
    for package, line in missing.items():
        print(f"[needs {package}]: {package} is not installed; {line} to draw these models")
    return 0
