"""Chat/API-model evaluation against real HTTP servers on 127.0.0.1: `transformers serve` on a tiny model made here,
a fault-injecting proxy in front of it, and a scripted server for replies a tiny model does not write (reasoning,
unreadable, structured). The runner (`run.py chat`), the lm-eval `est_gen` tasks and the inspect task send the same
prompts, get the same replies, read them with the same parser and score identically; faults are retried; a killed
run resumes without repeating a completed call and writes the identical file. Nothing reaches the network."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

pytest.importorskip("httpx")

from est_baselines.chat import DEFAULT_ANSWER_TOKENS, ChatError, ChatOptions, ResponseCache, chat_url, run_chat
from estbench.answers import FALLBACK_LABELS, answer_schema, parse_answer
from estbench.built import load_track
from estbench.hub_eval import BENCHMARK_TASKS, EVAL_FILE
from estbench.prompts import build_chat_prompt, chat_answer
from estbench.schema import EMOTIONS, TASK_NAMES, TASKS, Task
from estbench.scoring import mean_macro_f1, score
from estbench.testing.chat_servers import FaultProxy, ScriptedChatServer, TransformersServe

ROOT = Path(__file__).resolve().parents[1]
RUN = [sys.executable, str(ROOT / "baselines" / "run.py")]
ROWS = 6
ENV = {**os.environ, "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "NO_PROXY": "127.0.0.1",
       "no_proxy": "127.0.0.1", "TOKENIZERS_PARALLELISM": "false"}


@pytest.fixture(scope="module")
def chat_model(small_est, tmp_path_factory):
    from est_baselines.tiny import save_tiny_model

    frame = load_track(small_est, "full", "train")
    return save_tiny_model(tmp_path_factory.mktemp("chat") / "tiny-chat",
                           list(frame["context"]) + list(frame["text"]) + list(frame["anchor"]), chat=True)


@pytest.fixture(scope="module")
def served(chat_model, tmp_path_factory):
    with TransformersServe(chat_model, tmp_path_factory.mktemp("serve") / "serve.log") as server:
        yield server


def _test_rows(est, n=ROWS, track="balanced"):
    """The first n test rows that ask distinct questions (the authored corpus repeats some utterances, and a
    repeated question is one request)."""
    rows = load_track(est, track, "test")
    return rows.drop_duplicates(subset=["context", "text", "anchor"]).head(n)


def _options(base_url, tmp_path, **values) -> ChatOptions:
    return ChatOptions(base_url=base_url, cache=str(tmp_path / "cache.sqlite"), **values)


# --- one prompt and parser module, three paths ----------------------------------------------------------------------

def test_runner_lm_eval_and_inspect_send_the_same_prompt_and_score_identically(served, small_est, tmp_path):
    output, cache = tmp_path / "runner.csv", tmp_path / "cache.sqlite"
    run = subprocess.run([*RUN, "chat", "--base-url", served.base_url, "--model", served.model, "--track", "balanced",
                          "--est-dir", str(small_est), "--output", str(output), "--structured", "off", "--limit",
                          str(ROWS), "--cache", str(cache), "--bootstrap", "0"],
                         capture_output=True, text=True, env=ENV, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert f"{ROWS} requests (0 from the cache, {ROWS} answered now" in run.stderr
    frame = _test_rows(small_est)
    runner = run_chat(frame, None, model=served.model, progress=False,
                      options=_options(served.base_url, tmp_path, structured="off"))
    assert runner.stats.cached == ROWS  # the CLI's replies, read back from the cache
    runner_replies = [reply["content"] for reply in runner.replies["emotion+transition+satisfaction"]]

    lm_out = tmp_path / "lm"
    lm = subprocess.run([
        sys.executable, "-m", "lm_eval", "run", "--model", "local-chat-completions", "--model_args",
        f"model={served.model},base_url={chat_url(served.base_url)},num_concurrent=2,max_retries=2,"
        "tokenized_requests=False,tokenizer_backend=None", "--apply_chat_template", "--tasks", "est_gen_joint",
        "--include_path", str(ROOT / "lm_eval_tasks"), "--metadata", json.dumps({"data_dir": str(small_est)}),
        # transformers serve refuses an empty stop list; the EOS text stops where generation stops anyway
        "--gen_kwargs", json.dumps({"until": ["</s>"]}), "--limit", str(ROWS), "--output_path", str(lm_out),
        "--log_samples"], capture_output=True, text=True, env=ENV, timeout=600)
    assert lm.returncode == 0, lm.stderr[-3000:]
    samples = [json.loads(line) for line in next(lm_out.rglob("samples_est_gen_joint_*.jsonl")).read_text(
        encoding="utf-8").splitlines()]
    lm_replies = {s["doc"]["id"]: s["resps"][0][0] for s in samples}
    lm_messages = {s["doc"]["id"]: s["arguments"]["gen_args_0"]["arg_0"] for s in samples}  # [the messages' JSON]
    lm_prompts = {key: json.loads(value[0] if isinstance(value, list) else value)[-1]["content"]
                  for key, value in lm_messages.items()}

    logs = tmp_path / "inspect"
    inspect = subprocess.run([
        str(Path(sys.executable).with_name("inspect")), "eval", str(ROOT / "inspect_tasks" / "est.py") + "@est",
        "--model", f"openai-api/local/{served.model}", "-T", f"data_dir={small_est}", "-T", f"limit={ROWS}",
        "--log-dir", str(logs), "--log-format", "json", "--display", "none", "--max-connections", "2"],
        capture_output=True, text=True, timeout=600,
        env={**ENV, "LOCAL_BASE_URL": served.base_url, "LOCAL_API_KEY": "unused", "INSPECT_LOG_DIR": str(logs)})
    assert inspect.returncode == 0, inspect.stdout[-2000:] + inspect.stderr[-2000:]
    log = json.loads(next(logs.glob("*.json")).read_text(encoding="utf-8"))
    inspect_replies = {s["id"]: s["output"]["choices"][0]["message"]["content"] for s in log["samples"]}
    inspect_replies = {k: v if isinstance(v, str) else "".join(part.get("text", "") for part in v)
                       for k, v in inspect_replies.items()}
    inspect_prompts = {s["id"]: s["input"][-1]["content"] for s in log["samples"]}

    ids = list(frame["id"])
    # the same question, word for word, from all three
    for i, row in enumerate(frame.itertuples()):
        prompt = build_chat_prompt(row.context, row.text, TASKS, anchor=row.anchor)
        assert lm_prompts[row.id] == prompt == inspect_prompts[row.id]
    # the same greedy replies from the one server (different prompts would give different text)
    assert [lm_replies[i] for i in ids] == runner_replies == [inspect_replies[i] for i in ids]
    # read by the same parser into the same labels, scored identically by the scoring core
    from est_baselines.harness import predictions_from_lm_eval

    _, lm_table = predictions_from_lm_eval(lm_out)
    written = load_track(small_est, "balanced", "test").set_index("id").loc[ids]
    runner_table = __import__("pandas").read_csv(output).set_index("id").loc[ids]
    inspect_labels = {task: [next(sc["metadata"]["predicted"] for name, sc in s["scores"].items() if name == task)
                             for s in sorted(log["samples"], key=lambda s: ids.index(s["id"]))]
                      for task in TASK_NAMES}
    gold = {task: list(written[task]) for task in TASK_NAMES}
    scores = [score(gold, {t: list(runner_table[t]) for t in TASK_NAMES}),
              score(gold, {t: list(lm_table.set_index("id").loc[ids][t]) for t in TASK_NAMES}),
              score(gold, inspect_labels)]
    assert scores[0] == scores[1] == scores[2]
    lm_results = json.loads(next(lm_out.rglob("results_*.json")).read_text(encoding="utf-8"))["results"]
    for task in TASK_NAMES:
        assert lm_results["est_gen_joint"][f"{task}_macro_f1,est"] == pytest.approx(scores[0][f"{task}_macro_f1"])
    inspect_metrics = {s["name"]: s["metrics"] for s in log["results"]["scores"]}
    for task in TASK_NAMES:
        assert inspect_metrics[task]["macro_f1"]["value"] == pytest.approx(scores[0][f"{task}_macro_f1"])
        assert inspect_metrics[task]["accuracy"]["value"] == pytest.approx(scores[0][f"{task}_accuracy"])


def test_the_three_paths_share_one_answer_budget_and_import_only_estbench():
    template = (ROOT / "lm_eval_tasks" / "est" / "_est_gen_template_yaml").read_text(encoding="utf-8")
    assert f"max_gen_toks: {DEFAULT_ANSWER_TOKENS}\n" in template
    assert f"ANSWER_TOKENS = {DEFAULT_ANSWER_TOKENS} " in (ROOT / "inspect_tasks" / "est.py").read_text("utf-8")
    for path in (ROOT / "lm_eval_tasks" / "est" / "utils.py", ROOT / "inspect_tasks" / "est.py"):
        text = path.read_text(encoding="utf-8")
        assert "est_baselines" not in text.replace("est_baselines.chat.DEFAULT_ANSWER_TOKENS", "")
        assert "情绪的候选类别" not in text and "Worry" not in text  # no prompt text or label copied


# --- faults, retries, resume ------------------------------------------------------------------------------------------

def test_429_500_timeouts_and_dropped_connections_are_retried_and_retry_after_is_honoured(served, small_est,
                                                                                          tmp_path):
    frame = _test_rows(small_est, 4)
    clean = run_chat(frame, None, model=served.model, progress=False,
                     options=_options(served.base_url, tmp_path, structured="off", no_cache=True))
    waits = []

    async def recorded_sleep(seconds):
        waits.append(seconds)

    # the stall outlasts the client's timeout by far, and the timeout leaves a busy 2-core machine's tiny model time to
    # answer every other request (3 s timed out clean requests too under the full suite's load)
    faults = {1: ("status", 429, "7"), 2: ("status", 500), 3: ("status", 503, "2"), 4: ("stall", 20.0),
              5: ("drop",)}
    with FaultProxy(served.base_url, faults) as proxy:
        faulty = run_chat(frame, None, model=served.model, progress=False, sleep=recorded_sleep,
                          options=_options(proxy.base_url, tmp_path, structured="off", no_cache=True, concurrency=1,
                                           request_timeout=8.0))
    assert faulty.predictions == clean.predictions
    assert [r["content"] for r in faulty.replies["emotion+transition+satisfaction"]] == \
        [r["content"] for r in clean.replies["emotion+transition+satisfaction"]]
    retries = faulty.stats.retries
    assert retries["HTTP 429"] == 1 and retries["HTTP 500"] == 1 and retries["HTTP 503"] == 1
    assert retries["timeout"] == 1 and sum(n for cause, n in retries.items() if cause.startswith("connection")) == 1
    assert waits[0] >= 7 and waits[2] >= 2  # Retry-After: at least what the server asked
    assert len(waits) == 5 and faulty.stats.sent == 4 + 5


def test_a_client_error_stops_the_run_at_once_with_the_servers_message(served, small_est, tmp_path):
    with FaultProxy(served.base_url, {1: ("status", 401)}) as proxy:
        with pytest.raises(ChatError, match="HTTP 401"):
            run_chat(_test_rows(small_est, 2), None, model=served.model, progress=False,
                     options=_options(proxy.base_url, tmp_path, structured="off", concurrency=1))
        assert len(proxy.log) == 1  # not retried


def test_a_killed_run_resumes_without_repeating_a_completed_call_and_writes_the_identical_file(served, small_est,
                                                                                              tmp_path):
    rows = 8
    command = [*RUN, "chat", "--model", served.model, "--track", "balanced", "--est-dir", str(small_est),
               "--structured", "off", "--limit", str(rows), "--bootstrap", "0", "--concurrency", "2"]
    with FaultProxy(served.base_url, hang_after=3) as proxy:
        killed = subprocess.Popen([*command, "--base-url", proxy.base_url, "--output", str(tmp_path / "a.csv"),
                                   "--cache", str(tmp_path / "a.sqlite")], env=ENV, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 300
        while proxy.completed < 3 and time.monotonic() < deadline and killed.poll() is None:
            time.sleep(0.1)
        assert proxy.completed >= 3 and killed.poll() is None
        time.sleep(0.5)  # let the client store what it got
        killed.send_signal(signal.SIGKILL)
        killed.wait(30)
        assert not (tmp_path / "a.csv").exists()
        done_before = ResponseCache(tmp_path / "a.sqlite").keys()
        assert 3 <= len(done_before) < rows
        proxy.hang_after = None
        proxy.release()
        before = len(proxy.bodies)
        resumed = subprocess.run([*command, "--base-url", proxy.base_url, "--output", str(tmp_path / "a.csv"),
                                  "--cache", str(tmp_path / "a.sqlite")], capture_output=True, text=True, env=ENV,
                                 timeout=600)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
        asked_again = [ResponseCache.key(chat_url(proxy.base_url), body) for body in proxy.bodies[before:]]
        assert not set(asked_again) & done_before  # 0 repeated completed calls
        distinct = ResponseCache(tmp_path / "a.sqlite").keys()  # one request per distinct question of the rows
        assert len(set(asked_again)) == len(asked_again) == len(distinct) - len(done_before)
        assert f"({len(done_before)} from the cache" in resumed.stderr
        fresh = subprocess.run([*command, "--base-url", proxy.base_url, "--output", str(tmp_path / "b.csv"),
                                "--cache", str(tmp_path / "b.sqlite")], capture_output=True, text=True, env=ENV,
                               timeout=600)
        assert fresh.returncode == 0, fresh.stderr[-2000:]
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


# --- what the parser reads and what the run counts --------------------------------------------------------------------

def _labels_for(body) -> dict[str, str]:
    """A deterministic 'model': labels chosen from the question's text, so every row has its own answer."""
    prompt = body["messages"][-1]["content"]
    emotion = EMOTIONS[len(prompt) % len(EMOTIONS)]
    from estbench.schema import EMOTION_TO_POLARITY, EMOTION_TO_SATISFACTION

    polarity = EMOTION_TO_POLARITY[emotion]
    return {"emotion": emotion, "transition": f"Neutral to {polarity}",
            "satisfaction": EMOTION_TO_SATISFACTION[emotion]}


