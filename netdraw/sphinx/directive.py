"""The ``netdraw`` directive: options, the model argument, and the nodes it produces."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from docutils import nodes
from docutils.parsers.rst import directives
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

from netdraw.errors import NetdrawError
from netdraw.sphinx.render import RESERVED, Request, ensure

logger = logging.getLogger("netdraw.sphinx")

#: Options of the directive itself (the ``draw`` options are added from its parser).
OWN_OPTIONS: dict[str, Any] = {
    "format": lambda text: directives.choice(text, ("svg", "html", "png")),
    "caption": directives.unchanged,
    "alt": directives.unchanged,
    "width": directives.length_or_percentage_or_unitless,
    "height": directives.length_or_unitless,
    "align": lambda text: directives.choice(text, ("left", "center", "right")),
    "summary": directives.flag,
    "name": directives.unchanged,
    "class": directives.class_option,
}


class netdraw_figure(nodes.General, nodes.Inline, nodes.Element):  # noqa: N801 (docutils)
    """A drawn model: ``request`` (what to draw), ``alt``, ``width``, ``height``."""


def draw_options() -> dict[str, argparse.Action]:
    """Directive option name -> ``draw`` option, read from the ``draw`` parser (so a new
    option of ``netdraw draw`` is a directive option too). A name the directive uses
    itself (``width``) is reached as ``draw-width``."""
    from netdraw import settings
    from netdraw.cli import build_parser

    draw = settings.command_parsers(build_parser())["draw"]
    out: dict[str, argparse.Action] = {}
    for action in draw._actions:
        if not action.option_strings or action.dest in RESERVED or action.dest == "help":
            continue
        longs = [s for s in action.option_strings if s.startswith("--")]
        if not longs:
            continue
        key = longs[0][2:]
        out[f"draw-{key}" if key in OWN_OPTIONS else key] = action
    return out


def option_spec() -> dict[str, Any]:
    spec = dict(OWN_OPTIONS)
    for name, action in draw_options().items():
        spec[name] = directives.flag if action.nargs == 0 else directives.unchanged_required
    return spec


class NetdrawDirective(SphinxDirective):
    """``.. netdraw:: MODEL`` — MODEL is a path relative to the document (or to the source
    folder with a leading ``/``), ``zoo:NAME`` or ``pkg.module:factory``."""

    required_arguments = 1
    optional_arguments = 0
    final_argument_whitespace = False
    has_content = False
    option_spec: dict[str, Any] = {}  # filled in by setup() from the draw parser

    def run(self) -> list[nodes.Node]:
        try:
            request = self._request()
            if not request.target:  # a builder that shows no pictures (text, man, …)
                return [nodes.paragraph(text=self._alt())]
            result = ensure(request, cache_folder(self.env))
        except NetdrawError as exc:
            return self._failed(str(exc))
        except Exception as exc:  # a netdraw bug must not stop the whole build
            return self._failed(f"internal error ({type(exc).__name__}: {exc}); please report "
                                "it")
        figure_node = netdraw_figure(request=request.to_dict(), alt=self._alt(),
                                     width=self.options.get("width"),
                                     height=self.options.get("height"),
                                     classes=self.options.get("class", []))
        out: list[nodes.Node] = [self._wrap(figure_node)]
        if result.summary is not None:
            out.append(summary_table(result.summary))
        return out

    # -- building the request ------------------------------------------------------------

    def _request(self) -> Request:
        from netdraw.sphinx.render import dependencies

        model = self._model()
        cwd = str(Path(self.env.srcdir))
        # Before anything can fail: a broken configuration file, once fixed, re-reads this
        # document, and so does an edit to any project file the model is built from.
        for path in dependencies(model, cwd):
            self.env.note_dependency(str(path))
        options: list[str] = []
        for name, action in draw_options().items():
            if name not in self.options:
                continue
            flag = next(s for s in action.option_strings if s.startswith("--"))
            if action.nargs == 0:
                options.append(flag)
            elif isinstance(action, argparse._AppendAction):
                for value in self.options[name].split():
                    options += [flag, value]
            else:
                options += [flag, self.options[name]]
        probe = Request(model, tuple(options), "svg", cwd)
        return Request(model, tuple(options), self._target(probe) or "", cwd,
                       "summary" in self.options)

    def _model(self) -> str:
        spec = self.arguments[0]
        if spec.startswith("zoo:"):
            return spec
        rel, path = self.env.relfn2path(spec)
        if Path(path).is_file():
            return str(Path(path).resolve())
        if ":" in spec and not spec.startswith(("/", ".")):
            return spec
        raise NetdrawError(f"{spec}: no such file (a MODEL is a path relative to this "
                           "document, zoo:NAME or pkg.module:factory)")

    def _target(self, probe: Request) -> str | None:
        """What this builder needs: svg/png/html for HTML, tikz/pdf/svgpdf/png for LaTeX."""
        from netdraw.backends import BACKENDS
        from netdraw.sphinx.render import parse

        fmt = self.options.get("format", "svg")
        style = parse(probe, "figure.svg").style
        spec = next((s for s in BACKENDS if style and s.answers_to(style)), None)
        formats = spec.formats if spec is not None else ("svg", "png", "pdf")
        kind = self.env.app.builder.format
        if kind == "html":
            if fmt == "svg" and "svg" not in formats:
                return "png"  # TikZ draws PNG for the web
            return fmt
        if kind == "latex":
            if fmt == "png":
                return "png"
            if "tex" in formats:
                return "tikz"
            if "pdf" in formats:
                return "pdf"
            return "svgpdf"
        return None

    def _alt(self) -> str:
        return self.options.get("alt") or f"{self.arguments[0]}: diagram drawn by netdraw"

    # -- nodes -----------------------------------------------------------------------------

    def _wrap(self, figure_node: netdraw_figure) -> nodes.Node:
        caption = self.options.get("caption")
        align = self.options.get("align", "center")
        if not caption:
            figure_node["align"] = align
            if "name" in self.options:
                container = nodes.container(classes=["netdraw"])
                container += figure_node
                self.add_name(container)
                return container
            return figure_node
        figure = nodes.figure(classes=["netdraw"], align=align)
        figure += figure_node
        parsed, _ = self.state.inline_text(caption, self.lineno)
        caption_node = nodes.caption(caption, "", *parsed)
        caption_node.source, caption_node.line = self.state_machine.get_source_and_line(
            self.lineno)
        figure += caption_node
        self.add_name(figure)
        return figure

    def _failed(self, message: str) -> list[nodes.Node]:
        logger.warning("netdraw: %s: %s", self.arguments[0], message,
                       location=(self.env.docname, self.lineno), type="netdraw",
                       subtype="model")
        return []


def cache_folder(env: Any) -> Path:
    """Where rendered figures are kept between builds: beside the doctrees."""
    return Path(env.doctreedir) / "netdraw"


def summary_table(summary: dict[str, Any]) -> nodes.table:
    """The layer table (``netdraw summary``) as a docutils table."""
    header, rows, total = summary["header"], summary["rows"], summary["total"]
    table = nodes.table(classes=["netdraw-summary"])
    group = nodes.tgroup(cols=len(header))
    table += group
    for _ in header:
        group += nodes.colspec(colwidth=1)
    head = nodes.thead()
    group += head
    head += _row(header)
    body = nodes.tbody()
    group += body
    for cells in rows:
        body += _row(cells)
    body += _row(total, strong=True)
    return table


def _row(cells: list[str], strong: bool = False) -> nodes.row:
    row = nodes.row()
    for text in cells:
        entry = nodes.entry()
        para = nodes.paragraph()
        para += nodes.strong(text=text) if strong and text else nodes.Text(text)
        entry += para
        row += entry
    return row
