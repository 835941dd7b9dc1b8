"""Language from a grammar: a tiny template expander, Chinese numerals, and the transcription style of a call.

Templates choose among alternatives with `[a|b|c]` (nested groups allowed, `[|x]` = optional x) and fill `{slot}`
from the session's situation, so one template yields many sentences that all state the same facts.
`Speaker.say` then renders a sentence the way an ASR transcript of a call reads (CMCC paper): often unpunctuated
run-on speech, fillers and repairs inside sentences, repeated words, and now and then a misrecognised word. A caller
also keeps a regional way of speaking (`REGIONAL`: 咋整, 啥子, 没得, 晓得, 蛮...) and may have a verbal habit (`HABITS`).
"""

from __future__ import annotations

import random
import re
from typing import Mapping

_DIGITS = "零一二三四五六七八九"


def zh_number(n: int) -> str:
    """A non-negative integer below 100,000 in Chinese numerals as spoken (58 -> 五十八, 120 -> 一百二, 2 -> 两)."""
    if n == 2:
        return "两"
    if n < 10:
        return _DIGITS[n]
    if n < 20:
        return "十" + (_DIGITS[n - 10] if n % 10 else "")
    parts, units, zero = [], ((10_000, "万"), (1000, "千"), (100, "百"), (10, "十")), False
    rest = n
    for value, unit in units:
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
    text = "".join(parts)
    return text


def amount(rng: random.Random, n: int) -> str:
    """A sum of money or a count as a caller or agent says it: mostly Chinese numerals, sometimes digits."""
    return str(n) if rng.random() < 0.25 else zh_number(n)


def expand(rng: random.Random, template: str, slots: Mapping[str, str] | None = None) -> str:
    """One sentence of `template`: every `[a|b]` group resolved (innermost first), then `{slot}`s filled."""
    text = template
    while "[" in text:
        text = _GROUP.sub(lambda m: rng.choice(m.group(1).split("|")), text)
    text = text.format_map(slots) if slots and "{" in text else text
    # an optional group that came out empty leaves no stray comma behind ("[好的|]，..." -> "...")
    return _COMMAS.sub("，", text).lstrip("，")


_GROUP = re.compile(r"\[([^\[\]]*)\]")
_COMMAS = re.compile(r"，{2,}")

# --- the transcription style --------------------------------------------------------------------------------------
FILLERS_INSIDE = ("就是", "那个", "呃", "嗯", "就", "然后", "这个", "那")
# How a caller starts a sentence, and ends it: diverse and only now and then (real callers mostly start right in)
LEADS = ("就是", "那个", "呃", "嗯", "哎", "我想问一下", "麻烦问一下", "请问", "对了", "哦", "还有", "然后", "那",
         "我问一下", "是这样的", "主要是", "我跟你说", "你帮我看一下", "额", "嗯嗯", "诶")
TAILS = ("啊", "呢", "吧", "哈", "呀", "嘛", "哦", "是吧", "你知道吧", "呗")
# ASR confusions of telecom words (homophones and near-homophones); applied rarely, never to [num]
MISHEARD = {
    "宽带": "宽待", "套餐": "套参", "话费": "花费", "流量": "流亮", "营业厅": "营业听", "短信": "短新",
    "信号": "新号", "扣费": "扣废", "退订": "推定", "工号": "公号", "投诉": "头诉", "积分": "基分",
    "充值": "冲值", "月租": "月足", "师傅": "师父", "网速": "网数",
}
_QUESTION_WORDS = ("吗", "会不会", "是不是", "能不能", "有没有", "怎么", "什么", "多少", "哪", "几", "了没", "没有", "咋", "啥")
_HESITATION_AFTER = frozenset("我你他她这那的了是在要想就也都还会能把给")
_PUNCT = re.compile(r"[，,。！？?!；;、]+")


# Regional Mandarin: a caller keeps one way of speaking through the call. Each pair is applied to a word with the
# caller's rate (speech mixes both forms); longer words first so "怎么办" becomes "咋整" rather than "咋办".
REGIONAL: dict[str, tuple[tuple[str, str], ...]] = {
    "standard": (),
    "northeast": (("怎么办", "咋整"), ("怎么", "咋"), ("什么", "啥"), ("没有", "没"), ("非常", "贼"), ("很", "挺"), ("好的", "好嘞"),
                  ("这样", "这样儿"), ("马上", "立马")),
    "southwest": (("什么", "啥子"), ("怎么办", "咋个办"), ("怎么", "咋个"), ("没有", "没得"), ("很", "好"), ("好的", "要得"),
                  ("知道", "晓得"), ("这样", "这样子")),
    "wu": (("什么", "啥"), ("很", "蛮"), ("非常", "老"), ("这样", "这样子"), ("不知道", "不晓得"), ("知道", "晓得"), ("好的", "好额")),
    "central": (("好的", "中"), ("怎么", "咋"), ("什么", "啥"), ("没有", "没"), ("很", "可")),
    "south": (("很", "好"), ("一下", "一下下"), ("这样", "这样子"), ("好的", "好啦"), ("知道了", "知道啦"), ("多少钱", "几多钱")),
}
REGION_WEIGHTS = {"standard": 0.4, "northeast": 0.15, "southwest": 0.12, "wu": 0.1, "central": 0.1, "south": 0.13}
# A caller's verbal habit, said at the start of a clause now and then ("其实", "说实话")
HABITS = ("其实", "反正", "说实话", "怎么说呢", "你懂我意思吧", "就是说", "我跟你讲", "你看", "实际上", "讲真的", "老实说", "我觉得")


