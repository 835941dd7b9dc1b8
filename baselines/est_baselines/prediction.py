r"""Write a leaderboard-ready prediction file with a (LoRA-)fine-tuned causal LM.

    python baselines/predict.py --model_name_or_path baselines/outputs/llama3-8b-lora --est_dir est \
        --track balanced --split test --output predictions/llama3-8b-balanced.csv

--model_name_or_path (formerly --model_path) is either a LoRA adapter folder (as saved by lora_finetune.py; the
base model named in its adapter_config.json is loaded, or --base_model) or a full/merged model folder. --merge
folds the adapter into the base weights before predicting (faster inference, same predictions up to float
rounding).

Either way of choosing labels (baselines/label_scoring.py, --method) makes an answer outside the label set impossible:

- constrained (default): the paper's protocol (the model generates the answer), restricted to valid answers. Greedy
  decoding over a token trie of the valid answers: forced tokens are fed in chunks and the model is consulted only
  where valid answers branch, taking the likeliest allowed token there. Wherever greedy generation would write a
  valid answer, this writes the same one up to near-ties of the logits (180/184 on the benchmark); it cannot write an
  invalid one. Fewer tokens (about the answer's length), about one call per branching point: 3.21-4.47x the
  throughput of generate-then-parse on the benchmark's tiny CPU model (bench/bench_baselines.py).
- score: exact. Each field takes the candidate label with the highest sequence log-likelihood (label + terminator),
  given the labels already chosen, which is not always what greedy generation writes. Every candidate's tokens are
  run (tree attention, one model call per field): fewer calls (prompt + 1 per field), which suits a large model on
  a GPU, but more tokens, so on a CPU it is slower than constrained decoding.

Rows are predicted in batches (left padding), longest prompts first. Under `accelerate launch --num_processes N
baselines/predict.py ...` every process loads the model on its own device and predicts every N-th row; the main
process writes the one file, identical to a single-process run (tested on CPU with two processes).
The prompt settings used in training are read from the folder's est_prompt.json (`estbench.prompts.PromptSettings`);
the flags --prompt_mode, --prompt_language, --max_context_chars and --chat_template override them.

`--engine vllm` (GPU, `pip install -r requirements-vllm.txt`) predicts the same file with vLLM instead: the same
prompts, decoding restricted to the valid answers, prefix caching, the adapter served on its base model
(baselines/est_baselines/vllm_engine.py; compared with the default engine by bench/gpu_check.sh).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Sequence

import pandas as pd
import torch
from tqdm.auto import tqdm

from estbench.built import load_track
from estbench.cli import add_option, positive_int
from estbench.layout import TRACKS
from estbench.prompts import PromptSettings, prompt_fields
from estbench.submission import check_prediction_path, predictions_frame, write_predictions

from .label_scoring import METHODS
from .loading import adapter_base, custom_code_hint, ensure_special_tokens, model_kwargs

ENGINES = ("hf", "vllm")


def load_for_prediction(model_path: str | Path, *, base_model: str | None = None, merge: bool = False,
                        dtype: str = "auto", device: str | None = None, trust_remote_code: bool = False,
                        device_map: str | None = None, load_in_4bit: bool = False, load_in_8bit: bool = False):
    """(model, tokenizer, the `PromptSettings` it was trained with) from an adapter folder or a full model folder /
    Hub id, loaded by the rules of `est_baselines.loading` (remote code, device map, 4/8-bit, EOS and pad tokens)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    model_path = Path(model_path)
    kwargs = model_kwargs(dtype=dtype, trust_remote_code=trust_remote_code, device_map=device_map,
                          load_in_4bit=load_in_4bit, load_in_8bit=load_in_8bit)
    base_name, adapter = adapter_base(model_path, base_model)
    with custom_code_hint(trust_remote_code):
        if adapter:
            from peft import PeftModel

            model = AutoModelForCausalLM.from_pretrained(base_name, **kwargs)
            model = PeftModel.from_pretrained(model, model_path)
            if merge:
                model = model.merge_and_unload()
            has_tokenizer = (model_path / "tokenizer_config.json").exists()
            tokenizer_source = model_path if has_tokenizer else base_name
        else:
            model = AutoModelForCausalLM.from_pretrained(str(model_path), **kwargs)
            tokenizer_source = str(model_path)
        tokenizer = AutoTokenizer.from_pretrained(tokenizer_source, trust_remote_code=trust_remote_code)
    tokenizer = ensure_special_tokens(tokenizer, model.config)
    tokenizer.padding_side = "left"
    if kwargs["device_map"] is None:  # placed by transformers otherwise
        model.to(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    model.eval()
    return model, tokenizer, PromptSettings.load(model_path)


def save_merged(model, tokenizer, settings: PromptSettings, out_dir: str | Path) -> Path:
    """Merged weights + tokenizer + prompt settings in one folder any engine can load as a plain model."""
    out_dir = Path(out_dir)
    model.save_pretrained(out_dir)
    tokenizer.save_pretrained(out_dir)
    settings.save(out_dir)
    return out_dir


def predict_rows(model, tokenizer, contexts: Sequence[str], texts: Sequence[str], *,
                 settings: PromptSettings = PromptSettings(), batch_size: int = 16, method: str = "constrained",
                 progress: bool = True, anchors: Sequence[str] | None = None) -> dict[str, list[str]]:
    """Labels for every row, in input order. Batches group rows of similar length to waste little on padding."""
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r} (expected one of: {', '.join(METHODS)})")
    predict_batch = METHODS[method]
    budget = settings.max_context_chars or 10**9
    anchors = [""] * len(texts) if anchors is None else list(anchors)
    order = sorted(range(len(texts)),
                   key=lambda i: -(min(len(contexts[i]), budget) + len(texts[i]) + len(anchors[i])))
    predictions: dict[str, list[str | None]] = {}
    batches = range(0, len(order), batch_size)
    for start in tqdm(batches, desc="predicting", unit="batch", disable=not progress):
        rows = order[start : start + batch_size]
        batch = predict_batch(model, tokenizer, [contexts[i] for i in rows], [texts[i] for i in rows],
                              settings=settings, anchors=[anchors[i] for i in rows])
        for task, labels in batch.items():
            column = predictions.setdefault(task, [None] * len(texts))
            for i, label in zip(rows, labels):
                column[i] = label
    return predictions


