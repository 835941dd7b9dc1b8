"""Measured figures, one home: what a bench script measured, in one JSON file per bench (`bench/results/<name>.json`
in the repository), which the README, the dataset card and `card.py` quote, or they quote nothing.

A bench script ends with `record(path, bench=..., command=..., rows=[Row(...)], values={...}, data_digest=...)`:
`rows` are the lines of the README's "Measured figures" table (what, figure, target) as the script formats them,
`values` the raw numbers other parts use (the card's paper-scale size), and `data_digest` the digest of the data
measured on (`estbench.built.data_digest`; "" when the figure does not depend on the corpus), so a card quotes a
figure only when it was measured on the data the card describes. `read` / `read_all` load them back and
`markdown_table` renders the README's table, which `python bench/figures.py` writes between the README's
`<!-- measured -->` markers (tests/test_house.py checks that the README says what the files say).

The lead's simulator benches (bench_simulator, bench_realism) write theirs the same way; until they do, the README
quotes none of their figures.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import time
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from .io import write_atomically

# The order of the README's table: a bench's file name (without .json) -> its place.
ORDER: tuple[str, ...] = ("simulator", "build-from-scratch", "build", "realism", "metric", "leaderboard", "baselines",
                          "chat")
BEGIN, END = "<!-- measured -->", "<!-- /measured -->"


@dataclasses.dataclass(frozen=True)
class Row:
    """One line of the README's table: what was measured, the figure as measured, the target it is held to."""

    what: str
    figure: str
    target: str = ""


@dataclasses.dataclass(frozen=True)
class Measured:
    bench: str
    command: str
    measured_at: str
    machine: str
    data_digest: str
    rows: tuple[Row, ...]
    values: Mapping[str, object]


def machine() -> str:
    """The machine a figure was measured on, in words (CPU count, memory, system)."""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") if hasattr(os, "sysconf") else 0
    return (f"{os.cpu_count()} CPUs, {memory / 1024**3:.0f} GB RAM, {platform.system()} {platform.machine()}, "
            f"load average {os.getloadavg()[0]:.2f} at the end")


def record(path: str | Path, *, bench: str, command: str, rows: Sequence[Row], values: Mapping | None = None,
           data_digest: str = "") -> Path:
    """Write what a bench measured (atomically); `rows` must not be empty."""
    if not rows:
        raise ValueError(f"{bench}: nothing measured to record")
    data = {"bench": bench, "command": command, "measured_at": time.strftime("%Y-%m-%d", time.gmtime()),
            "machine": machine(), "data_digest": data_digest, "rows": [dataclasses.asdict(r) for r in rows],
            "values": dict(values or {})}
    return write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")


def read(path: str | Path) -> Measured:
    """A bench's recorded figures; ValueError naming the file when it is not one."""
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Measured(bench=data["bench"], command=data["command"], measured_at=data["measured_at"],
                        machine=data["machine"], data_digest=data.get("data_digest", ""),
                        rows=tuple(Row(**row) for row in data["rows"]), values=data.get("values", {}))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ValueError(f"{path}: not a measured-figures file ({error})") from None


def read_all(folder: str | Path) -> list[Measured]:
    """Every bench's figures in `folder`, in the README's order (`ORDER`, then any other by name)."""
    files = sorted(Path(folder).glob("*.json"), key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else
                                                               len(ORDER), p.stem))
    return [read(path) for path in files]


def markdown_table(measured: Iterable[Measured]) -> str:
    """The README's table: one line per row of every bench, with the command that measures it."""
    lines = ["| what | figure | target | command |", "| --- | --- | --- | --- |"]
    for bench in measured:
        lines += [f"| {row.what} | {row.figure} | {row.target or '-'} | `{bench.command}` |" for row in bench.rows]
    return "\n".join(lines)


def section(text: str) -> str:
    """The part of a document between the `<!-- measured -->` markers ("" when it has none)."""
    if BEGIN not in text or END not in text:
        return ""
    return text.split(BEGIN, 1)[1].split(END, 1)[0].strip("\n")


def with_section(text: str, table: str) -> str:
    """`text` with the part between the markers replaced by `table`."""
    head, rest = text.split(BEGIN, 1)
    return f"{head}{BEGIN}\n{table}\n{END}{rest.split(END, 1)[1]}"


def matching(measured: Measured | None, data_digest: str) -> Measured | None:
    """`measured` when it was measured on the data with `data_digest`, else None (a card then quotes nothing)."""
    return measured if measured is not None and data_digest and measured.data_digest == data_digest else None
