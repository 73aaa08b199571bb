"""Helpers for the HTML preview tests: Chromium with the network blocked, page models, and
Python's own views of a page's state (the oracle for the page's JavaScript)."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from netdraw.ir import Graph, Node, TensorSpec
from netdraw.passes.collapse import view_at
from netdraw.passes.view import ViewOptions, plan_view

#: Names that would run code if any of them reached the page as markup.
SCRIPT_NAMES = [
    "</script><script>alert(1);window.__pwned=1</script>",
    '<img src=x onerror="alert(2);window.__pwned=2">',
    '"><svg onload=alert(3)>',
    "<!--",
    "javascript:alert(4)",
    "\u2028\u2029${alert(5)}`",
    "</style><style>*{display:none}</style>",
]


@dataclass
class PageLog:
    """What a page did that a test forbids: console errors, page errors, dialogs, requests
    to anything but its own file (or the allowed origin)."""

    errors: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    dialogs: list[str] = field(default_factory=list)

    def assert_clean(self) -> None:
        assert not self.errors, self.errors
        assert not self.requests, self.requests
        assert not self.dialogs, self.dialogs


def open_page(browser, url: str, *, allow_origin: str | None = None,
              viewport: tuple[int, int] = (1280, 820), wait_graphviz: bool = True):
    """A new page at ``url`` with every network request blocked (and recorded: a test fails
    on any), waiting until the first view is painted and Graphviz is ready."""
    context = browser.new_context(viewport={"width": viewport[0], "height": viewport[1]},
                                  accept_downloads=True)
    page = context.new_page()
    log = PageLog()
    own = url.split("#")[0]

    def allowed(request_url: str) -> bool:
        if request_url.split("#")[0] == own or request_url.startswith(("data:", "blob:")):
            return True
        return allow_origin is not None and request_url.startswith(allow_origin)

    def on_request(request) -> None:
        if not allowed(request.url):
            log.requests.append(request.url)

    def route(r) -> None:
        if allowed(r.request.url):
            r.continue_()
        else:
            log.requests.append(r.request.url)
            r.abort()

    context.route("**/*", route)
    page.on("request", on_request)
    page.on("console", lambda m: log.errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: log.errors.append(str(e)))

    def on_dialog(dialog) -> None:
        log.dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", on_dialog)
    page.goto(url)
    page.wait_for_selector("body[data-ready='1']", timeout=60_000)
    if wait_graphviz:
        page.wait_for_selector("body[data-graphviz='1']", timeout=60_000)
    return page, log


def wait_until(page, expression: str, timeout: float = 30.0) -> None:
    """Poll a JavaScript expression until it is true. (Playwright's wait_for_function
    evaluates its predicate with eval, which the page's CSP rightly forbids.)"""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if page.evaluate(expression):
                return
        except Exception as exc:  # a page reloading in between: try again
            if "Execution context was destroyed" not in str(exc) and \
                    "navigat" not in str(exc).lower():
                raise
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {expression}")
        time.sleep(0.1)


def wait_layouts(page, count: int) -> None:
    wait_until(page, f"Number(document.body.dataset.layouts) >= {count}")


def layouts(page) -> int:
    return int(page.evaluate("Number(document.body.dataset.layouts)"))


def page_state(page) -> dict[str, Any]:
    """The page's view state with group indices as sorted lists."""
    return page.evaluate("""(() => { const s = window.netdraw.state;
      const l = (x) => [...x].sort((a, b) => a - b);
      return {depth: s.depth, roll: s.roll, expand: l(s.expand), collapse: l(s.collapse),
              open: l(s.open), unroll: l(s.unroll)}; })()""")


def view_ids(page) -> list[str]:
    return page.evaluate("window.netdraw.view.nodes.map((v) => v.id)")


def node_boxes(page) -> dict[str, tuple[float, float, float, float]]:
    """Screen boxes of every drawn node's shape, by view id."""
    return page.evaluate("""(() => { const out = {}; const view = window.netdraw.view;
      for (const g of document.querySelectorAll('#nd-graph g.node[data-key]')) {
        const shape = g.querySelector('polygon, path, ellipse');
        const r = shape.getBoundingClientRect();
        out[view.byKey.get(g.dataset.key).id] = [r.x, r.y, r.width, r.height]; }
      return out; })()""")


def overlaps(boxes: dict[str, tuple[float, float, float, float]]) -> list[tuple[str, str]]:
    items = list(boxes.items())
    out = []
    for i, (a, (ax, ay, aw, ah)) in enumerate(items):
        for b, (bx, by, bw, bh) in items[i + 1:]:
            if ax + 1 < bx + bw and bx + 1 < ax + aw and ay + 1 < by + bh and by + 1 < ay + ah:
                out.append((a, b))
    return out


class PythonViews:
    """Python's view of a page state, made by :func:`view_at` and drawn by ``to_dot``."""

    def __init__(self, graph: Graph, options: ViewOptions | None = None) -> None:
        self.plan = plan_view(graph, options or ViewOptions())
        self.paths: list[tuple[str, ...]] | None = None

    def bind(self, model: dict[str, Any]) -> PythonViews:
        self.paths = [tuple(g["path"]) for g in model["groups"]]
        return self

    def view(self, state: dict[str, Any]) -> Graph:
        assert self.paths is not None
        paths = self.paths

        def sel(key: str) -> set:
            return {paths[i] for i in state.get(key, [])}

        return view_at(self.plan.index, state["depth"], sel("expand"), sel("collapse"),
                       state["roll"], sel("open"), sel("unroll"))

    def dot(self, state: dict[str, Any], columns: int = 1, **options: Any) -> str:
        from netdraw.backends.dot import to_dot

        return to_dot(self.view(state), columns=columns, **options)


def script_name_graph() -> Graph:
    """A graph whose names, groups, op types, attributes, dtypes and folded layers are all
    markup or script."""
    names = SCRIPT_NAMES
    g = Graph(names[0])
    g.meta["class_name"] = names[1]
    g.add_node(Node("in", names[2], "input", names[3], outputs=[TensorSpec((1, 8), names[4])]))
    prev = "in"
    for i, name in enumerate(names):
        group = (names[i % 3], names[(i + 1) % len(names)])
        folded = [{"id": f"f{i}", "name": name, "kind": "activation", "op_type": names[-1],
                   "params": 0, "attrs": {name: name}}]
        node = Node(f"n{i}", name, "dense" if i % 2 else "conv", names[(i + 2) % len(names)],
                    attrs={"units": 8, name: [name, 1], "folded": folded, "pattern": name},
                    params=10 * (i + 1), inputs=[TensorSpec((1, 8), names[5])],
                    outputs=[TensorSpec((1, 8), names[5])], group=group)
        g.add_node(node)
        g.add_edge(prev, node.id, TensorSpec((1, 8), name))
        prev = node.id
    g.add_node(Node("out", names[6], "output", names[0]))
    g.add_edge(prev, "out", TensorSpec((1, 8)))
    for i in range(len(names)):
        g.add_group((names[i % 3],), class_name=names[(i + 4) % len(names)], label=names[i])
    g.validate()
    return g


class ServerProcess:
    """``netdraw serve`` in a subprocess: its URL, its output, and a clean stop."""

    def __init__(self, args: list[str], cwd: Path, env: dict[str, str]) -> None:
        import subprocess
        import sys

        self.proc = subprocess.Popen([sys.executable, "-m", "netdraw", "serve", *args,
                                      "--port", "0"], cwd=cwd, env=env, text=True,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        ready = threading.Event()

        def read(stream, into, signal: bool) -> None:
            for line in stream:
                into.append(line)
                if signal and "serving" in line:
                    ready.set()
            ready.set()

        threading.Thread(target=read, args=(self.proc.stdout, self.stdout, True),
                         daemon=True).start()
        threading.Thread(target=read, args=(self.proc.stderr, self.stderr, False),
                         daemon=True).start()
        ready.wait(180)
        line = next((x for x in self.stdout if "serving" in x), "")
        assert "http://" in line, (self.stdout, self.stderr)
        self.url = line[line.index("http://"):].split()[0]

    def stop(self) -> int:
        import signal

        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        return self.proc.wait(120)  # a clean exit, not a quick one: CI machines are loaded
