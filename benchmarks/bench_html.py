"""HTML preview benchmark: netdraw's page beside Netron, on ResNet-50, BERT and GPT-2 ONNX
exports, in the same headless Chromium.

    .venv/bin/python benchmarks/bench_html.py [--repeats 5] [--no-netron]

Models (made once into benchmarks/work/html/): the zoo's ResNet-50, and BERT-base and GPT-2
built by transformers from their default configs with random weights, all exported with
``torch.onnx.export(..., dynamo=True)`` (weights in external data). For each model and
repeat, tools alternating:

- **write**: wall time of the whole ``netdraw draw MODEL.onnx -o MODEL.html`` process, and
  the page's size;
- **first paint**: from navigation start to the first animation frame in which the drawing
  is in the document (checked every frame by a script injected before the page runs: for
  netdraw, its first view; for Netron, its graph shown), in a fresh browser context;
- **expand**: opening a block (the first rolled run, else the first closed group) until
  the next frame is painted: computing the view, Graphviz's layout in WebAssembly, the new
  SVG in the document. Three blocks are opened one after another; the median is reported.

Netron (PyPI ``netron``, in ``benchmarks/.venv-netron``, made here; the npm registry has no
``netron`` package) serves the same ONNX file on 127.0.0.1; it has no collapsible hierarchy
for these exports, so it has no expand time. Results go to stdout as Markdown.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, WORK

HERE = WORK / "html"
NETRON_VENV = Path(__file__).resolve().parent / ".venv-netron"
NETRON_VERSION = "9.3.3"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
#: Records the first animation frame in which the drawing is there (the same for both
#: tools; each says what "there" means).
FIRST_PAINT = """
(() => {
  const check = () => {
    if (window.__drawn && window.__drawn()) {
      document.documentElement.dataset.firstPaint = String(performance.now());
      return;
    }
    requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();
"""
#: netdraw: its first view painted; Netron: its graph shown (body class "default").
DRAWN = {
    "netdraw": "() => document.body.dataset.ready === '1' && "
               "document.querySelector('#nd-graph g.node')",
    "netron": "() => document.body.classList.contains('default') && "
              "document.querySelector('#canvas g.node')",
}


def make_models() -> dict[str, Path]:
    HERE.mkdir(parents=True, exist_ok=True)
    out = {name: HERE / f"{name}.onnx" for name in ("resnet50", "bert", "gpt2")}
    missing = [n for n, p in out.items() if not p.exists()]
    if missing:
        code = f"""
import torch, warnings
warnings.filterwarnings("ignore")
torch.manual_seed(0)
for name in {missing!r}:
    if name == "resnet50":
        from netdraw.zoo.torch_models import resnet50
        model, args = resnet50().eval(), (torch.randn(1, 3, 224, 224),)
    elif name == "bert":
        from transformers import BertConfig, BertModel
        model, args = BertModel(BertConfig()).eval(), (torch.zeros(1, 128, dtype=torch.long),)
    else:
        from transformers import GPT2Config, GPT2Model
        model = GPT2Model(GPT2Config(use_cache=False)).eval()
        args = (torch.zeros(1, 128, dtype=torch.long),)
    torch.onnx.export(model, args, str({str(HERE)!r}) + f"/{{name}}.onnx", dynamo=True,
                      external_data=True)
"""
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        subprocess.run([sys.executable, "-c", code], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    return out


def netron_python() -> Path | None:
    python = NETRON_VENV / "bin" / "python"
    if not python.exists():
        subprocess.run([sys.executable, "-m", "venv", str(NETRON_VENV)], check=True)
        proc = subprocess.run([str(python), "-m", "pip", "install", "-q",
                               f"netron=={NETRON_VERSION}"], capture_output=True, text=True)
        if proc.returncode != 0:
            print(f"netron did not install: {proc.stderr.strip()[-300:]}", file=sys.stderr)
            return None
    return python


def run_cpu(cmd: list[str], env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds) of a command and the children it waited for (``dot``):
    on a machine shared with other jobs, CPU time is the steadier figure."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed: {proc.stderr.read().decode()[-500:]}")
    return wall, usage.ru_utime + usage.ru_stime


#: In one process: reading the model, making the page's data (views, DOT fragments), the
#: first view laid out by `dot`, and the document.
BREAKDOWN = """
import sys, time, json
t0 = time.perf_counter()
import netdraw
from netdraw.backends.html.model import page_model
from netdraw.backends.html.page import build_page
t1 = time.perf_counter()
graph = netdraw.load(sys.argv[1])
t2 = time.perf_counter()
model = page_model(graph, prelayout=False)
t3 = time.perf_counter()
from netdraw.backends.html.model import _first_drawing
from netdraw.passes.view import plan_view
svg = _first_drawing(plan_view(graph).view, "TB", None, True)
t4 = time.perf_counter()
build_page(model)
t5 = time.perf_counter()
print(json.dumps({"import": t1 - t0, "load": t2 - t1, "page data": t3 - t2,
                  "dot (first view)": t4 - t3, "document": t5 - t4}))
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def open_measured(browser, url: str, tool: str, ready: str,
                  allow: str) -> tuple[object, float]:
    """A fresh context at ``url``; (page, first paint ms after navigation start)."""
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    blocked: list[str] = []

    def route(r) -> None:
        if r.request.url.startswith(allow):
            r.continue_()
        else:
            blocked.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    if tool == "netron":  # its cookie-consent screen would wait for a click
        context.add_cookies([{"name": "consent", "value": str(int(time.time() * 1000)),
                              "url": url}])
    context.add_init_script(f"window.__drawn = {DRAWN[tool]};" + FIRST_PAINT)
    page = context.new_page()
    page.goto(url, timeout=300_000)
    # Read through the DOM: Netron replaces window.eval, which page.evaluate needs.
    page.locator("html[data-first-paint]").wait_for(state="attached", timeout=300_000)
    if ready:
        page.locator(ready).wait_for(state="attached", timeout=300_000)
    return page, float(page.locator("html").get_attribute("data-first-paint"))


def expand_times(page, count: int = 3) -> list[float]:
    """Open ``count`` blocks one after another; ms from the action to the painted frame."""
    out = []
    for _ in range(count):
        target = page.evaluate("""(() => { const v = window.netdraw.view.nodes;
            const r = v.find((x) => x.type === 'roll') || v.find((x) => x.type === 'group');
            return r ? r.id : null; })()""")
        if target is None:
            break
        out.append(page.evaluate(f"window.netdraw.expand({target!r})"))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--no-netron", action="store_true")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    models = make_models()
    netron = None if args.no_netron else netron_python()
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    rows = {}
    load_before = os.getloadavg()[0]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        for name, model in models.items():
            html = HERE / f"{name}.html"
            r = {"write": [], "cpu": [], "paint": [], "ready": [], "expand": [], "netron": [],
                 "parts": []}
            for _ in range(args.repeats):
                wall, cpu = run_cpu([sys.executable, "-m", "netdraw", "draw", str(model),
                                     "-o", str(html)], env)
                r["write"].append(wall)
                r["cpu"].append(cpu)
                parts = subprocess.run([sys.executable, "-c", BREAKDOWN, str(model)], env=env,
                                       capture_output=True, text=True, check=True).stdout
                r["parts"].append(json.loads(parts))
                page, paint = open_measured(browser, html.as_uri(), "netdraw",
                                            "body[data-graphviz='1']", "file:")
                r["paint"].append(paint)
                r["ready"].append(page.evaluate("window.netdraw.timings.warm"))
                r["expand"].extend(expand_times(page))
                page.context.close()
                if netron is not None:
                    port = free_port()
                    server = subprocess.Popen(
                        [str(netron), "-c", "import netron, sys; netron.start(sys.argv[1], "
                         "address=('127.0.0.1', int(sys.argv[2])), browse=False); netron.wait()",
                         str(model), str(port)], stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL)
                    try:
                        url = f"http://127.0.0.1:{port}/"
                        for _ in range(100):
                            try:
                                socket.create_connection(("127.0.0.1", port), 0.2).close()
                                break
                            except OSError:
                                time.sleep(0.1)
                        page, paint = open_measured(browser, url, "netron", "", url)
                        r["netron"].append(paint)
                        page.context.close()
                    finally:
                        server.terminate()
                        server.wait(30)
            r["size"] = html.stat().st_size
            rows[name] = r
        browser.close()
    load_after = os.getloadavg()[0]
    med = statistics.median
    print(f"Medians of {args.repeats} runs (expand: 3 blocks per run); load average "
          f"{load_before:.1f} before, {load_after:.1f} after.\n")
    print("| model | write .html: wall s (CPU s) | size (MB) | first paint (ms) "
          "| ready to expand (ms) | expand (ms) | Netron first paint (ms) |")
    print("|---|---|---|---|---|---|---|")
    for name, r in rows.items():
        netron_cell = f"{med(r['netron']):.0f}" if r["netron"] else "–"
        print(f"| {name} | {med(r['write']):.2f} ({med(r['cpu']):.2f}) | "
              f"{r['size'] / 1e6:.2f} | {med(r['paint']):.0f} | {med(r['ready']):.0f} | "
              f"{med(r['expand']):.0f} (max {max(r['expand']):.0f}) | {netron_cell} |")
    keys = list(next(iter(rows.values()))["parts"][0])
    print("\nWriting the page in one process, median wall seconds:\n")
    print("| model | " + " | ".join(keys) + " |")
    print("|---|" + "---|" * len(keys))
    for name, r in rows.items():
        cells = " | ".join(f"{med(p[k] for p in r['parts']):.2f}" for k in keys)
        print(f"| {name} | {cells} |")


if __name__ == "__main__":
    main()
