"""Leaderboard integrity: the crafted-probe attack reads no hidden label, an honest ranking, the paper's rows apart,
compare with a paired test, gold versions with re-scoring and history, safe export, limits and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from est_leaderboard import admin
from est_leaderboard.board import (
    MEAN_F1,
    PUBLIC_SCORE,
    TYPE_BASELINE,
    board_csv,
    board_json,
    build_board,
    neutralise,
)
from est_leaderboard.service import Leaderboard, SubmissionRefused
from est_leaderboard.settings import DEFAULT_HALF_SALT, Settings
from est_leaderboard.storage import KIND_BASELINE, Submission
from estbench.gold import is_public_session
from estbench.schema import TASK_NAMES, Task
from estbench.significance import paired_test
from estbench.submission import SubmissionError, check_submission
from estbench.testing.synthetic_gold import noisy_predictions, synthetic_gold

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def gold_frame():
    return synthetic_gold(n_sessions=160, turns_per_session=6, seed=5)


def settings_for(tmp_path: Path, gold_file: Path, **env) -> Settings:
    base = {"EST_LB_DATA_DIR": str(tmp_path / "data"), "EST_LB_GOLD": str(gold_file),
            "EST_LB_SEED_BASELINES": str(tmp_path / "seeds.json"), "EST_LB_DAILY_LIMIT": "50"}
    return Settings.from_env({**base, **{k: str(v) for k, v in env.items()}})


def crafted_probe(gold_frame: pd.DataFrame, rows: list[int]) -> tuple[pd.DataFrame, dict[int, dict[str, str]]]:
    """The attack of the issue: a distinct rare label on each chosen row, the most common label everywhere else."""
    frame = pd.DataFrame({"id": gold_frame["id"]})
    planted: dict[int, dict[str, str]] = {row: {} for row in rows}
    for task in Task:
        common = gold_frame[task.value].value_counts().index[0]
        rare = [label for label in task.labels if label != common]
        column = np.full(len(frame), common, dtype=object)
        for i, row in enumerate(rows):
            column[row] = rare[i % len(rare)]
            planted[row][task.value] = rare[i % len(rare)]
        frame[task.value] = column
    return frame, planted


def decode(detail: dict, planted: dict[int, dict[str, str]]) -> dict[tuple[int, str], bool | None]:
    """What the detail view tells about each planted (row, task): True/False if a number gives it away."""
    verdicts = {}
    for row, labels in planted.items():
        for task, label in labels.items():
            entry = detail.get(f"{task}_per_class", {}).get(label, {})
            matrix = detail.get(f"{task}_confusion_matrix")
            if matrix is not None:  # the old leak: the planted label's predicted column counts right answers
                column = Task(task).labels.index(label)
                verdicts[(row, task)] = matrix[column][column] > 0
            elif "precision" in entry:
                verdicts[(row, task)] = entry["precision"] > 0
            else:
                verdicts[(row, task)] = None
    return verdicts


def test_crafted_probe_reads_no_hidden_label(gold_frame, tmp_path):
    gold_file = tmp_path / "gold.parquet"
    gold_frame.to_parquet(gold_file)
    board = Leaderboard(settings_for(tmp_path, gold_file, EST_LB_HALF_SALT="organisers-secret"))
    # The attacker computes the public rows with the salt in the public source; the server's is a secret.
    attacker_public = [i for i, s in enumerate(gold_frame["session_id"]) if is_public_session(s, DEFAULT_HALF_SALT)]
    rows = attacker_public[:16]
    frame, planted = crafted_probe(gold_frame, rows)
    path = tmp_path / "probe.csv"
    frame.to_csv(path, index=False)
    stored = board.submit(path, submitter="mallory", model_name="probe", description="", track="full").submission
    detail = board.detail(stored.id).detail
    verdicts = decode(detail, planted)
    assert set(verdicts.values()) == {None}  # nothing to read: no matrix, no per-class number on < k rows
    assert not any("confusion" in key for key in detail)
    # recovered labels = the attacker's guess without information, so no better than chance
    truth = {(row, task): gold_frame[task].iloc[row] == label for row, labels in planted.items()
             for task, label in labels.items()}
    recovered = sum(truth[key] for key, verdict in verdicts.items() if verdict is True)
    assert recovered == 0
    # the same file against the old detail (confusion matrices) would have given every planted label away
    import estbench.scoring
    gold = board.gold("full")
    codes = check_submission(path, gold).codes
    old = estbench.scoring.score({t: gold.labels[t][gold.public] for t in TASK_NAMES},
                                 {t: codes[t][gold.public] for t in TASK_NAMES}, confusion=True)
    assert any(v is not None for v in decode(old, planted).values())


def test_the_cut_depends_on_the_salt_setting():
    sessions = [f"call-{i}" for i in range(2000)]
    default = [is_public_session(s, DEFAULT_HALF_SALT) for s in sessions]
    secret = [is_public_session(s, "organisers-secret") for s in sessions]
    agreement = np.mean(np.array(default) == np.array(secret))
    assert 0.4 < agreement < 0.6  # knowing the default cut tells nothing about the secret one


def test_all_a_does_not_rank():
    """A constant guess with the higher ALL_A sits below a system with the higher macro-F1."""
    constant = {"all_accuracy": 0.95, **{f"{t}_macro_f1": 0.1 for t in TASK_NAMES}}
    system = {"all_accuracy": 0.88, **{f"{t}_macro_f1": 0.6 for t in TASK_NAMES}}
    rows = [Submission(id=i, submitter="EST project", model_name=name, description="", track="full",
                       file_sha256="", submitted_at="2026-01-01T00:00:00+00:00", tasks=list(TASK_NAMES),
                       public_scores=scores, private_scores=scores, kind=KIND_BASELINE, released=0.5)
            for i, (name, scores) in enumerate((("constant", constant), ("system", system)), start=1)]
    table = build_board("full", rows, half="private")
    assert table["Model"].tolist() == ["system", "constant"] and set(table["Type"]) == {TYPE_BASELINE}
    assert MEAN_F1 in table.columns and PUBLIC_SCORE in table.columns


def test_export_neutralises_formulas_and_keeps_the_header(gold_frame, tmp_path):
    gold_file = tmp_path / "gold.parquet"
    gold_frame.to_parquet(gold_file)
    board = Leaderboard(settings_for(tmp_path, gold_file))
    names = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "-2+3", "@SUM(A1)", "\tx", "\rx", "plain"]
    for i, name in enumerate(names):
        path = tmp_path / f"p{i}.csv"
        noisy_predictions(gold_frame, 0.2 + 0.05 * i, seed=i).to_csv(path, index=False)
        board.submit(path, submitter=f"eve-{i}", model_name=name, description="=1+1", track="full")
    frame = board.board("full")
    shown = set(frame["Model"])
    assert "plain" in shown and not any(m.startswith(("=", "+", "-", "@", "\t", "\r")) for m in shown)
    text = board_csv(frame)
    header, *lines = text.splitlines()
    assert header.split(",")[:3] == ["Rank", "ID", "Model"]
    parsed = pd.read_csv(__import__("io").StringIO(text), keep_default_na=False)
    assert not any(str(v).startswith(("=", "+", "-", "@")) for c in ("Model", "Description") for v in parsed[c])
    assert ",1.0000," not in text and all(line.split(",")[1].isdigit() for line in lines)  # IDs as integers
    data = json.loads(board_json(frame, track="full", half="public", gold_version=board.gold_version("full")))
    assert data["ranking"] == PUBLIC_SCORE and data["gold_version"].startswith("simulated-v1+")
    assert {row["Model"] for row in data["rows"]} == shown and all(isinstance(r["ID"], int) for r in data["rows"])
    assert neutralise(0.5) == 0.5 and neutralise("'=x") == "'=x"
    # a column without any value is left out (the same submission without its description)
    import dataclasses
    plain = build_board("full", [dataclasses.replace(s, description="") for s in board.store.list("full")
                                 if s.model_name == "plain"])
    assert "Description" in frame.columns and "Description" not in plain.columns


def test_compare_gives_the_paired_test_on_the_private_half_at_the_reveal(gold_frame, tmp_path):
    from estbench.scoring import mean_macro_f1

    gold_file = tmp_path / "gold.parquet"
    gold_frame.to_parquet(gold_file)
    board = Leaderboard(settings_for(tmp_path, gold_file))
    ids = []
    for seed, rate in ((1, 0.6), (2, 0.2)):
        path = tmp_path / f"c{seed}.csv"
        noisy_predictions(gold_frame, rate, seed=seed).to_csv(path, index=False)
        ids.append(board.submit(path, submitter="a", model_name=f"m{seed}", description="", track="full")
                   .submission.id)
    with pytest.raises(SubmissionRefused, match="Compare opens at the reveal"):
        board.compare(str(ids[0]), ids[1])
    board = Leaderboard(settings_for(tmp_path, gold_file, EST_LB_REVEAL_PRIVATE=1))
    a, b, result = board.compare(str(ids[0]), ids[1], resamples=300)
    gold = board.gold("full")
    mask = ~gold.public
    codes = [check_submission(tmp_path / f"c{s}.csv", gold).codes for s in (1, 2)]
    expected = paired_test({t: gold.labels[t][mask] for t in TASK_NAMES}, {t: codes[0][t][mask] for t in TASK_NAMES},
                           {t: codes[1][t][mask] for t in TASK_NAMES}, session_ids=gold.session_ids[mask],
                           resamples=300, seed=0, derived={"mean_macro_f1": mean_macro_f1})
    assert result == expected and result["emotion_macro_f1"]["difference"] > 0
    assert result["mean_macro_f1"]["difference"] == pytest.approx(
        mean_macro_f1(b.private_scores) - mean_macro_f1(a.private_scores))
    assert result["emotion_macro_f1"]["p_randomization"] < 0.05
    for bad, message in (("abc", "not a whole number"), ("1e20", "no submission"), ("1.5", "not a whole number"),
                         ("0", "no submission"), ("", "enter a submission ID"), ("99", "no submission #99")):
        with pytest.raises(SubmissionRefused, match=message):
            board.compare(bad, ids[1])
        if bad == "99":
            assert board.detail(bad) is None  # a well-formed ID that is not there: the page says "No submission #99"
            continue
        with pytest.raises(SubmissionRefused, match=message):
            board.detail(bad)


def test_gold_versions_rescoring_and_history(gold_frame, tmp_path):
    gold_file = tmp_path / "gold-v1.parquet"
    gold_frame.to_parquet(gold_file)
    first = Leaderboard(settings_for(tmp_path, gold_file))
    version_one = first.gold_version("full")
    stored = []
    for seed in range(3):
        path = tmp_path / f"g{seed}.csv"
        noisy_predictions(gold_frame, 0.3, seed=seed).to_csv(path, index=False)
        stored.append(first.submit(path, submitter="a", model_name=f"m{seed}", description="", track="full")
                      .submission)
    assert {s.gold_version for s in stored} == {version_one}

    changed = gold_frame.copy()
    changed.loc[changed.index[:40], "emotion"] = "Gratitude"  # the release corrects some labels
    new_file = tmp_path / "gold-v2.parquet"
    changed.to_parquet(new_file)
    second = Leaderboard(settings_for(tmp_path, new_file, EST_LB_GOLD_VERSION="release-v2"))
    version_two = second.gold_version("full")
    assert version_two.startswith("release-v2+") and version_two.split("+")[1] != version_one.split("+")[1]
    assert second.board("full").empty  # nothing is ranked on a gold it was not scored on

    report = second.rescore_all()
    assert report.rescored == 3 and report.unchanged == 0 and report.failed == []
    assert second.rescore_all().unchanged == 3  # idempotent
    gold = second.gold("full")
    for earlier in stored:
        now = second.store.get(earlier.id)
        fresh = __import__("est_leaderboard.scoring", fromlist=["x"]).score_submission(
            check_submission(tmp_path / f"g{stored.index(earlier)}.csv", gold).codes, gold).public
        assert now.gold_version == version_two and now.public_scores == fresh.scores
        assert second.store.history(earlier.id) == [
            {"gold_version": version_one, "public_scores": earlier.public_scores,
             "private_scores": earlier.private_scores,
             "replaced_at": second.store.history(earlier.id)[0]["replaced_at"]}]
    assert second.board("full")["Gold version"].unique().tolist() == [version_two]


def test_rescore_command_reports_files_that_no_longer_fit(gold_frame, tmp_path, monkeypatch, capsys):
    gold_file = tmp_path / "gold.parquet"
    gold_frame.to_parquet(gold_file)
    board = Leaderboard(settings_for(tmp_path, gold_file))
    path = tmp_path / "p.csv"
    noisy_predictions(gold_frame, 0.3, seed=1).to_csv(path, index=False)
    board.submit(path, submitter="a", model_name="m", description="", track="full")
    smaller = tmp_path / "gold-small.parquet"
    gold_frame.iloc[:-6].to_parquet(smaller)  # one session fewer: the archived file has ids it does not know
    for key, value in {"EST_LB_DATA_DIR": tmp_path / "data", "EST_LB_GOLD": smaller,
                       "EST_LB_SEED_BASELINES": tmp_path / "seeds.json"}.items():
        monkeypatch.setenv(key, str(value))
    admin.main(["rescore"])
    said = capsys.readouterr().out
    assert "0 re-scored" in said and "1 not re-scorable" in said and "#1:" in said
    assert str(tmp_path) not in said  # no server path in what it prints


@pytest.mark.parametrize("encoding, name", [("utf-16", "UTF-16 (little-endian)"), ("utf-16-be", "UTF-16 (big-endian)"),
                                            ("utf-32", "UTF-32 (little-endian)")])
def test_wide_encodings_are_named(gold_frame, tmp_path, encoding, name):
    gold_file = tmp_path / "gold.parquet"
    gold_frame.to_parquet(gold_file)
    gold = Leaderboard(settings_for(tmp_path, gold_file)).gold("full")
    path = tmp_path / "wide.csv"
    path.write_bytes(noisy_predictions(gold_frame, 0.3).to_csv(index=False).encode(encoding))
    with pytest.raises(SubmissionError, match=f"the file is {name.replace('(', '.').replace(')', '.')} text; "
                                              "save it as UTF-8"):
        check_submission(path, gold)


def test_one_size_limit_in_mib(gold_frame, tmp_path):
    gold_file = tmp_path / "gold.parquet"
    gold_frame.to_parquet(gold_file)
    settings = settings_for(tmp_path, gold_file, EST_LB_MAX_MIB=1)
    path = tmp_path / "big.csv"
    path.write_bytes(b"id,emotion\n" + b"x,Anger\n" * 200_000)
    with pytest.raises(SubmissionError, match=r"1\.5 MiB, over the size limit of 1 MiB"):
        Leaderboard(settings).submit(path, submitter="a", model_name="m", description="", track="full")
    from est_leaderboard.ui import format_help
    assert "at most 1 MiB" in format_help(settings.max_bytes)
