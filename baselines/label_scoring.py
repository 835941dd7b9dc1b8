"""Choosing labels with a causal LM by scoring every candidate label's log-likelihood.

For a prefix (prompt + answer so far) and a task, the model scores `label + terminator` for each candidate label
(the terminator is the newline before the next answer line, or end-of-sequence after the last one: including it
makes the score the probability of exactly that label, so "Neutral" does not win just for being a prefix of a longer
answer). The best candidate is taken, so an answer outside the label set is impossible. In joint mode the three
fields are filled left to right, each conditioned on the labels already chosen (label-level constrained decoding).

Speed: the prompt is run once per batch (left-padded, KV cache, logits of the last position only); for each field
the answer so far is run on top of that cache, the cache is repeated for the candidates, and only the candidate
tokens are run: one prompt pass, then two short passes per field.

Tokenisation mirrors TRL's prompt-completion preprocessing (`SFTTrainer`): the tokenizer is called on the prefix and
on prefix + completion with its default special tokens, and the completion starts where the two token sequences
diverge, so the scored tokens are the ones the loss was computed on during training.

`generate_labels` (generate, then parse the text) is kept only as the comparison point of bench/bench_baselines.py.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from typing import Sequence

import torch
from trl.data_utils import common_prefix_length

from baselines.prompts import build_prompt, field_prefix, tasks_of, template
from est_labels import Task, normalize_label


def _left_pad(sequences: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        if seq:
            ids[row, width - len(seq):] = torch.tensor(seq, dtype=torch.long)
            mask[row, width - len(seq):] = 1
    return ids.to(device), mask.to(device)


def _right_pad(sequences: Sequence[Sequence[int]], pad_id: int, device) -> tuple[torch.Tensor, torch.Tensor]:
    width = max(len(s) for s in sequences)
    ids = torch.full((len(sequences), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(sequences), width), dtype=torch.long)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        mask[row, : len(seq)] = 1
    return ids.to(device), mask.to(device)


def _model_device(model) -> torch.device:
    return next(model.parameters()).device


@dataclass
class EncodedPrompts:
    """The KV cache of a batch of prompts (all but each prompt's last token, left-padded), reused by every field."""

    ids: list[list[int]]  # each prompt's token ids
    cache: object  # transformers Cache over ids[i][:-1]
    mask: torch.Tensor  # (B, width) attention mask of the cached tokens
    lengths: torch.Tensor  # (B,) number of cached (real) tokens per row


@torch.no_grad()
def encode_prompts(model, tokenizer, prompts: Sequence[str]) -> EncodedPrompts:
    """Run the prompts through the model once. The last prompt token is held back (it is run with the answer), so a
    tokenizer that merges it with the answer's first characters cannot invalidate the cache."""
    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer has no pad token: set tokenizer.pad_token (e.g. to the eos token)")
    ids = tokenizer(list(prompts))["input_ids"]
    for i, row in enumerate(ids):
        if len(row) < 2:
            raise ValueError(f"prompt {i} is shorter than two tokens: {prompts[i]!r}")
    device = _model_device(model)
    input_ids, mask = _left_pad([row[:-1] for row in ids], tokenizer.pad_token_id, device)
    # Explicit positions: with left padding each row must count from its first real token, exactly as unpadded.
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=input_ids, attention_mask=mask, position_ids=positions, use_cache=True, logits_to_keep=1)
    return EncodedPrompts(ids=ids, cache=out.past_key_values, mask=mask, lengths=mask.sum(-1))


