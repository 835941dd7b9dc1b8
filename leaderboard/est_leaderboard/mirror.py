"""Optional mirror of accepted results to a Hub dataset repo (only when EST_LB_RESULTS_REPO and HF_TOKEN are set).

huggingface_hub's CommitScheduler pushes the folder every few minutes in a background thread; each accepted
submission appends one JSON line (scores and metadata, no gold). Needs Hub access: not exercised by the offline
tests.
"""

from __future__ import annotations

import json
from dataclasses import asdict

from .settings import Settings
from .storage import Submission


class ResultsMirror:
    def __init__(self, settings: Settings):
        from huggingface_hub import CommitScheduler

        self.folder = settings.data_dir / "mirror"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.scheduler = CommitScheduler(repo_id=settings.results_repo, repo_type="dataset", folder_path=self.folder,
                                         every=5, token=settings.hf_token, private=True)

    def record(self, submission: Submission) -> None:
        line = json.dumps({k: v for k, v in asdict(submission).items() if not k.endswith("_detail")})
        with self.scheduler.lock:
            with (self.folder / "results.jsonl").open("a", encoding="utf-8") as handle:
                handle.write(line + "\n")