def test_reasoning_is_set_aside_and_unreadable_answers_are_counted_and_filled_in(small_est, tmp_path):
    styles = ["plain", "think", "reasoning_field", "unclosed_think", "nonsense", "json_chinese"]

    def script(body):
        labels = _labels_for(body)
        style = styles[len(script.seen) % len(styles)]
        script.seen.append((style, labels))
        answer = chat_answer(labels, TASKS)
        if style == "think":
            return f"<think>先看情绪。情绪：Anger？不对。\n</think>\n{answer}", ""
        if style == "reasoning_field":
            return answer, "情绪：Insult（想错了）"
        if style == "unclosed_think":
            return "<think>情绪：Worry，还要再想想", ""
        if style == "nonsense":
            return "我不确定。", ""
        if style == "json_chinese":
            return chat_answer(labels, TASKS, "zh-labels", "json"), ""
        return answer, ""

    script.seen = []
    frame = _test_rows(small_est, 12, track="full")  # the small corpus's balanced test has fewer distinct rows
    assert len(frame) == 12
    with ScriptedChatServer(script) as server:
        run = run_chat(frame, None, model="scripted", progress=False,
                       options=_options(server.base_url, tmp_path, structured="off", no_cache=True, concurrency=1))
    assert run.generation.answers == "parsed" and run.generation.invalid == {t: 4 for t in TASK_NAMES}
    for (style, labels), *predicted in zip(script.seen, *(run.predictions[t] for t in TASK_NAMES)):
        expected = FALLBACK_LABELS if style in ("unclosed_think", "nonsense") else labels
        assert dict(zip(TASK_NAMES, predicted)) == {t: expected[t] for t in TASK_NAMES}, style


