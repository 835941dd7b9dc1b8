"""The baselines' results as Markdown tables (as in baselines/README.md), from their score records.

    python -m est_baselines.report baselines/results/*.json
"""

from __future__ import annotations

import argparse

from estbench.layout import TRACKS
from estbench.results import read_records
from estbench.schema import TASKS


def tables(records) -> str:
    out = []
    for track in TRACKS:
        rows = sorted((r for r in records if r.track == track), key=lambda r: r.model)
        if not rows:
            continue
        header = ["baseline", "ALL_A", *(f"{t.value[:3].title()} {m}" for t in TASKS for m in ("A", "F1")),
                  *(f"{t.value[:3].title()} F1 95% CI" for t in TASKS), "test utterances", "command"]
        lines = [f"#### {track} track", "", "| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
        for r in rows:
            cells = [r.model, f"{r.scores['all_accuracy']:.4f}"]
            cells += [f"{r.scores[f'{t.value}_{m}']:.4f}" for t in TASKS for m in ("accuracy", "macro_f1")]
            cells += ["[{:.4f}, {:.4f}]".format(*r.intervals[f"{t.value}_macro_f1"]) if r.intervals else "-"
                      for t in TASKS]
            cells += [f"{r.utterances:,}", f"`{r.description}`"]
            lines.append("| " + " | ".join(cells) + " |")
        out.append("\n".join(lines))
    return "\n\n".join(out)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="+", help="score record files (baselines/run.py --results)")
    args = parser.parse_args(argv)
    print(tables([r for f in args.files for r in read_records(f)]))


if __name__ == "__main__":
    main()
