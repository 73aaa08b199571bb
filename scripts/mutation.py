"""Mutation testing of one core module with mutmut, against the tests chosen for it.

    .venv/bin/python scripts/mutation.py netdraw/passes/fold.py    # one module
    .venv/bin/python scripts/mutation.py --list                    # modules and their tests
    .venv/bin/python scripts/mutation.py --all                     # every module, one by one
    .venv/bin/python scripts/mutation.py netdraw/importers/onnx.py --sample 150   # a sample

Each run works in ``build/mutation/<module>/``: a copy of ``netdraw/`` and ``tests/`` with a
``pyproject.toml`` that tells mutmut which file to mutate and which test files to run. mutmut
then traces which tests reach each function and runs only those against each mutant, so a
module takes minutes, not hours. The checkout itself is never modified.

``--sample N`` runs N mutants drawn at random (seeded: ``--seed``, default 0, so a rerun
draws the same ones) from all the module's mutants, for modules whose full run would take
hours; the summary records the sample's size beside the module's mutant count.

At the end it prints the score (killed / total), writes ``summary.json`` and
``survivors.txt`` (the diff of every surviving mutant) in that folder. Browse them with
``cd build/mutation/<module> && ../../../.venv/bin/mutmut browse``.

Needs the ``mutation`` extra (``pip install -e '.[mutation]'``). Not part of CI's run.
"""

from __future__ import annotations

import argparse
import fnmatch
import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# In-process tests that drive the passes with hand-built graphs and small torch models, with
# outside oracles (hand counts, the framework's numbers, dot). Left out: the tests that
# export ResNet-50 or a ViT for every run, start the CLI in a subprocess (invisible to
# mutmut), run pdflatex or import Keras, so a mutant's run takes seconds, not a minute.
# Entries starting with "-" are pytest options.
_PASSES_TESTS = ["tests/test_fold_labels.py", "tests/test_view_passes.py",
                 "tests/test_oracles.py", "tests/test_ir.py",
                 "tests/test_views.py::test_rolling_by_structure_not_by_name",
                 "tests/test_views.py::test_prune_reconnects_pass_through_layers",
                 "tests/test_views.py::test_macs_by_hand",
                 "-k", "not tied_weights and not tikz_pdf and not summary_latex and not siamese"]

# Collapsing and rolling, judged on ResNet-18/50 traced live against the torch modules and
# on hand-built graphs. The ResNet-50/ViT ONNX tests of test_views.py are left out: some
# mutants make them loop until mutmut's CPU limit (minutes each).
_COLLAPSE_TESTS = _PASSES_TESTS[:-2] + [
    "tests/test_collapse_rules.py",
    "tests/test_research_models.py::test_calls_of_one_module_never_roll",
    *_PASSES_TESTS[-2:]]


# The corpus (tests/corpus/, issue 22) counts as a mutant killer for the importers and the
# MAC count: a few of its fastest entries, each checked against the framework's own numbers
# (torch's FlopCounterMode and forward hooks, sum(p.numel())).
_CORPUS_TORCH = [f"tests/corpus/test_corpus_hf_3.py::test_model[{case}]" for case in (
    "gpt2-params", "gpt2-macs", "resnet-macs", "mobilenet_v2-macs", "mobilenet_v2-chw")]
_CORPUS_ONNX = [f"tests/corpus/test_corpus_onnx_1.py::test_export[onnx:{case}]" for case in (
    "resnet-macs", "resnet-chw")]

# MACs per node: the passes' tests, the MAC formulas' and torch's FlopCounterMode.
_STATS_TESTS = _PASSES_TESTS[:-2] + [
    "tests/test_macs.py", "tests/test_macs_torch.py", "tests/test_stats_rules.py",
    *_CORPUS_TORCH, *_CORPUS_ONNX,
    *_PASSES_TESTS[-2:]]

