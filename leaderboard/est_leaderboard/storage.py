"""Every accepted submission, stored atomically in SQLite (WAL) plus the raw file in a content-addressed archive.

Write order makes a crash at any point harmless: the raw file is archived first (temp file + fsync + rename),
then the row is inserted in one transaction. A crash before the commit leaves at most an unreferenced archive
file, never a row without its file or a half-written row. The per-day limit and the duplicate check run inside
the same write transaction (BEGIN IMMEDIATE), so parallel submissions cannot overshoot the limit.

Every row records the gold version its scores were computed on. Re-scoring on a new gold (`rescore`) moves the old
scores into `score_history` and writes the new ones in the same transaction, so no score is ever lost.
"""

from __future__ import annotations

import json
import os
import sqlite3
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
    public_detail   TEXT NOT NULL,   -- JSON per-class report + confusion matrices
    private_detail  TEXT NOT NULL,
    gold_version    TEXT NOT NULL DEFAULT '',
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
"""
SUMMARY_COLUMNS = ("id", "submitter", "model_name", "description", "track", "file_sha256", "submitted_at",
                   "tasks", "public_scores", "private_scores", "gold_version", "archive_path")


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
            if columns and "gold_version" not in columns:  # a database from before gold versions
                connection.execute("ALTER TABLE submissions ADD COLUMN gold_version TEXT NOT NULL DEFAULT ''")
            connection.executescript(SCHEMA)
        for leftover in self.archive_dir.glob("*/.*.tmp"):  # temp files of archive writes cut short by a crash
            leftover.unlink(missing_ok=True)

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

    def find(self, submitter: str, track: str, sha256: str) -> Submission | None:
        with self._session() as connection:
            row = connection.execute(
                "SELECT * FROM submissions WHERE submitter = ? AND track = ? AND file_sha256 = ?",
                (submitter, track, sha256)).fetchone()
        return Submission.from_row(row) if row else None

    def count_on_day(self, submitter: str, day: str) -> int:
        with self._session() as connection:
            return connection.execute("SELECT COUNT(*) FROM submissions WHERE submitter = ? AND submitted_day = ?",
                                      (submitter, day)).fetchone()[0]

    def add(self, *, submitter: str, model_name: str, description: str, track: str, sha256: str, file_name: str,
            raw: bytes, extension: str, tasks: list[str], public_scores: dict, private_scores: dict,
            public_detail: dict, private_detail: dict, daily_limit: int | None = None,
            now: datetime | None = None, gold_version: str = "") -> tuple[Submission, bool]:
        """Store a submission. Returns (stored row, True), or (the earlier identical row, False) for a duplicate.

        Raises DailyLimitReached when `daily_limit` accepted submissions of `submitter` exist on this UTC day.
        """
        now = now or utc_now()
        archive = self.archive_path(sha256, extension)
        if not archive.exists():
            write_atomically(archive, raw, fsync=True)
        with self._write() as connection:
            earlier = connection.execute(
                "SELECT * FROM submissions WHERE submitter = ? AND track = ? AND file_sha256 = ?",
                (submitter, track, sha256)).fetchone()
            if earlier is not None:
                connection.execute("ROLLBACK")
                return Submission.from_row(earlier), False
            day = now.strftime("%Y-%m-%d")
            if daily_limit is not None:
                used = connection.execute(
                    "SELECT COUNT(*) FROM submissions WHERE submitter = ? AND submitted_day = ?",
                    (submitter, day)).fetchone()[0]
                if used >= daily_limit:
                    connection.execute("ROLLBACK")
                    raise DailyLimitReached(f"{submitter} already has {used} accepted submission(s) today (UTC); "
                                            f"the limit is {daily_limit} per day")
            cursor = connection.execute(
                "INSERT INTO submissions (submitter, model_name, description, track, file_sha256, file_name,"
                " archive_path, submitted_at, submitted_day, tasks, public_scores, private_scores, public_detail,"
                " private_detail, gold_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (submitter, model_name, description, track, sha256, file_name,
                 str(archive.relative_to(self.data_dir)), now.isoformat(timespec="seconds"), day, json.dumps(tasks),
                 json.dumps(public_scores), json.dumps(private_scores), json.dumps(public_detail),
                 json.dumps(private_detail), gold_version))
            stored = Submission.from_row(
                connection.execute("SELECT * FROM submissions WHERE id = ?", (cursor.lastrowid,)).fetchone())
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
                public_detail: dict, private_detail: dict) -> None:
        """Replace a submission's scores by those on `gold_version`; the old ones go to `score_history`."""
        with self._write() as connection:
            connection.execute(
                "INSERT INTO score_history (submission_id, gold_version, public_scores, private_scores, replaced_at)"
                " SELECT id, gold_version, public_scores, private_scores, ? FROM submissions WHERE id = ?",
                (utc_now().isoformat(timespec="seconds"), submission_id))
            connection.execute(
                "UPDATE submissions SET gold_version = ?, public_scores = ?, private_scores = ?, public_detail = ?,"
                " private_detail = ? WHERE id = ?",
                (gold_version, json.dumps(public_scores), json.dumps(private_scores), json.dumps(public_detail),
                 json.dumps(private_detail), submission_id))

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
