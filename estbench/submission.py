"""The submission format: what a prediction file is, how it is written, and how an uploaded one is checked.

This module owns the format every part shares (the baselines and the harness converter write it, the leaderboard and
the seed rows check it, the templates and the page describe it):

- a prediction file is CSV (`.csv`) or JSON Lines (`.jsonl`) (`EXTENSIONS`), UTF-8, with the columns `id`,
  `emotion`, `transition`, `satisfaction` (`COLUMNS`; label names as in `estbench.schema`, the documented aliases
  accepted too, every name encoded by `estbench.scoring.encode`). A task column may be left out: that task is then
  not scored. Rows may come in any order; every id of the track's test split must appear once;
- writing: `check_prediction_path` (before any work), `predictions_frame` (a checked table in column order),
  `write_predictions` (atomic);
- checking: `check_submission(path, gold)` -> `CheckedSubmission` (predicted ClassLabel ids in gold order) or
  `SubmissionError`, whose message lists every problem found (each listing capped, with counts);
  `validate_submission` gives the same as a DataFrame of label names. `DEFAULT_MAX_BYTES` is the upload limit
  (the leaderboard's `EST_LB_MAX_MIB` overrides it) and `mib` how every message shows a size.

An uploaded file is hostile until checked, so the check is built not to crash or stall on any input: size, encoding,
line length (`MAX_LINE_BYTES`) and, for JSON Lines, nesting depth (`MAX_JSON_DEPTH`) are checked on the bytes before
any parser runs; JSON Lines are then read by Python's `json` (whose recursion is bounded and raises, never overflows
the C stack; pyarrow's reader crashed the process on a line nested 20,000 levels deep); line endings may be LF, CRLF
or CR alone; and every value a message quotes is cut to `MAX_QUOTED_CHARS`, so no message echoes megabytes back.
`CheckedSubmission.predictions_sha256` identifies the parsed predictions (not the bytes): the same predictions with
other line endings, quoting or row order are one submission.
"""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import os
import re
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.csv as pa_csv

from . import scoring
from .errors import ProblemReport
from .gold import Gold
from .io import write_atomically
from .schema import TASK_NAMES, Task

EXTENSIONS: tuple[str, ...] = (".csv", ".jsonl")
TASK_COLUMNS: tuple[str, ...] = TASK_NAMES
COLUMNS: tuple[str, ...] = ("id", *TASK_COLUMNS)
MIB = 1024 * 1024
DEFAULT_MAX_BYTES = 20 * MIB  # the upload limit
MAX_EXAMPLES = 5  # examples listed per problem
MAX_PROBLEMS = 20  # problems listed per message
MAX_LINE_BYTES = 4096  # a prediction line is ~60 bytes; anything this long is not one
MAX_JSON_DEPTH = 2  # a prediction line is a flat object (depth 1); one more level still gets a precise message
MAX_QUOTED_CHARS = 40  # a value quoted in a message is cut to this many characters
MAX_NAME_CHARS = 80  # a file name shown in a message is cut to this many characters


class SubmissionError(ProblemReport):
    """The uploaded file was rejected. `problems` lists every problem found; str() is the user-facing message."""

    def __init__(self, problems: list[str], file_name: str = "the file"):
        self.file_name = file_name
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(problems, headline=f"{file_name}: {count} found, nothing was stored:", limit=MAX_PROBLEMS,
                         bullet="- ")


@dataclass(frozen=True)
class CheckedSubmission:
    """A valid submission: `codes[task]` = predicted ClassLabel ids aligned with `gold.ids`."""

    raw: bytes
    sha256: str  # of the bytes (the archive's name)
    extension: str
    codes: dict[str, np.ndarray]
    predictions_sha256: str = ""  # of the parsed predictions in gold order (duplicates are found by this)

    @property
    def tasks(self) -> tuple[str, ...]:
        return tuple(self.codes)


