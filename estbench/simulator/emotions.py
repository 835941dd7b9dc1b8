"""Emotion dynamics: a latent-state Markov chain over the seven EST emotions.

Each session has a latent emotional state (one of estbench.schema.EMOTIONS; No Emotion = calm). It starts from a
category-dependent distribution (`INITIAL`), and moves after every agent reply according to how that reply went
(`TRANSITIONS[outcome]`: a fix calms the user and may make them grateful, a refusal or "please wait" makes them
worried, disappointed, angry...). Whether a user utterance *shows* the latent state depends on what the utterance
does (`EXPRESSIVENESS`): reading out an ID number never carries emotion, pushing back after a refusal usually
does. The session's initial utterance (its first substantive one, `estbench.schema.initial_utterance`) is an exception
(`OPENING_EXPRESSIVENESS`): callers state their matter first and let the feeling out a moment later. The emitted
label is the latent state when shown, No Emotion otherwise - so labels follow the dialogue, and calm-looking
utterances of an upset user are honestly labelled No Emotion, as in the paper (96.3% No Emotion).

All tables are keyed by schema names (via `simulator.labels`). Their values were tuned with
`bench/bench_simulator.py` against the paper's Tables 2-3 (see the dataset card's calibration table).
"""

from __future__ import annotations

import bisect
import random

from ..schema import CATEGORY_NAMES, EMOTIONS
from .labels import ANGER, ANXIETY, DISAPPOINTMENT, GRATITUDE, INSULT, NO_EMOTION, WORRY

# Outcomes of an agent reply, from the user's point of view.
NEUTRAL, EMPATHY, GOOD, WAIT, BAD = "neutral", "empathy", "good", "wait", "bad"
OUTCOMES = (NEUTRAL, EMPATHY, GOOD, WAIT, BAD)

# Where a session's latent state starts, per service category.
INITIAL: dict[str, dict[str, float]] = {
    "business_consultation": {NO_EMOTION: 0.855, WORRY: 0.135, ANXIETY: 0.002, DISAPPOINTMENT: 0.008},
    "business_processing": {NO_EMOTION: 0.835, WORRY: 0.15, ANXIETY: 0.005, DISAPPOINTMENT: 0.01},
    "complaint_suggestion": {NO_EMOTION: 0.542, WORRY: 0.18, DISAPPOINTMENT: 0.19, ANGER: 0.05, INSULT: 0.066},
    "fault_report_tech_support": {NO_EMOTION: 0.646, WORRY: 0.31, ANXIETY: 0.014, ANGER: 0.01, DISAPPOINTMENT: 0.02},
    # A return visit may open with thanks ("已经好了，谢谢你们"): the paper's rare "Positive to *" sessions.
    "care_follow_up": {NO_EMOTION: 0.89, WORRY: 0.06, DISAPPOINTMENT: 0.015, ANGER: 0.005, GRATITUDE: 0.03},
}

