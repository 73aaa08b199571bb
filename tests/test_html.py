"""The interactive HTML preview: the page (in Chromium, with every network request blocked
and failing the test), ``netdraw serve`` and the Jupyter display.

Oracles: Python's own views (``view_at``) and DOT (``to_dot``) for the page's JavaScript,
Chromium's geometry for layouts, the IR's and hand-counted parameters for the panel, an
XML parser and a PNG decoder for exports, nbclient for the notebook.
"""

from __future__ import annotations

import base64
import json
import random
import re
import struct
import subprocess
import sys
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET
import zipfile
from concurrent.futures import ThreadPoolExecutor
from functools import cache
from hashlib import sha256
from html.parser import HTMLParser
from pathlib import Path

import onnx
import pytest
from conftest import ROOT, assert_one_line_error, cli_env, run_cli
from html_helpers import (
    SCRIPT_NAMES,
    PythonViews,
    ServerProcess,
    layouts,
    node_boxes,
    open_page,
    overlaps,
    page_state,
    script_name_graph,
    view_ids,
    wait_layouts,
    wait_until,
)
from onnx_models import hostile_names
from tikz_models import hostile_graph

import netdraw
from netdraw import zoo
from netdraw.backends import find_backend, styles
from netdraw.backends.html import assets
from netdraw.backends.html.model import image_uri, script_json
from netdraw.errors import NetdrawError
from netdraw.ir import Graph
from netdraw.passes.view import ViewOptions
from netdraw.zoo.onnx_models import lenet5, small_resnet


@cache
def zoo_graph(name: str) -> Graph:
    return zoo.load(name)


def write_page(folder: Path, name: str, graph: Graph, **options) -> Path:
    path = folder / f"{name}.html"
    path.write_text(netdraw.render(graph, "html", **options), encoding="utf-8")
    return path


def model_of(html_text: str) -> dict:
    match = re.search(r'<script type="application/json" id="nd-model">(.*?)</script>',
                      html_text, re.S)
    assert match
    return json.loads(match.group(1))


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("pages")


# -- the document, without a browser ----------------------------------------------------


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[tuple[dict, str]] = []
        self.styles: list[str] = []
        self._open: tuple[str, dict] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._open, self._text = (tag, dict(attrs)), []

    def handle_data(self, data):
        if self._open:
            self._text.append(data)

    def handle_endtag(self, tag):
        if self._open and tag == self._open[0]:
            text = "".join(self._text)
            if tag == "script":
                self.scripts.append((self._open[1], text))
            else:
                self.styles.append(text)
            self._open = None


def _hash(text: str) -> str:
    return "'sha256-" + base64.b64encode(sha256(text.encode()).digest()).decode() + "'"


def test_registry_render_and_styles() -> None:
    spec = find_backend("html")
    assert spec.own_views and "html" in spec.formats and "html" not in styles()
    page = netdraw.render(netdraw.load(lenet5()), "html")
    assert isinstance(page, str) and page.startswith("<!DOCTYPE html>")


def test_page_is_one_file_with_a_strict_csp() -> None:
    page = netdraw.render(netdraw.load(small_resnet()), "html")
    parsed = _Tags()
    parsed.feed(page)
    tags = [t for t, _ in parsed.tags]
    # Nothing is loaded from anywhere: no src, href, link, iframe, object, base.
    assert not [a for _, a in parsed.tags if "src" in a or "href" in a]
    assert not {"link", "iframe", "object", "embed", "base", "img"} & set(tags)
    metas = [a for t, a in parsed.tags if t == "meta" and a.get("http-equiv")]
    assert metas and metas[0]["http-equiv"] == "Content-Security-Policy"
    assert tags.index("meta") < tags.index("style") < tags.index("script")
    policy = dict(p.strip().split(" ", 1) for p in metas[0]["content"].split(";"))
    assert policy["default-src"] == "'none'" and policy["connect-src"] == "'none'"
    assert "unsafe-inline" not in metas[0]["content"] and "unsafe-eval'" not in \
        metas[0]["content"].replace("wasm-unsafe-eval'", "")
    executable = [text for attrs, text in parsed.scripts if attrs.get("type") == "module"]
    assert len(executable) == 2 and len(parsed.scripts) == 3
    assert policy["script-src"].split() == [_hash(t) for t in executable] + \
        ["'wasm-unsafe-eval'"]
    assert policy["style-src"].split() == [_hash(t) for t in parsed.styles]


