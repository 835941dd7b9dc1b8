r"""Evaluate any chat model behind an OpenAI-compatible `/v1/chat/completions` endpoint (vLLM, SGLang, `transformers
serve`, llama.cpp, a provider's API) on EST: `python baselines/run.py chat`.

    python baselines/run.py chat --base_url http://127.0.0.1:8000/v1 --model_name_or_path Qwen/Qwen2.5-7B-Instruct \
        --track balanced --output predictions/qwen-chat.csv [--shots 5] [--prompt_mode per-task] \
        [--api_key_env OPENAI_API_KEY] [--structured auto|on|off] [--reasoning_tokens 4096]

- **Prompts** (`estbench.prompts.build_chat_prompt`): the EST question in Chinese (`--prompt_language`), with the
  session's anchor and the dialogue context, each label's canonical name beside its Chinese names, and how to write
  the answer. Zero-shot by default; `--shots K` puts K examples from the train split before the question as earlier
  user/assistant turns, seeded (`--shot_seed`) and spread over the classes (`estbench.prompts.select_shots`: over the
  emotions in joint mode, over the task's labels per task). `--prompt_mode joint` asks once per utterance for the three
  labels; `per-task` asks three questions.
- **Answers**: with `--structured on` every request carries a JSON-schema `response_format` whose values are the
  label enums (`estbench.answers.response_format`; vLLM/SGLang/OpenAI enforce it by structured decoding); `auto`
  (default) sends it and falls back to free text if the server refuses it (HTTP 400/422). Every reply, structured
  or not, is read by `estbench.answers.parse_answer` after its reasoning is set aside (`<think>…</think>` in the text,
  `reasoning_content`/`reasoning` beside it). `--reasoning_tokens N` adds N tokens of budget for a reasoning model to
  think before it answers. An answer that cannot be read is counted per task, reported, and written as the declared
  fallback label (`estbench.answers.FALLBACK_LABELS`), which the results record names with the count.
- **Transport**: `--concurrency N` requests in flight; 429, 5xx, timeouts and dropped connections are retried with
  exponential backoff and jitter (`--max_retries`), waiting at least what a `Retry-After` header asks; other HTTP
  errors (401, 404, a bad request) stop the run with the server's message. The API key is read from the environment
  variable named by `--api_key_env` (default OPENAI_API_KEY; none is sent when it is unset), never from the command
  line, and is never logged or cached.
- **Cache and resume**: each reply is stored on disk as soon as it arrives (SQLite, keyed by a hash of the endpoint
  and the request body), so a run that is killed resumes without repeating a completed call, and writes the same file
  as an uninterrupted run. Default `$EST_CACHE_DIR/chat-cache.sqlite` (`~/.cache/est/...`); `--cache FILE`,
  `--no_cache`.
- A progress bar (requests, rate, ETA), then a summary: requests made and taken from the cache, retries by cause,
  prompt/completion tokens, unreadable answers per task.
"""

from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import hashlib
import json
import logging
import os
import random
import sqlite3
import time
from collections import Counter
from pathlib import Path
from typing import Awaitable, Callable, Sequence

from estbench.answers import FALLBACK_LABELS, parse_answer, response_format, with_fallback
from estbench.prompts import PromptSettings, build_chat_prompt, chat_messages, prompt_fields, shot_pairs
from estbench.results import GenerationInfo
from estbench.schema import Task

logger = logging.getLogger(__name__)

ENDPOINT = "openai-chat-completions"
STRUCTURED_CHOICES = ("auto", "on", "off")
RETRIED_STATUSES = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
DEFAULT_ANSWER_TOKENS = 64  # the longest joint answer is ~25 tokens on common tokenizers; est_gen uses the same


