"""Classical baselines, the one-command runner, prompts and the data helpers of baselines/ (CPU, seconds)."""

from __future__ import annotations

import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import estbench.scoring
from est_baselines import runner as run
from est_baselines.classical import MajorityBaseline, TfidfBaseline
from est_leaderboard.settings import DEFAULT_GOLD_NAME, DEFAULT_HALF_SALT
from estbench.answers import parse_answer
from estbench.built import load_split, load_track
from estbench.gold import load_references
from estbench.prompts import (
    LANGUAGES,
    build_completion,
    build_prompt,
    label_names,
    tasks_of,
    template,
    truncate_context,
)
from estbench.schema import TASKS, Task
from estbench.submission import predictions_frame, write_predictions

SIMULATED_SESSIONS = 2000  # enough for every label to occur in the balanced test split, built in a few seconds


@pytest.fixture(scope="module")
def simulated_est(tmp_path_factory):
    """A simulated corpus (the project's simulator, i.e. the embedded default's generator) built with est_dataset."""
    import est_dataset
    from estbench import simulator

    root = tmp_path_factory.mktemp("simulated")
    simulator.write_corpus(root / "raw", SIMULATED_SESSIONS, simulator.DEFAULT_SEED, progress=False)
    est_dataset.build(root / "raw", root / "est", progress=False)
    return root / "est"


def _scores(est_dir, baseline, track, tmp_path, capsys, *extra):
    results = tmp_path / f"{baseline}-{track}.json"
    run.main([baseline, "--track", track, "--est-dir", str(est_dir), "--output", str(tmp_path / f"{baseline}.csv"),
              "--results", str(results), *extra])
    capsys.readouterr()
    return json.loads(results.read_text(encoding="utf-8"))["scores"]


@pytest.mark.parametrize("track", ["balanced"])  # the full track: same code, ~30x the rows (see the README figures)
def test_tfidf_beats_majority_on_macro_f1(simulated_est, track, tmp_path, capsys):
    majority = _scores(simulated_est, "majority", track, tmp_path, capsys)
    tfidf = _scores(simulated_est, "tfidf", track, tmp_path, capsys)
    for task in TASKS:
        key = f"{task.value}_macro_f1"
        assert tfidf[key] > majority[key] + 0.1, (key, tfidf[key], majority[key])


def test_structured_tfidf_tells_one_story_and_derives_its_labels(simulated_est, tmp_path, capsys):
    """Satisfaction and transition come from the predicted emotion and anchor polarity: never a contradiction; the
    emotion is the plain TF-IDF's (same features, same classifier settings)."""
    _scores(simulated_est, "tfidf-structured", "balanced", tmp_path, capsys)
    predicted = pd.read_csv(tmp_path / "tfidf-structured.csv")
    test = load_track(simulated_est, "balanced", "test").set_index("id").loc[predicted["id"]]
    tasks = ("emotion", "transition", "satisfaction")
    out = estbench.scoring.score({t: list(predicted[t]) for t in tasks}, {t: list(predicted[t]) for t in tasks},
                                 consistency=True, session_ids=list(test["session_id"]))
    assert [out[k] for k in ("consistency_satisfaction_emotion", "consistency_transition_emotion",
                             "consistency_session_initial")] == [1.0, 1.0, 1.0]
    train = load_track(simulated_est, "balanced", "train")
    plain = TfidfBaseline().fit(train).predict(test.reset_index())
    assert plain["emotion"] == predicted["emotion"].tolist()


def test_majority_predicts_the_most_frequent_training_label():
    labels = {"emotion": ["Worry", "Anger", "Anger", "Gratitude"],
              "transition": ["Neutral to Negative"] * 3 + ["Negative to Positive"],
              "satisfaction": ["Dissatisfied", "Satisfied", "Satisfied", "Satisfied"]}
    train = pd.DataFrame({"context": [""] * 4, "text": ["a", "b", "c", "d"], **labels})
    predicted = MajorityBaseline().fit(train).predict(train.head(3))
    assert predicted == {"emotion": ["Anger"] * 3, "transition": ["Neutral to Negative"] * 3,
                         "satisfaction": ["Satisfied"] * 3}


