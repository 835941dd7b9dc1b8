"""The line-by-line raw-file parser: slower than the fast path, but it says what is wrong where (file:line: reason).

It runs on every file the fast path (`fast_path.parse_arrow`) does not accept, and gives the same columns for a valid
file (tested).
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import pyarrow as pa

from .. import schema
from ..errors import Problem
from ..layout import CONTEXT_PREFIX, LABEL_COLUMNS
from ..schema import EMOTIONS, SATISFACTION, Task
from .corpus import META_KEY, SATISFACTION_OF, SESSION_KEYS, TURN_KEYS, BuildReport, Labeler, ReadOptions, file_columns
from .json_codec import JSONDecodeError, json_loads


def check_turn(turn: object, where: str, labelers: Sequence[Labeler], reasons: list[str]) -> tuple:
    """Slow path for a turn the fast path could not accept: (role, text, emotion, transition, satisfaction) ids,
    -1 where absent; every problem goes to `reasons`. Valid aliases are memoised for the fast path."""
    if not isinstance(turn, dict):
        reasons.append(f"{where}: expected an object, got {type(turn).__name__}")
        return None, None, -1, -1, -1
    role, text = turn.get("role"), turn.get("text")
    if role is None:
        reasons.append(f"{where}: missing field 'role'")
    elif role not in CONTEXT_PREFIX:
        reasons.append(f"{where}: unknown role {role!r} (expected one of: {', '.join(schema.ROLES)})")
    if text is None:
        reasons.append(f"{where}: missing field 'text'")
    elif not isinstance(text, str) or not text.strip():
        reasons.append(f"{where}: 'text' must be a non-empty string, got {text!r:.40}")
    substantive = turn.get("substantive")
    if substantive is not None and not isinstance(substantive, bool):
        reasons.append(f"{where}: 'substantive' must be true or false, got {substantive!r:.40}")
    ids = [-1, -1, -1]
    if role == "user":
        for k, (labeler, key) in enumerate(zip(labelers, LABEL_COLUMNS)):
            value = turn.get(key)
            if value is None or value == "":
                if key == "emotion":
                    reasons.append(f"{where}: missing field 'emotion' (required on user turns)")
                continue
            try:
                ids[k] = labeler(value)
            except ValueError as err:
                reasons.append(f"{where}: {err}")
    return role, text, *ids


def parse_lines(
    path: Path, lines: list[str] | None, options: ReadOptions, problems: list[Problem]
) -> tuple[dict, list[Problem], BuildReport]:
    """The line-by-line path: every problem as file:line: reason. Turns go straight into flat lists.

    Every line whose session_id is a string is listed in `columns["ids"]` (with its line number), also when it has
    other problems, so a duplicate session_id is reported on any line."""
    report = BuildReport(files=1)
    labelers = [Labeler(t) for t in Task]
    emotion_ids, transition_ids, satisfaction_ids = (labeler.cache for labeler in labelers)
    for labeler in labelers:  # canonical names are always accepted
        for name in labeler.task.labels:
            labeler(name)
    sat_from_emotion = SATISFACTION_OF.tolist()
    sessions: dict[str, list] = {"session_id": [], "category": [], "n_turns": [], "line": [], "initial": [],
                                 "satisfaction": []}
    ids_seen: tuple[list[str], list[int]] = ([], [])
    known_session_keys, known_turn_keys = {*SESSION_KEYS, META_KEY}, {*TURN_KEYS, META_KEY}
    roles: list[str] = []
    is_user: list[bool] = []
    texts: list[str] = []
    emotions: list[int] = []
    transitions: list[int] = []
    satisfactions: list[int] = []
    given_substantive: list[bool | None] = []
    turn_index: list[int] = []
    seen_any = False

    def user_turns(begin: int, end: int, visited: list[int]):
        for g in range(begin, end):
            if is_user[g]:
                visited.append(g)
                yield texts[g], EMOTIONS[emotions[g]], given_substantive[g]

    def unknown(keys, known: set, level: str, reasons: list[str]) -> None:
        for key in keys:
            if key not in known:
                if options.strict:
                    reasons.append(f"unknown {level} key {key!r} (build without --strict to ignore it)")
                name = f"{level} key {key!r}"
                report.unknown_keys[name] = report.unknown_keys.get(name, 0) + 1

    for line_no, line in enumerate(lines or (), 1):
        if not line or line.isspace():
            continue
        seen_any = True
        try:
            obj = json_loads(line)
        except JSONDecodeError as err:
            problems.append(Problem(str(path), line_no, f"malformed JSON: {err}"))
            continue
        if not isinstance(obj, dict):
            reason = f"expected one JSON object per line, got {type(obj).__name__}"
            problems.append(Problem(str(path), line_no, reason))
            continue
        reasons: list[str] = []
        session_id = obj.get("session_id")
        if session_id is None:
            reasons.append("missing field 'session_id'")
        elif not isinstance(session_id, str) or not session_id.strip():
            reasons.append(f"'session_id' must be a non-empty string, got {session_id!r}")
        else:
            ids_seen[0].append(session_id)
            ids_seen[1].append(line_no)
        unknown(obj, known_session_keys, "session", reasons)
        dialogue_satisfaction = -1
        if obj.get("satisfaction") not in (None, ""):
            try:
                dialogue_satisfaction = labelers[2](obj["satisfaction"])
            except ValueError as err:
                reasons.append(f"session {err}")
        category = obj.get("category")
        if category is None:
            category = ""
        elif category not in schema.CATEGORIES:
            reasons.append(f"unknown category {category!r} (expected one of: {', '.join(schema.CATEGORY_NAMES)})")
        raw_turns = obj.get("turns")
        if raw_turns is None:
            reasons.append("missing field 'turns'")
            raw_turns = []
        elif not isinstance(raw_turns, list) or not raw_turns:
            reasons.append(f"'turns' must be a non-empty list, got {raw_turns!r:.40}")
            raw_turns = []
        begin, n_user = len(texts), 0
        for index, turn in enumerate(raw_turns):
            # fast path: a well-formed turn with known label spellings (the common case, ~3M times at paper scale)
            try:
                if len(turn) > 2 and not known_turn_keys.issuperset(turn):
                    unknown(turn, known_turn_keys, "turn", reasons)
                given = turn.get("substantive")
                if given is not None and type(given) is not bool:
                    raise KeyError
                role, text = turn["role"], turn["text"]
                if not text or type(text) is not str or text.isspace():
                    raise KeyError
                if role == "user":
                    emotion = emotion_ids[turn["emotion"]]
                    value = turn.get("transition")
                    transition = -1 if value is None or value == "" else transition_ids[value]
                    value = turn.get("satisfaction")
                    satisfaction = -1 if value is None or value == "" else satisfaction_ids[value]
                elif role == "agent":
                    emotion = transition = satisfaction = -1
                else:
                    raise KeyError
            except (KeyError, TypeError):
                role, text, emotion, transition, satisfaction = check_turn(turn, f"turn {index}", labelers, reasons)
                given = turn.get("substantive") if isinstance(turn, dict) else None
                given = given if isinstance(given, bool) else None
            if satisfaction >= 0 and emotion >= 0 and satisfaction != sat_from_emotion[emotion]:
                if options.keep_given_satisfaction:
                    report.satisfaction_disagreements_kept += 1
                else:
                    reasons.append(
                        f"turn {index}: satisfaction {SATISFACTION[satisfaction]!r} disagrees with emotion "
                        f"{EMOTIONS[emotion]!r} (expected {SATISFACTION[sat_from_emotion[emotion]]!r}; "
                        "build with --keep_given_satisfaction to keep it)"
                    )
            user = role == "user"
            n_user += user
            roles.append(role)
            is_user.append(user)
            texts.append(text)
            emotions.append(emotion)
            transitions.append(transition)
            satisfactions.append(satisfaction)
            given_substantive.append(given if user else None)
            report.substantive_given += user and given is not None
        end = len(texts)
        if reasons or not n_user:
            if reasons:
                problems.extend(Problem(str(path), line_no, reason) for reason in reasons)
            else:
                report.sessions_skipped_no_user_turn += 1
                if len(report.skipped_session_ids) < 10:
                    report.skipped_session_ids.append(session_id)
            for column in (roles, is_user, texts, emotions, transitions, satisfactions, given_substantive):
                del column[begin:]
            continue
        visited: list[int] = []
        initial = schema.initial_utterance(user_turns(begin, end, visited),
                                           emotional_fillers_count=options.emotional_fillers_count)
        report.dialogue_satisfaction_given += dialogue_satisfaction >= 0
        sessions["satisfaction"].append(dialogue_satisfaction)
        sessions["session_id"].append(session_id)
        sessions["category"].append(category)
        sessions["n_turns"].append(schema.count_turns(roles[begin:end]))
        sessions["line"].append(line_no)
        sessions["initial"].append(-1 if initial is None else visited[initial])
        turn_index.extend(range(end - begin))
    if lines is not None and not seen_any and not problems:
        problems.append(Problem(str(path), None, "empty file (no sessions)"))
    report.sessions_read = len(sessions["session_id"]) + report.sessions_skipped_no_user_turn

    n_turns = np.diff(np.flatnonzero(np.r_[np.array(turn_index, dtype=np.int64) == 0, True]))
    columns = file_columns(
        sessions,
        session_of_turn=np.repeat(np.arange(len(n_turns), dtype=np.int32), n_turns),
        turn_index=pa.array(turn_index, pa.int32()),
        user=np.array(is_user, dtype=bool),
        text=pa.array(texts, pa.string()),
        emotion=np.array(emotions, dtype=np.int8),
        transition=np.array(transitions, dtype=np.int8),
        satisfaction=np.array(satisfactions, dtype=np.int8),
        report=report,
    )
    columns["ids"] = ids_seen
    return columns, problems, report
