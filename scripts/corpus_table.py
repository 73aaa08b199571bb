"""Run the PyTorch corpus outside pytest and write what it found.

    PYTHONPATH=$PWD .venv/bin/python scripts/corpus_table.py --run
    PYTHONPATH=$PWD .venv/bin/python scripts/corpus_table.py --from-junit corpus.xml

The second reads a pytest run of ``tests/corpus`` instead (``--junitxml``): a check that
passed passes, a known failure that still fails keeps its reason, a known failure that
passed (pytest's ``XPASS(strict)``) is known no longer, and a new failure needs a reason
as below.

runs every check of every corpus entry (``tests/corpus/hf_corpus.py``: transformers model
types, diffusers models, ONNX exports) in subprocesses, two at a time (the models are
bounded to 20 M parameters on the meta device before they are built), and keeps the
results in ``--results``; then (with or without ``--run``) writes from those results

- ``tests/corpus/hf_known.json``: the types that cannot be built here and the checks known
  to fail, each with its reason (the corpus tests read it: a not-built type is re-checked
  to still fail the same way, a known failure is an ``xfail(strict=True)``), and
- the corpus table in ``tests/README.md`` (between its ``corpus-table`` markers).

A failing check gets its reason from :data:`ENTRY_REASONS` (failures looked into one by
one) or :data:`REASONS` (a pattern of the problem text -> why, and whose fix it is); a
failure nothing explains is printed and stops the script, so nothing unexplained becomes
"known". An entry whose checks take over :data:`TIME_LIMIT` seconds is listed as too slow.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import signal
import subprocess
import sys
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT / "tests" / "corpus"
README = ROOT / "tests" / "README.md"
BEGIN, END = "<!-- corpus-table: begin -->", "<!-- corpus-table: end -->"
CHUNK = 12
#: An entry whose checks take longer is left out of the tests (listed as too slow).
TIME_LIMIT = 240

#: (check, pattern of a problem) -> the reason a failure is known, and whose fix it is.
REASONS: list[tuple[str, str, str]] = [
    ("chw", r"\((Linear|LayerNorm), torch \(\d+, \d+, \d+, \d+\)\)",
     "a Linear or LayerNorm on a 4-D tensor works on its last axis (B, H, W, C) and is drawn "
     "channels-first: issue 28 item 3, the semantics helper's"),
    ("view", r"^default view has \d+ nodes \(limit 40\)$",
     "the view rule finds no view of at most 40 nodes (passes/view.py, the figures "
     "helper's)"),
]

_LSTM = ("torch's counter has no formula for an LSTM (it counts its decoder as 0); netdraw "
         "counts its weights × time steps")
_DEAD_STATE = ("the gated delta-net's last recurrent-state update is computed and thrown "
               "away (no final state is asked for): netdraw draws and counts only what "
               "reaches an output, torch's counter every op run (2 × 33.6M MACs here)")
_ONNX_SHAPES = ("the file leaves dimensions its own shape inference cannot resolve "
                "(a Reshape to a shape the graph computes), so netdraw's MACs stay a formula "
                "in them and the maps are drawn ?×?: the ONNX importer's shape inference "
                "(semantics helper's)")
#: "entry/check" -> why, for failures looked into one by one.
ENTRY_REASONS: dict[str, str] = {
    **{f"{t}/macs": ("netdraw counts 0.81-0.82x of torch's counter on the hybrid "
                     "linear-attention models (their matmuls and linears agree; the rest, "
                     "about 67 M MACs on bailing_hybrid, is not yet attributed: open)")
       for t in ("bailing_hybrid", "glm5_next", "glm5_next_text")},
    "onnx:resnet/params": ("the legacy exporter folds every BatchNorm into the convolution "
                           "before it (its default constant folding): the file holds 1,264 "
                           "values fewer, one per BatchNorm channel"),
    "onnx:llama/params": ("the dynamo exporter keeps one copy of identical tensors: the five "
                          "RMSNorm weights, all ones at initialisation, are one 64-value "
                          "initializer the file shares (netdraw counts a shared tensor once): "
                          "256 values fewer"),
    "onnx:autoencoder_kl/params": ("the legacy exporter's constant folding renames the "
                                   "GroupNorm weights (56 of torch's parameters have no "
                                   "initializer of their name); the 320 values netdraw does "
                                   "not count are not yet attributed: open"),
    **{f"{t}/macs": _LSTM for t in ("parakeet_rnnt", "parakeet_tdt", "nemotron3_5_asr",
                                    "nemotron_asr_streaming")},
    **{f"{t}/macs": _DEAD_STATE for t in (
        "qwen3_5", "qwen3_5_moe", "qwen3_5_moe_text", "qwen3_5_text", "qwen3_next",
        "qwen4_exp_text", "lara_mini", "minicpm_ocr", "minicpmv4_6", "minicpmv4_7")},
    "deepseek_v4/macs": "DeepseekV4GroupedLinear subclasses nn.Linear with a forward of its "
                        "own (a block-diagonal bmm); the tracer draws it as a Linear leaf and "
                        "counts a full Linear's MACs (the tracer's leaf rule, torch_trace.py)",
    **{f"onnx:{t}/macs": _ONNX_SHAPES for t in ("bert", "swin", "mobilevit",
                                                "autoencoder_kl")},
    **{f"onnx:{t}/chw": _ONNX_SHAPES for t in ("mobilevit", "autoencoder_kl")},
    "onnx:gpt2/params": "the dynamo exporter folds the position table (128×64) to the 16 "
                        "positions used (a 1×16×64 constant), and its causal mask `where` "
                        "(1×1×16×16) is counted as parameters: issue 28 item 7 (semantics)",
    "onnx:whisper/params": "the dynamo exporter folds the decoder's position table (128×64) "
                           "to the 8 positions used, and its causal mask `where` (1×1×8×8) "
                           "is counted as parameters: issue 28 item 7 (semantics)",
    "onnx:dit/params": "torch buffers the file holds as initializers (the fixed sin-cos "
                       "position table, 1×64×64) are counted as parameters: issue 28 item 7, "
                       "a constant that is not a learned weight (semantics)",
    "onnx:swin/params": "the legacy exporter folds each relative-position-bias table (9×h) "
                        "into the bias it gathers (1×h×4×4): the file holds 105 values more "
                        "than torch's parameters",
    "onnx:mobilevit/params": "the legacy exporter folds BatchNorm into the convolution before "
                             "it (its default constant folding): the file holds 2,288 "
                             "values fewer",
    "onnx:wav2vec2/params": "masked_spec_embed, which the forward never reads, is not in the "
                            "file (64 values)",
}


def _worker(types: list[str]) -> None:
    """Run the corpus on ``types`` and print one JSON line per type."""
    sys.path[:0] = [str(CORPUS), str(CORPUS.parent)]  # the corpus, and conftest's helpers
    import torch

    torch.set_num_threads(1)
    import hf_corpus

    def too_slow(signum: int, frame: object) -> None:
        raise TimeoutError(f"its checks take over {TIME_LIMIT} s")

    signal.signal(signal.SIGALRM, too_slow)
    for model_type in types:
        signal.alarm(TIME_LIMIT)
        try:
            out = hf_corpus.outcome(model_type)
        except Exception as exc:  # noqa: BLE001 - a crash of the checks is a result too
            out = {"type": model_type, "crash": f"{type(exc).__name__}: {exc}"[:300]}
        finally:
            signal.alarm(0)
        print(json.dumps(out), flush=True)


def _run_chunk(types: list[str]) -> list[dict]:
    env = dict(os.environ, PYTHONPATH=str(ROOT), HF_HUB_OFFLINE="1")
    proc = subprocess.run([sys.executable, __file__, "--worker", *types], capture_output=True,
                          text=True, env=env, timeout=3600)
    found = [json.loads(line) for line in proc.stdout.splitlines() if line.startswith("{")]
    done = {r["type"] for r in found}
    for model_type in types:
        if model_type not in done:  # the worker died on it: say so, and run the rest
            found.append({"type": model_type, "crash": f"worker exited {proc.returncode}: "
                          f"{proc.stderr.strip().splitlines()[-1:]}"})
            rest = types[types.index(model_type) + 1:]
            return found + (_run_chunk(rest) if rest else [])
    return found


def run_all(types: list[str], jobs: int) -> list[dict]:
    chunks = [types[i:i + CHUNK] for i in range(0, len(types), CHUNK)]
    results: list[dict] = []
    with ThreadPoolExecutor(jobs) as pool:
        for i, found in enumerate(pool.map(_run_chunk, chunks)):
            results += found
            print(f"{min((i + 1) * CHUNK, len(types))}/{len(types)}", file=sys.stderr)
    return sorted(results, key=lambda r: r["type"])


def corpus_names() -> list[str]:
    """Every entry of the corpus: the diffusers models, the ONNX sample, then every
    transformers model type."""
    import diffusers_corpus
    import onnx_corpus
    from hf_corpus import all_types

    return ([f"diffusers:{n}" for n in diffusers_corpus.BUILDERS]
            + [f"onnx:{n}" for n in onnx_corpus.SAMPLE] + all_types())


def reason_for(name: str, check: str, problems: list[str]) -> str | None:
    if f"{name}/{check}" in ENTRY_REASONS:
        return ENTRY_REASONS[f"{name}/{check}"]
    for rule_check, pattern, reason in REASONS:
        if rule_check == check and all(re.search(pattern, p) for p in problems):
            return reason
    return None


def known_from(results: list[dict]) -> tuple[dict, list[str]]:
    """hf_known.json's content, and the failures no reason explains."""
    not_built, failing, too_slow, unexplained = {}, {}, {}, []
    for r in results:
        if "crash" in r and r["crash"].startswith("TimeoutError"):
            too_slow[r["type"]] = r["crash"].partition(": ")[2]
        elif "crash" in r:
            unexplained.append(f"{r['type']}: crashed: {r['crash']}")
        elif "build" in r:
            stage, _, reason = r["build"].partition(": ")
            not_built[r["type"]] = [stage, reason]
        else:
            for check, problems in r["checks"].items():
                if problems:
                    reason = reason_for(r["type"], check, problems)
                    if reason is None:
                        unexplained.append(f"{r['type']}/{check}: {problems[:3]}")
                    else:
                        failing[f"{r['type']}/{check}"] = reason
    return {"not_built": not_built, "failing": failing, "too_slow": too_slow}, unexplained


