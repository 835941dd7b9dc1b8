"""Raw format v1 (the documented input every corpus is converted into) and its validating reader."""

from .corpus import BuildReport, Corpus, ReadOptions
from .reader import RawFormatError, raw_digest, raw_files, read_raw

__all__ = ["BuildReport", "Corpus", "ReadOptions", "RawFormatError", "raw_digest", "raw_files", "read_raw"]
