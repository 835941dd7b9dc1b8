"""The ranked table of submissions and the project's baselines, the paper's Table 4 as its own unranked table, and
their safe export (CSV, JSON).

Score columns are built from estbench.schema.Task and estbench.scoring's key names, so the table follows the label
schema. Ranking: the mean of the three tasks' macro-F1 (a task a submission leaves out counts 0), higher first,
then ALL_A, then the earlier submission. Ranking by ALL_A, the paper's column, would put a constant majority-class
guess near the top (accuracy rewards predicting the frequent class); macro-F1 does not. ALL_A stays a column.

Text a user typed (model name, description, submitter) is neutralised for spreadsheets wherever it leaves the
server: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice on
CSV injection), in the table shown, in the copy button's text and in the CSV and JSON downloads.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import pandas as pd

from estbench.schema import Task
from estbench.scoring import HEADLINE_METRICS, mean_macro_f1  # noqa: F401 (the ranking key)

from .seeds import KIND_PAPER, KIND_SUBMISSION, SeedRow
from .storage import Submission

METRIC_SHORT = dict(zip(HEADLINE_METRICS, ("A", "P", "R", "F1")))
ALL_A = "ALL_A"
MEAN_F1 = "Mean F1"
DECIMALS = 4


@dataclass(frozen=True)
class ScoreColumn:
    header: str
    key: str  # estbench.scoring key ("" for the mean macro-F1, computed here)


SCORE_COLUMNS: tuple[ScoreColumn, ...] = (
    ScoreColumn(MEAN_F1, ""),
    ScoreColumn(ALL_A, "all_accuracy"),
    *(ScoreColumn(f"{task.title} {METRIC_SHORT[m]}", f"{task.value}_{m}") for task in Task for m in HEADLINE_METRICS),
    ScoreColumn("Exact match", "exact_match"),
)
SCORE_HEADERS: tuple[str, ...] = tuple(c.header for c in SCORE_COLUMNS)
LEADING = ("Rank", "ID", "Model", "Type", "Submitter")
TRAILING = ("Submitted (UTC)", "Gold version", "Description")
COLUMNS: tuple[str, ...] = (*LEADING, *SCORE_HEADERS, *TRAILING)
TEXT_COLUMNS: tuple[str, ...] = ("Model", "Type", "Submitter", "Submitted (UTC)", "Gold version", "Description")
DEFAULT_SCORE_HEADERS: tuple[str, ...] = tuple(
    c.header for c in SCORE_COLUMNS if c.key in ("", "all_accuracy") or c.key.endswith(("_accuracy", "_macro_f1")))
PAPER_COLUMNS: tuple[str, ...] = ("Model", "Reference", *(h for h in SCORE_HEADERS if h != MEAN_F1))
HALVES = ("public", "private")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value):
    """A text cell that a spreadsheet would run as a formula, made inert with a leading apostrophe."""
    if isinstance(value, str) and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def _score_cells(scores: dict[str, float]) -> dict:
    cells = {}
    for column in SCORE_COLUMNS:
        value = mean_macro_f1(scores) if column.key == "" else scores.get(column.key)
        cells[column.header] = round(value, DECIMALS) if value is not None else math.nan
    return cells


def _row(kind: str, model: str, submitter: str, scores: dict[str, float], submitted: str, submission_id,
         description: str, gold_version: str) -> dict:
    return {"Type": kind, "Model": model, "Submitter": submitter, "Submitted (UTC)": submitted, "ID": submission_id,
            "Description": description, "Gold version": gold_version, **_score_cells(scores)}


def build_board(track: str, submissions: list[Submission], seeds: list[SeedRow], *, half: str = "public",
                search: str = "", score_headers: list[str] | tuple[str, ...] | None = None,
                gold_version: str = "") -> pd.DataFrame:
    """The ranked board of `track` on the chosen half: submissions scored on `gold_version` (all, when it is "")
    and the project's baselines; text cells neutralised; then `narrow`ed by the search and column choice."""
    if half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}")
    rows = []
    for s in submissions:
        if s.track == track and (not gold_version or s.gold_version == gold_version):
            scores = s.public_scores if half == "public" else s.private_scores
            submitted = s.submitted_at[:16].replace("T", " ")  # ISO UTC -> "YYYY-MM-DD HH:MM"
            rows.append(_row(KIND_SUBMISSION, s.model_name, s.submitter, scores, submitted, s.id, s.description,
                             s.gold_version))
    for seed in seeds:
        if seed.track == track and seed.kind != KIND_PAPER:
            scores = seed.public_scores if half == "public" or not seed.private_scores else seed.private_scores
            rows.append(_row(seed.kind, seed.model, "", scores, "", None, seed.description, gold_version))
    rows.sort(key=lambda r: (-r[MEAN_F1], -(r[ALL_A] if not math.isnan(r[ALL_A]) else -1.0),
                             r["Submitted (UTC)"] or "9999", r["ID"] or 0))
    frame = pd.DataFrame(rows, columns=[c for c in COLUMNS if c != "Rank"])
    frame.insert(0, "Rank", range(1, len(frame) + 1))
    frame["ID"] = pd.array([i if i is not None else None for i in frame["ID"]], dtype="Int64")
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].map(neutralise)
    return narrow(frame, search=search, score_headers=score_headers)


