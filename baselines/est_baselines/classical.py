"""Classical baselines: majority class; TF-IDF character n-grams + logistic regression, one classifier per task; and
the structured TF-IDF baseline, which predicts what EST's labels are made of rather than each label on its own.

Both take training rows (a DataFrame with `context`, `text` and the task label columns, label names) and predict
label names for new rows, so their output goes straight into a prediction file.

TF-IDF features: character n-grams of the user utterance and, separately, of its dialogue context and of the
session's anchor (the utterance carries the emotion; the anchor is what the transition is relative to; the context
tells e.g. an initial complaint from a polite follow-up). Character n-grams need no Chinese word segmenter.

Structured TF-IDF (`tfidf-structured`): EST's gold is built by rules (paper, section 3.2): satisfaction is the mapping
of the emotion, a transition is "<the anchor's polarity> to <the emotion's polarity>". So it predicts two things,
the emotion (the TF-IDF classifier above) and the anchor's initial polarity (a classifier on the anchor's n-grams
alone, so every row of a session gets the same one), and derives satisfaction and transition from them. Its three
answers never contradict each other (the metric's `consistency_*` shares are 1).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from estbench.schema import EMOTION_TO_POLARITY, EMOTION_TO_SATISFACTION, TASK_NAMES


def _check_labels(frame: pd.DataFrame, task: str) -> None:
    if task not in frame.columns:
        raise ValueError(f"training rows have no '{task}' column")
    missing = frame[task].isna()
    if missing.any():
        raise ValueError(f"training row {int(missing.idxmax())} has no {task} label (blind split used for training?)")


class MajorityBaseline:
    """Predicts each task's most frequent training label (ties: the label seen first)."""

    name = "majority"

    def fit(self, frame: pd.DataFrame) -> "MajorityBaseline":
        self.labels_ = {}
        for task in TASK_NAMES:
            _check_labels(frame, task)
            self.labels_[task] = Counter(frame[task]).most_common(1)[0][0]
        return self

    def predict(self, frame: pd.DataFrame) -> dict[str, list[str]]:
        return {task: [label] * len(frame) for task, label in self.labels_.items()}


@dataclass
class TfidfSettings:
    ngram_range: tuple[int, int] = (1, 3)
    max_features: int = 200_000  # per field; bounds memory on the full track
    min_df: int = 2
    sublinear_tf: bool = True
    C: float = 4.0
    class_weight: str | None = "balanced"  # macro-F1 is the headline metric and the full track is very skewed
    solver: str = "newton-cg"  # converges in a few iterations here; measured ~2.5x faster than lbfgs
    max_iter: int = 200
    context_chars: int = 300  # most recent characters of the context used as features


class TfidfBaseline:
    """TF-IDF (char n-grams over utterance, context and anchor) -> multinomial logistic regression, one per task."""

    name = "tfidf"

    def __init__(self, settings: TfidfSettings | None = None):
        self.settings = settings or TfidfSettings()

    def _features(self) -> ColumnTransformer:
        s = self.settings

        def vectorizer() -> TfidfVectorizer:
            return TfidfVectorizer(
                analyzer="char", ngram_range=s.ngram_range, max_features=s.max_features, min_df=s.min_df,
                sublinear_tf=s.sublinear_tf, dtype=np.float32,
            )

        return ColumnTransformer([("text", vectorizer(), "text"), ("context", vectorizer(), "context"),
                                  ("anchor", vectorizer(), "anchor")])

    def _inputs(self, frame: pd.DataFrame) -> pd.DataFrame:
        context = frame["context"].fillna("").astype(str).str[-self.settings.context_chars:]
        # rows before the anchor (or a frame built without the field) get an explicit marker, not an empty document
        anchor = frame["anchor"].fillna("") if "anchor" in frame.columns else pd.Series("", index=frame.index)
        anchor = anchor.astype(str).where(anchor.astype(str) != "", "<none>")
        return pd.DataFrame({"text": frame["text"].fillna("").astype(str), "context": context,
                             "anchor": anchor.to_numpy()})

    def fit(self, frame: pd.DataFrame) -> "TfidfBaseline":
        s = self.settings
        inputs = self._inputs(frame)
        # One shared vectoriser (fit once), one classifier per task.
        self.features_ = self._features()
        matrix = self.features_.fit_transform(inputs)
        self.models_ = {}
        for task in TASK_NAMES:
            _check_labels(frame, task)
            classifier = LogisticRegression(C=s.C, class_weight=s.class_weight, solver=s.solver,
                                            max_iter=s.max_iter)
            self.models_[task] = classifier.fit(matrix, frame[task].tolist())
        return self

    def predict(self, frame: pd.DataFrame) -> dict[str, list[str]]:
        matrix = self.features_.transform(self._inputs(frame))
        return {task: model.predict(matrix).tolist() for task, model in self.models_.items()}

    def pipeline(self, task: str) -> Pipeline:
        """The fitted features + classifier of one task as a single sklearn Pipeline (for inspection/pickling)."""
        return Pipeline([("features", self.features_), ("classifier", self.models_[task])])


class StructuredTfidfBaseline(TfidfBaseline):
    """Emotion and the anchor's initial polarity by TF-IDF; satisfaction and transition derived by the paper's rules.
    `pipeline("emotion")` is the emotion classifier; the other two tasks have none of their own."""

    name = "tfidf-structured"

    def fit(self, frame: pd.DataFrame) -> "StructuredTfidfBaseline":
        s = self.settings
        for task in TASK_NAMES:
            _check_labels(frame, task)
        inputs = self._inputs(frame)
        self.features_ = self._features()
        matrix = self.features_.fit_transform(inputs)
        classifier = lambda: LogisticRegression(C=s.C, class_weight=s.class_weight, solver=s.solver,  # noqa: E731
                                                max_iter=s.max_iter)
        self.models_ = {"emotion": classifier().fit(matrix, frame["emotion"].tolist())}
        initial = frame["transition"].str.split(" to ").str[0]  # "<initial> to <current>" (estbench.schema)
        self.initial_ = classifier().fit(self._anchor_features(inputs), initial.tolist())
        return self

    def _anchor_features(self, inputs: pd.DataFrame):
        return self.features_.named_transformers_["anchor"].transform(inputs["anchor"])

    def predict(self, frame: pd.DataFrame) -> dict[str, list[str]]:
        inputs = self._inputs(frame)
        emotion = self.models_["emotion"].predict(self.features_.transform(inputs)).tolist()
        initial = self.initial_.predict(self._anchor_features(inputs)).tolist()
        return {"emotion": emotion,
                "transition": [f"{start} to {EMOTION_TO_POLARITY[e]}" for start, e in zip(initial, emotion)],
                "satisfaction": [EMOTION_TO_SATISFACTION[e] for e in emotion]}


BASELINES = {"majority": MajorityBaseline, "tfidf": TfidfBaseline, "tfidf-structured": StructuredTfidfBaseline}
