"""Organisers' command line: re-score every stored submission on the gold now configured (after the gold changed).

    EST_LB_GOLD=<new gold> EST_LB_GOLD_VERSION=<name> python -m est_leaderboard.admin rescore

Each submission is scored again from its archived file; its earlier scores stay in the history (`score_history`).
The page's Organisers tab does the same for the identities in `EST_LB_ADMINS`.
"""

from __future__ import annotations

import argparse

from estbench.cli import fail

from .service import Leaderboard
from .settings import Settings


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m est_leaderboard.admin", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("rescore", help="re-score every stored submission on the configured gold")
    parser.parse_args(argv)
    try:
        leaderboard = Leaderboard(Settings.from_env())
        report = leaderboard.rescore_all()
    except (ValueError, RuntimeError) as err:  # the configured data: one line, exit 1
        fail(str(err))
    print(f"gold version {report.gold_version}: {report.rescored} re-scored, {report.unchanged} already on it, "
          f"{len(report.failed)} not re-scorable")
    for line in report.failed:
        print(f"  {line}")


if __name__ == "__main__":
    main()