def test_tfidf_uses_the_utterance_and_the_context():
    # The utterance alone cannot separate the two classes below; the context can.
    rows = []
    for i in range(40):
        rows.append({"context": "用户：网络断了三天了", "text": "嗯" + "。" * (i % 3), "emotion": "Anger",
                     "transition": "Negative to Negative", "satisfaction": "Dissatisfied"})
        rows.append({"context": "用户：谢谢你帮我修好", "text": "嗯" + "。" * (i % 3), "emotion": "Gratitude",
                     "transition": "Positive to Positive", "satisfaction": "Satisfied"})
    frame = pd.DataFrame(rows)
    predicted = TfidfBaseline().fit(frame).predict(frame)
    assert predicted["emotion"] == frame["emotion"].tolist()


def test_blind_training_labels_are_refused():
    frame = pd.DataFrame({"context": [""], "text": ["x"], "emotion": [None], "transition": ["Neutral to Neutral"],
                          "satisfaction": ["Neutral"]})
    with pytest.raises(ValueError, match="row 0 has no emotion label"):
        MajorityBaseline().fit(frame)


def test_run_writes_an_accepted_file_and_prints_the_metric_table(small_est, tmp_path, capsys):
    from estbench.gold import load_gold
    from estbench.submission import validate_submission

    output = tmp_path / "majority.jsonl"
    scores = run.main(["majority", "--track", "balanced", "--est-dir", str(small_est), "--output", str(output)])
    printed = capsys.readouterr().out
    gold = load_gold(small_est, "balanced", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
    accepted = validate_submission(output, gold)
    test = load_track(small_est, "balanced", "test")
    assert sorted(accepted["id"]) == sorted(test["id"])
    # the printed table holds the scores of the written file against the gold
    expected = estbench.scoring.score({t.value: test[t.value].tolist() for t in TASKS},
                                 {t.value: accepted.set_index("id").loc[test["id"], t.value].tolist() for t in TASKS})
    assert scores == expected
    assert f"| {expected['all_accuracy']:.4f} |" in printed
    assert f"{expected['emotion_macro_f1']:.4f}" in printed


def test_run_scores_a_blind_test_split_against_its_gold_file(small_est, small_est_blind, tmp_path, capsys):
    assert load_track(small_est_blind, "balanced", "test")["emotion"].isna().all()  # labels really are hidden
    open_scores = _scores(small_est, "majority", "balanced", tmp_path, capsys)
    blind_scores = _scores(small_est_blind, "majority", "balanced", tmp_path, capsys)
    assert blind_scores == open_scores


def test_blind_split_without_gold_file_is_a_clear_error(small_est_blind, tmp_path):
    with pytest.raises(FileNotFoundError, match="blind .* no gold file was found at .*nowhere.parquet"):
        load_references(small_est_blind, "balanced", "test", gold=tmp_path / "nowhere.parquet")


def test_missing_dataset_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"no 'train' shards for config 'joint-balanced'.*est_dataset.py build"):
        load_track(tmp_path / "est", "balanced", "train")
    # a folder without shards
    with pytest.raises(SystemExit, match=r"^error: no 'train' shards for config 'joint-balanced'"):
        (tmp_path / "empty").mkdir()
        run.main(["tfidf", "--track", "balanced", "--est-dir", str(tmp_path / "empty"), "--output",
                  str(tmp_path / "p.csv")])
    assert not (tmp_path / "p.csv").exists()


def test_out_of_range_label_id_names_the_row(tmp_path):
    folder = tmp_path / "est" / "joint"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"id": ["a/1", "a/3"], "context": ["", ""], "text": ["x", "y"],
                             "emotion": [0, len(Task.EMOTION.labels)]}), folder / "train-00000-of-00001.parquet")
    with pytest.raises(ValueError, match=r"row 1 \(id 'a/3'\) has emotion id 7"):
        load_split(tmp_path / "est", "joint", "train")


