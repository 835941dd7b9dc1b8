"""The dataset card of a build: statistics shaped like the paper's Tables 2 and 3, the YAML header emitted from the
Features, and `dataset_card.md` rendered with both.
"""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Sequence

import datasets
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import paper, schema
from ..layout import CONFIG_NAMES, CONFIGS, DATA_DIGEST_KEY, DEFAULT_CONFIG, SPLITS, features_for, shard_pattern
from ..measured import Measured
from ..raw import BuildReport
from ..raw.corpus import ReadOptions
from ..results import ScoreRecord
from ..schema import Task
from .tables import BALANCED_SEED, EstTables


def paper_scale_size(build: Measured | None) -> str:
    """The on-disk size `python bench/bench_build.py` recorded (`estbench.measured`), quoted only when it was measured
    on the data the card describes (`build` is None otherwise)."""
    if build is None:
        return "not measured on this data (`python bench/bench_build.py` measures it and records it for the card)."
    v = build.values
    return (f"{v['on_disk_bytes'] / 1e6:,.0f} MB of Parquet for every config with k = {v['context_turns']} (the "
            f"`context` columns take {v['context_bytes'] / 1e6:,.0f} MB of it), where full-history contexts would "
            f"need {v['full_history_bytes'] / 1e9:,.2f} GB of raw text in the `emotion` config alone "
            f"({v['sessions']:,} sessions, {v['user_utterances']:,} user utterances; measured {build.measured_at}).")


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
    emotions = paper.TABLE3["emotion"].values()
    rows.append(("**Total**", _fmt(sum(a for a, _ in emotions)), _fmt(sum(u for _, u in emotions)), "",
                 _fmt(sum(paper.round_half_up(u * eligible, paper.ELIGIBLE) for _, u in emotions))))
    header = ("Emotion", "Paper: Annotation", "Paper: Used in experiment", f"Used / P (P = {paper.ELIGIBLE:,})",
              f"This build: round(Used × N / P), N = {eligible:,}")
    return _markdown_table(header, rows)


def _size_category(n: int) -> str:
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "1M<n<10M"



@dataclasses.dataclass(frozen=True)
class CardMeta:
    """What a corpus owner says about the corpus (`--card_meta FILE`, YAML with these keys)."""

    pretty_name: str = ""
    description: str = ""
    language: tuple[str, ...] = ()
    license: str = ""
    citation: str = ""
    homepage: str = ""

    @classmethod
    def from_yaml(cls, path: str | Path) -> "CardMeta":
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ValueError(f"--card_meta {Path(path).name}: cannot read it: {err}") from None
        if not isinstance(data, dict):
            raise ValueError(f"--card_meta {Path(path).name}: expected a mapping of keys, got {type(data).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise ValueError(f"--card_meta {Path(path).name}: unknown key(s) {', '.join(unknown)} "
                             f"(expected: {', '.join(known)})")
        language = data.get("language", ())
        language = (language,) if isinstance(language, str) else tuple(language or ())
        for key in ("pretty_name", "description", "license", "citation", "homepage"):
            if not isinstance(data.get(key, ""), str):
                raise ValueError(f"--card_meta {Path(path).name}: {key} must be a string")
        return cls(**{**data, "language": language})


SIMULATED_NAME = "EST: Emotion, emotion-State Transition and satisfaction in Chinese customer-service dialogue"
TASKS_SENTENCE = ("For every user utterance of a customer-service dialogue, predict its emotion (7 classes), its "
                  "emotion-state transition relative to the session's anchor (9) and the satisfaction it shows (3); "
                  "scored by macro-F1.")


def corpus_name(meta: "CardMeta", simulated: bool) -> str:
    """The build's display name: the owner's, else the simulator's or a generic one."""
    return meta.pretty_name or (SIMULATED_NAME if simulated else "EST-format dialogue corpus")


