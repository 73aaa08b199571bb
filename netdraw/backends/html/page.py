"""Assembling the one-file page: data, scripts and style inline, under a strict
Content-Security-Policy whose script and style hashes are computed here."""

from __future__ import annotations

import base64
import functools
import hashlib
from typing import Any

import jinja2
from markupsafe import Markup

from netdraw.backends.html import assets
from netdraw.backends.html.model import script_json


@functools.lru_cache(maxsize=1)
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("netdraw", "templates/html"),
        autoescape=True, keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template("page.html.j2")


def _hash(text: str) -> str:
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return f"'sha256-{base64.b64encode(digest).decode('ascii')}'"


def content_security_policy(scripts: list[str], styles: list[str], *, serve: bool) -> str:
    """No network (``connect-src 'self'`` only for ``serve``'s reload events), no inline
    handlers (scripts by hash only), images only from ``data:``/``blob:`` URIs."""
    return "; ".join([
        "default-src 'none'",
        "script-src " + " ".join(_hash(s) for s in scripts) + " 'wasm-unsafe-eval'",
        "style-src " + " ".join(_hash(s) for s in styles),
        "img-src data: blob:",
        "connect-src " + ("'self'" if serve else "'none'"),
        "base-uri 'none'",
        "form-action 'none'",
    ])


def build_page(model: dict[str, Any], *, title: str | None = None) -> str:
    """The HTML document for a page model (see :func:`netdraw.backends.html.model.page_model`)."""
    from netdraw.version import __version__

    library = assets.graphviz_script()
    app = assets.own_script()
    style = assets.own_style()
    csp = content_security_policy([app, library], [style], serve=bool(model.get("serve")))
    return _template().render(
        csp=csp, version=__version__,
        title=title if title else f"{model['name']} · netdraw",
        style=Markup(style), model=Markup(script_json(model)),
        library=Markup(library), app=Markup(app),
    )
