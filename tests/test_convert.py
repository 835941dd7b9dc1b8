"""Converters of public corpora: CPED (an excerpt of the public CSV) and SSA (sessions written in its release format)
-> raw format v1 -> a build whose every config loads; the mapping report, --map, and every bad-input case reported
as file:line with nothing written."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from collections import Counter
from pathlib import Path

import datasets
import pytest

import est_dataset
from estbench.convert import cped, ssa
from estbench.layout import CONFIG_NAMES
from estbench.raw import RawFormatError, read_raw

ROOT = Path(__file__).resolve().parents[1]
CPED_EXCERPT = ROOT / "tests" / "fixtures" / "cped_excerpt.csv"
SSA_TEXT = (
    "1\n0\tc:\t18 19 5 175\t2\n1\tc:\t545 5 24\t1\n2\tb:\t85 1 20 1 9\t3\n3\tc:\t60 118 343\t1\n\n"
    "3\n0\tc:\t20 12 7\t3\n1\tb:\t7 2 191 21\t3\n2\tc:\t50 1 539\n3\tc:\t1459 25 57\t3\n\n"
    "2\n0\tb:\t23 1 221\t2\n1\tc:\t45 710 3167\t2\n2\tc:\t22588 18\t2\n\n"
)


def convert_cli(*args, cwd=None):
    return subprocess.run([sys.executable, str(ROOT / "est_dataset.py"), "convert", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def ssa_zip(path: Path, text: str = SSA_TEXT) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("clothes/", "")
        archive.writestr("clothes/text_test.txt", text)
        archive.writestr("__MACOSX/clothes/._text_test.txt", b"\x00\x05\x16\x07junk")
    return path


def test_cped_excerpt_converts_and_builds(tmp_path, monkeypatch):
    run = convert_cli("cped", CPED_EXCERPT, "--out", tmp_path / "raw")
    assert run.returncode == 0, run.stderr
    assert "cped: read 3 sessions" in run.stdout and "emotion: 'neutral' -> No Emotion:" in run.stdout
    corpus = read_raw(tmp_path / "raw")
    assert corpus.report.unknown_keys == {}  # speaker and dialogue act travel under `meta`, which is ignored
    conversion = cped.convert([CPED_EXCERPT])
    ids = [s["session_id"] for s in conversion.sessions]
    assert ids == ["cped-27_000", "cped-27_001", "cped-27_002"]
    # the user is the dialogue's most frequent speaker; everyone else is the agent side
    for session in conversion.sessions:
        speakers = Counter(t["meta"]["speaker"] for t in session["turns"])
        users = {t["meta"]["speaker"] for t in session["turns"] if t["role"] == "user"}
        assert users == {max(speakers, key=speakers.get)}
    est_dataset.build(tmp_path / "raw", tmp_path / "est", progress=False, balanced_cap=5)
    monkeypatch.chdir(tmp_path)
    for config in CONFIG_NAMES:
        datasets.load_dataset("est", config)
    card = (tmp_path / "est" / "README.md").read_text(encoding="utf-8")
    assert "simulat" not in card.lower()


def test_cped_user_rule_and_map_override(tmp_path):
    (tmp_path / "map.yaml").write_text("cped:\n  neutral: Worry\n", encoding="utf-8")
    conversion = cped.convert([CPED_EXCERPT], mapping=tmp_path / "map.yaml", user="first")
    assert ("emotion", "neutral", "Worry") in conversion.mapped
    assert not any(key[1] == "neutral" and key[2] == "No Emotion" for key in conversion.mapped)
    for session in conversion.sessions:
        assert session["turns"][0]["role"] == "user"
    (tmp_path / "bad.yaml").write_text("cped:\n  neutral: Happy\n", encoding="utf-8")
    with pytest.raises(RawFormatError, match="bad.yaml: cped: 'neutral': unknown emotion label 'Happy'"):
        cped.convert([CPED_EXCERPT], mapping=tmp_path / "bad.yaml")


def test_ssa_zip_converts_with_dialogue_satisfaction(tmp_path, monkeypatch):
    source = ssa_zip(tmp_path / "clothes.zip")
    run = convert_cli("ssa", source, "--out", tmp_path / "raw")
    assert run.returncode == 0, run.stderr
    assert "ssa: read 3 sessions (8 user utterances)" in run.stdout
    assert "dialogue satisfaction: '1' -> Dissatisfied: 1" in run.stdout
    assert "sentiment: '1' -> Disappointment: 2" in run.stdout
    assert "customer utterances without a sentiment (No Emotion): 1" in run.stdout
    corpus = read_raw(tmp_path / "raw")
    # every customer turn is marked substantive (word ids): the first customer utterance is the anchor
    assert corpus.report.substantive_given == 8
    assert corpus.sessions["anchor_turn"].to_pylist() == [0, 0, 1]
    est_dataset.build(tmp_path / "raw", tmp_path / "est", progress=False, balanced_cap=2)
    monkeypatch.chdir(tmp_path)
    sessions = datasets.load_dataset("est", "sessions")
    feature = sessions["train"].features["dialogue_satisfaction"]
    got = {r["session_id"]: feature.int2str(r["dialogue_satisfaction"]) for split in sessions.values() for r in split}
    assert got == {"ssa-clothes-test-00000": "Dissatisfied", "ssa-clothes-test-00001": "Satisfied",
                   "ssa-clothes-test-00002": "Neutral"}
    for config in CONFIG_NAMES:
        datasets.load_dataset("est", config)


def test_ssa_reads_the_extracted_text_and_the_map(tmp_path):
    (tmp_path / "makeup").mkdir()
    (tmp_path / "makeup" / "text_dev.txt").write_text(SSA_TEXT, encoding="utf-8")
    (tmp_path / "map.yaml").write_text("ssa:\n  '1': Anger\n", encoding="utf-8")
    conversion = ssa.convert([tmp_path / "makeup" / "text_dev.txt"], mapping=tmp_path / "map.yaml")
    assert conversion.sessions[0]["session_id"] == "ssa-makeup-dev-00000"
    assert ("sentiment", "1", "Anger") in conversion.mapped


@pytest.mark.parametrize("corpus, content, message", [
    ("cped", "TV_ID,Dialogue_ID,Speaker,Emotion,DA\n1,1_0,a,neutral,x\n",
     "src.csv:1: missing column(s) Utterance_ID, Utterance"),
    ("cped", "Dialogue_ID,Utterance_ID,Speaker,Emotion,DA,Utterance\n1,1_0,a,bored,x,hi\n1,1_1,a,neutral,x,ok\n"
             "2,2_0,b,bored,x,yo\n",
     "src.csv:2: unknown CPED emotion 'bored'"),
    ("cped", "Dialogue_ID,Utterance_ID,Speaker,Emotion,DA,Utterance\n1,1_0,a,neutral\n",
     "src.csv:2: truncated line"),
    ("cped", b"Dialogue_ID,Utterance_ID,Speaker,Emotion,DA,Utterance\n1,1_0,a,neutral,x,\xff\xfe\n",
     "src.csv:2: not valid UTF-8"),
    ("ssa", "1\n0\tc:\t1 2\t2\n\n2\n\n", "src.txt:4: a session block with no utterance"),
    ("ssa", "1\n0\tc:\t1 2\t9\n\n", "src.txt:2: unknown sentiment '9'"),
    ("ssa", "1\n0\tc:\n\n", "src.txt:2: truncated line"),
    ("ssa", "1\n0\tx:\t1 2\t2\n\n", "src.txt:2: unknown role 'x:'"),
    ("ssa", b"1\n0\tc:\t\xff\t2\n\n", "src.txt:2: not valid UTF-8"),
])
def test_bad_input_is_reported_where_and_nothing_is_written(tmp_path, corpus, content, message):
    source = tmp_path / ("src.csv" if corpus == "cped" else "src.txt")
    source.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    (tmp_path / "raw").mkdir()
    (tmp_path / "raw" / "kept.jsonl").write_text("{}\n")  # an earlier conversion stays as it was
    run = convert_cli(corpus, source, "--out", tmp_path / "raw")
    assert run.returncode == 1 and message in run.stderr, run.stderr
    assert "nothing was written" in run.stderr and str(tmp_path) not in run.stderr.split("\n", 1)[0][:0]
    assert [p.name for p in (tmp_path / "raw").iterdir()] == ["kept.jsonl"]


def test_every_bad_line_is_listed_in_one_report(tmp_path):
    source = tmp_path / "src.txt"
    source.write_text("1\n0\tc:\t1\t9\n1\tq:\t2\t2\n\n2\n0\tc:\n\n", encoding="utf-8")
    with pytest.raises(RawFormatError) as error:
        ssa.convert([source])
    assert [str(p) for p in error.value.problems] == [
        "src.txt:2: unknown sentiment '9' (add it with --map FILE)",
        "src.txt:3: unknown role 'q:' (expected c: or b:)",
        "src.txt:6: truncated line: 2 field(s), expected index, role, text[, sentiment]",
    ]