def predict_frame(model, tokenizer, frame: pd.DataFrame, **kwargs) -> pd.DataFrame:
    """A prediction table (id + three label columns) for the rows of a built split."""
    contexts, texts, anchors = prompt_fields(frame)
    predictions = predict_rows(model, tokenizer, contexts, texts, anchors=anchors, **kwargs)
    return predictions_frame(frame["id"].tolist(), predictions)


def _rows(args: argparse.Namespace) -> pd.DataFrame:
    frame = load_track(args.est_dir, args.track, args.split)
    return frame.head(args.limit) if args.limit else frame


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, "model_name_or_path", "--model_path", required=True,
               help="LoRA adapter folder, or a full model folder / Hub id")
    add_option(parser, "base_model", help="base model of the adapter (default: the one in adapter_config.json)")
    add_option(parser, "merge", action="store_true", help="merge the adapter into the base weights first")
    add_option(parser, "save_merged", metavar="DIR",
                        help="also write the merged model (weights, tokenizer, prompt settings) to DIR, for vLLM or "
                             "any engine; implies --merge")
    add_option(parser, "trust_remote_code", action="store_true",
                        help="run the model repo's own code (Baichuan2, TeleChat2, Qwen v1, GLM4)")
    add_option(parser, "device_map", help="transformers device_map, e.g. auto (default: one device)")
    quantized = parser.add_mutually_exclusive_group()
    add_option(quantized, "load_in_4bit", action="store_true", help="4-bit weights (bitsandbytes, GPU)")
    add_option(quantized, "load_in_8bit", action="store_true", help="8-bit weights (bitsandbytes, GPU)")
    add_option(parser, "est_dir", default="est", help="built dataset folder (default: est)")
    add_option(parser, "track", choices=TRACKS, default="balanced", help="leaderboard track")
    add_option(parser, "split", choices=["train", "validation", "test"], default="test", help="split to predict")
    add_option(parser, "output", required=True, help="prediction file to write (.csv or .jsonl)")
    add_option(parser, "batch_size", type=positive_int, default=16, help="utterances per batch (default: 16)")
    add_option(parser, "method", choices=list(METHODS), default="constrained",
                        help="constrained (default): the paper's generative protocol restricted to valid answers; "
                             "score: exact label log-likelihoods (see above)")
    add_option(parser, "limit", type=positive_int, help="predict only the first N rows (smoke tests)")
    PromptSettings.add_override_arguments(parser.add_argument_group(
        "prompt settings (default: as the model was trained, from its est_prompt.json)"))
    add_option(parser, "dtype", default="auto", choices=["auto", "bfloat16", "float16", "float32"])
    add_option(parser, "engine", choices=ENGINES, default="hf",
                        help="hf (default): transformers, --method decides; vllm: vLLM with output restricted to the "
                             "valid answers and prefix caching (GPU; requirements-vllm.txt)")
    args = parser.parse_args(argv)
    try:  # before the model is loaded
        check_prediction_path(args.output)
    except ValueError as error:
        parser.error(f"--output {error}")
    return args


