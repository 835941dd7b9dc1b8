"""Builder rules on hand-written raw v1 sessions: derivation, aliases, satisfaction, skipping, context, splits."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pytest

import estbench.dataset.tables
import estbench.layout
import estbench.paper
import estbench.raw
import estbench.raw.fast_path
import estbench.raw.line_path
import estbench.raw.reader
import estbench.schema
from estbench.schema import EMOTIONS, POLARITIES, Task
from estbench.testing.standin import write_jsonl

WORRY, ANGER, INSULT, DISAPPOINTMENT, ANXIETY, GRATITUDE, NO_EMOTION = EMOTIONS
POSITIVE, NEUTRAL, NEGATIVE = POLARITIES


def transition(initial: str, current: str) -> str:
    name = f"{initial} to {current}"
    assert name in estbench.schema.TRANSITIONS
    return name


def user(text, emotion, **labels):
    return {"role": "user", "text": text, "emotion": emotion, **labels}


def agent(text="好的，请稍等"):
    return {"role": "agent", "text": text}


def session(session_id, *turns, **extra):
    return {"session_id": session_id, "turns": list(turns), **extra}


def read(tmp_path, sessions, **kwargs) -> estbench.raw.Corpus:
    write_jsonl(tmp_path / "raw" / "part-0.jsonl", sessions)
    return estbench.raw.read_raw(tmp_path / "raw", **kwargs)


def user_labels(corpus: estbench.raw.Corpus, session_id: str, task: str) -> list[str | None]:
    """The labels (names, None for -1) of one session's user turns, in order."""
    index = corpus.sessions["session_id"].to_pylist().index(session_id)
    turns = corpus.turns.to_pydict()
    names = Task(task).labels
    return [
        names[label] if label >= 0 else None
        for s, is_user, label in zip(turns["session"], turns["is_user"], turns[task])
        if s == index and is_user
    ]


# --- the paper's transition rule, table-driven --------------------------------------------------------------------
DERIVATION_CASES = {
    "greeting_skip": (
        [agent("您好"), user("你好", NO_EMOTION), user("喂，在吗？", NO_EMOTION), user("我的宽带又断了", ANGER),
         agent(), user("那什么时候能修好", NO_EMOTION), user("好的谢谢", GRATITUDE)],
        [None, None, None, transition(NEGATIVE, NEUTRAL), transition(NEGATIVE, POSITIVE)],
    ),
    "all_neutral": (
        [user("我想查一下话费", NO_EMOTION), agent(), user("号码是[num]", NO_EMOTION), user("嗯", NO_EMOTION)],
        [None, transition(NEUTRAL, NEUTRAL), transition(NEUTRAL, NEUTRAL)],
    ),
    "negative_start": (
        [user("你们怎么又乱扣费！", ANGER), agent(), user("我很担心下个月还扣", WORRY), user("行吧", NO_EMOTION)],
        [None, transition(NEGATIVE, NEGATIVE), transition(NEGATIVE, NEUTRAL)],
    ),
    "positive_start": (
        [user("上次的问题解决了，特别感谢你们", GRATITUDE), agent(), user("这次想再办个副卡", NO_EMOTION),
         user("怎么还没好，太失望了", DISAPPOINTMENT)],
        [None, transition(POSITIVE, NEUTRAL), transition(POSITIVE, NEGATIVE)],
    ),
    "one_user_turn": ([agent("您好"), user("我要投诉", ANGER), agent("好的")], [None]),
    # the paper's rule as written: a filler is skipped whatever its emotion (--emotional-fillers-count: see below)
    "emotional_filler_is_skipped": (
        [user("喂？！", ANXIETY), user("我要查话费", NO_EMOTION), user("怎么这么贵", ANGER)],
        [None, None, transition(NEUTRAL, NEGATIVE)],
    ),
    # the table (user turns only)
    "greetings_then_content": ([user("你好", NO_EMOTION), user("喂？在吗", NO_EMOTION),
                                user("我家宽带又断了", ANGER), user("快点修", ANXIETY)],
                               [None, None, None, transition(NEGATIVE, NEGATIVE)]),
    "thanks_is_polite_not_an_anchor": ([user("谢谢你", GRATITUDE), user("我想问下话费", NO_EMOTION),
                                        user("怎么这么贵", ANGER)], [None, None, transition(NEUTRAL, NEGATIVE)]),
    "angry_summons_then_content": ([user("喂？！", ANGER), user("你们到底怎么回事", ANGER), user("好吧", NO_EMOTION)],
                                   [None, None, transition(NEGATIVE, NEUTRAL)]),
    "only_fillers": ([user("小姐姐你好", NO_EMOTION), user("嗯嗯好的", NO_EMOTION), user("好的谢谢", GRATITUDE)],
                     [None, None, None]),
    "flag_overrides_the_detector": ([user("w17 w3", NO_EMOTION, substantive=False), user("w9", ANGER),
                                     user("你好", NO_EMOTION, substantive=True)],
                                    [None, None, transition(NEGATIVE, NEUTRAL)]),
}


