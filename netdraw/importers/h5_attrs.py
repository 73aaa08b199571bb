"""Read a few attributes, or the weight shapes, of an HDF5 file in a child process.

The HDF5 C library under h5py can crash (a segmentation fault) on a damaged file: one
flipped byte of a small ``.h5`` model is enough. So netdraw never opens an HDF5 file in its
own process: a short-lived child (``python -c``, h5py only, no netdraw) reads what is asked
and prints it as JSON; a crash, a hang (the time limit of :func:`netdraw.tools.time_limit`)
or an h5py error becomes a one-line NetdrawError.

Two questions are asked: :func:`read_attributes` (the root attributes of a legacy ``.h5``
model) and :func:`read_dataset_sizes` (how many numbers each dataset under a group holds,
and which layer each group names: a Keras weights file, alone or inside a ``.keras``
archive). Only shapes are read, never the numbers themselves.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import sys
from pathlib import Path
from typing import Any

from netdraw import tools
from netdraw.errors import NetdrawError

_ATTRIBUTES = r"""
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

# argv: file, group, zip member ("" when the file itself is the HDF5 file). A stored
# (uncompressed) member of a zip archive is read in place through a window on the archive;
# a compressed one is read into memory when it is small.
_SIZES = r"""
import io, json, math, struct, sys, zipfile
import h5py

MAX_COMPRESSED = 64 * 1024 * 1024

class Window(io.RawIOBase):
    def __init__(self, handle, start, size):
        self.handle, self.start, self.size, self.pos = handle, start, size, 0
    def readable(self):
        return True
    def seekable(self):
        return True
    def tell(self):
        return self.pos
    def seek(self, offset, whence=0):
        base = (0, self.pos, self.size)[whence]
        self.pos = max(0, base + offset)
        return self.pos
    def readinto(self, buffer):
        count = max(0, min(len(buffer), self.size - self.pos))
        self.handle.seek(self.start + self.pos)
        data = self.handle.read(count)
        buffer[:len(data)] = data
        self.pos += len(data)
        return len(data)

def member(path, name):
    archive = zipfile.ZipFile(path)
    info = archive.getinfo(name)
    if info.compress_type == zipfile.ZIP_STORED:
        handle = open(path, "rb")
        handle.seek(info.header_offset)
        header = handle.read(30)
        if header[:4] != b"PK\x03\x04":
            raise ValueError("bad local header")
        name_len, extra_len = struct.unpack("<HH", header[26:30])
        return Window(handle, info.header_offset + 30 + name_len + extra_len, info.file_size)
    if info.file_size > MAX_COMPRESSED:
        raise ValueError("the weights are compressed and too large to read their shapes")
    return io.BytesIO(archive.read(name))

def text(value):
    if hasattr(value, "tobytes") and not isinstance(value, (bytes, str)):
        value = value.tobytes()
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    return value if isinstance(value, str) else None

try:
    source = member(sys.argv[1], sys.argv[3]) if sys.argv[3] else sys.argv[1]
    sizes, names = {}, {}
    with h5py.File(source, "r") as handle:
        root = handle[sys.argv[2]] if sys.argv[2] else handle
        def visit(name, obj):
            if isinstance(obj, h5py.Dataset):
                sizes[name] = int(math.prod(obj.shape or ()))
            else:
                label = text(obj.attrs.get("name"))
                if label is not None:
                    names[name] = label
        root.visititems(visit)
    out = {"sizes": sizes, "names": names}
except Exception as exc:
    out = {"error": type(exc).__name__ + ": " + " ".join(str(exc).split())[:160]}
sys.stdout.write(json.dumps(out))
"""


def _ask(script: str, path: Path, args: list[str]) -> dict[str, Any]:
    """Run ``script`` on ``path`` in a child; its JSON answer (``error`` becomes a
    NetdrawError)."""
    if importlib.util.find_spec("h5py") is None:
        raise NetdrawError("reading .h5 Keras models needs h5py, which is not installed: "
                           "pip install h5py (or save the model as .keras, which needs "
                           "nothing)")
    proc = tools.run([sys.executable, "-c", script, str(path), *args],
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
    if not isinstance(result, dict):
        raise NetdrawError(f"the HDF5 reader gave no answer for {path}")
    if "error" in result:
        raise NetdrawError(f"{path} is not a readable HDF5 file ({result['error']}); is it "
                           "truncated or of another format?")
    return result


def read_attributes(path: Path, names: list[str]) -> dict[str, str | bytes | None]:
    """The root attributes ``names`` of the HDF5 file ``path``: text, bytes, or None when
    absent; a NetdrawError when the file cannot be read (or crashes the HDF5 library)."""
    result = _ask(_ATTRIBUTES, path, names)
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


def read_dataset_sizes(path: Path, group: str = "", member: str = ""
                       ) -> tuple[dict[str, int], dict[str, str]]:
    """How many numbers each dataset under ``group`` holds (path relative to the group ->
    count), and the ``name`` attribute of each group that has one (path -> text). ``member``
    names the HDF5 file inside a zip archive (a ``.keras`` file's ``model.weights.h5``)."""
    result = _ask(_SIZES, path, [group, member])
    sizes, names = result.get("sizes"), result.get("names")
    if not isinstance(sizes, dict) or not isinstance(names, dict):
        raise NetdrawError(f"the HDF5 reader gave no answer for {path}")
    return ({str(k): int(v) for k, v in sizes.items() if isinstance(v, int)},
            {str(k): str(v) for k, v in names.items() if isinstance(v, str)})
