"""The ONNX part of the corpus: a sample of the transformers and diffusers models exported
with ``torch.onnx.export`` (the dynamo exporter for some, the legacy one for others) and
drawn from the ``.onnx`` file.

Each export is made once (a model's checks run one after another and share it). The
oracles are those of the live models — torch's parameter count and ``FlopCounterMode`` on
the model that was exported — and, for C/H/W, ONNX's own shape inference on the file.
"""

from __future__ import annotations

import atexit
import shutil
import tempfile
import time
import warnings
from pathlib import Path

import diffusers_corpus
import hf_build
import hf_corpus
import torch
from torch import nn

import netdraw

#: model -> exporter ("dynamo" or "legacy"); two test files share them out.
SAMPLE: dict[str, str] = {
    "gpt2": "dynamo", "bert": "legacy", "vit": "legacy", "resnet": "legacy",
    "convnext": "legacy", "swin": "legacy", "wav2vec2": "legacy", "t5": "legacy",
    "mobilevit": "legacy", "llama": "dynamo", "clip": "legacy", "whisper": "dynamo",
    "autoencoder_kl": "legacy", "dit": "dynamo",
}


_FOLDERS: list[Path] = []
atexit.register(lambda: [shutil.rmtree(f, ignore_errors=True) for f in _FOLDERS])


class Exported(nn.Module):
    """A model called on its example inputs as positional tensors (the order ONNX gives
    its graph inputs), returning the output's tensors as a tuple."""

    def __init__(self, model: nn.Module, names: list[str], extra: dict) -> None:
        super().__init__()
        self.model, self.names, self.extra = model, names, extra

    def forward(self, *tensors: torch.Tensor) -> tuple[torch.Tensor, ...]:
        out = self.model(**dict(zip(self.names, tensors, strict=True)), **self.extra)
        if isinstance(out, torch.Tensor):
            return (out,)
        items = out.values() if isinstance(out, dict) else out
        return tuple(t for t in items if isinstance(t, torch.Tensor))


def _source(name: str) -> hf_build.Built:
    return diffusers_corpus.build(name) if name in diffusers_corpus.BUILDERS \
        else hf_build.build(name)


def export(name: str, folder: Path) -> tuple[hf_build.Built, Path]:
    """The model and its ``.onnx`` file, exported with :data:`SAMPLE`'s exporter."""
    built = _source(name)
    tensors = {k: v for k, v in built.inputs.items() if isinstance(v, torch.Tensor)}
    extra = {k: v for k, v in built.inputs.items() if k not in tensors}
    wrapper = Exported(built.model, list(tensors), extra).eval()
    path = folder / f"{name}.{SAMPLE[name]}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        # The exporters' defaults, as a user gets them (both fold constants: the file may
        # hold other weights than torch, a difference the known failures state).
        kwargs: dict = {"dynamo": SAMPLE[name] == "dynamo", "input_names": list(tensors)}
        if kwargs["dynamo"]:
            kwargs["verbose"] = False
        torch.onnx.export(wrapper, tuple(tensors.values()), str(path), **kwargs)
    return built, path


def run(name: str) -> hf_corpus.Result:
    """Export, load the file, render it and take torch's numbers of the exported model."""
    start = time.perf_counter()
    result = hf_corpus.Result(name)
    folder = Path(tempfile.mkdtemp(prefix="netdraw-corpus-onnx-"))
    _FOLDERS.append(folder)  # removed when the process ends
    try:
        result.built, path = export(name, folder)
    except Exception as exc:  # noqa: BLE001 - kept as the check's failure message
        result.errors["build"] = f"export: {type(exc).__name__}: {exc}"[:500]
        return result
    result.onnx_path = path
    hf_corpus.measure(result, lambda: netdraw.load(path))
    result.seconds = time.perf_counter() - start
    return result
