"""A validated corpus -> the per-config, per-split Arrow tables of a build (vectorised; ~1.6M utterances at paper
scale), including the balanced experiment subset of the paper's Table 3.
"""

from __future__ import annotations

from typing import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from .. import paper
from ..layout import (
    CONTEXT_PREFIX,
    LABEL_COLUMNS,
    SPLITS,
    UTTERANCE_CONFIGS,
    features_for,
    session_digest,
    split_of_digest,
)
from ..raw import Corpus
from ..schema import EMOTIONS, Task
from .options import BuildOptions, build_options

BALANCED_SEED = 20240917  # fixed seed of the balanced-subset sampling


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A fixed, well-mixed 64-bit hash (vectorised); the balanced sampling keys come from it."""
    with np.errstate(over="ignore"):
        x = (x + np.uint64(0x9E3779B97F4A7C15)).astype(np.uint64)
        x = (x ^ (x >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        x = (x ^ (x >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return x ^ (x >> np.uint64(31))


def balanced_targets(available: Mapping[str, int], cap: int | None = None) -> dict[str, int]:
    """Size of the balanced subset per emotion: the paper's "Used in experiment" column scaled to this corpus.

    `available[e]` = this corpus's eligible utterances (all three labels, i.e. with a transition) of emotion e, for
    every emotion of the schema. With N = sum(available) and P = `paper.ELIGIBLE` (the paper's eligible utterances):

        target(e) = min(available(e), round(used(e) x N / P))

    Why not the paper's per-emotion rate used/annotated (e.g. Worry 13,696 / 30,486) applied to eligible
    utterances: the paper's Annotation column counts EVERY utterance, eligible or not, so that rate, applied to the
    eligible ones only, falls short by the share of ineligible utterances. Every session has at least one (the
    utterance that sets its initial polarity), so at 90,000 sessions >= 90,000 of ~1.59M utterances (>= 5.7%) are
    ineligible and the subset would miss the column by >= 5.7% on average - more for emotions that often open a
    session. Scaling the column by N / P gives each emotion the paper's share of the eligible pool instead; at paper
    scale (N ~= P) it reproduces the column itself.

    With `cap` (`--balanced_cap N`, for corpora far smaller than the paper's): target(e) = min(available(e), cap).
    """
    if set(available) != set(EMOTIONS):
        raise ValueError(f"balanced_targets needs a count for every emotion {list(EMOTIONS)}, got {list(available)}")
    if cap is not None:
        if cap < 1:
            raise ValueError(f"the balanced cap must be >= 1, got {cap}")
        return {e: min(available[e], cap) for e in EMOTIONS}
    eligible = sum(available.values())
    return {
        e: min(available[e], paper.round_half_up(paper.TABLE3["emotion"][e][1] * eligible, paper.ELIGIBLE))
        for e in EMOTIONS
    }


def balanced_counts(candidates: Mapping[str, Mapping[str, int]], cap: int | None = None) -> dict[str, dict[str, int]]:
    """How many utterances of each emotion the balanced subset keeps in each split.

    `candidates[split][e]` = eligible utterances of emotion e in that split. Each emotion is kept at one rate in
    every split, r(e) = target(e) / available(e) (`balanced_targets`, available = the sum over the splits), so every
    split keeps the same share: round(r(e) x candidates), halves up. With three splits the roundings move an
    emotion's total by at most one utterance from target(e), and never past the candidates (r(e) <= 1).
    """
    available = {e: sum(split[e] for split in candidates.values()) for e in EMOTIONS}
    targets = balanced_targets(available, cap)
    return {
        name: {e: paper.round_half_up(targets[e] * split[e], available[e]) if available[e] else 0 for e in EMOTIONS}
        for name, split in candidates.items()
    }


class EstTables:
    """Per-config, per-split Arrow tables of a corpus (vectorised; one config/split materialised at a time)."""

    def __init__(self, corpus: Corpus, options: BuildOptions | None = None, **option_values):
        """`options` (a build's; default: the defaults), each overridden by a keyword of the same name
        (`EstTables(corpus, balanced_cap=200)`)."""
        options = build_options(options, **option_values)
        self.corpus, self.context_turns, self.blind_test = corpus, options.context_turns, options.blind_test
        self.balanced_cap = options.balanced_cap
        sessions, turns = corpus.sessions, corpus.turns
        digests = [session_digest(s) for s in sessions["session_id"].to_pylist()]
        self.session_split = np.array([SPLITS.index(split_of_digest(d)) for d in digests], dtype=np.int8)
        session_hash = np.array([int.from_bytes(d[8:16], "big") for d in digests], dtype=np.uint64)

        session_of_turn = turns["session"].to_numpy()
        is_user = turns["is_user"].to_numpy(zero_copy_only=False)
        user_at = np.flatnonzero(is_user)
        session = session_of_turn[user_at]
        # user rows ordered by split (stable), so a task config's split is a zero-copy slice
        order = np.argsort(self.session_split[session], kind="stable")
        user_at, session = user_at[order], session[order]
        self.split_bounds = np.searchsorted(self.session_split[session], np.arange(len(SPLITS) + 1))
        self.utterance_session = session  # row in corpus.sessions of every utterance row

        user = turns.take(pa.array(user_at))
        session_idx = pa.array(session)
        turn_str = pc.cast(user["turn"], pa.string())
        session_id = sessions["session_id"].take(session_idx)
        self.emotion = user["emotion"].to_numpy()
        self.has_transition = user["transition"].to_numpy() >= 0
        self.utterances = pa.table(
            {
                "id": pc.binary_join_element_wise(session_id, turn_str, "/"),
                "session_id": session_id,
                "turn": user["turn"],
                "category": sessions["category"].take(session_idx),
                "context": self._context(turns, session_of_turn, user_at),
                **self._anchor(turns, session_of_turn, session, user["turn"].to_numpy()),
                "text": user["text"],
                **{k: pc.cast(user[k], pa.int64()) for k in LABEL_COLUMNS},
            }
        )
        # balanced subset: inside each split, for each emotion, the `balanced_counts` candidates with the smallest key
        turn_key = splitmix64(user["turn"].to_numpy().astype(np.uint64) + np.uint64(BALANCED_SEED))
        key = splitmix64(session_hash[session] ^ turn_key)
        split = self.session_split[session]
        candidate_rows = {
            (split_name, emotion_name): np.flatnonzero((split == s) & (self.emotion == e) & self.has_transition)
            for s, split_name in enumerate(SPLITS)
            for e, emotion_name in enumerate(EMOTIONS)
        }
        self.balanced_candidates: dict[str, dict[str, int]] = {
            split_name: {e: len(candidate_rows[split_name, e]) for e in EMOTIONS} for split_name in SPLITS
        }
        self.balanced_counts = balanced_counts(self.balanced_candidates, self.balanced_cap)
        self.balanced = np.zeros(len(user_at), dtype=bool)
        for (split_name, emotion_name), rows in candidate_rows.items():
            keep = self.balanced_counts[split_name][emotion_name]
            self.balanced[rows[np.argsort(key[rows], kind="stable")[:keep]]] = True

    def _anchor(self, turns: pa.Table, session_of_turn: np.ndarray, session: np.ndarray, turn: np.ndarray) -> dict:
        """`anchor` / `anchor_turn` of user rows: the session's anchor from that turn on, else "" / -1."""
        anchor_turn = self.corpus.sessions["anchor_turn"].to_numpy()[session]
        has = (anchor_turn >= 0) & (turn >= anchor_turn)
        session_start = np.searchsorted(session_of_turn, np.arange(self.corpus.sessions.num_rows))[session]
        text = pc.if_else(pa.array(has), turns["text"].take(pa.array(np.where(has, session_start + anchor_turn, 0))),
                          pa.scalar("", pa.string()))
        return {"anchor": text, "anchor_turn": pa.array(np.where(has, anchor_turn, -1), pa.int32())}

    def _context(self, turns: pa.Table, session_of_turn: np.ndarray, user_at: np.ndarray) -> pa.Array:
        """'客服：…'/'用户：…' lines of the previous k turns of the same session, oldest first."""
        if self.context_turns == 0 or len(user_at) == 0:
            return pa.array([""] * len(user_at), pa.string())
        flat = pc.replace_substring(pc.replace_substring(turns["text"], "\r\n", " "), "\n", " ")
        prefix = pc.if_else(turns["is_user"], CONTEXT_PREFIX["user"], CONTEXT_PREFIX["agent"])
        line = pc.binary_join_element_wise(prefix, flat, "")
        # index len(line) = "" so a window reaching before the session start contributes nothing
        line = pa.concat_arrays([line.combine_chunks(), pa.array([""])])
        line_nl = pa.concat_arrays([pc.binary_join_element_wise(line[:-1], "\n", ""), pa.array([""])])
        session_start = np.searchsorted(session_of_turn, session_of_turn[user_at])
        parts = []
        for back in range(self.context_turns, 0, -1):
            source = user_at - back
            source = np.where(source >= session_start, source, len(line) - 1)
            # windows are contiguous: the newest line needs no trailing newline
            parts.append((line if back == 1 else line_nl).take(pa.array(source)))
        return pc.binary_join_element_wise(*parts, "") if len(parts) > 1 else parts[0]

    def rows(self, config: str, split: str) -> np.ndarray | slice:
        s = SPLITS.index(split)
        bounds = slice(int(self.split_bounds[s]), int(self.split_bounds[s + 1]))
        if config in ("emotion", "satisfaction"):
            return bounds
        mask = self.balanced[bounds] if config.endswith("-balanced") else self.has_transition[bounds]
        return np.flatnonzero(mask) + bounds.start

    def table(self, config: str, split: str) -> pa.Table:
        """The rows of one config/split, cast to the config's features (test labels -1 with blind_test)."""
        features = features_for(config)
        if config == "sessions":
            table = self._sessions(split)
        else:
            rows = self.rows(config, split)
            if isinstance(rows, slice):
                table = self.utterances.slice(rows.start, rows.stop - rows.start).select(list(features))
            else:
                table = self.utterances.select(list(features)).take(pa.array(rows))
            if self.blind_test and split == "test":
                hidden = pa.array(np.full(table.num_rows, -1, np.int64))
                for name in UTTERANCE_CONFIGS[config]:
                    table = table.set_column(table.schema.get_field_index(name), name, hidden)
        return table.cast(features.arrow_schema)

    def _sessions(self, split: str) -> pa.Table:
        sessions, turns = self.corpus.sessions, self.corpus.turns
        keep = np.flatnonzero(self.session_split == SPLITS.index(split))
        session_of_turn = turns["session"].to_numpy()
        part = turns.filter(pa.array(self.session_split[session_of_turn] == SPLITS.index(split)))
        lengths = np.bincount(session_of_turn, minlength=sessions.num_rows)[keep]
        offsets = pa.array(np.concatenate([[0], np.cumsum(lengths)]), pa.int32())
        if self.blind_test and split == "test":
            labels = [pa.array(np.full(part.num_rows, -1, np.int64))] * len(LABEL_COLUMNS)
        else:
            labels = [pc.cast(part[k], pa.int64()).combine_chunks() for k in LABEL_COLUMNS]
        role = pc.if_else(part["is_user"], "user", "agent").combine_chunks()
        turn_struct = pa.StructArray.from_arrays(
            [role, part["text"].combine_chunks(), *labels], names=["role", "text", *LABEL_COLUMNS]
        )
        index = pa.array(keep, pa.int64())
        dialogue = pc.cast(sessions["satisfaction"].take(index), pa.int64())
        if self.blind_test and split == "test":
            dialogue = pa.array(np.full(len(index), -1, np.int64))
        return pa.table(
            {
                "session_id": sessions["session_id"].take(index),
                "category": sessions["category"].take(index),
                "dialogue_satisfaction": dialogue,
                "anchor_turn": sessions["anchor_turn"].take(index),
                "turns": pa.ListArray.from_arrays(offsets, turn_struct),
            }
        )

    def gold(self) -> pa.Table:
        """Gold labels of the joint test split (label names) + whether each row is in joint-balanced test."""
        rows = self.rows("joint", "test")
        table = self.utterances.take(pa.array(rows))
        return pa.table(
            {
                "id": table["id"],
                "session_id": table["session_id"],
                **{
                    task.value: pa.array(np.array(task.labels, dtype=object)[table[task.value].to_numpy()])
                    for task in Task
                },
                "balanced": pa.array(self.balanced[rows]),
            }
        )

