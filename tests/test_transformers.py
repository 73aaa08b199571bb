"""Real transformer and diffusion architectures from Hugging Face configs (random init, no
download): GPT-2, BERT, LLaMA, T5, ViT from ONNX (dynamo and legacy exporters) and live
PyTorch, and a Stable-Diffusion-layout UNet traced live. Each export is made once per test
session (a session fixture with a temporary folder).

Oracles: the configs (number of layers, which modules exist), torch's own parameter count,
ONNX's exporter names, and Graphviz ``dot``'s real layout of the chosen view.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import dot_layout, require_module, run_cli

os.environ.setdefault("HF_HUB_OFFLINE", "1")
require_module("transformers")
require_module("diffusers")
require_module("onnxscript")


import netdraw  # noqa: E402
from netdraw.backends.dot import to_dot  # noqa: E402
from netdraw.passes import make_view  # noqa: E402
from netdraw.zoo import hf_models  # noqa: E402

#: model -> (layers per stack, stacks): GPT-2 6 blocks, BERT 4, LLaMA 4, T5 3 + 3, ViT 4.
LAYERS = {"gpt2": (6, 1), "bert": (4, 1), "llama": (4, 1), "t5": (3, 2), "vit": (4, 1)}
SOURCES = ("dynamo", "legacy", "live")


class Models:
    """Builds each model, export and import at most once per session."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.graphs: dict[tuple[str, str], netdraw.Graph] = {}
        self.modules: dict[str, object] = {}

    def module(self, name: str):
        if name not in self.modules:
            self.modules[name] = hf_models.MODELS[name].factory()
        return self.modules[name]

    def onnx_path(self, name: str, source: str) -> Path:
        path = self.folder / f"{name}.{source}.onnx"
        if not path.exists():
            hf_models.export_onnx(name, path, dynamo=source == "dynamo")
        return path

    def graph(self, name: str, source: str) -> netdraw.Graph:
        key = (name, source)
        if key not in self.graphs:
            if source == "live":
                spec = hf_models.MODELS[name]
                self.graphs[key] = netdraw.load(self.module(name),
                                                example_input=spec.example_input(), name=name)
            else:
                self.graphs[key] = netdraw.load(self.onnx_path(name, source))
        return self.graphs[key]


@pytest.fixture(scope="session")
def models(tmp_path_factory: pytest.TempPathFactory) -> Models:
    return Models(tmp_path_factory.mktemp("hf-models"))


def _dot_aspect(view: netdraw.Graph) -> float:
    svg = dot_layout(to_dot(view)).decode()
    width, height = (float(v) for v in re.search(
        r'<svg width="([\d.]+)pt" height="([\d.]+)pt"', svg).groups())
    return max(width, height) / min(width, height)


@pytest.mark.parametrize("source", SOURCES)
@pytest.mark.parametrize("name", list(LAYERS))
def test_default_view_reads_like_the_paper(models: Models, name: str, source: str) -> None:
    """Under 40 nodes, one block drawn open and the rest rolled ×N, and it fits a page as
    dot really lays it out."""
    graph = models.graph(name, source)
    view = make_view(graph)
    info = view.meta["view"]
    layers, stacks = LAYERS[name]
    assert 5 <= len(view) <= 40, info
    rolled = [n for n in view if n.attrs.get("repeat")]
    assert len(rolled) == stacks, [n.name for n in rolled]
    shown = {n.name for n in view} | {g.display_name for g in view.groups.values()}
    for run in rolled:
        # Each stack's blocks roll; where the first one is not in the run it is drawn on
        # its own, open (its layers show once, GPT2Block ×5 after h.0) or as one block
        # (T5's first block, which holds the relative position bias).
        assert run.attrs["repeat"] in (layers - 1, layers), (run.name, run.attrs["repeat"])
        if run.attrs["repeat"] == layers - 1:
            first = re.sub(r"\d+$", "0", run.attrs["members"][0])
            assert first in shown, (first, sorted(shown))
    assert _dot_aspect(view) <= 4.5, info
    assert view.total_params == graph.total_params  # no parameter lost on the way


def test_live_parameters_match_torch(models: Models) -> None:
    for name in LAYERS:
        module = models.module(name)
        expected = sum(p.numel() for p in module.parameters())
        assert models.graph(name, "live").total_params == expected, name


