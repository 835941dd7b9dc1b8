r"""From a built EST dataset to a scored, leaderboard-ready prediction file, in one command.

    python baselines/run.py majority --track balanced --output predictions/majority-balanced.csv
    python baselines/run.py tfidf    --track full     --output predictions/tfidf-full.csv --est_dir est
    python baselines/run.py tfidf-structured --track balanced --output predictions/tfidf-structured-balanced.csv
    python baselines/run.py lora     --track balanced --output predictions/lora-balanced.csv \
        --model_name_or_path meta-llama/Meta-Llama-3-8B [--config baselines/configs/paper.yaml] \
        [-- --max_steps 1000 ...]
    python baselines/run.py chat     --track balanced --output predictions/chat-balanced.csv \
        --base_url http://127.0.0.1:8000/v1 --model_name_or_path Qwen/Qwen2.5-7B-Instruct [--shots 5] \
        [--prompt_mode per-task]

Each command trains on the track's train split (`joint-balanced` for balanced, `joint` for full), predicts the
chosen split (default: test), writes the prediction file (CSV or JSONL: id, emotion, transition, satisfaction) and
prints the metric table computed by `estbench.scoring.score` (gold from the split, or from `est-gold/` next to the data
when the test split was built blind). `--results FILE` also writes the scores as JSON (`estbench.results`), and
`--eval_results MODEL_FOLDER --hub_dataset ORG/est` the model-side entry of the Hub's evaluation results
(`MODEL_FOLDER/.eval_results/<name>-<track>.yaml`, `estbench.hub_eval`).

`chat` trains nothing: it asks a chat model behind any OpenAI-compatible endpoint (`est_baselines.chat`, whose
docstring documents prompts, structured output, the answer parser, retries and the resumable cache).

For `lora`, arguments after `--` go to baselines/lora_finetune.py (they override the YAML recipe).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import estbench.scoring
from estbench.built import data_digest, load_track
from estbench.cli import add_dataclass_arguments, add_option, dataclass_values, non_negative_int, positive_int
from estbench.gold import load_references
from estbench.hub_eval import eval_results_entries, write_eval_results
from estbench.layout import TRACKS
from estbench.prompts import PromptSettings
from estbench.results import ScoreRecord, write_records
from estbench.schema import TASKS
from estbench.submission import check_prediction_path, predictions_frame, write_predictions

from .classical import BASELINES
from .encoder import RECIPE, run_encoder
from .encoder import add_arguments as add_encoder_arguments

DEFAULT_RECIPE = Path(__file__).resolve().parents[1] / "configs" / "paper.yaml"
SUBSAMPLE_SEED = 20240917


def metric_table(scores: dict) -> str:
    """The scores as a Markdown table in the layout of the paper's Table 4 (ALL_A, then A/P/R/F1 per task)."""
    header = ["ALL_A"] + [f"{task.value[:3].title()} {m}" for task in TASKS for m in ("A", "P", "R", "F1")] + ["EM"]
    values = [scores.get("all_accuracy")]
    for task in TASKS:
        values += [scores.get(f"{task.value}_{m}") for m in ("accuracy", "macro_precision", "macro_recall", "macro_f1")]
    values.append(scores.get("exact_match"))
    cells = ["-" if v is None else f"{v:.4f}" for v in values]
    return "\n".join(["| " + " | ".join(header) + " |", "|" + "---|" * len(header), "| " + " | ".join(cells) + " |"])


def run_classical(name: str, est_dir: str, track: str, split: str, train_subsample: int | None = None):
    train = load_track(est_dir, track, "train")
    if train_subsample and train_subsample < len(train):  # seeded, so a rerun trains on the same rows
        train = train.sample(n=train_subsample, random_state=SUBSAMPLE_SEED).sort_index()
    frame = load_track(est_dir, track, split)
    started = time.perf_counter()
    model = BASELINES[name]().fit(train)
    predictions = model.predict(frame)
    print(f"{name}: trained on {len(train)} and predicted {len(frame)} utterances in "
          f"{time.perf_counter() - started:.1f} s", file=sys.stderr)
    return frame, predictions_frame(frame["id"].tolist(), predictions)


