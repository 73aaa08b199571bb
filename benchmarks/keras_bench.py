"""Benchmark: netdraw's Keras importer beside keras.utils.plot_model and visualkeras.

    KERAS_BACKEND=torch .venv/bin/python benchmarks/keras_bench.py [--runs 5] [--models ...]

Builds the keras.applications models (weights=None) once and saves them as ``.keras`` files
in benchmarks/work/, then times whole processes, each drawing one model from its file:

- netdraw, file: ``netdraw draw X.keras -o X.svg`` (reads config.json; no Keras import)
- netdraw, live: ``import keras``, ``keras.saving.load_model``, ``netdraw.load(model)``, SVG
- plot_model: ``load_model`` then ``keras.utils.plot_model(show_shapes=True)`` to SVG
- visualkeras: ``load_model`` then ``visualkeras.layered_view(model)`` to PNG (0.2.0 needs
  ``Layer.output_shape``, gone in Keras 3: patched in here only; the unpatched failure is
  recorded once per model)

Peers run in their own venv, benchmarks/.venv-keras, which this script creates (keras,
torch pinned to the project's version, pydot, visualkeras). Wall time is measured around the
process, peak memory is the largest resident set of the process and its children (dot
included) from wait4(). Medians of ``--runs`` runs; rounds are interleaved so that load from
other processes spreads over all tools. Results go to benchmarks/work/keras_results.json and
into benchmarks/README.md between the keras-bench markers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import struct
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
WORK = HERE / "work" / "keras"
VENV = HERE / ".venv-keras"
PEER_PYTHON = VENV / "bin" / "python"
README = HERE / "README.md"
MODELS = ("ResNet50", "MobileNetV2", "EfficientNetB0", "DenseNet121", "InceptionV3")
PEER_PACKAGES = ("torch==2.13.0", "keras==3.15.1", "pydot", "visualkeras==0.2.0", "h5py")
START, END = "<!-- keras-bench:start -->", "<!-- keras-bench:end -->"

LOAD = ("import sys, keras\n"
        "model = keras.saving.load_model(sys.argv[1], compile=False)\n")
SCRIPTS = {
    "netdraw_live": LOAD + ("import netdraw\nfrom netdraw.output import write_output\n"
                            "write_output(sys.argv[2], netdraw.render(netdraw.load(model), "
                            "'svg'))\n"),
    "plot_model": LOAD + "keras.utils.plot_model(model, to_file=sys.argv[2], show_shapes=True)\n",
    "visualkeras": LOAD + ("import visualkeras\n"
                           "keras.layers.Layer.output_shape = property(\n"
                           "    lambda self: tuple(self.output.shape))\n"
                           "visualkeras.layered_view(model).save(sys.argv[2])\n"),
    "visualkeras_unpatched": LOAD + ("import visualkeras\n"
                                     "visualkeras.layered_view(model).save(sys.argv[2])\n"),
    "import_keras": "import keras\n",
}
TOOLS = (  # (key, label, python, output suffix)
    ("netdraw_file", "netdraw, .keras file (no Keras)", "project", "svg"),
    ("netdraw_live", "netdraw, live model (load_model + netdraw.load)", "project", "svg"),
    ("plot_model", "keras plot_model(show_shapes=True)", "peer", "svg"),
    ("visualkeras", "visualkeras.layered_view (patched)", "peer", "png"),
)


def ensure_peer_venv() -> None:
    if PEER_PYTHON.exists():
        return
    print(f"== creating {VENV} (keras, torch, pydot, visualkeras)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    subprocess.run([str(PEER_PYTHON), "-m", "pip", "install", "-q", "-c",
                    str(ROOT / "constraints.txt"), *PEER_PACKAGES], check=True)


def env() -> dict[str, str]:
    out = {**os.environ, "KERAS_BACKEND": "torch", "PYTHONPATH": str(ROOT)}
    out.pop("NETDRAW_DEBUG", None)
    return out


def save_models(names: list[str]) -> dict[str, Path]:
    WORK.mkdir(parents=True, exist_ok=True)
    paths = {name: WORK / f"{name}.keras" for name in names}
    missing = [n for n, p in paths.items() if not p.exists()]
    if missing:
        print(f"== building and saving {', '.join(missing)} (weights=None)", flush=True)
        code = ("import sys, keras\n"
                "for name in sys.argv[2:]:\n"
                "    getattr(keras.applications, name)(weights=None).save(\n"
                "        f'{sys.argv[1]}/{name}.keras')\n")
        subprocess.run([sys.executable, "-c", code, str(WORK), *missing], check=True,
                       env=env())
    return paths


def command(tool: str, model: Path, out: Path) -> list[str]:
    if tool == "netdraw_file":
        return [sys.executable, "-m", "netdraw", "draw", str(model), "-o", str(out)]
    python = str(PEER_PYTHON) if tool in ("plot_model", "visualkeras",
                                          "visualkeras_unpatched", "import_keras") \
        else sys.executable
    return [python, "-c", SCRIPTS[tool], str(model), str(out)]


def measure(cmd: list[str]) -> dict[str, object]:
    """Run one process: wall seconds, peak RSS in MB (it and its children), status."""
    with tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err, env=env())
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        lines = [ln for ln in err.read().decode("utf-8", "replace").splitlines() if ln.strip()]
    result: dict[str, object] = {"wall": wall, "rss_mb": usage.ru_maxrss / 1024,
                                 "ok": proc.returncode == 0}
    if proc.returncode != 0:
        result["error"] = lines[-1][:200] if lines else f"exit {proc.returncode}"
    return result


def picture_size(path: Path) -> str:
    """'W×H pt' of an SVG or 'W×H px' of a PNG."""
    if not path.exists():
        return ""
    if path.suffix == ".png":
        with path.open("rb") as fh:
            head = fh.read(24)
        width, height = struct.unpack(">II", head[16:24])
        return f"{width:,}×{height:,} px"
    root = ET.parse(path).getroot()
    width, height = root.get("width", "?"), root.get("height", "?")
    return f"{width}×{height}".replace("pt", "") + " pt"


def run(names: list[str], runs: int) -> dict[str, object]:
    ensure_peer_venv()
    paths = save_models(names)
    load_before = os.getloadavg()[0]
    out_dir = WORK / "out"
    out_dir.mkdir(exist_ok=True)
    samples: dict[str, dict[str, list[dict[str, object]]]] = {}
    for rnd in range(runs):
        print(f"== round {rnd + 1}/{runs}", flush=True)
        r = measure(command("import_keras", Path("-"), Path("-")))
        samples.setdefault("import keras", {}).setdefault("-", []).append(r)
        for name in names:
            for tool, _, _, suffix in TOOLS:
                out = out_dir / f"{name}.{tool}.{suffix}"
                r = measure(command(tool, paths[name], out))
                samples.setdefault(tool, {}).setdefault(name, []).append(r)
                print(f"   {name:15} {tool:14} {r['wall']:6.2f} s {r['rss_mb']:7.0f} MB"
                      f"{'' if r['ok'] else '  FAILED: ' + str(r.get('error'))}", flush=True)
    unpatched = {}
    for name in names:
        r = measure(command("visualkeras_unpatched", paths[name], out_dir / f"{name}.vk0.png"))
        unpatched[name] = "ok" if r["ok"] else str(r.get("error"))
    results: dict[str, object] = {"runs": runs, "models": names, "tools": {},
                                  "visualkeras_unpatched": unpatched,
                                  "import_keras": _summary(samples["import keras"]["-"]),
                                  "machine": _machine(load_before)}
    for tool, label, _, suffix in TOOLS:
        per_model = {}
        for name in names:
            summary = _summary(samples[tool][name])
            summary["picture"] = picture_size(out_dir / f"{name}.{tool}.{suffix}") \
                if summary["ok"] else ""
            per_model[name] = summary
        results["tools"][tool] = {"label": label, "models": per_model}
    return results


def _summary(items: list[dict[str, object]]) -> dict[str, object]:
    good = [i for i in items if i["ok"]]
    if not good:
        return {"ok": False, "error": items[-1].get("error", "failed"), "failures": len(items)}
    return {"ok": True, "wall": statistics.median(float(i["wall"]) for i in good),
            "rss_mb": statistics.median(float(i["rss_mb"]) for i in good),
            "failures": len(items) - len(good)}


def _machine(load_before: float) -> str:
    return (f"{os.cpu_count()} cores, load average {load_before:.1f} at the start of the run "
            f"and {os.getloadavg()[0]:.1f} at its end")


def markdown(results: dict[str, object]) -> str:
    names: list[str] = results["models"]  # type: ignore[assignment]
    tools: dict = results["tools"]  # type: ignore[assignment]
    lines = [f"Medians of {results['runs']} runs per cell; {results['machine']}. "
             f"`import keras` alone: {results['import_keras']['wall']:.2f} s, "
             f"{results['import_keras']['rss_mb']:.0f} MB.", "",
             "Whole-process wall time (s) / peak memory (MB):", "",
             "| tool | " + " | ".join(names) + " |",
             "|---|" + "---|" * len(names)]
    for tool in tools.values():
        cells = []
        for name in names:
            s = tool["models"][name]
            cells.append(f"{s['wall']:.2f} s / {s['rss_mb']:.0f} MB" if s["ok"]
                         else "fails: " + _short_error(str(s["error"])))
        lines.append(f"| {tool['label']} | " + " | ".join(cells) + " |")
    lines += ["", "netdraw from the file vs plot_model (whole-process time; target ≤ 0.25):",
              "", "| model | netdraw file | plot_model | ratio |", "|---|---|---|---|"]
    for name in names:
        nd, pm = tools["netdraw_file"]["models"][name], tools["plot_model"]["models"][name]
        if nd["ok"] and pm["ok"]:
            lines.append(f"| {name} | {nd['wall']:.2f} s | {pm['wall']:.2f} s | "
                         f"{nd['wall'] / pm['wall']:.2f} |")
        else:
            lines.append(f"| {name} | {nd.get('wall', 0):.2f} s | fails | – |")
    lines += ["", "Picture sizes:", "", "| tool | " + " | ".join(names) + " |",
              "|---|" + "---|" * len(names)]
    for tool in tools.values():
        cells = [tool["models"][n].get("picture", "") or "–" for n in names]
        lines.append(f"| {tool['label']} | " + " | ".join(cells) + " |")
    lines += ["", "visualkeras 0.2.0 as released, on Keras 3: " + "; ".join(
        f"{n}: {e}" for n, e in results["visualkeras_unpatched"].items())]
    return "\n".join(lines)


def _short_error(error: str) -> str:
    """pydot's 'AssertionError: "dot" with args [...] returned code: -6' -> 'dot exits -6'."""
    match = re.search(r'"dot" with args .* returned code: (-?\d+)', error)
    if match:
        return f"Graphviz dot exits with code {match.group(1)}"
    return error[:60]


def update_readme(table: str) -> None:
    text = README.read_text() if README.exists() else "# Benchmarks\n"
    block = f"{START}\n{table}\n{END}"
    if START in text and END in text:
        head, rest = text.split(START, 1)
        text = head + block + rest.split(END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    README.write_text(text)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--models", nargs="*", default=list(MODELS), choices=MODELS)
    parser.add_argument("--no-readme", action="store_true", help="do not edit README.md")
    parser.add_argument("--from-json", action="store_true",
                        help="only rewrite the table from the last run's keras_results.json")
    args = parser.parse_args()
    saved = WORK / "keras_results.json"
    if args.from_json:
        results = json.loads(saved.read_text())
    else:
        results = run(args.models, args.runs)
        saved.write_text(json.dumps(results, indent=1) + "\n")
    table = markdown(results)
    print(table)
    if not args.no_readme:
        update_readme(table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
