"""Choosing labels with a causal LM so that an answer outside the label set is impossible, two ways:

- `predict_batch` (exact scoring, below): every candidate label's log-likelihood, the best one per field;
- `constrained_predict_batch` (constrained decoding, further down): greedy decoding over a token trie of the valid
  answers, asking the model only where they branch. Fewer tokens, more calls; see baselines/README.md.

`METHODS` maps predict.py's `--method` names to them (same signature).

Exact scoring.

For a prefix (prompt + answer so far) and a task, the model scores `label + terminator` for each candidate label
(the terminator is the newline before the next answer line, or end-of-sequence after the last one: including it
makes the score the probability of exactly that label, not of any answer that starts with it). The best candidate
is taken, so an answer outside the label set is impossible. In joint mode the three fields are filled left to
right, each conditioned on the labels already chosen (label-level constrained decoding).

Speed and memory: the prompt is run once per batch (the part all prompts share once for the batch, the rest
left-padded; KV cache, logits of the last position only); each
field is then one pass over the answer so far and all candidates side by side, with a tree-shaped attention mask on
top of the prompt cache (the cache is not repeated per candidate). Needs an attention implementation that accepts a
custom 4D mask (`sdpa`, the default, or `eager`; not flash-attention).

Tokenisation mirrors TRL's prompt-completion preprocessing (`SFTTrainer`): the tokenizer is called on the prompt and
on prompt + answer with its default special tokens, so the scored tokens are the ones the loss was computed on in
training. The prompt's last token is re-run with the answer, so a tokenizer that merges across the boundary is
handled; a prompt whose tokens change further back raises a ValueError naming the row.

`generate_labels` (generate, then parse the text) is kept only as the comparison point of bench/bench_baselines.py.

Both fast paths reuse a transformers KV cache (cropped and repeated per row). A model whose forward returns no such
cache (custom code older than the Cache API) is detected once (`kv_cache_supported`) and takes a slower path that
makes the same choices by re-running each full sequence (`_scores_without_cache`, `_constrained_without_cache`).
"""

from __future__ import annotations

import functools
import inspect
import itertools
import weakref
from dataclasses import dataclass
from typing import Sequence

import torch
from trl.data_utils import common_prefix_length

from estbench.answers import parse_answer
from estbench.prompts import PromptSettings, field_prefix, label_names
from estbench.schema import Task


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
    (_, cache), mask = _run_prompts(model, [row[:-1] for row in ids], tokenizer.pad_token_id)
    return EncodedPrompts(ids=ids, cache=cache, mask=mask, lengths=mask.sum(-1))


@functools.lru_cache(maxsize=None)
def _cache_argument(model_class: type) -> str:
    """The name a model's forward takes its KV cache under: `cache` (the current transformers API) or
    `past_key_values` (older and custom-code models, e.g. Baichuan2 or Qwen v1, whose code predates it)."""
    return "cache" if "cache" in inspect.signature(model_class.forward).parameters else "past_key_values"


