"""The layout of a built EST folder: configs, splits, columns, tracks, shard names and where the gold file goes.

The config table (`CONFIGS`) drives the builder, its Features and the card; the track table (`TRACK_CONFIGS`)
drives the baselines and the leaderboard. Nothing else spells a config, split or track name.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from .schema import TASK_NAMES, Task

RAW_FORMAT_VERSION = 1
SPLITS: tuple[str, ...] = ("train", "validation", "test")
DEFAULT_CONFIG = "joint"

TASK_CONFIGS: dict[str, tuple[str, ...]] = {  # utterance config -> its label columns
    **{task: (task,) for task in TASK_NAMES},
    "joint": TASK_NAMES,
}
UTTERANCE_CONFIGS: dict[str, tuple[str, ...]] = {
    **TASK_CONFIGS,
    **{f"{name}-balanced": labels for name, labels in TASK_CONFIGS.items()},
}
CONFIG_NAMES: tuple[str, ...] = (DEFAULT_CONFIG,) + tuple(c for c in UTTERANCE_CONFIGS if c != DEFAULT_CONFIG) + (
    "sessions",
)
CONFIGS: dict[str, str] = {  # config -> what it holds (the card's config table and the builder's descriptions)
    "joint": "All three labels per user utterance (utterances that have a transition); the default config.",
    "emotion": "Emotion (7 classes) of every user utterance.",
    "transition": "Emotion-state transition (9 classes) of every user utterance that has one.",
    "satisfaction": "Satisfaction (3 classes) of every user utterance.",
    **{f"{name}-balanced": f"`{name}` restricted to the balanced experiment subset (Table 3)."
       for name in TASK_CONFIGS},
    "sessions": "One row per session with every turn (user and agent) and its labels (-1 where none), the anchor's "
                "turn index and the dialogue-level satisfaction (-1 where the corpus gives none).",
}
assert set(CONFIGS) == set(CONFIG_NAMES), "every config needs a description"

# `anchor` / `anchor_turn`: the session's anchor utterance (the first substantive user utterance, whose polarity every
# transition is relative to) and its turn index, on every row from the anchor on; "" / -1 before it or without one.
UTTERANCE_COLUMNS: tuple[str, ...] = (
    "id", "session_id", "turn", "category", "context", "anchor", "anchor_turn", "text")
LABEL_COLUMNS: tuple[str, ...] = TASK_NAMES  # emotion, transition, satisfaction
DEFAULT_CONTEXT_TURNS = 4  # previous turns (user and agent) in `context`; the `sessions` config has full histories
CONTEXT_PREFIX = {"user": "用户：", "agent": "客服："}

# Leaderboard tracks -> the built config whose test split each is scored on (the joint configs hold every utterance
# that carries all three labels; `balanced` is the paper's experiment protocol).
TRACK_CONFIGS: dict[str, str] = {"balanced": "joint-balanced", "full": "joint"}
TRACKS: tuple[str, ...] = tuple(TRACK_CONFIGS)

# A raw format v1 corpus written by this project (the converters; the simulator's writer is being replaced, issue
# 22) is `<prefix>-NNNNN-of-NNNNN.jsonl.gz` shards of at most RAW_SESSIONS_PER_SHARD sessions (`io.jsonl_gz`).
RAW_SESSIONS_PER_SHARD = 2_500


def raw_shard_name(prefix: str, index: int, count: int) -> str:
    return f"{prefix}-{index:05d}-of-{count:05d}.jsonl.gz"


# Every split of a config is `<config>/<split>-NNNNN-of-NNNNN.parquet` (the Hub's shard naming).
def shard_file_name(split: str, index: int, count: int) -> str:
    return f"{split}-{index:05d}-of-{count:05d}.parquet"


def shard_pattern(split: str) -> str:
    """The glob that finds a split's shards in its config folder (and the card's `data_files` entry)."""
    return f"{split}-*.parquet"


# The digest of the data a build describes (`estbench.dataset.BuildOptions.data_digest`) is written under this key
# into the card's YAML header and the gold file's Parquet metadata; `estbench.built.data_digest` reads it back.
DATA_DIGEST_KEY = "est_data_digest"

# A --blind_test build writes the hidden test labels to <out>-gold/test.parquet (columns: id, session_id, the three
# task columns as label names, `balanced`).
GOLD_FILE_NAME = "test.parquet"


def gold_dir_for(out: str | Path) -> Path:
    """Where a --blind_test build of `out` writes its gold by default: `<out>-gold/`."""
    out = Path(out)
    return out.with_name(f"{out.name}-gold")


def gold_file_candidates(est_dir: str | Path) -> list[Path]:
    """Where the gold file of a blind build of `est_dir` is looked for: `<est_dir>-gold/test.parquet` (the builder's
    default) and `est-gold/test.parquet` beside it (the default of the README's `est/` build).

    >>> [str(p) for p in gold_file_candidates("/data/est-5k")]
    ['/data/est-5k-gold/test.parquet', '/data/est-gold/test.parquet']
    """
    est_dir = Path(est_dir).absolute()
    return list(dict.fromkeys([gold_dir_for(est_dir) / GOLD_FILE_NAME, est_dir.parent / "est-gold" / GOLD_FILE_NAME]))


def session_digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8")).digest()


def split_of_digest(digest: bytes) -> str:
    bucket = int.from_bytes(digest[:8], "big") % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


def split_of(session_id: str) -> str:
    """The split of a session: 8:1:1 from the first 8 bytes of SHA-256(session_id) mod 100 (0-79, 80-89, 90-99).

    Decided by the id alone, so adding sessions never moves others and every config agrees.

    >>> split_of("s0001")
    'train'
    """
    return split_of_digest(session_digest(session_id))


def features_for(config: str):
    """The `datasets.Features` of a config (ClassLabel names in schema order)."""
    import datasets

    labels = {task.value: datasets.ClassLabel(names=list(task.labels)) for task in Task}
    if config == "sessions":
        turn = {"role": datasets.Value("string"), "text": datasets.Value("string"), **labels}
        return datasets.Features(
            {
                "session_id": datasets.Value("string"),
                "category": datasets.Value("string"),
                "dialogue_satisfaction": datasets.ClassLabel(names=list(Task.SATISFACTION.labels)),
                "anchor_turn": datasets.Value("int32"),
                "turns": datasets.List(turn),
            }
        )
    if config not in UTTERANCE_CONFIGS:
        raise ValueError(f"unknown config {config!r} (expected one of: {', '.join(CONFIG_NAMES)})")
    base = {  # UTTERANCE_COLUMNS
        "id": datasets.Value("string"),
        "session_id": datasets.Value("string"),
        "turn": datasets.Value("int32"),
        "category": datasets.Value("string"),
        "context": datasets.Value("string"),
        "anchor": datasets.Value("string"),
        "anchor_turn": datasets.Value("int32"),
        "text": datasets.Value("string"),
    }
    return datasets.Features({**base, **{name: labels[name] for name in UTTERANCE_CONFIGS[config]}})