def quoted(value: object, limit: int = MAX_QUOTED_CHARS) -> str:
    """repr() of a value from an uploaded file, cut to `limit` characters: messages never echo a file back."""
    text = str(value)
    return repr(text) if len(text) <= limit else repr(text[:limit]) + f"… ({len(text):,} characters)"


def shown_name(file_name: str) -> str:
    """A user's file name as messages show it: its last part, cut to `MAX_NAME_CHARS` characters."""
    name = Path(str(file_name)).name or "the file"
    return name if len(name) <= MAX_NAME_CHARS else name[: MAX_NAME_CHARS - 1] + "…"


def predictions_digest(ids: np.ndarray, codes: Mapping[str, np.ndarray]) -> str:
    """SHA-256 of predictions as the scorer sees them: the ids in gold order, then each task's label ids."""
    digest = hashlib.sha256("\n".join(ids.tolist()).encode("utf-8"))
    for task in sorted(codes):
        digest.update(b"\0" + task.encode("utf-8") + b"\0" + np.asarray(codes[task], dtype=np.int8).tobytes())
    return digest.hexdigest()


def mib(size: int) -> str:
    """A size limit as the docs, the page and the errors all show it."""
    return f"{size / MIB:g} MiB"


def _wide_encoding(raw: bytes) -> str | None:
    """UTF-16 / UTF-32 by their byte-order mark, or by the zero bytes that ASCII text has in them."""
    for mark, name in ((b"\xff\xfe\x00\x00", "UTF-32 (little-endian)"), (b"\x00\x00\xfe\xff", "UTF-32 (big-endian)"),
                       (b"\xff\xfe", "UTF-16 (little-endian)"), (b"\xfe\xff", "UTF-16 (big-endian)")):
        if raw.startswith(mark):
            return name
    head = raw[:4096]
    if len(head) >= 8 and b"\x00" in head:
        if head[1::4].count(0) == head[2::4].count(0) == head[3::4].count(0) == len(head[1::4]) and head[0]:
            return "UTF-32 (little-endian)"
        if head[0::4].count(0) == head[1::4].count(0) == head[2::4].count(0) == len(head[0::4]) and head[3]:
            return "UTF-32 (big-endian)"
        if head[1::2].count(0) >= 0.9 * len(head[1::2]) and head[0::2].count(0) == 0:
            return "UTF-16 (little-endian)"
        if head[0::2].count(0) >= 0.9 * len(head[0::2]) and head[1::2].count(0) == 0:
            return "UTF-16 (big-endian)"
    return None


def _examples(items: list[str], total: int) -> str:
    shown = ", ".join(items[:MAX_EXAMPLES])
    return shown + (f" (first {MAX_EXAMPLES} of {total:,} shown)" if total > MAX_EXAMPLES else "")


def _where(ids: np.ndarray, lines: np.ndarray, rows: np.ndarray) -> list[str]:
    return [f"{quoted(ids[r])} (line {lines[r]})" if ids[r] != "" else f"line {lines[r]}" for r in rows[:MAX_EXAMPLES]]


# --- reading ---------------------------------------------------------------------------------------------------

