"""The embedded default corpus: Chinese telecom customer-service calls in raw format v1, composed from an AUTHORED
bank of episodes (not real calls).

The paper's corpus is not public. Until it is, the default is composed from `bank/`: episodes of calls written
individually by the project's maintainers with machine assistance, each caller line labelled by its author, by an
independent blind annotator, and where those two disagree by a third blind annotator whose label is final. Sessions
combine episodes that fit one situation, and are calibrated to the paper's published statistics (Tables 2-3).
Modules, one job each:

- `episodes`   the bank's file format (`bank/README.md`): parse, compile and check the episodes
- `labels`     the labels of every annotation pass and the final label of each line
- `situation`  a session's facts: the value of every slot
- `speech`     Chinese numerals and the light transcription style of a call
- `compose`    sessions from episodes: splits of the bank, calibration, composition, rendering
- `corpus`     seeded sessions; `writer` sharded, byte-reproducible *.jsonl.gz + the simulated.json marker;
               `stats` calibration figures; `preview` a readable view of sessions

    >>> from estbench import simulator
    >>> simulator.write_corpus("raw", simulator.DEFAULT_SESSIONS, simulator.DEFAULT_SEED)  # doctest: +SKIP
"""

import importlib

# Imported on first use, so `python -m estbench.simulator.episodes` (the bank checker) runs without the composer.
_EXPORTS = {"DEFAULT_SEED": "corpus", "DEFAULT_SESSIONS": "corpus", "generate_session": "corpus",
            "iter_sessions": "corpus", "read_marker": "writer", "write_corpus": "writer"}
__all__ = list(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"{__name__}.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
