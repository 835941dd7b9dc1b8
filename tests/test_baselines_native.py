"""Converting the paper's custom-code checkpoints to native transformers models (est_baselines.native), offline.

Each test builds a tiny random native model (the reference), writes the same weights in the custom checkpoint's
layout and config (as its own loader reads them: fused W_pack, Baichuan2's unnormalised NormHead, Qwen v1's c_attn
and w1/w2, TeleChat2's per-head interleaved key_value), converts, and checks the converted model gives the
reference's logits; the tokenizers are compared with the libraries the custom code uses (sentencepiece, tiktoken).
"""

from __future__ import annotations

import base64
import json
import unicodedata
from collections import Counter
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

from est_baselines.native import QWEN_PATTERN, QWEN_SPECIAL_TOKENS, convert, main

SAMPLES = ["您好，我的宽带又断了，这个月已经第[num]次了", "我要投诉！5G套餐怎么扣了 [num] 元？",
           "OK 谢谢你  再见",
           "情绪：Anger\n满意度：Dissatisfied", "ｆｕｌｌwidth　空格 and tabs\there"]
SHAPE = dict(hidden_size=32, num_attention_heads=4, num_key_value_heads=4, num_hidden_layers=2, intermediate_size=48)


def _logits(model, ids):
    with torch.no_grad():
        return model(input_ids=ids).logits


def _gpt_layout(state: dict, embeddings: str, names: dict) -> dict:
    """A native state dict's tensors under a GPT-style checkpoint's names (`transformer.h.N.<custom>`)."""
    source = {f"transformer.{embeddings}.weight": state["model.embed_tokens.weight"],
              "transformer.ln_f.weight": state["model.norm.weight"], "lm_head.weight": state["lm_head.weight"]}
    for layer in range(SHAPE["num_hidden_layers"]):
        for native, custom in names.items():
            source[f"transformer.h.{layer}.{custom}.weight"] = state[f"model.layers.{layer}.{native}.weight"]
    return source


def _ids(vocab: int):
    return torch.randint(0, vocab, (2, 12), generator=torch.Generator().manual_seed(0))


@pytest.fixture(scope="module")
def spm_model(tmp_path_factory):
    """A small SentencePiece BPE model with byte fallback and no dummy prefix, as Baichuan2's tokenizer.model."""
    import sentencepiece

    folder = tmp_path_factory.mktemp("spm")
    corpus = folder / "corpus.txt"
    dialogue = ["客服：请问还有什么可以帮您", "用户：没有了谢谢"]
    corpus.write_text("\n".join(SAMPLES * 20 + dialogue * 20), encoding="utf-8")
    sentencepiece.SentencePieceTrainer.train(
        input=str(corpus), model_prefix=str(folder / "sp"), vocab_size=450, model_type="bpe", byte_fallback=True,
        add_dummy_prefix=False, character_coverage=1.0, bos_id=1, eos_id=2, unk_id=0, pad_id=-1,
        minloglevel=2)
    return folder / "sp.model"


def _spm_source(folder: Path, spm_model: Path, config: dict, tensors: dict, *, bin_file: bool) -> Path:
    folder.mkdir(parents=True)
    (folder / "config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "tokenizer_config.json").write_text(json.dumps(
        {"add_bos_token": False, "add_eos_token": False, "bos_token": "<s>", "eos_token": "</s>",
         "unk_token": "<unk>", "tokenizer_class": "CustomTokenizer"}), encoding="utf-8")
    (folder / "tokenizer.model").write_bytes(spm_model.read_bytes())
    if bin_file:
        torch.save(tensors, folder / "pytorch_model.bin")
    else:
        save_file(tensors, folder / "model.safetensors")
    return folder