_PT2_TESTS = ["tests/test_untrusted_files.py", "tests/test_torch_paths.py",
              "tests/test_torch_importer.py::test_decomposed_export_keeps_layers",
              "tests/test_torch_importer.py::test_exported_program_in_memory",
              "-k", "not needs_no_torch and not keras"]

#: The attribution tests that run in the test process (no command in a subprocess), for
#: the viz modules' mutants.
_VIZ_IN_PROCESS = [
    f"tests/test_viz_attribution.py::{name}" for name in (
        "test_fixed_batch_onnx_runs_every_method_on_a_batch",
        "test_every_method_says_the_same_about_a_layer_without_a_grid",
        "test_integrated_gradients_smoothgrad_guided_gradcam_equal_captum",
        "test_smoothing_a_cam_averages_it_over_noisy_inputs",
        "test_a_named_output_and_a_region_of_a_segmentation",
        "test_deletion_and_insertion_aucs_equal_a_brute_force_computation",
        "test_pointing_game_and_randomisation_check",
        "test_overlay_keeps_the_input_and_follows_colormap_and_opacity")]

#: The diff tests that run in the test process (the CLI's are invisible to mutmut, the
#: 10k-node run takes seconds per mutant).
_DIFF_TESTS = ["tests/test_diff.py", "tests/test_diff_rules.py",
               "-k", "not test_cli_ and not 10k and not hostile and not through_the_cli"
                     " and not imports_no_torch and not help_lists"]

