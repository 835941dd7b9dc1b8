"""Rows of the board that no user submitted.

- The paper's Table 4 (`estbench.paper.table4()`, the one copy of those numbers): shown as a table of its own
  (`board.paper_table`), never ranked with or re-scored on the served gold — they come from the paper's non-public
  data.
- The project's own baselines: rows like any other. The seed file (`seed_baselines.json`, path in the settings)
  lists each baseline's model name, track, description and its **prediction file** (gzip-compressed, beside the
  seed file) — never a score. At start-up the app submits every listed file that fits the served gold through the
  same service as a user's upload (`Leaderboard.seed_baselines`): validated, scored on the served gold with the
  served salt and version, stored with an ID (so Compare works against it), ranked by the same rules, its private
  half hidden like everyone's. A file that does not fit the served gold (another corpus) is logged and left out.

    cd leaderboard && python -m est_leaderboard.seeds add-baseline \\
        --predictions ../baselines/outputs/<run>/test_predictions.csv --model "<name>" --track balanced
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import json
import re
from dataclasses import dataclass
from pathlib import Path

from estbench import paper
from estbench.cli import add_option
from estbench.io import write_atomically
from estbench.layout import TRACKS
from estbench.results import check_scores
from estbench.submission import check_prediction_path

KIND_PAPER = "reported in paper"
BASELINE_SUBMITTER = "EST project"


@dataclass(frozen=True)
class SeedRow:
    """A row of the paper's Table 4 (reported scores, its own data)."""

    kind: str
    model: str
    description: str
    track: str
    public_scores: dict[str, float]


@dataclass(frozen=True)
class BaselineEntry:
    """A baseline of the seed file: its prediction file (relative to the seed file's folder), no scores."""

    model: str
    track: str
    predictions: str
    description: str = ""

    def __post_init__(self):
        if self.track not in TRACKS:
            raise ValueError(f"baseline {self.model!r}: track must be one of {', '.join(TRACKS)}")
        if not self.predictions.endswith(".gz"):
            raise ValueError(f"baseline {self.model!r}: predictions must name a .csv.gz or .jsonl.gz file")
        check_prediction_path(self.predictions[:-3])


def paper_rows() -> list[SeedRow]:
    table = paper.table4()
    return [SeedRow(kind=KIND_PAPER, model=row["model"], description=f"EST paper, Table 4; ref. {row['reference']}",
                    track=table["track"], public_scores=check_scores(row["scores"], f"paper Table 4: {row['model']}"))
            for row in table["rows"]]


def read_baselines(seed_file: Path) -> list[BaselineEntry]:
    """The baselines listed in the seed file ([] when it does not exist)."""
    if not Path(seed_file).exists():
        return []
    entries = json.loads(Path(seed_file).read_text(encoding="utf-8"))
    fields = {f.name for f in dataclasses.fields(BaselineEntry)}
    out = []
    for i, entry in enumerate(entries):
        unknown = sorted(set(entry) - fields)
        if unknown:  # e.g. scores of the old format: a baseline's numbers are computed by the app, never shipped
            raise ValueError(f"{Path(seed_file).name}: entry {i}: unknown fields {unknown}")
        out.append(BaselineEntry(**entry))
    return out


def baseline_file(seed_file: Path, entry: BaselineEntry) -> Path:
    return Path(seed_file).parent / entry.predictions


def baseline_identity(model: str) -> str:
    """Each baseline is an identity of its own (no Ladder between baselines: they are not adaptive)."""
    return f"baseline:{model}"


def add_baseline(seed_file: Path, predictions: Path, model: str, track: str, *, description: str = "",
                 gold=None) -> BaselineEntry:
    """Copy a baseline's prediction file (gzip-compressed) beside the seed file and list it there (replacing an entry
    of the same model and track). With `gold` (a `Gold`), the file is checked against it first."""
    predictions = Path(predictions)
    extension = check_prediction_path(predictions)
    if gold is not None:
        from estbench.submission import check_submission

        check_submission(predictions, gold, max_bytes=1 << 40)
    slug = re.sub(r"[^a-z0-9]+", "-", model.lower()).strip("-") or "baseline"
    name = f"baselines/{slug}-{track}{extension}.gz"
    write_atomically(Path(seed_file).parent / name, gzip.compress(predictions.read_bytes(), 9, mtime=0))
    entry = BaselineEntry(model=model, track=track, predictions=name, description=description)
    entries = [e for e in read_baselines(seed_file) if (e.model, e.track) != (model, track)] + [entry]
    write_atomically(seed_file, json.dumps([dataclasses.asdict(e) for e in entries], indent=1,
                                           ensure_ascii=False) + "\n")
    return entry


def main(argv: list[str] | None = None) -> None:
    from estbench.gold import load_gold

    from .settings import Settings

    settings = Settings.from_env()
    parser = argparse.ArgumentParser(prog="python -m est_leaderboard.seeds",
                                     description="Manage the baseline rows of the leaderboard: their prediction "
                                                 "files, which the app scores on the gold it serves.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-baseline", help="add a baseline's prediction file to the seed file")
    add_option(add, "predictions", type=Path, required=True,
               help="CSV/JSONL prediction file (id, emotion, transition, satisfaction)")
    add_option(add, "model", required=True, help="name shown on the board")
    add_option(add, "track", choices=TRACKS, required=True)
    add_option(add, "description", default="")
    add_option(add, "gold", type=Path, default=settings.gold_source,
               help="gold parquet file or built est/ folder to check the file against first "
                    "(default: %(default)s; 'none' skips the check)")
    add_option(add, "seed_file", type=Path, default=settings.seed_baselines, help="default: %(default)s")
    args = parser.parse_args(argv)
    gold = None
    if args.gold is not None and str(args.gold) != "none":
        gold = load_gold(args.gold, args.track, salt=settings.half_salt, name=settings.gold_name)
    entry = add_baseline(args.seed_file, args.predictions, args.model, args.track, description=args.description,
                         gold=gold)
    print(json.dumps(dataclasses.asdict(entry), indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
