"""A session under construction: turns, slot values and the user's latent emotional state.

Flows (`flows.py`) call `agent(...)` with the outcome of each agent reply (which moves the latent state) and
`user(act, content)`; the user's label is drawn by `emotions.emitted_emotion` and the text is realised here:
the act's content plus, when an emotion shows, a cue of random strength from the category's cue bank
(`phrases.cues_for`). Until the session's initial utterance (the first substantive or emotional user utterance,
`estbench.schema.initial_utterance`) is out, the emotion rarely shows; an upset caller states the matter and voices the
feeling in the next utterance (`emotions.delayed_cue`).
"""

from __future__ import annotations

import bisect
import random

from ..schema import CATEGORY_NAMES, is_substantive
from . import emotions
from .labels import ANGER, ANXIETY, DISAPPOINTMENT, NO_EMOTION, WORRY
from .phrases import (
    CUE_STRENGTHS,
    PREFIXES,
    QUESTION_SUFFIXES,
    REMARK_LEADS,
    SLOTS,
    SUFFIXES,
    cues_for,
)
from .topics import Topic

# How strongly an emotion is cued in the text (see phrases.py): P(explicit), P(moderate), P(implicit), P(none).
# "none": the utterance is its content only; the emotion is carried by the situation (a push-back right after a
# refusal, from a user who has been upset all along), exactly what a context-blind classifier cannot see.
CUE_STRENGTH_WEIGHTS = (0.2, 0.32, 0.28, 0.2)
# Probability that a comma-joined neutral utterance is transcribed as two consecutive user utterances.
SPLIT_PROBABILITY = 0.12
_CUE_THRESHOLDS = tuple(sum(CUE_STRENGTH_WEIGHTS[: i + 1]) for i in range(len(CUE_STRENGTHS) - 1))
# Acts whose content can carry an emotion on its own (not back-channels, ID numbers or goodbyes).
_CONTENT_ACTS = frozenset({"detail", "push", "followup"})
# Insult needs abusive words and Gratitude thanks; the other emotions can be read from the situation alone.
_SITUATIONAL_EMOTIONS = frozenset({WORRY, ANXIETY, ANGER, DISAPPOINTMENT})
# Acts after which a user may voice only the emotion ("行吧。", "太感谢了").
_CUE_ALONE_ACTS = frozenset({"react", "push", "close"})
# Acts whose utterance is shaped like a statement or question, dressed with spoken particles.
_DRESSED_ACTS = frozenset({"request", "detail", "answer", "followup", "push", "visit_reply"})
# Acts that can open a session with its matter, after which a hidden emotion may follow as a separate utterance.
_OPENING_ACTS = frozenset({"request", "visit_reply"})
# Shared implicit cues ("那怎么办呢", "算了") are reactions: they do not open a request or answer a question.
_NO_IMPLICIT_ACTS = frozenset({"request", "answer", "identity", "visit_reply"})
_CUES = {category: cues_for(category) for category in CATEGORY_NAMES}
_CJK_END = ("啊", "吧", "呢", "哈", "了", "的", "吗", "嘛", "呀", "哦")
_QUESTION_WORDS = ("吗", "什么", "怎么", "多少", "要不要", "能不能", "有没有", "哪", "多久", "是不是", "几")


class Dialogue:
    def __init__(self, rng: random.Random, category: str, topic: Topic):
        self.rng = rng
        self.category = category
        self.topic = topic
        self.slots = {name: rng.choice(values) for name, values in SLOTS.items()}
        self.state = emotions.initial_state(rng, category)
        self.turns: list[dict] = []
        self.opened = False  # has the session's initial utterance (estbench.schema.initial_utterance) been said?

    # --- helpers ----------------------------------------------------------------------------------------------
    def pick(self, options) -> str:
        text = self.rng.choice(options)
        return text.format_map(self.slots) if "{" in text else text

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    # --- turns ------------------------------------------------------------------------------------------------
    def agent(self, text: str, outcome: str = emotions.NEUTRAL) -> None:
        self.turns.append({"role": "agent", "text": text})
        self.state = emotions.next_state(self.rng, self.state, outcome)

    def user(self, act: str, content: str) -> str:
        """Append the user's utterance(s) for `act`; return the emotion shown."""
        opening = not self.opened
        emotion = emotions.emitted_emotion(self.rng, self.state, act, opening=opening)
        if emotion != NO_EMOTION:
            self._user_emotional(act, content, emotion)
        elif opening and act in _OPENING_ACTS and emotions.delayed_cue(self.rng, self.state):
            # the matter first (the initial utterance, calm), then the feeling it hid as the next utterance
            emotion = self.state
            self._user_emotional(act, content, emotion, delayed=True)
        else:
            self._user_neutral(act, content)
        return emotion

    def _append_user(self, text: str, emotion: str) -> None:
        self.turns.append({"role": "user", "text": text, "emotion": emotion})
        if not self.opened:
            self.opened = is_substantive(text)  # the paper's rule: a filler never opens, whatever its emotion

    def _dress(self, text: str, act: str) -> str:
        """Spoken-style particles around a content clause."""
        rng = self.rng
        if act not in _DRESSED_ACTS:
            return text
        text = rng.choice(PREFIXES) + text
        if text[-1] not in "，。？！…" and not text.endswith(_CJK_END):
            text += rng.choice(QUESTION_SUFFIXES if any(w in text for w in _QUESTION_WORDS) else SUFFIXES)
        return text

    def _user_neutral(self, act: str, content: str) -> None:
        if act in ("greet", "ack", "identity"):
            self._append_user(content, NO_EMOTION)
            return
        text = self._dress(content, act)
        if "，" in text and self.chance(SPLIT_PROBABILITY):
            head, tail = text.split("，", 1)
            self._append_user(head, NO_EMOTION)
            self._append_user(tail, NO_EMOTION)
        else:
            self._append_user(text, NO_EMOTION)

    def _user_emotional(self, act: str, content: str, emotion: str, delayed: bool = False) -> None:
        """`delayed`: the content as a calm utterance, then the cue alone as the next one."""
        rng = self.rng
        strength = CUE_STRENGTHS[bisect.bisect_right(_CUE_THRESHOLDS, rng.random())]
        if strength == "none" and delayed:
            strength = "implicit"  # a cue said on its own needs words
        if strength == "none":
            if act in _CONTENT_ACTS and emotion in _SITUATIONAL_EMOTIONS:
                self._append_user(self._dress(content, act), emotion)
                return
            strength = "implicit"
        if strength == "implicit" and act in _NO_IMPLICIT_ACTS:
            strength = "moderate"
        cue = rng.choice(_CUES[self.category][emotion][strength])
        form = 1.0 if delayed else rng.random()
        if act in _CUE_ALONE_ACTS and form < 0.3:
            self._append_user(self._remark(cue, strength), emotion)
        elif form < 0.6:
            text = self._dress(content, act)
            self._append_user(text + ("" if text[-1] in "，。？！…" else "，") + cue, emotion)
        elif form < 0.85:
            self._append_user(cue + "，" + content, emotion)
        else:
            # The content and the emotional remark as two consecutive utterances; only the remark carries it.
            self._append_user(self._dress(content, act), NO_EMOTION)
            self._append_user(self._remark(cue, strength), emotion)

    def _remark(self, cue: str, strength: str) -> str:
        """A cue said as an utterance of its own; clear cues sometimes get a spoken lead-in ("哎呀，", "说真的，")."""
        rng = self.rng
        lead = rng.choice(REMARK_LEADS) if strength != "implicit" and rng.random() < 0.35 else ""
        return lead + cue + rng.choice(("", "。", "！", "…"))
