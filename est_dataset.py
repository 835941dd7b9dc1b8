"""EST dataset builder: raw session files (format v1) -> a Hub-ready folder of Parquet configs + dataset card.

    python est_dataset.py build [--data-dir RAW] [--out est]    # no --data-dir: the embedded simulated default corpus
    python est_dataset.py simulate --sessions N --seed S --out RAW
    python est_dataset.py push --repo-id ORG/est [--folder est]

Python users can also run the `datasets` builder class directly (both paths produce the same rows):

    Est(config_name="joint", data_dir=RAW).download_and_prepare()

Pipeline: `read_raw` validates every session (one report listing every problem as file:line: reason) and derives the
missing transitions / satisfaction labels with `est_labels`; `EstTables` turns the corpus into per-config, per-split
Arrow tables with vectorised pyarrow/numpy operations (paper scale: ~1.6M utterances); `build` writes them to a
temporary folder next to `--out`, renders `dataset_card.md` into `README.md` and swaps the folder in at the end.
"""

from __future__ import annotations

import argparse
import dataclasses
import gzip
import hashlib
import json
import math
import os
import re
import shutil
import sys
import tempfile
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Iterator, Mapping, Sequence

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

import est_labels
from est_labels import EMOTIONS, SATISFACTION, Task

try:  # orjson (a gradio dependency) parses ~3x faster; the standard library is the fallback
    import orjson

    _json_loads = orjson.loads
    _JSONDecodeError: tuple[type[Exception], ...] = (orjson.JSONDecodeError,)
except ImportError:  # pragma: no cover
    _json_loads = json.loads
    _JSONDecodeError = (json.JSONDecodeError,)

# --- configs, splits, constants --------------------------------------------------------------------------------
RAW_FORMAT_VERSION = 1
SPLITS: tuple[str, ...] = ("train", "validation", "test")
DEFAULT_CONFIG = "joint"
TASK_CONFIGS: dict[str, tuple[str, ...]] = {  # utterance config -> its label columns
    **{task: (task,) for task in est_labels.TASK_NAMES},
    "joint": est_labels.TASK_NAMES,
}
UTTERANCE_CONFIGS: dict[str, tuple[str, ...]] = {
    **TASK_CONFIGS,
    **{f"{name}-balanced": labels for name, labels in TASK_CONFIGS.items()},
}
CONFIG_NAMES: tuple[str, ...] = (DEFAULT_CONFIG,) + tuple(c for c in UTTERANCE_CONFIGS if c != DEFAULT_CONFIG) + (
    "sessions",
)
UTTERANCE_COLUMNS: tuple[str, ...] = ("id", "session_id", "turn", "category", "context", "text")

DEFAULT_CONTEXT_TURNS = 4  # previous turns (user and agent) in `context`; the `sessions` config has full histories
CONTEXT_PREFIX = {"user": "用户：", "agent": "客服："}
BALANCED_SEED = 20240917  # fixed seed of the balanced-subset sampling
SHARD_ROWS = 500_000  # rows per Parquet shard
MAX_LISTED_PROBLEMS = 50  # the error report lists this many problems, then gives the total

# Measured by `python bench/bench_build.py` (stated in the card; re-measure when the context design changes).
PAPER_SCALE_SIZE = (
    "214 MB of Parquet for every config with k = 4 (the `context` columns take 130 MB of it), where full-history "
    "contexts would need 1.24 GB of raw text in the `emotion` config alone (simulated corpus: 90,000 sessions, "
    "1,618,714 user utterances)."
)

LABEL_COLUMNS: tuple[str, ...] = est_labels.TASK_NAMES  # emotion, transition, satisfaction
LABEL_ID: dict[str, dict[str, int]] = {task.value: {name: i for i, name in enumerate(task.labels)} for task in Task}

# --- the paper's published statistics (est-paper.md Tables 2 and 3): figures to compare with, NOT label lists -----
PAPER_TABLE2: dict[str, float] = {
    "sessions": 90_000,
    "turns": 1_240_327,
    "user_utterances": 1_590_895,
    "turns_per_session": 13.78,
}
# Table 3 rows exactly as the paper prints them (its own spellings, e.g. "Disappointed"): (Annotation, Used in
# experiment). `PAPER_TABLE3` keys them by the est_labels names through `normalize_label`.
_PAPER_TABLE3_ROWS: dict[str, tuple[tuple[str, int, int], ...]] = {
    "emotion": (
        ("Worry", 30_486, 13_696),
        ("Anger", 2_918, 2_911),
        ("Insult", 275, 275),
        ("Disappointed", 10_096, 10_017),
        ("Anxiety", 1_898, 1_870),
        ("Gratitude", 11_661, 11_561),
        ("No Emotion", 1_533_561, 10_892),
    ),
    "transition": (
        ("Positive to Neutral", 1_589, 265),
        ("Positive to Positive", 162, 42),
        ("Positive to Negative", 54, 43),
        ("Neutral to Neutral", 1_189_094, 9_914),
        ("Neutral to Positive", 45_552, 8_883),
        ("Neutral to Negative", 43_106, 18_603),
        ("Negative to Neutral", 201_209, 975),
        ("Negative to Positive", 7_326, 1_605),
        ("Negative to Negative", 12_735, 10_892),
    ),
    "satisfaction": (
        ("Satisfied", 11_661, 11_561),
        ("Dissatisfied", 45_673, 28_769),
        ("Neutral", 1_533_561, 10_892),
    ),
}
# task -> est_labels label -> (Annotation, Used in experiment), in est_labels order.
PAPER_TABLE3: dict[str, dict[str, tuple[int, int]]] = {
    task.value: dict(
        sorted(
            ((est_labels.normalize_label(task, name), (annotated, used)) for name, annotated, used in rows),
            key=lambda item, labels=task.labels: labels.index(item[0]),
        )
    )
    for task, rows in ((Task(t), r) for t, r in _PAPER_TABLE3_ROWS.items())
}
assert all(list(PAPER_TABLE3[t.value]) == list(t.labels) for t in Task), "Table 3 must cover every est_labels label"
# The paper's utterances with all three labels, the pool its "Used in experiment" column was drawn from: every
# utterance with a transition (the sum of Table 3's transition Annotation column, 1,500,827).
PAPER_ELIGIBLE: int = sum(annotated for annotated, _ in PAPER_TABLE3["transition"].values())


def split_of(session_id: str) -> str:
    """The split of a session: 8:1:1 from the first 8 bytes of SHA-256(session_id) mod 100 (0-79, 80-89, 90-99).

    Decided by the id alone, so adding sessions never moves others and every config agrees.
    """
    return _split_of_digest(_session_digest(session_id))


def _session_digest(session_id: str) -> bytes:
    return hashlib.sha256(session_id.encode("utf-8")).digest()


def _split_of_digest(digest: bytes) -> str:
    bucket = int.from_bytes(digest[:8], "big") % 100
    return "train" if bucket < 80 else "validation" if bucket < 90 else "test"


def features_for(config: str) -> datasets.Features:
    """The `datasets` features of a config (ClassLabel names in est_labels order)."""
    labels = {task.value: datasets.ClassLabel(names=list(task.labels)) for task in Task}
    if config == "sessions":
        turn = {"role": datasets.Value("string"), "text": datasets.Value("string"), **labels}
        return datasets.Features(
            {
                "session_id": datasets.Value("string"),
                "category": datasets.Value("string"),
                "turns": datasets.List(turn),
            }
        )
    if config not in UTTERANCE_CONFIGS:
        raise ValueError(f"unknown config {config!r} (expected one of: {', '.join(CONFIG_NAMES)})")
    base = {
        "id": datasets.Value("string"),
        "session_id": datasets.Value("string"),
        "turn": datasets.Value("int32"),
        "category": datasets.Value("string"),
        "context": datasets.Value("string"),
        "text": datasets.Value("string"),
    }
    return datasets.Features({**base, **{name: labels[name] for name in UTTERANCE_CONFIGS[config]}})


