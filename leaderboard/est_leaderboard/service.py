"""The submission flow without any UI: identity checks, limits, duplicates, validate -> score -> store.

`Leaderboard` is what the Gradio page calls and what the tests and the benchmark drive directly.
"""

from __future__ import annotations

import logging
import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from estbench.io import write_atomically

from .board import build_board
from .gold import Gold, fetch_gold_file, load_gold
from .scoring import score_submission
from .seeds import SeedRow, baseline_rows, paper_rows
from .settings import TRACKS, Settings
from .storage import DailyLimitReached, Submission, SubmissionStore, utc_now
from .validation import check_submission

logger = logging.getLogger(__name__)


class SubmissionRefused(Exception):
    """A submission that is not stored for a reason other than the file's content (identity, limit, form)."""


@dataclass(frozen=True)
class SubmissionOutcome:
    submission: Submission
    created: bool  # False: an identical file was already submitted; `submission` is the earlier result


def clean_text(value: str | None, limit: int, what: str, required: bool) -> str:
    """Plain single-paragraph text: control characters removed, whitespace collapsed, length checked."""
    text = "".join(ch if unicodedata.category(ch)[0] != "C" else " " for ch in (value or ""))
    text = " ".join(text.split())
    if required and not text:
        raise SubmissionRefused(f"{what} is required")
    if len(text) > limit:
        raise SubmissionRefused(f"{what} is {len(text)} characters long; the limit is {limit}")
    return text


class Leaderboard:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.store = SubmissionStore(settings.data_dir)
        self._gold: dict[str, Gold] = {}
        self._gold_lock = threading.Lock()
        self._mirror = None
        if settings.results_repo and settings.hf_token:
            from .mirror import ResultsMirror

            self._mirror = ResultsMirror(settings)

    # --- gold ------------------------------------------------------------------------------------------------
    def gold_source(self) -> Path:
        if self.settings.gold_source is not None:
            return self.settings.gold_source
        if self.settings.gold_repo:
            return fetch_gold_file(self.settings.gold_repo, self.settings.gold_filename, self.settings.hf_token)
        raise RuntimeError("no gold labels configured: set EST_LB_GOLD (file or est/ folder) or EST_LB_GOLD_REPO")

    def gold(self, track: str) -> Gold:
        if track not in TRACKS:
            raise SubmissionRefused(f"unknown track {track!r} (choose one of: {', '.join(TRACKS)})")
        with self._gold_lock:
            if track not in self._gold:
                self._gold[track] = load_gold(self.gold_source(), track)
            return self._gold[track]

    # --- submitting ------------------------------------------------------------------------------------------
    def submit(self, path: str | Path, *, submitter: str, model_name: str, description: str, track: str,
               file_name: str | None = None) -> SubmissionOutcome:
        """Validate, score and store one file. Raises SubmissionError (bad file) or SubmissionRefused."""
        if not submitter:
            raise SubmissionRefused("log in first")
        model_name = clean_text(model_name, self.settings.max_name_chars, "model name", required=True)
        description = clean_text(description, self.settings.max_description_chars, "description", required=False)
        gold = self.gold(track)
        checked = check_submission(path, gold, max_bytes=self.settings.max_bytes, file_name=file_name)
        earlier = self.store.find(submitter, track, checked.sha256)
        if earlier is not None:
            return SubmissionOutcome(earlier, created=False)
        now = utc_now()
        if self.store.count_on_day(submitter, now.strftime("%Y-%m-%d")) >= self.settings.daily_limit:
            raise SubmissionRefused(f"daily limit reached: {self.settings.daily_limit} accepted submissions per "
                                    "user per UTC day")
        public, private = score_submission(checked.codes, gold)
        try:
            stored, created = self.store.add(
                submitter=submitter, model_name=model_name, description=description, track=track,
                sha256=checked.sha256, file_name=Path(file_name or path).name, raw=checked.raw,
                extension=checked.extension, tasks=list(checked.tasks), public_scores=public.scores,
                private_scores=private.scores, public_detail=public.detail, private_detail=private.detail,
                daily_limit=self.settings.daily_limit, now=now)
        except DailyLimitReached as err:
            raise SubmissionRefused(f"daily limit reached: {err}") from None
        if created and self._mirror is not None:
            self._mirror.record(stored)
        return SubmissionOutcome(stored, created)

    # --- reading ---------------------------------------------------------------------------------------------
    def seeds(self) -> list[SeedRow]:
        return paper_rows() + baseline_rows(self.settings.seed_baselines)

    def board(self, track: str, *, half: str = "public", search: str = "", score_headers=None) -> pd.DataFrame:
        if half == "private" and not self.settings.reveal_private:
            half = "public"  # private-half scores stay hidden until the admin reveals them
        return build_board(track, self.store.list(track), self.seeds(), half=half, search=search,
                           score_headers=score_headers)

    def detail(self, submission_id: int) -> tuple[Submission, dict] | None:
        """A submission and the detail (per-class report, confusion matrices) of the half that may be shown."""
        submission = self.store.get(submission_id)
        if submission is None:
            return None
        detail = submission.private_detail if self.settings.reveal_private else submission.public_detail
        return submission, detail or {}

    def template_csv(self, track: str, directory: Path) -> Path:
        """A prediction-file template for `track`: every test id, the task columns left blank (no labels)."""
        path = directory / f"est-{track}-template.csv"
        if not path.exists():
            from .validation import COLUMNS

            frame = pd.DataFrame({column: self.gold(track).ids if column == "id" else "" for column in COLUMNS})
            write_atomically(path, frame.to_csv(index=False).encode("utf-8"))
        return path


def describe_outcome(outcome: SubmissionOutcome) -> str:
    s = outcome.submission
    head = (f"Accepted: submission #{s.id} ({s.model_name}, {s.track} track)." if outcome.created else
            f"This file was already submitted on {s.submitted_at} as #{s.id} ({s.model_name}); not stored again. "
            "Earlier result:")
    scores = ", ".join(f"{k} {v:.4f}" for k, v in s.public_scores.items())
    return f"{head}\nPublic-half scores: {scores}"