def _read_bytes(path: Path, file_name: str, max_bytes: int
                ) -> tuple[bytes | None, bytes | None, str | None, list[str]]:
    """Checks that need no parsing: extension, size, emptiness, encoding, content type, line length and (JSON
    Lines) nesting. Returns the file's bytes as uploaded, then its bytes and text with LF line endings (what the
    parsers read), and the problems found; (None, None, None, problems) when parsing must not be tried."""
    problems: list[str] = []
    extension = Path(file_name).suffix.lower()
    if extension not in EXTENSIONS:
        problems.append(f"wrong file type {quoted(extension or '(no extension)', 12)}: upload a .csv or .jsonl file")
    size = path.stat().st_size
    if size > max_bytes:
        problems.append(f"file is {size / MIB:.1f} MiB, over the size limit of {mib(max_bytes)}")
        return None, None, None, problems
    original = raw = path.read_bytes()
    if not raw.strip():
        problems.append("file is empty")
        return None, None, None, problems
    wide = _wide_encoding(raw)
    if wide:
        problems.append(f"the file is {wide} text; save it as UTF-8")
        return None, None, None, problems
    if raw[:2] == b"\x1f\x8b" or raw[:4] == b"PK\x03\x04" or raw[:4] == b"PAR1" or b"\x00" in raw:
        problems.append("content is binary (compressed, parquet or similar), not CSV or JSON Lines text")
        return None, None, None, problems
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        problems.append(f"not UTF-8: invalid byte 0x{raw[err.start]:02x} at line {line} (byte {err.start}); "
                        "save as UTF-8")
        return None, None, None, problems
    if "\r" in text:  # CRLF (Windows) or CR alone (old Mac): one line ending for every parser below
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    raw = text.encode("utf-8")
    long_line = _first_long_line(raw)
    if long_line is not None:
        number, length = long_line
        problems.append(f"line {number:,} is {length / 1024:,.1f} KiB long; a prediction line is at most "
                        f"{MAX_LINE_BYTES // 1024} KiB (id and three labels)")
        return None, None, None, problems
    first = text.lstrip()[:1]
    if extension == ".csv" and first in ("{", "["):
        problems.append("content type mismatch: the .csv file holds JSON; name it .jsonl or write CSV")
    elif extension == ".jsonl" and first != "{":
        problems.append("content type mismatch: the .jsonl file does not hold JSON objects (one per line)")
    elif extension == ".jsonl":
        deep = _first_deep_line(raw)
        if deep is not None:
            problems.append(f"line {deep:,} nests JSON more than {MAX_JSON_DEPTH} levels deep; each line must be one "
                            "flat object of strings, e.g. {\"id\": \"...\", \"emotion\": \"Worry\"}")
            return None, None, None, problems
    return original, raw, text, problems


def _line_ends(raw: bytes) -> np.ndarray:
    """Offset of the end of every line (its LF, or the end of the file for a last line without one)."""
    ends = np.flatnonzero(np.frombuffer(raw, dtype=np.uint8) == 10)
    return ends if raw.endswith(b"\n") else np.append(ends, len(raw))


def _first_long_line(raw: bytes) -> tuple[int, int] | None:
    """(1-based line number, length in bytes) of the first line over `MAX_LINE_BYTES`, or None."""
    ends = _line_ends(raw)
    lengths = np.diff(ends, prepend=-1) - 1
    over = np.flatnonzero(lengths > MAX_LINE_BYTES)
    return (int(over[0]) + 1, int(lengths[over[0]])) if len(over) else None


_JSON_STRING = re.compile(rb'"(?:[^"\\\n]|\\.)*"')
_JSON_BRACKETS = re.compile(rb"[\[\]{}]")


def _first_deep_line(raw: bytes) -> int | None:
    """1-based number of the first line whose JSON nests deeper than `MAX_JSON_DEPTH`, or None.

    Counted on the bytes, before any parser runs. Most files have one `{` per line: only lines with more opening
    brackets than the depth allows (strings included, so a bracket inside a label counts) are scanned exactly,
    strings removed, and each such line is at most `MAX_LINE_BYTES` long, so the scan is bounded."""
    data = np.frombuffer(raw, dtype=np.uint8)
    openers = np.flatnonzero((data == 0x7B) | (data == 0x5B))
    if len(openers) <= MAX_JSON_DEPTH:
        return None
    ends = _line_ends(raw)
    per_line = np.bincount(np.searchsorted(ends, openers), minlength=len(ends))
    for line in np.flatnonzero(per_line > MAX_JSON_DEPTH):
        start = int(ends[line - 1]) + 1 if line else 0
        depth = deepest = 0
        for bracket in _JSON_BRACKETS.findall(_JSON_STRING.sub(b'""', raw[start: int(ends[line])])):
            depth += 1 if bracket in b"[{" else -1
            deepest = max(deepest, depth)
        if deepest > MAX_JSON_DEPTH:
            return int(line) + 1
    return None


