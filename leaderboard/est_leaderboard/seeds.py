"""Rows of the board that are not user submissions.

- The paper's Table 4 (`estbench.paper.table4()`, the one copy of those numbers): marked "reported in paper", shown
  as a table of its own (`board.paper_table`), never ranked with or re-scored on the served gold — they come from the
  paper's non-public data.
- The project's own baselines (`seed_baselines.json`, path set in settings): marked "baseline". Entries are written
  by `python -m est_leaderboard.seeds add-baseline ...` (run from `leaderboard/`), which validates and scores a
  baseline's prediction file against the gold exactly as a submission is scored, so no number is typed in by hand.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from estbench import paper
from estbench.cli import add_option
from estbench.layout import TRACKS
from estbench.results import ScoreRecord, check_scores, read_records, write_records

KIND_SUBMISSION = "submission"
KIND_BASELINE = "baseline (this project)"
KIND_PAPER = "reported in paper"


@dataclass(frozen=True)
class SeedRow:
    kind: str
    model: str
    description: str
    track: str
    public_scores: dict[str, float]
    private_scores: dict[str, float]


def paper_rows() -> list[SeedRow]:
    table = paper.table4()
    return [SeedRow(kind=KIND_PAPER, model=row["model"], description=f"EST paper, Table 4; ref. {row['reference']}",
                    track=table["track"], public_scores=check_scores(row["scores"], f"paper Table 4: {row['model']}"),
                    private_scores={})
            for row in table["rows"]]


def baseline_rows(path: Path) -> list[SeedRow]:
    return [SeedRow(kind=KIND_BASELINE, model=r.model, description=r.description, track=r.track,
                    public_scores=r.public_scores, private_scores=r.private_scores) for r in read_records(path)]


def add_baseline(seed_file: Path, predictions: Path, model: str, track: str, gold_source: Path, *,
                 settings, description: str = "") -> ScoreRecord:
    """Score a baseline's prediction file (whole split and both halves, cut and floored as the served board does:
    `settings` is its `Settings`) and write/replace its record in the seed file (atomically)."""
    from estbench.built import data_digest
    from estbench.gold import load_gold
    from estbench.submission import check_submission

    from .scoring import score_half, score_submission

    gold = load_gold(gold_source, track, salt=settings.half_salt, name=settings.gold_name)
    checked = check_submission(predictions, gold, max_bytes=1 << 40)
    public, private = score_submission(checked.codes, gold, settings.min_class_rows)
    whole = score_half(checked.codes, gold, np.ones(len(gold), dtype=bool), settings.min_class_rows)
    record = ScoreRecord(model=model, track=track, scores=whole.scores, utterances=len(gold), description=description,
                         public_scores=public.scores, private_scores=private.scores,
                         predictions_sha256=checked.sha256, data_digest=data_digest(gold_source),
                         scored_at=datetime.now(timezone.utc).isoformat(timespec="seconds"))
    records = [r for r in read_records(seed_file) if (r.model, r.track) != (model, track)] + [record]
    write_records(seed_file, records)
    return record


def main(argv: list[str] | None = None) -> None:
    from .settings import Settings

    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m est_leaderboard.seeds",
                                     description="Manage the baseline rows shown on the leaderboard.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-baseline", help="score a baseline prediction file and add it to the seed file")
    add_option(add, "predictions", type=Path, required=True,
                     help="CSV/JSONL prediction file (id, emotion, transition, satisfaction)")
    add_option(add, "model", required=True, help="name shown on the board")
    add_option(add, "track", choices=TRACKS, required=True)
    add_option(add, "description", default="")
    add_option(add, "gold", type=Path, default=settings.gold_source,
                     help="gold parquet file or built est/ folder (default: %(default)s)")
    add_option(add, "seed_file", type=Path, default=settings.seed_baselines, help="default: %(default)s")
    args = parser.parse_args(argv)
    entry = add_baseline(args.seed_file, args.predictions, args.model, args.track, args.gold, settings=settings,
                         description=args.description)
    print(json.dumps(entry.to_json(), indent=1))


if __name__ == "__main__":
    main()
