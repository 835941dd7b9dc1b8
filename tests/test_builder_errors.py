"""Bad raw input: one report listing every problem as file:line: reason, and the output folder left untouched."""

from __future__ import annotations

import gzip
import json
import subprocess
import sys
from pathlib import Path

import pytest

import est_dataset
import estbench.errors
import estbench.raw
import estbench.schema
from estbench.testing.standin import write_jsonl

NO_EMOTION = estbench.schema.NO_EMOTION
GOOD = {"session_id": "good", "turns": [{"role": "user", "text": "查话费", "emotion": NO_EMOTION}]}
ROOT = Path(__file__).resolve().parents[1]


def line(obj) -> str:
    return json.dumps(obj, ensure_ascii=False)


def with_turn(session_id, **turn):
    return line({"session_id": session_id,
                 "turns": [{"role": "user", "text": "查话费", "emotion": NO_EMOTION, **turn}]})


# name -> (raw file lines of "bad.jsonl" (line 2 is the bad one), expected reason fragment)
BAD_LINES = {
    "malformed_json": ('{"session_id": "x", "turns": [', "malformed JSON"),
    "not_an_object": ('["a list"]', "expected one JSON object per line"),
    "missing_session_id": (line({"turns": GOOD["turns"]}), "missing field 'session_id'"),
    "empty_session_id": (line({"session_id": "  ", "turns": GOOD["turns"]}), "'session_id' must be a non-empty string"),
    "missing_turns": (line({"session_id": "x"}), "missing field 'turns'"),
    "empty_turns": (line({"session_id": "x", "turns": []}), "'turns' must be a non-empty list"),
    "missing_role": (line({"session_id": "x", "turns": [{"text": "你好"}]}), "turn 0: missing field 'role'"),
    "unknown_role": (with_turn("x", role="customer"), "turn 0: unknown role 'customer'"),
    "missing_text": (line({"session_id": "x", "turns": [{"role": "agent"}]}), "turn 0: missing field 'text'"),
    "empty_text": (with_turn("x", text=""), "turn 0: 'text' must be a non-empty string"),
    "missing_emotion": (line({"session_id": "x", "turns": [{"role": "user", "text": "你好"}]}),
                        "turn 0: missing field 'emotion'"),
    "unknown_emotion": (with_turn("x", emotion="Joy"), "turn 0: unknown emotion label 'Joy'"),
    "unknown_transition": (with_turn("x", transition="Happy to Sad"),
                           "turn 0: unknown transition label 'Happy to Sad'"),
    "unknown_satisfaction": (with_turn("x", satisfaction="Happy"), "turn 0: unknown satisfaction label 'Happy'"),
    "unknown_category": (line({**GOOD, "session_id": "x", "category": "sales"}), "unknown category 'sales'"),
    "duplicate_session_id": (line(GOOD), "duplicate session_id 'good' (first at"),
}


def snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def existing_build(tmp_path_factory):
    """A good earlier build in <tmp>/est that every failing build below must leave byte-identical."""
    root = tmp_path_factory.mktemp("existing")
    write_jsonl(root / "good_raw" / "a.jsonl", [GOOD])
    est_dataset.build(root / "good_raw", root / "est", progress=False)
    return root / "est"


def assert_untouched(existing_build: Path, before: dict[str, bytes]) -> None:
    assert snapshot(existing_build) == before
    leftovers = [p.name for p in existing_build.parent.iterdir() if p.name.startswith(".est.")]
    assert leftovers == [], "temporary build folders left behind"


@pytest.mark.parametrize("case", sorted(BAD_LINES))
def test_bad_line_is_reported_with_file_and_line(tmp_path, existing_build, case):
    bad_line, reason = BAD_LINES[case]
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bad.jsonl").write_text(line(GOOD) + "\n" + bad_line + "\n", encoding="utf-8")
    before = snapshot(existing_build)
    with pytest.raises(estbench.raw.RawFormatError) as err:
        est_dataset.build(raw, existing_build, progress=False)
    message = str(err.value)
    assert f"bad.jsonl:2: {reason}" in message, message
    assert err.value.total == 1
    assert_untouched(existing_build, before)