def _table_to_frame(table: pa.Table) -> pd.DataFrame:
    return pd.DataFrame({name: np.asarray(table.column(name).fill_null("").to_numpy(zero_copy_only=False),
                                          dtype=object) if not pa.types.is_null(table.column(name).type)
                         else np.full(table.num_rows, "", dtype=object) for name in table.column_names},
                        dtype=object)  # plain Python strings: no round trip through pandas' arrow strings


def _parse_csv_arrow(raw: bytes, text: str, header: list[str]) -> tuple[pd.DataFrame, np.ndarray] | None:
    """Fast path for well-formed files: pyarrow's C++ CSV reader, every column read as text. None when the file
    needs the careful path (malformed rows, blank lines, duplicate header names)."""
    if len(set(header)) != len(header) or re.search(r"\n[ \t]*\n", text.strip()) or text.startswith("\n"):
        return None
    try:
        table = pa_csv.read_csv(
            io.BytesIO(raw.removeprefix(b"\xef\xbb\xbf")),
            read_options=pa_csv.ReadOptions(block_size=max(1 << 20, len(raw) // 8 + 1)),
            convert_options=pa_csv.ConvertOptions(column_types={name: pa.string() for name in header},
                                                  strings_can_be_null=False, quoted_strings_can_be_null=False))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    return _table_to_frame(table), np.arange(2, table.num_rows + 2)


def _parse_csv(text: str, problems: list[str], raw: bytes = b"") -> tuple[pd.DataFrame, np.ndarray]:
    try:
        header = next(csv.reader(io.StringIO(text.lstrip("\n"))), [])
    except csv.Error as err:
        problems.append(f"CSV could not be parsed: {str(err)[:120]}")
        return pd.DataFrame(), np.zeros(0, dtype=np.int64)
    fast = _parse_csv_arrow(raw, text, header) if raw else None
    if fast is not None:
        return fast
    duplicated = sorted({c for c in header if header.count(c) > 1})
    if duplicated:
        problems.append(f"duplicate column name(s) [{', '.join(quoted(c) for c in duplicated[:MAX_EXAMPLES])}] "
                        "in the header")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            frame = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, na_filter=False,
                                skip_blank_lines=False, on_bad_lines="warn", engine="c")
        except pd.errors.ParserError as err:
            problems.append(f"CSV could not be parsed: {str(err)[:120]}")
            return pd.DataFrame(), np.zeros(0, dtype=np.int64)
        except pd.errors.EmptyDataError:
            problems.append("file has no header line")
            return pd.DataFrame(), np.zeros(0, dtype=np.int64)
    skipped: list[int] = []
    details: list[str] = []
    for warning in caught:
        for line in str(warning.message).splitlines():
            if line.startswith("Skipping line "):  # "Skipping line 7: expected 4 fields, saw 5"
                number, _, detail = line[len("Skipping line "):].partition(": ")
                skipped.append(int(number))
                details.append(f"line {number} ({detail[:60]})")
    if skipped:
        problems.append(f"{len(skipped):,} line(s) have the wrong number of fields: "
                        + _examples(details, len(details)))
    # Line of each data row: header is line 1; rows skipped as malformed shift the numbering.
    lines = np.arange(2, 2 + len(frame) + len(skipped))
    if skipped:
        lines = lines[~np.isin(lines, skipped)][: len(frame)]
    frame.columns = [str(c) for c in frame.columns]
    return frame, lines


def _scalar_text(value: object) -> str:
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and value != value):  # JSON null or a key missing on this line
        return ""
    return json.dumps(value, ensure_ascii=False)