# --- reading raw format v1 -----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Problem:
    file: str
    line: int | None  # None: the problem concerns the whole file
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line is not None else f"{self.file}: {self.reason}"


class RawFormatError(ValueError):
    """The raw data is invalid; `problems` lists (up to a cap) every problem found, `total` counts them all."""

    def __init__(self, problems: Sequence[Problem], total: int | None = None):
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        listed = "\n".join(f"  {p}" for p in self.problems[:MAX_LISTED_PROBLEMS])
        more = self.total - min(len(self.problems), MAX_LISTED_PROBLEMS)
        tail = f"\n  ... and {more} more" if more > 0 else ""
        super().__init__(f"invalid raw data: {self.total} problem(s)\n{listed}{tail}")


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

    def merge(self, other: "BuildReport") -> None:
        for field in dataclasses.fields(self):
            if field.name == "skipped_session_ids":
                self.skipped_session_ids.extend(other.skipped_session_ids[: 10 - len(self.skipped_session_ids)])
            else:
                setattr(self, field.name, getattr(self, field.name) + getattr(other, field.name))


@dataclasses.dataclass
class Corpus:
    """A validated corpus. `turns` holds every turn of every kept session in order (session, turn)."""

    sessions: pa.Table  # session_id, category, n_turns (Table 2 turns, est_labels.count_turns)
    turns: pa.Table  # session (int32 row in `sessions`), turn, is_user, text, emotion, transition, satisfaction
    report: BuildReport


