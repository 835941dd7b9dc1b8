"""Phrase banks shared by every service category: openings, identity checks, holds, closings and emotion cues.

Style follows transcribed China Mobile customer-care calls (CMCC paper, Tables 6-8): spoken, loosely punctuated,
phone and ID numbers already desensitised to the token [num]. Topic-specific content lives in `topics.py`.

Emotion cues come in four strengths (`CUE_STRENGTHS`; their odds are `dialogue.CUE_STRENGTH_WEIGHTS`):
- explicit: the emotion is named or unmistakable (我很担心, 太感谢了);
- moderate: the emotion is clear to a reader but carried by the situation (不会又扣我钱吧); some moderate cues are
  shared by neighbouring emotions (URGENT, LET_DOWN, UNEASY);
- implicit: phrases SHARED between several emotions, or between an emotion and No Emotion (算了, 行吧, 好的谢谢,
  那怎么办呢). Their label is decided by the user's latent state, which the dialogue context reveals (what the
  agent just said, how the user spoke before) - the realistic ambiguity the benchmark is meant to measure;
- none: no cue at all, only the content (used by `dialogue.py` for push-backs and follow-ups).
"""

from __future__ import annotations

from .labels import ANGER, ANXIETY, DISAPPOINTMENT, GRATITUDE, INSULT, WORRY

# --- slot values, fixed per session so a dialogue stays consistent -------------------------------------------
SLOTS: dict[str, tuple[str, ...]] = {
    "plan": ("58元套餐", "5G畅享套餐", "128元的5G套餐", "动感地带套餐", "全球通套餐", "神州行套餐", "38元的流量套餐",
             "家庭融合套餐", "99元不限量套餐", "8元保号套餐", "五十八的那个套餐", "一百二十八的套餐", "花卡套餐"),
    "service": ("彩铃", "视频彩铃", "咪咕视频会员", "咪咕音乐", "手机报", "来电提醒", "和彩云", "游戏包月", "视频会员",
                "流量加油包", "随心看会员", "阅读包月"),
    "fee": ("十块钱", "二十多块", "三十块", "五十多块", "一百多块", "两百多", "十五块", "三十八块", "六块钱", "九块九",
            "好几十块", "八十多"),
    "data": ("10个G", "二十G", "30G", "五百兆", "1个G", "四十个G", "一百G", "5个G"),
    "days": ("两天", "三天", "一个星期", "好几天", "半个月", "四五天", "一整天", "两个礼拜"),
    "place": ("家里", "小区里", "单位", "店里", "出租屋", "老家", "办公室", "地下室"),
}

# --- user openings and fillers (all non-substantive in the sense of estbench.schema.is_substantive) ---------------
USER_GREETINGS = ("喂", "喂，你好", "你好", "喂你好", "您好", "喂，您好", "喂，在吗", "你好，客服", "喂？", "哎你好",
                  "嗯你好", "喂，人工客服", "你好你好", "喂喂")
USER_BACKCHANNELS = ("嗯", "嗯嗯", "好", "好的", "对", "是的", "哦", "嗯对", "对对", "行", "哦哦", "嗯好")
USER_STALLS = ("等一下啊，我找一下", "稍等我看看", "我想一下啊", "你等会儿，我翻一下", "稍等，我拿一下身份证",
               "等等我看一下短信")

# --- agent lines ------------------------------------------------------------------------------------------------
AGENT_GREETINGS = ("您好，很高兴为您服务，请问有什么可以帮您？", "您好，中国移动客服，请问有什么可以帮到您？",
                   "您好，请讲", "您好，这边是人工客服，请问您要办理什么业务？", "您好，很高兴为您服务，抱歉让您久等了",
                   "您好，请问有什么可以帮您", "您好，客服代表很高兴为您服务")
AGENT_GREET_BACK = ("您好，请讲", "您好，请问有什么可以帮您？", "诶您好，请说", "您好，在的，请讲", "您好，您请说")
# Identity checks: (agent request, fitting user answers).
ID_CHECKS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("请问您是机主本人吗？", ("对，我是机主", "是本人", "是的，是我本人", "不是，机主是我爱人，号码是[num]")),
    ("请问是本机号码办理的吗？", ("就是这个号码", "对，就是我现在打的这个号", "不是，是[num]")),
    ("为了保护您的账户安全，麻烦提供一下机主身份证号码的后六位", ("[num]", "身份证后六位是[num]", "后六位是[num]")),
    ("麻烦您报一下您的手机号码", ("[num]", "是[num]", "号码是[num]", "我的号码[num]", "[num]，这个是我的号")),
    ("请您提供一下服务密码验证一下身份", ("服务密码是[num]", "[num]", "密码我忘了，能不能用身份证")),
    ("请问您要查询的号码是多少？", ("[num]", "就是本机", "查[num]这个")),
    ("麻烦说一下您的宽带账号或者装机时登记的电话", ("宽带账号是[num]", "登记的电话是[num]", "就是这个手机号")),
    ("这边需要核实一下身份，请问机主姓什么？", ("姓王", "我姓李", "姓张，弓长张")),
)
AGENT_ID_CONFIRMED = ("好的，身份核实通过了", "好的，已经为您核实", "好的，感谢您的配合", "好的，我看到了",
                      "好的，核实了，是您本人")
