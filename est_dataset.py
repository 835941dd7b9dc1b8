"""EST dataset builder: raw session files (format v1) -> a Hub-ready folder of Parquet configs + dataset card.

    python est_dataset.py build [--data_dir RAW] [--out est]    # no --data_dir: the embedded simulated default corpus
    python est_dataset.py simulate --sessions N --seed S --out RAW
    python est_dataset.py push --repo_id ORG/est [--folder est]

Python users can also run the `datasets` builder class directly (both paths produce the same rows):

    Est(config_name="joint", data_dir=RAW).download_and_prepare()

This file is the `datasets` builder class and the command line only; the work is done by the `estbench` package
(`estbench.raw` reads and validates, `estbench.dataset` builds the tables, the card and the folder).
"""

from __future__ import annotations

import argparse
import dataclasses
import functools
import sys
from pathlib import Path
from typing import Iterator, Sequence

import datasets
import pyarrow as pa

from estbench import dataset, measured, paper, simulator
from estbench.cli import add_dataclass_arguments, add_option, dataclass_values, positive_int
from estbench.dataset import BuildOptions, BuildSummary, EstTables, default_corpus_dir, push
from estbench.dataset.options import build_options, check_build_options
from estbench.layout import CONFIG_NAMES, CONFIGS, DEFAULT_CONFIG, SPLITS, features_for
from estbench.raw import RawFormatError, read_raw
from estbench.results import read_records

CARD_TEMPLATE = Path(__file__).with_name("dataset_card.md")
# Scores and figures measured on some data: the card of a build quotes those measured on exactly its data (the data
# digest): the baselines' score records (baselines/reproduce_results.sh) and bench_build's figures (estbench.measured).
BASELINE_RESULTS = Path(__file__).with_name("baselines") / "results"
BUILD_FIGURES = Path(__file__).with_name("bench") / "results" / "build.json"
# `estbench.dataset.build` with this repository's card template (the Python entry point of `est_dataset.py build`)
build = functools.partial(dataset.build, card_template=CARD_TEMPLATE)


@dataclasses.dataclass
class EstConfig(datasets.BuilderConfig, BuildOptions):
    """A config of the builder: `name` (the config), `data_dir` (raw v1 folder; None = the simulated default) and
    every field of `estbench.dataset.BuildOptions` (declared and documented there, as the `build` command's flags
    are), e.g. `load_dataset("est_dataset.py", "joint", data_dir=RAW, context_turns=2)`."""

    def __post_init__(self):
        datasets.BuilderConfig.__post_init__(self)
        check_build_options(self)


_VERSION = datasets.Version("1.0.0")


class Est(datasets.ArrowBasedBuilder):
    """EST: emotion, emotion-state transition and satisfaction of every user utterance (Chinese customer service)."""

    VERSION = _VERSION
    BUILDER_CONFIG_CLASS = EstConfig
    BUILDER_CONFIGS = [EstConfig(name=n, version=_VERSION, description=CONFIGS[n]) for n in CONFIG_NAMES]
    DEFAULT_CONFIG_NAME = DEFAULT_CONFIG

    def _info(self) -> datasets.DatasetInfo:
        return datasets.DatasetInfo(
            description=CONFIGS[self.config.name],
            features=features_for(self.config.name),
            citation=paper.CITATION,
            license="apache-2.0",
        )

    def _split_generators(self, dl_manager):
        options = build_options(**{f.name: getattr(self.config, f.name) for f in dataclasses.fields(BuildOptions)})
        corpus = read_raw(self.config.data_dir or default_corpus_dir(), options)
        tables = EstTables(corpus, options)
        return [
            datasets.SplitGenerator(name=split, gen_kwargs={"table": tables.table(self.config.name, split)})
            for split in SPLITS
        ]

    def _generate_tables(self, table: pa.Table) -> Iterator[tuple[object, pa.Table]]:
        from datasets.builder import Key

        for index, batch in enumerate(table.to_batches(max_chunksize=100_000)):
            yield Key(0, index), pa.Table.from_batches([batch], schema=table.schema)


