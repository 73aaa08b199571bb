"""Defaults for the command line from a configuration file: ``[tool.netdraw]`` in the
nearest ``pyproject.toml``, or a ``netdraw.toml``.

The file is searched from the current folder upwards; in each folder ``netdraw.toml``
(its keys at the top level) comes before ``pyproject.toml`` (its ``[tool.netdraw]`` table;
a ``pyproject.toml`` without one is passed over). ``NETDRAW_CONFIG=FILE`` names the file
instead, ``NETDRAW_CONFIG=`` (empty) turns the search off.

The keys are the commands' own long options, spelled as on the command line without the
dashes (``depth``, ``max-nodes``, ``no-roll``, ``input-shape``; ``max_nodes`` is accepted
too), with TOML values of the option's type: ``depth = 2``, ``no-roll = true``,
``rankdir = "LR"``, ``expand = ["layer3"]`` for a repeatable option. A key at the top of
the table applies to every command that has that option; a table named after a command
(``[tool.netdraw.draw]``) applies to that command only and wins over the top level. The
command line wins over both.

The known keys and their types are read from the argument parsers themselves
(:func:`configurable`), so a new option of any command is configurable without a change
here. Left out: positional arguments, required options, ``--help``/``--version``, and the
options that name one run's output (``-o``, ``--format``). An unknown key, a table that is
not a command, or a value of the wrong type is an error naming the key and the file.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError


def _tomllib():
    """The TOML parser (imported only when a file is read: ``--help`` stays quick)."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    return tomllib

#: Option destinations that describe one run's output, never a project default.
PER_RUN = frozenset({"output", "format", "help", "version"})
#: File names searched in each folder, in order.
FILE_NAMES = ("netdraw.toml", "pyproject.toml")


@dataclass(frozen=True)
class ConfigFile:
    """A configuration file and its netdraw table."""

    path: Path
    table: dict[str, Any]

    @property
    def table_name(self) -> str:
        """How the table is written in the file: ``[tool.netdraw]`` or the whole file."""
        return "[tool.netdraw]" if self.path.name == "pyproject.toml" else ""

    def where(self, command: str | None = None) -> str:
        """``/p/pyproject.toml [tool.netdraw.draw]``: a value's source, for messages."""
        if self.table_name:
            name = "[tool.netdraw" + (f".{command}]" if command else "]")
        else:
            name = f"[{command}]" if command else ""
        return f"{self.path} {name}".rstrip()


def find_config(start: Path | None = None) -> ConfigFile | None:
    """The configuration in force for a run started in ``start`` (default: the current
    folder), or ``None``."""
    named = os.environ.get("NETDRAW_CONFIG")
    if named is not None:
        if not named:
            return None
        path = Path(named).expanduser()
        if not path.is_file():
            raise NetdrawError(f"NETDRAW_CONFIG names {named}, which is not a file")
        return read_config(path)
    folder = (start or Path.cwd()).resolve()
    for place in (folder, *folder.parents):
        for name in FILE_NAMES:
            path = place / name
            if path.is_file():
                config = read_config(path)
                if config is not None:
                    return config
    return None


def config_files(start: Path | None = None) -> list[Path]:
    """The files whose change can change the configuration of a run started in ``start``:
    each file the search reads, up to and including the one in force (or a broken one).
    Unlike :func:`find_config`, never raises."""
    named = os.environ.get("NETDRAW_CONFIG")
    if named is not None:
        return [Path(named).expanduser()] if named else []
    out = []
    folder = (start or Path.cwd()).resolve()
    for place in (folder, *folder.parents):
        for name in FILE_NAMES:
            path = place / name
            if not path.is_file():
                continue
            out.append(path)
            try:
                if read_config(path) is not None:
                    return out
            except NetdrawError:
                return out
    return out


