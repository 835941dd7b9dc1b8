"""Writing a build: every config as Parquet shards plus the rendered card, staged beside the output folder and
swapped in only when everything succeeded (an existing build is never half-replaced).
"""

from __future__ import annotations

import dataclasses
import json
import math
import os
from pathlib import Path
from typing import Sequence

import datasets
import pyarrow as pa
import pyarrow.parquet as pq

from .. import simulator
from ..hub_eval import EVAL_FILE, eval_yaml
from ..io import staged_folder, write_atomically
from ..layout import (
    CONFIG_NAMES,
    DATA_DIGEST_KEY,
    GOLD_FILE_NAME,
    RAW_FORMAT_VERSION,
    SPLITS,
    features_for,
    gold_dir_for,
    shard_file_name,
)
from ..measured import Measured, matching
from ..raw import BuildReport, raw_digest, read_raw
from ..results import ScoreRecord
from .card import (
    CardInputs,
    CardMeta,
    benchmark_description,
    card_yaml,
    corpus_name,
    corpus_statistics,
    detect_language,
    dialogue_satisfaction_summary,
    example_sessions,
    render_card,
    split_label_counts,
)
from .default_corpus import (
    default_corpus_dir,
    default_source_description,
    simulated_corpus_dir,
)
from .figures import FIGURE_DIR, draw_figures
from .options import BuildOptions, build_options
from .tables import EstTables

SHARD_ROWS = 500_000  # rows per Parquet shard


def _check_replaceable(out: Path) -> None:
    """Refuse to replace a folder that is not an earlier EST build (e.g. `--out .`)."""
    if not out.exists():
        return
    if not out.is_dir():
        raise FileExistsError(f"{out} exists and is not a directory")
    expected = {*CONFIG_NAMES, FIGURE_DIR, "README.md", EVAL_FILE, ".gitattributes"}
    foreign = [p.name for p in out.iterdir() if p.name not in expected]
    if foreign:
        raise FileExistsError(
            f"refusing to replace {out}: it holds files an EST build does not write ({', '.join(sorted(foreign)[:5])})"
        )


def _write_parquet(table: pa.Table, features: datasets.Features, folder: Path, split: str) -> list[Path]:
    """`<split>-NNNNN-of-NNNNN.parquet` shards with the `datasets` features in the schema metadata."""
    metadata = {b"huggingface": json.dumps({"info": {"features": features.to_dict()}}).encode()}
    table = table.replace_schema_metadata(metadata)
    if table.num_rows == 0:  # nothing to load: the card declares only the splits that have rows
        return []
    n_shards = max(1, math.ceil(table.num_rows / SHARD_ROWS))
    paths = []
    for shard in range(n_shards):
        path = folder / shard_file_name(split, shard, n_shards)
        part = table.slice(shard * SHARD_ROWS, SHARD_ROWS)
        pq.write_table(
            part, path, compression="zstd", row_group_size=100_000, use_dictionary=["session_id", "category"]
        )
        paths.append(path)
    return paths


@dataclasses.dataclass
class BuildSummary:
    out: Path
    rows: dict[str, dict[str, int]]  # config -> split -> rows
    report: BuildReport
    bytes_on_disk: int
    gold: Path | None
    statistics: dict
    data_digest: str = ""  # of the data built (`BuildOptions.data_digest`)


