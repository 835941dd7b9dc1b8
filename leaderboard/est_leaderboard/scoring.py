"""Score validated predictions for the board, and decide what of it may be shown: the Ladder's public score.

What a number computed from hidden labels can tell an attacker is the design question here (README, "Threat model").

- **Public half, before the reveal: the Ladder** (Blum & Hardt, 2015). A submission's public score is its Mean F1
  (`mean_macro_f1`, the ranking key) on the public half, and it is *released* only when it beats the best score
  already released to its identity by at least the step η (`EST_LB_LADDER_STEP`, default 0.01), rounded to a
  multiple of η; otherwise nothing is released ("not above your best + η"). So one identity gets at most 1/η + 1
  released numbers per track and gold version, each one of 1/η + 1 values: at most log2(1/η + 1) ≈ 6.7 bits per
  release, and no answer at all to a submission that does not improve, which is what a probe looks like. Nothing
  else computed from the public half's labels leaves the server.
- **Private half: only at the reveal**, all headline numbers, the per-class report and the slices (both with the
  k-row floor, `EST_LB_MIN_CLASS_ROWS`), when the organisers switch `EST_LB_REVEAL_PRIVATE` on; submissions close
  then, so no crafted file is ever scored against shown private numbers.
- **Cross-task consistency** (`estbench.consistency`) needs no label: it is computed over *all* rows, so it says
  nothing about which rows are public either.

A confusion matrix, or a per-class number of a class predicted on a handful of rows, tells which label those rows
have; so the stored detail holds no confusion matrix, and a class's numbers (and a slice's) only when at least k rows
back them: k predicted rows and k reference rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

import estbench.scoring
from estbench.consistency import CONSISTENCY_KEYS, consistency
from estbench.gold import Gold
from estbench.schema import TASK_NAMES, Task

DEFAULT_MIN_ROWS = 30
DEFAULT_LADDER_STEP = 0.01
WITHHELD = "withheld"


def on_grid(value: float, step: float) -> float:
    """`value` rounded to the nearest multiple of `step` (the Ladder's coarse rounding)."""
    return round(round(value / step) * step, 10)


def ladder_release(value: float, best: float | None, step: float) -> float | None:
    """The Ladder: the score to release for a new submission whose exact public score is `value`, when `best` is
    the identity's best released score so far (None: nothing released yet); None = release nothing."""
    if best is not None and value < best + step - 1e-12:
        return None
    return on_grid(value, step)


def decimals_of(step: float) -> int:
    """Decimals that show every multiple of `step` exactly (0.01 -> 2)."""
    return max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0


@dataclass(frozen=True)
class HalfScores:
    """Headline scores of one half (flat estbench.scoring keys -> float) and its detail (per-class report with the
    k-row floor, slices)."""

    scores: dict[str, float]
    detail: dict[str, object]


@dataclass(frozen=True)
class ScoredSubmission:
    public: HalfScores
    private: HalfScores
    consistency: dict[str, float]  # over all rows: computed without labels, the same whichever rows are public


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
    sessions = gold.session_ids[mask]
    try:
        out = estbench.scoring.score(references, predictions, per_class=True, slices=True, session_ids=sessions)
    except ValueError:  # a gold whose sessions are not contiguous cannot be sliced; the rest still is
        out = estbench.scoring.score(references, predictions, per_class=True)
    scores = {key: value for key, value in out.items() if isinstance(value, float) and key not in CONSISTENCY_KEYS}
    detail: dict[str, object] = {}
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


def consistency_all_rows(codes: dict[str, np.ndarray], gold: Gold) -> dict[str, float]:
    """The `consistency_*` shares of joint predictions over every row of the track ({} unless all three tasks)."""
    if set(codes) != set(TASK_NAMES):
        return {}
    session = pd.factorize(pd.Series(gold.session_ids, dtype=object))[0]
    return consistency({Task(task): np.asarray(values, dtype=np.int64) for task, values in codes.items()},
                       session=session)


def score_submission(codes: dict[str, np.ndarray], gold: Gold, min_rows: int = DEFAULT_MIN_ROWS) -> ScoredSubmission:
    """Both halves' scores and the all-row consistency of predictions given as ClassLabel ids aligned with
    `gold.ids`."""
    return ScoredSubmission(public=score_half(codes, gold, gold.public, min_rows),
                            private=score_half(codes, gold, ~gold.public, min_rows),
                            consistency=consistency_all_rows(codes, gold))
