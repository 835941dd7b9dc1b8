"""Prompt templates for generative classification (the paper's Fig. 2): state each task's candidate labels, give the
session's anchor (what the transition is relative to), the dialogue context and the user's utterance, and ask for
the label(s).

Two modes share one answer format, a line per task, `<task name><separator><label>`:

- joint: one prompt asks for all three tasks; the answer is the three lines (paper: one model, three outputs);
- per-task: one prompt per task; the answer is that task's line.

The prompt always ends with the answer header and a newline, and the label lines are the completion the model is
trained on (loss on those tokens only). The `zh` template is the default (the data is Chinese) and writes the labels
with their canonical `estbench.schema` names, so a scored label is exactly a leaderboard label; `zh-labels` is the
same template with the labels in Chinese (`estbench.schema.CHINESE_LABELS`: 担忧, 积极到消极, 满意, ...), so a Chinese
model reads and writes only Chinese; every answer is mapped back to the canonical name. `en` is provided for
English-centric models.

Chat mode (`chat_prompt`, `--chat_template`) puts the same prompt into the user turn of the model's own chat template,
ending with the template's assistant opening, so an instruct model is trained and queried in its format; training and
prediction call the same function, and the label decoder anchors on the same fixed prompt end (`prompt_end`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from estbench.schema import CHINESE_LABELS, TASKS, Task

MODES = ("joint", "per-task")
LANGUAGES = ("zh", "en", "zh-labels")


@dataclass(frozen=True)
class PromptTemplate:
    instruction: str  # formatted with {tasks}: the task names joined
    task_names: Mapping[Task, str]
    candidates: str  # formatted with {task} and {labels}
    anchor_header: str  # the session's anchor: what the transition is relative to
    empty_anchor: str
    context_header: str
    empty_context: str
    utterance_header: str
    answer_header: str
    separator: str  # between a task name and its label in the answer
    list_joiner: str
    label_names: Mapping[str, tuple[str, ...]] | None = None  # per task, schema order; None: the canonical names


TEMPLATES: dict[str, PromptTemplate] = {
    "zh": PromptTemplate(
        instruction="你是电信客服对话分析助手。请根据对话上下文，判断用户当前语句的{tasks}，每项只能从候选类别中选择一个。",
        task_names={Task.EMOTION: "情绪", Task.TRANSITION: "情绪状态转移", Task.SATISFACTION: "满意度"},
        candidates="{task}的候选类别：{labels}",
        anchor_header="会话起点（用户首个有实际内容的语句，情绪状态转移相对于它的极性）：",
        empty_anchor="（尚无）",
        context_header="对话上下文：",
        empty_context="（无）",
        utterance_header="用户当前语句：",
        answer_header="答案：",
        separator="：",
        list_joiner="、",
    ),
    "en": PromptTemplate(
        instruction=(
            "You analyse Chinese telecom customer-service dialogues. Given the dialogue context, classify the "
            "user's current utterance for {tasks}. For each, answer with exactly one of the candidate labels."
        ),
        task_names={Task.EMOTION: "emotion", Task.TRANSITION: "emotion transition", Task.SATISFACTION: "satisfaction"},
        candidates="Candidate labels for {task}: {labels}",
        anchor_header="Session anchor (the user's first substantive utterance; the transition is relative to its polarity):",
        empty_anchor="(none yet)",
        context_header="Dialogue context:",
        empty_context="(none)",
        utterance_header="User's current utterance:",
        answer_header="Answer:",
        separator=": ",
        list_joiner=", ",
    ),
}


TEMPLATES["zh-labels"] = replace(TEMPLATES["zh"], label_names=CHINESE_LABELS)


def label_names(task: Task, language: str = "zh") -> tuple[str, ...]:
    """How the template writes `task`'s labels, in schema order (index i is `task.labels[i]`)."""
    names = template(language).label_names
    return task.labels if names is None else names[task.value]