def test_prediction_files_are_written_whole_or_not_at_all(tmp_path):
    table = predictions_frame(["a/1"], {"emotion": ["Worry"], "transition": ["Neutral to Negative"],
                                        "satisfaction": ["Dissatisfied"]})
    path = write_predictions(table, tmp_path / "p.jsonl")
    assert json.loads(path.read_text(encoding="utf-8")) == {"id": "a/1", "emotion": "Worry",
                                                            "transition": "Neutral to Negative",
                                                            "satisfaction": "Dissatisfied"}
    with pytest.raises(ValueError, match="must end in .csv or .jsonl"):
        write_predictions(table, tmp_path / "p.txt")

    class Broken(pd.DataFrame):
        def to_csv(self, *args, **kwargs):
            raise RuntimeError("disk full")

    (tmp_path / "q.csv").write_text("previous", encoding="utf-8")
    with pytest.raises(RuntimeError):
        write_predictions(Broken(table), tmp_path / "q.csv")
    assert (tmp_path / "q.csv").read_text(encoding="utf-8") == "previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p.jsonl", "q.csv"]  # no temp file left behind


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("mode", ["joint", "per-task"])
def test_prompts_state_the_candidates_and_round_trip_the_answer(language, mode):
    gold = {"emotion": "Disappointment", "transition": "Negative to Neutral", "satisfaction": "Neutral"}
    for tasks in tasks_of(mode):
        prompt = build_prompt("客服：您好\n用户：还是没解决", "唉", tasks, language)
        t = template(language)
        for task in TASKS:
            candidates_line = t.candidates.format(task=t.task_names[task],
                                                  labels=t.list_joiner.join(label_names(task, language)))
            assert (candidates_line + "\n" in prompt) == (task in tasks)
        assert "还是没解决" in prompt and prompt.endswith("\n")
        answer = build_completion(gold, tasks, language)
        assert parse_answer(answer, tasks, language) == {task.value: gold[task.value] for task in tasks}


def test_the_zh_labels_template_writes_and_reads_only_chinese_labels():
    gold = {"emotion": "Disappointment", "transition": "Negative to Neutral", "satisfaction": "Neutral"}
    prompt = build_prompt("客服：您好\n用户：还是没解决", "唉", TASKS, "zh-labels")
    answer = build_completion(gold, TASKS, "zh-labels")
    assert answer == "情绪：失望\n情绪状态转移：消极到中性\n满意度：一般"
    assert "担忧、愤怒、辱骂、失望、焦虑、感谢、无情绪" in prompt and "积极到积极" in prompt
    assert not any(label in prompt + answer for task in TASKS for label in task.labels if label != "Neutral")
    assert parse_answer(answer, TASKS, "zh-labels") == gold  # read back as the canonical names
    for task in TASKS:  # the zh template itself is unchanged: canonical names
        assert label_names(task, "zh") == task.labels


def test_context_truncation_keeps_the_most_recent_lines():
    context = "客服：第一句\n用户：第二句话\n客服：第三句"
    assert truncate_context(context, None) == context
    assert truncate_context(context, len(context)) == context
    assert truncate_context(context, 14) == "用户：第二句话\n客服：第三句"
    assert truncate_context(context, 8) == "客服：第三句"
    assert truncate_context(context, 3) == "第三句"  # one line longer than the budget: its end is kept


def test_a_seeded_training_subsample_and_intervals_reach_the_score_record(small_est, tmp_path):
    from estbench.results import read_records

    args = ["tfidf", "--track", "balanced", "--est-dir", str(small_est), "--train-subsample", "40",
            "--bootstrap", "50"]
    first = run.main([*args, "--output", str(tmp_path / "a.csv"), "--results", str(tmp_path / "a.json")])
    again = run.main([*args, "--output", str(tmp_path / "b.csv"), "--results", str(tmp_path / "b.json")])
    assert first == again  # the same 40 rows, the same bootstrap
    (record,) = read_records(tmp_path / "a.json")
    assert record.train_rows == 40 and "--train_subsample 40" in record.description
    low, high = record.intervals["emotion_macro_f1"]
    assert low <= record.scores["emotion_macro_f1"] <= high
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()