def raw_files(data_dir: str | os.PathLike) -> list[Path]:
    """The raw files of a directory (`*.jsonl`, `*.jsonl.gz`), sorted by name so the row order is reproducible."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RawFormatError([Problem(str(data_dir), None, "not a directory")])
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz")))
    if not files:
        raise RawFormatError([Problem(str(data_dir), None, "no *.jsonl or *.jsonl.gz files")])
    return files


class _Labeler:
    """Label name/alias -> id, memoised (`normalize_label` is the authority; most values repeat)."""

    def __init__(self, task: Task):
        self.task, self.cache = task, {}

    def __call__(self, value: object) -> int:
        try:
            return self.cache[value]
        except (KeyError, TypeError):
            label_id = LABEL_ID[self.task.value][est_labels.normalize_label(self.task, value)]
            if isinstance(value, str):
                self.cache[value] = label_id
            return label_id


def _read_bytes(path: Path, problems: list[Problem]) -> bytes | None:
    try:
        data = path.read_bytes()
        if path.name.endswith(".gz"):
            data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as err:
        problems.append(Problem(str(path), None, f"cannot read: {err}"))
        return None
    return data[3:] if data.startswith(b"\xef\xbb\xbf") else data


def _decode_lines(path: Path, data: bytes, problems: list[Problem]) -> list[str]:
    try:
        return data.decode("utf-8").split("\n")
    except UnicodeDecodeError:  # say which lines are not UTF-8, keep checking the others
        lines = []
        for line_no, raw in enumerate(data.split(b"\n"), 1):
            try:
                lines.append(raw.decode("utf-8"))
            except UnicodeDecodeError as err:
                reason = f"not valid UTF-8 (byte {raw[err.start]:#04x} at column {err.start + 1})"
                problems.append(Problem(str(path), line_no, reason))
                lines.append("")  # keeps the numbering; the line is reported already
        return lines


def _check_turn(turn: object, where: str, labelers: Sequence[_Labeler], reasons: list[str]) -> tuple:
    """Slow path for a turn the fast path could not accept: (role, text, emotion, transition, satisfaction) ids,
    -1 where absent; every problem goes to `reasons`. Valid aliases are memoised for the fast path."""
    if not isinstance(turn, dict):
        reasons.append(f"{where}: expected an object, got {type(turn).__name__}")
        return None, None, -1, -1, -1
    role, text = turn.get("role"), turn.get("text")
    if role is None:
        reasons.append(f"{where}: missing field 'role'")
    elif role not in CONTEXT_PREFIX:
        reasons.append(f"{where}: unknown role {role!r} (expected one of: {', '.join(est_labels.ROLES)})")
    if text is None:
        reasons.append(f"{where}: missing field 'text'")
    elif not isinstance(text, str) or not text.strip():
        reasons.append(f"{where}: 'text' must be a non-empty string, got {text!r:.40}")
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


def _transition_table() -> np.ndarray:
    """[initial emotion, current emotion] -> transition id, taken from `est_labels.derive_transitions` itself."""
    table = np.empty((len(EMOTIONS), len(EMOTIONS)), dtype=np.int8)
    for i, initial in enumerate(EMOTIONS):
        for j, current in enumerate(EMOTIONS):  # "x" is substantive, so the first utterance sets the polarity
            table[i, j] = LABEL_ID["transition"][est_labels.derive_transitions([("x", initial), ("x", current)])[1]]
    return table


_TRANSITION_AFTER = _transition_table()
_SATISFACTION_OF = np.array([LABEL_ID["satisfaction"][est_labels.satisfaction_of(e)] for e in EMOTIONS], np.int8)


def _parse_file(path: Path, keep_given_satisfaction: bool) -> tuple[dict, list[Problem], BuildReport]:
    """Validate one raw file and derive its missing labels. Returns its columns (sessions + turns), its problems
    and its report counts.

    A valid file takes the fast path (`_parse_arrow`: pyarrow's JSON reader and vectorised checks); anything it does
    not accept goes through `_parse_lines`, which checks line by line and says what is wrong where. Both give the
    same columns for a valid file (tested).
    """
    problems: list[Problem] = []
    data = _read_bytes(path, problems)
    if data is None:
        return _parse_lines(path, None, keep_given_satisfaction, problems)
    return _parse_arrow(path, data, keep_given_satisfaction) or _parse_lines(
        path, _decode_lines(path, data, problems), keep_given_satisfaction, problems
    )


def _parse_lines(
    path: Path, lines: list[str] | None, keep_given_satisfaction: bool, problems: list[Problem]
) -> tuple[dict, list[Problem], BuildReport]:
    """The line-by-line path: every problem as file:line: reason. Turns go straight into flat lists."""
    report = BuildReport(files=1)
    labelers = [_Labeler(t) for t in Task]
    emotion_ids, transition_ids, satisfaction_ids = (labeler.cache for labeler in labelers)
    for labeler in labelers:  # canonical names are always accepted
        for name in labeler.task.labels:
            labeler(name)
    sat_from_emotion = _SATISFACTION_OF.tolist()
    sessions: dict[str, list] = {"session_id": [], "category": [], "n_turns": [], "line": [], "initial": []}
    roles: list[str] = []
    is_user: list[bool] = []
    texts: list[str] = []
    emotions: list[int] = []
    transitions: list[int] = []
    satisfactions: list[int] = []
    turn_index: list[int] = []
    seen_any = False

    def user_turns(begin: int, end: int, visited: list[int]):
        for g in range(begin, end):
            if is_user[g]:
                visited.append(g)
                yield texts[g], EMOTIONS[emotions[g]]

    for line_no, line in enumerate(lines or (), 1):
        if not line or line.isspace():
            continue
        seen_any = True
        try:
            obj = _json_loads(line)
        except _JSONDecodeError as err:
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
        category = obj.get("category")
        if category is None:
            category = ""
        elif category not in est_labels.CATEGORIES:
            reasons.append(f"unknown category {category!r} (expected one of: {', '.join(est_labels.CATEGORY_NAMES)})")
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
                role, text, emotion, transition, satisfaction = _check_turn(turn, f"turn {index}", labelers, reasons)
            if satisfaction >= 0 and emotion >= 0 and satisfaction != sat_from_emotion[emotion]:
                if keep_given_satisfaction:
                    report.satisfaction_disagreements_kept += 1
                else:
                    reasons.append(
                        f"turn {index}: satisfaction {SATISFACTION[satisfaction]!r} disagrees with emotion "
                        f"{EMOTIONS[emotion]!r} (expected {SATISFACTION[sat_from_emotion[emotion]]!r}; "
                        "build with --keep-given-satisfaction to keep it)"
                    )
            user = role == "user"
            n_user += user
            roles.append(role)
            is_user.append(user)
            texts.append(text)
            emotions.append(emotion)
            transitions.append(transition)
            satisfactions.append(satisfaction)
        end = len(texts)
        if reasons or not n_user:
            if reasons:
                problems.extend(Problem(str(path), line_no, reason) for reason in reasons)
            else:
                report.sessions_skipped_no_user_turn += 1
                if len(report.skipped_session_ids) < 10:
                    report.skipped_session_ids.append(session_id)
            for column in (roles, is_user, texts, emotions, transitions, satisfactions):
                del column[begin:]
            continue
        visited: list[int] = []
        initial = est_labels.initial_utterance(user_turns(begin, end, visited))
        sessions["session_id"].append(session_id)
        sessions["category"].append(category)
        sessions["n_turns"].append(est_labels.count_turns(roles[begin:end]))
        sessions["line"].append(line_no)
        sessions["initial"].append(-1 if initial is None else visited[initial])
        turn_index.extend(range(end - begin))
    if lines is not None and not seen_any and not problems:
        problems.append(Problem(str(path), None, "empty file (no sessions)"))
    report.sessions_read = len(sessions["session_id"]) + report.sessions_skipped_no_user_turn

    n_turns = np.diff(np.flatnonzero(np.r_[np.array(turn_index, dtype=np.int64) == 0, True]))
    columns = _file_columns(
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
    return columns, problems, report


def _array(values, type: pa.DataType) -> pa.Array:
    return values.cast(type) if isinstance(values, pa.Array) else pa.array(values, type)


def _file_columns(sessions: dict[str, list], *, session_of_turn, turn_index, user, text, emotion, transition,
                  satisfaction, report: BuildReport) -> dict[str, pa.Table]:
    """Derive the absent labels (vectorised) and assemble a file's tables: satisfaction from the emotion; the
    transition of every user utterance after the session's initial one (`sessions["initial"]`, a turn row)."""
    initial = np.array(sessions["initial"], dtype=np.int64)[session_of_turn]
    derive = user & (transition < 0) & (initial >= 0) & (np.arange(len(user)) > initial)
    report.transitions_given = int((user & (transition >= 0)).sum())
    report.transitions_derived = int(derive.sum())
    transition[derive] = _TRANSITION_AFTER[emotion[initial[derive]], emotion[derive]]
    absent = user & (satisfaction < 0)
    report.satisfaction_given = int((user & (satisfaction >= 0)).sum())
    report.satisfaction_derived = int(absent.sum())
    satisfaction[absent] = _SATISFACTION_OF[emotion[absent]]
    return {
        "sessions": pa.table(
            {
                "session_id": _array(sessions["session_id"], pa.string()),
                "category": _array(sessions["category"], pa.string()),
                "n_turns": _array(sessions["n_turns"], pa.int32()),
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


# Python's str.isspace() characters, for the fast path's "non-empty string" checks (RE2 syntax)
_WHITESPACE_ONLY = (
    r"^[\t\n\x0b\x0c\r\x1c-\x1f \x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}]*$"
)
_RAW_SCHEMA = pa.schema(
    [
        ("session_id", pa.string()),
        ("category", pa.string()),
        ("turns", pa.list_(pa.struct([(key, pa.string()) for key in ("role", "text", *LABEL_COLUMNS)]))),
    ]
)


def _blank(strings: pa.Array) -> np.ndarray:
    """Null, empty or white space only (as `not s or s.isspace()`)."""
    empty = pc.fill_null(pc.match_substring_regex(strings, _WHITESPACE_ONLY), True)
    return empty.to_numpy(zero_copy_only=False)


def _label_ids(values: pa.Array, labeler: _Labeler, required: np.ndarray, optional: np.ndarray) -> np.ndarray | None:
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


def _parse_arrow(path: Path, data: bytes, keep_given_satisfaction: bool) -> tuple | None:
    """The fast path: pyarrow reads the whole file, checks run on columns. Returns None (-> the slow path reports)
    as soon as anything is off; it never has to say what."""
    import io

    import pyarrow.json as pj

    n_lines = data.count(b"\n") + (not data.endswith(b"\n"))
    try:
        options = pj.ParseOptions(explicit_schema=_RAW_SCHEMA, unexpected_field_behavior="ignore")
        table = pj.read_json(io.BytesIO(data), parse_options=options).combine_chunks()
    except Exception:  # malformed JSON, wrong types, non-UTF-8, ...: the slow path says where
        return None
    if table.num_rows == 0 or table.num_rows != n_lines:  # blank lines shift the line numbers
        return None
    session_id, category, turns = (table[name].chunk(0) for name in table.column_names)
    if _blank(session_id).any() or turns.null_count:
        return None
    known_category = pc.is_in(category, value_set=pa.array(est_labels.CATEGORY_NAMES))
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
    labelers = [_Labeler(t) for t in Task]
    emotion = _label_ids(flat.field("emotion"), labelers[0], required=user, optional=no)
    transition = _label_ids(flat.field("transition"), labelers[1], required=no, optional=user)
    satisfaction = _label_ids(flat.field("satisfaction"), labelers[2], required=no, optional=user)
    if emotion is None or transition is None or satisfaction is None:
        return None
    report = BuildReport(files=1)
    given = satisfaction >= 0
    disagree = int((given & (satisfaction != _SATISFACTION_OF[np.maximum(emotion, 0)])).sum())
    if disagree and not keep_given_satisfaction:
        return None
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
    text = text.filter(pa.array(kept_rows)) if len(skipped) else text
    role = role.filter(pa.array(kept_rows)) if len(skipped) else role
    session_of_turn = np.repeat(np.arange(len(lengths), dtype=np.int32), lengths)
    starts = np.r_[0, np.cumsum(lengths)]

    # per session, in Python but cheap: the initial utterance (est_labels reads only up to it) and Table 2 turns
    user_rows = np.flatnonzero(user)
    user_bounds = np.searchsorted(user_rows, starts)
    roles = role.to_pylist()
    initial_rows, n_turns = [], []
    for s in range(len(lengths)):
        rows = user_rows[user_bounds[s] : user_bounds[s + 1]]
        found = est_labels.initial_utterance((text[int(r)].as_py(), EMOTIONS[emotion[r]]) for r in rows)
        initial_rows.append(-1 if found is None else int(rows[found]))
        n_turns.append(est_labels.count_turns(roles[starts[s] : starts[s + 1]]))
    sessions = {
        "session_id": session_id.take(pa.array(kept)),
        "category": pc.fill_null(category.take(pa.array(kept)), ""),
        "n_turns": n_turns,
        "line": kept + 1,
        "initial": initial_rows,
    }
    columns = _file_columns(
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
    return columns, [], report


def read_raw(
    data_dir: str | os.PathLike,
    *,
    keep_given_satisfaction: bool = False,
    workers: int | None = None,
    progress: bool = False,
) -> Corpus:
    """Read and validate a raw v1 directory. Raises `RawFormatError` listing every problem as file:line: reason."""
    files = raw_files(data_dir)
    # one process by default: the fast path's JSON reader is multi-threaded already; extra processes only pay off
    # for big inputs that need the line-by-line path
    workers = min(len(files), workers or 1)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(files), desc="Reading raw sessions", unit="file", disable=not progress)
    results = []
    if workers <= 1:
        for path in files:
            results.append(_parse_file(path, keep_given_satisfaction))
            bar.update()
    else:
        import multiprocessing

        # fork: workers start in milliseconds and need no importable __main__ (as datasets' own map(num_proc=))
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            for result in pool.map(_parse_file, files, [keep_given_satisfaction] * len(files)):
                results.append(result)
                bar.update()
    bar.close()

    problems: list[Problem] = [p for _, file_problems, _ in results for p in file_problems]
    report = BuildReport()
    first_seen: dict[str, tuple[str, int]] = {}
    for path, (columns, _, file_report) in zip(files, results):
        report.merge(file_report)
        table = columns["sessions"]
        for session_id, line in zip(table["session_id"].to_pylist(), table["line"].to_pylist()):
            if session_id in first_seen:
                where = "{}:{}".format(*first_seen[session_id])
                problems.append(Problem(str(path), line, f"duplicate session_id {session_id!r} (first at {where})"))
            else:
                first_seen[session_id] = (str(path), line)
    if problems:
        raise RawFormatError(problems)
    if not first_seen:
        raise RawFormatError([Problem(str(data_dir), None, "no session with a user turn")])

    session_tables, turn_tables, offset = [], [], 0
    for columns, _, _ in results:
        session_tables.append(columns["sessions"].drop_columns(["line"]))
        turns = columns["turns"]
        turn_tables.append(turns.set_column(0, "session", pc.add(turns["session"], pa.scalar(offset, pa.int32()))))
        offset += columns["sessions"].num_rows
    return Corpus(
        sessions=pa.concat_tables(session_tables).combine_chunks(),
        turns=pa.concat_tables(turn_tables).combine_chunks(),
        report=report,
    )


# --- corpus -> config tables -------------------------------------------------------------------------------------
def _splitmix64(x: np.ndarray) -> np.ndarray:
    """A fixed, well-mixed 64-bit hash (vectorised); the balanced sampling keys come from it."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def _round_half_up(numerator: int, denominator: int) -> int:
    """round(numerator / denominator), halves up, in exact integer arithmetic (no float ties)."""
    return (2 * numerator + denominator) // (2 * denominator)


def balanced_targets(available: Mapping[str, int]) -> dict[str, int]:
    """Size of the balanced subset per emotion: the paper's "Used in experiment" column scaled to this corpus.

    `available[e]` = this corpus's eligible utterances (all three labels, i.e. with a transition) of emotion e, for
    every emotion of est_labels. With N = sum(available) and P = `PAPER_ELIGIBLE` (the paper's eligible utterances):

        target(e) = min(available(e), round(used(e) x N / P))

    Why not the paper's per-emotion rate used/annotated (e.g. Worry 13,696 / 30,486) applied to eligible
    utterances: the paper's Annotation column counts EVERY utterance, eligible or not, so that rate, applied to the
    eligible ones only, falls short by the share of ineligible utterances. Every session has at least one (the
    utterance that sets its initial polarity), so at 90,000 sessions >= 90,000 of ~1.59M utterances (>= 5.7%) are
    ineligible and the subset would miss the column by >= 5.7% on average - more for emotions that often open a
    session. Scaling the column by N / P gives each emotion the paper's share of the eligible pool instead; at paper
    scale (N ~= P) it reproduces the column itself.
    """
    if set(available) != set(EMOTIONS):
        raise ValueError(f"balanced_targets needs a count for every emotion {list(EMOTIONS)}, got {list(available)}")
    eligible = sum(available.values())
    return {
        e: min(available[e], _round_half_up(PAPER_TABLE3["emotion"][e][1] * eligible, PAPER_ELIGIBLE))
        for e in EMOTIONS
    }


def balanced_counts(candidates: Mapping[str, Mapping[str, int]]) -> dict[str, dict[str, int]]:
    """How many utterances of each emotion the balanced subset keeps in each split.

    `candidates[split][e]` = eligible utterances of emotion e in that split. Each emotion is kept at one rate in
    every split, r(e) = target(e) / available(e) (`balanced_targets`, available = the sum over the splits), so every
    split keeps the same share: round(r(e) x candidates), halves up. With three splits the roundings move an
    emotion's total by at most one utterance from target(e), and never past the candidates (r(e) <= 1).
    """
    available = {e: sum(split[e] for split in candidates.values()) for e in EMOTIONS}
    targets = balanced_targets(available)
    return {
        name: {e: _round_half_up(targets[e] * split[e], available[e]) if available[e] else 0 for e in EMOTIONS}
        for name, split in candidates.items()
    }


class EstTables:
    """Per-config, per-split Arrow tables of a corpus (vectorised; one config/split materialised at a time)."""

    def __init__(self, corpus: Corpus, *, context_turns: int = DEFAULT_CONTEXT_TURNS, blind_test: bool = False):
        if context_turns < 0:
            raise ValueError(f"context_turns must be >= 0, got {context_turns}")
        self.corpus, self.context_turns, self.blind_test = corpus, context_turns, blind_test
        sessions, turns = corpus.sessions, corpus.turns
        digests = [_session_digest(s) for s in sessions["session_id"].to_pylist()]
        self.session_split = np.array([SPLITS.index(_split_of_digest(d)) for d in digests], dtype=np.int8)
        session_hash = np.array([int.from_bytes(d[8:16], "big") for d in digests], dtype=np.uint64)

        session_of_turn = turns["session"].to_numpy()
        is_user = turns["is_user"].to_numpy(zero_copy_only=False)
        user_at = np.flatnonzero(is_user)
        session = session_of_turn[user_at]
        # user rows ordered by split (stable), so a task config's split is a zero-copy slice
        order = np.argsort(self.session_split[session], kind="stable")
        user_at, session = user_at[order], session[order]
        self.split_bounds = np.searchsorted(self.session_split[session], np.arange(len(SPLITS) + 1))

        user = turns.take(pa.array(user_at))
        session_idx = pa.array(session)
        turn_str = pc.cast(user["turn"], pa.string())
        session_id = sessions["session_id"].take(session_idx)
        self.emotion = user["emotion"].to_numpy()
        self.has_transition = user["transition"].to_numpy() >= 0
        self.utterances = pa.table(
            {
                "id": pc.binary_join_element_wise(session_id, turn_str, "/"),
                "session_id": session_id,
                "turn": user["turn"],
                "category": sessions["category"].take(session_idx),
                "context": self._context(turns, session_of_turn, user_at),
                "text": user["text"],
                **{k: pc.cast(user[k], pa.int64()) for k in LABEL_COLUMNS},
            }
        )
        # balanced subset: inside each split, for each emotion, the `balanced_counts` candidates with the smallest key
        turn_key = _splitmix64(user["turn"].to_numpy().astype(np.uint64) + np.uint64(BALANCED_SEED))
        key = _splitmix64(session_hash[session] ^ turn_key)
        split = self.session_split[session]
        candidate_rows = {
            (split_name, emotion_name): np.flatnonzero((split == s) & (self.emotion == e) & self.has_transition)
            for s, split_name in enumerate(SPLITS)
            for e, emotion_name in enumerate(EMOTIONS)
        }
        self.balanced_candidates: dict[str, dict[str, int]] = {
            split_name: {e: len(candidate_rows[split_name, e]) for e in EMOTIONS} for split_name in SPLITS
        }
        self.balanced_counts = balanced_counts(self.balanced_candidates)
        self.balanced = np.zeros(len(user_at), dtype=bool)
        for (split_name, emotion_name), rows in candidate_rows.items():
            keep = self.balanced_counts[split_name][emotion_name]
            self.balanced[rows[np.argsort(key[rows], kind="stable")[:keep]]] = True

    def _context(self, turns: pa.Table, session_of_turn: np.ndarray, user_at: np.ndarray) -> pa.Array:
        """'客服：…'/'用户：…' lines of the previous k turns of the same session, oldest first."""
        if self.context_turns == 0 or len(user_at) == 0:
            return pa.array([""] * len(user_at), pa.string())
        flat = pc.replace_substring(pc.replace_substring(turns["text"], "\r\n", " "), "\n", " ")
        prefix = pc.if_else(turns["is_user"], CONTEXT_PREFIX["user"], CONTEXT_PREFIX["agent"])
        line = pc.binary_join_element_wise(prefix, flat, "")
        # index len(line) = "" so a window reaching before the session start contributes nothing
        line = pa.concat_arrays([line.combine_chunks(), pa.array([""])])
        line_nl = pa.concat_arrays([pc.binary_join_element_wise(line[:-1], "\n", ""), pa.array([""])])
        session_start = np.searchsorted(session_of_turn, session_of_turn[user_at])
        parts = []
        for back in range(self.context_turns, 0, -1):
            source = user_at - back
            source = np.where(source >= session_start, source, len(line) - 1)
            # windows are contiguous: the newest line needs no trailing newline
            parts.append((line if back == 1 else line_nl).take(pa.array(source)))
        return pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]

    def rows(self, config: str, split: str) -> np.ndarray | slice:
        s = SPLITS.index(split)
        bounds = slice(int(self.split_bounds[s]), int(self.split_bounds[s + 1]))
        if config in ("emotion", "satisfaction"):
            return bounds
        mask = self.balanced[bounds] if config.endswith("-balanced") else self.has_transition[bounds]
        return np.flatnonzero(mask) + bounds.start

    def table(self, config: str, split: str) -> pa.Table:
        """The rows of one config/split, cast to the config's features (test labels -1 with blind_test)."""
        features = features_for(config)
        if config == "sessions":
            table = self._sessions(split)
        else:
            rows = self.rows(config, split)
            if isinstance(rows, slice):
                table = self.utterances.slice(rows.start, rows.stop - rows.start).select(list(features))
            else:
                table = self.utterances.select(list(features)).take(pa.array(rows))
            if self.blind_test and split == "test":
                hidden = pa.array(np.full(table.num_rows, -1, np.int64))
                for name in UTTERANCE_CONFIGS[config]:
                    table = table.set_column(table.schema.get_field_index(name), name, hidden)
        return table.cast(features.arrow_schema)

    def _sessions(self, split: str) -> pa.Table:
        sessions, turns = self.corpus.sessions, self.corpus.turns
        keep = np.flatnonzero(self.session_split == SPLITS.index(split))
        session_of_turn = turns["session"].to_numpy()
        part = turns.filter(pa.array(self.session_split[session_of_turn] == SPLITS.index(split)))
        lengths = np.bincount(session_of_turn, minlength=sessions.num_rows)[keep]
        offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]), pa.int32())
        if self.blind_test and split == "test":
            labels = [pa.array(np.full(part.num_rows, -1, np.int64))] * len(LABEL_COLUMNS)
        else:
            labels = [pc.cast(part[k], pa.int64()).combine_chunks() for k in LABEL_COLUMNS]
        role = pc.if_else(part["is_user"], "user", "agent").combine_chunks()
        turn_struct = pa.StructArray.from_arrays(
            [role, part["text"].combine_chunks(), *labels], names=["role", "text", *LABEL_COLUMNS]
        )
        index = pa.array(keep, pa.int64())
        return pa.table(
            {
                "session_id": sessions["session_id"].take(index),
                "category": sessions["category"].take(index),
                "turns": pa.ListArray.from_arrays(offsets, turn_struct),
            }
        )

    def gold(self) -> pa.Table:
        """Gold labels of the joint test split (label names) + whether each row is in joint-balanced test."""
        rows = self.rows("joint", "test")
        table = self.utterances.take(pa.array(rows))
        return pa.table(
            {
                "id": table["id"],
                "session_id": table["session_id"],
                **{
                    task.value: pa.array(np.array(task.labels, dtype=object)[table[task.value].to_numpy()])
                    for task in Task
                },
                "balanced": pa.array(self.balanced[rows]),
            }
        )


# --- statistics (the card's tables) ----------------------------------------------------------------------------
def _fmt(value: float) -> str:
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def corpus_statistics(tables: EstTables) -> dict:
    """Counts of the built data, shaped like the paper's Tables 2 and 3 (label counts leave out the test split of a
    blind-test build, so the public card reveals nothing about hidden labels)."""
    sessions, utterances = tables.corpus.sessions, tables.utterances
    counted = np.ones(utterances.num_rows, dtype=bool)
    if tables.blind_test:
        counted[tables.split_bounds[SPLITS.index("test")] : tables.split_bounds[SPLITS.index("test") + 1]] = False
    n_turns = int(pc.sum(sessions["n_turns"]).as_py() or 0)
    stats = {
        "table2": {
            "sessions": sessions.num_rows,
            "turns": n_turns,
            "user_utterances": utterances.num_rows,
            "turns_per_session": round(n_turns / max(sessions.num_rows, 1), 2),
        },
        "table3": {},
    }
    for task in Task:
        ids = utterances[task.value].to_numpy()
        annotated = np.bincount(ids[(ids >= 0) & counted], minlength=len(task.labels))
        used = np.bincount(ids[tables.balanced & counted], minlength=len(task.labels))
        stats["table3"][task.value] = {name: (int(a), int(u)) for name, a, u in zip(task.labels, annotated, used)}
    return stats


def _table2_markdown(stats: dict) -> str:
    names = {
        "sessions": "Total sessions",
        "turns": "Total turns (runs of user utterances, `est_labels.count_turns`)",
        "user_utterances": "Total user utterances",
        "turns_per_session": "Average turns per session",
    }
    rows = [(label, _fmt(stats["table2"][key]), _fmt(PAPER_TABLE2[key])) for key, label in names.items()]
    return _markdown_table(("Metric", "This build", "Paper (Table 2)"), rows)


def _table3_markdown(stats: dict) -> str:
    rows = []
    for task in Task:
        for label in task.labels:
            annotated, used = stats["table3"][task.value][label]
            paper_annotated, paper_used = PAPER_TABLE3[task.value][label]
            rows.append((task.title, label, _fmt(annotated), _fmt(used), _fmt(paper_annotated), _fmt(paper_used)))
    header = ("Task", "Label", "This build: all", "This build: balanced", "Paper: Annotation", "Paper: Used")
    return _markdown_table(header, rows)


def _balanced_markdown(eligible: int) -> str:
    """The balanced rule's figures: the paper's column, its share of the paper's eligible pool and this build's
    uncapped target round(used x N / P) (N = this build's eligible utterances; no label counts, so blind-safe)."""
    rows = [
        (e, _fmt(a), _fmt(u), f"{u / PAPER_ELIGIBLE:.6f}", _fmt(_round_half_up(u * eligible, PAPER_ELIGIBLE)))
        for e, (a, u) in PAPER_TABLE3["emotion"].items()
    ]
    rows.append(("**Total**", _fmt(sum(a for a, _ in PAPER_TABLE3["emotion"].values())),
                 _fmt(sum(u for _, u in PAPER_TABLE3["emotion"].values())), "",
                 _fmt(sum(_round_half_up(u * eligible, PAPER_ELIGIBLE) for _, u in PAPER_TABLE3["emotion"].values()))))
    header = ("Emotion", "Paper: Annotation", "Paper: Used in experiment", f"Used / P (P = {PAPER_ELIGIBLE:,})",
              f"This build: round(Used × N / P), N = {eligible:,}")
    return _markdown_table(header, rows)


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"


# --- writing the folder -----------------------------------------------------------------------------------------
CARD_TEMPLATE = Path(__file__).with_name("dataset_card.md")
CONFIG_DESCRIPTIONS = {
    "joint": "All three labels per user utterance (utterances that have a transition); the default config.",
    "emotion": "Emotion (7 classes) of every user utterance.",
    "transition": "Emotion-state transition (9 classes) of every user utterance that has one.",
    "satisfaction": "Satisfaction (3 classes) of every user utterance.",
    "sessions": "One row per session with every turn (user and agent) and its labels (-1 where none).",
}
for _name in TASK_CONFIGS:
    CONFIG_DESCRIPTIONS[f"{_name}-balanced"] = f"`{_name}` restricted to the balanced experiment subset (Table 3)."


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier EST build (e.g. `--out .`)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    foreign = [p.name for p in out.iterdir() if p.name not in {*CONFIG_NAMES, "README.md", ".gitattributes"}]
    if foreign:
        raise FileExistsError(
            f"refusing to replace {out}: it holds files an EST build does not write ({', '.join(sorted(foreign)[:5])})"
        )


def _swap_in(tmp: Path, out: Path) -> None:
    """Replace `out` by `tmp` with renames only, so `out` is never half-written."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _write_parquet(table: pa.Table, features: datasets.Features, folder: Path, split: str) -> list[Path]:
    """`<split>-NNNNN-of-NNNNN.parquet` shards with the `datasets` features in the schema metadata."""
    metadata = {b"huggingface": json.dumps({"info": {"features": features.to_dict()}}).encode()}
    table = table.replace_schema_metadata(metadata)
    n_shards = max(1, math.ceil(table.num_rows / SHARD_ROWS))
    paths = []
    for shard in range(n_shards):
        path = folder / f"{split}-{shard:05d}-of-{n_shards:05d}.parquet"
        part = table.slice(shard * SHARD_ROWS, SHARD_ROWS)
        pq.write_table(
            part, path, compression="zstd", row_group_size=100_000, use_dictionary=["session_id", "category"]
        )
        paths.append(path)
    return paths


@dataclasses.dataclass
class BuildSummary:
    out: Path
    rows: dict[str, dict[str, int]]  # config -> split -> rows
    report: BuildReport
    bytes_on_disk: int
    gold: Path | None
    statistics: dict


def _card_yaml(
    rows: dict[str, dict[str, int]], num_bytes: dict[str, dict[str, int]], disk: dict[str, int], license: str
) -> str:
    """The card's YAML: configs with explicit data_files (joint = default) and dataset_info from the Features."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    card = DatasetCardData(
        pretty_name="EST: Emotion, emotion-State Transition and satisfaction in Chinese customer-service dialogue",
        language=["zh"],
        license=license,
        task_categories=["text-classification"],
        task_ids=["sentiment-classification", "multi-class-classification"],
        size_categories=[_size_category(sum(rows["emotion"].values()))],
        tags=["dialogue", "customer-service", "emotion-recognition", "satisfaction-prediction", "synthetic"],
    )
    MetadataConfigs(
        {
            config: {
                **({"default": True} if config == DEFAULT_CONFIG else {}),
                "data_files": [{"split": split, "path": f"{config}/{split}-*.parquet"} for split in SPLITS],
            }
            for config in CONFIG_NAMES
        }
    ).to_dataset_card_data(card)
    infos = {}
    for config in CONFIG_NAMES:
        splits = datasets.SplitDict()
        for split in SPLITS:
            info = datasets.SplitInfo(name=split, num_bytes=num_bytes[config][split], num_examples=rows[config][split])
            splits.add(info)
        infos[config] = datasets.DatasetInfo(
            features=features_for(config),
            splits=splits,
            download_size=disk[config],
            dataset_size=sum(num_bytes[config].values()),
        )
    DatasetInfosDict(infos).to_dataset_card_data(card)
    return card.to_yaml()


CARD_PLACEHOLDERS = (
    "source", "context_turns", "configs_table", "label_table", "category_table", "alias_table", "filler_words",
    "balanced_rates", "balanced_seed", "paper_scale_size", "table2", "table3", "label_counts_scope", "build_report",
    "blind_test",
)


def render_card(
    stats: dict,
    rows: dict[str, dict[str, int]],
    report: BuildReport,
    *,
    source: str,
    context_turns: int,
    blind_test: bool,
    yaml_header: str,
    template: Path = CARD_TEMPLATE,
) -> str:
    """`dataset_card.md` with its {{ placeholders }} filled from the build; every placeholder must be known."""
    text = template.read_text(encoding="utf-8")
    unknown = sorted(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", text)) - set(CARD_PLACEHOLDERS))
    if unknown:
        raise ValueError(f"{template}: unknown placeholder(s): {', '.join(unknown)}")
    alias_rows = [
        (kind, f"`{alias}`", canonical)
        for kind, aliases in (
            ("emotion", est_labels.EMOTION_ALIASES),
            ("polarity (in transitions)", est_labels.POLARITY_ALIASES),
            ("satisfaction", est_labels.SATISFACTION_ALIASES),
        )
        for alias, canonical in aliases.items()
    ]
    values = {
        "source": source,
        "context_turns": str(context_turns),
        "configs_table": _markdown_table(
            ("Config", "train", "validation", "test", "Contents"),
            [(f"`{c}`", *(_fmt(rows[c][s]) for s in SPLITS), CONFIG_DESCRIPTIONS[c]) for c in CONFIG_NAMES],
        ),
        "label_table": _markdown_table(
            ("Task", "Column", "Labels (ClassLabel order)"),
            [(t.title, f"`{t.value}`", ", ".join(t.labels)) for t in Task],
        ),
        "category_table": _markdown_table(
            ("Raw key", "English", "Chinese"), [(f"`{k}`", en, zh) for k, (en, zh) in est_labels.CATEGORIES.items()]
        ),
        "alias_table": _markdown_table(("Kind", "Alias", "Canonical label"), alias_rows),
        "filler_words": "、".join(est_labels.FILLER_WORDS),
        "balanced_rates": _balanced_markdown(sum(rows["joint"][split] for split in SPLITS)),
        "balanced_seed": str(BALANCED_SEED),
        "paper_scale_size": PAPER_SCALE_SIZE,
        "table2": _table2_markdown(stats),
        "label_counts_scope": "train and validation only: this is a blind-test build" if blind_test else "all splits",
        "table3": _table3_markdown(stats),
        "build_report": _markdown_table(
            ("Count", "Value"),
            [
                ("Raw files", _fmt(report.files)),
                ("Sessions read", _fmt(report.sessions_read)),
                ("Sessions skipped (no user turn)", _fmt(report.sessions_skipped_no_user_turn)),
                ("Transitions annotated", _fmt(report.transitions_given)),
                ("Transitions derived by the rule", _fmt(report.transitions_derived)),
                ("Satisfaction annotated", _fmt(report.satisfaction_given)),
                ("Satisfaction derived from the emotion", _fmt(report.satisfaction_derived)),
                ("Satisfaction disagreeing with the emotion, kept (`--keep-given-satisfaction`)",
                 _fmt(report.satisfaction_disagreements_kept)),
            ],
        ),
        "blind_test": (
            "**This is a blind-test build: every label of every `test` split is `-1`.** The gold labels are kept "
            "outside this folder for a hidden-label leaderboard."
            if blind_test
            else "This build includes the test labels (built without `--blind-test`)."
        ),
    }
    assert set(values) == set(CARD_PLACEHOLDERS)
    body = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values[m.group(1)], text)
    return f"---\n{yaml_header.strip()}\n---\n\n{body.lstrip()}"


# --- the embedded default corpus -------------------------------------------------------------------------------
def cache_root() -> Path:
    if os.environ.get("EST_CACHE_DIR"):
        return Path(os.environ["EST_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "est"


def simulated_corpus_dir(n_sessions: int, seed: int, *, progress: bool = True) -> Path:
    """A simulated raw corpus of `n_sessions` sessions, generated once into the cache (atomically: temp + rename).

    The cache key includes a digest of the simulator's source, so a changed simulator never serves stale data.
    """
    import simulator

    package = Path(simulator.__file__).parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    target = cache_root() / "raw" / f"v{RAW_FORMAT_VERSION}-sim-{digest.hexdigest()[:12]}-n{n_sessions}-seed{seed}"
    if target.is_dir():
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        simulator.write_corpus(tmp, n_sessions, seed, progress=progress)
        os.replace(tmp, target)
    except OSError:
        if not target.is_dir():  # a concurrent build that finished first is fine
            raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return target


def default_corpus_dir(progress: bool = True) -> Path:
    """The embedded default corpus: the simulator's DEFAULT_SESSIONS sessions with DEFAULT_SEED."""
    import simulator

    return simulated_corpus_dir(simulator.DEFAULT_SESSIONS, simulator.DEFAULT_SEED, progress=progress)


def _default_source_description() -> str:
    import simulator

    return (
        f"the embedded **simulated** default corpus (`simulator`, {simulator.DEFAULT_SESSIONS:,} sessions, "
        f"seed {simulator.DEFAULT_SEED})"
    )


# --- build -------------------------------------------------------------------------------------------------------
def build(
    data_dir: str | os.PathLike | None = None,
    out: str | os.PathLike = "est",
    *,
    context_turns: int = DEFAULT_CONTEXT_TURNS,
    blind_test: bool = False,
    gold_out: str | os.PathLike | None = None,
    keep_given_satisfaction: bool = False,
    license: str = "apache-2.0",
    workers: int | None = None,
    progress: bool = True,
) -> BuildSummary:
    """Build the Hub-ready folder `out` (all configs + README.md); nothing in `out` changes unless it succeeds.

    With `blind_test`, test labels are -1 and the gold goes to `gold_out` (default: `<out>-gold/test.parquet`).
    """
    from tqdm.auto import tqdm

    out = Path(out).absolute()
    _check_replaceable(out)
    gold_dir = Path(gold_out).absolute() if gold_out else out.with_name(f"{out.name}-gold")
    if blind_test and (gold_dir == out or out in gold_dir.parents):
        raise FileExistsError(f"the gold labels must stay outside the public folder: {gold_dir} is inside {out}")
    if data_dir is None:
        data_dir, source = default_corpus_dir(progress=progress), _default_source_description()
    else:
        source = f"raw data (format v{RAW_FORMAT_VERSION}) from a user-supplied directory `{Path(data_dir).name}`"
    corpus = read_raw(data_dir, keep_given_satisfaction=keep_given_satisfaction, workers=workers, progress=progress)
    tables = EstTables(corpus, context_turns=context_turns, blind_test=blind_test)

    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    tmp_gold = gold_dir / f".test.parquet.tmp-{os.getpid()}"
    try:
        rows: dict[str, dict[str, int]] = {c: {} for c in CONFIG_NAMES}
        num_bytes: dict[str, dict[str, int]] = {c: {} for c in CONFIG_NAMES}
        disk: dict[str, int] = {c: 0 for c in CONFIG_NAMES}
        jobs = [(c, s) for c in CONFIG_NAMES for s in SPLITS]
        for config, split in tqdm(jobs, desc="Writing Parquet", unit="split", disable=not progress):
            table = tables.table(config, split)
            (tmp / config).mkdir(exist_ok=True)
            paths = _write_parquet(table, features_for(config), tmp / config, split)
            rows[config][split], num_bytes[config][split] = table.num_rows, table.nbytes
            disk[config] += sum(p.stat().st_size for p in paths)
            del table
        stats = corpus_statistics(tables)
        card = render_card(
            stats,
            rows,
            corpus.report,
            source=source,
            context_turns=context_turns,
            blind_test=blind_test,
            yaml_header=_card_yaml(rows, num_bytes, disk, license),
        )
        (tmp / "README.md").write_text(card, encoding="utf-8")
        gold_path = None
        if blind_test:
            gold_dir.mkdir(parents=True, exist_ok=True)
            gold_path = gold_dir / "test.parquet"
            pq.write_table(tables.gold(), tmp_gold, compression="zstd")
        _swap_in(tmp, out)
        if gold_path is not None:
            os.replace(tmp_gold, gold_path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp_gold.unlink(missing_ok=True)
    return BuildSummary(out, rows, corpus.report, sum(disk.values()), gold_path, stats)


# --- the `datasets` builder class ---------------------------------------------------------------------------------
_CITATION = """\
@article{bian2025est,
  title  = {A Benchmark for Joint Dialogue Satisfaction, Emotion Recognition, and Emotion State Transition Prediction},
  author = {Bian, Jing and Su, Haoxiang and Jiang, Liting and Wu, Di and Fang, Ruiyu and Huang, Xiaomeng and
            Li, Yanbing and Song, Shuangyong and Huang, Hao},
  year   = {2025}
}
"""


@dataclasses.dataclass
class EstConfig(datasets.BuilderConfig):
    """`data_dir`: raw v1 folder (None = the simulated default); `context_turns`: k previous turns in `context`."""

    context_turns: int = DEFAULT_CONTEXT_TURNS
    keep_given_satisfaction: bool = False
    blind_test: bool = False


_VERSION = datasets.Version("1.0.0")


class Est(datasets.ArrowBasedBuilder):
    """EST: emotion, emotion-state transition and satisfaction of every user utterance (Chinese customer service)."""

    VERSION = _VERSION
    BUILDER_CONFIG_CLASS = EstConfig
    BUILDER_CONFIGS = [EstConfig(name=n, version=_VERSION, description=CONFIG_DESCRIPTIONS[n]) for n in CONFIG_NAMES]
    DEFAULT_CONFIG_NAME = DEFAULT_CONFIG

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=CONFIG_DESCRIPTIONS[self.config.name],
            features=features_for(self.config.name),
            citation=_CITATION,
            license="apache-2.0",
        )

    def _split_generators(self, dl_manager):
        data_dir = self.config.data_dir or default_corpus_dir()
        corpus = read_raw(data_dir, keep_given_satisfaction=self.config.keep_given_satisfaction)
        tables = EstTables(corpus, context_turns=self.config.context_turns, blind_test=self.config.blind_test)
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"table": tables.table(self.config.name, split)})
            for split in SPLITS
        ]

    def _generate_tables(self, table: pa.Table) -> Iterator[tuple[object, pa.Table]]:
        from datasets.builder import Key

        for index, batch in enumerate(table.to_batches(max_chunksize=100_000)):
            yield Key(0, index), pa.Table.from_batches([batch], schema=table.schema)


