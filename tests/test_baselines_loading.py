"""Loading rules of the LLM baselines (est_baselines.loading): a tiny custom-code model written here, loaded only
with trust_remote_code, trains with the default all-linear LoRA targets (PEFT has no table for its architecture)
and predicts; a tokenizer without an end-of-sequence token gets the config's; --save_merged writes a plain model
that predicts the same; the recipe YAMLs reach the trainer with the paper's values; predictions land on their own
rows whatever the batching."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest
import torch

from est_baselines import prediction
from est_baselines.loading import ALL_LINEAR, ensure_special_tokens, model_kwargs
from est_baselines.lora import make_parser, train
from est_baselines.prediction import load_for_prediction, predict_frame, predict_rows, save_merged
from est_baselines.tiny import char_tokenizer, tiny_llama
from estbench.built import load_track
from estbench.prompts import PromptSettings
from estbench.schema import Task

ROOT = Path(__file__).resolve().parents[1]

CONFIGURATION = '''
from transformers import LlamaConfig


class EstTinyConfig(LlamaConfig):
    model_type = "est_tiny_custom"
'''
MODELING = '''
from transformers import LlamaForCausalLM

from .configuration_est_tiny import EstTinyConfig


class EstTinyForCausalLM(LlamaForCausalLM):
    config_class = EstTinyConfig
'''


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def custom_model_dir(small_est, tmp_path_factory):
    """A model folder whose code ships with it (auto_map), like Baichuan2 or Qwen v1, and whose tokenizer has no
    end-of-sequence token (like Qwen v1's): only the model config names one."""
    out = tmp_path_factory.mktemp("custom") / "model"
    frame = load_track(small_est, "balanced", "train")
    tokenizer = char_tokenizer(list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))
    base = tiny_llama(tokenizer, hidden_size=32, layers=1)
    base.config.save_pretrained(out)
    config = json.loads((out / "config.json").read_text())
    config.update(model_type="est_tiny_custom", architectures=["EstTinyForCausalLM"],
                  auto_map={"AutoConfig": "configuration_est_tiny.EstTinyConfig",
                            "AutoModelForCausalLM": "modeling_est_tiny.EstTinyForCausalLM"})
    (out / "config.json").write_text(json.dumps(config))
    (out / "configuration_est_tiny.py").write_text(textwrap.dedent(CONFIGURATION))
    (out / "modeling_est_tiny.py").write_text(textwrap.dedent(MODELING))
    base.save_pretrained(out, safe_serialization=True)
    (out / "config.json").write_text(json.dumps(config))  # save_pretrained rewrote it as a Llama config
    tokenizer.eos_token = None
    tokenizer.save_pretrained(out)
    return out


def test_custom_code_that_fails_to_load_points_to_the_native_conversion(custom_model_dir, tmp_path):
    import shutil

    broken = tmp_path / "broken"
    shutil.copytree(custom_model_dir, broken)
    (broken / "modeling_est_tiny.py").write_text("from transformers.removed_in_v5 import Gone\n")
    with pytest.raises(ImportError) as raised:  # the error keeps its type; the note says what to do
        load_for_prediction(broken, trust_remote_code=True)
    assert "python -m est_baselines.native SOURCE OUT" in "\n".join(getattr(raised.value, "__notes__", []))


def test_custom_code_needs_trust_remote_code(custom_model_dir):
    from transformers import AutoModelForCausalLM

    with pytest.raises(ValueError, match="trust_remote_code"):
        AutoModelForCausalLM.from_pretrained(custom_model_dir, **model_kwargs(dtype=None, trust_remote_code=False))
    model = AutoModelForCausalLM.from_pretrained(custom_model_dir, **model_kwargs(dtype=None, trust_remote_code=True))
    assert type(model).__name__ == "EstTinyForCausalLM"


