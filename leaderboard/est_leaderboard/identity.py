"""One identity per person, however the name is spelled: the key of the daily limit, of duplicates and of the
Ladder (`ladder`).

`identity_key` folds what a reader cannot tell apart: Unicode compatibility forms (full-width letters), case,
combining marks and invisible format characters (zero-width joiners, bidi marks), separators (`-`, `_`, `.`, spaces)
and the common cross-script look-alikes of Latin letters and digits (a subset of Unicode TR39's confusables: the
Cyrillic and Greek letters that render like Latin ones, 0/o, 1/l/I). So `Dev-User`, `dev_user`, `ԁеѵ‐υѕег` and
`DEV USER` are one identity with one daily limit and one Ladder best. Names are shown as typed; only the key is folded.
"""

from __future__ import annotations

import unicodedata

# Look-alikes of Latin letters and digits (lower case: the key is case-folded first). Not the whole TR39 table
# (no download exists here); the letters an impersonation would use.
_CONFUSABLES = str.maketrans({
    # Cyrillic
    "а": "a", "в": "b", "е": "e", "ё": "e", "һ": "h", "і": "l", "ї": "l", "ј": "j", "к": "k", "м": "m", "н": "h",
    "о": "o", "р": "p", "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "ԁ": "d", "ԛ": "q", "ԝ": "w", "ӏ": "l",
    "ѵ": "v", "ь": "b", "г": "r", "п": "n", "ц": "u", "ш": "w", "з": "3",
    # Greek
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "l", "κ": "k", "ν": "v", "ο": "o", "ρ": "p", "τ": "t", "υ": "u",
    "χ": "x", "γ": "y", "ϲ": "c", "ω": "w", "μ": "u",
    # Latin and digits that read alike
    "0": "o", "1": "l", "i": "l", "|": "l", "ı": "l", "ɡ": "g", "ɑ": "a", "ʏ": "y",
})
_SEPARATORS = str.maketrans({c: None for c in "-_.·‐‑‒–—― \t"})


def identity_key(name: str) -> str:
    """The folded key of a display name (see the module docstring); "" for a name with nothing visible in it."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", name or ""))
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("Mn", "Me", "Cf", "Cc", "Zs"))
    text = text.casefold().translate(_SEPARATORS)
    return unicodedata.normalize("NFKC", text).translate(_CONFUSABLES)
