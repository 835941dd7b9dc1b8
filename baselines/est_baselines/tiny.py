"""Small randomly-initialised models with character-level tokenizers, built locally (no download).

- A tiny Llama-style causal LM: used by the tests and bench/bench_baselines.py to exercise the LoRA/predict code
  paths on CPU in seconds, and handy for a smoke run of `run.py lora`. It learns nothing useful.

      python -m est_baselines.tiny OUT_DIR --from_est est

- A BERT-style encoder with one token per character: the starting point of the encoder baseline trained from scratch
  (no pretraining; `configs/encoder-from-scratch.yaml`) and of the encoder tests.

      python -m est_baselines.tiny OUT_DIR --from_est est --kind bert --hidden_size 128 --layers 2
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Iterable

from tokenizers import Tokenizer, decoders, models
from tokenizers.processors import TemplateProcessing
from transformers import (
    BertConfig,
    BertModel,
    BertTokenizerFast,
    LlamaConfig,
    LlamaForCausalLM,
    PreTrainedTokenizerFast,
)

from estbench.cli import add_option, positive_int
from estbench.prompts import TEMPLATES
from estbench.schema import TASKS, chinese_names

SPECIAL_TOKENS = {"pad_token": "<pad>", "unk_token": "<unk>", "bos_token": "<s>", "eos_token": "</s>"}
# A minimal chat template (role tags as plain text), so a tiny model can be served by `transformers serve` and asked
# through chat-completions endpoints in the tests and bench/bench_chat.py.
CHAT_TEMPLATE = ("{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def char_tokenizer(texts: Iterable[str]) -> PreTrainedTokenizerFast:
    """One token per character seen in `texts`, the prompt templates and the labels (so answers always encode).

    BOS is prepended to every encoded text, as Llama tokenizers do; padding is on the left for batched inference.
    """
    chars = set("".join(label for task in TASKS for label in task.labels)) | {"\n", " "}  # prompts join lines
    chars |= set("".join(name for task in TASKS for names in chinese_names(task).values() for name in names))
    chars |= set("<|>{}[]\":,userassistantsystem")  # chat template tags and JSON answers
    for language in TEMPLATES.values():
        chars.update("".join(str(value) for value in vars(language).values()))
        chars.update("".join(language.task_names.values()))
    for text in texts:
        chars.update(text)
    vocab = {token: i for i, token in enumerate(SPECIAL_TOKENS.values())}
    for char in sorted(chars):
        vocab.setdefault(char, len(vocab))
    # BPE without merges = one token per character, with no pre-tokenizer pass (a per-character regex split would be
    # ~3x slower and make tokenisation, not the model, dominate the benchmarks).
    backend = Tokenizer(models.BPE(vocab=vocab, merges=[], unk_token=SPECIAL_TOKENS["unk_token"]))
    backend.decoder = decoders.Fuse()
    bos = SPECIAL_TOKENS["bos_token"]
    backend.post_processor = TemplateProcessing(
        single=f"{bos} $A", pair=f"{bos} $A $B", special_tokens=[(bos, vocab[bos])]
    )
    return PreTrainedTokenizerFast(tokenizer_object=backend, padding_side="left", **SPECIAL_TOKENS)


def tiny_llama(tokenizer: PreTrainedTokenizerFast, *, hidden_size: int = 64, layers: int = 2, seed: int = 0,
               max_positions: int = 2048) -> LlamaForCausalLM:
    """A randomly initialised Llama with the given tokenizer's vocabulary (about 0.1-0.5 M parameters)."""
    import torch

    torch.manual_seed(seed)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=hidden_size * 2,
        num_hidden_layers=layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_positions,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True,
    )
    return LlamaForCausalLM(config)


def save_tiny_model(out_dir: str | Path, texts: Iterable[str], *, chat: bool = False, **kwargs) -> Path:
    """Build and save a tiny model + tokenizer that `from_pretrained(out_dir)` loads offline (with `chat`, the
    tokenizer carries `CHAT_TEMPLATE`)."""
    tokenizer = char_tokenizer(texts)
    if chat:
        tokenizer.chat_template = CHAT_TEMPLATE
    model = tiny_llama(tokenizer, **kwargs)
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


BERT_SPECIAL_TOKENS = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def save_char_bert(out_dir: str | Path, texts: Iterable[str], *, hidden_size: int = 128, layers: int = 2,
                   seed: int = 0, max_positions: int = 512) -> Path:
    """A randomly initialised BERT whose WordPiece vocabulary is every character of `texts`, saved for AutoModel.

    The encoder baseline joins its two segments with " | " (est_baselines.encoder), so those characters are included.
    """
    import torch

    chars = set(" |")
    for text in texts:
        chars.update(text)
    chars -= set(BERT_SPECIAL_TOKENS) | {"\n", "\t", "\r"}  # whitespace never reaches WordPiece
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    pieces = sorted(chars - {" "})
    # "##c" continues a word: without it WordPiece turns every Latin word or number ("num", "5G") into [UNK]
    tokens = [*BERT_SPECIAL_TOKENS, *pieces, *(f"##{c}" for c in pieces)]
    # the vocabulary is passed as a mapping: transformers 5 ignores a `vocab_file=` argument (every token [UNK])
    tokenizer = BertTokenizerFast(vocab={token: i for i, token in enumerate(tokens)}, do_lower_case=False,
                                  tokenize_chinese_chars=True)
    torch.manual_seed(seed)
    model = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=hidden_size, num_hidden_layers=layers,
                                 num_attention_heads=max(2, hidden_size // 64), intermediate_size=4 * hidden_size,
                                 max_position_embeddings=max_positions))
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", help="where to save the model and tokenizer")
    add_option(parser, "from_est", default="est", help="built dataset whose texts give the character vocabulary")
    add_option(parser, "kind", choices=["llama", "bert"], default="llama",
                        help="llama: tiny causal LM for run.py lora; bert: encoder for run.py encoder")
    add_option(parser, "hidden_size", type=positive_int, help="hidden width (default: llama 64, bert 128)")
    add_option(parser, "layers", type=positive_int, default=2, help="number of layers (default: 2)")
    add_option(parser, "seed", type=int, default=0, help="initialisation seed (default: 0)")
    args = parser.parse_args(argv)
    from estbench.built import load_split

    frame = load_split(args.from_est, "joint", "train")
    texts = [str(v) for column in ("context", "text", "anchor") for v in frame[column].fillna("")]
    if args.kind == "bert":
        out = save_char_bert(args.out_dir, texts, hidden_size=args.hidden_size or 128, layers=args.layers,
                             seed=args.seed)
    else:
        out = save_tiny_model(args.out_dir, texts, hidden_size=args.hidden_size or 64, layers=args.layers,
                              seed=args.seed)
    print(out)


if __name__ == "__main__":
    main()
