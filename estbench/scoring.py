"""EST scoring core: accuracy and macro precision/recall/F1 per task, ALL_A, exact match, per-class report,
confusion matrices and bootstrap confidence intervals — plain numpy/pyarrow, no `evaluate`.

The evaluate module (metrics/est_metric), the leaderboard and the baselines all call `score`; it is the one place
where the EST numbers are defined.

Definitions (the EST paper, section 4.1 and Table 4):

- accuracy = share of utterances whose predicted label equals the reference label.
- macro precision / recall / F1 = unweighted mean over classes of the per-class precision / recall / F1, where the
  classes averaged over are the classes that occur in the references. Macro-F1 is the mean of the per-class F1
  (not the harmonic mean of macro P and macro R). A predicted label that never occurs in the references counts as an
  error (it lowers the recall of the true class) but has no class of its own in the average. A ratio with a zero
  denominator is 0. This equals scikit-learn's
  ``precision_recall_fscore_support(y_true, y_pred, average="macro", labels=<reference classes>, zero_division=0)``.
- all_accuracy (the paper's ALL_A) = mean of the three task accuracies; exact_match = share of utterances with all
  three tasks right. Both are reported when all three tasks are scored.

All counts come from one confusion tensor (a single `np.bincount` over the joint (reference, prediction) cell of
every utterance), so the headline numbers, the per-class report and the bootstrap share the same arithmetic.

>>> out = score({"emotion": ["Worry", "Anger", "Anger"]}, {"emotion": ["Worry", "Anger", "Worry"]})
>>> round(out["emotion_accuracy"], 4), round(out["emotion_macro_f1"], 4)
(0.6667, 0.6667)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .consistency import consistency as _consistency
from .conventions import conventions as _conventions
from .schema import TASK_NAMES, Task, label_id
from .slices import slice_buckets

HEADLINE_METRICS: tuple[str, ...] = ("accuracy", "macro_precision", "macro_recall", "macro_f1")
JOINT_METRICS: tuple[str, ...] = ("all_accuracy", "exact_match")
CONFIDENCE_LEVEL = 0.95


def mean_macro_f1(scores: Mapping[str, float]) -> float:
    """The leaderboard's ranking number ("Mean F1"): the mean of the three tasks' macro-F1, a task left out counting 0.

    >>> mean_macro_f1({"emotion_macro_f1": 0.6, "transition_macro_f1": 0.3, "satisfaction_macro_f1": 0.9})
    0.6
    """
    return sum(scores.get(f"{task}_macro_f1", 0.0) for task in TASK_NAMES) / len(TASK_NAMES)


def headline_keys(tasks: Sequence[str] = TASK_NAMES) -> list[str]:
    """The float keys `score` returns for `tasks` (in output order), without the optional extras.

    >>> headline_keys(["satisfaction"])
    ['satisfaction_accuracy', 'satisfaction_macro_precision', 'satisfaction_macro_recall', 'satisfaction_macro_f1']
    """
    tasks = [Task(t).value for t in tasks]
    keys = [f"{task}_{metric}" for task in TASK_NAMES if task in tasks for metric in HEADLINE_METRICS]
    if set(tasks) == set(TASK_NAMES):
        keys += list(JOINT_METRICS)
    return keys


# --------------------------------------------------------------------------------------------------------------
# Input decoding: label names or ClassLabel ids -> int ids in schema order
# --------------------------------------------------------------------------------------------------------------
_STRING_TYPES = (pa.types.is_string, pa.types.is_large_string, pa.types.is_string_view)


def _python_scan_error(values: Sequence, where: str) -> ValueError:
    """Slow path, only run to explain input pyarrow refused: find the first None or odd type, or the first mix."""
    first_kind = None
    for position, value in enumerate(values):
        if value is None or (isinstance(value, float) and value != value):
            return ValueError(f"{where}: missing value {value!r} at position {position}")
        if isinstance(value, str):
            kind = "label name"
        elif isinstance(value, (int, np.integer)) and not isinstance(value, (bool, np.bool_)):
            kind = "ClassLabel id"
        else:
            return ValueError(
                f"{where}: {value!r} at position {position} is a {type(value).__name__}; "
                f"expected label names (str) or ClassLabel ids (int)"
            )
        if first_kind is None:
            first_kind, first_value = kind, value
        elif kind != first_kind:
            return ValueError(
                f"{where} mix label names and ClassLabel ids: position 0 holds the {first_kind} {first_value!r} "
                f"but position {position} holds the {kind} {value!r}; use one kind per sequence"
            )
    return ValueError(f"{where}: cannot read the values as label names or ClassLabel ids")


def _to_arrow(values: Any, where: str) -> pa.Array | pa.ChunkedArray | np.ndarray:
    """Arrow array (strings or ints) or numpy int array, without copying when the input already is one."""
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    if isinstance(values, (str, bytes)) or not hasattr(values, "__len__"):
        raise ValueError(f"{where}: expected a sequence of labels, got {type(values).__name__}")
    if isinstance(values, np.ndarray):
        if values.ndim != 1:
            raise ValueError(f"{where}: expected a 1-D sequence of labels, got an array of shape {values.shape}")
        if values.dtype.kind in "iu":
            return values
    try:
        # pandas Series backed by Arrow (pandas >= 3 reads CSV strings this way) convert without a copy
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError, OverflowError):
        raise _python_scan_error(values, where) from None


def _first_value(values: Any, position: int) -> Any:
    value = values[position]
    return value.as_py() if isinstance(value, pa.Scalar) else value


def _dictionary_ids(chunk: pa.DictionaryArray, labels: Sequence[str]) -> np.ndarray:
    """Label ids of a dictionary-encoded string chunk; -1 where the value is not a label."""
    dictionary = chunk.dictionary
    lookup = pc.fill_null(pc.index_in(dictionary, value_set=pa.array(labels, type=dictionary.type)), -1)
    return lookup.to_numpy(zero_copy_only=False).astype(np.int32)[chunk.indices.to_numpy(zero_copy_only=False)]


def _aliases(task: Task, array, found: np.ndarray, unknown: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Map the documented aliases ("anger", "失望", "neutral to negative") to their ids, as the raw format and the
    leaderboard do; only the values that are not canonical are looked at (the fast path stays as it is)."""
    values = pa.array([_first_value(array, int(i)) for i in unknown]) if len(unknown) < 1000 else \
        pc.cast(array.take(pa.array(unknown)), pa.string())
    ids = {}
    for value in pc.unique(values).to_pylist():
        try:
            ids[value] = label_id(task, value)
        except ValueError:
            ids[value] = -1
    found = found.astype(np.int32, copy=True)
    found[unknown] = [ids[v] for v in values.to_pylist()]
    return found, np.flatnonzero(found < 0)


