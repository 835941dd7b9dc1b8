"""The emotion names the simulator uses, taken from `estbench.schema` (never re-spelled here).

Each name is looked up through the schema's own Chinese alias table, so the simulator's probability tables stay
keyed by the canonical schema names even if their order there ever changes.
"""

from ..schema import EMOTIONS, NO_EMOTION, normalize_label

WORRY = normalize_label("emotion", "担心")
ANGER = normalize_label("emotion", "愤怒")
INSULT = normalize_label("emotion", "辱骂")
DISAPPOINTMENT = normalize_label("emotion", "失望")
ANXIETY = normalize_label("emotion", "焦虑")
GRATITUDE = normalize_label("emotion", "感谢")

NEGATIVE_EMOTIONS = (WORRY, ANGER, INSULT, DISAPPOINTMENT, ANXIETY)

assert set(NEGATIVE_EMOTIONS + (GRATITUDE, NO_EMOTION)) == set(EMOTIONS), "the schema changed its emotion set"

__all__ = ["WORRY", "ANGER", "INSULT", "DISAPPOINTMENT", "ANXIETY", "GRATITUDE", "NO_EMOTION", "NEGATIVE_EMOTIONS"]
