"""Agreement between two annotations of the same items: Cohen's kappa overall and per class (one vs rest).

Used for the bank's annotation passes and the blind annotation of the built corpus (`bench/bench_blind.py`).

    >>> round(cohen_kappa(["a", "a", "b", "b"], ["a", "b", "b", "b"]), 3)
    0.5
    >>> kappas = per_class_kappa(["a", "a", "b", "c"], ["a", "b", "b", "c"], ("a", "b", "c"))
    >>> {k: round(v, 3) for k, v in kappas.items()}
    {'a': 0.5, 'b': 0.5, 'c': 1.0}
"""

from __future__ import annotations

from collections import Counter
from typing import Sequence


def cohen_kappa(first: Sequence[str], second: Sequence[str]) -> float:
    """Cohen's kappa of two label sequences of equal length (1.0 when both are constant and equal)."""
    if len(first) != len(second) or not first:
        raise ValueError("two non-empty annotations of the same items are needed")
    n = len(first)
    observed = sum(a == b for a, b in zip(first, second)) / n
    left, right = Counter(first), Counter(second)
    expected = sum(left[label] * right[label] for label in left) / (n * n)
    return 1.0 if expected == 1.0 else (observed - expected) / (1.0 - expected)


def per_class_kappa(first: Sequence[str], second: Sequence[str], labels: Sequence[str]) -> dict[str, float]:
    """Each class's kappa, the class against all others (a class neither annotation uses is left out)."""
    out = {}
    for label in labels:
        a = [x == label for x in first]
        b = [x == label for x in second]
        if any(a) or any(b):
            out[label] = cohen_kappa(a, b)
    return out


def percent_agreement(first: Sequence[str], second: Sequence[str]) -> float:
    return sum(a == b for a, b in zip(first, second)) / len(first)
