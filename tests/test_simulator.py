"""The default corpus: reproducible files, valid raw v1, calibrated statistics, composed only from the authored bank,
each split from its own share, with nothing left of the templates in what it renders."""

from __future__ import annotations

import gzip
import json
import random
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

import estbench.raw
from estbench import simulator
from estbench.layout import SPLITS, split_of
from estbench.schema import (
    CATEGORY_NAMES,
    EMOTIONS,
    NO_EMOTION,
    ROLES,
    Task,
    is_substantive,
    normalize_label,
)
from estbench.simulator import compose, episodes, labels
from estbench.simulator.stats import (
    CorpusStats,
    availability,
    calibration,
    read_sessions,
)

ROOT = Path(__file__).resolve().parents[1]
MID_SIZE = 5_000  # the "mid-size run" for calibration
SEED = 11
WORRY = normalize_label("emotion", "担心")


@pytest.fixture(scope="module")
def mid_corpus() -> list[dict]:
    return list(simulator.iter_sessions(MID_SIZE, SEED))


@pytest.fixture(scope="module")
def mid_stats(mid_corpus) -> CorpusStats:
    return CorpusStats.of(mid_corpus)


def _user_turns(sessions):
    return [t for s in sessions for t in s["turns"] if t["role"] == "user"]


# --- files: determinism, naming, arguments ---------------------------------------------------------------------
def test_same_n_and_seed_give_byte_identical_files_whatever_the_worker_count(tmp_path):
    a = simulator.write_corpus(tmp_path / "a", 300, 5, shards=3, progress=False, workers=2)
    b = simulator.write_corpus(tmp_path / "b", 300, 5, shards=3, progress=False, workers=1)
    assert [p.name for p in a] == [p.name for p in b] == [f"sim-0000{i}-of-00003.jsonl.gz" for i in range(3)]
    assert [p.read_bytes() for p in a] == [p.read_bytes() for p in b]
    c = simulator.write_corpus(tmp_path / "c", 300, 6, shards=3, progress=False)
    assert [p.read_bytes() for p in a] != [p.read_bytes() for p in c]


def test_gzip_header_has_no_timestamp_and_no_file_name(tmp_path):
    (path,) = simulator.write_corpus(tmp_path, 20, 1, shards=1, progress=False)
    header = path.read_bytes()[:10]
    assert header[:2] == b"\x1f\x8b"
    assert header[3] & 0x08 == 0, "FNAME flag set"
    assert header[4:8] == b"\0\0\0\0", "mtime is not 0"


def test_sharding_does_not_change_the_sessions(tmp_path):
    one = list(read_sessions(simulator.write_corpus(tmp_path / "one", 120, 2, shards=1, progress=False)))
    four = list(read_sessions(simulator.write_corpus(tmp_path / "four", 120, 2, shards=4, progress=False)))
    assert one == four
    assert [s["session_id"] for s in one] == sorted({s["session_id"] for s in one})


