"""How a call unfolds, turn by turn, from its story: the generation core of the simulator.

Inbound calls: opening (the agent greets, or the caller greets or starts with the matter) -> identity check when the
matter needs one -> the agent's probing questions -> the agent's explanation and resolution, whose outcome (resolved /
pending / refused, drawn from the matter) moves the caller's latent emotion -> push-back rounds after a pending or
refused outcome -> sometimes a second matter -> follow-up questions answered from the situation -> closing. Care and
return-visit calls are outbound: the agent opens, and the caller's first answer already says how things went.

Every agent line is an expanded template over the session's situation (so figures stay consistent), and an agent
never says the same sentence twice in a call except for the greetings and hold phrases of `REPEATABLE`. Every user
utterance's label is the caller's latent state when it shows (`emotions.emitted_emotion`), cued by `cues.cue`.

What a caller says is elaborated at most once per utterance, as callers do: reading back a figure the agent just
stated ("三个工作日是吧", `ECHO_SLOTS`), the next step after an outcome ("那我明天再试试"), a calm statement of what went
wrong (`CALM_COMPLAINT`), or the background of the question, before it or as an aside after it. A caller tells each
background fact and asks each stake once per call (`Call.untold`); calm callers are polite (`POLITE_LEADS`).
"""

from __future__ import annotations

import random

from ..schema import is_substantive
from . import emotions
from .cues import CALM_REACTIONS, STRENGTH_WEIGHTS, STRENGTHS, cue
from .emotions import BAD, EMPATHY, GOOD, NEUTRAL, WAIT
from .grammar import agent_voice, caller, expand
from .labels import GRATITUDE, INSULT, NO_EMOTION
from .story import BACKGROUND, FOLLOW_COMMON, MATTERS, Matter, Situation, draw_situation

AGENT_GREETINGS = ("您好，[很高兴为您服务|移动客服很高兴为您服务][，请问有什么可以帮您|]", "您好，请讲",
                   "您好，[这边是|我是]人工客服[{agent_id}号|]，请问[您要办理什么业务|有什么可以帮您]",
                   "您好，[抱歉|不好意思]让您久等了，请问有什么可以帮您")
AGENT_GREET_BACK = ("您好，请讲", "诶您好，[请说|您说]", "您好[在的|]，[请讲|您请讲]")
AGENT_HOLDS = ("[好的|]，[请您|您]稍等[一下|]，我[帮您|给您][查询|查]一下", "[好的|]请稍等", "您稍等[一下|]，我[帮您|这边]看一下")
AGENT_BACKS = ("感谢您的耐心等待", "[让您|]久等了", "[好的|]查到了")
AGENT_ACKS = ("嗯[，您说|好的]", "[好的|嗯]，[我明白了|我了解了]", "嗯嗯", "[好的|]您[继续|请]说")
AGENT_EMPATHY = ("[确实|真的][非常|很]抱歉[给您|]带来[不便|麻烦]", "您的心情我[非常|很]理解", "[您|]先别着急",
                 "[实在|真的]不好意思")
AGENT_ID_CONFIRMED = ("[好的|]，[身份|信息][核实|验证]通过了", "[好的|]，已经[为您|]核实", "[好的|]，感谢您的配合")
AGENT_ANYTHING_ELSE = ("请问还有其他[可以帮您的|问题]吗", "[还有|]别的需要帮您的吗", "[请问|]还有什么可以帮到您")
AGENT_GOODBYES = ("[好的|]，感谢您的来电，再见", "[好的|]，祝您生活愉快，再见", "[那|]不打扰您了，再见")
# Agent lines that may come twice in a call (greeting, holds, acknowledgements, empathy and goodbye formulas).
REPEATABLE = AGENT_GREETINGS + AGENT_GREET_BACK + AGENT_HOLDS + AGENT_BACKS + AGENT_ACKS + AGENT_EMPATHY + \
    AGENT_ID_CONFIRMED + AGENT_ANYTHING_ELSE + AGENT_GOODBYES
