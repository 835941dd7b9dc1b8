"""Slices of an EST test set for `score(..., slices=True)`: which bucket of each slice every utterance falls in.

Rows are the user utterances of the scored config, the rows of one session in dialogue order (as every EST config
stores them); `session` numbers each row's session.

- `position`: the utterance's place among its session's user utterances: 1, 2-3, 4-7, 8+.
- `emotion_shift`: "first" (no earlier user utterance), "shift" (gold emotion differs from the previous user
  utterance's) or "same". Emotion-recognition-in-conversation papers report shifts separately because a model that
  copies the previous emotion does well on "same" and badly on "shift".
- `dialogue_length`: the number of user utterances in the session: 1-4, 5-8, 9-16, 17+.
- `category`: the session's service category (only when categories are given).

>>> import numpy as np
>>> buckets = slice_buckets(np.array([0, 0, 0, 1]), emotion=np.array([1, 1, 3, 6]))
>>> for name, (labels, ids) in buckets.items():
...     print(name, [labels[i] for i in ids])
position ['1', '2-3', '2-3', '1']
emotion_shift ['first', 'same', 'shift', 'first']
dialogue_length ['1-4', '1-4', '1-4', '1-4']
"""

from __future__ import annotations

import numpy as np

POSITION_EDGES: tuple[int, ...] = (1, 2, 4, 8)  # lower bounds of the buckets
LENGTH_EDGES: tuple[int, ...] = (1, 5, 9, 17)
SHIFT_LABELS: tuple[str, ...] = ("first", "same", "shift")


def _bucket_names(edges: tuple[int, ...]) -> list[str]:
    names = [f"{low}-{high - 1}" if high - 1 > low else f"{low}" for low, high in zip(edges, edges[1:])]
    return names + [f"{edges[-1]}+"]


def _bucketed(values: np.ndarray, edges: tuple[int, ...]) -> tuple[list[str], np.ndarray]:
    return _bucket_names(edges), np.searchsorted(np.array(edges), values, side="right") - 1


def slice_buckets(
    session: np.ndarray, emotion: np.ndarray | None = None, categories: np.ndarray | None = None,
    category_names: list[str] | None = None,
) -> dict[str, tuple[list[str], np.ndarray]]:
    """{slice name: (bucket names, bucket id of every row)}. `emotion`: gold emotion ids (for `emotion_shift`);
    `categories`: category id of every row with `category_names` their names."""
    session = np.asarray(session, dtype=np.int64)
    n = len(session)
    starts = np.ones(n, dtype=bool)
    starts[1:] = session[1:] != session[:-1]
    run_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    position = np.arange(n) - run_start + 1  # rows of a session are contiguous and in order
    out = {"position": _bucketed(position, POSITION_EDGES)}
    if emotion is not None:
        emotion = np.asarray(emotion)
        shift = np.ones(n, dtype=np.int64)
        shift[1:] = np.where(emotion[1:] != emotion[:-1], 2, 1)
        shift[starts] = 0
        out["emotion_shift"] = (list(SHIFT_LABELS), shift)
    lengths = np.bincount(session)
    out["dialogue_length"] = _bucketed(lengths[session], LENGTH_EDGES)
    if categories is not None:
        out["category"] = (list(category_names), np.asarray(categories, dtype=np.int64))
    return out
