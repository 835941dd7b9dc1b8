"""The built folder: Parquet layout, offline `load_dataset` round trip, the `Est` builder class, reproducibility,
blind test, the dataset card, the default corpus cache, the CLI and `push`."""

from __future__ import annotations

import os
import subprocess
import sys
import types
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
import yaml

import est_dataset
import estbench.dataset.card
import estbench.dataset.default_corpus
import estbench.dataset.hub
import estbench.dataset.tables
import estbench.layout
import estbench.paper
import estbench.raw
import estbench.schema
from estbench.schema import Task
from estbench.testing.standin import write_standin_corpus

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = estbench.layout.CONFIG_NAMES
SPLITS = estbench.layout.SPLITS


def read_split(folder: Path, config: str, split: str):
    files = sorted((folder / config).glob(f"{split}-*-of-*.parquet"))
    assert files, f"no {config}/{split} shards"
    return datasets.concatenate_datasets([datasets.Dataset.from_parquet(str(f)) for f in files])


def card_yaml(folder: Path) -> dict:
    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text.startswith("---\n")
    return yaml.safe_load(text.split("---\n")[1])


# --- layout and loading ---------------------------------------------------------------------------------------
def test_layout_matches_the_contract(small_est):
    for config in CONFIGS:
        for split in SPLITS:
            shards = sorted((small_est / config).glob(f"{split}-*.parquet"))
            assert [s.name for s in shards] == [f"{split}-{i:05d}-of-{len(shards):05d}.parquet"
                                                for i in range(len(shards))]
    assert not list(small_est.rglob("*.py")), "datasets refuses folders with scripts"


