"""Check uploaded files in worker processes with a time and a memory budget, so that no file can take the server
down or hold a submit slot for long.

`estbench.submission.check_submission` is built not to crash on any input (bounded line length and nesting before
any parser runs). This is the second wall, for what no test thought of: each check runs in a separate Python process
(started with `subprocess`, the same interpreter and import path, talking over a socket pair) whose address space
may grow by at most `memory_mib` and which is killed after `seconds`. A worker that crashes, runs out of memory or
time takes only its own request down: that request gets one clear line ("nothing was stored"), the worker is
replaced, and every other request goes on.

Each worker keeps the last `GOLDS_KEPT` golds it was sent (by version), so a check sends only the file's path; the
result (label ids in gold order and the hashes) comes back, and the caller reads the file's bytes for the archive.
Pools are shared per budget within a process (`shared_pool`): workers are a process-wide resource.
"""

from __future__ import annotations

import atexit
import json
import logging
import os
import queue
import socket
import subprocess
import sys
import threading
from collections import deque
from dataclasses import replace
from multiprocessing.connection import Connection
from pathlib import Path

from estbench.gold import Gold
from estbench.submission import CheckedSubmission, SubmissionError, check_submission, shown_name

logger = logging.getLogger(__name__)

GOLDS_KEPT = 4


def _vm_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def serve(fd: int, memory_mib: int) -> None:
    """A worker's loop: receive ("gold", Gold) or ("check", version, path, file_name, max_bytes), answer each
    check with ("ok", CheckedSubmission without its bytes), ("rejected", problems) or ("budget", "memory")."""
    try:
        import resource

        limit = _vm_bytes() + memory_mib * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, resource.getrlimit(resource.RLIMIT_AS)[1]))
    except (ImportError, OSError, ValueError):  # not Linux: the time budget still holds
        pass
    connection = Connection(fd)
    golds: dict[str, Gold] = {}
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        if message[0] == "gold":
            golds[message[1].version] = message[1]
            while len(golds) > GOLDS_KEPT:
                golds.pop(next(iter(golds)))
            continue
        _, version, path, file_name, max_bytes = message
        try:
            checked = check_submission(path, golds[version], max_bytes=max_bytes, file_name=file_name)
            connection.send(("ok", replace(checked, raw=b"")))
        except SubmissionError as error:
            connection.send(("rejected", error.problems))
        except MemoryError:
            connection.send(("budget", "memory"))


class _Worker:
    def __init__(self, memory_mib: int):
        parent, child = socket.socketpair()
        # the same interpreter, flags and import path as this process (a Space runs `python app.py` from its folder)
        boot = (f"import sys; sys.path[:0] = {json.dumps([p for p in sys.path if p])}; "
                f"from est_leaderboard.sandbox import serve; serve({child.fileno()}, {int(memory_mib)})")
        flags = ["-S"] if sys.flags.no_site else []
        self.process = subprocess.Popen([sys.executable, *flags, "-c", boot], pass_fds=[child.fileno()],
                                        stdin=subprocess.DEVNULL, close_fds=True)
        child.close()
        self.connection = Connection(parent.detach())
        self.golds: deque[str] = deque()

    def alive(self) -> bool:
        return self.process.poll() is None

    def send_gold(self, gold: Gold) -> None:
        if gold.version in self.golds:
            return
        self.connection.send(("gold", gold))
        self.golds.append(gold.version)
        while len(self.golds) > GOLDS_KEPT:  # the worker drops its oldest the same way
            self.golds.popleft()

    def stop(self) -> None:
        if self.alive():
            self.process.kill()
        try:
            self.process.wait(5)
        except subprocess.TimeoutExpired:
            pass
        self.connection.close()


class CheckPool:
    """`size` worker processes; `check` blocks until one is free (the submit slots bound how many wait)."""

    def __init__(self, size: int, seconds: float, memory_mib: int):
        self.seconds, self.memory_mib = seconds, memory_mib
        self._idle: queue.Queue[_Worker | None] = queue.Queue()
        for _ in range(size):
            self._idle.put(None)  # started on first use
        self._workers: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False

    def _start(self) -> _Worker:
        worker = _Worker(self.memory_mib)
        with self._lock:
            self._workers.append(worker)
        return worker

    def _discard(self, worker: _Worker) -> None:
        worker.stop()
        with self._lock:
            if worker in self._workers:
                self._workers.remove(worker)

    def check(self, path: str | Path, gold: Gold, *, max_bytes: int, file_name: str | None = None
              ) -> CheckedSubmission:
        """`check_submission` in a worker, within the budget; SubmissionError (one line) when it is exceeded or the
        worker dies."""
        name = shown_name(file_name or Path(path).name)
        worker = self._idle.get()
        try:
            if worker is None or not worker.alive():
                if worker is not None:
                    self._discard(worker)
                worker = self._start()
            worker.send_gold(gold)
            worker.connection.send(("check", gold.version, str(path), file_name, max_bytes))
            if not worker.connection.poll(self.seconds):
                logger.warning("a file check ran past %s s; its worker was stopped", self.seconds)
                self._discard(worker)
                worker = None
                raise SubmissionError([f"the file could not be checked within {self.seconds:g} s; make it a plain "
                                       "prediction file (id and three labels per line)"], name)
            status, payload = worker.connection.recv()
        except (EOFError, OSError, BrokenPipeError):
            logger.warning("a file check's worker died (exit code %s); replaced",
                           worker.process.poll() if worker else None)
            if worker is not None:
                self._discard(worker)
            worker = None
            raise SubmissionError(["the file could not be read (its check stopped); make it a plain prediction "
                                   "file (id and three labels per line)"], name) from None
        finally:
            self._idle.put(worker if worker is not None and worker.alive() else None)
        if status == "ok":
            return replace(payload, raw=Path(path).read_bytes())
        if status == "budget":
            raise SubmissionError([f"the file needs more than {self.memory_mib:,} MiB to check; make it a plain "
                                   "prediction file (id and three labels per line)"], name)
        raise SubmissionError(payload, name)

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers, self._workers = self._workers, []
        for worker in workers:
            worker.stop()


_POOLS: dict[tuple[int, float, int], CheckPool] = {}
_POOLS_LOCK = threading.Lock()


def shared_pool(size: int, seconds: float, memory_mib: int) -> CheckPool:
    """The process's pool for this budget (created on first use, stopped at exit)."""
    key = (size, seconds, memory_mib)
    with _POOLS_LOCK:
        if key not in _POOLS:
            _POOLS[key] = CheckPool(size, seconds, memory_mib)
        return _POOLS[key]


@atexit.register
def _close_pools() -> None:
    for pool in list(_POOLS.values()):
        pool.close()
