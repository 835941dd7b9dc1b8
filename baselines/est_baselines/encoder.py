r"""Encoder baseline: a BERT-style encoder fine-tuned with one classification head per task, the usual baseline for
emotion recognition in conversation (e.g. a Chinese BERT / RoBERTa such as bert-base-chinese).

Input per utterance: the user's utterance as the first segment; the recent dialogue context and the session's anchor
as the second, the anchor last, so that truncation (from the left of the second segment) drops the oldest context
first and never the utterance or the anchor.
The [CLS] vector feeds three linear heads (emotion 7, transition 9, satisfaction 3); the loss is the sum of the
three cross-entropies. Recipe: baselines/configs/encoder.yaml.

    python baselines/run.py encoder --track balanced --model_name_or_path bert-base-chinese \
        --output predictions/bert.csv

Any BERT-style checkpoint works (`AutoModel` + its tokenizer); the tests use a tiny random BERT built from a config.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np
import pandas as pd
import yaml
from tqdm.auto import tqdm

from estbench.built import load_track
from estbench.cli import add_option, non_negative_int, positive_int
from estbench.schema import TASKS
from estbench.submission import predictions_frame

RECIPE = Path(__file__).resolve().parents[1] / "configs" / "encoder.yaml"


@dataclass
class EncoderArguments:
    """The encoder recipe (baselines/configs/encoder.yaml); every field can be overridden on the command line."""

    model_name_or_path: str = field(default="bert-base-chinese", metadata={"help": "BERT-style checkpoint."})
    max_length: int = field(default=256, metadata={"help": "Tokens per input (utterance + anchor + context)."})
    context_chars: int = field(default=300, metadata={"help": "Most recent characters of the context used."})
    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW learning rate."})
    weight_decay: float = field(default=0.01, metadata={"help": "AdamW weight decay."})
    epochs: float = field(default=3.0, metadata={"help": "Passes over the training split (fractions allowed)."})
    batch_size: int = field(default=32, metadata={"help": "Training and prediction batch size."})
    warmup_ratio: float = field(default=0.1, metadata={"help": "Share of steps with a linearly rising rate."})
    seed: int = field(default=42, metadata={"help": "Seed of the heads' initialisation and the shuffling."})
    device: str | None = field(default=None, metadata={"help": "cuda / cpu (default: cuda when available)."})

    @classmethod
    def from_recipe(cls, path: str | Path = RECIPE, **overrides) -> "EncoderArguments":
        values = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"{path}: unknown keys {unknown} (known: {', '.join(sorted(known))})")
        return cls(**{**values, **{k: v for k, v in overrides.items() if v is not None}})


def _segments(frame: pd.DataFrame, context_chars: int) -> tuple[list[str], list[str]]:
    anchor = frame["anchor"].fillna("") if "anchor" in frame.columns else pd.Series("", index=frame.index)
    context = frame["context"].fillna("").astype(str).str[-context_chars:]
    return frame["text"].fillna("").astype(str).tolist(), (context + " | " + anchor.astype(str)).tolist()


class EncoderBaseline:
    """fit(train frame) / predict(frame) like the classical baselines, on a transformers encoder."""

    name = "encoder"

    def __init__(self, args: EncoderArguments | None = None, model=None, tokenizer=None, progress: bool = True):
        self.args, self.progress = args or EncoderArguments(), progress
        self.encoder, self.tokenizer = model, tokenizer

    def _build(self):
        import torch
        from torch import nn
        from transformers import AutoModel, AutoTokenizer

        if self.encoder is None:
            self.encoder = AutoModel.from_pretrained(self.args.model_name_or_path)
        if self.tokenizer is None:
            self.tokenizer = AutoTokenizer.from_pretrained(self.args.model_name_or_path)
        self.tokenizer.truncation_side = "left"  # the second segment's oldest context goes first (see _segments)
        torch.manual_seed(self.args.seed)
        hidden = self.encoder.config.hidden_size
        self.heads = nn.ModuleDict({task.value: nn.Linear(hidden, len(task.labels)) for task in TASKS})
        self.device = self.args.device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.encoder.to(self.device)
        self.heads.to(self.device)

    def _batch(self, first: list[str], second: list[str]):
        encoded = self.tokenizer(first, second, truncation="only_second", max_length=self.args.max_length,
                                 padding=True, return_tensors="pt")
        return {key: value.to(self.device) for key, value in encoded.items()}

    def _logits(self, inputs) -> dict:
        cls = self.encoder(**inputs).last_hidden_state[:, 0]
        return {task: head(cls) for task, head in self.heads.items()}

    def fit(self, frame: pd.DataFrame) -> "EncoderBaseline":
        import torch
        from transformers import get_linear_schedule_with_warmup

        for task in TASKS:
            if frame[task.value].isna().any():
                raise ValueError(f"training rows without a {task.value} label (blind split used for training?)")
        self._build()
        first, second = _segments(frame, self.args.context_chars)
        targets = {task.value: torch.tensor([task.labels.index(v) for v in frame[task.value]]) for task in TASKS}
        size = self.args.batch_size
        steps = max(1, int(np.ceil(len(first) / size) * self.args.epochs))
        parameters = list(self.encoder.parameters()) + list(self.heads.parameters())
        optimizer = torch.optim.AdamW(parameters, lr=self.args.learning_rate, weight_decay=self.args.weight_decay)
        schedule = get_linear_schedule_with_warmup(optimizer, int(steps * self.args.warmup_ratio), steps)
        generator = np.random.default_rng(self.args.seed)
        self.losses_: list[float] = []
        self.encoder.train()
        order: list[int] = []
        progress = tqdm(range(steps), desc="encoder: training", unit="step", disable=not self.progress)
        for _ in progress:
            if len(order) < size:  # next epoch's shuffled rows
                order += generator.permutation(len(first)).tolist()
            rows, order = order[:size], order[size:]
            logits = self._logits(self._batch([first[i] for i in rows], [second[i] for i in rows]))
            loss = sum(torch.nn.functional.cross_entropy(logits[t], targets[t][rows].to(self.device))
                       for t in logits)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
            self.losses_.append(loss.item())
            if len(self.losses_) % 50 == 0:
                progress.set_postfix(loss=f"{np.mean(self.losses_[-50:]):.3f}")
        return self

    def predict(self, frame: pd.DataFrame) -> dict[str, list[str]]:
        import torch

        first, second = _segments(frame, self.args.context_chars)
        out = {task.value: [] for task in TASKS}
        self.encoder.eval()
        with torch.no_grad():
            for start in tqdm(range(0, len(first), self.args.batch_size), desc="encoder: predicting", unit="batch",
                              disable=not self.progress):
                logits = self._logits(self._batch(first[start:start + self.args.batch_size],
                                                  second[start:start + self.args.batch_size]))
                for task in TASKS:
                    out[task.value] += [task.labels[i] for i in logits[task.value].argmax(-1).tolist()]
        return out


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The encoder recipe's fields as `--encoder_<field>` options of run.py (each overrides the YAML; counts must
    be positive, checked before any work)."""
    group = parser.add_argument_group("encoder (overrides of baselines/configs/encoder.yaml)")
    add_option(group, "encoder_recipe", default=str(RECIPE), help="recipe YAML (default: %(default)s)")
    for spec in fields(EncoderArguments):
        if spec.name != "model_name_or_path":
            kind = str(spec.type).split(" ")[0]
            kind = (non_negative_int if spec.name == "seed" else positive_int) if kind == "int" else \
                float if kind == "float" else str
            add_option(group, f"encoder_{spec.name}", type=kind, help=spec.metadata.get("help"))


def run_encoder(args, est_dir: str, track: str, split: str):
    overrides = {f.name: getattr(args, f"encoder_{f.name}", None) for f in fields(EncoderArguments)}
    overrides["model_name_or_path"] = args.model_name_or_path
    settings = EncoderArguments.from_recipe(args.encoder_recipe, **overrides)
    if not settings.model_name_or_path:
        raise ValueError(f"{Path(args.encoder_recipe).name} names no checkpoint: give one with --model_name_or_path")
    train, frame = load_track(est_dir, track, "train"), load_track(est_dir, track, split)
    started = time.perf_counter()
    model = EncoderBaseline(settings).fit(train)
    predictions = model.predict(frame)
    print(f"encoder {settings.model_name_or_path}: trained on {len(train)} and predicted {len(frame)} utterances "
          f"in {time.perf_counter() - started:.1f} s; recipe {asdict(settings)}")
    return frame, predictions_frame(frame["id"].tolist(), predictions)
