"""Rendering for the Sphinx directive, cached by a hash of the model and the settled options.

Nothing here imports Sphinx: a :class:`Request` says what to draw (the model, the ``draw``
options, what the builder needs), :func:`ensure` draws it into the cache folder unless a
file with the same key is already there. The key hashes netdraw's version, the model file's
bytes (or the factory module's source, or the zoo name), every ``draw`` option after the
configuration file was applied, and the target, so a rebuild with nothing changed draws
nothing and a changed model or option draws again. Files are written atomically, so two
processes of a parallel build (``-j 2``) can meet on one key safely.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError

#: What a builder can ask for: target -> suffix of the cached file.
TARGETS = {"svg": "svg", "png": "png", "html": "html", "tikz": "tex", "pdf": "pdf",
           "svgpdf": "pdf"}
#: ``draw`` options the directive never passes (it chooses the output itself).
RESERVED = frozenset({"output", "format", "quiet", "tikz_fragment"})


@dataclass(frozen=True)
class Request:
    """One figure: the model as the CLI takes it, its ``draw`` options, the target."""

    model: str
    options: tuple[str, ...]
    target: str
    cwd: str  # where the configuration file ([tool.netdraw]) is looked up
    summary: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model, "options": list(self.options), "target": self.target,
                "cwd": self.cwd, "summary": self.summary}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Request:
        return cls(data["model"], tuple(data["options"]), data["target"], data["cwd"],
                   bool(data.get("summary")))


@dataclass
class Result:
    """The cached files of a request; ``rendered`` says whether this call drew them."""

    figure: Path
    summary: dict[str, Any] | None
    rendered: bool


def parse(request: Request, output: str) -> argparse.Namespace:
    """The ``draw`` command line of a request, parsed as the CLI would (configuration
    file included)."""
    from netdraw.cli import parse_args

    argv = ["draw", request.model, "-o", output, "--quiet", *request.options]
    if request.target == "tikz":
        argv += ["--style", "tikz", "--tikz-fragment"]
    args = parse_args(argv, cwd=Path(request.cwd))
    if request.target == "pdf" and args.width is None:
        args.width = "text"  # a Graphviz PDF in a LaTeX build: within the text width and height
    if request.target == "tikz":
        args.inline_colours = True  # netdraw.sty holds the default theme's colours
    return args


def model_digest(model: str) -> str:
    """What identifies a model's content: its file's hash, its factory module's source hash
    or its zoo name."""
    path = Path(model)
    if path.is_file():
        return "file:" + hashlib.sha256(path.read_bytes()).hexdigest()
    if model.startswith("zoo:"):
        return model
    module = model.split(":", 1)[0]
    origin = module_file(module)
    if origin is not None:
        return f"module:{module}:" + hashlib.sha256(origin.read_bytes()).hexdigest()
    return "spec:" + model


def module_file(module: str) -> Path | None:
    """The source file of ``pkg.module`` (for a ``pkg.module:factory`` model), if found."""
    try:
        spec = importlib.util.find_spec(module)
    except (ImportError, ValueError):
        return None
    origin = getattr(spec, "origin", None) if spec is not None else None
    return Path(origin) if origin and os.path.isfile(origin) else None


def cache_key(request: Request) -> str:
    """The hash naming a request's files in the cache."""
    from netdraw.version import __version__

    args = parse(request, f"figure.{TARGETS[request.target]}")
    settled = {k: v for k, v in sorted(vars(args).items())
               if k not in ("output", "quiet", "config_sources", "command")}
    text = json.dumps({"version": __version__, "target": request.target,
                       "summary": request.summary, "model": model_digest(request.model),
                       "args": settled}, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:20]


def ensure(request: Request, cache: Path) -> Result:
    """The request's figure (and summary) in ``cache``, drawn only when not there yet.
    Raises NetdrawError with the CLI's one-line message when the model cannot be drawn."""
    cache.mkdir(parents=True, exist_ok=True)
    key = cache_key(request)
    figure = cache / f"netdraw-{key}.{TARGETS[request.target]}"
    summary_file = cache / f"netdraw-{key}.summary.json"
    rendered = False
    if not figure.is_file():
        _draw(request, figure)
        rendered = True
    summary = None
    if request.summary:
        if not summary_file.is_file():
            _write_summary(request, summary_file)
            rendered = True
        summary = json.loads(summary_file.read_text(encoding="utf-8"))
    return Result(figure, summary, rendered)


def _draw(request: Request, figure: Path) -> None:
    from netdraw import progress
    from netdraw.cli import draw

    quiet = progress.is_quiet()
    progress.set_quiet(True)
    try:
        if request.target == "svgpdf":
            with tempfile.TemporaryDirectory(prefix="netdraw-sphinx-") as tmp:
                svg = Path(tmp) / "figure.svg"
                draw.run(parse(request, str(svg)))
                _svg_to_pdf(svg, figure)
        else:
            draw.run(parse(request, str(figure)))
    finally:
        progress.set_quiet(quiet)


def _svg_to_pdf(svg: Path, target: Path) -> None:
    """Convert an SVG figure to PDF with ``rsvg-convert`` (for LaTeX builds)."""
    exe = shutil.which("rsvg-convert")
    if exe is None:
        raise NetdrawError("this style draws SVG only; a LaTeX build turns it into PDF with "
                           "'rsvg-convert', which is not installed: run 'sudo apt-get install "
                           "librsvg2-bin', or use :style: tikz or graph for the PDF")
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    proc = subprocess.run([exe, "-f", "pdf", "-o", str(tmp), str(svg)], capture_output=True,
                          timeout=300, stdin=subprocess.DEVNULL)
    if proc.returncode != 0 or not tmp.is_file():
        tmp.unlink(missing_ok=True)
        raise NetdrawError(f"rsvg-convert failed: {proc.stderr.decode(errors='replace')[:200]}")
    os.replace(tmp, target)


def _write_summary(request: Request, target: Path) -> None:
    from netdraw.cli.common import load_model_from_args, view_options
    from netdraw.output import write_output
    from netdraw.passes import make_view
    from netdraw.summary import HEADER, table_cells

    args = parse(request, "figure.svg")
    view = make_view(load_model_from_args(args), view_options(args))
    cells, total = table_cells(view)
    write_output(str(target), json.dumps({"header": list(HEADER), "rows": cells,
                                          "total": list(total)}))
