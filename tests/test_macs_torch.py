"""MACs of traced PyTorch models against torch's own counter (issue 28, item 4).

The oracle is ``torch.utils.flop_counter.FlopCounterMode`` (MACs = FLOPs / 2) on the same
forward, with attention on torch's math kernel and autograd on (the counter has no formula
for the CPU flash kernel or ``nn.MultiheadAttention``'s inference fast path). MACs are
per example: only the model's batch is divided out, so a layer whose leading axis folds
the batch with tokens (transformers' ``Conv1D``), windows (Swin) or routed tokens
(mixture-of-experts) counts them.
"""

from __future__ import annotations

import os

import pytest
import torch
from conftest import require_module
from torch import nn

os.environ.setdefault("HF_HUB_OFFLINE", "1")
require_module("transformers")

import netdraw  # noqa: E402
from netdraw.passes.stats import total_macs  # noqa: E402


def torch_macs(model: nn.Module, inputs: dict) -> int:
    from torch.nn.attention import SDPBackend, sdpa_kernel
    from torch.utils.flop_counter import FlopCounterMode

    # autograd on: nn.MultiheadAttention's inference fast path is a kernel the counter
    # does not know
    with FlopCounterMode(display=False) as counter, torch.enable_grad(), \
            sdpa_kernel([SDPBackend.MATH]):
        model(**inputs)
    return counter.get_total_flops() // 2


def netdraw_macs(model: nn.Module, inputs: dict) -> int:
    value = total_macs(netdraw.load(model, example_input=dict(inputs)))
    assert isinstance(value, int), value
    return value


def ids(batch: int = 1, length: int = 12) -> dict:
    return {"input_ids": torch.arange(batch * length).reshape(batch, length) % 90 + 3}


def pixels(batch: int = 1, size: int = 32) -> dict:
    return {"pixel_values": torch.randn(batch, 3, size, size,
                                        generator=torch.Generator().manual_seed(0))}


def _gpt2() -> nn.Module:
    from transformers import GPT2Config, GPT2Model

    return GPT2Model(GPT2Config(vocab_size=100, n_positions=32, n_embd=32, n_layer=2,
                                n_head=4, attn_implementation="eager"))


def _xlnet() -> nn.Module:
    from transformers import XLNetConfig, XLNetModel

    return XLNetModel(XLNetConfig(vocab_size=100, d_model=32, n_layer=2, n_head=4,
                                  d_inner=64))


def _opt() -> nn.Module:
    from transformers import OPTConfig, OPTModel

    return OPTModel(OPTConfig(vocab_size=100, hidden_size=32, num_hidden_layers=2,
                              num_attention_heads=4, ffn_dim=64, word_embed_proj_dim=16,
                              max_position_embeddings=32, attn_implementation="eager"))


def _swin(v2: bool = False) -> nn.Module:
    from transformers import SwinConfig, SwinModel, Swinv2Config, Swinv2Model

    config_cls, model_cls = (Swinv2Config, Swinv2Model) if v2 else (SwinConfig, SwinModel)
    return model_cls(config_cls(image_size=32, patch_size=2, embed_dim=16, depths=[2, 1],
                                num_heads=[2, 4], window_size=4))


def _mobilevit() -> nn.Module:
    from transformers import MobileViTConfig, MobileViTModel

    return MobileViTModel(MobileViTConfig(image_size=32, hidden_sizes=[32, 32, 48],
                                          neck_hidden_sizes=[8, 16, 24, 32, 40, 48, 96],
                                          num_attention_heads=2))


def _yolos() -> nn.Module:
    from transformers import YolosConfig, YolosModel

    return YolosModel(YolosConfig(image_size=[32, 32], patch_size=8, hidden_size=32,
                                  num_hidden_layers=2, num_attention_heads=4,
                                  intermediate_size=64, num_detection_tokens=5),
                      add_pooling_layer=False)


def _moe(kind: str, experts: str) -> nn.Module:
    from transformers import OlmoeConfig, OlmoeModel, Qwen2MoeConfig, Qwen2MoeModel

    common = dict(vocab_size=100, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                  num_attention_heads=4, num_key_value_heads=2, num_experts=4,
                  num_experts_per_tok=2, attn_implementation="eager",
                  experts_implementation=experts)
    torch.manual_seed(0)
    if kind == "qwen2_moe":
        return Qwen2MoeModel(Qwen2MoeConfig(moe_intermediate_size=48,
                                            shared_expert_intermediate_size=64, **common))
    return OlmoeModel(OlmoeConfig(**common))


#: name -> (model factory, inputs): the models issue 28 found wrong, from small configs.
MODELS = {
    "gpt2": (_gpt2, ids()), "xlnet": (_xlnet, ids()), "opt": (_opt, ids()),
    "mobilevit": (_mobilevit, pixels()), "yolos": (_yolos, pixels()),
    "swin": (_swin, pixels()), "swinv2": (lambda: _swin(True), pixels()),
    "qwen2_moe": (lambda: _moe("qwen2_moe", "eager"), ids()),
    "olmoe": (lambda: _moe("olmoe", "eager"), ids()),
}