def run_lora(args, extra: list[str]):
    from . import lora as lora_finetune
    from .prediction import load_for_prediction, predict_frame

    output_dir = args.output_dir or f"baselines/outputs/lora-{Path(args.model_name_or_path).name}-{args.track}"
    argv = ["--config", str(args.config), "--model_name_or_path", args.model_name_or_path, "--est_dir", args.est_dir,
            "--track", args.track, "--output_dir", output_dir, *extra]
    parsed = lora_finetune.parse(argv)
    adapter = lora_finetune.main(parsed=parsed)
    _, training_args, model_args, loading_args = parsed  # predict with the model loaded as it was trained
    # the prompt settings come back from the adapter's est_prompt.json: the prompts it was trained on, chat included
    model, tokenizer, settings = load_for_prediction(
        adapter, trust_remote_code=training_args.trust_remote_code, device_map=loading_args.device_map,
        load_in_4bit=model_args.load_in_4bit, load_in_8bit=model_args.load_in_8bit)
    frame = load_track(args.est_dir, args.track, args.split)
    table = predict_frame(model, tokenizer, frame, settings=settings, batch_size=args.batch_size, method=args.method)
    return frame, table


def run_chat_baseline(args):
    from .chat import ChatOptions, api_key_from, report, run_chat

    options = ChatOptions(**dataclass_values(args, ChatOptions))
    settings = PromptSettings().override(**dataclass_values(args, PromptSettings))
    frame = load_track(args.est_dir, args.track, args.split)
    if options.limit:
        frame = frame.head(options.limit)
    train = load_track(args.est_dir, args.track, "train") if options.shots else None
    api_key = api_key_from(options.api_key_env, "--api_key_env" in _given or "--api-key-env" in _given)
    run = run_chat(frame, train, model=args.model_name_or_path, options=options, settings=settings, api_key=api_key)
    print(report(run, len(frame)), file=sys.stderr)
    return frame, predictions_frame(frame["id"].tolist(), run.predictions), run.generation


_given: list[str] = []  # the command line as given (which flags were named explicitly)


