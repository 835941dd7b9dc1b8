"""Reading a generated answer back into EST labels: the ONE answer parser of every path that lets a model write text
(the chat/API runner `baselines/run.py chat`, the lm-evaluation-harness `est_gen` tasks, the inspect-ai task, and the
generate-then-parse comparison of the LoRA baselines), beside the prompts that ask for the answer
(`estbench.prompts.build_chat_prompt`).

What the parser does, in order (`parse_answer`):

1. **Reasoning is set aside** (`split_reasoning`): everything up to the last `</think>` (a reasoning model's thoughts,
   with or without the opening `<think>`, which some chat templates put in the prompt) is reasoning, not answer; an
   answer that opens `<think>` and never closes it was cut off while thinking and holds no answer. A server that
   returns the thoughts separately (`reasoning_content`) leaves them out of the text already.
2. **JSON** (what a JSON-schema `response_format` makes the model write, and what many models write unasked): the
   first `{...}` object in the answer (code fences allowed); a task's value is read under its key (`emotion`,
   `transition`, `satisfaction`) or the task's name in any template (`情绪`, `情绪状态转移`, `满意度`, `emotion
   transition`, ...).
3. **Lines**: `<task name><: or ：><label>` anywhere in the answer, in any template's task names (`情绪：Anger`,
   `Emotion: anger`, `**满意度**：不满意。`); markdown emphasis, quotes, brackets and a trailing full stop around the
   label are ignored, and `Worry（担忧）` reads as Worry.
4. **A bare label**, for a one-task question only: the whole answer, or the one label the answer names.

A label is any spelling `estbench.schema.normalize_label` accepts: the canonical names in any case, the documented
aliases and the Chinese names (`chinese_names`). Whatever cannot be read is None; the caller counts it per task and
writes the declared fallback label (`FALLBACK_LABELS`: the neutral class of each task), and the results record says
how many were filled in (`estbench.results.GenerationInfo`).

>>> parse_answer("<think>用户很生气……</think>\\n情绪：Anger\\n情绪状态转移：中性到消极\\n满意度：不满意。", TASKS)
{'emotion': 'Anger', 'transition': 'Neutral to Negative', 'satisfaction': 'Dissatisfied'}
>>> reply = '```json\\n{"emotion": "worry", "transition": "Neutral to Neutral", "satisfaction": "一般"}\\n```'
>>> parse_answer(reply, TASKS)
{'emotion': 'Worry', 'transition': 'Neutral to Neutral', 'satisfaction': 'Neutral'}
>>> parse_answer("I think the user is calm.", TASKS)
{'emotion': None, 'transition': None, 'satisfaction': None}
>>> parse_answer("失望", (Task.EMOTION,))
{'emotion': 'Disappointment'}
"""

from __future__ import annotations

import json
import re
from typing import Mapping, Sequence

from .prompts import TEMPLATES, label_names
from .schema import CHINESE_LABELS, NEUTRAL_LABELS, TASKS, Task, normalize_label

# What a run writes where an answer cannot be read: the class that claims nothing (No Emotion / Neutral to Neutral /
# Neutral), declared here once and written into the results record beside the count of rows that got it.
FALLBACK_LABELS: dict[str, str] = {**NEUTRAL_LABELS, "satisfaction": "Neutral"}
assert set(FALLBACK_LABELS) == {task.value for task in TASKS}

_THINK_OPEN, _THINK_CLOSE = "<think>", "</think>"
_FENCE = re.compile(r"^```[a-zA-Z]*\s*|\s*```$")
_AROUND = " \t\"'`*_“”‘’「」『』[]【】<>《》.。,，;；!！?？"
_BRACKETED = re.compile(r"^(?P<head>[^（(]+?)\s*[（(](?P<inner>[^）)]*)[）)]$")


def split_reasoning(text: str) -> tuple[str, str]:
    """(answer, reasoning) of a reply: the text after the last `</think>` is the answer; an unclosed `<think>` means
    the reply was cut off while reasoning (answer "").

    >>> split_reasoning("<think>嗯……</think>情绪：Anger")
    ('情绪：Anger', '嗯……')
    >>> split_reasoning("<think>still thinking")
    ('', 'still thinking')
    """
    if _THINK_CLOSE in text:
        reasoning, answer = text.rsplit(_THINK_CLOSE, 1)
        return answer.strip(), reasoning.replace(_THINK_OPEN, "", 1).strip()
    stripped = text.lstrip()
    if stripped.startswith(_THINK_OPEN):
        return "", stripped[len(_THINK_OPEN):].strip()
    return text.strip(), ""


def _task_keys(task: Task) -> tuple[str, ...]:
    """Every name a task goes by in an answer, longest first (so 情绪状态转移 is tried before 情绪)."""
    names = {task.value, *(template.task_names[task] for template in TEMPLATES.values())}
    return tuple(sorted({name.casefold() for name in names}, key=len, reverse=True))


