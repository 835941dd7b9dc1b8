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


ZERO_FLOOR = 1e-6  # the log axis starts here, so an absent class still has a place, marked "0"
SPARSE = 200  # positions with fewer utterances than this get their count printed on the emotion-by-position plot


def label_figure(counts: dict, splits: list[str]):
    """Label shares per task (columns) and split (bars) for the full configs (top row) and the balanced subset the
    paper's protocol uses (bottom row); a class absent from a split is marked with a 0 at the floor of the axis."""
    import matplotlib.pyplot as plt

    figure, grid = plt.subplots(2, 3, figsize=(15, 8), gridspec_kw={"width_ratios": [7, 9, 3]})
    for row, which in enumerate(("full", "balanced")):
        for ax, task in zip(grid[row], Task):
            x = np.arange(len(task.labels))
            width = 0.8 / len(splits)
            for k, split in enumerate(splits):
                total = max(sum(counts[which][task.value][label][split] for label in task.labels), 1)
                shares = np.array([counts[which][task.value][label][split] / total for label in task.labels])
                ax.bar(x + k * width, np.where(shares > 0, shares, np.nan), width, label=split)
                for position in np.flatnonzero(shares == 0):
                    ax.text(x[position] + k * width, ZERO_FLOOR * 1.3, "0", ha="center", va="bottom", fontsize=7)
            ax.set_yscale("log")
            ax.set_ylim(ZERO_FLOOR, 1.5)
            ax.set_xticks(x + width * (len(splits) - 1) / 2, task.labels, rotation=60, ha="right", fontsize=8)
            ax.set_title(f"{task.title} ({'full configs' if which == 'full' else 'balanced subset'})", fontsize=10)
        grid[row][0].set_ylabel("share of the split's utterances (log)")
    grid[0][0].legend(fontsize=8)
    figure.tight_layout()
    return figure


def position_figure(position: np.ndarray, emotion: np.ndarray):
    """Emotion share by position among the session's user utterances (positions from MAX_POSITION + 1 on pooled),
    with the utterance count of each position below it, printed where a position is sparse."""
    import matplotlib.pyplot as plt

    totals = np.bincount(position, minlength=MAX_POSITION + 1).astype(float)
    figure, (ax, below) = plt.subplots(2, 1, figsize=(8, 5.2), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    x = np.arange(MAX_POSITION + 1) + 1
    for e, name in enumerate(Task.EMOTION.labels):
        if name == NO_EMOTION:
            continue
        hits = np.bincount(position[emotion == e], minlength=MAX_POSITION + 1)
        ax.plot(x, hits / np.maximum(totals, 1), label=name)
    ax.set_ylabel("share of utterances")
    ax.set_title("Emotion share by turn position (No Emotion left out)")
    ax.legend(fontsize=8, ncol=3)
    below.bar(x, totals, color="#999999")
    below.set_yscale("log")
    below.set_ylim(0.8, max(totals.max(), 1) * 3)
    below.set_ylabel("utterances")
    for k in np.flatnonzero(totals < SPARSE):
        below.text(x[k], max(totals[k], 1), f"{int(totals[k])}", ha="center", va="bottom", fontsize=7)
    below.set_xticks(x, [str(p) for p in x[:-1]] + [f"{MAX_POSITION + 1}+"], fontsize=7)
    below.set_xlabel(f"position among the session's user utterances ({MAX_POSITION + 1}+ pools the later ones)")
    figure.tight_layout()
    return figure


def draw_figures(tables: EstTables) -> list[tuple[str, str, bytes]]:
    """[(file name inside the build folder, caption, PNG bytes)]."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    splits = [s for s in SPLITS if not (tables.blind_test and s == "test")]
    figure = label_figure(split_label_counts(tables), splits)
    out.append((f"{FIGURE_DIR}/labels.png", "Label distribution per task and split: full configs and balanced subset",
                _png(figure)))
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
    figure = position_figure(position[visible], emotion[visible])
    out.append((f"{FIGURE_DIR}/emotion_by_position.png", "Emotion share by turn position, with utterance counts",
                _png(figure)))
    plt.close(figure)
    return out
