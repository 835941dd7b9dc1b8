"""Score validated predictions on the public and the private half of a track with the shared metric core."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import estbench.scoring

from .gold import Gold


@dataclass(frozen=True)
class HalfScores:
    """Headline scores of one half (flat estbench.scoring keys -> float) and its detail (per-class report, confusion)."""

    scores: dict[str, float]
    detail: dict[str, object]


def score_half(codes: dict[str, np.ndarray], gold: Gold, mask: np.ndarray) -> HalfScores:
    references = {task: gold.labels[task][mask] for task in codes}
    predictions = {task: values[mask] for task, values in codes.items()}
    out = estbench.scoring.score(references, predictions, per_class=True, confusion=True)
    scores = {key: value for key, value in out.items() if isinstance(value, float)}
    detail = {key: value for key, value in out.items() if not isinstance(value, float)}
    return HalfScores(scores=scores, detail=detail)


def score_submission(codes: dict[str, np.ndarray], gold: Gold) -> tuple[HalfScores, HalfScores]:
    """(public half, private half) scores of predictions given as ClassLabel ids aligned with `gold.ids`."""
    return score_half(codes, gold, gold.public), score_half(codes, gold, ~gold.public)
