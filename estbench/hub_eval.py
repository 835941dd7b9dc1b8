"""EST on the Hub's evaluation results: the benchmark registration a built dataset folder carries (`eval.yaml`) and the
model-side result entries a run writes (`.eval_results/*.yaml`), in the format of the Hub's "Evaluation Results"
documentation (hub-docs `eval-results.md`, eval.yaml specification; `eval_results.yaml`).

- `eval.yaml` (written by `python est_dataset.py build` into the folder it pushes): `name`, `description`,
  `evaluation_framework` (`inspect-ai`, one of the identifiers the Hub lists, since EST ships an inspect task:
  `inspect_tasks/est.py`) and one task per leaderboard (`BENCHMARK_TASKS`): for each track its Mean F1 (the
  leaderboard's ranking number) and each EST task's macro-F1, all on the test split of the track's config. The
  inspect-ai keys the Hub uses to run a benchmark itself (`field_spec`, `solvers`, `scorers`) are left out: they
  describe one input column, built-in solvers and built-in scorers, and EST's question (anchor + context + utterance),
  its ClassLabel ids and its macro-F1 need the project's own task; results come from model repositories instead.
- `.eval_results/<name>.yaml` (written by `baselines/run.py ... --eval_results MODEL_REPO_FOLDER --hub_dataset
  ORG/est`): one entry per task of `BENCHMARK_TASKS` with the run's value.
"""

from __future__ import annotations

import datetime
import re
from pathlib import Path
from typing import Mapping

from .io import write_atomically
from .layout import TRACK_CONFIGS, TRACKS
from .schema import TASK_NAMES
from .scoring import mean_macro_f1

EVAL_FILE = "eval.yaml"
RESULTS_FOLDER = ".eval_results"
FRAMEWORK = "inspect-ai"


def _tasks() -> dict[str, tuple[str, str]]:
    """Hub task id -> (track, the score key it reports; "mean_f1" is the leaderboard's Mean F1)."""
    tasks = {}
    for track in TRACKS:
        prefix = "est" if track == "balanced" else f"est_{track}"  # the lm-eval group names: est, est_full
        tasks[prefix] = (track, "mean_f1")
        tasks.update({f"{prefix}_{task}": (track, f"{task}_macro_f1") for task in TASK_NAMES})
    return tasks


BENCHMARK_TASKS: dict[str, tuple[str, str]] = _tasks()


def eval_yaml(name: str, description: str) -> str:
    """The text of a built folder's `eval.yaml`."""
    import yaml

    document = {
        "name": name,
        "description": " ".join(description.split()),
        "evaluation_framework": FRAMEWORK,
        "tasks": [{"id": task_id, "config": TRACK_CONFIGS[track], "split": "test"}
                  for task_id, (track, _) in BENCHMARK_TASKS.items()],
    }
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=100)


def task_value(scores: Mapping[str, float], key: str) -> float:
    return mean_macro_f1(scores) if key == "mean_f1" else float(scores[key])


def eval_results_entries(scores: Mapping[str, float], *, dataset_id: str, track: str, notes: str = "",
                         date: str | None = None, source_url: str = "") -> list[dict]:
    """The `.eval_results` entries of one run on `track` (values are macro-F1 in [0, 1], 4 decimals)."""
    if not re.fullmatch(r"[\w.-]+/[\w.-]+", dataset_id):
        raise ValueError(f"--hub_dataset {dataset_id!r}: expected a Hub dataset id, ORG/NAME")
    date = date or datetime.date.today().isoformat()
    entries = []
    for task_id, (task_track, key) in BENCHMARK_TASKS.items():
        if task_track != track:
            continue
        entry = {"dataset": {"id": dataset_id, "task_id": task_id}, "value": round(task_value(scores, key), 4),
                 "date": date}
        if source_url:
            entry["source"] = {"url": source_url}
        if notes:
            entry["notes"] = notes
        entries.append(entry)
    return entries


def write_eval_results(model_folder: str | Path, file_stem: str, entries: list[dict]) -> Path:
    """Write `<model_folder>/.eval_results/<file_stem>.yaml` (atomically) and return its path."""
    import yaml

    stem = re.sub(r"[^\w.-]+", "-", file_stem).strip("-.") or "est"
    path = Path(model_folder) / RESULTS_FOLDER / f"{stem}.yaml"
    return write_atomically(path, yaml.safe_dump(entries, sort_keys=False, allow_unicode=True))