def test_custom_code_model_trains_with_all_linear_targets_and_predicts(custom_model_dir, small_est, tmp_path):
    out = tmp_path / "adapter"
    est_args, training_args, model_args, loading_args = make_parser().parse_args_and_config([
        "--model_name_or_path", str(custom_model_dir), "--trust_remote_code", "true", "--est_dir", str(small_est),
        "--output_dir", str(out), "--use_peft", "--lora_r", "2", "--max_steps", "2", "--save_strategy", "no",
        "--per_device_train_batch_size", "4", "--gradient_checkpointing", "false", "--report_to", "none",
        "--disable_tqdm", "true", "--max_context_chars", "100",
    ])
    assert training_args.trust_remote_code and model_args.lora_target_modules is None
    train(est_args, training_args, model_args, loading_args=loading_args)
    adapter = json.loads((out / "adapter_config.json").read_text())
    targeted = {name.rsplit(".", 1)[-1] for name in adapter["target_modules"]}
    assert targeted >= {"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"}  # all linear
    model, tokenizer, settings = load_for_prediction(out, trust_remote_code=True)
    assert tokenizer.eos_token == "</s>"  # taken from the config: the tokenizer had none
    frame = load_track(small_est, "balanced", "test").head(3)
    assert settings == PromptSettings(max_context_chars=100)
    table = predict_frame(model, tokenizer, frame, settings=settings, batch_size=2, progress=False)
    assert len(table) == 3 and all(label in Task.EMOTION.labels for label in table["emotion"])


def test_missing_eos_without_a_config_eos_is_a_clear_error():
    tokenizer = char_tokenizer(["x"])
    tokenizer.eos_token = None

    class Config:
        eos_token_id = None

    with pytest.raises(ValueError, match="no end-of-sequence token"):
        ensure_special_tokens(tokenizer, Config())
    Config.eos_token_id = [tokenizer.convert_tokens_to_ids("</s>"), 7]
    assert ensure_special_tokens(tokenizer, Config()).eos_token == "</s>"


def test_quantization_and_device_map_reach_from_pretrained():
    plain = model_kwargs(dtype="float32", trust_remote_code=True, device_map="auto")
    assert plain["dtype"] is torch.float32 and plain["trust_remote_code"] and plain["device_map"] == "auto"
    assert plain["quantization_config"] is None
    pytest.importorskip("bitsandbytes")  # not installed on CPU machines; the arguments' path is checked above
    four = model_kwargs(dtype="bfloat16", trust_remote_code=False, load_in_4bit=True)
    assert four["quantization_config"].load_in_4bit and four["device_map"] == {"": 0}


def test_save_merged_writes_a_plain_model_that_predicts_the_same(custom_model_dir, small_est, tmp_path):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    base = AutoModelForCausalLM.from_pretrained(custom_model_dir, trust_remote_code=True)
    tokenizer = ensure_special_tokens(AutoTokenizer.from_pretrained(custom_model_dir), base.config)
    tokenizer.padding_side = "left"
    out = save_merged(base, tokenizer, PromptSettings(max_context_chars=100), tmp_path / "merged")
    assert not (out / "adapter_config.json").exists() and (out / "est_prompt.json").exists()
    reloaded, reloaded_tokenizer, settings = load_for_prediction(out, trust_remote_code=True)
    frame = load_track(small_est, "balanced", "test").head(4)
    kwargs = dict(batch_size=2, progress=False, settings=PromptSettings(max_context_chars=100))
    base.eval()
    assert predict_frame(reloaded, reloaded_tokenizer, frame, **kwargs).equals(
        predict_frame(base, tokenizer, frame, **kwargs))
    assert settings == PromptSettings(max_context_chars=100)


@pytest.mark.parametrize("recipe, mode", [("paper.yaml", "joint"), ("paper-per-task.yaml", "per-task")])
def test_recipe_yamls_reach_the_trainer_with_the_paper_values(recipe, mode):
    est_args, training_args, model_args, _ = make_parser().parse_args_and_config(
        ["--config", str(ROOT / "baselines" / "configs" / recipe), "--model_name_or_path", "m"])
    assert (model_args.lora_r, model_args.lora_dropout, training_args.learning_rate) == (4, 0.1, 1e-5)
    assert (training_args.per_device_train_batch_size, training_args.gradient_accumulation_steps) == (1, 4)
    assert (training_args.logging_steps, training_args.save_steps) == (5, 100)
    assert training_args.gradient_checkpointing  # what lets a 9B model train on a 24 GB card
    assert est_args.prompt_mode == mode and training_args.completion_only_loss
    assert model_args.lora_target_modules in (None, ALL_LINEAR)  # the trainer then targets every linear layer


