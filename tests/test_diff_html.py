"""``netdraw diff A B -o d.html``: the union's page, coloured by status in every view the
reader opens, each node's change in its side panel.

Oracles: Python's own decorated views (``view_at`` + ``decorate`` + ``to_dot``) for the
page's JavaScript on random states; the widths the models are built with and hand counts
of their parameters for the panel; Chromium for what is displayed and executed.
"""

from __future__ import annotations

import random
from pathlib import Path

from conftest import require_module, run_cli
from diff_models import HOSTILE, hostile_pair
from html_helpers import (
    PythonViews,
    layouts,
    open_page,
    view_ids,
    wait_layouts,
)

import netdraw
from netdraw.backends.dot import to_dot
from netdraw.diff.draw import default_title, union_view
from netdraw.diff.view import decorate
from netdraw.ir import Graph

torch = require_module("torch")
from netdraw.zoo import torch_models as tm  # noqa: E402


def mlp(sizes: tuple[int, ...]) -> Graph:
    return netdraw.load(tm._build(tm.MLP, sizes), example_input=(torch.zeros(1, 1, 28, 28),),
                        name="mlp-" + "-".join(map(str, sizes)))


def resnet(layers: tuple[int, ...], name: str) -> tuple[torch.nn.Module, Graph]:
    module = tm._build(tm.ResNet, tm.BasicBlock, layers)
    return module, netdraw.load(module, example_input=(torch.zeros(1, 3, 64, 64),), name=name)


def _panel_of(page, view_id: str) -> str:
    key = page.evaluate(f"window.netdraw.view.nodes.find((v) => v.id === {view_id!r}).key")
    page.keyboard.press("f")
    page.locator(f'#nd-graph g.node[data-key="{key}"]').click()
    return " ".join(page.locator("#nd-panel").inner_text().split())


def test_widened_layer_page_draws_pythons_view_and_shows_the_change(browser, tmp_path):
    a, b = mlp((784, 256, 128, 10)), mlp((784, 512, 128, 10))
    result = netdraw.diff(a, b)
    path = tmp_path / "d.html"
    path.write_text(result.render("html"), encoding="utf-8")
    page, log = open_page(browser, path.as_uri())
    first = union_view(result)
    assert view_ids(page) == list(first.nodes)
    assert page.evaluate("window.netdraw.dot") == to_dot(first, title=default_title(result),
                                                         columns=1)
    # The drawn boxes carry the diff colours: the widened layer amber, the next pale amber.
    fills = page.evaluate("""Object.fromEntries(window.netdraw.view.nodes.map((v) => [v.id,
        document.querySelector(`#nd-graph g.node[data-key="${v.key}"] path, `
          + `#nd-graph g.node[data-key="${v.key}"] polygon`).getAttribute('fill')]))""")
    assert fills["layers.1"] == "#ffd27a" and fills["layers.4"] == "#fff4d6"
    assert fills["layers.7"] == "#f2f2f2"
    # Linear(784, 256) -> Linear(784, 512): 200,960 -> 401,920 parameters (784·n + n).
    panel = _panel_of(page, "layers.1")
    assert "what changed" in panel.lower() and "units 256 → 512" in panel
    assert "200,960 → 401,920" in panel and "changed" in panel
    panel = _panel_of(page, "layers.4")  # Linear(256 or 512, 128): only its input grew
    assert "in_features 256 → 512" in panel and "32,896 → 65,664" in panel
    assert "reshaped" in panel
    log.assert_clean()
    page.context.close()


