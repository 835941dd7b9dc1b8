"""Sessions of the simulated corpus: one independent, seeded random stream per session.

Seeding each session from (seed, index) makes every session reproducible on its own, so the output does not
depend on how sessions are split into shards or worker processes.
"""

from __future__ import annotations

import random
from typing import Iterator

from .calls import simulate_session
from .emotions import _Sampler
from .story import CATEGORY_WEIGHTS

DEFAULT_SESSIONS = 90_000  # the paper's Table 2
DEFAULT_SEED = 2025

_CATEGORY = _Sampler(CATEGORY_WEIGHTS)


def session_id(seed: int, index: int) -> str:
    return f"sim{seed}-{index:06d}"


def generate_session(seed: int, index: int) -> dict:
    """Session number `index` of the corpus with `seed`, as a raw-format-v1 record."""
    rng = random.Random((seed & 0xFFFF_FFFF_FFFF) << 32 | index)
    category = _CATEGORY.sample(rng)
    return {"session_id": session_id(seed, index), "category": category, "turns": simulate_session(rng, category)}


def iter_sessions(n_sessions: int, seed: int = DEFAULT_SEED, start: int = 0) -> Iterator[dict]:
    for index in range(start, start + n_sessions):
        yield generate_session(seed, index)
