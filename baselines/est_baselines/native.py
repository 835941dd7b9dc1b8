r"""The paper's custom-code checkpoints as native transformers models: no remote code left to run.

Three of the paper's eight LLMs ship their own modelling and tokenizer code (`trust_remote_code`): Baichuan2-7B,
Qwen-7B (v1) and TeleChat2-7B. That code was written against the transformers of its day, and transformers 5 changed
the loading, cache and tokenizer internals it relies on (optimum-intel, for one, dropped Baichuan2's code as
incompatible with transformers >= 5). Their weights, though, are a Llama or a Qwen2 model under other names, so one
conversion gives a checkpoint that transformers 5 loads as its own architecture, with the same outputs:

| source (config.json `architectures`) | becomes | what the conversion does |
|---|---|---|
| Baichuan2-7B (`BaichuanForCausalLM`) | `LlamaForCausalLM` | `W_pack` split into q/k/v; head normalised once (1) |
| Qwen-7B v1 (`QWenLMHeadModel`) | `Qwen2ForCausalLM` | `c_attn` split into q/k/v with biases; MLP renamed (2) |
| TeleChat2-7B (`TeleChat2ForCausalLM`) | `LlamaForCausalLM` | `key_value` (interleaved per head) split into k/v (3) |

(1) Baichuan2 (rotary) normalises the head's rows at every forward (`NormHead`); the conversion does it once.
(2) `w2`/`w1`/`c_proj` are gate/up/down. (3) Llama with biases, zero where TeleChat2 has none.

GLM4-9B needs no conversion: `THUDM/glm-4-9b-hf` is its official native checkpoint (`GlmForCausalLM`). Qwen-7B v1
is identical up to its `seq_length` (8,192 tokens; EST's prompts are far shorter): beyond it v1 switches on dynamic
NTK and log-n attention scaling, which the converted model does not have (its `max_position_embeddings` says so).
Baichuan2-13B uses ALiBi, which no native architecture has, and is refused.

The tokenizer is converted too: a SentencePiece model (Baichuan2, TeleChat2) or Qwen's tiktoken ranks become a
`tokenizer.json` the tokenizers library runs (a SentencePiece model needs `sentencepiece` + `protobuf` to be read,
at conversion time only). Weights go shard by shard in their own dtype, so memory holds one shard; the output is
written next to its final place and moved there whole.

    python -m est_baselines.native baichuan-inc/Baichuan2-7B-Base converted/baichuan2-7b
    python baselines/run.py lora --track balanced --model_name_or_path converted/baichuan2-7b \
        --output predictions/baichuan2.csv
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

from estbench.cli import add_option

# Qwen v1's tokenizer (tokenization_qwen.py): its pre-tokenizer pattern and its special tokens, numbered after the
# 151,643 ranks of qwen.tiktoken in this order
QWEN_PATTERN = (r"""(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|"""
                r"""\s*[\r\n]+|\s+(?!\S)|\s+""")
QWEN_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", *(f"<|extra_{i}|>" for i in range(205))]
QWEN_TIKTOKEN = "qwen.tiktoken"


@dataclass(frozen=True)
class Conversion:
    model_type: str  # the native architecture's transformers model_type
    config: Callable[[dict], dict]  # source config.json -> the native config's fields
    rename: Callable[[str, "object", dict], Iterator[tuple[str, "object"]]]  # one source tensor -> native tensors
    check: Callable[[dict, Path], None] = lambda config, folder: None
    # native tensors the source may lack and that are then written as zeros (the same function), by name ending
    zero_fill: tuple[str, ...] = ()


def _layer(name: str) -> tuple[str, str] | None:
    match = re.match(r"^(?:model|transformer)\.(?:layers|h)\.(\d+)\.(.+)$", name)
    return (match.group(1), match.group(2)) if match else None


def _common(config: dict, *, heads: str, layers: str, ffn: str, eps: str) -> dict:
    """The fields every target shares; each source name falls back to the standard one (later configs use those)."""
    def value(name: str, standard: str):
        if config.get(name) is None and config.get(standard) is None:
            raise ValueError(f"config.json has neither {name} nor {standard}")
        return config[name] if config.get(name) is not None else config[standard]

    heads_count = value(heads, "num_attention_heads")
    return {"hidden_size": config["hidden_size"], "num_attention_heads": heads_count,
            "num_key_value_heads": config.get("num_key_value_heads") or heads_count,
            "num_hidden_layers": value(layers, "num_hidden_layers"),
            "intermediate_size": value(ffn, "intermediate_size"),
            "rms_norm_eps": value(eps, "rms_norm_eps"),
            "vocab_size": config["vocab_size"], "hidden_act": "silu",
            "tie_word_embeddings": bool(config.get("tie_word_embeddings", False)),
            "dtype": config.get("dtype") or config.get("torch_dtype") or "float32",
            **{key: config[key] for key in ("bos_token_id", "eos_token_id", "pad_token_id", "initializer_range")
               if config.get(key) is not None}}


# --- Baichuan2-7B -> Llama ---------------------------------------------------------------------------------------

def _baichuan_config(config: dict) -> dict:
    out = _common(config, heads="num_attention_heads", layers="num_hidden_layers", ffn="intermediate_size",
                  eps="rms_norm_eps")
    positions = config.get("max_position_embeddings") or config.get("model_max_length", 4096)
    return {**out, "max_position_embeddings": positions, "rope_theta": float(config.get("rope_theta", 10000.0))}


def _baichuan_check(config: dict, folder: Path) -> None:
    modelling = "".join(p.read_text(encoding="utf-8", errors="replace") for p in folder.glob("modeling_*.py"))
    if "alibi" in modelling.lower() or config.get("num_hidden_layers") == 40:
        raise ValueError("this Baichuan checkpoint uses ALiBi position biases (the 13B models), which no native "
                         "transformers architecture has; only the rotary 7B models convert")


def _baichuan_tensors(name: str, tensor, config: dict):
    import torch

    if name.endswith("rotary_emb.inv_freq"):  # recomputed by the native model
        return
    if name.endswith("self_attn.W_pack.weight"):
        for part, piece in zip(("q_proj", "k_proj", "v_proj"), tensor.chunk(3, dim=0)):
            yield name.replace("W_pack", part), piece.contiguous()
    elif name == "lm_head.weight" and config["vocab_size"] == 125696:
        # Baichuan2's NormHead (not Baichuan 1's plain head): logits use the L2-normalised rows
        yield name, torch.nn.functional.normalize(tensor.float(), dim=-1).to(tensor.dtype)
    else:
        yield name, tensor


# --- Qwen-7B v1 -> Qwen2 -----------------------------------------------------------------------------------------

QWEN_NAMES = {"ln_1": "input_layernorm", "ln_2": "post_attention_layernorm", "attn.c_proj": "self_attn.o_proj",
              "mlp.w2": "mlp.gate_proj", "mlp.w1": "mlp.up_proj", "mlp.c_proj": "mlp.down_proj"}


def _qwen_config(config: dict) -> dict:
    # v1's intermediate_size counts w1 and w2 together
    out = _common({**config, "intermediate_size": config["intermediate_size"] // 2}, heads="num_attention_heads",
                  layers="num_hidden_layers", ffn="intermediate_size", eps="layer_norm_epsilon")
    return {**out, "max_position_embeddings": config.get("seq_length", config.get("max_position_embeddings", 8192)),
            "rope_theta": float(config.get("rotary_emb_base", 10000.0)), "use_sliding_window": False}


def _qwen_check(config: dict, folder: Path) -> None:
    if float(config.get("rotary_pct", 1.0)) != 1.0:
        raise ValueError(f"rotary_pct {config['rotary_pct']}: only fully rotary Qwen v1 checkpoints convert")
    if config.get("kv_channels", config["hidden_size"] // config["num_attention_heads"]) * \
            config["num_attention_heads"] != config["hidden_size"]:
        raise ValueError("kv_channels x num_attention_heads differs from hidden_size: not a Qwen2 shape")


def _outer(name: str, embeddings: str) -> str | None:
    """The native name of a tensor outside the layers (GPT-style `transformer.` checkpoints)."""
    return {embeddings: "model.embed_tokens.weight", "transformer.ln_f.weight": "model.norm.weight",
            "lm_head.weight": "lm_head.weight"}.get(name)


def _inner(name: str, family: str) -> tuple[str, str, str]:
    """(native layer prefix, module path inside the layer, weight/bias) of a layer tensor."""
    layer = _layer(name)
    if layer is None:
        raise ValueError(f"unexpected {family} tensor {name}")
    module, kind = layer[1].rsplit(".", 1)
    return f"model.layers.{layer[0]}.", module, kind


def _qwen_tensors(name: str, tensor, config: dict):
    if name.endswith("rotary_emb.inv_freq"):
        return
    if (native := _outer(name, "transformer.wte.weight")) is not None:
        yield native, tensor
        return
    prefix, module, kind = _inner(name, "Qwen v1")
    if module == "attn.c_attn":
        for part, piece in zip(("q_proj", "k_proj", "v_proj"), tensor.chunk(3, dim=0)):
            yield f"{prefix}self_attn.{part}.{kind}", piece.contiguous()
    elif module in QWEN_NAMES:
        yield f"{prefix}{QWEN_NAMES[module]}.{kind}", tensor
    else:
        raise ValueError(f"unexpected Qwen v1 tensor {name}")


# --- TeleChat2-7B -> Llama with biases ---------------------------------------------------------------------------

TELECHAT_NAMES = {"input_layernorm": "input_layernorm", "post_attention_layernorm": "post_attention_layernorm",
                  "self_attention.query": "self_attn.q_proj", "self_attention.dense": "self_attn.o_proj",
                  "mlp.gate_proj": "mlp.gate_proj", "mlp.up_proj": "mlp.up_proj", "mlp.down_proj": "mlp.down_proj"}


def _telechat_config(config: dict) -> dict:
    out = _common(config, heads="n_head", layers="n_layer", ffn="ffn_hidden_size", eps="layer_norm_epsilon")
    # TeleChat2 has biases on the attention output and the MLP's down projection only; Llama's switches add them to
    # every projection, and the ones TeleChat2 lacks are written as zeros (the same function)
    return {**out, "attention_bias": True, "mlp_bias": True, "rope_theta": float(config.get("rope_theta", 10000.0)),
            "max_position_embeddings": config.get("training_seqlen", config.get("seq_length", 8192))}


def _telechat_tensors(name: str, tensor, config: dict):
    if (native := _outer(name, "transformer.word_embeddings.weight")) is not None:
        yield native, tensor
        return
    prefix, module, kind = _inner(name, "TeleChat2")
    if module == "self_attention.key_value":  # rows: k of head 0, v of head 0, k of head 1, ...
        head_dim = config["hidden_size"] // (config.get("n_head") or config["num_attention_heads"])
        pairs = tensor.reshape(-1, 2, head_dim, *tensor.shape[1:])
        for part, piece in (("k_proj", pairs[:, 0]), ("v_proj", pairs[:, 1])):
            yield f"{prefix}self_attn.{part}.{kind}", piece.reshape(-1, *tensor.shape[1:]).contiguous()
    elif module in TELECHAT_NAMES:
        yield f"{prefix}{TELECHAT_NAMES[module]}.{kind}", tensor
    else:
        raise ValueError(f"unexpected TeleChat2 tensor {name}")


# TeleChat2 has no bias on these; Llama's switches give them one
TELECHAT_ZERO_BIASES = tuple(f"{part}.bias" for part in ("q_proj", "k_proj", "v_proj", "gate_proj", "up_proj"))

CONVERSIONS = {
    "BaichuanForCausalLM": Conversion("llama", _baichuan_config, _baichuan_tensors, _baichuan_check),
    "QWenLMHeadModel": Conversion("qwen2", _qwen_config, _qwen_tensors, _qwen_check),
    "TeleChat2ForCausalLM": Conversion("llama", _telechat_config, _telechat_tensors,
                                       zero_fill=TELECHAT_ZERO_BIASES),
    "TelechatForCausalLM": Conversion("llama", _telechat_config, _telechat_tensors, zero_fill=TELECHAT_ZERO_BIASES),
}


# --- reading and writing -----------------------------------------------------------------------------------------

def _weight_files(folder: Path) -> list[Path]:
    for pattern in ("*.safetensors", "pytorch_model*.bin"):
        files = sorted(folder.glob(pattern))
        if files:
            return files
    raise ValueError("no weights (*.safetensors or pytorch_model*.bin) in the source folder")


def _read(path: Path) -> dict:
    if path.suffix == ".safetensors":
        from safetensors.torch import load_file

        return load_file(path)
    import torch

    return torch.load(path, map_location="cpu", weights_only=True)


def read_tiktoken_ranks(path: str | Path) -> dict[bytes, int]:
    """A tiktoken ranks file: one `<base64 token> <rank>` per line."""
    ranks = {}
    for number, line in enumerate(Path(path).read_bytes().splitlines(), start=1):
        if line.strip():
            try:
                token, rank = line.split()
                ranks[base64.b64decode(token, validate=True)] = int(rank)
            except ValueError as error:
                raise ValueError(f"{Path(path).name} line {number}: not '<base64 token> <rank>'") from error
    return ranks


def _convert_tokenizer(source: Path, out: Path, config: dict) -> None:
    from transformers import AutoTokenizer, PreTrainedTokenizerFast

    settings = json.loads((source / "tokenizer_config.json").read_text(encoding="utf-8")) \
        if (source / "tokenizer_config.json").is_file() else {}
    keep = {key: settings[key] for key in ("chat_template", "model_max_length") if key in settings}
    if (source / QWEN_TIKTOKEN).is_file():
        from tokenizers import normalizers
        from transformers.convert_slow_tokenizer import TikTokenConverter

        class QwenConverter(TikTokenConverter):
            load_tiktoken_bpe = staticmethod(read_tiktoken_ranks)  # tiktoken's reader would cache a copy in /tmp

        backend = QwenConverter(vocab_file=str(source / QWEN_TIKTOKEN), pattern=QWEN_PATTERN,
                                extra_special_tokens=QWEN_SPECIAL_TOKENS).converted()
        backend.normalizer = normalizers.NFC()  # QWenTokenizer NFC-normalises every text before encoding
        # Qwen v1 ends documents with <|endoftext|> (its tokenizer names no eos); it pads with it too
        tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|endoftext|>",
                                            pad_token="<|endoftext|>", **keep)
    elif (source / "tokenizer.model").is_file():
        specials = {}
        for key in ("bos_token", "eos_token", "unk_token", "pad_token"):
            value = settings.get(key)
            value = value.get("content") if isinstance(value, dict) else value
            if value:
                specials[key] = value
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copy(source / "tokenizer.model", Path(scratch) / "tokenizer.model")
            # the generic backend follows the SentencePiece model's own normalizer, merges and byte fallback
            (Path(scratch) / "tokenizer_config.json").write_text(json.dumps(
                {"tokenizer_class": "TokenizersBackend", **specials, **keep}), encoding="utf-8")
            tokenizer = AutoTokenizer.from_pretrained(scratch)
        _add_specials(tokenizer, settings)
    else:
        raise ValueError("no tokenizer (tokenizer.model or qwen.tiktoken) in the source folder")
    tokenizer.save_pretrained(out)


def _add_specials(tokenizer, settings: dict) -> None:
    """BOS/EOS added to every encoded text where the source tokenizer's config asks for it (its default: neither)."""
    from tokenizers.processors import TemplateProcessing

    before = [tokenizer.bos_token] if settings.get("add_bos_token") and tokenizer.bos_token else []
    after = [tokenizer.eos_token] if settings.get("add_eos_token") and tokenizer.eos_token else []
    if before or after:
        single = " ".join([*before, "$A", *after])
        pair = " ".join([*before, "$A", *after, *before, "$B", *after])
        specials = [(token, tokenizer.convert_tokens_to_ids(token)) for token in {*before, *after}]
        tokenizer.backend_tokenizer.post_processor = TemplateProcessing(single=single, pair=pair,
                                                                        special_tokens=specials)


def convert(source: str | Path, out: str | Path, *, overwrite: bool = False) -> Path:
    """Convert a local folder (or a Hub id, downloaded first) into `out`; returns `out`."""
    import torch
    from safetensors.torch import save_file
    from tqdm.auto import tqdm
    from transformers import AutoConfig, AutoModelForCausalLM

    source, out = Path(_local(source)), Path(out)
    if out.exists() and not overwrite:
        raise ValueError(f"{out} exists (give --overwrite to replace it)")
    config = json.loads((source / "config.json").read_text(encoding="utf-8"))
    architecture = (config.get("architectures") or ["?"])[0]
    if architecture not in CONVERSIONS:
        raise ValueError(f"architecture {architecture}: nothing to convert (supported: {', '.join(CONVERSIONS)}); "
                         "a model transformers knows natively loads as it is")
    conversion = CONVERSIONS[architecture]
    conversion.check(config, source)
    files = _weight_files(source)
    native = AutoConfig.for_model(conversion.model_type, **conversion.config(config))
    with torch.device("meta"):
        expected = {name: value.shape for name, value in AutoModelForCausalLM.from_config(native).state_dict().items()}
    if native.tie_word_embeddings:
        expected.pop("lm_head.weight", None)

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        shards: list[set[str]] = []  # the names each written shard holds, in order

        def write(tensors: dict) -> None:
            save_file(tensors, staging / f"part-{len(shards)}.safetensors", metadata={"format": "pt"})
            shards.append(set(tensors))

        for path in tqdm(files, desc="converting", unit="shard"):
            tensors = {new: value for name, tensor in _read(path).items()
                       for new, value in conversion.rename(name, tensor, config)}
            unknown = set(tensors) - set(expected)
            if unknown:
                raise ValueError(f"{path.name}: converted tensors the native model has no place for: "
                                 f"{sorted(unknown)[:5]}")
            write(tensors)
            dtype = next(iter(tensors.values())).dtype  # a checkpoint's weights share one dtype
        missing = set(expected).difference(*shards)
        zeros = {name for name in missing if name.endswith(conversion.zero_fill)}
        if missing - zeros:
            raise ValueError(f"the checkpoint lacks {len(missing - zeros)} tensors the native model needs, e.g. "
                             f"{sorted(missing - zeros)[:5]}")
        if zeros:
            write({name: torch.zeros(expected[name], dtype=dtype) for name in sorted(zeros)})
        weight_map = {}
        for number, names in enumerate(shards, start=1):
            shard = f"model-{number:05d}-of-{len(shards):05d}.safetensors"
            (staging / f"part-{number - 1}.safetensors").rename(staging / shard)
            weight_map.update(dict.fromkeys(names, shard))
        (staging / "model.safetensors.index.json").write_text(json.dumps(
            {"metadata": {}, "weight_map": dict(sorted(weight_map.items()))}, indent=2), encoding="utf-8")
        native.save_pretrained(staging)
        if (source / "generation_config.json").is_file():
            shutil.copy(source / "generation_config.json", staging / "generation_config.json")
        _convert_tokenizer(source, staging, config)
        if out.exists():
            shutil.rmtree(out)
        staging.rename(out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def _local(source: str | Path) -> Path:
    if Path(source).is_dir():
        return Path(source)
    from huggingface_hub import snapshot_download

    return Path(snapshot_download(str(source), allow_patterns=["*.json", "*.py", "*.safetensors", "*.bin",
                                                               "tokenizer.model", QWEN_TIKTOKEN]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m est_baselines.native", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("source", help="the custom-code checkpoint: a local folder or a Hub id")
    parser.add_argument("out", help="folder to write the native checkpoint to")
    add_option(parser, "overwrite", action="store_true", help="replace OUT if it exists")
    args = parser.parse_args(argv)
    try:
        print(convert(args.source, args.out, overwrite=args.overwrite))
    except (ValueError, FileNotFoundError) as error:
        raise SystemExit(f"error: {error}") from error


if __name__ == "__main__":
    main()
