"""Leaderboard: scoring on the two halves, storage (atomic, crash-safe), limits, duplicates, the board, seeds and
settings — everything below the web layer."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pandas as pd
import pytest

import estbench.scoring
from est_leaderboard.board import (
    ALL_A,
    COLUMNS,
    MEAN_F1,
    PUBLIC_SCORE,
    SCORE_HEADERS,
    TYPE_BASELINE,
    build_board,
)
from est_leaderboard.scoring import on_grid, score_submission
from est_leaderboard.seeds import KIND_PAPER, add_baseline, paper_rows, read_baselines
from est_leaderboard.service import Leaderboard, SubmissionRefused, describe_outcome
from est_leaderboard.settings import DEFAULT_GOLD_NAME, DEFAULT_HALF_SALT, Settings
from est_leaderboard.storage import DailyLimitReached, SubmissionStore
from estbench.consistency import consistency
from estbench.gold import load_gold
from estbench.schema import TASK_NAMES, Task
from estbench.scoring import mean_macro_f1
from estbench.submission import SubmissionError, check_submission
from estbench.testing.synthetic_gold import noisy_predictions, synthetic_gold

LEADERBOARD_DIR = Path(__file__).resolve().parents[1] / "leaderboard"


@pytest.fixture(scope="module")
def gold_frame() -> pd.DataFrame:
    return synthetic_gold(n_sessions=60, turns_per_session=5, seed=7)


def make_settings(tmp_path: Path, gold_file: Path, **env) -> Settings:
    base = {"EST_LB_DATA_DIR": str(tmp_path / "data"), "EST_LB_GOLD": str(gold_file),
            "EST_LB_SEED_BASELINES": str(tmp_path / "seed_baselines.json")}
    return Settings.from_env({**base, **{k: str(v) for k, v in env.items()}})


def write_predictions(path: Path, gold_frame: pd.DataFrame, error_rate: float, seed: int, **kwargs) -> Path:
    noisy_predictions(gold_frame, error_rate, seed=seed, **kwargs).to_csv(path, index=False)
    return path


# --- scoring ---------------------------------------------------------------------------------------------------

def test_scores_are_est_scoring_on_each_half(gold_file, gold_frame, tmp_path):
    gold = load_gold(gold_file, "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    path = write_predictions(tmp_path / "p.csv", gold_frame, 0.4, seed=1)
    scored = score_submission(check_submission(path, gold).codes, gold)
    public, private = scored.public, scored.private
    preds = pd.read_csv(path).set_index("id")
    for half, mask in ((public, gold.public), (private, ~gold.public)):
        ids = gold.ids[mask]
        ref = gold_frame.set_index("id").loc[ids]
        expected = estbench.scoring.score({t: ref[t].tolist() for t in TASK_NAMES},
                                     {t: preds.loc[ids, t].tolist() for t in TASK_NAMES})
        assert half.scores == pytest.approx(expected)
        assert set(half.detail) == {f"{t}_per_class" for t in TASK_NAMES} | {"slices"}
        assert not any("confusion" in key for key in half.detail)  # cells of hidden labels never leave the core
    assert public.scores != private.scores  # two different halves, two different results
    # consistency needs no label: over all rows, so it cannot tell which rows are public
    codes = {Task(t): preds.loc[list(gold.ids), t].map({n: i for i, n in enumerate(Task(t).labels)}).to_numpy()
             for t in TASK_NAMES}
    session = pd.factorize(pd.Series(gold.session_ids))[0]
    assert scored.consistency == pytest.approx(consistency(codes, session=session))


def test_unscored_task_is_absent(gold_file, gold_frame, tmp_path):
    gold = load_gold(gold_file, "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    path = write_predictions(tmp_path / "p.csv", gold_frame, 0.4, seed=1, tasks=("satisfaction",))
    scored = score_submission(check_submission(path, gold).codes, gold)
    assert set(scored.public.scores) == set(estbench.scoring.headline_keys(["satisfaction"]))
    assert scored.consistency == {}  # needs all three tasks


# --- storage ---------------------------------------------------------------------------------------------------

def store_one(store: SubmissionStore, sha: str, *, submitter="alice", track="full", limit=None, now=None,
              score=0.5):
    scores = {"all_accuracy": score, **{f"{t}_macro_f1": score for t in TASK_NAMES}}
    return store.add(submitter=submitter, model_name=f"m-{sha}", description="", track=track, sha256=sha * 8,
                     file_name="p.csv", raw=sha.encode(), extension=".csv", tasks=list(TASK_NAMES),
                     public_scores=scores, private_scores={**scores, "all_accuracy": score / 2}, public_detail={},
                     private_detail={}, daily_limit=limit, now=now, ranking_value=score, ladder_step=0.01)


def test_store_round_trip_duplicates_and_archive(tmp_path):
    store = SubmissionStore(tmp_path)
    first, created = store_one(store, "aaaaaaaa")
    assert created and first.id == 1 and first.private_scores["all_accuracy"] == 0.25 and first.released == 0.5
    again, created = store_one(store, "aaaaaaaa")
    assert not created and again.id == first.id  # identical file, same user and track: the earlier result
    other_track, created = store_one(store, "aaaaaaaa", track="balanced")
    assert created and other_track.id == 2
    assert store.archive_path("aaaaaaaa" * 8, ".csv").read_bytes() == b"aaaaaaaa"
    reopened = SubmissionStore(tmp_path)  # a restart loses nothing
    assert [s.id for s in reopened.list()] == [1, 2]
    assert reopened.get(2).track == "balanced"
    assert reopened.integrity_check() == "ok"
    journal = __import__("sqlite3").connect(tmp_path / "leaderboard.sqlite3").execute("PRAGMA journal_mode")
    assert journal.fetchone()[0] == "wal"


def test_daily_limit_counts_per_user_and_utc_day(tmp_path):
    store = SubmissionStore(tmp_path)
    day = datetime(2026, 1, 5, 23, 30, tzinfo=timezone.utc)
    store_one(store, "11111111", limit=2, now=day)
    store_one(store, "22222222", limit=2, now=day)
    with pytest.raises(DailyLimitReached):
        store_one(store, "33333333", limit=2, now=day)
    store_one(store, "33333333", submitter="bob", limit=2, now=day)  # another user
    store_one(store, "33333333", limit=2, now=day + timedelta(hours=1))  # next UTC day
    assert len(store.list()) == 4


def test_crash_between_insert_and_commit_leaves_db_consistent(tmp_path):
    """A process killed inside the write transaction: after reopening, only the committed rows exist."""
    script = textwrap.dedent(f"""
        import os
        from est_leaderboard import storage
        from test_leaderboard_core import store_one
        store = storage.SubmissionStore({str(tmp_path)!r})
        store_one(store, "aaaaaaaa"); store_one(store, "bbbbbbbb")
        # die right after the INSERT of the third row, before its COMMIT
        storage.Submission.from_row = classmethod(lambda cls, row: os._exit(9))
        store_one(store, "cccccccc")
    """)
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parent)}  # test_leaderboard_core is importable there
    result = subprocess.run([sys.executable, "-c", script], cwd=LEADERBOARD_DIR, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 9, result.stderr
    store = SubmissionStore(tmp_path)
    assert store.integrity_check() == "ok"
    assert [s.file_sha256[:8] for s in store.list()] == ["aaaaaaaa", "bbbbbbbb"]
    stored, created = store_one(store, "cccccccc")  # the interrupted one can be submitted again
    assert created and stored.id == 3


# --- service: the whole flow -----------------------------------------------------------------------------------

def test_submit_flow_limits_duplicates_ladder_and_text(gold_file, gold_frame, tmp_path):
    board = Leaderboard(make_settings(tmp_path, gold_file, EST_LB_DAILY_LIMIT=3, EST_LB_MAX_NAME_CHARS=12))
    good = write_predictions(tmp_path / "good.csv", gold_frame, 0.2, seed=1)
    worse = write_predictions(tmp_path / "worse.csv", gold_frame, 0.6, seed=2)
    third = write_predictions(tmp_path / "third.csv", gold_frame, 0.4, seed=3)
    first = board.submit(good, submitter="alice", model_name="  <b>Good</b>\n", description="x" * 10,
                         track="full")
    assert first.created and first.submission.model_name == "<b>Good</b>"  # stored as plain text, whitespace cleaned
    exact = mean_macro_f1(first.submission.public_scores)
    assert first.submission.released == on_grid(exact, 0.01)  # the Ladder's first release: rounded to its grid
    # the same predictions with CRLF line endings, quoted and in another row order are the same submission
    frame = pd.read_csv(good).sample(frac=1.0, random_state=4)
    same = tmp_path / "same.csv"
    same.write_bytes(frame.to_csv(index=False, quoting=1).replace("\n", "\r\n").encode())
    repeat = board.submit(same, submitter="Alice", model_name="again", description="", track="full")
    assert not repeat.created and repeat.submission.id == first.submission.id
    worse_outcome = board.submit(worse, submitter="ALICE", model_name="Worse", description="", track="full")
    assert worse_outcome.created and worse_outcome.submission.released is None  # not above the best + 0.01
    assert "not released" in describe_outcome(worse_outcome)
    board.submit(third, submitter="al1ce", model_name="Third", description="", track="full")  # one identity
    with pytest.raises(SubmissionRefused, match="daily limit"):
        board.submit(write_predictions(tmp_path / "4.csv", gold_frame, 0.3, seed=5), submitter="аlice",
                     model_name="Fourth", description="", track="full")  # Cyrillic a: still alice
    with pytest.raises(SubmissionRefused, match="limit is 12"):
        board.submit(third, submitter="bob", model_name="x" * 13, description="", track="full")
    with pytest.raises(SubmissionRefused, match="log in"):
        board.submit(third, submitter="", model_name="Third", description="", track="full")
    with pytest.raises(SubmissionError, match="choose the full track"):  # the ids fit the other track: said so
        board.submit(good, submitter="bob", model_name="Bal", description="", track="balanced")
    assert len(board.store.list()) == 3  # refused and rejected files stored nothing

    table = board.board("full")
    assert table["Model"].tolist() == ["<b>Good</b>"]  # only released scores are ranked
    assert table[PUBLIC_SCORE].tolist() == [first.submission.released] and ALL_A not in table.columns
    assert set(table.columns) <= set(COLUMNS) - set(SCORE_HEADERS)  # no other number from the hidden labels


def test_private_half_only_when_revealed(gold_file, gold_frame, tmp_path):
    path = write_predictions(tmp_path / "p.csv", gold_frame, 0.4, seed=1)
    hidden = Leaderboard(make_settings(tmp_path, gold_file))
    stored = hidden.submit(path, submitter="a", model_name="M", description="", track="full").submission
    public_all_a = round(stored.public_scores["all_accuracy"], 4)
    private_all_a = round(stored.private_scores["all_accuracy"], 4)
    assert public_all_a != private_all_a
    assert ALL_A not in hidden.board("full", half="private").columns  # asking for the private half gives nothing
    view = hidden.detail(stored.id)
    assert view.half is None and view.scores is None and view.detail == {}
    assert view.consistency == stored.consistency and set(view.consistency) == {
        "consistency_satisfaction_emotion", "consistency_transition_emotion", "consistency_session_initial"}
    with pytest.raises(SubmissionRefused, match="Compare opens at the reveal"):
        hidden.compare(stored.id, stored.id)
    revealed = Leaderboard(make_settings(tmp_path, gold_file, EST_LB_REVEAL_PRIVATE=1))
    assert revealed.board("full", half="private")[ALL_A].tolist() == [private_all_a]
    view = revealed.detail(stored.id)
    assert (view.half, view.scores, view.detail) == ("private", stored.private_scores, stored.private_detail)
    with pytest.raises(SubmissionRefused, match="submissions are closed"):  # no probe meets shown private numbers
        revealed.submit(write_predictions(tmp_path / "q.csv", gold_frame, 0.3, seed=2), submitter="b",
                        model_name="late", description="", track="full")


def test_template_has_ids_and_no_labels(gold_file, gold_frame, tmp_path):
    board = Leaderboard(make_settings(tmp_path, gold_file))
    template = pd.read_csv(board.template_csv("balanced", tmp_path), keep_default_na=False)
    assert list(template.columns) == ["id", *TASK_NAMES]
    assert template["id"].tolist() == gold_frame.loc[gold_frame["balanced"], "id"].tolist()
    assert (template[list(TASK_NAMES)] == "").all().all()


# --- board and seeds -------------------------------------------------------------------------------------------

def test_board_columns_from_schema_ranking_search_and_column_choice(tmp_path):
    assert [h for h in SCORE_HEADERS if h.startswith(Task.TRANSITION.title)] == [
        f"{Task.TRANSITION.title} {m}" for m in ("A", "P", "R", "F1")]
    store = SubmissionStore(tmp_path)
    for sha, score, who in (("11111111", 0.3, "a"), ("22222222", 0.9, "b"), ("33333333", 0.6, "c"),
                            ("44444444", 0.6, "d")):
        store_one(store, sha, score=score, submitter=who)
    table = build_board("full", store.list("full"), half="private", search="")
    assert table[MEAN_F1].tolist() == [0.9, 0.6, 0.6, 0.3]
    assert table["Rank"].tolist() == [1, 2, 2, 4]  # equal scores share a rank; the earlier row is listed first
    assert table["ID"].tolist() == [2, 3, 4, 1] and str(table["ID"].dtype) == "Int64"  # integer IDs, no "19.0"
    assert table[ALL_A].dtype.kind == "f" and table[MEAN_F1].dtype.kind == "f"  # numeric: they sort numerically
    assert build_board("full", store.list(), half="private", search="M-3333")["Model"].tolist() == ["m-33333333"]
    narrow = build_board("full", store.list(), half="private", score_headers=[ALL_A])
    assert [c for c in narrow.columns if c in SCORE_HEADERS] == [ALL_A]
    assert set(narrow.columns) <= set(COLUMNS)
    public = build_board("full", store.list(), half="public")
    assert public[PUBLIC_SCORE].tolist() == [0.9, 0.6, 0.6, 0.3] and public["Rank"].tolist() == [1, 2, 2, 4]
    # a significance callback ties a row to the one above
    tied = build_board("full", store.list(), half="private", tied=lambda above, below: above.id == 2)
    assert tied["Rank"].tolist() == [1, 1, 1, 4]
    empty = build_board("full", [], half="public")
    assert list(empty.columns) == [c for c in COLUMNS if c not in SCORE_HEADERS] and empty.empty  # real headers


def test_paper_rows_and_baselines_scored_by_the_service(gold_file, gold_frame, tmp_path):
    paper = paper_rows()
    assert len(paper) == 10 and {r.kind for r in paper} == {KIND_PAPER} and {r.track for r in paper} == {"balanced"}
    llama2 = next(r for r in paper if r.model == "LLaMa2-7B")
    assert llama2.public_scores["all_accuracy"] == 0.7208 and llama2.public_scores["satisfaction_macro_f1"] == 0.8183
    assert "all_accuracy" not in next(r for r in paper if r.model == "ASAP").public_scores

    settings = make_settings(tmp_path, gold_file)
    path = write_predictions(tmp_path / "base.csv", gold_frame[gold_frame["balanced"]], 0.3, seed=4)
    add_baseline(settings.seed_baselines, path, "majority", "balanced", description="a baseline")
    add_baseline(settings.seed_baselines, path, "majority", "balanced", description="re-run")  # replaces
    shipped = json.loads(settings.seed_baselines.read_text())
    assert len(shipped) == 1 and set(shipped[0]) == {"model", "track", "predictions", "description"}  # no score
    assert (settings.seed_baselines.parent / shipped[0]["predictions"]).stat().st_size < path.stat().st_size
    board = Leaderboard(settings)
    notes = board.seed_baselines()
    assert notes == ["baseline 'majority' (balanced): #1"]
    assert board.seed_baselines() == ["baseline 'majority' (balanced): #1 (stored earlier)"]  # once
    table = board.board("balanced")
    assert table["Type"].tolist() == [TYPE_BASELINE] and table["ID"].tolist() == [1]  # an ID: Compare works
    reported = board.paper()
    assert reported["Model"].tolist() == [r.model for r in paper] and "Rank" not in reported.columns
    assert reported.loc[reported["Model"] == "LLaMa2-7B", ALL_A].item() == 0.7208
    # a submission with the same scores ranks below the earlier baseline
    same = board.submit(path, submitter="carol", model_name="copy", description="", track="balanced")
    table = board.board("balanced")
    assert table["Model"].tolist() == ["majority", "copy"] and table["Rank"].tolist() == [1, 1]
    assert same.submission.public_scores == board.store.get(1).public_scores
    # a baseline whose file does not fit the served gold is left out, with a note
    add_baseline(settings.seed_baselines, write_predictions(tmp_path / "other.csv", gold_frame.iloc[:10], 0.3, seed=5),
                 "other corpus", "full")
    assert "does not fit the served gold" in Leaderboard(settings).seed_baselines()[-1]
    assert [e.model for e in read_baselines(settings.seed_baselines)] == ["majority", "other corpus"]


def test_settings_from_env(tmp_path):
    local = Settings.from_env({})
    assert local.data_dir == LEADERBOARD_DIR / "data" and not local.on_space and local.host == "127.0.0.1"
    assert local.daily_limit == 5 and local.max_bytes == 20 * 1024 * 1024 and not local.reveal_private
    assert local.ladder_step == 0.01 and local.upload_quota_bytes == 60 * 1024 * 1024
    space = Settings.from_env({"SPACE_ID": "u/est", "EST_LB_GOLD_REPO": "u/est-gold", "HF_TOKEN": "t",
                               "EST_LB_HALF_SALT": "secret",
                               "EST_LB_REVEAL_PRIVATE": "true", "EST_LB_DAILY_LIMIT": "3"})
    assert space.on_space and space.data_dir == Path("/data") and space.gold_source is None
    assert space.gold_repo == "u/est-gold" and space.reveal_private and space.daily_limit == 3
    with pytest.raises(ValueError, match="EST_LB_DAILY_LIMIT"):
        Settings.from_env({"EST_LB_DAILY_LIMIT": "many"})
    with pytest.raises(ValueError, match="EST_LB_LADDER_STEP"):
        Settings.from_env({"EST_LB_LADDER_STEP": "2"})
    with pytest.raises(ValueError, match="EST_LB_HALF_SALT is not set"):  # a Space must keep its cut secret
        Settings.from_env({"SPACE_ID": "u/est", "EST_LB_GOLD_REPO": "u/est-gold"})
    assert Settings.from_env({"EST_LB_MAX_MIB": "5"}).max_bytes == 5 * 1024 * 1024


def test_detail_figure_shows_per_class_f1_above_the_row_floor(gold_file, gold_frame, tmp_path):
    from est_leaderboard.plots import per_class_f1_figure

    board = Leaderboard(make_settings(tmp_path, gold_file, EST_LB_MIN_CLASS_ROWS=5))
    path = write_predictions(tmp_path / "p.csv", gold_frame, 0.3, seed=9, tasks=("emotion", "satisfaction"))
    stored = board.submit(path, submitter="a", model_name="M", description="", track="full").submission
    view = Leaderboard(make_settings(tmp_path, gold_file, EST_LB_MIN_CLASS_ROWS=5,
                                     EST_LB_REVEAL_PRIVATE=1)).detail(stored.id)
    bars = per_class_f1_figure(view.detail, view.submission.tasks, 5)
    assert len(bars.axes) == 2  # one panel per scored task; transition was left out
    widths = [patch.get_width() for patch in bars.axes[0].patches]
    report = view.detail["emotion_per_class"]
    assert widths == pytest.approx([report[label].get("f1", 0.0) for label in Task.EMOTION.labels])
    assert any("f1" in row for row in report.values())


def test_baselines_are_cut_and_versioned_as_the_board_serves(gold_file, gold_frame, tmp_path):
    """A baseline row's scores use the salt and gold the board serves (not the organiser's local defaults), carry
    the served version, and its private scores are nowhere but in the store."""
    settings = make_settings(tmp_path, gold_file, EST_LB_HALF_SALT="organisers-secret",
                             EST_LB_GOLD_VERSION="release-v9")
    path = write_predictions(tmp_path / "base.csv", gold_frame[gold_frame["balanced"]], 0.3, seed=4)
    add_baseline(settings.seed_baselines, path, "m", "balanced")
    board = Leaderboard(settings)
    board.seed_baselines()
    row = board.store.get(1)
    gold = load_gold(gold_file, "balanced", salt="organisers-secret", name="release-v9")
    scored = score_submission(check_submission(path, gold).codes, gold, settings.min_class_rows)
    assert row.public_scores == scored.public.scores and row.private_scores == scored.private.scores
    assert row.gold_version == gold.version and row.gold_version.startswith("release-v9+")
    local = load_gold(gold_file, "balanced", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    assert score_submission(check_submission(path, local).codes, local).public.scores != scored.public.scores
    shipped = settings.seed_baselines.read_text() + "".join(
        p.read_bytes().hex() for p in (settings.seed_baselines.parent / "baselines").iterdir())
    assert f"{row.private_scores['all_accuracy']:.6f}"[2:] not in shipped  # no private number is shipped
