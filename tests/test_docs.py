"""Every Python example in the README and the cards runs as written (from a folder laid out like the repository root
after `python est_dataset.py build`: est/, a raw/ corpus, metrics/)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ("README.md", "dataset_card.md", "metrics/est_metric/README.md", "leaderboard/README.md", "baselines/README.md")


def python_blocks(path: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"), flags=re.S | re.M)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory, small_est, small_raw_dir):
    work = tmp_path_factory.mktemp("docs")
    shutil.copytree(small_est, work / "est")
    shutil.copytree(small_raw_dir, work / "raw")
    shutil.copytree(ROOT / "metrics", work / "metrics", ignore=shutil.ignore_patterns("__pycache__"))
    return work


def test_the_docs_have_examples():
    assert len(python_blocks(ROOT / "README.md")) >= 2 and python_blocks(ROOT / "metrics/est_metric/README.md")


@pytest.mark.parametrize("doc", [d for d in DOCS if python_blocks(ROOT / d)])
def test_python_examples_run_as_written(doc, workdir):
    # the blocks of one document share their names (a later block may use an earlier one's variables)
    code = "\n".join(python_blocks(ROOT / doc))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # est_dataset.py is a script at the repository root
    run = subprocess.run([sys.executable, "-c", code], cwd=workdir, env=env, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, f"{doc}:\n{run.stderr[-3000:]}"
