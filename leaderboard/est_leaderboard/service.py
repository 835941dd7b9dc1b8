"""The submission flow without any UI: identity checks, limits, duplicates, validate -> score -> store.

`Leaderboard` is what the Gradio page calls and what the tests and the benchmark drive directly.
"""

from __future__ import annotations

import threading
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from estbench.gold import Gold, load_gold
from estbench.io import write_atomically
from estbench.layout import TRACKS
from estbench.schema import TASK_NAMES
from estbench.significance import paired_test
from estbench.submission import COLUMNS, SubmissionError, check_submission

from .board import build_board, mean_macro_f1, paper_table
from .scoring import score_submission
from .seeds import SeedRow, baseline_rows, paper_rows
from .settings import Settings
from .storage import DailyLimitReached, Submission, SubmissionStore, utc_now

COMPARE_RESAMPLES = 1000
MAX_SUBMISSION_ID = 2 ** 63 - 1  # SQLite's INTEGER range


def fetch_gold_file(repo_id: str, filename: str, token: str | None) -> Path:
    """Download the gold file from a private dataset repo (on a Space, with the Space's secret token).

    Not exercised by the offline tests: there is no Hub access here.
    """
    from huggingface_hub import hf_hub_download

    return Path(hf_hub_download(repo_id=repo_id, filename=filename, repo_type="dataset", token=token))


class SubmissionRefused(Exception):
    """A submission that is not stored for a reason other than the file's content (identity, limit, form)."""


def parse_submission_id(value) -> int:
    """A submission ID from a form field or an API call, or SubmissionRefused with a one-line reason."""
    if value is None or (isinstance(value, str) and not value.strip()):
        raise SubmissionRefused("enter a submission ID from the board")
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise SubmissionRefused(f"submission ID {str(value)[:40]!r} is not a whole number") from None
    if number != number or number in (float("inf"), float("-inf")) or number != int(number):
        raise SubmissionRefused(f"submission ID {str(value)[:40]!r} is not a whole number")
    if not 1 <= number <= MAX_SUBMISSION_ID:
        raise SubmissionRefused(f"no submission #{str(value)[:40]} (IDs are whole numbers from 1)")
    return int(number)