@pytest.mark.parametrize("case", sorted(DERIVATION_CASES))
def test_transition_derivation(tmp_path, case):
    turns, expected = DERIVATION_CASES[case]
    corpus = read(tmp_path, [session(case, *turns)])
    assert user_labels(corpus, case, "transition") == expected
    # satisfaction is derived from the emotion on every user turn
    emotions = user_labels(corpus, case, "emotion")
    assert user_labels(corpus, case, "satisfaction") == [estbench.schema.satisfaction_of(e) for e in emotions]


def test_given_transition_is_kept_and_missing_ones_derived(tmp_path):
    # the annotation disagrees with the mechanical rule on purpose: annotated transitions are kept as given
    given = transition(POSITIVE, NEGATIVE)
    corpus = read(
        tmp_path,
        [session("s", user("我想办宽带", NO_EMOTION), user("太慢了", ANGER, transition=given),
                 user("好吧", NO_EMOTION))],
    )
    assert user_labels(corpus, "s", "transition") == [None, given, transition(NEUTRAL, NEUTRAL)]
    assert (corpus.report.transitions_given, corpus.report.transitions_derived) == (1, 1)


def test_aliases_are_accepted(tmp_path):
    emotion_alias, emotion = next(iter(estbench.schema.EMOTION_ALIASES.items()))
    chinese_alias = next(a for a, e in estbench.schema.EMOTION_ALIASES.items() if e == ANGER and not a.isascii())
    sat_alias, sat = next((a, s) for a, s in estbench.schema.SATISFACTION_ALIASES.items()
                          if s == estbench.schema.satisfaction_of(ANGER))
    pol_alias = {v: k for k, v in estbench.schema.POLARITY_ALIASES.items()}
    arrow = f"{pol_alias[NEUTRAL]}->{pol_alias[NEGATIVE]}"
    corpus = read(
        tmp_path,
        [session("s", user("我查话费", emotion_alias),
                 user("怎么又扣钱了", chinese_alias, satisfaction=sat_alias, transition=arrow))],
    )
    assert user_labels(corpus, "s", "emotion") == [emotion, ANGER]
    assert user_labels(corpus, "s", "satisfaction")[1] == sat
    assert user_labels(corpus, "s", "transition")[1] == transition(NEUTRAL, NEGATIVE)


def test_satisfaction_disagreement_fails_unless_kept(tmp_path):
    wrong = estbench.schema.satisfaction_of(GRATITUDE)  # disagrees with Anger
    sessions = [session("s", user("我要投诉", ANGER, satisfaction=wrong), user("查话费", NO_EMOTION))]
    with pytest.raises(estbench.raw.RawFormatError, match=r"part-0\.jsonl:1: turn 0: satisfaction .* disagrees") as err:
        read(tmp_path, sessions)
    assert "--keep_given_satisfaction" in str(err.value)
    corpus = estbench.raw.read_raw(tmp_path / "raw", keep_given_satisfaction=True)
    assert user_labels(corpus, "s", "satisfaction") == [wrong, estbench.schema.satisfaction_of(NO_EMOTION)]
    assert corpus.report.satisfaction_disagreements_kept == 1
    assert corpus.report.satisfaction_given == 1 and corpus.report.satisfaction_derived == 1


def test_session_without_user_turn_is_skipped_and_counted(tmp_path):
    corpus = read(tmp_path, [session("agent-only", agent(), agent()), session("ok", user("查话费", NO_EMOTION))])
    assert corpus.sessions["session_id"].to_pylist() == ["ok"]
    assert corpus.report.sessions_skipped_no_user_turn == 1
    assert corpus.report.skipped_session_ids == ["agent-only"]
    assert corpus.report.sessions_read == 2