def test_onnx_ops_are_named_by_scope_and_op(models: Models) -> None:
    """``node_MatMul_82`` becomes ``…attention.self.matmul``; the raw name stays in attrs and
    JSON; boxes drop the prefix their cluster already shows."""
    graph = models.graph("bert", "dynamo")
    names = {n.name for n in graph}
    prefix = "model.encoder.layer.0.attention.self."
    for op in ("matmul", "softmax", "sdpa"):
        assert prefix + op in names, sorted(n for n in names if n.startswith(prefix))
    assert not [n for n in names if n.startswith(("node_", "/"))]
    sdpa = next(n for n in graph if n.name == prefix + "sdpa")
    assert sdpa.attrs["onnx_name"] == "node_scaled_dot_product_attention"
    data = json.loads(graph.to_json())
    raw = {n["attrs"].get("onnx_name") for n in data["nodes"]}
    assert "node_scaled_dot_product_attention" in raw
    view = make_view(graph, netdraw.passes.ViewOptions(
        expand=("model.encoder.layer.0.attention.self",)))
    dot = to_dot(view)
    assert "<b>sdpa</b>" in dot and "node_scaled_dot_product_attention" in dot  # tooltip
    legacy = models.graph("bert", "legacy")
    assert prefix + "softmax" in {n.name for n in legacy}


def test_legacy_export_output_is_named_output(models: Models) -> None:
    graph = models.graph("gpt2", "legacy")
    (out,) = [graph.nodes[o] for o in graph.outputs]
    assert out.name == "output" and out.attrs["onnx_name"].isdigit()
    (inp,) = [graph.nodes[i] for i in graph.inputs]
    assert not inp.name.startswith("onnx::")


def test_llama_and_t5_modules_show(models: Models) -> None:
    """LLaMA's RMSNorm, rotary embedding and SwiGLU MLP; T5's cross-attention."""
    llama = models.graph("llama", "live")
    classes = {g.class_name for g in llama.groups.values()} | {n.op_type for n in llama}
    assert {"LlamaRMSNorm", "LlamaMLP", "LlamaAttention"} <= classes, sorted(classes)
    # Rotary embeddings: cos/sin applied to queries and keys (rotate_half's neg and cat).
    attention = [n.op_type for n in llama if n.name.startswith("model.model.layers.0.self_attn")]
    assert {"neg", "cat"} <= set(attention), attention
    mlp = [n for n in llama if n.name.startswith("model.model.layers.0.mlp")]
    assert {n.name.rsplit(".", 1)[-1] for n in mlp} >= {"gate_proj", "up_proj", "down_proj"}
    t5 = make_view(models.graph("t5", "dynamo"),
                   netdraw.passes.ViewOptions(expand=("model.decoder.block.0",)))
    assert any("EncDecAttention" in n.name for n in t5), sorted(n.name for n in t5)


def test_diffusion_unet_default_view_is_its_u(models: Models) -> None:
    """The wrapper module does not count as a depth level, the U with its skips fits
    (judged as dot lays it out), and the view is far from a single block."""
    graph = models.graph("sd_unet", "live")
    view = make_view(graph)
    names = {n.name for n in view}
    assert 10 <= len(view) <= 40, view.meta["view"]
    assert {"unet.down_blocks.0", "unet.mid_block", "unet.up_blocks.3"} <= names | {
        g.display_name for g in view.groups.values()}, names
    skips = [e for e in view.edges if "down_blocks" in view.nodes[e.src].name
             and "up_blocks" in view.nodes[e.dst].name]
    assert skips, "the skip tensors from the down to the up blocks are drawn"
    real = _dot_aspect(view)
    assert real <= 4.0
    estimate = view.meta["view"]["aspect"]
    assert 0.6 < estimate / real < 1.6, (estimate, real)


def test_summary_takes_model_options_for_a_factory() -> None:
    proc = run_cli("summary", "netdraw.zoo.hf_models:gpt2", "--input-shape", "1,16",
                   "--input-dtype", "int64", "--markdown")
    assert proc.returncode == 0, proc.stderr
    module = hf_models.gpt2()
    total = f"{sum(p.numel() for p in module.parameters()):,}"
    assert total in proc.stdout, proc.stdout[-500:]
    assert "GPT2Block ×5" in proc.stdout


def test_gallery_script_writes_graphviz_and_tikz(tmp_path: Path) -> None:
    from netdraw.gallery import render_transformer_gallery

    lines = list(render_transformer_gallery(tmp_path, ["vit"]))
    assert (tmp_path / "vit.png").stat().st_size > 1000
    assert (tmp_path / "vit.tikz.png").stat().st_size > 1000
    text = subprocess.run(["pdftotext", str(tmp_path / "vit.pdf"), "-"], capture_output=True,
                          text=True).stdout if (tmp_path / "vit.pdf").exists() else ""
    assert lines and (text == "" or "ViT" in text or "vit" in text)
