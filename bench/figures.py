"""Write the README's "Measured figures" table from what the bench scripts recorded (bench/results/*.json).

    python bench/figures.py            # rewrite the table between the README's <!-- measured --> markers
    python bench/figures.py --check    # exit 1 if the README does not say what the files say

Every bench script records its figures with `estbench.measured.record`; this is the only way figures reach the
README's table, so the README never states a figure no bench measured (tests/test_house.py runs the check).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from estbench import measured
from estbench.cli import add_option, fail

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
README = ROOT / "README.md"


def table() -> str:
    return measured.markdown_table(measured.read_all(RESULTS))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, "check", action="store_true", help="only check that the README says what the files say")
    args = parser.parse_args(argv)
    text = README.read_text(encoding="utf-8")
    if measured.BEGIN not in text or measured.END not in text:
        fail(f"{README.name} has no {measured.BEGIN} ... {measured.END} section")
    expected = table()
    if args.check:
        if measured.section(text) != expected:
            fail(f"{README.name}'s measured figures differ from bench/results/*.json: run python bench/figures.py")
        print(f"{README.name} quotes bench/results/*.json")
        return 0
    README.write_text(measured.with_section(text, expected), encoding="utf-8")
    print(f"wrote {len(expected.splitlines()) - 2} rows from {len(measured.read_all(RESULTS))} bench file(s) "
          f"into {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