def _parse_jsonl(text: str, problems: list[str]) -> tuple[pd.DataFrame, np.ndarray]:
    """JSON Lines by Python's `json` (its C scanner is as fast as pyarrow's reader here, and its recursion is
    bounded: it raises instead of overflowing the stack; `_read_bytes` has bounded the depth anyway)."""
    numbered = [(number, line) for number, line in enumerate(text.split("\n"), start=1) if line.strip()]
    records: list = []
    try:  # fast path: the whole file as one JSON array (one C-level parse instead of one call per line)
        records = json.loads("[" + ",".join(line for _, line in numbered) + "]")
        fast = len(records) == len(numbered) and all(type(r) is dict for r in records)
    except (ValueError, RecursionError):
        fast = False
    if fast:
        lines = [number for number, _ in numbered]
    else:  # slow path, only for broken files: find every bad line
        records, lines, bad = [], [], []
        for number, line in numbered:
            try:
                record = json.loads(line)
            except json.JSONDecodeError as err:
                bad.append(f"line {number}: invalid JSON ({err.msg} at column {err.colno})")
                continue
            except RecursionError:
                bad.append(f"line {number}: JSON nested too deep")
                continue
            if not isinstance(record, dict):
                bad.append(f"line {number}: a JSON {type(record).__name__}, expected an object")
                continue
            records.append(record)
            lines.append(number)
        if bad:
            problems.append(f"{len(bad):,} line(s) are not JSON objects: " + _examples(bad, len(bad)))
    keys = list(dict.fromkeys(key for record in records for key in record))
    if len(keys) > 4 * len(COLUMNS):  # every line its own keys: report the first few, do not build a huge table
        problems.append(f"the lines hold {len(keys):,} different keys; expected {', '.join(COLUMNS)}")
        return pd.DataFrame(), np.zeros(0, dtype=np.int64)
    # A key missing on some lines becomes "" and is reported as an empty or missing id or label.
    frame = pd.DataFrame({str(key): np.array([v if type(v) is str else _scalar_text(v)
                                              for v in (r.get(key) for r in records)], dtype=object)
                          for key in keys})
    return frame, np.asarray(lines, dtype=np.int64)



# --- checking --------------------------------------------------------------------------------------------------

_NAME_NOISE = re.compile(r"^(?:pred(?:icted|iction)?|label|gold|y)_+|_+(?:pred(?:icted|iction)?|labels?|ids?|name)$")


def _renamed_from(column: str, candidates: list[str]) -> str | None:
    """The expected column that `column` most likely renames ("Emotion", "pred_emotion", "sat_label"), if any."""
    if len(column) > 2 * MAX_QUOTED_CHARS:  # no column name is this long; difflib on it would only cost time
        return None
    key = re.sub(r"[\s\-.]+", "_", column.strip().lower())
    key = _NAME_NOISE.sub("", _NAME_NOISE.sub("", key))
    for candidate in candidates:
        if key == candidate or (len(key) >= 3 and candidate.startswith(key)):
            return candidate
    close = difflib.get_close_matches(key, candidates, n=1, cutoff=0.6)
    return close[0] if close else None


def _check_columns(columns: list[str], problems: list[str]) -> list[str]:
    """Return the task columns present; record missing, extra and renamed columns."""
    present = [c for c in TASK_COLUMNS if c in columns]
    if "id" not in columns:
        problems.append("missing column 'id'")
    for column in columns:
        if column in COLUMNS:
            continue
        original = _renamed_from(column, [c for c in COLUMNS if c not in columns])
        if original:
            problems.append(f"column {quoted(column)} looks like a renamed {original!r}; expected exactly: "
                            f"{', '.join(COLUMNS)}")
        else:
            problems.append(f"unexpected column {quoted(column)}; expected: {', '.join(COLUMNS)} (task columns "
                            "may be "
                            "left out)")
    if not present:
        problems.append(f"no prediction column: give at least one of {', '.join(TASK_COLUMNS)}")
    return present