def benchmark_description(meta: "CardMeta", simulated: bool) -> str:
    """What the benchmark registration (`eval.yaml`) says the build is."""
    if meta.description:
        return f"{meta.description} {TASKS_SENTENCE}"
    if simulated:
        return (f"{TASKS_SENTENCE} This build holds the SIMULATED default corpus of the EST benchmark (Bian et al.): "
                "its scores are not comparable with the paper's.")
    return TASKS_SENTENCE


def detect_language(texts: pa.ChunkedArray | pa.Array, sample: int = 2000) -> tuple[str, ...]:
    """("zh",) when most sampled texts contain CJK characters, else () (the card then names no language)."""
    head = texts.slice(0, sample)
    cjk = pc.sum(pc.cast(pc.match_substring_regex(head, r"[\x{4e00}-\x{9fff}]"), pa.int64())).as_py() or 0
    return ("zh",) if len(head) and cjk / len(head) > 0.5 else ()


def card_yaml(
    rows: dict[str, dict[str, int]], num_bytes: dict[str, dict[str, int]], disk: dict[str, int], license: str, *,
    simulated: bool, meta: CardMeta, language: tuple[str, ...], data_digest: str = "",
) -> str:
    """The card's YAML: configs with explicit data_files (joint = default), dataset_info from the Features, and the
    digest of the data the card describes (`estbench.layout.DATA_DIGEST_KEY`)."""
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    tags = ["dialogue", "customer-service", "emotion-recognition", "satisfaction-prediction"]
    card = DatasetCardData(
        pretty_name=corpus_name(meta, simulated),
        language=list(meta.language or language) or None,
        license=meta.license or license,
        task_categories=["text-classification"],
        task_ids=["sentiment-classification", "multi-class-classification"],
        size_categories=[_size_category(sum(rows["emotion"].values()))],
        tags=tags + (["synthetic"] if simulated else []),
        **({"homepage": meta.homepage} if meta.homepage else {}),
        **({DATA_DIGEST_KEY: data_digest} if data_digest else {}),
    )
    # a split without rows has no file (a tiny corpus may leave one empty): only the splits with data are declared
    present = {config: [split for split in SPLITS if rows[config][split]] for config in CONFIG_NAMES}
    listed = [config for config in CONFIG_NAMES if present[config]]
    MetadataConfigs(
        {
            config: {
                **({"default": True} if config == DEFAULT_CONFIG else {}),
                "data_files": [{"split": split, "path": f"{config}/{shard_pattern(split)}"}
                               for split in present[config]],
            }
            for config in listed
        }
    ).to_dataset_card_data(card)
    infos = {}
    for config in listed:
        splits = datasets.SplitDict()
        for split in present[config]:
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
    "pretty_name", "description", "source", "context_turns", "configs_table", "label_table", "category_table",
    "alias_table", "anchor_rule", "filler_words", "addressees", "hesitations", "balanced_rule", "balanced_rates",
    "balanced_seed", "paper_scale_size", "table2", "table3", "label_counts_scope", "split_counts",
    "dialogue_satisfaction", "figures", "build_report", "blind_test", "citation", "example_sessions", "baselines",
)
CARD_BLOCKS = ("simulated", "corpus")  # <!-- name --> ... <!-- /name -->: kept for simulator output / other corpora
_BLOCK = re.compile(r"^<!-- (\w+) -->\n(.*?)^<!-- /\1 -->\n", re.S | re.M)


@dataclasses.dataclass(frozen=True)
class CardInputs:
    """Everything a card says about one build (besides the template)."""

    stats: dict
    rows: dict[str, dict[str, int]]
    report: BuildReport
    source: str
    context_turns: int
    blind_test: bool
    yaml_header: str
    simulated: bool
    options: ReadOptions
    balanced_cap: int | None
    split_counts: dict  # split_label_counts(tables)
    dialogue: dict  # dialogue_satisfaction_summary(tables)
    figures: tuple[tuple[str, str], ...] = ()  # (file inside the folder, caption)
    meta: CardMeta = CardMeta()
    examples: str = ""  # example_sessions(tables)
    baselines: tuple[ScoreRecord, ...] = ()  # scores measured on this very data (same data digest)
    build_figures: Measured | None = None  # bench_build's figures, when measured on this very data


