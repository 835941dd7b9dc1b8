"""Speed of the baselines: label scoring vs generate-then-parse on a tiny causal LM, and the TF-IDF baseline's time.

    python bench/bench_baselines.py                       # builds the embedded default into a temp folder first
    python bench/bench_baselines.py --est_dir est         # an already built dataset

Part 1 (target: TF-IDF trains and predicts on the balanced split of the embedded default in <= 60 s): fits the
majority and TF-IDF baselines on the joint-balanced train split and predicts its test split; prints seconds and
macro-F1. Building the dataset (when --est_dir is not given) is not part of the time.

Part 2 (target: the valid-by-construction methods >= 3x the throughput of generate-then-parse, 0 invalid labels): a
tiny Llama-style model (baselines/tiny.py) is first fully fine-tuned for --train_steps steps on the balanced train
split, so it has learnt the answer format and its generations end with end-of-sequence like a real fine-tuned
model's. Then the same --utterances test utterances are labelled, in batches of each of --batch_sizes, by (a) scoring
every candidate label (exact), (b) constrained decoding over the trie of valid answers (baselines/label_scoring.py)
and (c) greedy generation + parsing. Prints utterances/s of each (best of --repeats), the ratios vs generation, the
invalid-label rate of each, and how often the methods agree where both gave a valid label.
Both run with --threads torch threads (default 1: fastest for a model this small, and stable on a shared machine).

Part 3 (target: the project's exact label scoring >= 5x lm-evaluation-harness `multiple_choice`, same labels): the
same trained tiny model scores the --harness_utterances first test rows with the EST lm-eval tasks' own prompts and
choices (lm_eval_tasks/est/utils.py), once through lm-eval's HFLM.loglikelihood (one request per row and label, as
`multiple_choice` issues them) and once through `candidate_logprobs` (each prompt run once, every label scored from
its KV cache). Prints the time of each, the ratio, and how many chosen labels (arg-max log-likelihood) agree.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import warnings
from pathlib import Path

import estbench.dataset
import estbench.scoring
from est_baselines.classical import MajorityBaseline, TfidfBaseline
from estbench import measured
from estbench.built import data_digest, load_track
from estbench.cli import add_option, positive_int
from estbench.prompts import PromptSettings
from estbench.schema import TASKS

ROOT = Path(__file__).resolve().parents[1]

ROWS: list[measured.Row] = []  # what this run measured, recorded at the end (estbench.measured)
TFIDF_TARGET_SECONDS = 60.0
SPEEDUP_TARGET = 3.0
HARNESS_TARGET = 5.0


def build_default(folder: Path) -> Path:
    out = folder / "est"
    estbench.dataset.build(None, out, card_template=ROOT / "dataset_card.md", progress=False)
    return out


def bench_classical(est_dir: Path) -> None:
    train = load_track(est_dir, "balanced", "train")
    test = load_track(est_dir, "balanced", "test")
    print(f"\n## Part 1: classical baselines, balanced track ({len(train):,} train / {len(test):,} test utterances)")
    print("| baseline | train+predict (s) | emotion F1 | transition F1 | satisfaction F1 |")
    print("|---|---|---|---|---|")
    for baseline in (MajorityBaseline(), TfidfBaseline()):
        started = time.perf_counter()
        predictions = baseline.fit(train).predict(test)
        seconds = time.perf_counter() - started
        scores = estbench.scoring.score({t.value: test[t.value].tolist() for t in TASKS}, predictions)
        f1 = " | ".join(f"{scores[f'{t.value}_macro_f1']:.4f}" for t in TASKS)
        print(f"| {baseline.name} | {seconds:.1f} | {f1} |")
        if baseline.name == "tfidf":
            verdict = "OK" if seconds <= TFIDF_TARGET_SECONDS else "MISSED"
            print(f"\nTF-IDF train+predict: {seconds:.1f} s (target <= {TFIDF_TARGET_SECONDS:.0f} s): {verdict}")
            ROWS.append(measured.Row("TF-IDF baseline, train + predict on the balanced split",
                                     f"{seconds:.1f} s ({len(train):,} train + {len(test):,} test utterances)",
                                     f"≤ {TFIDF_TARGET_SECONDS:.0f} s"))


def train_tiny_model(est_dir: Path, steps: int, work: Path):
    from est_baselines.lora import build_trainer, make_parser
    from est_baselines.tiny import char_tokenizer, tiny_llama

    train = load_track(est_dir, "balanced", "train")
    tokenizer = char_tokenizer(list(train["context"]) + list(train["text"]) + list(train["anchor"]))
    model = tiny_llama(tokenizer, hidden_size=64, layers=2)
    est_args, training_args, model_args, _ = make_parser().parse_args_and_config([
        "--est_dir", str(est_dir), "--output_dir", str(work / "tiny"), "--learning_rate", "3e-3",
        "--per_device_train_batch_size", "8", "--max_steps", str(steps), "--save_strategy", "no",
        "--logging_steps", str(max(1, steps // 5)), "--gradient_checkpointing", "false", "--report_to", "none",
        "--max_context_chars", "200", "--disable_tqdm", "true",
    ])
    trainer = build_trainer(est_args, training_args, model_args, model, tokenizer)
    started = time.perf_counter()
    trainer.train()
    losses = [round(entry["loss"], 3) for entry in trainer.state.log_history if "loss" in entry]
    print(f"tiny model: {sum(p.numel() for p in model.parameters()):,} parameters, fully fine-tuned for {steps} "
          f"steps in {time.perf_counter() - started:.0f} s; training loss {losses}")
    return model.eval(), tokenizer


def best_time(function, repeats: int):
    best, result = float("inf"), None
    for _ in range(repeats):
        started = time.perf_counter()
        result = function()
        best = min(best, time.perf_counter() - started)
    return best, result


def bench_scoring(est_dir: Path, args, model, tokenizer) -> None:
    from est_baselines.label_scoring import (
        constrained_predict_batch,
        generate_labels,
        predict_batch,
    )

    print(f"\n## Part 2: label scoring and constrained decoding vs generate-then-parse (tiny model, "
          f"{args.threads} torch thread(s))")
    test = load_track(est_dir, "balanced", "test").head(args.utterances)
    contexts, texts = test["context"].fillna("").tolist(), test["text"].tolist()
    anchors = test["anchor"].fillna("").tolist()
    settings = PromptSettings(prompt_mode="joint", prompt_language="zh", max_context_chars=200)
    methods = {"scoring": predict_batch, "constrained": constrained_predict_batch, "generation": generate_labels}
    n, total = len(texts), len(texts) * len(TASKS)
    print(f"\n{n} test utterances, joint prompt, greedy generation (max answer length: the longest valid answer + 2 "
          f"tokens), best of {args.repeats} runs:\n")
    print("| batch size | scoring utt/s | constrained utt/s | generation utt/s | scoring / generation "
          "| constrained / generation | invalid: scoring | invalid: constrained | invalid: generation |")
    print("|---|---|---|---|---|---|---|---|---|")
    ratios: dict[tuple[str, int], float] = {}
    outputs: dict[str, dict[str, list]] = {}
    for batch_size in args.batch_sizes:
        batches = [slice(i, i + batch_size) for i in range(0, n, batch_size)]

        def run(method):
            merged: dict[str, list] = {t.value: [] for t in TASKS}
            for batch in batches:
                for task, labels in method(model, tokenizer, contexts[batch], texts[batch], anchors=anchors[batch],
                                           settings=settings).items():
                    merged[task].extend(labels)
            return merged

        for method in methods.values():  # warm-up
            run(method)
        seconds = {}
        for name, method in methods.items():
            seconds[name], outputs[name] = best_time(lambda: run(method), args.repeats)
        invalid = {name: sum(label not in t.labels for t in TASKS for label in outputs[name][t.value])
                   for name in methods}
        for name in ("scoring", "constrained"):
            ratios[name, batch_size] = seconds["generation"] / seconds[name]
        cells = [f"{n / seconds[name]:.1f}" for name in methods]
        cells += [f"{ratios[name, batch_size]:.2f}x" for name in ("scoring", "constrained")]
        cells += [f"{invalid[name]}/{total} ({invalid[name] / total:.1%})" for name in methods]
        print(f"| {batch_size} | " + " | ".join(cells) + " |")
    print("\nratio = throughput / generate-then-parse throughput, same model, utterances and batches "
          f"(target >= {SPEEDUP_TARGET:.0f}x with 0 invalid labels)")

    def agreement(a: str, b: str) -> str:  # over the decisions where both gave a valid label (last batch size)
        pairs = [(x, y) for t in TASKS for x, y in zip(outputs[a][t.value], outputs[b][t.value])
                 if x is not None and y is not None]
        same = sum(x == y for x, y in pairs)
        return f"{same}/{len(pairs)} ({same / max(len(pairs), 1):.1%})"

    print(f"same label: scoring vs constrained {agreement('scoring', 'constrained')}, scoring vs generation "
          f"{agreement('scoring', 'generation')}, constrained vs generation {agreement('constrained', 'generation')}")
    for (name, batch_size), ratio in ratios.items():
        verdict = "OK" if ratio >= SPEEDUP_TARGET else "MISSED"
        print(f"{name}, batch size {batch_size}: {ratio:.2f}x: {verdict}")
    sizes = " / ".join(str(b) for b in args.batch_sizes)

    def speedups(name: str) -> str:
        return " / ".join(f"{ratios[name, b]:.2f}×" for b in args.batch_sizes)

    ROWS.append(measured.Row(
        "label-constrained prediction vs generate-then-parse (tiny model)",
        f"constrained decoding (default) {speedups('constrained')} at batch {sizes} with {invalid['constrained']} "
        f"invalid labels of {total}; exact scoring {speedups('scoring')} ({invalid['scoring']} invalid); "
        f"generate-then-parse itself wrote {invalid['generation']} invalid labels of {total}",
        f"≥ {SPEEDUP_TARGET:.0f}×, 0 invalid"))


def bench_harness(est_dir: Path, args, model, tokenizer) -> None:
    """Part 3: the project's exact label scoring vs lm-evaluation-harness `multiple_choice` on the same rows."""
    import importlib.util

    import torch
    from lm_eval.api.instance import Instance
    from lm_eval.models.huggingface import HFLM

    from est_baselines.label_scoring import candidate_logprobs

    spec = importlib.util.spec_from_file_location("est_lm_eval_utils", ROOT / "lm_eval_tasks" / "est" / "utils.py")
    tasks_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(tasks_module)
    test = load_track(est_dir, "balanced", "test").head(args.harness_utterances)
    docs = test.to_dict("records")
    n, batch_size = len(docs), args.harness_batch_size
    print(f"\n## Part 3: exact label scoring vs lm-evaluation-harness multiple_choice ({n} test utterances, the "
          f"EST lm-eval tasks' prompts and choices, batch size {batch_size}, best of {args.repeats} runs)")
    # the requests the harness makes for est_emotion / est_transition / est_satisfaction: one per (row, label)
    requests = {task: [(tasks_module._prompt(task, doc), label) for doc in docs for label in task.labels]
                for task in TASKS}
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=batch_size, device="cpu", backend="causal")

    def harness():
        chosen = {}
        for task, pairs in requests.items():
            instances = [Instance("loglikelihood", {}, pair, i) for i, pair in enumerate(pairs)]
            scores = [ll for ll, _ in lm.loglikelihood(instances, disable_tqdm=True)]
            width = len(task.labels)
            chosen[task] = [max(range(width), key=lambda k, r=r: scores[r * width + k]) for r in range(n)]
            chosen[task, "scores"] = scores
        return chosen

    def project():
        chosen = {}
        for task in TASKS:
            prefixes = [tasks_module._prompt(task, doc) for doc in docs]
            rows = [candidate_logprobs(model, tokenizer, prefixes[i:i + batch_size], list(task.labels))
                    for i in range(0, n, batch_size)]
            scores = torch.cat(rows)
            chosen[task] = scores.argmax(-1).tolist()
            chosen[task, "scores"] = scores.flatten().tolist()
        return chosen

    with torch.no_grad():
        harness(), project()  # warm-up
        harness_s, by_harness = best_time(harness, args.repeats)
        project_s, by_project = best_time(project, args.repeats)
    same = sum(a == b for task in TASKS for a, b in zip(by_harness[task], by_project[task]))
    gap = max(abs(a - b) for task in TASKS for a, b in zip(by_harness[task, "scores"], by_project[task, "scores"]))
    ratio = harness_s / project_s
    print("| path | model calls | seconds | utterances/s |")
    print("|---|---|---|---|")
    print(f"| lm-eval HFLM.loglikelihood, one request per (row, label) | {sum(map(len, requests.values())):,} "
          f"requests | {harness_s:.2f} | {n / harness_s:.1f} |")
    print(f"| project candidate_logprobs (prompt once, every label from its cache) | {len(TASKS) * -(-n // batch_size)}"
          f" prompt batches | {project_s:.2f} | {n / project_s:.1f} |")
    print(f"same chosen label: {same}/{n * len(TASKS)}; largest log-likelihood difference {gap:.2e}")
    verdict = "OK" if ratio >= HARNESS_TARGET and same == n * len(TASKS) else "MISSED"
    print(f"project / lm-eval speed: {ratio:.2f}x (target >= {HARNESS_TARGET:.0f}x, same labels): {verdict}")
    ROWS.append(measured.Row(
        f"exact label scoring vs lm-evaluation-harness `multiple_choice` (tiny model, the EST lm-eval tasks' prompts "
        f"and choices, {n} rows × {len(TASKS)} tasks, batch {batch_size})",
        f"{ratio:.2f}× ({project_s:.2f} s vs {harness_s:.2f} s); same chosen label {same} / {n * len(TASKS)}, "
        f"log-likelihoods equal to {gap:.1e}", f"≥ {HARNESS_TARGET:.0f}×, same labels"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, "est_dir", type=Path, help="built dataset (default: build the embedded default in /tmp)")
    add_option(parser, "utterances", type=positive_int, default=64, help="test utterances labelled in part 2")
    add_option(parser, "batch_sizes", type=positive_int, nargs="+", default=[1, 4, 16], help="batch sizes compared")
    add_option(parser, "train_steps", type=positive_int, default=300, help="full fine-tuning steps of the tiny model")
    add_option(parser, "repeats", type=positive_int, default=3)
    add_option(parser, "threads", type=positive_int, default=1, help="torch threads for part 2")
    add_option(parser, "skip_classical", action="store_true")
    add_option(parser, "skip_scoring", action="store_true")
    add_option(parser, "skip_harness", action="store_true", help="skip part 3 (needs lm-eval)")
    add_option(parser, "harness_utterances", type=positive_int, default=64, help="test utterances in part 3")
    add_option(parser, "harness_batch_size", type=positive_int, default=16, help="batch size of both paths in part 3")
    args = parser.parse_args()
    warnings.filterwarnings("ignore", category=FutureWarning)
    with tempfile.TemporaryDirectory(prefix="bench-baselines-") as scratch:
        work = Path(scratch)
        est_dir = args.est_dir
        if est_dir is None:
            started = time.perf_counter()
            est_dir = build_default(work)
            print(f"built the embedded default into {est_dir} in {time.perf_counter() - started:.0f} s (not timed)")
        if not args.skip_classical:
            bench_classical(est_dir)
        if not (args.skip_scoring and args.skip_harness):
            import torch

            torch.set_num_threads(args.threads)
            model, tokenizer = train_tiny_model(est_dir, args.train_steps, work)
            if not args.skip_scoring:
                bench_scoring(est_dir, args, model, tokenizer)
            if not args.skip_harness:
                bench_harness(est_dir, args, model, tokenizer)
        if args.skip_classical or args.skip_scoring or args.skip_harness:
            print("\nnot recorded in bench/results/baselines.json: a part was skipped")
        else:
            measured.record(ROOT / "bench" / "results" / "baselines.json", bench="baselines",
                            command="python bench/bench_baselines.py", rows=ROWS, data_digest=data_digest(est_dir))


if __name__ == "__main__":
    main()
