"""Prediction with vLLM (`python baselines/predict.py --engine vllm ...`; GPU only, `pip install -r
requirements-vllm.txt`).

The same prediction as the default engine, faster on a GPU: the same prompts (`estbench.prompts.PromptSettings`, so
the chat template and every prompt setting saved with the model apply), greedy decoding restricted to the valid answers
(vLLM's structured outputs with `choice=` every answer `PromptSettings.completion` writes, as the constrained
decoder's trie holds them), prefix caching (the instruction and candidate lists every prompt shares are computed
once), and a LoRA adapter
served on its base model without merging. It writes the same prediction file. This module only plans the requests
and maps the answers back; vLLM itself is imported inside `predict_with_vllm`, so nothing here needs it on CPU.
`bench/gpu_check.sh` runs it against the default engine on a GPU machine and prints their agreement.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Sequence

import pandas as pd

from estbench.prompts import PromptSettings, prompt_fields
from estbench.schema import Task
from estbench.submission import predictions_frame

from .loading import adapter_base, lora_rank


def answer_choices(tasks: Sequence[Task], settings: PromptSettings = PromptSettings()) -> dict[str, tuple[str, ...]]:
    """Every valid answer text of a task group -> its labels (joint: 7 x 9 x 3 = 189 answers)."""
    tasks = tuple(tasks)
    return {settings.completion({t.value: label for t, label in zip(tasks, combo)}, tasks): combo
            for combo in itertools.product(*(task.labels for task in tasks))}


def predict_with_vllm(model_path: str | Path, frame: pd.DataFrame, *, settings: PromptSettings = PromptSettings(),
                      base_model: str | None = None, trust_remote_code: bool = False, dtype: str = "auto",
                      seed: int = 0) -> pd.DataFrame:
    """A prediction table (id + three label columns) for `frame`'s rows, in their order."""
    from vllm import LLM, SamplingParams
    from vllm.lora.request import LoRARequest
    from vllm.sampling_params import StructuredOutputsParams

    base, adapter = adapter_base(model_path, base_model)
    engine_args = dict(model=base, tokenizer=str(model_path) if adapter else base, enable_prefix_caching=True,
                       trust_remote_code=trust_remote_code, dtype=dtype, seed=seed)
    if adapter:
        engine_args.update(enable_lora=True, max_lora_rank=max(8, lora_rank(adapter)))
    llm = LLM(**engine_args)
    tokenizer = llm.get_tokenizer()
    request = LoRARequest("est", 1, adapter) if adapter else None
    contexts, texts, anchors = prompt_fields(frame)
    predictions: dict[str, list[str]] = {}
    for tasks in settings.task_groups:
        choices = answer_choices(tasks, settings)
        prompts = settings.prompts(contexts, texts, anchors, tasks, tokenizer)
        longest = max(len(tokenizer(answer, add_special_tokens=False)["input_ids"]) for answer in choices)
        params = SamplingParams(temperature=0.0, max_tokens=longest + 1,
                                structured_outputs=StructuredOutputsParams(choice=list(choices)))
        outputs = llm.generate(prompts, params, lora_request=request)
        for position, task in enumerate(tasks):
            predictions[task.value] = [choices[output.outputs[0].text.strip()][position] for output in outputs]
    return predictions_frame(frame["id"].tolist(), predictions)