def test_structured_output_is_requested_with_the_label_enums_and_refused_schemas_fall_back(small_est, tmp_path):
    def script(body):
        labels = _labels_for(body)
        if "response_format" in body:  # a server that enforces the schema writes schema JSON
            schema = body["response_format"]["json_schema"]["schema"]
            assert schema == answer_schema(TASKS)
            return json.dumps(labels), ""
        return "情绪：" + labels["emotion"], ""  # free text, and only one line of it

    frame = _test_rows(small_est, 5)
    with ScriptedChatServer(script) as server:
        run = run_chat(frame, None, model="scripted", progress=False,
                       options=_options(server.base_url, tmp_path / "a", no_cache=True))
        assert run.generation.answers == "structured" and run.generation.invalid_total == 0
        assert run.generation.schema_violations == 0
        assert all("JSON" in body["messages"][-1]["content"] for body in server.bodies)
        assert len(server.bodies) == 5  # the probe's reply is reused, not asked twice
        with FaultProxy(server.base_url, {1: ("status", 400)}) as proxy:
            refused = run_chat(frame, None, model="scripted", progress=False,
                               options=_options(proxy.base_url, tmp_path / "b", no_cache=True))
    assert refused.generation.answers == "parsed"
    assert refused.generation.invalid == {"emotion": 0, "transition": 5, "satisfaction": 5}
    assert "response_format" not in server.bodies[-1]


