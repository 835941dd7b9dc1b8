"""SSA (Song et al., EMNLP 2019: the Taobao Clothes and Makeup customer-service corpora; github songkaisong/ssa,
`clothes.zip`, `makeup.zip`) -> raw format v1. The release has no license file, so none of its data is in this
repository; the converter reads the `.zip` itself or the extracted `text_{train,dev,test}.txt`.

A session starts with a line holding only its dialogue satisfaction (1 = unsatisfied, 2 = met, 3 = well satisfied),
then one line per utterance, `index<TAB>role<TAB>text<TAB>sentiment` (role `c:` customer, `b:` the shop's agent; text
space-separated word ids; sentiment 1 negative, 2 neutral, 3 positive), and a blank line. Customers are the `user`;
the dialogue label becomes the session-level satisfaction; utterance sentiment maps to an EST emotion by `SENTIMENT`
(only three of EST's emotions can occur). Word ids cannot be read by the filler rule, so every customer turn is marked
`"substantive": true` and the first customer utterance is the anchor.
"""

from __future__ import annotations

import zipfile
from pathlib import Path
from typing import Iterator, Sequence

from ..errors import Problem
from .common import Conversion, check_all, load_mapping

DIALOGUE = {"1": "Dissatisfied", "2": "Neutral", "3": "Satisfied"}
# Negative customer utterances in shop service are complaints about the goods or the service: disappointment is the
# closest EST emotion (they are Dissatisfied either way); neutral is No Emotion; positive is gratitude (EST's only
# positive class).
SENTIMENT = {"1": "Disappointment", "2": "No Emotion", "3": "Gratitude"}
ROLES = {"c:": "user", "b:": "agent"}


def _texts(source: Path, problems: list[Problem]) -> Iterator[tuple[str, str, bytes]]:
    """(display name, split, bytes) of every text_*.txt in a .zip or of a .txt file."""
    if source.suffix == ".zip":
        try:
            archive = zipfile.ZipFile(source)
        except (OSError, zipfile.BadZipFile) as err:
            problems.append(Problem(source.name, None, f"cannot read the zip: {err}"))
            return
        for member in sorted(archive.namelist()):
            stem = Path(member).name
            if "__MACOSX" in member or not (stem.startswith("text_") and stem.endswith(".txt")):
                continue
            yield f"{source.name}:{member}", stem[5:-4], archive.read(member)
    else:
        try:
            yield source.name, source.stem.removeprefix("text_"), source.read_bytes()
        except OSError as err:
            problems.append(Problem(source.name, None, f"cannot read: {err.strerror}"))


def convert(sources: Sequence[str | Path], *, mapping: str | Path | None = None) -> Conversion:
    table = load_mapping(mapping, "ssa", SENTIMENT)
    problems: list[Problem] = []
    conversion = Conversion(sessions=[])
    for source in map(Path, sources):
        corpus = source.stem if source.suffix == ".zip" else source.parent.name or "ssa"
        for name, split, data in _texts(source, problems):
            try:
                lines = data.decode("utf-8-sig").split("\n")
            except UnicodeDecodeError as err:
                problems.append(Problem(name, data[: err.start].count(b"\n") + 1, "not valid UTF-8"))
                continue
            session, header, seen = None, 0, 0
            for number, raw in enumerate(lines + [""], 1):
                line = raw.rstrip("\r")
                if not line.strip():  # a blank line ends the session
                    if session is not None:
                        if not session["turns"] and len(problems) == seen:  # not when its lines were reported
                            problems.append(Problem(name, header, "a session block with no utterance"))
                        else:
                            conversion.sessions.append(session)
                        session = None
                    elif number <= len(lines):
                        conversion.notes["blank lines"] += 1
                    continue
                fields = line.split("\t")
                if session is None:
                    seen = len(problems)
                    if len(fields) != 1 or fields[0].strip() not in DIALOGUE:
                        problems.append(Problem(name, number, f"expected a session's satisfaction line (1, 2 or 3), "
                                                              f"got {line[:30]!r}"))
                        session = {"turns": []}  # keep reading the block so later lines are checked too
                        header = number
                        continue
                    label = fields[0].strip()
                    session = {"session_id": f"ssa-{corpus}-{split}-{len(conversion.sessions):05d}",
                               "satisfaction": DIALOGUE[label], "turns": []}
                    conversion.mapped["dialogue satisfaction", label, DIALOGUE[label]] += 1
                    header = number
                    continue
                if len(fields) < 3:
                    problems.append(Problem(name, number, f"truncated line: {len(fields)} field(s), expected "
                                                          "index, role, text[, sentiment]"))
                    continue
                role = ROLES.get(fields[1].strip())
                if role is None:
                    problems.append(Problem(name, number, f"unknown role {fields[1]!r} (expected c: or b:)"))
                    continue
                text = fields[2].strip()
                if not text:
                    conversion.notes["utterances without text (skipped)"] += 1
                    continue
                turn = {"role": role, "text": text}
                if role == "user":
                    sentiment = fields[3].strip() if len(fields) > 3 else ""
                    if not sentiment:
                        conversion.notes["customer utterances without a sentiment (No Emotion)"] += 1
                        emotion = "No Emotion"
                    elif sentiment not in table:
                        problems.append(Problem(name, number, f"unknown sentiment {sentiment!r} (add it with --map "
                                                              "FILE)"))
                        continue
                    else:
                        emotion = table[sentiment]
                        conversion.mapped["sentiment", sentiment, emotion] += 1
                    turn.update(emotion=emotion, substantive=True)
                session["turns"].append(turn)
    check_all(problems)
    return conversion
