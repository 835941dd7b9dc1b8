"""Corpus statistics of raw v1 sessions, and the calibration table against the paper (Tables 2-3).

Turns are counted as in the paper's Table 2 (`estbench.schema.count_turns`); transitions are derived exactly as the
builder derives them (`estbench.schema.derive_transitions`), so the figures describe the built dataset.
"""

from __future__ import annotations

import gzip
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

from .. import paper
from ..schema import (
    EMOTIONS,
    NO_EMOTION,
    TRANSITIONS,
    count_turns,
    derive_transitions,
    initial_utterance,
)


def read_sessions(paths: Iterable[str | Path]) -> Iterator[dict]:
    for path in paths:
        with gzip.open(path, "rt", encoding="utf-8") as f:
            for line in f:
                yield json.loads(line)


@dataclass
class CorpusStats:
    sessions: int = 0
    turns: int = 0
    user_utterances: int = 0
    emotions: Counter = None
    transitions: Counter = None
    categories: Counter = None
    eligible: Counter = None  # emotions of the utterances that have a transition (all three labels)
    initial: Counter = None  # emotions of the sessions' initial utterances (estbench.schema.initial_utterance)

    def __post_init__(self):
        for name in ("emotions", "transitions", "categories", "eligible", "initial"):
            if getattr(self, name) is None:
                setattr(self, name, Counter())

    def add(self, session: dict) -> None:
        turns = session["turns"]
        user = [(t["text"], t["emotion"]) for t in turns if t["role"] == "user"]
        self.sessions += 1
        self.turns += count_turns(t["role"] for t in turns)
        self.user_utterances += len(user)
        self.emotions.update(emotion for _, emotion in user)
        transitions = derive_transitions(user)
        self.transitions.update(t for t in transitions if t is not None)
        self.eligible.update(emotion for (_, emotion), t in zip(user, transitions) if t is not None)
        start = initial_utterance(user)
        if start is not None:
            self.initial[user[start][1]] += 1
        self.categories[session.get("category", "")] += 1

    @classmethod
    def of(cls, sessions: Iterable[dict]) -> "CorpusStats":
        stats = cls()
        for session in sessions:
            stats.add(session)
        return stats

    def emotion_share(self, emotion: str) -> float:
        return self.emotions[emotion] / self.user_utterances

    def transition_share(self, transition: str) -> float:
        return self.transitions[transition] / max(1, sum(self.transitions.values()))


@dataclass(frozen=True)
class CalibrationRow:
    statistic: str
    measured: float
    paper: float
    tolerance: str  # human-readable
    ok: bool


# The acceptance bands at paper scale (N=90,000). `scale` widens them for smaller runs (tests use ~3).
TURNS_REL_TOL = 0.05
USER_UTTERANCES_REL_TOL = 0.10
NO_EMOTION_ABS_TOL = 0.005
EMOTION_REL_TOL = 0.15


def calibration(stats: CorpusStats, scale: float = 1.0, noise_sigmas: float | None = None) -> list[CalibrationRow]:
    """Measured vs paper for every calibrated statistic, with pass/fail under the (scaled) tolerances.

    `noise_sigmas`: for small runs, widen each emotion's band to at least this many Poisson standard deviations of
    the count the paper's share predicts (a 5,000-session run expects only ~15 Insult utterances).
    """

    paper_users = paper.TABLE2["user_utterances"]
    rows = []

    def rel(name, measured, expected, tol):
        tol *= scale
        rows.append(CalibrationRow(name, measured, expected, f"±{tol:.0%}", abs(measured - expected) <= tol * expected))

    rel("turns per session", stats.turns / stats.sessions, paper.TABLE2["turns_per_session"], TURNS_REL_TOL)
    rel("user utterances per session", stats.user_utterances / stats.sessions,
        paper_users / paper.TABLE2["sessions"], USER_UTTERANCES_REL_TOL)
    rel("user utterances per turn", stats.user_utterances / stats.turns, paper_users / paper.TABLE2["turns"],
        USER_UTTERANCES_REL_TOL)
    for emotion in EMOTIONS:
        measured, expected = stats.emotion_share(emotion), paper.TABLE3["emotion"][emotion][0] / paper_users
        if emotion == NO_EMOTION:
            tol = NO_EMOTION_ABS_TOL * scale
            rows.append(CalibrationRow(f"share {emotion}", measured, expected, f"±{tol * 100:.1f} pt",
                                       abs(measured - expected) <= tol))
        else:
            tol = EMOTION_REL_TOL
            if noise_sigmas:
                tol = max(tol, noise_sigmas / (expected * stats.user_utterances) ** 0.5 / scale)
            rel(f"share {emotion}", measured, expected, tol)
    return rows


def availability(stats: CorpusStats) -> list[tuple[str, int, int, int, int, int]]:
    """Per emotion: (emotion, utterances, initial utterances, eligible = with a transition, the paper's "Used in
    experiment" count, the builder's scaled balanced target round(Used x N / P) before its cap by eligibility).

    The builder's balanced subset (`estbench.dataset.tables.balanced_targets`) meets the paper's column only where
    eligible >= the scaled target; an emotion that opens sessions loses those utterances (they set the initial polarity).
    """

    n_eligible = sum(stats.eligible.values())
    return [
        (e, stats.emotions[e], stats.initial[e], stats.eligible[e], paper.TABLE3["emotion"][e][1],
         paper.balanced_target(e, n_eligible))
        for e in EMOTIONS
    ]


def transition_comparison(stats: CorpusStats) -> list[tuple[str, float, float]]:
    """(transition, derived share in this corpus, annotated share in the paper's Table 3)."""

    annotated = {t: paper.TABLE3["transition"][t][0] for t in TRANSITIONS}
    total = sum(annotated.values())
    return [(t, stats.transition_share(t), annotated[t] / total) for t in TRANSITIONS]
