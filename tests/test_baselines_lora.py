"""LoRA fine-tuning and label-scoring prediction on a tiny randomly-initialised Llama (CPU, offline, seconds).

The model and its character-level tokenizer are built here from the training texts (baselines/tiny.py); the data is
the session-wide `small_est` fixture (a small corpus built by est_dataset, see tests/conftest.py).
"""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
import torch

from est_baselines.label_scoring import (
    answer_trie,
    candidate_logprobs,
    constrained_decode,
    constrained_predict_batch,
    continuation_logprobs,
    encode_prompts,
    generate_labels,
    predict_batch,
)
from est_baselines.lora import build_trainer, make_parser
from est_baselines.prediction import load_for_prediction, predict_frame
from est_baselines.tiny import save_tiny_model
from est_leaderboard.settings import DEFAULT_GOLD_NAME, DEFAULT_HALF_SALT
from estbench.answers import parse_answer
from estbench.built import load_track
from estbench.prompts import PromptSettings, build_completion, build_prompt, field_prefix
from estbench.schema import TASKS, Task
from estbench.submission import predictions_frame, write_predictions


@pytest.fixture(scope="module", autouse=True)
def one_torch_thread():
    """The model is tiny: one thread is fastest, and avoids thread oversubscription on a busy 2-core CI machine
    (measured here: 2 threads under load were ~18x slower than 1)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def est_dir(small_est):
    return small_est


@pytest.fixture(scope="module")
def base_dir(tmp_path_factory, est_dir):
    frame = load_track(est_dir, "balanced", "train")
    texts = list(frame["context"]) + list(frame["text"]) + list(frame["anchor"])
    return save_tiny_model(tmp_path_factory.mktemp("tiny") / "base", texts)


def _load_base(base_dir):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(base_dir), AutoTokenizer.from_pretrained(base_dir)


def _training_args(est_dir, output_dir, *extra):
    """(EstArguments, SFTConfig, ModelConfig) of a tiny run; the loading arguments keep their defaults."""
    return make_parser().parse_args_and_config([
        "--est_dir", str(est_dir), "--output_dir", str(output_dir), "--use_peft", "--lora_r", "4",
        "--lora_alpha", "8", "--lora_target_modules", "all-linear", "--learning_rate", "1e-2",
        "--per_device_train_batch_size", "8", "--max_steps", "15", "--logging_steps", "5", "--save_strategy", "no",
        "--gradient_checkpointing", "false", "--report_to", "none", "--disable_tqdm", "true", "--seed", "0", *extra,
    ])[:3]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, est_dir, base_dir):
    """A few LoRA steps on the tiny model; returns what the tests inspect."""
    out = tmp_path_factory.mktemp("lora") / "adapter"
    est_args, training_args, model_args = _training_args(est_dir, out)
    model, tokenizer = _load_base(base_dir)
    trainer = build_trainer(est_args, training_args, model_args, model, tokenizer)
    probe = trainer.data_collator([trainer.train_dataset[i] for i in range(16)])

    def probe_loss():
        trainer.model.eval()
        with torch.no_grad():
            inputs = {k: v for k, v in probe.items() if k in ("input_ids", "attention_mask", "labels")}
            return trainer.model(**inputs).loss.item()

    before_loss = probe_loss()
    before = {name: p.detach().clone() for name, p in trainer.model.named_parameters()}
    trainer.train()
    after_loss = probe_loss()
    trainer.save_model(out)
    est_args.prompt_settings().save(out)
    return dict(trainer=trainer, before=before, before_loss=before_loss, after_loss=after_loss, adapter=out,
                tokenizer=tokenizer)


def test_loss_is_on_answer_tokens_only(est_dir, base_dir, tmp_path):
    est_args, training_args, model_args = _training_args(est_dir, tmp_path / "out")
    model, tokenizer = _load_base(base_dir)
    trainer = build_trainer(est_args, training_args, model_args, model, tokenizer)
    frame = load_track(est_dir, "balanced", "train")
    assert len(trainer.train_dataset) == len(frame)
    for example in trainer.train_dataset.select(range(10)):
        ids, labels = example["input_ids"], example["labels"]
        trained_positions = [i for i, label in enumerate(labels) if label != -100]
        # one contiguous block at the very end ...
        assert trained_positions == list(range(len(ids) - len(trained_positions), len(ids)))
        # ... that is exactly the answer plus end-of-sequence, with every prompt token masked
        answer = tokenizer.decode([ids[i] for i in trained_positions])
        assert answer == example["completion"]
        assert answer.endswith(tokenizer.eos_token) and answer.startswith(field_prefix(Task.EMOTION))
        prompt = tokenizer.decode(ids[: trained_positions[0]], skip_special_tokens=True)
        assert prompt == example["prompt"]


def test_per_task_mode_gives_one_example_per_task(est_dir, base_dir, tmp_path):
    est_args, training_args, model_args = _training_args(est_dir, tmp_path / "out", "--prompt_mode", "per-task")
    model, tokenizer = _load_base(base_dir)
    trainer = build_trainer(est_args, training_args, model_args, model, tokenizer)
    assert len(trainer.train_dataset) == 3 * len(load_track(est_dir, "balanced", "train"))
    first = trainer.train_dataset.select(range(3))
    for task, example in zip(TASKS, first):
        assert example["completion"].startswith(field_prefix(task)) and example["completion"].count("\n") == 0


def test_lora_steps_lower_the_loss_and_change_only_adapter_weights(trained):
    assert trained["after_loss"] < trained["before_loss"] - 0.05, (trained["before_loss"], trained["after_loss"])
    changed_lora, changed_base = [], []
    for name, param in trained["trainer"].model.named_parameters():
        if not torch.equal(param.detach(), trained["before"][name]):
            (changed_lora if "lora_" in name else changed_base).append(name)
    assert changed_base == []
    assert changed_lora and all("lora_" in n for n in changed_lora)
    assert any("lora_B" in n for n in changed_lora)  # B starts at zero: it must have moved for LoRA to matter


def _sample_rows(est_dir, n=7):
    frame = load_track(est_dir, "balanced", "test").head(n)
    return frame["context"].fillna("").tolist(), frame["text"].tolist()


def test_adapter_save_reload_and_merge_give_identical_predictions(trained, est_dir, base_dir):
    contexts, texts = _sample_rows(est_dir)
    model = trained["trainer"].model.eval()
    tokenizer = trained["tokenizer"]
    prefixes = [build_prompt(c, t, TASKS) + field_prefix(Task.EMOTION) for c, t in zip(contexts, texts)]
    candidates = [label + "\n" for label in Task.EMOTION.labels]
    in_memory = candidate_logprobs(model, tokenizer, prefixes, candidates)
    expected = predict_batch(model, tokenizer, contexts, texts)

    base_model, _ = _load_base(base_dir)
    base_scores = candidate_logprobs(base_model.eval(), tokenizer, prefixes, candidates)
    assert not torch.allclose(in_memory, base_scores, atol=1e-4)  # training changed the scores

    for merge in (False, True):
        reloaded, reloaded_tokenizer, settings = load_for_prediction(trained["adapter"], merge=merge, device="cpu")
        assert settings == PromptSettings()
        scores = candidate_logprobs(reloaded, reloaded_tokenizer, prefixes, candidates)
        torch.testing.assert_close(scores, in_memory, atol=1e-4, rtol=1e-4)
        assert predict_batch(reloaded, reloaded_tokenizer, contexts, texts) == expected


def test_batched_and_single_predictions_agree(trained, est_dir):
    contexts, texts = _sample_rows(est_dir)
    model, tokenizer = trained["trainer"].model.eval(), trained["tokenizer"]
    prefixes = [build_prompt(c, t, TASKS) + field_prefix(Task.TRANSITION) for c, t in zip(contexts, texts)]
    assert len({len(p) for p in prefixes}) > 1  # different lengths, so the batch really is padded
    candidates = [label + "\n" for label in Task.TRANSITION.labels]
    batched = candidate_logprobs(model, tokenizer, prefixes, candidates)
    single = torch.cat([candidate_logprobs(model, tokenizer, [p], candidates) for p in prefixes])
    torch.testing.assert_close(batched, single, atol=1e-4, rtol=1e-4)
    for mode in ("joint", "per-task"):
        settings = PromptSettings(prompt_mode=mode)
        together = predict_batch(model, tokenizer, contexts, texts, settings=settings)
        one_by_one = [predict_batch(model, tokenizer, [c], [t], settings=settings) for c, t in zip(contexts, texts)]
        for task in TASKS:
            assert together[task.value] == [p[task.value][0] for p in one_by_one]


def _plain_logprob(model, tokenizer, prefix, candidate):
    """log P(candidate | prefix) from one unpadded forward pass over prefix + candidate, no cache."""
    prefix_len = len(tokenizer(prefix)["input_ids"])
    ids = torch.tensor([tokenizer(prefix + candidate)["input_ids"]])
    with torch.no_grad():
        logprobs = torch.log_softmax(model(input_ids=ids).logits[0, :-1].float(), -1)
    return logprobs[torch.arange(prefix_len - 1, ids.shape[1] - 1), ids[0, prefix_len:]].sum().item()


def test_scores_are_the_sequence_log_likelihood(trained):
    """Cross-check the cached, padded scoring against plain forward passes over prefix + candidate."""
    model, tokenizer = trained["trainer"].model.eval(), trained["tokenizer"]
    prompts = [build_prompt("客服：您好\n用户：网又断了", "怎么还没修好", TASKS), build_prompt("", "谢谢", TASKS)]
    # answers so far of different lengths: the batch is padded in the middle (after the prompt cache)
    prefixes = [prompts[0] + field_prefix(Task.EMOTION) + "Disappointment\n" + field_prefix(Task.TRANSITION),
                prompts[1] + field_prefix(Task.EMOTION)]
    candidates = ["Anger\n", "No Emotion\n", "Neutral to Negative</s>"]
    encoded = encode_prompts(model, tokenizer, prompts)
    first_use = continuation_logprobs(model, tokenizer, encoded, prefixes, candidates)
    reuse = continuation_logprobs(model, tokenizer, encoded, prefixes, candidates)  # the prompt cache is reusable
    for scores in (first_use, reuse, candidate_logprobs(model, tokenizer, prefixes, candidates)):
        for row, prefix in enumerate(prefixes):
            for column, candidate in enumerate(candidates):
                expected = _plain_logprob(model, tokenizer, prefix, candidate)
                assert scores[row, column].item() == pytest.approx(expected, abs=1e-4)


def test_predict_writes_a_file_the_leaderboard_accepts(trained, est_dir, tmp_path):
    from estbench.gold import load_gold
    from estbench.submission import validate_submission

    model, tokenizer = trained["trainer"].model.eval(), trained["tokenizer"]
    frame = load_track(est_dir, "balanced", "test")
    table = predict_frame(model, tokenizer, frame, batch_size=4, progress=False)
    for task in TASKS:
        assert set(table[task.value]) <= set(task.labels)
    for suffix in (".csv", ".jsonl"):
        path = write_predictions(table, tmp_path / f"balanced{suffix}")
        gold = load_gold(est_dir, "balanced", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
        accepted = validate_submission(path, gold)
        assert len(accepted) == len(frame)
        assert sorted(accepted["id"]) == sorted(frame["id"])


def test_predict_cli_end_to_end(trained, est_dir, tmp_path):
    from est_baselines import prediction as predict

    out = predict.main(["--model_path", str(trained["adapter"]), "--est_dir", str(est_dir), "--track", "balanced",
                        "--output", str(tmp_path / "p.csv"), "--batch_size", "5"])
    lines = out.read_text(encoding="utf-8").splitlines()
    assert lines[0] == "id,emotion,transition,satisfaction"
    assert len(lines) == 1 + len(load_track(est_dir, "balanced", "test"))


def test_two_process_prediction_writes_the_single_process_file(trained, est_dir, tmp_path):
    """`accelerate launch --num_processes 2` (CPU, gloo): each process predicts its shard, one merged file results,
    byte-identical to one process's."""
    import os
    import subprocess
    import sys

    from est_baselines import prediction as predict
    from estbench.testing.live_server import free_port

    common = ["--model_path", str(trained["adapter"]), "--est_dir", str(est_dir), "--track", "balanced",
              "--batch_size", "4", "--limit", "13"]
    single = predict.main([*common, "--output", str(tmp_path / "one.csv")])
    script = Path(__file__).resolve().parents[1] / "baselines" / "predict.py"
    launch = [sys.executable, "-m", "accelerate.commands.launch", "--cpu", "--num_processes", "2",
              "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
              "--main_process_port", str(free_port()), str(script), *common, "--output", str(tmp_path / "two.csv")]
    env = {**os.environ, "OMP_NUM_THREADS": "1", "TOKENIZERS_PARALLELISM": "false"}
    done = subprocess.run(launch, capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    assert (tmp_path / "two.csv").read_bytes() == single.read_bytes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["one.csv", "two.csv"]  # the shard files are gone


def test_generate_then_parse_reports_invalid_answers_as_none(trained, est_dir):
    contexts, texts = _sample_rows(est_dir, 3)
    model, tokenizer = trained["trainer"].model.eval(), trained["tokenizer"]
    generated = generate_labels(model, tokenizer, contexts, texts, max_new_tokens=8)
    for task in TASKS:
        assert len(generated[task.value]) == 3
        assert all(label is None or label in task.labels for label in generated[task.value])
    answer = "情绪：失望\n情绪状态转移：Neutral to Negative\n满意度：Happy"
    assert parse_answer(answer, TASKS) == {"emotion": "Disappointment", "transition": "Neutral to Negative",
                                           "satisfaction": None}


def test_prediction_table_rejects_invalid_labels():
    with pytest.raises(ValueError, match=r"row 1 \(id 'b/1'\): invalid emotion label 'Happy'"):
        predictions_frame(["a/1", "b/1"], {"emotion": ["Worry", "Happy"]})


def test_training_resumes_from_the_latest_checkpoint(est_dir, base_dir, tmp_path):
    import json

    from est_baselines.lora import train

    out = tmp_path / "run"
    steps = ["--save_strategy", "steps", "--save_steps", "2", "--logging_steps", "1"]
    model, tokenizer = _load_base(base_dir)
    train(*_training_args(est_dir, out, "--max_steps", "4", *steps), model=model, tokenizer=tokenizer)
    first = json.loads((out / "checkpoint-4" / "trainer_state.json").read_text())["log_history"]

    model, tokenizer = _load_base(base_dir)  # a fresh process would start from the base weights too
    train(*_training_args(est_dir, out, "--max_steps", "6", "--resume_from_checkpoint", "true", *steps),
          model=model, tokenizer=tokenizer)
    resumed = json.loads((out / "checkpoint-6" / "trainer_state.json").read_text())["log_history"]
    assert [e["step"] for e in resumed if "loss" in e] == [1, 2, 3, 4, 5, 6]
    # steps 1-4 are the first run's records (a fresh 6-step run would log other learning rates: linear decay to 6)
    assert [e for e in resumed if e["step"] <= 4 and "loss" in e] == [e for e in first if "loss" in e]
    assert (out / "adapter_model.safetensors").exists() and (out / "est_prompt.json").exists()


# --- constrained decoding (trie of the valid answers) ------------------------------------------------------------

def test_answer_trie_holds_exactly_the_valid_answers(trained):
    tokenizer = trained["tokenizer"]
    for tasks in (TASKS, (Task.TRANSITION,)):
        trie = answer_trie(tokenizer, tasks)
        assert sorted(trie.answers.values()) == sorted(itertools.product(*(t.labels for t in tasks)))
        for leaf in trie.answers:
            assert trie.children[leaf] == {}  # an answer ends at a leaf: nothing can follow it
        assert answer_trie(tokenizer, tasks) is trie  # built once per tokenizer


@pytest.mark.parametrize("which", ["random", "trained"])
def test_constrained_outputs_are_always_valid(trained, est_dir, base_dir, which):
    model = _load_base(base_dir)[0].eval() if which == "random" else trained["trainer"].model.eval()
    if which == "random":  # make the untrained model opinionated, so unconstrained it would wander off the labels
        with torch.no_grad():
            model.model.norm.weight.mul_(20)
    contexts, texts = _sample_rows(est_dir, 12)
    for mode in ("joint", "per-task"):
        predicted = constrained_predict_batch(model, trained["tokenizer"], contexts, texts,
                                              settings=PromptSettings(prompt_mode=mode))
        for task in TASKS:
            assert len(predicted[task.value]) == len(texts)
            assert set(predicted[task.value]) <= set(task.labels)


def test_constrained_batched_and_single_agree(trained, est_dir):
    contexts, texts = _sample_rows(est_dir)
    model, tokenizer = trained["trainer"].model.eval(), trained["tokenizer"]
    for mode in ("joint", "per-task"):
        settings = PromptSettings(prompt_mode=mode)
        together = constrained_predict_batch(model, tokenizer, contexts, texts, settings=settings)
        one_by_one = [constrained_predict_batch(model, tokenizer, [c], [t], settings=settings)
                      for c, t in zip(contexts, texts)]
        for task in TASKS:
            assert together[task.value] == [p[task.value][0] for p in one_by_one]


def _memorise(model, tokenizer, prompts, answers, steps=300):
    """Fully fine-tune `model` on a few short prompt -> answer pairs (loss on the answers), so it becomes confident."""
    ids = [tokenizer(p + a)["input_ids"] for p, a in zip(prompts, answers)]
    width = max(len(row) for row in ids)
    inputs = torch.full((len(ids), width), tokenizer.pad_token_id)
    labels = torch.full((len(ids), width), -100)
    for i, (row, prompt) in enumerate(zip(ids, prompts)):
        inputs[i, : len(row)] = torch.tensor(row)
        start = len(tokenizer(prompt)["input_ids"])
        labels[i, start : len(row)] = torch.tensor(row[start:])
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        model(input_ids=inputs, labels=labels).loss.backward()
        optimizer.step()
        optimizer.zero_grad()
    return model.eval()


def test_constrained_picks_the_exact_argmax_when_a_label_is_decisive(trained, base_dir):
    """If the best label (+ terminator) has probability > 1/2 given the answer so far, each of its tokens is the
    likeliest allowed token at every branching point on its path, so greedy decoding must pick that label too. A tiny
    model memorises a few short prompts' answers (chosen to cover labels that share a first token, e.g. Anger /
    Anxiety), so that most decisions are decisive; the check runs wherever they are."""
    tokenizer = trained["tokenizer"]
    n = 6
    labels = [{task.value: task.labels[(i * (k + 2)) % len(task.labels)] for k, task in enumerate(TASKS)}
              for i in range(n)]
    labels[0][Task.EMOTION.value], labels[1][Task.EMOTION.value] = "Anger", "Anxiety"  # a branching after "An"
    prompts = [f"用户：{'谢谢好的嗯呢'[:i + 1]}\n答案：\n" for i in range(n)]  # n distinct prompts
    answers = [build_completion(row, TASKS) + tokenizer.eos_token for row in labels]
    model = _memorise(_load_base(base_dir)[0], tokenizer, prompts, answers)

    decoded = constrained_decode(model, tokenizer, prompts, answer_trie(tokenizer, TASKS))
    prefixes, decisive = list(prompts), 0
    for position, (task, terminator) in enumerate(zip(TASKS, ["\n", "\n", tokenizer.eos_token])):
        prefixes = [p + field_prefix(task) for p in prefixes]
        scores = candidate_logprobs(model, tokenizer, prefixes, [label + terminator for label in task.labels])
        best, best_index = scores.max(-1)
        for row in range(n):
            if best[row].exp() > 0.5:
                decisive += 1
                assert decoded[row][position] == task.labels[int(best_index[row])], (task, row)
        # the next field is conditioned on the labels constrained decoding chose
        prefixes = [p + labels_[position] + "\n" for p, labels_ in zip(prefixes, decoded)]
    assert decisive >= 2 * n  # the check is not vacuous


def test_constrained_decoding_rejects_a_prompt_without_the_answer_header(trained):
    with pytest.raises(ValueError, match="prompt 1 does not end with the answer header"):
        prompts = [build_prompt("", "谢谢", TASKS), "没有答案头"]
        constrained_decode(trained["trainer"].model.eval(), trained["tokenizer"], prompts,
                           answer_trie(trained["tokenizer"], TASKS))


@pytest.mark.parametrize("mode", ["joint", "per-task"])
def test_predict_cli_constrained_writes_a_file_the_leaderboard_accepts(trained, est_dir, tmp_path, mode):
    from est_baselines import prediction as predict
    from estbench.gold import load_gold
    from estbench.submission import validate_submission

    out = predict.main(["--model_path", str(trained["adapter"]), "--est_dir", str(est_dir), "--track", "balanced",
                        "--output", str(tmp_path / "p.jsonl"), "--batch_size", "6", "--method", "constrained",
                        "--prompt_mode", mode])
    accepted = validate_submission(out, load_gold(est_dir, "balanced", salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME))
    frame = load_track(est_dir, "balanced", "test")
    assert sorted(accepted["id"]) == sorted(frame["id"])
    for task in TASKS:
        assert set(accepted[task.value]) <= set(task.labels)


# A chat template as instruct models ship them (the markers are plain characters of the tiny tokenizer; the template
# writes the BOS token itself, which chat_prompt must not double).
CHAT_TEMPLATE = ("{{ bos_token }}{% for m in messages %}<|{{ m.role }}|>\n{{ m.content }}<|end|>\n{% endfor %}"
                 "{% if add_generation_prompt %}<|assistant|>\n{% endif %}")


def test_chat_template_mode_trains_and_predicts_with_the_same_prompts(est_dir, tmp_path):
    from estbench.prompts import chat_prompt

    frame = load_track(est_dir, "balanced", "train")
    texts = list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]) + [CHAT_TEMPLATE]
    base = save_tiny_model(tmp_path / "chat-base", texts)
    model, tokenizer = _load_base(base)
    with pytest.raises(ValueError, match="no chat template"):
        chat_prompt(tokenizer, "x")
    tokenizer.chat_template = CHAT_TEMPLATE
    out = tmp_path / "chat-adapter"
    est_args, training_args, model_args = _training_args(est_dir, out, "--chat_template", "true", "--max_steps", "3")
    trainer = build_trainer(est_args, training_args, model_args, model, tokenizer)
    prompt = trainer.train_dataset[0]["prompt"] if "prompt" in trainer.train_dataset.column_names else None
    row = frame.iloc[0]
    expected = chat_prompt(tokenizer, build_prompt(row.context, row.text, TASKS, anchor=row.anchor))
    assert expected.startswith("<|user|>\n") and expected.endswith("答案：\n<|end|>\n<|assistant|>\n")
    assert not expected.startswith(tokenizer.bos_token)  # the tokenizer adds BOS itself: no second one
    assert prompt in (None, expected)
    ids = trainer.train_dataset[0]["input_ids"]
    assert ids[0] == tokenizer.bos_token_id and ids[1] != tokenizer.bos_token_id
    # prediction renders exactly the training prompt, and the decoder anchors on the chat prompt's fixed end
    chat = PromptSettings(chat_template=True)
    assert chat.prompts([row.context], [row.text], [row.anchor], TASKS, tokenizer) == [expected]
    assert expected.endswith(chat.end(tokenizer))
    trainer.train()
    trainer.save_model(out)
    est_args.prompt_settings().save(out)
    trained_model, trained_tokenizer, settings = load_for_prediction(out)
    assert settings == chat and trained_tokenizer.chat_template == CHAT_TEMPLATE
    test = load_track(est_dir, "balanced", "test").head(12)
    for method in ("constrained", "score"):
        table = predict_frame(trained_model, trained_tokenizer, test, settings=settings, method=method,
                              progress=False, batch_size=4)
        for task in TASKS:
            assert set(table[task.value]) <= set(task.labels)
    # a prompt outside the chat format is refused by the chat decoder instead of being scored out of format
    with pytest.raises(ValueError, match="does not end with the answer header"):
        constrained_decode(trained_model, trained_tokenizer, [build_prompt("", "你好", TASKS)],
                           answer_trie(trained_tokenizer, TASKS, chat))


