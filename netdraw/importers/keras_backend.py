"""Choosing Keras' backend before Keras is first imported.

Keras 3 runs on TensorFlow, JAX or PyTorch and reads which from ``KERAS_BACKEND`` or, failing
that, from ``~/.keras/keras.json`` (which Keras itself writes on first import, naming
``tensorflow``). netdraw needs no particular backend, so when the variable is unset and the
configured backend is not installed it picks the installed one (torch, else jax, else
tensorflow), sets ``KERAS_BACKEND`` for this process and says so on stderr.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys

from netdraw.errors import NetdrawError

#: Backends in the order netdraw prefers them, with the module each needs.
BACKENDS: tuple[tuple[str, str], ...] = (("torch", "torch"), ("jax", "jax"),
                                         ("tensorflow", "tensorflow"))
_MODULES = {"torch": "torch", "jax": "jax", "tensorflow": "tensorflow", "numpy": "numpy",
            "openvino": "openvino"}
INSTALL_HINT = "pip install torch (or jax, or tensorflow)"


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def keras_installed() -> bool:
    return _installed("keras")


def configured_backend() -> str | None:
    """The backend ``keras.json`` names (Keras' own rule for where that file is), or None."""
    home = os.environ.get("KERAS_HOME")
    if not home:
        base = os.path.expanduser("~")
        home = os.path.join(base if os.access(base, os.W_OK) else "/tmp", ".keras")
    try:
        with open(os.path.join(home, "keras.json"), encoding="utf-8") as fh:
            backend = json.load(fh).get("backend")
    except (OSError, ValueError, AttributeError):
        return None
    return backend if isinstance(backend, str) else None


def choose_backend() -> str | None:
    """The backend to put in ``KERAS_BACKEND`` so that Keras starts, or None when nothing
    needs setting (Keras already imported, the variable set, ``keras.json`` naming an
    installed backend) or no backend is installed."""
    if "keras" in sys.modules or os.environ.get("KERAS_BACKEND"):
        return None
    configured = configured_backend()
    if configured and _installed(_MODULES.get(configured, configured)):
        return None
    return next((backend for backend, module in BACKENDS if _installed(module)), None)


def announce(backend: str) -> None:
    print(f"netdraw: KERAS_BACKEND is not set; running Keras on {backend}, the installed "
          "backend (set KERAS_BACKEND to choose another)", file=sys.stderr)


def ensure_backend() -> None:
    """Before ``import keras``: set ``KERAS_BACKEND`` to an installed backend when Keras
    would otherwise pick one that is missing, and say so on stderr (see the module doc)."""
    backend = choose_backend()
    if backend is not None:
        os.environ["KERAS_BACKEND"] = backend
        announce(backend)


def import_keras(purpose: str):
    """``import keras`` on an installed backend, or a one-line :class:`NetdrawError`."""
    if not keras_installed():
        from netdraw.install import install_line

        raise NetdrawError(f"{purpose} needs keras, which is not installed: "
                           f"{install_line('keras')} (and torch, jax or tensorflow)")
    ensure_backend()
    try:
        import keras
    except ImportError as exc:
        raise NetdrawError(f"{purpose} needs keras, whose backend "
                           f"{os.environ.get('KERAS_BACKEND') or configured_backend()!r} "
                           f"failed to import ({exc.name or exc}): {INSTALL_HINT}, or set "
                           "KERAS_BACKEND to one that is installed") from None
    return keras
