"""Choosing labels with a causal LM by scoring every candidate label's log-likelihood.

For a prefix (prompt + answer so far) and a task, the model scores `label + terminator` for each candidate label
(the terminator is the newline before the next answer line, or end-of-sequence after the last one: including it
makes the score the probability of exactly that label, so "Neutral" does not win just for being a prefix of a longer
answer). The best candidate is taken, so an answer outside the label set is impossible. In joint mode the three
fields are filled left to right, each conditioned on the labels already chosen (label-level constrained decoding).

Speed: the shared prefix is run once per example (left-padded batch, KV cache), the cache is repeated for the
candidates, and only the candidate tokens are run on top of it: per task, one prefix pass plus one short pass.

Tokenisation mirrors TRL's prompt-completion preprocessing (`SFTTrainer`): the tokenizer is called on the prefix and
on prefix + completion with its default special tokens, and the completion starts where the two token sequences
diverge, so the scored tokens are the ones the loss was computed on during training.

`generate_labels` (generate, then parse the text) is kept only as the comparison point of bench/bench_baselines.py.
"""

from __future__ import annotations

import re
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


@torch.no_grad()
def candidate_logprobs(model, tokenizer, prefixes: Sequence[str], candidates: Sequence[str]) -> torch.Tensor:
    """log P(candidate | prefix) for every prefix and candidate (already including its terminator): (B, C) tensor."""
    device = _model_device(model)
    pad_id = tokenizer.pad_token_id
    if pad_id is None:
        raise ValueError("the tokenizer has no pad token: set tokenizer.pad_token (e.g. to the eos token)")
    n_cand = len(candidates)
    prefix_ids = tokenizer(list(prefixes))["input_ids"]
    full_ids = tokenizer([p + c for p in prefixes for c in candidates])["input_ids"]
    shared, continuations = [], []
    for i, p_ids in enumerate(prefix_ids):
        rows = full_ids[i * n_cand : (i + 1) * n_cand]
        # Shared part = longest token prefix common to the prompt and all its candidate completions.
        cut = min(common_prefix_length(p_ids, f) for f in rows)
        if cut == 0:
            raise ValueError(f"prefix {i} shares no token with its completions; cannot score (prefix: {prefixes[i]!r})")
        shared.append(p_ids[:cut])
        continuations.extend(f[cut:] for f in rows)
    if any(len(c) == 0 for c in continuations):
        raise ValueError("a candidate tokenised to nothing after its prefix; candidates must be non-empty")

    input_ids, attention = _left_pad(shared, pad_id, device)
    # Explicit positions: with left padding each row must count from its first real token, exactly as unpadded.
    positions = (attention.cumsum(-1) - 1).clamp(min=0)
    out = model(input_ids=input_ids, attention_mask=attention, position_ids=positions, use_cache=True)
    first_logprobs = torch.log_softmax(out.logits[:, -1, :].float(), dim=-1).repeat_interleave(n_cand, dim=0)

    cont_ids, cont_mask = _right_pad(continuations, pad_id, device)
    scores = first_logprobs.gather(1, cont_ids[:, :1]).squeeze(1)
    if cont_ids.shape[1] > 1:
        cache = out.past_key_values
        cache.batch_repeat_interleave(n_cand)
        step_ids = cont_ids[:, :-1]
        mask = torch.cat([attention.repeat_interleave(n_cand, dim=0), cont_mask[:, :-1]], dim=1)
        start = attention.sum(-1, keepdim=True).repeat_interleave(n_cand, dim=0)
        step_positions = start + torch.arange(step_ids.shape[1], device=device)
        step = model(input_ids=step_ids, attention_mask=mask, position_ids=step_positions, past_key_values=cache)
        logprobs = torch.log_softmax(step.logits.float(), dim=-1)
        token_logprobs = logprobs.gather(2, cont_ids[:, 1:].unsqueeze(-1)).squeeze(-1)
        scores = scores + (token_logprobs * cont_mask[:, 1:]).sum(-1)
    return scores.view(len(prefixes), n_cand).cpu()


def _terminators(tokenizer, tasks: Sequence[Task]) -> list[str]:
    if tokenizer.eos_token is None:
        raise ValueError("the tokenizer has no eos token; the answer's end cannot be scored")
    return ["\n"] * (len(tasks) - 1) + [tokenizer.eos_token]


def predict_batch(
    model, tokenizer, contexts: Sequence[str], texts: Sequence[str], *, mode: str = "joint", language: str = "zh",
    max_context_chars: int | None = 600,
) -> dict[str, list[str]]:
    """Labels for a batch of utterances: {task name: [label, ...]}, every label from est_labels."""
    predictions: dict[str, list[str]] = {}
    for tasks in tasks_of(mode):
        prefixes = [build_prompt(c, t, tasks, language, max_context_chars) for c, t in zip(contexts, texts)]
        for task, terminator in zip(tasks, _terminators(tokenizer, tasks)):
            prefixes = [p + field_prefix(task, language) for p in prefixes]
            scores = candidate_logprobs(model, tokenizer, prefixes, [label + terminator for label in task.labels])
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
