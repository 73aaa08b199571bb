"""The page's scripts and style: netdraw's own (``netdraw/templates/html/``) and Graphviz
compiled to WebAssembly (the npm package ``@hpcc-js/wasm-graphviz``), found where the set-up
installed it.

The Graphviz build is a declared dependency, never a copy in the repository:
``package.json`` pins it, ``npm ci`` (run by ``scripts/dev.sh``) installs it into
``node_modules/``, and building a wheel copies it into ``netdraw/templates/html/vendor/``
(see ``setup.py``). At run time it is looked up in that order: ``$NETDRAW_GRAPHVIZ_JS``,
the package's ``vendor/`` folder, then ``node_modules/`` of the checkout netdraw runs from.
"""

from __future__ import annotations

import functools
import os
import re
from importlib import resources
from pathlib import Path

from netdraw.errors import NetdrawError

NPM_PACKAGE = "@hpcc-js/wasm-graphviz"
#: The file of the npm package that is embedded, and its name inside the wheel.
NPM_FILE = Path("dist") / "index.js"
VENDOR_NAME = "graphviz.js"
#: The page's own files, concatenated in this order into one module script.
SCRIPTS = ("view.js", "explorer.js", "app.js")
STYLES = ("viewer.css", "explorer.css")
#: The ES module's closing ``export{a as B, …}`` clause (and a source-map comment).
_EXPORT = re.compile(r"export\s*\{([^{}]*)\}\s*;?\s*(//# sourceMappingURL=\S*\s*)?$")


def _template(name: str) -> str:
    return resources.files("netdraw").joinpath("templates", "html", name).read_text("utf-8")


@functools.lru_cache(maxsize=1)
def own_script() -> str:
    """netdraw's own JavaScript for the page (one module)."""
    return "\n".join(_template(name) for name in SCRIPTS)


@functools.lru_cache(maxsize=1)
def own_style() -> str:
    return "\n".join(_template(name) for name in STYLES)


def graphviz_js_candidates() -> list[Path]:
    """Where the Graphviz build may be, in the order they are tried."""
    out = []
    if os.environ.get("NETDRAW_GRAPHVIZ_JS"):
        out.append(Path(os.environ["NETDRAW_GRAPHVIZ_JS"]))
    out.append(Path(str(resources.files("netdraw").joinpath("templates", "html", "vendor",
                                                             VENDOR_NAME))))
    checkout = Path(__file__).resolve().parents[3]
    out.append(checkout / "node_modules" / NPM_PACKAGE / NPM_FILE)
    return out


@functools.lru_cache(maxsize=4)
def _load_graphviz(path: str, mtime: float) -> str:
    text = Path(path).read_text("utf-8")
    return module_script(text)


def graphviz_script() -> str:
    """The Graphviz WebAssembly build as a module script that sets
    ``globalThis.NetdrawGraphviz``; a clear error when it is not installed."""
    for path in graphviz_js_candidates():
        if path.is_file():
            return _load_graphviz(str(path), path.stat().st_mtime)
    from netdraw.install import browser_library_hint

    raise NetdrawError(
        f"the HTML preview embeds Graphviz compiled to WebAssembly (npm package {NPM_PACKAGE}"
        f"), which this installation does not have: {browser_library_hint(NPM_PACKAGE)}; "
        "every other format draws without it")


def graphviz_classic_script() -> str:
    """The Graphviz build as a classic script (for a file beside the page: browsers refuse
    module scripts from ``file://``), its declarations kept inside a function."""
    text = graphviz_script()
    if "import.meta" in text:
        raise NetdrawError(f"unexpected {NPM_PACKAGE} build: it cannot run as a classic "
                           "script; install the version package.json names")
    return f'(() => {{\n"use strict";\n{text}}})();\n'


def available() -> bool:
    """Whether pages can be written here (the Graphviz build is installed)."""
    return any(path.is_file() for path in graphviz_js_candidates())


def module_script(source: str) -> str:
    """The library's ES module with its ``export{…}`` clause replaced by one global,
    ``NetdrawGraphviz.Graphviz``, announced by a ``netdraw-graphviz`` event (inline scripts
    cannot import each other; the page's own script runs first and paints meanwhile)."""
    source = source.replace("\r\n", "\n").replace("\r", "\n")
    match = _EXPORT.search(source.rstrip())
    if match is None:
        raise NetdrawError(f"unexpected {NPM_PACKAGE} build: it does not end with an export "
                           "clause; install the version package.json names")
    names = {}
    for item in match.group(1).split(","):
        local, _, exported = item.strip().partition(" as ")
        names[(exported or local).strip()] = local.strip()
    if "Graphviz" not in names:
        raise NetdrawError(f"unexpected {NPM_PACKAGE} build: it exports no Graphviz class")
    body = source.rstrip()[: match.start()]
    if re.search(r"</script|<!--", body, re.IGNORECASE):
        raise NetdrawError(f"unexpected {NPM_PACKAGE} build: it cannot be inlined in a page")
    return (f"{body}\nglobalThis.NetdrawGraphviz = {{ Graphviz: {names['Graphviz']} }};\n"
            'globalThis.dispatchEvent(new Event("netdraw-graphviz"));\n')


__all__ = ["available", "graphviz_classic_script", "graphviz_script", "own_script",
           "own_style"]