# Next latent state given the current one and how the agent's reply went.
TRANSITIONS: dict[str, dict[str, dict[str, float]]] = {
    NEUTRAL: {
        NO_EMOTION: {NO_EMOTION: 0.9965, WORRY: 0.003, ANXIETY: 0.0005},
        WORRY: {WORRY: 0.87, NO_EMOTION: 0.122, ANXIETY: 0.008},
        ANXIETY: {ANXIETY: 0.8, NO_EMOTION: 0.15, WORRY: 0.03, ANGER: 0.02},
        ANGER: {ANGER: 0.82, NO_EMOTION: 0.11, DISAPPOINTMENT: 0.065, INSULT: 0.005},
        INSULT: {INSULT: 0.62, ANGER: 0.33, NO_EMOTION: 0.05},
        DISAPPOINTMENT: {DISAPPOINTMENT: 0.83, NO_EMOTION: 0.14, ANGER: 0.03},
        GRATITUDE: {GRATITUDE: 0.85, NO_EMOTION: 0.15},
    },
    EMPATHY: {
        NO_EMOTION: {NO_EMOTION: 1.0},
        WORRY: {WORRY: 0.7, NO_EMOTION: 0.3},
        ANXIETY: {ANXIETY: 0.7, NO_EMOTION: 0.25, WORRY: 0.05},
        ANGER: {ANGER: 0.7, NO_EMOTION: 0.15, DISAPPOINTMENT: 0.15},
        INSULT: {INSULT: 0.2, ANGER: 0.7, NO_EMOTION: 0.1},
        DISAPPOINTMENT: {DISAPPOINTMENT: 0.7, NO_EMOTION: 0.3},
        GRATITUDE: {GRATITUDE: 0.7, NO_EMOTION: 0.3},
    },
    GOOD: {
        NO_EMOTION: {NO_EMOTION: 0.905, GRATITUDE: 0.095},
        WORRY: {NO_EMOTION: 0.55, GRATITUDE: 0.25, WORRY: 0.2},
        ANXIETY: {NO_EMOTION: 0.5, GRATITUDE: 0.25, ANXIETY: 0.25},
        ANGER: {NO_EMOTION: 0.5, ANGER: 0.3, GRATITUDE: 0.1, DISAPPOINTMENT: 0.1},
        INSULT: {ANGER: 0.5, NO_EMOTION: 0.45, INSULT: 0.05},
        DISAPPOINTMENT: {NO_EMOTION: 0.5, GRATITUDE: 0.15, DISAPPOINTMENT: 0.35},
        GRATITUDE: {GRATITUDE: 0.9, NO_EMOTION: 0.1},
    },
    WAIT: {
        NO_EMOTION: {NO_EMOTION: 0.9, WORRY: 0.075, ANXIETY: 0.005, DISAPPOINTMENT: 0.02},
        WORRY: {WORRY: 0.78, ANXIETY: 0.02, NO_EMOTION: 0.2},
        ANXIETY: {ANXIETY: 0.75, ANGER: 0.04, WORRY: 0.09, NO_EMOTION: 0.12},
        ANGER: {ANGER: 0.7, DISAPPOINTMENT: 0.2, NO_EMOTION: 0.1},
        INSULT: {INSULT: 0.3, ANGER: 0.7},
        DISAPPOINTMENT: {DISAPPOINTMENT: 0.75, ANGER: 0.1, NO_EMOTION: 0.15},
        GRATITUDE: {NO_EMOTION: 0.6, GRATITUDE: 0.4},
    },
    BAD: {
        NO_EMOTION: {NO_EMOTION: 0.793, DISAPPOINTMENT: 0.076, WORRY: 0.115, ANGER: 0.012, ANXIETY: 0.004},
        WORRY: {WORRY: 0.645, ANXIETY: 0.025, DISAPPOINTMENT: 0.18, ANGER: 0.03, NO_EMOTION: 0.12},
        ANXIETY: {ANXIETY: 0.6, ANGER: 0.1, DISAPPOINTMENT: 0.15, NO_EMOTION: 0.15},
        ANGER: {ANGER: 0.6, INSULT: 0.15, DISAPPOINTMENT: 0.2, NO_EMOTION: 0.05},
        INSULT: {INSULT: 0.5, ANGER: 0.5},
        DISAPPOINTMENT: {DISAPPOINTMENT: 0.7, ANGER: 0.1, INSULT: 0.005, NO_EMOTION: 0.195},
        GRATITUDE: {NO_EMOTION: 0.6, DISAPPOINTMENT: 0.4},
    },
}

