"""The scoring core `estbench.scoring.score`: sklearn agreement, hand-computed cases, input forms, bad input,
bootstrap."""

import doctest

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.metrics import (
    accuracy_score,
    confusion_matrix,
    precision_recall_fscore_support,
)

import estbench.scoring
from estbench.schema import TASK_NAMES, Task
from estbench.scoring import encode, headline_keys, score

EMOTION = Task.EMOTION.labels
SATISFACTION = Task.SATISFACTION.labels
TRANSITION = Task.TRANSITION.labels


def test_doctests():
    assert doctest.testmod(estbench.scoring).failed == 0


def _random_labels(rng, labels, n, exclude=()):
    allowed = [label for label in labels if label not in exclude]
    return list(np.array(allowed, dtype=object)[rng.integers(0, len(allowed), n)])


def _sklearn_scores(refs, preds):
    present = sorted(set(refs))
    p, r, f, _ = precision_recall_fscore_support(refs, preds, average="macro", labels=present, zero_division=0)
    return {"accuracy": accuracy_score(refs, preds), "macro_precision": p, "macro_recall": r, "macro_f1": f}


@pytest.mark.parametrize("task", list(Task))
@pytest.mark.parametrize("seed", range(5))
def test_agrees_with_sklearn_on_random_data(task, seed):
    rng = np.random.default_rng(seed)
    labels = task.labels
    n = int(rng.integers(20, 3000))
    never_predicted, never_in_references = labels[seed % len(labels)], labels[(seed + 1) % len(labels)]
    refs = _random_labels(rng, labels, n, exclude=[never_in_references])
    preds = _random_labels(rng, labels, n, exclude=[never_predicted])
    assert never_predicted in refs and never_in_references in preds  # the two edge classes really occur
    out = score({task.value: refs}, {task.value: preds}, per_class=True, confusion=True)
    for name, expected in _sklearn_scores(refs, preds).items():
        assert out[f"{task.value}_{name}"] == pytest.approx(expected, abs=1e-12, rel=0)

    p, r, f, s = precision_recall_fscore_support(refs, preds, average=None, labels=list(labels), zero_division=0)
    report = out[f"{task.value}_per_class"]
    assert list(report) == list(labels)
    for i, label in enumerate(labels):
        assert report[label]["precision"] == pytest.approx(p[i], abs=1e-12)
        assert report[label]["recall"] == pytest.approx(r[i], abs=1e-12)
        assert report[label]["f1"] == pytest.approx(f[i], abs=1e-12)
        assert report[label]["support"] == s[i]
    assert out[f"{task.value}_confusion_matrix"] == confusion_matrix(refs, preds, labels=list(labels)).tolist()


@pytest.mark.parametrize("seed", range(3))
def test_joint_scores_match_per_task_scores_and_direct_counts(seed):
    rng = np.random.default_rng(100 + seed)
    n = 500
    refs = {task.value: _random_labels(rng, task.labels, n) for task in Task}
    # predictions right about half of the time, so exact matches occur
    preds = {
        task: [r if rng.random() < 0.6 else p for r, p in zip(refs[task], _random_labels(rng, Task(task).labels, n))]
        for task in TASK_NAMES
    }
    out = score(refs, preds)
    assert list(out) == headline_keys(TASK_NAMES)
    for task in TASK_NAMES:
        single = score({task: refs[task]}, {task: preds[task]})
        for key, value in single.items():
            assert out[key] == value
        for name, expected in _sklearn_scores(refs[task], preds[task]).items():
            assert out[f"{task}_{name}"] == pytest.approx(expected, abs=1e-12)
    accuracies = [np.mean(np.array(refs[t]) == np.array(preds[t])) for t in TASK_NAMES]
    assert out["all_accuracy"] == pytest.approx(np.mean(accuracies), abs=1e-12)
    all_right = np.logical_and.reduce([np.array(refs[t]) == np.array(preds[t]) for t in TASK_NAMES])
    assert 0 < all_right.sum() < n
    assert out["exact_match"] == pytest.approx(all_right.mean(), abs=1e-12)


def test_hand_computed_single_task():
    anger, worry, gratitude = EMOTION[1], EMOTION[0], EMOTION[5]
    out = score({"emotion": [anger, anger, worry, gratitude]}, {"emotion": [anger, worry, worry, gratitude]})
    # Anger: TP 1, 2 references, 1 prediction -> P 1, R 1/2, F1 2/3; Worry: TP 1, 1 ref, 2 preds -> P 1/2, R 1,
    # F1 2/3; Gratitude: all 1.
    assert out == pytest.approx(
        {
            "emotion_accuracy": 3 / 4,
            "emotion_macro_precision": (1 + 1 / 2 + 1) / 3,
            "emotion_macro_recall": (1 / 2 + 1 + 1) / 3,
            "emotion_macro_f1": (2 / 3 + 2 / 3 + 1) / 3,
        },
        abs=1e-15,
    )


