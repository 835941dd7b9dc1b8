"""Assemble the EST metric as a self-contained Hugging Face Space folder (and optionally push it).

In the repository, metrics/est_metric/est_labels.py and est_scoring.py are symlinks to the project's top-level
modules, so there is one copy of the label schema and of the scoring code. A Space cannot follow them, so this
command copies the module folder with every symlink replaced by the file it points to:

    python metrics/deploy.py --out spaces/est_metric
    python -c "import evaluate; print(evaluate.load('spaces/est_metric', 'joint'))"   # check it loads
    python metrics/deploy.py --out spaces/est_metric --push <org>/est_metric          # needs a Hub token

After the push, `evaluate.load("<org>/est_metric", "joint")` works anywhere.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

MODULE_DIR = Path(__file__).resolve().parent / "est_metric"
# The Space needs the evaluate module, its two sibling modules, the card, the app and its requirements.
SPACE_FILES = ("est_metric.py", "est_labels.py", "est_scoring.py", "README.md", "app.py", "requirements.txt")


def assemble(out: str | Path, *, overwrite: bool = False) -> Path:
    """Copy the module folder to `out` with symlinks dereferenced; written to a temporary folder, then renamed."""
    out = Path(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass --overwrite to replace it")
    missing = [name for name in SPACE_FILES if not (MODULE_DIR / name).is_file()]
    if missing:
        raise FileNotFoundError(f"{MODULE_DIR} lacks {', '.join(missing)}")
    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        staging.chmod(0o755)  # mkdtemp makes it private; a Space folder is an ordinary one
        for name in SPACE_FILES:
            shutil.copyfile(MODULE_DIR / name, staging / name)  # copyfile follows symlinks
        previous = None
        if out.exists():  # keep the old folder until the new one is in place
            previous = out.with_name(f".{out.name}-previous")
            shutil.rmtree(previous, ignore_errors=True)
            out.rename(previous)
        try:
            staging.rename(out)
        except BaseException:
            if previous is not None:
                previous.rename(out)
            raise
        if previous is not None:
            shutil.rmtree(previous)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return out


def check_repo_id(repo_id: str) -> None:
    # evaluate.load("<org>/<name>") fetches <name>.py from the Space, so the Space must be named est_metric
    if repo_id.count("/") != 1 or repo_id.split("/")[1] != MODULE_DIR.name:
        raise ValueError(f"the Space must be <org>/{MODULE_DIR.name} (evaluate loads <name>.py), got {repo_id!r}")


def push(folder: Path, repo_id: str) -> str:
    """Create (if needed) the Space `repo_id` and upload `folder` to it. Needs network and a write token."""
    from huggingface_hub import HfApi

    check_repo_id(repo_id)

    api = HfApi()
    api.create_repo(repo_id, repo_type="space", space_sdk="gradio", exist_ok=True)
    commit = api.upload_folder(folder_path=str(folder), repo_id=repo_id, repo_type="space")
    return str(commit)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default="spaces/est_metric", help="folder to write (default: %(default)s)")
    parser.add_argument("--overwrite", action="store_true", help="replace --out if it exists")
    parser.add_argument("--push", metavar="ORG/est_metric", help="also upload the folder to this Hub Space (network)")
    args = parser.parse_args(argv)
    if args.push:
        try:
            check_repo_id(args.push)
        except ValueError as error:
            parser.error(str(error))
    folder = assemble(args.out, overwrite=args.overwrite)
    print(f"assembled {folder}/: {', '.join(SPACE_FILES)}")
    if args.push:
        print(f"pushed to https://huggingface.co/spaces/{args.push}: {push(folder, args.push)}")


if __name__ == "__main__":
    main()
