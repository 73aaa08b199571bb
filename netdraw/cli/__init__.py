"""Command line: ``netdraw COMMAND …``, one module per command in this package.

Each command module defines ``add_parser(sub)`` and ``run(args) -> int``; :data:`COMMANDS`
lists them in the order ``--help`` shows. ``netdraw MODEL -o OUT`` is shorthand for
``netdraw draw MODEL -o OUT``. Nothing here imports a framework at start-up; errors are one
line ``netdraw: error: …`` and exit 2.

Every command also takes ``-q/--quiet`` (no progress display, no informational notes; see
:mod:`netdraw.progress`), and its options take their defaults from ``[tool.netdraw]`` in the
nearest ``pyproject.toml`` or a ``netdraw.toml`` (see :mod:`netdraw.settings`).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from pathlib import Path
from typing import NoReturn

from netdraw.errors import NetdrawError

#: Command names; ``netdraw.cli.<name>`` implements each.
COMMANDS: tuple[str, ...] = ("draw", "serve", "summary", "diff", "activations", "filters",
                             "cam", "gallery", "zoo", "config")


class _Parser(argparse.ArgumentParser):
    """argparse, but usage errors are one ``netdraw: error:`` line and exit 2."""

    def error(self, message: str) -> NoReturn:
        raise NetdrawError(f"{message} (see 'netdraw --help')")


def _command(name: str):
    return importlib.import_module(f"netdraw.cli.{name}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="netdraw",
        description="Draw neural networks from ONNX, PyTorch and Keras models.",
        epilog="Shorthand: 'netdraw MODEL -o OUT' is 'netdraw draw MODEL -o OUT'.",
    )
    parser.add_argument("--version", action="version", version=f"netdraw {_version()}")
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    for name in COMMANDS:
        _command(name).add_parser(sub)
    for command in sub.choices.values():
        if not any("--quiet" in a.option_strings for a in command._actions):
            command.add_argument("-q", "--quiet", action="store_true",
                                 help="no progress display and no notes on stderr "
                                      "(errors and warnings still show)")
    return parser


def parse_args(argv: list[str], cwd: Path | None = None) -> argparse.Namespace:
    """Parse a command line as ``netdraw`` does: the shorthand, then the configuration file
    found from ``cwd`` (default: the current folder) for the defaults; the command line wins.
    """
    from netdraw import settings

    argv = list(argv)
    if argv and argv[0] not in COMMANDS and not argv[0].startswith("-"):
        argv.insert(0, "draw")  # shorthand: netdraw MODEL -o OUT
    parser = build_parser()
    config = settings.load_settings(parser, settings.find_config(cwd))
    return settings.apply(parser, argv, config)


def _version() -> str:
    from netdraw.version import __version__

    return __version__


def main(argv: list[str] | None = None) -> int:
    from netdraw import progress
    from netdraw.settings import blame

    argv = list(sys.argv[1:] if argv is None else argv)
    args = None
    try:
        args = parse_args(argv)
        if args.command is None:
            build_parser().print_help()
            return 2
        progress.set_quiet(getattr(args, "quiet", False))
        return _command(args.command).run(args)
    except NetdrawError as exc:
        message = blame(args, str(exc)) if args is not None else str(exc)
        print(f"netdraw: error: {message}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("netdraw: error: interrupted", file=sys.stderr)
        return 130
    except RecursionError:
        print("netdraw: error: the model is nested too deeply to read", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug in netdraw: still one line, unless debugging
        if os.environ.get("NETDRAW_DEBUG"):
            raise
        print(f"netdraw: error: internal error ({type(exc).__name__}: {exc}); please report "
              "it, with NETDRAW_DEBUG=1 for the traceback", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
