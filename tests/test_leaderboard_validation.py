"""Leaderboard: gold loading, the public/private cut, and validation of uploaded prediction files (one test per
bad-file case)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from est_leaderboard.settings import DEFAULT_GOLD_NAME, DEFAULT_HALF_SALT
from estbench.gold import GoldError, is_public_session, load_gold
from estbench.schema import TASK_NAMES, Task
from estbench.submission import (
    COLUMNS,
    MAX_EXAMPLES,
    SubmissionError,
    check_submission,
    validate_submission,
)
from estbench.testing.synthetic_gold import noisy_predictions, synthetic_gold


@pytest.fixture(scope="module")
def gold_frame() -> pd.DataFrame:
    return synthetic_gold(n_sessions=40, turns_per_session=5, seed=1)


@pytest.fixture(scope="module")
def gold(gold_file):
    return load_gold(gold_file, "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)


def write_csv(path: Path, frame: pd.DataFrame) -> Path:
    frame.to_csv(path, index=False)
    return path


def predictions(gold_frame, **kwargs) -> pd.DataFrame:
    return noisy_predictions(gold_frame, 0.3, seed=2, **kwargs)


def rejection(path: Path, gold, **kwargs) -> str:
    with pytest.raises(SubmissionError) as info:
        validate_submission(path, gold, **kwargs)
    return str(info.value)


# --- gold ------------------------------------------------------------------------------------------------------

def test_gold_file_tracks(gold_file, gold_frame):
    full = load_gold(gold_file, "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    balanced = load_gold(gold_file, "balanced", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    assert len(full) == len(gold_frame)
    assert list(balanced.ids) == gold_frame.loc[gold_frame["balanced"], "id"].tolist()
    pd.testing.assert_frame_equal(full.frame()[["id", *TASK_NAMES]].reset_index(drop=True),
                                  gold_frame[["id", *TASK_NAMES]].reset_index(drop=True), check_dtype=False)
    with pytest.raises(ValueError, match="unknown track"):
        load_gold(gold_file, "private", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)


def test_the_salt_and_the_name_of_a_gold_are_required(gold_file):
    with pytest.raises(TypeError, match="salt"):
        load_gold(gold_file, "full")
    with pytest.raises(ValueError, match="half salt and gold name"):
        load_gold(gold_file, "full", salt="", name=DEFAULT_GOLD_NAME)
    with pytest.raises(TypeError):
        is_public_session("s1")


def test_gold_from_built_folder(gold_frame, tmp_path):
    """A built est/ folder: joint / joint-balanced test shards with ClassLabel ids."""
    for config, rows in (("joint", gold_frame), ("joint-balanced", gold_frame[gold_frame["balanced"]])):
        folder = tmp_path / "est" / config
        folder.mkdir(parents=True)
        shard = rows[["id", "session_id"]].copy()
        for task in Task:
            shard[task.value] = rows[task.value].map({n: i for i, n in enumerate(task.labels)}).astype("int64")
        shard.to_parquet(folder / "test-00000-of-00001.parquet")
    full = load_gold(tmp_path / "est", "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    balanced = load_gold(tmp_path / "est", "balanced", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    assert list(full.ids) == gold_frame["id"].tolist()
    assert len(balanced) == int(gold_frame["balanced"].sum())
    assert list(full.frame()["emotion"]) == gold_frame["emotion"].tolist()
    # a --blind-test build hides the labels (-1): the folder cannot serve as gold, and the error says why
    blind = pd.read_parquet(tmp_path / "est/joint/test-00000-of-00001.parquet").assign(emotion=-1)
    blind.to_parquet(tmp_path / "est/joint/test-00000-of-00001.parquet")
    with pytest.raises(GoldError, match="blind_test"):
        load_gold(tmp_path / "est", "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    with pytest.raises(GoldError, match="does not exist"):
        load_gold(tmp_path / "nothing", "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)


def test_public_private_cut_is_per_session_fixed_and_about_half(gold):
    sessions = pd.DataFrame({"s": gold.session_ids, "p": gold.public}).groupby("s")["p"].nunique()
    assert (sessions == 1).all()  # never split a session
    many = [is_public_session(f"session-{i}", DEFAULT_HALF_SALT) for i in range(4000)]
    assert 0.45 < np.mean(many) < 0.55
    assert [is_public_session(f"session-{i}", DEFAULT_HALF_SALT) for i in range(50)] == many[:50]  # deterministic


# --- valid files -----------------------------------------------------------------------------------------------

def test_valid_csv_and_jsonl_any_order(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame).sample(frac=1.0, random_state=3)  # shuffled rows
    csv_path = write_csv(tmp_path / "p.csv", preds)
    jsonl_path = tmp_path / "p.jsonl"
    preds.to_json(jsonl_path, orient="records", lines=True, force_ascii=False)
    for path in (csv_path, jsonl_path):
        out = validate_submission(path, gold)
        assert list(out.columns) == list(COLUMNS)
        assert list(out["id"]) == list(gold.ids)  # returned in gold order
        expected = preds.set_index("id").loc[list(gold.ids)]
        for task in TASK_NAMES:
            assert list(out[task]) == list(expected[task])


def test_omitted_task_column_and_aliases(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame, tasks=("emotion",))
    preds.loc[0, "emotion"] = "失望"  # documented alias of Disappointment
    checked = check_submission(write_csv(tmp_path / "p.csv", preds), gold)
    assert checked.tasks == ("emotion",)
    position = list(gold.ids).index(preds.loc[0, "id"])
    assert Task.EMOTION.labels[checked.codes["emotion"][position]] == "Disappointment"


def test_utf8_bom_accepted(gold, gold_frame, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + predictions(gold_frame).to_csv(index=False).encode())
    assert len(validate_submission(path, gold)) == len(gold)


# --- one test per bad-file case --------------------------------------------------------------------------------

def test_wrong_extension(gold, gold_frame, tmp_path):
    message = rejection(write_csv(tmp_path / "p.txt", predictions(gold_frame)), gold)
    assert "wrong file type '.txt'" in message


@pytest.mark.parametrize("kind", ["gzip", "parquet", "json-in-csv", "csv-in-jsonl"])
def test_wrong_content_type(gold, gold_frame, tmp_path, kind):
    preds = predictions(gold_frame)
    if kind == "gzip":
        path = tmp_path / "p.csv"
        path.write_bytes(gzip.compress(preds.to_csv(index=False).encode()))
        expected = "binary"
    elif kind == "parquet":
        path = tmp_path / "p.csv"
        preds.to_parquet(path)
        expected = "binary"
    elif kind == "json-in-csv":
        path = tmp_path / "p.csv"
        preds.to_json(path, orient="records", lines=True)
        expected = "holds JSON"
    else:
        path = write_csv(tmp_path / "p.jsonl", preds)
        expected = "does not hold JSON objects"
    assert expected in rejection(path, gold)


def test_not_utf8(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame)
    text = preds.to_csv(index=False)
    path = tmp_path / "p.csv"
    lines = text.splitlines(keepends=True)
    path.write_bytes("".join(lines[:3]).encode() + "愤怒,x\n".encode("gbk") + "".join(lines[3:]).encode())
    message = rejection(path, gold)
    assert "not UTF-8" in message and "line 4" in message


def test_empty_file(gold, tmp_path):
    (tmp_path / "p.csv").write_text("")
    (tmp_path / "blank.jsonl").write_text("\n \n")
    assert "file is empty" in rejection(tmp_path / "p.csv", gold)
    assert "file is empty" in rejection(tmp_path / "blank.jsonl", gold)


def test_header_only(gold, tmp_path):
    (tmp_path / "p.csv").write_text(",".join(COLUMNS) + "\n")
    assert "no prediction rows" in rejection(tmp_path / "p.csv", gold)


def test_over_size_limit(gold, gold_frame, tmp_path):
    path = write_csv(tmp_path / "p.csv", predictions(gold_frame))
    message = rejection(path, gold, max_bytes=path.stat().st_size - 1)
    assert "over the size limit" in message
    assert len(validate_submission(path, gold, max_bytes=path.stat().st_size)) == len(gold)


def test_missing_id_column_and_no_task_column(gold, gold_frame, tmp_path):
    message = rejection(write_csv(tmp_path / "a.csv", predictions(gold_frame).drop(columns="id")), gold)
    assert "missing column 'id'" in message
    message = rejection(write_csv(tmp_path / "b.csv", predictions(gold_frame)[["id"]]), gold)
    assert "no prediction column" in message


def test_extra_and_renamed_columns(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame).rename(columns={"transition": "Transition", "satisfaction": "sat_label"})
    preds["confidence"] = 0.5
    message = rejection(write_csv(tmp_path / "p.csv", preds), gold)
    assert "'Transition' looks like a renamed 'transition'" in message
    assert "'sat_label' looks like a renamed 'satisfaction'" in message
    assert "unexpected column 'confidence'" in message
    assert message.splitlines()[0] == "p.csv: 3 problems found, nothing was stored:"  # all of them, one message


def test_duplicate_header(gold, gold_frame, tmp_path):
    text = predictions(gold_frame).to_csv(index=False).replace("satisfaction", "emotion", 1)
    (tmp_path / "p.csv").write_text(text)
    assert "duplicate column name(s) ['emotion']" in rejection(tmp_path / "p.csv", gold)


def test_missing_ids(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame)
    dropped = preds["id"].iloc[[4, 9]].tolist()
    message = rejection(write_csv(tmp_path / "p.csv", preds.drop(index=[4, 9])), gold)
    assert f"2 of the {len(gold)} ids of the full test set are missing" in message
    assert all(repr(i) in message for i in dropped)


def test_unknown_ids(gold_file, gold_frame, tmp_path):
    balanced = load_gold(gold_file, "balanced", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    # a full-track file sent to the balanced track: the extra ids are unknown there
    message = rejection(write_csv(tmp_path / "p.csv", predictions(gold_frame)), balanced)
    n_extra = int((~gold_frame["balanced"]).sum())
    assert f"{n_extra} id(s) are not in the balanced test set" in message
    assert f"first {MAX_EXAMPLES} of {n_extra} shown" in message


def test_duplicate_ids(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame)
    preds = pd.concat([preds, preds.iloc[[3]]], ignore_index=True)
    message = rejection(write_csv(tmp_path / "p.csv", preds), gold)
    assert f"1 id(s) appear more than once: {preds['id'].iloc[3]!r} (lines 5, {len(preds) + 1})" in message


def test_empty_ids_and_labels(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame)
    preds.loc[2, "id"] = ""
    preds.loc[5, "satisfaction"] = ""
    message = rejection(write_csv(tmp_path / "p.csv", preds), gold)
    assert "1 row(s) have an empty or missing id: line 4" in message
    assert f"satisfaction: 1 row(s) have an empty or missing label: {preds.loc[5, 'id']!r} (line 7)" in message


def test_unknown_labels_named_with_ids_and_lines(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame)
    preds.loc[1, "emotion"] = "Happy"
    preds.loc[6, "transition"] = "Positive to Happy"
    preds.loc[7, "transition"] = str(TASK_NAMES.index("transition"))  # an id instead of a name
    message = rejection(write_csv(tmp_path / "p.csv", preds), gold)
    assert "emotion: 1 row(s) have unknown labels" in message
    assert f"'Happy' at {preds.loc[1, 'id']!r} (line 3)" in message
    assert "transition: 2 row(s) have unknown labels (2 distinct" in message


def test_listing_is_capped_with_counts(gold, gold_frame, tmp_path):
    preds = predictions(gold_frame)
    preds["emotion"] = [f"bogus-{i}" for i in range(len(preds))]
    message = rejection(write_csv(tmp_path / "p.csv", preds), gold)
    assert f"emotion: {len(preds)} row(s) have unknown labels ({len(preds)} distinct" in message
    assert message.count("bogus-") == MAX_EXAMPLES


def test_malformed_rows_and_lines(gold, gold_frame, tmp_path):
    lines = predictions(gold_frame).to_csv(index=False).splitlines()
    lines[3] += ",extra-field"
    (tmp_path / "p.csv").write_text("\n".join(lines) + "\n")
    assert "line 4 (expected 4 fields, saw 5)" in rejection(tmp_path / "p.csv", gold)

    records = predictions(gold_frame).to_json(orient="records", lines=True, force_ascii=False).splitlines()
    records[2] = records[2][:-5]  # truncated JSON
    records[6] = json.dumps(["a", "list"])
    del_key = json.loads(records[8])
    del del_key["emotion"]
    records[8] = json.dumps(del_key)
    (tmp_path / "p.jsonl").write_text("\n".join(records) + "\n")
    message = rejection(tmp_path / "p.jsonl", gold)
    assert "2 line(s) are not JSON objects: line 3: invalid JSON" in message
    assert "line 7: a JSON list, expected an object" in message
    assert f"emotion: 1 row(s) have an empty or missing label: {del_key['id']!r} (line 9)" in message


# --- the real builder output ----------------------------------------------------------------------------------

def test_gold_of_real_builds_agree(small_est, small_est_blind, tmp_path):
    """The built est/ test split and the --blind-test gold file give the same gold on both tracks; a prediction file
    copied from it is accepted; the blind folder itself is refused as gold."""
    gold_file = small_est_blind.parent / "est-gold" / "test.parquet"
    for track in ("full", "balanced"):
        served = dict(salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
        from_folder = load_gold(small_est, track, **served).frame().sort_values("id", ignore_index=True)
        from_file = load_gold(gold_file, track, **served).frame().sort_values("id", ignore_index=True)
        assert len(from_folder) > 0
        pd.testing.assert_frame_equal(from_folder, from_file)
    full = load_gold(gold_file, "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    path = write_csv(tmp_path / "perfect.csv", full.frame()[list(COLUMNS)])
    assert len(validate_submission(path, full)) == len(full)
    with pytest.raises(GoldError, match="blind_test"):
        load_gold(small_est_blind, "full", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)


def test_jsonl_missing_key_and_non_string_values(gold, gold_frame, tmp_path):
    """Well-formed JSON Lines go through the fast reader; a missing key or a number instead of a label name is
    still reported with its id and line."""
    records = [json.loads(line) for line in predictions(gold_frame).to_json(orient="records", lines=True,
                                                                            force_ascii=False).splitlines()]
    del records[4]["transition"]
    path = tmp_path / "missing.jsonl"
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    message = rejection(path, gold)
    assert f"transition: 1 row(s) have an empty or missing label: {records[4]['id']!r} (line 5)" in message
    records[4]["transition"] = records[5]["transition"]
    records[7]["emotion"] = 3
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    assert f"'3' at {records[7]['id']!r} (line 8)" in rejection(path, gold)