def read_config(path: Path) -> ConfigFile | None:
    """Read ``path``; ``None`` for a ``pyproject.toml`` without ``[tool.netdraw]``."""
    tomllib = _tomllib()
    try:
        with path.open("rb") as fh:
            data = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise NetdrawError(f"{path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise NetdrawError(f"cannot read {path}: {exc.strerror or exc}") from None
    if path.name == "pyproject.toml":
        tool = data.get("tool")
        if not isinstance(tool, dict) or "netdraw" not in tool:
            return None
        data = tool["netdraw"]
        if not isinstance(data, dict):
            raise NetdrawError(f"{path}: tool.netdraw must be a table ([tool.netdraw])")
    return ConfigFile(path, data)


# -- what can be configured -----------------------------------------------------------------


def key_of(action: argparse.Action) -> str | None:
    """The configuration key of an option (its first long spelling without ``--``), or
    ``None`` when the option cannot be configured."""
    if not action.option_strings or action.required or action.dest in PER_RUN:
        return None
    if isinstance(action, (argparse._HelpAction, argparse._VersionAction,
                           argparse._SubParsersAction)):
        return None
    longs = [s for s in action.option_strings if s.startswith("--")]
    return longs[0][2:] if longs else None


def configurable(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Configuration key -> option, for one command's parser."""
    out: dict[str, argparse.Action] = {}
    for action in parser._actions:
        key = key_of(action)
        if key is not None:
            out[key] = action
    return out


def command_parsers(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """Command name -> its parser (the subcommands of the netdraw parser)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


# -- values ---------------------------------------------------------------------------------


@dataclass
class Setting:
    """One option's value for one command, and where it came from."""

    key: str
    dest: str
    value: Any
    source: str  # the file and table, "command line" or "default"
    raw: Any = None  # as written in the file


@dataclass
class Settings:
    """The configuration of every command, checked against the parsers."""

    file: ConfigFile | None
    commands: dict[str, dict[str, Setting]] = field(default_factory=dict)

    def for_command(self, command: str) -> dict[str, Setting]:
        """dest -> Setting for the options the file sets for ``command``."""
        return self.commands.get(command, {})


def _normal(key: str) -> str:
    return key.replace("_", "-")


def load_settings(parser: argparse.ArgumentParser, config: ConfigFile | None) -> Settings:
    """Check ``config`` against the commands of ``parser``; an unknown key, a table that is
    not a command, or a value of the wrong type raises NetdrawError naming key and file."""
    settings = Settings(config)
    if config is None:
        return settings
    parsers = command_parsers(parser)
    options = {name: configurable(p) for name, p in parsers.items()}
    top: dict[str, Any] = {}
    for key, value in config.table.items():
        if isinstance(value, dict) and key in parsers:
            continue  # a command's table, below
        if isinstance(value, dict):
            raise NetdrawError(_unknown(config, None, key, options, table=True))
        name = _normal(key)
        if not any(name in known for known in options.values()):
            raise NetdrawError(_unknown(config, None, key, options))
        top[name] = (key, value)
    # A top-level key applies to every command that has the option and accepts the value
    # (``style = "lenet"`` sets draw's style; diff, whose --style draws only graph or tikz,
    # keeps its default). A value no command accepts is an error.
    refused: dict[str, NetdrawError] = {}
    accepted: set[str] = set()
    for command, known in options.items():
        chosen: dict[str, Setting] = {}
        for name, (key, value) in top.items():
            if name not in known:
                continue
            try:
                chosen[known[name].dest] = _setting(config, None, key, value, known[name],
                                                    command)
                accepted.add(name)
            except NetdrawError as exc:
                refused.setdefault(name, exc)
        table = config.table.get(command)
        if isinstance(table, dict):
            for key, value in table.items():
                action = known.get(_normal(key))
                if action is None:
                    raise NetdrawError(_unknown(config, command, key, {command: known}))
                chosen[action.dest] = _setting(config, command, key, value, action, command)
        if chosen:
            settings.commands[command] = chosen
    for name, error in refused.items():
        if name not in accepted:
            raise error
    return settings


def _unknown(config: ConfigFile, command: str | None, key: str,
             options: dict[str, dict[str, argparse.Action]], table: bool = False) -> str:
    where = config.where(command)
    if table:
        return (f"{where}: unknown table {key!r}: a table must be named after a command "
                f"({', '.join(options)})")
    name = _normal(key)
    known = sorted({k for opts in options.values() for k in opts})
    hint = ""
    for other in (f"no-{name}", name.removeprefix("no-")):
        if other != name and other in known:
            hint = f" (did you mean {other!r}?)"
            break
    scope = f"an option of 'netdraw {command}'" if command else "an option of any command"
    return (f"{where}: unknown key {key!r}{hint}: a key is {scope} without its dashes; "
            f"'netdraw config' lists them")


def _setting(config: ConfigFile, command: str | None, key: str, value: Any,
             action: argparse.Action, for_command: str) -> Setting:
    return Setting(_normal(key), action.dest, convert(value, action, config.where(command), key),
                   config.where(command), raw=value)


def convert(value: Any, action: argparse.Action, where: str, key: str) -> Any:
    """A TOML value as the option's parsed value (what argparse would store for it)."""
    flag = f"--{key_of(action)}"
    if action.nargs == 0:  # store_true, store_false, store_const
        if not isinstance(value, bool):
            raise NetdrawError(_bad(where, key, value, "true or false", flag))
        return action.const if value else action.default
    if isinstance(action, argparse._CountAction):
        if isinstance(value, bool) or not isinstance(value, int):
            raise NetdrawError(_bad(where, key, value, "an integer", flag))
        return value
    many = isinstance(action, argparse._AppendAction) or action.nargs in ("*", "+") or \
        isinstance(action.nargs, int)
    if many:
        items = value if isinstance(value, list) else [value]
        if not isinstance(value, list) and action.nargs in ("*", "+"):
            raise NetdrawError(_bad(where, key, value, "a list", flag))
        return [_scalar(item, action, where, key, flag) for item in items]
    return _scalar(value, action, where, key, flag)


def _scalar(value: Any, action: argparse.Action, where: str, key: str, flag: str) -> Any:
    kind = action.type
    if kind is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise NetdrawError(_bad(where, key, value, "an integer", flag))
        result: Any = value
    elif kind is float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise NetdrawError(_bad(where, key, value, "a number", flag))
        result = float(value)
    elif kind is None or kind is str:
        if not isinstance(value, str):
            raise NetdrawError(_bad(where, key, value, "a string", flag))
        result = value
    else:  # a parsing function such as parse_shape: give it the text the CLI would
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            raise NetdrawError(_bad(where, key, value, f"a string as {flag} takes it", flag))
        try:
            result = kind(str(value))
        except (NetdrawError, ValueError, TypeError, argparse.ArgumentTypeError) as exc:
            raise NetdrawError(f"{where}: {key} = {_toml(value)}: {exc}") from None
    if action.choices is not None and result not in action.choices:
        choices = ", ".join(str(c) for c in action.choices)
        raise NetdrawError(_bad(where, key, value, f"one of {choices}", flag))
    return result


def _bad(where: str, key: str, value: Any, expected: str, flag: str) -> str:
    return (f"{where}: {key} = {_toml(value)} is not valid: {flag} takes {expected}")


def _toml(value: Any) -> str:
    """A value written as TOML (for messages and ``netdraw config``)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    return str(value)


toml_value = _toml


# -- applying them to a command line --------------------------------------------------------


def given_options(parser: argparse.ArgumentParser, argv: list[str]) -> tuple[str | None, set]:
    """The command ``argv`` runs and the option destinations it gives on the command line
    (parsed once with every default suppressed: what is left was typed)."""
    namespace = typed_values(parser, argv)
    return getattr(namespace, "command", None), set(vars(namespace))


def typed_values(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """The values ``argv`` gives on the command line, and only those (every default
    suppressed): a repeatable option holds what was typed, without any default."""
    saved: list[tuple[argparse.Action, Any]] = []
    parsers = [parser, *command_parsers(parser).values()]
    for p in parsers:
        for action in p._actions:
            if not isinstance(action, (argparse._SubParsersAction, argparse._HelpAction,
                                       argparse._VersionAction)):
                saved.append((action, action.default))
                action.default = argparse.SUPPRESS
    saved_defaults = [(p, dict(p._defaults)) for p in parsers]
    for p in parsers:
        p._defaults.clear()
    try:
        return parser.parse_args(argv)
    finally:
        for action, default in saved:
            action.default = default
        for p, defaults in saved_defaults:
            p._defaults.update(defaults)


def apply(parser: argparse.ArgumentParser, argv: list[str],
          settings: Settings) -> argparse.Namespace:
    """Parse ``argv`` with the file's settings as defaults; the command line wins. The
    namespace's ``config_sources`` maps each option set by the file (and not given on the
    command line) to the file and table it came from."""
    parsers = command_parsers(parser)
    for command, chosen in settings.commands.items():
        if command in parsers:
            for action in parsers[command]._actions:
                if action.dest in chosen:
                    action.default_before_config = action.default
            parsers[command].set_defaults(**{dest: s.value for dest, s in chosen.items()})
    args = parser.parse_args(argv)  # --help shows, and errors name, the real defaults
    command = getattr(args, "command", None)
    chosen = settings.for_command(command) if command else {}
    typed = typed_values(parser, argv) if chosen else argparse.Namespace()
    given = set(vars(typed))
    sources = {dest: s.source for dest, s in chosen.items() if dest not in given}
    # argparse appends a repeatable option's typed values to its default, which here is
    # the file's list: the command line replaces a configured value, it does not add to it.
    for dest in chosen.keys() & given:
        setattr(args, dest, getattr(typed, dest))
    for group in parsers[command]._mutually_exclusive_groups if chosen else ():
        dests = {a.dest for a in group._group_actions}
        if dests & given:  # --latex typed: a configured markdown = true gives way
            for action in group._group_actions:
                if action.dest in sources:
                    setattr(args, action.dest, getattr(action, "default_before_config", None))
                    del sources[action.dest]
    args.config_sources = sources
    return args


def from_config(args: argparse.Namespace, dest: str) -> bool:
    """Whether option ``dest`` has its value from the configuration file (not typed)."""
    return dest in getattr(args, "config_sources", {})


#: Options whose configured value can make a model fail to load in ways whose message
#: cannot name it (an example input of the wrong shape).
MODEL_OPTIONS = ("input_shape", "input_dtype")


def blame(args: argparse.Namespace, message: str) -> str:
    """``message`` of an error during a run, with the configured settings that may have
    caused it named with their file and key: those whose option the message mentions, and
    the model options (which the importer's message cannot name)."""
    sources: dict[str, str] = getattr(args, "config_sources", {}) or {}
    named = []
    for dest, where in sources.items():
        flag = "--" + dest.replace("_", "-")
        if dest in MODEL_OPTIONS or flag in message or dest in message:
            named.append(f"{dest.replace('_', '-')} = {toml_value(_raw(getattr(args, dest)))}"
                         f" from {where}")
    if not named:
        return message
    return f"{message} (configured: {'; '.join(named)})"


def _raw(value: Any) -> Any:
    """A parsed option value as it would be written in TOML (shapes as ``"1,3,8,8"``)."""
    if isinstance(value, tuple) and all(isinstance(v, int) for v in value):
        return ",".join(str(v) for v in value)
    if isinstance(value, list):
        return [_raw(v) for v in value]
    return value

