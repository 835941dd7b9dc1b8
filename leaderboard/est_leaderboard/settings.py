"""All configuration of the leaderboard, read from environment variables in ONE place.

| variable                    | default (local)                          | on a Space                         |
|-----------------------------|------------------------------------------|------------------------------------|
| EST_LB_DATA_DIR             | leaderboard/data                         | /data (persistent storage)         |
| EST_LB_GOLD                 | est/'s gold file (est-gold/), else est/  | unset                              |
| EST_LB_GOLD_REPO            | unset                                    | private dataset repo with the gold |
| EST_LB_GOLD_FILE            | test.parquet                             | file name inside that repo         |
| HF_TOKEN                    | unset                                    | Space secret that can read the repo|
| EST_LB_RESULTS_REPO         | unset (no mirroring)                     | optional dataset repo for a mirror |
| EST_LB_MAX_MIB              | 20 (estbench.submission.DEFAULT_MAX_BYTES)|                                    |
| EST_LB_HALF_SALT            | DEFAULT_HALF_SALT (below)                | required: a Space secret           |
| EST_LB_GOLD_VERSION         | DEFAULT_GOLD_NAME (name in the version)  | e.g. est-release-v1                |
| EST_LB_ADMINS               | the dev identity                         | comma-separated HF user names      |
| EST_LB_MIN_CLASS_ROWS       | 30 (k, scoring.DEFAULT_MIN_ROWS)         |                                    |
| EST_LB_DAILY_LIMIT          | 5 accepted submissions per user per UTC day |                                 |
| EST_LB_REVEAL_PRIVATE       | 0 (private-half scores hidden)           | admin switch                       |
| EST_LB_MAX_NAME_CHARS       | 64                                       |                                    |
| EST_LB_MAX_DESCRIPTION_CHARS| 300                                      |                                    |
| EST_LB_SEED_BASELINES       | leaderboard/seed_baselines.json          | seed_baselines.json next to app.py |
| EST_LB_DEV_USER             | dev-user (local dev identity)            | ignored: Hugging Face OAuth        |
| EST_LB_HOST / EST_LB_PORT   | 127.0.0.1 / 7860 (or GRADIO_SERVER_PORT) | 0.0.0.0 / 7860                     |
| EST_LB_SUBMIT_CONCURRENCY   | 2 submissions scored at the same time    |                                    |
| EST_LB_LADDER_STEP          | 0.01 (η: the Ladder's margin and grid)   |                                    |
| EST_LB_CHECK_SECONDS        | 30 (time budget of one file's check)     |                                    |
| EST_LB_CHECK_MIB            | 1024 (memory budget of one file's check) |                                    |
| EST_LB_UPLOAD_TTL_MINUTES   | 15 (an unused upload is deleted after)   |                                    |
| EST_LB_UPLOAD_QUOTA_MIB     | 3 x the upload limit held per client     |                                    |
| EST_LB_UPLOAD_TOTAL_MIB     | 1024 held by all clients together        |                                    |

A Space is recognised by the `SPACE_ID` variable that Hugging Face sets; there the identity comes from OAuth.
On a Space `EST_LB_HALF_SALT` must be set (a secret): the public source must not tell which test rows are public.
`EST_LB_MAX_BYTES` (bytes) is still read when `EST_LB_MAX_MIB` is not set. Whatever loads the gold or scores for the
board (the app, the admin's re-score, the seed rows) takes the salt, the gold name and k from these settings, so
nothing is cut or floored differently from what the board serves.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from estbench.built import find_gold_file
from estbench.layout import GOLD_FILE_NAME
from estbench.submission import DEFAULT_MAX_BYTES, MIB

from .scoring import DEFAULT_LADDER_STEP, DEFAULT_MIN_ROWS

DEFAULT_HALF_SALT = "est-leaderboard-public-private-v1"  # local runs only: a Space must set its own secret
DEFAULT_GOLD_NAME = "simulated-v1"

APP_DIR = Path(__file__).resolve().parent.parent  # leaderboard/ in the repo, the Space root when deployed
REPO_ROOT = APP_DIR.parent  # only meaningful in the repository checkout


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in {"1", "true", "yes", "on"}


def _positive_float(environ: Mapping[str, str], name: str, default: float) -> float:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None
    if not 0 < value < float("inf"):
        raise ValueError(f"{name}={raw!r} must be positive")
    return value


def _positive_int(environ: Mapping[str, str], name: str, default: int) -> int:
    raw = environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if value <= 0:
        raise ValueError(f"{name}={raw!r} must be positive")
    return value


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    gold_source: Path | None  # a gold parquet file or a built est/ folder
    gold_repo: str | None  # private dataset repo holding the gold file (Space)
    gold_filename: str
    hf_token: str | None
    results_repo: str | None
    max_bytes: int
    daily_limit: int
    reveal_private: bool
    max_name_chars: int
    max_description_chars: int
    seed_baselines: Path
    on_space: bool
    dev_user: str
    host: str
    port: int
    submit_concurrency: int
    half_salt: str = DEFAULT_HALF_SALT
    gold_name: str = DEFAULT_GOLD_NAME
    admins: tuple[str, ...] = ()
    min_class_rows: int = DEFAULT_MIN_ROWS
    ladder_step: float = DEFAULT_LADDER_STEP
    check_seconds: float = 30.0
    check_mib: int = 1024
    upload_ttl_s: float = 15 * 60
    upload_quota_bytes: int = 3 * DEFAULT_MAX_BYTES
    upload_total_bytes: int = 1024 * MIB
    gradio_dir: Path | None = None  # Gradio's upload and cache folder (GRADIO_TEMP_DIR); None: see `upload_dir`

    @property
    def upload_dir(self) -> Path:
        """The app's own Gradio folder (uploads and Gradio's file cache): GRADIO_TEMP_DIR when set, else one folder
        per data dir in the system temp dir. The app owns it: files there that no request holds are swept."""
        if self.gradio_dir is not None:
            return self.gradio_dir
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode("utf-8")).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"est-leaderboard-uploads-{digest}"

    @property
    def files_dir(self) -> Path:
        """Where the page's downloads (templates, board exports) are written: one folder per data dir in the system
        temp dir, reused across restarts, outside the data dir (which no route may serve)."""
        digest = hashlib.sha256(str(self.data_dir.resolve()).encode("utf-8")).hexdigest()[:10]
        return Path(tempfile.gettempdir()) / f"est-leaderboard-files-{digest}"

    @property
    def db_path(self) -> Path:
        return self.data_dir / "leaderboard.sqlite3"

    @property
    def archive_dir(self) -> Path:
        return self.data_dir / "submissions"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        on_space = bool(env.get("SPACE_ID"))
        data_dir = Path(env.get("EST_LB_DATA_DIR") or ("/data" if on_space else APP_DIR / "data"))
        gold_repo = env.get("EST_LB_GOLD_REPO") or None
        gold_source: Path | None = Path(env["EST_LB_GOLD"]) if env.get("EST_LB_GOLD") else None
        if gold_source is None and gold_repo is None and not on_space:
            # Local default: the builder's --blind_test gold file of est/, else the built dataset's test split.
            gold_source = find_gold_file(REPO_ROOT / "est") or REPO_ROOT / "est"
        salt = env.get("EST_LB_HALF_SALT") or None
        if salt is None and on_space:
            raise ValueError("EST_LB_HALF_SALT is not set: on a Space it must be a secret, so that the public source "
                             "does not tell which test rows are in the public half")
        if env.get("EST_LB_MAX_MIB"):
            max_bytes = _positive_int(env, "EST_LB_MAX_MIB", DEFAULT_MAX_BYTES // MIB) * MIB
        else:
            max_bytes = _positive_int(env, "EST_LB_MAX_BYTES", DEFAULT_MAX_BYTES)
        dev_user = env.get("EST_LB_DEV_USER") or "dev-user"
        admins = tuple(a.strip() for a in (env.get("EST_LB_ADMINS") or "").split(",") if a.strip())
        step = _positive_float(env, "EST_LB_LADDER_STEP", DEFAULT_LADDER_STEP)
        if step >= 1:
            raise ValueError(f"EST_LB_LADDER_STEP={step:g} must be below 1 (scores lie in 0..1)")
        return cls(
            ladder_step=step,
            check_seconds=_positive_float(env, "EST_LB_CHECK_SECONDS", 30.0),
            check_mib=_positive_int(env, "EST_LB_CHECK_MIB", 1024),
            upload_ttl_s=60 * _positive_float(env, "EST_LB_UPLOAD_TTL_MINUTES", 15.0),
            upload_quota_bytes=_positive_int(env, "EST_LB_UPLOAD_QUOTA_MIB", 3 * max_bytes // MIB or 1) * MIB,
            upload_total_bytes=_positive_int(env, "EST_LB_UPLOAD_TOTAL_MIB", 1024) * MIB,
            gradio_dir=Path(env["GRADIO_TEMP_DIR"]) if env.get("GRADIO_TEMP_DIR") else None,
            half_salt=salt or DEFAULT_HALF_SALT,
            gold_name=env.get("EST_LB_GOLD_VERSION") or DEFAULT_GOLD_NAME,
            admins=admins or (() if on_space else (dev_user,)),
            min_class_rows=_positive_int(env, "EST_LB_MIN_CLASS_ROWS", DEFAULT_MIN_ROWS),
            data_dir=data_dir,
            gold_source=gold_source,
            gold_repo=gold_repo,
            gold_filename=env.get("EST_LB_GOLD_FILE") or GOLD_FILE_NAME,
            hf_token=env.get("HF_TOKEN") or None,
            results_repo=env.get("EST_LB_RESULTS_REPO") or None,
            max_bytes=max_bytes,
            daily_limit=_positive_int(env, "EST_LB_DAILY_LIMIT", 5),
            reveal_private=_flag(env.get("EST_LB_REVEAL_PRIVATE")),
            max_name_chars=_positive_int(env, "EST_LB_MAX_NAME_CHARS", 64),
            max_description_chars=_positive_int(env, "EST_LB_MAX_DESCRIPTION_CHARS", 300),
            seed_baselines=Path(env.get("EST_LB_SEED_BASELINES") or APP_DIR / "seed_baselines.json"),
            on_space=on_space,
            dev_user=dev_user,
            host=env.get("EST_LB_HOST") or ("0.0.0.0" if on_space else "127.0.0.1"),
            port=_positive_int(env, "EST_LB_PORT", _positive_int(env, "GRADIO_SERVER_PORT", 7860)),
            submit_concurrency=_positive_int(env, "EST_LB_SUBMIT_CONCURRENCY", 2),
        )
