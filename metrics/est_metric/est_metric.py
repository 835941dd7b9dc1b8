# Copyright 2026 The EST benchmark authors.
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.
"""EST metric: accuracy and macro precision/recall/F1 for emotion, emotion-state transition and satisfaction."""

import warnings

import datasets
import evaluate

# The scoring core, imported relatively so that evaluate copies it with this file (from the Hub too): in a clone,
# est_scoring.py re-exports the installed estbench; in the Space, metrics/deploy.py writes estbench's scoring core
# into est_scoring.py as one file, so a Space user needs only evaluate and the requirements.txt beside it.
from .est_scoring import CITATION, TASK_NAMES, encode, score, score_dialogue_satisfaction

_DESCRIPTION = """
EST scores customer-service dialogue understanding on three utterance-level tasks: the user's emotion (7 classes),
the emotion-state transition relative to the session's initial polarity (9 classes) and the user's satisfaction
(3 classes). For each task it reports accuracy (A) and macro precision (P), recall (R) and F1, where macro-F1 is the
mean of the per-class F1 over the classes present in the references (predicted labels outside them count as
errors; a zero denominator gives 0). The `joint` configuration (the default) scores all three tasks at once and
adds `all_accuracy` (the paper's ALL_A: mean of the three accuracies) and `exact_match` (all three tasks right). The
`dialogue_satisfaction` configuration scores one satisfaction label per session (corpora that rate whole dialogues;
the `sessions` config's `dialogue_satisfaction`), with keys `dialogue_satisfaction_*`.
"""