ID_CHECKS = (
    ("[请问|]您是机主[本人|]吗", ("[对|是的]，[是我|我是机主]", "是本人", "[嗯|]是[我本人|我]")),
    ("为了[保护|确认]您的[账户|信息]安全，麻烦[提供|报]一下身份证[号码|]后六位",
     ("{num}", "[后六位是|是|身份证后六位是|后六位]{num}[吧|]", "[我看一下|等一下]，{num}")),
    ("麻烦您报一下[您的|]手机号码", ("{num}", "[号码是|是|我的号码是|手机号是|就是]{num}", "{num}[，|]就是[这个|本机|现在打的这个][号|号码|]",
                                   "[我的号|号码][是|]{num}[对|]")),
    ("[请|麻烦]您[提供|报]一下服务密码", ("[服务密码是|是]{num}", "{num}", "密码[我|]忘了[，能不能用身份证|]")),
    ("[麻烦|请]说一下您的[全名|姓名]", ("[我|]姓{surname}", "[我叫|是]{surname}[某某|][，{surname}先生的{surname}|]")),
)
USER_GREETINGS = ("喂", "喂[，|]你好", "你好", "您好", "喂，在吗", "你好[，|]客服", "喂？", "哎你好", "喂喂", "你好你好")
USER_BACKCHANNELS = ("嗯", "嗯嗯", "对", "好", "好的", "哦", "嗯对", "对对[对|]", "行", "哦哦", "嗯好", "是", "对的",
                     "嗯[，|]你说", "好[，|]我听着", "[嗯|哦]，[好的|行]", "对对[，|]是的", "[好的|嗯]好的", "哦哦[哦|]",
                     "嗯[嗯|]，[对|是]")
USER_STALLS = ("等一下[啊|]，我找一下", "稍等我[看看|翻一下]", "你等会儿[啊|]", "[稍等|等等]，我拿一下身份证")
DEMANDS = ("[那|那你们|][你们|]能不能[快一点|快点|加快一点|尽快][处理|弄|]", "[那|]你[帮我|给我][催一下|催催|催一催][{staff}|他们|]",
           "你[再|]帮我[想想|想一想][办法|别的办法|有没有别的办法]", "[那|]你[给我|跟我][个准话|说个准确时间|说清楚]",
           "[那|][还|]有没有[别的|其他][办法|途径|解决办法]", "[能不能|你能不能][找|换][个|一个][能解决的人|领导|专门的人][来|]",
           "[那|]我要等到[什么时候|啥时候|哪天][啊|才行|]", "[那|]能不能[先|][给我|帮我][解决|处理|弄好][一下|再说|]",
           "[这个|这][事|问题][你们|]到底[能不能|能不能给我][解决|办]", "[那|]{time}[之前|前][能|能不能][弄好|解决|给我答复]吗",
           "[那|]你[记一下|登记一下|备注一下][我的情况|这个情况|]，[让|叫][他们|{staff}][早点|尽快][联系我|回我电话]")
REACT_PENDING = ("[嗯|哦]，[好的|那行|行吧][，谢谢|]", "[好的|行]，[那|]麻烦你[们|]了", "[那|]我[就|][等着|等通知|等你们电话|等消息][，{eta}是吧|]",
                 "[好，|]{eta}[是吧|对吧|，我知道了|，我记下了]",
                 "[那|][麻烦你|麻烦你们]了[啊|]", "[好的|行]，{eta}[是吧|对吧]", "[那|]我[先|]等[一下|两天|{eta}][看看|再说|]")
# After a fix a calm caller is relieved in the same words a grateful one uses ("那太好了", "这下方便了"): the
# difference is in the situation and the caller's state, not the words
REACT_GOOD = ("[哦，|]那太好了", "[这下|这回]方便了[，省得我跑一趟|]", "[行|好]，[这下|]放心了", "好的[好的|][，那我{time}再看看|，{time}我试一下|，谢谢|]", "[哦，|]那就好[，省得我跑{district}那个营业厅了|，谢谢啊|]",
              "好的[，|]谢谢[你|][啊|]", "行[，|]谢谢[了|]", "[那|]麻烦你了", "可以可以", "行行行[，就这样|]", "好，那我[再|][试试|试一下|回去试试|等会儿试试]", "行，[明白了|知道了|我知道了]",
              "哦这样啊", "嗯，可以", "那行", "[好|行]，那就[这么办|这样]", "[哦|]好了[好了|]，[能用了|可以了|有网了]",
              "[那|]我[看看|等会儿看看][短信|手机营业厅][就行|]", "[好的|行]，{time}我再[看一下|确认一下]")
