"""The field's other reporting conventions, computed from a task's per-class counts (opt-in extras of `score`).

Each is the scikit-learn computation named beside it (tests check them on random data). The input is the per-class
statistics the scoring core computes once per confusion matrix (`tp`, `support`, `predicted`, `f1`, `recall`,
arrays whose last axis is the class; leading axes are bootstrap replicates or slices), so every function is
vectorised and no count is computed twice.

- `{task}_weighted_f1`: per-class F1 weighted by reference support, ``f1_score(average="weighted")`` (IEMOCAP,
  MELD, EmoryNLP papers; Poria et al. 2019, "Emotion Recognition in Conversation: Research Challenges...").
- `{task}_macro_f1_no_neutral`, `{task}_weighted_f1_no_neutral`: the same over the reference classes other than
  the neutral one (No Emotion; Neutral to Neutral), ``f1_score(average=..., labels=<present non-neutral classes>)``
  (EmoWOZ, Feng et al. 2022, reports both with and without neutral).
- `{task}_micro_f1_no_neutral`: micro-F1 over all non-neutral classes, ``f1_score(average="micro",
  labels=<non-neutral classes>)``: predicting neutral for a non-neutral utterance is a miss, a non-neutral label for
  a neutral one a false alarm (DailyDialog, Li et al. 2017, as reported since Zhong et al. 2019).
- `satisfaction_uar`: unweighted average recall, the mean of the per-class recalls over the classes present (the
  user-satisfaction literature, e.g. USS, Sun et al. 2021; it equals `satisfaction_macro_recall`, named as they name
  it). `satisfaction_kappa`: Cohen's kappa, ``cohen_kappa_score`` (0 where undefined, i.e. chance agreement 1).
"""

from __future__ import annotations

import numpy as np

from .schema import NEUTRAL_LABELS, Task


def _average(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    total = weights.sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(total > 0, (values * weights).sum(axis=-1) / total, 0.0)


def convention_keys(task: str | Task) -> list[str]:
    """The keys `conventions(task, cm)` returns, in order.

    >>> convention_keys("satisfaction")
    ['satisfaction_weighted_f1', 'satisfaction_uar', 'satisfaction_kappa']
    """
    task = Task(task)
    names = ["weighted_f1"]
    if task.value in NEUTRAL_LABELS:
        names += ["macro_f1_no_neutral", "weighted_f1_no_neutral", "micro_f1_no_neutral"]
    if task is Task.SATISFACTION:
        names += ["uar", "kappa"]
    return [f"{task.value}_{name}" for name in names]


def conventions(task: str | Task, stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The convention metrics of `task` from its per-class statistics (`estbench.scoring._per_class`)."""
    task = Task(task)
    f1, support, predicted, tp = stats["f1"], stats["support"], stats["predicted"], stats["tp"]
    present = (support > 0).astype(float)
    out = {"weighted_f1": _average(f1, support)}
    if task.value in NEUTRAL_LABELS:
        keep = np.ones(len(task.labels))
        keep[task.labels.index(NEUTRAL_LABELS[task.value])] = 0.0
        out["macro_f1_no_neutral"] = _average(f1, present * keep)
        out["weighted_f1_no_neutral"] = _average(f1, support * keep)
        hits = (tp * keep).sum(axis=-1)
        counted = ((support + predicted) * keep).sum(axis=-1)
        with np.errstate(divide="ignore", invalid="ignore"):
            out["micro_f1_no_neutral"] = np.where(counted > 0, 2 * hits / counted, 0.0)
    if task is Task.SATISFACTION:
        out["uar"] = _average(stats["recall"], present)
        with np.errstate(divide="ignore", invalid="ignore"):
            n = support.sum(axis=-1)
            observed = tp.sum(axis=-1) / n
            chance = (support * predicted).sum(axis=-1) / (n * n)
            out["kappa"] = np.where(chance < 1, (observed - chance) / (1 - chance), 0.0)
    return {f"{task.value}_{name}": value for name, value in out.items()}