def main(argv: list[str] | None = None) -> Path:
    args = parse_args(argv)
    try:
        return _predict(args)
    except (FileNotFoundError, ValueError) as error:  # bad input: one clear line, no traceback
        raise SystemExit(f"error: {error}") from error


def _predict(args: argparse.Namespace) -> Path:
    if args.engine == "vllm":
        return _predict_vllm(args)
    from accelerate import PartialState

    state = PartialState()  # one process, or each of `accelerate launch --num_processes N`
    model, tokenizer, settings = load_for_prediction(
        args.model_name_or_path, base_model=args.base_model, merge=args.merge or bool(args.save_merged),
        dtype=args.dtype, trust_remote_code=args.trust_remote_code, device_map=args.device_map,
        load_in_4bit=args.load_in_4bit, load_in_8bit=args.load_in_8bit,
        device=None if args.device_map else str(state.device))
    if args.save_merged and state.is_main_process:  # the merged model carries the settings it was trained with
        print(f"merged model written to {save_merged(model, tokenizer, settings, args.save_merged)}")
    settings = settings.override_from(args)
    frame = _rows(args)
    shard = frame.iloc[state.process_index::state.num_processes]  # every process predicts its own rows
    table = predict_frame(model, tokenizer, shard, settings=settings, batch_size=args.batch_size,
                          method=args.method, progress=state.is_main_process)
    if state.num_processes > 1:
        table = _gather(table, frame, Path(args.output), state)
        if not state.is_main_process:
            return Path(args.output)
    path = write_predictions(table, args.output)
    print(f"wrote {len(table)} predictions to {path}")
    return path


def _predict_vllm(args: argparse.Namespace) -> Path:
    from .vllm_engine import predict_with_vllm

    if args.merge or args.save_merged or args.load_in_4bit or args.load_in_8bit or args.device_map:
        raise ValueError("--engine vllm serves the adapter on its base model itself: --merge, --save_merged, "
                         "--load_in_4bit/8bit and --device_map are options of the hf engine")
    table = predict_with_vllm(args.model_name_or_path, _rows(args), base_model=args.base_model,
                              trust_remote_code=args.trust_remote_code, dtype=args.dtype,
                              settings=PromptSettings.load(args.model_name_or_path).override_from(args))
    path = write_predictions(table, args.output)
    print(f"wrote {len(table)} predictions to {path}")
    return path


def _gather(table: pd.DataFrame, frame: pd.DataFrame, output: Path, state) -> pd.DataFrame:
    """All processes' shards in the split's row order (on the main process; the others get their own shard).
    Shards pass through files beside the output, so nothing depends on a collective op for strings."""
    part = output.with_name(f".{output.name}.part-{state.process_index}.jsonl")
    table.to_json(part, orient="records", lines=True, force_ascii=False)
    state.wait_for_everyone()
    if state.is_main_process:
        parts = [output.with_name(f".{output.name}.part-{rank}.jsonl") for rank in range(state.num_processes)]
        merged = pd.concat([pd.read_json(p, orient="records", lines=True, dtype=False) for p in parts])
        table = merged.set_index("id").loc[frame["id"]].reset_index()
        for p in parts:
            p.unlink()
    state.wait_for_everyone()
    return table


if __name__ == "__main__":
    main()