AGENT_ID_RETRY = ("不好意思，您提供的信息和登记的不一致，麻烦再核对一下",
                  "抱歉，密码不正确，麻烦您再说一遍", "不好意思，刚才没听清，您再报一下号码")
AGENT_HOLDS = ("请您稍等，我这边帮您查询一下", "好的，请稍等", "您稍等一下，我帮您看一下",
               "好的我帮您核实一下，请不要挂机", "嗯，您稍等，系统有点慢", "好的，我这边查一下")
AGENT_BACKS = ("感谢您的耐心等待", "让您久等了", "好的，查到了", "嗯，您好", "好的先生", "好的女士")
AGENT_EMPATHY = ("非常抱歉给您带来不便", "您的心情我非常理解", "您先别着急", "实在不好意思，让您久等了",
                 "给您添麻烦了，真的很抱歉", "您放心，这个问题我一定帮您跟进", "确实是，换做是我也会着急")
AGENT_ANYTHING_ELSE = ("请问还有其他可以帮您的吗？", "还有其他问题吗？", "嗯请问还有什么其他可以帮您的吗？",
                       "那您看还有其他需要吗？", "还有别的需要帮您处理的吗？")
AGENT_GOODBYES = ("好的，感谢您的来电，祝您生活愉快，再见", "不客气，感谢来电，再见",
                  "好的，稍后会有一条满意度短信，麻烦您给个评价，再见", "好的，那不打扰您了，再见",
                  "好的，祝您生活愉快，再见", "不客气，应该的，再见")
AGENT_ACKS = ("好的", "嗯好的", "明白", "嗯，您说", "好的您说", "嗯嗯")
AGENT_REPEAT = ("不好意思，刚才没听清，您能再说一遍吗？", "喂，您好，能听到吗？", "信号不太好，您再说一下")

# --- user closings ---------------------------------------------------------------------------------------------
USER_NOTHING_ELSE = ("没有了", "没了", "没有了，就这个", "暂时没有了", "没有", "嗯，没有了", "没别的了")
USER_BYES = ("好，拜拜", "嗯，再见", "好的再见", "拜拜", "再见")

# Courtesy and resignation that are NOT emotions in a calm session (the paper labels them No Emotion):
# they share wording with the implicit Gratitude and Disappointment cues below on purpose.
POLITE = ("好的谢谢", "谢谢", "嗯好的，谢谢啊", "好的，麻烦了", "好，谢谢你", "行，谢谢", "好的好的，谢谢", "好的，辛苦了",
          "那麻烦你了", "谢谢啊")
RESIGNED = ("算了", "行吧", "算了算了", "那就这样吧", "好吧", "那行吧", "那好吧")
NEUTRAL_CLOSINGS = POLITE + ("好的知道了", "那先这样", "行，我知道了", "嗯，明白了", "好，那我再考虑一下",
                             "那行吧，那就这样", "好吧，那我知道了", "不着急，我回头再看看")

# --- emotion cues by strength -----------------------------------------------------------------------------------
CUE_STRENGTHS = ("explicit", "moderate", "implicit", "none")

CONCERN = ("那怎么办呢", "那可咋办啊", "这可怎么弄", "那现在怎么办", "我这边还等着用呢", "那我该怎么办")
FED_UP = ("我都打了好几次电话了", "上次也是这么跟我说的", "每次都这样", "都说了多少遍了", "又是让我等",
          "说来说去还是这样")
# Moderate cues shared by neighbouring emotions (annotators split them by intensity and context).
URGENT = ("到底什么时候能好啊", "能不能快点啊", "今天必须给我弄好")
LET_DOWN = ("说了半天还是解决不了", "每次都是这套说辞", "跟你们说了也没用", "你们就不能想想办法吗")
UNEASY = ("不会下个月还这样吧", "这个到底靠不靠谱啊", "别到时候又出问题")
HOSTILE = ("你们还讲不讲道理", "你们还要不要脸", "真是服了你们了", "你们到底想怎么样")