# Closing: "nothing else", often followed by thanks, a reminder about the matter or what the caller will do next.
CLOSE_NONE = ("没有了", "没了", "嗯没有了", "暂时没有了", "没[别的|其他的][事|问题|]了", "就这些", "就这个事", "[嗯|]没有了[吧|]",
              "[没有|没][什么|啥]了", "[就|]这个事[了|]")
CLOSE_MORE = ("[谢谢|谢谢你|谢谢啊|好的]", "[麻烦你了|辛苦了]", "[那|]{ref}就[麻烦你们|拜托你们|麻烦你][了|多上点心]",
              "{ref}[你们|][记得|别忘了][跟进|处理][一下|]", "[那|]我{time}[再|]看看{ref}[怎么样|好了没有]",
              "{ref}[有结果了|办好了][记得|][给我|]发个短信", "[那|]{ref}[我就|就][等你们|等]消息了", "我{time}[再|]打过来问{ref}")
CLOSE_MORE_PROBABILITY = 0.8
# How a caller refers back to the matter when closing ("宽带的事").
REFS = {"plan_change": "[改套餐|换套餐]的事", "roaming": "[漫游|出国]的事", "broadband_new": "[装宽带|宽带]的事",
        "points": "积分的事", "unsubscribe": "[退订|退费]的事", "sim_replace": "补卡的事", "transfer_out": "[转网|销户]的事",
        "overcharge": "[退费|扣费]的事", "rude_service": "投诉的事", "spam_calls": "[推销电话|骚扰电话]的事",
        "broadband_down": "[宽带|修网]的事", "no_signal": "信号的事", "no_data": "流量的事", "repair_visit": "[宽带|维修]的事",
        "satisfaction_survey": "[这个|反馈]的事", "upsell": "套餐的事"}
USER_BYES = ("好[，|]拜拜", "再见", "嗯[，|]再见", "拜拜")
SECOND_OPENERS = ("还有一个问题", "对了[，|]还有个事", "另外我还想问一下", "哦对了", "还有啊", "[那|]我再问个事",
                  "[顺便|顺带][问一下|再问个事]", "还有个事[想问一下|麻烦你]")
STAKE_ANSWERS = ("[您|]放心，[不会的|不会有影响|这个不会]", "这个[您放心|不用担心]，[我|]已经[给您|帮您]备注了",
                 "[一般|正常][情况下|]不会的，[有问题|有变化][我们|]会[短信|电话]通知您", "[不会|不会的]，[系统|这边][都|]有记录")
NEED_ANSWERS = ("[好的|明白]，[我|]已经[给您|帮您]备注了[加急|优先处理]", "[理解|明白]，[我|]这边[尽量|尽快]给您[安排|处理]",
                "[好的|]，[您的情况|这个情况][我|]已经记下了，会[优先|加急]处理")
_QUESTION = ("会不会", "吗", "怎么办", "咋办", "是不是", "呢", "能不能", "有没有", "多少")
POLITE_THANKS = 0.5  # after a resolved matter, the next question often starts with a polite thanks
# Politeness of calm callers ("麻烦你帮我查一下..."): the words of thanks without gratitude
POLITE_LEADS = ("麻烦你帮我查一下，", "麻烦你[帮我|给我]看一下，", "不好意思[再|]问一下，", "辛苦[你|您]帮我看看，", "[劳驾|麻烦]问一下，",
                "谢谢啊，[我|]再问一下，", "不好意思啊，", "麻烦你了，[我|]想问一下")
POLITE_PROBABILITY = 0.3
THANKS_LEADS = ("[好的|嗯|行][，|]谢谢[啊|]，[那|]", "谢谢[你|][，|]", "[好嘞|好的]谢谢，[我|]再问[一下|个事]，")
STAKE_QUESTION = 0.3  # a follow-up that asks about the matter's stakes (calm callers ask them too)
STAKE_LEADS = ("我想问一下", "[那|]问一下", "我想确认一下", "还有就是", "我就想知道", "[那|]我问问", "你跟我说一下", "[那|]这样的话")
# What happened before, told as a plain fact (a grievance is the same history told in anger or disappointment).
HISTORY = ("[上次|{date}|{span}前|{date}{clock}][也|]打[过|]电话[问过|说过][这个事|{ref}|]", "<tech>[之前|{date}|{span}前]师傅[来过|来看过][一次|][，说是{speed}的线路问题|]", "[我|]{date}[去|到]营业厅问过[一次|]",
           "[这个|这事][之前|以前][也|]有过[一次|]", "[上个月|{month}|{date}]也[扣过|出过][一次|这个]", "[我|]{date}[报过|提交过][一次|][工单|申请]")
