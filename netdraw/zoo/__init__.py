"""The built-in example models (random weights), drawn by ``zoo:NAME`` and the gallery."""

from __future__ import annotations

import importlib
import importlib.util
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
    input_dtype: str | None = None  # e.g. "int64" for token ids; None: float32

    @property
    def requirement(self) -> str:
        """The Python package building this model needs (``torch``, ``onnx``)."""
        return FRAMEWORK_PACKAGES.get(self.framework, self.framework)

    def available(self) -> bool:
        """Whether the package this model needs is installed (checked without importing it)."""
        return importlib.util.find_spec(self.requirement) is not None

    def build(self) -> Any:
        if self.framework == "keras":  # on the installed backend, whatever keras.json says
            from netdraw.importers.keras_backend import import_keras

            import_keras(f"this zoo model ({self.factory})")
        module, func = self.factory.split(":")
        factory: Callable[[], Any] = getattr(importlib.import_module(module), func)
        return factory()


#: The package each framework's zoo models need (the netdraw extra of the same name
#: installs it), and the framework's name in messages.
FRAMEWORK_PACKAGES = {"torch": "torch", "onnx": "onnx", "keras": "keras"}
FRAMEWORK_NAMES = {"torch": "PyTorch", "onnx": "ONNX", "keras": "Keras"}


def install_line(framework: str) -> str:
    """What installs a framework's models: ``pip install 'netdraw[torch]'``, or the
    checkout's path for a netdraw installed from one (see :mod:`netdraw.install`)."""
    from netdraw.install import install_line as line

    return line(framework)


ZOO: dict[str, ZooEntry] = {
    "onnx-lenet5": ZooEntry("netdraw.zoo.onnx_models:lenet5", "onnx",
                            "LeNet-5 built with onnx.helper"),
    "onnx-resnet": ZooEntry("netdraw.zoo.onnx_models:small_resnet", "onnx",
                            "a small ResNet (basic blocks, residual adds) in ONNX"),
    "onnx-inception": ZooEntry("netdraw.zoo.onnx_models:inception_block", "onnx",
                               "one Inception module: four branches and a concat"),
    "shapes": ZooEntry("netdraw.zoo.shapes.torch_model:shapes", "torch",
                       "a small CNN trained on drawn circles, squares, triangles, crosses",
                       (1, 3, 64, 64)),
    "onnx-shapes": ZooEntry("netdraw.zoo.shapes.onnx_model:shapes", "onnx",
                            "the trained shapes CNN as ONNX (same weights)"),
    "keras-shapes": ZooEntry("netdraw.zoo.shapes.keras_model:shapes", "keras",
                             "the trained shapes CNN as a Keras model (same weights)"),
    **{name: ZooEntry(f"netdraw.zoo.torch_models:{name}", "torch", description, shape, dtype)
       for name, description, shape, dtype in (
           ("lenet5", "LeNet-5 (LeCun 1998) on 32×32 digits", (1, 1, 32, 32), None),
           ("alexnet", "AlexNet (Krizhevsky 2012)", (1, 3, 224, 224), None),
           ("vgg16", "VGG-16 (Simonyan & Zisserman 2014)", (1, 3, 224, 224), None),
           ("resnet18", "ResNet-18: basic blocks with residual adds", (1, 3, 224, 224), None),
           ("resnet50", "ResNet-50: bottleneck blocks", (1, 3, 224, 224), None),
           ("unet", "U-Net (Ronneberger 2015): encoder, decoder, skip concats",
            (1, 3, 128, 128), None),
           ("mobilenetv2", "MobileNetV2: inverted residuals, depthwise convs",
            (1, 3, 224, 224), None),
           ("mlp", "a three-layer perceptron on 28×28 digits", (1, 1, 28, 28), None),
           ("transformer", "a small Transformer encoder over 64 tokens", (1, 64), "int64"),
       )},
}


def entry(name: str) -> ZooEntry:
    if name not in ZOO:
        raise NetdrawError(f"no zoo model {name!r}; 'netdraw zoo' lists them: "
                           f"{', '.join(ZOO)}")
    return ZOO[name]


def require(name: str) -> ZooEntry:
    """The entry of a zoo model whose framework is installed, else a one-line error."""
    e = entry(name)
    if not e.available():
        framework = FRAMEWORK_NAMES.get(e.framework, e.framework)
        raise NetdrawError(f"zoo:{name} is a {framework} model and needs {e.requirement}, "
                           f"which is not installed: {install_line(e.framework)}")
    return e


def build(name: str) -> Any:
    """The framework model object for a zoo name."""
    return require(name).build()


def load(name: str, **overrides: Any) -> Graph:
    """A zoo model imported into a Graph; ``overrides`` (``input_shape``…) replace defaults."""
    from netdraw.importers import load as load_model

    e = require(name)
    options: dict[str, Any] = {"name": name}
    if e.input_shape is not None:
        options["input_shape"] = e.input_shape
    if e.input_dtype is not None:
        options["input_dtype"] = e.input_dtype
    options.update({k: v for k, v in overrides.items() if v is not None})
    return load_model(e.build(), **options)
