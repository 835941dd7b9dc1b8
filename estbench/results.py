"""One schema for stored scores of a system: what `baselines/run.py --results` writes and what the leaderboard's seed
file (`leaderboard/seed_baselines.json`) holds, so a baseline's numbers are never kept in two shapes.

A record is a JSON object: `model`, `track`, `split`, `utterances`, `scores` (headline keys of `estbench.scoring`
over the whole split), `intervals` (their session-bootstrap 95% intervals, when measured) and, when it was scored on
the leaderboard's public/private cut, `public_scores` and `private_scores`; `description`, `train_rows`,
`predictions_sha256` and `scored_at` are provenance, and `data_digest` says which data the scores were measured on
(the digest the build wrote, `estbench.built.data_digest`): a dataset card quotes a record only when it matches the
digest of the data the card describes. A model that wrote its answers as text (a chat/API model,
`baselines/run.py chat`) also has `generation` (`GenerationInfo`): how it was asked and how many answers could not be
read and got the declared fallback label.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from .answers import FALLBACK_LABELS
from .io import write_atomically
from .layout import SPLITS, TRACKS
from .scoring import headline_keys


def check_scores(scores: dict, where: str, *, values: bool = True) -> dict:
    """`scores` with float values, after checking that every key is a headline key of `estbench.scoring`."""
    unknown = sorted(set(scores) - set(headline_keys()))
    if unknown:
        raise ValueError(f"{where}: unknown score keys {unknown}")
    return {key: float(value) for key, value in scores.items()} if values else scores


@dataclasses.dataclass(frozen=True)
class GenerationInfo:
    """How a generating model was asked and read (`ScoreRecord.generation`), so a score is never separated from the
    share of answers that were filled in rather than given."""

    served_model: str  # the model name the endpoint was asked for
    endpoint: str  # the API the answers came through, e.g. "openai-chat-completions"
    shots: int  # few-shot examples per question (0: zero-shot)
    prompt_mode: str  # joint | per-task (estbench.prompts.MODES)
    prompt_language: str
    answers: str  # "structured" (a JSON-schema response_format) or "parsed" (free text read by estbench.answers)
    invalid: dict[str, int]  # per task: answers that could not be read, written as the fallback label
    fallback: dict[str, str] = dataclasses.field(default_factory=lambda: dict(FALLBACK_LABELS))
    requests: int = 0  # chat requests the run needed (cached ones included)
    schema_violations: int = 0  # structured runs: replies outside the schema (the server did not enforce it)
    reasoning_tokens: int = 0  # the token budget allowed for reasoning before the answer

    def __post_init__(self):
        if self.answers not in ("structured", "parsed"):
            raise ValueError(f"generation: answers must be structured or parsed, got {self.answers!r}")
        if set(self.invalid) - set(FALLBACK_LABELS) or set(self.fallback) != set(FALLBACK_LABELS):
            raise ValueError("generation: invalid and fallback are keyed by task name")

    @property
    def invalid_total(self) -> int:
        return sum(self.invalid.values())


@dataclasses.dataclass(frozen=True)
class ScoreRecord:
    model: str
    track: str
    scores: dict[str, float]
    split: str = "test"
    utterances: int = 0
    description: str = ""
    public_scores: dict[str, float] = dataclasses.field(default_factory=dict)
    private_scores: dict[str, float] = dataclasses.field(default_factory=dict)
    predictions_sha256: str = ""
    scored_at: str = ""
    intervals: dict[str, list[float]] = dataclasses.field(default_factory=dict)  # key -> [low, high], 95% bootstrap
    train_rows: int = 0  # training utterances of a seeded subsample (0: the whole train split)
    data_digest: str = ""  # the data measured on (estbench.built.data_digest); "" = unknown
    generation: dict = dataclasses.field(default_factory=dict)  # GenerationInfo fields, for models that wrote text

    def __post_init__(self):
        where = f"score record {self.model!r}"
        if self.track not in TRACKS:
            raise ValueError(f"{where}: track must be one of {', '.join(TRACKS)}, got {self.track!r}")
        if self.split not in SPLITS:
            raise ValueError(f"{where}: split must be one of {', '.join(SPLITS)}, got {self.split!r}")
        for name in ("scores", "public_scores", "private_scores"):
            object.__setattr__(self, name, check_scores(getattr(self, name), f"{where}: {name}"))
        check_scores(self.intervals, f"{where}: intervals", values=False)
        object.__setattr__(self, "intervals", {k: [float(lo), float(hi)] for k, (lo, hi) in self.intervals.items()})
        if self.generation:
            try:
                GenerationInfo(**self.generation)
            except TypeError as error:
                raise ValueError(f"{where}: generation: {error}") from None

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, entry: dict, where: str = "score record") -> "ScoreRecord":
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(entry) - fields)
        if unknown:
            raise ValueError(f"{where}: unknown fields {unknown}")
        return cls(**entry)


def read_records(path: str | Path) -> list[ScoreRecord]:
    """The records of a file holding one record (an object) or several (a list); [] if it does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    data = json.loads(path.read_text(encoding="utf-8"))
    entries = data if isinstance(data, list) else [data]
    return [ScoreRecord.from_json(entry, f"{path.name}: entry {i}") for i, entry in enumerate(entries)]


def write_records(path: str | Path, records: list[ScoreRecord] | ScoreRecord) -> Path:
    data = [r.to_json() for r in records] if isinstance(records, list) else records.to_json()
    return write_atomically(path, json.dumps(data, indent=1, ensure_ascii=False) + "\n")
