"""A readable view of simulated sessions: every turn with its role and, for the caller, the labels the builder gives
it (emotion | transition | satisfaction), so a user can read what the corpus is like before training on it."""

from __future__ import annotations

from ..schema import derive_transitions, satisfaction_of
from .corpus import generate_session

ROLE_NAMES = {"user": "用户：", "agent": "客服："}


def preview(n_sessions: int, seed: int, start: int = 0) -> str:
    blocks = []
    for index in range(start, start + n_sessions):
        session = generate_session(seed, index)
        users = [(t["text"], t["emotion"]) for t in session["turns"] if t["role"] == "user"]
        transitions = iter(derive_transitions(users))
        lines = [f"=== session {session['session_id']} ({session['category']}) ==="]
        for turn in session["turns"]:
            line = f"{ROLE_NAMES[turn['role']]}{turn['text']}"
            if turn["role"] == "user":
                transition = next(transitions) or "-"
                line += f"    [{turn['emotion']} | {transition} | {satisfaction_of(turn['emotion'])}]"
            lines.append(line)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