_KWARGS_DESCRIPTION = """
Args:
    predictions: for `emotion`, `transition`, `satisfaction`: one label per utterance, as label names (`str`, the
        canonical estbench.schema spelling or a documented alias) or ClassLabel ids (`int`, schema order); for
        `dialogue_satisfaction` one satisfaction label per session. For `joint`: one dict per
        utterance with the keys `emotion`, `transition` and `satisfaction` (e.g.
        `df[["emotion", "transition", "satisfaction"]].to_dict("records")`). One kind (names or ids) per input.
    references: the gold labels, in the same form as `predictions`.
    per_class (`bool`): add `{task}_per_class`: `{label: {"precision", "recall", "f1", "support"}}`. Defaults to False.
    confusion (`bool`): add `{task}_confusion_matrix` (rows = reference, columns = prediction, schema order).
        Defaults to False.
    bootstrap (`int`): number of bootstrap replicates; adds `{key}_ci = [low, high]`, the percentile 95% interval
        of every headline number. Defaults to 0 (none).
    seed (`int`): seed of the bootstrap. Defaults to 0.
    session_ids (`list` of `str`): session of each utterance; when given, the bootstrap resamples whole sessions
        instead of single utterances; needed by `slices` and the session share of `consistency`. Defaults to None.
    conventions (`bool`): add the field's other conventions: `{task}_weighted_f1`; for emotion and transition
        `{task}_macro_f1_no_neutral`, `{task}_weighted_f1_no_neutral`, `{task}_micro_f1_no_neutral` (the neutral
        class is No Emotion, resp. Neutral to Neutral); for satisfaction `satisfaction_uar`, `satisfaction_kappa`.
        Defaults to False.
    consistency (`bool`, `joint` only): add `consistency_satisfaction_emotion`, `consistency_transition_emotion`
        and, with `session_ids`, `consistency_session_initial`: how often the predicted tasks agree with each
        other as the gold always does. Defaults to False.
    slices (`bool`): add `slices`: headline numbers and row counts by turn position, emotion shift, dialogue
        length and (with `categories`, one service category per utterance) category. Needs `session_ids`, the
        rows of a session contiguous and in dialogue order. Defaults to False.

Returns:
    `{task}_accuracy`, `{task}_macro_precision`, `{task}_macro_recall`, `{task}_macro_f1` (`float`, 0 to 1, higher
    is better) for the configuration's task(s); with `joint` also `all_accuracy` and `exact_match`.

Raises:
    ValueError: unknown label name, None, ClassLabel id out of range, names mixed with ids, empty input or a length
        mismatch, naming the offending value and its position.

Examples:

    Example 1-Emotion, with label names:
        >>> import evaluate
        >>> est = evaluate.load("metrics/est_metric", "emotion")  # from a clone; from the Hub: "<org>/est_metric"
        >>> results = est.compute(
        ...     references=["Anger", "Anger", "Worry", "Gratitude"],
        ...     predictions=["Anger", "Worry", "Worry", "Gratitude"],
        ... )
        >>> for key, value in results.items():
        ...     print(key, round(value, 4))
        emotion_accuracy 0.75
        emotion_macro_precision 0.8333
        emotion_macro_recall 0.8333
        emotion_macro_f1 0.7778

    Example 2-Satisfaction, with ClassLabel ids (0 = Satisfied, 1 = Neutral, 2 = Dissatisfied) and a per-class report.
    "Satisfied" is predicted but never a reference, so it is an error and not averaged over:
        >>> est = evaluate.load("metrics/est_metric", "satisfaction")
        >>> results = est.compute(references=[1, 1, 2, 2], predictions=[1, 0, 2, 2], per_class=True)
        >>> print(round(results["satisfaction_macro_recall"], 4), round(results["satisfaction_macro_f1"], 4))
        0.75 0.8333
        >>> results["satisfaction_per_class"]["Satisfied"]
        {'precision': 0.0, 'recall': 0.0, 'f1': 0.0, 'support': 0}

    Example 3-All three tasks at once: one dict per utterance.
        >>> est = evaluate.load("metrics/est_metric", "joint")
        >>> references = [
        ...     {"emotion": "Anger", "transition": "Neutral to Negative", "satisfaction": "Dissatisfied"},
        ...     {"emotion": "Gratitude", "transition": "Negative to Positive", "satisfaction": "Satisfied"},
        ... ]
        >>> predictions = [
        ...     {"emotion": "Anger", "transition": "Neutral to Negative", "satisfaction": "Dissatisfied"},
        ...     {"emotion": "No Emotion", "transition": "Negative to Neutral", "satisfaction": "Satisfied"},
        ... ]
        >>> results = est.compute(references=references, predictions=predictions)
        >>> print(results["emotion_accuracy"], results["satisfaction_accuracy"], round(results["all_accuracy"], 4))
        0.5 1.0 0.6667
        >>> results["exact_match"]
        0.5

    Example 4-A bootstrap 95% interval, resampling sessions:
        >>> est = evaluate.load("metrics/est_metric", "emotion")
        >>> results = est.compute(
        ...     references=["Anger", "Worry", "Worry", "Anxiety", "Anger", "Gratitude"],
        ...     predictions=["Anger", "Worry", "Anger", "Anxiety", "Anger", "No Emotion"],
        ...     bootstrap=200, seed=0, session_ids=["s1", "s1", "s2", "s2", "s3", "s3"],
        ... )
        >>> low, high = results["emotion_accuracy_ci"]
        >>> low <= results["emotion_accuracy"] <= high
        True

    Example 5-The field's other conventions and cross-task consistency (opt-in; the defaults are unchanged):
        >>> est = evaluate.load("metrics/est_metric", "joint")
        >>> results = est.compute(references=references, predictions=predictions, conventions=True,
        ...                       consistency=True, session_ids=["s1", "s1"])
        >>> print(round(results["emotion_weighted_f1"], 4), results["emotion_macro_f1_no_neutral"])
        0.5 0.5
        >>> results["satisfaction_kappa"]
        1.0
        >>> print(results["consistency_satisfaction_emotion"], results["consistency_session_initial"])
        0.5 0.0

    Example 6-Dialogue-level satisfaction, one label per session:
        >>> est = evaluate.load("metrics/est_metric", "dialogue_satisfaction")
        >>> results = est.compute(references=["Satisfied", "Dissatisfied", "Neutral"],
        ...                       predictions=["Satisfied", "Neutral", "Neutral"])
        >>> accuracy, f1 = results["dialogue_satisfaction_accuracy"], results["dialogue_satisfaction_macro_f1"]
        >>> print(round(accuracy, 4), round(f1, 4))
        0.6667 0.5556
"""


DIALOGUE = "dialogue_satisfaction"  # one satisfaction label per session (the sessions config)
CONFIGS = (*TASK_NAMES, "joint", DIALOGUE)


def _label_features(kind: str, joint: bool):
    value = datasets.Value(kind)
    return {task: value for task in TASK_NAMES} if joint else value


