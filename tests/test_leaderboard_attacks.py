"""The two attacks of issue 23 as automated tests that must fail against the board, with a positive control each
(the same attack against what the old board showed must succeed, or the test proves nothing).

1. **Label decoder.** Every row of a submission gets the most common class f of a task, each chosen row a rare class
   no other row has; the numbers the board shows then say which chosen rows hit. The decoder is exact: for every
   submission it enumerates each chosen row's state (hit / has label f / other: 3^m hypotheses), computes the scores
   every hypothesis implies from the confusion matrix (`estbench.scoring.task_metrics`, the board's own arithmetic),
   keeps those consistent with what was shown at the precision shown, and intersects the labels left per row over
   all submissions. It is given more than a real attacker has: which rows are public and each class's count there.
2. **Membership probe.** A submission consistent everywhere but on one chosen session: if a consistency share counts
   public rows only, it drops exactly when that session is public.

The board's design (`est_leaderboard.scoring`, README "Threat model") allows, before the reveal, one number per
submission that beats its identity's best by η, on an η grid. The tests state what the attacks recover in numbers.
"""

from __future__ import annotations

import itertools

import numpy as np
import pandas as pd
import pytest

from est_leaderboard.board import board_json
from est_leaderboard.service import Leaderboard, SubmissionRefused, describe_outcome
from est_leaderboard.settings import Settings
from estbench.consistency import consistency
from estbench.gold import is_public_session
from estbench.schema import TASK_NAMES, Task
from estbench.scoring import task_metrics
from estbench.testing.synthetic_gold import synthetic_gold

CHOSEN = 24  # public rows whose emotion the decoder attacks
SHOWN_DECIMALS = 4  # what the old Accepted message showed


@pytest.fixture(scope="module")
def gold_frame() -> pd.DataFrame:
    frame = synthetic_gold(n_sessions=160, turns_per_session=6, seed=23)
    # a skewed emotion distribution, as in the real data: No Emotion is the common class f
    rng = np.random.default_rng(5)
    frame["emotion"] = np.where(rng.random(len(frame)) < 0.55, "No Emotion", frame["emotion"])
    return frame


def board_for(tmp_path, gold_frame, salt="organisers-secret", **env) -> Leaderboard:
    gold_file = tmp_path / "gold.parquet"
    if not gold_file.exists():
        gold_frame.to_parquet(gold_file)
    return Leaderboard(Settings.from_env({
        "EST_LB_DATA_DIR": str(tmp_path / f"data-{salt}"), "EST_LB_GOLD": str(gold_file),
        "EST_LB_SEED_BASELINES": str(tmp_path / "none.json"), "EST_LB_HALF_SALT": salt, "EST_LB_DAILY_LIMIT": "5",
        **{k: str(v) for k, v in env.items()}}))


# --- 1. the label decoder ----------------------------------------------------------------------------------------

def probe_plan(rows: list[int], common: int, k: int) -> list[dict[int, int]]:
    """Submissions of the attack: batches of (k - 1) rows; in round r, row i of a batch gets rare class
    rare[(i + r) % (k - 1)], so after k - 1 rounds every chosen row was tried with every rare class."""
    rare = [c for c in range(k) if c != common]
    plan = []
    for start in range(0, len(rows), len(rare)):
        batch = rows[start:start + len(rare)]
        for r in range(len(rare)):
            plan.append({row: rare[(i + r) % len(rare)] for i, row in enumerate(batch)})
    return plan


def probe_frame(gold, plan: dict[int, int], common: dict[str, int]) -> pd.DataFrame:
    """A prediction file: every row the common class of each task, the chosen rows their rare emotion."""
    data = {"id": gold.ids}
    for task in Task:
        codes = np.full(len(gold), common[task.value])
        if task is Task.EMOTION:
            for row, label in plan.items():
                codes[row] = label
        data[task.value] = np.asarray(task.labels, dtype=object)[codes]
    return pd.DataFrame(data)


def implied(plan: dict[int, int], states: tuple[str, ...], support: np.ndarray, common: int) -> dict[str, float]:
    """The emotion scores on the public half if the chosen rows are in `states` (hit / common / other)."""
    k = len(support)
    cm = np.zeros((k, k))
    cm[:, common] = support
    for (row, label), state in zip(plan.items(), states):
        gold = label if state == "hit" else common if state == "common" else next(
            c for c in range(k) if c not in (label, common))
        cm[gold, common] -= 1
        cm[gold, label] += 1
    return {key: float(value) for key, value in task_metrics(Task.EMOTION, cm).items()}


