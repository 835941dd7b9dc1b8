"""The EST label schema: the ONE place where label sets, aliases and label mappings live.

Builder, simulator, metric, leaderboard and baselines all import from here; nothing else spells a label list.
Source: the EST paper, section 3.2 and Table 3.

- emotion (7): the paper's fine-grained user emotions, in the paper's order.
- polarity (3): Positive = Gratitude, Neutral = No Emotion, Negative = the other five.
- transition (9): "<initial polarity> to <current polarity>", initial polarity = that of the session's anchor, its
  first user utterance with substantive content (greetings, polite expressions, fillers and bare acknowledgements are
  skipped whatever their emotion, see `is_substantive` and `initial_utterance`).
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

# The class that ERC papers leave out of "without neutral" scores (DailyDialog, EmoWOZ); satisfaction has none:
# its Neutral is a rating in the middle of a scale, not the absence of one.
NEUTRAL_LABELS: dict[str, str] = {"emotion": NO_EMOTION, "transition": "Neutral to Neutral"}

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

# One Chinese name per label, in schema order (each is also an accepted alias above, so it reads back): prompts
# that write the labels in Chinese use these (baselines' `zh-labels` template).
_CHINESE_POLARITY = {"Positive": "积极", "Neutral": "中性", "Negative": "消极"}
CHINESE_LABELS: dict[str, tuple[str, ...]] = {
    "emotion": ("担忧", "愤怒", "辱骂", "失望", "焦虑", "感谢", "无情绪"),
    "transition": tuple(f"{_CHINESE_POLARITY[a]}到{_CHINESE_POLARITY[b]}" for a in POLARITIES for b in POLARITIES),
    "satisfaction": ("满意", "一般", "不满意"),
}


def chinese_names(task: "str | Task") -> dict[str, tuple[str, ...]]:
    """Every Chinese spelling of each of `task`'s labels, in schema order: its `CHINESE_LABELS` name first, then the
    other Chinese aliases above (what a chat prompt lists beside each canonical name; all of them read back).

    >>> chinese_names("satisfaction")["Neutral"]
    ('一般', '中立', '中性')
    """
    task = Task(task)
    aliases = {Task.EMOTION: EMOTION_ALIASES, Task.SATISFACTION: SATISFACTION_ALIASES}.get(task, {})
    names = {}
    for label, first in zip(task.labels, CHINESE_LABELS[task.value]):
        others = [alias for alias, target in aliases.items() if target == label and not alias.isascii()]
        names[label] = tuple(dict.fromkeys([first, *others]))
    return names


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


def label_id(task: str | Task, value: object) -> int:
    """The ClassLabel id (schema order) of a label name or a documented alias: the one name -> id rule, which
    `estbench.scoring.encode` applies to whole columns and the raw reader to every value it reads.

    >>> label_id("emotion", "失望"), label_id("satisfaction", "Neutral")
    (3, 1)
    """
    task = Task(task)
    return task.labels.index(normalize_label(task, value))


def polarity(emotion: str) -> str:
    return EMOTION_TO_POLARITY[emotion]


def satisfaction_of(emotion: str) -> str:
    return EMOTION_TO_SATISFACTION[emotion]


# --- the paper's initial-polarity rule -------------------------------------------------------------------------
# Paper 3.2: if the user's first utterance "contains only polite expressions or short sentences without substantive
# meaning (such as 'hello' or 'hmm'), subsequent turns are observed until information with clear semantics appears".
# The lexicon below is what such an utterance is made of; an utterance is substantive unless EVERY segment of it
# (split at punctuation and white space) is a run of these words, so a content word anywhere makes it substantive.
GREETINGS: tuple[str, ...] = (
    "你好", "您好", "你们好", "您们好", "哈喽", "嗨", "hello", "hi", "hey", "早上好", "上午好", "中午好", "下午好",
    "晚上好", "早", "早啊",
)
POLITE_EXPRESSIONS: tuple[str, ...] = (
    "谢谢", "谢谢你", "谢谢您", "谢了", "多谢", "感谢", "感谢你", "感谢您", "麻烦你了", "麻烦您了", "辛苦了",
    "辛苦你了", "不好意思", "打扰了", "打扰一下", "请问", "您请说", "拜拜", "再见", "好嘞",
)
INTERJECTIONS: tuple[str, ...] = (  # hesitations, back-channels and summons
    "喂", "嗯", "恩", "哦", "噢", "喔", "啊", "呃", "额", "唉", "哎", "诶", "欸", "嗯哼", "哈", "呀", "吧",
    "在吗", "在不在", "有人吗", "客服", "人工", "人工客服", "你说", "您说", "你讲", "请讲", "请说",
)
ACKNOWLEDGEMENTS: tuple[str, ...] = (
    "好", "好的", "好滴", "行", "可以", "ok", "okay", "对", "对的", "是", "是的", "是吧", "明白", "知道了", "收到",
    "我听着", "我在听",
)
# Who a greeting is addressed to: "小姐姐你好" and "这位听众你好" are greetings all the same.
ADDRESSEES: tuple[str, ...] = (
    "小姐姐", "小哥哥", "小姐", "先生", "女士", "美女", "帅哥", "师傅", "老师", "同志", "工作人员", "客服人员",
    "亲", "亲爱的", "这位", "听众", "朋友", "大家", "各位",
)
# Hesitation words are fillers only among interjections ("嗯，那个"); beside anything else they are content
# ("这个好" = "this one is good").
HESITATIONS: tuple[str, ...] = ("那个", "这个", "就是", "然后")
FILLER_WORDS: tuple[str, ...] = GREETINGS + POLITE_EXPRESSIONS + INTERJECTIONS + ACKNOWLEDGEMENTS


def _run_of(words: Sequence[str]) -> str:
    return "(?:" + "|".join(sorted(map(re.escape, words), key=len, reverse=True)) + ")+"


_FILLER_SEGMENT = re.compile(f"{_run_of(FILLER_WORDS + ADDRESSEES)}|{_run_of(INTERJECTIONS + HESITATIONS)}",
                             re.IGNORECASE)
_SEGMENT_BREAK = re.compile(r"[\s\W_]+", re.UNICODE)


def is_substantive(text: str) -> bool:
    """True when `text` says something beyond greetings, polite expressions, fillers and bare acknowledgements.

    Each segment (between punctuation and spaces) is judged whole: it is filler only if it is a run of the words of
    `FILLER_WORDS` (an addressee such as 小姐姐 may stand beside them) or of interjections and hesitations (嗯那个);
    any other segment is content.

    >>> [is_substantive(t) for t in ("你好！", "喂，你好，在吗？", "嗯嗯好的", "小姐姐你好", "好的谢谢", "这个好")]
    [False, False, False, False, False, True]
    >>> [is_substantive(t) for t in ("我的宽带又断了", "你好，我想查话费", "好麻烦", "嗯，那个", "就是好")]
    [True, True, True, False, True]
    """
    return not all(_FILLER_SEGMENT.fullmatch(segment) for segment in _SEGMENT_BREAK.split(text) if segment)


def initial_utterance(user_turns: Iterable[Sequence], *, emotional_fillers_count: bool = False) -> int | None:
    """Index of the user utterance that sets the session's initial polarity, the session's *anchor* (None if none).

    `user_turns` gives each user utterance in order as (text, canonical emotion) or (text, emotion, substantive),
    where substantive True/False overrides `is_substantive` (raw format's per-turn "substantive" key; None: detect).
    The paper's rule: the first substantive utterance, whatever its emotion. With `emotional_fillers_count`, an
    utterance with an emotion other than No Emotion counts too (an emotional "谢谢" or "喂？！" sets the polarity).
    Stops reading at the anchor, so the builder can call it on every session cheaply.

    >>> initial_utterance([("你好", "No Emotion"), ("嗯", "No Emotion"), ("我要查话费", "No Emotion")])
    2
    >>> initial_utterance([("谢谢你", "Gratitude"), ("我想问下话费", "No Emotion")])
    1
    >>> initial_utterance([("谢谢你", "Gratitude"), ("我想问下话费", "No Emotion")], emotional_fillers_count=True)
    0
    >>> initial_utterance([("xq12", "No Emotion", False), ("yz7", "Anger", None)])  # word ids: the flag decides
    1
    """
    for index, turn in enumerate(user_turns):
        text, emotion = turn[0], turn[1]
        given = turn[2] if len(turn) > 2 else None
        if emotional_fillers_count and emotion != NO_EMOTION:
            return index
        if given if given is not None else is_substantive(text):
            return index
    return None


def derive_transitions(user_turns: Iterable[Sequence], *, emotional_fillers_count: bool = False) -> list[str | None]:
    """Transitions for a session's user utterances, given as for `initial_utterance`.

    The initial polarity is that of the anchor (`initial_utterance`). The anchor and every user utterance before it
    get None; each later one gets "<initial> to <current>".

    >>> derive_transitions([("你好", "No Emotion"), ("网络又断了", "Anger"), ("好吧谢谢", "Gratitude")])
    [None, None, 'Negative to Positive']
    """
    user_turns = list(user_turns)
    start = initial_utterance(user_turns, emotional_fillers_count=emotional_fillers_count)
    if start is None:
        return [None] * len(user_turns)
    initial = polarity(user_turns[start][1])
    return [None] * (start + 1) + [f"{initial} to {polarity(turn[1])}" for turn in user_turns[start + 1 :]]


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
