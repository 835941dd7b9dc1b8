"""The encoder baseline on a tiny random BERT built from a config in the test (CPU, offline): the loss falls, the
predictions are valid leaderboard labels on the rows they belong to, run.py drives it from the recipe YAML."""

from __future__ import annotations

import json

import pytest
import torch

from est_baselines import runner
from est_baselines.data import load_track
from est_baselines.encoder import RECIPE, EncoderArguments, EncoderBaseline
from estbench.schema import TASKS


@pytest.fixture(scope="module")
def tiny_bert(small_est, tmp_path_factory):
    """A 2-layer, 32-wide random BERT and a character WordPiece tokenizer over the corpus' characters."""
    from transformers import BertConfig, BertModel, BertTokenizerFast

    frame = load_track(small_est, "balanced", "train")
    chars = sorted(set("".join(frame["text"]) + "".join(frame["context"].fillna("")) + "".join(frame["anchor"]) + " |"))
    folder = tmp_path_factory.mktemp("bert")
    (folder / "vocab.txt").write_text("\n".join(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]) + "\n",
                                      encoding="utf-8")
    tokenizer = BertTokenizerFast(vocab_file=str(folder / "vocab.txt"), tokenize_chinese_chars=True)
    torch.manual_seed(0)
    model = BertModel(BertConfig(vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2,
                                 num_attention_heads=2, intermediate_size=64, max_position_embeddings=256))
    model.save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def test_the_loss_falls_and_predictions_are_valid(tiny_bert, small_est):
    train = load_track(small_est, "balanced", "train")
    test = load_track(small_est, "balanced", "test")
    args = EncoderArguments.from_recipe(model_name_or_path=str(tiny_bert), epochs=3, batch_size=16,
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
