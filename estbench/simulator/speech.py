"""How authored lines sound in a transcript: Chinese numerals, and a light, rare transcription style.

The bank's lines are written as people speak; `Transcript.say` only adds what an ASR transcript of a real call
shows now and then (CMCC paper): a hesitation filler, a repeated word, an unpunctuated run, and rarely a misheard
telecom word. Each touch is rare and never changes what a line says or the emotion it carries.
"""

from __future__ import annotations

import random
import re

from ..schema import is_substantive

_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """A non-negative integer below 100,000 in Chinese numerals as spoken (58 -> 五十八, 120 -> 一百二十, 2 -> 两)."""
    if n == 2:
        return "两"
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n - 10] if n % 10 else "")
    parts, zero, rest = [], False, n
    for value, unit in ((10_000, "万"), (1000, "千"), (100, "百"), (10, "十")):
        digit, rest = divmod(rest, value)
        if digit:
            if zero:
                parts.append("零")
                zero = False
            parts.append(("两" if digit == 2 and value >= 1000 else _DIGITS[digit]) + unit)
        elif parts:
            zero = True
    if rest:
        parts.append(("零" if zero else "") + _DIGITS[rest])
    return "".join(parts)


FILLERS = ("就是", "那个", "呃", "嗯", "然后")
# ASR confusions of telecom words (homophones); applied rarely and never to the [num] mask
MISHEARD = {"宽带": "宽待", "套餐": "套参", "话费": "花费", "流量": "流亮", "营业厅": "营业听", "短信": "短新",
            "信号": "新号", "退订": "推定", "积分": "基分", "充值": "冲值"}
_CLAUSE_END = re.compile(r"(?<=[，。！？])")


class Transcript:
    """The transcription style of one speaker through a call (rates drawn once, so a caller sounds the same)."""

    def __init__(self, rng: random.Random, *, fillers: float, repeats: float, run_on: float, misheard: float):
        self.rng, self.fillers, self.repeats, self.run_on, self.misheard = rng, fillers, repeats, run_on, misheard

    @classmethod
    def caller(cls, rng: random.Random) -> "Transcript":
        return cls(rng, fillers=rng.choice((0.02, 0.05, 0.1)), repeats=rng.choice((0.0, 0.02, 0.05)),
                   run_on=rng.choice((0.0, 0.1, 0.3)), misheard=rng.choice((0.0, 0.0, 0.02)))

    @classmethod
    def agent(cls, rng: random.Random) -> "Transcript":
        return cls(rng, fillers=0.02, repeats=0.0, run_on=rng.choice((0.0, 0.1)), misheard=0.0)

    def say(self, text: str) -> str:
        said = self._style(text)
        # a touch never turns a greeting into content or back: the session's anchor stays where the author put it
        return said if said == text or is_substantive(said) == is_substantive(text) else text

    def _style(self, text: str) -> str:
        rng = self.rng
        if rng.random() < self.repeats and len(text) >= 4 and not text[:2].isascii() and text[0] not in "[，":
            text = text[0] + text  # "我我想问一下"
        if rng.random() < self.fillers:
            clauses = _CLAUSE_END.split(text)
            k = rng.randrange(len(clauses))
            if clauses[k][:1] not in ("", "[") and len(clauses[k]) >= 4:
                clauses[k] = rng.choice(FILLERS) + clauses[k]
                text = "".join(clauses)
        if rng.random() < self.misheard:
            words = [w for w in MISHEARD if w in text]
            if words:
                word = rng.choice(words)
                text = text.replace(word, MISHEARD[word], 1)
        if rng.random() < self.run_on and "[num]" not in text:
            text = text.replace("，", "")  # an unpunctuated run, as transcribed speech often is
        return text
