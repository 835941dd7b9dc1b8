"""The figure of a submission's detail view: per-class F1 bars, one panel per scored task; a class with too few
rows to be shown (the k-row floor of `scoring`) is drawn as withheld, not as 0."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")  # server side: no display
import matplotlib.pyplot as plt

from estbench.schema import Task


def per_class_f1_figure(detail: dict, tasks: list[str], min_rows: int):
    fig, axes = plt.subplots(1, len(tasks), figsize=(5 * len(tasks), 3.6), squeeze=False)
    for ax, task in zip(axes[0], tasks):
        report = detail[f"{task}_per_class"]
        labels = list(Task(task).labels)
        f1 = [report[label].get("f1", 0.0) for label in labels]
        ax.barh(range(len(labels)), f1, color="#4C72B0")
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.invert_yaxis()
        ax.set_xlim(0, 1)
        ax.set_xlabel("F1")
        ax.set_title(f"{Task(task).title}: per-class F1")
        for i, (label, value) in enumerate(zip(labels, f1)):
            text = f"{value:.2f}" if "f1" in report[label] else f"withheld (< {min_rows} rows)"
            ax.text(min(value + 0.02, 0.85) if "f1" in report[label] else 0.02, i, text, va="center", fontsize=7)
    fig.tight_layout()
    return fig