def decode(plans: list[dict[int, int]], observe, support: np.ndarray, common: int) -> dict[int, set[int]]:
    """The emotion labels each chosen row can still have after every submission's `observe(i, scores) -> bool`
    (are these implied scores consistent with what was shown for submission i?)."""
    k = len(support)
    left = {row: set(range(k)) for plan in plans for row in plan}
    for i, plan in enumerate(plans):
        allowed = {row: set() for row in plan}
        for states in itertools.product(("hit", "common", "other"), repeat=len(plan)):
            if observe(i, implied(plan, states, support, common)):
                for (row, label), state in zip(plan.items(), states):
                    allowed[row] |= ({label} if state == "hit" else {common} if state == "common"
                                     else set(range(k)) - {label, common})
        for row in plan:
            left[row] &= allowed[row]
    return left


def test_label_decoder_recovers_nothing_from_the_board(gold_frame, tmp_path):
    board = board_for(tmp_path, gold_frame)
    gold = board.gold("balanced")
    emotion = Task.EMOTION
    k = len(emotion.labels)
    common = {t: int(np.bincount(gold.labels[t][gold.public]).argmax()) for t in TASK_NAMES}
    public_rows = np.flatnonzero(gold.public)
    rows = [int(r) for r in public_rows[np.linspace(0, len(public_rows) - 1, CHOSEN).astype(int)]]
    plans = probe_plan(rows, common["emotion"], k)
    support = np.bincount(gold.labels["emotion"][gold.public], minlength=k).astype(float)  # given to the attacker
    truth = {row: int(gold.labels["emotion"][row]) for row in rows}

    # the attack, through the service, from five identities (the daily limit allows five each)
    shown, exact = [], []
    identities = [f"mallory-{i}" for i in range(len(plans) // 5 + 1)]
    for i, plan in enumerate(plans):
        path = tmp_path / f"probe-{i}.csv"
        probe_frame(gold, plan, common).to_csv(path, index=False)
        outcome = board.submit(path, submitter=identities[i // 5], model_name=f"probe {i}", description="",
                               track="balanced")
        shown.append((outcome.submission.released, outcome.best, describe_outcome(outcome)))
        exact.append(outcome.submission.public_scores)  # what the old Accepted message printed (4 decimals)
    assert len(plans) == 24

    # positive control: against the numbers the old board showed, the decoder reads every chosen label
    def old_board(i, scores):
        return all(abs(scores[key] - round(exact[i][key], SHOWN_DECIMALS)) <= 0.5 * 10 ** -SHOWN_DECIMALS + 1e-12
                   for key in scores)

    old = decode(plans, old_board, support, common["emotion"])
    recovered_old = sum(left == {truth[row]} for row, left in old.items())
    assert recovered_old == CHOSEN and all(truth[row] in left for row, left in old.items())

    # the board: per submission only the Ladder's release (or none); the other tasks are constant, so the attacker
    # knows their F1 and turns the released Mean F1 into an interval of emotion macro-F1
    step = board.settings.ladder_step
    others = {t: float(task_metrics(Task(t), np.diag(np.zeros(len(Task(t).labels))) + np.outer(
        np.bincount(gold.labels[t][gold.public], minlength=len(Task(t).labels)),
        np.eye(len(Task(t).labels))[common[t]]))[f"{t}_macro_f1"]) for t in ("transition", "satisfaction")}
    releases = [released for released, _, _ in shown if released is not None]
    assert len(releases) <= len(identities)  # probes never beat their identity's best: one release per identity

    def new_board(i, scores):
        released, best, _ = shown[i]
        mean = (scores["emotion_macro_f1"] + sum(others.values())) / 3
        if released is not None:
            return abs(mean - released) <= step / 2 + 1e-9
        return best is None or mean < best + step

    new = decode(plans, new_board, support, common["emotion"])
    recovered = sum(left == {truth[row]} for row, left in new.items())
    narrowed = sum(len(left) < k for left in new.values())
    assert all(truth[row] in left for row, left in new.items())  # the decoder is sound
    assert recovered == 0 and narrowed == 0, (recovered, narrowed)  # 0 of 24 labels, not even one class ruled out
    # and the messages carried nothing else: every Accepted message is the Ladder's line and fixed text
    for released, best, message in shown:
        numbers = [token for token in message.replace("(", " ").replace(")", " ").split()
                   if any(c.isdigit() for c in token)]
        assert all(len(token.rstrip(".;,").split(".")[-1]) <= 2 or token.startswith("#") for token in numbers), message


def test_identity_variants_share_one_daily_limit_and_one_ladder(gold_frame, tmp_path):
    """Capitalisation, separators and look-alike letters do not make new identities."""
    board = board_for(tmp_path, gold_frame, EST_LB_DAILY_LIMIT=2)
    gold = board.gold("balanced")
    common = {t: int(np.bincount(gold.labels[t]).argmax()) for t in TASK_NAMES}
    variants = ["mallory", "Mallory", "ma11ory", "MALL0RY", "mаllоry", "mal-lory", "mal\u200blory"]  # Cyrillic а, о
    accepted = 0
    for i, name in enumerate(variants):
        path = tmp_path / f"v{i}.csv"
        probe_frame(gold, {int(np.flatnonzero(gold.public)[i]): (common["emotion"] + 1) % 7}, common).to_csv(
            path, index=False)
        try:
            board.submit(path, submitter=name, model_name="v", description="", track="balanced")
            accepted += 1
        except SubmissionRefused as err:
            assert "daily limit" in str(err)
    assert accepted == 2 and len({s.identity for s in board.store.list()}) == 1


# --- 2. the membership probe -------------------------------------------------------------------------------------

def consistent_frame(gold, broken_session: str | None) -> pd.DataFrame:
    """Predictions that agree across tasks on every row, except on the rows of `broken_session`."""
    emotion = np.full(len(gold), Task.EMOTION.labels.index("No Emotion"))
    satisfaction = np.full(len(gold), Task.SATISFACTION.labels.index("Neutral"))
    transition = np.full(len(gold), Task.TRANSITION.labels.index("Neutral to Neutral"))
    if broken_session is not None:
        satisfaction[gold.session_ids == broken_session] = Task.SATISFACTION.labels.index("Satisfied")
    return pd.DataFrame({"id": gold.ids, **{t.value: np.asarray(t.labels, dtype=object)[c] for t, c in
                                            ((Task.EMOTION, emotion), (Task.TRANSITION, transition),
                                             (Task.SATISFACTION, satisfaction))}})


def test_membership_probe_cannot_tell_public_from_private(gold_frame, tmp_path):
    """The probe's whole view (Accepted messages, board, detail, compare) is the same under two cuts that disagree
    about the probed sessions, so no classifier can tell their halves apart."""
    cuts = ("cut-a", "cut-b")
    boards = {salt: board_for(tmp_path, gold_frame, salt=salt, EST_LB_DAILY_LIMIT=50) for salt in cuts}
    gold = boards[cuts[0]].gold("balanced")
    sessions = list(dict.fromkeys(gold.session_ids))
    disagree = [s for s in sessions if is_public_session(s, cuts[0]) != is_public_session(s, cuts[1])][:16]
    assert len(disagree) == 16
    views, old_guesses = {}, {}
    for salt, board in boards.items():
        view, guesses = [], {}
        for i, session in enumerate([None, *disagree]):
            path = tmp_path / f"member-{salt}-{i}.csv"
            consistent_frame(gold, session).to_csv(path, index=False)
            outcome = board.submit(path, submitter="mallory", model_name=f"m{i}", description="", track="balanced")
            detail = board.detail(outcome.submission.id)
            try:
                board.compare(outcome.submission.id, 1)
                compared = "compared"
            except SubmissionRefused as err:
                compared = str(err)
            released = outcome.submission.released
            view.append((describe_outcome(outcome).replace(f"#{outcome.submission.id}", "#"), detail.scores,
                         detail.detail, detail.consistency, compared, released))
            if session is not None:  # positive control: the old detail's consistency counted public rows only
                mask = board.gold("balanced").public
                codes = score_submission_codes(board, path)
                old_share = consistency({Task(t): codes[t][mask]
                                         for t in TASK_NAMES})["consistency_satisfaction_emotion"]
                guesses[session] = old_share < 1.0
        views[salt] = view
        old_guesses[salt] = guesses
        table = board.board("balanced")
        views[salt].append(board_json(table.drop(columns=["Submitted (UTC)", "Gold version"]), track="balanced",
                                      half="public", gold_version=""))
    # the old board told every probed session's half, under either cut
    for salt in cuts:
        assert old_guesses[salt] == {s: is_public_session(s, salt) for s in disagree}
    # the board shows the same to the probe under both cuts: membership recovered 0 of 16
    assert views[cuts[0]] == views[cuts[1]]
    assert all(v[1] is None and v[2] == {} for v in views[cuts[0]][:-1])  # no score, per-class or slice pre-reveal
    assert all(v[4].startswith("Compare opens at the reveal") for v in views[cuts[0]][:-1])


def score_submission_codes(board: Leaderboard, path) -> dict:
    from estbench.submission import check_submission

    return check_submission(path, board.gold("balanced")).codes