@dataclasses.dataclass
class ChatOptions:
    """`run.py chat`'s options (flags `--<field>`, kebab spelling accepted); `--model` names the served model."""

    base_url: str = dataclasses.field(
        default="", metadata={"help": "chat: the OpenAI-compatible API's base URL, e.g. http://127.0.0.1:8000/v1 "
                                      "(…/chat/completions is added)"})
    api_key_env: str = dataclasses.field(
        default="OPENAI_API_KEY", metadata={"help": "chat: the environment variable holding the API key (none is "
                                                    "sent when it is unset)"})
    shots: int = dataclasses.field(default=0, metadata={"help": "chat: few-shot examples from the train split",
                                                        "minimum": 0})
    shot_seed: int = dataclasses.field(default=0, metadata={"help": "chat: seed of the few-shot choice",
                                                            "minimum": 0})
    structured: str = dataclasses.field(
        default="auto", metadata={"help": "chat: JSON-schema response_format with the label enums (auto: unless the "
                                          "server refuses it)", "choices": STRUCTURED_CHOICES})
    answer_tokens: int = dataclasses.field(default=DEFAULT_ANSWER_TOKENS,
                                           metadata={"help": "chat: token budget of the answer"})
    reasoning_tokens: int = dataclasses.field(
        default=0, metadata={"help": "chat: extra token budget for a reasoning model's thinking (max_tokens = "
                                     "answer_tokens + reasoning_tokens)", "minimum": 0})
    max_tokens_field: str = dataclasses.field(
        default="max_tokens", metadata={"help": "chat: the request field of the token budget (OpenAI's reasoning "
                                                "models take max_completion_tokens)",
                                        "choices": ("max_tokens", "max_completion_tokens")})
    temperature: float = dataclasses.field(default=0.0, metadata={"help": "chat: sampling temperature"})
    concurrency: int = dataclasses.field(default=8, metadata={"help": "chat: requests in flight"})
    max_retries: int = dataclasses.field(default=8, metadata={"help": "chat: retries of a request on 429/5xx/"
                                                                      "timeouts", "minimum": 0})
    request_timeout: float = dataclasses.field(default=300.0, metadata={"help": "chat: seconds per request"})
    extra_body: str = dataclasses.field(
        default="", metadata={"help": "chat: JSON object merged into every request, e.g. "
                                      "'{\"chat_template_kwargs\": {\"enable_thinking\": false}}'"})
    cache: str = dataclasses.field(default="", metadata={"help": "chat: reply cache (default: "
                                                                 "$EST_CACHE_DIR/chat-cache.sqlite)"})
    no_cache: bool = dataclasses.field(default=False, metadata={"help": "chat: neither read nor write the cache"})
    limit: int | None = dataclasses.field(default=None, metadata={"help": "chat: only the first N rows (a quick "
                                                                          "look; not a leaderboard file)"})

    def __post_init__(self):
        if self.extra_body:
            try:
                extra = json.loads(self.extra_body)
            except ValueError as error:
                raise ValueError(f"--extra_body is not JSON: {error}") from None
            if not isinstance(extra, dict):
                raise ValueError("--extra_body must be a JSON object")
        if self.request_timeout <= 0:
            raise ValueError("--request_timeout must be positive")

    @property
    def max_tokens(self) -> int:
        return self.answer_tokens + self.reasoning_tokens


class ChatError(RuntimeError):
    """The endpoint refused a request for good (not worth retrying), or kept failing past the retries."""


def default_cache_path() -> Path:
    return Path(os.environ.get("EST_CACHE_DIR") or Path.home() / ".cache" / "est") / "chat-cache.sqlite"


def chat_url(base_url: str) -> str:
    """`…/chat/completions` of an OpenAI-style base URL (a full endpoint URL is taken as it is)."""
    base = base_url.rstrip("/")
    return base if base.endswith("/chat/completions") else base + "/chat/completions"


