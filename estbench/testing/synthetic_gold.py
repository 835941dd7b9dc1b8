"""A synthetic gold table in the builder's `--blind_test` gold-file format, for tests and the benchmark only.

Labels are drawn at random (not a dialogue corpus): it exercises validation, scoring and storage at any size
without building the dataset. Rows: `id` = "<session_id>/<turn>", `session_id`, the three task columns as label
names, `balanced` (bool).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..schema import Task


def synthetic_gold(n_sessions: int, turns_per_session: int = 6, *, seed: int = 0,
                   balanced_share: float = 0.5) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    session_ids = np.repeat([f"sim-{i:07d}" for i in range(n_sessions)], turns_per_session)
    turns = np.tile(np.arange(1, 2 * turns_per_session, 2), n_sessions)  # user turns at odd positions
    frame = pd.DataFrame({"id": [f"{s}/{t}" for s, t in zip(session_ids, turns)], "session_id": session_ids})
    for task in Task:
        frame[task.value] = np.asarray(task.labels, dtype=object)[rng.integers(0, len(task.labels), len(frame))]
    frame["balanced"] = rng.random(len(frame)) < balanced_share
    return frame


def noisy_predictions(gold: pd.DataFrame, error_rate: float, *, seed: int = 0,
                      tasks: tuple[str, ...] | None = None) -> pd.DataFrame:
    """Predictions that copy the gold and replace a share `error_rate` of each task's labels by random labels."""
    rng = np.random.default_rng(seed)
    out = pd.DataFrame({"id": gold["id"].to_numpy()})
    for task in Task:
        if tasks is not None and task.value not in tasks:
            continue
        values = gold[task.value].to_numpy(dtype=object).copy()
        wrong = rng.random(len(values)) < error_rate
        values[wrong] = np.asarray(task.labels, dtype=object)[rng.integers(0, len(task.labels), wrong.sum())]
        out[task.value] = values
    return out