class LegacyCacheModel(torch.nn.Module):
    """A causal LM as custom-code models written before transformers' Cache API behave: it takes `past_key_values`,
    returns its cache as plain tuples, and cannot continue from a cache it is handed."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input_ids=None, attention_mask=None, position_ids=None, past_key_values=None, use_cache=None,
                logits_to_keep=0, **kwargs):
        from transformers.modeling_outputs import CausalLMOutputWithPast

        assert past_key_values is None, "the no-cache path must not hand this model a cache"
        out = self.inner(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids,
                         use_cache=False)
        legacy = tuple((torch.zeros(1), torch.zeros(1)) for _ in range(2))
        return CausalLMOutputWithPast(logits=out.logits, past_key_values=legacy)


def test_a_model_without_the_cache_api_gets_the_same_labels_on_the_slower_path(trained, est_dir):
    from est_baselines.label_scoring import kv_cache_supported

    model, tokenizer, _ = load_for_prediction(trained["adapter"], merge=True, device="cpu")
    legacy = LegacyCacheModel(model).eval()
    assert kv_cache_supported(model) and not kv_cache_supported(legacy)
    test = load_track(est_dir, "balanced", "test").head(10)
    rows = dict(contexts=test["context"].fillna("").tolist(), texts=test["text"].tolist(),
                anchors=test["anchor"].tolist())
    for method in (predict_batch, constrained_predict_batch):
        for mode in ("joint", "per-task"):
            settings = PromptSettings(prompt_mode=mode)
            fast = method(model, tokenizer, rows["contexts"], rows["texts"], anchors=rows["anchors"],
                          settings=settings)
            slow = method(legacy, tokenizer, rows["contexts"], rows["texts"], anchors=rows["anchors"],
                          settings=settings)
            assert slow == fast, (method.__name__, mode)


def test_the_no_cache_scores_equal_the_cached_ones(trained, est_dir):
    from est_baselines.label_scoring import _scores_without_cache

    model, tokenizer, _ = load_for_prediction(trained["adapter"], merge=True, device="cpu")
    test = load_track(est_dir, "balanced", "test").head(6)
    prompts = PromptSettings().prompts(test["context"].fillna("").tolist(), test["text"].tolist(),
                                       test["anchor"].tolist(), TASKS)
    prefixes = [p + field_prefix(Task.EMOTION) for p in prompts]
    candidates = [label + "\n" for label in Task.EMOTION.labels]
    cached = continuation_logprobs(model, tokenizer, encode_prompts(model, tokenizer, prompts), prefixes, candidates)
    assert torch.allclose(_scores_without_cache(model, tokenizer, prompts, prefixes, candidates), cached, atol=1e-4)


def test_run_py_lora_with_a_chat_template_predicts_with_the_prompt_it_trained_on(est_dir, tmp_path, monkeypatch,
                                                                                  capsys):
    """`run.py lora ... -- --chat_template true`: training writes chat prompts, and so must the prediction that
    follows in the same command (it once rebuilt the prompt options and dropped the chat template)."""
    from transformers import AutoTokenizer

    from est_baselines import prediction, runner

    frame = load_track(est_dir, "balanced", "train")
    base = save_tiny_model(tmp_path / "chat-base", list(frame["context"]) + list(frame["text"])
                           + list(frame["anchor"]) + [CHAT_TEMPLATE])
    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.chat_template = CHAT_TEMPLATE
    tokenizer.save_pretrained(base)

    written, predicted_with = [], []
    prompts = PromptSettings.prompts

    def recording(self, *args, **kwargs):
        out = prompts(self, *args, **kwargs)
        written.extend(out)
        return out

    predict_rows = prediction.predict_rows

    def recording_rows(*args, settings, **kwargs):
        predicted_with.append(settings)
        return predict_rows(*args, settings=settings, **kwargs)

    monkeypatch.setattr(PromptSettings, "prompts", recording)
    monkeypatch.setattr(prediction, "predict_rows", recording_rows)
    runner.main(["lora", "--track", "balanced", "--est_dir", str(est_dir), "--model_name_or_path", str(base),
                 "--config", str(Path(__file__).resolve().parents[1] / "baselines" / "configs" / "cpu-smoke.yaml"),
                 "--output_dir", str(tmp_path / "adapter"), "--output", str(tmp_path / "lora.csv"),
                 "--bootstrap", "0", "--batch_size", "8", "--", "--chat_template", "true", "--max_steps", "1",
                 "--max_context_chars", "100", "--lora_r", "2", "--max_train_samples", "16"])
    capsys.readouterr()
    test = load_track(est_dir, "balanced", "test")
    assert predicted_with == [PromptSettings(max_context_chars=100, chat_template=True)]
    assert PromptSettings.load(tmp_path / "adapter") == predicted_with[0]
    test_prompts = [p for p in written if any(text in p for text in test["text"])]
    assert len(test_prompts) >= len(test) and all(p.startswith("<|user|>\n") and p.endswith("<|assistant|>\n")
                                                 for p in written)
    assert len((tmp_path / "lora.csv").read_text(encoding="utf-8").splitlines()) == 1 + len(test)
