"""The EST paper's published facts, in one home: Tables 2, 3 and 4 and the citation.

Everything that compares with the paper (the dataset card, the simulator's calibration, the balanced-subset rule,
the leaderboard's paper table) reads it from here. These are figures to compare with, NOT label lists: labels live in
`estbench.schema`. Source: `shared/reference/est-paper.md` (Bian et al.).
"""

from __future__ import annotations

import json
from pathlib import Path

from .schema import Task, normalize_label

CITATION = """\
@article{bian2025est,
  title  = {A Benchmark for Joint Dialogue Satisfaction, Emotion Recognition, and Emotion State Transition Prediction},
  author = {Bian, Jing and Su, Haoxiang and Jiang, Liting and Wu, Di and Fang, Ruiyu and Huang, Xiaomeng and
            Li, Yanbing and Song, Shuangyong and Huang, Hao},
  year   = {2025}
}
"""

TABLE2: dict[str, float] = {
    "sessions": 90_000,
    "turns": 1_240_327,
    "user_utterances": 1_590_895,
    "turns_per_session": 13.78,
}

# Table 3 rows exactly as the paper prints them (its own spellings, e.g. "Disappointed"): (Annotation, Used in
# experiment). `TABLE3` keys them by the schema's names through `normalize_label`.
_TABLE3_ROWS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "emotion": (
        ("Worry", 30_486, 13_696),
        ("Anger", 2_918, 2_911),
        ("Insult", 275, 275),
        ("Disappointed", 10_096, 10_017),
        ("Anxiety", 1_898, 1_870),
        ("Gratitude", 11_661, 11_561),
        ("No Emotion", 1_533_561, 10_892),
    ),
    "transition": (
        ("Positive to Neutral", 1_589, 265),
        ("Positive to Positive", 162, 42),
        ("Positive to Negative", 54, 43),
        ("Neutral to Neutral", 1_189_094, 9_914),
        ("Neutral to Positive", 45_552, 8_883),
        ("Neutral to Negative", 43_106, 18_603),
        ("Negative to Neutral", 201_209, 975),
        ("Negative to Positive", 7_326, 1_605),
        ("Negative to Negative", 12_735, 10_892),
    ),
    "satisfaction": (
        ("Satisfied", 11_661, 11_561),
        ("Dissatisfied", 45_673, 28_769),
        ("Neutral", 1_533_561, 10_892),
    ),
}
# task -> schema label -> (Annotation, Used in experiment), in schema order.
TABLE3: dict[str, dict[str, tuple[int, int]]] = {
    task.value: dict(
        sorted(
            ((normalize_label(task, name), (annotated, used)) for name, annotated, used in rows),
            key=lambda item, labels=task.labels: labels.index(item[0]),
        )
    )
    for task, rows in ((Task(t), r) for t, r in _TABLE3_ROWS.items())
}
assert all(list(TABLE3[t.value]) == list(t.labels) for t in Task), "Table 3 must cover every schema label"
# The paper's utterances with all three labels, the pool its "Used in experiment" column was drawn from: every
# utterance with a transition (the sum of Table 3's transition Annotation column, 1,500,827).
ELIGIBLE: int = sum(annotated for annotated, _ in TABLE3["transition"].values())

# Table 4 (main results on the paper's own, non-public balanced test set): data file beside this module.
TABLE4_FILE = Path(__file__).with_name("paper_table4.json")


def table4() -> dict:
    """{"source": ..., "track": "balanced", "rows": [{"model", "reference", "scores": {metric key: value}}]}."""
    return json.loads(TABLE4_FILE.read_text(encoding="utf-8"))


def round_half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves up, in exact integer arithmetic (no float ties)."""
    return (2 * numerator + denominator) // (2 * denominator)


def balanced_target(emotion: str, eligible: int) -> int:
    """The paper's "Used in experiment" count of `emotion` scaled to a corpus of `eligible` utterances:
    round(Used x N / P), P = `ELIGIBLE` (see `estbench.dataset.tables.balanced_targets` for why)."""
    return round_half_up(TABLE3["emotion"][emotion][1] * eligible, ELIGIBLE)