class ResponseCache:
    """Replies on disk keyed by request: each is committed as it arrives, so a killed run loses none."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, reply TEXT NOT NULL)")

    @staticmethod
    def key(url: str, body: dict) -> str:
        return hashlib.sha256(json.dumps({"url": url, "body": body}, sort_keys=True, ensure_ascii=False)
                              .encode("utf-8")).hexdigest()

    def get(self, key: str) -> dict | None:
        row = self._db.execute("SELECT reply FROM replies WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, reply: dict) -> None:
        self._db.execute("INSERT OR REPLACE INTO replies VALUES (?, ?)", (key, json.dumps(reply, ensure_ascii=False)))

    def keys(self) -> set[str]:
        return {row[0] for row in self._db.execute("SELECT key FROM replies")}

    def close(self) -> None:
        self._db.close()


def _retry_after(value: str | None) -> float | None:
    """Seconds a `Retry-After` header asks for (delta-seconds or an HTTP date), or None."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclasses.dataclass
class CallStats:
    requests: int = 0  # replies the run needed
    cached: int = 0  # ... of them taken from the cache
    sent: int = 0  # HTTP requests sent (retries included)
    retries: Counter = dataclasses.field(default_factory=Counter)  # cause -> count
    prompt_tokens: int = 0
    completion_tokens: int = 0
    truncated: int = 0  # replies that hit the token budget (finish_reason "length")

    def summary(self) -> str:
        retries = ", ".join(f"{n} × {cause}" for cause, n in sorted(self.retries.items())) or "none"
        return (f"{self.requests} requests ({self.cached} from the cache, {self.requests - self.cached} answered now, "
                f"{self.sent} HTTP calls); retries: {retries}; tokens: {self.prompt_tokens:,} prompt + "
                f"{self.completion_tokens:,} completion; {self.truncated} replies cut at the token budget")


class ChatClient:
    """Bounded-concurrency chat-completions calls with retries, `Retry-After`, and the reply cache."""

    def __init__(self, base_url: str, *, api_key: str | None = None, concurrency: int = 8, max_retries: int = 8,
                 timeout: float = 300.0, cache: ResponseCache | None = None,
                 sleep: Callable[[float], Awaitable] = asyncio.sleep, backoff: float = 0.5, backoff_cap: float = 60.0,
                 max_wait: float = 600.0):
        self.url = chat_url(base_url)
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self.concurrency, self.max_retries, self.timeout = concurrency, max_retries, timeout
        self.cache, self.sleep = cache, sleep
        self.backoff, self.backoff_cap, self.max_wait = backoff, backoff_cap, max_wait
        self.stats = CallStats()
        self._answered: dict[str, dict] = {}  # this run's replies by request key (the cache may be off)

    async def _post(self, client, body: dict) -> dict:
        import httpx

        for attempt in range(self.max_retries + 1):
            wait = None
            try:
                self.stats.sent += 1
                response = await client.post(self.url, json=body, headers=self.headers, timeout=self.timeout)
            except httpx.TimeoutException:
                cause = "timeout"
            except httpx.TransportError as error:
                cause = f"connection ({type(error).__name__})"
            else:
                if response.status_code == 200:
                    try:
                        reply = response.json()
                        reply["choices"][0]["message"]
                        return reply
                    except (ValueError, KeyError, IndexError, TypeError):
                        cause = "malformed reply"
                elif response.status_code in RETRIED_STATUSES:
                    cause = f"HTTP {response.status_code}"
                    wait = _retry_after(response.headers.get("retry-after"))
                else:
                    raise ChatError(f"the endpoint answered HTTP {response.status_code}: {response.text[:300]}")
            self.stats.retries[cause] += 1
            if attempt == self.max_retries:
                raise ChatError(f"giving up after {attempt + 1} tries; last: {cause}")
            backoff = min(self.backoff_cap, self.backoff * 2 ** attempt) * (0.5 + random.random() / 2)
            await self.sleep(min(self.max_wait, max(backoff, wait or 0.0)))
        raise AssertionError("unreachable")

    async def _one(self, client, body: dict) -> dict:
        key = ResponseCache.key(self.url, body)
        if key in self._answered:  # asked earlier in this run (the structured-output probe)
            return self._answered[key]
        reply = self.cache.get(key) if self.cache else None
        if reply is not None:
            self.stats.cached += 1
        else:
            reply = _compact(await self._post(client, body))
            usage = reply.get("usage") or {}
            self.stats.prompt_tokens += int(usage.get("prompt_tokens") or 0)
            self.stats.completion_tokens += int(usage.get("completion_tokens") or 0)
            if self.cache:
                self.cache.put(key, reply)
        self._answered[key] = reply
        return reply

    async def probe(self, body: dict) -> dict:
        """One request outside a batch (not counted among the run's requests; its reply is reused by the run)."""
        import httpx

        async with httpx.AsyncClient(trust_env=False) as client:
            return await self._one(client, body)

    async def complete_all(self, bodies: Sequence[dict], progress: bool = True) -> list[dict]:
        """The replies of `bodies`, in order; at most `concurrency` in flight."""
        import httpx
        from tqdm.auto import tqdm

        self.stats.requests += len(bodies)
        replies: list[dict | None] = [None] * len(bodies)
        queue: asyncio.Queue = asyncio.Queue()
        for item in enumerate(bodies):
            queue.put_nowait(item)
        bar = tqdm(total=len(bodies), desc="chat", unit="req", disable=not progress, dynamic_ncols=True)
        limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)

        async def worker(client):
            while not queue.empty():
                index, body = queue.get_nowait()
                replies[index] = await self._one(client, body)
                bar.update(1)
                if self.stats.retries:
                    bar.set_postfix(retries=sum(self.stats.retries.values()), refresh=False)

        try:
            async with httpx.AsyncClient(limits=limits, trust_env=False) as client:
                workers = [asyncio.create_task(worker(client)) for _ in range(max(1, self.concurrency))]
                try:
                    await asyncio.gather(*workers)
                except BaseException:
                    for task in workers:
                        task.cancel()
                    raise
        finally:
            bar.close()
        for reply in replies:
            if (reply.get("finish_reason") or "") == "length":
                self.stats.truncated += 1
        return replies  # type: ignore[return-value]