def test_category_optional_and_extra_keys_ignored(tmp_path):
    category = estbench.schema.CATEGORY_NAMES[2]
    corpus = read(
        tmp_path,
        [
            session("a", user("查话费", NO_EMOTION, speaker_id=3), category=category, channel="phone"),
            session("b", user("查话费", NO_EMOTION)),
        ],
    )
    assert corpus.sessions["category"].to_pylist() == [category, ""]


# --- context ------------------------------------------------------------------------------------------------------
def test_context_is_the_previous_k_turns(tmp_path):
    turns = [agent("您好"), user("你好", NO_EMOTION), agent("请讲"), user("网络\n断了", ANGER), user("快点修", ANXIETY)]
    corpus = read(tmp_path, [session("s", *turns), session("t", user("第二个会话", NO_EMOTION))])
    prefix = estbench.layout.CONTEXT_PREFIX
    lines = [prefix[t["role"]] + t["text"].replace("\n", " ") for t in turns]
    for k in (0, 1, 2, 10):
        table = estbench.dataset.tables.EstTables(corpus, context_turns=k).utterances.to_pydict()
        context = dict(zip(table["id"], table["context"]))
        for position in (1, 3, 4):
            assert context[f"s/{position}"] == "\n".join(lines[max(0, position - k) : position])
        assert context["t/0"] == ""  # never crosses into another session
    with pytest.raises(ValueError):
        estbench.dataset.tables.EstTables(corpus, context_turns=-1)


def test_ids_and_turn_index_count_agent_turns(tmp_path):
    corpus = read(tmp_path, [session("s", agent(), agent(), user("查话费", NO_EMOTION), agent(),
                                     user("好", NO_EMOTION))])
    table = estbench.dataset.tables.EstTables(corpus).utterances.to_pydict()
    assert table["id"] == ["s/2", "s/4"] and table["turn"] == [2, 4]


# --- splits -------------------------------------------------------------------------------------------------------
def test_split_of_is_deterministic_with_8_1_1_ratio():
    ids = [f"session-{i}" for i in range(20_000)]
    splits = [estbench.layout.split_of(s) for s in ids]
    assert splits == [estbench.layout.split_of(s) for s in ids]
    counts = Counter(splits)
    assert set(counts) == set(estbench.layout.SPLITS)
    for split, share in zip(estbench.layout.SPLITS, (0.8, 0.1, 0.1)):
        assert abs(counts[split] / len(ids) - share) < 0.015, counts


def test_adding_sessions_never_moves_others(tmp_path):
    base = [session(f"s{i}", user("查话费", NO_EMOTION)) for i in range(60)]
    more = base + [session(f"new{i}", user("办宽带", NO_EMOTION)) for i in range(60)]
    split_small = estbench.dataset.tables.EstTables(read(tmp_path / "a", base)).session_split
    split_large = estbench.dataset.tables.EstTables(read(tmp_path / "b", more)).session_split
    assert np.array_equal(split_small, split_large[: len(base)])


# --- balanced subset ----------------------------------------------------------------------------------------------
def test_balanced_pool_and_column_come_from_table3():
    # P = the paper's utterances with all three labels = the sum of Table 3's transition Annotation column
    assert estbench.paper.ELIGIBLE == 1_589 + 162 + 54 + 1_189_094 + 45_552 + 43_106 + 201_209 + 7_326 + 12_735
    assert estbench.paper.ELIGIBLE == 1_500_827
    # the "Used in experiment" column sums to the paper's 51,222 in each task
    for task in Task:
        assert sum(used for _, used in estbench.paper.TABLE3[task.value].values()) == 51_222


def test_balanced_targets_reproduce_the_column_at_paper_scale():
    # N = P and every emotion available in abundance: target = the paper's Used column exactly
    available = {WORRY: 30_000, ANGER: 3_000, INSULT: 300, DISAPPOINTMENT: 10_100, ANXIETY: 1_900, GRATITUDE: 11_600}
    available[NO_EMOTION] = 1_500_827 - sum(available.values())  # 1,443,927
    targets = estbench.dataset.tables.balanced_targets(available)
    assert targets == {e: used for e, (_, used) in estbench.paper.TABLE3["emotion"].items()}
    assert sum(targets.values()) == 51_222


