"""The encoder baseline on a tiny random BERT built from a config in the test (CPU, offline): the loss falls, the
predictions are valid leaderboard labels on the rows they belong to, run.py drives it from the recipe YAML."""

from __future__ import annotations

import json

import pytest

from est_baselines import runner
from est_baselines.encoder import RECIPE, EncoderArguments, EncoderBaseline, _segments
from est_baselines.tiny import save_char_bert
from estbench.built import load_track
from estbench.schema import TASKS


@pytest.fixture(scope="module")
def tiny_bert(small_est, tmp_path_factory):
    """A 2-layer, 32-wide random BERT and a character WordPiece tokenizer over the corpus' characters."""
    frame = load_track(small_est, "balanced", "train")
    texts = [str(v) for column in ("text", "context", "anchor") for v in frame[column].fillna("")]
    texts += ["我要投诉", "宽带断了", "客服：您好用户：还是没网|"]  # what the truncation test writes
    return save_char_bert(tmp_path_factory.mktemp("bert"), texts, hidden_size=32, layers=2, max_positions=256)


def test_the_loss_falls_and_predictions_are_valid(tiny_bert, small_est):
    train = load_track(small_est, "balanced", "train")
    test = load_track(small_est, "balanced", "test")
    args = EncoderArguments.from_recipe(model_name_or_path=str(tiny_bert), epochs=6, batch_size=16,
                                        learning_rate=3e-3, max_length=96, device="cpu")
    model = EncoderBaseline(args).fit(train)
    first, last = sum(model.losses_[:3]) / 3, sum(model.losses_[-3:]) / 3
    assert last < first * 0.8, model.losses_
    predicted = model.predict(test)
    for task in TASKS:
        assert len(predicted[task.value]) == len(test) and set(predicted[task.value]) <= set(task.labels)
    # a row's prediction does not depend on its batch neighbours
    model.args.batch_size = 1
    singles = model.predict(test.head(5))
    assert {t: v[:5] for t, v in predicted.items()} == singles


def test_run_py_drives_the_encoder_from_the_recipe(tiny_bert, small_est, tmp_path, capsys):
    scores = runner.main(["encoder", "--track", "balanced", "--est-dir", str(small_est), "--model", str(tiny_bert),
                          "--output", str(tmp_path / "bert.csv"), "--bootstrap", "0", "--encoder-epochs", "0.2",
                          "--encoder-max-length", "64", "--encoder-device", "cpu",
                          "--results", str(tmp_path / "bert.json")])
    said = capsys.readouterr().out
    assert "encoder " in said and "'epochs': 0.2" in said and "'learning_rate': 2e-05" in said  # recipe + override
    lines = (tmp_path / "bert.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,emotion,transition,satisfaction"
    assert len(lines) == 1 + len(load_track(small_est, "balanced", "test"))
    assert json.loads((tmp_path / "bert.json").read_text())["scores"] == scores


def test_the_recipe_refuses_unknown_keys(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text(RECIPE.read_text() + "learning_rat: 1\n")
    with pytest.raises(ValueError, match=r"unknown keys \['learning_rat'\]"):
        EncoderArguments.from_recipe(bad)


def test_the_character_vocabulary_covers_latin_words_and_numbers(tmp_path):
    from transformers import AutoTokenizer

    folder = save_char_bert(tmp_path / "bert", ["我的5G套餐 [num] 元", "ok"], hidden_size=32, layers=1)
    tokenizer = AutoTokenizer.from_pretrained(folder)
    tokens = tokenizer.tokenize("5G套餐[num]元 ok")
    assert "[UNK]" not in tokens and tokens == ["5", "##G", "套", "餐", "[", "n", "##u", "##m", "]", "元", "o", "##k"]
    assert tokenizer.tokenize("猫") == ["[UNK]"]  # a character the texts never had


def test_the_from_scratch_recipe_needs_a_model_and_names_the_run(tiny_bert, small_est, tmp_path, capsys):
    recipe = RECIPE.with_name("encoder-from-scratch.yaml")
    common = ["encoder", "--track", "balanced", "--est-dir", str(small_est), "--encoder-recipe", str(recipe),
              "--output", str(tmp_path / "bert.csv"), "--bootstrap", "0"]
    with pytest.raises(SystemExit, match="encoder-from-scratch.yaml names no checkpoint: give one with --model_name"):
        runner.main(common)
    runner.main([*common, "--model", str(tiny_bert), "--encoder-epochs", "0.1", "--encoder-device", "cpu",
                 "--name", "encoder-from-scratch", "--results", str(tmp_path / "bert.json")])
    record = json.loads((tmp_path / "bert.json").read_text())
    assert record["model"] == "encoder-from-scratch"
    assert record["description"] == (f"python baselines/run.py encoder --track balanced --model_name_or_path "
                                     f"{tiny_bert.name} --encoder_recipe baselines/configs/encoder-from-scratch.yaml")


def test_truncation_drops_the_oldest_context_and_keeps_utterance_and_anchor(tiny_bert):
    import pandas as pd

    frame = pd.DataFrame({"text": ["我要投诉"], "anchor": ["宽带断了"],
                          "context": ["客服：您好" * 30 + "用户：还是没网"]})
    model = EncoderBaseline(EncoderArguments.from_recipe(model_name_or_path=str(tiny_bert), max_length=40,
                                                         context_chars=1000, device="cpu"), progress=False)
    model._build()
    inputs = model._batch(*_segments(frame, 1000))
    tokens = "".join(model.tokenizer.convert_ids_to_tokens(inputs["input_ids"][0])).replace("##", "")
    assert len(inputs["input_ids"][0]) == 40
    assert tokens.startswith("[CLS]我要投诉[SEP]") and tokens.endswith("用户：还是没网|宽带断了[SEP]"), tokens
