"""Cross-task consistency of joint predictions: do a system's three answers for one utterance (and one session)
tell one story? EST's gold always does (paper section 3.2): satisfaction is the mapping of the emotion, a
transition's current polarity is the emotion's polarity, and every transition of a session starts from the one
initial polarity of its anchor. A system can score well per task and still contradict itself; these shares show it.

- `consistency_satisfaction_emotion`: share of utterances whose predicted satisfaction equals the mapping of the
  predicted emotion (Gratitude -> Satisfied, No Emotion -> Neutral, the other five -> Dissatisfied).
- `consistency_transition_emotion`: share of utterances whose predicted transition's current polarity equals the
  predicted emotion's polarity.
- `consistency_session_initial`: share of sessions whose predicted transitions all share one initial polarity
  (needs the session of every utterance).

>>> import numpy as np
>>> from estbench.schema import Task
>>> ids = {Task.EMOTION: np.array([1, 5]), Task.TRANSITION: np.array([5, 8]), Task.SATISFACTION: np.array([2, 0])}
>>> consistency(ids, session=np.array([0, 0]))
{'consistency_satisfaction_emotion': 1.0, 'consistency_transition_emotion': 0.5, 'consistency_session_initial': 0.0}
"""

from __future__ import annotations

import numpy as np

from .schema import EMOTION_TO_POLARITY, EMOTION_TO_SATISFACTION, EMOTIONS, POLARITIES, SATISFACTION, Task

CONSISTENCY_KEYS: tuple[str, ...] = (
    "consistency_satisfaction_emotion", "consistency_transition_emotion", "consistency_session_initial",
)
# ids in schema order; transitions are "<initial> to <current>", initial polarity major (schema.TRANSITIONS)
_SATISFACTION_OF_EMOTION = np.array([SATISFACTION.index(EMOTION_TO_SATISFACTION[e]) for e in EMOTIONS])
_POLARITY_OF_EMOTION = np.array([POLARITIES.index(EMOTION_TO_POLARITY[e]) for e in EMOTIONS])
_N_POLARITIES = len(POLARITIES)


def consistency(predicted: dict[Task, np.ndarray], session: np.ndarray | None = None) -> dict[str, float]:
    """`consistency_*` shares of joint predictions (label ids per task); the session share only with `session`,
    the 0-based session number of every utterance."""
    emotion = np.asarray(predicted[Task.EMOTION])
    transition = np.asarray(predicted[Task.TRANSITION])
    out = {
        "consistency_satisfaction_emotion":
            float(np.mean(_SATISFACTION_OF_EMOTION[emotion] == np.asarray(predicted[Task.SATISFACTION]))),
        "consistency_transition_emotion": float(np.mean(transition % _N_POLARITIES == _POLARITY_OF_EMOTION[emotion])),
    }
    if session is not None:
        n_sessions = int(session.max()) + 1
        # a session is consistent when only one of the three initial polarities occurs among its predictions
        seen = np.zeros((n_sessions, _N_POLARITIES), dtype=bool)
        seen[session, transition // _N_POLARITIES] = True
        out["consistency_session_initial"] = float(np.mean(seen.sum(axis=1) == 1))
    return out
