"""Rendering for the Sphinx directive, cached by a hash of the model and the settled options.

Nothing here imports Sphinx: a :class:`Request` says what to draw (the model, the ``draw``
options, what the builder needs), :func:`ensure` draws it into the cache folder unless a
file with the same key is already there. The key hashes netdraw's version, the model file's
bytes (or every project source file the factory's module imports, or the zoo name), the
configuration file's netdraw table, every ``draw`` option after it was applied, and the
target, so a rebuild with nothing changed draws nothing and a changed model, source file,
setting or option draws again; :func:`dependencies` names the files for Sphinx's own
tracking, which re-reads the document when one of them changes. Files are written atomically, so two
processes of a parallel build (``-j 2``) can meet on one key safely.
"""

from __future__ import annotations

import argparse
import functools
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
RESERVED = frozenset({"output", "format", "quiet", "tikz_fragment", "assets"})
#: The folder beside the cached (and the built) HTML pages with the scripts they share.
ASSETS = "netdraw-assets"


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
    if request.target == "html":  # the site's pages share one copy of the scripts
        argv += ["--assets", str(Path(output).parent / ASSETS)]
    args = parse_args(argv, cwd=Path(request.cwd))
    if request.target == "pdf" and args.width is None:
        args.width = "text"  # a Graphviz PDF in a LaTeX build: within the text width and height
    if request.target == "tikz":
        args.inline_colours = True  # netdraw.sty holds the default theme's colours
    return args


def model_digest(model: str) -> str:
    """What identifies a model's content: its file's hash, the hash of every project source
    file its factory module imports (:func:`project_sources`), or its zoo name."""
    path = Path(model)
    if path.is_file():
        return "file:" + _file_hash(path)
    if model.startswith("zoo:"):
        return model
    sources = project_sources(model.split(":", 1)[0])
    if sources:
        return "module:" + hashlib.sha256("\n".join(
            f"{p}:{_file_hash(p)}" for p in sources).encode("utf-8")).hexdigest()
    return "spec:" + model


def _file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def module_file(module: str) -> Path | None:
    """The source file of ``pkg.module`` (for a ``pkg.module:factory`` model), if found."""
    try:
        spec = importlib.util.find_spec(module)
    except Exception:  # a broken package of the user's is no figure's error
        return None
    origin = getattr(spec, "origin", None) if spec is not None else None
    return Path(origin) if origin and os.path.isfile(origin) else None


@functools.lru_cache(maxsize=1)
def _installed_roots() -> tuple[str, ...]:
    """Folders whose modules are installed software, not the project: the standard library,
    site-packages, and netdraw itself (its version is in every key)."""
    import site
    import sysconfig

    roots = {sysconfig.get_path(name) for name in ("stdlib", "platstdlib", "purelib",
                                                   "platlib")}
    roots.update(getattr(site, "getsitepackages", lambda: [])())
    roots.add(site.getusersitepackages() if hasattr(site, "getusersitepackages") else "")
    roots.add(str(Path(__file__).resolve().parents[1]))
    return tuple(os.path.realpath(r) + os.sep for r in roots if r)


def _in_project(path: Path) -> bool:
    return path.suffix == ".py" and not os.path.realpath(path).startswith(_installed_roots())


def project_sources(module: str) -> list[Path]:
    """The source files of ``module`` and of every module it imports, directly or through
    others, that belong to the project (not the standard library, site-packages or
    netdraw): what a ``pkg.module:factory`` figure depends on. Found by reading the import
    statements (a module imported by name at run time is not seen); packages' ``__init__``
    files count, as importing a module runs them."""
    seen: dict[str, Path | None] = {}
    found: list[Path] = []
    queue = [module]
    while queue:
        name = queue.pop()
        if name in seen or not name:
            continue
        top = name.split(".", 1)[0]
        if top != name and seen.get(top, "") is None:
            continue  # inside an installed package: not looked into
        origin = module_file(name)
        seen[name] = origin if origin is not None and _in_project(origin) else None
        if seen[name] is None:
            continue
        found.append(origin)
        package = name if origin.name == "__init__.py" else name.rpartition(".")[0]
        queue.extend(_parents(name))
        queue.extend(_imports(origin, package))
    return sorted(set(found))


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _imports(path: Path, package: str) -> list[str]:
    """Module names a source file imports (``from . import x`` resolved against
    ``package``; ``from m import name`` gives ``m`` and ``m.name``, which may be a module)."""
    import ast

    try:
        tree = ast.parse(path.read_bytes(), filename=str(path))
    except (SyntaxError, ValueError, OSError):
        return []
    out: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                out += [*_parents(alias.name), alias.name]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                parts = package.split(".") if package else []
                if node.level - 1 > len(parts):
                    continue
                base_parts = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            if not base:
                continue
            out += [*_parents(base), base]
            out += [f"{base}.{alias.name}" for alias in node.names if alias.name != "*"]
    return out


def dependencies(model: str, cwd: str) -> list[Path]:
    """Every file a figure of ``model`` depends on, for Sphinx to re-read the document when
    one changes: the model file or the project sources of its factory, and the
    configuration files the search looks at (see :func:`netdraw.settings.config_files`)."""
    from netdraw.settings import config_files

    path = Path(model)
    if path.is_file():
        files = [path]
    elif model.startswith("zoo:"):
        files = []
    else:
        files = project_sources(model.split(":", 1)[0])
    return [*files, *config_files(Path(cwd))]


def _config_text(cwd: str) -> str:
    """The netdraw table of the configuration in force, as canonical JSON."""
    from netdraw.settings import find_config

    config = find_config(Path(cwd))
    if config is None:
        return ""
    return json.dumps({"file": str(config.path), "table": config.table}, sort_keys=True,
                      default=str)


def cache_key(request: Request) -> str:
    """The hash naming a request's files in the cache: netdraw's version, the model
    (:func:`model_digest`), the configuration, every ``draw`` option as settled, the
    target."""
    from netdraw.version import __version__

    args = parse(request, f"figure.{TARGETS[request.target]}")
    settled = {k: v for k, v in sorted(vars(args).items())
               if k not in ("output", "quiet", "config_sources", "command")}
    text = json.dumps({"version": __version__, "target": request.target,
                       "summary": request.summary, "model": model_digest(request.model),
                       "config": _config_text(request.cwd), "args": settled},
                      sort_keys=True, default=str)
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
    from netdraw.output import json_text, write_output
    from netdraw.passes import make_view
    from netdraw.summary import HEADER, table_cells

    args = parse(request, "figure.svg")
    view = make_view(load_model_from_args(args), view_options(args))
    cells, total = table_cells(view)
    write_output(str(target), json_text({"header": list(HEADER), "rows": cells,
                                         "total": list(total)}, what="the summary table"))