def forward_with_cache(model, cache=None, **inputs):
    """(output, its KV cache) of one cached forward pass, whichever cache API the model has."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model  # a PEFT wrapper takes **kwargs
    out = model(**inputs, **{_cache_argument(type(base)): cache}, use_cache=True)
    return out, (out["cache"] if "cache" in out else out.past_key_values)


def _run_prompts(model, rows: Sequence[Sequence[int]], pad_id: int):
    """One forward pass over token rows of different lengths, with a KV cache: (model output with the last position's
    logits, attention mask of the cached tokens).

    The tokens all rows start with (the instruction and the candidate label lists, identical in every prompt of a
    task group) are run once, for one row, and their cache is repeated per row (the same memory as running them in
    every row); the rest is left-padded between that shared part and the last token, with explicit positions so each
    row counts exactly as unpadded. On a CPU this roughly halves the cost of the prompt, which dominates a batch."""
    device = _model_device(model)
    shared = 0
    if len(rows) > 1:
        shared = min(common_prefix_length(rows[0], row) for row in rows[1:])
        shared = min(shared, min(len(row) for row in rows) - 1)  # every row keeps a token, whose logits are returned
    cache, mask = None, torch.ones((len(rows), shared), dtype=torch.long)
    if shared:
        prefix = torch.tensor([rows[0][:shared]], dtype=torch.long, device=device)
        _, cache = forward_with_cache(model, input_ids=prefix, logits_to_keep=1)
        cache.batch_repeat_interleave(len(rows))
    suffix, suffix_mask = _left_pad([row[shared:] for row in rows], pad_id, "cpu")
    positions = shared + (suffix_mask.cumsum(-1) - 1).clamp(min=0)
    mask = torch.cat([mask, suffix_mask], dim=1).to(device)
    return forward_with_cache(model, cache, input_ids=suffix.to(device), attention_mask=mask,
                              position_ids=positions.to(device), logits_to_keep=1), mask


@torch.no_grad()
def continuation_logprobs(model, tokenizer, prompts: EncodedPrompts, prefixes: Sequence[str],
                          candidates: Sequence[str]) -> torch.Tensor:
    """log P(candidate | prefix) for every prefix and candidate: a (B, C) tensor.

    `prefixes[i]` must start with the i-th encoded prompt (it is the prompt + the answer so far). One forward pass
    per call, on top of the prompt cache: each row holds the new tokens all candidates share (the answer so far),
    then every candidate's tokens side by side, with an attention mask that lets a candidate see the prompt, the
    shared part and its own earlier tokens only (a tree of continuations). The prompt cache is never copied per
    candidate, so memory stays that of one prompt per row.
    """
    device = _model_device(model)
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
        continuations.append([row[start + common :] for row in rows])

    batch, cached = len(shared), prompts.mask.shape[1]
    width = max(len(s) + sum(len(c) for c in conts) for s, conts in zip(shared, continuations))
    input_ids = torch.full((batch, width), tokenizer.pad_token_id, dtype=torch.long)
    positions = torch.zeros((batch, width), dtype=torch.long)
    allowed = torch.zeros((batch, width, cached + width), dtype=torch.bool)
    allowed[:, :, :cached] = prompts.mask.bool().cpu().unsqueeze(1)  # every query sees the real prompt tokens
    rows_, predictors, targets, columns = [], [], [], []
    for i, (shared_ids, conts) in enumerate(zip(shared, continuations)):
        first = int(prompts.lengths[i])  # position of the first new token
        n_shared = len(shared_ids)
        input_ids[i, :n_shared] = torch.tensor(shared_ids)
        positions[i, :n_shared] = torch.arange(first, first + n_shared)
        allowed[i, :n_shared, cached : cached + n_shared] = torch.ones(n_shared, n_shared, dtype=torch.bool).tril()
        offset = n_shared
        for column, cont in enumerate(conts):
            n = len(cont)
            input_ids[i, offset : offset + n] = torch.tensor(cont)
            positions[i, offset : offset + n] = torch.arange(first + n_shared, first + n_shared + n)
            allowed[i, offset : offset + n, cached : cached + n_shared] = True
            allowed[i, offset : offset + n, cached + offset : cached + offset + n] = torch.ones(n, n).bool().tril()
            # token t of the candidate is predicted by the token before it: the last shared one for t = 0
            predictors += [n_shared - 1] + list(range(offset, offset + n - 1))
            targets += cont
            rows_ += [i] * n
            columns += [column] * n
            offset += n

    dtype = next(model.parameters()).dtype
    mask = torch.zeros(allowed.shape, dtype=dtype).masked_fill(~allowed, torch.finfo(dtype).min).unsqueeze(1)
    out, _ = forward_with_cache(model, prompts.cache, input_ids=input_ids.to(device), attention_mask=mask.to(device),
                                position_ids=positions.to(device))
    # drop the new tokens again: the prompt cache is reused for the next field
    prompts.cache.crop(-(prompts.cache.get_seq_length() - cached))
    rows_t, predictors_t = torch.tensor(rows_, device=device), torch.tensor(predictors, device=device)
    logprobs = torch.log_softmax(out.logits[rows_t, predictors_t].float(), dim=-1)
    token_logprobs = logprobs.gather(1, torch.tensor(targets, device=device).unsqueeze(1)).squeeze(1)
    scores = torch.zeros(batch * n_cand, device=device)
    scores.index_add_(0, rows_t * n_cand + torch.tensor(columns, device=device), token_logprobs)
    return scores.view(batch, n_cand).cpu()


def candidate_logprobs(model, tokenizer, prefixes: Sequence[str], candidates: Sequence[str]) -> torch.Tensor:
    """log P(candidate | prefix) for every prefix and candidate (already including its terminator): (B, C) tensor."""
    return continuation_logprobs(model, tokenizer, encode_prompts(model, tokenizer, prefixes), prefixes, candidates)


def _terminators(tokenizer, tasks: Sequence[Task]) -> list[str]:
    if tokenizer.eos_token is None:
        raise ValueError("the tokenizer has no eos token; the answer's end cannot be scored")
    return ["\n"] * (len(tasks) - 1) + [tokenizer.eos_token]


# --- models whose forward has no reusable KV cache (custom code written before transformers' Cache API) ----------

_CACHE_API: "weakref.WeakKeyDictionary[object, bool]" = weakref.WeakKeyDictionary()


@torch.no_grad()
def kv_cache_supported(model) -> bool:
    """Whether the model returns a transformers Cache the fast paths can crop and repeat (checked once per model by a
    two-token forward pass). Custom-code models that return legacy tuples take the no-cache paths instead."""
    if model not in _CACHE_API:
        probe = torch.zeros((1, 2), dtype=torch.long, device=_model_device(model))
        _, cache = forward_with_cache(model, input_ids=probe)
        _CACHE_API[model] = all(hasattr(cache, name) for name in ("crop", "batch_repeat_interleave", "get_seq_length"))
    return _CACHE_API[model]


def _logits(model, ids: Sequence[Sequence[int]], pad_id: int) -> torch.Tensor:
    """Full forward passes without a cache: right-padded, so every real token keeps its unpadded position."""
    device = _model_device(model)
    batch, mask = _right_pad(ids, pad_id, device)
    return model(input_ids=batch, attention_mask=mask, use_cache=False).logits.float()


def _scores_without_cache(model, tokenizer, prompts: Sequence[str], prefixes: Sequence[str],
                          candidates: Sequence[str]) -> torch.Tensor:
    """What `continuation_logprobs` computes (the candidate-specific tokens' log-likelihood after the prompt and the
    answer so far), by running every full candidate sequence: one pass per row, no cache."""
    prompt_ids = tokenizer(list(prompts))["input_ids"]
    scores = torch.zeros((len(prefixes), len(candidates)))
    for i, prefix in enumerate(prefixes):
        rows = tokenizer([prefix + c for c in candidates])["input_ids"]
        start = len(prompt_ids[i]) - 1
        common = min(common_prefix_length(rows[0][start:], row[start:]) for row in rows) + start
        logprobs = torch.log_softmax(_logits(model, rows, tokenizer.pad_token_id), dim=-1)
        for column, row in enumerate(rows):
            targets = torch.tensor(row[common:])
            scores[i, column] = logprobs[column, common - 1 : len(row) - 1].cpu().gather(
                1, targets.unsqueeze(1)).sum()
    return scores


def _constrained_without_cache(model, tokenizer, prompts: Sequence[str], trie: "AnswerTrie") -> list[tuple[str, ...]]:
    """What `constrained_decode` chooses, re-running each row's whole sequence at every branching point."""
    chosen = []
    for ids in _prompt_ids(tokenizer, prompts, trie):
        opening, node = trie.follow_forced(0)
        sequence = ids[:-1] + opening
        while node not in trie.answers:
            logits = _logits(model, [sequence], tokenizer.pad_token_id)[0, len(sequence) - 1].cpu()
            allowed = list(trie.children[node])
            token = allowed[int(logits[allowed].argmax())]
            forced, node = trie.follow_forced(trie.children[node][token])
            sequence += [token] + forced
        chosen.append(trie.answers[node])
    return chosen


