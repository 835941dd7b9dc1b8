"""Dialogue flows: how a call of each service category unfolds, built from reusable phases.

Inbound calls (consultation, processing, complaint, fault): opening (agent greets, or the user greets or starts
with the question) -> optional identity check -> the agent's probing questions -> the resolution, whose outcome
(good / wait / bad, drawn from the topic) drives the user's latent emotion -> push-back rounds after a bad or
pending outcome -> follow-up questions -> closing. Care & return-visit calls are outbound: the agent opens with
the reason for calling. Agent explanations are sometimes split with user back-channels (嗯 / 对), and the user
sometimes says several things in a row, as in transcribed calls.
"""

from __future__ import annotations

import random

from ..schema import CATEGORY_NAMES
from . import phrases as P
from .dialogue import Dialogue
from .emotions import BAD, EMPATHY, GOOD, NEUTRAL, WAIT
from .topics import FOLLOWUPS_BY_CATEGORY, TOPICS_BY_CATEGORY, Topic

# Category mix of the calls (the paper does not publish it; inbound service calls dominate).
CATEGORY_WEIGHTS: dict[str, float] = {
    "business_consultation": 0.3,
    "business_processing": 0.24,
    "complaint_suggestion": 0.12,
    "fault_report_tech_support": 0.2,
    "care_follow_up": 0.14,
}
# (min, max) follow-up questions per category: the main lever on session length (Table 2: 13.78 turns).
FOLLOWUPS: dict[str, tuple[int, int]] = {
    "business_consultation": (4, 11),
    "business_processing": (4, 9),
    "complaint_suggestion": (3, 8),
    "fault_report_tech_support": (3, 8),
    "care_follow_up": (2, 7),
}
# Probability that the caller raises a second matter of the same category ("还有一个问题").
assert set(CATEGORY_WEIGHTS) == set(FOLLOWUPS) == set(CATEGORY_NAMES), "tables must cover schema categories"
SECOND_ISSUE = 0.45
SECOND_ISSUE_OPENERS = ("还有一个问题", "对了，还有个事", "另外我还想问一下", "哦对了", "还有啊")

REACT_GOOD = ("好的", "哦，那就好", "好，那我再试试", "行，明白了", "哦这样啊", "好的好的", "嗯，可以", "那行",
              "哦，知道了", "好，那就这么办")
REACT_NEUTRAL = ("嗯，好的", "哦，那行", "那好吧", "那我等着", "好，我知道了", "嗯", "那就这样吧")
DEMANDS = ("那你们能不能快一点", "那你帮我催一下", "你再帮我想想办法", "那你给我个准话", "有没有别的办法",
           "能不能找个能解决的人", "那我要等到什么时候")
ALTERNATIVES = ("这样吧，我帮您申请一个特殊处理，您看可以吗？", "我帮您升级到专席处理，今天之内给您答复",
                "要不我先帮您办一个临时的方案，您先用着")


def _pick_topic(rng: random.Random, category: str) -> Topic:
    return rng.choice(TOPICS_BY_CATEGORY[category])


# --- phases -----------------------------------------------------------------------------------------------------
def opening(d: Dialogue) -> None:
    rng, topic = d.rng, d.topic
    r = rng.random()
    if r < 0.5:
        d.agent(rng.choice(P.AGENT_GREETINGS))
        if d.chance(0.15):
            d.user("greet", rng.choice(P.USER_GREETINGS))
    elif r < 0.75:
        d.user("greet", rng.choice(P.USER_GREETINGS))
        d.agent(rng.choice(P.AGENT_GREET_BACK))
    # else: the user starts straight with the question
    d.user("request", d.pick(topic.ask))
    if topic.detail and d.chance(0.45):
        if d.chance(0.5):
            d.agent(rng.choice(P.AGENT_ACKS))
        d.user("detail", d.pick(topic.detail))


def identity_check(d: Dialogue) -> None:
    rng = d.rng
    request, answers = rng.choice(P.ID_CHECKS)
    d.agent(request)
    if d.chance(0.2):
        d.user("ack", rng.choice(P.USER_STALLS))
    d.user("identity", rng.choice(answers))
    if d.chance(0.08):
        d.agent(rng.choice(P.AGENT_ID_RETRY))
        d.user("identity", rng.choice(answers))
    d.agent(rng.choice(P.AGENT_ID_CONFIRMED))


def probing(d: Dialogue) -> None:
    rng, topic = d.rng, d.topic
    if not topic.probes:
        return
    for question, answers in rng.sample(topic.probes, rng.randint(0, len(topic.probes))):
        d.agent(question.format_map(d.slots) if "{" in question else question)
        d.user("answer", d.pick(answers))


def explain(d: Dialogue, text: str, outcome: str) -> None:
    """An agent reply; long ones are sometimes delivered in two parts with a user back-channel in between."""
    if len(text) >= 16 and "，" in text and d.chance(0.3):
        head, tail = text.split("，", 1)
        d.agent(head, NEUTRAL)
        d.user("ack", d.rng.choice(P.USER_BACKCHANNELS))
        d.agent(tail, outcome)
    else:
        d.agent(text, outcome)


