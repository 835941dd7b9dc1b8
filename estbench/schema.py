"""The EST label schema: the ONE place where label sets, aliases and label mappings live.

Builder, simulator, metric, leaderboard and baselines all import from here; nothing else spells a label list.
Source: the EST paper, section 3.2 and Table 3.

- emotion (7): the paper's fine-grained user emotions, in the paper's order.
- polarity (3): Positive = Gratitude, Neutral = No Emotion, Negative = the other five.
- transition (9): "<initial polarity> to <current polarity>", initial polarity = that of the first user utterance
  with substantive content in the session (greetings and fillers are skipped, see `is_substantive`).
- satisfaction (3): Satisfied = Gratitude, Neutral = No Emotion, Dissatisfied = the other five.

Raw input may spell labels with the aliases in `EMOTION_ALIASES`, `POLARITY_ALIASES` and `SATISFACTION_ALIASES`
(case-insensitive for English; Chinese as written). `normalize_label` turns any accepted spelling into the
canonical name and raises `ValueError` naming the value otherwise.
"""

from __future__ import annotations

import enum
import re
from typing import Iterable, Sequence

EMOTIONS: tuple[str, ...] = (
    "Worry",
    "Anger",
    "Insult",
    "Disappointment",
    "Anxiety",
    "Gratitude",
    "No Emotion",
)
NO_EMOTION = "No Emotion"

POLARITIES: tuple[str, ...] = ("Positive", "Neutral", "Negative")

# Systematic 3x3 order: initial polarity major, current polarity minor.
TRANSITIONS: tuple[str, ...] = tuple(f"{initial} to {current}" for initial in POLARITIES for current in POLARITIES)

SATISFACTION: tuple[str, ...] = ("Satisfied", "Neutral", "Dissatisfied")

EMOTION_TO_POLARITY: dict[str, str] = {
    emotion: ("Positive" if emotion == "Gratitude" else "Neutral" if emotion == NO_EMOTION else "Negative")
    for emotion in EMOTIONS
}
POLARITY_TO_SATISFACTION: dict[str, str] = dict(zip(POLARITIES, SATISFACTION))
EMOTION_TO_SATISFACTION: dict[str, str] = {e: POLARITY_TO_SATISFACTION[p] for e, p in EMOTION_TO_POLARITY.items()}

# Service categories of the paper's section 3.1: raw-format key -> (English name, Chinese name).
CATEGORIES: dict[str, tuple[str, str]] = {
    "business_consultation": ("Business consultation", "业务咨询"),
    "business_processing": ("Business processing", "业务办理"),
    "complaint_suggestion": ("Complaint and suggestion", "投诉建议"),
    "fault_report_tech_support": ("Fault reporting and technical support", "故障报修与技术支持"),
    "care_follow_up": ("Customer care and return visit", "客户关怀与回访"),
}
CATEGORY_NAMES: tuple[str, ...] = tuple(CATEGORIES)

ROLES: tuple[str, ...] = ("user", "agent")

class Task(str, enum.Enum):
    """The three EST tasks. `Task.X.labels` is that task's ordered label list (ClassLabel names)."""

    EMOTION = "emotion"
    TRANSITION = "transition"
    SATISFACTION = "satisfaction"

    @property
    def labels(self) -> tuple[str, ...]:
        return {"emotion": EMOTIONS, "transition": TRANSITIONS, "satisfaction": SATISFACTION}[self.value]

    @property
    def title(self) -> str:
        return {"emotion": "Emotion", "transition": "Emotion transition", "satisfaction": "Satisfaction"}[self.value]


TASKS: tuple[Task, ...] = tuple(Task)
TASK_NAMES: tuple[str, ...] = tuple(t.value for t in Task)

# --- aliases accepted in raw input (documented in the README and the dataset card) ----------------------------
EMOTION_ALIASES: dict[str, str] = {
    "disappointed": "Disappointment",  # Table 3 of the paper spells it this way
    "none": NO_EMOTION,
    "neutral": NO_EMOTION,
    "no_emotion": NO_EMOTION,
    "担心": "Worry",
    "担忧": "Worry",
    "愤怒": "Anger",
    "生气": "Anger",
    "辱骂": "Insult",
    "侮辱": "Insult",
    "失望": "Disappointment",
    "焦虑": "Anxiety",
    "着急": "Anxiety",
    "感谢": "Gratitude",
    "感激": "Gratitude",
    "无情绪": NO_EMOTION,
    "无": NO_EMOTION,
    "中性": NO_EMOTION,
}
POLARITY_ALIASES: dict[str, str] = {
    "正向": "Positive",
    "正面": "Positive",
    "积极": "Positive",
    "中性": "Neutral",
    "中立": "Neutral",
    "负向": "Negative",
    "负面": "Negative",
    "消极": "Negative",
}
SATISFACTION_ALIASES: dict[str, str] = {
    "满意": "Satisfied",
    "中立": "Neutral",
    "一般": "Neutral",
    "中性": "Neutral",
    "不满意": "Dissatisfied",
    "不满": "Dissatisfied",
}


def _lookup(canonical: Sequence[str], aliases: dict[str, str]) -> dict[str, str]:
    table = {name.casefold(): name for name in canonical}
    table.update({alias.casefold(): name for alias, name in aliases.items()})
    return table


_EMOTION_LOOKUP = _lookup(EMOTIONS, EMOTION_ALIASES)
_POLARITY_LOOKUP = _lookup(POLARITIES, POLARITY_ALIASES)
_SATISFACTION_LOOKUP = _lookup(SATISFACTION, SATISFACTION_ALIASES)
# "<p> to <p>", "<p>到<p>", "<p>-><p>", "<p>→<p>"
_TRANSITION_SPLIT = re.compile(r"\s+to\s+|\s*(?:->|→|到)\s*", re.IGNORECASE)


