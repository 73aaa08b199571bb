"""Parameters a traced forward never reads (issue 28, item 5): the model's total is always
the framework's, and what the trace did not reach is named as such in the graph's JSON,
the summary, the command line's report and the HTML page.

Oracles: torch's ``sum(p.numel() for p in model.parameters())`` and its parameter and
module names (``named_parameters``, ``named_modules``).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
import torch
from conftest import require_module, run_cli
from torch import nn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
require_module("transformers")

import netdraw  # noqa: E402
from netdraw.describe import unused_note  # noqa: E402
from netdraw.summary import table  # noqa: E402

TESTS = Path(__file__).resolve().parent


def n_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def dinov2() -> nn.Module:
    """DINOv2 (hidden 64): its ``embeddings.mask_token`` is read only when masking."""
    from transformers import Dinov2Config, Dinov2Model

    torch.manual_seed(0)
    config = Dinov2Config(image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=2,
                          num_attention_heads=4, intermediate_size=128)
    return Dinov2Model(config).eval()


def _names_hold(model: nn.Module, unused: dict[str, int]) -> None:
    """Each name is a parameter or a module of ``model`` and holds exactly that many values,
    and none of them was drawn on a node."""
    params = dict(model.named_parameters())
    modules = dict(model.named_modules())
    for name, count in unused.items():
        if name in params:
            assert params[name].numel() == count, name
        else:
            assert name in modules, name
            assert n_params(modules[name]) == count, name


def test_dinov2_mask_token_is_named_and_counted(tmp_path: Path) -> None:
    model = dinov2()
    graph = netdraw.load(model, example_input=torch.randn(1, 3, 32, 32))
    assert graph.meta["unused_params"] == {"embeddings.mask_token": 64}
    assert model.embeddings.mask_token.numel() == 64
    assert graph.total_params == n_params(model)
    assert sum(n.params for n in graph) == n_params(model) - 64  # no node holds it
    assert unused_note(graph) == "64 parameters not used in this forward: embeddings.mask_token"
    # the JSON keeps it, and a graph read back has the framework's total
    path = tmp_path / "g.json"
    path.write_text(graph.to_json())
    back = netdraw.Graph.from_json(path.read_text())
    assert json.loads(path.read_text())["meta"]["unused_params"] == {"embeddings.mask_token": 64}
    assert back.total_params == n_params(model)
    # the summary has a row for it, and its total is torch's
    text = table(netdraw.api.view(graph), "markdown")
    assert "(not used in this forward: embeddings.mask\\_token)" in text
    total = text.strip().splitlines()[-1]
    assert f"**{n_params(model):,}**" in total
    # the HTML page's total and its note
    page = netdraw.render(graph, "html")
    model_json = json.loads(re.search(r'id="nd-model">(.*?)</script>', page, re.S).group(1))
    assert model_json["info"]["params"] == n_params(model)
    assert model_json["unused"] == unused_note(graph)


def test_command_line_reports_the_unused_parameters() -> None:
    proc = run_cli("summary", "test_unused_params:dinov2", "--input-shape", "1,3,32,32",
                   cwd=TESTS)
    assert proc.returncode == 0, proc.stderr
    note = [line for line in proc.stderr.splitlines() if "not used in this forward" in line]
    assert len(note) == 1, proc.stderr
    assert note[0].endswith("; 64 parameters not used in this forward: embeddings.mask_token")
    assert f"{n_params(dinov2()):,}" in proc.stdout.strip().splitlines()[-1]


def test_a_whole_module_is_named_once_and_a_tied_weight_never() -> None:
    class Tied(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = nn.Embedding(10, 4)
            self.head = nn.Linear(4, 10, bias=False)
            self.head.weight = self.embed.weight  # tied: used through the embedding
            self.unused = nn.Sequential(nn.Linear(4, 3), nn.ReLU(), nn.Linear(3, 2))
            self.scale = nn.Parameter(torch.ones(4))

        def forward(self, ids: torch.Tensor) -> torch.Tensor:
            return self.embed(ids)

    model = Tied()
    graph = netdraw.load(model, example_input=torch.zeros(1, 5, dtype=torch.long))
    assert graph.meta["unused_params"] == {"unused": 4 * 3 + 3 + 3 * 2 + 2, "scale": 4}
    assert graph.total_params == n_params(model) == 40 + 23 + 4
    _names_hold(model, graph.meta["unused_params"])


@pytest.mark.parametrize("name", ["xlnet", "levit", "hubert", "wavlm", "wav2vec2"])
def test_transformers_models_total_is_torchs(name: str) -> None:
    """XLNet's ``mask_emb``, LeViT's attention biases (cached in eval mode, so the forward
    reads the cache), and the speech models' masked-spectrum embedding are named; the
    weight-norm parametrization of their positional convolution is counted on it."""
    import transformers as tf

    torch.manual_seed(0)
    if name == "xlnet":
        model = tf.XLNetModel(tf.XLNetConfig(vocab_size=100, d_model=32, n_layer=1, n_head=2,
                                             d_inner=64))
        example = {"input_ids": torch.arange(8).reshape(1, 8)}
        expected = {"mask_emb"}
    elif name == "levit":
        model = tf.LevitModel(tf.LevitConfig(
            image_size=64, hidden_sizes=[64, 128, 192], num_attention_heads=[2, 4, 6],
            depths=[1, 1, 1], key_dim=[16, 16, 16],
            down_ops=[["Subsample", 16, 4, 4, 2, 2], ["Subsample", 16, 8, 4, 2, 2]]))
        example = {"pixel_values": torch.randn(1, 3, 64, 64)}
        model.eval()(**example)  # eval mode caches the attention biases
        expected = {k for k, _ in model.named_parameters() if k.endswith("attention_biases")}
    else:
        config_cls = {"hubert": tf.HubertConfig, "wavlm": tf.WavLMConfig,
                      "wav2vec2": tf.Wav2Vec2Config}[name]
        model_cls = {"hubert": tf.HubertModel, "wavlm": tf.WavLMModel,
                     "wav2vec2": tf.Wav2Vec2Model}[name]
        model = model_cls(config_cls(hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                                     intermediate_size=64, conv_dim=[16] * 7,
                                     num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2))
        example = {"input_values": torch.randn(1, 2000)}
        expected = {"masked_spec_embed"}
    model.eval()
    graph = netdraw.load(model, example_input=example)
    assert graph.total_params == n_params(model)
    unused = graph.meta["unused_params"]
    assert expected <= set(unused), unused
    _names_hold(model, unused)
    if name in ("hubert", "wavlm", "wav2vec2"):
        assert set(unused) == expected  # the parametrized conv's weights are on a node
        conv = model.encoder.pos_conv_embed.conv
        drawn = sum(n.params for n in graph if n.name.startswith("encoder.pos_conv_embed."))
        assert drawn == n_params(conv)


def test_a_graph_file_with_a_bare_count_or_junk_reads() -> None:
    graph = netdraw.load(nn.Linear(3, 2), input_shape=(1, 3))
    for value, extra in ((5, 5), ({"a": 2, "b": "x", "c": -1, "d": True}, 2), ("x", 0)):
        graph.meta["unused_params"] = value
        back = netdraw.Graph.from_json(graph.to_json())
        assert back.total_params == 8 + extra
