"""Shared test set-up: everything runs offline (no Hub access exists here) on data the tests build themselves, with
every cache in a temporary folder (nothing is left in ~/.cache)."""

import atexit
import os
import shutil
import site
import sys
import tempfile

# Before anything imports datasets/evaluate/transformers (they read these at import time).
_CACHE = tempfile.mkdtemp(prefix="est-tests-cache-")
atexit.register(shutil.rmtree, _CACHE, ignore_errors=True)
for _name in ("HF_HOME", "XDG_CACHE_HOME", "EST_CACHE_DIR", "MPLCONFIGDIR"):
    os.environ[_name] = os.path.join(_CACHE, _name.lower())
os.environ.pop("HF_DATASETS_CACHE", None)
os.environ.pop("HF_MODULES_CACHE", None)
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


# --- shared data fixtures ----------------------------------------------------------------------------------------
import pytest  # noqa: E402

SMALL_SESSIONS = 300
SMALL_SEED = 7


@pytest.fixture(scope="session")
def small_raw_dir(tmp_path_factory):
    """A raw format v1 folder (*.jsonl.gz) of a small corpus; `small_est` is built from it."""
    from estbench import simulator

    out = tmp_path_factory.mktemp("small_raw") / "raw"
    simulator.write_corpus(out, SMALL_SESSIONS, SMALL_SEED, progress=False)
    return out


@pytest.fixture(scope="session")
def small_est(small_raw_dir, tmp_path_factory):
    """Path of a built `est/` folder (all configs + README.md) of the small corpus, labels included."""
    import est_dataset

    out = tmp_path_factory.mktemp("small_est") / "est"
    est_dataset.build(small_raw_dir, out, progress=False)
    return out


@pytest.fixture(scope="session")
def small_est_blind(small_raw_dir, tmp_path_factory):
    """Path of a blind-test build of the small corpus (test labels -1); its gold file is
    `small_est_blind.parent / "est-gold" / "test.parquet"`."""
    import est_dataset

    out = tmp_path_factory.mktemp("small_est_blind") / "est"
    est_dataset.build(small_raw_dir, out, blind_test=True, progress=False)
    return out


@pytest.fixture(scope="module")
def gold_file(gold_frame, tmp_path_factory):
    """A gold parquet file of the module's own `gold_frame` fixture (the leaderboard tests define one each)."""
    path = tmp_path_factory.mktemp("gold") / "test.parquet"
    gold_frame.to_parquet(path)
    return path


@pytest.fixture(scope="session")
def isolated_python():
    """(interpreter flags, environment) for a subprocess in which the project is NOT importable: -S skips the .pth
    files (so the editable install's finder is never installed) and PYTHONPATH lists only the site-packages folders,
    so third-party packages still import. An assembled Space must start with nothing but its own folder."""
    repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    folders = [p for p in [*site.getsitepackages(), site.getusersitepackages()] if os.path.isdir(p) and p != repo]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(folders)}
    probe = [sys.executable, "-S", "-c", "import estbench"]
    import subprocess

    assert subprocess.run(probe, env=env, cwd=_CACHE, capture_output=True).returncode != 0, "estbench is importable"
    return ("-S",), env
