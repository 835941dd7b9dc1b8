"""Speed, memory and on-disk size of `python est_dataset.py build` at paper scale (every config, every split).

    python bench/bench_build.py                          # 90,000 simulated sessions (the paper's size)
    python bench/bench_build.py --data_dir RAW           # any raw v1 folder
    python bench/bench_build.py --context_turns 0 4 8    # compare context windows

The raw corpus is generated first (simulator, or the tests' stand-in if the simulator is missing) and cached under
~/.cache/est/raw/bench-*; generating it is NOT part of the build time. The build then runs as a child process, exactly
as a user runs it, while this script samples the resident memory of the child and its workers (summed) every 20 ms.

Records what it measured in bench/results/build.json (bench/results/build-from-scratch.json with --from_scratch):
`estbench.measured`, which the README's table and the dataset card quote.

Prints, per context window k: wall time, CPU time, peak RSS, user utterances/s, the on-disk Parquet size per config,
the share of `context` in it and the raw size full-history contexts would need instead; then the balanced subset's
emotion counts beside the paper's Table 3 "Used in experiment" column, with the % deviation (target: each emotion
within 2%, total ~= 51,222; `estbench.dataset.tables.balanced_targets` is the rule). Targets (issue 2 section 6):
<= 60 s and <= 3 GB peak RSS on a 2-core machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psutil
import pyarrow.compute as pc
import pyarrow.parquet as pq

import estbench.dataset.default_corpus
import estbench.dataset.tables
import estbench.layout
import estbench.paper
import estbench.schema
import estbench.simulator
from estbench import measured
from estbench.built import data_digest
from estbench.cli import add_option, non_negative_int, positive_int

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"

TARGET_SECONDS, TARGET_RSS = 60.0, 3 * 1024**3


def raw_corpus(sessions: int, seed: int | None) -> tuple[Path, str]:
    """A cached raw corpus of `sessions` sessions: the simulator's (same cache as the build's default corpus), or
    the tests' stand-in generator if the simulator is missing."""
    try:
        from estbench import simulator
    except ImportError:
        simulator = None
    if simulator is not None:
        seed = simulator.DEFAULT_SEED if seed is None else seed
        print(f"Simulated corpus: {sessions:,} sessions, seed {seed} (generated once into the cache, not timed)")
        folder = estbench.dataset.default_corpus.simulated_corpus_dir(sessions, seed)
        return folder, f"simulator, {sessions:,} sessions, seed {seed}"
    from estbench.testing.standin import write_standin_corpus

    seed = 0 if seed is None else seed
    target = estbench.dataset.default_corpus.cache_root() / "raw" / f"bench-standin-n{sessions}-seed{seed}"
    if not target.is_dir():
        print(f"Generating {sessions:,} stand-in sessions into {target} (not timed) ...", flush=True)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
        write_standin_corpus(tmp, sessions, seed, shards=8, mean_user_turns=17)
        os.replace(tmp, target)
    return target, f"tests' stand-in generator, {sessions:,} sessions, seed {seed}"


def run_build(raw: Path, out: Path, context_turns: int, workers: int | None) -> dict:
    command = [sys.executable, str(ROOT / "est_dataset.py"), "build", "--data_dir", str(raw), "--out", str(out),
               "--context_turns", str(context_turns), "--no_progress"]
    if workers:
        command += ["--workers", str(workers)]
    start = time.perf_counter()
    child = psutil.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak, cpu = 0, {}
    while child.poll() is None:
        try:
            tree = [child, *child.children(recursive=True)]
            peak = max(peak, sum(p.memory_info().rss for p in tree))
            for p in tree:  # last seen CPU time of every process (workers exit before the child)
                t = p.cpu_times()
                cpu[p.pid] = t.user + t.system
        except psutil.Error:
            pass
        time.sleep(0.02)
    wall = time.perf_counter() - start
    stdout, stderr = child.communicate()
    if child.returncode:
        raise SystemExit(f"build failed ({child.returncode}):\n{stderr}")
    return {"wall": wall, "rss": peak, "cpu": sum(cpu.values()), "stdout": stdout}