def _normalize_transition(value: str) -> str | None:
    parts = _TRANSITION_SPLIT.split(value.strip())
    if len(parts) != 2:
        return None
    initial, current = (_POLARITY_LOOKUP.get(p.strip().casefold()) for p in parts)
    if initial is None or current is None:
        return None
    return f"{initial} to {current}"


def normalize_label(task: str | Task, value: object) -> str:
    """Return the canonical label name of `value` for `task`, accepting the documented aliases.

    >>> normalize_label("emotion", "失望")
    'Disappointment'
    >>> normalize_label("transition", "neutral to NEGATIVE")
    'Neutral to Negative'
    >>> normalize_label("satisfaction", "Happy")
    Traceback (most recent call last):
    ...
    ValueError: unknown satisfaction label 'Happy' (expected one of: Satisfied, Neutral, Dissatisfied)
    """
    task = Task(task)
    found = None
    if isinstance(value, str):
        key = value.strip().casefold()
        if task is Task.EMOTION:
            found = _EMOTION_LOOKUP.get(key)
        elif task is Task.SATISFACTION:
            found = _SATISFACTION_LOOKUP.get(key)
        else:
            found = _normalize_transition(value)
    if found is None:
        raise ValueError(f"unknown {task.value} label {value!r} (expected one of: {', '.join(task.labels)})")
    return found


def polarity(emotion: str) -> str:
    return EMOTION_TO_POLARITY[emotion]


def satisfaction_of(emotion: str) -> str:
    return EMOTION_TO_SATISFACTION[emotion]


# --- the paper's initial-polarity rule -------------------------------------------------------------------------
# An utterance that is only greetings, fillers, courtesy or a bare acknowledgement has no substantive content
# (paper 3.2: "only polite expressions or short sentences without substantive meaning (such as 'hello' or 'hmm')").
FILLER_WORDS: tuple[str, ...] = (
    "你好", "您好", "你们好", "喂", "嗯", "嗯嗯", "恩", "哦", "噢", "喔", "啊", "呃", "额", "唉", "哎", "诶", "欸",
    "在吗", "在不在", "有人吗", "哈喽", "嗨", "hello", "hi", "hey", "ok", "okay", "好", "好的", "好滴", "行",
    "对", "对的", "是", "是的", "是吧", "嗯哼", "请问", "麻烦", "那个", "这个", "就是", "客服", "人工", "人工客服",
    "早上好", "上午好", "中午好", "下午好", "晚上好", "打扰了", "不好意思", "您好客服", "你好客服",
)
_FILLER_PATTERN = re.compile(
    "(?:" + "|".join(sorted(map(re.escape, FILLER_WORDS), key=len, reverse=True)) + ")", re.IGNORECASE
)
_PUNCTUATION = re.compile(r"[\s\W_]+", re.UNICODE)


def is_substantive(text: str) -> bool:
    """True when `text` says something beyond greetings/fillers (the list `FILLER_WORDS`).

    The rule: strip punctuation and white space, remove every filler word; whatever is left is content.

    >>> [is_substantive(t) for t in ("你好！", "喂，你好，在吗？", "嗯嗯", "我的宽带又断了", "你好，我想查话费")]
    [False, False, False, True, True]
    """
    rest = _FILLER_PATTERN.sub("", _PUNCTUATION.sub("", text))
    return bool(rest)


def initial_utterance(user_turns: Iterable[tuple[str, str]]) -> int | None:
    """Index of the user utterance that sets the session's initial polarity (None if there is none).

    It is the first user utterance, given as (text, canonical emotion) in order, that is substantive or carries an
    emotion other than No Emotion (an emotional "谢谢" or "喂？！" states a clear sentiment). Stops reading there, so
    the dataset builder can call it on every session cheaply.

    >>> initial_utterance([("你好", "No Emotion"), ("嗯", "No Emotion"), ("我要查话费", "No Emotion")])
    2
    """
    for index, (text, emotion) in enumerate(user_turns):
        if emotion != NO_EMOTION or is_substantive(text):
            return index
    return None


def derive_transitions(user_turns: Iterable[tuple[str, str]]) -> list[str | None]:
    """Transitions for a session's user utterances, given as (text, canonical emotion) in order.

    The initial polarity is that of the `initial_utterance`. That utterance and every user utterance before it get
    None; each later one gets "<initial> to <current>".

    >>> derive_transitions([("你好", "No Emotion"), ("网络又断了", "Anger"), ("好吧谢谢", "Gratitude")])
    [None, None, 'Negative to Positive']
    """
    user_turns = list(user_turns)
    start = initial_utterance(user_turns)
    if start is None:
        return [None] * len(user_turns)
    initial = polarity(user_turns[start][1])
    return [None] * (start + 1) + [f"{initial} to {polarity(emotion)}" for _, emotion in user_turns[start + 1 :]]


def count_turns(roles: Iterable[str]) -> int:
    """Number of turns of a session in the sense of the paper's Table 2 (1,240,327 turns < 1,590,895 user utterances).

    A turn is one exchange: the user's consecutive utterances together with the agent's reply. It is counted as the
    number of maximal runs of consecutive user utterances, so several user utterances in a row make one turn.

    >>> count_turns(["agent", "user", "user", "agent", "user", "agent"])
    2
    """
    turns, previous = 0, None
    for role in roles:
        if role == "user" and previous != "user":
            turns += 1
        previous = role
    return turns
