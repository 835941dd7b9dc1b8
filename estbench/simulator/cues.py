"""How an emotion shows in what the caller says: explicitly, implicitly, or only through context.

- explicit: an emotion word or an unmistakable act (我很担心 / 气死我了 / 骗子 / 太感谢了);
- implicit: sarcasm and rhetorical questions (thanks that mean their opposite), or the matter's own stake or
  grievance, said without an emotion word ("我孩子明天要上网课", "这都第三次断网
  了"), shared by every negative emotion (each leans to one side), and a calm caller may ask the same stake;
- contextual: a short reaction whose emotion depends on what came before (算了 / 行吧 / 呵呵 / 那怎么办呢); calm callers
  say the same words as No Emotion (`CALM_REACTIONS`). Politeness is not gratitude: 谢谢 closes many calm utterances;
- situational: no cue; the content alone, with the emotion carried by the situation (`Call.user` decides when the
  act's content can carry it).

The label is always the caller's latent state (driven by the call's events, `emotions`); only its cue varies.
"""

from __future__ import annotations

import random

from .grammar import expand
from .labels import ANGER, ANXIETY, DISAPPOINTMENT, GRATITUDE, INSULT, WORRY
from .story import Matter, Situation

EXPLICIT: dict[str, tuple[str, ...]] = {
    WORRY: ("我[有点|挺|真的挺|特别]担心[啊|]", "[心里|我心里][有点|]不踏实", "[我|]就怕[出什么事|出问题]", "我[挺|很]担心的"),
    ANXIETY: ("我[真的|是真的][很|特别]着急", "[能不能|麻烦][快点|快一点][啊|]", "[我|]急着用[啊|呢]", "[赶紧|抓紧][帮我|给我][弄|处理]一下",
              "[我|]这边等不了[啊|了]"),
    ANGER: ("[真是|]气死我了", "太气人了", "[你们|]这[叫|是]什么服务[啊|]", "我[非常|很|真的很][生气|不满意]", "[简直|真是]太过分了"),
    INSULT: ("[你们|][都是|就是][骗子|一帮骗子]", "[垃圾|破][公司|运营商]", "[你|你们][是不是|]脑子有[病|问题]", "[什么|啥][玩意儿|东西]",
             "[一群|一帮]废物"),
    DISAPPOINTMENT: ("[真的|太|挺]失望的", "[唉|]还以为[这次|]能[解决|好]呢", "我对你们[太|真的]失望了", "[真是|]让人失望"),
    GRATITUDE: ("[太|真是太|非常]感谢[你|您]了", "[谢谢|多谢][你|您][这么耐心|帮了大忙|帮我弄好]", "你[服务|态度][真好|太好了]",
                "[辛苦|麻烦]你了[真的|]太感谢了"),
}
# Said without an emotion word. The stakes and grievances of the matter are shared by every negative emotion (a
# worried and an angry caller may both say "这都第三次断网了"); each emotion only leans to one side.
IMPLICIT_FRAMES = ("{stake}", "那{stake}", "[可是|但是]{stake}", "{grievance}", "{grievance}[，算了|]", "[可|]{grievance}[啊|]")
LEAN_TO_STAKE = {WORRY: 0.75, ANXIETY: 0.7, ANGER: 0.3, DISAPPOINTMENT: 0.35}
# Sarcasm and rhetorical questions: the words of thanks or of an ordinary question, the feeling of their opposite
# ("那真是谢谢你们了" after the third failed repair). Angry and disappointed callers use them most.
SARCASM = ("[那|][真是|可真是][太|]谢谢你们了", "[你们|]效率可真高[啊|]", "[服务|态度]可真好啊[，{span}都没弄好|]",
           "[好的|行]，谢谢啊[，又要等{eta}|]", "真是辛苦你们了[啊|]", "[那|]我[可真|真]得好好谢谢你们", "[你们|]可真[负责|专业][啊|]",
           "[哦|]那我还得感谢你们[是吧|了]")
RHETORICAL = ("这就是你们的服务[？|吗]", "我[每个月|]交{fee}块钱就这[待遇|服务][？|]", "[你们|]是不是觉得我好[欺负|说话]",
              "[难道|]还要我[再|]打{prior}次电话[吗|]", "[我|]等了{span}[就|]等来这个[？|]", "[你说|你们说]这[合理吗|像话吗]",
              "[谁|哪个]会[去|]订{charge}啊", "[这|这个][能|]怪我吗")
SARCASM_SHARE = {ANGER: 0.3, DISAPPOINTMENT: 0.3}  # of implicit cues
RHETORICAL_SHARE = {ANGER: 0.25, DISAPPOINTMENT: 0.15, ANXIETY: 0.1}
IMPLICIT_GRATITUDE = ("[这下|这回][好了|方便了]，省得我[跑一趟|再打电话]", "[你|您][办事|处理得]真[利索|快]",
                      "[比上次那个|你比别人]靠谱多了", "[行|好]，[这下|]放心了", "好的[，|]谢谢[你|您][啊|]", "行[，|]谢谢[啊|了]",
                      "[那|]麻烦你了[啊|]", "好嘞[，|]谢谢")