def _columns(rows, what: str) -> dict:
    """Per-task columns of a `joint` input given as one dict per utterance."""
    columns = {task: [] for task in TASK_NAMES}
    for position, row in enumerate(rows):
        if not isinstance(row, dict) or set(row) != set(TASK_NAMES):
            raise ValueError(
                f"joint {what}: position {position} is {row!r}; expected a dict with the keys {', '.join(TASK_NAMES)}"
            )
        for task in TASK_NAMES:
            columns[task].append(row[task])
    return columns


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class EstMetric(evaluate.Metric):
    def _info(self):
        if self.config_name == "default":  # evaluate.load(path) without a config: the joint config, as in the card
            warnings.warn(
                f"no EST metric configuration given: using 'joint' (the configurations are {', '.join(CONFIGS)}; "
                "e.g. evaluate.load(<path>, 'emotion'))", stacklevel=2,
            )
            self.config_name = "joint"
        if self.config_name not in CONFIGS:
            raise ValueError(
                f"unknown EST metric configuration {self.config_name!r}: choose one of "
                f"{', '.join(CONFIGS)} (e.g. evaluate.load(<path>, 'joint'))"
            )
        joint = self.config_name == "joint"
        # names or ids on either side: evaluate picks the first option that encodes the first example
        features = [
            datasets.Features(
                {"predictions": _label_features(prediction, joint), "references": _label_features(reference, joint)}
            )
            for prediction in ("string", "int64")
            for reference in ("string", "int64")
        ]
        info = evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=features,
            codebase_urls=["https://github.com/EST-DATASET/EST-DATASET"],
        )
        # Hand the cached columns to _compute as Arrow arrays, not Python lists (1.6M rows: seconds saved).
        # Set after construction because MetricInfo's own check only knows the "numpy" format.
        info.format = "arrow"
        return info

    def _as_columns(self, values, what: str) -> dict:
        if self.config_name == DIALOGUE:
            return {"satisfaction": values}
        if self.config_name != "joint":
            return {self.config_name: values}
        if hasattr(values, "type"):  # the cached Arrow struct column
            return {task: values.combine_chunks().field(task) for task in TASK_NAMES}
        return _columns(values, what)

    def _check(self, predictions, references) -> None:
        # Check inputs with the scoring core before evaluate caches them: its errors name the value and position,
        # where evaluate would turn the id 3 into the label name "3" or fail with a bare int() error.
        for what, values in (("references", references), ("predictions", predictions)):
            if values is None:
                raise ValueError(f"{what} are missing")
            for task, column in self._as_columns(values, what).items():
                encode(task, column, what=what)
        if len(predictions) != len(references):
            raise ValueError(f"{len(predictions)} predictions for {len(references)} references")

    def add_batch(self, *, predictions=None, references=None, **kwargs):
        """Add a batch of predictions and references (checked by the scoring core first)."""
        self._check(predictions, references)
        super().add_batch(predictions=predictions, references=references, **kwargs)

    def add(self, *, prediction=None, reference=None, **kwargs):
        """Add one prediction and reference (checked by the scoring core first)."""
        self._check([prediction], [reference])
        super().add(prediction=prediction, reference=reference, **kwargs)

    def _compute(
        self, predictions, references, per_class=False, confusion=False, bootstrap=0, seed=0, session_ids=None,
        conventions=False, consistency=False, slices=False, categories=None,
    ):
        if consistency and self.config_name != "joint":
            raise ValueError("consistency compares the three tasks' predictions: use the 'joint' configuration")
        if self.config_name == DIALOGUE:  # one label per session: a bootstrap resamples the sessions themselves
            return score_dialogue_satisfaction(
                self._as_columns(references, "references")["satisfaction"],
                self._as_columns(predictions, "predictions")["satisfaction"],
                per_class=per_class, confusion=confusion, bootstrap=bootstrap, seed=seed, conventions=conventions,
            )
        return score(
            self._as_columns(references, "references"),
            self._as_columns(predictions, "predictions"),
            per_class=per_class,
            confusion=confusion,
            bootstrap=bootstrap,
            seed=seed,
            session_ids=session_ids,
            conventions=conventions,
            consistency=consistency,
            slices=slices,
            categories=categories,
        )
