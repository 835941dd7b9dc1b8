"""Writing the simulated corpus as sharded, reproducible raw-format-v1 files (`*.jsonl.gz`).

Byte-identical output for the same (n_sessions, seed, shards): every session has its own seeded random stream
(`corpus.generate_session`), JSON is written with a fixed key order and separators, and the gzip header carries
mtime=0 and no file name. Shards are written in parallel by a process pool; the result does not depend on the
number of workers. Each shard is written to a temporary file and renamed, so a shard on disk is always complete.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
from pathlib import Path

from tqdm.auto import tqdm

from ..io import jsonl_gz, write_atomically
from .compose import plans
from .corpus import generate_session

SESSIONS_PER_SHARD = 2_500
COMPRESS_LEVEL = 6
SHARD_PREFIX = "sim-"
SHARD_SUFFIX = ".jsonl.gz"
# Written beside the shards: tells the builder the folder is this simulator's output (its card then says so and
# carries the simulator's sections; a build of any other raw folder carries none of them).
MARKER_NAME = "simulated.json"


def read_marker(folder: str | os.PathLike) -> dict | None:
    """The marker of a simulated corpus folder, or None if the folder is not the simulator's output."""
    path = Path(folder) / MARKER_NAME
    if not path.is_file():
        return None
    try:
        marker = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return marker if isinstance(marker, dict) and marker.get("generator") == "estbench.simulator" else None


def shard_name(index: int, shards: int) -> str:
    return f"{SHARD_PREFIX}{index:05d}-of-{shards:05d}{SHARD_SUFFIX}"


def default_shards(n_sessions: int) -> int:
    return max(1, math.ceil(n_sessions / SESSIONS_PER_SHARD))


def shard_bytes(seed: int, start: int, stop: int) -> bytes:
    """The gzip-compressed JSON Lines of sessions [start, stop) (deterministic)."""
    return jsonl_gz((generate_session(seed, i) for i in range(start, stop)), COMPRESS_LEVEL)


def _write_shard(task: tuple[str, int, int, int]) -> tuple[str, int]:
    path, seed, start, stop = task
    write_atomically(path, shard_bytes(seed, start, stop))
    return path, stop - start


def _check_int(name: str, value, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")
    return value


def write_corpus(
    out_dir: str | os.PathLike,
    n_sessions: int,
    seed: int,
    shards: int | None = None,
    progress: bool = True,
    *,
    workers: int | None = None,
) -> list[Path]:
    """Write `n_sessions` simulated sessions to `out_dir` as `shards` files `sim-XXXXX-of-YYYYY.jsonl.gz`.

    Returns the shard paths in order. Shards left in `out_dir` by an earlier call with another shard count are
    removed (only files named like this function's shards are touched). `workers` defaults to the CPU count.
    """
    _check_int("n_sessions", n_sessions, 1)
    _check_int("seed", seed, 0)
    shards = default_shards(n_sessions) if shards is None else _check_int("shards", shards, 1)
    if shards > n_sessions:
        raise ValueError(f"shards ({shards}) cannot exceed n_sessions ({n_sessions})")
    workers = min(shards, os.cpu_count() or 1) if workers is None else _check_int("workers", workers, 1)

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    bounds = [n_sessions * i // shards for i in range(shards + 1)]
    tasks = [(str(out / shard_name(i, shards)), seed, bounds[i], bounds[i + 1]) for i in range(shards)]

    plans()  # solved once here, so forked workers inherit it instead of each solving it again
    bar = tqdm(total=n_sessions, unit="session", desc="composing", disable=not progress)
    try:
        if workers == 1 or shards == 1:
            for task in tasks:
                bar.update(_write_shard(task)[1])
        else:
            with multiprocessing.get_context("fork" if os.name == "posix" else "spawn").Pool(workers) as pool:
                for _, count in pool.imap(_write_shard, tasks):
                    bar.update(count)
    finally:
        bar.close()

    marker = {"generator": "estbench.simulator", "sessions": n_sessions, "seed": seed, "shards": shards}
    write_atomically(out / MARKER_NAME, json.dumps(marker, indent=1) + "\n")
    written = {Path(task[0]).name for task in tasks}
    for stale in out.glob(f"{SHARD_PREFIX}*-of-*{SHARD_SUFFIX}"):
        if stale.name not in written:
            stale.unlink()
    return [Path(task[0]) for task in tasks]
