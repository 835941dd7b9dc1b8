r"""LoRA fine-tuning of a causal LM for EST as generative classification (the paper's section 4.1, Fig. 2).

One model learns the three tasks: the prompt states every task's candidate labels, the dialogue context and the
user's utterance (`estbench.prompts`); the completion is the label line(s). Training uses TRL's `SFTTrainer` on a
prompt-completion dataset, so the loss is computed on the answer tokens only (`completion_only_loss`).

Paper settings (LoRA rank 4, learning rate 1e-5, LoRA dropout 0.1, per-device batch 1, gradient accumulation 4,
logging every 5 steps, a checkpoint every 100 steps) are in baselines/configs/paper.yaml:

    python baselines/lora_finetune.py --config baselines/configs/paper.yaml \
        --model_name_or_path meta-llama/Meta-Llama-3-8B --est_dir est --track balanced \
        --output_dir baselines/outputs/llama3-8b-lora

Any value of the YAML can be overridden on the command line (`--learning_rate 2e-4`, `--prompt_mode per-task`,
`--prompt_language en`, ...); `--help` lists every argument. Resume an interrupted run with
`--resume_from_checkpoint true` (latest checkpoint in --output_dir) or `--resume_from_checkpoint DIR`.
Several GPUs (the paper used two RTX 3090):

    accelerate launch --num_processes 2 baselines/lora_finetune.py --config baselines/configs/paper.yaml ...

The recipes set `effective_batch_size: 4`, so the accumulation steps follow the process count (effective batch =
per-device batch x processes x accumulation: 1 x 1 x 4 on one GPU, 1 x 2 x 2 on two); without it two processes
would train with an effective batch of 8.

Precision: bf16 when the GPU supports it, else fp16 on GPU, else fp32 (CPU); `--bf16`/`--fp16` override.
The adapter, the tokenizer and `est_prompt.json` (the `estbench.prompts.PromptSettings` it trained with, read back
by every predictor) are saved in --output_dir.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from datasets import Dataset

from estbench.built import load_track
from estbench.layout import TRACKS
from estbench.prompts import PromptSettings, prompt_fields

from .label_scoring import answer_trie
from .loading import ALL_LINEAR, LoadingArguments, custom_code_hint, ensure_special_tokens, model_kwargs


@dataclass(frozen=True)
class EstArguments(PromptSettings):
    """Which EST data to train on, and (the fields of `PromptSettings`) how to turn it into prompts."""

    est_dir: str = field(default="est", metadata={"help": "Folder of the built dataset (python est_dataset.py build)."})
    track: str = field(
        default="balanced",
        metadata={"help": "balanced: train on joint-balanced (the paper's setup); full: train on joint.",
                  "choices": list(TRACKS)},
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Train on a random subset of this many utterances (quick runs)."}
    )
    max_eval_samples: int | None = field(
        default=500, metadata={"help": "Validation utterances used when --eval_strategy is not 'no'."}
    )
    effective_batch_size: int | None = field(
        default=None,
        metadata={"help": "Examples per optimizer step over all processes; sets --gradient_accumulation_steps to "
                          "effective / (per-device batch x processes), so the recipe holds under any process count."},
    )
    allow_truncation: bool = field(
        default=False,
        metadata={"help": "Train even if some prompt + answer exceeds --max_length tokens (TRL would cut the answer "
                          "silently); by default such a run is refused before the first step."},
    )


def prompt_completion_dataset(frame, settings: PromptSettings = PromptSettings(), tokenizer=None):
    """A TRL prompt-completion dataset: one row per utterance (joint) or per utterance and task (per-task), written
    by `settings` exactly as every predictor writes the prompts (`tokenizer`: for a chat template)."""
    contexts, texts, anchors = prompt_fields(frame)
    rows = frame.to_dict(orient="records")
    prompts, completions = [], []
    for tasks in settings.task_groups:
        prompts.append(settings.prompts(contexts, texts, anchors, tasks, tokenizer))
        completions.append([settings.completion(row, tasks) for row in rows])
    # row-major, as training reads them: each utterance's prompts (one per task group) together
    return Dataset.from_dict({"prompt": [p for group in zip(*prompts) for p in group],
                              "completion": [c for group in zip(*completions) for c in group]})


def memory_estimate(model) -> str:
    """One line on what the GPU must hold before training adds anything: parameters and the weights' memory."""
    total = sum(p.numel() for p in model.parameters())
    weights = sum(p.numel() * p.element_size() for p in model.parameters())
    return (f"model: {total / 1e9:.3f} B parameters, weights {weights / 2**30:.2f} GiB; training adds the LoRA "
            "weights, their AdamW states and one batch's activations")