def _group(name: str) -> str:
    source, _, _ = name.rpartition(":")
    return {"": "transformers", "diffusers": "diffusers", "onnx": "ONNX export"}[source]


def from_junit(path: Path, old: dict) -> tuple[list[dict], dict, list[str]]:
    """(results, hf_known.json's content, unexplained failures) from a pytest run of the
    corpus written with ``--junitxml`` (see the module docstring); ``old`` is the current
    hf_known.json."""
    import xml.etree.ElementTree as ET

    entries: dict[str, dict] = {}
    failing: dict[str, str] = {}
    unexplained: list[str] = []
    for case in ET.parse(path).getroot().iter("testcase"):
        test, _, case_id = case.get("name", "").partition("[")
        case_id = case_id.rstrip("]")
        if test == "test_not_built_here":
            if case.find("failure") is not None:
                unexplained.append(f"{case_id}: listed as not built, but its test failed")
            continue
        if test not in ("test_model", "test_export") or "-" not in case_id:
            continue  # the keras corpus (its own table) and the files' own checks
        name, check = case_id.rsplit("-", 1)
        entry = entries.setdefault(name, {"type": name, "seconds": 0.0, "checks": {}})
        entry["seconds"] += float(case.get("time") or 0)
        failure, skipped = case.find("failure"), case.find("skipped")
        key = f"{name}/{check}"
        if skipped is not None and key in old["failing"]:  # an xfail: still fails
            failing[key] = old["failing"][key]
            entry["checks"][check] = [failing[key]]
        elif failure is not None and "XPASS" not in (failure.get("message") or ""):
            problem = (failure.get("message") or failure.text or "").strip()
            reason = reason_for(name, check, [problem])
            if reason is None:
                unexplained.append(f"{key}: {problem[:300]}")
            else:
                failing[key] = reason
            entry["checks"][check] = [problem]
        else:
            entry["checks"][check] = []
    results = sorted(entries.values(), key=lambda r: r["type"])
    results += [{"type": t, "build": f"{stage}: {why}"}
                for t, (stage, why) in old["not_built"].items()]
    results += [{"type": t, "crash": f"TimeoutError: {why}"} for t, why in old["too_slow"].items()]
    known = {"not_built": old["not_built"], "failing": failing, "too_slow": old["too_slow"]}
    return results, known, unexplained


