"""Simulated EST corpus: Chinese telecom customer-service dialogues in raw format v1 (SIMULATED data).

The paper's corpus is not public; this package generates a stand-in calibrated to its published statistics
(Tables 2-3). Modules, one job each:

- `labels`     the schema emotion names used as table keys
- `phrases`    phrase banks shared by all categories (openings, identity checks, closings, emotion cues)
- `topics`     what calls of each service category are about, with their wording and outcomes
- `emotions`   the latent-state Markov chain over the seven emotions, driven by category and agent replies
- `dialogue`   a session under construction: turns, slots, latent state, text realisation
- `flows`      how calls unfold (opening, identity check, probing, resolution, negotiation, follow-ups, closing)
- `corpus`     seeded sessions; `writer` sharded, byte-reproducible *.jsonl.gz; `stats` calibration figures

    >>> from estbench import simulator
    >>> simulator.write_corpus("raw", simulator.DEFAULT_SESSIONS, simulator.DEFAULT_SEED)  # doctest: +SKIP
"""

from .corpus import DEFAULT_SEED, DEFAULT_SESSIONS, generate_session, iter_sessions
from .writer import read_marker, write_corpus

__all__ = ["DEFAULT_SEED", "DEFAULT_SESSIONS", "generate_session", "iter_sessions", "read_marker", "write_corpus"]