def split_label_counts(tables: EstTables) -> dict[str, dict[str, dict[str, dict[str, int]]]]:
    """{"full" | "balanced": {task: {label: {split: count}}}} (test counts omitted from a blind-test build)."""
    out: dict = {"full": {}, "balanced": {}}
    for which, config_of in (("full", lambda t: t), ("balanced", lambda t: f"{t}-balanced")):
        for task in Task:
            counts = {label: {} for label in task.labels}
            for split in SPLITS:
                if tables.blind_test and split == "test":
                    continue
                ids = tables.utterances[task.value].take(pa.array(_as_rows(tables.rows(config_of(task.value), split))))
                for label, n in zip(task.labels, np.bincount(ids.to_numpy(), minlength=len(task.labels))):
                    counts[label][split] = int(n)
            out[which][task.value] = counts
    return out


def _as_rows(rows) -> np.ndarray:
    return np.arange(rows.start, rows.stop) if isinstance(rows, slice) else rows


def dialogue_satisfaction_summary(tables: EstTables) -> dict:
    """Distribution of the session-level satisfaction and how often it equals the satisfaction of the session's
    last user utterance (sessions of a blind-test build's test split are left out)."""
    sessions, turns = tables.corpus.sessions, tables.corpus.turns
    label = sessions["satisfaction"].to_numpy().astype(np.int64)
    counted = label >= 0
    if tables.blind_test:
        counted &= tables.session_split != SPLITS.index("test")
    user = turns["is_user"].to_numpy(zero_copy_only=False)
    session_of_user = turns["session"].to_numpy()[user]
    last = np.full(sessions.num_rows, -1, np.int64)
    last[session_of_user] = turns["satisfaction"].to_numpy()[user]  # the last write per session wins
    return {
        "sessions": int(counted.sum()),
        "counts": dict(zip(Task.SATISFACTION.labels,
                           map(int, np.bincount(label[counted], minlength=len(Task.SATISFACTION.labels))))),
        "agree_with_last_utterance": int((label[counted] == last[counted]).sum()),
    }


def example_sessions(tables: EstTables, n: int = 2, max_turns: int = 16) -> str:
    """The first `n` train sessions that carry an emotion, turn by turn with the labels the build gave them."""
    sessions, turns = tables.corpus.sessions, tables.corpus.turns
    session_of_turn = turns["session"].to_numpy()
    emotion = turns["emotion"].to_numpy()
    starts = np.searchsorted(session_of_turn, np.arange(sessions.num_rows + 1))
    train = np.flatnonzero(tables.session_split == SPLITS.index("train"))
    no_emotion = Task.EMOTION.labels.index(schema.NO_EMOTION)
    chosen = [s for s in train[:2000] if ((emotion[starts[s]:starts[s + 1]] >= 0)
                                           & (emotion[starts[s]:starts[s + 1]] != no_emotion)).any()][:n]
    blocks = []
    for s in chosen:
        rows = range(starts[s], min(starts[s + 1], starts[s] + max_turns))
        session, category = sessions["session_id"][int(s)].as_py(), sessions["category"][int(s)].as_py()
        lines = [f"Session `{session}` ({category or '-'}):", ""]
        for r in rows:
            user = bool(turns["is_user"][r].as_py())
            text = turns["text"][r].as_py()
            if user:
                labels = [task.labels[int(turns[task.value][r].as_py())] if turns[task.value][r].as_py() >= 0 else "-"
                          for task in Task]
                lines.append(f"    用户：{text}    [{' | '.join(labels)}]")
            else:
                lines.append(f"    客服：{text}")
        if starts[s + 1] - starts[s] > max_turns:
            lines.append(f"    … ({starts[s + 1] - starts[s] - max_turns} more turns)")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) or "(no session with an emotion in the train split)"


