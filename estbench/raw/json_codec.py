"""The JSON decoder of the line-by-line parser: orjson (a gradio dependency) parses ~3x faster; stdlib fallback."""

from __future__ import annotations

import json

try:
    import orjson

    json_loads = orjson.loads
    JSONDecodeError: tuple[type[Exception], ...] = (orjson.JSONDecodeError,)
except ImportError:  # pragma: no cover
    json_loads = json.loads
    JSONDecodeError = (json.JSONDecodeError,)