def test_script_json_cannot_close_its_element() -> None:
    data = {"names": SCRIPT_NAMES, "x": "</SCRIPT ><!-- & \u2028"}
    text = script_json(data)
    assert "<" not in text and ">" not in text and "&" not in text
    assert "\u2028" not in text and json.loads(text) == data
    page = netdraw.render(script_name_graph(), "html")
    assert page.lower().count("</script") == 3  # the data, the app and the library
    assert model_of(page)["name"] == SCRIPT_NAMES[0]


def test_thumbnails_are_checked_images() -> None:
    png = _png(2, 3)
    assert image_uri(png).startswith("data:image/png;base64,")
    assert image_uri("data:image/png;base64," + base64.b64encode(png).decode()).endswith("=")
    for bad in (b"GIF89a", "javascript:alert(1)", "data:text/html;base64,PGI+",
                "data:image/png;base64,***", 42):
        with pytest.raises(NetdrawError):
            image_uri(bad)


def test_cli_writes_html(tmp_path: Path) -> None:
    out = tmp_path / "lenet.html"
    proc = run_cli("zoo:onnx-lenet5", "-o", str(out), "--depth", "1", check=True)
    assert proc.stderr == ""
    assert model_of(out.read_text())["state"]["depth"] == 1
    proc = run_cli("zoo:onnx-lenet5", "-o", "-", "--format", "html", check=True)
    assert proc.stdout.startswith("<!DOCTYPE html>")
    assert_one_line_error(run_cli("zoo:onnx-lenet5", "-o", str(tmp_path / "x.html"),
                                  "--expand", "nope"), "--expand 'nope'")
    assert not (tmp_path / "x.html").exists()