def parquet_sizes(out: Path) -> tuple[dict[str, int], int]:
    """On-disk bytes per config, and compressed bytes of the `context` column over all configs."""
    sizes, context = {}, 0
    for config in estbench.layout.CONFIG_NAMES:
        files = sorted((out / config).glob("*.parquet"))
        sizes[config] = sum(f.stat().st_size for f in files)
        for f in files:
            meta = pq.read_metadata(f)
            for g in range(meta.num_row_groups):
                group = meta.row_group(g)
                for c in range(group.num_columns):
                    if group.column(c).path_in_schema == "context":
                        context += group.column(c).total_compressed_size
    return sizes, context


def full_history_bytes(out: Path) -> int:
    """Raw UTF-8 bytes `context` would take if every utterance row carried its whole dialogue so far (emotion
    config)."""
    total = 0
    for f in sorted((out / "sessions").glob("*.parquet")):
        turns = pq.read_table(f, columns=["turns"])["turns"].combine_chunks()
        flat = turns.flatten()
        line = pc.binary_length(flat.field("text")).to_numpy().astype(np.int64) + len("用户：".encode()) + 1
        is_user = pc.equal(flat.field("role"), "user").to_numpy(zero_copy_only=False)
        offsets = turns.offsets.to_numpy()
        before = np.cumsum(line) - line  # bytes of all earlier lines of the whole file ...
        session_start = np.repeat(before[offsets[:-1]] if len(line) else [], np.diff(offsets))
        total += int(((before - session_start)[is_user]).sum())  # ... minus those of earlier sessions
    return total


def anchor_coverage(out: Path) -> tuple[int, int]:
    """(rows of `joint` whose anchor is set and precedes them, rows of `joint`): every such row has a transition."""
    anchored = rows = 0
    for f in (out / "joint").glob("*.parquet"):
        table = pq.read_table(f, columns=["turn", "anchor", "anchor_turn"])
        ok = (table["anchor_turn"].to_numpy() >= 0) & (table["anchor_turn"].to_numpy() < table["turn"].to_numpy())
        ok &= pc.greater(pc.utf8_length(table["anchor"]), 0).to_numpy(zero_copy_only=False)
        anchored, rows = anchored + int(ok.sum()), rows + table.num_rows
    return anchored, rows


def from_scratch() -> int:
    """README command 1's build on a fresh machine: empty cache, `python est_dataset.py build` (simulation of the
    embedded default into the cache + the build of every config), timed as a whole."""
    scratch = Path(tempfile.mkdtemp(prefix="est-bench-scratch-"))
    try:
        env = {**os.environ, "EST_CACHE_DIR": str(scratch / "cache")}
        start = time.perf_counter()
        subprocess.run([sys.executable, str(ROOT / "est_dataset.py"), "build", "--out", str(scratch / "est"),
                        "--no_progress"], check=True, env=env, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - start

        def size(folder: Path) -> int:
            return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())

        cache, built = size(scratch / "cache"), size(scratch / "est")
        print(f"python est_dataset.py build from an empty cache (simulate {estbench.simulator.DEFAULT_SESSIONS:,} "
              f"sessions + build every config): {wall:.1f} s (target <= 90 s: {'MET' if wall <= 90 else 'NOT MET'})")
        print(f"disk: {built / 1e6:,.0f} MB in est/ + {cache / 1e6:,.0f} MB of simulated raw data in the cache "
              f"= {(built + cache) / 1e6:,.0f} MB")
        measured.record(
            RESULTS / "build-from-scratch.json", bench="build-from-scratch",
            command="python bench/bench_build.py --from_scratch", data_digest=data_digest(scratch / "est"),
            rows=[measured.Row(
                f"README command 1's build from an empty cache (simulate the "
                f"{estbench.simulator.DEFAULT_SESSIONS:,}-session default + build every config)",
                f"{wall:.1f} s; {(built + cache) / 1e6:,.0f} MB of disk ({built / 1e6:,.0f} MB `est/` + "
                f"{cache / 1e6:,.0f} MB cached raw data)", "≤ 90 s")],
            values={"wall_s": wall, "est_bytes": built, "cache_bytes": cache})
        return 0 if wall <= 90 else 1
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def emotion_counts(out: Path, config: str) -> dict[str, int]:
    """Utterances per emotion of a joint config, all splits."""
    counts = np.zeros(len(estbench.schema.EMOTIONS), np.int64)
    for f in (out / config).glob("*.parquet"):
        counts += np.bincount(pq.read_table(f, columns=["emotion"])["emotion"].to_numpy(), minlength=len(counts))
    return dict(zip(estbench.schema.EMOTIONS, counts.tolist()))


