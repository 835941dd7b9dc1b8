"""Converters of public corpora into raw format v1, so the whole benchmark runs on real dialogue before the EST
release: `cped` (Chinese TV drama, 13 emotions) and `ssa` (Taobao Clothes / Makeup customer service, dialogue
satisfaction). `python est_dataset.py convert {cped,ssa} SRC [SRC ...] --out RAW [--map FILE]`."""

from . import cped, ssa
from .common import Conversion, write_raw

CONVERTERS = {"cped": cped, "ssa": ssa}

__all__ = ["CONVERTERS", "Conversion", "cped", "ssa", "write_raw"]