# Short reactions whose emotion only the context tells; calm callers say them too (No Emotion, `CALM_REACTIONS`).
CONTEXTUAL_NEGATIVE = ("[唉，|]算了", "[那|]好吧", "行吧", "那就这样吧", "唉", "呵呵", "我真是服了", "[行|好]，你们厉害",
                       "那怎么办呢", "这样啊", "[还|]要[等|]这么久啊", "[那|]多久能好", "[又|]来这套", "那得什么时候")
LEAN = {  # which contextual reactions an emotion prefers (the rest stay possible)
    WORRY: ("那怎么办呢", "这样啊", "[那|]多久能好"), ANXIETY: ("[还|]要[等|]这么久啊", "[那|]多久能好", "那得什么时候"),
    ANGER: ("呵呵", "我真是服了", "[行|好]，你们厉害", "[又|]来这套"), DISAPPOINTMENT: ("[唉，|]算了", "[那|]好吧", "行吧", "那就这样吧", "唉"),
}
CONTEXTUAL_GRATITUDE = ("[哎呀|]那太好了", "好嘞好嘞", "[那|]太好了", "[哦，|]那就好", "好的好的", "行行行", "[哦|]可以可以")
# The same reactions from a calm caller (No Emotion): the text alone cannot tell.
CALM_REACTIONS = ("那好吧", "行吧", "那就这样吧", "这样啊", "[嗯，|]好吧", "算了不用了", "[那|]行", "那怎么办呢", "[那|]多久能好")
# situational: no cue at all; the utterance is its content and the emotion is carried by the situation (a push-back
# right after a refusal from a caller upset all along; a grateful caller's closing thanks)
STRENGTHS = ("explicit", "implicit", "contextual", "situational")
# Service callers rarely name their feeling; most of it is in what they say about the matter or in the situation
# (the paper's best fine-tuned LLM reaches emotion macro-F1 0.53 on real calls: much of it needs the context). These
# shares set how often each kind of cue carries an emotion; they were chosen with bench/bench_realism.py so that the
# project's TF-IDF baseline lands in the range of the paper's rows (emotion macro-F1 0.40-0.68, satisfaction
# <= 0.82) - by how emotions are expressed, never by changing a label. Situational cues apply to push-backs,
# follow-ups and details (negative) and to reactions, closings and polite follow-ups (gratitude); elsewhere implicit.
STRENGTH_WEIGHTS = (0.05, 0.28, 0.22, 0.45)


def _implicit(rng: random.Random, emotion: str) -> str:
    if emotion == GRATITUDE:
        return rng.choice(IMPLICIT_GRATITUDE)
    if emotion == INSULT:
        return rng.choice(EXPLICIT[INSULT])  # abuse is explicit by nature
    r = rng.random()
    if r < SARCASM_SHARE.get(emotion, 0.0):
        return rng.choice(SARCASM)
    if r < SARCASM_SHARE.get(emotion, 0.0) + RHETORICAL_SHARE.get(emotion, 0.0):
        return "{rhetorical}"
    frames = IMPLICIT_FRAMES[:3] if rng.random() < LEAN_TO_STAKE[emotion] else IMPLICIT_FRAMES[3:]
    return rng.choice(frames)


def _contextual(rng: random.Random, emotion: str) -> str:
    if emotion == GRATITUDE:
        return rng.choice(CONTEXTUAL_GRATITUDE)
    if emotion == INSULT:
        return rng.choice(EXPLICIT[INSULT])
    return rng.choice(LEAN[emotion] if rng.random() < 0.6 else CONTEXTUAL_NEGATIVE)


def stake(rng: random.Random, matter: Matter, slots: dict[str, str]) -> str:
    """One of the matter's stakes, as a calm caller may also ask it (a question about consequences)."""
    return expand(rng, rng.choice(matter.stake or ("[这个|]会不会有什么影响",)), slots)


def cue(rng: random.Random, emotion: str, matter: Matter, slots: dict[str, str], situation: Situation,
        strength: str | None = None) -> str:
    """A cue of `emotion` in the terms of `matter`, among the templates `situation` allows (strength drawn by
    `STRENGTH_WEIGHTS` unless given)."""
    strength = strength or rng.choices(STRENGTHS, STRENGTH_WEIGHTS)[0]
    template = (rng.choice(EXPLICIT[emotion]) if strength == "explicit" else
                _implicit(rng, emotion) if strength == "implicit" else _contextual(rng, emotion))
    values = dict(slots)
    if "{stake}" in template:
        values["stake"] = stake(rng, matter, slots)
    if "{grievance}" in template:
        values["grievance"] = expand(rng, rng.choice(situation.fitting(matter.grievance or ("[都|]说了好几次了",))), slots)
    if template == "{rhetorical}":
        template = rng.choice(situation.fitting(RHETORICAL))
    return expand(rng, template, values)