# --- command line ------------------------------------------------------------------------------------------------
def _print_summary(summary: BuildSummary) -> None:
    report = summary.report
    print(f"\nBuilt {summary.out} ({summary.bytes_on_disk / 1e6:,.1f} MB of Parquet)")
    print(f"{'config':24s}" + "".join(f"{s:>12s}" for s in SPLITS))
    for config, counts in summary.rows.items():
        print(f"{config:24s}" + "".join(f"{counts[s]:>12,d}" for s in SPLITS))
    print(
        f"Build report: {report.sessions_read:,} sessions read from {report.files} file(s); "
        f"{report.sessions_skipped_no_user_turn:,} skipped (no user turn)"
        + (f", e.g. {', '.join(report.skipped_session_ids[:3])}" if report.skipped_session_ids else "")
        + f"; {report.satisfaction_disagreements_kept:,} satisfaction disagreement(s) kept; "
        f"transitions {report.transitions_given:,} annotated / {report.transitions_derived:,} derived."
    )
    if summary.gold:
        print(f"Blind test: test labels are -1; gold labels written to {summary.gold}")
    where = summary.out
    try:
        where = summary.out.relative_to(Path.cwd())
    except ValueError:
        pass
    print(
        "\nLoad it with:\n"
        "    from datasets import load_dataset\n"
        f'    ds = load_dataset("{where}", "{DEFAULT_CONFIG}")  # configs: {", ".join(CONFIG_NAMES)}'
    )