def test_blocks_opened_in_the_browser_are_coloured_as_python_colours_them(browser, tmp_path):
    """ResNet (1, 1, 1, 1) against (2, 2, 1, 1): whole blocks added in layer1 and layer2;
    random states of the page (depth, open, closed, unrolled) against Python's decorated
    view of the same state."""
    _, small = resnet((1, 1, 1, 1), "small")
    deeper_module, deeper = resnet((2, 2, 1, 1), "deeper")
    result = netdraw.diff(small, deeper)
    path = tmp_path / "resnets.html"
    path.write_text(result.render("html", depth=1), encoding="utf-8")
    page, log = open_page(browser, path.as_uri())
    model = page.evaluate("window.netdraw.model")
    oracle = PythonViews(result.union).bind(model)
    title = default_title(result)
    rng = random.Random(14)
    groups = len(model["groups"])
    states = [{"depth": d, "roll": True, "expand": [], "collapse": [], "open": [],
               "unroll": []} for d in range(model["full_depth"] + 1)]
    for _ in range(12):
        state = {"depth": rng.randrange(model["full_depth"] + 1), "roll": rng.random() < 0.8}
        for key in ("expand", "collapse", "open", "unroll"):
            k = min(rng.randrange(3), groups - 1)
            state[key] = sorted(rng.sample(range(1, groups), k))
        states.append(state)
    got = page.evaluate("""(states) => states.map((s) => { const V = window.netdraw.V;
        const st = {depth: s.depth, roll: s.roll, expand: new Set(s.expand),
          collapse: new Set(s.collapse), open: new Set(s.open), unroll: new Set(s.unroll)};
        const view = V.computeView(window.netdraw.model, st);
        return [view.nodes.map((v) => v.id), V.toDot(window.netdraw.model, view)]; })""",
                        states)
    statuses = set()
    for state, (ids, dot) in zip(states, got, strict=True):
        view = decorate(oracle.view(state), result)
        assert ids == list(view.nodes), state
        assert dot == to_dot(view, title=title, columns=1), state
        statuses |= {(n.attrs.get("diff") or {}).get("status") for n in view}
    assert {"added", "changed"} <= statuses  # the states drew blocks of both kinds

    # Open layer1 by double-click: its added block is green and its panel says so.
    before = layouts(page)
    page.keyboard.press("f")
    key = page.evaluate("window.netdraw.view.nodes.find((v) => v.id === 'block:layer1').key")
    page.locator(f'#nd-graph g.node[data-key="{key}"]').dblclick()
    wait_layouts(page, before + 1)
    ids = view_ids(page)
    assert "block:layer1/layer1.1" in ids and "block:layer1" not in ids
    fill = page.evaluate("""document.querySelector(`#nd-graph g.node[data-key="${window.netdraw
        .view.nodes.find((v) => v.id === 'block:layer1/layer1.1').key}"] path`)
        .getAttribute('fill')""")
    assert fill == "#d9f0d3"  # added: green
    panel = _panel_of(page, "block:layer1/layer1.1")
    assert "added (only in B)" in panel
    # The added block's parameters, as torch counts them.
    params = sum(p.numel() for p in deeper_module.layer1[1].parameters())
    assert f"0 → {params:,}" in panel
    log.assert_clean()
    page.context.close()


def test_hostile_names_in_a_diff_page_stay_text(browser, tmp_path: Path):
    a, b = hostile_pair()
    out = tmp_path / "hostile.html"
    a_file, b_file = tmp_path / "a.json", tmp_path / "b.json"
    a_file.write_text(a.to_json(), encoding="utf-8")
    b_file.write_text(b.to_json(), encoding="utf-8")
    run_cli("diff", str(a_file), str(b_file), "-o", str(out), "--full", check=True)
    page, log = open_page(browser, out.as_uri())
    texts = []
    for key in page.evaluate("window.netdraw.view.nodes.map((v) => v.key)"):
        page.keyboard.press("f")
        page.locator(f'#nd-graph g.node[data-key="{key}"]').click()
        texts.append(page.locator("#nd-panel").text_content())
        texts.append(page.locator("#nd-panel").inner_text())
    assert page.evaluate("window.__pwned") is None
    assert page.evaluate("document.querySelectorAll('script').length") == 3
    shown = " ".join(" ".join(texts).split())
    clean = " ".join(HOSTILE.split())
    for suffix in ("fc", "gone", "extra"):
        assert (clean + suffix)[:40] in shown
    assert "units 16 → 32" in shown  # the widened layer's change, as text
    assert "removed (only in A)" in shown and "added (only in B)" in shown
    log.assert_clean()
    page.context.close()
