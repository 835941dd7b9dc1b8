"""Sessions of the default corpus: one independent, seeded random stream per session.

Seeding each session from (seed, index) makes every session reproducible on its own, so the output does not
depend on how sessions are split into shards or worker processes.
"""

from __future__ import annotations

import random
from typing import Iterator

from .compose import compose, render

DEFAULT_SESSIONS = 90_000  # the paper's Table 2
DEFAULT_SEED = 2025


def session_id(seed: int, index: int) -> str:
    return f"sim{seed}-{index:06d}"


def generate_session(seed: int, index: int) -> dict:
    """Session number `index` of the corpus with `seed`, as a raw-format-v1 record."""
    rng = random.Random((seed & 0xFFFF_FFFF_FFFF) << 32 | index)
    sid = session_id(seed, index)
    category, episodes = compose(rng, sid)
    return {"session_id": sid, "category": category, "turns": render(rng, episodes)}


def iter_sessions(n_sessions: int, seed: int = DEFAULT_SEED, start: int = 0) -> Iterator[dict]:
    for index in range(start, start + n_sessions):
        yield generate_session(seed, index)