@pytest.mark.parametrize("name", sorted(MODELS))
def test_macs_match_torchs_counter(name: str) -> None:
    factory, inputs = MODELS[name]
    torch.manual_seed(0)
    model = factory().eval()
    assert netdraw_macs(model, inputs) == torch_macs(model, inputs)


@pytest.mark.parametrize("name", ["gpt2", "swin"])
def test_macs_are_per_example_at_any_batch(name: str) -> None:
    """Batch 3 counts what batch 1 does (the batch is divided out once, windows and tokens
    folded into the leading axis stay), and both are torch's count of one example."""
    factory, _ = MODELS[name]
    model = factory().eval()
    one, three = (ids(1), ids(3)) if name == "gpt2" else (pixels(1), pixels(3))
    assert netdraw_macs(model, three) == netdraw_macs(model, one) == torch_macs(model, one)
    assert torch_macs(model, three) == 3 * torch_macs(model, one)


@pytest.mark.parametrize("kind", ["qwen2_moe", "olmoe"])
def test_grouped_experts_count_every_routed_token(kind: str) -> None:
    """transformers' default experts kernel (``torch._grouped_mm``, which the counter does
    not know) counts what the eager loop over experts does with the same weights."""
    eager = _moe(kind, "eager").eval()
    grouped = _moe(kind, "grouped_mm").eval()
    grouped.load_state_dict(eager.state_dict())
    graph = netdraw.load(grouped, example_input=ids())
    assert any(n.op_type == "grouped_mm" for n in graph)
    assert total_macs(graph) == torch_macs(eager, ids())


class _Functional(nn.Module):
    """The functional forms a module's own code uses: ``addmm`` with an activation as its
    bias, an ``einsum`` with a weight and one that sums an index out of one operand first,
    ``matmul`` with the weight first, and multi-head ``scaled_dot_product_attention``."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(8, 12))
        self.q = nn.Parameter(torch.randn(12, 4, 6))
        self.left = nn.Parameter(torch.randn(5, 7))

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: (1, 7, 8)
        rows = x.reshape(-1, 8)
        h = torch.addmm(rows[:, :1].expand(-1, 12), rows, self.w)  # (7, 12), bias an activation
        heads = torch.einsum("ih,hnd->ind", h, self.q)  # (7, 4, 6)
        summed = torch.einsum("ind,jnd->nd", heads, heads)  # j summed out first
        left = torch.matmul(self.left, h)  # (5, 12): the weight is the first operand
        q = heads.permute(1, 0, 2).unsqueeze(0)  # (1, 4, 7, 6)
        att = nn.functional.scaled_dot_product_attention(q, q, q)
        return att.sum() + summed.sum() + left.sum()


def test_functional_matmuls_match_torchs_counter() -> None:
    model = _Functional().eval()
    inputs = {"x": torch.randn(1, 7, 8)}
    expected = torch_macs(model, inputs)
    # by hand: addmm 7·12·8, einsum 7·4·6·12, the second einsum none (i and j are summed
    # first, then n and d multiplied elementwise), matmul 5·12·7, attention 2·4·7·7·6
    assert expected == 672 + 2016 + 0 + 420 + 2352
    assert netdraw_macs(model, inputs) == expected


class _Attend(nn.Module):
    """``nn.MultiheadAttention`` as self- and cross-attention (keys of another length and
    width), in both layouts, and WavLM's call of ``F.multi_head_attention_forward`` with a
    float mask of the query's rank."""

    def __init__(self, batch_first: bool) -> None:
        super().__init__()
        self.batch_first = batch_first
        self.self_attn = nn.MultiheadAttention(16, 4, batch_first=batch_first)
        self.cross = nn.MultiheadAttention(16, 2, kdim=8, vdim=8, batch_first=batch_first)

    def forward(self, x: torch.Tensor, memory: torch.Tensor) -> torch.Tensor:
        y, _ = self.self_attn(x, x, x)
        z, _ = self.cross(y, memory, memory)
        q = z if not self.batch_first else z.transpose(0, 1)  # (L, N, E)
        mha = self.self_attn
        out, _ = nn.functional.multi_head_attention_forward(
            q, q, q, 16, 4, mha.in_proj_weight, mha.in_proj_bias, None, None, False, 0.0,
            mha.out_proj.weight, mha.out_proj.bias, training=False,
            attn_mask=torch.zeros(4 * q.shape[1], q.shape[0], q.shape[0]))
        return out


@pytest.mark.parametrize("batch_first", [True, False])
def test_multihead_attention_matches_torchs_counter(batch_first: bool) -> None:
    model = _Attend(batch_first).eval()
    x, memory = torch.randn(1, 6, 16), torch.randn(1, 9, 8)
    if not batch_first:
        x, memory = x.transpose(0, 1), memory.transpose(0, 1)
    inputs = {"x": x, "memory": memory}
    # by hand: self 2·6·16² + 6·2·16² + 2·6·6·16; cross 2·6·16² + 9·(16·8·2) + 2·6·9·16;
    # the functional call as the first
    self_attn = 2 * 6 * 256 + 6 * 2 * 256 + 2 * 6 * 6 * 16
    cross = 2 * 6 * 256 + 9 * 256 + 2 * 6 * 9 * 16
    assert torch_macs(model, inputs) == 2 * self_attn + cross
    assert netdraw_macs(model, inputs) == 2 * self_attn + cross