def encode(task: str | Task, values: Any, *, what: str = "labels", invalid: int | None = None) -> np.ndarray:
    """Integer ids (schema order) of a sequence of `task` label names or ClassLabel ids: the one label encoding of
    the project (the metric, the leaderboard's submission and gold checks, prediction files).

    `values` may be a list/tuple, numpy array, pandas Series or pyarrow (Chunked)Array. Names are the canonical
    schema spellings or their documented aliases (`estbench.schema.normalize_label`: any case, Chinese names).
    `what` names the sequence in errors. With `invalid` (e.g. -1), a name that is no label gets that id instead of
    an error, so a caller can report every bad row at once (`estbench.submission`).

    >>> encode("satisfaction", ["Neutral", "Satisfied"]).tolist()
    [1, 0]
    >>> encode("emotion", ["anger", "失望", "No Emotion"]).tolist()
    [1, 3, 6]
    >>> encode("satisfaction", ["Neutral", "Happy", ""], invalid=-1).tolist()
    [1, -1, -1]
    >>> encode("satisfaction", ["Neutral", "Happy"], what="predictions")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: satisfaction predictions: unknown satisfaction label 'Happy' at position 1 (1 value(s) in all; ...)
    """
    task = Task(task)
    labels = task.labels
    where = f"{task.value} {what}"
    if values is None:
        raise ValueError(f"{where}: got None instead of a sequence of labels")
    array = _to_arrow(values, where)
    if len(array) == 0:
        raise ValueError(f"{where} are empty")

    if isinstance(array, np.ndarray):
        ids = array.astype(np.int64, copy=False)
    else:
        if array.null_count:
            position = int(np.flatnonzero(pc.is_null(array).to_numpy(zero_copy_only=False))[0])
            raise ValueError(f"{where}: missing value (None) at position {position}")
        kind = array.type
        if pa.types.is_dictionary(kind) and any(check(kind.value_type) for check in _STRING_TYPES):
            # categorical input: look up the few distinct names once, then map the integer codes
            chunks = array.chunks if isinstance(array, pa.ChunkedArray) else [array]
            found = np.concatenate([_dictionary_ids(chunk, labels) for chunk in chunks])
        elif any(check(kind) for check in _STRING_TYPES):
            found = pc.index_in(array, value_set=pa.array(labels, type=kind))
            found = (pc.fill_null(found, -1) if found.null_count else found).to_numpy(zero_copy_only=False)
        else:
            found = None
        if found is not None:
            unknown = np.flatnonzero(found < 0)
            if len(unknown):
                found, unknown = _aliases(task, array, found, unknown)
            if len(unknown) and invalid is not None:
                found = found.astype(np.int32, copy=True)
                found[unknown] = invalid
            elif len(unknown):
                position = int(unknown[0])
                raise ValueError(
                    f"{where}: unknown {task.value} label {_first_value(array, position)!r} at position {position} "
                    f"({len(unknown)} value(s) in all; expected one of: {', '.join(labels)})"
                )
            return found  # int32; ids are small
        if pa.types.is_integer(kind):
            ids = array.to_numpy(zero_copy_only=False).astype(np.int64, copy=False)
        else:
            raise ValueError(
                f"{where}: {_first_value(array, 0)!r} at position 0 is of type {kind}; "
                f"expected label names (str) or ClassLabel ids (int)"
            )
    bad = (ids < 0) | (ids >= len(labels))
    if bad.any():
        position = int(np.flatnonzero(bad)[0])
        hint = " (-1 marks a hidden test label)" if ids[position] == -1 else ""
        raise ValueError(
            f"{where}: ClassLabel id {int(ids[position])} at position {position} is outside 0..{len(labels) - 1}{hint}"
        )
    return ids


