"""The card's pictures say what they show: absent classes marked 0, the balanced subset beside the full configs,
counts on sparse positions, and no warning while drawing."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from estbench.dataset.figures import MAX_POSITION, SPARSE, label_figure, position_figure
from estbench.schema import Task

pytest.importorskip("matplotlib")
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

SPLITS = ["train", "validation"]


def _counts(absent: str) -> dict:
    counts = {}
    for which in ("full", "balanced"):
        counts[which] = {
            task.value: {label: {split: (0 if label == absent or (which == "balanced" and split == "validation")
                                         else 10 + i) for split in SPLITS}
                         for i, label in enumerate(task.labels)}
            for task in Task
        }
    return counts


def test_labels_show_the_balanced_subset_and_mark_absent_classes_with_zero():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # e.g. "Data has no positive values, and therefore cannot be log-scaled"
        figure = label_figure(_counts("Insult"), SPLITS)
    titles = [ax.get_title() for ax in figure.axes]
    assert sum("balanced subset" in t for t in titles) == 3 and sum("full configs" in t for t in titles) == 3
    emotion_full = figure.axes[0]
    zeros = [t for t in emotion_full.texts if t.get_text() == "0"]
    assert len(zeros) == len(SPLITS)  # Insult absent in both splits
    # the balanced validation split is empty: every class of every balanced panel is marked 0 there
    assert all(sum(t.get_text() == "0" for t in ax.texts) >= len(task.labels)
               for ax, task in zip(figure.axes[3:], Task))
    plt.close(figure)


def test_the_position_plot_prints_the_count_of_sparse_positions_and_names_the_pooled_bucket():
    rng = np.random.default_rng(0)
    position = np.minimum(rng.geometric(0.12, size=20_000) - 1, MAX_POSITION)
    emotion = rng.integers(0, len(Task.EMOTION.labels), size=position.size)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        figure = position_figure(position, emotion)
    counts = np.bincount(position, minlength=MAX_POSITION + 1)
    below = figure.axes[1]
    printed = {t.get_text() for t in below.texts}
    assert {str(int(n)) for n in counts if n < SPARSE} <= printed and printed
    assert [t.get_text() for t in below.get_xticklabels()][-1] == f"{MAX_POSITION + 1}+"
    plt.close(figure)