RESTATE = ("[就是说|我再跟您说一下|跟您确认一下]，",)
ALTERNATIVES = ("这样吧，我[帮您|给您]申请[一个|]特殊处理，您看可以吗", "我帮您升级到专席处理，[今天之内|{eta}内]给您答复",
                "要不我先[帮您|给您]办一个临时的方案，您先用着")

# Confirming by repetition: callers read back the figure, date or name the agent just said ("三个工作日是吧",
# "五十八块对吧"); the echoed value is the session's own, so the same words rarely recur across calls.
ECHO_SLOTS = ("eta", "time", "new_fee", "fee", "charge_fee", "charge_total", "charge", "points", "balance", "speed",
              "pack_fee", "over_fee", "roam_fee", "card_fee", "coupon", "plan", "gb", "used", "place", "district",
              "model", "clock", "span")
ECHO_UNITS = {"gb": "个G", "used": "个G", "points": "积分"}
ECHO_FRAMES = ("{v}是吧", "{v}对吧", "[就是|那就是|哦]{v}[是吧|啊|哈|]", "[你是说|您是说|你说的是]{v}[吗|是吧|]", "{v}[啊|哦]",
               "[嗯|哦|好]，{v}[是吧|对吧|]", "[刚才说的|你刚说]{v}[是吧|对吧]")
ECHO_PROBABILITY = {"react": 0.45, "ack": 0.5, "push": 0.4, "close": 0.25, "followup": 0.3}
# What the caller does after hearing the outcome, said after the reaction ("好的，那我明天再试试")
NEXT_STEPS = ("[那|]我{time}[再|][试试|看看|试一下|看一下]", "[那|]我[就|]等[你们|{staff}|你们的][电话|短信|消息]", "我[回去|回头|等会儿]跟{family}说[一声|一下]",
              "[那|]我[先|]把{app}[关了|退了|重新登一下]", "[那|]{time}[之前|以前][能|应该能][弄好|好]吧", "[那|]我[就|]不[用|]跑{district}[那边|]的营业厅了",
              "[那|]我[记一下|记下来][啊|]", "[回头|过两天]我再[查一下|看看]账单", "[那|]我[先|]挂了[等你们消息|等通知]")

FOLLOWUPS: dict[str, tuple[int, int]] = {  # (min, max) follow-up questions: the main lever on session length
    "business_consultation": (5, 14),
    "business_processing": (4, 12),
    "complaint_suggestion": (3, 11),
    "fault_report_tech_support": (4, 12),
    "care_follow_up": (3, 10),
}
SECOND_MATTER = 0.55
NEXT_STEP_PROBABILITY = {"react": 0.5}
REASON_LINKS = ("", "对了", "哦对了", "我跟你说一下", "顺便说一下", "还有")
SPLIT_PROBABILITY = 0.3  # a caller's two clauses transcribed as two consecutive utterances
SPLIT_MIN_CHARS = 6
BACKGROUND_PROBABILITY = 0.6
CALM_COMPLAINT = 0.4  # a calm caller states the matter's grievance as a fact (annotators label it No Emotion)
# Words that make a grievance an accusation rather than a fact: a calm caller does not use those grievances
EMOTIVE = ("凭什么", "谁知道", "算怎么回事", "就这么对", "就知道打", "偷偷", "压根", "根本", "人影", "可没说", "反而", "多少次",
           "还在打", "服务[态度|]太差")
# each matter's grievances a calm caller can state as plain facts (computed once)
FACTUAL_GRIEVANCES = {m.name: tuple(g for g in m.grievance if not any(w in g for w in EMOTIVE))
                      for matters in MATTERS.values() for m in matters}
