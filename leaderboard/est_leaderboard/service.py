"""The submission flow without any UI: identity checks, limits, duplicates, validate -> score -> store, and what of
the stored scores may be shown (the Ladder before the reveal, the private half at it: `scoring`).

`Leaderboard` is what the Gradio page calls and what the tests and the benchmark drive directly. Uploaded files are
checked in worker processes with a time and memory budget (`sandbox`).
"""

from __future__ import annotations

import gzip
import tempfile
import threading
import unicodedata
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from estbench.gold import Gold, load_gold
from estbench.io import write_atomically
from estbench.layout import TRACKS
from estbench.schema import TASK_NAMES
from estbench.scoring import mean_macro_f1
from estbench.significance import ALPHA, paired_test
from estbench.submission import COLUMNS, SubmissionError, check_submission

from .board import build_board, paper_table
from .identity import identity_key
from .sandbox import shared_pool
from .scoring import decimals_of, score_submission
from .seeds import BASELINE_SUBMITTER, baseline_file, baseline_identity, paper_rows, read_baselines
from .settings import Settings
from .storage import KIND_BASELINE, KIND_SUBMISSION, DailyLimitReached, Submission, SubmissionStore, utc_now

COMPARE_RESAMPLES = 1000
TIE_RESAMPLES = 1000  # paired resamples behind a "tied" rank on the revealed board
CODES_CACHE = 64  # archived submissions kept parsed in memory (compare and ties)
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
    created: bool  # False: the same predictions were already submitted; `submission` is the earlier result
    best: float | None = None  # the identity's best released public score on this track now
    step: float = 0.01  # the Ladder's step


