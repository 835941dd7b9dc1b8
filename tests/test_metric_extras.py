"""The scoring core's opt-in extras: the field's conventions (checked against scikit-learn on random data),
cross-task consistency (against a hand count), slices (against scoring each slice alone) and the paired test
(against a naive re-scoring of resampled sessions and an exact permutation test)."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from sklearn.metrics import cohen_kappa_score, f1_score, recall_score

from estbench.conventions import convention_keys
from estbench.schema import EMOTION_TO_POLARITY, EMOTION_TO_SATISFACTION, NEUTRAL_LABELS, TASK_NAMES, Task
from estbench.scoring import headline_keys, score
from estbench.significance import describe, paired_test


def _random_joint(n: int, seed: int, accuracy: float = 0.6, n_sessions: int | None = None):
    rng = np.random.default_rng(seed)
    refs, preds = {}, {}
    for task in Task:
        k = len(task.labels)
        ref = rng.integers(0, k, n)
        pred = np.where(rng.random(n) < accuracy, ref, rng.integers(0, k, n))
        refs[task.value] = [task.labels[i] for i in ref]
        preds[task.value] = [task.labels[i] for i in pred]
    sessions = np.sort(rng.integers(0, n_sessions or max(n // 12, 1), n))
    return refs, preds, [f"call-{s}" for s in sessions]


@pytest.mark.parametrize("seed", range(6))
def test_conventions_equal_scikit_learn(seed):
    refs, preds, _ = _random_joint(3000 + 17 * seed, seed, accuracy=0.3 + 0.1 * seed)
    if seed % 2:  # a class missing from the references, predicted anyway
        for task in ("emotion", "transition"):
            missing = Task(task).labels[2]
            refs[task] = [r if r != missing else Task(task).labels[0] for r in refs[task]]
    out = score(refs, preds, conventions=True)
    for task in Task:
        y, p = refs[task.value], preds[task.value]
        present = [label for label in task.labels if label in set(y)]
        assert out[f"{task.value}_weighted_f1"] == pytest.approx(f1_score(y, p, average="weighted"), abs=1e-12)
        if task.value in NEUTRAL_LABELS:
            neutral = NEUTRAL_LABELS[task.value]
            kept = [label for label in present if label != neutral]
            every_other = [label for label in task.labels if label != neutral]
            for average in ("macro", "weighted"):
                expected = f1_score(y, p, average=average, labels=kept, zero_division=0)
                assert out[f"{task.value}_{average}_f1_no_neutral"] == pytest.approx(expected, abs=1e-12)
            micro = f1_score(y, p, average="micro", labels=every_other, zero_division=0)
            assert out[f"{task.value}_micro_f1_no_neutral"] == pytest.approx(micro, abs=1e-12)
    y, p = refs["satisfaction"], preds["satisfaction"]
    assert out["satisfaction_uar"] == pytest.approx(recall_score(y, p, average="macro", labels=sorted(set(y))),
                                                    abs=1e-12)
    assert out["satisfaction_kappa"] == pytest.approx(cohen_kappa_score(y, p), abs=1e-12)
    assert [k for k in out if k not in headline_keys()] == [k for t in TASK_NAMES for k in convention_keys(t)]


def test_conventions_off_by_default_and_leave_the_headline_numbers_alone():
    refs, preds, _ = _random_joint(500, 1)
    plain = score(refs, preds)
    assert list(plain) == headline_keys()
    extended = score(refs, preds, conventions=True)
    assert {k: extended[k] for k in plain} == plain


def test_conventions_get_bootstrap_intervals():
    refs, preds, sessions = _random_joint(1200, 2)
    out = score(refs, preds, conventions=True, bootstrap=200, session_ids=sessions)
    for key in ("emotion_weighted_f1", "transition_micro_f1_no_neutral", "satisfaction_kappa"):
        low, high = out[f"{key}_ci"]
        assert low <= out[key] <= high


def test_consistency_equals_a_hand_count():
    refs, preds, sessions = _random_joint(2000, 3, n_sessions=150)
    out = score(refs, preds, consistency=True, session_ids=sessions)
    e, t, s = preds["emotion"], preds["transition"], preds["satisfaction"]
    same_satisfaction = np.mean([EMOTION_TO_SATISFACTION[x] == y for x, y in zip(e, s)])
    same_polarity = np.mean([tr.split(" to ")[1] == EMOTION_TO_POLARITY[x] for x, tr in zip(e, t)])
    initials: dict[str, set] = {}
    for session, transition in zip(sessions, t):
        initials.setdefault(session, set()).add(transition.split(" to ")[0])
    one_initial = np.mean([len(v) == 1 for v in initials.values()])
    assert out["consistency_satisfaction_emotion"] == pytest.approx(same_satisfaction, abs=1e-12)
    assert out["consistency_transition_emotion"] == pytest.approx(same_polarity, abs=1e-12)
    assert out["consistency_session_initial"] == pytest.approx(one_initial, abs=1e-12)
    # the gold itself tells one story when it is built by the paper's rules
    gold = {"emotion": ["Anger", "Gratitude"], "transition": ["Neutral to Negative", "Neutral to Positive"],
            "satisfaction": ["Dissatisfied", "Satisfied"]}
    assert {k: v for k, v in score(gold, gold, consistency=True, session_ids=["a", "a"]).items()
            if k.startswith("consistency")} == dict.fromkeys(
        ["consistency_satisfaction_emotion", "consistency_transition_emotion", "consistency_session_initial"], 1.0)


def test_consistency_needs_all_three_tasks():
    with pytest.raises(ValueError, match="consistency needs all three tasks"):
        score({"emotion": ["Anger"]}, {"emotion": ["Anger"]}, consistency=True)


def test_slices_equal_scoring_each_slice_alone():
    refs, preds, sessions = _random_joint(3000, 4, n_sessions=160)
    categories = [f"category-{int(s.split('-')[1]) % 3}" for s in sessions]
    out = score(refs, preds, session_ids=sessions, slices=True, categories=categories)["slices"]
    # hand bucketing
    position, length, shift = [], [], []
    counts = {s: sessions.count(s) for s in set(sessions)}
    for i, session in enumerate(sessions):
        first = i == 0 or sessions[i - 1] != session
        position.append(1 if first else position[-1] + 1)
        length.append(counts[session])
        shift.append("first" if first else "shift" if refs["emotion"][i] != refs["emotion"][i - 1] else "same")

    def bucket(value, edges, names):
        return names[max(i for i, low in enumerate(edges) if value >= low)]

    expected_buckets = {
        "position": [bucket(v, (1, 2, 4, 8), ["1", "2-3", "4-7", "8+"]) for v in position],
        "emotion_shift": shift,
        "dialogue_length": [bucket(v, (1, 5, 9, 17), ["1-4", "5-8", "9-16", "17+"]) for v in length],
        "category": categories,
    }
    assert set(out) == set(expected_buckets)
    for name, buckets in expected_buckets.items():
        assert set(out[name]) == set(buckets), name
        for label, result in out[name].items():
            rows = [i for i, b in enumerate(buckets) if b == label]
            alone = score({t: [refs[t][i] for i in rows] for t in TASK_NAMES},
                          {t: [preds[t][i] for i in rows] for t in TASK_NAMES})
            assert result == {"count": len(rows), **alone}, (name, label)


def test_slices_refuse_what_they_cannot_slice():
    refs, preds, sessions = _random_joint(40, 5, n_sessions=4)
    with pytest.raises(ValueError, match="slices need session_ids"):
        score(refs, preds, slices=True)
    with pytest.raises(ValueError, match="contiguous"):
        score(refs, preds, slices=True, session_ids=["a", "b"] * 20)
    with pytest.raises(ValueError, match="categories only matter for slices"):
        score(refs, preds, categories=["x"] * 40)


# --------------------------------------------------------------------------------------------------------------
# paired significance
# --------------------------------------------------------------------------------------------------------------
def test_paired_test_observed_values_equal_score():
    refs, a, sessions = _random_joint(1500, 6, accuracy=0.5)
    _, b, _ = _random_joint(1500, 7, accuracy=0.55)
    result = paired_test(refs, a, b, session_ids=sessions, resamples=50, conventions=True)
    score_a, score_b = score(refs, a, conventions=True), score(refs, b, conventions=True)
    assert set(result) - {"units"} == set(score_a)
    for key in score_a:
        assert result[key]["a"] == pytest.approx(score_a[key], abs=1e-12)
        assert result[key]["b"] == pytest.approx(score_b[key], abs=1e-12)
        assert result[key]["difference"] == pytest.approx(score_b[key] - score_a[key], abs=1e-12)
    assert result["units"] == {"kind": "sessions", "count": len(set(sessions)), "resamples": 50}


def test_identical_systems_differ_by_nothing():
    refs, a, sessions = _random_joint(600, 8)
    result = paired_test(refs, a, a, session_ids=sessions, resamples=100)
    for key in headline_keys():
        assert result[key]["difference"] == 0 and result[key]["ci"] == [0.0, 0.0]
        assert result[key]["p_bootstrap"] == 1.0 and result[key]["p_randomization"] == 1.0


def test_paired_bootstrap_matches_a_naive_resampling_of_sessions():
    refs, a, sessions = _random_joint(1200, 9, accuracy=0.5, n_sessions=100)
    _, b, _ = _random_joint(1200, 10, accuracy=0.6)
    result = paired_test(refs, a, b, session_ids=sessions, resamples=2000, seed=1)
    rows_of: dict[str, list[int]] = {}
    for i, s in enumerate(sessions):
        rows_of.setdefault(s, []).append(i)
    units = list(rows_of.values())
    rng = np.random.default_rng(123)
    naive = []
    for _ in range(600):
        rows = [i for u in rng.integers(0, len(units), len(units)) for i in units[u]]
        pick = lambda side: {t: [side[t][i] for i in rows] for t in TASK_NAMES}  # noqa: E731
        naive.append(score(pick(refs), pick(b))["emotion_macro_f1"] - score(pick(refs), pick(a))["emotion_macro_f1"])
    low, high = np.percentile(naive, [2.5, 97.5])
    ours = result["emotion_macro_f1"]["ci"]
    width = high - low
    assert abs(ours[0] - low) < 0.1 * width and abs(ours[1] - high) < 0.1 * width


@pytest.mark.parametrize("with_sessions", [True, False])
def test_approximate_randomization_approaches_the_exact_permutation_test(with_sessions):
    refs = {"emotion": ["Anger", "Worry", "Worry", "Anxiety", "Anger", "Gratitude", "Worry", "Anger"]}
    a = {"emotion": ["Anger", "Anger", "Worry", "Worry", "Worry", "Gratitude", "Worry", "Worry"]}
    b = {"emotion": ["Anger", "Worry", "Worry", "Anxiety", "Worry", "Gratitude", "Anger", "Anger"]}
    sessions = ["s1", "s1", "s2", "s2", "s3", "s3", "s4", "s4"] if with_sessions else None
    units = [[0, 1], [2, 3], [4, 5], [6, 7]] if with_sessions else [[i] for i in range(8)]

    def f1(pred):
        return score(refs, {"emotion": pred})["emotion_macro_f1"]

    observed = f1(b["emotion"]) - f1(a["emotion"])
    extreme = 0
    patterns = list(itertools.product([False, True], repeat=len(units)))
    for swap in patterns:
        x, y = list(a["emotion"]), list(b["emotion"])
        for flip, rows in zip(swap, units):
            if flip:
                for i in rows:
                    x[i], y[i] = y[i], x[i]
        extreme += abs(f1(y) - f1(x)) >= abs(observed) - 1e-12
    exact = extreme / len(patterns)
    result = paired_test(refs, a, b, session_ids=sessions, resamples=20000, seed=3)["emotion_macro_f1"]
    assert result["difference"] == pytest.approx(observed)
    assert result["p_randomization"] == pytest.approx(exact, abs=0.015)


def test_a_clearly_better_system_is_significant_and_described_so():
    refs, a, sessions = _random_joint(4000, 11, accuracy=0.4)
    _, b, _ = _random_joint(4000, 11, accuracy=0.4)
    b = {t: list(refs[t]) for t in TASK_NAMES}  # B is the gold itself
    row = paired_test(refs, a, b, session_ids=sessions, resamples=200)["emotion_macro_f1"]
    assert row["p_bootstrap"] < 0.01 and row["p_randomization"] < 0.01 and row["ci"][0] > 0
    assert describe(row).startswith("B - A = +") and "; significant at 0.05" in describe(row)


def test_paired_test_refuses_mismatched_input():
    refs, a, _ = _random_joint(20, 12)
    with pytest.raises(ValueError, match="equally long"):
        paired_test(refs, a, {t: v[:-1] for t, v in a.items()})
    with pytest.raises(ValueError, match="same tasks"):
        paired_test(refs, a, {"emotion": a["emotion"]})
    with pytest.raises(ValueError, match="resamples must be a positive"):
        paired_test(refs, a, a, resamples=0)
