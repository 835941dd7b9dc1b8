"""The options of a build, declared once: `BuildOptions` (the raw reader's `ReadOptions` plus how the tables are
cut). The `datasets` builder config (`est_dataset.EstConfig`), the `build` command line (generated from the fields by
`estbench.cli`), `estbench.dataset.build`, `EstTables` and `estbench.raw.read_raw` all take them from here.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json

from ..layout import DEFAULT_CONTEXT_TURNS
from ..raw.corpus import ReadOptions


@dataclasses.dataclass
class BuildOptions(ReadOptions):
    """What a build of a corpus produces (the reading options, then the tables'). Each field's help is the command
    line's; a value out of range is refused when the options are made."""

    context_turns: int = dataclasses.field(default=DEFAULT_CONTEXT_TURNS, metadata={
        "help": "previous turns (user and agent) copied into each row's `context`; the `sessions` config has full "
                "histories", "minimum": 0, "metavar": "K"})
    balanced_cap: int | None = dataclasses.field(default=None, metadata={
        "help": "balanced subset: keep min(available, N) utterances of each emotion instead of the paper's scaled "
                "column (for corpora much smaller than the paper's)", "metavar": "N"})
    blind_test: bool = dataclasses.field(default=False, metadata={
        "help": "set every test label to -1 and write the gold labels to a separate file (--gold_out)"})

    def __post_init__(self):
        check_build_options(self)

    def data_digest(self, raw: str) -> str:
        """The digest of the data a build describes: its raw corpus (`estbench.raw.raw_digest`) and the options
        that change its rows (not `strict` or `blind_test`: the same rows either way). Written into the built card
        and the gold file; score records and measured figures carry it, and a card quotes only those that match."""
        shaping = {name: getattr(self, name) for name in DATA_SHAPING}
        return hashlib.sha256(f"{raw}\n{json.dumps(shaping, sort_keys=True)}".encode("utf-8")).hexdigest()


DATA_SHAPING = ("keep_given_satisfaction", "emotional_fillers_count", "context_turns", "balanced_cap")


def check_build_options(options) -> None:
    """ValueError for a value no build can use (also run by the `datasets` builder config, whose own
    `__post_init__` is the one dataclasses call)."""
    if isinstance(options.context_turns, bool) or not isinstance(options.context_turns, int) \
            or options.context_turns < 0:
        raise ValueError(f"context_turns must be an integer >= 0, got {options.context_turns!r}")
    cap = options.balanced_cap
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or cap < 1):
        raise ValueError(f"balanced_cap must be a positive integer or None, got {cap!r}")


def build_options(options: BuildOptions | None = None, **values) -> BuildOptions:
    """`options` (default: the defaults) with the given fields replaced; ValueError for an unknown name."""
    base = options or BuildOptions()
    unknown = sorted(set(values) - {f.name for f in dataclasses.fields(BuildOptions)})
    if unknown:
        raise TypeError(f"unknown build options {unknown}")
    return BuildOptions(**{**{f.name: getattr(base, f.name) for f in dataclasses.fields(BuildOptions)}, **values})