def predict_batch(
    model, tokenizer, contexts: Sequence[str], texts: Sequence[str], *, settings: PromptSettings = PromptSettings(),
    anchors: Sequence[str] | None = None,
) -> dict[str, list[str]]:
    """Labels for a batch of utterances: {task name: [label, ...]}, every label from estbench.schema.

    The prompt is run once per task group; each field then costs one pass over the answer so far + its candidates."""
    language = settings.prompt_language
    predictions: dict[str, list[str]] = {}
    for tasks in settings.task_groups:
        prompts = settings.prompts(contexts, texts, anchors, tasks, tokenizer)
        cached = kv_cache_supported(model)
        encoded = encode_prompts(model, tokenizer, prompts) if cached else None
        prefixes = prompts
        for task, terminator in zip(tasks, _terminators(tokenizer, tasks)):
            prefixes = [p + field_prefix(task, language) for p in prefixes]
            written = label_names(task, language)  # as the template writes them; index i is task.labels[i]
            candidates = [label + terminator for label in written]
            scores = (continuation_logprobs(model, tokenizer, encoded, prefixes, candidates) if cached else
                      _scores_without_cache(model, tokenizer, prompts, prefixes, candidates))
            chosen = scores.argmax(-1).tolist()
            predictions[task.value] = [task.labels[i] for i in chosen]
            prefixes = [p + written[i] + "\n" for p, i in zip(prefixes, chosen)]
    return predictions