def _baselines_markdown(records) -> str:
    if not records:
        return ("No baseline was measured on this build; run `python baselines/run.py tfidf --track balanced "
                "--output preds.csv` on it (it prints the table with session-bootstrap intervals).")
    rows = []
    for r in sorted(records, key=lambda r: (r.track, r.model)):
        cells = []
        for task in Task:
            key = f"{task.value}_macro_f1"
            low, high = r.intervals.get(key, (float("nan"), float("nan")))
            cells.append(f"{r.scores[key]:.4f} [{low:.4f}, {high:.4f}]")
        rows.append((r.model, r.track, _fmt(r.utterances), *cells, f"{r.scores.get('all_accuracy', float('nan')):.4f}",
                     f"`{r.description}`"))
    header = ("Baseline", "Track", "Test utterances", *(f"{t.title} macro-F1 [95% CI]" for t in Task), "ALL_A",
              "Command")
    return _markdown_table(header, rows)


def _split_counts_markdown(counts: dict, blind_test: bool) -> str:
    splits = [s for s in SPLITS if not (blind_test and s == "test")]
    header = ("Task", "Label", *splits, *(f"balanced {s}" for s in splits))
    rows = []
    for task in Task:
        for label in task.labels:
            cells = [counts[which][task.value][label][s] for which in ("full", "balanced") for s in splits]
            rows.append((task.title, label, *("**0**" if n == 0 else _fmt(n) for n in cells)))
    table = _markdown_table(header, rows)
    return table + ("\n\nTest counts are not shown: this is a blind-test build." if blind_test else "")


def _dialogue_markdown(summary: dict) -> str:
    n = summary["sessions"]
    if not n:
        return "none in this corpus (its raw data gives no session-level `satisfaction`)."
    dist = ", ".join(f"{label} {_fmt(c)} ({c / n:.1%})" for label, c in summary["counts"].items())
    agree = summary["agree_with_last_utterance"]
    return (f"{_fmt(n)} sessions carry it: {dist}. It equals the satisfaction of the session's last user utterance "
            f"in {_fmt(agree)} of them ({agree / n:.1%}).")


def _anchor_rule(options: ReadOptions) -> str:
    if options.emotional_fillers_count:
        return ("`--emotional_fillers_count`: besides substantive utterances, an utterance with an emotion other than "
                "No Emotion may be the anchor (an emotional \"谢谢\" opens a session as Positive). This departs from "
                "the paper's rule: transitions after such an opening are relative to the filler's polarity.")
    return "the paper's rule as written (fillers are skipped whatever their emotion label)."


def _balanced_rule(cap: int | None) -> str:
    if cap is not None:
        return (f"`--balanced_cap {cap}`: each emotion keeps min(available, {cap:,}) eligible utterances, at one rate "
                "in every split (not the paper's proportions).")
    return "the paper's \"Used in experiment\" column scaled to this corpus (below)."


def _citation(meta: CardMeta) -> str:
    benchmark = f"The EST benchmark (task definitions and label schema):\n\n```bibtex\n{paper.CITATION}```"
    if meta.citation:
        return f"This corpus:\n\n```bibtex\n{meta.citation.strip()}\n```\n\n{benchmark}"
    return benchmark


