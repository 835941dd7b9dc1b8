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
        # an emotional filler is not skipped: it carries a clear sentiment
        ([("喂？！", "Anger"), ("说话啊", "Anger")], [None, "Negative to Negative"]),
        # only fillers: no initial polarity, no transitions
        ([("你好", N), ("嗯", N)], [None, None]),
    ],
)
def test_derive_transitions(turns, expected):
    assert derive_transitions(turns) == expected
