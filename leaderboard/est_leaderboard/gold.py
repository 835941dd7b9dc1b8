"""The hidden test labels of a track, and the fixed public/private cut of the test set.

`load_gold(source, track)` reads either
- the builder's `--blind-test` gold file (`est-gold/test.parquet`: id, session_id, the three task columns as label
  names, and `balanced` = row is in the joint-balanced test split), or
- a built `est/` folder (the `joint` / `joint-balanced` test split, task columns as ClassLabel ids).

Track `full` is the joint test split, track `balanced` the joint-balanced one (the paper's protocol).
Every row belongs to the public or the private half; the half is fixed per *session* by a salted hash of its
session_id, so an utterance never sits in a different half than its neighbours and the cut never changes. The salt
is a setting (`EST_LB_HALF_SALT`, a Space secret): without it nobody can compute from the public source which rows
are public. Locally the documented default `DEFAULT_HALF_SALT` is used.

The gold has a version, `<name>+<first 12 hex digits of the SHA-256 of its ids and labels>` (e.g.
`simulated-v1+3f2a9c1d0b7e`): the name says which release it is (`EST_LB_GOLD_VERSION`), the hash which content, so
two golds that differ in one label never share a version. Every score records the version it was computed on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

import estbench.scoring
from estbench.errors import ProblemReport
from estbench.layout import TRACK_CONFIGS, TRACKS
from estbench.schema import Task

DEFAULT_HALF_SALT = "est-leaderboard-public-private-v1"  # local default only; a Space sets its own secret
DEFAULT_GOLD_NAME = "simulated-v1"


def is_public_session(session_id: str, salt: str = DEFAULT_HALF_SALT) -> bool:
    """The fixed public/private cut: about half of the sessions are public."""
    return hashlib.sha256(f"{salt}:".encode("utf-8") + session_id.encode("utf-8")).digest()[0] < 128


def content_hash(ids: np.ndarray, labels: dict[str, np.ndarray]) -> str:
    """SHA-256 of the gold's ids (in order) and label ids per task: the content part of a gold version."""
    digest = hashlib.sha256()
    digest.update("\n".join(ids.tolist()).encode("utf-8"))
    for task in sorted(labels):
        digest.update(task.encode("utf-8") + labels[task].astype(np.int8).tobytes())
    return digest.hexdigest()


@dataclass(frozen=True, eq=False)
class Gold:
    """Test labels of one track. `labels[task]` holds ClassLabel ids (schema order), aligned with `ids`."""

    track: str
    ids: np.ndarray
    session_ids: np.ndarray
    labels: dict[str, np.ndarray]
    public: np.ndarray  # bool per row
    source: str
    index: pd.Index = field(repr=False)
    version: str = ""  # <name>+<content hash>

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self.labels)

    def frame(self) -> pd.DataFrame:
        """The gold as label names (for tests and tools; never sent to a browser)."""
        data = {"id": self.ids, "session_id": self.session_ids}
        for task, codes in self.labels.items():
            data[task] = np.asarray(Task(task).labels, dtype=object)[codes]
        data["public"] = self.public
        return pd.DataFrame(data)


class GoldError(ProblemReport):
    """The gold source is missing or malformed (one problem, or several listed)."""

    def __init__(self, *problems: str):
        super().__init__(problems[1:], headline=problems[0] if problems else "invalid gold labels")


def _codes(values: pd.Series, task: Task, where: str) -> np.ndarray:
    """ClassLabel ids of a gold column of label names or ids, checked by the shared scoring core's encoder."""
    try:
        return estbench.scoring.encode(task, values, what=f"gold in {where}").astype(np.int8)
    except ValueError as error:
        hidden = pd.api.types.is_integer_dtype(values.dtype) and (values < 0).any()
        hint = " (a --blind-test build hides test labels: use its est-gold/test.parquet)" if hidden else ""
        raise GoldError(f"{error}{hint}") from None


def _read_gold_file(path: Path, track: str) -> pd.DataFrame:
    frame = pd.read_parquet(path)
    missing = [c for c in ("id", "session_id") if c not in frame.columns]
    if missing:
        raise GoldError(f"{path}: gold file lacks column(s) {missing}")
    if track == "balanced":
        if "balanced" not in frame.columns:
            raise GoldError(f"{path}: gold file lacks the 'balanced' column needed for the balanced track")
        frame = frame[frame["balanced"].astype(bool)]
    return frame


def _read_built_split(folder: Path, track: str) -> pd.DataFrame:
    config_dir = folder / TRACK_CONFIGS[track]
    shards = sorted(config_dir.glob("test-*.parquet"))
    if not shards:
        raise GoldError(f"{config_dir}: no test-*.parquet shards (build the dataset first: python est_dataset.py build)")
    return pd.concat([pd.read_parquet(p) for p in shards], ignore_index=True)


def load_gold(source: str | Path, track: str, *, salt: str = DEFAULT_HALF_SALT,
              name: str = DEFAULT_GOLD_NAME) -> Gold:
    """Test labels of `track` ("balanced" or "full") from a gold parquet file or a built est/ folder; `salt` fixes
    the public/private cut, `name` is the release part of the version."""
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r} (expected one of: {', '.join(TRACKS)})")
    source = Path(source)
    if source.is_file():
        frame = _read_gold_file(source, track)
    elif source.is_dir():
        frame = _read_built_split(source, track)
    else:
        raise GoldError(f"gold source {source} does not exist (a gold parquet file or a built est/ folder)")
    if frame.empty:
        raise GoldError(f"{source}: the {track} track has no test rows")

    labels: dict[str, np.ndarray] = {}
    for task in Task:
        if task.value not in frame.columns:
            continue
        labels[task.value] = _codes(frame[task.value], task, f"{source} ({track} track)")
    if not labels:
        raise GoldError(f"{source}: no task column among {[t.value for t in Task]}")

    ids = frame["id"].astype(str).to_numpy(dtype=object)
    index = pd.Index(ids, dtype=object)  # Python strings: fast hash lookups of submitted ids
    if not index.is_unique:
        raise GoldError(f"{source}: duplicate ids in the gold, e.g. {index[index.duplicated()][0]!r}")
    index.get_indexer(ids[:1])  # build the id hash table now, at start-up, rather than on the first upload
    session_ids = frame["session_id"].astype(str).to_numpy(dtype=object)
    sessions = pd.unique(session_ids)
    public_of = {s: is_public_session(s, salt) for s in sessions}
    public = np.fromiter((public_of[s] for s in session_ids), dtype=bool, count=len(session_ids))
    return Gold(track=track, ids=ids, session_ids=session_ids, labels=labels, public=public,
                source=str(source), index=index, version=f"{name}+{content_hash(ids, labels)[:12]}")


def fetch_gold_file(repo_id: str, filename: str, token: str | None) -> Path:
    """Download the gold file from a private dataset repo (on a Space, with the Space's secret token).

    Not exercised by the offline tests: there is no Hub access here.
    """
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(repo_id=repo_id, filename=filename, repo_type="dataset", token=token))