def print_balanced(balanced: dict[str, int], available: dict[str, int]) -> measured.Row:
    """The balanced subset beside the paper's Table 3 "Used in experiment" column (target: each within 2%)."""
    paper = {e: used for e, (_, used) in estbench.paper.TABLE3["emotion"].items()}
    targets = estbench.dataset.tables.balanced_targets(available)
    n_eligible, p_eligible = sum(available.values()), estbench.paper.ELIGIBLE
    print("\n## balanced subset (joint-balanced, all splits) vs the paper's Table 3 'Used in experiment'")
    print(f"rule: min(available, round(Used x N / P)), N = {n_eligible:,} eligible utterances (joint, all splits), "
          f"P = {p_eligible:,} (paper); N / P = {n_eligible / p_eligible:.4f}")
    print("| Emotion | available (joint) | target | balanced | Paper Used | Difference |\n|---|---|---|---|---|---|")
    for emotion, n in balanced.items():
        print(f"| {emotion} | {available[emotion]:,} | {targets[emotion]:,} | {n:,} | {paper[emotion]:,} | "
              f"{(n - paper[emotion]) / paper[emotion]:+.2%} |")
    total, paper_total = sum(balanced.values()), sum(paper.values())
    print(f"| total | {n_eligible:,} | {sum(targets.values()):,} | {total:,} | {paper_total:,} | "
          f"{(total - paper_total) / paper_total:+.2%} |")
    worst = max(abs(n - paper[e]) / paper[e] for e, n in balanced.items())
    verdict = "yes" if worst <= 0.02 else "NO"
    print(f"largest deviation of an emotion: {worst:.2%} -> every emotion within 2%: {verdict}")
    return measured.Row("balanced subset vs the paper's Used column",
                        f"{total:,} utterances (paper {paper_total:,}); every emotion within {worst:.2%}",
                        "each within 2%")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, "data_dir", help="raw v1 folder to build (default: a generated paper-scale corpus)")
    add_option(parser, "sessions", type=positive_int, default=90_000, help="sessions to generate (default: 90000)")
    add_option(parser, "seed", type=int, default=None, help="generation seed (default: the simulator's)")
    add_option(parser, "context_turns", type=non_negative_int, nargs="+",
               default=[estbench.layout.DEFAULT_CONTEXT_TURNS],
               help=f"context windows to build with (default: {estbench.layout.DEFAULT_CONTEXT_TURNS})")
    add_option(parser, "workers", type=positive_int,
               help="parse workers passed to the build (default: the build's choice)")
    add_option(parser, "from_scratch", action="store_true",
                        help="time README command 1's build instead: empty cache, simulation + build of the default")
    args = parser.parse_args(argv)
    if args.from_scratch:
        return from_scratch()

    if args.data_dir:
        raw, description = Path(args.data_dir), f"raw folder {args.data_dir}"
    else:
        raw, description = raw_corpus(args.sessions, args.seed)
    raw_mb = sum(p.stat().st_size for p in raw.iterdir()) / 1e6
    print(f"Corpus: {description} ({raw_mb:,.1f} MB raw files)")
    print(f"Machine: {os.cpu_count()} CPUs, {psutil.virtual_memory().total / 1024**3:.0f} GB RAM, "
          f"load average {os.getloadavg()[0]:.2f} at start (other processes slow the wall time)")
    rows, values, digest = [], {}, ""
    for k in args.context_turns:
        scratch = Path(tempfile.mkdtemp(prefix="est-bench-build-"))
        try:
            out = scratch / "est"
            result = run_build(raw, out, k, args.workers)
            sizes, context_bytes = parquet_sizes(out)
            utterances = sum(pq.read_metadata(f).num_rows for f in (out / "emotion").glob("*.parquet"))
            total = sum(sizes.values())
            met = result["wall"] <= TARGET_SECONDS and result["rss"] <= TARGET_RSS
            print(f"\n## build, context_turns={k}")
            print(f"wall time        {result['wall']:8.1f} s   (target <= {TARGET_SECONDS:.0f} s)")
            print(f"CPU time         {result['cpu']:8.1f} s   (all processes)")
            print(f"peak RSS         {result['rss'] / 1024**3:8.2f} GB  (target <= 3 GB; child + workers, summed)")
            print(f"user utterances  {utterances:>10,d}  -> {utterances / result['wall']:,.0f} utterances/s")
            print(f"on-disk size     {total / 1e6:8.1f} MB  (all configs; `context` columns: "
                  f"{context_bytes / 1e6:,.1f} MB)")
            for config, size in sizes.items():
                print(f"    {config:24s}{size / 1e6:10.1f} MB")
            full = full_history_bytes(out)
            print(f"full-history context instead of k={k}: {full / 1e9:,.2f} GB of raw text in the emotion config "
                  "alone")
            print(f"targets: {'MET' if met else 'NOT MET'}")
            anchored, with_transition = anchor_coverage(out)
            print(f"rows with a transition that carry their anchor: {anchored:,} of {with_transition:,} "
                  f"({anchored / max(with_transition, 1):.1%}; target 100%)")
            balanced, available = emotion_counts(out, "joint-balanced"), emotion_counts(out, "joint")
            sessions = int(sum(pq.read_metadata(f).num_rows for f in (out / "sessions").glob("*.parquet")))
            rows.append(measured.Row(
                f"build every config at paper scale ({sessions:,} sessions, {utterances:,} user utterances, "
                f"context_turns={k})",
                f"{result['wall']:.1f} s wall, {result['cpu']:.1f} s CPU, peak RSS {result['rss'] / 1024**3:.2f} GB, "
                f"{utterances / result['wall']:,.0f} utterances/s, {total / 1e6:,.1f} MB on disk (`context` "
                f"{context_bytes / 1e6:,.1f} MB; full histories would need {full / 1e9:,.2f} GB of raw text in the "
                f"emotion config alone); {anchored / max(with_transition, 1):.1%} of the {with_transition:,} rows "
                "with a transition carry their anchor", "≤ 60 s, ≤ 3 GB"))
            if k == estbench.layout.DEFAULT_CONTEXT_TURNS:  # what the card states of the default build
                digest = data_digest(out)
                values = {"context_turns": k, "sessions": sessions, "user_utterances": utterances,
                          "on_disk_bytes": total, "context_bytes": context_bytes, "full_history_bytes": full}
        finally:
            shutil.rmtree(scratch, ignore_errors=True)

    rows.append(print_balanced(balanced, available))
    command = "python bench/bench_build.py" + (f" --data_dir {args.data_dir}" if args.data_dir else "") + (
        f" --sessions {args.sessions}" if args.sessions != 90_000 else "")
    measured.record(RESULTS / "build.json", bench="build", command=command, rows=rows, values=values,
                    data_digest=digest)
    return 0


if __name__ == "__main__":
    sys.exit(main())
