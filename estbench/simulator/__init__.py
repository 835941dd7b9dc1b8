"""Simulated EST corpus: Chinese telecom customer-service dialogues in raw format v1 (SIMULATED data).

The paper's corpus is not public; this package generates a stand-in calibrated to its published statistics
(Tables 2-3). Modules, one job each:

- `labels`     the schema emotion names used as table keys
- `story`      a session's situation (consistent facts) and the matters of each service category
- `grammar`    the template expander, Chinese numerals and the transcription style of a call
- `emotions`   the latent-state Markov chain over the seven emotions, driven by how each agent reply went
- `cues`       how an emotion shows in what the caller says (explicit, implicit, contextual, situational)
- `calls`      how a call unfolds turn by turn: the generation core
- `corpus`     seeded sessions; `writer` sharded, byte-reproducible *.jsonl.gz + the simulated.json marker;
               `stats` calibration figures; `preview` a readable view of sessions

    >>> from estbench import simulator
    >>> simulator.write_corpus("raw", simulator.DEFAULT_SESSIONS, simulator.DEFAULT_SEED)  # doctest: +SKIP
"""

from .corpus import DEFAULT_SEED, DEFAULT_SESSIONS, generate_session, iter_sessions
from .writer import read_marker, write_corpus

__all__ = ["DEFAULT_SEED", "DEFAULT_SESSIONS", "generate_session", "iter_sessions", "read_marker", "write_corpus"]
