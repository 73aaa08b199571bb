"""The model ``netdraw serve`` shows: how to load it again, and which files to watch."""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from netdraw.errors import NetdrawError
from netdraw.factory import is_factory_spec
from netdraw.ir import Graph

Stamp = tuple[tuple[str, int, int], ...]


@dataclass
class ModelSource:
    """A model argument (file, ``zoo:NAME`` or ``pkg.module:factory``) and its options."""

    spec: str
    input_shape: list[tuple[int, ...]] | None = None
    input_dtype: str | None = None
    #: Loads the model (the CLI's :func:`netdraw.cli.common.load_model` by default).
    loader: Callable[..., Graph] | None = field(default=None, repr=False)

    @property
    def is_factory(self) -> bool:
        return is_factory_spec(self.spec) and not os.path.exists(self.spec)

    def watched(self) -> list[Path]:
        """The files whose change means the model changed: the model file itself, or the
        source file of a factory's module; none for the built-in zoo."""
        if self.spec.startswith("zoo:"):
            return []
        if self.is_factory:
            origin = self._module_file()
            return [origin] if origin is not None else []
        return [Path(self.spec)]

    def _module_file(self) -> Path | None:
        module = self.spec.partition(":")[0]
        loaded = sys.modules.get(module)
        path = getattr(loaded, "__file__", None)
        if path is None:
            try:
                found = importlib.util.find_spec(module)
            except (ImportError, ValueError):
                return None
            path = found.origin if found is not None else None
        return Path(path) if path and os.path.isfile(path) else None

    def stamp(self) -> Stamp:
        """Modification time and size of each watched file (missing files count too)."""
        out = []
        for path in self.watched():
            try:
                st = path.stat()
                out.append((str(path), st.st_mtime_ns, st.st_size))
            except OSError:
                out.append((str(path), -1, -1))
        return tuple(out)

    def load(self) -> Graph:
        """Load the model afresh (a factory's module is imported again)."""
        if self.is_factory:
            self._forget_module()
        loader = self.loader
        if loader is None:
            from netdraw.cli.common import load_model as loader
        graph = loader(self.spec, self.input_shape, self.input_dtype)
        if not isinstance(graph, Graph):
            raise NetdrawError(f"{self.spec} did not load as a graph")
        return graph

    def _forget_module(self) -> None:
        """Drop the factory's module, and the modules beside it in its folder, so that the
        next import reads the changed source (netdraw's own modules are never dropped)."""
        origin = self._module_file()
        module = self.spec.partition(":")[0]
        folder = origin.parent if origin is not None else None
        for name, loaded in list(sys.modules.items()):
            if name == "netdraw" or name.startswith("netdraw."):
                continue
            path = getattr(loaded, "__file__", None)
            if name == module or (folder is not None and path
                                  and Path(path).parent == folder):
                del sys.modules[name]
        importlib.invalidate_caches()


def error_text(exc: BaseException) -> str:
    """One line saying why a model failed to load."""
    if isinstance(exc, NetdrawError):
        return str(exc)
    return f"{type(exc).__name__}: {' '.join(str(exc).split())[:500]}"


__all__ = ["ModelSource", "error_text"]
