"""How to add an optional part (an extra: ``torch``, ``keras``, ``onnx``, ``viz``) to *this*
installation of netdraw, for the hints in error messages.

``pip install 'netdraw[torch]'`` only works where netdraw came from a package index. A
checkout installed with ``pip install .`` (or ``-e .``) needs the checkout's path, and a
wheel file its file name; pip records which it was in the distribution's
``direct_url.json`` (PEP 610). Code run from a checkout without installing it (``PYTHONPATH``)
gets the checkout's path too.

>>> install_line("torch")                                    # doctest: +SKIP
"pip install '.[torch]'"
"""

from __future__ import annotations

import functools
import json
import os
import shlex
from pathlib import Path
from urllib.parse import unquote, urlparse

DISTRIBUTION = "netdraw"


def install_line(extra: str) -> str:
    """The ``pip install`` command that adds ``extra`` to the running netdraw."""
    editable, target = _origin()
    if target is None:
        return f"pip install '{DISTRIBUTION}[{extra}]'"
    if target.is_dir() and _same(target, Path.cwd()):
        shown = "."
    else:
        shown = str(target)
    return f"pip install {'-e ' if editable else ''}{shlex.quote(f'{shown}[{extra}]')}"


def browser_library_hint(package: str) -> str:
    """How to get the HTML preview's browser library (npm ``package``) into this
    installation: ``npm ci`` in the checkout it came from (and, unless editable, install
    again), or a wheel that carries it."""
    editable, target = _origin()
    env = "or set NETDRAW_GRAPHVIZ_JS to the file dist/index.js of that npm package"
    if target is not None and target.is_dir():
        if editable or _same(target, Path(__file__).resolve().parents[1]):
            return f"run 'npm ci' in {target} (it reads package.json), {env}"
        again = install_line("onnx").replace("[onnx]", "")
        return (f"run 'npm ci' in {target}, the checkout netdraw was installed from, and "
                f"install it again ({again}), {env}")
    return ("install netdraw from a wheel built after 'npm ci' (it carries the library), "
            f"{env}")


def _same(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def _origin() -> tuple[bool, Path | None]:
    """(editable, local source) of the running netdraw: a checkout folder or a wheel file,
    or None when it came from a package index."""
    running = Path(__file__).resolve().parent  # .../netdraw
    checkout = running.parent if (running.parent / "pyproject.toml").is_file() else None
    recorded = _recorded_origin()
    if checkout is None:  # the installed copy runs: as pip recorded it
        return recorded if recorded is not None else (False, None)
    if recorded is not None and recorded[1] is not None and _same(recorded[1], checkout):
        return recorded  # this checkout, installed (perhaps editable)
    return False, checkout  # a checkout run without installing it (PYTHONPATH)


def _recorded_origin() -> tuple[bool, Path | None] | None:
    """What pip recorded about how netdraw was installed, or None when it is not installed
    as a distribution."""
    from importlib import metadata

    try:
        dist = metadata.distribution(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return None
    try:
        text = dist.read_text("direct_url.json")
    except OSError:
        text = None
    if not text:
        return False, None  # from an index
    try:
        info = json.loads(text)
    except ValueError:
        return False, None
    url = urlparse(str(info.get("url", "")))
    if url.scheme != "file":
        return False, None  # a VCS URL or a remote archive: the index line is the best guess
    path = Path(unquote(url.path))
    editable = bool((info.get("dir_info") or {}).get("editable"))
    return editable, path if os.path.exists(path) else None


__all__ = ["install_line"]
