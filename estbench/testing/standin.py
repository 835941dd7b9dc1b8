"""Raw format v1 fixtures for the builder tests: a seeded stand-in corpus generator and a JSONL writer.

The stand-in is NOT the project's simulator (that is `estbench.simulator`); it only has to exercise every builder rule
(greeting openings, every emotion, sessions without user turns are never produced here) with a label mix roughly like
the paper's Table 3, and be fast enough to write a paper-scale corpus for `bench/bench_build.py`.
"""

from __future__ import annotations

import gzip
import json
import random
from pathlib import Path
from typing import Iterable

from .. import schema

WORRY, ANGER, INSULT, DISAPPOINTMENT, ANXIETY, GRATITUDE, NO_EMOTION = schema.EMOTIONS
_OPENINGS = ("你好", "喂，你好", "在吗？", "嗯", "您好客服")
_USER = {
    NO_EMOTION: (
        "我想查一下这个月的话费", "宽带套餐怎么办理", "帮我看看流量还剩多少", "号码是[num]", "我再确认一下地址",
    ),
    WORRY: ("我怕这个月又要多扣钱", "会不会影响我明天用网啊", "担心信息被泄露了"),
    ANGER: ("你们这服务太差了！", "说了多少遍了还没修好！"),
    INSULT: ("你们都是骗子，垃圾公司",),
    DISAPPOINTMENT: ("唉，还是没解决", "本来以为这次能好的"),
    ANXIETY: ("我急着用，能不能快点", "马上要开会了，网络赶紧弄好"),
    GRATITUDE: ("好的，谢谢你", "太感谢了，解决了"),
}
_AGENT = ("您好，请问有什么可以帮您？", "好的，我帮您查询一下", "非常抱歉给您带来不便", "请您稍等", "还有其他问题吗？")
# roughly Table 3's annotation mix: mostly No Emotion, then Worry, Gratitude, Disappointment, ...
_WEIGHTS = {NO_EMOTION: 0.90, WORRY: 0.035, ANGER: 0.006, INSULT: 0.002, DISAPPOINTMENT: 0.02,
            ANXIETY: 0.005, GRATITUDE: 0.032}


def standin_sessions(n_sessions: int, seed: int, *, mean_user_turns: int = 6) -> Iterable[dict]:
    rng = random.Random(seed)
    emotions, weights = list(_WEIGHTS), list(_WEIGHTS.values())
    categories = schema.CATEGORY_NAMES
    for index in range(n_sessions):
        turns = []
        if rng.random() < 0.5:
            turns.append({"role": "agent", "text": rng.choice(_AGENT)})
        if rng.random() < 0.4:
            turns.append({"role": "user", "text": rng.choice(_OPENINGS), "emotion": NO_EMOTION})
        for _ in range(max(1, int(rng.expovariate(1 / mean_user_turns)))):
            emotion = rng.choices(emotions, weights)[0]
            turns.append({"role": "user", "text": rng.choice(_USER[emotion]), "emotion": emotion})
            if rng.random() < 0.8:
                turns.append({"role": "agent", "text": rng.choice(_AGENT)})
        session = {"session_id": f"standin-{seed}-{index:07d}", "turns": turns}
        if rng.random() < 0.9:
            session["category"] = rng.choice(categories)
        yield session


def write_jsonl(path: Path, sessions: Iterable[dict]) -> Path:
    """One JSON object per line (gzip when the name ends in .gz)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = "".join(json.dumps(s, ensure_ascii=False) + "\n" for s in sessions).encode("utf-8")
    path.write_bytes(gzip.compress(data, mtime=0) if path.name.endswith(".gz") else data)
    return path


def write_standin_corpus(out_dir: Path, n_sessions: int, seed: int = 0, *, shards: int = 2, **kwargs) -> list[Path]:
    sessions = list(standin_sessions(n_sessions, seed, **kwargs))
    per_shard = -(-len(sessions) // shards)
    return [
        write_jsonl(Path(out_dir) / f"standin-{k:03d}.jsonl.gz", sessions[k * per_shard : (k + 1) * per_shard])
        for k in range(shards)
    ]
