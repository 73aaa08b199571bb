"""Reading Keras model files without Keras: ``.keras`` archives and legacy ``.h5`` files.

A ``.keras`` file is a zip archive whose ``config.json`` holds the architecture, read with
the standard library alone. A legacy ``.h5``/``.hdf5`` file keeps the same kind of config in
its ``model_config`` attribute, read with h5py. When the config cannot tell some layer's
weight count (a custom layer), the *shapes* of the file's weights are read as well
(:mod:`keras_weights`); their values never are. Neither path imports keras or tensorflow.
"""

from __future__ import annotations

import json
import os
import zipfile
from pathlib import Path
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.importers import keras_weights
from netdraw.importers.h5_attrs import read_attributes
from netdraw.importers.keras_config import KModel, graph_from_config
from netdraw.ir import Graph

H5_SUFFIXES = (".h5", ".hdf5")
_MAX_CONFIG = 512 * 1024 * 1024  # a config.json larger than this is not a real model


def load_file(path: str | os.PathLike[str], *, name: str | None = None) -> Graph:
    """Read a ``.keras`` or ``.h5`` model file into a Graph (no Keras import)."""
    path = Path(path)
    if not path.is_file():
        raise NetdrawError(f"cannot read {path}: no such file")
    if path.stat().st_size == 0:
        raise NetdrawError(f"{path} is empty; save the model again with model.save()")
    if path.suffix.lower() in H5_SUFFIXES:
        config, meta = read_h5_config(path)
    else:
        config, meta = read_keras_config(path)
    graph = _graph(config, path, name, meta)
    graph.meta.update(meta)
    return graph


def _graph(config: Any, path: Path, name: str | None, meta: dict[str, Any]) -> Graph:
    if not isinstance(config, dict):
        raise NetdrawError(f"the model config in {path} is not a JSON object; the file is "
                           "corrupt")

    def count(model: KModel) -> None:
        """Weight counts from the file for layers the config cannot tell (see
        :mod:`keras_weights`); an unreadable weights file leaves them uncounted."""
        if not keras_weights.needs_counting(model):
            return
        try:
            if keras_weights.count_from_file(path, model, meta["source_format"]):
                meta["params_from_weights"] = True
        except (NetdrawError, OSError, zipfile.BadZipFile, KeyError) as exc:
            meta["weights_unreadable"] = str(exc)

    try:
        return graph_from_config(config, name=name, count=count)
    except NetdrawError as exc:
        raise NetdrawError(f"{path}: {exc}") from None
    except RecursionError:
        raise NetdrawError(f"{path}: the model is nested too deeply to read") from None


def read_keras_config(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """``config.json`` (and the Keras version from ``metadata.json``) of a ``.keras`` archive."""
    try:
        with zipfile.ZipFile(path) as archive:
            names = set(archive.namelist())
            if "config.json" not in names:
                raise NetdrawError(f"{path} has no config.json: it is not a Keras model archive "
                                   "(save the model with model.save('model.keras'))")
            info = archive.getinfo("config.json")
            if info.file_size > _MAX_CONFIG:
                raise NetdrawError(f"config.json in {path} is {info.file_size:,} bytes, too "
                                   "large for a model config; the file is corrupt")
            raw = archive.read("config.json")
            meta_raw = archive.read("metadata.json") if "metadata.json" in names else b"{}"
    except zipfile.BadZipFile as exc:
        raise NetdrawError(f"{path} is not a .keras archive ({exc}); is the file truncated, "
                           "or a legacy .h5 file with the wrong suffix?") from None
    except (OSError, EOFError, RuntimeError, NotImplementedError) as exc:
        raise NetdrawError(f"cannot read {path} as a .keras archive ({exc}); is the file "
                           "truncated or corrupt?") from None
    config = _json(raw, f"config.json in {path}")
    meta: dict[str, Any] = {"source_format": "keras"}
    try:
        metadata = json.loads(meta_raw)
    except (ValueError, UnicodeDecodeError):
        metadata = {}
    if isinstance(metadata, dict) and isinstance(metadata.get("keras_version"), str):
        meta["keras_version"] = metadata["keras_version"]
    return config, meta


def read_h5_config(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The ``model_config`` attribute of a legacy HDF5 model file (read by h5py in a child
    process: the HDF5 library can crash on a damaged file, see :mod:`h5_attrs`)."""
    attrs = read_attributes(path, ["model_config", "keras_version", "backend"])
    raw, version, backend = attrs["model_config"], attrs["keras_version"], attrs["backend"]
    if raw is None:
        raise NetdrawError(f"{path} has no model_config: it holds weights only "
                           "(model.save_weights); save the whole model with model.save()")
    meta: dict[str, Any] = {"source_format": "h5"}
    for key, value in (("keras_version", version), ("keras_backend", backend)):
        if value is not None:
            meta[key] = value.decode("utf-8", "replace") if isinstance(value, bytes) \
                else str(value)
    return _json(raw, f"the model_config attribute of {path}"), meta


def _json(raw: Any, where: str) -> Any:
    if hasattr(raw, "tobytes"):  # numpy bytes scalar
        raw = raw.tobytes()
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError, TypeError) as exc:
        raise NetdrawError(f"{where} is not valid JSON ({type(exc).__name__}); the file is "
                           "corrupt") from None