# --------------------------------------------------------------------------------------------------------------
# Metrics from confusion matrices (vectorised over any leading axes, e.g. bootstrap replicates)
# --------------------------------------------------------------------------------------------------------------
def _per_class(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision/recall/F1/support/TP/predicted counts of confusion matrices `cm[..., reference,
    prediction]`: the counts every other number (macro, conventions) is computed from."""
    tp = np.diagonal(cm, axis1=-2, axis2=-1)
    support = cm.sum(axis=-1)
    predicted = cm.sum(axis=-2)
    with np.errstate(divide="ignore", invalid="ignore"):
        precision = np.where(predicted > 0, tp / predicted, 0.0)
        recall = np.where(support > 0, tp / support, 0.0)
        # 2PR/(P+R) written in counts: 2TP / (2TP + FP + FN) = 2TP / (support + predicted)
        f1 = np.where(support + predicted > 0, 2 * tp / (support + predicted), 0.0)
    return {"precision": precision, "recall": recall, "f1": f1, "support": support, "tp": tp, "predicted": predicted}


def _task_metrics(stats: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Accuracy and macro P/R/F1 over the classes present in the references, from `_per_class` statistics."""
    present = stats["support"] > 0
    n_present = present.sum(axis=-1)
    total = stats["support"].sum(axis=-1)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = {"accuracy": stats["tp"].sum(axis=-1) / total}
        for name in ("precision", "recall", "f1"):
            out[f"macro_{name}"] = np.where(present, stats[name], 0.0).sum(axis=-1) / n_present
    return out


def task_metrics(task: Task, cm: np.ndarray, conventions: bool = False) -> dict[str, np.ndarray]:
    """`{task}_accuracy`, `{task}_macro_*` (and with `conventions` the `estbench.conventions` keys) of confusion
    matrices `cm[..., K, K]`, arrays over the leading axes; the scoring core and the paired test both use it."""
    stats = _per_class(cm)
    out = {f"{task.value}_{name}": value for name, value in _task_metrics(stats).items()}
    if conventions:
        out.update(_conventions(task, stats))
    return out


def joint_accuracy(accuracies: dict[str, Any]) -> Any:
    """The paper's ALL_A: the mean of the three task accuracies (`{task}_accuracy` keys)."""
    return sum(accuracies[f"{t}_accuracy"] for t in TASK_NAMES) / len(TASK_NAMES)


class _CellLayout:
    """Joint (reference, prediction) cells of several tasks: cell = mixed-radix number of the per-task pairs."""

    def __init__(self, tasks: list[Task]):
        self.tasks = tasks
        self.sizes = [len(t.labels) for t in tasks]
        self.pair_counts = [k * k for k in self.sizes]
        self.n_cells = int(np.prod(self.pair_counts))

    def cells(self, ids: dict[Task, tuple[np.ndarray, np.ndarray]]) -> np.ndarray:
        cell = np.zeros(len(ids[self.tasks[0]][0]), dtype=np.int64)
        for task, k, kk in zip(self.tasks, self.sizes, self.pair_counts):
            ref, pred = ids[task]
            cell *= kk
            cell += ref * k + pred
        return cell

    def task_pair(self, cell: np.ndarray, index: int) -> np.ndarray:
        """The (reference * K + prediction) pair of task number `index` for each cell number."""
        below = int(np.prod(self.pair_counts[index + 1 :]))
        return (cell // below) % self.pair_counts[index]

    def all_correct(self, cell: np.ndarray) -> np.ndarray:
        correct = np.ones(len(cell), dtype=bool)
        for index, k in enumerate(self.sizes):
            pair = self.task_pair(cell, index)
            correct &= pair // k == pair % k
        return correct


def _sum_by(counts: np.ndarray, group: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum `counts[..., cell]` over the cells of each group (group[cell] in 0..n_groups-1), for any leading axes."""
    if counts.ndim == 1:
        return np.bincount(group, weights=counts, minlength=n_groups)
    order = np.argsort(group, kind="stable")
    groups, starts = np.unique(group[order], return_index=True)
    out = np.zeros(counts.shape[:-1] + (n_groups,))
    out[..., groups] = np.add.reduceat(counts[..., order], starts, axis=-1)
    return out


def _metrics_from_cells(
    layout: _CellLayout, cells: np.ndarray, counts: np.ndarray, conventions: bool = False
) -> tuple[dict[str, np.ndarray], dict[Task, np.ndarray]]:
    """All headline metrics (arrays over the leading axes of `counts[..., cell]`) plus the per-task confusions;
    with `conventions`, the extras of `estbench.conventions` too."""
    out: dict[str, Any] = {}
    confusions = {}
    for index, (task, k) in enumerate(zip(layout.tasks, layout.sizes)):
        cm = _sum_by(counts, layout.task_pair(cells, index), k * k).reshape(counts.shape[:-1] + (k, k))
        confusions[task] = cm
        out.update(task_metrics(task, cm, conventions))
    if len(layout.tasks) == len(TASK_NAMES):
        out["all_accuracy"] = joint_accuracy(out)
        out["exact_match"] = (counts @ layout.all_correct(cells).astype(float)) / counts.sum(axis=-1)
    return out, confusions


# --------------------------------------------------------------------------------------------------------------
# Bootstrap
# --------------------------------------------------------------------------------------------------------------
BOOTSTRAP_BLOCK = 250  # replicates drawn at a time: bounds memory to BOOTSTRAP_BLOCK x occupied cells


def session_index(session_ids: Any, n: int) -> np.ndarray:
    """0-based session number of every utterance, numbered by first appearance (same for every input form)."""
    sessions = _to_arrow(session_ids, "session_ids")
    if len(sessions) != n:
        raise ValueError(f"session_ids: {len(sessions)} values for {n} utterances")
    if isinstance(sessions, np.ndarray):  # integer ids: number them by first appearance, as dictionary_encode does
        _, first, inverse = np.unique(sessions, return_index=True, return_inverse=True)
        return np.argsort(np.argsort(first))[inverse]
    if sessions.null_count:
        position = int(np.flatnonzero(pc.is_null(sessions).to_numpy(zero_copy_only=False))[0])
        raise ValueError(f"session_ids: missing value (None) at position {position}")
    if isinstance(sessions, pa.ChunkedArray):
        sessions = sessions.combine_chunks()
    return pc.dictionary_encode(sessions).indices.to_numpy(zero_copy_only=False)


def _bootstrap_blocks(
    cell: np.ndarray, cells: np.ndarray, counts: np.ndarray, resamples: int, rng: np.random.Generator,
    session: np.ndarray | None,
):
    """Cell counts of `resamples` bootstrap replicates, in blocks of shape (<= BOOTSTRAP_BLOCK, len(cells)).

    Utterance resampling: drawing n utterances with replacement gives cell counts ~ Multinomial(n, counts / n), so
    it is sampled directly on the occupied cells. Session resampling: draw as many sessions as there are, with
    replacement, and add up each drawn session's cell counts.
    """
    n = int(counts.sum())
    sizes = [min(BOOTSTRAP_BLOCK, resamples - start) for start in range(0, resamples, BOOTSTRAP_BLOCK)]
    if session is None:
        for size in sizes:
            yield rng.multinomial(n, counts / n, size=size).astype(float)
        return
    session = session.astype(np.int64)
    n_sessions = int(session.max()) + 1
    cell_index = np.searchsorted(cells, cell)  # occupied-cell number of each utterance
    # (session, cell) pairs with their counts: a replicate only needs how often each session was drawn
    pairs, pair_counts = np.unique(session * len(cells) + cell_index, return_counts=True)
    pair_session, pair_cell = np.divmod(pairs, len(cells))
    for size in sizes:
        block = np.empty((size, len(cells)))
        for b in range(size):
            drawn = np.bincount(rng.integers(0, n_sessions, n_sessions), minlength=n_sessions)
            block[b] = np.bincount(pair_cell, weights=drawn[pair_session] * pair_counts, minlength=len(cells))
        yield block


# --------------------------------------------------------------------------------------------------------------
# The public entry point
# --------------------------------------------------------------------------------------------------------------
def scored_tasks(references: Mapping, predictions: Mapping) -> list[Task]:
    """The tasks a score covers: the keys of `references`, which `predictions` must match (schema order)."""
    for name, mapping in (("references", references), ("predictions", predictions)):
        if not hasattr(mapping, "keys"):
            raise ValueError(f"{name} must map task names ({', '.join(TASK_NAMES)}) to label sequences")
        unknown = [k for k in mapping.keys() if k not in TASK_NAMES]
        if unknown:
            raise ValueError(f"{name}: unknown task {unknown[0]!r} (expected some of: {', '.join(TASK_NAMES)})")
    reference_tasks = {Task(k) for k in references.keys()}
    prediction_tasks = {Task(k) for k in predictions.keys()}
    if not reference_tasks:
        raise ValueError(f"references hold no task (expected some of: {', '.join(TASK_NAMES)})")
    if reference_tasks != prediction_tasks:
        missing = sorted(t.value for t in reference_tasks - prediction_tasks)
        extra = sorted(t.value for t in prediction_tasks - reference_tasks)
        problem = f"no predictions for {missing}" if missing else f"predictions for {extra} but no references"
        raise ValueError(f"references and predictions must hold the same tasks: {problem}")
    return [t for t in Task if t in reference_tasks]


def score(
    references: Mapping[str, Sequence],
    predictions: Mapping[str, Sequence],
    *,
    per_class: bool = False,
    confusion: bool = False,
    bootstrap: int = 0,
    seed: int = 0,
    session_ids: Sequence | None = None,
    conventions: bool = False,
    consistency: bool = False,
    slices: bool = False,
    categories: Sequence | None = None,
) -> dict:
    """Score predictions against references for one or more EST tasks.

    Args:
        references, predictions: map task names (`emotion`, `transition`, `satisfaction`) to equally long
            sequences of label names or ClassLabel ids (list, numpy array, pandas Series or pyarrow array). Both
            must hold the same tasks; all sequences describe the same utterances, row by row. Each sequence holds
            one kind: names or ids.
        per_class: add `{task}_per_class = {label: {"precision", "recall", "f1", "support"}}` for every label of
            the task (schema order; labels with support 0 are listed but not averaged over).
        confusion: add `{task}_confusion_matrix`, a list of lists with rows = reference, columns = prediction.
        bootstrap: number of bootstrap replicates (0 = none). Adds `{key}_ci = [low, high]`, the percentile 95%
            interval, for every headline key.
        seed: seed of the bootstrap's random generator (same seed, same intervals).
        session_ids: optional session id of every utterance. When given, the bootstrap resamples whole sessions
            (utterances of one session are correlated); otherwise it resamples utterances. Needed by `slices` and
            by the session share of `consistency`.
        conventions: add the field's other conventions (`estbench.conventions`): `{task}_weighted_f1`, for emotion
            and transition `{task}_macro_f1_no_neutral`, `{task}_weighted_f1_no_neutral`,
            `{task}_micro_f1_no_neutral`, for satisfaction `satisfaction_uar` and `satisfaction_kappa` (with
            `bootstrap`, their intervals too).
        consistency: add the `consistency_*` shares of `estbench.consistency` (all three tasks needed).
        slices: add `slices = {slice: {bucket: {"count": rows, <headline keys>}}}` by turn position, emotion shift
            and dialogue length (`estbench.slices`; needs `session_ids`, with the rows of a session contiguous
            and in dialogue order), and by service category when `categories` (one per row) are given.

    Returns:
        A flat dict: `{task}_accuracy`, `{task}_macro_precision`, `{task}_macro_recall`, `{task}_macro_f1` for each
        task given, plus `all_accuracy` and `exact_match` when all three tasks are given, plus the optional extras.

    Raises:
        ValueError: naming the offending value and its position (unknown label, None, id out of range, mixed
            names and ids, empty input, length mismatch, unknown task).
    """
    if isinstance(bootstrap, bool) or not isinstance(bootstrap, (int, np.integer)) or bootstrap < 0:
        raise ValueError(f"bootstrap must be a non-negative number of replicates, got {bootstrap!r}")
    if session_ids is not None and not (bootstrap or consistency or slices):
        raise ValueError(
            "session_ids only matter for the bootstrap, consistency or slices; pass bootstrap=<number of "
            "replicates>, consistency=True or slices=True too"
        )
    if slices and session_ids is None:
        raise ValueError("slices need session_ids (the session of every utterance, rows in dialogue order)")
    if categories is not None and not slices:
        raise ValueError("categories only matter for slices; pass slices=True too")
    tasks = scored_tasks(references, predictions)
    jobs = [(task, side, mapping[task.value]) for task in tasks
            for side, mapping in (("references", references), ("predictions", predictions))]
    # pyarrow's string kernels release the GIL: encoding the columns on two threads halves the wall time
    with ThreadPoolExecutor(max_workers=2) as pool:
        encoded = list(pool.map(lambda job: encode(job[0], job[2], what=job[1]), jobs))
    ids: dict[Task, tuple[np.ndarray, np.ndarray]] = {}
    n_rows = None
    for index, task in enumerate(tasks):
        ref, pred = encoded[2 * index], encoded[2 * index + 1]
        if len(pred) != len(ref):
            raise ValueError(f"{task.value}: {len(pred)} predictions for {len(ref)} references")
        if n_rows is not None and len(ref) != n_rows:
            raise ValueError(
                f"{task.value}: {len(ref)} references, but {tasks[0].value} has {n_rows}; "
                "all tasks in one call must describe the same utterances"
            )
        n_rows = len(ref)
        ids[task] = (ref, pred)

    layout = _CellLayout(tasks)
    cell = layout.cells(ids)
    cell_counts = np.bincount(cell, minlength=layout.n_cells)
    cells = np.flatnonzero(cell_counts)
    counts = cell_counts[cells].astype(float)
    metrics, confusions = _metrics_from_cells(layout, cells, counts, conventions)
    out: dict[str, Any] = {key: float(value) for key, value in metrics.items()}
    session = None if session_ids is None else session_index(session_ids, n_rows)
    if consistency:
        if len(tasks) != len(TASK_NAMES):
            raise ValueError(f"consistency needs all three tasks ({', '.join(TASK_NAMES)}) in one call")
        out.update(_consistency({task: ids[task][1] for task in tasks}, session))

    if per_class:
        for task in tasks:
            stats = _per_class(confusions[task])
            out[f"{task.value}_per_class"] = {
                label: {
                    "precision": float(stats["precision"][i]),
                    "recall": float(stats["recall"][i]),
                    "f1": float(stats["f1"][i]),
                    "support": int(stats["support"][i]),
                }
                for i, label in enumerate(task.labels)
            }
    if confusion:
        for task in tasks:
            out[f"{task.value}_confusion_matrix"] = confusions[task].astype(np.int64).tolist()
    if bootstrap:
        rng = np.random.default_rng(seed)
        blocks = [
            _metrics_from_cells(layout, cells, block, conventions)[0]
            for block in _bootstrap_blocks(cell, cells, counts, int(bootstrap), rng, session)
        ]
        replicates = {key: np.concatenate([block[key] for block in blocks]) for key in blocks[0]}
        tail = (1 - CONFIDENCE_LEVEL) / 2 * 100
        for key, values in replicates.items():
            low, high = np.nanpercentile(values, [tail, 100 - tail])
            out[f"{key}_ci"] = [float(low), float(high)]
    if slices:
        out["slices"] = _sliced(layout, cell, session, ids, categories, conventions)
    return out


def _sliced(layout: _CellLayout, cell: np.ndarray, session: np.ndarray, ids: dict, categories, conventions: bool):
    """Headline numbers per bucket of every slice: one bincount over (bucket, cell) per slice."""
    if np.count_nonzero(session[1:] != session[:-1]) + 1 != int(session.max()) + 1:
        raise ValueError("slices: the rows of each session must be contiguous (and in dialogue order)")
    category_ids = names = None
    if categories is not None:
        array = _to_arrow(categories, "categories")
        if len(array) != len(cell):
            raise ValueError(f"categories: {len(array)} values for {len(cell)} utterances")
        encoded = pc.dictionary_encode(pa.chunked_array([array]) if isinstance(array, pa.Array) else array)
        encoded = encoded.combine_chunks()
        category_ids, names = encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary.to_pylist()
    emotion = ids[Task.EMOTION][0] if Task.EMOTION in ids else None
    out = {}
    for name, (labels, bucket) in slice_buckets(session, emotion, category_ids, names).items():
        joint = np.bincount(bucket * layout.n_cells + cell, minlength=len(labels) * layout.n_cells)
        joint = joint.reshape(len(labels), layout.n_cells)
        rows = joint.sum(axis=1)
        used = np.flatnonzero(rows)  # buckets without rows are left out
        occupied = np.flatnonzero(joint.sum(axis=0))
        metrics, _ = _metrics_from_cells(layout, occupied, joint[np.ix_(used, occupied)].astype(float), conventions)
        out[name] = {
            labels[b]: {"count": int(rows[b]), **{key: float(value[i]) for key, value in metrics.items()}}
            for i, b in enumerate(used)
        }
    return out


DIALOGUE_PREFIX = "dialogue_"


def score_dialogue_satisfaction(references: Sequence, predictions: Sequence, **options) -> dict:
    """Dialogue-level satisfaction: one label per session (the `sessions` config's `dialogue_satisfaction`), scored
    like the utterance task (A / macro P, R, F1; `options` as for `score`), keys prefixed `dialogue_`.

    >>> out = score_dialogue_satisfaction(["Satisfied", "Dissatisfied"], ["Satisfied", "Neutral"])
    >>> out["dialogue_satisfaction_accuracy"], round(out["dialogue_satisfaction_macro_f1"], 4)
    (0.5, 0.5)
    """
    out = score({Task.SATISFACTION.value: references}, {Task.SATISFACTION.value: predictions}, **options)
    return {f"{DIALOGUE_PREFIX}{key}": value for key, value in out.items()}
