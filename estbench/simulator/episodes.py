"""The authored episode bank: its file format, parsed and checked (`bank/README.md` documents the format).

    python -m estbench.simulator.episodes            # check the whole bank, print its figures
    python -m estbench.simulator.episodes FILE ...   # check some files (an author's draft)

A wording is compiled once into a small tree (`Template`): literal text, `{slot}`s and `[a|b]` choices, so a
session renders it without parsing. Checks: the header fields of each kind, where an episode starts and ends, at
least two wordings per user line, labels from the schema, known slots only, agent facts quoted by the caller only
after an agent said them, no template residue, no substantive user wording in two episodes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import sys
from collections import Counter
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..schema import CATEGORY_NAMES, EMOTIONS, NO_EMOTION, is_substantive
from .situation import SLOT_CARDINALITY

BANK_DIR = Path(__file__).with_name("bank")
KINDS = ("opening", "matter", "followup", "closing", "call")
ENDINGS = ("content", "waiting", "unhappy")
# Slots (bank/README.md): caller facts may be said by anyone; agent facts only after an agent line said them.
CALLER_SLOTS = frozenset({
    "surname", "sir", "plan", "fee", "gb", "used", "model", "brand", "district", "place", "building", "room",
    "family", "app", "years", "date", "clock", "span", "time", "month", "charge", "charge_fee", "charge_total",
    "speed", "country", "city", "count", "num", "agent_id",
})
AGENT_SLOTS = frozenset({"eta", "new_plan", "new_fee", "balance", "arrears", "points", "refund", "pack_fee", "pack_gb"})
SLOTS = CALLER_SLOTS | AGENT_SLOTS
# How many user lines each kind holds (README's table); `starts` / `ends` the role of its first / last turn.
SHAPE = {
    "opening": dict(users=(0, 2), starts=None, ends=None),
    "matter": dict(users=(8, 16), starts="user", ends="user"),
    "followup": dict(users=(3, 6), starts="user", ends="user"),
    "closing": dict(users=(1, 3), starts="agent", ends=None),
    "call": dict(users=(6, 14), starts="agent", ends="user"),
}
WORDING_SEPARATOR = "||"


class BankError(ValueError):
    """Problems in bank files, one `file:line: reason` per line."""


# --- templates ---------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Template:
    """A compiled wording: `parts` is a sequence of str (literal), `Slot` and tuple-of-sequences (a choice)."""

    source: str
    parts: tuple

    def render(self, rng, slots: dict[str, str]) -> str:
        out: list[str] = []
        _render(self.parts, rng, slots, out)
        return "".join(out)

    def variants(self) -> int:
        """How many different strings this wording can give (slots counted once: a value is fixed per session)."""
        return _count(self.parts)

    def forms(self) -> int:
        """How many different strings this wording gives across sessions (each slot takes all of its values)."""
        return self.variants() * _product(SLOT_CARDINALITY[name] for name in self.slots())

    def slots(self) -> frozenset[str]:
        return self._slot_names

    @functools.cached_property
    def _slot_names(self) -> frozenset[str]:
        found: set[str] = set()
        _slots(self.parts, found)
        return frozenset(found)

    @functools.cached_property
    def required_slots(self) -> frozenset[str]:
        """The slots every rendering of this wording says (a slot inside an optional choice may not be said)."""
        return frozenset(_required(self.parts))

    @functools.cached_property
    def plain(self) -> str:
        """The wording with every choice's first option and slots as neutral text (for the checks)."""
        out: list[str] = []
        _render(self.parts, _FirstChoice(), _PLAIN_VALUES, out)
        return "".join(out)


@dataclasses.dataclass(frozen=True)
class Slot:
    name: str


def _render(parts, rng, slots, out) -> None:
    for part in parts:
        if type(part) is str:
            out.append(part)
        elif type(part) is Slot:
            out.append(slots[part.name])
        else:
            _render(part[rng.randrange(len(part))] if len(part) > 1 else part[0], rng, slots, out)


def _count(parts) -> int:
    total = 1
    for part in parts:
        if type(part) is tuple:
            total *= sum(_count(option) for option in part)
    return total


def _required(parts) -> set[str]:
    found: set[str] = set()
    for part in parts:
        if type(part) is Slot:
            found.add(part.name)
        elif type(part) is tuple:
            found |= set.intersection(*(_required(option) for option in part))
    return found


def _product(values) -> int:
    total = 1
    for value in values:
        total *= value
    return total


def _slots(parts, found) -> None:
    for part in parts:
        if type(part) is Slot:
            found.add(part.name)
        elif type(part) is tuple:
            for option in part:
                _slots(option, found)


