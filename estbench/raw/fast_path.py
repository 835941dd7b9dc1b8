"""The fast raw-file parser: pyarrow reads a whole file and every check runs on columns.

It returns None as soon as anything is off (it never has to say what): the line-by-line parser then reports.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from .. import schema
from ..layout import LABEL_COLUMNS
from ..schema import EMOTIONS, Task
from .corpus import META_KEY, SATISFACTION_OF, SESSION_KEYS, TURN_KEYS, BuildReport, Labeler, ReadOptions, file_columns

# Python's str.isspace() characters, for the fast path's "non-empty string" checks (RE2 syntax)
_WHITESPACE_ONLY = (
    r"^[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*$"
)
_TURN_TYPE = pa.struct([*((key, pa.string()) for key in ("role", "text", *LABEL_COLUMNS)), ("substantive", pa.bool_())])
_RAW_SCHEMA = pa.schema(
    [("session_id", pa.string()), ("category", pa.string()), ("turns", pa.list_(_TURN_TYPE)),
     ("satisfaction", pa.string())]
)
assert set(_RAW_SCHEMA.names) == set(SESSION_KEYS) and {f.name for f in _TURN_TYPE} == set(TURN_KEYS)


def _blank(strings: pa.Array) -> np.ndarray:
    """Null, empty or white space only (as `not s or s.isspace()`)."""
    empty = pc.fill_null(pc.match_substring_regex(strings, _WHITESPACE_ONLY), True)
    return empty.to_numpy(zero_copy_only=False)


def _label_ids(values: pa.Array, labeler: Labeler, required: np.ndarray, optional: np.ndarray) -> np.ndarray | None:
    """Label ids of `values` (-1 where absent); None if a value is unknown or a required one is absent."""
    absent = _blank(values)  # "" or null count as absent, as in the slow path
    if (required & absent).any():
        return None
    ids = np.full(len(values), -1, dtype=np.int8)
    wanted = (required | optional) & ~absent
    if wanted.any():
        uniques = pc.unique(values.filter(pa.array(wanted)))
        try:
            lookup = np.array([labeler(v) for v in uniques.to_pylist()], dtype=np.int8)
        except ValueError:
            return None
        ids[wanted] = lookup[pc.index_in(values.filter(pa.array(wanted)), value_set=uniques).to_numpy()]
    return ids


def _unknown_keys(table: pa.Table, turns: pa.Array) -> dict[str, int]:
    """Keys outside raw format v1 (inferred by the reader) -> how many sessions / turns carry them."""
    found = {f"session key {name!r}": table[name].chunk(0) for name in table.column_names
             if name not in SESSION_KEYS and name != META_KEY}
    turn_type = turns.type.value_type
    found.update({f"turn key {turn_type.field(i).name!r}": turns.values.field(i) for i in range(turn_type.num_fields)
                  if turn_type.field(i).name not in (*TURN_KEYS, META_KEY)})
    return {name: len(values) - values.null_count for name, values in found.items() if len(values) > values.null_count}


def parse_arrow(path: Path, data: bytes, options: ReadOptions) -> tuple | None:
    """The fast path: pyarrow reads the whole file, checks run on columns. Returns None (-> the slow path reports)
    as soon as anything is off; it never has to say what."""
    n_lines = data.count(b"\n") + (not data.endswith(b"\n"))
    try:
        parse = pj.ParseOptions(explicit_schema=_RAW_SCHEMA, unexpected_field_behavior="infer")
        table = pj.read_json(io.BytesIO(data), parse_options=parse).combine_chunks()
    except Exception:  # malformed JSON, wrong types, non-UTF-8, ...: the slow path says where
        return None
    if table.num_rows == 0 or table.num_rows != n_lines:  # blank lines shift the line numbers
        return None
    session_id, category, turns, dialogue = (table[name].chunk(0) for name in _RAW_SCHEMA.names)
    if _blank(session_id).any() or turns.null_count:
        return None
    unknown = _unknown_keys(table, turns)
    if unknown and options.strict:
        return None
    known_category = pc.is_in(category, value_set=pa.array(schema.CATEGORY_NAMES))
    if not pc.all(pc.or_(pc.is_null(category), known_category)).as_py():
        return None
    lengths = pc.list_value_length(turns).to_numpy()
    flat = turns.flatten()
    if (lengths == 0).any() or flat.null_count:
        return None
    role, text = flat.field("role"), flat.field("text")
    user = pc.fill_null(pc.equal(role, "user"), False).to_numpy(zero_copy_only=False)
    agent = pc.fill_null(pc.equal(role, "agent"), False).to_numpy(zero_copy_only=False)
    if not (user | agent).all() or _blank(text).any():
        return None
    no = np.zeros(len(user), dtype=bool)
    labelers = [Labeler(t) for t in Task]
    dialogue_satisfaction = _label_ids(dialogue, labelers[2], required=np.zeros(len(dialogue), dtype=bool),
                                       optional=np.ones(len(dialogue), dtype=bool))
    if dialogue_satisfaction is None:
        return None
    emotion = _label_ids(flat.field("emotion"), labelers[0], required=user, optional=no)
    transition = _label_ids(flat.field("transition"), labelers[1], required=no, optional=user)
    satisfaction = _label_ids(flat.field("satisfaction"), labelers[2], required=no, optional=user)
    if emotion is None or transition is None or satisfaction is None:
        return None
    report = BuildReport(files=1, unknown_keys=unknown)
    given = satisfaction >= 0
    disagree = int((given & (satisfaction != SATISFACTION_OF[np.maximum(emotion, 0)])).sum())
    if disagree and not options.keep_given_satisfaction:
        return None
    substantive = flat.field("substantive")
    report.satisfaction_disagreements_kept = disagree

    # sessions without a user turn are skipped (and counted)
    session_of_turn = np.repeat(np.arange(len(lengths)), lengths)
    n_user = np.bincount(session_of_turn[user], minlength=len(lengths))
    keep = n_user > 0
    skipped = np.flatnonzero(~keep)
    report.sessions_skipped_no_user_turn = len(skipped)
    report.skipped_session_ids = session_id.take(pa.array(skipped[:10])).to_pylist()
    report.sessions_read = len(lengths)
    kept_rows = keep[session_of_turn]
    lengths, kept = lengths[keep], np.flatnonzero(keep)
    user, emotion, transition, satisfaction = (a[kept_rows] for a in (user, emotion, transition, satisfaction))
    substantive = substantive.filter(pa.array(kept_rows)) if len(skipped) else substantive
    report.substantive_given = int(pc.sum(pc.and_(pc.is_valid(substantive), pa.array(user))).as_py() or 0)
    given_substantive = substantive.to_pylist() if report.substantive_given else None
    text = text.filter(pa.array(kept_rows)) if len(skipped) else text
    role = role.filter(pa.array(kept_rows)) if len(skipped) else role
    session_of_turn = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    starts = np.r_[0, np.cumsum(lengths)]

    # per session, in Python but cheap: the initial utterance (the schema reads only up to it) and Table 2 turns
    user_rows = np.flatnonzero(user)
    user_bounds = np.searchsorted(user_rows, starts)
    roles = role.to_pylist()
    initial_rows, n_turns = [], []
    for s in range(len(lengths)):
        rows = user_rows[user_bounds[s] : user_bounds[s + 1]]
        found = schema.initial_utterance(
            ((text[int(r)].as_py(), EMOTIONS[emotion[r]],
              None if given_substantive is None else given_substantive[r]) for r in rows),
            emotional_fillers_count=options.emotional_fillers_count)
        initial_rows.append(-1 if found is None else int(rows[found]))
        n_turns.append(schema.count_turns(roles[starts[s] : starts[s + 1]]))
    sessions = {
        "session_id": session_id.take(pa.array(kept)),
        "category": pc.fill_null(category.take(pa.array(kept)), ""),
        "n_turns": n_turns,
        "line": kept + 1,
        "initial": initial_rows,
        "satisfaction": dialogue_satisfaction[kept],
    }
    report.dialogue_satisfaction_given = int((dialogue_satisfaction[kept] >= 0).sum())
    columns = file_columns(
        sessions,
        session_of_turn=session_of_turn,
        turn_index=pa.array(np.arange(len(user), dtype=np.int32) - np.repeat(starts[:-1], lengths).astype(np.int32)),
        user=user,
        text=text,
        emotion=emotion,
        transition=transition,
        satisfaction=satisfaction,
        report=report,
    )
    columns["ids"] = (session_id.to_pylist(), list(range(1, len(session_id) + 1)))
    return columns, [], report