# --- constrained decoding: greedy over a token trie of the valid answers -----------------------------------------

@dataclass
class AnswerTrie:
    """Every valid answer of a task group, tokenized and merged into a prefix tree.

    Node 0 is the root; `children[node]` maps a token id to the next node; `answers[leaf]` gives the labels of the
    answer that ends there (after end-of-sequence). A sequence starts with the prompt's held-back last token
    (`anchor_token`), re-tokenized together with the answer as in `encode_prompts`.
    """

    tasks: tuple[Task, ...]
    anchor_token: int
    children: list[dict[int, int]]
    answers: dict[int, tuple[str, ...]]
    prompt_end: str = ""  # the fixed text every prompt of this trie ends with (`PromptSettings.end`)

    def follow_forced(self, node: int) -> tuple[list[int], int]:
        """Tokens from `node` while only one continuation is valid: (forced tokens, the branching node or leaf)."""
        forced = []
        while len(self.children[node]) == 1:
            token, node = next(iter(self.children[node].items()))
            forced.append(token)
        return forced, node


_TRIES: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def answer_trie(tokenizer, tasks: Sequence[Task], settings: PromptSettings = PromptSettings()) -> AnswerTrie:
    """The trie of all valid answers of `tasks` (joint: every label combination, 7 x 9 x 3 = 189 answers), built once
    per tokenizer. Answers are tokenized after the fixed end of every prompt (the answer header), exactly as
    `PromptSettings.completion` + end-of-sequence is tokenized in training."""
    tasks = tuple(tasks)
    per_tokenizer = _TRIES.setdefault(tokenizer, {})
    key = (tasks, settings.prompt_language, tokenizer.eos_token, settings.chat_template)
    if key in per_tokenizer:
        return per_tokenizer[key]
    terminator = _terminators(tokenizer, tasks)[-1]
    anchor = settings.end(tokenizer)  # how every prompt ends (the answer header, then the chat template's turn)
    anchor_ids = tokenizer(anchor, add_special_tokens=False)["input_ids"]
    combos = list(itertools.product(*(task.labels for task in tasks)))
    texts = [anchor + settings.completion({t.value: label for t, label in zip(tasks, combo)}, tasks)
             + terminator for combo in combos]
    children: list[dict[int, int]] = [{}]
    answers: dict[int, tuple[str, ...]] = {}
    for combo, ids in zip(combos, tokenizer(texts, add_special_tokens=False)["input_ids"]):
        if ids[: len(anchor_ids) - 1] != anchor_ids[:-1]:
            raise ValueError(f"the tokenizer merges the answer {combo} into the prompt further back than its last "
                             "token; constrained decoding cannot be used with it (use --method score)")
        node = 0
        for token in ids[len(anchor_ids) - 1 :]:
            if node in answers:
                raise ValueError(f"the answer {answers[node]} is a prefix of the answer {combo} once tokenized")
            if token not in children[node]:
                children[node][token] = len(children)
                children.append({})
            node = children[node][token]
        if children[node] or node in answers:
            raise ValueError(f"the answer {combo} is not distinguishable from another once tokenized")
        answers[node] = combo
    trie = AnswerTrie(tasks=tasks, anchor_token=anchor_ids[-1], children=children, answers=answers, prompt_end=anchor)
    per_tokenizer[key] = trie
    return trie


def _prompt_ids(tokenizer, prompts: Sequence[str], trie: AnswerTrie) -> list[list[int]]:
    """The prompts' token ids, each checked to end with the trie's fixed prompt end (else the answers do not follow)."""
    ids = tokenizer(list(prompts))["input_ids"]
    for i, row in enumerate(ids):
        if len(row) < 2 or row[-1] != trie.anchor_token or not prompts[i].endswith(trie.prompt_end):
            raise ValueError(f"prompt {i} does not end with the answer header's last token: {prompts[i][-40:]!r}")
    return ids


