"""What every converter shares: label mappings (default tables, `--map FILE` overrides), the report of what was read
and mapped, and writing raw format v1 (sharded, deterministic `*.jsonl.gz`, staged and swapped in atomically)."""

from __future__ import annotations

import dataclasses
import math
from collections import Counter
from pathlib import Path
from typing import Iterable, Mapping

from ..errors import Problem
from ..io import jsonl_gz, staged_folder
from ..layout import RAW_SESSIONS_PER_SHARD, raw_shard_name
from ..raw import RawFormatError
from ..schema import normalize_label


@dataclasses.dataclass
class Conversion:
    """The sessions a converter produced, what it mapped (source label -> EST label counts) and what it skipped."""

    sessions: list[dict]
    mapped: Counter = dataclasses.field(default_factory=Counter)  # (kind, source label, EST label) -> count
    notes: Counter = dataclasses.field(default_factory=Counter)  # e.g. "blank lines" -> count

    def summary(self) -> str:
        users = sum(1 for s in self.sessions for t in s["turns"] if t["role"] == "user")
        lines = [f"read {len(self.sessions):,} sessions ({users:,} user utterances)"]
        for (kind, source, target), count in sorted(self.mapped.items()):
            lines.append(f"  {kind}: {source!r} -> {target}: {count:,}")
        lines += [f"  {note}: {count:,}" for note, count in sorted(self.notes.items())]
        return "\n".join(lines)


def load_mapping(path: str | Path | None, corpus: str, default: Mapping[str, str]) -> dict[str, str]:
    """The source label -> EST emotion table of `corpus`: the default, updated by the `corpus:` section of a YAML
    `--map` file (or by its top level when it has no corpus sections). Every target must be an EST emotion."""
    table = dict(default)
    if path is None:
        return table
    import yaml

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as err:
        raise RawFormatError([Problem(Path(path).name, None, f"cannot read the mapping: {err}")]) from None
    if not isinstance(data, dict):
        raise RawFormatError([Problem(Path(path).name, None, "the mapping must be a YAML mapping")])
    section = data.get(corpus, data if not any(isinstance(v, dict) for v in data.values()) else {})
    problems = []
    for source, target in section.items():
        try:
            table[str(source)] = normalize_label("emotion", target)
        except ValueError as err:
            problems.append(Problem(Path(path).name, None, f"{corpus}: {source!r}: {err}"))
    if problems:
        raise RawFormatError(problems)
    return table


def write_raw(sessions: list[dict], out: str | Path, *, prefix: str) -> list[Path]:
    """Write `sessions` as raw format v1 shards (`estbench.layout.raw_shard_name`) into `out` (replaced whole,
    atomically)."""
    n_shards = max(1, math.ceil(len(sessions) / RAW_SESSIONS_PER_SHARD))
    names = []
    with staged_folder(Path(out)) as staged:
        for shard in range(n_shards):
            part = sessions[shard * RAW_SESSIONS_PER_SHARD : (shard + 1) * RAW_SESSIONS_PER_SHARD]
            name = raw_shard_name(prefix, shard, n_shards)
            (staged / name).write_bytes(jsonl_gz(part))
            names.append(name)
    return [Path(out) / name for name in names]


def check_all(problems: Iterable[Problem]) -> None:
    problems = list(problems)
    if problems:
        raise RawFormatError(problems)