def draw_outcome(d: Dialogue) -> str:
    p_good, p_wait, _ = d.topic.outcome
    r = d.rng.random()
    return GOOD if r < p_good else WAIT if r < p_good + p_wait else BAD


def resolution(d: Dialogue, outcome: str | None = None) -> str:
    """The agent's answer to the matter (outcome drawn from the topic unless given) and the user's reaction."""
    rng, topic = d.rng, d.topic
    if d.chance(0.6):
        d.agent(rng.choice(P.AGENT_HOLDS))
        if d.chance(0.35):
            d.user("ack", rng.choice(P.USER_BACKCHANNELS))
        back = rng.choice(P.AGENT_BACKS) + "，"
    else:
        back = ""
    outcome = outcome or draw_outcome(d)
    lines = {GOOD: topic.good, WAIT: topic.wait or topic.good, BAD: topic.bad or topic.wait}[outcome]
    explain(d, back + d.pick(lines), outcome)
    if outcome == GOOD:
        d.user("react", rng.choice(REACT_GOOD))
    else:
        d.user("push", d.pick(topic.push) if topic.push else rng.choice(DEMANDS))
        outcome = negotiation(d, outcome)
    return outcome


def negotiation(d: Dialogue, outcome: str) -> str:
    """Rounds after a pending or refused request: the agent apologises, repeats, or finds another way."""
    rng, topic = d.rng, d.topic
    same = (topic.wait if outcome == WAIT else topic.bad) or topic.wait or topic.bad
    for _ in range(rng.randint(0, 3)):
        r = rng.random()
        if r < 0.3:
            d.agent(rng.choice(P.AGENT_EMPATHY) + "，" + d.pick(same), EMPATHY)
        elif r < 0.55:
            d.agent(rng.choice(ALTERNATIVES), GOOD)
            d.user("react", rng.choice(REACT_GOOD))
            return GOOD
        else:
            d.agent(d.pick(same), outcome)
        d.user("push", rng.choice(DEMANDS) if d.chance(0.5) else d.pick(topic.push or DEMANDS))
    if d.chance(0.5):
        d.agent(rng.choice(P.AGENT_EMPATHY), EMPATHY)
        d.user("react", rng.choice(REACT_NEUTRAL))
    return outcome


def followups(d: Dialogue) -> None:
    rng, topic = d.rng, d.topic
    low, high = FOLLOWUPS[d.category]
    pool = topic.followups + FOLLOWUPS_BY_CATEGORY[d.category]
    for question, answers in rng.sample(pool, min(len(pool), rng.randint(low, high))):
        d.user("followup", question.format_map(d.slots) if "{" in question else question)
        explain(d, d.pick(answers), NEUTRAL)
        if d.chance(0.3):
            d.user("ack", rng.choice(P.USER_BACKCHANNELS))


def second_issue(d: Dialogue) -> None:
    """The caller brings up another matter of the same category, which gets its own probing and resolution."""
    others = [t for t in TOPICS_BY_CATEGORY[d.category] if t is not d.topic]
    d.topic = d.rng.choice(others)
    if d.chance(0.5):
        d.user("ack", d.rng.choice(SECOND_ISSUE_OPENERS))
        d.agent(d.rng.choice(P.AGENT_ACKS))
    d.user("request", d.pick(d.topic.ask))
    probing(d)
    resolution(d)


def closing(d: Dialogue) -> None:
    rng = d.rng
    d.agent(rng.choice(P.AGENT_ANYTHING_ELSE))
    content = rng.choice(P.NEUTRAL_CLOSINGS) if d.chance(0.5) else rng.choice(P.USER_NOTHING_ELSE)
    d.user("close", content)
    d.agent(rng.choice(P.AGENT_GOODBYES))
    if d.chance(0.35):
        d.user("ack", rng.choice(P.USER_BYES))


# --- whole calls ------------------------------------------------------------------------------------------------
def inbound_call(d: Dialogue) -> None:
    opening(d)
    if d.chance(d.topic.needs_identity):
        identity_check(d)
    probing(d)
    resolution(d)
    if d.chance(SECOND_ISSUE):
        second_issue(d)
    followups(d)
    closing(d)


def outbound_call(d: Dialogue) -> None:
    rng, topic = d.rng, d.topic
    if d.chance(0.5):
        d.agent("您好，请问是机主本人吗？")
        d.user("answer", rng.choice(("是的，你哪位", "对，什么事", "是我", "嗯，你说")))
    d.agent(d.pick(topic.intro))
    outcome = draw_outcome(d)  # decided up front: the user's first answer already tells how things went
    d.user("visit_reply", d.pick(topic.extra.get("reply", {}).get(outcome) or topic.ask))
    if topic.detail and "reply" not in topic.extra and d.chance(0.5):
        d.user("detail", d.pick(topic.detail))
    probing(d)
    if d.chance(0.3):
        # Return visits often turn into a small service request.
        identity_check(d)
    resolution(d, outcome)
    followups(d)
    closing(d)


def simulate_session(rng: random.Random, category: str) -> list[dict]:
    """The turns of one session of `category`."""
    d = Dialogue(rng, category, _pick_topic(rng, category))
    (outbound_call if d.topic.intro else inbound_call)(d)
    return d.turns

