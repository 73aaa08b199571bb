"""``netdraw gallery`` writes ``index.html``: every model in every style, thumbnails linking
to the full files, no script, nothing fetched from outside the folder.

Checked by Python's HTML parser (every link and image points at a file in the folder) and by
Chromium (the page loads from disk with no console error and no request leaving the folder,
and every thumbnail decodes).
"""

from __future__ import annotations

import html.parser
from pathlib import Path

import pytest
from conftest import CHROMIUM_ARGS, cli_env, require_module, run_cli

from netdraw.gallery import STYLES

NAMES = ["onnx-lenet5", "onnx-inception"]


class Links(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.hrefs: list[str] = []
        self.images: list[tuple[str, str]] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.tags.add(tag)
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.hrefs.append(attrs["href"])
        if tag == "img":
            self.images.append((attrs["src"], attrs.get("alt", "")))


@pytest.fixture(scope="module")
def gallery(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("gallery")
    env = cli_env()
    env["NETDRAW_CONFIG"] = ""
    proc = run_cli("gallery", "-o", str(folder / "g"), *NAMES, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[-1] == f"wrote {folder / 'g' / 'index.html'}"
    return folder / "g"


def test_index_shows_every_model_in_every_style(gallery):
    page = Links()
    page.feed((gallery / "index.html").read_text(encoding="utf-8"))
    assert "script" not in page.tags and "link" not in page.tags
    thumbs = {src for src, _ in page.images}
    for name in NAMES:
        for style in STYLES:
            files = style.paths(name)
            assert files[0] in thumbs, (name, style.name)
            for file in files:
                assert file in page.hrefs and (gallery / file).is_file(), file
    for target in [*page.hrefs, *thumbs]:
        if not target.startswith("#"):
            assert "/" not in target and (gallery / target).is_file(), target
    alts = {alt for _, alt in page.images}
    assert "onnx-inception, TikZ (PlotNeuralNet look)" in alts
    # Named here, not taken from STYLES: each model's interactive preview is linked, and a
    # page is never shown as a picture (an <img> of an .html file is a broken image).
    assert all(f"{name}.html" in page.hrefs for name in NAMES)
    assert not any(src.endswith(".html") for src in thumbs)


def test_index_loads_offline_in_chromium(gallery):
    require_module("playwright")
    from playwright.sync_api import sync_playwright

    errors, outside = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("request", lambda r: None if r.url.startswith(gallery.as_uri())
                else outside.append(r.url))
        page.goto((gallery / "index.html").as_uri())
        page.wait_for_load_state("load")
        for img in page.query_selector_all("img"):
            img.scroll_into_view_if_needed()
        page.wait_for_timeout(300)
        page.wait_for_function("[...document.images].every(i => i.complete)")
        broken = page.eval_on_selector_all(
            "img", "els => els.filter(e => !(e.naturalWidth > 0)).map(e => e.src)")
        count = page.eval_on_selector_all("img", "els => els.length")
        browser.close()
    assert not errors and not outside, (errors, outside)
    assert count == len(NAMES) * len(STYLES) and broken == [], broken


def test_index_is_rewritten_for_a_partial_run(gallery):
    env = cli_env()
    env["NETDRAW_CONFIG"] = ""
    proc = run_cli("gallery", "-o", str(gallery), "onnx-lenet5", env=env)
    assert proc.returncode == 0, proc.stderr
    text = (gallery / "index.html").read_text(encoding="utf-8")
    assert 'id="onnx-inception"' in text  # files already in the folder stay on the page


# -- weight -------------------------------------------------------------------------------


def test_committed_gallery_is_under_10_mb():
    """The HTML pages share one copy of their scripts and the diagrams are palette PNGs:
    the folder the repository carries stays small (it was 25 MB, 15 of them the layout
    engine once per page)."""
    from conftest import ROOT

    folder = ROOT / "gallery"
    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    assert total < 10_000_000, total
    engines = [p for p in folder.rglob("*.js") if p.stat().st_size > 500_000]
    assert len(engines) == 1, engines
    pages = list(folder.glob("*.html"))
    assert pages and all(p.stat().st_size < 500_000 for p in pages if p.name != "index.html")


def test_gallery_diagram_pngs_look_the_same(gallery):
    """The palette PNG against the drawing as Graphviz and pdftoppm wrote it, decoded by
    Pillow: the same size, a mean difference under 2/255 per channel."""
    import io

    import numpy as np

    require_module("PIL")
    from PIL import Image

    import netdraw
    from netdraw.gallery import _diagram

    graph = netdraw.load("zoo:onnx-inception")
    for data in (netdraw.render(graph, "png"), netdraw.render(graph, "png", style="tikz")):
        small = _diagram(data)
        assert len(small) < len(data) * 0.7
        a = Image.open(io.BytesIO(data))
        b = Image.open(io.BytesIO(small)).convert(a.mode)
        assert a.size == b.size
        error = np.abs(np.asarray(a, dtype=int) - np.asarray(b, dtype=int))
        assert error.mean() < 2 and np.percentile(error, 99.9) < 40, (error.mean(),
                                                                      error.max())