def test_missing_library_is_one_line(monkeypatch, tmp_path: Path, capsys) -> None:
    from netdraw.cli import main

    monkeypatch.setattr(assets, "graphviz_js_candidates", lambda: [tmp_path / "none.js"])
    assert main(["zoo:onnx-lenet5", "-o", str(tmp_path / "x.html")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "npm ci" in err[0] and err[0].startswith("netdraw: error:")
    assert not (tmp_path / "x.html").exists()
    assert netdraw.load(lenet5())._repr_html_() is None  # Jupyter falls back to the SVG
    with pytest.raises(NetdrawError, match="export clause"):
        assets.module_script("var x = 1;")
    with pytest.raises(NetdrawError, match="no Graphviz"):
        assets.module_script("var a=1;export{a as Other};")


def test_gallery_writes_html(tmp_path: Path) -> None:
    from netdraw.gallery import render_gallery

    lines = list(render_gallery(tmp_path, ["onnx-resnet"]))
    assert f"wrote {tmp_path / 'onnx-resnet.html'}" in lines
    assert model_of((tmp_path / "onnx-resnet.html").read_text())["name"] == "onnx-resnet"


def test_wheel_ships_the_library(tmp_path: Path) -> None:
    """A wheel built from the checkout carries the WebAssembly Graphviz and writes pages
    without node_modules."""
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    wheel = next(tmp_path.glob("netdraw-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "netdraw/templates/html/vendor/graphviz.js" in names
        assert {"netdraw/templates/html/app.js", "netdraw/templates/html/view.js",
                "netdraw/templates/html/page.html.j2"} <= names
        zf.extractall(tmp_path / "site")
    env = {k: v for k, v in cli_env().items() if k != "NETDRAW_GRAPHVIZ_JS"}
    env["PYTHONPATH"] = str(tmp_path / "site")
    code = ("import netdraw, netdraw.backends.html.assets as a, pathlib;"
            "from netdraw.zoo.onnx_models import lenet5;"
            "p = [c for c in a.graphviz_js_candidates() if c.is_file()][0];"
            "print(p); print(len(netdraw.render(netdraw.load(lenet5()), 'html')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr
    found, size = proc.stdout.split()
    assert found.startswith(str(tmp_path / "site")) and int(size) > 500_000


# -- every zoo model's page in Chromium ----------------------------------------------------


@pytest.mark.parametrize("name", list(zoo.ZOO))
def test_zoo_page_draws_the_default_view(browser, pages: Path, name: str) -> None:
    graph = zoo_graph(name)
    path = write_page(pages, name, graph)
    page, log = open_page(browser, path.as_uri())
    model = page.evaluate("window.netdraw.model")
    oracle = PythonViews(graph).bind(model)
    first = oracle.plan.view
    assert view_ids(page) == list(first.nodes)
    # The first view wraps into the columns the static drawing has.
    assert model["columns"] == first.meta["view"]["columns"]
    assert page.evaluate("window.netdraw.dot") == oracle.dot(page_state(page),
                                                             columns=model["columns"])
    assert page.locator("#nd-graph g.node[data-key]").count() == len(first)
    assert not overlaps(node_boxes(page))
    # The heaviest layer drawn: clicking it shows its parameter count in the panel.
    heavy = max((n for n in first if n.kind != "block"), key=lambda n: n.params)
    index = page.evaluate(f"window.netdraw.model.nodes.findIndex((n) => n.id === {heavy.id!r})")
    page.keyboard.press("f")
    page.locator(f'#nd-graph g.node[data-key="n{index}"]').click()
    panel = page.locator("#nd-panel").inner_text()
    assert heavy.name in panel and f"{heavy.params:,}" in panel
    log.assert_clean()
    page.context.close()


# -- opening, closing, search, the URL ----------------------------------------------------


def _dblclick_key(page, key: str) -> None:
    before = layouts(page)
    page.keyboard.press("f")
    page.locator(f'#nd-graph g.node[data-key="{key}"]').dblclick()
    wait_layouts(page, before + 1)


def _columns(page) -> int:
    """The columns the page wrapped its view into (1: none)."""
    return int(page.evaluate("window.netdraw.view.columns || 1"))


def _key_of(page, view_id: str) -> str:
    return page.evaluate(f"window.netdraw.view.nodes.find((v) => v.id === {view_id!r}).key")


def test_resnet50_expand_layer3_relays_out(browser, pages: Path) -> None:
    graph = zoo_graph("resnet50")
    path = write_page(pages, "resnet50-depth1", graph, depth=1)
    page, log = open_page(browser, path.as_uri())
    oracle = PythonViews(graph, ViewOptions(depth=1)).bind(page.evaluate("window.netdraw.model"))
    before = node_boxes(page)
    assert "block:layer3" in before and "roll:layer3/layer3.1" not in before
    _dblclick_key(page, _key_of(page, "block:layer3"))
    after = node_boxes(page)
    # layer3 opened one level: its first block and its run of five, laid out anew.
    assert "block:layer3" not in after
    assert {"block:layer3/layer3.0", "roll:layer3/layer3.1"} <= set(after)
    assert view_ids(page) == list(oracle.view(page_state(page)).nodes)
    assert page.evaluate("window.netdraw.dot") == oracle.dot(page_state(page),
                                                             columns=_columns(page))
    moved = [k for k in before if k in after and before[k][:2] != after[k][:2]]
    assert len(moved) >= 3, "the graph was not laid out again"
    assert not overlaps(after)
    page.keyboard.press("f")  # the whole drawing in the window: every box inside it
    after = node_boxes(page)
    svg_box = page.evaluate("(() => { const r = document.querySelector('#nd-graph svg')"
                            ".getBoundingClientRect(); return [r.x, r.y, r.width, r.height]; })()")
    for x, y, w, h in after.values():
        assert svg_box[0] - 1 <= x and x + w <= svg_box[0] + svg_box[2] + 1
        assert svg_box[1] - 1 <= y and y + h <= svg_box[1] + svg_box[3] + 1
    # The rolled run opens into its five blocks; one of them opens into its layers.
    _dblclick_key(page, _key_of(page, "roll:layer3/layer3.1"))
    ids = view_ids(page)
    assert [f"block:layer3/layer3.{i}" in ids for i in range(1, 6)] == [True] * 5
    _dblclick_key(page, _key_of(page, "block:layer3/layer3.2"))
    assert view_ids(page) == list(oracle.view(page_state(page)).nodes)
    layers = {n.name: n.id for n in oracle.plan.prepared}
    assert {layers["layer3.2.conv1"], layers["layer3.2.conv2"]} <= set(view_ids(page))
    # The fc layer: 2048 × 1000 weights + 1000 biases, counted by hand.
    page.keyboard.press("f")
    page.locator(f'#nd-graph g.node[data-key="{_key_of(page, layers["fc"])}"]').click()
    assert "2,049,000" in page.locator("#nd-panel").inner_text()
    # The URL fragment reopens the same view, selection included.
    url = page.url
    assert "#" in url and "open=" in url and "unroll=" in url
    again, log2 = open_page(browser, url)
    assert view_ids(again) == view_ids(page)
    assert again.evaluate("window.netdraw.dot") == page.evaluate("window.netdraw.dot")
    assert "2,049,000" in again.locator("#nd-panel").inner_text()
    log.assert_clean()
    log2.assert_clean()
    page.context.close()
    again.context.close()


def test_cluster_title_closes_the_group(browser, pages: Path) -> None:
    graph = zoo_graph("resnet50")
    path = write_page(pages, "resnet50", graph)
    page, log = open_page(browser, path.as_uri())
    oracle = PythonViews(graph).bind(page.evaluate("window.netdraw.model"))
    assert "block:layer3" not in view_ids(page)
    gi = page.evaluate("window.netdraw.model.groups.findIndex("
                       "(g) => g.path.join('/') === 'layer3')")
    before = layouts(page)
    page.keyboard.press("f")
    page.locator(f'#nd-graph g.cluster[data-group="{gi}"] > text').click()
    wait_layouts(page, before + 1)
    assert "block:layer3" in view_ids(page)
    assert page_state(page)["collapse"] == [gi]
    assert view_ids(page) == list(oracle.view(page_state(page)).nodes)
    assert "Open" in page.locator("#nd-panel").inner_text()
    # The panel lists the groups inside; one inside the rolled run is drawn on its own.
    before = layouts(page)
    page.locator("#nd-panel .nd-members button", has_text="layer3.3").click()
    wait_layouts(page, before + 1)
    assert "block:layer3/layer3.3" in view_ids(page)
    assert page.locator("#nd-graph g.node.nd-selected").count() == 1
    assert page.locator("#nd-panel .nd-name").inner_text() == "layer3.3"
    assert view_ids(page) == list(oracle.view(page_state(page)).nodes)
    log.assert_clean()
    page.context.close()


def test_search_opens_the_block_a_match_is_in(browser, pages: Path) -> None:
    graph = zoo_graph("resnet50")
    path = pages / "resnet50-depth1.html"
    if not path.exists():
        write_page(pages, "resnet50-depth1", graph, depth=1)
    page, log = open_page(browser, path.as_uri())
    target = next(n for n in PythonViews(graph).plan.prepared if n.name == "layer3.2.conv2")
    assert target.id not in view_ids(page)  # inside the closed layer3, inside a run
    page.keyboard.press("/")
    page.keyboard.type("layer3.2.conv2")
    assert "1 match" in page.locator("#nd-count").inner_text()
    before = layouts(page)
    page.keyboard.press("Enter")
    wait_layouts(page, before + 1)
    assert target.id in view_ids(page)
    assert page.locator("#nd-panel .nd-name").inner_text() == "layer3.2.conv2"
    assert page.locator("#nd-graph g.node.nd-selected.nd-match").count() == 1
    oracle = PythonViews(graph, ViewOptions(depth=1)).bind(page.evaluate("window.netdraw.model"))
    assert view_ids(page) == list(oracle.view(page_state(page)).nodes)
    # A class finds groups: ResNet-50 has 3 + 4 + 6 + 3 bottlenecks; a kind finds layers.
    page.locator("#nd-search").fill("Bottleneck")
    assert page.locator("#nd-count").inner_text() == "16 matches"
    page.locator("#nd-search").fill("global_pool")
    assert page.locator("#nd-count").inner_text() == "1 match"
    before = layouts(page)
    page.locator("#nd-search").press("Enter")
    assert page.locator("#nd-panel .nd-kind").inner_text().lower() == "global_pool"
    log.assert_clean()
    page.context.close()


def test_js_views_and_dot_equal_pythons(browser, pages: Path) -> None:
    """view.js against view_at/to_dot on random states (depth, open, closed, unrolled)."""
    rng = random.Random(12)
    for name in ("resnet50", "transformer", "onnx-inception", "mobilenetv2", "unet"):
        graph = zoo_graph(name)
        path = pages / f"{name}.html"
        if not path.exists():
            write_page(pages, name, graph)
        page, log = open_page(browser, path.as_uri(), wait_graphviz=False)
        model = page.evaluate("window.netdraw.model")
        oracle = PythonViews(graph).bind(model)
        groups = len(model["groups"])
        states = [{"depth": d, "roll": True, "expand": [], "collapse": [], "open": [],
                   "unroll": []} for d in range(model["full_depth"] + 1)]
        for _ in range(10):
            state = {"depth": rng.randrange(model["full_depth"] + 1), "roll": rng.random() < 0.8}
            for key in ("expand", "collapse", "open", "unroll"):
                k = min(rng.randrange(3), groups - 1)
                state[key] = sorted(rng.sample(range(1, groups), k)) if groups > 1 else []
            states.append(state)
        got = page.evaluate("""(states) => states.map((s) => { const V = window.netdraw.V;
            const st = {depth: s.depth, roll: s.roll, expand: new Set(s.expand),
              collapse: new Set(s.collapse), open: new Set(s.open), unroll: new Set(s.unroll)};
            const view = V.computeView(window.netdraw.model, st);
            return [view.nodes.map((v) => v.id),
                    [1, 2, 3, 5].map((k) => V.toDot(window.netdraw.model, view, k))]; })""",
                            states)
        for state, (ids, dots) in zip(states, got, strict=True):
            assert ids == list(oracle.view(state).nodes), (name, state)
            # Wrapped into k columns as the static drawing would be (to_dot, split).
            for k, dot in zip((1, 2, 3, 5), dots, strict=True):
                assert dot == oracle.dot(state, columns=k), (name, state, k)
        log.assert_clean()
        page.context.close()


def test_format_count_matches_python(browser, pages: Path) -> None:
    from netdraw.describe import format_count

    path = write_page(pages, "lenet", netdraw.load(lenet5()))
    page, log = open_page(browser, path.as_uri(), wait_graphviz=False)
    values = [0, 7, 999, 1000, 1049, 1050, 1250, 2500, 999_949, 999_950, 1_250_000,
              2_350_000, 25_557_032, 3_750_000_000, 1.25e12, 123_456_789_012]
    got = page.evaluate("(xs) => xs.map((x) => window.netdraw.V.formatCount(x))", values)
    assert got == [format_count(v) for v in values]
    log.assert_clean()
    page.context.close()


# -- untrusted names --------------------------------------------------------------------


def _nnsvg_hostile() -> Graph:
    from test_nnsvg import hostile

    return hostile()


HOSTILE_MODELS = {
    "script-names": script_name_graph,
    "onnx-hostile": lambda: netdraw.load(hostile_names()),
    "tikz-hostile": hostile_graph,
    "nnsvg-hostile": _nnsvg_hostile,
}


@pytest.mark.parametrize("name", list(HOSTILE_MODELS))
def test_hostile_names_display_as_text(browser, pages: Path, name: str) -> None:
    graph = HOSTILE_MODELS[name]()
    path = write_page(pages, name, graph, depth=100)
    page, log = open_page(browser, path.as_uri())
    texts = []
    for key in page.evaluate("window.netdraw.view.nodes.map((v) => v.key)")[:12]:
        page.keyboard.press("f")
        page.locator(f'#nd-graph g.node[data-key="{key}"]').click()
        texts.append(page.locator("#nd-panel").text_content())
    page.locator("#nd-search").fill(SCRIPT_NAMES[0])
    page.keyboard.press("Enter")
    page.keyboard.press("Escape")
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('script').length") == 3
    active = page.evaluate("""[...document.querySelectorAll('*')].flatMap((e) =>
        [...e.attributes].filter((a) => a.name.startsWith('on') || (/href|src|action/.test(a.name)
                                        && /^\\s*javascript:/i.test(a.value)))
                         .map((a) => e.tagName + ' ' + a.name))""")
    assert active == []
    shown = "\n".join(texts)
    for node in list(graph)[:12]:
        if node.kind not in ("input", "output"):
            clean = " ".join(node.name.split())
            assert clean[:40] in " ".join(shown.split()), node.name
    log.assert_clean()
    page.context.close()


def test_csp_blocks_network_and_inline_handlers(browser, pages: Path) -> None:
    path = write_page(pages, "csp", netdraw.load(lenet5()))
    page, log = open_page(browser, path.as_uri())
    page.evaluate("window.__violations = []; document.addEventListener('securitypolicyviolation',"
                  " (e) => window.__violations.push(e.violatedDirective))")
    fetched = page.evaluate("fetch('http://127.0.0.1:9/x').then(() => 'loaded', () => 'blocked')")
    assert fetched == "blocked"
    page.evaluate("document.body.insertAdjacentHTML('beforeend', "
                  "'<img id=\"inj\" src=\"data:,\" onerror=\"window.__pwned=1\">"
                  "<button id=\"b\" onclick=\"window.__pwned=2\">x</button>')")
    page.locator("#b").click(force=True)
    page.wait_for_timeout(200)
    assert page.evaluate("window.__pwned") is None
    violations = page.evaluate("window.__violations")
    assert "connect-src" in violations and any(v.startswith("script-src") for v in violations)
    assert log.requests == []  # blocked by the page itself, before any request was made
    page.context.close()


# -- export, thumbnails, extra rows ---------------------------------------------------------


def _png(width: int, height: int) -> bytes:
    import zlib

    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + \
            struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8,
                                                                2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def test_export_svg_png_thumbnail_and_extra_rows(browser, pages: Path) -> None:
    graph = netdraw.load(small_resnet())
    conv = next(n for n in graph if n.kind == "conv")
    path = write_page(pages, "extras", graph, full=True,
                      activations={conv.id: _png(7, 5)},
                      extra={conv.id: {"params": "12 → 24", "status": "<b>changed</b>"}},
                      extra_title="Change")
    page, log = open_page(browser, path.as_uri())
    key = _key_of(page, conv.id)
    page.keyboard.press("f")
    page.locator(f'#nd-graph g.node[data-key="{key}"]').click()
    panel = page.locator("#nd-panel")
    assert panel.locator("img.nd-thumb").evaluate("(i) => [i.complete, i.naturalWidth, "
                                                  "i.naturalHeight]") == [True, 7, 5]
    text = panel.inner_text()
    assert "CHANGE" in text.upper() and "12 → 24" in text and "<b>changed</b>" in text
    with page.expect_download() as download:
        page.locator("#nd-export-svg").click()
    root = ET.fromstring(Path(download.value.path()).read_bytes())
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = {t.text for t in root.iter("{http://www.w3.org/2000/svg}text")}
    assert {n.name.split(".")[-1] for n in graph if n.kind == "conv"} & labels
    assert not [e for e in root.iter() if any(a.startswith("on") for a in e.attrib)]
    with page.expect_download() as download:
        page.locator("#nd-export-png").click()
    data = Path(download.value.path()).read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    assert width > 200 and height > 200
    log.assert_clean()
    page.context.close()


def test_without_prelayout_the_page_lays_out_the_first_view(browser, pages: Path) -> None:
    graph = zoo_graph("transformer")
    path = write_page(pages, "transformer-wasm", graph, prelayout=False)
    assert model_of(path.read_text())["first_svg"] is None
    page, log = open_page(browser, path.as_uri())
    assert view_ids(page) == list(PythonViews(graph).plan.view.nodes)
    assert page.locator("#nd-graph g.node[data-key]").count() == \
        len(PythonViews(graph).plan.view)
    # Keys: zoom in shrinks the visible part of the drawing; fit shows all of it.
    width = page.evaluate("document.querySelector('#nd-graph svg').viewBox.baseVal.width")
    page.keyboard.press("+")
    assert page.evaluate("document.querySelector('#nd-graph svg').viewBox.baseVal.width") < width
    page.keyboard.press("f")
    box = page.evaluate("(() => { const s = document.querySelector('#nd-graph svg');"
                        "const v = s.viewBox.baseVal; const g = s.querySelector('g.graph')"
                        ".getBBox(); return [v.width, v.height, g.width, g.height]; })()")
    assert box[0] >= box[2] and box[1] >= box[3]
    log.assert_clean()
    page.context.close()


# -- netdraw serve ----------------------------------------------------------------------------


def _get(url: str, method: str = "GET", headers: dict | None = None,
         data: bytes | None = None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, method=method, headers=headers or {}, data=data)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def test_serve_reloads_survives_a_broken_model_and_stops_cleanly(browser,
                                                                 tmp_path: Path) -> None:
    model = tmp_path / "model.onnx"
    onnx.save(small_resnet(), model)
    server = ServerProcess([str(model)], tmp_path, cli_env())
    try:
        page, log = open_page(browser, server.url, allow_origin=server.url)
        first = page.evaluate("window.netdraw.model.nodes.length")
        # A changed model: the open page reloads with the new graph.
        onnx.save(lenet5(), model)
        wait_until(page, f"window.netdraw && window.netdraw.model.nodes.length !== {first}"
                   " && document.body.dataset.ready === '1'", 60)
        assert page.evaluate("window.netdraw.model.serve.version") == 2
        # A broken model: the page shows the error, the server keeps the last good graph.
        model.write_bytes(b"not a model")
        banner = page.locator("#nd-banner")
        banner.wait_for(state="visible", timeout=60_000)
        assert "failed to load" in banner.inner_text()
        status, body = _get(server.url + "status")
        info = json.loads(body)
        assert status == 200 and info["version"] == 2 and info["error"]
        status, body = _get(server.url)
        assert status == 200 and model_of(body.decode())["serve"]["version"] == 2
        # Fixed again: reloads, and the banner is gone.
        onnx.save(small_resnet(), model)
        wait_until(page, "window.netdraw && window.netdraw.model.serve.version === 3", 60)
        page.wait_for_selector("body[data-ready='1']")
        assert page.locator("#nd-banner").is_hidden()
        log.assert_clean()
        page.context.close()
        # 50 requests at once, all answered.
        with ThreadPoolExecutor(50) as pool:
            answers = list(pool.map(lambda _: _get(server.url)[0], range(50)))
        assert answers == [200] * 50
        # Only its own routes; no files, whatever the path says.
        for path in ("etc/passwd", "../../etc/passwd", "%2e%2e/%2e%2e/etc/passwd",
                     "..%2f..%2fetc%2fpasswd", "model.onnx", "//etc/passwd", "index.html"):
            status, body = _get(server.url + path)
            assert status == 404 and b"root:" not in body and b"onnx" not in body[:200]
        raw = subprocess.run(["curl", "-s", "--path-as-is", "-o", "/dev/null", "-w",
                              "%{http_code}", server.url + "../../etc/passwd"],
                             capture_output=True, text=True, timeout=30)
        assert raw.stdout in ("404", "400")
        assert _get(server.url, "POST", data=b"x=1")[0] == 405
        assert _get(server.url, headers={"Host": "attacker.example"})[0] == 421
        assert _get(server.url + "?" + "a" * 9000)[0] in (414, 431)
        assert _get(server.url, headers={"Content-Length": "5"}, data=None)[0] in (413, 400)
    finally:
        code = server.stop()
    assert code == 0, server.stderr
    assert "stopped" in "".join(server.stdout)
    assert "Traceback" not in "".join(server.stderr)


def test_serve_reloads_a_factory_module(browser, tmp_path: Path) -> None:
    source = tmp_path / "mymodels.py"
    source.write_text("from netdraw.zoo.onnx_models import small_resnet\n"
                      "def build():\n    return small_resnet()\n")
    server = ServerProcess(["mymodels:build"], tmp_path, cli_env())
    try:
        assert str(source) in "".join(server.stdout)
        page, log = open_page(browser, server.url, allow_origin=server.url)
        first = page.evaluate("window.netdraw.model.nodes.length")
        source.write_text("from netdraw.zoo.onnx_models import lenet5\n"
                          "def build():\n    return lenet5()\n")
        wait_until(page, f"window.netdraw && window.netdraw.model.nodes.length !== {first}", 60)
        source.write_text("def build(:\n")  # a syntax error
        page.locator("#nd-banner").wait_for(state="visible", timeout=60_000)
        assert "mymodels" in page.locator("#nd-banner").inner_text()
        log.assert_clean()
        page.context.close()
    finally:
        assert server.stop() == 0


def test_serve_cli_errors(tmp_path: Path) -> None:
    assert_one_line_error(run_cli("serve", str(tmp_path / "missing.onnx"), "--port", "0"),
                          "no such file")
    assert_one_line_error(run_cli("serve", "zoo:onnx-lenet5", "--port", "70000"), "--port")
    help_text = run_cli("serve", "--help", check=True).stdout
    for option in ("--port", "--host", "--open", "--depth", "--expand", "--input-shape"):
        assert option in help_text
