"""The built-in example models (random weights), drawn by ``zoo:NAME`` and the gallery."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from netdraw.errors import NetdrawError
from netdraw.ir import Graph


@dataclass(frozen=True)
class ZooEntry:
    """A built-in model: where its factory lives, its framework and default input shape."""

    factory: str  # "module:function"
    framework: str
    description: str
    input_shape: tuple[int, ...] | None = None

    def build(self) -> Any:
        module, func = self.factory.split(":")
        factory: Callable[[], Any] = getattr(importlib.import_module(module), func)
        return factory()


ZOO: dict[str, ZooEntry] = {
    "onnx-lenet5": ZooEntry("netdraw.onnx_examples:lenet5", "onnx",
                            "LeNet-5 built with onnx.helper"),
    "onnx-resnet": ZooEntry("netdraw.onnx_examples:small_resnet", "onnx",
                            "a small ResNet (basic blocks, residual adds) in ONNX"),
    "onnx-inception": ZooEntry("netdraw.onnx_examples:inception_block", "onnx",
                               "one Inception module: four branches and a concat"),
}


def entry(name: str) -> ZooEntry:
    if name not in ZOO:
        raise NetdrawError(f"no zoo model {name!r}; 'netdraw zoo' lists them: "
                           f"{', '.join(ZOO)}")
    return ZOO[name]


def build(name: str) -> Any:
    """The framework model object for a zoo name."""
    return entry(name).build()


def load(name: str) -> Graph:
    """A zoo model imported into a Graph."""
    from netdraw.api import load as load_model

    e = entry(name)
    options: dict[str, Any] = {"name": name}
    if e.input_shape is not None:
        options["input_shape"] = e.input_shape
    return load_model(e.build(), **options)
