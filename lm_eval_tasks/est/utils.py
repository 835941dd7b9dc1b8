"""EST as lm-evaluation-harness tasks: the dataset loader, the prompts, the choices, the answer filter and the
macro-F1 aggregation.

`est` / `est_full` (`multiple_choice`): the prompt is the baselines' per-task prompt (`estbench.prompts`: candidates,
anchor, context, the user's utterance, then e.g. "答案：\n情绪：") and the choices are the exact label names, so the
harness asks the question a LoRA-tuned model was trained to answer, and a chosen label is a leaderboard label.

`est_gen` / `est_gen_full` (`generate_until`, for chat and API models that give no log-likelihoods: `--model
local-chat-completions --apply_chat_template`): the user message is the chat prompt of `baselines/run.py chat`
(`estbench.prompts.build_chat_prompt`, per task; `est_gen_joint` asks for the three labels at once), the reply is
read by the same parser (`estbench.answers.parse_answer`, applied as the `custom` filter `est`), an unreadable answer
counts as its task's fallback label (`estbench.answers.FALLBACK_LABELS`) and is reported as `invalid`. Few-shot
examples (`--num_fewshot K --fewshot_as_multiturn`) come from the train split by lm-eval's own sampler, answered as
`run.py chat` answers them.

Macro-F1 is computed by the project's scoring core (`estbench.scoring`), over the classes present in the references,
as everywhere in EST.
"""

from __future__ import annotations

from functools import partial
from pathlib import Path

from estbench.answers import FALLBACK_LABELS, parse_answer
from estbench.built import load_track
from estbench.layout import SPLITS
from estbench.prompts import build_chat_prompt, build_prompt, chat_answer, field_prefix
from estbench.schema import TASKS, Task
from estbench.scoring import score


def load_est(data_dir: str = "est", track: str = "balanced", **_metadata):
    """The built EST folder's track as a DatasetDict (metadata `data_dir`, `track`; the rest is lm-eval's own)."""
    import datasets

    folder = Path(data_dir).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"EST folder {data_dir!r} not found: build it with `python est_dataset.py build --out {data_dir}` or "
            'pass its path with --metadata \'{"data_dir": "<path to the built est folder>"}\''
        )
    splits = {}
    for split in SPLITS:
        frame = load_track(folder, track, split)
        frame = frame.drop(columns=[c for c in ("turn", "anchor_turn") if c in frame.columns])
        splits[split] = datasets.Dataset.from_pandas(frame, preserve_index=False)
    return datasets.DatasetDict(splits)


def _prompt(task: Task, doc: dict) -> str:
    return build_prompt(doc["context"], doc["text"], (task,), anchor=doc["anchor"]) + field_prefix(task)


def _choices(task: Task, doc: dict) -> list[str]:
    return list(task.labels)


def _target(task: Task, doc: dict) -> int:
    label = doc[task.value]
    return -1 if label is None else task.labels.index(label)  # -1: hidden (a --blind_test build)


def _results(task: Task, doc: dict, results) -> dict:
    """acc and the (task, gold, predicted) triple macro_f1 aggregates; the prediction is the arg-max
    log-likelihood over the label names, the harness's own `acc` rule (first on ties)."""
    scores = [loglikelihood for loglikelihood, _ in results]
    predicted = max(range(len(scores)), key=scores.__getitem__)
    gold = _target(task, doc)
    return {"acc": float(predicted == gold), "macro_f1": (task.value, gold, predicted)}


def macro_f1(items) -> float:
    """Macro-F1 of (task, gold id, predicted id) triples, by the EST scoring core."""
    task = items[0][0]
    golds = [gold for _, gold, _ in items]
    if min(golds) < 0:
        raise ValueError("the test labels of this EST folder are hidden (a --blind_test build): run lm_eval with "
                         "--predict_only --log_samples and submit the converted file to the leaderboard")
    return score({task: golds}, {task: [predicted for _, _, predicted in items]})[f"{task}_macro_f1"]


emotion_prompt, transition_prompt, satisfaction_prompt = (partial(_prompt, task) for task in Task)
emotion_choices, transition_choices, satisfaction_choices = (partial(_choices, task) for task in Task)
emotion_target, transition_target, satisfaction_target = (partial(_target, task) for task in Task)
emotion_results, transition_results, satisfaction_results = (partial(_results, task) for task in Task)


# --- est_gen: generated answers ------------------------------------------------------------------------------------
def _chat_prompt(tasks: tuple[Task, ...], doc: dict) -> str:
    return build_chat_prompt(doc["context"], doc["text"], tasks, anchor=doc["anchor"])


def _chat_target(tasks: tuple[Task, ...], doc: dict) -> str:
    """A few-shot example's answer (train rows always carry their labels)."""
    return chat_answer({task.value: doc[task.value] for task in tasks}, tasks)


def _parse(tasks: tuple[Task, ...], resps, docs) -> list[dict]:
    """The `custom` filter: each document's (first) reply read into {task: label or None} by the EST answer parser
    (it also takes the first reply, as lm-eval's `take_first` does)."""
    return [parse_answer(replies[0] or "", tasks) for replies in resps]


def _generated_results(tasks: tuple[Task, ...], doc: dict, results) -> dict:
    """acc, the macro_f1 triples and whether the answer was unreadable; an unreadable label counts as the fallback."""
    parsed = results[0]  # the filter's output for the document's one request
    out = {"invalid": float(any(parsed[task.value] is None for task in tasks))}
    for task in tasks:
        label = parsed[task.value] or FALLBACK_LABELS[task.value]
        gold, predicted = _target(task, doc), task.labels.index(label)
        prefix = "" if len(tasks) == 1 else f"{task.value}_"
        out[f"{prefix}acc"] = float(predicted == gold)
        out[f"{prefix}macro_f1"] = (task.value, gold, predicted)
    return out


emotion_chat_prompt, transition_chat_prompt, satisfaction_chat_prompt = (partial(_chat_prompt, (t,)) for t in Task)
emotion_chat_target, transition_chat_target, satisfaction_chat_target = (partial(_chat_target, (t,)) for t in Task)
emotion_parse, transition_parse, satisfaction_parse = (partial(_parse, (t,)) for t in Task)
emotion_generated, transition_generated, satisfaction_generated = (partial(_generated_results, (t,)) for t in Task)
joint_chat_prompt, joint_chat_target = partial(_chat_prompt, TASKS), partial(_chat_target, TASKS)
joint_parse, joint_generated = partial(_parse, TASKS), partial(_generated_results, TASKS)