def table(results: list[dict], known: dict,
          seconds_note: str = "one run of every check on this machine, one process") -> str:
    """The Markdown section of tests/README.md."""
    from hf_corpus import CHECKS

    by_stage = Counter(v[0] for v in known["not_built"].values())
    lines = ["| part | tried | built | " + " | ".join(CHECKS[1:]) + " | seconds |",
             "| --- | ---: | ---: | " + " | ".join("---:" for _ in CHECKS[1:]) + " | ---: |"]
    for group in ("transformers", "diffusers", "ONNX export"):
        tried = [r for r in results if _group(r["type"]) == group]
        built = [r for r in tried if "checks" in r]
        passing = [sum(1 for r in built if not r["checks"][c]) for c in CHECKS[1:]]
        seconds = sum(r.get("seconds", 0) for r in built)
        lines.append(f"| {group} | {len(tried)} | {len(built)} | "
                     + " | ".join(str(p) for p in passing) + f" | {seconds:.0f} |")
    modality = Counter(r["modality"] for r in results
                       if "checks" in r and ":" not in r["type"] and "modality" in r)
    lines += ["", ("Modalities of the transformers models built: "
                   + ", ".join(f"{n} {m}" for m, n in sorted(modality.items())) + ". "
                   if modality else "")
              + "A check counts as passing when its test passes; every other one is a known "
              f"failure below. `seconds`: {seconds_note}.", ""]
    lines += ["Known failures (each an `xfail(strict=True)` with this reason):", "",
              "| model | check | reason |", "| --- | --- | --- |"]
    for key, reason in sorted(known["failing"].items()):
        model_type, check = key.rsplit("/", 1)
        lines.append(f"| `{model_type}` | {check} | {reason} |")
    lines += ["", "Left out of the tests for time (built, but one run of their checks takes "
              "longer than the whole corpus may; scripts/corpus_table.py runs them):", "",
              "| model type | why |", "| --- | --- |"]
    for model_type, why in sorted(known["too_slow"].items()):
        lines.append(f"| `{model_type}` | {_cell(why)} |")
    lines += ["", "Not built here (each re-checked to fail the same way: "
              + ", ".join(f"{n} at `{s}`" for s, n in sorted(by_stage.items())) + "):", "",
              "| model type | stage | reason |", "| --- | --- | --- |"]
    for model_type, (stage, reason) in sorted(known["not_built"].items()):
        lines.append(f"| `{model_type}` | {stage} | {_cell(reason)} |")
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def write_readme(section: str) -> None:
    text = README.read_text(encoding="utf-8")
    block = f"{BEGIN}\n{section}{END}"
    if BEGIN in text:
        start, end = text.index(BEGIN), text.index(END) + len(END)
        text = text[:start] + block + text[end:]
    else:
        text = text.rstrip("\n") + "\n\n## The corpus\n\n" + block + "\n"
    README.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run", action="store_true", help="run the corpus first")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--results", default="/tmp/netdraw-corpus/results.json")
    parser.add_argument("--types", nargs="*", help="only these types (with --run)")
    parser.add_argument("--from-junit", metavar="XML",
                        help="read a pytest run of tests/corpus (--junitxml) instead")
    parser.add_argument("--worker", nargs="*", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker is not None:
        _worker(args.worker)
        return 0
    sys.path.insert(0, str(CORPUS))
    results_path = Path(args.results)
    if args.from_junit:
        old = json.loads((CORPUS / "hf_known.json").read_text(encoding="utf-8"))
        results, known, unexplained = from_junit(Path(args.from_junit), old)
        return _write(results, known, unexplained,
                      "the tests' durations in that pytest run, added up (its workers share "
                      "the machine)")
    if args.run:
        results = run_all(args.types or corpus_names(), args.jobs)
        if args.types and results_path.exists():  # update those types only
            old = {r["type"]: r for r in json.loads(results_path.read_text())}
            old.update({r["type"]: r for r in results})
            results = sorted(old.values(), key=lambda r: r["type"])
        results_path.parent.mkdir(parents=True, exist_ok=True)
        results_path.write_text(json.dumps(results, indent=1), encoding="utf-8")
    results = json.loads(results_path.read_text(encoding="utf-8"))
    return _write(results, *known_from(results))


def _write(results: list[dict], known: dict, unexplained: list[str],
           seconds: str | None = None) -> int:
    """hf_known.json and the README table, unless a failure has no reason (then 1)."""
    if unexplained:
        print("failures no reason explains (fix them or add a reason):", file=sys.stderr)
        for line in unexplained:
            print("  " + line, file=sys.stderr)
        return 1
    (CORPUS / "hf_known.json").write_text(json.dumps(known, indent=1, sort_keys=True) + "\n",
                                          encoding="utf-8")
    write_readme(table(results, known, *([seconds] if seconds else [])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