def _check_ids(ids: np.ndarray, lines: np.ndarray, gold: Gold, problems: list[str]) -> np.ndarray:
    """Positions of the rows in gold order (-1 = not in the gold); record empty, duplicate, unknown, missing ids."""
    empty = np.flatnonzero(ids == "")
    if len(empty):
        problems.append(f"{len(empty):,} row(s) have an empty or missing id: "
                        + _examples(_where(ids, lines, empty), len(empty)))
    series = pd.Series(ids, dtype=object)
    duplicated = series.duplicated(keep=False).to_numpy() & (ids != "")
    if duplicated.any():
        dup_ids = pd.unique(ids[duplicated])
        examples = [f"{quoted(i)} (lines {', '.join(str(n) for n in lines[ids == i][:3])})"
                    for i in dup_ids[:MAX_EXAMPLES]]
        problems.append(f"{len(dup_ids):,} id(s) appear more than once: " + _examples(examples, len(dup_ids)))
    position = gold.index.get_indexer(ids) if gold.index.is_unique else np.full(len(ids), -1)
    unknown = np.flatnonzero((position < 0) & (ids != ""))
    if len(unknown):
        problems.append(f"{len(unknown):,} id(s) are not in the {gold.track} test set (wrong track?): "
                        + _examples(_where(ids, lines, unknown), len(unknown)))
    seen = np.zeros(len(gold), dtype=bool)
    seen[position[position >= 0]] = True
    missing = np.flatnonzero(~seen)
    if len(missing):
        problems.append(f"{len(missing):,} of the {len(gold):,} ids of the {gold.track} test set are missing: "
                        + _examples([quoted(gold.ids[i]) for i in missing[:MAX_EXAMPLES]], len(missing)))
    return position


def _check_labels(task: str, values: np.ndarray, ids: np.ndarray, lines: np.ndarray,
                  problems: list[str]) -> np.ndarray:
    """ClassLabel ids of one task column (-1 where invalid); record empty and unknown labels."""
    codes = scoring.encode(task, values, what="predictions", invalid=-1).astype(np.int8)
    empty = np.flatnonzero(values == "")
    if len(empty):
        problems.append(f"{task}: {len(empty):,} row(s) have an empty or missing label: "
                        + _examples(_where(ids, lines, empty), len(empty)))
    unknown = np.flatnonzero((codes < 0) & (values != ""))
    if len(unknown):
        bad_values = pd.unique(values[unknown])
        examples = [f"{quoted(v)} at {_where(ids, lines, unknown[values[unknown] == v][:1])[0]}"
                    for v in bad_values[:MAX_EXAMPLES]]
        problems.append(f"{task}: {len(unknown):,} row(s) have unknown labels ({len(bad_values):,} distinct; expected "
                        f"one of {', '.join(Task(task).labels)}): " + _examples(examples, len(bad_values)))
    return codes


