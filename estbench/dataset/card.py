"""The dataset card of a build: statistics shaped like the paper's Tables 2 and 3, the YAML header emitted from the
Features, and `dataset_card.md` rendered with both.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Sequence

import datasets
import numpy as np
import pyarrow.compute as pc

from .. import paper, schema
from ..layout import CONFIG_NAMES, CONFIGS, DEFAULT_CONFIG, SPLITS, features_for
from ..raw import BuildReport
from ..schema import Task
from .tables import BALANCED_SEED, EstTables

# Measured by `python bench/bench_build.py` (stated in the card; re-measure when the context design changes).
PAPER_SCALE_SIZE = (
    "214 MB of Parquet for every config with k = 4 (the `context` columns take 130 MB of it), where full-history "
    "contexts would need 1.24 GB of raw text in the `emotion` config alone (simulated corpus: 90,000 sessions, "
    "1,618,714 user utterances)."
)


def _fmt(value: float) -> str:
    return f"{value:,.2f}" if isinstance(value, float) and not value.is_integer() else f"{int(value):,}"


def _markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def corpus_statistics(tables: EstTables) -> dict:
    """Counts of the built data, shaped like the paper's Tables 2 and 3 (label counts leave out the test split of a
    blind-test build, so the public card reveals nothing about hidden labels)."""
    sessions, utterances = tables.corpus.sessions, tables.utterances
    counted = np.ones(utterances.num_rows, dtype=bool)
    if tables.blind_test:
        counted[tables.split_bounds[SPLITS.index("test")] : tables.split_bounds[SPLITS.index("test") + 1]] = False
    n_turns = int(pc.sum(sessions["n_turns"]).as_py() or 0)
    stats = {
        "table2": {
            "sessions": sessions.num_rows,
            "turns": n_turns,
            "user_utterances": utterances.num_rows,
            "turns_per_session": round(n_turns / max(sessions.num_rows, 1), 2),
        },
        "table3": {},
    }
    for task in Task:
        ids = utterances[task.value].to_numpy()
        annotated = np.bincount(ids[(ids >= 0) & counted], minlength=len(task.labels))
        used = np.bincount(ids[tables.balanced & counted], minlength=len(task.labels))
        stats["table3"][task.value] = {name: (int(a), int(u)) for name, a, u in zip(task.labels, annotated, used)}
    return stats


def _table2_markdown(stats: dict) -> str:
    names = {
        "sessions": "Total sessions",
        "turns": "Total turns (runs of user utterances, `estbench.schema.count_turns`)",
        "user_utterances": "Total user utterances",
        "turns_per_session": "Average turns per session",
    }
    rows = [(label, _fmt(stats["table2"][key]), _fmt(paper.TABLE2[key])) for key, label in names.items()]
    return _markdown_table(("Metric", "This build", "Paper (Table 2)"), rows)


def _table3_markdown(stats: dict) -> str:
    rows = []
    for task in Task:
        for label in task.labels:
            annotated, used = stats["table3"][task.value][label]
            paper_annotated, paper_used = paper.TABLE3[task.value][label]
            rows.append((task.title, label, _fmt(annotated), _fmt(used), _fmt(paper_annotated), _fmt(paper_used)))
    header = ("Task", "Label", "This build: all", "This build: balanced", "Paper: Annotation", "Paper: Used")
    return _markdown_table(header, rows)


def _balanced_markdown(eligible: int) -> str:
    """The balanced rule's figures: the paper's column, its share of the paper's eligible pool and this build's
    uncapped target round(used x N / P) (N = this build's eligible utterances; no label counts, so blind-safe)."""
    rows = [
        (e, _fmt(a), _fmt(u), f"{u / paper.ELIGIBLE:.6f}", _fmt(paper.round_half_up(u * eligible, paper.ELIGIBLE)))
        for e, (a, u) in paper.TABLE3["emotion"].items()
    ]
    rows.append(("**Total**", _fmt(sum(a for a, _ in paper.TABLE3["emotion"].values())),
                 _fmt(sum(u for _, u in paper.TABLE3["emotion"].values())), "",
                 _fmt(sum(paper.round_half_up(u * eligible, paper.ELIGIBLE) for _, u in paper.TABLE3["emotion"].values()))))
    header = ("Emotion", "Paper: Annotation", "Paper: Used in experiment", f"Used / P (P = {paper.ELIGIBLE:,})",
              f"This build: round(Used × N / P), N = {eligible:,}")
    return _markdown_table(header, rows)


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"



def card_yaml(
    rows: dict[str, dict[str, int]], num_bytes: dict[str, dict[str, int]], disk: dict[str, int], license: str
) -> str:
    """The card's YAML: configs with explicit data_files (joint = default) and dataset_info from the Features."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    card = DatasetCardData(
        pretty_name="EST: Emotion, emotion-State Transition and satisfaction in Chinese customer-service dialogue",
        language=["zh"],
        license=license,
        task_categories=["text-classification"],
        task_ids=["sentiment-classification", "multi-class-classification"],
        size_categories=[_size_category(sum(rows["emotion"].values()))],
        tags=["dialogue", "customer-service", "emotion-recognition", "satisfaction-prediction", "synthetic"],
    )
    MetadataConfigs(
        {
            config: {
                **({"default": True} if config == DEFAULT_CONFIG else {}),
                "data_files": [{"split": split, "path": f"{config}/{split}-*.parquet"} for split in SPLITS],
            }
            for config in CONFIG_NAMES
        }
    ).to_dataset_card_data(card)
    infos = {}
    for config in CONFIG_NAMES:
        splits = datasets.SplitDict()
        for split in SPLITS:
            info = datasets.SplitInfo(name=split, num_bytes=num_bytes[config][split], num_examples=rows[config][split])
            splits.add(info)
        infos[config] = datasets.DatasetInfo(
            features=features_for(config),
            splits=splits,
            download_size=disk[config],
            dataset_size=sum(num_bytes[config].values()),
        )
    DatasetInfosDict(infos).to_dataset_card_data(card)
    return card.to_yaml()


CARD_PLACEHOLDERS = (
    "source", "context_turns", "configs_table", "label_table", "category_table", "alias_table", "filler_words",
    "balanced_rates", "balanced_seed", "paper_scale_size", "table2", "table3", "label_counts_scope", "build_report",
    "blind_test",
)


def render_card(
    stats: dict,
    rows: dict[str, dict[str, int]],
    report: BuildReport,
    *,
    source: str,
    context_turns: int,
    blind_test: bool,
    yaml_header: str,
    template: Path,
) -> str:
    """`dataset_card.md` with its {{ placeholders }} filled from the build; every placeholder must be known."""
    text = template.read_text(encoding="utf-8")
    unknown = sorted(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", text)) - set(CARD_PLACEHOLDERS))
    if unknown:
        raise ValueError(f"{template}: unknown placeholder(s): {', '.join(unknown)}")
    alias_rows = [
        (kind, f"`{alias}`", canonical)
        for kind, aliases in (
            ("emotion", schema.EMOTION_ALIASES),
            ("polarity (in transitions)", schema.POLARITY_ALIASES),
            ("satisfaction", schema.SATISFACTION_ALIASES),
        )
        for alias, canonical in aliases.items()
    ]
    values = {
        "source": source,
        "context_turns": str(context_turns),
        "configs_table": _markdown_table(
            ("Config", "train", "validation", "test", "Contents"),
            [(f"`{c}`", *(_fmt(rows[c][s]) for s in SPLITS), CONFIGS[c]) for c in CONFIG_NAMES],
        ),
        "label_table": _markdown_table(
            ("Task", "Column", "Labels (ClassLabel order)"),
            [(t.title, f"`{t.value}`", ", ".join(t.labels)) for t in Task],
        ),
        "category_table": _markdown_table(
            ("Raw key", "English", "Chinese"), [(f"`{k}`", en, zh) for k, (en, zh) in schema.CATEGORIES.items()]
        ),
        "alias_table": _markdown_table(("Kind", "Alias", "Canonical label"), alias_rows),
        "filler_words": "、".join(schema.FILLER_WORDS),
        "balanced_rates": _balanced_markdown(sum(rows["joint"][split] for split in SPLITS)),
        "balanced_seed": str(BALANCED_SEED),
        "paper_scale_size": PAPER_SCALE_SIZE,
        "table2": _table2_markdown(stats),
        "label_counts_scope": "train and validation only: this is a blind-test build" if blind_test else "all splits",
        "table3": _table3_markdown(stats),
        "build_report": _markdown_table(
            ("Count", "Value"),
            [
                ("Raw files", _fmt(report.files)),
                ("Sessions read", _fmt(report.sessions_read)),
                ("Sessions skipped (no user turn)", _fmt(report.sessions_skipped_no_user_turn)),
                ("Transitions annotated", _fmt(report.transitions_given)),
                ("Transitions derived by the rule", _fmt(report.transitions_derived)),
                ("Satisfaction annotated", _fmt(report.satisfaction_given)),
                ("Satisfaction derived from the emotion", _fmt(report.satisfaction_derived)),
                ("Satisfaction disagreeing with the emotion, kept (`--keep-given-satisfaction`)",
                 _fmt(report.satisfaction_disagreements_kept)),
            ],
        ),
        "blind_test": (
            "**This is a blind-test build: every label of every `test` split is `-1`.** The gold labels are kept "
            "outside this folder for a hidden-label leaderboard."
            if blind_test
            else "This build includes the test labels (built without `--blind-test`)."
        ),
    }
    assert set(values) == set(CARD_PLACEHOLDERS)
    body = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values[m.group(1)], text)
    return f"---\n{yaml_header.strip()}\n---\n\n{body.lstrip()}"