@dataclass(frozen=True)
class DetailView:
    """What the detail view may show of a submission: before the reveal only what needs no hidden label."""

    submission: Submission
    half: str | None  # "private" at the reveal, None before it (no score computed from labels is shown)
    scores: dict[str, float] | None
    detail: dict
    consistency: dict[str, float]


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
        self.checks = shared_pool(settings.submit_concurrency, settings.check_seconds, settings.check_mib)
        self._gold: dict[str, Gold] = {}
        self._gold_lock = threading.Lock()
        self._fetched_gold: Path | None = None
        self._codes: OrderedDict[tuple[int, str], dict] = OrderedDict()
        self._ties: dict[tuple[str, int, int], bool] = {}
        self._cache_lock = threading.Lock()
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
            raise SubmissionRefused(f"unknown track {str(track)[:20]!r} (choose one of: {', '.join(TRACKS)})")
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
    @property
    def revealed(self) -> bool:
        return self.settings.reveal_private

    def _check(self, path: Path, track: str, file_name: str | None):
        """The checked file, or SubmissionError; a file whose ids are another track's says so."""
        try:
            return self.checks.check(path, self.gold(track), max_bytes=self.settings.max_bytes, file_name=file_name)
        except SubmissionError as error:
            if not any(" ids of the " in p or " test set (wrong track?)" in p for p in error.problems):
                raise
            for other in (t for t in TRACKS if t != track):
                try:
                    self.checks.check(path, self.gold(other), max_bytes=self.settings.max_bytes, file_name=file_name)
                except SubmissionError:
                    continue
                raise SubmissionError([f"its ids are exactly those of the {other} track: choose the {other} track "
                                       "and submit again", *error.problems], error.file_name) from None
            raise

    def submit(self, path: str | Path, *, submitter: str, model_name: str, description: str, track: str,
               file_name: str | None = None, kind: str = KIND_SUBMISSION, identity: str | None = None
               ) -> SubmissionOutcome:
        """Validate, score and store one file. Raises SubmissionError (bad file) or SubmissionRefused."""
        if self.revealed and kind == KIND_SUBMISSION:
            raise SubmissionRefused("submissions are closed: the private half has been revealed (a new round needs "
                                    "a new gold version from the organisers)")
        if not submitter:
            raise SubmissionRefused("log in first")
        identity = identity or identity_key(submitter)
        if not identity:
            raise SubmissionRefused("the user name has no visible characters")
        model_name = clean_text(model_name, self.settings.max_name_chars, "model name", required=True)
        description = clean_text(description, self.settings.max_description_chars, "description", required=False)
        gold = self.gold(track)
        checked = self._check(Path(path), track, file_name)
        step = self.settings.ladder_step
        earlier = self.store.find(identity, track, checked.predictions_sha256)
        if earlier is not None:
            return SubmissionOutcome(earlier, False, self.store.best_released(identity, track, gold.version), step)
        now = utc_now()
        if kind == KIND_SUBMISSION and self.store.count_on_day(identity, now.strftime("%Y-%m-%d")) >= \
                self.settings.daily_limit:
            raise SubmissionRefused(f"daily limit reached: {self.settings.daily_limit} accepted submissions per "
                                    "user per UTC day")
        scored = score_submission(checked.codes, gold, self.settings.min_class_rows)
        try:
            stored, created = self.store.add(
                submitter=submitter, identity=identity, kind=kind, model_name=model_name, description=description,
                track=track, sha256=checked.sha256, predictions_sha256=checked.predictions_sha256,
                file_name=Path(file_name or path).name[:255], raw=checked.raw, extension=checked.extension,
                tasks=list(checked.tasks), public_scores=scored.public.scores, private_scores=scored.private.scores,
                public_detail=scored.public.detail, private_detail=scored.private.detail,
                consistency=scored.consistency, daily_limit=self.settings.daily_limit, now=now,
                gold_version=gold.version, ranking_value=mean_macro_f1(scored.public.scores), ladder_step=step)
        except DailyLimitReached as err:
            raise SubmissionRefused(f"daily limit reached: {err}") from None
        if created and self._mirror is not None:
            self._mirror.record(stored)
        return SubmissionOutcome(stored, created, self.store.best_released(identity, track, gold.version), step)

    def seed_baselines(self) -> list[str]:
        """Submit every baseline of the seed file that fits the served gold (once: the same predictions are found
        again); returns one line per baseline (for the log)."""
        notes = []
        for entry in read_baselines(self.settings.seed_baselines):
            source = baseline_file(self.settings.seed_baselines, entry)
            if not source.exists():
                notes.append(f"baseline {entry.model!r} ({entry.track}): {entry.predictions} is missing")
                continue
            name = Path(entry.predictions).name[:-3]
            with tempfile.TemporaryDirectory(prefix="seed-", dir=self.settings.data_dir) as folder:
                path = Path(folder) / name
                path.write_bytes(gzip.decompress(source.read_bytes()))
                try:
                    outcome = self.submit(path, submitter=BASELINE_SUBMITTER, identity=baseline_identity(entry.model),
                                          kind=KIND_BASELINE, model_name=entry.model, description=entry.description,
                                          track=entry.track, file_name=name)
                except (SubmissionError, SubmissionRefused) as err:
                    first = getattr(err, "problems", [str(err)])[:1]
                    notes.append(f"baseline {entry.model!r} ({entry.track}) does not fit the served gold, not shown: "
                                 f"{first[0] if first else err}")
                    continue
            notes.append(f"baseline {entry.model!r} ({entry.track}): #{outcome.submission.id}"
                         f"{'' if outcome.created else ' (stored earlier)'}")
        return notes

    # --- reading ---------------------------------------------------------------------------------------------
    def shown_half(self, half: str = "public") -> str:
        return half if half == "public" or self.revealed else "public"  # private: after the reveal

    def board(self, track: str, *, half: str = "public", search: str = "", score_headers=None) -> pd.DataFrame:
        shown = self.shown_half(half)
        return build_board(track, self.store.list(track), half=shown, search=search, score_headers=score_headers,
                           gold_version=self.gold_version(track), tied=self._tied if shown == "private" else None)

    def score_decimals(self) -> dict[str, int]:
        from .board import PUBLIC_SCORE

        return {PUBLIC_SCORE: decimals_of(self.settings.ladder_step)}

    def paper(self) -> pd.DataFrame:
        return paper_table(paper_rows())

    def detail(self, submission_id) -> DetailView | None:
        """What may be shown of a submission: before the reveal its consistency and Ladder result only (no other
        number computed from hidden labels); at the reveal its private-half scores and detail too."""
        submission = self.store.get(parse_submission_id(submission_id))
        if submission is None:
            return None
        if self.revealed:
            return DetailView(submission, "private", submission.private_scores, submission.private_detail or {},
                              submission.consistency or {})
        return DetailView(submission, None, None, {}, submission.consistency or {})

    def _archived_codes(self, submission: Submission, gold: Gold) -> dict:
        key = (submission.id, gold.version)
        with self._cache_lock:
            if key in self._codes:
                self._codes.move_to_end(key)
                return self._codes[key]
        archived = self.store.archived_file(submission)
        codes = check_submission(archived, gold, max_bytes=1 << 40,
                                 file_name=f"submission #{submission.id}{archived.suffix}").codes
        with self._cache_lock:
            self._codes[key] = codes
            while len(self._codes) > CODES_CACHE:
                self._codes.popitem(last=False)
        return codes

    def _paired(self, a: Submission, b: Submission, resamples: int) -> dict:
        tasks = [t for t in TASK_NAMES if t in a.tasks and t in b.tasks]
        if not tasks:
            raise SubmissionRefused(f"#{a.id} and #{b.id} have no task in common")
        gold = self.gold(a.track)
        codes_a, codes_b = self._archived_codes(a, gold), self._archived_codes(b, gold)
        mask = ~gold.public  # only ever shown at the reveal: the private half
        derived = {"mean_macro_f1": mean_macro_f1} if len(tasks) == len(TASK_NAMES) else None
        return paired_test({t: gold.labels[t][mask] for t in tasks}, {t: codes_a[t][mask] for t in tasks},
                           {t: codes_b[t][mask] for t in tasks}, session_ids=gold.session_ids[mask],
                           resamples=resamples, seed=0, derived=derived)

    def _tied(self, above: Submission, below: Submission) -> bool:
        """Whether two adjacent rows of the revealed board differ insignificantly in Mean F1 (approximate
        randomization, p >= 0.05, on the private half); cached per gold version."""
        key = (above.gold_version, above.id, below.id)
        if key not in self._ties:
            if set(above.tasks) != set(TASK_NAMES) or set(below.tasks) != set(TASK_NAMES):
                return False
            try:
                result = self._paired(above, below, TIE_RESAMPLES)["mean_macro_f1"]
            except (SubmissionError, SubmissionRefused, OSError):
                return False
            self._ties[key] = result["p_randomization"] >= ALPHA
        return self._ties[key]

    def compare(self, first_id, second_id, resamples: int = COMPARE_RESAMPLES) -> tuple[Submission, Submission, dict]:
        """Paired test of B (second) - A (first) on the private half of their track's current gold, resampling
        sessions (`estbench.significance.paired_test`); only at the reveal."""
        a, b = (self.store.get(parse_submission_id(v)) for v in (first_id, second_id))
        for value, found in ((first_id, a), (second_id, b)):
            if found is None:
                raise SubmissionRefused(f"no submission #{parse_submission_id(value)}")
        if not self.revealed:
            raise SubmissionRefused("Compare opens at the reveal, on the private half: before it, two submissions "
                                    "that differ in a few rows would tell those rows' hidden labels")
        if a.track != b.track:
            raise SubmissionRefused(f"#{a.id} is on the {a.track} track and #{b.id} on the {b.track} track; "
                                    "compare two submissions of one track")
        return a, b, self._paired(a, b, resamples)

    def rescore_all(self, progress=None) -> RescoreReport:
        """Score every stored submission not yet scored on the current gold from its archived file; the earlier
        scores are kept in the history; the Ladder is replayed on the new gold."""
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
            scored = score_submission(codes, gold, self.settings.min_class_rows)
            self.store.rescore(submission.id, gold_version=gold.version, public_scores=scored.public.scores,
                               private_scores=scored.private.scores, public_detail=scored.public.detail,
                               private_detail=scored.private.detail, consistency=scored.consistency)
            rescored += 1
        if rescored:
            for track in TRACKS:
                self.store.replay_ladder(track, self.gold_version(track), mean_macro_f1, self.settings.ladder_step)
        self._ties.clear()
        versions = sorted({self.gold_version(t) for t in TRACKS})
        return RescoreReport(", ".join(versions), rescored, unchanged, failed)

    def is_admin(self, user: str) -> bool:
        return bool(user) and identity_key(user) in {identity_key(a) for a in self.settings.admins}

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
    """The Accepted message: what the Ladder released, nothing else computed from hidden labels."""
    s = outcome.submission
    places = decimals_of(outcome.step)
    head = (f"Accepted: submission #{s.id} ({s.model_name}, {s.track} track)." if outcome.created else
            f"These predictions were already submitted on {s.submitted_at} as #{s.id} ({s.model_name}); not stored "
            "again. Earlier result:")
    best = f"{outcome.best:.{places}f}" if outcome.best is not None else "none yet"
    if s.released is not None:
        public = (f"Public score (Mean F1 on the public half, on a {outcome.step:g} grid): {s.released:.{places}f}. "
                  "It is on the board.")
    else:
        public = (f"Public score: not released. Your best released score on this track is {best}; the Ladder "
                  f"releases a new one only when it beats that by at least {outcome.step:g}.")
    return (f"{head}\n{public}\nAll scores, on the private half, are shown when the organisers reveal it; until then "
            "no other number computed from the hidden labels is shown (README: threat model).")