def test_few_shot_examples_are_seeded_spread_over_the_classes_and_the_same_for_every_row(small_est, tmp_path):
    with ScriptedChatServer(lambda body: (chat_answer(_labels_for(body), TASKS), "")) as server:
        train = load_track(small_est, "balanced", "train")
        for seed in (0, 0, 1):
            run_chat(_test_rows(small_est, 3), train, model="scripted", progress=False,
                     options=_options(server.base_url, tmp_path, structured="off", no_cache=True, shots=7,
                                      shot_seed=seed))
    shots = [body["messages"][:-1] for body in server.bodies]
    assert all(len(turns) == 14 for turns in shots)
    assert shots[0] == shots[1] == shots[2] == shots[3] == shots[4] == shots[5] != shots[6]
    answers = [parse_answer(turn["content"], TASKS)["emotion"] for turn in shots[0][1::2]]
    assert set(answers) == set(train["emotion"])  # every class present in train appears


def test_the_api_key_comes_from_the_named_variable_and_is_never_logged_or_cached(small_est, tmp_path):
    with ScriptedChatServer(lambda body: (chat_answer(_labels_for(body), TASKS), "")) as server:
        command = [*RUN, "chat", "--base-url", server.base_url, "--model", "scripted", "--track", "balanced",
                   "--est-dir", str(small_est), "--output", str(tmp_path / "p.csv"), "--limit", "2", "--cache",
                   str(tmp_path / "c.sqlite"), "--api_key_env", "EST_TEST_KEY", "--bootstrap", "0",
                   "--results", str(tmp_path / "r.json")]
        missing = subprocess.run(command, capture_output=True, text=True, env=ENV)
        assert missing.returncode == 1
        assert missing.stderr.strip().splitlines()[-1] == \
            "error: --api_key_env EST_TEST_KEY: that environment variable is not set"
        secret = "sk-test-5ecret-value"
        done = subprocess.run(command, capture_output=True, text=True, env={**ENV, "EST_TEST_KEY": secret})
        assert done.returncode == 0, done.stderr[-2000:]
    assert server.authorization == [f"Bearer {secret}"] * len(server.bodies)
    for text in (done.stdout, done.stderr, (tmp_path / "c.sqlite").read_bytes().decode("latin-1"),
                 (tmp_path / "r.json").read_text(encoding="utf-8")):
        assert secret not in text


