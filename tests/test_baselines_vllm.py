"""The vLLM engine's thin layer, on CPU: vLLM cannot run here, so a stand-in `vllm` module records what the engine
asks of it (model, adapter, prefix caching, prompts, allowed answers) and answers like a restricted greedy decoder.
What is checked is everything the project owns: the requests are the default engine's prompts, the allowed outputs
are exactly the valid answers, and each answer is written back to its own row of the same prediction file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
import zlib
from pathlib import Path

import pandas as pd
import pytest
import torch

from est_baselines import prediction
from est_baselines.label_scoring import answer_trie
from est_baselines.tiny import save_tiny_model
from est_baselines.vllm_engine import answer_choices
from estbench.built import load_track
from estbench.prompts import PromptSettings
from estbench.schema import TASKS


class FakeVllm:
    """What a test needs of vLLM's offline API (LLM, SamplingParams, StructuredOutputsParams, LoRARequest)."""

    def __init__(self, tokenizer):
        self.tokenizer, self.engine_args, self.calls = tokenizer, None, []
        fake = self

        class LLM:
            def __init__(self, **kwargs):
                fake.engine_args = kwargs

            def get_tokenizer(self):
                return fake.tokenizer

            def generate(self, prompts, params, lora_request=None):
                fake.calls.append((list(prompts), params, lora_request))
                choices = params.structured_outputs.choice
                # a deterministic "model": the answer depends on the prompt, so a row mix-up would show
                return [types.SimpleNamespace(outputs=[types.SimpleNamespace(
                    text=choices[zlib.crc32(p.encode()) % len(choices)])]) for p in prompts]

        self.modules = {
            "vllm": types.SimpleNamespace(LLM=LLM, SamplingParams=lambda **kw: types.SimpleNamespace(**kw)),
            "vllm.sampling_params": types.SimpleNamespace(
                StructuredOutputsParams=lambda **kw: types.SimpleNamespace(**kw)),
            "vllm.lora": types.SimpleNamespace(),
            "vllm.lora.request": types.SimpleNamespace(
                LoRARequest=lambda name, id_, path: types.SimpleNamespace(name=name, id=id_, path=path)),
        }


@pytest.fixture()
def adapter(small_est, tmp_path):
    """An adapter folder as lora_finetune.py saves one (its config names the base; the prompt settings beside it)."""
    frame = load_track(small_est, "balanced", "train")
    base = save_tiny_model(tmp_path / "base", list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]))
    folder = tmp_path / "adapter"
    folder.mkdir()
    (folder / "adapter_config.json").write_text(json.dumps({"base_model_name_or_path": str(base), "r": 4}))
    settings = PromptSettings(prompt_mode="per-task", max_context_chars=300)
    settings.save(folder)
    from transformers import AutoTokenizer

    return folder, base, AutoTokenizer.from_pretrained(base), settings


def test_vllm_engine_asks_for_the_default_engines_prompts_and_writes_each_answer_to_its_row(
        adapter, small_est, tmp_path, monkeypatch):
    folder, base, tokenizer, settings = adapter
    fake = FakeVllm(tokenizer)
    for name, module in fake.modules.items():
        monkeypatch.setitem(sys.modules, name, module)
    out = tmp_path / "vllm.csv"
    prediction.main(["--engine", "vllm", "--model_path", str(folder), "--est_dir", str(small_est),
                     "--track", "balanced", "--output", str(out), "--limit", "20"])

    assert fake.engine_args["model"] == str(base) and fake.engine_args["enable_prefix_caching"] is True
    assert fake.engine_args["enable_lora"] is True and fake.engine_args["max_lora_rank"] >= 4
    frame = load_track(small_est, "balanced", "test").head(20)
    contexts, texts, anchors = frame["context"].fillna("").tolist(), frame["text"].tolist(), frame["anchor"].tolist()
    written = pd.read_csv(out)
    assert written["id"].tolist() == frame["id"].tolist()
    assert len(fake.calls) == len(TASKS)  # per-task mode: one request batch per task
    for (prompts, params, lora_request), task in zip(fake.calls, TASKS):
        assert lora_request.path == str(folder)
        assert params.temperature == 0.0
        # the same prompts as the default engine, and exactly the answers its constrained decoder allows
        assert prompts == settings.prompts(contexts, texts, anchors, (task,))
        assert set(params.structured_outputs.choice) == set(answer_choices((task,)))
        trie = answer_trie(tokenizer, (task,))
        assert {labels for labels in trie.answers.values()} == set(answer_choices((task,)).values())
        choices = params.structured_outputs.choice
        expected = [answer_choices((task,))[choices[zlib.crc32(p.encode()) % len(choices)]][0] for p in prompts]
        assert written[task.value].tolist() == expected


def test_vllm_engine_refuses_options_of_the_hf_engine(adapter, small_est, tmp_path):
    folder = adapter[0]
    with pytest.raises(SystemExit, match="--engine vllm serves the adapter"):
        prediction.main(["--engine", "vllm", "--merge", "--model_path", str(folder), "--est_dir", str(small_est),
                         "--output", str(tmp_path / "x.csv")])
    assert not (tmp_path / "x.csv").exists()


def test_joint_answers_cover_every_label_combination():
    choices = answer_choices(TASKS)
    assert len(choices) == 7 * 9 * 3 and len(set(choices.values())) == len(choices)


def test_gpu_check_script_parses_and_refuses_a_machine_without_gpu(tmp_path):
    script = Path(__file__).resolve().parents[1] / "bench" / "gpu_check.sh"
    assert subprocess.run(["bash", "-n", str(script)]).returncode == 0
    if torch.cuda.is_available():
        pytest.skip("a GPU machine runs the script itself")
    done = subprocess.run(["bash", str(script)], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "WORK": str(tmp_path), "PYTHON": sys.executable})
    assert done.returncode != 0 and "needs a CUDA GPU" in done.stderr
    assert not any(tmp_path.iterdir())  # refused before building or training anything