@pytest.mark.parametrize("config", CONFIGS)
def test_load_dataset_offline_round_trip(small_est, config, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.chdir(small_est.parent)  # "from the project root": the folder is ./est
    ds = datasets.load_dataset(small_est.name, config, cache_dir=str(tmp_path / "cache"))
    assert isinstance(ds, datasets.DatasetDict) and list(ds) == list(SPLITS)
    expected_features = estbench.layout.features_for(config)
    for split in SPLITS:
        assert ds[split].features == expected_features
        assert ds[split].to_dict() == read_split(small_est, config, split).to_dict()
    labels = expected_features["turns"].feature if config == "sessions" else expected_features
    for task in Task:
        if task.value in labels:
            assert labels[task.value].names == list(task.labels)


def test_default_config_is_joint(small_est, tmp_path, monkeypatch):
    monkeypatch.chdir(small_est.parent)
    ds = datasets.load_dataset(small_est.name, cache_dir=str(tmp_path / "cache"))
    assert list(ds["train"].features)[-3:] == list(estbench.schema.TASK_NAMES)


def test_utterance_rows(small_est):
    for config, labels in estbench.layout.UTTERANCE_CONFIGS.items():
        for split in SPLITS:
            table = read_split(small_est, config, split).to_dict()
            assert list(table) == [*estbench.layout.UTTERANCE_COLUMNS, *labels]
            for row_id, session_id, turn in zip(table["id"], table["session_id"], table["turn"]):
                assert row_id == f"{session_id}/{turn}"
            assert all(c in estbench.schema.CATEGORY_NAMES or c == "" for c in table["category"])
            for label in labels:
                assert min(table[label], default=0) >= 0, f"{config}/{split}: {label} missing"


def test_joint_rows_are_the_utterances_with_a_transition(small_est):
    for split in SPLITS:
        emotion = read_split(small_est, "emotion", split)
        joint = read_split(small_est, "joint", split)
        sessions = read_split(small_est, "sessions", split)
        with_transition = {
            f"{s['session_id']}/{i}"
            for s in sessions
            for i, t in enumerate(s["turns"])
            if t["role"] == "user" and t["transition"] >= 0
        }
        users = {f"{s['session_id']}/{i}" for s in sessions for i, t in enumerate(s["turns"]) if t["role"] == "user"}
        assert set(joint["id"]) == with_transition
        assert set(emotion["id"]) == users
        assert set(read_split(small_est, "transition", split)["id"]) == with_transition


def test_splits_are_disjoint_and_identical_across_configs(small_est):
    sessions_of = {}
    for config in CONFIGS:
        per_split = {split: set(read_split(small_est, config, split)["session_id"]) for split in SPLITS}
        for a, b in ((0, 1), (0, 2), (1, 2)):
            assert not per_split[SPLITS[a]] & per_split[SPLITS[b]], config
        for split, ids in per_split.items():
            assert all(estbench.layout.split_of(s) == split for s in ids)
        sessions_of[config] = per_split
    for config in CONFIGS:  # every config's sessions are a subset of the sessions config's, split by split
        for split in SPLITS:
            assert sessions_of[config][split] <= sessions_of["sessions"][split]
    assert sessions_of["emotion"] == sessions_of["satisfaction"]


def test_balanced_configs_share_rows_and_labels(small_est):
    for split in SPLITS:
        joint = read_split(small_est, "joint", split).to_dict()
        by_id = {i: k for k, i in enumerate(joint["id"])}
        balanced = read_split(small_est, "joint-balanced", split).to_dict()
        for task in Task:
            single = read_split(small_est, f"{task.value}-balanced", split).to_dict()
            assert single["id"] == balanced["id"] and single[task.value] == balanced[task.value]
        for k, row_id in enumerate(balanced["id"]):
            for column in ("context", "text", *estbench.schema.TASK_NAMES):
                assert balanced[column][k] == joint[column][by_id[row_id]]


# --- the datasets builder class ----------------------------------------------------------------------------------
def test_builder_class_gives_the_same_rows(small_raw_dir, small_est, tmp_path):
    for config in CONFIGS:
        builder = est_dataset.Est(config_name=config, data_dir=str(small_raw_dir), cache_dir=str(tmp_path / "cache"))
        builder.download_and_prepare()
        built = builder.as_dataset()
        for split in SPLITS:
            assert built[split].features == estbench.layout.features_for(config)
            assert built[split].to_dict() == read_split(small_est, config, split).to_dict(), (config, split)


# --- reproducibility ------------------------------------------------------------------------------------------------
def test_rebuild_is_byte_identical(small_raw_dir, small_est, tmp_path):
    est_dataset.build(small_raw_dir, tmp_path / "est", progress=False, workers=2)  # other worker count, same bytes
    first = {p.relative_to(small_est): p.read_bytes() for p in small_est.rglob("*") if p.is_file()}
    second = {p.relative_to(tmp_path / "est"): p.read_bytes() for p in (tmp_path / "est").rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert all(first[k] == second[k] for k in first), [str(k) for k in first if first[k] != second[k]]


def test_rebuild_replaces_an_earlier_build(small_raw_dir, tmp_path):
    write_standin_corpus(tmp_path / "tiny", 20, seed=3, shards=1)
    est_dataset.build(tmp_path / "tiny", tmp_path / "est", progress=False)
    summary = est_dataset.build(small_raw_dir, tmp_path / "est", progress=False)
    shard = tmp_path / "est" / "sessions" / "train-00000-of-00001.parquet"
    assert datasets.Dataset.from_parquet(str(shard)).num_rows == summary.rows["sessions"]["train"]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


# --- blind test -------------------------------------------------------------------------------------------------------
def test_blind_test_hides_test_labels_and_writes_gold(small_est, small_est_blind):
    gold = pq.read_table(small_est_blind.parent / "est-gold" / "test.parquet").to_pydict()
    assert list(gold) == ["id", "session_id", *estbench.schema.TASK_NAMES, "balanced"]
    joint = read_split(small_est, "joint", "test")
    assert gold["id"] == joint["id"] and gold["session_id"] == joint["session_id"]
    for task in Task:
        assert gold[task.value] == [task.labels[i] for i in joint[task.value]]
    balanced_ids = set(read_split(small_est, "joint-balanced", "test")["id"])
    assert [i in balanced_ids for i in gold["id"]] == gold["balanced"]
    assert any(gold["balanced"]) and not all(gold["balanced"])

    for config, labels in estbench.layout.UTTERANCE_CONFIGS.items():
        hidden = read_split(small_est_blind, config, "test")
        open_ = read_split(small_est, config, "test")
        assert hidden["id"] == open_["id"] and hidden["context"] == open_["context"]
        for label in labels:
            assert set(hidden[label]) == {-1}
        for split in ("train", "validation"):
            expected = read_split(small_est, config, split).to_dict()
            assert read_split(small_est_blind, config, split).to_dict() == expected
    for session in read_split(small_est_blind, "sessions", "test"):
        assert all(t[k] == -1 for t in session["turns"] for k in estbench.schema.TASK_NAMES)
    readme = (small_est_blind / "README.md").read_text(encoding="utf-8")
    assert "blind-test build" in readme
    # the public card's label counts leave the hidden test labels out
    for emotion in estbench.schema.EMOTIONS:
        label = estbench.schema.EMOTIONS.index(emotion)
        seen = sum(read_split(small_est, "emotion", s)["emotion"].count(label) for s in ("train", "validation"))
        used = sum(read_split(small_est, "emotion-balanced", s)["emotion"].count(label)
                   for s in ("train", "validation"))
        assert f"| Emotion | {emotion} | {seen:,} | {used:,} |" in readme


def test_blind_test_gold_must_stay_outside_the_public_folder(small_raw_dir, tmp_path):
    with pytest.raises(FileExistsError, match="outside the public folder"):
        est_dataset.build(small_raw_dir, tmp_path / "est", blind_test=True, gold_out=tmp_path / "est" / "gold")
    assert not (tmp_path / "est").exists()


# --- the card --------------------------------------------------------------------------------------------------------
def test_card_metadata(small_est):
    meta = card_yaml(small_est)
    assert meta["language"] == ["zh"] and meta["license"] and meta["task_categories"] and meta["size_categories"]
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert set(configs) == set(CONFIGS)
    assert [name for name, c in configs.items() if c.get("default")] == [estbench.layout.DEFAULT_CONFIG]
    for name, config in configs.items():
        assert [f["split"] for f in config["data_files"]] == list(SPLITS)
        for f in config["data_files"]:
            assert list(small_est.glob(f["path"])), f["path"]
    infos = {i["config_name"]: i for i in meta["dataset_info"]}
    assert set(infos) == set(CONFIGS)
    for name, info in infos.items():
        features = datasets.Features._from_yaml_list(info["features"])
        assert features == estbench.layout.features_for(name)
        assert {s["name"]: s["num_examples"] for s in info["splits"]} == {
            split: read_split(small_est, name, split).num_rows for split in SPLITS
        }


def test_card_body(small_est):
    text = (small_est / "README.md").read_text(encoding="utf-8")
    assert "[More Information Needed]" not in text and "{{" not in text
    assert "SIMULATED" in text and "## Simulated default corpus" in text
    schema = estbench.schema
    for alias in (*schema.EMOTION_ALIASES, *schema.POLARITY_ALIASES, *schema.SATISFACTION_ALIASES):
        assert f"`{alias}`" in text
    assert "、".join(estbench.schema.FILLER_WORDS) in text
    # Table 2 and 3 figures of this build are in the card, beside the paper's
    users = sum(read_split(small_est, "emotion", s).num_rows for s in SPLITS)
    assert f"| Total user utterances | {users:,} | 1,590,895 |" in text
    for emotion, (annotated, used) in estbench.paper.TABLE3["emotion"].items():
        label = estbench.schema.EMOTIONS.index(emotion)
        count = sum(read_split(small_est, "emotion", s)["emotion"].count(label) for s in SPLITS)
        balanced = sum(read_split(small_est, "emotion-balanced", s)["emotion"].count(label) for s in SPLITS)
        assert f"| Emotion | {emotion} | {count:,} | {balanced:,} | {annotated:,} | {used:,} |" in text
    # the balanced rule's table: the paper's column scaled by N / P, N = this build's utterances with a transition
    eligible = sum(read_split(small_est, "joint", s).num_rows for s in SPLITS)
    assert f"round(Used × N / P), N = {eligible:,} |" in text and "P = 1,500,827" in text
    for emotion, (annotated, used) in estbench.paper.TABLE3["emotion"].items():
        scaled = int(used * eligible / 1_500_827 + 0.5)
        assert f"| {emotion} | {annotated:,} | {used:,} | {used / 1_500_827:.6f} | {scaled:,} |" in text


def test_card_of_simulated_data_says_so_and_shows_its_figures(small_est):
    text = (small_est / "README.md").read_text(encoding="utf-8")
    assert "synthetic" in card_yaml(small_est)["tags"]
    assert "**Rule used for this build:** the paper's rule as written" in text
    for name in ("labels", "utterances_per_session", "emotion_by_position"):
        assert f"(figures/{name}.png)" in text
        assert (small_est / "figures" / f"{name}.png").read_bytes().startswith(b"\x89PNG")
    # per-class counts in every split, the absent classes marked
    train = read_split(small_est, "emotion", "train")["emotion"]
    worry = train.count(estbench.schema.EMOTIONS.index("Worry"))
    assert f"| Emotion | Worry | {worry:,} |" in text
    assert "Dialogue-level satisfaction (the `sessions` config's `dialogue_satisfaction`): none in this corpus" in text


def test_card_of_owner_data_says_nothing_about_simulation(tmp_path):
    write_standin_corpus(tmp_path / "raw", 200, seed=2)
    est_dataset.build(tmp_path / "raw", tmp_path / "est", progress=False)
    text = (tmp_path / "est" / "README.md").read_text(encoding="utf-8")
    assert "simulat" not in text.lower() and "synthetic" not in text.lower()
    meta = card_yaml(tmp_path / "est")
    assert meta["language"] == ["zh"] and "synthetic" not in meta["tags"]
    assert "No description was given (`--card_meta FILE` adds one)." in text


def test_card_meta_fills_the_card(tmp_path):
    write_standin_corpus(tmp_path / "raw", 60, seed=2)
    (tmp_path / "meta.yaml").write_text(yaml.safe_dump({
        "pretty_name": "My Calls", "description": "Calls of our hotline, rated by our QA team.",
        "language": ["zh", "en"], "license": "cc-by-4.0", "homepage": "https://example.org/calls",
        "citation": "@misc{mycalls2026,\n  title = {My Calls}\n}"}), encoding="utf-8")
    est_dataset.build(tmp_path / "raw", tmp_path / "est", progress=False, card_meta=tmp_path / "meta.yaml")
    text = (tmp_path / "est" / "README.md").read_text(encoding="utf-8")
    meta = card_yaml(tmp_path / "est")
    assert (meta["pretty_name"], meta["language"], meta["license"]) == ("My Calls", ["zh", "en"], "cc-by-4.0")
    assert meta["homepage"] == "https://example.org/calls"
    assert "# My Calls" in text and "Calls of our hotline, rated by our QA team." in text
    assert "@misc{mycalls2026," in text and "@article{bian2025est," in text


def test_bad_card_meta_is_refused_before_anything_is_written(tmp_path):
    write_standin_corpus(tmp_path / "raw", 20, seed=2)
    (tmp_path / "meta.yaml").write_text("pretty_name: x\nauthors: me\n", encoding="utf-8")
    run = subprocess.run([sys.executable, str(ROOT / "est_dataset.py"), "build", "--data-dir", str(tmp_path / "raw"),
                          "--out", str(tmp_path / "est"), "--card-meta", str(tmp_path / "meta.yaml"), "--no-progress"],
                         capture_output=True, text=True)
    assert run.returncode == 1 and "--card_meta meta.yaml: unknown key(s) authors" in run.stderr
    assert not (tmp_path / "est").exists()


def test_every_row_with_a_transition_carries_its_anchor(small_est):
    for split in SPLITS:
        rows = read_split(small_est, "joint", split)
        assert rows.num_rows and all(0 <= a < t for a, t in zip(rows["anchor_turn"], rows["turn"]))
        assert all(rows["anchor"])
        sessions = {r["session_id"]: r for r in read_split(small_est, "sessions", split)}
        for row in rows.select(range(min(50, rows.num_rows))):
            assert sessions[row["session_id"]]["turns"][row["anchor_turn"]]["text"] == row["anchor"]


def test_dialogue_satisfaction_reaches_the_sessions_config(tmp_path, monkeypatch):
    from estbench.testing.standin import write_jsonl

    sessions = [{"session_id": f"s{i}", "satisfaction": ["满意", "Neutral", "dissatisfied"][i % 3],
                 "turns": [{"role": "user", "text": "宽带又断了", "emotion": "Anger"}]} for i in range(40)]
    write_jsonl(tmp_path / "raw" / "a.jsonl", sessions)
    est_dataset.build(tmp_path / "raw", tmp_path / "est", progress=False)
    monkeypatch.chdir(tmp_path)
    loaded = datasets.load_dataset("est", "sessions")
    feature = loaded["train"].features["dialogue_satisfaction"]
    got = {r["session_id"]: feature.int2str(r["dialogue_satisfaction"]) for split in loaded.values() for r in split}
    assert got == {f"s{i}": ["Satisfied", "Neutral", "Dissatisfied"][i % 3] for i in range(40)}
    text = (tmp_path / "est" / "README.md").read_text(encoding="utf-8")
    # the last user utterance is Anger (Dissatisfied): a third of the sessions agree
    assert "40 sessions carry it: Satisfied 14 (35.0%), Neutral 13 (32.5%), Dissatisfied 13 (32.5%)" in text
    assert "in 13 of them (32.5%)" in text


def test_card_template_rejects_unknown_placeholders(tmp_path, small_raw_dir):
    template = tmp_path / "card.md"
    template.write_text("# x {{ no_such_value }}")
    tables = estbench.dataset.tables.EstTables(estbench.raw.read_raw(small_raw_dir))
    inputs = estbench.dataset.card.CardInputs(
        stats=estbench.dataset.card.corpus_statistics(tables), rows={}, report=tables.corpus.report, source="x",
        context_turns=1, blind_test=False, yaml_header="a: 1", simulated=True, options=estbench.raw.ReadOptions(),
        balanced_cap=None, split_counts={}, dialogue={})
    with pytest.raises(ValueError, match="no_such_value"):
        estbench.dataset.card.render_card(inputs, template)
    template.write_text("<!-- no_such_block -->\nx\n<!-- /no_such_block -->\n")
    with pytest.raises(ValueError, match="no_such_block"):
        estbench.dataset.card.render_card(inputs, template)


# --- the embedded default corpus -----------------------------------------------------------------------------------
def test_default_corpus_is_generated_once_into_the_cache(tmp_path, monkeypatch):
    calls = []

    def write_corpus(out_dir, n_sessions, seed, shards=None, progress=True):
        calls.append((n_sessions, seed))
        return write_standin_corpus(Path(out_dir), n_sessions, seed, shards=1)

    source = tmp_path / "fake_simulator" / "__init__.py"
    source.parent.mkdir()
    source.write_text("# fake")
    fake = types.SimpleNamespace(write_corpus=write_corpus, DEFAULT_SESSIONS=40, DEFAULT_SEED=5, __file__=str(source))
    monkeypatch.setattr(estbench.dataset.default_corpus, "simulator", fake)
    monkeypatch.setenv("EST_CACHE_DIR", str(tmp_path / "cache"))
    summary = est_dataset.build(None, tmp_path / "est", progress=False)
    assert calls == [(40, 5)]
    assert summary.report.sessions_read == 40
    cached = estbench.dataset.default_corpus.default_corpus_dir(progress=False)
    assert calls == [(40, 5)] and cached.parent == tmp_path / "cache" / "raw"
    assert [p.name for p in cached.parent.iterdir()] == [cached.name]  # no temporary folder left
    assert "simulated" in (tmp_path / "est" / "README.md").read_text(encoding="utf-8")
    source.write_text("# fake, changed")  # a changed simulator never serves the stale corpus
    assert estbench.dataset.default_corpus.default_corpus_dir(progress=False) != cached and len(calls) == 2


# --- CLI and push -----------------------------------------------------------------------------------------------------
def run_cli(*args, env=None, cwd=None):
    return subprocess.run(
        [sys.executable, str(ROOT / "est_dataset.py"), *args], capture_output=True, text=True, timeout=300, env=env,
        cwd=cwd
    )


def test_cli_build_prints_the_summary(small_raw_dir, tmp_path):
    result = run_cli("build", "--data-dir", str(small_raw_dir), "--out", "est", "--context-turns", "2", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    for config in CONFIGS:
        assert f"\n{config} " in result.stdout
    assert "skipped (no user turn)" in result.stdout and "satisfaction disagreement(s) kept" in result.stdout
    assert 'load_dataset("est", "joint")' in result.stdout
    context = read_split(tmp_path / "est", "joint", "train")["context"]
    assert max(c.count("\n") for c in context) == 1  # --context-turns 2: at most two lines


@pytest.mark.parametrize("command", ["build", "simulate", "push"])
def test_cli_help(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        est_dataset.main([command, "--help"])
    assert exit_.value.code == 0 and "usage: est_dataset.py " + command in capsys.readouterr().out


def clean_env(tmp_path) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HF_")}
    env.update(HF_HOME=str(tmp_path / "hf_home"), HF_HUB_OFFLINE="1")
    return env


def test_push_without_token_fails_clearly(small_est, tmp_path):
    result = run_cli("push", "--repo-id", "org/est", "--folder", str(small_est), env=clean_env(tmp_path))
    assert result.returncode == 1
    assert "no Hugging Face token" in result.stderr and "Traceback" not in result.stderr


def test_push_offline_fails_clearly(small_est, tmp_path):
    env = {**clean_env(tmp_path), "HF_TOKEN": "hf_not_a_real_token"}
    result = run_cli("push", "--repo-id", "org/est", "--folder", str(small_est), env=env)
    assert result.returncode == 1
    assert "offline" in result.stderr and "Traceback" not in result.stderr


def test_push_without_network_fails_clearly(small_est, tmp_path):
    # online mode, but the Hub endpoint is a closed local port: the upload cannot connect
    env = {**clean_env(tmp_path), "HF_TOKEN": "hf_not_a_real_token", "HF_HUB_OFFLINE": "0",
           "HF_ENDPOINT": "http://127.0.0.1:9"}
    result = run_cli("push", "--repo-id", "org/est", "--folder", str(small_est), env=env)
    assert result.returncode == 1
    assert "cannot reach the Hub" in result.stderr and "Traceback" not in result.stderr


def test_push_refuses_an_unbuilt_folder(tmp_path):
    with pytest.raises(RuntimeError, match="not a built EST folder"):
        estbench.dataset.hub.push(tmp_path, "org/est")


def test_cli_simulate_writes_a_buildable_corpus(tmp_path, capsys):
    argv = ["simulate", "--sessions", "12", "--seed", "3", "--out", str(tmp_path / "raw"), "--no-progress"]
    assert est_dataset.main(argv) == 0
    assert "12 simulated sessions" in capsys.readouterr().out
    corpus = estbench.raw.read_raw(tmp_path / "raw")
    assert corpus.report.sessions_read == 12


def test_the_build_options_are_declared_once(small_raw_dir, tmp_path):
    """BuildOptions is the one declaration: the builder config, the command line, build() and read_raw take it."""
    import dataclasses

    from estbench.dataset import BuildOptions
    from estbench.raw import ReadOptions

    options = {f.name for f in dataclasses.fields(BuildOptions)}
    assert {f.name for f in dataclasses.fields(ReadOptions)} < options
    assert options <= {f.name for f in dataclasses.fields(est_dataset.EstConfig)}
    build_help = est_dataset.make_parser()._subparsers._group_actions[0].choices["build"].format_help()
    for name in options:
        assert f"--{name}" in build_help and f"--{name.replace('_', '-')}" in build_help, name
    # the builder config carries them to the same tables as the command line
    builder = est_dataset.Est(config_name="joint", data_dir=str(small_raw_dir), cache_dir=str(tmp_path / "cache"),
                              context_turns=1)
    builder.download_and_prepare()
    context = builder.as_dataset(split="train")["context"]
    assert max(c.count("\n") for c in context) == 0 and any(context)
    with pytest.raises(ValueError, match="context_turns must be an integer >= 0"):
        est_dataset.EstConfig(name="joint", context_turns=-1)
    with pytest.raises(TypeError, match="unknown build options"):
        est_dataset.build(small_raw_dir, tmp_path / "x", context_turn=2)


@pytest.mark.parametrize("args, message", [
    (["build", "--context_turns", "-1"], "argument --context_turns/--context-turns: -1 must be at least 0"),
    (["build", "--balanced-cap", "0"], "argument --balanced_cap/--balanced-cap: 0 must be positive"),
    (["build", "--blind_test", "maybe"], "'maybe' is not a boolean"),
    (["simulate", "--sessions", "0", "--out", "raw"], "argument --sessions: 0 must be positive"),
    (["simulate", "--shards", "x", "--out", "raw"], "argument --shards: 'x' is not an integer"),
])
def test_a_bad_value_is_one_usage_line_before_any_work(args, message, tmp_path):
    result = run_cli(*args, cwd=tmp_path)
    assert result.returncode == 2 and message in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_old_flag_spellings_still_work(small_raw_dir, tmp_path):
    """The kebab-case flags of earlier releases and the new snake_case ones are the same options."""
    old = est_dataset.make_parser().parse_args(["build", "--data-dir", "r", "--blind-test", "--context-turns", "2",
                                                "--balanced-cap", "5", "--no-progress", "--card-meta", "m.yaml"])
    new = est_dataset.make_parser().parse_args(["build", "--data_dir", "r", "--blind_test", "--context_turns", "2",
                                                "--balanced_cap", "5", "--no_progress", "--card_meta", "m.yaml"])
    assert vars(old) == vars(new) and new.blind_test is True and new.context_turns == 2


def test_the_data_digest_names_the_data_and_the_card_quotes_only_its_own_scores(small_raw_dir, tmp_path, capsys):
    """A build writes the digest of its data (raw files + the options that shape the rows) into its card and gold
    file; a score record measured on it carries the same digest, and only such records reach the card."""
    from est_baselines import runner
    from estbench.built import data_digest
    from estbench.results import ScoreRecord, read_records

    first = est_dataset.build(small_raw_dir, tmp_path / "a" / "est", progress=False, blind_test=True)
    again = est_dataset.build(small_raw_dir, tmp_path / "b" / "est", progress=False)
    other = est_dataset.build(small_raw_dir, tmp_path / "c" / "est", progress=False, context_turns=1)
    assert len(first.data_digest) == 64 and first.data_digest == again.data_digest != other.data_digest
    assert data_digest(tmp_path / "a" / "est") == data_digest(first.gold) == first.data_digest
    assert data_digest(tmp_path / "nowhere") == ""

    runner.main(["majority", "--track", "balanced", "--est_dir", str(tmp_path / "b" / "est"), "--bootstrap", "0",
                 "--output", str(tmp_path / "m.csv"), "--results", str(tmp_path / "m.json")])
    capsys.readouterr()
    measured = read_records(tmp_path / "m.json")[0]
    assert measured.data_digest == again.data_digest
    elsewhere = ScoreRecord(model="from another corpus", track="balanced", scores=measured.scores,
                            description="elsewhere", data_digest=other.data_digest)
    unknown = ScoreRecord(model="of unknown data", track="balanced", scores=measured.scores, description="old")
    from estbench import measured as figures

    size = figures.read(figures.record(
        tmp_path / "build.json", bench="build", command="python bench/bench_build.py",
        rows=[figures.Row("build", "x")], data_digest=again.data_digest,
        values={"context_turns": 4, "sessions": 300, "user_utterances": 5_000, "on_disk_bytes": 7_000_000,
                "context_bytes": 3_000_000, "full_history_bytes": 40_000_000}))
    est_dataset.build(small_raw_dir, tmp_path / "d" / "est", progress=False, baselines=[measured, elsewhere, unknown],
                      build_figures=size)
    est_dataset.build(small_raw_dir, tmp_path / "e" / "est", progress=False, context_turns=1, build_figures=size)
    assert "7 MB of Parquet for every config with k = 4" in (tmp_path / "d" / "est" / "README.md").read_text("utf-8")
    assert "not measured on this data" in (tmp_path / "e" / "est" / "README.md").read_text("utf-8")
    card = (tmp_path / "d" / "est" / "README.md").read_text(encoding="utf-8")
    assert "Baselines on this corpus" in card  # the simulated corpus's section
    assert "`python baselines/run.py majority --track balanced`" in card
    assert "from another corpus" not in card and "of unknown data" not in card
