"""The gold: the test labels of a track, their fixed public/private cut and their version; and the references a
baseline is scored on.

This module owns (the leaderboard, its seed rows and the bench scripts load gold only through it):

- `load_gold(source, track, *, salt, name)` -> `Gold`, reading either
- the builder's `--blind_test` gold file (`est-gold/test.parquet`: id, session_id, the three task columns as label
  names, and `balanced` = row is in the joint-balanced test split), or
- a built `est/` folder (the `joint` / `joint-balanced` test split, task columns as ClassLabel ids).

- `is_public_session(session_id, salt)`: the public/private cut;
- `load_references(est_dir, track, split, frame)`: the gold labels of a built split aligned with its rows, from the
  split itself or, for a blind test split, from the gold file beside it (`estbench.layout.gold_file_candidates`).

Track `full` is the joint test split, track `balanced` the joint-balanced one (the paper's protocol).
Every row belongs to the public or the private half; the half is fixed per *session* by a salted hash of its
session_id, so an utterance never sits in a different half than its neighbours and the cut never changes. The salt
and the release name have no defaults here: they are the served leaderboard's settings (`EST_LB_HALF_SALT`, a Space
secret without which nobody can compute from the public source which rows are public, and `EST_LB_GOLD_VERSION`), so
every caller passes the ones the board uses and no score is cut differently from the board's.

The gold has a version, `<name>+<first 12 hex digits of the SHA-256 of its ids and labels>` (e.g.
`simulated-v1+3f2a9c1d0b7e`): the name says which release it is, the hash which content, so two golds that differ in
one label never share a version. Every score records the version it was computed on.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import scoring
from .built import find_gold_file, load_track, read_split_ids
from .errors import ProblemReport
from .layout import TRACK_CONFIGS, TRACKS, gold_file_candidates
from .schema import TASK_NAMES, Task


def is_public_session(session_id: str, salt: str) -> bool:
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
        return scoring.encode(task, values, what=f"gold in {where}").astype(np.int8)
    except ValueError as error:
        hidden = pd.api.types.is_integer_dtype(values.dtype) and (values < 0).any()
        hint = " (a --blind_test build hides test labels: use its est-gold/test.parquet)" if hidden else ""
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
    try:
        return read_split_ids(folder, TRACK_CONFIGS[track], "test")
    except FileNotFoundError as error:
        raise GoldError(f"{error} (build the dataset first: python est_dataset.py build)") from None


def load_gold(source: str | Path, track: str, *, salt: str, name: str) -> Gold:
    """Test labels of `track` ("balanced" or "full") from a gold parquet file or a built est/ folder; `salt` fixes
    the public/private cut and `name` is the release part of the version (both: the served leaderboard's)."""
    if track not in TRACKS:
        raise ValueError(f"unknown track {track!r} (expected one of: {', '.join(TRACKS)})")
    if not salt or not name:
        raise ValueError("load_gold needs the leaderboard's half salt and gold name (its settings), not empty ones")
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



def load_references(est_dir: str | Path, track: str, split: str, frame: pd.DataFrame | None = None,
                    gold: str | Path | None = None) -> pd.DataFrame:
    """Gold labels (id + the three task columns, label names) of a track's split, aligned with `frame`'s rows
    (default: the split's own rows, `estbench.built.load_track`).

    Labels come from the split itself; when it is a blind test split (labels hidden) they come from the gold file
    the builder wrote (`gold`, or the one `estbench.built.find_gold_file` finds beside the folder).
    """
    frame = load_track(est_dir, track, split) if frame is None else frame
    if gold is None and frame[list(TASK_NAMES)].notna().all().all():
        return frame[["id", *TASK_NAMES]].reset_index(drop=True)
    gold_path = Path(gold) if gold is not None else find_gold_file(est_dir)
    if gold_path is None or not gold_path.is_file():
        candidates = [Path(gold)] if gold is not None else gold_file_candidates(est_dir)
        raise FileNotFoundError(
            f"the {split} split in {est_dir} is blind (labels -1) and no gold file was found at "
            + " or ".join(str(path) for path in candidates)
        )
    table = _read_gold_file(gold_path, track).set_index("id")
    missing = [i for i in frame["id"] if i not in table.index]
    if missing:
        raise ValueError(f"{gold_path}: {len(missing)} ids of the {split} split have no gold row, e.g. {missing[0]!r}")
    return table.loc[frame["id"], list(TASK_NAMES)].reset_index()