def _compact(reply: dict) -> dict:
    """What a run keeps of a reply: the text, the reasoning beside it, why it stopped, the token counts."""
    choice = reply["choices"][0]
    message = choice.get("message") or {}
    reasoning = message.get("reasoning_content") or message.get("reasoning") or ""
    return {"content": message.get("content") or "", "reasoning": reasoning if isinstance(reasoning, str) else "",
            "finish_reason": choice.get("finish_reason"), "usage": reply.get("usage") or {}}


# --- building the requests of a run -----------------------------------------------------------------------------

def request_bodies(frame, train, model: str, options: ChatOptions, settings: PromptSettings,
                   structured: bool) -> list[tuple[tuple[Task, ...], list[dict]]]:
    """Per task group: the chat-completions body of every row of `frame` (rows in order)."""
    answer_format = "json" if structured else "lines"
    extra = json.loads(options.extra_body) if options.extra_body else {}
    contexts, texts, anchors = prompt_fields(frame)
    groups = []
    for tasks in settings.task_groups:
        shots = shot_pairs(train, tasks, options.shots, options.shot_seed, settings.prompt_language,
                           settings.max_context_chars, answer_format)
        bodies = []
        for context, text, anchor in zip(contexts, texts, anchors):
            prompt = build_chat_prompt(context, text, tasks, settings.prompt_language, settings.max_context_chars,
                                       anchor, answer_format)
            body = {"model": model, "messages": chat_messages(prompt, shots), "temperature": options.temperature,
                    options.max_tokens_field: options.max_tokens}
            if structured:
                body["response_format"] = response_format(tasks, settings.prompt_language)
            bodies.append({**body, **extra})
        groups.append((tuple(tasks), bodies))
    return groups


@dataclasses.dataclass
class ChatRun:
    """What `run_chat` produced: the labels, the raw replies and the account of the run."""

    predictions: dict[str, list[str]]
    replies: dict[str, list[dict]]  # task group name -> replies in row order
    generation: GenerationInfo
    stats: CallStats


