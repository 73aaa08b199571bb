"""The transformers half of the corpus: which model types are in it, what is known about
each, and one cached run of every check per model (built once, checked six times).

:data:`CHECKS` are the checks each model gets; :func:`run` builds a model, loads it with
netdraw, renders every style and computes torch's reference numbers once, then each check
reads the cached result. :mod:`hf_known` lists the types that cannot be built here and
the checks known to fail, each with its reason.
"""

from __future__ import annotations

import gc
import json
import os
import tempfile
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import checks
import hf_build

import netdraw

CHECKS = ("load", "render", "params", "macs", "view", "chw")
#: Entries whose TikZ figure ``pdflatex`` compiles and whose HTML page Chromium opens (every
#: entry's outputs are parsed; these two consumers are too slow for all of them).
TIKZ_SAMPLE = frozenset({"gpt2", "resnet", "swin", "whisper", "clip", "wav2vec2", "t5",
                         "diffusers:sd_unet", "diffusers:autoencoder_kl", "onnx:bert",
                         "onnx:gpt2"})
HTML_SAMPLE = frozenset({"bert", "vit", "llava", "diffusers:unet2d", "onnx:resnet",
                         "onnx:llama"})


@dataclass
class Result:
    """Everything the checks of one model read."""

    model_type: str
    built: hf_build.Built | None = None
    graph: netdraw.Graph | None = None
    rendered: dict[str, str] = field(default_factory=dict)
    reference: checks.Reference | None = None
    errors: dict[str, str] = field(default_factory=dict)  # stage -> error
    seconds: float = 0.0
    onnx_path: Path | None = None  # drawn from this ONNX export, not traced live


def run(model_type: str, build: Callable[[str], hf_build.Built] = hf_build.build) -> Result:
    """Build (``build(model_type)``), load, render and measure one model; errors are kept
    per stage."""
    start = time.perf_counter()
    result = Result(model_type)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            result.built = build(model_type)
        except hf_build.NotBuilt as exc:
            result.errors["build"] = str(exc)
            return result
        b = result.built
        measure(result, lambda: netdraw.load(b.model, example_input=dict(b.inputs),
                                             name=model_type))
    result.seconds = time.perf_counter() - start
    return result


def measure(result: Result, load: Callable[[], netdraw.Graph]) -> None:
    """Torch's numbers of the built model, then the graph ``load()`` gives (of the live
    model or its ONNX file) and every style of it; errors are kept per stage."""
    b = result.built
    try:
        result.reference = checks.torch_reference(b.model, lambda: b.model(**b.inputs))
    except Exception as exc:  # noqa: BLE001 - kept as the check's failure message
        result.errors["reference"] = f"{type(exc).__name__}: {exc}"
    try:
        result.graph = load()
    except Exception as exc:  # noqa: BLE001
        result.errors["load"] = f"{type(exc).__name__}: {exc}"
        return
    try:
        result.rendered = checks.render_styles(result.graph)
    except Exception as exc:  # noqa: BLE001
        result.errors["render"] = f"{type(exc).__name__}: {exc}"


def problems(result: Result, check: str) -> list[str]:
    """What is wrong with ``check`` on a model (empty when it passes)."""
    for stage in ("build", "load"):
        if stage in result.errors:
            return [f"{stage} failed: {result.errors[stage]}"]
    if check == "load":
        return []
    if check == "render":
        if "render" in result.errors:
            return [f"render failed: {result.errors['render']}"]
        with tempfile.TemporaryDirectory(prefix="netdraw-corpus-") as tmp:
            if result.model_type in TIKZ_SAMPLE:
                checks.compile_tikz(result.rendered["tikz"], Path(tmp))
            if result.model_type in HTML_SAMPLE:
                return checks.html_errors(result.rendered["html"], Path(tmp))
        return []
    if check == "view":
        return checks.view_problems(result.graph)
    if result.reference is None:
        return [f"torch's reference failed: {result.errors.get('reference')}"]
    if check == "params":
        if "html" not in result.rendered:
            return [f"render failed: {result.errors.get('render')}"]
        return checks.param_problems(result.graph, result.reference, result.rendered["html"])
    if check == "macs":
        return checks.mac_problems(result.graph, result.reference)
    if check == "chw":
        if result.onnx_path is not None:
            inputs = {k: v.numpy() for k, v in result.built.inputs.items()
                      if hasattr(v, "numpy")}
            return checks.onnx_chw_problems(result.graph, result.onnx_path, inputs)
        return checks.chw_problems(result.graph, result.reference)
    raise ValueError(check)


class Cache:
    """The result of the corpus entry last run (:func:`run_any`; one at a time keeps memory
    low, and the checks of an entry run one after another)."""

    def __init__(self) -> None:
        self.result: Result | None = None

    def get(self, name: str) -> Result:
        if self.result is None or self.result.model_type != name:
            self.result = None
            gc.collect()
            self.result = run_any(name)
        return self.result


