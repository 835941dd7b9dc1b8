"""The prompts of generative classification and the ONE prompt-settings record every trainer and predictor takes.

This module owns (the LoRA trainer, both prediction engines, the lm-evaluation-harness tasks and chat/API-model
evaluation all import it; nothing else writes a prompt):

- `PromptSettings`: how a row becomes a prompt (mode, template language, context budget, chat template), with
  `save(folder)` / `PromptSettings.load(folder)` for the `est_prompt.json` a trained model carries, `override(...)`
  for flags given at prediction time, `add_override_arguments(parser)` / `override_from(args)` generating those flags
  from the fields, and `prompts(...)` / `completion(...)` / `end(...)` writing what training and prediction share;
- the templates (`TEMPLATES`: `zh`, `zh-labels`, `en`) and the plain functions under them (`build_prompt`,
  `build_completion`, `field_prefix`, `label_names`, `tasks_of`, `chat_prompt`, `prompt_end`).

The prompts follow the paper's Fig. 2: state each task's candidate labels, give the session's anchor (what the
transition is relative to), the dialogue context and the user's utterance, and ask for the label(s).
Two modes share one answer format, a line per task, `<task name><separator><label>`:

- joint: one prompt asks for all three tasks; the answer is the three lines (paper: one model, three outputs);
- per-task: one prompt per task; the answer is that task's line.

The prompt always ends with the answer header and a newline, and the label lines are the completion the model is
trained on (loss on those tokens only). The `zh` template is the default (the data is Chinese) and writes the labels
with their canonical `estbench.schema` names, so a scored label is exactly a leaderboard label; `zh-labels` is the
same template with the labels in Chinese (`estbench.schema.CHINESE_LABELS`: 担忧, 积极到消极, 满意, ...), so a Chinese
model reads and writes only Chinese; every answer is mapped back to the canonical name. `en` is provided for
English-centric models.

Chat mode (`chat_template`) puts the same prompt into the user turn of the model's own chat template, ending with the
template's assistant opening, so an instruct model is trained and queried in its format; training and prediction call
the same function, and the label decoder anchors on the same fixed prompt end (`prompt_end`). A tokenizer is any
object with the `transformers` tokenizer interface; nothing here imports transformers.

>>> settings = PromptSettings(prompt_mode="per-task", max_context_chars=100)
>>> settings.override(prompt_language="en", chat_template=None).prompt_language
'en'
>>> [len(group) for group in settings.task_groups]
[1, 1, 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Mapping, Sequence

from .cli import add_dataclass_arguments, dataclass_values
from .io import write_atomically
from .schema import CHINESE_LABELS, TASKS, Task, chinese_names

SETTINGS_FILE = "est_prompt.json"  # the prompt settings saved beside a trained model

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
    # chat prompts only (`build_chat_prompt`): a label with its Chinese names, and how the answer must be written
    with_aliases: str = "{label}（{aliases}）"
    answer_lines: str = "请只按以下格式作答，每项一行，类别照抄候选类别，不要解释："
    answer_placeholder: str = "<类别>"
    answer_json: str = "请只输出一个 JSON 对象，键为 {keys}，值为候选类别，不要解释。"


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
        anchor_header=("Session anchor (the user's first substantive utterance; the transition is relative to its "
                       "polarity):"),
        empty_anchor="(none yet)",
        context_header="Dialogue context:",
        empty_context="(none)",
        utterance_header="User's current utterance:",
        answer_header="Answer:",
        separator=": ",
        list_joiner=", ",
        with_aliases="{label} ({aliases})",
        answer_lines="Answer in exactly this format, one line per item, each label copied from its candidates, "
                     "no explanation:",
        answer_placeholder="<label>",
        answer_json="Answer with one JSON object only, with the keys {keys} and candidate labels as values, no "
                    "explanation.",
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


def _question(context: str, text: str, tasks: Sequence[Task], language: str, max_context_chars: int | None,
              anchor: str, candidates) -> list[str]:
    """The lines every prompt shares: instruction, candidates (`candidates(task)` writes a task's list), the anchor,
    the context and the utterance."""
    t = template(language)
    names = t.list_joiner.join(t.task_names[task] for task in tasks)
    lines = [t.instruction.format(tasks=names)]
    lines += [t.candidates.format(task=t.task_names[task], labels=candidates(task)) for task in tasks]
    lines += [t.anchor_header, anchor if anchor and anchor.strip() else t.empty_anchor]
    context = truncate_context(context or "", max_context_chars)
    lines += [t.context_header, context if context.strip() else t.empty_context]
    return lines + [t.utterance_header, text]


def build_prompt(
    context: str, text: str, tasks: Sequence[Task], language: str = "zh", max_context_chars: int | None = 600,
    anchor: str = "",
) -> str:
    """The prompt for one utterance and a group of tasks; it ends right where the first answer line starts.

    `anchor` is the row's `anchor` field (the session's first substantive user utterance, "" before it)."""
    t = template(language)
    lines = _question(context, text, tasks, language, max_context_chars, anchor,
                      lambda task: t.list_joiner.join(label_names(task, language)))
    return "\n".join(lines + [t.answer_header, ""])


# --- chat / API models: one user message per question, the answer written by the model ----------------------------

ANSWER_FORMATS = ("lines", "json")  # a line per task (`build_completion`), or a JSON object keyed by task name


def candidates_with_aliases(task: Task, language: str = "zh") -> str:
    """`task`'s candidate list for a chat prompt: each label as the template writes it, followed by its Chinese names
    (`estbench.schema.chinese_names`) where they differ, so a model may answer in either language."""
    t = template(language)
    names = chinese_names(task)
    written = []
    for label, name in zip(task.labels, label_names(task, language)):
        aliases = [alias for alias in names[label] if alias != name]
        written.append(t.with_aliases.format(label=name, aliases=t.list_joiner.join(aliases)) if aliases else name)
    return t.list_joiner.join(written)


def build_chat_prompt(
    context: str, text: str, tasks: Sequence[Task], language: str = "zh", max_context_chars: int | None = 600,
    anchor: str = "", answer_format: str = "lines",
) -> str:
    """The user message asking a chat model about one utterance: the question of `build_prompt` (labels listed with
    their Chinese names) and how to write the answer (`lines`: `情绪：<类别>` per task; `json`: one object keyed by
    task name, what a JSON-schema `response_format` enforces, see `estbench.answers.response_format`)."""
    if answer_format not in ANSWER_FORMATS:
        raise ValueError(f"unknown answer format {answer_format!r} (expected one of: {', '.join(ANSWER_FORMATS)})")
    t = template(language)
    lines = _question(context, text, tasks, language, max_context_chars, anchor,
                      lambda task: candidates_with_aliases(task, language))
    if answer_format == "json":
        return "\n".join(lines + [t.answer_json.format(keys=t.list_joiner.join(task.value for task in tasks))])
    return "\n".join(lines + [t.answer_lines] + [field_prefix(task, language) + t.answer_placeholder for task in tasks])


def chat_answer(labels: Mapping[str, str], tasks: Sequence[Task], language: str = "zh",
                answer_format: str = "lines") -> str:
    """The answer a chat model should write for canonical `labels` (a few-shot example's assistant turn)."""
    if answer_format == "json":
        return json.dumps({task.value: label_names(task, language)[task.labels.index(labels[task.value])]
                           for task in tasks}, ensure_ascii=False)
    return build_completion(labels, tasks, language)


def chat_messages(prompt: str, shots: Sequence[tuple[str, str]] = ()) -> list[dict[str, str]]:
    """OpenAI-style messages: each few-shot example as a user turn and the assistant's answer, then the question."""
    messages = []
    for question, answer in shots:
        messages += [{"role": "user", "content": question}, {"role": "assistant", "content": answer}]
    return messages + [{"role": "user", "content": prompt}]


def shot_pairs(train, tasks: Sequence[Task], k: int, seed: int, language: str = "zh",
               max_context_chars: int | None = 600, answer_format: str = "lines") -> list[tuple[str, str]]:
    """(question, answer) of `k` rows of `train` (a built split, pandas) spread over the classes of the group's first
    task (`select_shots`), written as `build_chat_prompt` and `chat_answer` write them."""
    if k == 0:
        return []
    rows = train.iloc[select_shots(list(train[tasks[0].value]), k, seed, tasks[0].labels)]
    contexts, texts, anchors = prompt_fields(rows)
    labels = [{task.value: value for task, value in zip(tasks, values)}
              for values in zip(*(rows[task.value].tolist() for task in tasks))]
    return [(build_chat_prompt(c, t, tasks, language, max_context_chars, a, answer_format),
             chat_answer(answer, tasks, language, answer_format))
            for c, t, a, answer in zip(contexts, texts, anchors, labels)]


def select_shots(labels: Sequence[str], k: int, seed: int, classes: Sequence[str]) -> list[int]:
    """Indices of `k` few-shot examples among rows whose label (of the task the shots are spread over) is
    `labels[i]`: classes are taken in turn, in `classes` order, and a seeded random row of each, so k >= the number
    of classes present shows every class; the same (labels, k, seed) always gives the same rows.

    >>> select_shots(["A", "B", "A", "C", "A"], 4, seed=0, classes=("A", "B", "C"))
    [2, 1, 3, 4]
    """
    rng = random.Random(seed)
    pools = {label: [i for i, value in enumerate(labels) if value == label] for label in classes}
    for pool in pools.values():
        rng.shuffle(pool)
    chosen: list[int] = []
    while len(chosen) < k and any(pools.values()):
        for label in classes:
            if pools[label] and len(chosen) < k:
                chosen.append(pools[label].pop())
    return chosen


def field_prefix(task: Task, language: str = "zh") -> str:
    """What precedes a task's label in the answer, e.g. '情绪：'."""
    t = template(language)
    return f"{t.task_names[task]}{t.separator}"


def build_completion(labels: Mapping[str, str], tasks: Sequence[Task], language: str = "zh") -> str:
    """The answer lines for `tasks`, from canonical labels keyed by task name (written as the template writes them;
    the trainer appends end-of-sequence)."""
    return "\n".join(field_prefix(task, language) + label_names(task, language)[task.labels.index(labels[task.value])]
                     for task in tasks)


def prompt_fields(frame) -> tuple[list[str], list[str], list[str]]:
    """(contexts, texts, anchors) of a built split's rows (a pandas DataFrame), as every prompt takes them."""
    anchors = frame["anchor"].fillna("").tolist() if "anchor" in frame.columns else [""] * len(frame)
    return frame["context"].fillna("").tolist(), frame["text"].tolist(), anchors


_CONTENT = "\x00EST-PROMPT\x00"  # a stand-in user message: what the chat template puts around it is fixed


def chat_prompt(tokenizer, prompt: str) -> str:
    """`prompt` as the user turn of the tokenizer's chat template, ending where the assistant's answer starts.

    A BOS token written by the template is dropped when the tokenizer adds BOS itself (else there would be two)."""
    if not getattr(tokenizer, "chat_template", None):
        raise ValueError("--chat_template: this tokenizer has no chat template (use an instruct/chat model's "
                         "tokenizer, or train without --chat_template)")
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


@dataclass(frozen=True)
class PromptSettings:
    """How every row becomes a prompt: the record a trainer saves beside the model and every predictor reads.

    The field names are the command-line flags (`--prompt_mode`, ...), the recipe YAML keys and the keys of
    `est_prompt.json`, so a model trained with one setting is predicted with it.
    """

    prompt_mode: str = dataclasses.field(
        default="joint", metadata={"help": "joint: one prompt -> all three labels; per-task: one prompt per task.",
                                   "choices": MODES})
    prompt_language: str = dataclasses.field(
        default="zh", metadata={"help": "Language of the prompt template (zh-labels: Chinese label names too).",
                                "choices": LANGUAGES})
    max_context_chars: int | None = dataclasses.field(
        default=600, metadata={"help": "Keep at most this many characters of the most recent dialogue context in a "
                                       "prompt (None: all of it)."})
    chat_template: bool = dataclasses.field(
        default=False, metadata={"help": "Put each prompt into the tokenizer's chat template (instruct models); "
                                         "prediction uses it too (saved with the prompt settings)."})

    def __post_init__(self):
        if self.prompt_mode not in MODES:
            raise ValueError(f"unknown prompt mode {self.prompt_mode!r} (expected one of: {', '.join(MODES)})")
        if self.prompt_language not in LANGUAGES:
            raise ValueError(f"unknown prompt language {self.prompt_language!r} (expected one of: "
                             f"{', '.join(LANGUAGES)})")
        chars = self.max_context_chars
        if chars is not None and (isinstance(chars, bool) or not isinstance(chars, int) or chars <= 0):
            raise ValueError(f"max_context_chars must be a positive integer or None, got {chars!r}")
        if not isinstance(self.chat_template, bool):
            raise ValueError(f"chat_template must be true or false, got {self.chat_template!r}")

    # --- what training and prediction share -------------------------------------------------------------------
    @property
    def task_groups(self) -> tuple[tuple[Task, ...], ...]:
        """The task groups one row is asked about (`tasks_of`)."""
        return tasks_of(self.prompt_mode)

    def prompts(self, contexts: Sequence[str], texts: Sequence[str], anchors: Sequence[str] | None,
                tasks: Sequence[Task], tokenizer=None) -> list[str]:
        """The prompts of rows for one task group; in `tokenizer`'s chat template when `chat_template` is set."""
        anchors = [""] * len(texts) if anchors is None else anchors
        if not len(contexts) == len(texts) == len(anchors):
            raise ValueError(f"{len(contexts)} contexts, {len(texts)} texts and {len(anchors)} anchors: one each "
                             "per row")
        if self.chat_template and tokenizer is None:
            raise ValueError("chat_template prompts need the model's tokenizer")
        prompts = [build_prompt(c, t, tasks, self.prompt_language, self.max_context_chars, anchor=a)
                   for c, t, a in zip(contexts, texts, anchors)]
        return [chat_prompt(tokenizer, p) for p in prompts] if self.chat_template else prompts

    def completion(self, labels: Mapping[str, str], tasks: Sequence[Task]) -> str:
        """The answer lines of `tasks` (`build_completion` in this template's language)."""
        return build_completion(labels, tasks, self.prompt_language)

    def end(self, tokenizer=None) -> str:
        """The fixed text every prompt ends with (`prompt_end`)."""
        return prompt_end(tokenizer, self.prompt_language, self.chat_template)

    # --- reading, writing, overriding -------------------------------------------------------------------------
    def to_json(self) -> dict:
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(PromptSettings)}

    @classmethod
    def from_json(cls, values: Mapping, where: str = "prompt settings") -> "PromptSettings":
        unknown = sorted(set(values) - {f.name for f in dataclasses.fields(PromptSettings)})
        if unknown:
            raise ValueError(f"{where}: unknown keys {unknown}")
        try:
            return PromptSettings(**values)
        except (TypeError, ValueError) as error:
            raise ValueError(f"{where}: {error}") from None

    def prompt_settings(self) -> "PromptSettings":
        """These settings as a plain `PromptSettings` (a subclass, e.g. the trainer's arguments, carries more)."""
        return PromptSettings(**self.to_json())

    def save(self, folder: str | Path) -> Path:
        """Write `est_prompt.json` into `folder` (atomically) and return its path."""
        return write_atomically(Path(folder) / SETTINGS_FILE, json.dumps(self.to_json(), indent=2) + "\n")

    @classmethod
    def load(cls, folder: str | Path) -> "PromptSettings":
        """The settings saved in `folder` (a trained model), or the defaults when it has no `est_prompt.json`
        (a model trained elsewhere, or a Hub id). Keys missing from the file keep their defaults."""
        path = Path(folder) / SETTINGS_FILE
        if not path.is_file():
            return PromptSettings()
        try:
            values = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as error:
            raise ValueError(f"{path}: not a JSON object of prompt settings ({error})") from None
        if not isinstance(values, dict):
            raise ValueError(f"{path}: not a JSON object of prompt settings")
        return PromptSettings.from_json(values, str(path))

    def override(self, **values) -> "PromptSettings":
        """A copy with the given fields replaced; a value of None leaves the field as it is (a flag not given)."""
        given = {name: value for name, value in values.items() if value is not None}
        unknown = sorted(set(given) - {f.name for f in dataclasses.fields(PromptSettings)})
        if unknown:
            raise ValueError(f"unknown prompt settings {unknown}")
        return replace(self.prompt_settings(), **given)

    @staticmethod
    def add_override_arguments(parser: argparse.ArgumentParser, help_prefix: str = "override the trained setting: "):
        """Add a flag per field (default None: keep the trained value); `override_from(args)` applies them."""
        add_dataclass_arguments(parser, PromptSettings, optional=True, help_prefix=help_prefix)

    def override_from(self, args: argparse.Namespace) -> "PromptSettings":
        """These settings overridden by the flags `add_override_arguments` added (those given)."""
        return self.override(**dataclass_values(args, PromptSettings))
