"""``netdraw config [COMMAND…]``: the settings in force here and where each came from."""

from __future__ import annotations

import argparse
import sys


def add_parser(sub: argparse._SubParsersAction) -> None:
    sub.add_parser(
        "config", help="show the settings in force and where each came from",
        description="Print, for each command (or the COMMANDs named), every option that a "
                    "configuration file can set, with the value in force and its source: "
                    "[tool.netdraw] in the nearest pyproject.toml, a netdraw.toml, or the "
                    "default. The output is TOML: copy lines into your file. The command "
                    "line wins over the file.",
    ).add_argument("commands", nargs="*", metavar="COMMAND",
                   help="only these commands (default: all)")


def run(args: argparse.Namespace) -> int:
    from netdraw import settings
    from netdraw.cli import build_parser
    from netdraw.errors import NetdrawError

    parser = build_parser()
    config = settings.find_config()
    loaded = settings.load_settings(parser, config)
    parsers = settings.command_parsers(parser)
    unknown = [c for c in args.commands if c not in parsers]
    if unknown:
        raise NetdrawError(f"unknown command {unknown[0]!r}; choose from {', '.join(parsers)}")
    out = sys.stdout
    if config is None:
        out.write("# no configuration file: no netdraw.toml, and no pyproject.toml with "
                  "[tool.netdraw], here or in a folder above\n")
    else:
        out.write(f"# configuration file: {config.path}"
                  f"{' ' + config.table_name if config.table_name else ''}\n")
    for command in args.commands or [c for c in parsers if c != "config"]:
        options = settings.configurable(parsers[command])
        if not options:
            continue
        chosen = loaded.for_command(command)
        prefix = "" if config is not None and not config.table_name else "tool.netdraw."
        out.write(f"\n[{prefix}{command}]\n")
        lines: list[tuple[str, str]] = []
        for key, action in options.items():
            setting = chosen.get(action.dest)
            if setting is not None:
                lines.append((f"{key} = {settings.toml_value(setting.raw)}", setting.source))
                continue
            value = _default_value(action)
            text = f"# {key} is not set" if value is None else \
                f"{key} = {settings.toml_value(value)}"
            lines.append((text, "default"))
        width = max(len(text) for text, _ in lines) + 2
        for text, source in lines:
            out.write(f"{text:{width}}# {source}\n")
    return 0


def _default_value(action: argparse.Action):
    """An option's default as the TOML value that means it (``no-roll = false``)."""
    if action.nargs == 0:
        return action.default is not None and action.default == action.const
    if action.default in (None, [], argparse.SUPPRESS):
        return None
    return action.default
