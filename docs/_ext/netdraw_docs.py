"""Directives for netdraw's own documentation: the CLI reference read from the argument
parser, the JSON Schema shipped in the package, and the zoo's model list."""

from __future__ import annotations

import argparse
import json
from importlib import resources

from docutils import nodes
from sphinx.util.docutils import SphinxDirective


def _help(action: argparse.Action) -> str:
    text = action.help or ""
    if "%(" in text:
        text = text % {"default": action.default, "prog": "netdraw"}
    return text


class CliReference(SphinxDirective):
    """``netdraw-cli`` — every command: its usage, description and options, with the
    configuration key of each option (see netdraw.settings). Built as nodes, so it works
    in reStructuredText and MyST pages alike."""

    def run(self) -> list[nodes.Node]:
        from netdraw import settings
        from netdraw.cli import COMMANDS, build_parser

        parsers = settings.command_parsers(build_parser())
        out: list[nodes.Node] = []
        for name in COMMANDS:
            sub = parsers[name]
            keys = {a.dest: k for k, a in settings.configurable(sub).items()}
            title = f"netdraw {name}"
            section = nodes.section(ids=[nodes.make_id(title)],
                                    names=[nodes.fully_normalize_name(title)])
            section += nodes.title(text=title)
            if sub.description:
                section += nodes.paragraph(text=" ".join(sub.description.split()))
            usage = sub.format_usage().removeprefix("usage: ").strip()
            section += nodes.literal_block(usage, usage, language="text")
            items = nodes.definition_list()
            for action in sub._actions:
                if isinstance(action, argparse._HelpAction):
                    continue
                names = ", ".join(action.option_strings) or action.metavar or action.dest
                if action.option_strings and action.nargs != 0:
                    names += f" {action.metavar or action.dest.upper()}"
                body = nodes.paragraph()
                text = _help(action) or "(no description)"
                body += nodes.Text(text if text.endswith(".") else text + ".")
                if action.choices and not isinstance(action.choices, dict):
                    body += nodes.Text(" Choices: " + ", ".join(str(c) for c in action.choices)
                                       + ".")
                if action.dest in keys:
                    body += nodes.Text(" Configuration key: ")
                    body += nodes.literal(text=keys[action.dest])
                    body += nodes.Text(".")
                term = nodes.term()
                term += nodes.literal(text=names)
                definition = nodes.definition()
                definition += body
                items += nodes.definition_list_item("", term, definition)
            section += items
            out.append(section)
        return out


class SchemaReference(SphinxDirective):
    """``.. netdraw-schema::`` — the JSON Schema files shipped in ``netdraw/schema/``, or a
    note while the installed netdraw ships none."""

    def run(self) -> list[nodes.Node]:
        try:
            folder = resources.files("netdraw") / "schema"
            files = sorted((f for f in folder.iterdir() if f.name.endswith(".json")),
                           key=lambda f: f.name)
        except (FileNotFoundError, NotADirectoryError, ModuleNotFoundError):
            files = []
        if not files:
            para = nodes.paragraph(text="This netdraw ships no JSON Schema file yet "
                                        "(netdraw/schema/*.json); the keys are described "
                                        "above.")
            return [nodes.note("", para)]
        out: list[nodes.Node] = []
        for file in files:
            text = file.read_text(encoding="utf-8")
            json.loads(text)  # a broken schema fails the docs build
            out.append(nodes.paragraph(text=f"netdraw/schema/{file.name}:"))
            block = nodes.literal_block(text, text, language="json")
            out.append(block)
        return out


class ZooList(SphinxDirective):
    """``netdraw-zoo`` — the built-in models as a table."""

    def run(self) -> list[nodes.Node]:
        from netdraw import zoo

        table = nodes.table()
        group = nodes.tgroup(cols=3)
        table += group
        for width in (2, 1, 5):
            group += nodes.colspec(colwidth=width)
        head, body = nodes.thead(), nodes.tbody()
        group += head
        group += body
        head += _row([nodes.Text("Name"), nodes.Text("Framework"), nodes.Text("Model")])
        for name, entry in zoo.ZOO.items():
            body += _row([nodes.literal(text=f"zoo:{name}"),
                          nodes.Text(zoo.FRAMEWORK_NAMES.get(entry.framework, entry.framework)),
                          nodes.Text(entry.description)])
        return [table]


def _row(cells: list[nodes.Node]) -> nodes.row:
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry += nodes.paragraph("", "", cell)
        row += entry
    return row


def setup(app):
    app.add_directive("netdraw-cli", CliReference)
    app.add_directive("netdraw-schema", SchemaReference)
    app.add_directive("netdraw-zoo", ZooList)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
