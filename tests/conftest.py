"""Shared test set-up: everything runs offline (no Hub access exists here) on data the tests build themselves."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")


# --- shared data fixtures (owner: dataset builder) -------------------------------------------------------------
import pytest  # noqa: E402

SMALL_SESSIONS = 300
SMALL_SEED = 7


def _write_small_raw(out_dir):
    """~300 raw v1 sessions: from the project's simulator once it exists, else the builder tests' stand-in."""
    try:
        import simulator

        if hasattr(simulator, "write_corpus"):
            return simulator.write_corpus(out_dir, SMALL_SESSIONS, SMALL_SEED, progress=False)
    except ImportError:
        pass
    from raw_fixtures import write_standin_corpus

    return write_standin_corpus(out_dir, SMALL_SESSIONS, SMALL_SEED)


@pytest.fixture(scope="session")
def small_raw_dir(tmp_path_factory):
    """A raw format v1 folder (*.jsonl.gz) of a small corpus; `small_est` is built from it."""
    out = tmp_path_factory.mktemp("small_raw") / "raw"
    _write_small_raw(out)
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
