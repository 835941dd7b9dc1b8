"""The label schema: sizes, orders, mappings, aliases, and the initial-polarity rule."""

import doctest

import pytest

import estbench.schema
from estbench.schema import (
    EMOTIONS,
    SATISFACTION,
    TRANSITIONS,
    Task,
    derive_transitions,
    normalize_label,
)


def test_doctests():
    assert doctest.testmod(estbench.schema).failed == 0


def test_label_sets_follow_the_paper():
    assert EMOTIONS == ("Worry", "Anger", "Insult", "Disappointment", "Anxiety", "Gratitude", "No Emotion")
    assert len(TRANSITIONS) == 9 and len(set(TRANSITIONS)) == 9
    assert "Neutral to Negative" in TRANSITIONS
    assert set(SATISFACTION) == {"Satisfied", "Neutral", "Dissatisfied"}
    assert [t.value for t in Task] == ["emotion", "transition", "satisfaction"]


@pytest.mark.parametrize(
    "emotion, satisfaction",
    [("Gratitude", "Satisfied"), ("No Emotion", "Neutral")]
    + [(e, "Dissatisfied") for e in ("Worry", "Anger", "Insult", "Disappointment", "Anxiety")],
)
def test_satisfaction_mapping(emotion, satisfaction):
    assert estbench.schema.satisfaction_of(emotion) == satisfaction


@pytest.mark.parametrize(
    "task, raw, canonical",
    [
        ("emotion", "担心", "Worry"),
        ("emotion", "  anger ", "Anger"),
        ("emotion", "Disappointed", "Disappointment"),
        ("emotion", "无情绪", "No Emotion"),
        ("transition", "中性到负向", "Neutral to Negative"),
        ("transition", "Negative->Positive", "Negative to Positive"),
        ("satisfaction", "不满意", "Dissatisfied"),
    ],
)
def test_aliases(task, raw, canonical):
    assert normalize_label(task, raw) == canonical


@pytest.mark.parametrize("task, raw", [("emotion", "Joy"), ("emotion", None), ("transition", "Neutral"),
                                       ("transition", "Neutral to Happy"), ("satisfaction", 1)])
def test_unknown_labels_are_rejected_with_the_value(task, raw):
    with pytest.raises(ValueError, match=repr(raw).replace("(", r"\(")):
        normalize_label(task, raw)


N, G, W = "No Emotion", "Gratitude", "Worry"


@pytest.mark.parametrize(
    "turns, expected",
    [
        # greetings are skipped: the first substantive utterance sets the initial polarity
        ([("你好", N), ("喂，在吗", N), ("我想查一下话费", N), ("好吧", W)],
         [None, None, None, "Neutral to Negative"]),
        # all-neutral session
        ([("我要办宽带", N), ("多少钱", N), ("好的", N)], [None, "Neutral to Neutral", "Neutral to Neutral"]),
        # negative start
        ([("你们的网怎么又断了！", "Anger"), ("什么时候修好", "Anxiety"), ("谢谢你", G)],
         [None, "Negative to Negative", "Negative to Positive"]),
        # positive start
        ([("太感谢你们上次的帮忙了", G), ("我再问个事", N)], [None, "Positive to Neutral"]),
        # one user turn
        ([("我要投诉", "Anger")], [None]),
        # the paper's rule: a filler is skipped whatever its emotion
        ([("喂？！", "Anger"), ("说话啊", "Anger"), ("好吧", N)], [None, None, "Negative to Neutral"]),
        # only fillers: no initial polarity, no transitions
        ([("你好", N), ("嗯", N)], [None, None]),
    ],
)
def test_derive_transitions(turns, expected):
    assert derive_transitions(turns) == expected


@pytest.mark.parametrize("text, substantive", [
    ("你好", False), ("喂？在吗", False), ("我家宽带又断了", True), ("谢谢你", False), ("我想问下话费", True),
    ("怎么这么贵", True), ("喂？！", False), ("你们到底怎么回事", True), ("这个好", True), ("小姐姐你好", False),
    ("嗯嗯好的", False), ("好的谢谢", False), ("这位听众你好", False), ("嗯，那个", False), ("好麻烦", True),
    ("你好，我想查话费", True), ("[num]", True),
])
def test_is_substantive_judges_whole_segments(text, substantive):
    assert estbench.schema.is_substantive(text) is substantive


def test_the_emotional_filler_rule_is_opt_in():
    turns = [("谢谢你", G), ("我想问下话费", N), ("怎么这么贵", "Anger")]
    assert derive_transitions(turns) == [None, None, "Neutral to Negative"]
    assert derive_transitions(turns, emotional_fillers_count=True) == [None, "Positive to Neutral",
                                                                       "Positive to Negative"]