_TOKEN = re.compile(r"\[|\]|\||\{[^{}]*\}|[^\[\]|{}]+|[{}]")


def compile_template(source: str) -> Template:
    """`[a|b]` choices (nested, `[|x]` optional) and `{slot}`s; raises ValueError naming what is wrong."""
    if not any(c in source for c in "[]|{}"):
        return Template(source, (source,))
    # stack of open groups; each group is a list of options, each option a list of parts (adjacent text merged)
    stack: list[list[list]] = [[[]]]
    for token in _TOKEN.findall(source):
        option = stack[-1][-1]
        if token == "[":
            stack.append([[]])
        elif token == "|":
            if len(stack) == 1:
                raise ValueError("'|' outside a [..] group")
            stack[-1].append([])
        elif token == "]":
            if len(stack) == 1:
                raise ValueError("unbalanced ']'")
            options = stack.pop()
            stack[-1][-1].append(tuple(tuple(o) for o in options))
        elif token[0] == "{":
            name = token[1:-1]
            if len(token) < 3 or token[-1] != "}":
                raise ValueError(f"stray {token!r}")
            if name not in SLOTS:
                raise ValueError(f"unknown slot {{{name}}}")
            option.append(Slot(name))
        elif token == "}":
            raise ValueError(f"stray {token!r}")
        elif option and type(option[-1]) is str:
            option[-1] += token
        else:
            option.append(token)
    if len(stack) != 1:
        raise ValueError("unbalanced '['")
    return Template(source, tuple(stack[0][0]))


# --- episodes ----------------------------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class Turn:
    role: str  # "user" | "agent"
    wordings: tuple[Template, ...]
    label: str | None  # the author's label (user turns)
    line_id: str | None  # "<episode>#<k>": the k-th user line of the episode, 1-based (user turns)
    lineno: int


@dataclasses.dataclass(frozen=True)
class Episode:
    id: str
    kind: str
    category: str | None
    topic: str | None
    ends: str | None
    fits: tuple[str, ...]
    directions: tuple[str, ...]  # closings: the calls they close ("inbound", "outbound")
    title: str
    turns: tuple[Turn, ...]
    path: str
    lineno: int

    @property
    def user_turns(self) -> tuple[Turn, ...]:
        return tuple(t for t in self.turns if t.role == "user")


_HEADER = re.compile(r"^(kind|category|topic|ends|fits|for|title):\s*(.*)$")
_USER = re.compile(r"^U (" + "|".join(map(re.escape, EMOTIONS)) + r"):\s*(.*)$")
_AGENT = re.compile(r"^A:\s*(.*)$")
_RESIDUE = re.compile(r"[<>{}\[\]|#@\\_]|num")


def parse_file(path: str | Path) -> tuple[list[Episode], list[str]]:
    """The episodes of one bank file and the problems found in it (`file:line: reason`)."""
    path = Path(path)
    episodes, problems = [], []
    current: dict | None = None

    def close() -> None:
        if current is not None:
            episode, issues = _finish(current, str(path))
            problems.extend(issues)
            if episode is not None:
                episodes.append(episode)

    for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        where = f"{path.name}:{lineno}"
        if line.startswith("@episode"):
            close()
            current = {"id": line[len("@episode"):].strip(), "lineno": lineno, "header": {}, "turns": [], "users": 0}
            continue
        if current is None:
            problems.append(f"{where}: text before the first @episode")
            continue
        header = _HEADER.match(line)
        if header and not current["turns"]:
            current["header"][header.group(1)] = header.group(2).strip()
            continue
        user, agent = _USER.match(line), _AGENT.match(line)
        if not user and not agent:
            problems.append(f"{where}: not a turn ('A: ...' or 'U <Label>: ...'), a header after the turns, or an "
                            f"unknown label: {line[:40]!r}")
            continue
        text = (user or agent).group(user.lastindex if user else 1)
        sources = [w.strip() for w in text.split(WORDING_SEPARATOR)]
        wordings = []
        for source in sources:
            if not source:
                problems.append(f"{where}: an empty wording")
                continue
            try:
                wordings.append(compile_template(source))
            except ValueError as error:
                problems.append(f"{where}: {error} in {source!r}")
        if user:
            current["users"] += 1
            line_id = f"{current['id']}#{current['users']}"
            current["turns"].append(Turn("user", tuple(wordings), user.group(1), line_id, lineno))
        else:
            current["turns"].append(Turn("agent", tuple(wordings), None, None, lineno))
    close()
    return episodes, problems


