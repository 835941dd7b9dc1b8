"""Building the Hub-ready EST folder: the options of a build (`options`), corpus -> config tables (`tables`), the
card (`card`), the Parquet folder (`build`), the embedded simulated default (`default_corpus`) and publishing
(`hub`)."""

from .build import BuildSummary, build
from .default_corpus import cache_root, default_corpus_dir, simulated_corpus_dir
from .hub import push
from .options import BuildOptions
from .tables import EstTables, balanced_counts, balanced_targets

__all__ = ["BuildOptions", "BuildSummary", "EstTables", "balanced_counts", "balanced_targets", "build", "cache_root",
           "default_corpus_dir", "push", "simulated_corpus_dir"]