def test_predictions_land_on_their_own_rows_under_any_batching(monkeypatch):
    """A stand-in method that answers from the utterance text alone: any row mix-up inside a batch shows."""
    def answer(text: str, task: Task) -> str:
        return task.labels[sum(map(ord, text)) % len(task.labels)]

    def by_text(model, tokenizer, contexts, texts, **kwargs):
        return {task.value: [answer(t, task) for t in texts] for task in Task}

    monkeypatch.setitem(prediction.METHODS, "constrained", by_text)
    texts = [f"utterance {i} " + "很" * ((i * 7) % 13) for i in range(37)]  # lengths vary: batches are re-sorted
    contexts = ["上文" * ((i * 5) % 11) for i in range(37)]
    for batch_size in (1, 4, 16, 64):
        out = predict_rows(None, None, contexts, texts, batch_size=batch_size, progress=False)
        for task in Task:
            assert out[task.value] == [answer(t, task) for t in texts], (batch_size, task)


def test_answers_that_would_be_cut_are_refused_before_the_first_step(small_est, tmp_path):
    from est_baselines.lora import build_trainer, check_lengths, prompt_completion_dataset

    frame = load_track(small_est, "balanced", "train")
    tokenizer = char_tokenizer(list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))
    model = tiny_llama(tokenizer, hidden_size=32, layers=1)
    argv = ["--est_dir", str(small_est), "--output_dir", str(tmp_path / "out"), "--max_length", "64",
            "--report_to", "none", "--max_steps", "1"]
    est_args, training_args, model_args, _ = make_parser().parse_args_and_config(argv)
    with pytest.raises(ValueError, match=rf"{len(frame):,} of {len(frame):,} training examples are longer than "
                                         r"--max_length 64 tokens .*answers would be cut"):
        build_trainer(est_args, training_args, model_args, model, tokenizer)
    est_args, training_args, model_args, _ = make_parser().parse_args_and_config([*argv, "--allow_truncation", "true"])
    assert build_trainer(est_args, training_args, model_args, model, tokenizer) is not None
    # the shipped recipes fit their token budget (one token per character here, more than Chinese tokenizers use)
    for recipe in ("paper.yaml", "paper-per-task.yaml", "cpu-smoke.yaml"):
        est_args, training_args, model_args, _ = make_parser().parse_args_and_config(
            ["--config", str(ROOT / "baselines" / "configs" / recipe), "--model_name_or_path", "m",
             "--est_dir", str(small_est), "--output_dir", str(tmp_path / recipe)])
        dataset = prompt_completion_dataset(frame, est_args.prompt_settings())
        assert check_lengths(dataset, tokenizer, training_args.max_length, False) == 0, recipe


def test_a_model_with_the_older_cache_api_predicts_the_same(small_est):
    """Custom-code models (Baichuan2, Qwen v1) take `past_key_values`, not `cache`: the decoder passes the cache
    under the name the model's forward has, and the labels do not change."""
    from transformers import LlamaForCausalLM

    from est_baselines.label_scoring import _cache_argument

    class OlderApi(LlamaForCausalLM):
        def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None,
                    use_cache=None, logits_to_keep=0, **kwargs):
            return super().forward(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                                   cache=past_key_values, use_cache=use_cache, logits_to_keep=logits_to_keep)

    frame = load_track(small_est, "balanced", "test").head(6)
    tokenizer = char_tokenizer(list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))
    current = tiny_llama(tokenizer, hidden_size=32, layers=1).eval()
    older = OlderApi(current.config).eval()
    older.load_state_dict(current.state_dict())
    assert (_cache_argument(type(current)), _cache_argument(OlderApi)) == ("cache", "past_key_values")
    for method in ("constrained", "score"):
        kwargs = dict(batch_size=3, progress=False, settings=PromptSettings(max_context_chars=100), method=method)
        expected = predict_frame(current, tokenizer, frame, **kwargs)
        assert predict_frame(older, tokenizer, frame, **kwargs).equals(expected)


def test_the_paper_effective_batch_holds_under_any_process_count():
    from est_baselines.lora import accumulation_steps

    assert [accumulation_steps(4, 1, n) for n in (1, 2, 4)] == [4, 2, 1]
    with pytest.raises(ValueError, match="not a multiple"):
        accumulation_steps(4, 1, 3)
    est_args, training_args, _, _ = make_parser().parse_args_and_config(
        ["--config", str(ROOT / "baselines" / "configs" / "paper.yaml"), "--model_name_or_path", "m"])
    assert est_args.effective_batch_size == 4 and training_args.gradient_accumulation_steps == 4


