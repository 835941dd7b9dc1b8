"""The card's pictures, drawn from the built data: label distribution per task and split, user utterances per
session, and emotion share by turn position. PNG bytes are deterministic (no timestamp or software metadata), so a
rebuild writes identical files."""

from __future__ import annotations

import io

import numpy as np

from ..layout import SPLITS
from ..schema import NO_EMOTION, Task
from .card import split_label_counts
from .tables import EstTables

FIGURE_DIR = "figures"
MAX_POSITION = 30  # user-utterance positions shown in the emotion-by-position plot (later ones are pooled)


def _png(figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=100, metadata={"Software": None})
    return buffer.getvalue()


def draw_figures(tables: EstTables) -> list[tuple[str, str, bytes]]:
    """[(file name inside the build folder, caption, PNG bytes)]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    counts = split_label_counts(tables)["full"]
    splits = [s for s in SPLITS if not (tables.blind_test and s == "test")]
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.2), gridspec_kw={"width_ratios": [7, 9, 3]})
    for ax, task in zip(axes, Task):
        x = np.arange(len(task.labels))
        width = 0.8 / len(splits)
        for k, split in enumerate(splits):
            total = max(sum(counts[task.value][label][split] for label in task.labels), 1)
            shares = [counts[task.value][label][split] / total for label in task.labels]
            ax.bar(x + k * width, shares, width, label=split)
        ax.set_xticks(x + width * (len(splits) - 1) / 2, task.labels, rotation=60, ha="right", fontsize=8)
        ax.set_yscale("log")
        ax.set_title(task.title)
    axes[0].set_ylabel("share of the split's utterances (log)")
    axes[0].legend(fontsize=8)
    figure.tight_layout()
    out.append((f"{FIGURE_DIR}/labels.png", "Label distribution per task and split", _png(figure)))
    plt.close(figure)

    session_ids = tables.utterances["session_id"].to_numpy(zero_copy_only=False)
    per_session = np.unique(session_ids, return_counts=True)[1]
    figure, ax = plt.subplots(figsize=(7, 3.5))
    ax.hist(per_session, bins=np.arange(0, min(int(per_session.max()), 80) + 2), color="#4C72B0")
    ax.set_xlabel("user utterances per session")
    ax.set_ylabel("sessions")
    ax.set_title(f"User utterances per session (mean {per_session.mean():.1f})")
    figure.tight_layout()
    out.append((f"{FIGURE_DIR}/utterances_per_session.png", "User utterances per session", _png(figure)))
    plt.close(figure)

    # position of each user utterance among its session's user utterances (rows are in session order per split)
    order = np.lexsort((tables.utterances["turn"].to_numpy(), session_ids))
    sorted_ids = session_ids[order]
    starts = np.r_[0, np.flatnonzero(sorted_ids[1:] != sorted_ids[:-1]) + 1]
    position = np.arange(len(order)) - np.repeat(starts, np.diff(np.r_[starts, len(order)]))
    position = np.minimum(position, MAX_POSITION)
    emotion = tables.emotion[order]
    visible = np.ones(len(order), dtype=bool)
    if tables.blind_test:
        visible = tables.session_split[tables.utterance_session][order] != SPLITS.index("test")
    figure, ax = plt.subplots(figsize=(8, 3.8))
    totals = np.bincount(position[visible], minlength=MAX_POSITION + 1).astype(float)
    for e, name in enumerate(Task.EMOTION.labels):
        if name == NO_EMOTION:
            continue
        hits = np.bincount(position[visible & (emotion == e)], minlength=MAX_POSITION + 1)
        ax.plot(np.arange(MAX_POSITION + 1) + 1, hits / np.maximum(totals, 1), label=name)
    ax.set_xlabel(f"position among the session's user utterances ({MAX_POSITION + 1} = later)")
    ax.set_ylabel("share of utterances")
    ax.set_title("Emotion share by turn position (No Emotion left out)")
    ax.legend(fontsize=8, ncol=3)
    figure.tight_layout()
    out.append((f"{FIGURE_DIR}/emotion_by_position.png", "Emotion share by turn position", _png(figure)))
    plt.close(figure)
    return out