_BACKGROUND_ACTS = frozenset({"followup", "request", "push", "detail"})
_CUE_ALONE_ACTS = frozenset({"react", "push", "close"})
_SITUATIONAL_ACTS = frozenset({"push", "followup", "detail"})  # acts whose content can carry the emotion alone
_OPENING_ACTS = frozenset({"request", "visit_reply"})


class Call:
    """A session under construction: its story, its turns, the caller's latent state and both speakers' styles."""

    def __init__(self, rng: random.Random, category: str):
        self.rng = rng
        self.situation: Situation = draw_situation(rng, category)
        self.slots = dict(self.situation.slots, agent_id=expand(rng, "[一|二|三|五|七|八][零|一|三|六|八][二|四|五|九]"))
        self.matter: Matter = rng.choice(MATTERS[category])
        self.slots["ref"] = expand(rng, REFS[self.matter.name])  # how the caller names the matter ("宽带的事")
        self.situation.technician = category in TECHNICIAN_CATEGORIES or self.matter.name in TECHNICIAN_MATTERS
        self.slots["staff"] = "师傅" if self.situation.technician else expand(rng, "[后台|相关部门|你们的人]")
        self.state = emotions.initial_state(rng, category)
        if self.situation.prior_calls >= 2 and self.state == NO_EMOTION and category in (
                "complaint_suggestion", "fault_report_tech_support") and rng.random() < 0.25:
            self.state = emotions.next_state(rng, self.state, BAD)  # a repeated call starts from a sore point
        self.voice, self.agent_style = caller(rng), agent_voice(rng)
        self.turns: list[dict] = []
        self.said: set[str] = set()
        self.told: set[str] = set()  # the caller's background and stake templates used so far
        self.agent_lines: list[str] = []  # what the agent said, before the transcription style (tests read it)
        self.opened = False  # has the session's anchor (its first substantive user utterance) been said?
        # the values a read-back can repeat, as the agent says them (with their unit: "三十个G")
        self.echoable = [self.slots[key] + ECHO_UNITS.get(key, "") for key in ECHO_SLOTS if len(self.slots[key]) >= 2]
        self.pending_cue = False

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def line(self, templates) -> str:
        """One line of `templates`, among those whose fact tag holds in this call's situation."""
        fitting = [t for t in templates if self.situation.allows(t)] or [t for t in templates if t[:1] != "<"]
        template = self.rng.choice(fitting or templates)
        return expand(self.rng, template[template.index(">") + 1:] if template[:1] == "<" else template, self.slots)

    # --- turns ------------------------------------------------------------------------------------------------
    def fresh(self, templates) -> str:
        """A line of `templates` this call has not heard yet (the `REPEATABLE` formulas excepted); after a few
        draws that all repeat, the agent restates it in other words (a rephrasing lead)."""
        for _ in range(12):
            text = self.line(templates)
            if text not in self.said or templates in _REPEATABLE_SETS:
                return text
        return self.line(RESTATE) + text

    def untold(self, templates) -> str:
        """A line of `templates` whose template this call has not used yet (a caller tells a fact once)."""
        allowed = self.situation.fitting(templates)
        template = self.rng.choice([t for t in allowed if t not in self.told] or allowed)
        self.told.add(template)
        return self.line((template,))

    def echo(self) -> str | None:
        """A read-back of a value the agent's last line stated, or None when it stated none."""
        last = self.agent_lines[-1] if self.agent_lines else ""
        values = [value for value in self.echoable if value in last]
        return expand(self.rng, self.rng.choice(ECHO_FRAMES)).replace("{v}", self.rng.choice(values)) if values else None

    def agent(self, templates, outcome: str = NEUTRAL) -> None:
        """An agent reply: a `fresh` line of `templates`."""
        self.say(self.fresh(templates), outcome)

    def say(self, text: str, outcome: str = NEUTRAL) -> None:
        """The agent says `text`; its outcome moves the caller's latent state."""
        self.said.add(text)
        self.agent_lines.append(text)
        self.turns.append({"role": "agent", "text": self.agent_style.say(text)})
        self.state = emotions.next_state(self.rng, self.state, outcome)

    def user(self, act: str, content: str | None, emotion_allowed: bool = True, background: bool = True) -> None:
        rng = self.rng
        opening = not self.opened and act in _OPENING_ACTS
        emotion = emotions.emitted_emotion(rng, self.state, act, opening=opening) if emotion_allowed else NO_EMOTION
        if self.pending_cue and self.opened and emotion == NO_EMOTION and act not in ("ack", "identity"):
            emotion, self.pending_cue = self.state, False  # the feeling the opening held back comes out now
        # at most one elaboration of what the caller says: a read-back, a next step, or the background
        echoed = (self.echo() if content is not None and act in ECHO_PROBABILITY and self.turns
                  and self.turns[-1]["role"] == "agent" and self.chance(ECHO_PROBABILITY[act]) else None)
        if echoed:
            content = echoed + "，" + content if act == "followup" or self.chance(0.5) else content + "，" + echoed
        elif act in NEXT_STEP_PROBABILITY and content is not None and self.chance(NEXT_STEP_PROBABILITY[act]):
            content += "，" + self.line(NEXT_STEPS)
        elif (emotion == NO_EMOTION and content is not None and act in _BACKGROUND_ACTS
              and (factual := [g for g in FACTUAL_GRIEVANCES[self.matter.name] if g not in self.told])
              and self.chance(CALM_COMPLAINT)):
            # what went wrong, told as a plain fact by a calm caller: the words of a grievance, not its feeling
            content = self.untold(factual) + "，" + content
        elif background and content is not None and act in _BACKGROUND_ACTS and self.chance(BACKGROUND_PROBABILITY):
            history = self.situation.prior_calls and self.chance(0.4)
            lead = self.untold(HISTORY if history else BACKGROUND)
            # the caller says why before asking, or adds it as an aside after the question ("...怎么收费，对了我下个月要出差")
            if history or self.chance(0.65):
                content = lead + "，" + content
            else:
                content += "，" + self.line(REASON_LINKS) + lead
        if emotion == NO_EMOTION:
            text = content if content is not None else rng.choice(CALM_REACTIONS)
        else:
            text = self._emotional(act, content, emotion)
        if opening and emotion == NO_EMOTION and emotions.delayed_cue(rng, self.state):
            self.pending_cue = True
        if self.chance(SPLIT_PROBABILITY) and emotion == NO_EMOTION and "，" in text and len(text) > 10:
            head, tail = text.split("，", 1)
            if len(head) >= SPLIT_MIN_CHARS and len(tail) >= SPLIT_MIN_CHARS:  # a pause between two full clauses
                self._append(head, NO_EMOTION)
                text = tail
        self._append(text, emotion)

    def _emotional(self, act: str, content: str | None, emotion: str) -> str:
        rng = self.rng
        strength = rng.choices(STRENGTHS, STRENGTH_WEIGHTS)[0]
        if strength == "situational":
            if content is not None and (act in _SITUATIONAL_ACTS and emotion not in (GRATITUDE, INSULT)
                                        or act in ("close", "react") and emotion == GRATITUDE):
                return content
            if content is not None and act == "followup" and emotion == GRATITUDE:
                # the grateful caller's thanks in the words every polite caller uses before the next question
                return content if any(w in content for w in ("谢谢", "麻烦你")) else self.line(THANKS_LEADS) + content
            strength = "implicit"
        feeling = cue(rng, emotion, self.matter, self.slots, self.situation, strength)
        if content is None or (act in _CUE_ALONE_ACTS and self.chance(0.25)) or emotion == INSULT and self.chance(0.4):
            return feeling
        if emotion == GRATITUDE:  # thanks, then what the caller came to say (a reaction may be the thanks alone)
            return feeling if act in _CUE_ALONE_ACTS and self.chance(0.25) else feeling + "，" + content
        return feeling + "，" + content if self.chance(0.45) else content + "，" + feeling

    def _append(self, text: str, emotion: str) -> None:
        spoken = self.voice.say(text)
        self.turns.append({"role": "user", "text": spoken, "emotion": emotion})
        if not self.opened:
            self.opened = is_substantive(spoken)


