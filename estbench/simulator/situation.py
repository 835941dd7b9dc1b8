"""A session's situation: the values of every `{slot}` of the episode bank, drawn once per session.

Every value a caller or agent says comes from here, so a figure said twice in a call is the same figure, and the
values vary from call to call as they do in real calls. Which slot is a caller fact and which an agent fact is
declared in `episodes` (the bank's format); the pools below are the values. Amounts are said in Chinese numerals
(sometimes in digits, as transcripts write them); `{num}` is the paper's mask for phone, ID and account numbers.
"""

from __future__ import annotations

import random

from .speech import zh_number

SURNAMES = "王李张刘陈杨赵黄周吴徐孙马胡朱郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾萧田董袁潘蒋蔡余杜叶程魏苏吕丁任沈"
PLANS = ("畅享套餐", "全家享套餐", "5G智享套餐", "任我看套餐", "大流量卡", "飞享套餐", "宽带融合套餐", "校园卡", "芒果卡",
         "花卡", "王卡", "冰激凌套餐", "畅游套餐", "亲情套餐", "无忧卡", "商旅套餐")
FEES = (18, 19, 28, 38, 39, 58, 59, 68, 88, 98, 99, 128, 129, 158, 169, 199, 238)
DATA_GB = (5, 10, 15, 20, 30, 40, 60, 80, 100)
CHARGES = ("视频彩铃", "来电提醒", "游戏包", "咪咕视频会员", "流量加油包", "短信包", "音乐会员", "爱奇艺会员", "彩铃",
           "云盘会员", "阅读包", "安心包", "定向流量包", "来电显示", "手机报", "权益包")
CHARGE_FEES = (3, 5, 6, 8, 9, 10, 12, 15, 18, 20, 25, 29, 30)
MODELS = {"华为": ("Mate40", "Mate60", "P50", "nova9", "畅享20", "nova11"), "小米": ("11", "13", "10", "Civi", "14"),
          "苹果": ("13", "14", "12", "XR", "15"), "OPPO": ("Reno8", "A96", "Find X5"), "vivo": ("X80", "S15", "Y77"),
          "荣耀": ("70", "X40", "Magic4", "Play7"), "三星": ("S22", "A53"), "一加": ("10", "9R"),
          "红米": ("K50", "Note11", "K60"), "魅族": ("18", "20")}
DISTRICTS = ("东城区", "西湖区", "天河区", "武侯区", "江北区", "高新区", "开发区", "城关镇", "南山区", "雨花区", "新城区",
             "鼓楼区", "经开区", "长安区", "滨江区", "老城区", "朝阳区", "海淀区", "江宁区", "龙华区", "宝安区", "金水区",
             "二七区", "岳麓区", "青羊区", "锦江区", "沙坪坝", "渝北区", "思明区", "历下区", "市南区", "和平区", "南岗区",
             "城北区", "东湖区", "北仑", "萧山", "余杭", "昆山", "江阴", "顺德", "南海", "番禺", "城阳区", "莲湖区")
PLACE_NAMES = ("阳光", "幸福", "金桥", "锦绣", "翠湖", "东方", "绿地", "华府", "春晓", "滨河", "紫荆", "龙湖", "建设",
               "和平", "桂花", "银杏", "海棠", "香樟", "凤凰", "明珠", "书香", "世纪", "碧水", "御景", "水岸", "天鹅", "星河",
               "枫林", "南湖", "北苑", "西湖", "东湖", "丽景", "康乐", "新华", "学府", "文化", "工人", "电力", "铁路")
PLACES = ("小区", "花园", "家园", "新村", "公寓", "苑", "城", "大厦", "家属院", "安置小区", "雅居", "嘉园")
FAMILY = ("老婆", "老公", "妈", "爸", "儿子", "女儿", "媳妇", "爱人", "孩子", "婆婆", "岳母", "弟弟", "姐姐", "哥哥", "妹妹",
          "闺女", "外婆", "奶奶", "爷爷", "公公", "侄子", "老人")
