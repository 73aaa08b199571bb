"""A sample of the keras.applications corpus saved for real, compiled and opened in Chromium,
and the blocks of ConvNeXt and NASNet against Keras' own definitions of those models.

- ``model.save()`` to ``.keras`` and ``.h5`` with their weights (the rest of the corpus
  reads config-only archives): the totals and every layer's weights and output shape equal
  Keras'; ConvNeXt's ``LayerScale`` weights (6,624 on ConvNeXtTiny) are counted.
- TikZ figures through ``pdflatex``, the HTML page in Chromium (no console error).
- Every ConvNeXt size: its default view rolls each stage's blocks ``×N`` with Keras'
  ``MODEL_CONFIGS`` depths, and names them after the layers (``stage_2_block_0``…).
- NASNet: its cells are the default view's blocks, as many as Keras made.
"""

from __future__ import annotations

import re
import subprocess
import sys
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import keras  # noqa: E402
import keras_corpus as kc  # noqa: E402
import pytest  # noqa: E402
from conftest import require_tool  # noqa: E402
from html_helpers import open_page  # noqa: E402

import netdraw  # noqa: E402
from netdraw.latex import compile_pdf  # noqa: E402

pytestmark = pytest.mark.corpus

#: Saved for real: the smallest model, and ConvNeXt's custom LayerScale.
SAVED = ("MobileNetV3Small", "ConvNeXtTiny")
CONVNEXTS = [n for n in kc.applications() if n.startswith("ConvNeXt")]
NASNETS = [n for n in kc.applications() if n.startswith("NASNet") and n not in kc.UNBUILDABLE]


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> dict[str, tuple[keras.Model, Path, Path]]:
    folder = tmp_path_factory.mktemp("keras_saved")
    out = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name in SAVED:
            model = getattr(keras.applications, name)(weights=None)
            model.save(folder / f"{name}.keras")
            model.save(folder / f"{name}.h5")
            out[name] = (model, folder / f"{name}.keras", folder / f"{name}.h5")
    return out


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> kc.Corpus:
    return kc.Corpus(tmp_path_factory.mktemp("keras_sample"))


def keras_layers(model: keras.Model, prefix: str = "") -> dict[str, keras.layers.Layer]:
    """node id -> layer (nested models' layers as ``outer/inner``, no input layers)."""
    out = {}
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            out.update(keras_layers(layer, f"{prefix}{layer.name}/"))
        elif not (prefix and isinstance(layer, keras.layers.InputLayer)):
            out[prefix + layer.name] = layer
    return out


@pytest.mark.parametrize("suffix", [".keras", ".h5"])
@pytest.mark.parametrize("name", SAVED)
def test_saved_file_matches_keras(saved, name, suffix):
    model, keras_path, h5_path = saved[name]
    graph = netdraw.load(keras_path if suffix == ".keras" else h5_path)
    assert graph.total_params == model.count_params()
    assert "uncounted_params" not in graph.meta
    for nid, layer in keras_layers(model).items():
        node = graph.nodes[nid]
        assert node.params == layer.count_params(), nid
        assert node.outputs[0].shape == tuple(layer.output.shape), nid
    scales = [layer for layer in model.layers if type(layer).__name__ == "LayerScale"]
    if scales:  # what a config-only reader used to miss
        assert sum(graph.nodes[s.name].params for s in scales) == \
            sum(s.count_params() for s in scales) == 6_624


@pytest.mark.parametrize("name", CONVNEXTS)
def test_convnext_stages_roll_with_keras_depths(corpus, name):
    from keras.src.applications.convnext import MODEL_CONFIGS

    depths = MODEL_CONFIGS[name.removeprefix("ConvNeXt").lower()]["depths"]
    entry = corpus.get(name)
    prefix = entry.model.name
    for graph in (entry.live, entry.file):
        view = kc.default_view(graph)
        rolled = [n for n in view if n.attrs.get("repeat")]
        assert len(rolled) == len(depths)
        for stage, (run, depth) in enumerate(zip(rolled, depths, strict=True)):
            # The whole stage rolls, or its first block is drawn open and the rest roll.
            first_open = f"{prefix}_stage_{stage}_block_0_depthwise_conv" in \
                {n.name for n in view}
            assert run.attrs["repeat"] + first_open == depth
            assert run.name == f"stage_{stage}_block_{int(first_open)}–stage_{stage}_block_" \
                f"{depth - 1}"
        assert len(view) <= kc.MAX_NODES
        assert sum(n.params for n in view) == entry.model.count_params()
    corpus.entries.pop(name)


@pytest.mark.parametrize("name", NASNETS)
def test_nasnet_cells_are_the_blocks(corpus, name):
    entry = corpus.get(name)
    cells = {}
    for layer in entry.model.layers:  # each cell ends in its concatenation
        match = re.fullmatch(r"(normal|reduction)_concat_.*", layer.name)
        if match:
            cells[match.group(1)] = cells.get(match.group(1), 0) + 1
    view = kc.default_view(entry.file)
    drawn = {}
    for node in view:
        match = re.match(r"(normal|reduction)_concat_", node.name)
        if match:
            drawn[match.group(1)] = drawn.get(match.group(1), 0) + node.attrs.get("repeat", 1)
    assert drawn == cells
    assert any(node.attrs.get("repeat", 1) > 1 for node in view)
    assert len(view) <= kc.MAX_NODES


@pytest.mark.parametrize("name", ["ConvNeXtTiny", "NASNetLarge"])
def test_tikz_compiles_with_pdflatex(corpus, name, tmp_path):
    require_tool("pdflatex")
    entry = corpus.get(name)
    pdf = compile_pdf(netdraw.render(entry.file, "tex", style="tikz"))
    assert pdf.startswith(b"%PDF")
    path = tmp_path / f"{name}.pdf"
    path.write_bytes(pdf)
    text = subprocess.run([require_tool("pdftotext"), "-raw", str(path), "-"],
                          capture_output=True, check=True).stdout.decode()
    expected = "stage" if name.startswith("ConvNeXt") else "normal"
    assert expected in text.replace("_", " ") or expected in text, text[:300]


def test_html_page_in_chromium(corpus, browser, tmp_path):
    entry = corpus.get("ConvNeXtTiny")
    page_file = tmp_path / "convnext_tiny.html"
    page_file.write_text(netdraw.render(entry.file, "html"), encoding="utf-8")
    page, log = open_page(browser, page_file.as_uri())
    shown = page.evaluate("window.netdraw.view.nodes.length")
    page.context.close()
    log.assert_clean()
    assert 5 <= shown <= kc.MAX_NODES
