"""The ranked board of submissions and the project's baselines, the paper's Table 4 as its own unranked table, and
their safe export (CSV, JSON).

Two boards, by what may be shown (`scoring`'s module docstring has the reasons):

- **public** (before the reveal): the submissions whose public score the Ladder released, and the baselines, ranked
  by that score (`Public score`: Mean F1 on the public half, on the Ladder's grid). Rows with the same released score
  share a rank; the earlier row is listed first.
- **private** (at the reveal): every row with all its private-half scores, ranked by Mean F1 (the mean of the three
  tasks' macro-F1, a task left out counting 0), then ALL_A, then the earlier row. A row whose difference from the row
  above is not significant (`tied`, the paired test of `estbench.significance`) shares its rank. Ranking by ALL_A,
  the paper's column, would put a constant majority-class guess near the top; macro-F1 does not.

Score columns are built from estbench.schema.Task and estbench.scoring's key names, so the table follows the label
schema. Text a user typed (model name, description, submitter) is neutralised for spreadsheets wherever it leaves the
server: a cell starting with `=`, `+`, `-`, `@`, a tab or a carriage return gets a leading `'` (OWASP's advice on
CSV injection), in the table shown, in the copy button's text and in the CSV and JSON downloads.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass
from typing import Callable

import pandas as pd

from estbench.schema import Task
from estbench.scoring import HEADLINE_METRICS, mean_macro_f1

from .seeds import KIND_PAPER, SeedRow
from .storage import KIND_BASELINE, Submission

METRIC_SHORT = dict(zip(HEADLINE_METRICS, ("A", "P", "R", "F1")))
ALL_A = "ALL_A"
MEAN_F1 = "Mean F1"
PUBLIC_SCORE = "Public score"
DECIMALS = 4
TYPE_SUBMISSION = "submission"
TYPE_BASELINE = "baseline (this project)"
TYPES = {KIND_BASELINE: TYPE_BASELINE}


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
COLUMNS: tuple[str, ...] = (*LEADING, *SCORE_HEADERS, PUBLIC_SCORE, *TRAILING)
INTEGER_COLUMNS: tuple[str, ...] = ("Rank", "ID")
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


def _row(s: Submission, scores: dict[str, float] | None) -> dict:
    return {"ID": s.id, "Model": s.model_name, "Type": TYPES.get(s.kind, TYPE_SUBMISSION), "Submitter": s.submitter,
            "Submitted (UTC)": s.submitted_at[:16].replace("T", " "),  # ISO UTC -> "YYYY-MM-DD HH:MM"
            "Description": s.description, "Gold version": s.gold_version,
            PUBLIC_SCORE: s.released if s.released is not None else math.nan,
            **(_score_cells(scores) if scores is not None else {})}


def _ranks(keys: list, tied_above: list[bool]) -> list[int]:
    """Competition ranks (1, 2, 2, 4): a row shares the rank of the row above when its key is equal or `tied_above`."""
    ranks = []
    for i, key in enumerate(keys):
        ranks.append(ranks[-1] if i and (key == keys[i - 1] or tied_above[i]) else i + 1)
    return ranks


def build_board(track: str, submissions: list[Submission], *, half: str = "public", search: str = "",
                score_headers: list[str] | tuple[str, ...] | None = None, gold_version: str = "",
                tied: Callable[[Submission, Submission], bool] | None = None) -> pd.DataFrame:
    """The ranked board of `track` (see the module docstring): rows scored on `gold_version` (all, when it is "");
    `tied(above, below)` says whether two adjacent rows of the private board differ insignificantly; text cells
    neutralised; then `narrow`ed by the search and column choice."""
    if half not in HALVES:
        raise ValueError(f"half must be one of {HALVES}")
    chosen = [s for s in submissions if s.track == track and (not gold_version or s.gold_version == gold_version)]
    if half == "public":
        chosen = sorted((s for s in chosen if s.released is not None), key=lambda s: (-s.released, s.submitted_at,
                                                                                        s.id))
        rows = [_row(s, None) for s in chosen]
        keys = [s.released for s in chosen]
        tied_above = [False] * len(chosen)
        columns = [c for c in COLUMNS if c not in SCORE_HEADERS]
    else:
        rows = sorted((_row(s, s.private_scores) for s in chosen),
                      key=lambda r: (-r[MEAN_F1], -(r[ALL_A] if not math.isnan(r[ALL_A]) else -1.0),
                                     r["Submitted (UTC)"], r["ID"]))
        by_id = {s.id: s for s in chosen}
        keys = [r[MEAN_F1] for r in rows]
        tied_above = [bool(i and tied is not None and tied(by_id[rows[i - 1]["ID"]], by_id[r["ID"]]))
                      for i, r in enumerate(rows)]
        columns = list(COLUMNS)
    frame = pd.DataFrame(rows, columns=[c for c in columns if c != "Rank"])
    frame.insert(0, "Rank", pd.array(_ranks(keys, tied_above), dtype="Int64"))
    frame["ID"] = pd.array(frame["ID"].tolist(), dtype="Int64")
    for column in TEXT_COLUMNS:
        frame[column] = frame[column].map(neutralise).astype(object)
    return narrow(frame, search=search, score_headers=score_headers)


def narrow(frame: pd.DataFrame, *, search: str = "", score_headers: list[str] | tuple[str, ...] | None = None
           ) -> pd.DataFrame:
    """A board's rows whose model name contains `search`, with the chosen score columns (all when None); columns
    without any value left out (not on an empty board: its headers stay). Narrowing a narrowed board again is fine:
    the page narrows the full board it exports."""
    if search.strip():
        frame = frame[frame["Model"].str.contains(search.strip(), case=False, regex=False)]
    keep = set(score_headers if score_headers is not None else SCORE_HEADERS)
    frame = frame[[c for c in COLUMNS if c in frame.columns and (c not in SCORE_HEADERS or c in keep)]]
    empty = [c for c in frame.columns if c not in ("Rank", "ID", "Model") and
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
    """The board as JSON-ready records: integers as integers, scores as numbers (missing: null), text neutralised."""
    records = []
    for row in frame.to_dict(orient="records"):
        records.append({key: (None if value is None or (not isinstance(value, str) and pd.isna(value)) else
                              int(value) if key in INTEGER_COLUMNS else
                              float(value) if isinstance(value, (int, float)) else neutralise(value))
                        for key, value in row.items()})
    return records


def format_cell(column: str, value, decimals: dict[str, int] | None = None) -> str:
    """A cell as the page, the CSV and the copy button show it: IDs and ranks as integers, scores with their
    decimals (`decimals[column]`, default four), missing as empty."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return ""
    if column in INTEGER_COLUMNS:
        return str(int(value))
    if isinstance(value, float):
        return f"{value:.{(decimals or {}).get(column, DECIMALS)}f}"
    return str(neutralise(value))


def board_csv(frame: pd.DataFrame, decimals: dict[str, int] | None = None) -> str:
    """The board as CSV text with a header row (what the download and the copy button give)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(frame.columns)
    for row in frame.itertuples(index=False):
        writer.writerow([format_cell(column, value, decimals) for column, value in zip(frame.columns, row)])
    return out.getvalue()


def board_json(frame: pd.DataFrame, *, track: str, half: str, gold_version: str) -> str:
    return json.dumps({"track": track, "half": half, "gold_version": gold_version,
                       "ranking": PUBLIC_SCORE if half == "public" else MEAN_F1, "rows": board_records(frame)},
                      ensure_ascii=False, indent=1)
