"""Atomic file and folder writes: readers see the old content or the complete new one, never a partial one.

Every part of the project that writes (the builder, the simulator, the converters, prediction files, the
leaderboard's archive, the Space assemblers) goes through these functions; `jsonl_gz` is the one encoding of raw
format shards.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Iterable, Iterator


def write_atomically(path: str | os.PathLike, data: bytes | str | Callable, *, fsync: bool = False) -> Path:
    """Write `data` (bytes, text, or a callable given a text handle) to `path` via a temp file and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if callable(data):
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                data(handle)
        else:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data.encode("utf-8") if isinstance(data, str) else data)
                if fsync:
                    handle.flush()
                    os.fsync(handle.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes files private; these are ordinary outputs
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def jsonl_gz(records: Iterable[dict], compresslevel: int = 6) -> bytes:
    """Compact JSON Lines, gzip-compressed with no timestamp or name in the header: the same records give the same
    bytes (raw format v1 shards of the simulator and the converters)."""
    data = "".join(json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n" for r in records)
    return gzip.compress(data.encode("utf-8"), compresslevel=compresslevel, mtime=0)


def swap_in(staged: Path, out: Path) -> None:
    """Replace folder `out` by `staged` with renames only, so `out` is never half-written."""
    old = None
    if out.exists():
        old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
        os.replace(out, old / out.name)
    try:
        os.replace(staged, out)
    except BaseException:
        if old is not None:
            os.replace(old / out.name, out)
        raise
    finally:
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)


@contextlib.contextmanager
def staged_folder(out: str | os.PathLike, *, replace: bool = True) -> Iterator[Path]:
    """Yield an empty folder beside `out`; when the block succeeds it becomes `out` (`swap_in`), else it is removed.

    With replace=False an `out` that appeared meanwhile is kept (another process finished first) and the staged copy
    is dropped: the simulated-corpus cache relies on that.
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    try:
        staged.chmod(0o755)  # mkdtemp makes it private; outputs are ordinary folders
        yield staged
        if replace or not out.exists():
            swap_in(staged, out)
    finally:
        shutil.rmtree(staged, ignore_errors=True)