def tasks_of(mode: str) -> tuple[tuple[Task, ...], ...]:
    """The task groups one example is asked about: one group of three (joint) or three groups of one (per-task)."""
    if mode == "joint":
        return (TASKS,)
    if mode == "per-task":
        return tuple((task,) for task in TASKS)
    raise ValueError(f"unknown prompt mode {mode!r} (expected one of: {', '.join(MODES)})")


def template(language: str) -> PromptTemplate:
    if language not in TEMPLATES:
        raise ValueError(f"unknown prompt language {language!r} (expected one of: {', '.join(LANGUAGES)})")
    return TEMPLATES[language]


def truncate_context(context: str, max_chars: int | None) -> str:
    """Keep the most recent dialogue lines that fit in `max_chars` characters (the newest line is cut if it alone is
    too long). Bounding the context keeps the answer inside the model's `max_length` (truncation would otherwise cut
    the answer, which sits at the end)."""
    if max_chars is None or len(context) <= max_chars:
        return context
    kept: list[str] = []
    used = 0
    for line in reversed(context.split("\n")):
        if used + len(line) + (1 if kept else 0) > max_chars:
            if not kept:
                kept.append(line[-max_chars:])
            break
        kept.append(line)
        used += len(line) + (1 if len(kept) > 1 else 0)
    return "\n".join(reversed(kept))


def build_prompt(
    context: str, text: str, tasks: Sequence[Task], language: str = "zh", max_context_chars: int | None = 600,
    anchor: str = "",
) -> str:
    """The prompt for one utterance and a group of tasks; it ends right where the first answer line starts.

    `anchor` is the row's `anchor` field (the session's first substantive user utterance, "" before it)."""
    t = template(language)
    names = t.list_joiner.join(t.task_names[task] for task in tasks)
    lines = [t.instruction.format(tasks=names)]
    lines += [t.candidates.format(task=t.task_names[task], labels=t.list_joiner.join(label_names(task, language)))
              for task in tasks]
    lines += [t.anchor_header, anchor if anchor and anchor.strip() else t.empty_anchor]
    context = truncate_context(context or "", max_context_chars)
    lines += [t.context_header, context if context.strip() else t.empty_context]
    lines += [t.utterance_header, text, t.answer_header, ""]
    return "\n".join(lines)


def field_prefix(task: Task, language: str = "zh") -> str:
    """What precedes a task's label in the answer, e.g. '情绪：'."""
    t = template(language)
    return f"{t.task_names[task]}{t.separator}"


def build_completion(labels: Mapping[str, str], tasks: Sequence[Task], language: str = "zh") -> str:
    """The answer lines for `tasks`, from canonical labels keyed by task name (written as the template writes them;
    the trainer appends end-of-sequence)."""
    return "\n".join(field_prefix(task, language) + label_names(task, language)[task.labels.index(labels[task.value])]
                     for task in tasks)


_CONTENT = "\x00EST-PROMPT\x00"  # a stand-in user message: what the chat template puts around it is fixed


def chat_prompt(tokenizer, prompt: str) -> str:
    """`prompt` as the user turn of the tokenizer's chat template, ending where the assistant's answer starts.

    A BOS token written by the template is dropped when the tokenizer adds BOS itself (else there would be two)."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("--chat_template: this tokenizer has no chat template (use an instruct/chat model's tokenizer, "
                         "or train without --chat_template)")
    text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                         add_generation_prompt=True)
    bos = tokenizer.bos_token
    if bos and text.startswith(bos) and tokenizer("x")["input_ids"][:1] == [tokenizer.bos_token_id]:
        text = text[len(bos):]
    return text


def prompt_end(tokenizer, language: str = "zh", chat: bool = False) -> str:
    """The fixed text every prompt ends with: the answer header (plain), then the chat template's closing of the user
    turn and opening of the assistant's (chat mode)."""
    end = template(language).answer_header + "\n"
    if chat:
        end += chat_prompt(tokenizer, _CONTENT).split(_CONTENT, 1)[1]
    return end