# What the user's utterance does -> probability that a non-calm latent state shows in it.
# Gratitude shows almost only when reacting to help or when saying goodbye.
EXPRESSIVENESS: dict[str, float] = {
    "greet": 0.0, "ack": 0.0, "identity": 0.0, "answer": 0.06, "request": 0.8, "visit_reply": 0.6,
    "detail": 0.4, "followup": 0.2, "react": 0.4, "push": 0.6, "close": 0.45,
}
GRATITUDE_EXPRESSIVENESS: dict[str, float] = {
    "greet": 0.0, "ack": 0.0, "identity": 0.0, "answer": 0.02, "request": 0.02, "visit_reply": 0.5, "detail": 0.02,
    "followup": 0.12, "react": 0.5, "push": 0.0, "close": 0.7,
}

# The initial utterance sets the session's initial polarity and therefore has no transition. In the paper nearly every
# Anger, Insult, Disappointment, Anxiety and Gratitude utterance has all three labels (Table 3: "Used in experiment"
# ~= "Annotation", 275 of 275 Insult), so these emotions almost never open a session; only Worry opens one now and
# then ("我手机怎么突然停机了"). A hidden opening emotion may come out in the very next utterance instead
# (`DELAYED_CUE`: "我家宽带又断了" then "都第三次了！"), the usual way an upset caller starts. Tuned so that about as
# many sessions open with an emotion as utterances carry one (3.8% vs 3.6% at N=90,000, bench_simulator.py).
OPENING_EXPRESSIVENESS: dict[str, float] = {
    WORRY: 0.3, ANXIETY: 0.02, ANGER: 0.01, INSULT: 0.0, DISAPPOINTMENT: 0.01, GRATITUDE: 0.01,
}
DELAYED_CUE: dict[str, float] = {
    WORRY: 0.5, ANXIETY: 0.4, ANGER: 0.7, INSULT: 0.4, DISAPPOINTMENT: 0.6, GRATITUDE: 0.3,
}


class _Sampler:
    """A categorical distribution sampled with one rng.random() call (fast; deterministic given the rng)."""

    __slots__ = ("values", "cumulative")

    def __init__(self, weights: dict[str, float]):
        self.values = tuple(weights)
        total, acc, cum = sum(weights.values()), 0.0, []
        for value in self.values:
            acc += weights[value] / total
            cum.append(acc)
        cum[-1] = 1.0
        self.cumulative = tuple(cum)

    def sample(self, rng: random.Random) -> str:
        return self.values[bisect.bisect_right(self.cumulative, rng.random())]


assert set(INITIAL) == set(CATEGORY_NAMES), "INITIAL must cover the schema categories"
assert all(set(table) == set(EMOTIONS) for table in TRANSITIONS.values()), "every state needs a transition row"
assert set(OPENING_EXPRESSIVENESS) == set(DELAYED_CUE) == set(EMOTIONS) - {NO_EMOTION}, "every non-calm state"

_INITIAL = {category: _Sampler(w) for category, w in INITIAL.items()}
_TRANSITIONS = {outcome: {state: _Sampler(w) for state, w in table.items()} for outcome, table in TRANSITIONS.items()}


def initial_state(rng: random.Random, category: str) -> str:
    return _INITIAL[category].sample(rng)


def next_state(rng: random.Random, state: str, outcome: str) -> str:
    return _TRANSITIONS[outcome][state].sample(rng)


def emitted_emotion(rng: random.Random, state: str, act: str, *, opening: bool = False) -> str:
    """The label of a user utterance doing `act` while in latent `state`.

    `opening`: the utterance may be the session's initial one (no substantive user utterance yet); the state then
    shows with at most `OPENING_EXPRESSIVENESS[state]`.
    """
    if state == NO_EMOTION:
        return NO_EMOTION
    p = (GRATITUDE_EXPRESSIVENESS if state == GRATITUDE else EXPRESSIVENESS)[act]
    if opening:
        p = min(p, OPENING_EXPRESSIVENESS[state])
    return state if rng.random() < p else NO_EMOTION


def delayed_cue(rng: random.Random, state: str) -> bool:
    """Whether an emotion the opening utterance hid comes out in the very next utterance."""
    return state != NO_EMOTION and rng.random() < DELAYED_CUE[state]