_REPEATABLE_SETS = {AGENT_GREETINGS, AGENT_GREET_BACK, AGENT_HOLDS, AGENT_BACKS, AGENT_ACKS, AGENT_EMPATHY,
                    AGENT_ID_CONFIRMED, AGENT_ANYTHING_ELSE, AGENT_GOODBYES}


# --- phases -------------------------------------------------------------------------------------------------------
def opening(c: Call) -> None:
    r = c.rng.random()
    if r < 0.5:
        c.agent(AGENT_GREETINGS)
        if c.chance(0.12):
            c.user("greet", c.line(USER_GREETINGS))
    elif r < 0.75:
        c.user("greet", c.line(USER_GREETINGS))
        c.agent(AGENT_GREET_BACK)
    c.user("request", c.line(c.matter.ask))
    if c.matter.detail and c.chance(0.5):
        if c.chance(0.5):
            c.agent(AGENT_ACKS)
        c.user("detail", c.line(c.matter.detail))


def identity_check(c: Call) -> None:
    question, answers = c.rng.choice(ID_CHECKS)
    c.agent((question,))
    if c.chance(0.08):
        c.user("ack", c.line(USER_STALLS), emotion_allowed=False)
    c.user("identity", c.line(answers), emotion_allowed=False)
    c.agent(AGENT_ID_CONFIRMED)