def test_rewriting_with_fewer_shards_removes_stale_shards_only(tmp_path):
    simulator.write_corpus(tmp_path, 60, 1, shards=3, progress=False)
    (tmp_path / "notes.txt").write_text("keep me")
    paths = simulator.write_corpus(tmp_path, 60, 1, shards=2, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([p.name for p in paths] + ["notes.txt",
                                                                                          "simulated.json"])
    assert simulator.read_marker(tmp_path) == {"generator": "estbench.simulator", "sessions": 60, "seed": 1,
                                               "shards": 2}


@pytest.mark.parametrize("kwargs, error", [
    (dict(n_sessions=0, seed=1), ValueError), (dict(n_sessions=10, seed=-1), ValueError),
    (dict(n_sessions=5, seed=1, shards=6), ValueError), (dict(n_sessions=5, seed=1, shards=0), ValueError),
    (dict(n_sessions=True, seed=1), TypeError), (dict(n_sessions=10, seed="1"), TypeError),
])
def test_bad_arguments_are_rejected_before_anything_is_written(tmp_path, kwargs, error):
    with pytest.raises(error):
        simulator.write_corpus(tmp_path / "out", progress=False, **kwargs)
    assert not (tmp_path / "out").exists()


def test_defaults_of_the_contract():
    assert simulator.DEFAULT_SESSIONS == 90_000  # the paper's scale (Table 2)
    assert isinstance(simulator.DEFAULT_SEED, int)


# --- schema ------------------------------------------------------------------------------------------------------
def test_every_line_is_raw_v1_with_canonical_user_emotions(tmp_path):
    paths = simulator.write_corpus(tmp_path, 400, 3, shards=2, progress=False)
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                where = f"{path.name}:{number}"
                session = json.loads(line)
                assert set(session) == {"session_id", "category", "turns"}, where
                assert isinstance(session["session_id"], str) and session["session_id"], where
                assert session["category"] in CATEGORY_NAMES, where
                assert any(t["role"] == "user" for t in session["turns"]), where
                for turn in session["turns"]:
                    assert turn["role"] in ROLES and isinstance(turn["text"], str) and turn["text"].strip(), where
                    if turn["role"] == "user":
                        # canonical already, and no transition/satisfaction: the builder derives those
                        assert set(turn) == {"role", "text", "emotion"}, where
                        assert normalize_label(Task.EMOTION, turn["emotion"]) == turn["emotion"], where
                    else:
                        assert set(turn) == {"role", "text"}, where


def test_the_builder_reads_the_corpus_without_problems(tmp_path):
    simulator.write_corpus(tmp_path, 200, 4, shards=2, progress=False)
    corpus = estbench.raw.read_raw(tmp_path)  # raises RawFormatError listing every problem
    report = corpus.report
    assert corpus.sessions.num_rows == report.sessions_read == 200 and report.sessions_skipped_no_user_turn == 0
    assert report.transitions_given == report.satisfaction_given == 0  # derived by the builder, as intended
    assert report.satisfaction_derived == corpus.turns.filter(corpus.turns["is_user"]).num_rows


def test_simulate_subcommand_writes_the_same_bytes_as_the_api(tmp_path):
    cli = subprocess.run([sys.executable, str(ROOT / "est_dataset.py"), "simulate", "--sessions", "50", "--seed", "3",
                          "--out", str(tmp_path / "cli"), "--no-progress"], capture_output=True, text=True, cwd=ROOT)
    assert cli.returncode == 0, cli.stderr
    api = simulator.write_corpus(tmp_path / "api", 50, 3, progress=False)
    assert [p.read_bytes() for p in sorted((tmp_path / "cli").glob("*.jsonl.gz"))] == [p.read_bytes() for p in api]


# --- calibration (mid-size run; the bench checks the paper-scale tolerances at N=90,000) ------------------------
def test_calibration_on_a_mid_size_run(mid_stats):
    # 5,000 sessions need wider bands than the 90k ones: x3, and at least 4 Poisson sigmas of the expected
    # count for the rare emotions (Insult: ~15 expected utterances; they also come in bursts within a session).
    rows = calibration(mid_stats, scale=3.0, noise_sigmas=4.0)
    failing = [f"{r.statistic}: {r.measured:.5f} vs paper {r.paper:.5f} ({r.tolerance})" for r in rows if not r.ok]
    assert not failing, failing
    assert {r.statistic for r in rows} >= {f"share {e}" for e in EMOTIONS} | {"turns per session"}


def test_only_worry_opens_sessions_and_other_emotions_are_all_eligible(mid_stats):
    """Only Worry may open a session (bank rule 4): the paper used nearly all its other emotional utterances, which
    therefore had transitions (Table 3: Used ~= Annotation; Insult 275 of 275)."""
    assert sum(mid_stats.initial.values()) == MID_SIZE
    assert set(mid_stats.initial) <= {NO_EMOTION, WORRY}, mid_stats.initial
    for emotion in EMOTIONS:
        if emotion not in (WORRY, NO_EMOTION):
            assert mid_stats.eligible[emotion] >= 0.98 * mid_stats.emotions[emotion], (emotion, mid_stats.initial)
    # Worry may open sessions: the paper used only 13,696 of its 30,486, so it has room to spare
    ((_, _, _, available, _, target),) = [row for row in availability(mid_stats) if row[0] == WORRY]
    assert available >= 1.5 * target, (available, target)


def test_every_category_and_every_emotion_occurs(mid_stats):
    assert set(mid_stats.categories) == set(CATEGORY_NAMES)
    assert all(mid_stats.emotions[e] > 0 for e in EMOTIONS), mid_stats.emotions


# --- the bank -----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bank() -> list[episodes.Episode]:
    return episodes.load_bank()  # raises BankError listing every problem of every file


def test_the_bank_meets_its_volume_and_every_emotion_is_in_60_episodes(bank):
    final = labels.final_labels()
    assert len(bank) >= 1200
    kinds = Counter(e.kind for e in bank)
    assert all(kinds[k] for k in episodes.KINDS), kinds
    for emotion in EMOTIONS:
        holding = sum(1 for e in bank if any(final.get(t.line_id, t.label) == emotion for t in e.user_turns))
        assert holding >= 60, (emotion, holding)
    assert all(len(t.wordings) >= 2 for e in bank for t in e.user_turns)


def test_every_annotation_pass_names_real_lines_and_pass_3_covers_every_disagreement(bank):
    lines = {t.line_id: t.label for e in bank for t in e.user_turns}
    second, third = labels.read_pass(2), labels.read_pass(3)
    assert set(second) <= set(lines) and set(third) <= set(lines)
    disagreements = {line for line, label in second.items() if label != lines[line]}
    assert set(third) == disagreements, "pass 3 annotates exactly the lines passes 1 and 2 disagree on"
    assert set(second) == set(lines), "pass 2 annotates every user line"


def _write(tmp_path, text: str) -> Path:
    path = tmp_path / "draft.txt"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_FOLLOWUP = """@episode fu-t-001
kind: followup
topic: 测试
ends: content
fits: content
U No Emotion: 对了[，|]我想问一下积分[怎么|如何]查 || 哦还有，积分在哪[能|可以]查到
A: 您的积分是{points}分。
U No Emotion: {points}分[是吧|对吧] || [哦，|]{points}[分|积分]啊
U No Emotion: [好，|行，]我[知道了|明白了] || [嗯，|]那[我|]回头[自己|]看看
"""


def test_the_checker_accepts_a_good_episode(tmp_path):
    found, problems = episodes.parse_file(_write(tmp_path, GOOD_FOLLOWUP))
    assert problems == [] and [e.id for e in found] == ["fu-t-001"]
    (episode,) = found
    assert [t.line_id for t in episode.user_turns] == ["fu-t-001#1", "fu-t-001#2", "fu-t-001#3"]


@pytest.mark.parametrize("change, problem", [
    (("U No Emotion: [好，|行，]我[知道了|明白了] || [嗯，|]那[我|]回头[自己|]看看", "U No Emotion: 好的我知道了"),
     "at least two wordings"),
    (("A: 您的积分是{points}分。\n", ""), "before an agent line said it"),
    (("{points}分[是吧|对吧]", "{pionts}分[是吧|对吧]"), "unknown slot"),
    (("[怎么|如何]查", "[怎么|如何查"), "unbalanced"),
    (("U No Emotion: 对了", "U Angry: 对了"), "not a turn"),
    (("kind: followup", "kind: sidequest"), "kind 'sidequest'"),
    (("fits: content", "fits: happy"), "fits"),
    (("[好，|行，]我[知道了|明白了]", "[好，|行，]我<知道了>"), "markup"),
    (("@episode fu-t-001", "@episode followup-1"), "is not like"),
])
def test_the_checker_names_each_problem(tmp_path, change, problem):
    old, new = change
    assert old in GOOD_FOLLOWUP
    _, problems = episodes.parse_file(_write(tmp_path, GOOD_FOLLOWUP.replace(old, new)))
    assert any(problem in p for p in problems), problems


def test_a_matter_cannot_open_with_anger_and_wordings_are_not_shared_between_episodes(tmp_path):
    matter = GOOD_FOLLOWUP.replace("kind: followup", "kind: matter\ncategory: business_consultation").replace(
        "fits: content\n", "").replace("fu-t-001", "bc-t-001").replace("U No Emotion: 对了", "U Anger: 对了")
    _, problems = episodes.parse_file(_write(tmp_path, matter))
    assert any("first substantive caller line is Anger" in p for p in problems), problems
    twice = GOOD_FOLLOWUP + GOOD_FOLLOWUP.replace("fu-t-001", "fu-t-002")
    found, _ = episodes.parse_file(_write(tmp_path, twice))
    assert any("is also in fu-t-001" in p for p in episodes.cross_checks(found))


def test_templates_render_every_choice_and_slot():
    template = episodes.compile_template("[我|俺][想|][查一下|看看]{fee}块[钱|]")
    assert template.variants() == 2 * 2 * 2 * 2 and template.slots() == {"fee"}
    rendered = {template.render(random.Random(i), {"fee": "五十八"}) for i in range(400)}
    assert len(rendered) == 16 and "我想查一下五十八块钱" in rendered and "俺看看五十八块" in rendered
    assert episodes.compile_template("[好的|[行|成]吧]").variants() == 3


def test_labels_of_pass_3_are_final(tmp_path):
    (tmp_path / "pass2-a.tsv").write_text("x-a-001#1\tAnger\nx-a-001#2\tNo Emotion\n", encoding="utf-8")
    (tmp_path / "pass3-a.tsv").write_text("# adjudication\nx-a-001#1\t失望\n", encoding="utf-8")
    assert labels.final_labels(tmp_path) == {"x-a-001#1": "Disappointment"}
    (tmp_path / "pass3-b.tsv").write_text("x-a-001#1\tAnger\n", encoding="utf-8")
    with pytest.raises(ValueError, match="annotated twice"):
        labels.final_labels(tmp_path)


# --- composition ------------------------------------------------------------------------------------------------
def test_each_split_draws_only_from_its_own_share_of_the_bank():
    plans = compose.plans()
    shares = {}
    for split, plan in plans.items():
        pools = [plan.openings, *plan.matters.values(), *plan.followups.values(), *plan.closings.values()]
        shares[split] = {t.episode.id for pool in pools for t in pool.items}
    for a in SPLITS:
        for b in SPLITS:
            if a < b:
                assert not shares[a] & shares[b], (a, b)
    for index in range(3000):
        rng = random.Random(index)
        sid = f"probe-{index}"
        _, told = compose.compose(rng, sid)
        assert {t.episode.id for t in told} <= shares[split_of(sid)]


def test_sessions_are_opening_matter_followups_closing_and_followups_fit(mid_corpus):
    for index in range(2000):
        category, told = compose.compose(random.Random(index), f"shape-{index}")
        kinds = [t.episode.kind for t in told]
        if category == compose.OUTBOUND_CATEGORY:
            assert kinds[0] == "call"
        else:
            assert kinds[:2] == ["opening", "matter"] and told[1].episode.category == category
        assert kinds[-1] == "closing" and set(kinds[2:-1]) <= {"followup"}
        closing = told[-1].episode
        assert told[-2].episode.ends in closing.fits
        assert ("outbound" if category == compose.OUTBOUND_CATEGORY else "inbound") in closing.directions
        for before, after in zip(told[1:-2], told[2:-1]):
            assert before.episode.ends in after.episode.fits and before.episode.topic != after.episode.topic


def test_a_caller_quotes_an_agent_fact_only_after_an_agent_said_it_and_values_never_change(monkeypatch):
    """Every slot renders as a marker of its name, so each value can be traced through whole composed sessions."""
    from estbench.simulator.episodes import AGENT_SLOTS, SLOTS

    monkeypatch.setattr(compose, "draw_situation", lambda rng: {name: f"«{name}»" for name in SLOTS})
    marker = re.compile(r"«(\w+)»")
    checked = 0
    for index in range(1500):
        rng = random.Random(index)
        _, told = compose.compose(rng, f"facts-{index}")
        turns = compose.render(rng, told)
        said_by_agent: set[str] = set()
        episode_of_turn = [t for t in told for _ in t.episode.turns]
        previous = None
        for turn, episode in zip(turns, episode_of_turn):
            if episode is not previous:  # agent facts are established within an episode
                said_by_agent, previous = set(), episode
            names = set(marker.findall(turn["text"]))
            assert names <= SLOTS
            if turn["role"] == "agent":
                said_by_agent |= names
            else:
                quoted = names & AGENT_SLOTS
                assert quoted <= said_by_agent, (episode.episode.id, turn["text"])
                checked += bool(quoted)
    assert checked > 100


# --- what a reader sees -------------------------------------------------------------------------------------------
LONG_DIGITS = re.compile(r"\d{5,}")


def test_numbers_appear_only_as_the_num_token(mid_corpus):
    texts = [t["text"] for s in mid_corpus for t in s["turns"]]
    assert not [t for t in texts if LONG_DIGITS.search(t.replace("[num]", " "))]
    assert sum("[num]" in t for t in texts) > MID_SIZE // 20


def test_rendered_residue_is_recognised():
    for bad in ("这都第次坏了", "已经报了次了", "<credit>你好", "{fee}块", "好[的|]", "价格|"):
        assert episodes.rendered_residue(bad), bad
    for good in ("这都第三次坏了", "号码是[num]", "报过几次", "打了两次了"):
        assert episodes.rendered_residue(good) is None, good


def test_the_whole_default_has_no_template_residue_and_no_missing_number(tmp_path):
    """Every utterance, user and agent, of all 90,000 default sessions."""
    paths = simulator.write_corpus(tmp_path, simulator.DEFAULT_SESSIONS, simulator.DEFAULT_SEED, progress=False)
    found = Counter()
    for session in read_sessions(paths):
        for turn in session["turns"]:
            residue = episodes.rendered_residue(turn["text"])
            if residue:
                found[residue] += 1
    assert not found, found.most_common(10)


def test_openings_are_greetings_and_user_utterances_run_together(mid_corpus):
    inbound = [s for s in mid_corpus if s["category"] != compose.OUTBOUND_CATEGORY]
    assert all(s["turns"][0]["role"] == "agent" or not is_substantive(s["turns"][0]["text"]) for s in inbound)
    runs = sum(1 for s in mid_corpus for a, b in zip(s["turns"], s["turns"][1:]) if a["role"] == b["role"] == "user")
    assert runs > MID_SIZE


def test_routine_thanks_is_not_gratitude(mid_corpus):
    thanks = Counter(t["emotion"] for t in _user_turns(mid_corpus) if "谢谢" in t["text"])
    assert thanks[NO_EMOTION] > 0 and thanks["Gratitude"] > 0, thanks


def test_texts_are_varied(mid_corpus):
    users = _user_turns(mid_corpus)
    assert len({t["text"] for t in users}) > 0.5 * len(users)
    for emotion in EMOTIONS:
        texts = [t["text"] for t in users if t["emotion"] == emotion]
        top_count = Counter(texts).most_common(1)[0][1]
        assert len(set(texts)) >= min(40, len(texts) // 2), (emotion, len(set(texts)))
        if emotion != NO_EMOTION:
            assert top_count / len(texts) < 0.1 or top_count <= 2, (emotion, Counter(texts).most_common(3))


def test_the_transcription_style_only_adds_fillers_repeats_and_rare_homophones():
    from estbench.simulator.speech import FILLERS, MISHEARD, Transcript

    line = "我想问一下，这个月的话费，怎么扣了五十八块"
    for seed in range(300):
        said = Transcript(random.Random(seed), fillers=0.5, repeats=0.5, run_on=0.5, misheard=0.5).say(line)
        plain = said
        for wrong, right in ((v, k) for k, v in MISHEARD.items()):
            plain = plain.replace(wrong, right)
        for filler in FILLERS:
            plain = plain.replace(filler, "")
        plain = plain.replace("，", "")
        assert plain in (line.replace("，", ""), "我" + line.replace("，", "")), said


def test_preview_prints_readable_sessions():
    run = subprocess.run([sys.executable, str(ROOT / "est_dataset.py"), "simulate", "--preview", "2", "--seed", "5"],
                         capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert run.stdout.count("=== session ") == 2 and "客服：" in run.stdout and "用户：" in run.stdout
    assert "[No Emotion" in run.stdout and " | " in run.stdout  # emotion | transition | satisfaction
