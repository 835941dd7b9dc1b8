"""The one reader of a built EST folder: a config's split, a leaderboard track's rows, and the gold file of a blind
build (`estbench.layout` says where each of them lies).

The built dataset is plain Parquet (`est/<config>/<split>-NNNNN-of-NNNNN.parquet`). It is read with pyarrow
directly rather than `datasets.load_dataset`, so nothing is cached under ~/.cache and a reader stays a pure function
of the folder. Label columns hold ClassLabel ids in `estbench.schema` order; `load_split` turns them into label names
(-1, the blind-test marker, becomes None). The baselines, the lm-evaluation-harness tasks, the leaderboard's gold
loader (`estbench.gold`) and the bench scripts all read through here.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from .layout import DATA_DIGEST_KEY, SPLITS, TRACK_CONFIGS, gold_file_candidates, shard_pattern
from .schema import Task


def split_files(est_dir: str | Path, config: str, split: str) -> list[Path]:
    """The Parquet shards of one config/split, or a FileNotFoundError that says what is missing and where."""
    folder = Path(est_dir) / config
    files = sorted(folder.glob(shard_pattern(split)))
    if not files:
        hint = "" if Path(est_dir).is_dir() else " (no such folder: build it with `python est_dataset.py build`)"
        raise FileNotFoundError(f"no '{split}' shards for config '{config}' in {folder}{hint}")
    return files


def read_split_ids(est_dir: str | Path, config: str, split: str) -> pd.DataFrame:
    """One split of one config as stored: label columns hold ClassLabel ids (-1 where hidden)."""
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r} (expected one of: {', '.join(SPLITS)})")
    return pd.concat([pq.read_table(f).to_pandas() for f in split_files(est_dir, config, split)], ignore_index=True)


def load_split(est_dir: str | Path, config: str, split: str) -> pd.DataFrame:
    """One split of one config as a DataFrame; label columns hold label names (None where the label is hidden)."""
    frame = read_split_ids(est_dir, config, split)
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
    """The built config a leaderboard track is trained and scored on (`estbench.layout.TRACK_CONFIGS`)."""
    if track not in TRACK_CONFIGS:
        raise ValueError(f"unknown track {track!r} (expected one of: {', '.join(TRACK_CONFIGS)})")
    return TRACK_CONFIGS[track]


def load_track(est_dir: str | Path, track: str, split: str) -> pd.DataFrame:
    """The rows a track is trained/scored on: the split of `joint` (full) or `joint-balanced` (balanced)."""
    return load_split(est_dir, track_config(track), split)


def data_digest(source: str | Path) -> str:
    """The data digest a build wrote (`estbench.layout.DATA_DIGEST_KEY`) into a built folder's card or into its gold
    file; "" when there is none (a folder built before digests, or not by the builder)."""
    source = Path(source)
    if source.is_file():
        metadata = pq.read_schema(source).metadata or {}
        return metadata.get(DATA_DIGEST_KEY.encode(), b"").decode()
    card = source / "README.md"
    if not card.is_file():
        return ""
    import yaml

    text = card.read_text(encoding="utf-8")
    if not text.startswith("---\n"):
        return ""
    header = yaml.safe_load(text[4:text.find("\n---", 4)]) or {}
    return str(header.get(DATA_DIGEST_KEY, "")) if isinstance(header, dict) else ""


def find_gold_file(est_dir: str | Path) -> Path | None:
    """The gold file of a blind build of `est_dir` (`estbench.layout.gold_file_candidates`), or None."""
    return next((path for path in gold_file_candidates(est_dir) if path.is_file()), None)