def _refused_structured(error: ChatError) -> bool:
    return any(f"HTTP {status}" in str(error) for status in (400, 404, 415, 422))


def _schema_valid(content: str, tasks: Sequence[Task], language: str) -> bool:
    from estbench.prompts import label_names

    try:
        found = json.loads(content)
    except ValueError:
        return False
    return (isinstance(found, dict) and set(found) == {task.value for task in tasks}
            and all(found[task.value] in label_names(task, language) for task in tasks))


def run_chat(frame, train, *, model: str, options: ChatOptions, settings: PromptSettings = PromptSettings(),
             api_key: str | None = None, progress: bool = True, sleep=asyncio.sleep) -> ChatRun:
    """Ask the endpoint about every row of `frame` (a built split) and read the labels from the replies."""
    cache = None if options.no_cache else ResponseCache(options.cache or default_cache_path())
    client = ChatClient(options.base_url, api_key=api_key, concurrency=options.concurrency,
                        max_retries=options.max_retries, timeout=options.request_timeout, cache=cache, sleep=sleep)
    try:
        structured = options.structured != "off"
        groups = request_bodies(frame, train, model, options, settings, structured)
        if options.structured == "auto" and len(frame):  # one real request tells whether the server takes a schema
            try:
                asyncio.run(client.probe(groups[0][1][0]))
            except ChatError as error:
                if not _refused_structured(error):
                    raise
                logger.warning("the endpoint refused response_format (%s); reading free-text answers instead", error)
                structured = False
                groups = request_bodies(frame, train, model, options, settings, structured)
        bodies = [body for _, group in groups for body in group]
        replies = asyncio.run(client.complete_all(bodies, progress=progress))
    finally:
        if cache:
            cache.close()
    predictions: dict[str, list[str]] = {}
    invalid: Counter = Counter()
    by_group: dict[str, list[dict]] = {}
    violations = 0
    for group_index, (tasks, _) in enumerate(groups):
        group_replies = replies[group_index * len(frame):(group_index + 1) * len(frame)]
        by_group["+".join(task.value for task in tasks)] = group_replies
        for reply in group_replies:
            parsed = parse_answer(reply["content"], tasks, settings.prompt_language)
            if structured and not _schema_valid(reply["content"].strip(), tasks, settings.prompt_language):
                violations += 1
            for task, label in parsed.items():
                invalid[task] += label is None
            for task, label in with_fallback(parsed).items():
                predictions.setdefault(task, []).append(label)
    generation = GenerationInfo(
        served_model=model, endpoint=ENDPOINT, shots=options.shots, prompt_mode=settings.prompt_mode,
        prompt_language=settings.prompt_language, answers="structured" if structured else "parsed",
        invalid={task: invalid[task] for task in predictions}, fallback=dict(FALLBACK_LABELS),
        requests=len(bodies), schema_violations=violations, reasoning_tokens=options.reasoning_tokens)
    return ChatRun(predictions, by_group, generation, client.stats)


def report(run: ChatRun, rows: int) -> str:
    """The run's summary, as printed after the progress bar."""
    info = run.generation
    lines = [f"chat: {run.stats.summary()}",
             f"chat: answers {info.answers}; unreadable answers written as the fallback label: " + ", ".join(
                 f"{task} {count}/{rows} (-> {info.fallback[task]})" for task, count in info.invalid.items())]
    if info.answers == "structured" and info.schema_violations:
        lines.append(f"chat: warning: {info.schema_violations} of {info.requests} replies were not JSON of the "
                     "schema: the server does not enforce response_format (transformers serve ignores it)")
    return "\n".join(lines)


def api_key_from(env_name: str, explicitly_named: bool) -> str | None:
    """The key in the environment variable `env_name`; a variable named on the command line must be set."""
    key = os.environ.get(env_name)
    if not key and explicitly_named:
        raise ValueError(f"--api_key_env {env_name}: that environment variable is not set")
    return key or None

