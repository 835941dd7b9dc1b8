"""Reading raw format v1: a folder of `*.jsonl` / `*.jsonl.gz` files, one session per line, validated in full.

`read_raw` gives a `Corpus` or raises one `RawFormatError` that lists every problem as file:line: reason.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import zlib
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Sequence

import pyarrow as pa
import pyarrow.compute as pc

from ..errors import Problem, ProblemReport
from .corpus import BuildReport, Corpus, ReadOptions
from .fast_path import parse_arrow
from .line_path import parse_lines


class RawFormatError(ProblemReport):
    """The raw data is invalid; `problems` lists (up to a cap) every problem found, `total` counts them all."""

    def __init__(self, problems: Sequence[Problem], total: int | None = None):
        total = len(problems) if total is None else total
        super().__init__(problems, headline=f"invalid raw data: {total} problem(s)", total=total)


def raw_files(data_dir: str | os.PathLike) -> list[Path]:
    """The raw files of a directory (`*.jsonl`, `*.jsonl.gz`), sorted by name so the row order is reproducible."""
    data_dir = Path(data_dir)
    if not data_dir.is_dir():
        raise RawFormatError([Problem(str(data_dir), None, "not a directory")])
    files = sorted(p for p in data_dir.iterdir() if p.is_file() and p.name.endswith((".jsonl", ".jsonl.gz")))
    if not files:
        raise RawFormatError([Problem(str(data_dir), None, "no *.jsonl or *.jsonl.gz files")])
    return files



def raw_digest(data_dir: str | os.PathLike) -> str:
    """SHA-256 (hex) of a raw corpus: every raw file's name and bytes, in `raw_files` order. The same files give the
    same digest wherever they are; it is the raw part of a build's data digest (`BuildOptions.data_digest`)."""
    digest = hashlib.sha256()
    for path in raw_files(data_dir):
        digest.update(path.name.encode("utf-8") + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


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


def _parse_file(path: Path, options: ReadOptions) -> tuple[dict, list[Problem], BuildReport]:
    """Validate one raw file and derive its missing labels. Returns its columns (sessions + turns), its problems
    and its report counts.

    A valid file takes the fast path (`parse_arrow`: pyarrow's JSON reader and vectorised checks); anything it does
    not accept goes through `parse_lines`, which checks line by line and says what is wrong where. Both give the
    same columns for a valid file (tested).
    """
    problems: list[Problem] = []
    data = _read_bytes(path, problems)
    if data is None:
        return parse_lines(path, None, options, problems)
    return parse_arrow(path, data, options) or parse_lines(path, _decode_lines(path, data, problems), options, problems)


def read_raw(
    data_dir: str | os.PathLike,
    options: ReadOptions | None = None,
    *,
    workers: int | None = None,
    progress: bool = False,
    **option_values,
) -> Corpus:
    """Read and validate a raw v1 directory. Raises `RawFormatError` listing every problem as file:line: reason.

    `options` (a `ReadOptions`, or a wider set such as a build's), each overridden by a keyword of the same name
    (`read_raw(folder, strict=True)`); unknown keys are counted in `Corpus.report.unknown_keys` (errors with
    `strict`)."""
    options = dataclasses.replace((options or ReadOptions()).read_options(), **option_values)
    files = raw_files(data_dir)
    # one process by default: the fast path's JSON reader is multi-threaded already; extra processes only pay off
    # for big inputs that need the line-by-line path
    workers = min(len(files), workers or 1)
    from tqdm.auto import tqdm

    bar = tqdm(total=len(files), desc="Reading raw sessions", unit="file", disable=not progress)
    results = []
    if workers <= 1:
        for path in files:
            results.append(_parse_file(path, options))
            bar.update()
    else:
        import multiprocessing

        # fork: workers start in milliseconds and need no importable __main__ (as datasets' own map(num_proc=))
        method = "fork" if "fork" in multiprocessing.get_all_start_methods() else "spawn"
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(method)) as pool:
            for result in pool.map(_parse_file, files, [options] * len(files)):
                results.append(result)
                bar.update()
    bar.close()

    problems: list[Problem] = [p for _, file_problems, _ in results for p in file_problems]
    report = BuildReport()
    first_seen: dict[str, tuple[str, int]] = {}
    for path, (columns, _, file_report) in zip(files, results):
        report.merge(file_report)
        for session_id, line in zip(*columns["ids"]):
            if session_id in first_seen:
                where = "{}:{}".format(*first_seen[session_id])
                problems.append(Problem(str(path), line, f"duplicate session_id {session_id!r} (first at {where})"))
            else:
                first_seen[session_id] = (str(path), line)
    if problems:
        raise RawFormatError(problems)
    if not sum(columns["sessions"].num_rows for columns, _, _ in results):
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
