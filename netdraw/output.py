"""Writing outputs atomically: a failed run never leaves a half-written file behind; JSON
text that strict parsers read (:func:`json_text`)."""

from __future__ import annotations

import json
import math
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError


def check_target(target: str) -> None:
    """Fail early, before any work, when ``target`` cannot be written."""
    if target == "-":
        return
    path = Path(target)
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise NetdrawError(f"cannot write {target}: folder {folder} does not exist")
    if path.is_dir():
        raise NetdrawError(f"cannot write {target}: it is a folder; give a file name")
    if not os.access(folder, os.W_OK):
        raise NetdrawError(f"cannot write {target}: folder {folder} is not writable")


def json_text(value: Any, *, what: str, **options: Any) -> str:
    """``json.dumps(value, **options)`` as JSON has it: Python writes a float that is not
    finite as the bare word ``NaN`` or ``Infinity``, which JSON does not have and strict
    parsers (browsers' ``JSON.parse``, jq, ``json.loads`` with ``parse_constant``) refuse.
    Such a value is written as ``null`` instead, and one ``netdraw: warning:`` line on
    stderr says how many there were in ``what`` and where the first one is.

    >>> json_text({"auc": 0.5, "curve": [1.0, 0.25]}, what="the evaluation")
    '{"auc": 0.5, "curve": [1.0, 0.25]}'
    """
    try:
        return json.dumps(value, allow_nan=False, **options)
    except ValueError as exc:
        if "out of range float" not in str(exc).lower():
            raise
    found: list[str] = []
    clean = _finite(value, "", found)
    where = f" (the first at {found[0]})" if found[0] else ""
    print(f"netdraw: warning: {what}: {len(found)} value{'s' if len(found) != 1 else ''} "
          f"not a finite number (NaN or infinity) written as null{where}",
          file=sys.stderr, flush=True)
    return json.dumps(clean, allow_nan=False, **options)


def _finite(value: Any, path: str, found: list[str]) -> Any:
    """``value`` with every non-finite float replaced by None; their paths go to ``found``."""
    if isinstance(value, float):
        if math.isfinite(value):
            return value
        found.append(path)
        return None
    if isinstance(value, dict):
        return {k: _finite(v, f"{path}.{k}" if path else str(k), found)
                for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v, f"{path}[{i}]", found) for i, v in enumerate(value)]
    return value


def write_output(target: str, data: str | bytes) -> None:
    """Write ``data`` to ``target`` via a temporary file and rename; ``-`` means stdout."""
    payload = data.encode("utf-8") if isinstance(data, str) else data
    if target == "-":
        sys.stdout.buffer.write(payload)
        sys.stdout.buffer.flush()
        return
    check_target(target)
    path = Path(target)
    folder = path.parent if str(path.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(payload)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except OSError as exc:
        Path(tmp).unlink(missing_ok=True)
        raise NetdrawError(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class FolderWriter:
    """Write into a temporary folder beside ``target``; move the files in on success only."""

    def __init__(self, target: str) -> None:
        self.target = Path(target)
        if self.target.exists() and not self.target.is_dir():
            raise NetdrawError(f"-o {target} is a file; give a folder to write into")
        parent = self.target.resolve().parent
        if not parent.is_dir():
            raise NetdrawError(f"cannot write {target}: folder {parent} does not exist")
        if not os.access(parent, os.W_OK):
            raise NetdrawError(f"cannot write {target}: folder {parent} is not writable")
        self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.target.name}.", dir=parent))

    def __enter__(self) -> Path:
        return self.tmp

    def __exit__(self, kind: Any, value: Any, tb: Any) -> None:
        try:
            if kind is None:
                self.target.mkdir(exist_ok=True)
                for item in self.tmp.iterdir():
                    os.replace(item, self.target / item.name)
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)


class TextWithFiles(str):
    """A text output that needs files beside it (a TikZ figure's thumbnail images):
    ``files`` maps paths relative to the text's folder to their bytes."""

    files: dict[str, bytes]

    def __new__(cls, text: str, files: dict[str, bytes]) -> TextWithFiles:
        obj = super().__new__(cls, text)
        obj.files = dict(files)
        return obj


def write_with_files(target: str, data: str | bytes) -> None:
    """Write ``data`` like :func:`write_output`, and first, when it is a
    :class:`TextWithFiles`, its files into their folders beside ``target`` (each folder
    filled in a temporary folder and moved in on success, so a failure leaves none
    half-written)."""
    files = getattr(data, "files", None)
    if files:
        if target == "-":
            raise NetdrawError("this output comes with image files: write it to a file "
                               "(-o FIG.tex), not stdout")
        check_target(target)
        base = Path(target).parent
        folders: dict[str, dict[str, bytes]] = {}
        for rel, payload in files.items():
            folder, _, name = rel.rpartition("/")
            folders.setdefault(folder, {})[name] = payload
        for folder in folders:
            if (base / folder).exists() and not (base / folder).is_dir():
                raise NetdrawError(f"cannot write the figure's images into {base / folder}: "
                                   "it is a file; move it or choose another -o")
        for folder, items in sorted(folders.items()):
            with FolderWriter(str(base / folder)) as tmp:
                for name, payload in sorted(items.items()):
                    (tmp / name).write_bytes(payload)
    write_output(target, data)