# Module -> the test files that judge it. Keep each list to tests that run in-process (mutmut
# traces which test reaches which function; a subprocess is invisible to it) and fast.
MODULES: dict[str, list[str]] = {
    "netdraw/passes/_graph.py": _PASSES_TESTS,
    "netdraw/passes/collapse.py": _COLLAPSE_TESTS,
    "netdraw/passes/fold.py": _PASSES_TESTS,
    "netdraw/passes/groups.py": _PASSES_TESTS[:-2] + [
        "tests/test_groups_rules.py::test_the_biggest_name_group_counts_towards_the_coverage",
        "tests/test_groups_rules.py::test_a_group_of_one_node_gives_it_its_label_and_call",
        "tests/test_groups_rules.py::test_nothing_to_dissolve_is_an_equal_copy",
        "tests/test_groups_rules.py::test_repeating_pairs_of_stretches_wrap_into_one_group_"
        "per_repetition",
        *(f"tests/test_groups_rules.py::test_keras_applications_stages_hold_the_papers_"
          f"block_counts[{case}]" for case in ("ResNet50-stages0", "EfficientNetB0-stages2")),
        *_PASSES_TESTS[-2:]],
    "netdraw/passes/layout.py": _PASSES_TESTS,
    "netdraw/passes/macs.py": ["tests/test_macs.py", "tests/test_oracles.py",
                               "tests/test_views.py::test_macs_by_hand"],
    "netdraw/passes/parallel.py": ["tests/test_parallel.py"],
    "netdraw/passes/prune.py": _PASSES_TESTS,
    "netdraw/passes/signature.py": _PASSES_TESTS,
    "netdraw/passes/stats.py": _STATS_TESTS,
    "netdraw/passes/view.py": _PASSES_TESTS,
    # (the external-data test measures the process's peak memory, which the other tests of
    # one mutmut process raise)
    "netdraw/importers/onnx.py": ["tests/test_onnx_importer.py", "tests/test_oracles.py",
                                  "tests/test_onnx_rules.py", *_CORPUS_ONNX,
                                  "tests/test_research_models.py::test_onnx_local_function_"
                                  "called_twice_is_two_calls",
                                  "tests/test_research_models.py::test_siamese_onnx_exports"
                                  "[legacy]", "-k",
                                  "not torch_exporter_metadata and not external_data_is_never"],
    # the live tracer's op arguments (torch's module attributes and FlopCounterMode)
    "netdraw/importers/torch_ops.py": [
        "tests/test_torch_paths.py", "tests/test_macs_torch.py",
        *(f"tests/test_torch_importer.py::test_{name}" for name in (
            "functional_attention_block", "recurrent_and_embedding_attrs",
            "data_dependent_if_and_python_loop")),
        *_CORPUS_TORCH[-2:], "-k", "not gpt2"],
    # torch.export programs, in memory and as .pt2 archives
    "netdraw/importers/torch_program.py": _PT2_TESTS,
    "netdraw/importers/pt2.py": _PT2_TESTS,
    # the config-only rules of Keras files against Keras' own shapes and count_params()
    "netdraw/importers/keras_layers.py": ["tests/test_keras_rules.py"],
    "netdraw/latex.py": ["tests/test_latex.py",
                         "tests/test_oracles.py::test_tikz_pdf_prints_angle_brackets_and_bar",
                         "tests/test_oracles.py::test_summary_latex_prints_angle_brackets_and_bar"],
    "netdraw/backends/dot.py": [
        "tests/test_dot_labels.py",
        "tests/test_oracles.py::test_control_characters_in_names_are_accepted_by_dot",
        "tests/test_view_passes.py"],
    "netdraw/figure/plan.py": ["tests/test_figure_plan.py",
                               "tests/test_tikz.py::test_inception_branches_get_their_own_lanes",
                               "tests/test_tikz.py::test_group_brackets_and_short_captions"],
    # (the .tex read back; compiling is left to test_tikz.py's pdflatex runs)
    "netdraw/backends/tikz.py": ["tests/test_tikz_source.py",
                                 "tests/test_tikz.py::test_empty_model_is_a_clear_error",
                                 "tests/test_tikz.py::test_colorblind_theme_uses_okabe_ito",
                                 "tests/test_tikz.py::test_escape_maps_every_special_character"],
    "netdraw/backends/html/model.py": ["tests/test_html_model_rules.py",
                                       "tests/test_html_model.py"],
    # (test_figure_layout's comparison of every style takes 20 s a run)
    "netdraw/figure/layout.py": ["tests/test_figure_layout_rules.py",
                                 "tests/test_figure_layout.py",
                                 "tests/test_tikz.py::test_inception_branches_get_their_own_lanes",
                                 "tests/test_tikz.py::test_group_brackets_and_short_captions",
                                 "-k", "not both_backends_draw"],
    "netdraw/diff/match.py": _DIFF_TESTS,
    "netdraw/diff/compare.py": _DIFF_TESTS,
    # (the packaging and gallery checks read the checkout's files, which the copy has not)
    "netdraw/schema/__init__.py": ["tests/test_schema_messages.py", "tests/test_schema.py",
                                   "-k", "not shipped and not gallery"],
    "netdraw/viz/inputs.py": ["tests/test_viz_capture.py", "tests/test_viz_cam.py"],
    # (the ViT and Keras checks take half a minute a run; the viz tests share one -k)
    "netdraw/viz/class_maps.py": [
        "tests/test_cam_rules.py", "tests/test_viz_cam.py", "tests/test_viz_units.py",
        "tests/test_viz_attribution.py::test_smoothing_a_cam_averages_it_over_noisy_inputs",
        "tests/test_viz_attribution.py::test_a_class_per_input_and_a_logit_difference",
        "-k", "not vit_tokens and not keras_gradcam"],
    "netdraw/viz/activations.py": ["tests/test_viz_units.py", "tests/test_activation_rules.py",
                                   "tests/test_thumbnail_rules.py"],
    "netdraw/viz/thumbnails.py": ["tests/test_viz_units.py", "tests/test_thumbnail_rules.py",
                                  "tests/test_thumbnails.py::test_tiles_are_the_frameworks_"
                                  "numbers_after_the_folded_relu"],
    "netdraw/viz/layers.py": ["tests/test_viz_units.py", "tests/test_viz_cam.py",
                              *_VIZ_IN_PROCESS],
    "netdraw/viz/targets.py": _VIZ_IN_PROCESS,
    "netdraw/viz/attributions.py": _VIZ_IN_PROCESS,
    "netdraw/viz/faithfulness.py": _VIZ_IN_PROCESS,
    "netdraw/viz/pictures.py": ["tests/test_viz_capture.py", "tests/test_viz_cli.py"],
}

