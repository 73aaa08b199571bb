"""Real-world architectures from Hugging Face ``transformers`` and ``diffusers`` configs.

Small configurations (a few layers, narrow widths) with random weights: nothing is ever
downloaded (``HF_HUB_OFFLINE=1`` is set before the libraries are imported). Each factory
returns a module in eval mode whose ``forward`` takes tensors and returns one, so the
command line can draw it (``netdraw netdraw.zoo.hf_models:gpt2 --input-shape 1,16
--input-dtype int64``) and ONNX exporters trace it; :data:`MODELS` gives each one's
example inputs.

- ``gpt2``: GPT-2 (pre-LN decoder blocks, learned positions), 6 blocks.
- ``bert``: BERT encoder (post-LN, token types), 4 layers.
- ``llama``: LLaMA (rotary embeddings, RMSNorm, SwiGLU MLP, grouped-query attention),
  4 decoder layers.
- ``t5``: T5 encoder-decoder (relative position bias, cross-attention), 3 + 3 blocks; the
  decoder reads the first half of the tokens.
- ``vit``: ViT (patch embedding, class token, 4 encoder layers) on 32×32 images.
- ``sd_unet``: diffusers' ``UNet2DConditionModel`` with the Stable Diffusion 1.5 layout
  (three cross-attention down blocks and a plain one, a mid block, mirrored up blocks)
  and small channels, called on a latent, a timestep and an 8-token text embedding.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")

import torch  # noqa: E402
from torch import nn  # noqa: E402

VOCAB = 1000


def _seeded() -> None:
    torch.manual_seed(0)


class TokenModel(nn.Module):
    """A transformers model called on token ids alone (all attended to), returning its main
    output tensor. The explicit attention mask keeps the legacy ONNX exporter away from
    the packed-sequence check (``torch.diff``), which it cannot export."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        mask = torch.ones_like(input_ids)
        out = self.model(input_ids=input_ids, attention_mask=mask, use_cache=False,
                         return_dict=True)
        return out.logits if getattr(out, "logits", None) is not None else \
            out.last_hidden_state


class Seq2Seq(nn.Module):
    """T5 called on token ids: the encoder reads them all, the decoder the first half."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids: torch.Tensor) -> torch.Tensor:
        decoder_ids = input_ids[:, : max(1, input_ids.shape[1] // 2)]
        out = self.model(input_ids=input_ids, decoder_input_ids=decoder_ids, use_cache=False,
                         return_dict=True)
        return out.logits


class ImageModel(nn.Module):
    """A vision transformer called on pixels, returning its last hidden state."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, pixel_values: torch.Tensor) -> torch.Tensor:
        return self.model(pixel_values=pixel_values, return_dict=True).last_hidden_state


class DenoiseStep(nn.Module):
    """One denoising step of a latent-diffusion UNet: the noisy latent, the timestep and
    the text embedding in, the predicted noise out (a tensor, not diffusers' output
    class)."""

    def __init__(self, unet: nn.Module) -> None:
        super().__init__()
        self.unet = unet

    def forward(self, sample: torch.Tensor, timestep: torch.Tensor,
                text: torch.Tensor) -> torch.Tensor:
        return self.unet(sample, timestep, encoder_hidden_states=text, return_dict=False)[0]


def gpt2(layers: int = 6) -> nn.Module:
    from transformers import GPT2Config, GPT2LMHeadModel

    _seeded()
    config = GPT2Config(vocab_size=VOCAB, n_positions=64, n_embd=64, n_layer=layers,
                        n_head=4, bos_token_id=0, eos_token_id=0, attn_implementation="sdpa")
    return TokenModel(GPT2LMHeadModel(config)).eval()


def bert(layers: int = 4) -> nn.Module:
    from transformers import BertConfig, BertModel

    _seeded()
    config = BertConfig(vocab_size=VOCAB, hidden_size=64, num_hidden_layers=layers,
                        num_attention_heads=4, intermediate_size=128,
                        max_position_embeddings=64, attn_implementation="sdpa")
    return TokenModel(BertModel(config, add_pooling_layer=False)).eval()


