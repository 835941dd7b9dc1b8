"""Leaderboard, live: the real app process on 127.0.0.1 (random free ports). Gold unreachable by any route,
20+ parallel submissions through gradio_client, a server killed mid-submission, the assembled Space folder, and an
end-to-end run in headless Chromium (Playwright)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import estbench.schema
import estbench.scoring
from est_leaderboard.board import ALL_A, SCORE_HEADERS
from est_leaderboard.gold import load_gold
from est_leaderboard.storage import SubmissionStore
from estbench.schema import TASK_NAMES
from estbench.testing.live_server import APP, REPO_ROOT, AppServer, free_port  # noqa: F401
from estbench.testing.synthetic_gold import noisy_predictions, synthetic_gold


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


# --- a shared live server --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    gold_frame = synthetic_gold(n_sessions=80, turns_per_session=5, seed=11)
    gold_file = root / "gold" / "test.parquet"
    gold_file.parent.mkdir()
    gold_frame.to_parquet(gold_file)
    env = {"EST_LB_GOLD": str(gold_file), "EST_LB_DATA_DIR": str(root / "data"), "EST_LB_DAILY_LIMIT": "100",
           "EST_LB_SEED_BASELINES": str(root / "seed_baselines.json"), "EST_LB_SUBMIT_CONCURRENCY": "2"}
    server = AppServer(env, root / "server.log").start()
    yield {"server": server, "root": root, "gold_file": gold_file, "gold_frame": gold_frame,
           "data_dir": root / "data"}
    server.stop()


def client_as(url: str, user: str):
    from gradio_client import Client

    client = Client(url, verbose=False)
    client.predict(user, api_name="/dev_login")
    return client


def board_frame(table: dict) -> pd.DataFrame:
    """The board as returned by the /board endpoint (a Dataframe update: headers, datatype, value)."""
    value = table.get("value", table)
    return pd.DataFrame(value["data"], columns=value["headers"])


def submit_via_api(client, path: Path, model: str, track: str = "full"):
    from gradio_client import handle_file

    status, table = client.predict(handle_file(str(path)), model, "", track, track, "", list(SCORE_HEADERS),
                                   "public", api_name="/submit")
    return status, table


def test_gold_and_data_dir_unreachable_by_any_route(live):
    server, gold_file, data_dir = live["server"], live["gold_file"], live["data_dir"]
    client = client_as(server.url, "probe")
    path = live["root"] / "probe.csv"
    noisy_predictions(live["gold_frame"], 0.5, seed=1).to_csv(path, index=False)
    status, _ = submit_via_api(client, path, "probe")
    assert status.startswith("Accepted"), status
    archived = next((data_dir / "submissions").rglob("*.csv"))
    secrets = [gold_file, data_dir / "leaderboard.sqlite3", archived]
    for target in secrets:
        for prefix in ("/gradio_api/file=", "/file="):
            for spelled in (str(target), urllib.parse.quote(str(target)),
                            "../" * 8 + str(target).lstrip("/")):
                code, body = http_get(server.url + prefix + spelled)
                assert code in (403, 404), (prefix, spelled, code)
                assert b"PAR1" not in body and b"SQLite" not in body
    # the page config names neither the gold nor the data directory
    code, config = http_get(server.url + "/config")
    assert code == 200 and str(gold_file).encode() not in config and str(data_dir).encode() not in config
    # the API offers exactly the intended endpoints
    api = client.view_api(return_format="dict", print_info=False)
    assert set(api["named_endpoints"]) == {"/dev_login", "/board", "/submit", "/detail"}
    assert not api["unnamed_endpoints"]
    # a file argument that was not uploaded (here: the gold file itself) is refused before our code runs
    from gradio_client import handle_file

    with pytest.raises(Exception):
        client.predict(handle_file(str(gold_file)), "steal", "", "full", "full", "", [ALL_A], "public",
                       api_name="/submit")
    raw = {"data": [{"path": str(gold_file), "meta": {"_type": "gradio.FileData"}}, "steal", "", "full", "full",
                    "", [ALL_A], "public"], "session_hash": "probe123", "fn_index": None}
    request = urllib.request.Request(server.url + "/gradio_api/call/submit", data=json.dumps(raw).encode(),
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        event_id = json.loads(response.read())["event_id"]
    code, stream = http_get(f"{server.url}/gradio_api/call/submit/{event_id}")
    assert b"event: error" in stream and b"Accepted" not in stream
    assert [s.model_name for s in SubmissionStore(data_dir).list()] == ["probe"]
    # the only files the app hands out, the two templates, hold the track's ids and no labels
    templates = [c["props"]["value"] for c in json.loads(config)["components"] if c.get("type") == "downloadbutton"]
    assert len(templates) == 2
    for template in templates:
        track = template["orig_name"].split("-")[1]
        code, body = http_get(server.url + "/gradio_api/file=" + template["path"])
        assert code == 200
        frame = pd.read_csv(io.BytesIO(body), keep_default_na=False)
        assert frame["id"].tolist() == list(load_gold(gold_file, track).ids)
        assert (frame[list(TASK_NAMES)] == "").all().all()


def test_twenty_four_parallel_submissions_all_stored_and_ranked(live):
    server, root = live["server"], live["root"]
    gold = load_gold(live["gold_file"], "full")
    reference = live["gold_frame"].set_index("id").loc[list(gold.ids[gold.public])]
    files, expected = {}, {}
    for i in range(24):
        path = root / f"parallel-{i}.csv"
        preds = noisy_predictions(live["gold_frame"], error_rate=0.1 + 0.03 * i, seed=100 + i)
        preds.to_csv(path, index=False)
        files[f"par-{i:02d}"] = path
        public = preds.set_index("id").loc[reference.index]
        expected[f"par-{i:02d}"] = estbench.scoring.score({t: reference[t].tolist() for t in TASK_NAMES},
                                                     {t: public[t].tolist() for t in TASK_NAMES})["all_accuracy"]
    clients = [client_as(server.url, f"user-{k}") for k in range(4)]

    def one(item):
        k, (model, path) = item
        return model, submit_via_api(clients[k % len(clients)], path, model)[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        statuses = dict(pool.map(one, enumerate(files.items())))
    assert all(s.startswith("Accepted") for s in statuses.values()), statuses

    stored = [s for s in SubmissionStore(live["data_dir"]).list("full") if s.model_name.startswith("par-")]
    assert sorted(s.model_name for s in stored) == sorted(files)  # all stored, none lost, none twice
    assert len({s.id for s in stored}) == 24
    table = clients[0].predict("full", "par-", [ALL_A], "public", api_name="/board")
    frame = board_frame(table)
    assert frame["Model"].tolist() == sorted(expected, key=lambda m: -expected[m])  # ranks right
    assert frame[ALL_A].tolist() == pytest.approx([round(expected[m], 4) for m in frame["Model"]], abs=1e-9)
    best = next(s for s in stored if s.model_name == frame["Model"].iloc[0])
    summary, f1_plot, confusion_plot = clients[1].predict(best.id, api_name="/detail")
    assert summary.startswith(f"#{best.id} {best.model_name} by ") and "public-half scores" in summary
    assert f1_plot and confusion_plot  # both figures rendered


def test_server_killed_mid_submission_leaves_db_consistent(tmp_path):
    gold_frame = synthetic_gold(n_sessions=6_000, turns_per_session=6, seed=3)  # 36k rows: slow enough to interrupt
    gold_file = tmp_path / "test.parquet"
    gold_frame.to_parquet(gold_file)
    env = {"EST_LB_GOLD": str(gold_file), "EST_LB_DATA_DIR": str(tmp_path / "data"), "EST_LB_DAILY_LIMIT": "100",
           "EST_LB_SEED_BASELINES": str(tmp_path / "seed.json"), "EST_LB_SUBMIT_CONCURRENCY": "2"}
    files = []
    for i in range(8):
        path = tmp_path / f"p{i}.csv"
        noisy_predictions(gold_frame, 0.2 + 0.05 * i, seed=i).to_csv(path, index=False)
        files.append(path)
    server = AppServer(env, tmp_path / "server.log").start()
    acknowledged: list[str] = []
    try:
        clients = [client_as(server.url, f"u{i}") for i in range(len(files))]

        def one(i):
            try:
                status = submit_via_api(clients[i], files[i], f"crash-{i}")[0]
            except Exception:  # the server died under this request
                return None
            return f"crash-{i}" if status.startswith("Accepted") else None

        with concurrent.futures.ThreadPoolExecutor(max_workers=len(files)) as pool:
            futures = [pool.submit(one, i) for i in range(len(files))]
            done, _ = concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)
            server.kill()  # SIGKILL while the other submissions are queued or being scored/stored
            acknowledged = [f.result() for f in futures if f.result()]
    finally:
        server.kill()
    assert acknowledged, "no submission finished before the kill"
    store = SubmissionStore(tmp_path / "data")
    assert store.integrity_check() == "ok"
    stored = store.list()
    assert len(stored) < len(files), "the kill came too late to interrupt anything"
    assert set(acknowledged) <= {s.model_name for s in stored}  # nothing acknowledged was lost
    for submission in stored:  # no row without its complete raw file
        archived = store.archive_path(submission.file_sha256, ".csv")
        assert hashlib.sha256(archived.read_bytes()).hexdigest() == submission.file_sha256
    restarted = AppServer(env, tmp_path / "server.log").start()
    try:
        client = client_as(restarted.url, "u-after")
        table = client.predict("full", "crash-", [ALL_A], "public", api_name="/board")
        assert len(board_frame(table)) == len(stored)
        missing = next(p for i, p in enumerate(files) if f"crash-{i}" not in {s.model_name for s in stored})
        assert submit_via_api(client, missing, "after-restart")[0].startswith("Accepted")
    finally:
        restarted.stop()
    assert len(SubmissionStore(tmp_path / "data").list()) == len(stored) + 1


def test_assembled_space_folder_is_self_contained_and_starts(tmp_path, isolated_python):
    space = tmp_path / "space"
    deploy = [sys.executable, str(REPO_ROOT / "leaderboard" / "deploy.py"), "--out", str(space)]
    subprocess.run(deploy, check=True, capture_output=True)
    assert {p.name for p in space.iterdir()} == {"app.py", "README.md", "requirements.txt", "seed_baselines.json",
                                                 "estbench", "est_leaderboard"}
    assert not (space / "est_leaderboard" / "synthetic.py").exists()  # test helpers never ship in a Space
    assert not any(p.is_symlink() for p in space.rglob("*"))
    again = subprocess.run(deploy, capture_output=True, text=True)
    assert again.returncode == 1 and again.stderr.strip() == "error: space exists already; pass --overwrite to replace it"
    card = (space / "README.md").read_text()
    assert "sdk: gradio" in card and "app_file: app.py" in card and "hf_oauth: true" in card
    gold_frame = synthetic_gold(n_sessions=20, turns_per_session=4, seed=5)
    gold_frame.to_parquet(tmp_path / "test.parquet")
    flags, env = isolated_python  # the project itself is not importable there
    env = {**env, "EST_LB_GOLD": str(tmp_path / "test.parquet"), "EST_LB_DATA_DIR": str(tmp_path / "data")}
    # Start it the way a Space does (python app.py, the folder is sys.path[0]); `python -v` logs the file every
    # module is loaded from, so the log shows whether anything came from the repository instead of the folder.
    server = AppServer(env, tmp_path / "space.log", app=space / "app.py", cwd=space,
                       python_flags=(*flags, "-v")).start()
    try:
        from gradio_client import Client

        table = Client(server.url, verbose=False).predict("balanced", "", [ALL_A], "public", api_name="/board")
        # the paper's Table 4 rows plus the project's seeded baselines of the balanced track
        seeded = json.loads((space / "seed_baselines.json").read_text(encoding="utf-8"))
        assert len(board_frame(table)) == 10 + sum(row["track"] == "balanced" for row in seeded)
    finally:
        server.stop()
    loaded = [line for line in (tmp_path / "space.log").read_text(errors="replace").splitlines()
              if line.startswith("# code object from") or " matches " in line]
    assert any(f"{space}/estbench/schema.py" in line for line in loaded)
    assert any(f"{space}/estbench/scoring.py" in line for line in loaded)
    assert any(f"{space}/est_leaderboard/ui.py" in line for line in loaded)
    assert not [line for line in loaded if str(REPO_ROOT) in line]
    assert not (space / "data").exists()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--no-first-run"]


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium not installed (CI installs it)")
def test_browser_login_upload_see_row_then_bad_file_error(live):
    import re

    from playwright.sync_api import expect, sync_playwright

    balanced = live["gold_frame"][live["gold_frame"]["balanced"]]
    good = live["root"] / "browser-good.csv"
    noisy_predictions(balanced, 0.25, seed=42).to_csv(good, index=False)
    bad = live["root"] / "browser-bad.csv"
    broken = noisy_predictions(balanced, 0.25, seed=43)
    broken.loc[broken.index[0], "emotion"] = "Happy"
    broken.to_csv(bad, index=False)
    model = "<b>web model</b>"

    def field(page, elem_id):
        return page.locator(f"#{elem_id} textarea, #{elem_id} input").first

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page()
            page.goto(live["server"].url, wait_until="domcontentloaded")
            field(page, "dev-name").fill("browser-user")
            page.locator("#dev-login").click()
            expect(field(page, "who")).to_have_value(re.compile(r"^browser-user .*LOCAL DEV IDENTITY"))

            page.get_by_role("tab", name="Submit").click()
            field(page, "model-name").fill(model)
            page.locator("#submission-file input[type=file]").set_input_files(str(good))
            expect(page.locator("#submission-file")).to_contain_text(good.name)
            page.locator("#submit-button").click()
            status = field(page, "submit-status")
            expect(status).to_have_value(re.compile(r"^Accepted: submission #\d+"), timeout=30_000)

            page.get_by_role("tab", name="Leaderboard").click()
            table = page.locator("#board-table")
            expect(table).to_contain_text(model)  # the name is shown literally ...
            assert table.locator("b").count() == 0  # ... and its HTML is not rendered
            expect(table).to_contain_text("reported in paper")

            page.get_by_role("tab", name="Submit").click()
            page.locator("#submission-file button[aria-label='Clear']").first.click()
            page.locator("#submission-file input[type=file]").set_input_files(str(bad))
            expect(page.locator("#submission-file")).to_contain_text(bad.name)
            page.locator("#submit-button").click()
            expect(status).to_have_value(re.compile(r"^Rejected\. browser-bad\.csv: 1 problem found.*'Happy'", re.S),
                                         timeout=30_000)
        finally:
            browser.close()
    stored = [s.model_name for s in SubmissionStore(live["data_dir"]).list("balanced")]
    assert stored == [model]  # the good file stored once, the bad one not at all


def test_space_mode_uses_hugging_face_login_instead_of_dev_identity(tmp_path, monkeypatch):
    """With SPACE_ID set (as on a Space) the page carries gr.LoginButton (OAuth) and no dev-identity endpoint. The
    OAuth round trip itself needs huggingface.co (and gradio[oauth]) and is not testable offline, so Gradio's
    attaching of the OAuth routes is stubbed here."""
    import gradio as gr
    import gradio.routes

    monkeypatch.setattr(gradio.routes, "attach_oauth", lambda app: None)
    from est_leaderboard.service import Leaderboard
    from est_leaderboard.settings import Settings
    from est_leaderboard.ui import build_app

    synthetic_gold(n_sessions=10, turns_per_session=3).to_parquet(tmp_path / "test.parquet")
    base = {"EST_LB_GOLD": str(tmp_path / "test.parquet"), "EST_LB_DATA_DIR": str(tmp_path / "data"),
            "EST_LB_SEED_BASELINES": str(tmp_path / "seed.json")}
    space = build_app(Leaderboard(Settings.from_env({**base, "SPACE_ID": "someone/est-leaderboard"})))
    local = build_app(Leaderboard(Settings.from_env(base)))
    assert space.expects_oauth and not local.expects_oauth
    space_api = {fn.api_name for fn in space.fns.values() if fn.api_visibility == "public"}
    local_api = {fn.api_name for fn in local.fns.values() if fn.api_visibility == "public"}
    assert local_api == {"dev_login", "board", "submit", "detail"}
    assert space_api - {"_check_login_status"} == {"board", "submit", "detail"}  # that one is gr.LoginButton's own
    # on a Space the submitter comes from the OAuth session: Gradio injects the profile (None when signed out)
    from gradio.helpers import special_args

    submit = next(fn for fn in space.fns.values() if fn.api_name == "submit")
    form = [None, "model", "", "full", "full", "", [ALL_A], "public"]
    assert len(submit.inputs) == len(form)
    injected, *_ = special_args(submit.fn, inputs=list(form), request=None)
    assert injected == [*form, None]
    status, _ = submit.fn(*injected)
    assert status == "Refused: choose a prediction file first"
    signed_out, _ = submit.fn(str(tmp_path / "test.parquet"), "m", "", "full", "full", "", [ALL_A], "public", None)
    assert signed_out == "Refused: log in first"
    predictions = tmp_path / "p.csv"
    noisy_predictions(pd.read_parquet(tmp_path / "test.parquet"), 0.2).to_csv(predictions, index=False)
    profile = gr.OAuthProfile({"name": "Alice", "preferred_username": "alice", "profile": "", "picture": ""})
    accepted, _ = submit.fn(str(predictions), "m", "", "full", "full", "", [ALL_A], "public", profile)
    assert accepted.startswith("Accepted")
    assert [s.submitter for s in SubmissionStore(tmp_path / "data").list()] == ["alice"]