def test_non_utf8_line(tmp_path, existing_build):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bad.jsonl").write_bytes(line(GOOD).encode() + b"\n" + '{"session_id": "\xff"}'.encode("latin-1") + b"\n")
    before = snapshot(existing_build)
    with pytest.raises(estbench.raw.RawFormatError, match=r"bad\.jsonl:2: not valid UTF-8"):
        est_dataset.build(raw, existing_build, progress=False)
    assert_untouched(existing_build, before)


@pytest.mark.parametrize("content", [b"", b"\n  \n"], ids=["zero_bytes", "blank_lines"])
def test_empty_file(tmp_path, existing_build, content):
    raw = tmp_path / "raw"
    write_jsonl(raw / "a.jsonl", [GOOD])
    (raw / "empty.jsonl").write_bytes(content)
    before = snapshot(existing_build)
    with pytest.raises(estbench.raw.RawFormatError, match=r"empty\.jsonl: empty file"):
        est_dataset.build(raw, existing_build, progress=False)
    assert_untouched(existing_build, before)


def test_corrupt_gzip_and_missing_or_empty_dir(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "broken.jsonl.gz").write_bytes(gzip.compress(b'{"a": 1}\n')[:-6])
    with pytest.raises(estbench.raw.RawFormatError, match=r"broken\.jsonl\.gz: cannot read"):
        estbench.raw.read_raw(raw)
    with pytest.raises(estbench.raw.RawFormatError, match="not a directory"):
        estbench.raw.read_raw(tmp_path / "nowhere")
    (tmp_path / "empty_dir").mkdir()
    with pytest.raises(estbench.raw.RawFormatError, match=r"no \*\.jsonl or \*\.jsonl\.gz files"):
        estbench.raw.read_raw(tmp_path / "empty_dir")


def test_one_report_lists_every_problem_across_files(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    two_bad_turns = {"session_id": "x",
                     "turns": [{"role": "bot", "text": "您好"}, {"role": "user", "text": "嗯", "emotion": "Joy"}]}
    (raw / "a.jsonl").write_text(line(GOOD) + "\n{oops\n" + line(two_bad_turns) + "\n")
    (raw / "b.jsonl").write_text(line({"session_id": "y"}) + "\n" + line(GOOD) + "\n")
    with pytest.raises(estbench.raw.RawFormatError) as err:
        estbench.raw.read_raw(raw)
    message = str(err.value)
    for expected in (
        "a.jsonl:2: malformed JSON",
        "a.jsonl:3: turn 0: unknown role 'bot'",
        "a.jsonl:3: turn 1: unknown emotion label 'Joy'",  # a bad session reports all its problems
        "b.jsonl:1: missing field 'turns'",
        "b.jsonl:2: duplicate session_id 'good' (first at",
    ):
        assert expected in message, message
    assert err.value.total == 5 and message.startswith("invalid raw data: 5 problem(s)")


def test_report_is_capped_but_gives_the_total(tmp_path):
    n_bad = estbench.errors.MAX_LISTED_PROBLEMS + 17
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "a.jsonl").write_text("".join(with_turn(f"s{i}", emotion="Joy") + "\n" for i in range(n_bad)))
    with pytest.raises(estbench.raw.RawFormatError) as err:
        estbench.raw.read_raw(raw)
    message = str(err.value)
    assert err.value.total == n_bad
    assert message.count("unknown emotion label") == estbench.errors.MAX_LISTED_PROBLEMS
    assert "... and 17 more" in message


def test_refuses_to_replace_a_foreign_folder(tmp_path):
    write_jsonl(tmp_path / "raw" / "a.jsonl", [GOOD])
    foreign = tmp_path / "project"
    foreign.mkdir()
    (foreign / "important.py").write_text("keep me")
    with pytest.raises(FileExistsError, match="refusing to replace"):
        est_dataset.build(tmp_path / "raw", foreign, progress=False)
    assert (foreign / "important.py").read_text() == "keep me"


def test_cli_bad_input_exits_1_with_the_report(tmp_path, existing_build):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "bad.jsonl").write_text(with_turn("x", emotion="Joy") + "\n")
    before = snapshot(existing_build)
    result = subprocess.run(
        [sys.executable, str(ROOT / "est_dataset.py"), "build", "--data-dir", str(raw), "--out", str(existing_build),
         "--no-progress"],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 1
    assert "bad.jsonl:1: turn 0: unknown emotion label 'Joy'" in result.stderr
    assert "Traceback" not in result.stderr and "unchanged" in result.stderr
    assert_untouched(existing_build, before)