def test_prediction_outside_reference_classes_counts_as_error_only():
    satisfied, neutral, dissatisfied = SATISFACTION
    # "Satisfied" never occurs in the references: it is not averaged over, but the wrong guess lowers Neutral's recall.
    out = score(
        {"satisfaction": [neutral, neutral, dissatisfied]}, {"satisfaction": [neutral, satisfied, dissatisfied]},
        per_class=True,
    )
    assert out["satisfaction_accuracy"] == pytest.approx(2 / 3)
    assert out["satisfaction_macro_precision"] == pytest.approx(1.0)  # (1 + 1) / 2
    assert out["satisfaction_macro_recall"] == pytest.approx(0.75)  # (1/2 + 1) / 2
    assert out["satisfaction_macro_f1"] == pytest.approx((2 / 3 + 1) / 2)
    assert out["satisfaction_per_class"][satisfied] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}


def test_macro_f1_is_mean_of_per_class_f1_not_harmonic_mean():
    # The paper's F1 sits below both P and R: that only happens with the mean of per-class F1.
    rng = np.random.default_rng(7)
    refs = _random_labels(rng, EMOTION, 400)
    preds = [r if rng.random() < 0.5 else EMOTION[0] for r in refs]
    out = score({"emotion": refs}, {"emotion": preds}, per_class=True)
    f1s = [v["f1"] for v in out["emotion_per_class"].values() if v["support"] > 0]
    assert out["emotion_macro_f1"] == pytest.approx(np.mean(f1s), abs=1e-12)
    p, r = out["emotion_macro_precision"], out["emotion_macro_recall"]
    assert out["emotion_macro_f1"] < 2 * p * r / (p + r) - 1e-3


def test_hand_computed_joint():
    refs = {"emotion": [EMOTION[1], EMOTION[5]], "transition": [TRANSITION[5], TRANSITION[6]],
            "satisfaction": [SATISFACTION[2], SATISFACTION[0]]}
    preds = {"emotion": [EMOTION[1], EMOTION[6]], "transition": [TRANSITION[5], TRANSITION[7]],
             "satisfaction": [SATISFACTION[2], SATISFACTION[0]]}
    out = score(refs, preds)
    assert (out["emotion_accuracy"], out["transition_accuracy"], out["satisfaction_accuracy"]) == (0.5, 0.5, 1.0)
    assert out["all_accuracy"] == pytest.approx(2 / 3)
    assert out["exact_match"] == 0.5


def test_all_accuracy_reproduces_llama2_row_of_table_4():
    # Build predictions whose accuracies are the paper's LLaMa2-7B accuracies (10,000 utterances, 4 decimals exact).
    n = 10_000
    refs = {task.value: [task.labels[0]] * n for task in Task}
    preds = {}
    for task, accuracy in zip(Task, (0.5743, 0.7426, 0.8455)):
        right = round(accuracy * n)
        preds[task.value] = [task.labels[0]] * right + [task.labels[1]] * (n - right)
    assert round(score(refs, preds)["all_accuracy"], 4) == 0.7208


def _forms(values, labels):
    ids = [labels.index(v) for v in values]
    return {
        "list": list(values),
        "tuple": tuple(values),
        "numpy object": np.array(values, dtype=object),
        "numpy unicode": np.array(values),
        "pandas str": pd.Series(values, dtype="str"),
        "pandas object": pd.Series(values, dtype=object),
        "pandas category": pd.Series(values, dtype="category"),
        "arrow string": pa.array(values),
        "arrow large_string": pa.array(values, type=pa.large_string()),
        "arrow chunked": pa.chunked_array([values[:3], values[3:]]),
        "arrow dictionary": pa.array(values).dictionary_encode(),
        "id list": ids,
        "numpy int8": np.array(ids, dtype=np.int8),
        "numpy uint64": np.array(ids, dtype=np.uint64),
        "pandas int": pd.Series(ids),
        "arrow int32": pa.array(ids, type=pa.int32()),
    }


def test_every_input_form_gives_the_same_numbers():
    rng = np.random.default_rng(3)
    refs = _random_labels(rng, EMOTION, 50)
    preds = _random_labels(rng, EMOTION, 50)
    expected = score({"emotion": refs}, {"emotion": preds}, per_class=True)
    ref_forms, pred_forms = _forms(refs, EMOTION), _forms(preds, EMOTION)
    for name in ref_forms:
        assert score({"emotion": ref_forms[name]}, {"emotion": pred_forms[name]}, per_class=True) == expected, name
    # names on one side and ids on the other is fine; Task keys work like their names
    assert score({Task.EMOTION: ref_forms["id list"]}, {"emotion": preds}, per_class=True) == expected


