"""Assembling the page: data, scripts and style, under a strict Content-Security-Policy.

Three ways to carry the scripts and the style (:class:`Embedding`):

- ``inline`` (the default): one self-contained file, everything inside; it works from
  ``file://`` and makes no request of any kind. Script and style are allowed by hash.
- ``assets``: pages written together (the gallery, a docs site) share one copy of the
  scripts and the style in a folder beside them, named by their content's hash (so pages
  of two netdraw versions can share a folder, and a rerun writes the same bytes); the page
  loads them with plain ``<script src>`` (module scripts are refused from ``file://``).
- ``parent``: a notebook's outputs share one copy of the layout engine per notebook: the
  page, in its sandboxed iframe, asks the notebook's document for the engine's text
  (:mod:`netdraw.notebook` puts it into the first output) and runs it only if it has the
  hash the page's Content-Security-Policy names.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import posixpath
from dataclasses import dataclass
from typing import Any

import jinja2
from markupsafe import Markup

from netdraw.backends.html import assets
from netdraw.backends.html.model import script_json


@dataclass(frozen=True)
class Embedding:
    """How a page carries its scripts and style: ``mode`` is ``inline``, ``assets`` (then
    ``folder`` is the assets folder's URL relative to the page, e.g. ``netdraw-assets``)
    or ``parent``."""

    mode: str = "inline"
    folder: str = ""

    def __post_init__(self) -> None:
        if self.mode not in ("inline", "assets", "parent"):
            raise ValueError(f"unknown embedding {self.mode!r}")


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("netdraw", "templates/html"),
        autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined,
        trim_blocks=True, lstrip_blocks=True)
    return env.get_template("page.html.j2")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(scripts: list[str], styles: list[str], *, serve: bool,
                            external: bool = False) -> str:
    """No network (``connect-src 'self'`` only for ``serve``'s reload events), no inline
    handlers (scripts by hash only, or only the page's own folder's files when
    ``external``), images only from ``data:``/``blob:`` URIs."""
    own = ["'self'"] if external else []
    return "; ".join([
        "default-src 'none'",
        "script-src " + " ".join([*own, *(_hash(s) for s in scripts)]) + " 'wasm-unsafe-eval'",
        "style-src " + " ".join([*own, *(_hash(s) for s in styles)]),
        "img-src data: blob:",
        "connect-src " + ("'self'" if serve else "'none'"),
        "base-uri 'none'",
        "form-action 'none'",
    ])


def asset_files(folder: str) -> dict[str, bytes]:
    """The shared files of ``assets`` pages, by their path under ``folder``: the page's
    script, its style and the layout engine, each named by its content's hash."""
    out = {}
    for kind, text in (("app", assets.own_script()), ("style", assets.own_style()),
                       ("library", assets.graphviz_classic_script())):
        out[posixpath.join(folder, asset_name(kind, text))] = text.encode("utf-8")
    return out


def asset_name(kind: str, text: str) -> str:
    """``netdraw-app.<hash>.js``, ``netdraw-style.<hash>.css``, ``graphviz.<hash>.js``."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
    stem = {"app": "netdraw-app", "style": "netdraw-style", "library": "graphviz"}[kind]
    return f"{stem}.{digest}.{'css' if kind == 'style' else 'js'}"


def build_page(model: dict[str, Any], *, title: str | None = None,
               embedding: Embedding | None = None) -> str:
    """The HTML document for a page model (see :func:`netdraw.backends.html.model.page_model`);
    with ``assets``, a :class:`~netdraw.output.TextWithFiles` whose files are the shared
    ones (written beside the page, under the assets folder)."""
    from netdraw.output import TextWithFiles
    from netdraw.version import __version__

    how = embedding or Embedding()
    serve = bool(model.get("serve"))
    app = assets.own_script()
    style = assets.own_style()
    values: dict[str, Any] = dict(
        version=__version__, title=title if title else f"{model['name']} · netdraw",
        model=Markup(script_json(model)), engine=how.mode, engine_hash="", assets=None,
        style=Markup(style), app=Markup(app), library="")
    if how.mode == "assets":
        files = asset_files(how.folder)
        names = {kind: posixpath.join(how.folder, asset_name(kind, text)) for kind, text in
                 (("app", app), ("style", style),
                  ("library", assets.graphviz_classic_script()))}
        values.update(assets=names, csp=content_security_policy([], [], serve=serve,
                                                                 external=True))
        return TextWithFiles(_template().render(**values), files)
    library = assets.graphviz_script()
    values.update(csp=content_security_policy([app, library], [style], serve=serve),
                  library=Markup(library) if how.mode == "inline" else "",
                  engine_hash=_hash(library).strip("'"))
    return _template().render(**values)