def test_balanced_targets_scale_the_column_and_cap_by_availability():
    # N = 750,000 eligible utterances: scale N / P = 750,000 / 1,500,827 = 0.499724...
    available = {WORRY: 20_000, ANGER: 1_000, INSULT: 100, DISAPPOINTMENT: 6_000, ANXIETY: 2_000, GRATITUDE: 5_000,
                 NO_EMOTION: 715_900}
    assert sum(available.values()) == 750_000
    assert estbench.dataset.tables.balanced_targets(available) == {
        WORRY: 6_844,  # 13,696 x 0.499724 = 6,844.23
        ANGER: 1_000,  # 2,911 x 0.499724 = 1,454.70 > 1,000 available: capped
        INSULT: 100,  # 275 x 0.499724 = 137.42 > 100 available: capped
        DISAPPOINTMENT: 5_006,  # 10,017 x 0.499724 = 5,005.74
        ANXIETY: 934,  # 1,870 x 0.499724 = 934.48
        GRATITUDE: 5_000,  # 11,561 x 0.499724 = 5,777.32 > 5,000 available: capped
        NO_EMOTION: 5_443,  # 10,892 x 0.499724 = 5,442.999 (exact integer rounding, no float drift)
    }
    # an emotion the corpus lacks gets nothing; the others keep their share of the eligible pool
    none = {e: 0 for e in EMOTIONS} | {NO_EMOTION: 1_500_827}
    assert estbench.dataset.tables.balanced_targets(none) == {e: 0 for e in EMOTIONS} | {NO_EMOTION: 10_892}
    with pytest.raises(ValueError, match="every emotion"):
        estbench.dataset.tables.balanced_targets({WORRY: 10, NO_EMOTION: 100})


def test_balanced_counts_keep_one_rate_per_emotion_in_every_split():
    # the corpus of the previous test split 80/10/10 per emotion (train 600,000, validation and test 75,000 each)
    candidates = {
        "train": {WORRY: 16_000, ANGER: 800, INSULT: 80, DISAPPOINTMENT: 4_800, ANXIETY: 1_600, GRATITUDE: 4_000,
                  NO_EMOTION: 572_720},
        "validation": {WORRY: 2_000, ANGER: 100, INSULT: 10, DISAPPOINTMENT: 600, ANXIETY: 200, GRATITUDE: 500,
                       NO_EMOTION: 71_590},
    }
    candidates["test"] = dict(candidates["validation"])
    counts = estbench.dataset.tables.balanced_counts(candidates)
    assert counts == {
        # Worry r = 6,844 / 20,000: 5,475.2 / 684.4 / 684.4; capped emotions (r = 1) keep every candidate;
        # Disappointment r = 5,006 / 6,000: 4,004.8 / 500.6; Anxiety r = 934 / 2,000: 747.2 / 93.4;
        # No Emotion r = 5,443 / 715,900: 4,354.4 / 544.3
        "train": {WORRY: 5_475, ANGER: 800, INSULT: 80, DISAPPOINTMENT: 4_005, ANXIETY: 747, GRATITUDE: 4_000,
                  NO_EMOTION: 4_354},
        "validation": {WORRY: 684, ANGER: 100, INSULT: 10, DISAPPOINTMENT: 501, ANXIETY: 93, GRATITUDE: 500,
                       NO_EMOTION: 544},
        "test": {WORRY: 684, ANGER: 100, INSULT: 10, DISAPPOINTMENT: 501, ANXIETY: 93, GRATITUDE: 500,
                 NO_EMOTION: 544},
    }
    # the per-split roundings move each total by at most one from the target (here 6,843 / 5,007 / 933 / 5,442)
    available = {e: sum(split[e] for split in candidates.values()) for e in EMOTIONS}
    targets = estbench.dataset.tables.balanced_targets(available)
    assert all(abs(sum(split[e] for split in counts.values()) - targets[e]) <= 1 for e in EMOTIONS)
    # an emotion without candidates anywhere gets 0 in every split (no division by zero)
    empty = {name: {e: 0 for e in EMOTIONS} | {NO_EMOTION: n} for name, n in (("train", 8), ("test", 2))}
    nothing = {e: 0 for e in EMOTIONS}
    assert estbench.dataset.tables.balanced_counts(empty) == {"train": nothing, "test": nothing}


