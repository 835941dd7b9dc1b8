"""Figures of a submission's detail view: per-class F1 bars and confusion matrices, one panel per scored task."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # server side: no display
import matplotlib.pyplot as plt
import numpy as np

from estbench.schema import Task


def per_class_f1_figure(detail: dict, tasks: list[str]):
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        report = detail[f"{task}_per_class"]
        labels = list(Task(task).labels)
        f1 = [report[label]["f1"] for label in labels]
        ax.barh(range(len(labels)), f1, color="#4C72B0")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("F1")
        ax.set_title(f"{Task(task).title}: per-class F1")
        for i, value in enumerate(f1):
            ax.text(min(value + 0.02, 0.85), i, f"{value:.2f}", va="center", fontsize=7)
    fig.tight_layout()
    return fig


def confusion_figure(detail: dict, tasks: list[str]):
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.5 * len(tasks), 5), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        matrix = np.asarray(detail[f"{task}_confusion_matrix"], dtype=float)
        labels = list(Task(task).labels)
        # Row-normalised colours (share of each reference class), raw counts written in the cells.
        shares = matrix / np.maximum(matrix.sum(axis=1, keepdims=True), 1)
        ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
        ax.set_xticks(range(len(labels)), labels, rotation=60, ha="right", fontsize=7)
        ax.set_yticks(range(len(labels)), labels, fontsize=7)
        ax.set_xlabel("predicted")
        ax.set_ylabel("reference")
        ax.set_title(f"{Task(task).title}: confusion matrix")
        for (i, j), count in np.ndenumerate(matrix):
            if count:
                ax.text(j, i, f"{int(count)}", ha="center", va="center", fontsize=6,
                        color="white" if shares[i, j] > 0.5 else "black")
    fig.tight_layout()
    return fig
