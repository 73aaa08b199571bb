"""Models named as ``pkg.module:factory`` on the command line.

The module is imported with the current directory on ``sys.path`` (as ``python -m`` does);
``factory`` is a function or class called with no arguments, or a model object itself.

>>> is_factory_spec("mypkg.models:build_net"), is_factory_spec("model.onnx")
(True, False)
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from typing import Any

from netdraw.errors import NetdrawError

_SPEC = re.compile(r"^[A-Za-z_]\w*(\.[A-Za-z_]\w*)*:[A-Za-z_]\w*(\.[A-Za-z_]\w*)*$")


def is_factory_spec(text: str) -> bool:
    """True for ``pkg.module:name`` (a file path never matches: it has ``/`` or no ``:``)."""
    return bool(_SPEC.match(text))


def _import(module_name: str) -> Any:
    from netdraw.importers import keras_backend

    cwd = os.getcwd()
    if cwd not in sys.path and "" not in sys.path:
        sys.path.insert(0, cwd)
    # The user's code may import keras: start it on a backend that is installed.
    backend = keras_backend.choose_backend() if keras_backend.keras_installed() else None
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
    try:
        module = importlib.import_module(module_name)
        if backend is not None and "keras" in sys.modules:
            keras_backend.announce(backend)
        return module
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (module_name == missing or module_name.startswith(missing + ".")):
            raise NetdrawError(f"cannot import {module_name!r}: no such module in the current "
                               f"directory ({cwd}) or on the Python path") from None
        raise NetdrawError(f"importing {module_name!r} needs {missing or 'a module'}, which is "
                           "not installed") from None
    except Exception as exc:
        raise NetdrawError(f"importing {module_name!r} failed: {type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:300]}") from None


def build(spec: str) -> Any:
    """Import ``pkg.module`` and return the model that ``factory`` names or builds."""
    from netdraw.importers import find_importer

    module_name, _, attr_path = spec.partition(":")
    obj: Any = _import(module_name)
    for part in attr_path.split("."):
        if not hasattr(obj, part):
            raise NetdrawError(f"{module_name!r} has no attribute {attr_path!r}; give "
                               "'module:function' naming a function or class that builds the "
                               "model")
        obj = getattr(obj, part)
    try:
        find_importer(obj)
        return obj  # already a model object
    except NetdrawError:
        pass
    if not callable(obj):
        raise NetdrawError(f"{spec} is a {type(obj).__name__}, not a model or a function "
                           "that builds one")
    try:
        return obj()
    except TypeError as exc:
        raise NetdrawError(f"calling {spec}() failed ({exc}); the factory must build the "
                           "model without arguments") from None
    except Exception as exc:
        raise NetdrawError(f"calling {spec}() failed: {type(exc).__name__}: "
                           f"{' '.join(str(exc).split())[:300]}") from None
