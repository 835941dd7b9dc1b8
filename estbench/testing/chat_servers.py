"""OpenAI-compatible servers on 127.0.0.1 for the chat tests and `bench/bench_chat.py`: `transformers serve` on a
local model folder, a fault-injecting proxy in front of any server, and a scripted server whose replies a test
chooses (reasoning-style, unreadable, JSON that honours `response_format`).

Nothing here reaches the network: every server binds 127.0.0.1 and `transformers serve` loads a local folder with
HF_HUB_OFFLINE=1.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Callable

from .live_server import free_port


def _wait_until_up(url: str, process: subprocess.Popen | None, log: Path | None, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"server exited with {process.returncode}:\n{log.read_text()[-3000:] if log else ''}")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not answer within {timeout} s")


class TransformersServe:
    """`transformers serve MODEL_DIR` on a free port of 127.0.0.1 (the model preloaded, offline, on the CPU)."""

    def __init__(self, model_dir: str | Path, log: Path, *, extra: tuple[str, ...] = ()):
        self.model = str(model_dir)
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.log, self.extra = log, extra
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 120) -> "TransformersServe":
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "NO_PROXY": "127.0.0.1",
               "no_proxy": "127.0.0.1", "TOKENIZERS_PARALLELISM": "false"}
        command = [str(Path(sys.executable).with_name("transformers")), "serve", self.model, "--host", "127.0.0.1",
                   "--port", str(self.port), "--device", "cpu", "--log-level", "warning", *self.extra]
        self.process = subprocess.Popen(command, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT)
        try:
            _wait_until_up(self.base_url + "/models", self.process, self.log, timeout)
        except RuntimeError:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.stop()


def body_key(raw: bytes) -> str:
    """A request body's identity (its canonical JSON's hash), to tell repeated requests apart."""
    return hashlib.sha256(json.dumps(json.loads(raw), sort_keys=True).encode()).hexdigest()


class _Server:
    """A threaded HTTP server on a free port of 127.0.0.1 with a handler built by `handle(handler, raw_body)`."""

    def __init__(self):
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # quiet
                pass

            def do_GET(self):
                outer.reply(self, 200, {"object": "list", "data": []})

            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                outer.handle(self, raw)

        self._http = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self._http.daemon_threads = True
        self._thread = threading.Thread(target=self._http.serve_forever, daemon=True)

    @staticmethod
    def reply(handler, status: int, payload, headers: dict | None = None) -> None:
        data = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for name, value in (headers or {}).items():
            handler.send_header(name, value)
        handler.end_headers()
        try:
            handler.wfile.write(data)
        except OSError:  # the client gave up (a timeout test)
            pass

    def handle(self, handler, raw: bytes) -> None:
        raise NotImplementedError

    def start(self):
        self._thread.start()
        return self

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *_):
        self.stop()


class FaultProxy(_Server):
    """Forwards chat requests to `upstream`, except those `faults` names (by 1-based request number):
    `("status", 429, "3")` answers that status (with that Retry-After, if given), `("stall", s)` answers nothing for
    s seconds, then closes the connection (a hung upstream, past a client's timeout), `("drop",)` closes it at once.
    With `hang_after`, every request after that many completed ones waits until `release()` (a run to kill
    mid-way).

    `log` holds (number, body key, outcome) per request; `completed` counts replies forwarded from upstream."""

    def __init__(self, upstream: str, faults: dict[int, tuple] | None = None, hang_after: int | None = None):
        super().__init__()
        self.upstream = upstream.rstrip("/")
        self.faults = dict(faults or {})
        self.hang_after = hang_after
        self.log: list[tuple[int, str, str]] = []
        self.bodies: list[dict] = []  # every request body, in arrival order
        self.completed = 0
        self._lock = threading.Lock()
        self._released = threading.Event()

    def release(self) -> None:
        self._released.set()

    def handle(self, handler, raw: bytes) -> None:
        with self._lock:
            number = len(self.log) + 1
            key = body_key(raw)
            fault = self.faults.get(number)
            hang = self.hang_after is not None and self.completed >= self.hang_after
            self.log.append((number, key, fault[0] if fault else "hang" if hang else "forwarded"))
            self.bodies.append(json.loads(raw))
        if hang:
            self._released.wait(120)
        if fault and fault[0] == "status":
            headers = {"Retry-After": fault[2]} if len(fault) > 2 else {}
            return self.reply(handler, fault[1], {"error": {"message": f"injected {fault[1]}"}}, headers)
        if fault and fault[0] in ("drop", "stall"):
            if fault[0] == "stall":
                time.sleep(fault[1])
            handler.close_connection = True
            return
        request = urllib.request.Request(self.upstream + handler.path.removeprefix("/v1"), data=raw,
                                         headers={"Content-Type": "application/json"}, method="POST")
        try:
            with urllib.request.urlopen(request, timeout=300) as response:
                status, data = response.status, response.read()
        except urllib.error.HTTPError as error:
            status, data = error.code, error.read()
        if status == 200:
            with self._lock:
                self.completed += 1
        self.reply(handler, status, data)

    def keys(self, outcome: str = "forwarded") -> list[str]:
        return [key for _, key, how in self.log if how == outcome]


class ScriptedChatServer(_Server):
    """Answers `/v1/chat/completions` with `script(body) -> (content, reasoning_content)`; records every body."""

    def __init__(self, script: Callable[[dict], tuple[str, str]]):
        super().__init__()
        self.script = script
        self.bodies: list[dict] = []
        self.authorization: list[str | None] = []

    def handle(self, handler, raw: bytes) -> None:
        body = json.loads(raw)
        self.bodies.append(body)
        self.authorization.append(handler.headers.get("Authorization"))
        content, reasoning = self.script(body)
        message = {"role": "assistant", "content": content}
        if reasoning:
            message["reasoning_content"] = reasoning
        self.reply(handler, 200, {"id": "x", "object": "chat.completion", "model": body.get("model"),
                                  "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                                  "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