def build(
    data_dir: str | os.PathLike | None = None,
    out: str | os.PathLike = "est",
    options: BuildOptions | None = None,
    *,
    card_template: str | os.PathLike,
    sessions: int | None = None,
    gold_out: str | os.PathLike | None = None,
    card_meta: str | os.PathLike | CardMeta | None = None,
    baselines: Sequence[ScoreRecord] = (),
    build_figures: Measured | None = None,
    license: str = "apache-2.0",
    workers: int | None = None,
    progress: bool = True,
    **option_values,
) -> BuildSummary:
    """Build the Hub-ready folder `out` (all configs, README.md rendered from `card_template`, figures/, the Hub's
    benchmark registration `eval.yaml`); nothing in
    `out` changes unless it succeeds.

    `options`: what to build (`BuildOptions`: reading rules, context, balanced cap, blind test), each overridden by
    a keyword of the same name (`build(raw, out, blind_test=True, ...)`). `sessions`: build a simulated corpus of
    that many sessions instead of the embedded default (no `data_dir`). With `blind_test`, test labels are -1 and the
    gold goes to `gold_out` (default: `<out>-gold/test.parquet`). `card_meta`: a YAML file (or `CardMeta`)
    describing the corpus for its card; `baselines` (score records) and `build_figures` (`bench/bench_build.py`'s
    recorded figures): quoted in the card only when measured on exactly the data built (the same data digest).
    """
    from tqdm.auto import tqdm

    options = build_options(options, **option_values)
    blind_test = options.blind_test
    out = Path(out).absolute()
    _check_replaceable(out)
    gold_dir = Path(gold_out).absolute() if gold_out else gold_dir_for(out)
    if blind_test and (gold_dir == out or out in gold_dir.parents):
        raise FileExistsError(f"the gold labels must stay outside the public folder: {gold_dir} is inside {out}")
    meta = card_meta if isinstance(card_meta, CardMeta) else CardMeta.from_yaml(card_meta) if card_meta else CardMeta()
    embedded_default = data_dir is None and sessions is None
    if embedded_default:
        data_dir = default_corpus_dir(progress=progress)
    elif data_dir is None:  # a simulated corpus of another size (`build --sessions N`), cached like the default
        data_dir = simulated_corpus_dir(sessions, simulator.DEFAULT_SEED, progress=progress)
    marker = simulator.read_marker(data_dir)
    source = default_source_description() if embedded_default else describe_source(data_dir, marker)
    corpus = read_raw(data_dir, options, workers=workers, progress=progress)
    digest = options.data_digest(raw_digest(data_dir))
    tables = EstTables(corpus, options)

    gold_path = gold_dir / GOLD_FILE_NAME if blind_test else None
    with staged_folder(out) as staged:
        rows: dict[str, dict[str, int]] = {c: {} for c in CONFIG_NAMES}
        num_bytes: dict[str, dict[str, int]] = {c: {} for c in CONFIG_NAMES}
        disk: dict[str, int] = {c: 0 for c in CONFIG_NAMES}
        jobs = [(c, s) for c in CONFIG_NAMES for s in SPLITS]
        for config, split in tqdm(jobs, desc="Writing Parquet", unit="split", disable=not progress):
            table = tables.table(config, split)
            (staged / config).mkdir(exist_ok=True)  # kept even when every split is empty (the layout is fixed)
            paths = _write_parquet(table, features_for(config), staged / config, split)
            rows[config][split], num_bytes[config][split] = table.num_rows, table.nbytes
            disk[config] += sum(p.stat().st_size for p in paths)
            del table
        figures = draw_figures(tables)
        for name, _, png in figures:
            (staged / name).parent.mkdir(exist_ok=True)
            (staged / name).write_bytes(png)
        simulated = marker is not None
        language = () if meta.language else detect_language(corpus.turns["text"])
        inputs = CardInputs(
            stats=corpus_statistics(tables),
            rows=rows,
            report=corpus.report,
            source=source,
            context_turns=options.context_turns,
            blind_test=blind_test,
            yaml_header=card_yaml(rows, num_bytes, disk, license, simulated=simulated, meta=meta, language=language,
                                  data_digest=digest),
            simulated=simulated,
            options=options,
            balanced_cap=options.balanced_cap,
            split_counts=split_label_counts(tables),
            dialogue=dialogue_satisfaction_summary(tables),
            figures=tuple((name, caption) for name, caption, _ in figures),
            meta=meta,
            examples=example_sessions(tables) if simulated else "",
            # only scores measured on exactly this data (same digest) describe it
            baselines=tuple(r for r in baselines if r.data_digest == digest),
            build_figures=matching(build_figures, digest),
        )
        (staged / "README.md").write_text(render_card(inputs, Path(card_template)), encoding="utf-8")
        # the Hub's benchmark registration: model repos' .eval_results entries then show on the dataset's page
        (staged / EVAL_FILE).write_text(eval_yaml(corpus_name(meta, simulated), benchmark_description(meta, simulated)),
                                        encoding="utf-8")
        gold = None
        if blind_test:
            gold = pa.BufferOutputStream()
            table = tables.gold()
            table = table.replace_schema_metadata({**(table.schema.metadata or {}), DATA_DIGEST_KEY.encode(): digest})
            pq.write_table(table, gold, compression="zstd")
    if gold is not None:  # after the public folder is in place: a failed build never leaves a lone gold file
        write_atomically(gold_path, gold.getvalue().to_pybytes())
    return BuildSummary(out, rows, corpus.report, sum(disk.values()), gold_path, inputs.stats, digest)


def describe_source(data_dir: str | os.PathLike, marker: dict | None) -> str:
    if marker is None:
        return f"raw data (format v{RAW_FORMAT_VERSION}) from a user-supplied directory `{Path(data_dir).name}`"
    return (f"a **simulated** corpus (`estbench.simulator`, {marker.get('sessions', 0):,} sessions, seed "
            f"{marker.get('seed')}) from the directory `{Path(data_dir).name}`")
