"""The paper-figure tests' models, built once per worker: the research-pattern models of
:mod:`netdraw.zoo.paper_models` and real architectures (transformers, keras.applications)."""

from __future__ import annotations

import os
from functools import cache

from conftest import require_module

import netdraw


@cache
def graph(name: str) -> netdraw.Graph:
    """A model of :data:`netdraw.zoo.paper_models.PAPER_MODELS` (or a zoo model,
    ``zoo:NAME``), loaded."""
    if name.startswith("zoo:"):
        from netdraw import zoo

        return zoo.load(name[4:])
    require_module("torch")
    if name.startswith("keras-"):
        os.environ.setdefault("KERAS_BACKEND", "torch")
        require_module("keras")
    if name in ("convnext-t", "swin-t", "vit-s", "llama"):
        require_module("transformers")
    from netdraw.zoo.paper_models import PAPER_MODELS

    return PAPER_MODELS[name]()