def _cmd_build(args: argparse.Namespace) -> int:
    try:
        summary = build(
            args.data_dir,
            args.out,
            context_turns=args.context_turns,
            blind_test=args.blind_test,
            gold_out=args.gold_out,
            keep_given_satisfaction=args.keep_given_satisfaction,
            license=args.license,
            workers=args.workers,
            progress=not args.no_progress,
        )
    except (RawFormatError, FileExistsError) as err:
        print(f"error: {err}", file=sys.stderr)
        print(f"nothing was written; {args.out} is unchanged.", file=sys.stderr)
        return 1
    _print_summary(summary)
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    import simulator

    progress = not args.no_progress
    paths = simulator.write_corpus(args.out, args.sessions, args.seed, shards=args.shards, progress=progress)
    print(f"Wrote {args.sessions:,} simulated sessions (seed {args.seed}) to {len(paths)} file(s) in {args.out}")
    return 0


def push(folder: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload a built folder to the Hub as a dataset repository; raises RuntimeError with a clear message."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise RuntimeError(f"{folder} is not a built EST folder (no README.md): run `python est_dataset.py build`")
    token = token or get_token()
    if not token:
        raise RuntimeError(
            "no Hugging Face token found: run `hf auth login` or set HF_TOKEN to a token with write access"
        )
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=folder, repo_id=repo_id, repo_type="dataset", commit_message="Upload EST"
        )
    except OfflineModeIsEnabled as err:
        raise RuntimeError(f"cannot push while offline (HF_HUB_OFFLINE is set): {err}") from err
    except HfHubHTTPError as err:
        raise RuntimeError(f"the Hub refused the upload to {repo_id} (token without write access?): {err}") from err
    except Exception as err:  # the HTTP client's connection errors are not OSError subclasses
        reason = f"{type(err).__name__}: {err}"
        raise RuntimeError(f"cannot reach the Hub to upload {repo_id} (no network?): {reason}") from err
    return str(getattr(commit, "commit_url", commit))


