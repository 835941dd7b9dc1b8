"""Assemble the leaderboard as a self-contained Hugging Face Space folder (and optionally upload it).

    python leaderboard/deploy.py                       # -> spaces/est-leaderboard/
    python leaderboard/deploy.py --overwrite --push user/est-leaderboard

The folder holds app.py, the est_leaderboard package, the Space card (README.md with the Space YAML),
requirements.txt, seed_baselines.json (with the baselines' prediction files in baselines/) and the vendored
`estbench` core (`estbench.spaces`, the same assembler as the metric's): nothing outside the folder is imported at
run time. On the Space, set the secrets/variables HF_TOKEN (read access to the gold repo) and EST_LB_GOLD_REPO (the
private dataset repo holding test.parquet), and attach persistent storage (mounted at /data).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from estbench.cli import add_option
from estbench.spaces import SpaceExists, assemble, upload

APP_DIR = Path(__file__).resolve().parent
SPACE_FILES = ("app.py", "README.md", "requirements.txt", "seed_baselines.json", "est_leaderboard")
BASELINES = "baselines"  # the baselines' prediction files the seed file names, when there are any


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_option(parser, "out", type=Path, default=Path("spaces/est-leaderboard"),
                        help="Space folder to write (default: %(default)s)")
    add_option(parser, "overwrite", action="store_true", help="replace --out if it exists")
    add_option(parser, "push", metavar="REPO_ID", help="also upload the folder to this Space repo (needs Hub "
                        "access and a write token in HF_TOKEN)")
    args = parser.parse_args(argv)
    try:
        files = SPACE_FILES + ((BASELINES,) if (APP_DIR / BASELINES).is_dir() else ())
        out = assemble(APP_DIR, files, args.out, overwrite=args.overwrite)
    except SpaceExists as error:
        parser.exit(1, f"error: {error}\n")
    print(f"Space folder assembled: {args.out}")
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        print(f"  {path.relative_to(out)}")
    if args.push:
        print(f"uploaded to https://huggingface.co/spaces/{args.push}: {upload(out, args.push)}")


if __name__ == "__main__":
    main()
