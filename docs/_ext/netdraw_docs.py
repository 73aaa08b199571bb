"""Directives for netdraw's own documentation: the CLI reference read from the argument
parser, the JSON Schema shipped in the package, the zoo's model list, and the tables of
node kinds and operators read from ``netdraw.ir.KINDS`` and ``netdraw/ops.py``."""

from __future__ import annotations

import argparse
import json
from importlib import resources

from docutils import nodes
from docutils.parsers.rst import directives
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


#: The frameworks of ``netdraw.ops.TABLES`` in the order of the tables' columns.
FRAMEWORKS = (("onnx", "ONNX"), ("torch", "PyTorch"), ("keras", "Keras"))


def _literals(names: list[str]) -> list[nodes.Node]:
    """``a``, ``b``, ``c`` as literals separated by commas (empty: an en dash)."""
    if not names:
        return [nodes.Text("–")]
    out: list[nodes.Node] = []
    for i, name in enumerate(names):
        if i:
            out.append(nodes.Text(", "))
        out.append(nodes.literal(text=name))
    return out


def _table(widths: tuple[int, ...], head: list[str], rows: list[list[list[nodes.Node]]]
           ) -> nodes.table:
    table = nodes.table()
    group = nodes.tgroup(cols=len(widths))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    thead, tbody = nodes.thead(), nodes.tbody()
    group += thead
    group += tbody
    thead += _row([nodes.Text(text) for text in head])
    for cells in rows:
        row = nodes.row()
        for cell in cells:
            entry = nodes.entry()
            entry += nodes.paragraph("", "", *cell)
            row += entry
        tbody += row
    return table


class KindTable(SphinxDirective):
    """``netdraw-kinds`` — every canonical kind (``netdraw.ir.KINDS``) with its name in
    legends and tables (``netdraw.describe.KIND_NAMES``), an operator's symbol
    (``netdraw.describe.OPERATORS``), its Graphviz fill and how many op types of each
    framework map to it; ``:list:`` gives the kinds alone, as one line."""

    option_spec = {"list": directives.flag}

    def run(self) -> list[nodes.Node]:
        from netdraw import ops
        from netdraw.describe import KIND_NAMES, fill_colour, operator_symbol
        from netdraw.ir import KINDS

        if "list" in self.options:
            return [nodes.paragraph("", "", *_literals(list(KINDS)))]
        rows = []
        for kind in KINDS:
            colour = fill_colour(kind)
            swatch = nodes.raw("", f'<span class="nd-swatch" style="background:{colour}">'
                                   "</span> ", format="html")
            symbol = operator_symbol(kind)
            cells = [[nodes.literal(text=kind)], [nodes.Text(KIND_NAMES.get(kind, kind))],
                     [nodes.Text(symbol or "–")], [swatch, nodes.literal(text=colour)]]
            for framework, _ in FRAMEWORKS:
                count = sum(k == kind for k, _ in ops.TABLES[framework].values())
                cells.append([nodes.Text(str(count) if count else "–")])
            rows.append(cells)
        head = ["kind", "legend name", "symbol", "Graphviz fill",
                *(f"{title} op types" for _, title in FRAMEWORKS)]
        return [_table((3, 4, 2, 3, 2, 2, 2), head, rows)]


class OpTable(SphinxDirective):
    """``netdraw-ops FRAMEWORK`` — the op types of one table of ``netdraw/ops.py``
    (``onnx``, ``torch``, ``keras``), grouped by the kind they map to."""

    required_arguments = 1

    def run(self) -> list[nodes.Node]:
        from netdraw import ops
        from netdraw.ir import KINDS

        table = ops.TABLES[self.arguments[0]]
        by_kind: dict[str, list[str]] = {}
        for op, (kind, _) in table.items():
            by_kind.setdefault(kind, []).append(op)
        rows = [[[nodes.literal(text=kind)], _literals(by_kind[kind])]
                for kind in KINDS if kind in by_kind]
        return [_table((2, 10), ["kind", "op types"], rows)]


class AttributeTable(SphinxDirective):
    """``netdraw-attrs`` — the attribute renames of ``netdraw/ops.py``: per framework, each
    set of renames with the op types it applies to."""

    def run(self) -> list[nodes.Node]:
        from netdraw import ops

        rows = []
        for framework, title in FRAMEWORKS:
            by_renames: dict[tuple[tuple[str, str], ...], list[str]] = {}
            for op, (_, renames) in ops.TABLES[framework].items():
                if renames:
                    by_renames.setdefault(tuple(renames.items()), []).append(op)
            for renames, op_types in by_renames.items():
                pairs = [f"{a} → {b}" for a, b in renames]
                rows.append([[nodes.Text(title)], _literals(pairs), _literals(op_types)])
        return [_table((2, 6, 8), ["framework", "attribute → IR attribute", "op types"], rows)]


class AliasTable(SphinxDirective):
    """``netdraw-aliases`` — PyTorch spellings of one op (``netdraw.ops.TORCH_ALIASES``)."""

    def run(self) -> list[nodes.Node]:
        from netdraw import ops

        canonical: dict[str, list[str]] = {}
        for alias, name in ops.TORCH_ALIASES.items():
            canonical.setdefault(name, []).append(alias)
        rows = [[[nodes.literal(text=name)], _literals(aliases)]
                for name, aliases in canonical.items()]
        return [_table((2, 6), ["op", "also spelled"], rows)]


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
    app.add_directive("netdraw-kinds", KindTable)
    app.add_directive("netdraw-ops", OpTable)
    app.add_directive("netdraw-attrs", AttributeTable)
    app.add_directive("netdraw-aliases", AliasTable)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
