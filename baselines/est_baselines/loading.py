"""Loading a causal LM and its tokenizer the same way for training (lora.py) and prediction (prediction.py).

What the paper's eight models need, passed through in one place:

- `trust_remote_code`: Baichuan2-7B, TeleChat2-7B, Qwen-7B (v1) and the original GLM4-9B repo ship their own
  modelling code. Training reads the flag TRL's `SFTConfig` already parses (`--trust_remote_code`), which used to
  reach neither the model nor the tokenizer; prediction has the same flag. That code was written for transformers 4
  (Baichuan2's is known not to run on transformers 5), so the recommended path is to convert each once to a native
  architecture (`est_baselines.native`: Llama / Qwen2, same outputs) or, for GLM4-9B, to take `THUDM/glm-4-9b-hf`.
- `device_map` and 4/8-bit quantization (bitsandbytes; QLoRA when training): a quantized model is placed on this
  process's GPU, an unquantized one where `--device_map` says (e.g. `auto` to spread a large model over GPUs).
- Tokenizers without an end-of-sequence token (Qwen-7B v1) get the one the model config names; without a pad token,
  the end-of-sequence token pads (Llama-style tokenizers).

LoRA targets default to every linear layer (`all-linear`), which PEFT resolves for any architecture, including the
custom-code ones it has no table for. The names per model, if one wants fewer (from each repo's modelling code as
published; not loaded here, there is no Hub access — check with `print(model)`):

| model | attention projections (`--lora_target_modules ...`) |
|---|---|
| LLaMa2-7B, LLaMa3-8B, Mistral-7B, Deepseek (LLaMA-style) | `q_proj k_proj v_proj o_proj` |
| Qwen-7B (v1), Baichuan2-7B, TeleChat2-7B converted by `est_baselines.native` | `q_proj k_proj v_proj o_proj` |
| Qwen-7B (v1, custom code) | `c_attn c_proj` |
| Baichuan2-7B (custom code) | `W_pack o_proj` |
| TeleChat2-7B (custom code) | `query key_value dense` |
| GLM4-9B: `THUDM/glm-4-9b-hf` (transformers) | `q_proj k_proj v_proj o_proj` |
| GLM4-9B: `THUDM/glm-4-9b` (custom code) | `query_key_value dense` |
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ALL_LINEAR = "all-linear"
CUSTOM_CODE_NOTE = ("custom modelling code written for transformers 4 often fails on transformers 5; the paper's "
                    "Baichuan2-7B, Qwen-7B (v1) and TeleChat2-7B convert once to native models: python -m "
                    "est_baselines.native SOURCE OUT (baselines/README.md); GLM4-9B is THUDM/glm-4-9b-hf")


@contextmanager
def custom_code_hint(trust_remote_code: bool):
    """Loading custom code: an error it raises keeps its type and traceback and gains a note on the way out."""
    try:
        yield
    except Exception as error:
        if trust_remote_code:
            error.add_note(CUSTOM_CODE_NOTE)
        raise


@dataclass
class LoadingArguments:
    """How the model is placed (beyond trl.ModelConfig and SFTConfig)."""

    device_map: str | None = field(
        default=None, metadata={"help": "transformers device_map for an unquantized model, e.g. 'auto'."})


def quantization_config(load_in_4bit: bool, load_in_8bit: bool, dtype, quant_type: str = "nf4",
                        nested: bool = False):
    if load_in_4bit and load_in_8bit:
        raise ValueError("choose one of --load_in_4bit and --load_in_8bit")
    if not (load_in_4bit or load_in_8bit):
        return None
    from transformers import BitsAndBytesConfig

    if load_in_8bit:
        return BitsAndBytesConfig(load_in_8bit=True)
    return BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_compute_dtype=dtype, bnb_4bit_quant_type=quant_type,
                              bnb_4bit_use_double_quant=nested)


def model_kwargs(*, dtype: str | None, trust_remote_code: bool, device_map: str | None = None,
                 revision: str | None = None, attn_implementation: str | None = None, load_in_4bit: bool = False,
                 load_in_8bit: bool = False, quant_type: str = "nf4", nested: bool = False) -> dict:
    """`from_pretrained` keyword arguments; a quantized model goes to this process's GPU (one copy per process,
    as data-parallel training wants)."""
    import torch

    torch_dtype = dtype if dtype in (None, "auto") else getattr(torch, dtype)
    quantization = quantization_config(load_in_4bit, load_in_8bit, torch_dtype, quant_type, nested)
    if quantization is not None and device_map is None:
        from accelerate import PartialState

        device_map = {"": PartialState().local_process_index}
    return {"revision": revision, "dtype": torch_dtype, "trust_remote_code": trust_remote_code,
            "attn_implementation": attn_implementation, "quantization_config": quantization,
            "device_map": device_map}


def ensure_special_tokens(tokenizer, config=None):
    """An end-of-sequence token (from the model config when the tokenizer has none) and a pad token."""
    if tokenizer.eos_token is None:
        eos = getattr(config, "eos_token_id", None)
        if isinstance(eos, (list, tuple)):
            eos = eos[0] if eos else None
        if eos is None:
            raise ValueError("the tokenizer has no end-of-sequence token and the model config names none; set "
                             "one (tokenizer.eos_token) before training: answers must end in it")
        tokenizer.eos_token = tokenizer.convert_ids_to_tokens(int(eos))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


ADAPTER_CONFIG = "adapter_config.json"  # PEFT's file in a LoRA adapter folder


def adapter_base(model_path: str | Path, base_model: str | None = None) -> tuple[str, str | None]:
    """(model to load, LoRA adapter folder or None): an adapter folder is loaded on its base model (the one its
    adapter_config.json names, or `base_model`)."""
    config = Path(model_path) / ADAPTER_CONFIG
    if not config.is_file():
        return str(model_path), None
    base = base_model or json.loads(config.read_text(encoding="utf-8")).get("base_model_name_or_path")
    if not base:
        raise ValueError(f"{ADAPTER_CONFIG} names no base model: pass --base_model")
    return base, str(model_path)


def lora_rank(adapter: str) -> int:
    """The LoRA rank an adapter folder was trained with."""
    return int(json.loads((Path(adapter) / ADAPTER_CONFIG).read_text(encoding="utf-8")).get("r", 16))
