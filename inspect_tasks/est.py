"""EST as an inspect-ai task: any model inspect can reach (OpenAI, Anthropic, vLLM, any OpenAI-compatible server,
Hugging Face, ...) answers the EST question about every utterance, and one scorer per EST task reads the reply.

    inspect eval inspect_tasks/est.py@est --model openai-api/local/MODEL -T data_dir=est     # LOCAL_BASE_URL=...
    inspect eval inspect_tasks/est.py@est --model vllm/Qwen/Qwen2.5-7B-Instruct -T shots=5 -T structured=true
    inspect eval inspect_tasks/est.py@est --model openai/gpt-4o-mini -T hub_repo=ORG/est     # the Hub dataset
    inspect eval inspect_tasks/est.py@est_emotion ...                                          # one task per prompt

- Data: a built folder (`data_dir`, default `est`; a `--blind-test` build is scored from its gold file) or a Hub
  dataset repository (`hub_repo`), the `track`'s config (`balanced`: joint-balanced, `full`: joint), `split` test.
- Prompts and parser are the ones of `baselines/run.py chat` and the lm-eval `est_gen` tasks
  (`estbench.prompts.build_chat_prompt`, `estbench.answers.parse_answer`); `shots` examples from the train split
  (`estbench.prompts.shot_pairs`) come first as earlier turns; `structured=true` asks for the JSON schema of
  `estbench.answers.answer_schema` (inspect's `response_schema`). `est` asks once per utterance for the three labels
  (joint); `est_emotion`, `est_transition`, `est_satisfaction` ask about one task each.
- Scorers: one per EST task, `C`/`I` per utterance (an unreadable answer is scored as the fallback label of
  `estbench.answers.FALLBACK_LABELS`, and counted by `invalid`); metrics: accuracy, its standard error clustered by
  session (utterances of one dialogue are not independent), macro-F1 computed by `estbench.scoring` and the share
  of unreadable answers.

This file imports only `estbench` (and inspect-ai), like the lm-eval task utilities.
"""

from __future__ import annotations

from pathlib import Path

from inspect_ai import Task, task
from inspect_ai.dataset import MemoryDataset, Sample
from inspect_ai.model import ChatMessageAssistant, ChatMessageUser, GenerateConfig, ResponseSchema
from inspect_ai.scorer import CORRECT, INCORRECT, SampleScore, Score, Target, accuracy, metric, scorer, stderr
from inspect_ai.solver import TaskState, generate
from inspect_ai.util import JSONSchema

from estbench.answers import FALLBACK_LABELS, answer_schema, parse_answer
from estbench.built import load_track
from estbench.gold import load_references
from estbench.layout import TRACK_CONFIGS
from estbench.prompts import build_chat_prompt, prompt_fields, shot_pairs
from estbench.schema import TASKS
from estbench.schema import Task as EstTask
from estbench.scoring import score as score_labels

ANSWER_TOKENS = 64  # est_baselines.chat.DEFAULT_ANSWER_TOKENS and the est_gen tasks' max_gen_toks (a test checks)


def _frame(data_dir: str, hub_repo: str | None, track: str, split: str):
    """The split's rows as a pandas frame with label names (gold from the blind build's gold file if hidden)."""
    if hub_repo:
        import datasets

        table = datasets.load_dataset(hub_repo, TRACK_CONFIGS[track], split=split)
        frame = table.to_pandas()
        for est_task in TASKS:
            names = table.features[est_task.value].names
            frame[est_task.value] = [names[i] if i >= 0 else None for i in frame[est_task.value]]
        return frame
    frame = load_track(data_dir, track, split)
    if frame[TASKS[0].value].isna().any():  # a --blind-test build: the gold file next to it
        references = load_references(data_dir, track, split, frame)
        for est_task in TASKS:
            frame[est_task.value] = list(references[est_task.value])
    return frame


def _dataset(tasks: tuple[EstTask, ...], data_dir: str, hub_repo: str | None, track: str, split: str, shots: int,
             shot_seed: int, answer_format: str, limit: int | None) -> MemoryDataset:
    frame = _frame(data_dir, hub_repo, track, split)
    if limit:
        frame = frame.head(limit)
    train = _frame(data_dir, hub_repo, track, "train") if shots else None
    turns = []
    for question, answer in shot_pairs(train, tasks, shots, shot_seed, answer_format=answer_format):
        turns += [ChatMessageUser(content=question), ChatMessageAssistant(content=answer)]
    contexts, texts, anchors = prompt_fields(frame)
    samples = []
    for row, context, text, anchor in zip(frame.itertuples(index=False), contexts, texts, anchors):
        prompt = build_chat_prompt(context, text, tasks, anchor=anchor, answer_format=answer_format)
        gold = {est_task.value: getattr(row, est_task.value) for est_task in tasks}
        samples.append(Sample(id=row.id, input=[*turns, ChatMessageUser(content=prompt)],
                              target=[gold[est_task.value] for est_task in tasks],
                              metadata={"session_id": row.session_id, **gold}))
    return MemoryDataset(samples, name=f"est-{track}-{split}")