def test_the_results_record_and_the_hub_entry_say_how_the_model_was_asked(small_est, tmp_path):
    seen = []

    def script(body):  # every third reply says nothing readable
        seen.append(body)
        return (chat_answer(_labels_for(body), TASKS) if len(seen) % 3 else "没法判断", "")

    with ScriptedChatServer(script) as server:
        done = subprocess.run([*RUN, "chat", "--base-url", server.base_url, "--model", "scripted-7b", "--track",
                               "balanced", "--est-dir", str(small_est), "--output", str(tmp_path / "p.csv"),
                               "--limit", "6", "--no_cache", "--structured", "off", "--bootstrap", "0", "--results",
                               str(tmp_path / "r.json"), "--eval_results", str(tmp_path / "model-repo"),
                               "--hub_dataset", "org/est", "--name", "scripted"],
                              capture_output=True, text=True, env=ENV)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "emotion 2/6 (-> No Emotion)" in done.stderr
    record = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert record["generation"]["invalid"] == {"emotion": 2, "transition": 2, "satisfaction": 2}
    assert record["generation"]["fallback"] == FALLBACK_LABELS
    expected = {"served_model": "scripted-7b", "shots": 0, "prompt_mode": "joint", "answers": "parsed",
                "endpoint": "openai-chat-completions"}
    assert {key: record["generation"][key] for key in expected} == expected
    assert record["description"] == "python baselines/run.py chat --track balanced --model_name_or_path scripted-7b " \
                                    "--structured off"
    entries = yaml.safe_load((tmp_path / "model-repo" / ".eval_results" / "scripted-balanced.yaml").read_text("utf-8"))
    assert [e["dataset"] for e in entries] == [{"id": "org/est", "task_id": task_id}
                                               for task_id, (track, _) in BENCHMARK_TASKS.items()
                                               if track == "balanced"]
    assert entries[0]["value"] == round(mean_macro_f1(record["scores"]), 4)
    assert entries[1]["value"] == round(record["scores"]["emotion_macro_f1"], 4)
    assert "6 unreadable answers of 18 got the fallback label" in entries[0]["notes"]