def test_balanced_subset_per_split_and_emotion(small_raw_dir):
    tables = estbench.dataset.tables.EstTables(estbench.raw.read_raw(small_raw_dir))
    split = tables.session_split[_session_of_utterances(tables)]
    expected = estbench.dataset.tables.balanced_counts(tables.balanced_candidates)
    assert tables.balanced_counts == expected
    for s, split_name in enumerate(estbench.layout.SPLITS):
        for e, emotion in enumerate(EMOTIONS):
            in_group = (split == s) & (tables.emotion == e)
            assert int((tables.balanced & in_group).sum()) == expected[split_name][emotion]
            assert int((in_group & tables.has_transition).sum()) == tables.balanced_candidates[split_name][emotion]
    assert not (tables.balanced & ~tables.has_transition).any()  # only utterances with all three labels
    # totals: the scaled column, capped by what the corpus has (a 300-session corpus hits the cap for some emotions)
    available = {e: int(((tables.emotion == i) & tables.has_transition).sum()) for i, e in enumerate(EMOTIONS)}
    targets = estbench.dataset.tables.balanced_targets(available)
    kept = {e: int((tables.balanced & (tables.emotion == i)).sum()) for i, e in enumerate(EMOTIONS)}
    assert all(abs(kept[e] - targets[e]) <= 1 and kept[e] <= available[e] for e in EMOTIONS), (kept, targets)
    assert any(targets[e] == available[e] > 0 for e in EMOTIONS), "expected the cap to bind on the small corpus"


def _session_of_utterances(tables: estbench.dataset.tables.EstTables) -> np.ndarray:
    ids = tables.corpus.sessions["session_id"].to_pylist()
    position = {s: i for i, s in enumerate(ids)}
    return np.array([position[s] for s in tables.utterances["session_id"].to_pylist()])


def test_raw_files_are_read_in_name_order_and_gz_is_supported(tmp_path):
    write_jsonl(tmp_path / "raw" / "b.jsonl.gz", [session("second", user("查话费", NO_EMOTION))])
    write_jsonl(tmp_path / "raw" / "a.jsonl", [session("first", user("查话费", NO_EMOTION))])
    (tmp_path / "raw" / "notes.txt").write_text("ignored")
    corpus = estbench.raw.read_raw(tmp_path / "raw")
    assert corpus.sessions["session_id"].to_pylist() == ["first", "second"]
    assert corpus.report.files == 2


