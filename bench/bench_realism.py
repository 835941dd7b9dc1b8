"""The default corpus as a reader and a model meet it: variety, leakage, residue and calibration, each figure beside
its target (issue 22).

    python bench/bench_realism.py                     # the embedded default (simulator.DEFAULT_SESSIONS, seed)
    python bench/bench_realism.py --sessions 20000    # a smaller corpus, for a quick look

Measured on the corpus the builder reads (the cached default) and the tables it builds:
- template residue or a missing number in any utterance, user or agent (0);
- distinct user texts / user utterances (>= 50%);
- balanced-test user texts of >= 6 characters found verbatim among the train split's user texts (<= 5%);
- the share of sessions holding the most common substantive user utterance of >= 6 characters (<= 2%);
- authored lines in more than one split (0: each split draws from its own share of the bank);
- TF-IDF + logistic regression (the project's baseline) on the balanced track: macro-F1 per task with the
  session-bootstrap 95% interval (reported, no target);
- the calibration against the paper's Tables 2-3 (every row in tolerance).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import Counter

import numpy as np

from est_baselines.classical import TfidfBaseline
from estbench import simulator
from estbench.dataset.default_corpus import simulated_corpus_dir
from estbench.dataset.tables import EstTables
from estbench.layout import SPLITS
from estbench.raw import read_raw
from estbench.schema import TASKS, Task, is_substantive
from estbench.scoring import score
from estbench.simulator.compose import plans
from estbench.simulator.episodes import rendered_residue
from estbench.simulator.stats import CorpusStats, calibration, read_sessions

TARGETS = {
    "distinct": 0.50,  # >= share of distinct user texts
    "verbatim": 0.05,  # <= share of balanced-test texts (>= 6 chars) seen verbatim in train
    "max_session_share": 0.02,  # <= sessions holding the most common substantive utterance
}


def frame(tables: EstTables, config: str, split: str):
    table = tables.table(config, split).to_pandas()
    for task in Task:
        if task.value in table:
            table[task.value] = np.asarray(task.labels, dtype=object)[table[task.value].to_numpy()]
    return table


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def split_overlap() -> int:
    """Authored user-line ids that more than one split's share of the bank holds."""
    owners: dict[str, set[str]] = {}
    for split, plan in plans().items():
        pools = [plan.openings, *plan.matters.values(), *plan.followups.values(), *plan.closings.values()]
        for pool in pools:
            for told in pool.items:
                for turn in told.episode.user_turns:
                    owners.setdefault(turn.line_id, set()).add(split)
    return sum(len(splits) > 1 for splits in owners.values())


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=simulator.DEFAULT_SESSIONS)
    parser.add_argument("--seed", type=int, default=simulator.DEFAULT_SEED)
    parser.add_argument("--bootstrap", type=int, default=1000, help="session resamples for the intervals")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    raw = simulated_corpus_dir(args.sessions, args.seed, progress=False)
    print(f"corpus: {args.sessions:,} sessions composed from the authored bank, seed {args.seed} "
          f"({time.perf_counter() - start:.1f} s, generated once into the cache)")
    checks = []

    sessions = list(read_sessions(sorted(raw.glob("*.jsonl.gz"))))
    residue = Counter()
    for session in sessions:
        for turn in session["turns"]:
            found = rendered_residue(turn["text"])
            if found:
                residue[found] += 1
    checks.append(not residue)
    print(f"\nutterances with template residue or a missing number (user and agent, all {len(sessions):,} sessions): "
          f"{sum(residue.values())} {dict(residue.most_common(5)) if residue else ''} target 0: {verdict(checks[-1])}")

    tables = EstTables(read_raw(raw))
    texts = tables.utterances["text"].to_pylist()
    distinct = len(set(texts)) / len(texts)
    checks.append(distinct >= TARGETS["distinct"])
    print(f"distinct user texts / user utterances: {distinct:.1%} ({len(set(texts)):,} of {len(texts):,})  "
          f"target >= {TARGETS['distinct']:.0%}: {verdict(checks[-1])}")

    train_texts = set(frame(tables, "emotion", "train")["text"])
    test = frame(tables, "joint-balanced", "test")
    long_texts = [t for t in test["text"] if len(t) >= 6]
    verbatim = float(np.mean([t in train_texts for t in long_texts])) if long_texts else 0.0
    checks.append(verbatim <= TARGETS["verbatim"])
    print(f"balanced-test user texts of >= 6 characters found verbatim in train: {verbatim:.1%} of {len(long_texts):,}"
          f"  target <= {TARGETS['verbatim']:.0%}: {verdict(checks[-1])}")

    per_session: Counter = Counter()
    seen = set()
    for session, text in zip(tables.utterances["session_id"].to_pylist(), texts):
        if len(text) >= 6 and (session, text) not in seen and is_substantive(text):
            seen.add((session, text))
            per_session[text] += 1
    n_sessions = tables.corpus.sessions.num_rows
    top, count = per_session.most_common(1)[0]
    checks.append(count / n_sessions <= TARGETS["max_session_share"])
    print(f"sessions holding the most common substantive (>= 6 chars) user utterance: {count / n_sessions:.2%} "
          f"({top!r})  target <= {TARGETS['max_session_share']:.0%}: {verdict(checks[-1])}")

    overlap = split_overlap()
    checks.append(overlap == 0)
    print(f"authored user lines in more than one split's share of the bank: {overlap}  target 0: {verdict(checks[-1])}")

    started = time.perf_counter()
    train = frame(tables, "joint-balanced", "train")
    predictions = TfidfBaseline().fit(train).predict(test)
    scores = score({t.value: test[t.value].tolist() for t in TASKS}, {t.value: predictions[t.value] for t in TASKS},
                   bootstrap=args.bootstrap, session_ids=test["session_id"].tolist())
    print(f"\nTF-IDF + LR, balanced track ({len(train):,} train / {len(test):,} test utterances, "
          f"{time.perf_counter() - started:.1f} s; reported, no target):")
    for task in TASKS:
        low, high = scores[f"{task.value}_macro_f1_ci"]
        print(f"  {task.value} macro-F1 {scores[f'{task.value}_macro_f1']:.3f} (95% session-bootstrap interval "
              f"[{low:.3f}, {high:.3f}])")
    emotions_in_test = Counter(test["emotion"])
    print("  balanced test utterances per emotion: " + ", ".join(f"{e} {emotions_in_test[e]}" for e in Task.EMOTION.labels))

    stats = CorpusStats.of(sessions)
    rows = calibration(stats)
    checks.append(all(r.ok for r in rows))
    print(f"\ncalibration against the paper's Tables 2-3 ({stats.sessions:,} sessions): "
          f"{sum(r.ok for r in rows)} of {len(rows)} rows within tolerance: {verdict(checks[-1])}")
    for r in rows:
        print(f"  {r.statistic:32s} {r.measured:10.4f}  paper {r.paper:10.4f}  {r.tolerance:>8s}  "
              f"{'ok' if r.ok else 'MISSED'}")
    masked = sum("[num]" in t for t in texts)
    print(f"  user utterances with the [num] mask: {masked:,}")
    print(f"\n{sum(checks)} of {len(checks)} targets met; splits: " + ", ".join(
        f"{s} {int(tables.split_bounds[i + 1] - tables.split_bounds[i]):,}" for i, s in enumerate(SPLITS)))
    return 0 if all(checks) else 1


if __name__ == "__main__":
    sys.exit(main())
