"""The one assembler of both Hugging Face Spaces (the `evaluate` metric and the leaderboard).

A Space runs from its own folder with nothing else importable, so the assembler copies the Space's own files and
vendors the core of this package (`VENDORED`: the schema, the paper's facts, the layout, errors, io, the scoring
core with its extras and the paired test) into `<space>/estbench/`. The result is staged beside `out` and renamed
into place; an existing folder is replaced only with `overwrite=True`. `metrics/deploy.py` and `leaderboard/deploy.py` are its two command lines.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Sequence

from .io import staged_folder

PACKAGE_DIR = Path(__file__).resolve().parent
# What a Space needs of estbench; the rest (raw reader, simulator, dataset builder, testing helpers) stays out.
VENDORED: tuple[str, ...] = (
    "__init__.py", "schema.py", "paper.py", "paper_table4.json", "layout.py", "errors.py", "io.py", "scoring.py",
    "conventions.py", "consistency.py", "slices.py", "significance.py", "results.py", "built.py", "gold.py",
    "submission.py",
)
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "data", ".*")


class SpaceExists(FileExistsError):
    """`out` exists and overwrite was not asked for."""


def assemble(source: str | Path, files: Sequence[str], out: str | Path, *, overwrite: bool = False) -> Path:
    """Copy `files` (file or folder names inside `source`) and the vendored estbench core to the Space folder `out`."""
    source, out = Path(source).resolve(), Path(out).resolve()
    if out.exists() and not overwrite:
        raise SpaceExists(f"{out.name} exists already; pass --overwrite to replace it")
    missing = [name for name in files if not (source / name).exists()]
    if missing:
        raise FileNotFoundError(f"the Space source lacks {', '.join(missing)}")
    with staged_folder(out) as staged:
        for name in files:
            if (source / name).is_dir():
                shutil.copytree(source / name, staged / name, ignore=_IGNORE)
            else:
                shutil.copyfile(source / name, staged / name)
        (staged / "estbench").mkdir()
        for name in VENDORED:
            shutil.copyfile(PACKAGE_DIR / name, staged / "estbench" / name)
        for path in staged.rglob("*"):  # ordinary permissions whatever the umask of the checkout
            path.chmod(0o755 if path.is_dir() else 0o644)
    return out


def upload(folder: Path, repo_id: str) -> str:
    """Create (if needed) the Gradio Space `repo_id` and upload `folder` to it. Needs network and a write token."""
    from huggingface_hub import HfApi

    api = HfApi()
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True)
    return str(api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="space"))