class Speaker:
    """How one person talks through a whole call (so a caller's style stays consistent within the session)."""

    def __init__(self, rng: random.Random, *, run_on: float, fillers: float, repeats: float, misheard: float,
                 leads: float = 0.0, tails: float = 0.0, region: str = "standard", regional: float = 0.0,
                 habit: str | None = None, habits: float = 0.0):
        self.rng = rng
        self.run_on, self.fillers, self.repeats, self.misheard = run_on, fillers, repeats, misheard
        self.leads, self.tails = leads, tails
        self.words, self.regional = REGIONAL[region], regional
        self.habit, self.habits = habit, habits

    def _regionalise(self, text: str) -> str:
        for word, local in self.words:
            if word in text:
                parts = text.split(word)
                text = parts[0] + "".join((local if self.rng.random() < self.regional else word) + part
                                          for part in parts[1:])
        return text

    def say(self, text: str) -> str:
        rng = self.rng
        if self.regional:
            text = self._regionalise(text)
        clauses = [c for c in _PUNCT.split(text) if c]
        if not clauses:
            return text
        if self.habit and rng.random() < self.habits:
            k = rng.randrange(len(clauses))
            if len(clauses[k]) >= 4:
                clauses[k] = self.habit + clauses[k]
        if len(clauses[0]) >= 3 and rng.random() < self.leads:
            clauses[0] = rng.choice(LEADS) + ("，" if rng.random() < 0.3 else "") + clauses[0]
        if (len(clauses[-1]) >= 3 and rng.random() < self.tails and clauses[-1][-1] not in "啊呢吧哈呀嘛哦呗吗了"
                and not any(word in clauses[-1] for word in _QUESTION_WORDS) and "[num]" not in clauses[-1]):
            clauses[-1] += rng.choice(TAILS)
        ends_question = text.rstrip()[-1:] in "？?"
        out = []
        for i, clause in enumerate(clauses):
            if i and rng.random() < self.fillers:
                clause = rng.choice(FILLERS_INSIDE) + clause
            elif len(clause) >= 6 and rng.random() < self.fillers / 2:  # a hesitation after a function word
                spots = [k + 1 for k in range(1, len(clause) - 2) if clause[k] in _HESITATION_AFTER]
                if spots:
                    k = rng.choice(spots)
                    clause = clause[:k] + rng.choice(FILLERS_INSIDE) + clause[k:]
            if rng.random() < self.repeats and len(clause) >= 4 and not clause[:2].isascii():
                k = rng.choice((1, 2))
                clause = clause[:k] + clause[:k] + clause[k:]  # "我我想问一下", "那个那个"
            out.append(clause)
        if rng.random() < self.misheard:
            joined = "\0".join(out)
            words = [w for w in MISHEARD if w in joined]
            if words:
                word = rng.choice(words)
                joined = joined.replace(word, MISHEARD[word], 1)
            out = joined.split("\0")
        if rng.random() < self.run_on:
            return "".join(out)  # unpunctuated run-on speech, as transcribed calls often are
        sentence = "，".join(out)
        return sentence + ("？" if ends_question and rng.random() < 0.7 else "")


def caller(rng: random.Random) -> Speaker:
    """A caller's speaking style: some talk in long unpunctuated runs, some hesitate a lot."""
    region = rng.choices(tuple(REGION_WEIGHTS), tuple(REGION_WEIGHTS.values()))[0]
    return Speaker(rng, run_on=rng.choice((0.2, 0.45, 0.7)), fillers=rng.choice((0.05, 0.15, 0.3)),
                   repeats=rng.choice((0.0, 0.04, 0.1)), misheard=rng.choice((0.0, 0.05, 0.12)),
                   leads=rng.choice((0.08, 0.18, 0.3)), tails=rng.choice((0.1, 0.25, 0.4)),
                   region=region, regional=rng.choice((0.3, 0.6, 0.85)) if region != "standard" else 0.0,
                   habit=rng.choice(HABITS) if rng.random() < 0.5 else None, habits=rng.choice((0.04, 0.08, 0.12)))


def agent_voice(rng: random.Random) -> Speaker:
    return Speaker(rng, run_on=rng.choice((0.15, 0.35)), fillers=rng.choice((0.03, 0.1)), repeats=0.0,
                   misheard=rng.choice((0.0, 0.04)))
