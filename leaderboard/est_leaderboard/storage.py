"""Every accepted submission, stored atomically in SQLite (WAL) plus the raw file in a content-addressed archive.

Write order makes a crash at any point harmless: the raw file is archived first (temp file + fsync + rename),
then the row is inserted in one transaction. A crash before the commit leaves at most an unreferenced archive
file, never a row without its file or a half-written row. The per-day limit and the duplicate check run inside
the same write transaction (BEGIN IMMEDIATE), so parallel submissions cannot overshoot the limit.

The raw file is written inside the write transaction, after the limit and duplicate checks: a submission refused
there (a racing pair on the daily limit) leaves no file behind, and an archive file a crash left unreferenced is
removed at the next start.

Every row records the gold version its scores were computed on. Re-scoring on a new gold (`rescore`) moves the old
scores into `score_history` and writes the new ones in the same transaction, so no score is ever lost.

Rows are submissions (`kind` "submission") or the project's baselines (`kind` "baseline"), stored and scored alike.
A row's `identity` is its submitter's folded name (`identity.identity_key`): the daily limit, the duplicate check and
the Ladder (`scoring.ladder_release`, decided inside the same transaction, so parallel submissions of one identity
cannot both be released against the same best) count per identity. `released` is the public score the Ladder
released for the row (NULL: none).
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

from estbench.io import write_atomically

SCHEMA = """
CREATE TABLE IF NOT EXISTS submissions (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    submitter       TEXT NOT NULL,
    model_name      TEXT NOT NULL,
    description     TEXT NOT NULL,
    track           TEXT NOT NULL,
    file_sha256     TEXT NOT NULL,
    file_name       TEXT NOT NULL,
    archive_path    TEXT NOT NULL,
    submitted_at    TEXT NOT NULL,   -- ISO 8601, UTC
    submitted_day   TEXT NOT NULL,   -- YYYY-MM-DD, UTC: the daily limit counts these
    tasks           TEXT NOT NULL,   -- JSON list of the scored tasks
    public_scores   TEXT NOT NULL,   -- JSON {estbench.scoring key: float}
    private_scores  TEXT NOT NULL,
    public_detail   TEXT NOT NULL,   -- JSON: per-class report (k-row floor), consistency, slices
    private_detail  TEXT NOT NULL,
    gold_version    TEXT NOT NULL DEFAULT '',
    identity        TEXT NOT NULL DEFAULT '',
    kind            TEXT NOT NULL DEFAULT 'submission',
    predictions_sha256 TEXT NOT NULL DEFAULT '',
    released        REAL,            -- the Ladder's public score (NULL: not released)
    consistency     TEXT NOT NULL DEFAULT '{}',  -- JSON consistency shares over all rows
    UNIQUE (submitter, track, file_sha256)
);
CREATE TABLE IF NOT EXISTS score_history (
    submission_id   INTEGER NOT NULL REFERENCES submissions (id),
    gold_version    TEXT NOT NULL,
    public_scores   TEXT NOT NULL,
    private_scores  TEXT NOT NULL,
    replaced_at     TEXT NOT NULL    -- ISO 8601, UTC: when a re-scoring replaced these scores
);
CREATE INDEX IF NOT EXISTS submissions_by_track ON submissions (track);
CREATE INDEX IF NOT EXISTS submissions_by_day ON submissions (submitter, submitted_day);
CREATE INDEX IF NOT EXISTS submissions_by_identity ON submissions (identity, track);
CREATE INDEX IF NOT EXISTS submissions_by_identity_day ON submissions (identity, submitted_day);
"""
ADDED_COLUMNS = {  # columns newer than the first schema: added to an older database when it is opened
    "gold_version": "TEXT NOT NULL DEFAULT ''", "identity": "TEXT NOT NULL DEFAULT ''",
    "kind": "TEXT NOT NULL DEFAULT 'submission'", "predictions_sha256": "TEXT NOT NULL DEFAULT ''",
    "released": "REAL", "consistency": "TEXT NOT NULL DEFAULT '{}'",
}
SUMMARY_COLUMNS = ("id", "submitter", "model_name", "description", "track", "file_sha256", "submitted_at",
                   "tasks", "public_scores", "private_scores", "gold_version", "archive_path", "identity", "kind",
                   "predictions_sha256", "released", "consistency")
KIND_SUBMISSION = "submission"
KIND_BASELINE = "baseline"
ORPHAN_AGE_S = 600  # an unreferenced archive file older than this is a crash's leftover


class DailyLimitReached(Exception):
    """The submitter already has the allowed number of accepted submissions today (UTC)."""


@dataclass(frozen=True)
class Submission:
    id: int
    submitter: str
    model_name: str
    description: str
    track: str
    file_sha256: str
    submitted_at: str
    tasks: list[str]
    public_scores: dict[str, float]
    private_scores: dict[str, float]
    public_detail: dict | None = None
    private_detail: dict | None = None
    gold_version: str = ""
    archive_path: str = ""
    identity: str = ""
    kind: str = KIND_SUBMISSION
    predictions_sha256: str = ""
    released: float | None = None
    consistency: dict[str, float] | None = None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> "Submission":
        keys = row.keys()
        return cls(
            id=row["id"], submitter=row["submitter"], model_name=row["model_name"], description=row["description"],
            track=row["track"], file_sha256=row["file_sha256"], submitted_at=row["submitted_at"],
            tasks=json.loads(row["tasks"]), public_scores=json.loads(row["public_scores"]),
            private_scores=json.loads(row["private_scores"]),
            public_detail=json.loads(row["public_detail"]) if "public_detail" in keys else None,
            private_detail=json.loads(row["private_detail"]) if "private_detail" in keys else None,
            gold_version=row["gold_version"] if "gold_version" in keys else "",
            archive_path=row["archive_path"] if "archive_path" in keys else "",
            identity=row["identity"] if "identity" in keys else "",
            kind=row["kind"] if "kind" in keys else KIND_SUBMISSION,
            predictions_sha256=row["predictions_sha256"] if "predictions_sha256" in keys else "",
            released=row["released"] if "released" in keys else None,
            consistency=json.loads(row["consistency"]) if "consistency" in keys else None,
        )


def utc_now() -> datetime:
    return datetime.now(timezone.utc)


class SubmissionStore:
    """SQLite store under `data_dir`. One short-lived connection per call, so it is safe across threads."""

    def __init__(self, data_dir: str | os.PathLike):
        self.data_dir = Path(data_dir)
        self.db_path = self.data_dir / "leaderboard.sqlite3"
        self.archive_dir = self.data_dir / "submissions"
        self.archive_dir.mkdir(parents=True, exist_ok=True)
        with self._session() as connection:
            connection.execute("PRAGMA journal_mode=WAL")
            columns = {row[1] for row in connection.execute("PRAGMA table_info(submissions)")}
            for name, kind in ADDED_COLUMNS.items():
                if columns and name not in columns:  # a database from before this column
                    connection.execute(f"ALTER TABLE submissions ADD COLUMN {name} {kind}")
            connection.executescript(SCHEMA)
            if columns and "identity" not in columns:
                from .identity import identity_key

                for row_id, submitter in connection.execute("SELECT id, submitter FROM submissions").fetchall():
                    connection.execute("UPDATE submissions SET identity = ? WHERE id = ?", (identity_key(submitter),
                                                                                            row_id))
            referenced = {row[0] for row in connection.execute("SELECT archive_path FROM submissions")}
        for leftover in self.archive_dir.glob("*/.*.tmp"):  # temp files of archive writes cut short by a crash
            leftover.unlink(missing_ok=True)
        for archived in self.archive_dir.glob("*/*"):  # archive files of transactions a crash cut short
            if (str(archived.relative_to(self.data_dir)) not in referenced
                    and time.time() - archived.stat().st_mtime > ORPHAN_AGE_S):
                archived.unlink(missing_ok=True)

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.db_path, timeout=30, isolation_level=None)
        connection.row_factory = sqlite3.Row
        connection.execute("PRAGMA synchronous=FULL")
        connection.execute("PRAGMA busy_timeout=30000")
        return connection

    @contextmanager
    def _session(self) -> Iterator[sqlite3.Connection]:
        connection = self._connect()
        try:
            yield connection
        finally:
            connection.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE): committed when the block ends, rolled back if it raises; a
        block may end it early with ROLLBACK."""
        connection = self._connect()
        try:
            connection.execute("BEGIN IMMEDIATE")
            yield connection
            if connection.in_transaction:
                connection.execute("COMMIT")
        except BaseException:
            if connection.in_transaction:
                connection.execute("ROLLBACK")
            raise
        finally:
            connection.close()

    def archive_path(self, sha256: str, extension: str) -> Path:
        return self.archive_dir / sha256[:2] / f"{sha256}{extension}"

    def find(self, identity: str, track: str, predictions_sha256: str) -> Submission | None:
        """The earlier submission of `identity` on `track` with the same predictions, if any."""
        with self._session() as connection:
            row = connection.execute(
                "SELECT * FROM submissions WHERE identity = ? AND track = ? AND predictions_sha256 = ?",
                (identity, track, predictions_sha256)).fetchone()
        return Submission.from_row(row) if row else None

    def count_on_day(self, identity: str, day: str) -> int:
        with self._session() as connection:
            return connection.execute(
                "SELECT COUNT(*) FROM submissions WHERE identity = ? AND submitted_day = ? AND kind = ?",
                (identity, day, KIND_SUBMISSION)).fetchone()[0]

    def best_released(self, identity: str, track: str, gold_version: str) -> float | None:
        """The identity's best public score the Ladder released on `track` and `gold_version` (None: none)."""
        with self._session() as connection:
            return self._best_released(connection, identity, track, gold_version)

    @staticmethod
    def _best_released(connection, identity: str, track: str, gold_version: str) -> float | None:
        return connection.execute(
            "SELECT MAX(released) FROM submissions WHERE identity = ? AND track = ? AND gold_version = ?",
            (identity, track, gold_version)).fetchone()[0]

    def add(self, *, submitter: str, model_name: str, description: str, track: str, sha256: str, file_name: str,
            raw: bytes, extension: str, tasks: list[str], public_scores: dict, private_scores: dict,
            public_detail: dict, private_detail: dict, daily_limit: int | None = None,
            now: datetime | None = None, gold_version: str = "", identity: str | None = None,
            kind: str = KIND_SUBMISSION, predictions_sha256: str | None = None, consistency: dict | None = None,
            ranking_value: float | None = None, ladder_step: float | None = None) -> tuple[Submission, bool]:
        """Store a submission. Returns (stored row, True), or (the earlier row with the same predictions of this
        identity and track, False).

        Raises DailyLimitReached when `daily_limit` accepted submissions of the identity exist on this UTC day.
        With `ranking_value` (the exact public score) and `ladder_step`, the Ladder decides the released score:
        against the identity's best released one for a submission, plainly rounded for a baseline.
        """
        from .scoring import ladder_release, on_grid

        now = now or utc_now()
        identity = submitter if identity is None else identity
        predictions_sha256 = predictions_sha256 or sha256
        archive = self.archive_path(sha256, extension)
        wrote = False
        try:
            with self._write() as connection:
                earlier = connection.execute(
                    "SELECT * FROM submissions WHERE identity = ? AND track = ? AND (predictions_sha256 = ? OR "
                    "(submitter = ? AND file_sha256 = ?))",
                    (identity, track, predictions_sha256, submitter, sha256)).fetchone()
                if earlier is not None:
                    connection.execute("ROLLBACK")
                    return Submission.from_row(earlier), False
                day = now.strftime("%Y-%m-%d")
                if daily_limit is not None and kind == KIND_SUBMISSION:
                    used = connection.execute(
                        "SELECT COUNT(*) FROM submissions WHERE identity = ? AND submitted_day = ? AND kind = ?",
                        (identity, day, KIND_SUBMISSION)).fetchone()[0]
                    if used >= daily_limit:
                        connection.execute("ROLLBACK")
                        raise DailyLimitReached(f"{submitter} already has {used} accepted submission(s) today "
                                                f"(UTC); the limit is {daily_limit} per day")
                released = None
                if ranking_value is not None and ladder_step:
                    released = (on_grid(ranking_value, ladder_step) if kind == KIND_BASELINE else
                                ladder_release(ranking_value,
                                               self._best_released(connection, identity, track, gold_version),
                                               ladder_step))
                if not archive.exists():
                    write_atomically(archive, raw, fsync=True)
                    wrote = True
                cursor = connection.execute(
                    "INSERT INTO submissions (submitter, model_name, description, track, file_sha256, file_name,"
                    " archive_path, submitted_at, submitted_day, tasks, public_scores, private_scores, public_detail,"
                    " private_detail, gold_version, identity, kind, predictions_sha256, released, consistency)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (submitter, model_name, description, track, sha256, file_name,
                     str(archive.relative_to(self.data_dir)), now.isoformat(timespec="seconds"), day,
                     json.dumps(tasks), json.dumps(public_scores), json.dumps(private_scores),
                     json.dumps(public_detail), json.dumps(private_detail), gold_version, identity, kind,
                     predictions_sha256, released, json.dumps(consistency or {})))
                stored = Submission.from_row(
                    connection.execute("SELECT * FROM submissions WHERE id = ?", (cursor.lastrowid,)).fetchone())
        except BaseException:
            if wrote:  # the row was not committed: its file goes too (no other row can name it: we held the lock)
                archive.unlink(missing_ok=True)
            raise
        return stored, True

    def list(self, track: str | None = None) -> list[Submission]:
        """All submissions of a track (headline scores only; details are loaded by `get`)."""
        query = f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM submissions"
        with self._session() as connection:
            rows = (connection.execute(query + " WHERE track = ? ORDER BY id", (track,)) if track
                    else connection.execute(query + " ORDER BY id")).fetchall()
        return [Submission.from_row(row) for row in rows]

    def get(self, submission_id: int) -> Submission | None:
        with self._session() as connection:
            row = connection.execute("SELECT * FROM submissions WHERE id = ?", (submission_id,)).fetchone()
        return Submission.from_row(row) if row else None

    def archived_file(self, submission: Submission) -> Path:
        return self.data_dir / submission.archive_path

    def rescore(self, submission_id: int, *, gold_version: str, public_scores: dict, private_scores: dict,
                public_detail: dict, private_detail: dict, consistency: dict | None = None) -> None:
        """Replace a submission's scores by those on `gold_version`; the old ones go to `score_history`."""
        with self._write() as connection:
            connection.execute(
                "INSERT INTO score_history (submission_id, gold_version, public_scores, private_scores, replaced_at)"
                " SELECT id, gold_version, public_scores, private_scores, ? FROM submissions WHERE id = ?",
                (utc_now().isoformat(timespec="seconds"), submission_id))
            connection.execute(
                "UPDATE submissions SET gold_version = ?, public_scores = ?, private_scores = ?, public_detail = ?,"
                " private_detail = ?, consistency = ?, released = NULL WHERE id = ?",
                (gold_version, json.dumps(public_scores), json.dumps(private_scores), json.dumps(public_detail),
                 json.dumps(private_detail), json.dumps(consistency or {}), submission_id))

    def replay_ladder(self, track: str, gold_version: str, value_of, step: float) -> None:
        """Decide every row's released score on `gold_version` again, in submission order (after a re-score: the
        Ladder starts afresh on a new gold). `value_of(public_scores)` is the exact ranking value."""
        from .scoring import ladder_release, on_grid

        with self._write() as connection:
            rows = connection.execute(
                "SELECT id, identity, kind, public_scores FROM submissions WHERE track = ? AND gold_version = ?"
                " ORDER BY id", (track, gold_version)).fetchall()
            best: dict[str, float] = {}
            for row in rows:
                value = value_of(json.loads(row["public_scores"]))
                if row["kind"] == KIND_BASELINE:
                    released = on_grid(value, step)
                else:
                    released = ladder_release(value, best.get(row["identity"]), step)
                    if released is not None:
                        best[row["identity"]] = released
                connection.execute("UPDATE submissions SET released = ? WHERE id = ?", (released, row["id"]))

    def history(self, submission_id: int) -> list[dict]:
        """Earlier scores of a submission, oldest first: gold version, public/private scores, when replaced."""
        with self._session() as connection:
            rows = connection.execute(
                "SELECT gold_version, public_scores, private_scores, replaced_at FROM score_history"
                " WHERE submission_id = ? ORDER BY rowid", (submission_id,)).fetchall()
        return [{"gold_version": r["gold_version"], "public_scores": json.loads(r["public_scores"]),
                 "private_scores": json.loads(r["private_scores"]), "replaced_at": r["replaced_at"]} for r in rows]

    def integrity_check(self) -> str:
        with self._session() as connection:
            return connection.execute("PRAGMA integrity_check").fetchone()[0]
