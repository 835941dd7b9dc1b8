"""A validated raw corpus as two Arrow tables, and the column assembly both raw-file parsers share.

`file_columns` derives the labels a raw file leaves out (satisfaction from the emotion; the transition of every user
utterance after the session's anchor) in one vectorised step, so the fast and the line-by-line parser cannot differ.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pyarrow as pa

from .. import schema
from ..schema import EMOTIONS, Task, label_id


@dataclasses.dataclass
class ReadOptions:
    """How raw data is read: the reading part of a build's options (`estbench.dataset.BuildOptions` adds the rest;
    the builder config `EstConfig` and the `build` command line are generated from them, so each is declared once,
    here, with its help)."""

    keep_given_satisfaction: bool = dataclasses.field(default=False, metadata={
        "help": "keep annotated satisfaction labels that disagree with the emotion (counted in the report) instead "
                "of failing"})
    emotional_fillers_count: bool = dataclasses.field(default=False, metadata={
        "help": "let an emotional filler (e.g. 谢谢 labelled Gratitude) be the anchor; the paper's rule (the default) "
                "skips fillers whatever their emotion. The card states which rule was used"})
    strict: bool = dataclasses.field(default=False, metadata={
        "help": "unknown keys in the raw data are errors, not warnings"})

    def read_options(self) -> "ReadOptions":
        """Just the reading options (of a subclass's wider set)."""
        return ReadOptions(**{f.name: getattr(self, f.name) for f in dataclasses.fields(ReadOptions)})


@dataclasses.dataclass
class BuildReport:
    files: int = 0
    sessions_read: int = 0
    sessions_skipped_no_user_turn: int = 0
    skipped_session_ids: list[str] = dataclasses.field(default_factory=list)  # the first few, for the summary
    satisfaction_disagreements_kept: int = 0
    transitions_given: int = 0
    transitions_derived: int = 0
    satisfaction_given: int = 0
    satisfaction_derived: int = 0
    dialogue_satisfaction_given: int = 0  # sessions with a session-level "satisfaction"
    substantive_given: int = 0  # user turns whose "substantive" flag overrides the detector
    sessions_without_anchor: int = 0  # only fillers: no transition at all
    unknown_keys: dict[str, int] = dataclasses.field(default_factory=dict)  # "session key 'x'" -> count (ignored)

    def merge(self, other: "BuildReport") -> None:
        for field in dataclasses.fields(self):
            if field.name == "skipped_session_ids":
                self.skipped_session_ids.extend(other.skipped_session_ids[: 10 - len(self.skipped_session_ids)])
            elif field.name == "unknown_keys":
                for key, count in other.unknown_keys.items():
                    self.unknown_keys[key] = self.unknown_keys.get(key, 0) + count
            else:
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@dataclasses.dataclass
class Corpus:
    """A validated corpus. `turns` holds every turn of every kept session in order (session, turn)."""

    # session_id, category, n_turns (Table 2 turns, schema.count_turns), anchor_turn (turn index of the anchor, the
    # utterance that sets the initial polarity; -1: none), satisfaction (session-level label id; -1: not given)
    sessions: pa.Table
    turns: pa.Table  # session (int32 row in `sessions`), turn, is_user, text, emotion, transition, satisfaction
    report: BuildReport


class Labeler:
    """Label name/alias -> id, memoised (`schema.label_id` is the authority; most values repeat)."""

    def __init__(self, task: Task):
        self.task, self.cache = task, {}

    def __call__(self, value: object) -> int:
        try:
            return self.cache[value]
        except (KeyError, TypeError):
            found = label_id(self.task, value)
            if isinstance(value, str):
                self.cache[value] = found
            return found


def _transition_table() -> np.ndarray:
    """[initial emotion, current emotion] -> transition id, taken from `schema.derive_transitions` itself."""
    table = np.empty((len(EMOTIONS), len(EMOTIONS)), dtype=np.int8)
    for i, initial in enumerate(EMOTIONS):
        for j, current in enumerate(EMOTIONS):  # "x" is substantive, so the first utterance sets the polarity
            table[i, j] = label_id(Task.TRANSITION, schema.derive_transitions([("x", initial), ("x", current)])[1])
    return table


TRANSITION_AFTER = _transition_table()
SATISFACTION_OF = np.array([label_id(Task.SATISFACTION, schema.satisfaction_of(e)) for e in EMOTIONS], np.int8)
SESSION_KEYS = ("session_id", "category", "turns", "satisfaction")  # raw format v1, session level
TURN_KEYS = ("role", "text", "emotion", "transition", "satisfaction", "substantive")  # and per turn
META_KEY = "meta"  # an object of the source's own fields (speaker, dialogue act, ...), at either level: ignored


def _array(values, type: pa.DataType) -> pa.Array:
    return values.cast(type) if isinstance(values, pa.Array) else pa.array(values, type)


def file_columns(sessions: dict[str, list], *, session_of_turn, turn_index, user, text, emotion, transition,
                  satisfaction, report: BuildReport) -> dict[str, pa.Table]:
    """Derive the absent labels (vectorised) and assemble a file's tables: satisfaction from the emotion; the
    transition of every user utterance after the session's anchor (`sessions["initial"]`, a turn row; -1: none)."""
    anchor_row = np.array(sessions["initial"], dtype=np.int64)
    starts = np.searchsorted(session_of_turn, np.arange(len(anchor_row)))
    report.sessions_without_anchor = int((anchor_row < 0).sum())
    initial = anchor_row[session_of_turn]
    derive = user & (transition < 0) & (initial >= 0) & (np.arange(len(user)) > initial)
    report.transitions_given = int((user & (transition >= 0)).sum())
    report.transitions_derived = int(derive.sum())
    transition[derive] = TRANSITION_AFTER[emotion[initial[derive]], emotion[derive]]
    absent = user & (satisfaction < 0)
    report.satisfaction_given = int((user & (satisfaction >= 0)).sum())
    report.satisfaction_derived = int(absent.sum())
    satisfaction[absent] = SATISFACTION_OF[emotion[absent]]
    return {
        "sessions": pa.table(
            {
                "session_id": _array(sessions["session_id"], pa.string()),
                "category": _array(sessions["category"], pa.string()),
                "n_turns": _array(sessions["n_turns"], pa.int32()),
                "anchor_turn": pa.array(np.where(anchor_row >= 0, anchor_row - starts, -1), pa.int32()),
                "satisfaction": pa.array(np.asarray(sessions["satisfaction"], dtype=np.int8)),
                "line": _array(sessions["line"], pa.int32()),
            }
        ),
        "turns": pa.table(
            {
                "session": pa.array(session_of_turn, pa.int32()),
                "turn": turn_index,
                "is_user": pa.array(user),
                "text": text,
                "emotion": pa.array(emotion),
                "transition": pa.array(transition),
                "satisfaction": pa.array(satisfaction),
            }
        ),
    }