def probing(c: Call) -> None:
    for question, answers in c.rng.sample(c.matter.probes, c.rng.randint(0, len(c.matter.probes))):
        c.agent((question,))
        c.user("answer", c.line(answers))


def explain(c: Call, templates, outcome: str) -> None:
    """An agent reply; long ones are sometimes delivered in two parts with a back-channel in between."""
    text = c.fresh(templates)
    c.said.add(text)
    head, _, tail = text.partition("，")
    if len(text) >= 16 and tail and head not in c.said and tail not in c.said and c.chance(0.08):
        c.say(head, NEUTRAL)
        c.user("ack", c.line(USER_BACKCHANNELS), emotion_allowed=False)
        c.say(tail, outcome)
    else:
        c.say(text, outcome)


def draw_outcome(c: Call) -> str:
    p_good, p_wait, _ = c.matter.outcome
    r = c.rng.random()
    return GOOD if r < p_good else WAIT if r < p_good + p_wait else BAD


def resolution(c: Call, outcome: str | None = None) -> str:
    matter = c.matter
    if matter.inform and c.chance(0.6):
        explain(c, matter.inform, NEUTRAL)
    if c.chance(0.55):
        c.agent(AGENT_HOLDS)
        if c.chance(0.15):
            c.user("ack", c.line(USER_BACKCHANNELS), emotion_allowed=False)
        c.agent(AGENT_BACKS)
    outcome = outcome or draw_outcome(c)
    lines = {GOOD: matter.good, WAIT: matter.wait or matter.good, BAD: matter.bad or matter.wait}[outcome]
    explain(c, lines, outcome)
    if outcome == GOOD:
        c.user("react", c.line(REACT_GOOD))
    else:
        c.user("push", c.line(c.rng.choices((DEMANDS, REACT_PENDING, CALM_REACTIONS), (0.45, 0.35, 0.2))[0]))
        outcome = negotiation(c, outcome)
    return outcome


def negotiation(c: Call, outcome: str) -> str:
    """Rounds after a pending or refused request: the agent apologises, restates, or finds another way."""
    matter = c.matter
    same = (matter.wait if outcome == WAIT else matter.bad) or matter.wait or matter.bad
    for _ in range(c.rng.randint(0, 3)):
        r = c.rng.random()
        if r < 0.3:
            c.agent(AGENT_EMPATHY, EMPATHY)
        elif r < 0.55:
            c.agent(ALTERNATIVES, GOOD)
            c.user("react", c.line(REACT_GOOD))
            return GOOD
        else:
            c.agent(same, outcome)
        c.user("push", c.line(DEMANDS))
    if c.chance(0.5):
        c.agent(AGENT_EMPATHY, EMPATHY)
        c.user("react", c.line(REACT_PENDING))
    return outcome