def _assert_spm_tokenizer(out: Path, spm_model: Path):
    import sentencepiece
    from transformers import AutoTokenizer

    reference = sentencepiece.SentencePieceProcessor(model_file=str(spm_model))
    tokenizer = AutoTokenizer.from_pretrained(out)
    for text in [*SAMPLES, "猫咪🙂 never seen"]:  # the last through byte fallback
        assert tokenizer(text)["input_ids"] == reference.encode(text), text
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == reference.decode(reference.encode(text))
    assert (tokenizer.eos_token, tokenizer.bos_token) == ("</s>", "<s>")
    _assert_decodable(tokenizer)


def _assert_decodable(tokenizer):
    """The constrained decoder's answer trie builds on the converted tokenizer (every answer distinguishable)."""
    from est_baselines.label_scoring import answer_trie
    from estbench.schema import TASKS

    assert len(answer_trie(tokenizer, TASKS).answers) == 7 * 9 * 3


def test_baichuan2_becomes_llama_with_the_same_logits(tmp_path, spm_model):
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    vocab = 125696  # Baichuan2's vocabulary: its head is a NormHead
    reference = LlamaForCausalLM(LlamaConfig(vocab_size=vocab, rms_norm_eps=1e-6, max_position_embeddings=4096,
                                             tie_word_embeddings=False, **SHAPE)).eval()
    with torch.no_grad():
        reference.lm_head.weight.copy_(torch.nn.functional.normalize(reference.lm_head.weight, dim=-1))
    source = {}
    for name, tensor in reference.state_dict().items():
        if ".self_attn.q_proj." in name:
            k, v = (reference.state_dict()[name.replace("q_proj", part)] for part in ("k_proj", "v_proj"))
            source[name.replace("q_proj", "W_pack")] = torch.cat([tensor, k, v])
        elif ".self_attn.k_proj." in name or ".self_attn.v_proj." in name:
            continue
        elif name == "lm_head.weight":  # stored unnormalised; NormHead normalises the rows
            source[name] = tensor * torch.rand(vocab, 1, generator=torch.Generator().manual_seed(1)).add(0.5)
        else:
            source[name] = tensor.clone()
    config = {"architectures": ["BaichuanForCausalLM"], "model_type": "baichuan", "vocab_size": vocab,
              "rms_norm_eps": 1e-6, "model_max_length": 4096, "tie_word_embeddings": False, "torch_dtype": "float32",
              "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 0, **SHAPE}
    folder = _spm_source(tmp_path / "baichuan", spm_model, config, source, bin_file=True)

    out = convert(folder, tmp_path / "native")
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    assert type(model).__name__ == "LlamaForCausalLM"
    assert torch.allclose(_logits(model, _ids(vocab)), _logits(reference, _ids(vocab)), atol=1e-5)
    _assert_spm_tokenizer(out, spm_model)
    assert not (out / "modeling_baichuan.py").exists()
    assert "auto_map" not in json.loads((out / "config.json").read_text())


@pytest.mark.parametrize("kv_heads", [4, 2])  # the 7B model's one key/value head per head, and grouped heads
def test_telechat2_becomes_llama_with_zero_biases_and_the_same_logits(tmp_path, spm_model, kv_heads):
    from transformers import AutoModelForCausalLM, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    vocab, head_dim = 320, SHAPE["hidden_size"] // SHAPE["num_attention_heads"]
    reference = LlamaForCausalLM(LlamaConfig(vocab_size=vocab, attention_bias=True, mlp_bias=True,
                                             tie_word_embeddings=False,
                                             **{**SHAPE, "num_key_value_heads": kv_heads})).eval()
    state = reference.state_dict()
    with torch.no_grad():  # TeleChat2 has biases on the attention output and the down projection only
        for name, tensor in state.items():
            if name.endswith("bias") and not (".o_proj." in name or ".down_proj." in name):
                tensor.zero_()
            elif name.endswith("bias"):
                tensor.normal_()
    names = {"self_attn.q_proj": "self_attention.query", "self_attn.o_proj": "self_attention.dense",
             "mlp.gate_proj": "mlp.gate_proj", "mlp.up_proj": "mlp.up_proj", "mlp.down_proj": "mlp.down_proj",
             "input_layernorm": "input_layernorm", "post_attention_layernorm": "post_attention_layernorm"}
    source = _gpt_layout(state, "word_embeddings", names)
    for layer in range(SHAPE["num_hidden_layers"]):
        prefix = f"model.layers.{layer}."
        for native, custom in (("self_attn.o_proj", "self_attention.dense"), ("mlp.down_proj", "mlp.down_proj")):
            source[f"transformer.h.{layer}.{custom}.bias"] = state[f"{prefix}{native}.bias"]
        k, v = (state[f"{prefix}self_attn.{part}.weight"].reshape(kv_heads, head_dim, -1)
                for part in ("k_proj", "v_proj"))
        source[f"transformer.h.{layer}.self_attention.key_value.weight"] = torch.stack([k, v], 1).reshape(
            2 * kv_heads * head_dim, -1)
    config = {"architectures": ["TeleChat2ForCausalLM"], "model_type": "telechat", "vocab_size": vocab,
              "hidden_size": SHAPE["hidden_size"], "n_head": SHAPE["num_attention_heads"],
              "num_key_value_heads": kv_heads, "n_layer": SHAPE["num_hidden_layers"],
              "ffn_hidden_size": SHAPE["intermediate_size"], "layer_norm_epsilon": 1e-6, "tie_word_embeddings": False}
    folder = _spm_source(tmp_path / "telechat2", spm_model, config, source, bin_file=False)

    out = convert(folder, tmp_path / "native")
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    assert type(model).__name__ == "LlamaForCausalLM"
    assert torch.allclose(_logits(model, _ids(vocab)), _logits(reference, _ids(vocab)), atol=1e-5)
    assert not model.model.layers[0].self_attn.k_proj.bias.detach().any()  # written as zeros
    _assert_spm_tokenizer(out, spm_model)


def _bpe_ranks(texts: list[str], merges: int) -> dict[bytes, int]:
    """A byte-level BPE's ranks, learnt from `texts` (the form of qwen.tiktoken): every byte, then each merge."""
    ranks = {bytes([b]): b for b in range(256)}
    words = [[bytes([b]) for b in text.encode("utf-8")] for text in texts]
    for _ in range(merges):
        pairs = Counter(pair for word in words for pair in zip(word, word[1:]))
        if not pairs:
            break
        (left, right), _ = pairs.most_common(1)[0]
        ranks.setdefault(left + right, len(ranks))
        for i, word in enumerate(words):
            merged, j = [], 0
            while j < len(word):
                if j + 1 < len(word) and (word[j], word[j + 1]) == (left, right):
                    merged.append(left + right)
                    j += 2
                else:
                    merged.append(word[j])
                    j += 1
            words[i] = merged
    return ranks


def test_qwen_v1_becomes_qwen2_with_the_same_logits_and_tokens(tmp_path):
    import tiktoken
    from transformers import AutoModelForCausalLM, AutoTokenizer, Qwen2Config, Qwen2ForCausalLM

    ranks = _bpe_ranks(SAMPLES * 3, merges=120)
    vocab = len(ranks) + len(QWEN_SPECIAL_TOKENS)
    torch.manual_seed(0)
    reference = Qwen2ForCausalLM(Qwen2Config(vocab_size=vocab, rms_norm_eps=1e-6, max_position_embeddings=8192,
                                             tie_word_embeddings=False, **SHAPE)).eval()
    state = reference.state_dict()
    names = {"input_layernorm": "ln_1", "post_attention_layernorm": "ln_2", "self_attn.o_proj": "attn.c_proj",
             "mlp.gate_proj": "mlp.w2", "mlp.up_proj": "mlp.w1", "mlp.down_proj": "mlp.c_proj"}
    source = _gpt_layout(state, "wte", names)
    for layer in range(SHAPE["num_hidden_layers"]):
        prefix = f"model.layers.{layer}."
        for kind in ("weight", "bias"):
            source[f"transformer.h.{layer}.attn.c_attn.{kind}"] = torch.cat(
                [state[f"{prefix}self_attn.{part}.{kind}"] for part in ("q_proj", "k_proj", "v_proj")])
    folder = tmp_path / "qwen"
    folder.mkdir()
    first = {k: v for k, v in source.items() if ".h.1." not in k}  # two shards, as the real checkpoint has eight
    save_file(first, folder / "model-00001-of-00002.safetensors")
    save_file({k: v for k, v in source.items() if k not in first}, folder / "model-00002-of-00002.safetensors")
    (folder / "config.json").write_text(json.dumps(
        {"architectures": ["QWenLMHeadModel"], "model_type": "qwen", "vocab_size": vocab, "layer_norm_epsilon": 1e-6,
         "rotary_emb_base": 10000, "rotary_pct": 1.0, "seq_length": 8192, "kv_channels": 8, "no_bias": True,
         "tie_word_embeddings": False, **{**SHAPE, "intermediate_size": 2 * SHAPE["intermediate_size"]}}))
    (folder / "qwen.tiktoken").write_bytes(b"".join(base64.b64encode(t) + b" %d\n" % r for t, r in ranks.items()))
    (folder / "tokenizer_config.json").write_text(json.dumps({"tokenizer_class": "QWenTokenizer"}))

    out = convert(folder, tmp_path / "native")
    model = AutoModelForCausalLM.from_pretrained(out).eval()
    assert type(model).__name__ == "Qwen2ForCausalLM"
    assert torch.allclose(_logits(model, _ids(vocab)), _logits(reference, _ids(vocab)), atol=1e-5)
    encoding = tiktoken.Encoding("qwen-test", pat_str=QWEN_PATTERN, mergeable_ranks=ranks,
                                 special_tokens={t: len(ranks) + i for i, t in enumerate(QWEN_SPECIAL_TOKENS)})
    tokenizer = AutoTokenizer.from_pretrained(out)
    for text in [*SAMPLES, "<|im_start|>user\n你好<|im_end|><|endoftext|>", "cafe\u0301 ok"]:  # the last: NFD
        normalised = unicodedata.normalize("NFC", text)  # as QWenTokenizer.tokenize does first
        assert tokenizer(text)["input_ids"] == encoding.encode(normalised, allowed_special="all"), text
        assert tokenizer.decode(tokenizer(text)["input_ids"]) == normalised
    assert tokenizer.eos_token == "<|endoftext|>" and tokenizer.eos_token_id == len(ranks)
    _assert_decodable(tokenizer)


def test_refusals_name_the_reason_and_leave_nothing_behind(tmp_path, spm_model, capsys):
    folder = tmp_path / "src"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps({"architectures": ["LlamaForCausalLM"]}))
    with pytest.raises(SystemExit, match="architecture LlamaForCausalLM: nothing to convert"):
        main([str(folder), str(tmp_path / "out")])
    (folder / "config.json").write_text(json.dumps(
        {"architectures": ["BaichuanForCausalLM"], "vocab_size": 320, "rms_norm_eps": 1e-6, **SHAPE}))
    (folder / "modeling_baichuan.py").write_text("def _gen_alibi_mask(tensor, n_head, max_pos): ...\n")
    with pytest.raises(ValueError, match="ALiBi"):
        convert(folder, tmp_path / "out")
    (folder / "modeling_baichuan.py").unlink()
    torch.save({"model.embed_tokens.weight": torch.zeros(320, 32)}, folder / "pytorch_model.bin")
    with pytest.raises(ValueError, match=r"lacks \d+ tensors the native model needs"):
        convert(folder, tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["src"]  # no output, no staging folder
    existing = tmp_path / "kept"
    existing.mkdir()
    (existing / "x").write_text("mine")
    with pytest.raises(ValueError, match="exists"):
        convert(folder, existing)
    assert (existing / "x").read_text() == "mine"