def parse_args(argv: list[str] | None = None) -> tuple[argparse.Namespace, list[str]]:
    argv = list(sys.argv[1:] if argv is None else argv)
    _given[:] = [arg.split("=", 1)[0] for arg in argv]
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1:]
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("baseline", choices=[*BASELINES, "encoder", "lora", "chat"], help="which baseline to run")
    add_option(parser, "track", choices=TRACKS, required=True, help="leaderboard track")
    add_option(parser, "output", required=True, help="prediction file to write (.csv or .jsonl)")
    add_option(parser, "est_dir", default="est", help="built dataset folder (default: ./est)")
    add_option(parser, "split", choices=["validation", "test"], default="test", help="split to predict and score")
    add_option(parser, "gold", help="gold file of a blind test split (default: <est_dir>-gold/test.parquet)")
    add_option(parser, "results", help="also write the scores (estbench.scoring.score output) to this JSON file")
    add_option(parser, "name", help="the run's name in the --results file and the tables (default: the baseline's)")
    add_option(parser, "eval_results", metavar="MODEL_FOLDER",
               help="also write the Hub's model-side result entry, MODEL_FOLDER/.eval_results/<name>-<track>.yaml "
                    "(needs --hub_dataset)")
    add_option(parser, "hub_dataset", metavar="ORG/NAME",
               help="the Hub dataset (the benchmark, with the eval.yaml the build writes) the entry points to")
    add_option(parser, "bootstrap", type=non_negative_int, default=1000, metavar="N",
                        help="session-bootstrap replicates for the 95%% intervals (default: 1000; 0: none)")
    add_option(parser, "train_subsample", type=positive_int, metavar="N",
                        help="train majority/tfidf on a seeded random subsample of N training utterances (the full "
                        "track has ~1.3M; see baselines/README.md for the measured time and memory)")
    lora = parser.add_argument_group("lora")
    add_option(lora, "model_name_or_path", "--model",
               help="lora: base causal LM (Hub id or local folder), required; encoder: the BERT-style checkpoint "
                    "(default: the recipe's, bert-base-chinese); chat: the served model's name, required")
    add_option(lora, "config", default=DEFAULT_RECIPE, help="training recipe YAML (default: configs/paper.yaml)")
    add_option(lora, "output_dir", help="where the adapter goes (default: baselines/outputs/lora-<model>-<track>)")
    add_option(lora, "batch_size", type=positive_int, default=16, help="prediction batch size (default: 16)")
    add_option(lora, "method", choices=["constrained", "score"], default="constrained",
                      help="how predict.py chooses labels: constrained decoding (default) or exact scoring")
    add_encoder_arguments(parser)
    from .chat import ChatOptions

    chat = parser.add_argument_group("chat (any OpenAI-compatible chat-completions endpoint; est_baselines.chat)")
    add_dataclass_arguments(chat, ChatOptions)
    add_dataclass_arguments(chat, PromptSettings, optional=True, exclude=("chat_template",),
                            help_prefix="chat (default: the estbench.prompts default): ")
    if argv[:1] == ["lora"] and {"-h", "--help"} & set(argv + extra):
        from .lora import make_parser

        print(parser.format_help() + "\nLoRA training options (give them after --; they override the recipe YAML):\n")
        print(make_parser().format_help())
        parser.exit()
    args = parser.parse_args(argv)
    # every argument is checked before any work (a run can train for hours before it writes the file)
    if args.baseline in ("lora", "chat") and not args.model_name_or_path:
        parser.error(f"{args.baseline} needs --model_name_or_path")
    if args.baseline == "chat" and not args.base_url:
        parser.error("chat needs --base_url (the endpoint's base URL, e.g. http://127.0.0.1:8000/v1)")
    if args.baseline != "chat":
        named = sorted({f"--{f.name}" for f in (*dataclasses.fields(ChatOptions), *dataclasses.fields(PromptSettings))
                        if getattr(args, f.name, None) not in (None, f.default)})
        if named:
            parser.error(f"{', '.join(named)}: options of chat (lora takes its prompt settings after --)")
    if bool(args.eval_results) != bool(args.hub_dataset):
        parser.error("--eval_results and --hub_dataset go together")
    if args.baseline == "chat":
        try:
            ChatOptions(**dataclass_values(args, ChatOptions))
        except ValueError as error:
            parser.error(str(error))
    if extra and args.baseline != "lora":
        parser.error("arguments after -- are only for lora")
    for problem in _argument_problems(args):
        parser.error(problem)
    return args, extra


def _argument_problems(args) -> list[str]:
    problems = []
    try:
        check_prediction_path(args.output)
    except ValueError as error:
        problems.append(f"--output {error}")
    if not Path(args.est_dir).is_dir():
        problems.append(f"--est_dir {args.est_dir}: no such folder (build it with `python est_dataset.py build`)")
    if args.results and Path(args.results).suffix.lower() != ".json":
        problems.append(f"--results {args.results}: the scores file must end in .json")
    if args.baseline == "lora" and not Path(args.config).is_file():
        problems.append(f"--config {args.config}: no such recipe file")
    if args.baseline == "encoder" and not Path(args.encoder_recipe).is_file():
        problems.append(f"--encoder_recipe {args.encoder_recipe}: no such recipe file")
    return problems