@torch.no_grad()
def continuation_logprobs(model, tokenizer, prompts: EncodedPrompts, prefixes: Sequence[str],
                          candidates: Sequence[str]) -> torch.Tensor:
    """log P(candidate | prefix) for every prefix and candidate: a (B, C) tensor.

    `prefixes[i]` must start with the i-th encoded prompt (it is the prompt + the answer so far). Only the new
    tokens run through the model: the part all candidates share (once per row), then the candidates (cache repeated).
    """
    device = _model_device(model)
    pad_id = tokenizer.pad_token_id
    n_cand = len(candidates)
    full_ids = tokenizer([p + c for p in prefixes for c in candidates])["input_ids"]
    shared, continuations = [], []
    for i, prompt_ids in enumerate(prompts.ids):
        start = len(prompt_ids) - 1
        rows = full_ids[i * n_cand : (i + 1) * n_cand]
        if any(row[:start] != prompt_ids[:start] for row in rows):
            raise ValueError(f"row {i}: the prefix does not start with its encoded prompt ({prefixes[i][:80]!r}...)")
        # New tokens common to all candidates (the answer so far) vs the candidate-specific rest.
        common = min(common_prefix_length(rows[0][start:], row[start:]) for row in rows)
        if common == 0 or any(len(row) == start + common for row in rows):
            raise ValueError(f"row {i}: candidates must be distinct, non-empty continuations of the prefix")
        shared.append(rows[0][start : start + common])
        continuations.extend(row[start + common :] for row in rows)

    cache = copy.deepcopy(prompts.cache)  # the prompt cache stays reusable for the next field
    shared_ids, shared_mask = _right_pad(shared, pad_id, device)
    mask = torch.cat([prompts.mask, shared_mask], dim=1)
    positions = prompts.lengths.unsqueeze(1) + torch.arange(shared_ids.shape[1], device=device)
    out = model(input_ids=shared_ids, attention_mask=mask, position_ids=positions, past_key_values=cache,
                use_cache=True)
    last = shared_mask.sum(-1) - 1  # each row's last real shared token predicts the first candidate token
    first_logprobs = torch.log_softmax(out.logits[torch.arange(len(shared), device=device), last].float(), dim=-1)
    first_logprobs = first_logprobs.repeat_interleave(n_cand, dim=0)

    cont_ids, cont_mask = _right_pad(continuations, pad_id, device)
    scores = first_logprobs.gather(1, cont_ids[:, :1]).squeeze(1)
    if cont_ids.shape[1] > 1:
        cache.batch_repeat_interleave(n_cand)
        step_ids = cont_ids[:, :-1]
        step_mask = torch.cat([mask.repeat_interleave(n_cand, dim=0), cont_mask[:, :-1]], dim=1)
        start = (prompts.lengths + shared_mask.sum(-1)).repeat_interleave(n_cand).unsqueeze(1)
        step_positions = start + torch.arange(step_ids.shape[1], device=device)
        step = model(input_ids=step_ids, attention_mask=step_mask, position_ids=step_positions, past_key_values=cache)
        logprobs = torch.log_softmax(step.logits.float(), dim=-1)
        token_logprobs = logprobs.gather(2, cont_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        scores = scores + (token_logprobs * cont_mask[:, 1:]).sum(-1)
    return scores.view(len(prefixes), n_cand).cpu()


def candidate_logprobs(model, tokenizer, prefixes: Sequence[str], candidates: Sequence[str]) -> torch.Tensor:
    """log P(candidate | prefix) for every prefix and candidate (already including its terminator): (B, C) tensor."""
    return continuation_logprobs(model, tokenizer, encode_prompts(model, tokenizer, prefixes), prefixes, candidates)


def _terminators(tokenizer, tasks: Sequence[Task]) -> list[str]:
    if tokenizer.eos_token is None:
        raise ValueError("the tokenizer has no eos token; the answer's end cannot be scored")
    return ["\n"] * (len(tasks) - 1) + [tokenizer.eos_token]


def predict_batch(
    model, tokenizer, contexts: Sequence[str], texts: Sequence[str], *, mode: str = "joint", language: str = "zh",
    max_context_chars: int | None = 600,
) -> dict[str, list[str]]:
    """Labels for a batch of utterances: {task name: [label, ...]}, every label from est_labels.

    The prompt is run once per task group; each field then costs one short pass for the answer so far and one for
    the candidates."""
    predictions: dict[str, list[str]] = {}
    for tasks in tasks_of(mode):
        prompts = [build_prompt(c, t, tasks, language, max_context_chars) for c, t in zip(contexts, texts)]
        encoded = encode_prompts(model, tokenizer, prompts)
        prefixes = prompts
        for task, terminator in zip(tasks, _terminators(tokenizer, tasks)):
            prefixes = [p + field_prefix(task, language) for p in prefixes]
            candidates = [label + terminator for label in task.labels]
            scores = continuation_logprobs(model, tokenizer, encoded, prefixes, candidates)
            chosen = [task.labels[i] for i in scores.argmax(-1).tolist()]
            predictions[task.value] = chosen
            prefixes = [p + label + "\n" for p, label in zip(prefixes, chosen)]
    return predictions


# --- the comparison point: free generation, then parsing -------------------------------------------------------

def parse_answer(answer: str, tasks: Sequence[Task], language: str = "zh") -> dict[str, str | None]:
    """Labels found in a generated answer ({task: label or None when missing/invalid})."""
    parsed: dict[str, str | None] = {}
    for task in tasks:
        found = re.search(re.escape(field_prefix(task, language)) + r"([^\n]*)", answer)
        try:
            parsed[task.value] = normalize_label(task, found.group(1)) if found else None
        except ValueError:
            parsed[task.value] = None
    return parsed


@torch.no_grad()
def generate_labels(
    model, tokenizer, contexts: Sequence[str], texts: Sequence[str], *, mode: str = "joint", language: str = "zh",
    max_context_chars: int | None = 600, max_new_tokens: int | None = None,
) -> dict[str, list[str | None]]:
    """Greedy generation then parsing; None marks an answer that is not a valid label."""
    device = _model_device(model)
    predictions: dict[str, list[str | None]] = {}
    for tasks in tasks_of(mode):
        prompts = [build_prompt(c, t, tasks, language, max_context_chars) for c, t in zip(contexts, texts)]
        if max_new_tokens is None:  # room for the longest valid answer, so generation is not cut short
            longest = "\n".join(field_prefix(t, language) + max(t.labels, key=len) for t in tasks)
            budget = len(tokenizer(longest, add_special_tokens=False)["input_ids"]) + 2
        else:
            budget = max_new_tokens
        ids, mask = _left_pad(tokenizer(prompts)["input_ids"], tokenizer.pad_token_id, device)
        output = model.generate(
            input_ids=ids, attention_mask=mask, max_new_tokens=budget, do_sample=False,
            pad_token_id=tokenizer.pad_token_id, eos_token_id=tokenizer.eos_token_id,
        )
        answers = tokenizer.batch_decode(output[:, ids.shape[1]:], skip_special_tokens=True)
        for answer in answers:
            for task, label in parse_answer(answer, tasks, language).items():
                predictions.setdefault(task, []).append(label)
    return predictions


__all__ = ["candidate_logprobs", "predict_batch", "generate_labels", "parse_answer", "template"]
