"""Blind passes over the default corpus and its bank: sheets for annotators and readers, and their scores (issue 22).

Annotation of the bank (every user line, by annotators who never see the author's labels):
    python bench/bench_blind.py pass2-sheets --out DIR               # user lines not yet annotated, no labels
    python bench/bench_blind.py pass3-sheets --out DIR               # lines where author and pass 2 disagree
The annotators' TSVs go to estbench/simulator/bank/annotations/pass2-*.tsv and pass3-*.tsv (bench/bench_bank.py
scores pass 1 vs pass 2).

Blind reading and annotation of the built default (by a reader who never saw the bank or any label):
    python bench/bench_blind.py sample --round ROUND [--seed 22]     # bench/blind/ROUND/: the two samples
    python bench/bench_blind.py score --round ROUND                  # their results against the corpus
The sample holds 20 random sessions (no labels) and up to 40 balanced-test lines per emotion, each with its 8
preceding turns. `score` prints the reading means, Cohen's kappa of the blind labels against the corpus (overall
and per class) and the blind annotator's macro-F1 beside TF-IDF's on the same rows, each beside its target, and
writes ROUND/summary.json. Rubrics: bench/blind/reading_rubric.md, annotation_rubric.md, guideline.md.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import random
import sys
from pathlib import Path

import numpy as np

from estbench import simulator
from estbench.agreement import cohen_kappa, per_class_kappa, percent_agreement
from estbench.schema import EMOTIONS
from estbench.simulator.episodes import Episode, load_bank
from estbench.simulator.labels import read_pass
from estbench.simulator.situation import draw_situation

BLIND_DIR = Path(__file__).with_name("blind")
READING_SESSIONS = 20
LINES_PER_EMOTION = 40
CONTEXT_TURNS = 8
DEFAULT_SEED = 22
TARGETS = {"coherence": 4.0, "naturalness": 4.0, "plausible": 15, "kappa": 0.70, "class_kappa": 0.55}
ROLE = {"user": "用户", "agent": "客服"}


# --- sheets for the bank's passes --------------------------------------------------------------------------------
def _episode_rng(episode: Episode) -> random.Random:
    return random.Random(int.from_bytes(hashlib.sha256(episode.id.encode()).digest()[:8], "big"))


SHOWN_WORDINGS = 2  # wordings of each user line an annotator reads (every wording of a line carries its emotion)


def _render_episode(episode: Episode, upto: str | None = None) -> list[str]:
    """An episode as an annotator reads it: agent lines in one wording, each user line with its first wordings and
    its item id; with `upto`, only the turns up to that user line (its context and itself)."""
    rng = _episode_rng(episode)
    slots = draw_situation(rng)
    lines = []
    for turn in episode.turns:
        if turn.role == "agent":
            lines.append(f"客服：{turn.wordings[0].render(rng, slots)}")
            continue
        lines.append(f"用户 [{turn.line_id}]：")
        for k, wording in enumerate(turn.wordings[:SHOWN_WORDINGS], 1):
            lines.append(f"    ({k}) {wording.render(rng, slots)}")
        if turn.line_id == upto:
            break
    return lines


def pass2_sheets(out: Path, per_part: int, files: list[Path] | None, name: str) -> None:
    """Sheets of the bank's episodes (or those of `files`) not yet annotated in pass 2, `per_part` episodes each,
    in a hashed order (so a sheet mixes authors and kinds)."""
    done = read_pass(2)
    episodes = [e for e in load_bank(files, strict=False) if not all(t.line_id in done for t in e.user_turns)
                and e.user_turns]
    episodes.sort(key=lambda e: hashlib.sha256(e.id.encode()).hexdigest())
    out.mkdir(parents=True, exist_ok=True)
    parts = [episodes[k:k + per_part] for k in range(0, len(episodes), per_part)]
    for k, part in enumerate(parts, 1):
        blocks = ["\n".join([f"=== {e.id} ==="] + _render_episode(e)) for e in part]
        (out / f"{name}{k:02d}.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
    print(f"{sum(len(e.user_turns) for e in episodes):,} user lines of {len(episodes)} episodes in {len(parts)} "
          f"sheets -> {out}")


def pass3_sheets(out: Path) -> None:
    second, third = read_pass(2), read_pass(3)
    items = []
    for episode in load_bank(strict=False):
        for turn in episode.user_turns:
            if turn.line_id in second and second[turn.line_id] != turn.label and turn.line_id not in third:
                items.append("\n".join([f"=== item {turn.line_id} (label the LAST user line only) ==="]
                                       + _render_episode(episode, upto=turn.line_id)))
    out.mkdir(parents=True, exist_ok=True)
    (out / "pass3-items.txt").write_text("\n\n".join(items) + "\n", encoding="utf-8")
    print(f"{len(items):,} disagreements to adjudicate -> {out / 'pass3-items.txt'}")


# --- the built default: samples and scores ----------------------------------------------------------------------
def _default_tables():
    from estbench.dataset.default_corpus import simulated_corpus_dir
    from estbench.dataset.tables import EstTables
    from estbench.raw import read_raw

    raw = simulated_corpus_dir(simulator.DEFAULT_SESSIONS, simulator.DEFAULT_SEED, progress=True)
    return raw, EstTables(read_raw(raw))


def _frame(tables, config: str, split: str):
    from estbench.schema import Task

    table = tables.table(config, split).to_pandas()
    for task in Task:
        if task.value in table:
            table[task.value] = np.asarray(task.labels, dtype=object)[table[task.value].to_numpy()]
    return table


def sample(round_dir: Path, seed: int) -> None:
    from estbench.simulator.stats import read_sessions

    raw, tables = _default_tables()
    rng = random.Random(seed)
    sessions = list(read_sessions(sorted(raw.glob("*.jsonl.gz"))))
    chosen = rng.sample(sessions, READING_SESSIONS)
    blocks = []
    for session in chosen:
        lines = [f"=== session {session['session_id']} ==="]
        lines += [f"{ROLE[t['role']]}：{t['text']}" for t in session["turns"]]
        blocks.append("\n".join(lines))
    round_dir.mkdir(parents=True, exist_ok=True)
    (round_dir / "reading-sample.txt").write_text("\n\n".join(blocks) + "\n", encoding="utf-8")

    by_session = {s["session_id"]: s["turns"] for s in sessions}
    test = _frame(tables, "joint-balanced", "test")
    rows = []
    for emotion in EMOTIONS:
        ids = sorted(test.loc[test["emotion"] == emotion, "id"])
        rows += rng.sample(ids, min(LINES_PER_EMOTION, len(ids)))
    rng.shuffle(rows)
    with open(round_dir / "annotation-sample.tsv", "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", lineterminator="\n")
        writer.writerow(["item_id", "context", "utterance"])
        for item in rows:
            session_id, turn = item.rsplit("/", 1)
            turns = by_session[session_id]
            before = turns[max(0, int(turn) - CONTEXT_TURNS):int(turn)]
            context = " ⏎ ".join(f"{ROLE[t['role']]}：{t['text']}" for t in before)
            writer.writerow([item, context, turns[int(turn)]["text"]])
    (round_dir / "sample.json").write_text(json.dumps(
        {"seed": seed, "sessions": READING_SESSIONS, "lines_per_emotion": LINES_PER_EMOTION,
         "context_turns": CONTEXT_TURNS, "corpus": {"sessions": simulator.DEFAULT_SESSIONS,
                                                    "seed": simulator.DEFAULT_SEED},
         "annotation_items": len(rows)}, indent=1) + "\n", encoding="utf-8")
    print(f"{READING_SESSIONS} sessions and {len(rows)} lines -> {round_dir}")


def _read_tsv(path: Path) -> list[list[str]]:
    return [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


def score_round(round_dir: Path) -> int:
    from est_baselines.classical import TfidfBaseline
    from estbench.schema import Task
    from estbench.scoring import score

    checks, summary = [], {}
    reading = [r for r in _read_tsv(round_dir / "reading-results.tsv") if r[0] != "session_id"]
    coherence = float(np.mean([float(r[1]) for r in reading]))
    naturalness = float(np.mean([float(r[2]) for r in reading]))
    plausible = sum(r[3].strip().lower() in ("yes", "y", "是") for r in reading)
    summary["reading"] = {"sessions": len(reading), "coherence": coherence, "naturalness": naturalness,
                          "plausible": plausible}
    checks += [coherence >= TARGETS["coherence"], naturalness >= TARGETS["naturalness"],
               plausible >= TARGETS["plausible"]]
    print(f"blind reading of {len(reading)} sessions: coherence {coherence:.2f} / 5 (target >= 4.0: "
          f"{'OK' if checks[-3] else 'MISSED'}), naturalness {naturalness:.2f} / 5 (target >= 4.0: "
          f"{'OK' if checks[-2] else 'MISSED'}), plausible {plausible} of {len(reading)} (target >= 15: "
          f"{'OK' if checks[-1] else 'MISSED'})")

    blind = {r[0]: r[1].strip() for r in _read_tsv(round_dir / "annotation-results.tsv") if r[0] != "item_id"}
    _, tables = _default_tables()
    train, test = _frame(tables, "joint-balanced", "train"), _frame(tables, "joint-balanced", "test")
    rows = test[test["id"].isin(blind)]
    if len(rows) != len(blind):
        raise SystemExit(f"{len(blind) - len(rows)} annotated items are not balanced-test rows of the default")
    corpus, annotator = rows["emotion"].tolist(), [blind[i] for i in rows["id"]]
    kappa = cohen_kappa(corpus, annotator)
    classes = per_class_kappa(corpus, annotator, EMOTIONS)
    checks += [kappa >= TARGETS["kappa"], min(classes.values()) >= TARGETS["class_kappa"]]
    print(f"\nblind annotation of {len(rows)} balanced-test lines vs the corpus: agreement "
          f"{percent_agreement(corpus, annotator):.1%}, Cohen's kappa {kappa:.3f} (target >= 0.70: "
          f"{'OK' if checks[-2] else 'MISSED'})")
    print("per class (one vs rest; target >= 0.55 each: " + ("OK" if checks[-1] else "MISSED") + "): "
          + ", ".join(f"{label} {value:.2f}" for label, value in classes.items()))
    predictions = TfidfBaseline().fit(train).predict(rows)
    emotion = Task.EMOTION.value
    reader_f1 = score({emotion: corpus}, {emotion: annotator})[f"{emotion}_macro_f1"]
    tfidf_f1 = score({emotion: corpus}, {emotion: list(predictions[emotion])})[f"{emotion}_macro_f1"]
    checks.append(reader_f1 > tfidf_f1)
    print(f"emotion macro-F1 on these rows: blind annotator {reader_f1:.3f}, TF-IDF + LR {tfidf_f1:.3f} "
          f"(target: annotator above TF-IDF: {'OK' if checks[-1] else 'MISSED'})")
    summary["annotation"] = {"items": len(rows), "agreement": percent_agreement(corpus, annotator), "kappa": kappa,
                             "class_kappa": classes, "annotator_macro_f1": reader_f1, "tfidf_macro_f1": tfidf_f1}
    summary["targets_met"] = all(checks)
    (round_dir / "summary.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    print(f"\n{sum(checks)} of {len(checks)} targets met -> {round_dir / 'summary.json'}")
    return 0 if all(checks) else 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("pass2-sheets", help="the bank's user lines not yet annotated, without labels, in parts")
    p.add_argument("--out", type=Path, required=True)
    p.add_argument("--per-part", type=int, default=110, help="episodes per sheet")
    p.add_argument("--files", type=Path, nargs="*", help="only these bank files (default: the whole bank)")
    p.add_argument("--name", default="pass2-part", help="sheet file name prefix")
    p = commands.add_parser("pass3-sheets", help="the lines pass 1 and pass 2 disagree on, without labels")
    p.add_argument("--out", type=Path, required=True)
    p = commands.add_parser("sample", help="the blind reading and annotation samples of the built default")
    p.add_argument("--round", required=True, help="folder name under bench/blind/")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED)
    p = commands.add_parser("score", help="score a round's results against the corpus")
    p.add_argument("--round", required=True)
    args = parser.parse_args(argv)
    if args.command == "pass2-sheets":
        pass2_sheets(args.out, args.per_part, args.files, args.name)
    elif args.command == "pass3-sheets":
        pass3_sheets(args.out)
    elif args.command == "sample":
        sample(BLIND_DIR / args.round, args.seed)
    else:
        return score_round(BLIND_DIR / args.round)
    return 0


if __name__ == "__main__":
    sys.exit(main())