def _command(args) -> str:
    """The run.py command that reproduces a results file (folders of the run's own left out)."""
    command = f"python baselines/run.py {args.baseline} --track {args.track}"
    if args.train_subsample:
        command += f" --train_subsample {args.train_subsample}"
    if args.baseline == "chat":  # the endpoint's URL is this machine's business, not the run's
        command += f" --model_name_or_path {args.model_name_or_path}"
        for name in ("prompt_mode", "prompt_language", "max_context_chars", "shots", "shot_seed", "structured",
                     "reasoning_tokens"):
            value = getattr(args, name)
            if value not in (None, 0, "auto"):
                command += f" --{name} {value}"
    if args.baseline == "encoder":
        model = args.model_name_or_path
        if model:  # a local folder by its name only: where it sits on this machine means nothing elsewhere
            command += f" --model_name_or_path {Path(model).name if Path(model).is_dir() else model}"
        if Path(args.encoder_recipe).resolve() != Path(RECIPE).resolve():
            command += f" --encoder_recipe baselines/configs/{Path(args.encoder_recipe).name}"
    return command


def main(argv: list[str] | None = None) -> dict:
    args, extra = parse_args(argv)
    try:
        return _run(args, extra)
    except (FileNotFoundError, ValueError) as error:  # bad input: one clear line, no traceback
        raise SystemExit(f"error: {error}") from error


def _run(args, extra: list[str]) -> dict:
    generation = None
    if args.baseline == "chat":
        frame, table, generation = run_chat_baseline(args)
    elif args.baseline == "lora":
        frame, table = run_lora(args, extra)
    elif args.baseline == "encoder":
        frame, table = run_encoder(args, args.est_dir, args.track, args.split)
    else:
        frame, table = run_classical(args.baseline, args.est_dir, args.track, args.split, args.train_subsample)
    path = write_predictions(table, args.output)
    print(f"wrote {len(table)} predictions to {path}", file=sys.stderr)
    references = load_references(args.est_dir, args.track, args.split, frame, gold=args.gold)
    out = estbench.scoring.score(
        {task.value: references[task.value].tolist() for task in TASKS},
        {task.value: table[task.value].tolist() for task in TASKS},
        bootstrap=args.bootstrap, session_ids=frame["session_id"].tolist() if args.bootstrap else None,
    )
    scores = {key: value for key, value in out.items() if not key.endswith("_ci")}
    intervals = {key[:-3]: value for key, value in out.items() if key.endswith("_ci")}
    print(f"\n{args.baseline} on the {args.track} track, {args.split} split ({len(table)} utterances):\n")
    print(metric_table(scores))
    if intervals:
        print("\n95% session-bootstrap intervals of the macro-F1: " + ", ".join(
            f"{task.value} [{intervals[f'{task.value}_macro_f1'][0]:.4f}, {intervals[f'{task.value}_macro_f1'][1]:.4f}]"
            for task in TASKS))
    if args.results:
        record = ScoreRecord(model=args.name or args.baseline, track=args.track, split=args.split,
                             utterances=len(table), scores=scores, intervals=intervals, description=_command(args),
                             train_rows=args.train_subsample or 0, data_digest=data_digest(args.est_dir),
                             generation=dataclasses.asdict(generation) if generation else {})
        write_records(args.results, record)
    if args.eval_results:
        path = write_eval_results(args.eval_results, f"{args.name or args.baseline}-{args.track}", eval_results_entries(
            scores, dataset_id=args.hub_dataset, track=args.track, notes=_notes(args, generation, len(table))))
        print(f"wrote the Hub's evaluation results entry to {path}", file=sys.stderr)
    return scores


def _notes(args, generation, rows: int) -> str:
    """The `.eval_results` note: how the run was made (what the Hub page shows beside the value)."""
    if generation is None:
        return f"{args.baseline}, {args.split} split"
    shots = f"{generation.shots}-shot" if generation.shots else "zero-shot"
    return (f"{shots}, {generation.prompt_mode} prompt, {generation.answers} answers; {generation.invalid_total} "
            f"unreadable answers of {rows * len(generation.invalid)} got the fallback label")


if __name__ == "__main__":
    main()
