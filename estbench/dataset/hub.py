"""Publishing a built folder to the Hugging Face Hub as a dataset repository."""

from __future__ import annotations

import os
from pathlib import Path


def push(folder: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None) -> str:
    """Upload a built folder to the Hub as a dataset repository; raises RuntimeError with a clear message."""
    from huggingface_hub import HfApi, get_token
    from huggingface_hub.errors import HfHubHTTPError, OfflineModeIsEnabled

    folder = Path(folder)
    if not (folder / "README.md").is_file():
        raise RuntimeError(f"{folder} is not a built EST folder (no README.md): run `python est_dataset.py build`")
    token = token or get_token()
    if not token:
        raise RuntimeError(
            "no Hugging Face token found: run `hf auth login` or set HF_TOKEN to a token with write access"
        )
    api = HfApi(token=token)
    try:
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        commit = api.upload_folder(
            folder_path=folder, repo_id=repo_id, repo_type="dataset", commit_message="Upload EST"
        )
    except OfflineModeIsEnabled as err:
        raise RuntimeError(f"cannot push while offline (HF_HUB_OFFLINE is set): {err}") from err
    except HfHubHTTPError as err:
        raise RuntimeError(f"the Hub refused the upload to {repo_id} (token without write access?): {err}") from err
    except Exception as err:  # the HTTP client's connection errors are not OSError subclasses
        reason = f"{type(err).__name__}: {err}"
        raise RuntimeError(f"cannot reach the Hub to upload {repo_id} (no network?): {reason}") from err
    return str(getattr(commit, "commit_url", commit))