def check_submission(path: str | os.PathLike, gold: Gold, *, max_bytes: int = DEFAULT_MAX_BYTES,
                     file_name: str | None = None) -> CheckedSubmission:
    """Validate the file at `path` against `gold`; return its predictions as ClassLabel ids in gold order.

    Any file, however malformed, ends in a `CheckedSubmission` or a `SubmissionError`: the checks before parsing
    bound what a parser sees, and a parser error that still slips through is reported as one line."""
    path = Path(path)
    file_name = shown_name(file_name or path.name)
    original, raw, text, problems = _read_bytes(path, file_name, max_bytes)
    if raw is None or problems:
        raise SubmissionError(problems, file_name)
    extension = Path(file_name).suffix.lower()
    try:
        if extension == ".csv":
            frame, lines = _parse_csv(text, problems, raw)
        else:
            frame, lines = _parse_jsonl(text, problems)
    except (ValueError, csv.Error, RecursionError, pa.ArrowException) as err:
        raise SubmissionError([f"the file could not be parsed ({type(err).__name__}); check that it is "
                               f"well-formed {extension[1:].upper()}"], file_name) from None
    if frame.empty and not frame.columns.size:
        if not problems:
            problems.append("no predictions found")
        raise SubmissionError(problems, file_name)
    tasks = _check_columns(list(frame.columns), problems)
    if len(frame) == 0:
        problems.append("the file has a header but no prediction rows")
        raise SubmissionError(problems, file_name)
    if "id" in frame.columns:
        ids = np.array([value.strip() for value in frame["id"].to_numpy(dtype=object)], dtype=object)
        position = _check_ids(ids, lines, gold, problems)
    else:
        ids = np.full(len(frame), "", dtype=object)
    codes = {task: _check_labels(task, frame[task].to_numpy(dtype=object), ids, lines, problems) for task in tasks}
    if problems:
        raise SubmissionError(problems, file_name)
    aligned: dict[str, np.ndarray] = {}
    for task in tasks:
        in_gold_order = np.empty(len(gold), dtype=np.int8)
        in_gold_order[position] = codes[task]
        aligned[task] = in_gold_order
    return CheckedSubmission(raw=original, sha256=hashlib.sha256(original).hexdigest(), extension=extension,
                             codes=aligned, predictions_sha256=predictions_digest(gold.ids, aligned))


def validate_submission(path: str | os.PathLike, gold: Gold, *, max_bytes: int = DEFAULT_MAX_BYTES) -> pd.DataFrame:
    """The predictions of a valid file as a DataFrame (id + the task columns it has, canonical label names, rows in
    gold order); raises `SubmissionError` listing every problem otherwise."""
    checked = check_submission(path, gold, max_bytes=max_bytes)
    data = {"id": gold.ids}
    for task, codes in checked.codes.items():
        data[task] = np.asarray(Task(task).labels, dtype=object)[codes]
    return pd.DataFrame(data)



# --- writing ---------------------------------------------------------------------------------------------------

def check_prediction_path(path: str | Path) -> str:
    """The extension of a prediction file path; ValueError unless it is one of `EXTENSIONS` (checked before any
    work, so a long run never ends unable to write its file)."""
    suffix = Path(path).suffix.lower()
    if suffix not in EXTENSIONS:
        raise ValueError(f"{path}: prediction files must end in {' or '.join(EXTENSIONS)}")
    return suffix


def predictions_frame(ids: Sequence[str], predictions: Mapping[str, Sequence[str]]) -> pd.DataFrame:
    """A prediction table in the file's column order (`id`, then the tasks given), every label checked by
    `estbench.scoring.encode` and written with its canonical name."""
    frame = pd.DataFrame({"id": list(ids)})
    for task in Task:
        if task.value not in predictions:
            continue
        values = list(predictions[task.value])
        if len(values) != len(frame):
            raise ValueError(f"{len(values)} {task.value} predictions for {len(frame)} ids")
        codes = scoring.encode(task, [str(v) for v in values], what="predictions", invalid=-1) if values else []
        bad = [i for i, (code, value) in enumerate(zip(codes, values)) if code < 0 or not isinstance(value, str)]
        if bad:
            row = bad[0]
            raise ValueError(f"row {row} (id {frame['id'][row]!r}): invalid {task.value} label {values[row]!r}")
        frame[task.value] = np.asarray(task.labels, dtype=object)[np.asarray(codes, dtype=np.int64)]
    return frame


def write_predictions(frame: pd.DataFrame, path: str | Path) -> Path:
    """Write a prediction table as CSV (`.csv`) or JSON Lines (`.jsonl`), atomically."""
    suffix = check_prediction_path(path)

    def write(out):
        if suffix == ".csv":
            frame.to_csv(out, index=False)
        else:
            for record in frame.to_dict(orient="records"):
                out.write(json.dumps(record, ensure_ascii=False) + "\n")

    return write_atomically(path, write)