# Functions to mutate when not all of a module is (--only overrides): the DOT backend's
# labels and escaping, not its layout bookkeeping.
ONLY: dict[str, list[str]] = {
    "netdraw/backends/dot.py": ["_tooltip", "label_parts", "label_table",
                                "_connector_letter", "_attrs", "tooltip_text", "cluster_attrs",
                                "edge_attrs", "header_lines", "render_dot"],
}

STATUSES = ("killed", "survived", "no tests", "timeout", "suspicious", "skipped",
            "caught by type check", "segfault", "not checked")


def _slug(module: str) -> str:
    return module.removeprefix("netdraw/").removesuffix(".py").replace("/", "-")


def _mutmut() -> str:
    exe = Path(sys.executable).with_name("mutmut")
    if not exe.exists():
        sys.exit("mutation: mutmut is not installed: pip install -e '.[mutation]'")
    return str(exe)


def _prepare(module: str, tests: list[str], workdir: Path) -> None:
    """A fresh copy of the package and the tests, with mutmut's settings for this module."""
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "vendor")
    shutil.copytree(ROOT / "netdraw", workdir / "netdraw", ignore=ignore, symlinks=True)
    shutil.copytree(ROOT / "tests", workdir / "tests", ignore=ignore)
    _settings(module, tests, workdir)


def _settings(module: str, tests: list[str], workdir: Path) -> None:
    """mutmut's settings: the file to mutate and the tests to run."""
    quoted = ", ".join(json.dumps(t) for t in tests)
    (workdir / "pyproject.toml").write_text(
        "[tool.mutmut]\n"
        'source_paths = ["netdraw"]\n'
        f"only_mutate = [{json.dumps(module)}]\n"
        f"pytest_add_cli_args_test_selection = [{quoted}]\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q"]\n'
        # torch is not fork-safe once its thread pools run: fork workers from a clean server
        'process_isolation = "forkserver"\n'
        "use_git_change_detection = false\n",
        encoding="utf-8")


def _patterns(module: str, functions: list[str]) -> list[str]:
    """mutmut's mutant-name globs for functions (``name``) and methods (``Class.name``)."""
    dotted = module.removesuffix(".py").replace("/", ".").removesuffix(".__init__")
    out = []
    for name in functions:
        cls, _, meth = name.rpartition(".")
        out.append(f"{dotted}.xǁ{cls}ǁ{meth}__mutmut_*" if cls else f"{dotted}.x_{name}__mutmut_*")
    return out


def _results(workdir: Path, env: dict[str, str]) -> dict[str, str]:
    out = subprocess.run([_mutmut(), "results", "--all", "true"], cwd=workdir, env=env,
                         capture_output=True, text=True, check=True).stdout
    found = {}
    for line in out.splitlines():
        m = re.match(r"\s*(\S+): (.+)$", line)
        if m and m.group(2).strip() in STATUSES:
            found[m.group(1)] = m.group(2).strip()
    return found


def _all_mutants(workdir: Path, env: dict[str, str], patterns: list[str],
                 log: Path) -> list[str]:
    """Every mutant name of the prepared module (matching ``patterns`` if any), made by a
    mutmut run that selects none of them (mutmut generates them all, then runs nothing)."""
    with log.open("w", encoding="utf-8") as fh:
        subprocess.run([_mutmut(), "run", "no_such_mutant_name"], cwd=workdir, env=env,
                       stdout=fh, stderr=subprocess.STDOUT)
    names = sorted(_results(workdir, env))
    if patterns:
        names = [n for n in names if any(fnmatch.fnmatchcase(n, p) for p in patterns)]
    return names


