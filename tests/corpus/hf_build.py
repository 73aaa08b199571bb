"""Build any ``transformers`` model type from its default config, shrunk, with random weights.

:func:`shrink` rewrites a config dict so the model is small (2 layers, hidden 64, 4 heads,
intermediate 128, a small vocabulary, small images and audio), in every nested sub-config
(``text_config``, ``vision_config``, ``encoder``…). :func:`build` makes the model first on
the ``meta`` device to count its parameters and buffers, refuses anything above
:data:`MAX_PARAMS`, and only then builds it for real; :func:`example_inputs` gives it an
input for its modality (token ids, pixels, audio samples or features, or several).

Nothing is downloaded: ``HF_HUB_OFFLINE`` is set before transformers is imported.
"""

from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass, field
from typing import Any

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_NO_ADVISORY_WARNINGS", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")

import torch  # noqa: E402
from torch import nn  # noqa: E402

#: A shrunk model with more parameters and buffers than this is refused (its reason kept).
MAX_PARAMS = 20_000_000
VOCAB = 512
TOKENS = 16
IMAGE = 64
AUDIO_SAMPLES = 4000

_LAYERS = re.compile(r"^(num_(hidden_)?layers|n_layers?|(encoder|decoder)_layers|"
                     r"num_(encoder|decoder)_layers|num_(text|vision|audio)_layers|"
                     r"(text|vision|audio)_layers|num_hidden_blocks|depth)$")
_WIDTH = re.compile(r"^(hidden_size|d_model|n_embd|embed_dim|dim|hidden_dim|"
                    r"word_embed_proj_dim|(text|vision|audio)_embed_dim|embedding_size|"
                    r"encoder_hidden_size|d_embed|emb_dim)$")
_HEADS = re.compile(r"^(num_attention_heads|n_heads?|(encoder|decoder)_attention_heads|"
                    r"num_heads|num_(encoder|decoder)_attention_heads|attention_heads)$")
_KV_HEADS = re.compile(r"^(num_key_value_heads|n_kv_heads|num_kv_heads|multi_query_group_num)$")
_FFN = re.compile(r"^(intermediate_size|ffn_dim|d_ff|(encoder|decoder)_ffn_dim|n_inner|"
                  r"ffn_hidden_size|hidden_dim_ffn|(moe|shared_expert|expert)_intermediate_size|"
                  r"intermediate_dim|d_inner|mlp_dim)$")
_HEAD_DIM = re.compile(r"^(head_dim|d_kv|d_head|attention_head_dim|qk_nope_head_dim|"
                       r"qk_rope_head_dim|v_head_dim|kv_lora_rank|q_lora_rank)$")
_POSITIONS = re.compile(r"^(max_position_embeddings|n_positions|max_seq_len|"
                        r"max_sequence_length|max_target_positions|n_ctx|seq_length)$")
_EXPERTS = re.compile(r"^(num_experts|num_local_experts|n_routed_experts|moe_num_experts)$")
_EXPERTS_PER_TOKEN = re.compile(r"^(num_experts_per_tok|moe_k|top_k|num_selected_experts|"
                                r"moe_topk)$")
_TOKEN_ID = re.compile(r"_token_(id|index)$|_id$")


def _shrink_int(key: str, value: int, shrunk: dict[str, Any]) -> int:
    """The small value for one integer setting (never larger than the default)."""
    for pattern, target in ((_LAYERS, 2), (_WIDTH, 64), (_HEADS, 4), (_FFN, 128),
                            (_HEAD_DIM, 16), (_POSITIONS, 128), (_EXPERTS, 4),
                            (_EXPERTS_PER_TOKEN, 2)):
        if pattern.match(key):
            return min(value, target) if value > 0 else value
    if _KV_HEADS.match(key):
        if value > 0 and value == shrunk.get("_heads"):
            return min(value, 4)  # multi-head attention stays so
        return min(value, 2) if value > 0 else value
    if key == "vocab_size":
        return min(value, VOCAB)
    if key == "image_size":
        return min(value, IMAGE)
    if key == "patch_size":
        return min(value, 8)
    if key == "window_size":
        return min(value, 2)  # a 64-pixel image's last stage is 2×2
    if key == "num_mel_bins":
        return value
    if key == "max_source_positions":
        return min(value, 32)
    if key in ("projection_dim", "projection_size", "rotary_dim", "out_hidden_size",
               "text_hidden_size", "vision_hidden_size", "audio_hidden_size"):
        return min(value, 16 if key == "rotary_dim" else 64)
    if key == "num_groups":
        return min(value, 8)  # group norms over the narrowed channels
    if key in ("n_group", "topk_group", "first_k_dense_replace"):
        return min(value, 1)  # expert groups; the dense layers before the first MoE one
    if key == "num_frames":
        return min(value, 4)
    return value


