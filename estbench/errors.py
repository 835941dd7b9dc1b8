"""One error-report base: a list of problems, capped when shown, with the total always given.

The raw-format reader, the leaderboard's submission check and its gold loader all report "every problem found"; this
class is where the cap-and-total rule lives, so the three messages read alike and none of them can print thousands of
lines.
"""

from __future__ import annotations

import dataclasses
from typing import Sequence

MAX_LISTED_PROBLEMS = 50  # a report lists this many problems, then says how many more there are


@dataclasses.dataclass(frozen=True)
class Problem:
    """One problem at `file:line` (line None: the problem concerns the whole file)."""

    file: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.reason}" if self.line is not None else f"{self.file}: {self.reason}"


class ProblemReport(ValueError):
    """`problems` (up to a cap) of `total` problems; str() is a headline plus the capped, indented listing.

    >>> print(ProblemReport(["a", "b", "c"], headline="3 problems", limit=2, bullet="- "))
    3 problems
      - a
      - b
      - ... and 1 more
    """

    def __init__(self, problems: Sequence[object], *, headline: str, total: int | None = None,
                 limit: int = MAX_LISTED_PROBLEMS, bullet: str = ""):
        self.problems = list(problems)
        self.total = len(self.problems) if total is None else total
        shown = self.problems[:limit]
        lines = [headline, *(f"  {bullet}{p}" for p in shown)]
        more = self.total - len(shown)
        if more > 0:
            lines.append(f"  {bullet}... and {more:,} more")
        super().__init__("\n".join(lines))