def _build_report_markdown(report: BuildReport) -> str:
    rows = [
        ("Raw files", _fmt(report.files)),
        ("Sessions read", _fmt(report.sessions_read)),
        ("Sessions skipped (no user turn)", _fmt(report.sessions_skipped_no_user_turn)),
        ("Sessions without an anchor (only fillers: no transition)", _fmt(report.sessions_without_anchor)),
        ("User turns whose `substantive` flag overrides the detector", _fmt(report.substantive_given)),
        ("Transitions annotated", _fmt(report.transitions_given)),
        ("Transitions derived by the rule", _fmt(report.transitions_derived)),
        ("Satisfaction annotated", _fmt(report.satisfaction_given)),
        ("Satisfaction derived from the emotion", _fmt(report.satisfaction_derived)),
        ("Satisfaction disagreeing with the emotion, kept (`--keep_given_satisfaction`)",
         _fmt(report.satisfaction_disagreements_kept)),
        ("Sessions with a dialogue-level satisfaction", _fmt(report.dialogue_satisfaction_given)),
    ]
    rows += [(f"Ignored unknown {key}", _fmt(count)) for key, count in sorted(report.unknown_keys.items())]
    return _markdown_table(("Count", "Value"), rows)


def render_card(inputs: CardInputs, template: Path) -> str:
    """`dataset_card.md` with its blocks chosen and its {{ placeholders }} filled from the build; every placeholder
    and block name must be known."""
    text = template.read_text(encoding="utf-8")
    unknown = sorted(set(re.findall(r"\{\{\s*(\w+)\s*\}\}", text)) - set(CARD_PLACEHOLDERS))
    unknown += sorted(set(m.group(1) for m in _BLOCK.finditer(text)) - set(CARD_BLOCKS))
    if unknown:
        raise ValueError(f"{template}: unknown placeholder(s) or block(s): {', '.join(unknown)}")
    active = {"simulated" if inputs.simulated else "corpus"}
    text = _BLOCK.sub(lambda m: m.group(2) if m.group(1) in active else "", text)
    alias_rows = [
        (kind, f"`{alias}`", canonical)
        for kind, aliases in (
            ("emotion", schema.EMOTION_ALIASES),
            ("polarity (in transitions)", schema.POLARITY_ALIASES),
            ("satisfaction", schema.SATISFACTION_ALIASES),
        )
        for alias, canonical in aliases.items()
    ]
    rows, meta = inputs.rows, inputs.meta
    figures = "\n\n".join(f"![{caption}]({name})" for name, caption in inputs.figures)
    values = {
        "pretty_name": corpus_name(meta, inputs.simulated),
        "description": meta.description or "No description was given (`--card_meta FILE` adds one).",
        "source": inputs.source,
        "context_turns": str(inputs.context_turns),
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
        "anchor_rule": _anchor_rule(inputs.options),
        "filler_words": "、".join(schema.FILLER_WORDS),
        "addressees": "、".join(schema.ADDRESSEES),
        "hesitations": "、".join(schema.HESITATIONS),
        "balanced_rule": _balanced_rule(inputs.balanced_cap),
        "balanced_rates": _balanced_markdown(sum(rows["joint"][split] for split in SPLITS)),
        "balanced_seed": str(BALANCED_SEED),
        "paper_scale_size": paper_scale_size(inputs.build_figures),
        "table2": _table2_markdown(inputs.stats),
        "label_counts_scope": ("train and validation only: this is a blind-test build" if inputs.blind_test
                               else "all splits"),
        "table3": _table3_markdown(inputs.stats),
        "split_counts": _split_counts_markdown(inputs.split_counts, inputs.blind_test),
        "dialogue_satisfaction": _dialogue_markdown(inputs.dialogue),
        "figures": figures,
        "build_report": _build_report_markdown(inputs.report),
        "blind_test": (
            "**This is a blind-test build: every label of every `test` split is `-1`.** The gold labels are kept "
            "outside this folder for a hidden-label leaderboard."
            if inputs.blind_test
            else "This build includes the test labels (built without `--blind_test`)."
        ),
        "citation": _citation(meta),
        "example_sessions": inputs.examples,
        "baselines": _baselines_markdown(inputs.baselines),
    }
    assert set(values) == set(CARD_PLACEHOLDERS)
    body = re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: values[m.group(1)], text)
    return f"---\n{inputs.yaml_header.strip()}\n---\n\n{body.lstrip()}"