#: Keys of per-stage lists (hierarchical models): the stage count stays, each shrinks.
_STAGE_DEPTHS = frozenset({"depths", "num_layers_per_stage", "stage_depths", "block_repeats"})
_STAGE_WIDTHS = frozenset({"hidden_sizes", "embed_dims", "dims", "widths", "stage_dims",
                           "embed_dim", "hidden_dims", "neck_hidden_sizes"})
_STAGE_HEADS = frozenset({"num_heads", "num_attention_heads", "heads"})

#: Settings no rule gets right, by model type (applied after :func:`shrink`).
OVERRIDES: dict[str, dict[str, Any]] = {
    "gpt_neo": {"attention_types": [[["global", "local"], 1]]},
}


#: Text models whose rotary sections default to a 64-wide head unless the config says.
MROPE_TEXT = frozenset({"glm4v_text", "glm4v_moe_text", "glm_image_text", "glm_ocr_text",
                        "qwen2_vl_text", "qwen2_5_vl_text"})


def _shrink_list(key: str, value: list[Any], layers: tuple[int, int] | None) -> list[Any]:
    """Stage lists of hierarchical models (one block a stage, widths an eighth, heads that
    divide them) and per-layer lists (cut to the new number of layers)."""
    if layers is not None and len(value) == layers[0] > layers[1] \
            and key not in _STAGE_DEPTHS | _STAGE_WIDTHS | _STAGE_HEADS:
        value = value[:layers[1]]
    if not value or not all(isinstance(v, int) and not isinstance(v, bool) for v in value):
        return value
    if key in _STAGE_DEPTHS:
        return [min(v, 1) if v > 0 else v for v in value]
    if key in _STAGE_WIDTHS:
        return [max(32, -(-v // 256) * 32) if v > 32 else v for v in value]
    if key in _STAGE_HEADS:
        if len(set(value)) == 1:  # one width throughout (Swin2SR)
            return [min(v, 4) for v in value]
        return [min(v, 2 ** i) for i, v in enumerate(value)]
    if key == "conv_dim":
        return [min(v, 32) for v in value]
    if key == "image_size":
        return [min(v, IMAGE) for v in value]
    if _FFN.match(key) or _WIDTH.match(key):
        return [_shrink_int(key, v, {}) for v in value]
    return value


def _layer_count(config: dict[str, Any]) -> int | None:
    if isinstance(config.get("depths"), list):
        return None  # stages, shrunk by their own rule
    return next((config[k] for k in ("num_hidden_layers", "num_layers", "n_layer", "n_layers",
                                     "encoder_layers", "decoder_layers")
                 if isinstance(config.get(k), int) and not isinstance(config.get(k), bool)),
                None)


def _shrink_rope(rope: dict[str, Any], head_dim: int) -> dict[str, Any]:
    """Multimodal rotary sections sum to half a head: scaled to the new head."""
    rope = dict(rope)
    section = rope.get("mrope_section")
    if isinstance(section, list) and section and all(isinstance(v, int) for v in section):
        total, half = sum(section), head_dim // 2
        scaled = [max(1, v * half // total) for v in section]
        scaled[0] += half - sum(scaled)
        rope["mrope_section"] = scaled
    return rope


def shrink(config: dict[str, Any]) -> dict[str, Any]:
    """A copy of a config dict with small sizes, nested sub-configs shrunk the same way."""
    out: dict[str, Any] = {}
    old = _layer_count(config)
    layers = None
    for key, value in config.items():
        if isinstance(value, dict) and ("model_type" in value or key.endswith("config")
                                        or key in ("encoder", "decoder")):
            out[key] = shrink(value)
        elif isinstance(value, bool) or value is None:
            out[key] = value
        elif isinstance(value, int):
            if _HEADS.match(key):
                out["_heads"] = value  # read by the key-value heads' rule
            if key == "num_layers" and isinstance(config.get("depths"), list):
                out[key] = value  # the number of stages of a hierarchical model
            else:
                out[key] = _shrink_int(key, value, out)
        elif isinstance(value, list):
            if layers is None and old is not None:
                layers = (old, _shrink_int("num_hidden_layers", old, {}))
            out[key] = _shrink_list(key, value, layers)
        else:
            out[key] = value
    new = _layer_count(out)
    for key, value in list(out.items()):
        if isinstance(value, dict) and value and all(isinstance(k, (int, str)) and
                                                     str(k).isdigit() for k in value) \
                and new is not None:
            out[key] = {k: v for k, v in value.items() if int(k) < new}  # per-layer settings
    for key in ("out_features", "out_indices", "stage_names", "_heads"):
        out.pop(key, None)  # backbone outputs name stages by the old depth
    if isinstance(out.get("qk_head_dim"), int) and isinstance(out.get("qk_nope_head_dim"), int) \
            and isinstance(out.get("qk_rope_head_dim"), int):
        out["qk_head_dim"] = out["qk_nope_head_dim"] + out["qk_rope_head_dim"]
    if isinstance(out.get("depths"), list) and isinstance(out.get("embed_dim"), int):
        out["embed_dim"] = min(out["embed_dim"], 32)  # doubled at every stage
    heads = out.get("num_attention_heads")
    width = out.get("hidden_size")
    head_dim = out.get("head_dim") if isinstance(out.get("head_dim"), int) else \
        width // heads if isinstance(width, int) and isinstance(heads, int) and heads else 16
    for key in ("rope_parameters", "rope_scaling"):
        if isinstance(out.get(key), dict):
            out[key] = _shrink_rope(out[key], head_dim)
    vocab = out.get("vocab_size")
    if isinstance(vocab, int) and vocab > 0:
        for key, value in list(out.items()):
            if _TOKEN_ID.search(key) and isinstance(value, int) and value >= vocab:
                out[key] = vocab - 1 - sum(map(ord, key)) % 8  # distinct, deterministic
    return out


@dataclass
class Built:
    """A built model, the inputs it was run with and how it was made."""

    model_type: str
    model: nn.Module
    inputs: dict[str, Any]
    model_class: str
    modality: str
    params: int
    notes: list[str] = field(default_factory=list)


class NotBuilt(Exception):
    """A model type that cannot be built here; ``stage`` says where it stopped."""

    def __init__(self, stage: str, reason: str) -> None:
        super().__init__(f"{stage}: {reason}")
        self.stage, self.reason = stage, reason


def _mapping_names() -> list[dict[str, str]]:
    import transformers.models.auto.modeling_auto as auto

    names = [auto.MODEL_MAPPING_NAMES]
    names += [getattr(auto, n) for n in sorted(dir(auto))
              if n.startswith("MODEL_FOR_") and n.endswith("_MAPPING_NAMES")]
    return names


def model_class(model_type: str) -> type | None:
    """The base model class of a type (``AutoModel``), else its first task head."""
    import transformers

    for mapping in _mapping_names():
        name = mapping.get(model_type)
        if isinstance(name, (tuple, list)):
            name = name[0]
        if name and hasattr(transformers, name):
            return getattr(transformers, name)
    return None


def _count(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters()) + sum(b.numel() for b in model.buffers())


def make_config(model_type: str) -> Any:
    from transformers import AutoConfig

    default = AutoConfig.for_model(model_type)
    data = shrink(default.to_dict())
    data.update(OVERRIDES.get(model_type, {}))
    if model_type in MROPE_TEXT:  # the modelling code's default sections fit a 64-wide head
        data["rope_parameters"] = {**(data.get("rope_parameters") or {}),
                                   "mrope_section": [2, 3, 3]}
    data.pop("transformers_version", None)
    config = type(default).from_dict(data)
    for c in [config, *_sub_configs(config)]:
        # Eager attention and experts: the implementations FlopCounterMode can count
        # (it has no formula for torch._grouped_mm).
        c._attn_implementation = "eager"
        c._experts_implementation = "eager"
    return config


def _sub_configs(config: Any) -> list[Any]:
    from transformers import PretrainedConfig

    return [v for v in vars(config).values() if isinstance(v, PretrainedConfig)]


def build(model_type: str, seed: int = 0) -> Built:
    """The shrunk model of ``model_type`` with an example input that runs through it.

    Raises :class:`NotBuilt` with the stage (``config``, ``class``, ``meta``, ``size``,
    ``build``, ``input``, ``forward``) and the reason."""
    try:
        config = make_config(model_type)
    except Exception as exc:
        raise NotBuilt("config", _short(exc)) from None
    cls = model_class(model_type)
    if cls is None:
        raise NotBuilt("class", "no model class is registered for this config type")
    try:
        with torch.device("meta"):
            meta = cls(config)
    except Exception as exc:
        raise NotBuilt("meta", _short(exc)) from None
    size = _count(meta)
    del meta
    if size > MAX_PARAMS:
        raise NotBuilt("size", f"{size:,} parameters and buffers after shrinking "
                       f"(bound {MAX_PARAMS:,})")
    torch.manual_seed(seed)
    try:
        model = cls(config).eval()
    except Exception as exc:
        raise NotBuilt("build", _short(exc)) from None
    last: Exception | None = None
    for modality, inputs in example_inputs(model, config):
        try:
            with torch.no_grad():
                model(**inputs)
        except Exception as exc:
            last = exc
            continue
        params = sum(p.numel() for p in model.parameters())
        return Built(model_type, model, inputs, cls.__name__, modality, params)
    raise NotBuilt("forward", _short(last) if last else "no input fits its forward")


def _short(exc: BaseException) -> str:
    """``ValueError: the first 160 characters`` (addresses left out: the same every run)."""
    text = re.sub(r"0x[0-9a-fA-F]+", "0x…", " ".join(str(exc).split()))
    return f"{type(exc).__name__}: {text[:160]}"


def _find(config: Any, *keys: str, default: Any = None) -> Any:
    """The first of ``keys`` set on the config or one of its sub-configs."""
    for c in [config, *_sub_configs(config)]:
        for key in keys:
            value = getattr(c, key, None)
            if value is not None:
                return value
    return default


def _image_size(config: Any) -> tuple[int, int]:
    size = _find(config, "image_size", default=IMAGE)
    if isinstance(size, dict):
        size = size.get("height", IMAGE)
    if isinstance(size, (list, tuple)):
        return int(size[0]), int(size[-1])
    return int(size), int(size)


def example_inputs(model: nn.Module, config: Any) -> list[tuple[str, dict[str, Any]]]:
    """Candidate inputs, most complete first: (modality, keyword arguments)."""
    gen = torch.Generator().manual_seed(0)
    try:
        params = inspect.signature(model.forward).parameters
    except (TypeError, ValueError):
        params = {}
    main = getattr(model, "main_input_name", "input_ids")
    if not isinstance(main, str):  # OneFormer names two
        main = next(iter(main), "input_ids")
    vocab = _find(config, "vocab_size", default=VOCAB)
    ids = torch.arange(3, 3 + TOKENS).remainder(max(4, vocab - 8)).reshape(1, TOKENS) + 2
    channels = _find(config, "num_channels", "in_channels", "in_chans", default=3)
    h, w = _image_size(config)
    pixels = torch.randn(1, channels, h, w, generator=gen)
    mel = _find(config, "num_mel_bins", "feature_size", "n_mels", default=80)
    frames = 2 * _find(config, "max_source_positions", default=16)
    extra: dict[str, Any] = {}
    if "use_cache" in params:
        extra["use_cache"] = False
    if "return_dict" in params:
        extra["return_dict"] = True
    text = {"input_ids": ids}
    if "decoder_input_ids" in params and getattr(config, "is_encoder_decoder", False):
        text["decoder_input_ids"] = ids[:, : TOKENS // 2]
    if "bbox" in params:
        text["bbox"] = torch.zeros(1, TOKENS, 4, dtype=torch.long)
    image = {"pixel_values": pixels}
    audio = {"input_values": torch.randn(1, AUDIO_SAMPLES, generator=gen)}
    features = {"input_features": torch.randn(1, mel, frames, generator=gen)}
    decoder = {k: v for k, v in text.items() if k == "decoder_input_ids"}
    if "decoder_input_ids" in params and not decoder and \
            getattr(config, "is_encoder_decoder", False):
        decoder = {"decoder_input_ids": ids[:, : TOKENS // 2]}
    candidates: list[tuple[str, dict[str, Any]]] = []
    if "input_ids" in params and "pixel_values" in params:
        candidates.append(("multimodal", {**text, **image}))
    if "input_ids" in params and "input_features" in params:
        candidates.append(("multimodal", {**text, **features}))
    by_main = {"input_ids": ("text", text), "pixel_values": ("vision", image),
               "input_values": ("audio", audio), "input_features": ("audio", features)}
    order = [main, *(k for k in by_main if k != main)]
    for key in order:
        if key in params and key in by_main:
            modality, inputs = by_main[key]
            candidates.append((modality, {**inputs, **decoder}))
            if key == "input_features":  # time-major features (speech_to_text, w2v-BERT)
                candidates.append((modality, {key: inputs[key].transpose(1, 2), **decoder}))
            frames_in = _find(config, "num_frames")
            if key == "pixel_values" and isinstance(frames_in, int):  # a video
                video = pixels.unsqueeze(1).expand(1, frames_in, *pixels.shape[1:])
                candidates.append(("video", {key: video.contiguous(), **decoder}))
    if candidates and candidates[0][0] == "multimodal" and main != "input_ids":
        candidates.append(candidates.pop(0))
    return [(m, {**inputs, **extra}) for m, inputs in candidates]