CUES: dict[str, dict[str, tuple[str, ...]]] = {
    WORRY: {
        "explicit": ("我真的挺担心的", "我有点担心", "我就是担心这个", "说实话我心里挺不踏实的", "我怕到时候又出问题",
                     "我就怕到时候说不清楚", "我很担心会不会被多扣钱", "这让我挺担心的", "我心里一直悬着",
                     "我真怕号码被注销了", "我担心会影响征信"),
        "moderate": ("这样不会有什么影响吧", "那我这个号不会被停掉吧", "这个不会影响我正常使用吧",
                     "我家老人还在用这个号呢", "别到时候又说我违约") + UNEASY,
        "implicit": CONCERN,
    },
    ANXIETY: {
        "explicit": ("我现在很着急", "我真的急死了", "你们能不能快一点，我很急", "我着急用啊", "我都快急疯了",
                     "求求你们快点处理", "急死我了", "我是真着急"),
        "moderate": ("我今天必须要用", "我等不了那么久", "明天上午之前一定要弄好", "我这边生意都耽误了")
                    + URGENT + UNEASY,
        "implicit": CONCERN + ("还要等多久啊", "还要多久"),
    },
    ANGER: {
        "explicit": ("我真的很生气", "太气人了", "你们这是什么破服务", "简直莫名其妙", "搞什么东西",
                     "这也太过分了吧", "你们这样做太离谱了", "气死我了"),
        "moderate": ("你们怎么回事啊", "这不是坑人吗", "你们到底管不管", "叫你们领导来接电话", "我要投诉你们",
                     "这事今天必须给我个说法") + URGENT + LET_DOWN,
        "implicit": FED_UP + HOSTILE,
    },
    INSULT: {
        "explicit": ("你们就是一帮骗子", "垃圾运营商", "你脑子有问题吧", "你们这群吸血鬼", "什么垃圾东西",
                     "一群废物", "你们就是强盗", "垃圾客服", "一帮饭桶", "你是猪吗", "你有病吧"),
        "moderate": ("你听不懂人话是吧", "骗子公司", "你们就会骗钱", "跟你说话真是浪费时间，你是机器人吧",
                     "你们脑子进水了吧", "你会不会说人话", "你们良心被狗吃了吧", "你们这种公司早该倒闭了",
                     "你们这些人就是混饭吃的", "你是不是傻"),
        "implicit": HOSTILE,
    },
    DISAPPOINTMENT: {
        "explicit": ("真的太让我失望了", "我对你们挺失望的", "这么多年老用户了，太寒心了", "本来还挺信任你们的",
                     "唉，真是失望"),
        "moderate": ("本来以为打个电话就能解决", "唉，那我打这个电话有什么用", "老用户还不如新用户", "早知道就不办了",
                     "唉，又白折腾一趟", "用了十几年了就这待遇", "还不如换个运营商") + LET_DOWN,
        "implicit": RESIGNED + FED_UP,
    },
    GRATITUDE: {
        "explicit": ("太感谢你了", "真是太谢谢你了", "你们服务真好", "帮了我大忙了", "非常感谢，你态度真好",
                     "谢谢你这么耐心", "辛苦你了，真的很感谢", "太好了，谢谢谢谢"),
        "moderate": ("谢谢你啊，麻烦你了", "那真是麻烦你了", "谢谢啊，还专门打电话来问",
                     "好嘞，谢谢你哈", "你们还挺负责的", "好的好的，这下放心了，谢谢"),
        "implicit": POLITE,
    },
}

# Cues that only fit calls of some categories, added to the generic ones above for those categories.
_MONEY = ("business_consultation", "business_processing", "complaint_suggestion", "care_follow_up")
CATEGORY_CUES: dict[str, dict[str, dict[str, tuple[str, ...]]]] = {
    "fault_report_tech_support": {
        WORRY: {"moderate": ("会不会是中病毒了", "是不是线路有问题啊，不会不安全吧", "会不会是我家设备坏了，要换的话得花不少钱吧")},
        ANXIETY: {"moderate": ("我这边马上要开会要用网", "孩子还等着上网课呢", "我在外地，手机用不了，什么事都办不了",
                               "你就直接告诉我什么时候能修好")},
        ANGER: {"moderate": ("三天两头断网", "交了钱用不了，你们还好意思", "修了多少次了还是这样")},
    },
    **{category: {
        WORRY: {"moderate": ("不会再多扣我钱吧", "到时候不会又要我补钱吧", "万一到时候又扣费怎么办",
                             "那我之前交的钱不会白交了吧", "那我的积分不会清零吧", "会不会是被别人盗用了")},
        ANGER: {"moderate": ("凭什么扣我的钱", "我没开过你们凭什么收费", "谁同意了你们就给我开")},
    } for category in _MONEY},
}


def cues_for(category: str) -> dict[str, dict[str, tuple[str, ...]]]:
    """The cue bank of a category: the generic cues plus that category's own."""
    extra = CATEGORY_CUES.get(category, {})
    return {emotion: {strength: bank + extra.get(emotion, {}).get(strength, ()) for strength, bank in banks.items()}
            for emotion, banks in CUES.items()}


# Discourse particles that spoken transcripts begin or end utterances with.
PREFIXES = ("", "", "", "", "", "", "嗯，", "那个，", "就是，", "哎，", "喂，", "呃，", "就是那个，")
SUFFIXES = ("", "", "", "", "啊", "吧", "呢", "哈", "。", "。")
QUESTION_SUFFIXES = ("", "", "？", "？", "啊", "呢")
# Lead-ins of an emotional remark said on its own (explicit and moderate cues only: "哎呀，行吧" would read oddly).
REMARK_LEADS = ("哎，", "哎呀，", "说真的，", "我说，", "真是的，", "唉，")