APPS = ("微信", "抖音", "快手", "淘宝", "钉钉", "腾讯会议", "王者荣耀", "爱奇艺", "支付宝", "美团", "高德地图", "拼多多",
        "小红书", "学习通", "微博", "百度", "网易云", "京东", "饿了么", "滴滴", "携程", "腾讯视频", "优酷", "企业微信",
        "云闪付", "今日头条", "知乎")
WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")
RECENT_DAYS = ("前天", "大前天", "昨天", "上个礼拜", "月初", "上礼拜五", "前几天", "上周末", "上个月底", "前两天")
CLOCK_PERIODS = (("早上", 6, 9), ("上午", 8, 11), ("中午", 11, 13), ("下午", 1, 6), ("晚上", 6, 11))
CLOCK_TAILS = ("", "多", "半", "左右", "钟")
SPANS = ("两天", "三天", "四五天", "一个星期", "好几天", "半个月", "十来天", "一整天", "两个礼拜", "三四天", "一个多月",
         "五六天", "大半个月", "两三天", "整整一周", "快一个月", "一个礼拜")
TIMES = ("今天下午", "明天上午", "今晚", "明天", "这周末", "后天", "下午三点以后", "晚上七点以后", "明天一早", "这周五",
         "下周一", "今天晚上八点", "月底", "这两天", "明天中午", "后天上午", "下个礼拜", "今天之内", "明早八点", "下午四点",
         "晚上九点", "周六上午", "周日下午", "过两天", "下周三", "月初", "十号之前", "月中", "明天晚上", "大后天")
MONTHS = ("上个月", "这个月", "上上个月", "前两个月", "这两个月")
SPEEDS = ("一百兆", "两百兆", "三百兆", "五百兆", "千兆")
COUNTRIES = ("泰国", "日本", "韩国", "新加坡", "马来西亚", "越南", "美国", "英国", "法国", "德国", "澳大利亚", "意大利",
             "俄罗斯", "加拿大", "阿联酋", "西班牙", "新西兰", "印尼")
CITIES = ("北京", "上海", "广州", "深圳", "成都", "重庆", "杭州", "武汉", "西安", "南京", "长沙", "郑州", "天津", "苏州",
          "青岛", "厦门", "昆明", "沈阳", "哈尔滨", "合肥", "福州", "南宁", "贵阳", "兰州", "乌鲁木齐", "海口", "大连",
          "济南", "石家庄", "太原")
ETAS = ("二十四小时", "四十八小时", "三个工作日", "两个工作日", "七十二小时", "一到两个工作日", "五个工作日",
        "三到五个工作日", "两个小时", "今天之内")
NEW_PLANS = ("5G智享套餐", "5G畅享套餐", "全家享套餐", "融合宽带套餐", "大流量套餐", "商旅套餐", "青春卡", "5G尊享套餐",
             "无限流量套餐", "亲情融合套餐")
PACKS = ((5, 1), (10, 3), (15, 5), (20, 10), (30, 15), (25, 10), (40, 20), (50, 30))

# How many values each slot takes (for the bank's variety figures, `episodes.summary`).
SLOT_CARDINALITY: dict[str, int] = {
    "surname": len(SURNAMES), "sir": 2 * len(SURNAMES), "plan": len(PLANS), "fee": len(FEES), "gb": len(DATA_GB),
    "used": 60, "model": sum(map(len, MODELS.values())), "brand": len(MODELS), "district": len(DISTRICTS),
    "place": len(PLACE_NAMES) * len(PLACES), "building": 30, "room": 6 * 30, "family": len(FAMILY), "app": len(APPS),
    "years": 14, "date": 12 * 28 + 28 + 7 + len(RECENT_DAYS), "clock": 40, "span": len(SPANS), "time": len(TIMES),
    "month": len(MONTHS), "charge": len(CHARGES), "charge_fee": len(CHARGE_FEES), "charge_total": 60,
    "speed": len(SPEEDS), "country": len(COUNTRIES), "city": len(CITIES), "count": 4, "num": 1, "agent_id": 9000,
    "eta": len(ETAS), "new_plan": len(NEW_PLANS), "new_fee": len(FEES), "balance": 260, "arrears": 80,
    "points": 84, "refund": 40, "pack_fee": len(PACKS), "pack_gb": len(PACKS),
}