# --- bad input ------------------------------------------------------------------------------------------------
def _emotion(refs, preds, **kwargs):
    return score({"emotion": refs}, {"emotion": preds}, **kwargs)


W, A = EMOTION[0], EMOTION[1]


@pytest.mark.parametrize(
    "refs, preds, message",
    [
        ([W, A, W], [W, A], r"emotion: 2 predictions for 3 references"),
        ([], [], r"emotion references are empty"),
        ([W, A], [], r"emotion predictions are empty"),
        ([W, A, W], [W, "Happy", W], r"predictions: unknown emotion label 'Happy' at position 1"),
        ([W, "angry", W], [W, A, W], r"references: unknown emotion label 'angry' at position 1"),
        ([W, A, W], [W, A, None], r"predictions: missing value \(None\) at position 2"),
        ([None, A], [W, A], r"references: missing value \(None\) at position 0"),
        (pd.Series([W, np.nan, A], dtype=object), [W, A, A], r"references: missing value .* at position 1"),
        ([0, 1, 7], [0, 1, 2], r"references: ClassLabel id 7 at position 2 is outside 0..6"),
        ([0, 1, 2], [0, -1, 2], r"predictions: ClassLabel id -1 at position 1 .*hidden test label"),
        (np.array([0, 9]), [0, 1], r"references: ClassLabel id 9 at position 1"),
        ([W, 1, A], [W, A, A], r"references mix label names and ClassLabel ids: .* position 1 holds the ClassLabel id"),
        ([0, 1, 2], [0, A, 2], r"predictions mix label names and ClassLabel ids: .* position 1 holds the label name"),
        ([0.0, 1.0], [0, 1], r"references: 0.0 at position 0 is of type double"),
        ([True, False], [0, 1], r"references: True at position 0 is of type bool"),
        ([W, [A]], [W, A], r"references: \['Anger'\] at position 1 is a list"),
        (W, [W], r"emotion references: expected a sequence of labels, got str"),
        (None, [W], r"emotion references: got None instead of a sequence"),
        (np.array([[0, 1]]), [0], r"references: expected a 1-D sequence"),
    ],
)
def test_bad_input_names_value_and_position(refs, preds, message):
    with pytest.raises(ValueError, match=message):
        _emotion(refs, preds)


def test_categorical_input_checks_only_the_values_used():
    # a category that no row uses is harmless; a used one that is not a label is reported where it occurs
    unused = pd.Series(pd.Categorical([W, A, W], categories=[W, A, "Happy"]))
    assert _emotion(unused, [W, A, A])["emotion_accuracy"] == pytest.approx(2 / 3)
    chunked = pa.chunked_array([pa.array([W, A]).dictionary_encode(), pa.array([A, "Happy"]).dictionary_encode()])
    with pytest.raises(ValueError, match=r"references: unknown emotion label 'Happy' at position 3"):
        _emotion(chunked, [W, A, A, A])


def test_unknown_label_error_counts_all_bad_values():
    with pytest.raises(ValueError, match=r"'x' at position 0 \(3 value\(s\) in all"):
        _emotion([W, A, W, A], ["x", "y", W, "z"])


@pytest.mark.parametrize(
    "refs, preds, message",
    [
        ({"emotions": [W]}, {"emotions": [W]}, r"references: unknown task 'emotions'"),
        ({}, {}, r"references hold no task"),
        ({"emotion": [W]}, {}, r"no predictions for \['emotion'\]"),
        ({"emotion": [W]}, {"emotion": [W], "satisfaction": [SATISFACTION[0]]},
         r"predictions for \['satisfaction'\] but no references"),
        ([W], [W], r"references must map task names"),
        ({"emotion": [W, A], "satisfaction": [SATISFACTION[0]]}, {"emotion": [W, A], "satisfaction": [SATISFACTION[0]]},
         r"satisfaction: 1 references, but emotion has 2"),
    ],
)
def test_bad_task_mappings(refs, preds, message):
    with pytest.raises(ValueError, match=message):
        score(refs, preds)


def test_bad_bootstrap_arguments():
    with pytest.raises(ValueError, match=r"session_ids: 1 values for 2 utterances"):
        _emotion([W, A], [W, A], bootstrap=10, session_ids=["s"])
    with pytest.raises(ValueError, match=r"session_ids: missing value \(None\) at position 1"):
        _emotion([W, A], [W, A], bootstrap=10, session_ids=["s", None])
    with pytest.raises(ValueError, match=r"session_ids only matter for the bootstrap"):
        _emotion([W, A], [W, A], session_ids=["s", "t"])
    for bad in (-5, 2.5, True, "100"):
        with pytest.raises(ValueError, match=r"bootstrap must be a non-negative number"):
            _emotion([W, A], [W, A], bootstrap=bad)