def test_the_build_registers_the_benchmark_as_the_hub_specifies(small_est):
    registration = yaml.safe_load((small_est / EVAL_FILE).read_text(encoding="utf-8"))
    assert set(registration) == {"name", "description", "evaluation_framework", "tasks"}
    assert registration["evaluation_framework"] == "inspect-ai"
    assert registration["name"] and "macro-F1" in registration["description"]
    assert [t["id"] for t in registration["tasks"]] == list(BENCHMARK_TASKS)
    for entry in registration["tasks"]:
        assert entry["split"] == "test" and (small_est / entry["config"]).is_dir()


@pytest.mark.parametrize("args, message", [
    (["--model", "m"], "chat needs --base_url"),
    (["--base-url", "http://127.0.0.1:9/v1"], "chat needs --model_name_or_path"),
    (["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--extra_body", "[1]"], "must be a JSON object"),
    (["--base-url", "http://127.0.0.1:9/v1", "--model", "m", "--shots", "-1"], "--shots"),
])
def test_chat_arguments_are_checked_before_any_work(args, message, tmp_path):
    run = subprocess.run([*RUN, "chat", "--track", "balanced", "--est-dir", str(tmp_path), "--output", "p.csv",
                          *args], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and message in run.stderr
    assert list(tmp_path.iterdir()) == []


def test_chat_options_are_refused_for_other_baselines(tmp_path):
    run = subprocess.run([*RUN, "majority", "--track", "balanced", "--est-dir", str(tmp_path), "--output", "p.csv",
                          "--shots", "3"], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode == 2 and "--shots: options of chat" in run.stderr


@pytest.mark.parametrize("reply, tasks, expected", [
    ("情绪：Anger\n情绪状态转移：Neutral to Negative\n满意度：Dissatisfied", TASKS,
     ("Anger", "Neutral to Negative", "Dissatisfied")),
    ("**Emotion**: worry\n**Emotion transition**: 中性到消极。\nSatisfaction: 不满", TASKS,
     ("Worry", "Neutral to Negative", "Dissatisfied")),
    ('好的：{"情绪": "感谢", "情绪状态转移": "消极到积极", "满意度": "满意"}', TASKS,
     ("Gratitude", "Negative to Positive", "Satisfied")),
    ("<think>也许是 Anger</think>情绪：No Emotion（无情绪）", (Task.EMOTION,), ("No Emotion",)),
    ("</think>Positive to Neutral", (Task.TRANSITION,), ("Positive to Neutral",)),
    ("满意度：Neutral to Negative", (Task.SATISFACTION,), (None,)),  # a transition is no satisfaction
    ("Neutral to Negative", (Task.SATISFACTION,), (None,)),
    ("情绪：Angry\n情绪状态转移：上升", TASKS, (None, None, None)),
    ("", TASKS, (None, None, None)),
])
def test_the_answer_parser_reads_what_it_documents(reply, tasks, expected):
    assert parse_answer(reply, tasks) == dict(zip((t.value for t in tasks), expected))
