"""The evaluate module metrics/est_metric: offline loading per configuration, its doctests, bad input, the Space
folder assembled by metrics/deploy.py, and the metric card."""

import doctest
import inspect
import json
import subprocess
import sys
from pathlib import Path

import evaluate
import numpy as np
import pandas as pd
import pytest
import yaml

from estbench.schema import TASK_NAMES, Task
from estbench.scoring import score, score_dialogue_satisfaction
from estbench.spaces import METRIC_CORE, single_file

ROOT = Path(__file__).resolve().parents[1]
MODULE = ROOT / "metrics" / "est_metric"
CONFIGS = (*TASK_NAMES, "joint")


def _load(config, path="metrics/est_metric"):
    return evaluate.load(path, config)


@pytest.fixture(autouse=True)
def _project_root(monkeypatch):
    # evaluate.load("metrics/est_metric") is documented relative to the project root
    monkeypatch.chdir(ROOT)


def _random_rows(seed, n=400):
    rng = np.random.default_rng(seed)
    refs = {t.value: [t.labels[i] for i in rng.integers(0, len(t.labels), n)] for t in Task}
    preds = {t: [r if rng.random() < 0.6 else Task(t).labels[0] for r in refs[t]] for t in TASK_NAMES}
    return refs, preds


def _records(columns):
    return pd.DataFrame(columns)[list(TASK_NAMES)].to_dict("records")


def test_kwargs_description_doctests():
    metric = _load("emotion")
    module = inspect.getmodule(type(metric))
    test = doctest.DocTestParser().get_doctest(
        module._KWARGS_DESCRIPTION, {"evaluate": evaluate}, "est_metric._KWARGS_DESCRIPTION", module.__file__, 0
    )
    runner = doctest.DocTestRunner()
    runner.run(test)
    assert test.examples and runner.summarize().failed == 0


@pytest.mark.parametrize("task", TASK_NAMES)
def test_single_task_configs_equal_the_core(task):
    refs, preds = _random_rows(1)
    metric = _load(task)
    expected = score({task: refs[task]}, {task: preds[task]}, per_class=True, confusion=True)
    assert metric.compute(references=refs[task], predictions=preds[task], per_class=True, confusion=True) == expected
    ids = lambda names: [Task(task).labels.index(v) for v in names]  # noqa: E731
    extras = dict(per_class=True, confusion=True)
    assert metric.compute(references=ids(refs[task]), predictions=ids(preds[task]), **extras) == expected
    assert metric.compute(references=ids(refs[task]), predictions=preds[task], **extras) == expected


def test_joint_config_equals_the_core_including_bootstrap():
    refs, preds = _random_rows(2)
    sessions = [f"s{i // 8}" for i in range(len(refs["emotion"]))]
    metric = _load("joint")
    kwargs = dict(per_class=True, bootstrap=50, seed=3, session_ids=sessions)
    out = metric.compute(references=_records(refs), predictions=_records(preds), **kwargs)
    assert out == score(refs, preds, **kwargs)
    assert {"all_accuracy", "exact_match", "exact_match_ci"} <= set(out)


def test_add_batch_streams_like_one_call():
    refs, preds = _random_rows(3)
    metric = _load("emotion")
    refs, preds = refs["emotion"], preds["emotion"]
    for start in range(0, 400, 150):
        metric.add_batch(references=refs[start : start + 150], predictions=preds[start : start + 150])
    metric.add(reference=refs[0], prediction=preds[0])
    expected = score({"emotion": refs + refs[:1]}, {"emotion": preds + preds[:1]})
    assert metric.compute() == expected


@pytest.mark.parametrize("config", ["sentiment", "Emotion"])
def test_unknown_config_is_a_clear_error(config):
    with pytest.raises(ValueError, match=r"unknown EST metric configuration .*: choose one of emotion, transition, "):
        evaluate.load("metrics/est_metric", config)


def test_no_config_is_the_joint_config_and_says_so():
    with pytest.warns(UserWarning, match="no EST metric configuration given: using 'joint'") as caught:
        metric = evaluate.load("metrics/est_metric")
    said = str(caught[0].message)
    assert all(config in said for config in ("emotion", "transition", "satisfaction", "dialogue_satisfaction"))
    refs, preds = _random_rows(4)
    assert metric.config_name == "joint"
    assert metric.compute(references=_records(refs), predictions=_records(preds)) == score(refs, preds)