def llama(layers: int = 4) -> nn.Module:
    from transformers import LlamaConfig, LlamaForCausalLM

    _seeded()
    config = LlamaConfig(vocab_size=VOCAB, hidden_size=64, intermediate_size=172,
                         num_hidden_layers=layers, num_attention_heads=4,
                         num_key_value_heads=2, max_position_embeddings=64,
                         attn_implementation="sdpa")
    return TokenModel(LlamaForCausalLM(config)).eval()


def t5(layers: int = 3) -> nn.Module:
    from transformers import T5Config, T5ForConditionalGeneration

    _seeded()
    config = T5Config(vocab_size=VOCAB, d_model=64, d_kv=16, d_ff=128, num_layers=layers,
                      num_decoder_layers=layers, num_heads=4, decoder_start_token_id=0,
                      attn_implementation="eager")
    return Seq2Seq(T5ForConditionalGeneration(config)).eval()


def vit(layers: int = 4) -> nn.Module:
    from transformers import ViTConfig, ViTModel

    _seeded()
    config = ViTConfig(image_size=32, patch_size=8, hidden_size=64, num_hidden_layers=layers,
                       num_attention_heads=4, intermediate_size=128,
                       attn_implementation="sdpa")
    return ImageModel(ViTModel(config, add_pooling_layer=False)).eval()


def sd_unet() -> nn.Module:
    from diffusers import UNet2DConditionModel

    _seeded()
    unet = UNet2DConditionModel(
        sample_size=16, in_channels=4, out_channels=4, layers_per_block=2,
        block_out_channels=(32, 64, 64, 64), norm_num_groups=16, cross_attention_dim=32,
        attention_head_dim=8,
        down_block_types=("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                          "CrossAttnDownBlock2D", "DownBlock2D"),
        up_block_types=("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                        "CrossAttnUpBlock2D"))
    return DenoiseStep(unet).eval()


@dataclass(frozen=True)
class HFModel:
    """A factory and the example inputs it is drawn and exported with (one shape and
    dtype per positional argument, as ``--input-shape``/``--input-dtype`` give them)."""

    factory: Callable[[], nn.Module]
    input_shapes: tuple[tuple[int, ...], ...]
    input_dtypes: tuple[str, ...]
    title: str = ""

    def example_input(self) -> tuple[torch.Tensor, ...]:
        """Deterministic inputs: token ids or timesteps below the vocabulary, floats from a
        seeded generator."""
        gen = torch.Generator().manual_seed(0)
        out = []
        for shape, name in zip(self.input_shapes, self.input_dtypes, strict=True):
            dtype = getattr(torch, name)
            if dtype.is_floating_point:
                out.append(torch.randn(shape, generator=gen, dtype=dtype))
            else:
                count = int(torch.tensor(shape).prod())
                out.append(torch.arange(count).reshape(shape).remainder(VOCAB).to(dtype))
        return tuple(out)


_TOKENS = ((1, 16),), ("int64",)
MODELS: dict[str, HFModel] = {
    "gpt2": HFModel(gpt2, *_TOKENS, "GPT-2"),
    "bert": HFModel(bert, *_TOKENS, "BERT"),
    "llama": HFModel(llama, *_TOKENS, "LLaMA"),
    "t5": HFModel(t5, *_TOKENS, "T5"),
    "vit": HFModel(vit, ((1, 3, 32, 32),), ("float32",), "ViT"),
    "sd_unet": HFModel(sd_unet, ((1, 4, 16, 16), (1,), (1, 8, 32)),
                       ("float32", "int64", "float32"), "Stable Diffusion UNet"),
}


def export_onnx(name: str, path: str | os.PathLike[str], *, dynamo: bool = True) -> None:
    """Export a model of :data:`MODELS` to ONNX with the dynamo or the legacy exporter."""
    import warnings

    spec = MODELS[name]
    model = spec.factory()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        kwargs: dict[str, Any] = {"dynamo": dynamo}
        if dynamo:
            kwargs["verbose"] = False
        torch.onnx.export(model, spec.example_input(), str(path), **kwargs)


__all__ = ["MODELS", "HFModel", "bert", "export_onnx", "gpt2", "llama", "sd_unet", "t5", "vit"]