def test_blank_lines_and_bom_are_tolerated(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    line = json.dumps(session("s", user("查话费", NO_EMOTION)), ensure_ascii=False)
    (raw / "x.jsonl").write_bytes(b"\xef\xbb\xbf" + line.encode() + b"\n\n   \n")
    assert estbench.raw.read_raw(raw).sessions.num_rows == 1


def test_derived_labels_match_est_labels_on_a_whole_corpus(small_raw_dir):
    """Every session of the small corpus: transitions == estbench.schema.derive_transitions, satisfaction from
    emotion."""
    corpus = estbench.raw.read_raw(small_raw_dir)
    turns = corpus.turns.to_pydict()
    by_session: dict[int, list[int]] = {}
    for row, (session_index, user_turn) in enumerate(zip(turns["session"], turns["is_user"])):
        if user_turn:
            by_session.setdefault(session_index, []).append(row)
    assert len(by_session) == corpus.sessions.num_rows
    derived = 0
    for rows in by_session.values():
        pairs = [(turns["text"][r], EMOTIONS[turns["emotion"][r]]) for r in rows]
        expected = estbench.schema.derive_transitions(pairs)
        got = [estbench.schema.TRANSITIONS[turns["transition"][r]] if turns["transition"][r] >= 0 else None
               for r in rows]
        assert got == expected
        derived += sum(t is not None for t in expected)
        assert [estbench.schema.SATISFACTION[turns["satisfaction"][r]] for r in rows] == [
            estbench.schema.satisfaction_of(e) for _, e in pairs
        ]
    assert corpus.report.transitions_derived == derived > 0


def _both_paths(path, keep=False, **options):
    data = estbench.raw.reader._read_bytes(path, [])
    options = estbench.raw.ReadOptions(keep_given_satisfaction=keep, **options)
    fast = estbench.raw.fast_path.parse_arrow(path, data, options)
    slow = estbench.raw.line_path.parse_lines(path, estbench.raw.reader._decode_lines(path, data, []), options, [])
    return fast, slow


def test_fast_and_line_by_line_paths_agree(small_raw_dir, tmp_path):
    """The pyarrow fast path and the line-by-line path give identical columns and report counts."""
    emotion_alias = next(iter(estbench.schema.EMOTION_ALIASES))
    wrong = estbench.schema.satisfaction_of(GRATITUDE)
    handwritten = write_jsonl(
        tmp_path / "hand.jsonl",
        [
            session(case, *turns, **({"category": estbench.schema.CATEGORY_NAMES[0]} if i % 2 else {}))
            for i, (case, (turns, _)) in enumerate(sorted(DERIVATION_CASES.items()))
        ]
        + [
            session("agent-only", agent(), agent()),
            session("given", user("我想办宽带", emotion_alias, extra=1),
                    user("太慢了", ANGER, transition=transition(POSITIVE, NEGATIVE), satisfaction=wrong)),
            session("after-skip", user("查话费", NO_EMOTION, transition="", satisfaction=None)),
            session("rated", user("谢谢", GRATITUDE, substantive=True), user("好", NO_EMOTION), satisfaction="满意",
                    source="taobao"),
        ],
    )
    files = [*sorted(small_raw_dir.glob("*.jsonl.gz")), handwritten]
    for path in files:
        for options in ({}, {"emotional_fillers_count": True}):
            fast, slow = _both_paths(path, keep=True, **options)
            assert fast is not None, f"{path.name}: the fast path refused a valid file"
            (fast_columns, fast_problems, fast_report), (slow_columns, slow_problems, slow_report) = fast, slow
            assert fast_problems == slow_problems == []
            assert fast_report == slow_report
            for name in ("sessions", "turns"):
                assert fast_columns[name].equals(slow_columns[name]), (path.name, name, options)
            assert fast_columns["ids"] == slow_columns["ids"]
    assert slow_report.unknown_keys == {"session key 'source'": 1, "turn key 'extra'": 1}
    assert slow_report.substantive_given == 3 and slow_report.dialogue_satisfaction_given == 1
    assert slow_report.sessions_skipped_no_user_turn == 1 and slow_report.satisfaction_disagreements_kept == 1
    # without --keep-given-satisfaction the fast path hands the file to the line-by-line path (which reports)
    assert _both_paths(handwritten, keep=False)[0] is None


@pytest.mark.parametrize(
    "content",
    [b'{"session_id": "a", "turns": [{"role": "user", "text": " ", "emotion": "Worry"}]}\n',
     b'{"session_id": "a", "turns": [{"role": "user", "text": "\\u3000", "emotion": "Worry"}]}\n',
     b'{"session_id": "a", "turns": [{"role": "user", "text": "x", "emotion": ""}]}\n',
     b'{"session_id": "a", "turns": [{"role": "bot", "text": "x"}]}\n',
     b'{"session_id": "a", "turns": [{"role": "user", "text": "x", "emotion": "Worry"}]}\n\n'],
    ids=["space_text", "ideographic_space_text", "empty_emotion", "unknown_role", "blank_line"],
)
def test_fast_path_hands_suspicious_files_to_the_line_by_line_path(tmp_path, content):
    path = tmp_path / "x.jsonl"
    path.write_bytes(content)
    assert estbench.raw.fast_path.parse_arrow(path, content, estbench.raw.ReadOptions()) is None


# --- data contract v2: the anchor, the opt-in emotional-filler rule, dialogue satisfaction, unknown keys -------------
def test_emotional_fillers_count_is_an_opt_in(tmp_path):
    turns = [user("谢谢你", GRATITUDE), user("我想问下话费", NO_EMOTION), user("怎么这么贵", ANGER)]
    paper = read(tmp_path / "a", [session("s", *turns)])
    opt_in = read(tmp_path / "b", [session("s", *turns)], emotional_fillers_count=True)
    assert user_labels(paper, "s", "transition") == [None, None, transition(NEUTRAL, NEGATIVE)]
    assert user_labels(opt_in, "s", "transition") == [None, transition(POSITIVE, NEUTRAL),
                                                      transition(POSITIVE, NEGATIVE)]
    assert paper.sessions["anchor_turn"].to_pylist() == [1] and opt_in.sessions["anchor_turn"].to_pylist() == [0]


def test_every_row_after_the_anchor_carries_it(tmp_path):
    corpus = read(tmp_path, [session("s", agent("您好"), user("你好", NO_EMOTION), agent(), user("宽带断了", ANGER),
                                     agent(), user("快点", ANXIETY)),
                             session("fillers", user("你好", NO_EMOTION), user("嗯", NO_EMOTION))])
    tables = estbench.dataset.tables.EstTables(corpus)
    rows = [row for split in estbench.layout.SPLITS for row in tables.table("emotion", split).to_pylist()]
    by_id = {row["id"]: (row["anchor"], row["anchor_turn"]) for row in rows}
    assert by_id == {"s/1": ("", -1), "s/3": ("宽带断了", 3), "s/5": ("宽带断了", 3),
                     "fillers/0": ("", -1), "fillers/1": ("", -1)}
    assert corpus.report.sessions_without_anchor == 1


def test_dialogue_satisfaction_is_read_with_aliases(tmp_path):
    corpus = read(tmp_path, [session("a", user("宽带又断了", ANGER), satisfaction="不满意"),
                             session("b", user("查话费", NO_EMOTION))])
    assert corpus.sessions["satisfaction"].to_pylist() == [Task.SATISFACTION.labels.index("Dissatisfied"), -1]
    with pytest.raises(estbench.raw.RawFormatError, match=r"part-0.jsonl:1: session unknown satisfaction label 'meh'"):
        read(tmp_path / "bad", [session("a", user("x", ANGER), satisfaction="meh")])


def test_unknown_keys_warn_and_strict_refuses_them(tmp_path):
    sessions = [session("a", user("宽带断了", ANGER, speaker="张三"), agent(), source="tv")]
    corpus = read(tmp_path, sessions)
    assert corpus.report.unknown_keys == {"session key 'source'": 1, "turn key 'speaker'": 1}
    with pytest.raises(estbench.raw.RawFormatError) as error:
        read(tmp_path / "strict", sessions, strict=True)
    assert "part-0.jsonl:1: unknown session key 'source'" in str(error.value)
    assert "part-0.jsonl:1: unknown turn key 'speaker'" in str(error.value)


def test_a_bad_substantive_flag_is_reported(tmp_path):
    with pytest.raises(estbench.raw.RawFormatError, match=r"turn 0: 'substantive' must be true or false, got 'yes'"):
        read(tmp_path, [session("a", user("x", ANGER, substantive="yes"))])


def test_a_duplicate_id_is_reported_on_a_line_with_other_errors(tmp_path):
    with pytest.raises(estbench.raw.RawFormatError) as error:
        read(tmp_path, [session("a", user("x", ANGER)), session("a", user("y", "Happy"))])
    message = str(error.value)
    assert "part-0.jsonl:2: turn 0: unknown emotion label 'Happy'" in message
    assert "part-0.jsonl:2: duplicate session_id 'a' (first at" in message


def test_balanced_cap_keeps_min_available_n_per_emotion(tmp_path):
    from estbench.testing.standin import write_standin_corpus

    write_standin_corpus(tmp_path / "raw", 3000, seed=3)
    corpus = estbench.raw.read_raw(tmp_path / "raw")
    tables = estbench.dataset.tables.EstTables(corpus, balanced_cap=200)
    available = {e: sum(tables.balanced_candidates[s][e] for s in estbench.layout.SPLITS) for e in EMOTIONS}
    kept = Counter(np.asarray(EMOTIONS)[tables.emotion[tables.balanced]])
    for e in EMOTIONS:
        assert abs(kept[e] - min(available[e], 200)) <= 1, e  # per-split rounding moves a total by at most one
    test = tables.table("emotion-balanced", "test")
    assert test.num_rows >= 7 * 15  # usable: every emotion present in test
    assert set(test["emotion"].to_pylist()) == set(range(len(EMOTIONS)))
