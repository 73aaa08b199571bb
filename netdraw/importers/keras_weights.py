"""Weight counts from the weights a Keras model file carries, without Keras.

A model's config says how each built-in layer is made, and :mod:`keras_layers` counts its
weights from that; a custom layer's weights (``add_weight`` in its ``build``) are in no
config. The file itself lists every variable: ``model.weights.h5`` inside a ``.keras``
archive, the ``model_weights`` group of a legacy ``.h5`` file. When a model has a layer
netdraw has no rule for, or a class of the user's own, :func:`count_from_file` reads the
*shapes* of those variables (never their values; h5py in a child process, see
:mod:`h5_attrs`) and sets each layer's count from them, so the total is Keras' own
``count_params()``.

Where a layer's variables are:

- ``.keras`` (Keras 3): ``layers/<key>/…`` for each layer of a Functional or Sequential
  model, nested models as ``layers/<key>/layers/<key>/…``. The key is the layer's class in
  snake case, numbered per class in the model's layer order (``dense``, ``dense_1``); newer
  Keras versions also write the layer's name as the ``name`` attribute of its ``vars``
  group, which is used when present. A Functional model's layers here are its config's
  layers without ``keras.ops`` operations; a Sequential model's leave out its leading
  ``InputLayer``.
- legacy ``.h5``: ``model_weights/<layer name>/…``; a nested model's layer ``inner`` under
  ``model_weights/<outer>/<outer>/inner/…``.
"""

from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from netdraw.importers import keras_layers
from netdraw.importers.h5_attrs import read_dataset_sizes
from netdraw.importers.keras_config import SEQUENTIAL_CLASSES, KLayer, KModel

WEIGHTS_MEMBER = "model.weights.h5"


@dataclass
class _Tree:
    """A group of the weights file: the numbers under it, its subgroups, its ``name``."""

    size: int = 0
    children: dict[str, _Tree] = field(default_factory=dict)
    name: str | None = None

    def child(self, key: str) -> _Tree:
        return self.children.setdefault(key, _Tree())


def needs_counting(model: KModel) -> bool:
    """Whether some layer's weights cannot be counted from the config alone: a class
    netdraw has no rule for, or a user's own class (whatever its name)."""
    for layer in model.layers:
        if layer.model is not None:
            if needs_counting(layer.model):
                return True
        elif layer.class_name != "InputLayer" and (
                layer.custom or not keras_layers.has_rule(layer.class_name, layer.module)):
            return True
    return False


def count_from_file(path: Path, model: KModel, source_format: str) -> int:
    """Set ``params`` of every layer of ``model`` (nested ones too) found in the weights of
    the file at ``path`` (``source_format`` ``"keras"`` or ``"h5"``); returns how many
    layers were counted, 0 when the file carries no weights. A NetdrawError when the
    weights cannot be read."""
    if source_format == "keras":
        with zipfile.ZipFile(path) as archive:
            if WEIGHTS_MEMBER not in archive.namelist():
                return 0
        sizes, names = read_dataset_sizes(path, "", WEIGHTS_MEMBER)
        return _count_keras(_tree(sizes, names), model)
    sizes, names = read_dataset_sizes(path, "model_weights")
    return _count_legacy(_tree(sizes, names), model, [])


def _tree(sizes: dict[str, int], names: dict[str, str]) -> _Tree:
    root = _Tree()
    for path, size in sizes.items():
        node = root
        node.size += size
        for part in path.split("/")[:-1]:
            node = node.child(part)
            node.size += size
    for path, name in names.items():
        node = root
        for part in path.split("/"):
            node = node.child(part)
        node.name = name
    return root


# -- .keras ----------------------------------------------------------------------------


def _snake(name: str) -> str:
    """A class name as Keras' saver spells it (``Conv2D`` -> ``conv2d``,
    ``LayerScale`` -> ``layer_scale``)."""
    name = re.sub(r"\W+", "", name)
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


def _saved_layers(model: KModel) -> list[KLayer]:
    """The layers Keras' saver walks, in its order."""
    layers = [layer for layer in model.layers if not layer.module.startswith("keras.src.ops")]
    if model.class_name in SEQUENTIAL_CLASSES and layers and \
            layers[0].class_name == "InputLayer":
        layers = layers[1:]
    return layers


def _count_keras(container: _Tree, model: KModel) -> int:
    groups = container.children.get("layers")
    if groups is None:
        return 0
    by_name = {tree.children["vars"].name: tree for tree in groups.children.values()
               if "vars" in tree.children and tree.children["vars"].name is not None}
    used: dict[str, int] = {}
    counted = 0
    for layer in _saved_layers(model):
        key = _snake(layer.class_name)
        number = used.get(key, -1) + 1
        used[key] = number
        tree = by_name.get(layer.name) if by_name else \
            groups.children.get(key if number == 0 else f"{key}_{number}")
        if tree is None:
            continue
        if layer.model is not None:
            counted += _count_keras(tree, layer.model)
        else:
            layer.params = tree.size
            counted += 1
    return counted


# -- legacy .h5 ------------------------------------------------------------------------


def _count_legacy(root: _Tree, model: KModel, outer: list[str]) -> int:
    counted = 0
    for layer in model.layers:
        tree = _legacy_group(root, [*outer, layer.name])
        if tree is None:
            continue
        if layer.model is not None:
            counted += _count_legacy(root, layer.model, [*outer, layer.name])
        else:
            layer.params = tree.size
            counted += 1
    return counted


def _legacy_group(root: _Tree, chain: list[str]) -> _Tree | None:
    """The group of the layer ``chain`` (outer model names, then the layer's)."""
    node = root.children.get(chain[0])
    if node is None or len(chain) == 1:
        return node
    node = node.children.get(chain[0], node)  # weights are named "outer/inner/kernel"
    for name in chain[1:]:
        node = node.children.get(name)
        if node is None:
            return None
    return node


__all__ = ["count_from_file", "needs_counting"]
