"""Speed and calibration of the default corpus's composer at paper scale.

    python bench/bench_simulator.py                      # 90,000 sessions (the paper's size), default seed
    python bench/bench_simulator.py --sessions 10000     # the embedded default corpus

Prints sessions/s of `simulator.write_corpus` (generation + JSON + gzip + files, all workers), then the
calibration table (measured vs the paper's Tables 2-3, with the issue's tolerances), how many utterances of each
emotion are eligible for the balanced subset (have a transition) against the paper's "Used in experiment", and the
transition distribution derived by estbench.schema.derive_transitions next to Table 3's annotated one. The tables are
Markdown, ready for the dataset card.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

from estbench.paper import ELIGIBLE as PAPER_ELIGIBLE
from estbench import simulator
from estbench.schema import NO_EMOTION
from estbench.simulator.stats import (
    CorpusStats,
    availability,
    calibration,
    read_sessions,
    transition_comparison,
)

TRANSITION_NOTE = """\
Why the transition columns differ: the builder DERIVES each transition from the emotions (initial polarity =
polarity of the session's first substantive user utterance, current polarity = that of the utterance itself), so
here transitions are a function of the emotion labels. The paper's transitions were ANNOTATED in a separate stage
and are not such a function: its Table 3 has 53,040 transitions ending in Positive but only 11,661 Gratitude
utterances (Gratitude is the only Positive emotion), and 55,895 ending in Negative but only 45,673 negative
utterances. No corpus whose transitions follow from its emotions can match both of the paper's columns; calibrated
to the emotion column, ours has more "Neutral to Neutral" and far fewer "* to Positive" transitions. It also has
fewer "Negative to *" ones: a session's initial utterance has no transition, and the paper used nearly all of its
Anger, Insult, Disappointment, Anxiety and Gratitude utterances (Used ~= Annotation), so those emotions cannot
open many sessions: only Worry opens sessions here (the bank's rule 4), and a caller's other feelings follow in later
utterances."""

AVAILABILITY_NOTE = """\
available = eligible utterances (with a transition: all three labels); the builder's balanced subset keeps
min(available, round(Used x N / P)) of each emotion (estbench.dataset.tables.balanced_targets), so it meets the paper's column
where available >= the scaled target."""


def _markdown(header, rows) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:.4f}" if x >= 1 else f"{x:.4%}"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=90_000, help="sessions to simulate (default: 90000)")
    parser.add_argument("--seed", type=int, default=simulator.DEFAULT_SEED, help="seed (default: simulator's)")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: CPU count)")
    parser.add_argument("--out", help="keep the corpus in this folder (default: a temporary folder, deleted)")
    args = parser.parse_args(argv)

    out = Path(args.out) if args.out else Path(tempfile.mkdtemp(prefix="est-sim-bench-"))
    try:
        load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
        start = time.perf_counter()
        paths = simulator.write_corpus(out, args.sessions, args.seed, progress=False, workers=args.workers)
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in paths)
        print(f"simulator.write_corpus: {args.sessions:,} sessions (seed {args.seed}) in {seconds:.1f} s = "
              f"{args.sessions / seconds:,.0f} sessions/s; {len(paths)} shards, {size / 1e6:.1f} MB gzip; "
              f"{os.cpu_count()} CPUs, load average before the run {load:.1f}")
        print(f"target: 90,000 sessions in <= 60 s -> "
              f"{'met' if args.sessions / seconds >= 1500 else 'NOT met'} at this rate "
              f"({90_000 / (args.sessions / seconds):.1f} s projected for 90,000)\n")

        stats = CorpusStats.of(read_sessions(paths))
        print(f"Calibration ({stats.sessions:,} sessions, {stats.user_utterances:,} user utterances, "
              f"{stats.turns:,} turns; tolerances are the issue's, meant for N=90,000):\n")
        rows = calibration(stats)
        print(_markdown(("statistic", "simulated", "paper", "tolerance", "within"),
                        [(r.statistic, _fmt(r.measured), _fmt(r.paper), r.tolerance, "yes" if r.ok else "NO")
                         for r in rows]))
        opening = sum(n for e, n in stats.initial.items() if e != NO_EMOTION)
        print(f"\nInitial utterances (set the initial polarity, no transition) carrying an emotion: {opening:,} of "
              f"{sum(stats.initial.values()):,} sessions = {opening / max(1, sum(stats.initial.values())):.2%} "
              f"(emotional share of all user utterances: {1 - stats.emotion_share(NO_EMOTION):.2%})")
        n_eligible = sum(stats.eligible.values())
        print(f"Eligible utterances N = {n_eligible:,} ({stats.user_utterances - n_eligible:,} without a transition, "
              f"{(stats.user_utterances - n_eligible) / stats.sessions:.3f} per session); the paper's "
              f"P = {PAPER_ELIGIBLE:,}; N / P = {n_eligible / PAPER_ELIGIBLE:.4f}\n")
        rows_a = availability(stats)
        print(_markdown(("emotion", "utterances", "initial (no transition)", "available", "paper Used",
                         "scaled target", "available / target"),
                        [(e, f"{n:,}", f"{i:,}", f"{a:,}", f"{u:,}", f"{t:,}", f"{a / t:.3f}" if t else "-")
                         for e, n, i, a, u, t in rows_a]))
        print(AVAILABILITY_NOTE)
        print("\nEmotion-state transitions (share of utterances that have one):\n")
        print(_markdown(("transition", "simulated (derived)", "paper (annotated)"),
                        [(t, f"{m:.2%}", f"{p:.2%}") for t, m, p in transition_comparison(stats)]))
        print("\n" + TRANSITION_NOTE)
        print("\nCategories: " + ", ".join(f"{c} {n / stats.sessions:.1%}" for c, n in sorted(stats.categories.items())))
        return 0 if all(r.ok for r in rows) and all(a >= t for *_, a, _, t in rows_a) else 1
    finally:
        if not args.out:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
