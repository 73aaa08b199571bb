"""Read a few attributes of an HDF5 file in a child process.

The HDF5 C library under h5py can crash (a segmentation fault) on a damaged file: one
flipped byte of a small ``.h5`` model is enough. So netdraw never opens an HDF5 file in its
own process: a short-lived child (``python -c``, h5py only, no netdraw) reads the
attributes and prints them as JSON; a crash, a hang (the time limit of
:func:`netdraw.tools.time_limit`) or an h5py error becomes a one-line NetdrawError.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from pathlib import Path

from netdraw import tools
from netdraw.errors import NetdrawError

_CHILD = r"""
import base64, json, sys
import h5py

def plain(value):
    if value is None:
        return None
    if hasattr(value, "tobytes") and not isinstance(value, (bytes, str)):
        value = value.tobytes()
    if isinstance(value, str):
        return ["text", value]
    if isinstance(value, bytes):
        return ["bytes", base64.b64encode(value).decode("ascii")]
    return ["other", type(value).__name__]

try:
    with h5py.File(sys.argv[1], "r") as handle:
        out = {name: plain(handle.attrs.get(name)) for name in sys.argv[2:]}
except Exception as exc:
    out = {"error": type(exc).__name__ + ": " + " ".join(str(exc).split())[:160]}
sys.stdout.write(json.dumps(out))
"""


def read_attributes(path: Path, names: list[str]) -> dict[str, str | bytes | None]:
    """The root attributes ``names`` of the HDF5 file ``path``: text, bytes, or None when
    absent; a NetdrawError when the file cannot be read (or crashes the HDF5 library)."""
    if importlib.util.find_spec("h5py") is None:
        raise NetdrawError("reading .h5 Keras models needs h5py, which is not installed: "
                           "pip install h5py (or save the model as .keras, which needs "
                           "nothing)")
    proc = tools.run([sys.executable, "-c", _CHILD, str(path), *names],
                     program="the HDF5 reader (h5py)",
                     advice="the file may be damaged; save the model again as .keras")
    if proc.returncode != 0:
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else \
            f"exit status {proc.returncode}"
        raise NetdrawError(f"the HDF5 library crashed reading {path} ({how}): the file is "
                           "damaged; save the model again")
    try:
        result = json.loads(proc.stdout)
    except ValueError:
        raise NetdrawError(f"the HDF5 reader gave no answer for {path}") from None
    if "error" in result:
        raise NetdrawError(f"{path} is not a readable HDF5 file ({result['error']}); is it "
                           "truncated or of another format?")
    out: dict[str, str | bytes | None] = {}
    for name in names:
        value = result.get(name)
        if value is None:
            out[name] = None
        elif value[0] == "text":
            out[name] = value[1]
        elif value[0] == "bytes":
            out[name] = base64.b64decode(value[1])
        else:
            raise NetdrawError(f"the {name} attribute of {path} is a {value[1]}, not text; "
                               "the file is damaged")
    return out