# --- command line ------------------------------------------------------------------------------------------------
def _print_summary(summary: BuildSummary) -> None:
    report = summary.report
    print(f"\nBuilt {summary.out} ({summary.bytes_on_disk / 1e6:,.1f} MB of Parquet)")
    print(f"{'config':24s}" + "".join(f"{s:>12s}" for s in SPLITS))
    for config, counts in summary.rows.items():
        print(f"{config:24s}" + "".join(f"{counts[s]:>12,d}" for s in SPLITS))
    print(
        f"Build report: {report.sessions_read:,} sessions read from {report.files} file(s); "
        f"{report.sessions_skipped_no_user_turn:,} skipped (no user turn)"
        + (f", e.g. {', '.join(report.skipped_session_ids[:3])}" if report.skipped_session_ids else "")
        + f"; {report.satisfaction_disagreements_kept:,} satisfaction disagreement(s) kept; "
        f"transitions {report.transitions_given:,} annotated / {report.transitions_derived:,} derived; "
        f"{report.sessions_without_anchor:,} session(s) without an anchor; "
        f"{report.dialogue_satisfaction_given:,} with a dialogue-level satisfaction."
    )
    for key, count in sorted(report.unknown_keys.items()):
        print(f"warning: ignored unknown {key} ({count:,} time(s)); build with --strict to make it an error")
    if summary.gold:
        print(f"Blind test: test labels are -1; gold labels written to {summary.gold}")
    print(f"Data digest (scores and figures measured on this data carry it): {summary.data_digest[:16]}")
    where = summary.out
    try:
        where = summary.out.relative_to(Path.cwd())
    except ValueError:
        pass
    print(
        "\nLoad it with:\n"
        "    from datasets import load_dataset\n"
        f'    ds = load_dataset("{where}", "{DEFAULT_CONFIG}")  # configs: {", ".join(CONFIG_NAMES)}'
    )


def _cmd_build(args: argparse.Namespace) -> int:
    try:
        if args.sessions and args.data_dir:
            raise ValueError("--sessions builds a simulated corpus; it cannot be combined with --data_dir")
        summary = build(
            args.data_dir,
            args.out,
            build_options(**dataclass_values(args, BuildOptions)),
            sessions=args.sessions,
            gold_out=args.gold_out,
            card_meta=args.card_meta,
            baselines=[r for f in sorted(BASELINE_RESULTS.glob("*.json")) for r in read_records(f)],
            build_figures=measured.read(BUILD_FIGURES) if BUILD_FIGURES.is_file() else None,
            license=args.license,
            workers=args.workers,
            progress=not args.no_progress,
        )
    except (RawFormatError, FileExistsError, ValueError) as err:
        print(f"error: {err}", file=sys.stderr)
        print(f"nothing was written; {args.out} is unchanged.", file=sys.stderr)
        return 1
    _print_summary(summary)
    return 0


def _cmd_convert(args: argparse.Namespace) -> int:
    from estbench.convert import CONVERTERS, write_raw

    options = {"user": args.cped_user} if args.corpus == "cped" else {}
    try:
        conversion = CONVERTERS[args.corpus].convert(args.sources, mapping=args.map, **options)
    except RawFormatError as err:
        conversion, problem = None, err
    else:
        problem = None if conversion.sessions else "no session found in the sources"
    if problem:
        print(f"error: {problem}", file=sys.stderr)
        print(f"nothing was written; {args.out} is unchanged.", file=sys.stderr)
        return 1
    paths = write_raw(conversion.sessions, args.out, prefix=args.corpus)
    print(f"{args.corpus}: {conversion.summary()}")
    print(f"wrote {len(paths)} file(s) to {args.out}; next: python est_dataset.py build --data_dir {args.out}")
    return 0


def _cmd_simulate(args: argparse.Namespace) -> int:
    if args.preview:
        from estbench.simulator.preview import preview

        print(preview(args.preview, args.seed), end="")
        return 0
    if not args.out:
        print("error: simulate needs --out DIR (or --preview N to print sessions)", file=sys.stderr)
        return 2  # a usage error, as argparse's own
    progress = not args.no_progress
    paths = simulator.write_corpus(args.out, args.sessions, args.seed, shards=args.shards, progress=progress)
    print(f"Wrote {args.sessions:,} simulated sessions (seed {args.seed}) to {len(paths)} file(s) in {args.out}")
    return 0


def _cmd_push(args: argparse.Namespace) -> int:
    try:
        url = push(args.folder, args.repo_id, private=args.private)
    except RuntimeError as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"Pushed {args.folder} to https://huggingface.co/datasets/{args.repo_id} ({url})")
    return 0