def _finish(data: dict, path: str) -> tuple[Episode | None, list[str]]:
    where = f"{Path(path).name}:{data['lineno']}"
    problems = []
    header = data["header"]
    kind = header.get("kind", "")
    if not re.fullmatch(r"[a-z]{2}-[a-z]-\d{3,4}", data["id"]):
        problems.append(f"{where}: episode id {data['id']!r} is not like 'bc-a-001'")
    if kind not in KINDS:
        return None, problems + [f"{where}: kind {kind!r} is not one of {', '.join(KINDS)}"]
    category = header.get("category") or None
    if kind in ("matter", "call"):
        if category not in CATEGORY_NAMES:
            problems.append(f"{where}: a {kind} needs a category from {', '.join(CATEGORY_NAMES)}, got {category!r}")
    elif category:
        problems.append(f"{where}: a {kind} has no category")
    if kind == "call" and category != "care_follow_up":
        problems.append(f"{where}: a call is an outbound care_follow_up call")
    if kind == "matter" and category == "care_follow_up":
        problems.append(f"{where}: care_follow_up calls are outbound: kind call")
    ends = header.get("ends") or None
    if kind in ("matter", "followup", "call"):
        if ends not in ENDINGS:
            problems.append(f"{where}: ends {ends!r} is not one of {', '.join(ENDINGS)}")
    elif ends:
        problems.append(f"{where}: a {kind} has no 'ends'")
    fits = tuple(header.get("fits", "").split())
    if kind in ("followup", "closing"):
        if not fits or not set(fits) <= set(ENDINGS):
            problems.append(f"{where}: fits {header.get('fits')!r} must list endings from {', '.join(ENDINGS)}")
    elif fits:
        problems.append(f"{where}: a {kind} has no 'fits'")
    directions = tuple(header.get("for", "").split())
    if kind == "closing":
        if not directions or not set(directions) <= {"inbound", "outbound"}:
            problems.append(f"{where}: a closing says which calls it closes: 'for: inbound', 'for: outbound' or both")
    elif directions:
        problems.append(f"{where}: only a closing has 'for'")
    turns = data["turns"]
    shape = SHAPE[kind]
    users = [t for t in turns if t.role == "user"]
    low, high = shape["users"]
    if not low <= len(users) <= high:
        problems.append(f"{where}: a {kind} has {low}-{high} user lines, this one {len(users)}")
    if not turns:
        problems.append(f"{where}: no turns")
    else:
        if shape["starts"] and turns[0].role != shape["starts"]:
            problems.append(f"{where}: a {kind} starts with a{'n agent' if shape['starts'] == 'agent' else ' user'} line")
        if shape["ends"] and turns[-1].role != shape["ends"]:
            problems.append(f"{where}: a {kind} ends with a user line")
    said_by_agent: set[str] = set()
    first_substantive_seen = False
    for turn in turns:
        at = f"{Path(path).name}:{turn.lineno}"
        for wording in turn.wordings:
            if _RESIDUE.search(_plain(wording)):
                problems.append(f"{at}: markup or Latin letters left in {wording.source!r}")
        if turn.role == "agent":  # a fact is established once every way the agent may say the line says it
            if turn.wordings:
                said_by_agent |= frozenset.intersection(*(w.required_slots for w in turn.wordings)) & AGENT_SLOTS
            continue
        if len(turn.wordings) < 2:
            problems.append(f"{at}: a user line needs at least two wordings ('wording || wording')")
        for wording in turn.wordings:
            unsaid = (wording.slots() & AGENT_SLOTS) - said_by_agent
            if unsaid:
                problems.append(f"{at}: the caller quotes {', '.join(sorted(unsaid))} before an agent line said it")
        if kind in ("matter", "call") and not first_substantive_seen and turn.wordings:
            if is_substantive(_plain(turn.wordings[0])):
                first_substantive_seen = True
                if turn.label not in (NO_EMOTION, "Worry"):
                    problems.append(f"{at}: the first substantive caller line is {turn.label}; it must be No Emotion "
                                    "or Worry (README rule 4)")
        if kind == "opening" and any(is_substantive(_plain(w)) for w in turn.wordings):
            problems.append(f"{at}: an opening's user lines are greetings only")
    episode = Episode(data["id"], kind, category, header.get("topic") or None, ends, fits, directions,
                      header.get("title", ""),
                      tuple(turns), path, data["lineno"])
    return episode, problems


def _plain(template: Template) -> str:
    return template.plain


class _FirstChoice:
    @staticmethod
    def randrange(n: int) -> int:
        return 0


class _PlainValues(dict):
    def __missing__(self, key: str) -> str:
        return "五"


_PLAIN_VALUES = _PlainValues()


