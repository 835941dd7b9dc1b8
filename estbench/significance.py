"""Is system B really better than system A on the same gold? A paired test for every headline number.

`paired_test(references, predictions_a, predictions_b, session_ids=...)` returns, per headline key of `score`
(and with `conventions=True` the convention keys too), A's and B's value, the difference B - A, its 95% CI from a
paired bootstrap, and two two-sided p-values:

- `p_bootstrap`: paired bootstrap (Koehn 2004; Berg-Kirkpatrick et al. 2012): resample the units with replacement,
  the same units for both systems, and count how often the resampled difference lies at least |d| away from the
  observed d (the shifted-null form): p = (1 + #{|d* - d| >= |d|}) / (1 + R).
- `p_randomization`: approximate randomization (Noreen 1989; Yeh 2000; Riezler and Maxwell 2005): swap the two
  systems' predictions of each unit with probability 1/2, and count how often the difference is at least as large
  as observed: p = (1 + #{|d*| >= |d|}) / (1 + R).

Units are sessions when `session_ids` are given (utterances of one call are not independent; EST's leaderboard
always passes them), otherwise utterances. Both tests run on counts: every unit is summarised as counts over
(reference, A, B) cells per task, so a resample is one weighted sum, never a re-scoring of label lists.

Worked example: B fixes one of A's two emotion errors; on 6 utterances that is not significant.

>>> refs = {"emotion": ["Anger", "Worry", "Worry", "Anxiety", "Anger", "Gratitude"]}
>>> a = {"emotion": ["Anger", "Anger", "Worry", "Anxiety", "Worry", "Gratitude"]}
>>> b = {"emotion": ["Anger", "Worry", "Worry", "Anxiety", "Worry", "Gratitude"]}
>>> result = paired_test(refs, a, b, resamples=1000, seed=0)
>>> row = result["emotion_accuracy"]
>>> round(row["a"], 4), round(row["b"], 4), round(row["difference"], 4)
(0.6667, 0.8333, 0.1667)
>>> row["p_randomization"] > 0.05, describe(row)
(True, 'B - A = +0.1667 (95% CI +0.0000 to +0.5000); not significant at 0.05 (approximate randomization p = 1.0000)')
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np

from .schema import TASK_NAMES, Task
from .scoring import CONFIDENCE_LEVEL, encode, joint_accuracy, scored_tasks, session_index, task_metrics

ALPHA = 0.05
RESAMPLE_BLOCK = 200  # replicates per matrix product when units are utterances


class _Cells:
    """(reference, A, B) cell of every utterance for every task, in one numbered space, plus a 2x2 cell of
    (A all right, B all right) for the exact match when all three tasks are scored."""

    def __init__(self, tasks: list[Task], ids: dict[Task, tuple[np.ndarray, np.ndarray, np.ndarray]]):
        self.tasks = tasks
        self.sizes = [len(t.labels) for t in tasks]
        self.offsets = np.cumsum([0] + [k ** 3 for k in self.sizes]).tolist()
        self.joint = len(tasks) == len(TASK_NAMES)
        self.n_cells = self.offsets[-1] + (4 if self.joint else 0)
        columns, swapped = [], np.arange(self.n_cells)
        for task, k, offset in zip(tasks, self.sizes, self.offsets):
            ref, a, b = ids[task]
            columns.append(offset + (ref * k + a) * k + b)
            r, x, y = np.unravel_index(np.arange(k ** 3), (k, k, k))
            swapped[offset: offset + k ** 3] = offset + (r * k + y) * k + x
        if self.joint:
            right_a = np.logical_and.reduce([ids[t][0] == ids[t][1] for t in tasks])
            right_b = np.logical_and.reduce([ids[t][0] == ids[t][2] for t in tasks])
            base = self.offsets[-1]
            columns.append(base + 2 * right_a + right_b)
            swapped[base: base + 4] = base + np.array([0, 2, 1, 3])
        self.columns = np.stack(columns, axis=1)  # (utterances, cells per utterance)
        self.swapped = swapped  # the cell each cell becomes when A and B trade places

    def metrics(self, counts: np.ndarray, conventions: bool) -> dict[str, np.ndarray]:
        """{key: (A values, B values)} for cell counts `counts[..., cell]` (any leading axes)."""
        out = {}
        lead = counts.shape[:-1]
        for task, k, offset in zip(self.tasks, self.sizes, self.offsets):
            cube = counts[..., offset: offset + k ** 3].reshape(lead + (k, k, k))
            for side, cm in (("a", cube.sum(axis=-1)), ("b", cube.sum(axis=-2))):
                for key, value in task_metrics(task, cm, conventions).items():
                    out.setdefault(key, {})[side] = value
        if self.joint:
            out["all_accuracy"] = {side: joint_accuracy({k: v[side] for k, v in out.items()}) for side in ("a", "b")}
            em = counts[..., self.offsets[-1]:]
            n = em.sum(axis=-1)
            out["exact_match"] = {"a": (em[..., 2] + em[..., 3]) / n, "b": (em[..., 1] + em[..., 3]) / n}
        return {key: (value["a"], value["b"]) for key, value in out.items()}


def _with_derived(metrics: dict[str, tuple], derived: Mapping[str, Callable] | None) -> dict[str, tuple]:
    for name, combine in (derived or {}).items():
        metrics[name] = (combine({k: v[0] for k, v in metrics.items()}), combine({k: v[1] for k, v in metrics.items()}))
    return metrics


def _differences(cells: _Cells, counts: np.ndarray, conventions: bool, derived=None) -> dict[str, np.ndarray]:
    return {key: b - a for key, (a, b) in _with_derived(cells.metrics(counts, conventions), derived).items()}


def _replicates(cells: _Cells, unit: np.ndarray, resamples: int, rng: np.random.Generator, conventions: bool,
                derived=None):
    """Differences under the paired bootstrap and under approximate randomization, R values per key each."""
    n_units = int(unit.max()) + 1
    boot, rand = [], []
    if n_units == len(unit):  # utterance units: identical utterances are exchangeable, draw counts per profile
        profiles, profile_counts = np.unique(cells.columns, axis=0, return_counts=True)
        keep = np.zeros((len(profiles), cells.n_cells))
        swap = np.zeros_like(keep)
        for column in range(profiles.shape[1]):
            np.add.at(keep, (np.arange(len(profiles)), profiles[:, column]), 1.0)
            np.add.at(swap, (np.arange(len(profiles)), cells.swapped[profiles[:, column]]), 1.0)
        for start in range(0, resamples, RESAMPLE_BLOCK):
            size = min(RESAMPLE_BLOCK, resamples - start)
            drawn = rng.multinomial(len(unit), profile_counts / len(unit), size=size).astype(float)
            boot.append(_differences(cells, drawn @ keep, conventions, derived))
            flipped = rng.binomial(profile_counts, 0.5, size=(size, len(profiles))).astype(float)
            rand.append(_differences(cells, (profile_counts - flipped) @ keep + flipped @ swap, conventions, derived))
    else:
        boot_counts, rand_counts = _session_replicates(cells, unit, n_units, resamples, rng)
        boot.append(_differences(cells, boot_counts, conventions, derived))
        rand.append(_differences(cells, rand_counts, conventions, derived))
    join = lambda blocks: {key: np.concatenate([block[key] for block in blocks]) for key in blocks[0]}  # noqa: E731
    return join(boot), join(rand)


UNIT_CHUNK = 4096  # sessions per dense block: bounds memory to UNIT_CHUNK x occupied cells x 8 bytes, twice


def _session_replicates(cells: _Cells, unit: np.ndarray, n_units: int, resamples: int, rng: np.random.Generator):
    """Cell counts of every bootstrap and randomization replicate, for session units.

    A replicate is a weighting of the sessions: bootstrap = how often each was drawn; randomization = which ones
    trade A and B. So both are matrix products, weights (replicates x sessions) @ counts (sessions x cells), done
    over blocks of sessions so memory stays bounded whatever the corpus size.
    """
    flat_unit = np.repeat(unit, cells.columns.shape[1]).astype(np.int64)
    pairs, pair_counts = np.unique(flat_unit * cells.n_cells + cells.columns.ravel(), return_counts=True)
    pair_unit, pair_cell = np.divmod(pairs, cells.n_cells)
    swap_cell = cells.swapped[pair_cell]
    occupied, column = np.unique(np.concatenate([pair_cell, swap_cell]), return_inverse=True)
    own, other = column[: len(pairs)], column[len(pairs):]
    drawn = np.empty((resamples, n_units), dtype=np.uint16)
    for r in range(resamples):
        drawn[r] = np.bincount(rng.integers(0, n_units, n_units), minlength=n_units)
    flipped = rng.random((resamples, n_units)) < 0.5
    boot = np.zeros((resamples, len(occupied)))
    rand = np.zeros((resamples, len(occupied)))
    base = np.bincount(own, weights=pair_counts, minlength=len(occupied))
    bounds = np.searchsorted(pair_unit, np.arange(0, n_units + UNIT_CHUNK, UNIT_CHUNK))
    for chunk, (lo, hi) in enumerate(zip(bounds[:-1], bounds[1:])):
        first = chunk * UNIT_CHUNK
        size = min(UNIT_CHUNK, n_units - first)
        if size <= 0:
            break
        rows = pair_unit[lo:hi] - first
        counts = np.zeros((size, len(occupied)))
        counts[rows, own[lo:hi]] = pair_counts[lo:hi]  # (unit, cell) pairs are unique
        delta = np.zeros_like(counts)  # what a session's trade of A and B adds to the counts
        np.add.at(delta, (rows, other[lo:hi]), pair_counts[lo:hi])
        np.add.at(delta, (rows, own[lo:hi]), -pair_counts[lo:hi].astype(float))
        boot += drawn[:, first: first + size].astype(float) @ counts
        rand += flipped[:, first: first + size].astype(float) @ delta
    rand += base
    boot_full = np.zeros((resamples, cells.n_cells))
    rand_full = np.zeros((resamples, cells.n_cells))
    boot_full[:, occupied], rand_full[:, occupied] = boot, rand
    return boot_full, rand_full


def paired_test(
    references: Mapping[str, Sequence],
    predictions_a: Mapping[str, Sequence],
    predictions_b: Mapping[str, Sequence],
    *,
    session_ids: Sequence | None = None,
    resamples: int = 1000,
    seed: int = 0,
    conventions: bool = False,
    derived: Mapping[str, Callable] | None = None,
) -> dict[str, dict[str, float]]:
    """Paired significance of B - A for every headline number (inputs as for `estbench.scoring.score`).

    `derived` adds numbers computed from the headline ones, tested the same way on the same resamples: {name:
    function of a {key: value} mapping}, e.g. the leaderboard's ranking key, the mean of the three macro-F1.

    Returns `{key: {"a", "b", "difference", "ci": [low, high], "p_bootstrap", "p_randomization"}}` plus
    `{"units": {"kind": "sessions" | "utterances", "count": n, "resamples": R}}`.
    """
    if isinstance(resamples, bool) or not isinstance(resamples, (int, np.integer)) or resamples < 1:
        raise ValueError(f"resamples must be a positive number of replicates, got {resamples!r}")
    tasks = scored_tasks(references, predictions_a)
    if {Task(t) for t in predictions_b.keys()} != set(tasks):
        raise ValueError("predictions_a and predictions_b must hold the same tasks")
    ids, n = {}, None
    for task in tasks:
        ref = encode(task, references[task.value], what="references")
        a = encode(task, predictions_a[task.value], what="predictions_a")
        b = encode(task, predictions_b[task.value], what="predictions_b")
        if not len(ref) == len(a) == len(b) or (n is not None and len(ref) != n):
            raise ValueError(f"{task.value}: references, predictions_a and predictions_b must be equally long "
                             f"({len(ref)}, {len(a)}, {len(b)}) and describe the same utterances for every task")
        n = len(ref)
        ids[task] = (ref.astype(np.int64), a.astype(np.int64), b.astype(np.int64))
    cells = _Cells(tasks, ids)
    unit = np.arange(n) if session_ids is None else session_index(session_ids, n).astype(np.int64)
    observed_counts = np.bincount(cells.columns.ravel(), minlength=cells.n_cells).astype(float)
    observed = _with_derived(cells.metrics(observed_counts, conventions), derived)
    boot, rand = _replicates(cells, unit, int(resamples), np.random.default_rng(seed), conventions, derived)
    tail = (1 - CONFIDENCE_LEVEL) / 2 * 100
    out: dict[str, dict] = {}
    for key, (a, b) in observed.items():
        d = float(b - a)
        low, high = np.nanpercentile(boot[key], [tail, 100 - tail])
        out[key] = {
            "a": float(a), "b": float(b), "difference": d, "ci": [float(low), float(high)],
            "p_bootstrap": float((1 + np.count_nonzero(np.abs(boot[key] - d) >= abs(d) - 1e-12)) / (1 + resamples)),
            "p_randomization": float((1 + np.count_nonzero(np.abs(rand[key]) >= abs(d) - 1e-12)) / (1 + resamples)),
        }
    out["units"] = {"kind": "utterances" if session_ids is None else "sessions",
                    "count": int(unit.max()) + 1, "resamples": int(resamples)}
    return out


def describe(row: Mapping[str, float], alpha: float = ALPHA) -> str:
    """One line in plain words for one key of `paired_test`'s result (the leaderboard's compare view)."""
    low, high = row["ci"]
    p = row["p_randomization"]
    verdict = f"significant at {alpha:g}" if p < alpha else f"not significant at {alpha:g}"
    return (f"B - A = {row['difference']:+.4f} (95% CI {low:+.4f} to {high:+.4f}); {verdict} "
            f"(approximate randomization p = {p:.4f})")
