"""CPED (scutcyr/CPED, Apache-2.0: `data/CPED/{train,valid,test}_split.csv`) -> raw format v1.

CPED is multi-party TV drama, not a service call. Each `Dialogue_ID` becomes a session, utterances in `Utterance_ID`
order. The `user` is, by default, the speaker with the most utterances in the dialogue (ties: who spoke first); every
other speaker is the `agent` side. `--cped_user first` picks the first speaker instead. The speaker's name and the
dialogue act are kept under the turn's `meta` (ignored by the builder). Emotions map to EST's seven by `EMOTIONS`.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from pathlib import Path
from typing import Sequence

from ..errors import Problem
from .common import Conversion, check_all, load_mapping

COLUMNS = ("TV_ID", "Dialogue_ID", "Utterance_ID", "Speaker", "Gender", "Age", "Neuroticism", "Extraversion",
           "Openness", "Agreeableness", "Conscientiousness", "Scene", "FacePosition_LU", "FacePosition_RD",
           "Sentiment", "Emotion", "DA", "Utterance")
NEEDED = ("Dialogue_ID", "Utterance_ID", "Speaker", "Emotion", "DA", "Utterance")
# CPED's 13 emotions -> EST's 7. EST has a single positive class (Gratitude = Satisfied), so every positive state
# maps to it; surprise has no valence and EST no class for it; fear is anxious arousal; low, resigned states
# (depress, sadness, negative-other) are disappointment; disgust aimed at someone is anger (EST's Insult is abusive
# language, which CPED does not label).
EMOTIONS = {
    "happy": "Gratitude", "grateful": "Gratitude", "positive-other": "Gratitude", "relaxed": "No Emotion",
    "neutral": "No Emotion", "astonished": "No Emotion", "anger": "Anger", "disgust": "Anger", "fear": "Anxiety",
    "depress": "Disappointment", "sadness": "Disappointment", "negative-other": "Disappointment", "worried": "Worry",
}
USER_RULES = ("most", "first")


def convert(sources: Sequence[str | Path], *, mapping: str | Path | None = None, user: str = "most") -> Conversion:
    if user not in USER_RULES:
        raise ValueError(f"unknown user rule {user!r} (expected one of: {', '.join(USER_RULES)})")
    table = load_mapping(mapping, "cped", EMOTIONS)
    problems: list[Problem] = []
    dialogues: dict[str, list[tuple[str, int, dict]]] = defaultdict(list)  # id -> [(utterance id, line, row)]
    conversion = Conversion(sessions=[])
    for source in sources:
        name = Path(source).name
        try:
            text = Path(source).read_bytes().decode("utf-8-sig")
        except UnicodeDecodeError as err:
            line = Path(source).read_bytes()[: err.start].count(b"\n") + 1
            problems.append(Problem(name, line, f"not valid UTF-8 (byte {err.object[err.start]:#04x})"))
            continue
        except OSError as err:
            problems.append(Problem(name, None, f"cannot read: {err.strerror}"))
            continue
        reader = csv.DictReader(io.StringIO(text, newline=""))
        missing = [c for c in NEEDED if c not in (reader.fieldnames or ())]
        if missing:
            problems.append(Problem(name, 1, f"missing column(s) {', '.join(missing)} (expected CPED's header)"))
            continue
        for row in reader:
            line = reader.line_num
            if None in row or any(row[c] is None for c in NEEDED):
                problems.append(Problem(name, line, "truncated line: fewer fields than the header"))
                continue
            emotion = row["Emotion"].strip()
            if emotion not in table:
                problems.append(Problem(name, line, f"unknown CPED emotion {emotion!r} (add it with --map FILE)"))
                continue
            if not row["Utterance"].strip():
                conversion.notes["utterances without text (skipped)"] += 1
                continue
            dialogues[row["Dialogue_ID"]].append((row["Utterance_ID"], line, row))
    check_all(problems)
    for dialogue_id in sorted(dialogues):
        rows = sorted(dialogues[dialogue_id], key=lambda item: item[0])
        counts = Counter(row["Speaker"] for _, _, row in rows)
        first = rows[0][2]["Speaker"]
        speaker = first if user == "first" else max(counts, key=lambda s: (counts[s], s == first))
        turns = []
        for _, _, row in rows:
            meta = {"speaker": row["Speaker"], "dialogue_act": row["DA"]}
            if row["Speaker"] == speaker:
                emotion = table[row["Emotion"].strip()]
                conversion.mapped["emotion", row["Emotion"].strip(), emotion] += 1
                turns.append({"role": "user", "text": row["Utterance"].strip(), "emotion": emotion, "meta": meta})
            else:
                turns.append({"role": "agent", "text": row["Utterance"].strip(), "meta": meta})
        conversion.sessions.append({"session_id": f"cped-{dialogue_id}", "turns": turns})
    return conversion