def followups(c: Call, after: str = NEUTRAL) -> None:
    low, high = FOLLOWUPS[c.situation.category]
    pool = [item for item in (*c.matter.follow, *FOLLOW_COMMON) if c.situation.allows(item[0])]
    for k, (question, answers) in enumerate(c.rng.sample(pool, min(len(pool), c.rng.randint(low, high)))):
        unasked = [t for t in c.matter.stake if t not in c.told]
        if unasked and c.chance(STAKE_QUESTION):  # a question about consequences, or a need ("我明天要用"), once each
            question = c.untold(unasked)
            asks = any(word in question for word in _QUESTION)
            if c.chance(0.4) and asks:
                question = c.line(STAKE_LEADS) + question  # said in one breath
            answers = STAKE_ANSWERS if asks else NEED_ANSWERS
        if k == 0 and after == GOOD and c.chance(POLITE_THANKS):
            question = c.line(THANKS_LEADS) + question  # politeness, not gratitude: the label stays the state's
        elif c.chance(POLITE_PROBABILITY):
            question = c.line(POLITE_LEADS) + question
        c.user("followup", c.line((question,)))
        explain(c, answers, NEUTRAL)
        if c.chance(0.03):
            c.user("ack", c.line(USER_BACKCHANNELS), emotion_allowed=False)


def second_matter(c: Call) -> str | None:
    others = [m for m in MATTERS[c.situation.category] if m is not c.matter and not m.outbound]
    if not others:
        return None
    c.matter = c.rng.choice(others)
    c.slots["ref"] = expand(c.rng, REFS[c.matter.name])
    c.situation.technician = c.situation.technician or c.matter.name in TECHNICIAN_MATTERS
    if c.chance(0.15):
        c.user("ack", c.line(SECOND_OPENERS), emotion_allowed=False)
        c.agent(AGENT_ACKS)
        c.user("request", c.line(c.matter.ask))
    else:  # said in one breath: "对了还有个事，我想..."
        c.user("request", c.line(SECOND_OPENERS) + c.line(("，", "")) + c.line(c.matter.ask), background=False)
    probing(c)
    resolution(c)


def closing(c: Call) -> None:
    c.agent(AGENT_ANYTHING_ELSE)
    said = c.line(CLOSE_NONE)
    c.user("close", said + "，" + c.line(CLOSE_MORE) if c.chance(CLOSE_MORE_PROBABILITY) else said)
    c.agent(AGENT_GOODBYES)
    if c.chance(0.12):
        c.user("ack", c.line(USER_BYES), emotion_allowed=False)


def inbound_call(c: Call) -> None:
    opening(c)
    if c.matter.name in _IDENTITY_MATTERS or c.chance(0.25):
        identity_check(c)
    probing(c)
    outcome = resolution(c)
    if c.chance(SECOND_MATTER):
        outcome = second_matter(c) or outcome
    followups(c, outcome)
    closing(c)


def outbound_call(c: Call) -> None:
    if c.chance(0.5):
        c.agent(("您好，请问是{sir}吗", "您好，[请问|]是机主本人吗"))
        c.user("answer", c.line(("是的，你哪位", "对，什么事", "是我", "嗯，你说", "[是的|对|嗯][，|]我[就是|是]{sir}[，你哪位|，什么事|，你说|]")))
    c.agent(c.matter.inform)
    outcome = draw_outcome(c)  # decided up front: the caller's first answer already tells how things went
    replies = c.matter.replies[(GOOD, WAIT, BAD).index(outcome)]
    c.user("visit_reply", c.line(replies or c.matter.ask))
    probing(c)
    lines = {GOOD: c.matter.good, WAIT: c.matter.wait, BAD: c.matter.bad}[outcome]
    explain(c, lines, outcome)
    if outcome != GOOD:
        c.user("push", c.line(DEMANDS))
        negotiation(c, outcome)
    else:
        c.user("react", c.line(REACT_GOOD))
    followups(c, outcome)
    closing(c)


# Matters an engineer is part of: only their callers speak of "师傅" (the technician)
TECHNICIAN_CATEGORIES = frozenset({"fault_report_tech_support", "care_follow_up"})
TECHNICIAN_MATTERS = frozenset({"broadband_new"})
_IDENTITY_MATTERS = frozenset({"sim_replace", "transfer_out", "unsubscribe", "overcharge"})


def simulate_session(rng: random.Random, category: str) -> list[dict]:
    """The turns of one session of `category` (raw format v1 turns)."""
    c = Call(rng, category)
    (outbound_call if c.matter.outbound else inbound_call)(c)
    return c.turns
