"""The shapes network as a Keras 3 Functional model (``zoo:keras-shapes``), channels last.

Layer names follow the PyTorch module names with ``_`` for ``.`` (``block1_conv``); the
trained weights are the same arrays, transposed to Keras' layouts.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from netdraw.zoo.shapes import BN_EPS, CLASSES, SIZE, WIDTHS, load_weights


def shapes(trained: bool = True) -> Any:
    """The Functional model ``(None, 64, 64, 3) -> (None, 4)`` logits."""
    import keras
    from keras import layers

    inputs = keras.Input((SIZE, SIZE, 3), name="x")
    x = inputs
    for i, width in enumerate(WIDTHS):
        block = f"block{i + 1}"
        x = layers.Conv2D(width, 3, padding="same", name=f"{block}_conv")(x)
        x = layers.BatchNormalization(epsilon=BN_EPS, name=f"{block}_bn")(x)
        x = layers.ReLU(name=f"{block}_relu")(x)
        if i < len(WIDTHS) - 1:
            x = layers.MaxPooling2D(2, name=f"{block}_pool")(x)
    x = layers.GlobalAveragePooling2D(name="avgpool")(x)
    outputs = layers.Dense(len(CLASSES), name="fc")(x)
    model = keras.Model(inputs, outputs, name="shapes")
    model.class_names = CLASSES
    if trained:
        w = load_weights()
        for i in range(len(WIDTHS)):
            block = f"block{i + 1}"
            model.get_layer(f"{block}_conv").set_weights([
                np.transpose(w[f"{block}.conv.weight"], (2, 3, 1, 0)), w[f"{block}.conv.bias"]])
            model.get_layer(f"{block}_bn").set_weights([
                w[f"{block}.bn.weight"], w[f"{block}.bn.bias"],
                w[f"{block}.bn.running_mean"], w[f"{block}.bn.running_var"]])
        model.get_layer("fc").set_weights([w["fc.weight"].T, w["fc.bias"]])
    return model