def narrow(frame: pd.DataFrame, *, search: str = "", score_headers: list[str] | tuple[str, ...] | None = None
           ) -> pd.DataFrame:
    """A board's rows whose model name contains `search`, with the chosen score columns (all when None); columns
    without any value left out. Narrowing a narrowed board again is fine: the page narrows the full board it
    exports."""
    if search.strip():
        frame = frame[frame["Model"].str.contains(search.strip(), case=False, regex=False)]
    keep = set(score_headers if score_headers is not None else SCORE_HEADERS)
    frame = frame[[c for c in COLUMNS if c in frame.columns and (c not in SCORE_HEADERS or c in keep)]]
    empty = [c for c in frame.columns if c not in ("Rank", "Model") and
             (frame[c].isna().all() or (frame[c].astype(str).str.strip() == "").all())]
    return frame.drop(columns=empty) if len(frame) else frame


def paper_table(seeds: list[SeedRow]) -> pd.DataFrame:
    """The paper's Table 4 as reported (its own data, not re-scored), in the paper's row order, unranked."""
    rows = []
    for seed in seeds:
        if seed.kind == KIND_PAPER:
            cells = _score_cells(seed.public_scores)
            rows.append({"Model": seed.model, "Reference": seed.description, **cells})
    frame = pd.DataFrame(rows, columns=PAPER_COLUMNS)
    return frame.drop(columns=[c for c in frame.columns if frame[c].isna().all()]) if len(frame) else frame


def board_records(frame: pd.DataFrame) -> list[dict]:
    """The board as JSON-ready records: numbers as numbers (missing: null), text neutralised."""
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({key: (None if isinstance(value, float) and math.isnan(value) else
                              int(value) if key in ("Rank", "ID") and value is not None and not pd.isna(value) else
                              None if pd.isna(value) else neutralise(value))
                        for key, value in row.items()})
    return records


def board_csv(frame: pd.DataFrame) -> str:
    """The board as CSV text with a header row (what the download and the copy button give)."""
    return pd.DataFrame(board_records(frame), columns=frame.columns).to_csv(index=False,
                                                                           float_format=f"%.{DECIMALS}f")


def board_json(frame: pd.DataFrame, *, track: str, half: str, gold_version: str) -> str:
    return json.dumps({"track": track, "half": half, "gold_version": gold_version, "ranking": MEAN_F1,
                       "rows": board_records(frame)}, ensure_ascii=False, indent=1)