@metric
def macro_f1():
    """Macro-F1 of the scorer's task over every scored utterance, by the EST scoring core."""

    def compute(scores: list[SampleScore]) -> float:
        if not scores:  # inspect also asks while no sample is scored yet
            return float("nan")
        task_name = scores[0].score.metadata["task"]
        gold = [item.score.metadata["gold"] for item in scores]
        predicted = [item.score.metadata["predicted"] for item in scores]
        return score_labels({task_name: gold}, {task_name: predicted})[f"{task_name}_macro_f1"]

    return compute


@metric
def invalid():
    """The share of answers that could not be read (scored as the fallback label)."""

    def compute(scores: list[SampleScore]) -> float:
        if not scores:
            return float("nan")
        return sum(item.score.metadata["invalid"] for item in scores) / len(scores)

    return compute


def _task_scorer(est_task: EstTask, asked: tuple[EstTask, ...]):
    @scorer(metrics=[accuracy(), stderr(cluster="session_id"), macro_f1(), invalid()], name=est_task.value)
    def read_label():
        async def score(state: TaskState, target: Target) -> Score:
            parsed = parse_answer(state.output.completion, asked)[est_task.value]
            predicted = parsed or FALLBACK_LABELS[est_task.value]
            gold = state.metadata[est_task.value]
            return Score(value=CORRECT if predicted == gold else INCORRECT, answer=parsed or "",
                         metadata={"task": est_task.value, "gold": gold, "predicted": predicted,
                                   "invalid": parsed is None})

        return score

    return read_label()


def _est_task(tasks: tuple[EstTask, ...], data_dir: str, hub_repo: str | None, track: str, split: str, shots: int,
              shot_seed: int, structured: bool, limit: int | None) -> Task:
    if not hub_repo and not Path(data_dir).is_dir():
        raise FileNotFoundError(f"EST folder {data_dir!r} not found: build it (`python est_dataset.py build`) or pass "
                                "-T data_dir=PATH, or -T hub_repo=ORG/NAME")
    config = GenerateConfig(temperature=0.0, max_tokens=ANSWER_TOKENS)
    if structured:
        config = config.merge(GenerateConfig(response_schema=ResponseSchema(
            name="est_" + "_".join(t.value for t in tasks), strict=True,
            json_schema=JSONSchema.model_validate(answer_schema(tasks)))))
    dataset = _dataset(tasks, data_dir, hub_repo, track, split, shots, shot_seed, "json" if structured else "lines",
                       limit)
    return Task(dataset=dataset, solver=generate(), scorer=[_task_scorer(t, tasks) for t in tasks], config=config)


@task
def est(data_dir: str = "est", hub_repo: str | None = None, track: str = "balanced", split: str = "test",
        shots: int = 0, shot_seed: int = 0, structured: bool = False, limit: int | None = None) -> Task:
    """EST, joint: one question per utterance for its emotion, transition and satisfaction."""
    return _est_task(TASKS, data_dir, hub_repo, track, split, shots, shot_seed, structured, limit)


@task
def est_emotion(data_dir: str = "est", hub_repo: str | None = None, track: str = "balanced", split: str = "test",
                shots: int = 0, shot_seed: int = 0, structured: bool = False, limit: int | None = None) -> Task:
    """EST's emotion task alone (per-task prompt)."""
    return _est_task((EstTask.EMOTION,), data_dir, hub_repo, track, split, shots, shot_seed, structured, limit)


@task
def est_transition(data_dir: str = "est", hub_repo: str | None = None, track: str = "balanced", split: str = "test",
                   shots: int = 0, shot_seed: int = 0, structured: bool = False, limit: int | None = None) -> Task:
    """EST's emotion-state transition task alone (per-task prompt)."""
    return _est_task((EstTask.TRANSITION,), data_dir, hub_repo, track, split, shots, shot_seed, structured, limit)


@task
def est_satisfaction(data_dir: str = "est", hub_repo: str | None = None, track: str = "balanced", split: str = "test",
                     shots: int = 0, shot_seed: int = 0, structured: bool = False, limit: int | None = None) -> Task:
    """EST's satisfaction task alone (per-task prompt)."""
    return _est_task((EstTask.SATISFACTION,), data_dir, hub_repo, track, split, shots, shot_seed, structured, limit)