@dataclass(frozen=True)
class RescoreReport:
    gold_version: str
    rescored: int
    unchanged: int  # already scored on this version
    failed: list[str]  # "#id: reason" for archived files that do not fit the new gold


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
        self._fetched_gold: Path | None = None
        self._mirror = None
        if settings.results_repo and settings.hf_token:
            from .mirror import ResultsMirror

            self._mirror = ResultsMirror(settings)

    # --- gold ------------------------------------------------------------------------------------------------
    def gold_source(self) -> Path:
        """The gold file or folder; on a Space fetched from the Hub once (again only after `reload_gold`)."""
        if self.settings.gold_source is not None:
            return self.settings.gold_source
        if self.settings.gold_repo:
            if self._fetched_gold is None:
                self._fetched_gold = fetch_gold_file(self.settings.gold_repo, self.settings.gold_filename,
                                                     self.settings.hf_token)
            return self._fetched_gold
        raise RuntimeError("no gold labels configured: set EST_LB_GOLD (file or est/ folder) or EST_LB_GOLD_REPO")

    def gold(self, track: str) -> Gold:
        if track not in TRACKS:
            raise SubmissionRefused(f"unknown track {track!r} (choose one of: {', '.join(TRACKS)})")
        with self._gold_lock:
            if track not in self._gold:
                self._gold[track] = load_gold(self.gold_source(), track, salt=self.settings.half_salt,
                                              name=self.settings.gold_name)
            return self._gold[track]

    def gold_version(self, track: str) -> str:
        return self.gold(track).version

    def reload_gold(self) -> None:
        """Forget the loaded gold (after the gold source changed); the next use loads it again."""
        with self._gold_lock:
            self._gold.clear()
            self._fetched_gold = None

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
        public, private = score_submission(checked.codes, gold, self.settings.min_class_rows)
        try:
            stored, created = self.store.add(
                submitter=submitter, model_name=model_name, description=description, track=track,
                sha256=checked.sha256, file_name=Path(file_name or path).name, raw=checked.raw,
                extension=checked.extension, tasks=list(checked.tasks), public_scores=public.scores,
                private_scores=private.scores, public_detail=public.detail, private_detail=private.detail,
                daily_limit=self.settings.daily_limit, now=now, gold_version=gold.version)
        except DailyLimitReached as err:
            raise SubmissionRefused(f"daily limit reached: {err}") from None
        if created and self._mirror is not None:
            self._mirror.record(stored)
        return SubmissionOutcome(stored, created)

    # --- reading ---------------------------------------------------------------------------------------------
    def seeds(self) -> list[SeedRow]:
        return paper_rows() + baseline_rows(self.settings.seed_baselines)

    def shown_half(self, half: str = "public") -> str:
        return half if half == "public" or self.settings.reveal_private else "public"  # private: after the reveal

    def board(self, track: str, *, half: str = "public", search: str = "", score_headers=None) -> pd.DataFrame:
        return build_board(track, self.store.list(track), self.seeds(), half=self.shown_half(half), search=search,
                           score_headers=score_headers, gold_version=self.gold_version(track))

    def paper(self) -> pd.DataFrame:
        return paper_table(self.seeds())

    def detail(self, submission_id) -> tuple[Submission, dict, dict] | None:
        """A submission, the scores and the detail (per-class report with the k-row floor, consistency, slices) of
        the half that may be shown."""
        submission = self.store.get(parse_submission_id(submission_id))
        if submission is None:
            return None
        if self.settings.reveal_private:
            return submission, submission.private_scores, submission.private_detail or {}
        return submission, submission.public_scores, submission.public_detail or {}

    def _archived_codes(self, submission: Submission, gold: Gold) -> dict:
        archived = self.store.archived_file(submission)
        return check_submission(archived, gold, max_bytes=1 << 40,
                                file_name=f"submission #{submission.id}{archived.suffix}").codes

    def compare(self, first_id, second_id, resamples: int = COMPARE_RESAMPLES) -> tuple[Submission, Submission, dict]:
        """Paired test of B (second) - A (first) on the shown half of their track's current gold, resampling
        sessions (`estbench.significance.paired_test`)."""
        a, b = (self.store.get(parse_submission_id(v)) for v in (first_id, second_id))
        for value, found in ((first_id, a), (second_id, b)):
            if found is None:
                raise SubmissionRefused(f"no submission #{parse_submission_id(value)}")
        if a.track != b.track:
            raise SubmissionRefused(f"#{a.id} is on the {a.track} track and #{b.id} on the {b.track} track; "
                                    "compare two submissions of one track")
        tasks = [t for t in TASK_NAMES if t in a.tasks and t in b.tasks]
        if not tasks:
            raise SubmissionRefused(f"#{a.id} and #{b.id} have no task in common")
        gold = self.gold(a.track)
        codes_a, codes_b = self._archived_codes(a, gold), self._archived_codes(b, gold)
        mask = gold.public if self.shown_half() == "public" else ~gold.public
        result = paired_test({t: gold.labels[t][mask] for t in tasks}, {t: codes_a[t][mask] for t in tasks},
                             {t: codes_b[t][mask] for t in tasks}, session_ids=gold.session_ids[mask],
                             resamples=resamples, seed=0)
        return a, b, result

    def rescore_all(self, progress=None) -> RescoreReport:
        """Score every stored submission not yet scored on the current gold from its archived file; the earlier
        scores are kept in the history."""
        rescored = unchanged = 0
        failed = []
        submissions = self.store.list()
        for submission in (progress(submissions) if progress else submissions):
            gold = self.gold(submission.track)
            if submission.gold_version == gold.version:
                unchanged += 1
                continue
            try:
                codes = self._archived_codes(submission, gold)
            except SubmissionError as err:
                failed.append(f"#{submission.id}: {err.problems[0] if err.problems else err}")
                continue
            public, private = score_submission(codes, gold, self.settings.min_class_rows)
            self.store.rescore(submission.id, gold_version=gold.version, public_scores=public.scores,
                               private_scores=private.scores, public_detail=public.detail,
                               private_detail=private.detail)
            rescored += 1
        versions = sorted({self.gold_version(t) for t in TRACKS})
        return RescoreReport(", ".join(versions), rescored, unchanged, failed)

    def is_admin(self, user: str) -> bool:
        return bool(user) and user in self.settings.admins

    def template_csv(self, track: str, directory: Path | None = None) -> Path:
        """A prediction-file template for `track`: every test id, the task columns left blank (no labels). Written
        to `settings.files_dir` by default and named by the gold version, so restarts reuse it."""
        directory = directory or self.settings.files_dir
        path = directory / f"est-{track}-template-{self.gold_version(track).replace('+', '-')}.csv"
        if not path.exists():
            frame = pd.DataFrame({column: self.gold(track).ids if column == "id" else "" for column in COLUMNS})
            write_atomically(path, frame.to_csv(index=False).encode("utf-8"))
        return path


def describe_outcome(outcome: SubmissionOutcome) -> str:
    s = outcome.submission
    head = (f"Accepted: submission #{s.id} ({s.model_name}, {s.track} track)." if outcome.created else
            f"This file was already submitted on {s.submitted_at} as #{s.id} ({s.model_name}); not stored again. "
            "Earlier result:")
    scores = ", ".join(f"{k} {v:.4f}" for k, v in s.public_scores.items())
    return (f"{head}\nPublic half, gold {s.gold_version}: Mean F1 {mean_macro_f1(s.public_scores):.4f}\n"
            f"All public-half scores: {scores}")