def test_effective_batch_sets_the_trainers_accumulation(small_est, tmp_path):
    from est_baselines.lora import build_trainer

    frame = load_track(small_est, "balanced", "train")
    tokenizer = char_tokenizer(list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))
    est_args, training_args, model_args, _ = make_parser().parse_args_and_config([
        "--est_dir", str(small_est), "--output_dir", str(tmp_path / "out"), "--report_to", "none",
        "--effective_batch_size", "4", "--per_device_train_batch_size", "2", "--gradient_accumulation_steps", "4"])
    trainer = build_trainer(est_args, training_args, model_args, tiny_llama(tokenizer, hidden_size=32, layers=1),
                            tokenizer)
    assert trainer.args.gradient_accumulation_steps == 2  # 4 = 2 per device x 1 process x 2


def test_decoder_compatibility_and_memory_are_checked_before_the_first_step(small_est, tmp_path, monkeypatch,
                                                                              capsys):
    from est_baselines import lora

    frame = load_track(small_est, "balanced", "train")
    tokenizer = char_tokenizer(list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))
    model = tiny_llama(tokenizer, hidden_size=32, layers=1)
    est_args, training_args, model_args, _ = make_parser().parse_args_and_config(
        ["--est_dir", str(small_est), "--output_dir", str(tmp_path / "out"), "--report_to", "none"])
    lora.build_trainer(est_args, training_args, model_args, model, tokenizer)
    said = capsys.readouterr().err
    params = sum(p.numel() for p in model.parameters())
    assert f"model: {params / 1e9:.3f} B parameters" in said and "GiB" in said

    def incompatible(tokenizer, tasks, settings):
        raise ValueError("the answer ('Anger',) is not distinguishable from another once tokenized")

    monkeypatch.setattr(lora, "answer_trie", incompatible)
    with pytest.raises(ValueError, match="not distinguishable"):
        lora.build_trainer(est_args, training_args, model_args, model, tokenizer)


@pytest.mark.parametrize("method", ["constrained", "score"])
def test_chinese_label_names_train_and_decode_to_canonical_labels(small_est, method):
    from est_baselines.lora import prompt_completion_dataset

    frame = load_track(small_est, "balanced", "test").head(5)
    tokenizer = char_tokenizer(list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))
    model = tiny_llama(tokenizer, hidden_size=32, layers=1).eval()
    dataset = prompt_completion_dataset(frame, PromptSettings(prompt_language="zh-labels", max_context_chars=100))
    assert all(answer.startswith("情绪：") and "Anger" not in answer for answer in dataset["completion"])
    for mode in ("joint", "per-task"):
        out = predict_rows(model, tokenizer, frame["context"].fillna("").tolist(), frame["text"].tolist(),
                           anchors=frame["anchor"].tolist(), batch_size=2, method=method, progress=False,
                           settings=PromptSettings(prompt_mode=mode, prompt_language="zh-labels",
                                                   max_context_chars=100))
        for task in Task:
            assert set(out[task.value]) <= set(task.labels), (mode, task)  # canonical names for the leaderboard


def test_run_py_lora_trains_and_predicts_a_custom_code_model(custom_model_dir, small_est, tmp_path, capsys):
    """The one command: trust_remote_code given to training reaches the prediction step too."""
    from est_baselines import runner

    runner.main(["lora", "--track", "balanced", "--est-dir", str(small_est), "--model", str(custom_model_dir),
                 "--config", str(ROOT / "baselines" / "configs" / "cpu-smoke.yaml"), "--output-dir",
                 str(tmp_path / "adapter"), "--output", str(tmp_path / "lora.csv"), "--bootstrap", "0",
                 "--batch-size", "4", "--", "--trust_remote_code", "true", "--max_steps", "1",
                 "--max_context_chars", "100", "--lora_r", "2"])
    capsys.readouterr()
    lines = (tmp_path / "lora.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,emotion,transition,satisfaction"
    assert len(lines) == 1 + len(load_track(small_est, "balanced", "test"))