# --- bootstrap --------------------------------------------------------------------------------------------------
def test_bootstrap_is_seeded_and_brackets_every_headline_number():
    rng = np.random.default_rng(11)
    refs = {t.value: _random_labels(rng, t.labels, 300) for t in Task}
    preds = {
        t: [r if rng.random() < 0.7 else other for r, other in zip(refs[t], _random_labels(rng, Task(t).labels, 300))]
        for t in TASK_NAMES
    }
    first = score(refs, preds, bootstrap=300, seed=1)
    assert first == score(refs, preds, bootstrap=300, seed=1)
    assert first != score(refs, preds, bootstrap=300, seed=2)
    for key in headline_keys(TASK_NAMES):
        low, high = first[f"{key}_ci"]
        assert low <= first[key] <= high, key
        assert high - low > 0, key


def _binary_outcomes(n_sessions, per_session, rng):
    """Sessions whose utterances are all right or all wrong (perfectly correlated within a session)."""
    right = rng.random(n_sessions) < 0.5
    refs, preds, sessions = [], [], []
    for s, ok in enumerate(right):
        refs += [W] * per_session
        preds += [W if ok else A] * per_session
        sessions += [f"s{s}"] * per_session
    return refs, preds, sessions


def test_utterance_bootstrap_width_matches_binomial_theory():
    rng = np.random.default_rng(5)
    n, p = 4000, 0.3
    refs = [W] * n
    preds = [W if rng.random() < p else A for _ in range(n)]
    out = _emotion(refs, preds, bootstrap=4000, seed=0)
    accuracy = out["emotion_accuracy"]
    low, high = out["emotion_accuracy_ci"]
    expected_width = 2 * 1.96 * np.sqrt(accuracy * (1 - accuracy) / n)
    assert (high - low) == pytest.approx(expected_width, rel=0.1)


def test_session_bootstrap_widens_intervals_for_correlated_sessions():
    refs, preds, sessions = _binary_outcomes(40, 50, np.random.default_rng(0))
    by_utterance = _emotion(refs, preds, bootstrap=1000, seed=0)
    by_session = _emotion(refs, preds, bootstrap=1000, seed=0, session_ids=sessions)
    width = lambda out: out["emotion_accuracy_ci"][1] - out["emotion_accuracy_ci"][0]  # noqa: E731
    assert width(by_session) > 4 * width(by_utterance)
    # with one utterance per session, session resampling is utterance resampling
    refs, preds, sessions = _binary_outcomes(2000, 1, np.random.default_rng(1))
    one_each = _emotion(refs, preds, bootstrap=2000, seed=0, session_ids=sessions)
    assert width(one_each) == pytest.approx(width(_emotion(refs, preds, bootstrap=2000, seed=0)), rel=0.15)


def test_session_ids_in_any_form_give_the_same_intervals():
    refs, preds, sessions = _binary_outcomes(30, 7, np.random.default_rng(2))
    numbers = [int(s[1:]) * 7 % 31 for s in sessions]  # integer ids, not in order of appearance
    names = [f"session-{n}" for n in numbers]
    expected = _emotion(refs, preds, bootstrap=300, seed=4, session_ids=names)
    forms = (numbers, np.array(numbers), pa.chunked_array([names[:100], names[100:]]), pd.Series(names, dtype="str"))
    for form in forms:
        assert _emotion(refs, preds, bootstrap=300, seed=4, session_ids=form) == expected


def test_encode_accepts_names_and_ids_in_label_order():
    assert encode("transition", list(TRANSITION)).tolist() == list(range(len(TRANSITION)))
    assert encode(Task.EMOTION, np.arange(len(EMOTION))).tolist() == list(range(len(EMOTION)))


def test_the_documented_aliases_are_accepted_everywhere():
    """Lower-case and Chinese spellings score exactly like the canonical names (as in the raw format and the board)."""
    canonical = {"emotion": ["Anger", "Disappointment", "No Emotion"], "transition": ["Neutral to Negative"] * 3,
                 "satisfaction": ["Dissatisfied", "Dissatisfied", "Neutral"]}
    aliased = {"emotion": ["anger", "失望", "无情绪"],
               "transition": ["neutral to negative", "中性到负向", "Neutral->Negative"],
               "satisfaction": ["dissatisfied", "不满意", "中立"]}
    for task in canonical:
        assert encode(task, aliased[task]).tolist() == encode(task, canonical[task]).tolist()
        expected = encode(task, canonical[task]).tolist()
        assert encode(task, pd.Series(aliased[task], dtype="category")).tolist() == expected
    assert score(aliased, canonical) == score(canonical, canonical)