def _read_label(task: Task, value: object) -> str | None:
    """The canonical label a written value names, or None (quotes, emphasis, a trailing stop and an alias in
    brackets are tolerated: `**Worry（担忧）**。` is Worry)."""
    if not isinstance(value, str):
        return None
    value = value.strip().strip(_AROUND).strip()
    candidates = [value]
    bracketed = _BRACKETED.match(value)
    if bracketed:
        candidates += [bracketed["head"], bracketed["inner"]]
    for candidate in candidates:
        try:
            return normalize_label(task, candidate.strip().strip(_AROUND))
        except ValueError:
            continue
    return None


def _json_object(answer: str) -> dict | None:
    text = _FENCE.sub("", answer.strip())
    start, end = text.find("{"), text.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        found = json.loads(text[start:end + 1])
    except ValueError:
        return None
    return found if isinstance(found, dict) else None


def _from_json(found: Mapping, task: Task) -> str | None:
    keyed = {str(key).strip().casefold(): value for key, value in found.items()}
    for key in _task_keys(task):
        if key in keyed:
            return _read_label(task, keyed[key])
    return None


def _from_lines(answer: str, task: Task) -> str | None:
    names = "|".join(re.escape(name) for name in _task_keys(task))
    pattern = re.compile(rf"(?:^|[\s*#_\-]|\b)(?:{names})[\s*_]*[:：]\s*(?P<value>[^\n]+)", re.IGNORECASE)
    for found in pattern.finditer(answer):
        label = _read_label(task, found["value"])
        if label is not None:
            return label
    return None


def _named_once(answer: str, task: Task) -> str | None:
    """The label when the answer names exactly one of `task`'s labels (canonical or Chinese name), else None."""
    named = set()
    for other in TASKS:  # a task's name is no label (满意度 holds 满意)
        for key in _task_keys(other):
            answer = re.sub(re.escape(key), " ", answer, flags=re.IGNORECASE)
    lowered = answer.casefold()
    for label, chinese in zip(task.labels, CHINESE_LABELS[task.value]):
        if re.search(rf"\b{re.escape(label.casefold())}\b", lowered) or chinese in answer:
            named.add(label)
    if task is Task.SATISFACTION or task is Task.EMOTION:  # "Neutral"/"中性" inside a transition is not a claim
        named -= {label for label in named if _inside_transition(answer, label)}
    return named.pop() if len(named) == 1 else None


def _inside_transition(answer: str, label: str) -> bool:
    return bool(re.search(rf"\b{label}\s+to\b|\bto\s+{label}\b", answer, re.IGNORECASE))


def parse_answer(text: str, tasks: Sequence[Task], language: str = "zh") -> dict[str, str | None]:
    """{task name: canonical label, or None where the reply does not say one} for the tasks a prompt asked about.

    `language` is the prompt template's (`estbench.prompts.TEMPLATES`): every template's task names and every
    documented spelling of a label are read whatever it is; it is kept so a caller states what it asked."""
    if language not in TEMPLATES:
        raise ValueError(f"unknown prompt language {language!r}")
    answer, _ = split_reasoning(text or "")
    found = _json_object(answer)
    parsed: dict[str, str | None] = {}
    for task in tasks:
        label = _from_json(found, task) if found is not None else None
        if label is None:
            label = _from_lines(answer, task)
        if label is None and len(tasks) == 1:
            label = _read_label(task, answer) or _named_once(answer, task)
        parsed[task.value] = label
    return parsed


def answer_schema(tasks: Sequence[Task], language: str = "zh") -> dict:
    """The JSON schema of an answer: an object with one string per task, restricted to that task's labels as the
    template writes them (enum), every key required and nothing else allowed."""
    return {
        "type": "object",
        "properties": {task.value: {"type": "string", "enum": list(label_names(task, language))} for task in tasks},
        "required": [task.value for task in tasks],
        "additionalProperties": False,
    }


def response_format(tasks: Sequence[Task], language: str = "zh") -> dict:
    """The OpenAI `response_format` asking for `answer_schema` (vLLM, SGLang and the OpenAI API enforce it by
    structured decoding; a server that ignores it leaves the parser to read free text)."""
    name = "est_" + "_".join(task.value for task in tasks)
    return {"type": "json_schema",
            "json_schema": {"name": name, "schema": answer_schema(tasks, language), "strict": True}}


def with_fallback(parsed: Mapping[str, str | None]) -> dict[str, str]:
    """`parsed` with every unreadable label replaced by its `FALLBACK_LABELS` entry."""
    return {task: FALLBACK_LABELS[task] if label is None else label for task, label in parsed.items()}