@pytest.mark.parametrize(
    "config, refs, preds, message",
    [
        ("emotion", ["Anger", 1], ["Anger", "Anger"], r"references mix label names and ClassLabel ids.*position 1"),
        ("emotion", [0, "Anger"], [0, 1], r"references mix label names and ClassLabel ids.*position 1"),
        ("emotion", ["Anger", "Anger"], ["Anger", None], r"predictions: missing value \(None\) at position 1"),
        ("satisfaction", [0, 3], [0, 1], r"ClassLabel id 3 at position 1 is outside 0..2"),
        ("transition", ["Neutral to Happy"], [0], r"unknown transition label 'Neutral to Happy' at position 0"),
        ("emotion", ["Anger"], ["Anger", "Anger"], r"2 predictions for 1 references"),
        ("emotion", [], [], r"emotion references are empty"),
        ("joint", [{"emotion": "Anger"}], [{"emotion": "Anger"}],
         r"joint references: position 0 .*expected a dict with"),
    ],
)
def test_bad_input_through_evaluate(config, refs, preds, message):
    with pytest.raises(ValueError, match=message):
        _load(config).compute(references=refs, predictions=preds)


def test_loads_from_another_working_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = evaluate.load(str(MODULE), "satisfaction").compute(references=[0, 1, 2], predictions=[0, 1, 1])
    assert out["satisfaction_accuracy"] == pytest.approx(2 / 3)


def _deploy(*args):
    return subprocess.run([sys.executable, str(ROOT / "metrics" / "deploy.py"), *map(str, args)], capture_output=True,
                          text=True)


def test_deploy_folder_is_self_contained_and_loads(tmp_path, isolated_python):
    out = tmp_path / "spaces" / "est_metric"
    assert _deploy("--out", out).returncode == 0
    files = sorted(p.name for p in out.iterdir())
    assert files == sorted(["est_metric.py", "README.md", "app.py", "requirements.txt", "est_scoring.py"])
    assert not any(p.is_symlink() for p in out.rglob("*"))
    assert {oct(p.stat().st_mode & 0o777) for p in out.rglob("*") if p.is_file()} == {"0o644"}
    assert (out / "est_scoring.py").read_text(encoding="utf-8") == single_file()  # generated from estbench
    again = _deploy("--out", out)
    assert again.returncode == 1 and again.stderr.strip() == (
        "error: est_metric exists already; pass --overwrite to replace it")
    (out / "stale.txt").write_text("from an older deploy")
    assert _deploy("--out", out, "--overwrite").returncode == 0
    assert sorted(p.name for p in out.iterdir()) == files  # replaced as a whole
    assert sorted(p.name for p in out.parent.iterdir()) == ["est_metric"]  # no staging or backup folder left
    assert _deploy("--out", tmp_path / "other", "--push", "org/not_est_metric").returncode == 2
    assert not (tmp_path / "other").exists()

    # Load it as a Hub user does: evaluate.load from ANOTHER folder, in a Python where estbench does not import and
    # nothing but evaluate's own stack is installed (evaluate copies the module and what it imports relatively);
    # then as its Space does (app.py: the module file from inside the folder). Every config scores like estbench.
    refs, preds = _random_rows(4)
    flags, env = isolated_python
    env = {**env, "HF_MODULES_CACHE": str(tmp_path / "modules")}
    code = """if True:
        import json, sys, evaluate
        try:
            import estbench
        except ImportError:
            pass
        else:
            sys.exit("estbench is importable")
        refs, preds = json.loads(sys.argv[2]), json.loads(sys.argv[3])
        out = {}
        for config in ("joint", "emotion", "transition", "satisfaction", "dialogue_satisfaction"):
            metric = evaluate.load(sys.argv[1], config)
            task = "satisfaction" if config == "dialogue_satisfaction" else config
            if config == "joint":
                r = [dict(zip(refs, row)) for row in zip(*refs.values())]
                p = [dict(zip(preds, row)) for row in zip(*preds.values())]
            else:
                r, p = refs[task], preds[task]
            out[config] = metric.compute(references=r, predictions=p)
        print(json.dumps(out))
    """
    expected = {config: score({t: refs[t] for t in tasks}, {t: preds[t] for t in tasks})
                for config, tasks in (("joint", TASK_NAMES), *((t, (t,)) for t in TASK_NAMES))}
    expected["dialogue_satisfaction"] = score_dialogue_satisfaction(refs["satisfaction"], preds["satisfaction"])
    for where, path in ((tmp_path, str(out)), (out, "est_metric.py")):
        run = subprocess.run([sys.executable, *flags, "-c", code, path, json.dumps(refs), json.dumps(preds)],
                             cwd=where, env=env, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-3000:]
        loaded = json.loads(run.stdout.strip().splitlines()[-1])
        assert loaded.keys() == expected.keys()
        for config, scores in expected.items():
            assert loaded[config] == pytest.approx(scores), config


