"""Realism and difficulty of the simulated default corpus, each figure beside its target (simulator-v2 issue).

    python bench/bench_realism.py                     # the embedded default (simulator.DEFAULT_SESSIONS, seed)
    python bench/bench_realism.py --sessions 20000    # a smaller corpus, for a quick look

Measured on the corpus the builder reads (the simulator's cached output) and the tables it builds:
- distinct user texts / user utterances;
- balanced-test user texts found verbatim among the train split's user texts;
- the largest share of sessions that contain one and the same substantive user utterance of >= 6 characters;
- TF-IDF + logistic regression (the project's own baseline, unchanged) on the balanced track: macro-F1 per task,
  with the session-bootstrap 95% interval of the emotion macro-F1;
- the paper-scale calibration (simulator.stats) and the generation speed.
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
from estbench.simulator.stats import CorpusStats, calibration, read_sessions

TARGETS = {
    "distinct": 0.70,  # >= share of distinct user texts
    "verbatim": 0.25,  # <= share of balanced-test texts seen verbatim in train
    "max_session_share": 0.03,  # <= sessions holding the most common substantive utterance
    "emotion_f1": (0.40, 0.68),
    "satisfaction_f1": 0.82,  # <=
}


def frame(tables: EstTables, config: str, split: str):
    table = tables.table(config, split).to_pandas()
    for task in Task:
        if task.value in table:
            table[task.value] = np.asarray(task.labels, dtype=object)[table[task.value].to_numpy()]
    return table


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sessions", type=int, default=simulator.DEFAULT_SESSIONS)
    parser.add_argument("--seed", type=int, default=simulator.DEFAULT_SEED)
    parser.add_argument("--bootstrap", type=int, default=1000, help="session resamples for the interval")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    raw = simulated_corpus_dir(args.sessions, args.seed, progress=False)
    print(f"corpus: {args.sessions:,} simulated sessions, seed {args.seed} ({time.perf_counter() - start:.1f} s, "
          "generated once into the cache)")
    tables = EstTables(read_raw(raw))
    texts = tables.utterances["text"].to_pylist()
    checks = []

    distinct = len(set(texts)) / len(texts)
    checks.append(distinct >= TARGETS["distinct"])
    print(f"\ndistinct user texts / user utterances: {distinct:.1%} ({len(set(texts)):,} of {len(texts):,})  "
          f"target >= {TARGETS['distinct']:.0%}: {verdict(checks[-1])}")

    train_texts = set(frame(tables, "emotion", "train")["text"])
    test = frame(tables, "joint-balanced", "test")
    verbatim = float(np.mean([t in train_texts for t in test["text"]]))
    checks.append(verbatim <= TARGETS["verbatim"])
    print(f"balanced-test user texts found verbatim in train: {verbatim:.1%} of {len(test):,}  "
          f"target <= {TARGETS['verbatim']:.0%}: {verdict(checks[-1])}")

    per_session: Counter = Counter()
    sessions = tables.utterances["session_id"].to_pylist()
    seen = set()
    for session, text in zip(sessions, texts):
        if len(text) >= 6 and (session, text) not in seen and is_substantive(text):
            seen.add((session, text))
            per_session[text] += 1
    n_sessions = tables.corpus.sessions.num_rows
    top, count = per_session.most_common(1)[0]
    checks.append(count / n_sessions <= TARGETS["max_session_share"])
    print(f"sessions holding the most common substantive (>= 6 chars) user utterance: {count / n_sessions:.2%} "
          f"({top!r})  target <= {TARGETS['max_session_share']:.0%}: {verdict(checks[-1])}")

    started = time.perf_counter()
    train = frame(tables, "joint-balanced", "train")
    predictions = TfidfBaseline().fit(train).predict(test)
    scores = score({t.value: test[t.value].tolist() for t in TASKS}, {t.value: predictions[t.value] for t in TASKS},
                   bootstrap=args.bootstrap, session_ids=test["session_id"].tolist())
    low, high = scores["emotion_macro_f1_ci"]
    lo_target, hi_target = TARGETS["emotion_f1"]
    print(f"\nTF-IDF + LR, balanced track ({len(train):,} train / {len(test):,} test utterances, "
          f"{time.perf_counter() - started:.1f} s):")
    checks.append(lo_target <= scores["emotion_macro_f1"] <= hi_target)
    print(f"  emotion macro-F1 {scores['emotion_macro_f1']:.3f} (95% session-bootstrap interval [{low:.3f}, {high:.3f}], "
          f"width {high - low:.3f})  target {lo_target:.2f}-{hi_target:.2f}: {verdict(checks[-1])}")
    print(f"  transition macro-F1 {scores['transition_macro_f1']:.3f}")
    checks.append(scores["satisfaction_macro_f1"] <= TARGETS["satisfaction_f1"])
    print(f"  satisfaction macro-F1 {scores['satisfaction_macro_f1']:.3f}  target <= {TARGETS['satisfaction_f1']:.2f}: "
          f"{verdict(checks[-1])}")
    emotions_in_test = Counter(test["emotion"])
    print("  balanced test utterances per emotion: " + ", ".join(f"{e} {emotions_in_test[e]}" for e in Task.EMOTION.labels))

    stats = CorpusStats.of(read_sessions(sorted(raw.glob("*.jsonl.gz"))))
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
