"""A leaderboard app process on 127.0.0.1 for the live tests and the leaderboard bench: start it on a free port,
wait until it answers, stop or SIGKILL it.

The caller names the app script (the repository's `leaderboard/app.py`, or an assembled Space's): estbench sits
below the leaderboard and never reaches it by a path of its own."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class AppServer:
    def __init__(self, app: Path, env: dict[str, str], log: Path, cwd: Path | None = None,
                 python_flags: tuple[str, ...] = ()):
        """`app`: the app script to run (`python app --host 127.0.0.1 --port N`), from `cwd` (default: its
        folder)."""
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.app, self.cwd, self.log, self.python_flags = Path(app), cwd or Path(app).parent, log, python_flags
        self.env = {**os.environ, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1",
                    "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost", **env}
        self.process: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> "AppServer":
        handle = self.log.open("ab")
        command = [sys.executable, *self.python_flags, str(self.app), "--host", "127.0.0.1", "--port", str(self.port)]
        self.process = subprocess.Popen(command, cwd=self.cwd, env=self.env, stdout=handle, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"app exited with {self.process.returncode}:\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(self.url + "/", timeout=2) as response:
                    if response.status == 200:
                        return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"app did not start within {timeout}s:\n{self.log.read_text()[-3000:]}")

    def kill(self) -> None:
        """SIGKILL: no clean shutdown, like a crashed or evicted container."""
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.kill()
