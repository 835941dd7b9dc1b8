"""Uploads are owned: who uploaded a file, how much each client may hold, and when it goes.

Gradio's upload route (`POST /gradio_api/upload`) takes any file from anyone and keeps it until the process ends; its
folder also holds Gradio's cache of the files the page hands out (templates, exports), and any file in that folder
may be named as a file argument of an API call. So without this module anyone could fill the disk, and a handler
that deleted "its" upload could be made to delete a cached template. Here:

- `UploadGuard`, an ASGI middleware in front of that route: on a Space only signed-in users may upload (elsewhere
  the client's address is the owner); one file per request, `.csv` or `.jsonl`, at most the upload limit (refused
  with a message in MiB before the body is read); each owner may hold `quota_bytes` of unused uploads and all owners
  together `total_bytes`. An accepted upload is moved from Gradio's content-addressed path (which two identical
  uploads share) to a path of its own under `uploads/`, and the response names that path.
- `UploadLedger` records each owned upload: its owner and when it expires. A submission `claim`s its file (refused,
  and nothing deleted, unless the caller owns it: a cached template or another client's upload is never touched);
  an accepted file is `release`d (deleted: it lives on in the archive); a refused one stays until `ttl_s` after its
  last use, so "Submit" can be pressed again after fixing the form.
- `sweep` (every minute, in a thread) deletes expired uploads, files under `uploads/` that no entry holds and
  Gradio's leftover `tmp*` files of cut-off uploads; `wipe` at start-up empties the whole folder (uploads of a
  crashed or killed run are no one's now). The folder must be the app's own (`settings.upload_dir`).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from estbench.submission import EXTENSIONS, mib

from .identity import identity_key

logger = logging.getLogger(__name__)

OWNED = "uploads"
MULTIPART_SLACK = 64 * 1024  # bytes of multipart framing allowed on top of the file
STALE_S = 10 * 60  # a Gradio temp file untouched this long belongs to an upload that was cut off
EMPTY_STALE_S = 60  # Gradio's File component leaves an empty temp file behind on every use
SWEEP_EVERY_S = 60


class UploadRefused(Exception):
    """The named file is not an upload the caller owns (or it expired); nothing was deleted."""


def owner_from(*, username: str | None, host: str | None, on_space: bool) -> str | None:
    """Who owns an upload: the signed-in user on a Space (None: not signed in, so refused), else the client's
    address (a local run has no login)."""
    if on_space:
        return f"user:{identity_key(username)}" if username else None
    return f"ip:{host or '?'}"


@dataclass
class _Entry:
    owner: str
    size: int
    expires: float


class UploadLedger:
    def __init__(self, folder: str | os.PathLike, *, ttl_s: float, quota_bytes: int, total_bytes: int,
                 keep: Callable[[], Iterable[str]] = tuple, clock: Callable[[], float] = time.monotonic):
        self.folder = Path(folder).resolve()
        self.owned = self.folder / OWNED
        self.ttl_s, self.quota_bytes, self.total_bytes = ttl_s, quota_bytes, total_bytes
        self.keep = keep  # paths Gradio cached for the page's outputs: never moved or deleted here
        self.clock = clock
        self._entries: dict[str, _Entry] = {}
        self._recent: dict[str, Path] = {}  # Gradio's content-addressed path -> the last owned copy of it
        self._reserved: dict[str, int] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()

    # --- admission ---------------------------------------------------------------------------------------------
    def _held(self, owner: str | None = None) -> int:
        held = sum(e.size for e in self._entries.values() if owner is None or e.owner == owner)
        return held + sum(v for k, v in self._reserved.items() if owner is None or k == owner)

    def admit(self, owner: str, size: int) -> str | None:
        """Reserve room for an upload of `size` bytes; a one-line refusal when the owner or the server is full."""
        with self._lock:
            if self._held(owner) + size > self.quota_bytes:
                return (f"you hold {mib(self._held(owner))} of uploads not yet submitted; the limit is "
                        f"{mib(self.quota_bytes)}: submit them or wait {self.ttl_s / 60:g} minutes")
            if self._held() + size > self.total_bytes:
                return "the server holds too many uploads right now; try again in a few minutes"
            self._reserved[owner] = self._reserved.get(owner, 0) + size
        return None

    def finish(self, owner: str, size: int) -> None:
        with self._lock:
            left = self._reserved.get(owner, 0) - size
            if left > 0:
                self._reserved[owner] = left
            else:
                self._reserved.pop(owner, None)

    def register(self, owner: str, gradio_paths: list[str]) -> tuple[list[str] | None, str | None]:
        """Take the files Gradio just wrote for one request: (their owned paths, None), or (None, refusal) with
        the files deleted."""
        paths = [Path(p) for p in gradio_paths]
        if len(paths) != 1 or Path(paths[0].name).suffix.lower() not in EXTENSIONS:
            for path in paths:
                self._drop_gradio_copy(path)
            if len(paths) != 1:
                return None, "upload one file per request"
            return None, f"only {' and '.join(EXTENSIONS)} files are accepted"
        source = paths[0].resolve()
        if self.folder not in source.parents or not source.is_file():
            return None, "the upload failed; please try again"
        target = self.owned / secrets.token_hex(16) / source.name
        target.parent.mkdir(parents=True, exist_ok=True)
        with self._lock:
            # Identical uploads share Gradio's content-addressed path: one of them may have moved it on already;
            # then its owned copy holds the same bytes.
            for candidate in (source, self._recent.get(str(source))):
                try:
                    os.link(candidate, target)
                    break
                except (FileNotFoundError, TypeError):
                    continue
            else:
                target.parent.rmdir()
                return None, "the upload failed; please try again"
            self._entries[str(target)] = _Entry(owner, target.stat().st_size, self.clock() + self.ttl_s)
            self._recent[str(source)] = target
            while len(self._recent) > 256:
                self._recent.pop(next(iter(self._recent)))
            self._drop_gradio_copy(source)
        return [str(target)], None

    def _drop_gradio_copy(self, path: Path) -> None:
        path = path.resolve()
        if str(path) in set(self.keep()) or self.folder not in path.parents:
            return  # a file the page hands out that happens to hold the same bytes under the same name
        path.unlink(missing_ok=True)
        if path.parent != self.folder:
            try:
                path.parent.rmdir()
            except OSError:
                pass

    # --- use -------------------------------------------------------------------------------------------------
    def claim(self, path: str | os.PathLike, owner: str | None) -> Path:
        """The upload at `path` for its owner (its expiry pushed back); UploadRefused otherwise."""
        key = str(Path(path).resolve())
        with self._lock:
            entry = self._entries.get(key)
            if entry is None or owner is None or entry.owner != owner or not Path(key).is_file():
                raise UploadRefused("this file is not an upload of yours that is still here (uploads are kept "
                                    f"{self.ttl_s / 60:g} minutes, and until they are accepted); choose the file again")
            entry.expires = self.clock() + self.ttl_s
        return Path(key)

    def release(self, path: str | os.PathLike) -> None:
        """Delete an owned upload now (it was accepted and archived)."""
        key = str(Path(path).resolve())
        with self._lock:
            entry = self._entries.pop(key, None)
        if entry is not None:
            self._remove_owned(Path(key))

    def _remove_owned(self, path: Path) -> None:
        shutil.rmtree(path.parent, ignore_errors=True) if path.parent.parent == self.owned else path.unlink(
            missing_ok=True)

    def held(self) -> dict[str, int]:
        """Bytes held per owner (uploads not yet submitted or expired)."""
        with self._lock:
            out: dict[str, int] = {}
            for entry in self._entries.values():
                out[entry.owner] = out.get(entry.owner, 0) + entry.size
            return out

    # --- cleaning --------------------------------------------------------------------------------------------
    def sweep(self) -> int:
        """Delete expired uploads, unheld files under `uploads/` and stale Gradio temp files; returns how many."""
        now = self.clock()
        removed = 0
        with self._lock:
            expired = [key for key, entry in self._entries.items() if entry.expires <= now]
            for key in expired:
                del self._entries[key]
            held = {Path(key).parent for key in self._entries}
        for key in expired:
            self._remove_owned(Path(key))
            removed += 1
        if self.owned.is_dir():
            for folder in self.owned.iterdir():
                if folder not in held and time.time() - folder.stat().st_mtime > 60:  # not one being registered
                    shutil.rmtree(folder, ignore_errors=True) if folder.is_dir() else folder.unlink(missing_ok=True)
                    removed += 1
        if self.folder.is_dir():
            for leftover in self.folder.glob("tmp*"):  # cut-off uploads; empty ones: one per File preprocess
                info = leftover.stat() if leftover.is_file() else None
                age = time.time() - info.st_mtime if info else 0
                if info and (age > STALE_S or (info.st_size == 0 and age > EMPTY_STALE_S)):
                    leftover.unlink(missing_ok=True)
                    removed += 1
        return removed

    def wipe(self) -> None:
        """Empty the folder (at start-up, before Gradio caches anything): every upload of an earlier run is stale."""
        if self.folder.is_dir():
            for path in self.folder.iterdir():
                shutil.rmtree(path, ignore_errors=True) if path.is_dir() and not path.is_symlink() else \
                    path.unlink(missing_ok=True)
        self.folder.mkdir(parents=True, exist_ok=True)

    def start_sweeping(self, every_s: float = SWEEP_EVERY_S) -> threading.Thread:
        def run():
            while not self._stop.wait(every_s):
                try:
                    self.sweep()
                except OSError:
                    logger.exception("upload sweep failed")

        thread = threading.Thread(target=run, name="est-leaderboard-upload-sweep", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()


class UploadGuard:
    """ASGI middleware in front of Gradio's upload route (see the module docstring)."""

    def __init__(self, app, *, ledger: UploadLedger, max_bytes: int, on_space: bool):
        self.app, self.ledger, self.max_bytes, self.on_space = app, ledger, max_bytes, on_space

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope.get("method") != "POST" or \
                not scope.get("path", "").rstrip("/").endswith("/gradio_api/upload"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope.get("headers", [])}
        session = scope.get("session") if "session" in scope else None
        username = ((session or {}).get("oauth_info") or {}).get("userinfo", {}).get("preferred_username")
        owner = owner_from(username=username, host=(scope.get("client") or ("?",))[0], on_space=self.on_space)
        if owner is None:
            return await _reply(send, 401, "sign in with Hugging Face to upload a file")
        try:
            length = int(headers["content-length"])
        except (KeyError, ValueError):
            return await _reply(send, 411, "send the file with a Content-Length header")
        if length > self.max_bytes + MULTIPART_SLACK:
            return await _reply(send, 413, f"the file is over the upload limit of {mib(self.max_bytes)}")
        refusal = self.ledger.admit(owner, length)
        if refusal:
            return await _reply(send, 429, refusal)
        try:
            status, body = await _call(self.app, scope, receive)
            if status == 413:
                return await _reply(send, 413, f"the file is over the upload limit of {mib(self.max_bytes)}")
            if status != 200:
                return await _reply(send, status, body.decode("utf-8", "replace")[:200] or "upload failed")
            try:
                paths = json.loads(body)
            except ValueError:
                return await _reply(send, 500, "upload failed")
            owned, refusal = self.ledger.register(owner, paths)
            if refusal:
                return await _reply(send, 415 if "accepted" in refusal else 400, refusal)
            return await _reply(send, 200, json.dumps(owned), "application/json")
        finally:
            self.ledger.finish(owner, length)


async def _call(app, scope, receive) -> tuple[int, bytes]:
    """Run the wrapped route and collect its whole (small) response."""
    status, chunks = 500, []

    async def collect(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, collect)
    return status, b"".join(chunks)


async def _reply(send, status: int, text: str, content_type: str = "text/plain; charset=utf-8") -> None:
    body = text.encode("utf-8")
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", content_type.encode()), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})
