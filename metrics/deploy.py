"""Assemble the EST metric as a self-contained Hugging Face Space folder (and optionally push it).

    python metrics/deploy.py --out spaces/est_metric
    python -c "import evaluate; print(evaluate.load('spaces/est_metric', 'joint'))"   # check it loads
    python metrics/deploy.py --out spaces/est_metric --push <org>/est_metric          # needs a Hub token

The folder holds the evaluate module, its card, app and requirements, and `est_scoring.py`: estbench's scoring
core joined into one file at assembly (`estbench.spaces.single_file`, the same assembler as the leaderboard's), which
the module imports relatively. evaluate copies a module together with the files it imports relatively, so after the
push `evaluate.load("<org>/est_metric", "joint")` works in any environment with the Space's requirements.txt
installed; estbench is not needed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from estbench.cli import add_option
from estbench.spaces import SpaceExists, assemble, single_file, upload

MODULE_DIR = Path(__file__).resolve().parent / "est_metric"
SPACE_FILES = ("est_metric.py", "README.md", "app.py", "requirements.txt")
CORE_FILE = "est_scoring.py"  # in the repository a re-export of estbench; in the Space the generated core


def check_repo_id(repo_id: str) -> None:
    # evaluate.load("<org>/<name>") fetches <name>.py from the Space, so the Space must be named est_metric
    if repo_id.count("/") != 1 or repo_id.split("/")[1] != MODULE_DIR.name:
        raise ValueError(f"the Space must be <org>/{MODULE_DIR.name} (evaluate loads <name>.py), got {repo_id!r}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_option(parser, "out", default="spaces/est_metric", help="folder to write (default: %(default)s)")
    add_option(parser, "overwrite", action="store_true", help="replace --out if it exists")
    add_option(parser, "push", metavar="ORG/est_metric", help="also upload the folder to this Hub Space (network)")
    args = parser.parse_args(argv)
    if args.push:
        try:
            check_repo_id(args.push)
        except ValueError as error:
            parser.error(str(error))
    try:
        folder = assemble(MODULE_DIR, SPACE_FILES, args.out, overwrite=args.overwrite, vendor=False,
                          generated={CORE_FILE: single_file()})
    except SpaceExists as error:
        parser.exit(1, f"error: {error}\n")
    print(f"assembled {args.out}/: {', '.join(SPACE_FILES)} + {CORE_FILE} (estbench's scoring core, one file)")
    if args.push:
        print(f"pushed to https://huggingface.co/spaces/{args.push}: {upload(folder, args.push)}")


if __name__ == "__main__":
    main()
