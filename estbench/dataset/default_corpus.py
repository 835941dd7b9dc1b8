"""The embedded default corpus: the simulator's output, generated once into a cache folder keyed by the
simulator's own source (a changed simulator never serves stale data).
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from .. import simulator
from ..io import staged_folder
from ..layout import RAW_FORMAT_VERSION


def cache_root() -> Path:
    if os.environ.get("EST_CACHE_DIR"):
        return Path(os.environ["EST_CACHE_DIR"])
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "est"


def simulated_corpus_dir(n_sessions: int, seed: int, *, progress: bool = True) -> Path:
    """A simulated raw corpus of `n_sessions` sessions, generated once into the cache (atomically: staged + rename).

    The cache key includes a digest of the simulator's source, so a changed simulator never serves stale data.
    """
    package = Path(simulator.__file__).parent
    digest = hashlib.sha256()
    for source in sorted(package.rglob("*.py")):
        digest.update(source.relative_to(package).as_posix().encode() + b"\0" + source.read_bytes())
    target = cache_root() / "raw" / f"v{RAW_FORMAT_VERSION}-sim-{digest.hexdigest()[:12]}-n{n_sessions}-seed{seed}"
    if not target.is_dir():
        with staged_folder(target, replace=False) as staged:  # a concurrent build that finished first is kept
            simulator.write_corpus(staged, n_sessions, seed, progress=progress)
    return target


def default_corpus_dir(progress: bool = True) -> Path:
    """The embedded default corpus: the simulator's DEFAULT_SESSIONS sessions with DEFAULT_SEED."""
    return simulated_corpus_dir(simulator.DEFAULT_SESSIONS, simulator.DEFAULT_SEED, progress=progress)


def default_source_description() -> str:
    return (
        f"the embedded **simulated** default corpus (`estbench.simulator`, {simulator.DEFAULT_SESSIONS:,} sessions, "
        f"seed {simulator.DEFAULT_SEED})"
    )
