"""Score validated predictions on the public and the private half of a track with the shared metric core, keeping
only what a crafted submission cannot turn back into hidden labels.

A confusion matrix, or a per-class number of a class predicted on a handful of rows, tells which label those rows
have: predict a rare label on one chosen row and its precision is 1 or 0. So the stored detail holds no confusion
matrix, and a class's precision/recall/F1 (and a slice's numbers) only when at least k rows back them: k predicted
rows and k reference rows (`EST_LB_MIN_CLASS_ROWS`, default 30). The headline numbers are aggregates over the
whole half; they are what every leaderboard shows (the private half, revealed at the end, is what one cannot
probe). `consistency_*` shares look at the predictions only.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import estbench.scoring
from estbench.consistency import CONSISTENCY_KEYS
from estbench.gold import Gold
from estbench.schema import TASK_NAMES, Task

DEFAULT_MIN_ROWS = 30
WITHHELD = "withheld"


@dataclass(frozen=True)
class HalfScores:
    """Headline scores of one half (flat estbench.scoring keys -> float) and its detail (per-class report with the
    k-row floor, consistency, slices)."""

    scores: dict[str, float]
    detail: dict[str, object]


def _floored_per_class(report: dict, predicted: np.ndarray, task: Task, min_rows: int) -> dict:
    shown = {}
    for index, label in enumerate(task.labels):
        row = report[label]
        if row["support"] >= min_rows and predicted[index] >= min_rows:
            shown[label] = {key: row[key] for key in ("precision", "recall", "f1", "support")}
        else:
            shown[label] = {WITHHELD: f"fewer than {min_rows} predicted or reference rows"}
    return shown


def score_half(codes: dict[str, np.ndarray], gold: Gold, mask: np.ndarray,
               min_rows: int = DEFAULT_MIN_ROWS) -> HalfScores:
    references = {task: gold.labels[task][mask] for task in codes}
    predictions = {task: values[mask] for task, values in codes.items()}
    joint = set(codes) == set(TASK_NAMES)
    sessions = gold.session_ids[mask]
    try:
        out = estbench.scoring.score(references, predictions, per_class=True, consistency=joint, slices=True,
                                     session_ids=sessions)
    except ValueError:  # a gold whose sessions are not contiguous cannot be sliced; the rest still is
        out = estbench.scoring.score(references, predictions, per_class=True, consistency=joint,
                                     session_ids=sessions if joint else None)
    scores = {key: value for key, value in out.items() if isinstance(value, float) and key not in CONSISTENCY_KEYS}
    detail: dict[str, object] = {key: value for key, value in out.items() if key in CONSISTENCY_KEYS}
    for task in codes:
        k = len(Task(task).labels)
        predicted = np.bincount(predictions[task].astype(np.int64), minlength=k)
        detail[f"{task}_per_class"] = _floored_per_class(out[f"{task}_per_class"], predicted, Task(task), min_rows)
    if "slices" in out:
        detail["slices"] = {
            name: {bucket: (values if values["count"] >= min_rows else {"count": values["count"], WITHHELD: True})
                   for bucket, values in buckets.items()}
            for name, buckets in out["slices"].items()
        }
    return HalfScores(scores=scores, detail=detail)


def score_submission(codes: dict[str, np.ndarray], gold: Gold,
                     min_rows: int = DEFAULT_MIN_ROWS) -> tuple[HalfScores, HalfScores]:
    """(public half, private half) scores of predictions given as ClassLabel ids aligned with `gold.ids`."""
    return score_half(codes, gold, gold.public, min_rows), score_half(codes, gold, ~gold.public, min_rows)