# What a rendered line of the corpus must never hold: template or markup characters (the [num] mask aside), and a
# number that came out empty ("这都第次了", "报了次").
_RENDERED_RESIDUE = re.compile(r"[<>{}|]|\[(?!num\])|(?<!\[num)\]|第[次遍个天回]|[了过][次遍](?![数])|(?<![A-Za-z])(?:None|nan)(?![A-Za-z])")


def rendered_residue(text: str) -> str | None:
    """The first piece of template residue or missing number in a rendered line, or None when it is clean."""
    found = _RENDERED_RESIDUE.search(text)
    return found.group(0) if found else None


def bank_files(folder: str | Path = BANK_DIR) -> list[Path]:
    return sorted(Path(folder).glob("*.txt"))


def load_bank(paths: Iterable[str | Path] | None = None, *, strict: bool = True) -> list[Episode]:
    """Every episode of the bank (or of `paths`); with `strict`, any problem raises one `BankError` listing all."""
    episodes, problems = [], []
    for path in bank_files() if paths is None else paths:
        found, issues = parse_file(path)
        episodes.extend(found)
        problems.extend(issues)
    problems.extend(cross_checks(episodes))
    if strict and problems:
        raise BankError("\n".join(problems))
    return episodes


def cross_checks(episodes: Sequence[Episode]) -> list[str]:
    """Checks across episodes: unique ids, no substantive user wording in two episodes."""
    problems = []
    ids = Counter(e.id for e in episodes)
    problems += [f"episode id {i} is used {n} times" for i, n in ids.items() if n > 1]
    owner: dict[str, str] = {}
    for episode in episodes:
        for turn in episode.user_turns:
            for wording in turn.wordings:
                if not is_substantive(_plain(wording)):
                    continue
                first = owner.setdefault(wording.source, episode.id)
                if first != episode.id:
                    problems.append(f"{Path(episode.path).name}:{turn.lineno}: the user wording {wording.source!r} "
                                    f"is also in {first}")
    return problems


def summary(episodes: Sequence[Episode]) -> Iterator[str]:
    """Readable bank figures: episodes per kind and category, user lines, wordings and variants, labels."""
    kinds = Counter(e.kind for e in episodes)
    yield f"{len(episodes):,} episodes: " + ", ".join(f"{k} {kinds[k]}" for k in KINDS)
    categories = Counter(e.category for e in episodes if e.category)
    yield "matters and calls per category: " + ", ".join(f"{c} {categories[c]}" for c in CATEGORY_NAMES)
    users = [t for e in episodes for t in e.user_turns]
    wordings = sum(len(t.wordings) for t in users)
    yield f"{len(users):,} user lines, {wordings:,} wordings"
    labels = Counter(t.label for t in users)
    with_label = {label: sum(1 for e in episodes if any(t.label == label for t in e.user_turns)) for label in EMOTIONS}
    yield "user lines per author label: " + ", ".join(f"{label} {labels[label]}" for label in EMOTIONS)
    yield "episodes holding each label: " + ", ".join(f"{label} {with_label[label]}" for label in EMOTIONS)
    substantive = [t for t in users if any(is_substantive(_plain(w)) for w in t.wordings)]
    forms = sorted(sum(w.forms() for w in t.wordings) for t in substantive)
    if forms:
        yield (f"forms per substantive user line (alternatives x slot values): median {forms[len(forms) // 2]:,}, "
               f"lowest decile {forms[len(forms) // 10]:,}, under 100: {sum(v < 100 for v in forms):,} "
               f"of {len(forms):,}")


def main(argv: Sequence[str] | None = None) -> int:
    paths = list(sys.argv[1:] if argv is None else argv)
    episodes, problems = [], []
    for path in paths or bank_files():
        found, issues = parse_file(path)
        episodes.extend(found)
        problems.extend(issues)
    problems.extend(cross_checks(load_bank(strict=False) if paths else episodes) if not paths else
                    _against_bank(episodes))
    for line in summary(episodes):
        print(line)
    if problems:
        print(f"\n{len(problems)} problem(s):")
        print("\n".join(problems))
        return 1
    print("\nno problems")
    return 0


def _against_bank(episodes: Sequence[Episode]) -> list[str]:
    """Cross checks of draft files together with the rest of the bank (the drafts themselves included once)."""
    drafted = {e.path for e in episodes}
    others = [e for e in load_bank(strict=False) if e.path not in drafted and str(Path(e.path).resolve()) not in
              {str(Path(p).resolve()) for p in drafted}]
    return cross_checks(list(episodes) + others)


if __name__ == "__main__":
    sys.exit(main())
