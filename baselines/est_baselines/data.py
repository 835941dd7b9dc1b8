"""Reading a built `est/` folder and writing prediction files.

The built dataset is plain Parquet: `est/<config>/<split>-NNNNN-of-NNNNN.parquet`. It is
read with pyarrow directly rather than `datasets.load_dataset` so that nothing is cached under ~/.cache and a
baseline run stays a pure function of the folder. Label columns hold ClassLabel ids in `estbench.schema` order; they are
turned into label names here (-1, the blind-test marker, becomes None).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd
import pyarrow.parquet as pq

from estbench.io import write_atomically
from estbench.layout import SPLITS, TRACK_CONFIGS
from estbench.schema import TASK_NAMES, Task

PREDICTION_COLUMNS = ("id", *TASK_NAMES)


def split_files(est_dir: str | Path, config: str, split: str) -> list[Path]:
    """The Parquet shards of one config/split, or a FileNotFoundError that says what is missing and where."""
    folder = Path(est_dir) / config
    files = sorted(folder.glob(f"{split}-*.parquet"))
    if not files:
        hint = "" if Path(est_dir).is_dir() else " (no such folder: build it with `python est_dataset.py build`)"
        raise FileNotFoundError(f"no '{split}' shards for config '{config}' in {folder}{hint}")
    return files


def load_split(est_dir: str | Path, config: str, split: str) -> pd.DataFrame:
    """One split of one config as a DataFrame; label columns hold label names (None where the label is hidden)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (expected one of: {', '.join(SPLITS)})")
    frame = pd.concat([pq.read_table(f).to_pandas() for f in split_files(est_dir, config, split)], ignore_index=True)
    for task in Task:
        if task.value not in frame.columns:
            continue
        labels = task.labels
        ids = frame[task.value]
        bad = ids[(ids < -1) | (ids >= len(labels))]
        if len(bad):
            row = bad.index[0]
            raise ValueError(
                f"{config}/{split}: row {row} (id {frame['id'][row]!r}) has {task.value} id {bad.iloc[0]} "
                f"outside 0..{len(labels) - 1}"
            )
        frame[task.value] = [labels[i] if i >= 0 else None for i in ids.tolist()]
    return frame


def track_config(track: str) -> str:
    if track not in TRACK_CONFIGS:
        raise ValueError(f"unknown track {track!r} (expected one of: {', '.join(TRACK_CONFIGS)})")
    return TRACK_CONFIGS[track]


def load_track(est_dir: str | Path, track: str, split: str) -> pd.DataFrame:
    """The rows a track is trained/scored on: the split of `joint` (full) or `joint-balanced` (balanced)."""
    return load_split(est_dir, track_config(track), split)


def gold_file_candidates(est_dir: str | Path, split: str) -> list[Path]:
    """Where the builder puts the gold of a blind split: `<out>-gold/` (its default) or `est-gold/` next to `est/`."""
    est_dir = Path(est_dir).resolve()
    name = f"{split}.parquet"
    return [est_dir.with_name(est_dir.name + "-gold") / name, est_dir.parent / "est-gold" / name]


def load_references(est_dir: str | Path, track: str, split: str, frame: pd.DataFrame | None = None,
                    gold: str | Path | None = None) -> pd.DataFrame:
    """Gold labels (id + the three task columns, label names) of a track's split, aligned with `frame`'s rows.

    Labels come from the split itself; when it is a blind test split (labels -1) they come from the gold file the
    builder wrote (`gold`, or found by `gold_file_candidates`).
    """
    frame = load_track(est_dir, track, split) if frame is None else frame
    if gold is None and frame[list(TASK_NAMES)].notna().all().all():
        return frame[list(PREDICTION_COLUMNS)].reset_index(drop=True)
    candidates = [Path(gold)] if gold is not None else gold_file_candidates(est_dir, split)
    gold_path = next((path for path in candidates if path.exists()), None)
    if gold_path is None:
        raise FileNotFoundError(
            f"the {split} split in {est_dir} is blind (labels -1) and no gold file was found at "
            + " or ".join(str(path) for path in candidates)
        )
    table = pd.read_parquet(gold_path)
    if track == "balanced":
        table = table[table["balanced"]]
    table = table.set_index("id")
    missing = [i for i in frame["id"] if i not in table.index]
    if missing:
        raise ValueError(f"{gold_path}: {len(missing)} ids of the {split} split have no gold row, e.g. {missing[0]!r}")
    return table.loc[frame["id"], list(TASK_NAMES)].reset_index()


def predictions_frame(ids: Sequence[str], predictions: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A prediction table in the leaderboard's column order, checking every label against estbench.schema."""
    frame = pd.DataFrame({"id": list(ids)})
    for task in Task:
        if task.value not in predictions:
            continue
        values = list(predictions[task.value])
        if len(values) != len(frame):
            raise ValueError(f"{len(values)} {task.value} predictions for {len(frame)} ids")
        for position, value in enumerate(values):
            if value not in task.labels:
                raise ValueError(f"row {position} (id {frame['id'][position]!r}): invalid {task.value} label {value!r}")
        frame[task.value] = values
    return frame


PREDICTION_SUFFIXES = (".csv", ".jsonl")


def check_prediction_path(path: str | Path) -> str:
    """The suffix of a prediction file path; ValueError unless it is .csv or .jsonl (checked before any work)."""
    suffix = Path(path).suffix.lower()
    if suffix not in PREDICTION_SUFFIXES:
        raise ValueError(f"{path}: prediction files must end in .csv or .jsonl")
    return suffix


def write_predictions(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a prediction file as CSV (`.csv`) or JSON Lines (`.jsonl`), atomically."""
    suffix = check_prediction_path(path)

    def write(out):
        if suffix == ".csv":
            frame.to_csv(out, index=False)
        else:
            for record in frame.to_dict(orient="records"):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    return write_atomically(path, write)


def write_json(record: dict, path: str | Path) -> Path:
    """Write a JSON document atomically."""
    return write_atomically(path, lambda out: out.write(json.dumps(record, indent=2, ensure_ascii=False) + "\n"))
