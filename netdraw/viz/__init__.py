"""See what a network computes: activations, filters and class-activation maps.

This part runs models, so it is the one place besides the importers that imports a
framework (PyTorch, Keras, onnxruntime), and only when a function here is called:

>>> import netdraw.viz                         # imports no framework
>>> acts = netdraw.viz.capture(model, x)       # doctest: +SKIP
>>> acts.spatial("block1.conv").shape          # doctest: +SKIP
(8, 64, 64)
>>> result = netdraw.viz.cam(model, x)         # Grad-CAM, layer chosen by shape  # doctest: +SKIP
>>> result.layer_name, result.heatmaps.shape   # doctest: +SKIP
('block4.relu', (1, 64, 64))
>>> kernels = netdraw.viz.filters(model).kernels   # doctest: +SKIP
>>> ig = netdraw.viz.cam(model, x, method="integrated-gradients")   # doctest: +SKIP
>>> why = netdraw.viz.cam(model, x, target=netdraw.viz.Target(classes=3, minus=5))  # doctest: +SKIP
>>> netdraw.viz.evaluate(model, "images/", "gradcam").summary()   # doctest: +SKIP
{'deletion_auc': 0.12, 'insertion_auc': 0.71}

``model`` is a live ``torch.nn.Module``, a Keras model, an ONNX ``ModelProto``, or a string:
a model file (``.onnx``, ``.keras``, ``.h5``), ``zoo:NAME`` or ``pkg.module:factory``.
``inputs`` is an array (or tensor) with the batch axis, a list of them (one per model
input), or image/``.npy`` file paths (:mod:`netdraw.viz.inputs`).
"""

from __future__ import annotations

from netdraw.viz.activations import Activations, representative
from netdraw.viz.api import cam, capture, filters, open_model
from netdraw.viz.faithfulness import evaluate
from netdraw.viz.targets import Target

__all__ = ["Activations", "Target", "cam", "capture", "evaluate", "filters", "open_model",
           "representative"]
