"""The ranked table: user submissions, the project's baselines and the paper's Table 4, one row each.

Score columns are built from estbench.schema.Task and estbench.scoring's key names, so the table follows the label schema.
Ranking: ALL_A (higher first), then the mean macro-F1 over the scored tasks, then the earlier submission.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from estbench.schema import Task
from estbench.scoring import HEADLINE_METRICS

from .seeds import KIND_SUBMISSION, SeedRow
from .storage import Submission

METRIC_SHORT = dict(zip(HEADLINE_METRICS, ("A", "P", "R", "F1")))
ALL_A = "ALL_A"


@dataclass(frozen=True)
class ScoreColumn:
    header: str
    key: str  # estbench.scoring key


SCORE_COLUMNS: tuple[ScoreColumn, ...] = (
    ScoreColumn(ALL_A, "all_accuracy"),
    *(ScoreColumn(f"{task.title} {METRIC_SHORT[m]}", f"{task.value}_{m}") for task in Task for m in HEADLINE_METRICS),
    ScoreColumn("Exact match", "exact_match"),
)
SCORE_HEADERS: tuple[str, ...] = tuple(c.header for c in SCORE_COLUMNS)
LEADING = ("Rank", "Model", "Type", "Submitter")
TRAILING = ("Submitted (UTC)", "ID", "Description")
COLUMNS: tuple[str, ...] = (*LEADING, *SCORE_HEADERS, *TRAILING)
DEFAULT_SCORE_HEADERS: tuple[str, ...] = tuple(
    c.header for c in SCORE_COLUMNS if c.key == "all_accuracy" or c.key.endswith(("_accuracy", "_macro_f1")))
HALVES = ("public", "private")


def _row(kind: str, model: str, submitter: str, scores: dict[str, float], submitted: str, submission_id,
         description: str) -> dict:
    row = {"Type": kind, "Model": model, "Submitter": submitter, "Submitted (UTC)": submitted, "ID": submission_id,
           "Description": description}
    for column in SCORE_COLUMNS:
        value = scores.get(column.key)
        row[column.header] = round(value, 4) if value is not None else math.nan
    return row


def _mean_f1(row: dict) -> float:
    values = [row[f"{t.title} F1"] for t in Task if not math.isnan(row[f"{t.title} F1"])]
    return sum(values) / len(values) if values else -1.0


def build_board(track: str, submissions: list[Submission], seeds: list[SeedRow], *, half: str = "public",
                search: str = "", score_headers: list[str] | tuple[str, ...] | None = None) -> pd.DataFrame:
    """The board of `track` on the chosen half, filtered by a model-name search, with the chosen score columns."""
    if half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}")
    rows = []
    for s in submissions:
        if s.track == track:
            scores = s.public_scores if half == "public" else s.private_scores
            submitted = s.submitted_at[:16].replace("T", " ")  # ISO UTC -> "YYYY-MM-DD HH:MM"
            rows.append(_row(KIND_SUBMISSION, s.model_name, s.submitter, scores, submitted, s.id, s.description))
    for seed in seeds:
        if seed.track == track:
            scores = seed.public_scores if half == "public" or not seed.private_scores else seed.private_scores
            rows.append(_row(seed.kind, seed.model, "", scores, "", None, seed.description))
    rows.sort(key=lambda r: (-(r[ALL_A] if not math.isnan(r[ALL_A]) else -1.0), -_mean_f1(r),
                             r["Submitted (UTC)"] or "9999", r["ID"] or 0))
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "Rank"])
    frame.insert(0, "Rank", range(1, len(frame) + 1))
    frame["ID"] = [str(i) if i is not None else "" for i in frame["ID"]]
    if search.strip():
        frame = frame[frame["Model"].str.contains(search.strip(), case=False, regex=False)]
    keep = set(score_headers if score_headers is not None else SCORE_HEADERS)
    return frame[[c for c in COLUMNS if c not in SCORE_HEADERS or c in keep]]