def test_the_single_file_core_is_estbench_verbatim():
    """Every function, class and constant of the generated core is the estbench module's own statement, unchanged;
    only docstrings, the joining relative imports and the rest of paper.py are left out."""
    import ast

    generated = {ast.unparse(node) for node in ast.parse(single_file()).body}
    for name, only in METRIC_CORE:
        tree = ast.parse((ROOT / "estbench" / f"{name}.py").read_text(encoding="utf-8"))
        for index, node in enumerate(tree.body):
            relative = isinstance(node, ast.ImportFrom) and (node.level or node.module == "__future__")
            docstring = index == 0 and isinstance(node, ast.Expr)
            wanted = only is None or any(isinstance(n, ast.Name) and n.id in only
                                         for n in ast.walk(node) if isinstance(node, ast.Assign))
            if not (relative or docstring) and wanted:
                assert ast.unparse(node) in generated, (name, ast.unparse(node)[:80])
    with pytest.raises(ValueError, match="defined by both"):
        single_file((("scoring", None), ("scoring", None)))


def test_the_metric_module_folder_holds_no_copy():
    """The module folder holds the module, its app and the scoring core's re-export: nothing that copies estbench."""
    import ast

    assert sorted(p.name for p in MODULE.iterdir() if p.suffix == ".py") == ["app.py", "est_metric.py",
                                                                             "est_scoring.py"]
    assert not any(p.is_symlink() for p in MODULE.iterdir())
    shim = ast.parse((MODULE / "est_scoring.py").read_text(encoding="utf-8")).body
    assert all(isinstance(node, ast.ImportFrom) and node.module.startswith("estbench.") for node in shim[1:-1])
    imports = [node for node in ast.walk(ast.parse((MODULE / "est_metric.py").read_text(encoding="utf-8")))
               if isinstance(node, (ast.Import, ast.ImportFrom))]
    assert [node.module for node in imports if isinstance(node, ast.ImportFrom) and node.level] == ["est_scoring"]
    assert not any("estbench" in ast.unparse(node) for node in imports)


@pytest.mark.filterwarnings("ignore:The inplace keyword")  # inside evaluate's own gradio helper
def test_space_widget_input_parsing_reaches_compute():
    # The Space runs evaluate's launch_gradio_widget (gradio 3, not installed here); its Dataframe -> compute parsing
    # is plain Python, so check that the joint inputs typed as JSON cells arrive as the module expects.
    from evaluate.utils.gradio import infer_gradio_input_types, parse_gradio_data

    metric = _load("joint")
    names, types = zip(*metric.features[0].items())
    input_types = infer_gradio_input_types(types)
    row = {"emotion": "Anger", "transition": "Neutral to Negative", "satisfaction": "Dissatisfied"}
    data = pd.DataFrame({name: [json.dumps(row, ensure_ascii=False)] for name in names})
    assert metric.compute(**parse_gradio_data(data, input_types))["exact_match"] == 1.0


def test_card_has_space_yaml_evaluate_sections_and_every_label():
    text = (MODULE / "README.md").read_text(encoding="utf-8")
    _, front_matter, body = text.split("---\n", 2)
    meta = yaml.safe_load(front_matter)
    assert meta["sdk"] == "gradio" and meta["app_file"] == "app.py" and "evaluate" in meta["tags"]
    for section in ("## Metric Description", "## How to Use", "### Inputs", "### Output Values",
                    "#### Values from Popular Papers", "### Examples", "## Limitations and Bias", "## Citation"):
        assert section in body, section
    for label in Task.EMOTION.labels + Task.SATISFACTION.labels:
        assert label in body, label
    assert "0.7208" in body and "mean of the per-class F1" in body
    app = (MODULE / "app.py").read_text().strip().splitlines()
    assert app[-2:] == ['module = evaluate.load("est_metric.py", "joint")', "launch_gradio_widget(module)"]


def test_dialogue_satisfaction_config_scores_a_built_sessions_config(tmp_path, monkeypatch):
    from sklearn.metrics import accuracy_score, precision_recall_fscore_support

    import est_dataset
    from estbench.testing.standin import write_jsonl

    labels = ["Satisfied", "Neutral", "Dissatisfied"]
    write_jsonl(tmp_path / "raw" / "a.jsonl", [
        {"session_id": f"s{i}", "satisfaction": labels[i % 3],
         "turns": [{"role": "user", "text": "宽带又断了", "emotion": "Anger"}]} for i in range(60)])
    est_dataset.build(tmp_path / "raw", tmp_path / "est", progress=False)
    monkeypatch.chdir(tmp_path)
    sessions = __import__("datasets").load_dataset("est", "sessions", split="train")
    gold = list(sessions["dialogue_satisfaction"])
    # a system that predicts the satisfaction of the last user utterance (always Dissatisfied here)
    guess = [2] * len(gold)
    out = _load("dialogue_satisfaction", path=str(ROOT / "metrics" / "est_metric")).compute(
        references=gold, predictions=guess)
    p, r, f, _ = precision_recall_fscore_support(gold, guess, average="macro", labels=sorted(set(gold)),
                                                 zero_division=0)
    assert out == pytest.approx({"dialogue_satisfaction_accuracy": accuracy_score(gold, guess),
                                 "dialogue_satisfaction_macro_precision": p, "dialogue_satisfaction_macro_recall": r,
                                 "dialogue_satisfaction_macro_f1": f})
