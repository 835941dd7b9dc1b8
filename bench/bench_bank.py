"""The authored episode bank of the default corpus: its size, variety and the agreement of its annotation passes.

    python bench/bench_bank.py

Prints, each beside its target (issue 22):
- episodes per kind and category; user lines, wordings; episodes holding each emotion (>= 60 each); user lines with
  fewer than two wordings (0); user wordings shared by two episodes (0);
- user lines and wordings per final emotion and category;
- pass 1 (author) vs pass 2 (blind annotator) before adjudication: agreement, Cohen's kappa overall and per class;
  lines sent to pass 3 and how many it settled; lines still awaiting it.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter, defaultdict

from estbench.agreement import cohen_kappa, per_class_kappa, percent_agreement
from estbench.schema import CATEGORY_NAMES, EMOTIONS
from estbench.simulator.episodes import KINDS, cross_checks, load_bank
from estbench.simulator.labels import read_pass

MIN_EPISODES_PER_EMOTION = 60
MIN_EPISODES = 1200


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main(argv=None) -> int:
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args(argv)
    episodes = load_bank(strict=False)
    problems = cross_checks(episodes)
    checks = []
    second, third = read_pass(2), read_pass(3)
    final = {t.line_id: third.get(t.line_id, t.label) for e in episodes for t in e.user_turns}

    kinds = Counter(e.kind for e in episodes)
    checks.append(len(episodes) >= MIN_EPISODES)
    print(f"episodes: {len(episodes):,} ({', '.join(f'{k} {kinds[k]}' for k in KINDS)})  target >= {MIN_EPISODES:,}: "
          f"{verdict(checks[-1])}")
    categories = Counter(e.category for e in episodes if e.category)
    print("matters and calls per category: " + ", ".join(f"{c} {categories[c]}" for c in CATEGORY_NAMES))
    users = [t for e in episodes for t in e.user_turns]
    print(f"user lines: {len(users):,}; wordings: {sum(len(t.wordings) for t in users):,}; agent lines: "
          f"{sum(1 for e in episodes for t in e.turns if t.role == 'agent'):,}")
    single = sum(len(t.wordings) < 2 for t in users)
    checks.append(single == 0)
    print(f"user lines with fewer than two wordings: {single}  target 0: {verdict(checks[-1])}")
    shared = sum("is also in" in p for p in problems)
    checks.append(shared == 0)
    print(f"user wordings shared by two episodes: {shared}  target 0: {verdict(checks[-1])}")

    holding = {emotion: sum(1 for e in episodes if any(final[t.line_id] == emotion for t in e.user_turns))
               for emotion in EMOTIONS}
    checks.append(all(n >= MIN_EPISODES_PER_EMOTION for n in holding.values()))
    print(f"episodes holding each final emotion (target >= {MIN_EPISODES_PER_EMOTION} each): "
          + ", ".join(f"{e} {n}" for e, n in holding.items()) + f": {verdict(checks[-1])}")

    table: dict[str, Counter] = defaultdict(Counter)
    wordings: dict[str, Counter] = defaultdict(Counter)
    for episode in episodes:
        column = episode.category or episode.kind
        for turn in episode.user_turns:
            table[final[turn.line_id]][column] += 1
            wordings[final[turn.line_id]][column] += len(turn.wordings)
    columns = list(CATEGORY_NAMES) + ["opening", "followup", "closing"]
    print("\nuser lines (wordings) per final emotion and category / kind:")
    print("| emotion | " + " | ".join(columns) + " | total |\n|---" * 1 + "|---" * (len(columns) + 1) + "|")
    for emotion in EMOTIONS:
        cells = [f"{table[emotion][c]} ({wordings[emotion][c]})" for c in columns]
        print(f"| {emotion} | " + " | ".join(cells) + f" | {sum(table[emotion].values())} "
              f"({sum(wordings[emotion].values())}) |")

    annotated = [t for t in users if t.line_id in second]
    print(f"\npass 2 (blind annotator) has labelled {len(annotated):,} of {len(users):,} user lines")
    if annotated:
        author = [t.label for t in annotated]
        blind = [second[t.line_id] for t in annotated]
        kappa = cohen_kappa(author, blind)
        print(f"pass 1 (author) vs pass 2 before adjudication: agreement {percent_agreement(author, blind):.1%}, "
              f"Cohen's kappa {kappa:.3f}")
        print("per class (one vs rest): " + ", ".join(
            f"{label} {value:.2f}" for label, value in per_class_kappa(author, blind, EMOTIONS).items()))
        disagreed = [t for t in annotated if t.label != second[t.line_id]]
        settled = [t for t in disagreed if t.line_id in third]
        print(f"disagreements sent to pass 3: {len(disagreed):,}; settled: {len(settled):,}; "
              f"pass 3 sided with the author {sum(third[t.line_id] == t.label for t in settled):,}, with pass 2 "
              f"{sum(third[t.line_id] == second[t.line_id] for t in settled):,}, with neither "
              f"{sum(third[t.line_id] not in (t.label, second[t.line_id]) for t in settled):,}")
        checks.append(len(settled) == len(disagreed) and len(annotated) == len(users))
        print(f"every line annotated blind and every disagreement adjudicated: {verdict(checks[-1])}")
    else:
        checks.append(False)
    from estbench.simulator.compose import tellable

    left_out = tellable()[1]
    print(f"\nmatters and calls left out of composition (their first substantive caller line's final label is neither "
          f"No Emotion nor Worry): {len(left_out)}"
          + (f" ({', '.join(t.episode.id for t in left_out)})" if left_out else ""))
    if problems:
        print(f"\n{len(problems)} problem(s) in the bank (python -m estbench.simulator.episodes lists them)")
    print(f"\n{sum(checks)} of {len(checks)} targets met")
    return 0 if all(checks) and not problems else 1


if __name__ == "__main__":
    sys.exit(main())