def _sample(everything: list[str], size: int, seed: int) -> list[str]:
    """``size`` mutant names drawn from ``everything`` (sorted), the same for the same seed."""
    return sorted(random.Random(seed).sample(everything, min(size, len(everything))))

def run_module(module: str, jobs: int, only: list[str] | None = None,
               rerun: bool = False, sample: int | None = None,
               seed: int = 0) -> dict[str, object]:
    """Mutate ``module`` (or only some of its functions) and score it; with ``rerun``, keep
    the last run's results and run its survivors again against the current tests; with
    ``sample``, run that many mutants drawn at random (``seed``) from all of them."""
    tests = MODULES[module]
    only = only if only is not None else ONLY.get(module, [])
    patterns = _patterns(module, only)
    missing = [t for t in tests
               if t.startswith("tests/") and not (ROOT / t.split("::")[0]).exists()]
    if missing:
        sys.exit(f"mutation: test files for {module} not found: {', '.join(missing)}")
    workdir = ROOT / "build" / "mutation" / _slug(module)
    names, earlier = patterns, {}
    if rerun:
        last = workdir / "summary.json"
        if not last.is_file():
            sys.exit(f"mutation: no earlier run of {module} to rerun ({last} is missing)")
        earlier = json.loads(last.read_text(encoding="utf-8"))
        names = earlier["survivors"]
        if not names:
            sys.exit(f"mutation: {module} had no survivors")
        # the current tests (mutmut copies tests/ into its mutants/ folder on every run)
        shutil.rmtree(workdir / "tests")
        shutil.copytree(ROOT / "tests", workdir / "tests",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        _settings(module, tests, workdir)  # the current selection
    else:
        _prepare(module, tests, workdir)
    env = dict(os.environ)
    env.pop("PYTHONPATH", None)  # mutmut puts its mutated copy first on sys.path itself
    env.setdefault("KERAS_BACKEND", "torch")
    env.setdefault("OMP_NUM_THREADS", "1")
    # the copy has no node_modules: the HTML page (which the corpus renders) takes the
    # checkout's Graphviz-in-WebAssembly
    graphviz_js = ROOT / "node_modules" / "@hpcc-js" / "wasm-graphviz" / "dist" / "index.js"
    if graphviz_js.is_file():
        env.setdefault("NETDRAW_GRAPHVIZ_JS", str(graphviz_js))
    start = time.monotonic()
    population = None
    if sample is not None and not rerun:
        everything = _all_mutants(workdir, env, patterns, workdir / "mutmut-generate.log")
        population = len(everything)
        names = _sample(everything, sample, seed)
        patterns = names  # score only the sampled mutants
    elif rerun:
        population = earlier.get("population")
        if population is not None:  # score the same sample again, not every mutant
            patterns = earlier.get("sample") or _sample(
                sorted(n for n in _results(workdir, env)
                       if not patterns or any(fnmatch.fnmatchcase(n, p) for p in patterns)),
                earlier["total"], earlier["seed"])
    log = workdir / ("mutmut-rerun.log" if rerun else "mutmut.log")
    with log.open("w", encoding="utf-8") as fh:
        proc = subprocess.run([_mutmut(), "run", "--max-children", str(jobs), *names],
                              cwd=workdir, env=env, stdout=fh, stderr=subprocess.STDOUT)
    minutes = (time.monotonic() - start) / 60
    if proc.returncode != 0:
        sys.exit(f"mutation: mutmut run failed for {module} (exit {proc.returncode}); see {log}")
    results = _results(workdir, env)
    if patterns:
        results = {k: v for k, v in results.items()
                   if any(fnmatch.fnmatchcase(k, p) for p in patterns)}
    if rerun:  # the earlier run's caught mutants stay caught (tests are only added)
        results.update({k: "killed" for k in results if k not in set(earlier["survivors"])})
    counts = {s: sum(1 for v in results.values() if v == s) for s in STATUSES}
    total = len(results)
    # a mutant that makes the tests run past mutmut's time limit (a loop that never ends)
    # is caught as well as one that fails them
    caught = counts["killed"] + counts["timeout"]
    score = 100.0 * caught / total if total else 0.0
    survivors = sorted(k for k, v in results.items() if v not in ("killed", "timeout"))
    # the diff of every survivor, from one process (one `mutmut show` each takes seconds)
    script = ("import sys\nfrom mutmut.mutation.diff_apply import get_diff_for_mutant\n"
              "for name in sys.argv[1:]:\n"
              "    print(f'# {name}\\n{get_diff_for_mutant(name)}\\n')\n")
    diffs = subprocess.run([sys.executable, "-c", script, *survivors], cwd=workdir, env=env,
                           capture_output=True, text=True).stdout if survivors else ""
    (workdir / "survivors.txt").write_text(diffs, encoding="utf-8")
    summary = {"module": module, "tests": tests, "only": only, "killed": caught,
               "total": total, "score": round(score, 1), "population": population,
               "seed": seed if population is not None else None,
               "minutes": earlier.get("minutes", round(minutes, 1)),
               "rerun_minutes": round(minutes, 1) if rerun else None,
               "counts": {k: v for k, v in counts.items() if v}, "survivors": survivors,
               "sample": sorted(results) if population is not None else None}
    (workdir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n",
                                          encoding="utf-8")
    print(f"{module}: {caught}/{total} killed ({score:.1f} %) in {minutes:.1f} min;"
          f" survivors in {workdir.relative_to(ROOT)}/survivors.txt")
    return summary


def table() -> str:
    """A Markdown table of the scores in ``build/mutation/*/summary.json``."""
    rows = ["| module | mutated | killed / total | score | minutes |",
            "| --- | --- | --- | --- | --- |"]
    for path in sorted((ROOT / "build" / "mutation").glob("*/summary.json")):
        s = json.loads(path.read_text(encoding="utf-8"))
        what = ", ".join(f"`{f}`" for f in s["only"]) if s["only"] else "all functions"
        if s.get("population"):
            what += f"; a sample of {s['total']} of {s['population']} mutants"
        rows.append(f"| `{s['module']}` | {what} | {s['killed']} / {s['total']} | "
                    f"{s['score']:.1f} % | {s['minutes']:g} |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("modules", nargs="*", help="module paths, e.g. netdraw/passes/fold.py")
    parser.add_argument("--all", action="store_true", help="every module in the table")
    parser.add_argument("--list", action="store_true", help="print modules and their tests")
    parser.add_argument("--table", action="store_true",
                        help="print the scores of the last runs as a Markdown table")
    parser.add_argument("--jobs", type=int, default=2, help="parallel mutants (default 2)")
    parser.add_argument("--only", nargs="+", metavar="FUNCTION",
                        help="mutate only these functions (Class.method for a method)")
    parser.add_argument("--sample", type=int, metavar="N",
                        help="run N mutants drawn at random from the module's mutants")
    parser.add_argument("--seed", type=int, default=0, help="the sample's seed (default 0)")
    parser.add_argument("--rerun-survivors", action="store_true",
                        help="run the last run's survivors again against the current tests")
    args = parser.parse_args(argv)
    if args.table:
        print(table())
        return 0
    if args.list:
        for module, tests in MODULES.items():
            only = f"  (only {', '.join(ONLY[module])})" if module in ONLY else ""
            print(f"{module}: {' '.join(tests)}{only}")
        return 0
    modules = list(MODULES) if args.all else args.modules
    if not modules:
        parser.error("name a module (see --list) or give --all")
    unknown = [m for m in modules if m not in MODULES]
    if unknown:
        parser.error(f"no test selection for {', '.join(unknown)} (see --list)")
    for module in modules:
        run_module(module, args.jobs, args.only, args.rerun_survivors, args.sample, args.seed)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