def amount(rng: random.Random, n: int) -> str:
    """A sum or a count as said in a call: mostly Chinese numerals, sometimes digits (as transcripts write them)."""
    return str(n) if rng.random() < 0.25 else zh_number(n)


def _ordinal(n: int) -> str:
    """A month or day number in a date: 二月二号, not 两月两号 (两 counts, 二 orders)."""
    return "二" if n == 2 else zh_number(n)


def _clock(rng: random.Random) -> str:
    period, low, high = rng.choice(CLOCK_PERIODS)
    hour = rng.randint(low, high)
    return period + zh_number(hour if hour <= 12 else hour - 12) + "点" + rng.choice(CLOCK_TAILS)


def _date(rng: random.Random) -> str:
    form = rng.random()
    if form < 0.35:
        return f"{_ordinal(rng.randint(1, 12))}月{_ordinal(rng.randint(1, 28))}号"
    if form < 0.55:
        return f"{_ordinal(rng.randint(1, 28))}号"
    if form < 0.7:
        return "上" + rng.choice(WEEKDAYS)
    return rng.choice(RECENT_DAYS)


def draw_situation(rng: random.Random) -> dict[str, str]:
    """Every slot's value for one session (strings, ready to render)."""
    fee, gb, charge_fee = rng.choice(FEES), rng.choice(DATA_GB), rng.choice(CHARGE_FEES)
    used = rng.randint(max(1, gb // 3), gb + gb // 2)
    surname = rng.choice(SURNAMES)
    brand = rng.choice(tuple(MODELS))
    pack_fee, pack_gb = rng.choice(PACKS)
    new_fee = rng.choice([f for f in FEES if f > fee] or [fee + 20])
    return {
        "surname": surname,
        "sir": surname + rng.choice(("先生", "女士")),
        "plan": rng.choice(PLANS),
        "fee": amount(rng, fee),
        "gb": amount(rng, gb),
        "used": amount(rng, used),
        "model": brand + rng.choice(MODELS[brand]),
        "brand": brand,
        "district": rng.choice(DISTRICTS),
        "place": rng.choice(PLACE_NAMES) + rng.choice(PLACES),
        "building": zh_number(rng.randint(1, 30)) + "栋",
        "room": zh_number(rng.randint(1, 6)) + "单元" + zh_number(rng.randint(1, 30)) + "楼",
        "family": rng.choice(FAMILY),
        "app": rng.choice(APPS),
        "years": zh_number(rng.randint(2, 15)),
        "date": _date(rng),
        "clock": _clock(rng),
        "span": rng.choice(SPANS),
        "time": rng.choice(TIMES),
        "month": rng.choice(MONTHS),
        "charge": rng.choice(CHARGES),
        "charge_fee": amount(rng, charge_fee),
        "charge_total": amount(rng, charge_fee * rng.randint(2, 6)),
        "speed": rng.choice(SPEEDS),
        "country": rng.choice(COUNTRIES),
        "city": rng.choice(CITIES),
        "count": rng.choice(("两", "三", "四", "五")),
        "num": "[num]",  # phone, ID and account numbers are masked, as in the paper's desensitised data
        "agent_id": str(rng.randint(1000, 9999)),
        "eta": rng.choice(ETAS),
        "new_plan": rng.choice(NEW_PLANS),
        "new_fee": amount(rng, new_fee),
        "balance": amount(rng, rng.randint(1, 260)),
        "arrears": amount(rng, rng.randint(3, 80)),
        "points": amount(rng, rng.randint(12, 95) * 100),
        "refund": amount(rng, charge_fee * rng.randint(1, 3) if rng.random() < 0.6 else rng.randint(5, 50)),
        "pack_fee": amount(rng, pack_fee),
        "pack_gb": zh_number(pack_gb),
    }