def _cmd_push(args: argparse.Namespace) -> int:
    try:
        url = push(args.folder, args.repo_id, private=args.private)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Pushed {args.folder} to https://huggingface.co/datasets/{args.repo_id} ({url})")
    return 0


def _non_negative_int(value: str) -> int:
    number = int(value)
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {number}")
    return number


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="est_dataset.py",
        description="Build, simulate and publish the EST benchmark (emotion, emotion-state transition and "
        "satisfaction of user utterances in Chinese customer-service dialogue).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    b = commands.add_parser(
        "build",
        help="build the Hub-ready folder (Parquet configs + README.md card)",
        description="Read raw sessions (format v1: *.jsonl / *.jsonl.gz, one session per line), validate them, "
        "derive missing labels and write every config to OUT. Without --data-dir, builds the embedded SIMULATED "
        "default corpus (generated once into ~/.cache/est/raw).",
    )
    b.add_argument("--data-dir", metavar="DIR", help="folder of raw v1 files (default: the embedded simulated corpus)")
    b.add_argument("--out", default="est", metavar="DIR",
                   help="output folder, replaced only when the build succeeds (default: est)")
    b.add_argument("--context-turns", type=_non_negative_int, default=DEFAULT_CONTEXT_TURNS, metavar="K",
                   help=f"previous turns copied into each row's `context` (default: {DEFAULT_CONTEXT_TURNS})")
    b.add_argument("--blind-test", action="store_true",
                   help="set every test label to -1 and write the gold labels to --gold-out instead")
    b.add_argument("--gold-out", metavar="DIR",
                   help="folder for the blind-test gold file test.parquet (default: <OUT>-gold)")
    b.add_argument("--keep-given-satisfaction", action="store_true",
                   help="keep annotated satisfaction labels that disagree with the emotion (counted in the report) "
                   "instead of failing")
    b.add_argument("--license", default="apache-2.0", metavar="ID",
                   help="license id for the card (default: apache-2.0)")
    b.add_argument("--workers", type=int, metavar="N",
                   help="processes that parse raw files (default: 1; the JSON reader is multi-threaded already)")
    b.add_argument("--no-progress", action="store_true", help="no progress bars")
    b.set_defaults(func=_cmd_build)

    s = commands.add_parser("simulate", help="write a simulated raw v1 corpus",
                            description="Write a simulated raw v1 corpus with the project's simulator "
                            "(byte-identical for the same --sessions and --seed).")
    s.add_argument("--sessions", type=int, default=None, metavar="N",
                   help="number of sessions (default: simulator.DEFAULT_SESSIONS)")
    s.add_argument("--seed", type=int, default=None, metavar="S", help="random seed (default: simulator.DEFAULT_SEED)")
    s.add_argument("--out", required=True, metavar="DIR", help="output folder for the *.jsonl.gz shards")
    s.add_argument("--shards", type=int, default=None, metavar="N",
                   help="number of files (default: the simulator's choice)")
    s.add_argument("--no-progress", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_simulate)

    p = commands.add_parser("push", help="upload a built folder to the Hugging Face Hub",
                            description="Upload a built folder to a Hub dataset repository (needs a token: "
                            "`hf auth login` or HF_TOKEN, and network access).")
    p.add_argument("--repo-id", required=True, help="target dataset repository, e.g. ORG/est")
    p.add_argument("--folder", default="est", metavar="DIR", help="built folder to upload (default: est)")
    p.add_argument("--private", action="store_true", help="create the repository as private")
    p.set_defaults(func=_cmd_push)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    if args.command == "simulate":
        import simulator

        args.sessions = simulator.DEFAULT_SESSIONS if args.sessions is None else args.sessions
        args.seed = simulator.DEFAULT_SEED if args.seed is None else args.seed
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
