"""Assemble the leaderboard as a self-contained Hugging Face Space folder (and optionally upload it).

    python leaderboard/deploy.py                       # -> spaces/est-leaderboard/
    python leaderboard/deploy.py --push user/est-leaderboard

The folder holds app.py, the est_leaderboard package, the Space card (README.md with the Space YAML),
requirements.txt, seed_baselines.json and copies of the project's label schema (est_labels.py) and scoring core
(est_scoring.py): nothing outside the folder is imported at run time. On the Space, set the secrets/variables
HF_TOKEN (read access to the gold repo) and EST_LB_GOLD_REPO (the private dataset repo holding test.parquet), and
attach persistent storage (mounted at /data).
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

APP_DIR = Path(__file__).resolve().parent
REPO_ROOT = APP_DIR.parent
APP_FILES = ("app.py", "README.md", "requirements.txt", "seed_baselines.json")
SHARED_MODULES = ("est_labels.py", "est_scoring.py")  # the project's schema and metric core, copied verbatim
PACKAGE = "est_leaderboard"


def assemble_space(out_dir: Path) -> Path:
    """Write the Space folder to `out_dir` (replacing a previous assembly) and return it."""
    out_dir = out_dir.resolve()
    if out_dir.exists() and any(out_dir.iterdir()) and not (out_dir / "app.py").exists():
        raise SystemExit(f"{out_dir} exists and is not a previous Space assembly; refusing to overwrite it")
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".space-", dir=out_dir.parent))
    for name in APP_FILES:
        shutil.copy2(APP_DIR / name, staging / name)
    for name in SHARED_MODULES:
        shutil.copy2(REPO_ROOT / name, staging / name)
    shutil.copytree(APP_DIR / PACKAGE, staging / PACKAGE, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    if out_dir.exists():
        shutil.rmtree(out_dir)
    staging.rename(out_dir)
    return out_dir


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "spaces" / "est-leaderboard",
                        help="Space folder to write (default: %(default)s)")
    parser.add_argument("--push", metavar="REPO_ID", help="also upload the folder to this Space repo (needs Hub "
                        "access and a write token in HF_TOKEN)")
    args = parser.parse_args(argv)
    out = assemble_space(args.out)
    print(f"Space folder assembled: {out}")
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(out)}")
    if args.push:
        from huggingface_hub import HfApi

        api = HfApi()
        api.create_repo(args.push, repo_type="space", space_sdk="gradio", exist_ok=True)
        api.upload_folder(repo_id=args.push, repo_type="space", folder_path=out)
        print(f"uploaded to https://huggingface.co/spaces/{args.push}")


if __name__ == "__main__":
    main()