def accumulation_steps(effective: int, per_device: int, processes: int) -> int:
    """Gradient-accumulation steps that give `effective` examples per optimizer step: effective = per-device batch x
    processes x accumulation (e.g. the paper's 4 = 1 x 1 x 4 on one GPU, 1 x 2 x 2 on two)."""
    steps, rest = divmod(effective, per_device * processes)
    if rest or not steps:
        raise ValueError(f"--effective_batch_size {effective} is not a multiple of per-device batch {per_device} x "
                         f"{processes} process(es)")
    return steps


def check_lengths(dataset, tokenizer, max_length: int | None, allow: bool) -> int:
    """How many examples would not fit in `max_length` tokens (prompt + answer + end of sequence), checked before
    the first step; ValueError unless `allow`. The answer sits at the end, so it is what truncation would cut."""
    if max_length is None:
        return 0
    prompts = tokenizer(list(dataset["prompt"]))["input_ids"]
    answers = tokenizer(list(dataset["completion"]), add_special_tokens=False)["input_ids"]
    lengths = [len(p) + len(a) + 1 for p, a in zip(prompts, answers)]
    too_long = sum(length > max_length for length in lengths)
    if too_long:
        message = (f"{too_long:,} of {len(lengths):,} training examples are longer than --max_length {max_length} "
                   f"tokens (longest {max(lengths)}): their answers would be cut. Raise --max_length, lower "
                   "--max_context_chars, or pass --allow_truncation true")
        if not allow:
            raise ValueError(message)
        print(f"warning: {message}", file=sys.stderr)
    return too_long


def _subset(frame, size: int | None, seed: int):
    return frame if size is None or size >= len(frame) else frame.sample(n=size, random_state=seed)


