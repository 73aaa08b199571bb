"""The diffusers half of the corpus: UNets, autoencoders and a diffusion transformer from
small configs (random weights, nothing downloaded), each with the input it runs on.

The Stable Diffusion UNet is the zoo's (``netdraw.zoo.hf_models.sd_unet``); the others
are built here. Each builder returns an :class:`hf_build.Built`, so the checks of
:mod:`hf_corpus` run on them unchanged.
"""

from __future__ import annotations

from collections.abc import Callable

import hf_build
import torch
from torch import nn

from netdraw.zoo import hf_models


def _built(name: str, model: nn.Module, inputs: dict, modality: str = "image") -> hf_build.Built:
    model.eval()
    params = sum(p.numel() for p in model.parameters())
    return hf_build.Built(name, model, inputs, type(model).__name__, modality, params)


def _latent(channels: int = 4, size: int = 16) -> torch.Tensor:
    return torch.randn(1, channels, size, size, generator=torch.Generator().manual_seed(0))


def sd_unet() -> hf_build.Built:
    spec = hf_models.MODELS["sd_unet"]
    sample, timestep, text = spec.example_input()
    return _built("sd_unet", spec.factory(),
                  {"sample": sample, "timestep": timestep, "text": text})


def unet2d() -> hf_build.Built:
    from diffusers import UNet2DModel

    torch.manual_seed(0)
    model = UNet2DModel(sample_size=16, in_channels=3, out_channels=3, layers_per_block=1,
                        block_out_channels=(32, 64), norm_num_groups=16,
                        down_block_types=("DownBlock2D", "AttnDownBlock2D"),
                        up_block_types=("AttnUpBlock2D", "UpBlock2D"))
    return _built("unet2d", model, {"sample": _latent(3), "timestep": torch.tensor([10]),
                                    "return_dict": False})


def autoencoder_kl() -> hf_build.Built:
    from diffusers import AutoencoderKL

    torch.manual_seed(0)
    model = AutoencoderKL(in_channels=3, out_channels=3, latent_channels=4,
                          block_out_channels=(32, 64), layers_per_block=1, norm_num_groups=16,
                          down_block_types=("DownEncoderBlock2D",) * 2,
                          up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32)
    return _built("autoencoder_kl", model, {"sample": _latent(3, 32), "return_dict": False})


def vq_model() -> hf_build.Built:
    from diffusers import VQModel

    torch.manual_seed(0)
    model = VQModel(in_channels=3, out_channels=3, latent_channels=4, num_vq_embeddings=64,
                    block_out_channels=(32, 64), layers_per_block=1, norm_num_groups=16,
                    down_block_types=("DownEncoderBlock2D",) * 2,
                    up_block_types=("UpDecoderBlock2D",) * 2, sample_size=32)
    return _built("vq_model", model, {"sample": _latent(3, 32), "return_dict": False})


def dit() -> hf_build.Built:
    from diffusers import DiTTransformer2DModel

    torch.manual_seed(0)
    model = DiTTransformer2DModel(num_attention_heads=4, attention_head_dim=16, in_channels=4,
                                  num_layers=2, sample_size=16, patch_size=2,
                                  num_embeds_ada_norm=10, norm_num_groups=16)
    return _built("dit", model, {"hidden_states": _latent(), "timestep": torch.tensor([10]),
                                 "class_labels": torch.tensor([1]), "return_dict": False})


BUILDERS: dict[str, Callable[[], hf_build.Built]] = {
    "sd_unet": sd_unet, "unet2d": unet2d, "autoencoder_kl": autoencoder_kl,
    "vq_model": vq_model, "dit": dit,
}


def build(name: str) -> hf_build.Built:
    return BUILDERS[name]()
