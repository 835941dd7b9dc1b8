"""EST in lm-evaluation-harness: the `lm_eval` command line, offline, on a tiny random causal LM and the small built
corpus. The harness's accuracy and macro-F1 equal the scoring core's on the same predictions, and its
`--predict_only --log_samples` output becomes a leaderboard file with one project command."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("lm_eval")

from est_baselines.harness import predictions_from_lm_eval
from estbench.built import load_track
from estbench.schema import TASK_NAMES
from estbench.scoring import score

ROOT = Path(__file__).resolve().parents[1]
TASKS_DIR = ROOT / "lm_eval_tasks"


@pytest.fixture(scope="module")
def tiny_model(small_est, tmp_path_factory):
    from est_baselines.tiny import save_tiny_model

    frame = load_track(small_est, "full", "train")
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "model",
                           list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))


def _lm_eval(model: Path, est: Path, out: Path, *extra: str) -> None:
    command = [
        sys.executable, "-m", "lm_eval", "run", "--model", "hf",
        "--model_args", f"pretrained={model},dtype=float32", "--device", "cpu", "--batch_size", "16",
        "--include_path", str(TASKS_DIR), "--metadata", json.dumps({"data_dir": str(est)}),
        "--output_path", str(out), "--log_samples", *extra,
    ]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]


def test_harness_numbers_equal_the_scoring_core(tiny_model, small_est, tmp_path):
    _lm_eval(tiny_model, small_est, tmp_path / "out", "--tasks", "est")
    results = json.loads(next((tmp_path / "out").rglob("results_*.json")).read_text(encoding="utf-8"))["results"]
    track, predicted = predictions_from_lm_eval(tmp_path / "out")
    assert track == "balanced"
    gold = load_track(small_est, "balanced", "test").set_index("id").loc[predicted["id"]]
    assert len(predicted) == len(gold) > 0
    core = score({t: list(gold[t]) for t in TASK_NAMES}, {t: list(predicted[t]) for t in TASK_NAMES})
    for task in TASK_NAMES:
        harness = results[f"est_{task}"]
        assert harness["acc,none"] == pytest.approx(core[f"{task}_accuracy"], abs=1e-12)
        assert harness["macro_f1,none"] == pytest.approx(core[f"{task}_macro_f1"], abs=1e-12)
    # the group's mean accuracy is the paper's ALL_A
    assert results["est"]["acc,none"] == pytest.approx(core["all_accuracy"], abs=1e-12)


def test_predict_only_output_becomes_a_leaderboard_file(tiny_model, small_est, tmp_path):
    _lm_eval(tiny_model, small_est, tmp_path / "out", "--tasks", "est_full", "--predict_only", "--limit", "12")
    output = tmp_path / "predictions.csv"
    done = subprocess.run([sys.executable, str(ROOT / "baselines" / "from_lm_eval.py"), str(tmp_path / "out"),
                           "--output", str(output)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "12 rows (full track)" in done.stdout
    lines = output.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,emotion,transition,satisfaction" and len(lines) == 13
    test_ids = set(load_track(small_est, "full", "test")["id"])
    assert {line.split(",")[0] for line in lines[1:]} <= test_ids


def test_converter_refuses_an_incomplete_run(tmp_path):
    (tmp_path / "samples_est_emotion_2026-01-01T00-00-00.jsonl").write_text("", encoding="utf-8")
    with pytest.raises(ValueError, match="no samples_\\*.jsonl for est_transition, est_satisfaction"):
        predictions_from_lm_eval(tmp_path)
    for task in ("transition", "satisfaction"):
        (tmp_path / f"samples_est_{task}_2026-01-01T00-00-00.jsonl").write_text("{}\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"samples_est_transition_.*\.jsonl:1: not an lm-eval multiple-choice"):
        predictions_from_lm_eval(tmp_path)
