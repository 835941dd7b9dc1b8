"""Chat/API-model evaluation on a local OpenAI-compatible server: `transformers serve` on a tiny chat model.

    python bench/bench_chat.py [--rows 32] [--compare-concurrency 4]

Builds a small simulated corpus (1,000 sessions) and a tiny random chat model (est_baselines.tiny, CHAT_TEMPLATE)
in a temp folder, serves the model with `transformers serve` on 127.0.0.1 (CPU), then prints beside each target:

Records the figures in bench/results/chat.json (`estbench.measured`).

1. requests per second of `run.py chat`'s client at concurrency 1 and 16 (joint prompts, the first --rows test rows,
   no cache);
2. the cache hit rate when the same run is repeated from its cache (a resumed run; target 100 %);
3. invalid labels: without structured output (free text read by estbench.answers), and with it (target 0). `transformers
   serve` ignores `response_format` (it logs "Ignoring unsupported fields"), so the structured row reports the
   replies outside the schema instead of an enforced 0; vLLM, which enforces it, needs a GPU (bench/gpu_check.sh);
4. `run.py chat` beside lm-evaluation-harness `local-chat-completions` (`est_gen_joint`, `--apply_chat_template`) on
   the same rows at the same concurrency: wall time of each command (process start included), the ratio, and how
   many of the labels agree.

The tiny model is random: its replies are noise and nearly every answer is unreadable; what is measured is the
client, the server round trips and the bookkeeping, not a model's accuracy.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESUME_TARGET = 1.0


def _run_chat(frame, served, options, **kw):
    from est_baselines.chat import run_chat

    started = time.perf_counter()
    run = run_chat(frame, None, model=served.model, options=options, progress=False, **kw)
    return run, time.perf_counter() - started


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=32, help="test rows per measurement (default: 32)")
    parser.add_argument("--compare-concurrency", type=int, default=4,
                        help="concurrency of the runner vs lm-eval comparison (default: 4)")
    args = parser.parse_args(argv)

    from est_baselines.chat import ChatOptions, chat_url
    from est_baselines.harness import predictions_from_lm_eval
    from est_baselines.tiny import save_tiny_model
    from estbench import measured
    from estbench.built import load_track
    from estbench.testing.chat_servers import TransformersServe

    env = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "NO_PROXY": "127.0.0.1",
           "TOKENIZERS_PARALLELISM": "false"}
    print(f"# bench_chat: {args.rows} rows, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="est-bench-chat-") as tmp:
        tmp = Path(tmp)
        env["EST_CACHE_DIR"] = str(tmp / "cache")
        os.environ["EST_CACHE_DIR"] = env["EST_CACHE_DIR"]
        subprocess.run([sys.executable, str(ROOT / "est_dataset.py"), "build", "--sessions", "1000", "--out",
                        str(tmp / "est")], check=True, env=env, capture_output=True)
        train = load_track(tmp / "est", "full", "train")
        model = save_tiny_model(tmp / "tiny-chat", [*train["context"], *train["text"], *train["anchor"]], chat=True)
        frame = load_track(tmp / "est", "balanced", "test").head(args.rows)
        with TransformersServe(model, tmp / "serve.log") as served:
            _run_chat(frame.head(2), served, ChatOptions(base_url=served.base_url, no_cache=True, structured="off"))
            print("\n## 1. Requests per second (joint prompts, no cache)\n")
            print("| concurrency | requests | seconds | requests/s |\n|---|---|---|---|")
            speed = {}
            for concurrency in (1, 16):
                run, seconds = _run_chat(frame, served, ChatOptions(base_url=served.base_url, no_cache=True,
                                                                    structured="off", concurrency=concurrency))
                speed[concurrency] = run.stats.requests / seconds
                print(f"| {concurrency} | {run.stats.requests} | {seconds:.1f} | {run.stats.requests / seconds:.2f} |")
            rows = [measured.Row(f"chat runner on `transformers serve` (tiny random chat model, CPU, {len(frame)} "
                                 "joint requests)", f"{speed[1]:.2f} requests/s at concurrency 1, {speed[16]:.2f} at "
                                 "concurrency 16", "none (figures)")]

            print("\n## 2. Resume: the same run again from its cache\n")
            cached = ChatOptions(base_url=served.base_url, cache=str(tmp / "resume.sqlite"), structured="off",
                                 concurrency=16)
            _run_chat(frame, served, cached)
            again, seconds = _run_chat(frame, served, cached)
            rate = again.stats.cached / again.stats.requests
            print(f"cache hit rate {rate:.0%} ({again.stats.cached}/{again.stats.requests}, {again.stats.sent} HTTP "
                  f"calls, {seconds:.2f} s) | target {RESUME_TARGET:.0%} {'✔' if rate >= RESUME_TARGET else '✘'}")
            rows.append(measured.Row("chat runner: the same run again from its cache (a resumed run)",
                                     f"cache hit rate {rate:.0%} ({again.stats.cached}/{again.stats.requests}, "
                                     f"{again.stats.sent} HTTP calls)", f"{RESUME_TARGET:.0%}"))

            print("\n## 3. Invalid labels (unreadable answers written as the fallback label)\n")
            print("| output | answers | unreadable emotion / transition / satisfaction | replies outside the schema |")
            print("|---|---|---|---|")
            said = {}
            for structured in ("off", "on"):
                run, _ = _run_chat(frame, served, ChatOptions(base_url=served.base_url, no_cache=True,
                                                              structured=structured, concurrency=16))
                info = run.generation
                invalid = " / ".join(f"{n}/{len(frame)}" for n in info.invalid.values())
                outside = f"{info.schema_violations}/{info.requests}" if structured == "on" else "-"
                said[structured] = (invalid, outside)
                print(f"| structured={structured} | {info.answers} | {invalid} | {outside} |")
            rows.append(measured.Row(
                "chat runner: unreadable answers of the tiny random model (emotion / transition / satisfaction)",
                f"without structured output {said['off'][0]}; with `--structured on` {said['on'][0]}, "
                f"{said['on'][1]} replies outside the schema: `transformers serve` ignores `response_format`, so the "
                "target (0 with structured output) is **unmeasured** here (needs vLLM on a GPU)",
                "0 with structured output"))
            print("(transformers serve ignores response_format: the structured target of 0 invalid needs a server "
                  "that enforces it, e.g. vLLM on a GPU; not measured here)")

            print(f"\n## 4. run.py chat vs lm-eval local-chat-completions (concurrency {args.compare_concurrency}, "
                  f"{len(frame)} rows, est_gen_joint)\n")
            runner_cmd = [sys.executable, str(ROOT / "baselines" / "run.py"), "chat", "--base_url", served.base_url,
                          "--model_name_or_path", served.model, "--track", "balanced", "--est_dir", str(tmp / "est"),
                          "--output", str(tmp / "runner.csv"), "--structured", "off", "--limit", str(len(frame)),
                          "--no_cache", "--concurrency", str(args.compare_concurrency), "--bootstrap", "0"]
            lm_cmd = [sys.executable, "-m", "lm_eval", "run", "--model", "local-chat-completions", "--model_args",
                      f"model={served.model},base_url={chat_url(served.base_url)},"
                      f"num_concurrent={args.compare_concurrency},tokenized_requests=False,tokenizer_backend=None",
                      "--apply_chat_template", "--tasks", "est_gen_joint", "--include_path",
                      str(ROOT / "lm_eval_tasks"), "--metadata", json.dumps({"data_dir": str(tmp / "est")}),
                      "--gen_kwargs", json.dumps({"until": ["</s>"]}), "--limit", str(len(frame)),
                      "--output_path", str(tmp / "lm"), "--log_samples"]
            times = {}
            for name, command in (("run.py chat", runner_cmd), ("lm-eval", lm_cmd)):
                started = time.perf_counter()
                subprocess.run(command, check=True, env=env, capture_output=True)
                times[name] = time.perf_counter() - started
            import pandas as pd

            runner = pd.read_csv(tmp / "runner.csv").set_index("id")
            _, lm = predictions_from_lm_eval(tmp / "lm")
            lm = lm.set_index("id").loc[runner.index]
            same = int((runner == lm).all(axis=1).sum())
            print("| command | seconds (process start included) |\n|---|---|")
            for name, seconds in times.items():
                print(f"| {name} | {times[name]:.1f} |")
            print(f"\nlm-eval ÷ run.py chat: {times['lm-eval'] / times['run.py chat']:.2f}× the time; same labels "
                  f"on {same}/{len(runner)} rows")
            rows.append(measured.Row(
                f"`run.py chat` vs `lm_eval --model local-chat-completions` (`est_gen_joint`, same {len(frame)} rows, "
                f"concurrency {args.compare_concurrency}, each command timed whole)",
                f"{times['run.py chat']:.1f} s vs {times['lm-eval']:.1f} s: lm-eval takes "
                f"{times['lm-eval'] / times['run.py chat']:.2f}× the time; same labels on {same}/{len(runner)} rows",
                "same labels"))
            rows.append(measured.Row("GPU: `bench/gpu_check.sh` and `run.py chat` against `vllm serve`",
                                     "**unmeasured**: no GPU machine ran this bench", "-"))
            measured.record(ROOT / "bench" / "results" / "chat.json", bench="chat",
                            command="python bench/bench_chat.py", rows=rows)  # a random model: no corpus digest


if __name__ == "__main__":
    main()