def run_any(name: str) -> Result:
    """A corpus entry by its name: ``diffusers:unet2d``, ``onnx:gpt2`` or a transformers
    model type."""
    source, _, model = name.rpartition(":")
    if source == "onnx":
        import onnx_corpus

        result = onnx_corpus.run(model)
    elif source == "diffusers":
        import diffusers_corpus

        result = run(model, diffusers_corpus.build)
    else:
        return run(name)
    result.model_type = name
    return result


def outcome(model_type: str) -> dict[str, Any]:
    """Every check of one corpus entry (:func:`run_any`): check -> list of problems (for
    the table script)."""
    result = run_any(model_type)
    out: dict[str, Any] = {"type": model_type, "seconds": round(result.seconds, 2)}
    if result.built is not None:
        out.update(modality=result.built.modality, model_class=result.built.model_class,
                   params=result.built.params)
    if "build" in result.errors:
        out["build"] = result.errors["build"]
        return out
    out["checks"] = {check: problems(result, check) for check in CHECKS}
    return out


# -- the cases of the test files -------------------------------------------------------

#: The test files the corpus is spread over (each one xdist worker's unit of work).
SHARDS = 4
KNOWN_FILE = Path(__file__).with_name("hf_known.json")


def all_types() -> list[str]:
    """Every model type transformers registers a config for."""
    from transformers.models.auto.configuration_auto import CONFIG_MAPPING_NAMES

    return sorted(CONFIG_MAPPING_NAMES)


def known() -> dict[str, Any]:
    """``not_built``: type -> [stage, reason]; ``failing``: "type/check" -> reason;
    ``too_slow``: type -> why it is left out of the tests (the table script runs it)."""
    return json.loads(KNOWN_FILE.read_text(encoding="utf-8"))


#: The test command runs every third transformers type (sorted by name: a fixed sample of
#: about 140 that build, some 4 minutes on two cores); ``NETDRAW_CORPUS=all`` runs every
#: one (as the table in tests/README.md was made).
SAMPLE_EVERY = 3


def shard_types(shard: int) -> list[str]:
    """The transformers types of one test file: every ``SHARDS``-th, of the sample unless
    ``NETDRAW_CORPUS=all``."""
    every = 1 if os.environ.get("NETDRAW_CORPUS", "").lower() == "all" else SAMPLE_EVERY
    return [t for i, t in enumerate(all_types())
            if i % SHARDS == shard and (i // SHARDS) % every == 0]


def cases(names: list[str]) -> list[Any]:
    """(name, check) for every check of every named corpus entry; a known failure is an
    ``xfail(strict=True)`` with its reason, so the test turns red the day it passes."""
    import pytest

    data = known()
    cases = []
    for model_type in names:
        for check in CHECKS:
            reason = data["failing"].get(f"{model_type}/{check}")
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            cases.append(pytest.param(model_type, check, marks=marks,
                                      id=f"{model_type}-{check}"))
    return cases


def not_built_cases(shard: int) -> list[Any]:
    """(type, stage, reason) for every model of the shard that cannot be built here."""
    import pytest

    data = known()["not_built"]
    return [pytest.param(t, *data[t], id=t) for t in shard_types(shard) if t in data]


def entry_tests(names: list[str]) -> Callable[..., None]:
    """The test function of a corpus test file: every check of every entry of ``names``
    (the checks of one entry run one after another on one cached build)."""
    import pytest

    cache = Cache()

    @pytest.mark.corpus
    @pytest.mark.parametrize(("name", "check"), cases(names))
    def test_entry(name: str, check: str) -> None:
        assert_check(cache, name, check)

    return test_entry


def shard_tests(shard: int) -> tuple[Callable[..., None], Callable[..., None]]:
    """The two test functions of a transformers shard file: every check of each type that
    builds, and each type that does not still failing as listed."""
    import pytest

    data = known()
    test_entry = entry_tests([t for t in shard_types(shard)
                              if t not in data["not_built"] and t not in data["too_slow"]])

    @pytest.mark.corpus
    @pytest.mark.parametrize(("model_type", "stage", "reason"), not_built_cases(shard))
    def test_not_built_here(model_type: str, stage: str, reason: str) -> None:
        assert_not_built(model_type, stage, reason)

    return test_entry, test_not_built_here


def assert_check(cache: Cache, model_type: str, check: str) -> None:
    found = problems(cache.get(model_type), check)
    assert not found, f"{model_type} {check}:\n" + "\n".join(found)


def assert_not_built(model_type: str, stage: str, reason: str) -> None:
    """The type still fails where and why the table says (a fix turns this red: move the
    type into the corpus by running scripts/corpus_table.py)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            hf_build.build(model_type)
    except hf_build.NotBuilt as exc:
        assert (exc.stage, exc.reason) == (stage, reason), \
            f"{model_type} now fails otherwise: {exc}; rerun scripts/corpus_table.py"
        return
    raise AssertionError(f"{model_type} builds now: rerun scripts/corpus_table.py to take it "
                         "into the corpus")