def load_model_and_tokenizer(model_args, loading_args: LoadingArguments | None = None, trust_remote_code=False):
    """Base model + tokenizer (`est_baselines.loading`: remote code, device map, 4/8-bit, EOS and pad tokens)."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    loading_args = loading_args or LoadingArguments()
    kwargs = model_kwargs(dtype=model_args.dtype, trust_remote_code=trust_remote_code,
                          device_map=loading_args.device_map, revision=model_args.model_revision,
                          attn_implementation=model_args.attn_implementation, load_in_4bit=model_args.load_in_4bit,
                          load_in_8bit=model_args.load_in_8bit, quant_type=model_args.bnb_4bit_quant_type,
                          nested=model_args.use_bnb_nested_quant)
    with custom_code_hint(trust_remote_code):
        model = AutoModelForCausalLM.from_pretrained(model_args.model_name_or_path, **kwargs)
        tokenizer = AutoTokenizer.from_pretrained(model_args.model_name_or_path, revision=model_args.model_revision,
                                                  trust_remote_code=trust_remote_code)
    return model, ensure_special_tokens(tokenizer, model.config)


def build_trainer(est_args: EstArguments, training_args, model_args, model=None, tokenizer=None,
                  loading_args: LoadingArguments | None = None):
    """The SFTTrainer of a run (model/tokenizer objects may be passed in, e.g. by tests; else they are loaded)."""
    from trl import SFTTrainer, get_peft_config

    if model is None or tokenizer is None:
        model, tokenizer = load_model_and_tokenizer(model_args, loading_args, training_args.trust_remote_code)
    if est_args.effective_batch_size:
        from accelerate import PartialState

        training_args.gradient_accumulation_steps = accumulation_steps(
            est_args.effective_batch_size, training_args.per_device_train_batch_size, PartialState().num_processes)
    if model_args.use_peft and not model_args.lora_target_modules:
        model_args.lora_target_modules = ALL_LINEAR  # any architecture, custom-code ones included
    train_frame = _subset(load_track(est_args.est_dir, est_args.track, "train"), est_args.max_train_samples,
                          training_args.seed)
    settings = est_args.prompt_settings()
    eval_dataset = None
    if training_args.eval_strategy != "no":
        eval_frame = _subset(load_track(est_args.est_dir, est_args.track, "validation"), est_args.max_eval_samples,
                             training_args.seed)
        eval_dataset = prompt_completion_dataset(eval_frame, settings, tokenizer)
    if training_args.completion_only_loss is False:
        raise ValueError("EST trains on the answer tokens only: completion_only_loss must not be False")
    train_dataset = prompt_completion_dataset(train_frame, settings, tokenizer)
    # checks that would otherwise fail only after hours of training: answers cut, a tokenizer the label decoder
    # cannot work with (answer_trie raises then), and the memory the weights take
    check_lengths(train_dataset, tokenizer, training_args.max_length, est_args.allow_truncation)
    for tasks in settings.task_groups:
        answer_trie(tokenizer, tasks, settings)
    print(memory_estimate(model), file=sys.stderr)
    return SFTTrainer(
        model=model,
        args=training_args,
        train_dataset=train_dataset,
        eval_dataset=eval_dataset,
        processing_class=tokenizer,
        peft_config=get_peft_config(model_args),
    )


def train(est_args: EstArguments, training_args, model_args, model=None, tokenizer=None,
          loading_args: LoadingArguments | None = None) -> Path:
    """Fine-tune, save the adapter (or full model without --use_peft) + tokenizer + prompt settings; return the dir.
    The trained model is released before returning (prediction loads what was saved)."""
    import gc

    import torch
    from transformers.trainer_utils import get_last_checkpoint

    trainer = build_trainer(est_args, training_args, model_args, model, tokenizer, loading_args)
    resume = training_args.resume_from_checkpoint
    if isinstance(resume, str) and resume.lower() in ("true", "latest"):
        resume = get_last_checkpoint(training_args.output_dir)
        if resume is None:
            print(f"no checkpoint in {training_args.output_dir}; starting from scratch", file=sys.stderr)
    trainer.train(resume_from_checkpoint=resume)
    trainer.save_model(training_args.output_dir)
    if trainer.accelerator.is_main_process:
        est_args.prompt_settings().save(training_args.output_dir)
    # The trainer holds the model through reference cycles (callbacks, accelerator): without this, a following
    # prediction run would load a second copy beside it (about 32 GB for an 8B model in bf16).
    trainer.accelerator.free_memory()
    del trainer, model
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return Path(training_args.output_dir)


def make_parser():
    import torch
    from trl import ModelConfig, SFTConfig, TrlParser

    parser = TrlParser((EstArguments, SFTConfig, ModelConfig, LoadingArguments))
    # SFTConfig turns bf16 on by default, which fails without a bf16 GPU: pick the precision the machine has. A YAML
    # value or a command-line flag still wins (TrlParser applies both on top of these defaults).
    cuda = torch.cuda.is_available()
    bf16 = cuda and torch.cuda.is_bf16_supported()
    parser.set_defaults(bf16=bf16, fp16=cuda and not bf16, use_cpu=not cuda)
    return parser


def parse(argv: list[str] | None = None):
    """(EstArguments, SFTConfig, ModelConfig, LoadingArguments) of a command line (YAML recipe + overrides)."""
    parser = make_parser()
    try:
        parsed = parser.parse_args_and_config(argv)
    except ValueError as error:  # a value a dataclass refuses (e.g. --max_context_chars 0): a usage error
        parser.error(str(error))
    if not parsed[2].model_name_or_path:
        parser.error("--model_name_or_path is required (a Hub id or a local folder)")
    return parsed


def main(argv: list[str] | None = None, parsed=None) -> Path:
    """Train from a command line (or its `parse` result, when the caller needs the arguments too)."""
    est_args, training_args, model_args, loading_args = parsed or parse(argv)
    try:
        output_dir = train(est_args, training_args, model_args, loading_args=loading_args)
    except (FileNotFoundError, ValueError) as error:  # e.g. no built dataset, answers cut: one line, no traceback
        raise SystemExit(f"error: {error}") from error
    print(f"saved to {output_dir}")
    return output_dir


if __name__ == "__main__":
    main()