@torch.no_grad()
def constrained_decode(model, tokenizer, prompts: Sequence[str], trie: AnswerTrie) -> list[tuple[str, ...]]:
    """Greedy decoding restricted to the trie's answers: the labels (one per task of the trie) for every prompt.

    Tokens with a single valid continuation (the answer scaffolding, the rest of a label once it is determined, the
    terminators) are forced without consulting the model and fed to it in one call per chunk; the model is only asked
    at branching points, where the allowed next token with the highest logit is taken. Each model call therefore feeds,
    for every row still decoding, the token chosen at its last branching point plus the forced tokens up to its next
    one, on top of the KV cache (left-padded chunks, explicit position ids, padding masked out). Model calls per batch =
    1 (prompt + the common opening) + the largest number of branching points of a row. Any result is a trie leaf, so
    an answer outside the label set is impossible.
    """
    if tokenizer.pad_token_id is None:
        raise ValueError("the tokenizer has no pad token: set tokenizer.pad_token (e.g. to the eos token)")
    device = _model_device(model)
    ids = _prompt_ids(tokenizer, prompts, trie)
    opening, branch = trie.follow_forced(0)
    if branch in trie.answers:  # a single valid answer: nothing to decide
        return [trie.answers[branch]] * len(ids)
    # first call: the prompts and the opening every answer shares (the last prompt token is re-run with the answer)
    (out, cache), mask = _run_prompts(model, [row[:-1] + opening for row in ids], tokenizer.pad_token_id)
    next_position = mask.sum(-1).cpu()
    nodes, active = [branch] * len(ids), [True] * len(ids)  # every row is at its first branching point
    while True:
        logits = out.logits[:, -1].float().cpu()
        pending = []  # per row: the token chosen at its branching point + the forced ones up to the next (or nothing)
        for row, node in enumerate(nodes):
            if active[row]:
                candidates = list(trie.children[node])
                token = candidates[int(logits[row, candidates].argmax())]
                forced, nodes[row] = trie.follow_forced(trie.children[node][token])
                # a finished answer needs no further model call: the tokens after its last branching are all forced
                active[row] = nodes[row] not in trie.answers
            pending.append([token] + forced if active[row] else [])  # a finished row's chunk is all padding
        if not any(active):
            return [trie.answers[node] for node in nodes]
        chunk, chunk_mask = _left_pad(pending, tokenizer.pad_token_id, "cpu")
        positions = next_position.unsqueeze(1) + (chunk_mask.cumsum(-1) - 1).clamp(min=0)
        next_position += chunk_mask.sum(-1)
        mask = torch.cat([mask, chunk_mask.to(device)], dim=1)
        out, cache = forward_with_cache(model, cache, input_ids=chunk.to(device), attention_mask=mask,
                                        position_ids=positions.to(device), logits_to_keep=1)


def constrained_predict_batch(
    model, tokenizer, contexts: Sequence[str], texts: Sequence[str], *, settings: PromptSettings = PromptSettings(),
    anchors: Sequence[str] | None = None,
) -> dict[str, list[str]]:
    """Labels for a batch of utterances by trie-constrained greedy decoding ({task name: [label, ...]}); same
    interface as `predict_batch`. Faster (about one model call per branching point), but greedy: at each branching
    point it commits to the likeliest next token, which is not always the first token of the likeliest whole label."""
    predictions: dict[str, list[str]] = {}
    for tasks in settings.task_groups:
        prompts = settings.prompts(contexts, texts, anchors, tasks, tokenizer)
        trie = answer_trie(tokenizer, tasks, settings)
        decode = constrained_decode if kv_cache_supported(model) else _constrained_without_cache
        chosen = decode(model, tokenizer, prompts, trie)
        for position, task in enumerate(tasks):
            predictions[task.value] = [labels[position] for labels in chosen]
    return predictions


METHODS = {"score": predict_batch, "constrained": constrained_predict_batch}


# --- the comparison point: free generation, then parsing -------------------------------------------------------

@torch.no_grad()
def generate_labels(
    model, tokenizer, contexts: Sequence[str], texts: Sequence[str], *, settings: PromptSettings = PromptSettings(),
    max_new_tokens: int | None = None, anchors: Sequence[str] | None = None,
) -> dict[str, list[str | None]]:
    """Greedy generation then parsing; None marks an answer that is not a valid label."""
    device = _model_device(model)
    language = settings.prompt_language
    predictions: dict[str, list[str | None]] = {}
    for tasks in settings.task_groups:
        prompts = settings.prompts(contexts, texts, anchors, tasks, tokenizer)
        if max_new_tokens is None:  # room for the longest valid answer, so generation is not cut short
            longest = "\n".join(field_prefix(t, language) + max(label_names(t, language), key=len) for t in tasks)
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


__all__ = [
    "encode_prompts", "continuation_logprobs", "candidate_logprobs", "predict_batch", "answer_trie",
    "constrained_decode", "constrained_predict_batch", "METHODS", "generate_labels",
]