def make_parser() -> argparse.ArgumentParser:
    """The command line, by `estbench.cli`'s convention (`--snake_case` flags, the `--kebab-case` spelling accepted
    too; counts checked before any work); the corpus options of `build` are generated from `BuildOptions`."""
    parser = argparse.ArgumentParser(
        prog="est_dataset.py",
        description="Build, simulate and publish the EST benchmark (emotion, emotion-state transition and "
        "satisfaction of user utterances in Chinese customer-service dialogue).",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    b = commands.add_parser(
        "build",
        help="build the Hub-ready folder (Parquet configs + README.md card)",
        description="Read raw sessions (format v1: *.jsonl / *.jsonl.gz, one session per line), validate them, "
        "derive missing labels and write every config to OUT. Without --data_dir, builds the embedded SIMULATED "
        "default corpus (generated once into ~/.cache/est/raw).",
    )
    add_option(b, "data_dir", metavar="DIR", help="folder of raw v1 files (default: the embedded simulated corpus)")
    add_option(b, "sessions", type=positive_int, metavar="N",
               help=f"build a simulated corpus of N sessions instead of the embedded default's "
               f"{simulator.DEFAULT_SESSIONS:,} (quick work: e.g. --sessions 5000; seed {simulator.DEFAULT_SEED})")
    add_option(b, "out", default="est", metavar="DIR",
               help="output folder, replaced only when the build succeeds (default: est)")
    add_option(b, "gold_out", metavar="DIR",
               help="folder for the blind-test gold file test.parquet (default: <OUT>-gold)")
    add_option(b, "card_meta", metavar="FILE",
               help="YAML describing your corpus for its card: pretty_name, description, language, license, "
               "citation, homepage")
    add_option(b, "license", default="apache-2.0", metavar="ID", help="license id for the card (default: apache-2.0)")
    add_option(b, "workers", type=positive_int, metavar="N",
               help="processes that parse raw files (default: 1; the JSON reader is multi-threaded already)")
    add_option(b, "no_progress", action="store_true", help="no progress bars")
    add_dataclass_arguments(b.add_argument_group("what to build (estbench.dataset.BuildOptions)"), BuildOptions)
    b.set_defaults(func=_cmd_build)

    s = commands.add_parser("simulate", help="write a simulated raw v1 corpus",
                            description="Write a simulated raw v1 corpus with the project's simulator "
                            "(byte-identical for the same --sessions and --seed).")
    add_option(s, "sessions", type=positive_int, default=simulator.DEFAULT_SESSIONS, metavar="N",
               help="number of sessions (default: %(default)s, the embedded default's size)")
    add_option(s, "seed", type=int, default=simulator.DEFAULT_SEED, metavar="S",
               help="random seed (default: %(default)s, the embedded default's seed)")
    add_option(s, "out", metavar="DIR", help="output folder for the *.jsonl.gz shards")
    add_option(s, "preview", type=positive_int, metavar="N",
               help="print the first N sessions readably (role, text, labels) instead of writing files")
    add_option(s, "shards", type=positive_int, default=None, metavar="N",
               help="number of files (default: the simulator's choice)")
    add_option(s, "no_progress", action="store_true", help="no progress bar")
    s.set_defaults(func=_cmd_simulate)

    c = commands.add_parser("convert", help="convert a public corpus (CPED, Taobao SSA) into raw format v1",
                            description="Convert the public CPED CSVs or the SSA Clothes/Makeup files (.zip or the "
                            "extracted text_*.txt) into raw format v1; prints what it read and how labels were mapped.")
    c.add_argument("corpus", choices=["cped", "ssa"], help="which corpus the sources are")
    c.add_argument("sources", nargs="+", metavar="SRC", help="CPED *_split.csv, or SSA clothes.zip / makeup.zip / txt")
    add_option(c, "out", required=True, metavar="RAW", help="output folder (replaced whole when it succeeds)")
    add_option(c, "map", metavar="FILE",
               help="YAML: source label -> EST emotion, under a 'cped:' or 'ssa:' key; overrides the defaults")
    add_option(c, "cped_user", choices=["most", "first"], default="most",
               help="CPED: the user is the speaker with most utterances (default) or the first speaker")
    c.set_defaults(func=_cmd_convert)

    p = commands.add_parser("push", help="upload a built folder to the Hugging Face Hub",
                            description="Upload a built folder to a Hub dataset repository (needs a token: "
                            "`hf auth login` or HF_TOKEN, and network access).")
    add_option(p, "repo_id", required=True, help="target dataset repository, e.g. ORG/est")
    add_option(p, "folder", default="est", metavar="DIR", help="built folder to upload (default: est)")
    add_option(p, "private", action="store_true", help="create the repository as private")
    p.set_defaults(func=_cmd_push)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = make_parser().parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
