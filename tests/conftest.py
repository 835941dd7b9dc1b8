"""Shared test set-up: everything runs offline (no Hub access exists here) on data the tests build themselves."""

import os

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
    import simulator

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
