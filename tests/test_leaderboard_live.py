"""Leaderboard, live: the real app process on 127.0.0.1 (random free ports). Gold unreachable by any route,
20+ parallel submissions through gradio_client, a server killed mid-submission, the assembled Space folder, and an
end-to-end run in headless Chromium (Playwright)."""

from __future__ import annotations

import concurrent.futures
import hashlib
import io
import json
import os
import subprocess
import sys
import urllib.parse
import urllib.request
from pathlib import Path

import pandas as pd
import pytest

import estbench.schema
import estbench.scoring
from est_leaderboard.board import ALL_A, MEAN_F1, PUBLIC_SCORE, SCORE_HEADERS
from est_leaderboard.scoring import on_grid
from est_leaderboard.settings import DEFAULT_GOLD_NAME, DEFAULT_HALF_SALT
from est_leaderboard.storage import SubmissionStore
from estbench.gold import load_gold
from estbench.schema import TASK_NAMES
from estbench.testing.live_server import AppServer
from estbench.testing.synthetic_gold import noisy_predictions, synthetic_gold


def http_get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as err:
        return err.code, err.read()


REPO_ROOT = Path(__file__).resolve().parents[1]
APP = REPO_ROOT / "leaderboard" / "app.py"
LIVE_SALT = "live-test-secret"  # the server's cut is not the documented default one


# --- a shared live server --------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def live(tmp_path_factory):
    root = tmp_path_factory.mktemp("live")
    gold_frame = synthetic_gold(n_sessions=80, turns_per_session=5, seed=11)
    gold_file = root / "gold" / "test.parquet"
    gold_file.parent.mkdir()
    gold_frame.to_parquet(gold_file)
    env = {"EST_LB_GOLD": str(gold_file), "EST_LB_DATA_DIR": str(root / "data"), "EST_LB_DAILY_LIMIT": "100",
           "EST_LB_SEED_BASELINES": str(root / "seed_baselines.json"), "EST_LB_SUBMIT_CONCURRENCY": "2",
           "GRADIO_TEMP_DIR": str(root / "gradio-tmp"), "EST_LB_HALF_SALT": LIVE_SALT,
           "EST_LB_ADMINS": "browser-user"}
    server = AppServer(APP, env, root / "server.log").start()
    yield {"server": server, "root": root, "gold_file": gold_file, "gold_frame": gold_frame,
           "data_dir": root / "data", "gradio_tmp": root / "gradio-tmp"}
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

    status, table, *_ = client.predict(handle_file(str(path)), model, "", track, track, "", list(SCORE_HEADERS),
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
    assert set(api["named_endpoints"]) == {"/dev_login", "/board", "/board_json", "/submit", "/detail", "/compare",
                                           "/rescore"}
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
    assert str(gold_file).encode() not in stream and str(data_dir).encode() not in stream  # no server path shown
    assert [s.model_name for s in SubmissionStore(data_dir).list()] == ["probe"]
    # the only files the app hands out, the two templates, hold the track's ids and no labels
    templates = [c["props"]["value"] for c in json.loads(config)["components"]
                 if c.get("type") == "downloadbutton" and c["props"].get("value")]
    assert len(templates) == 2 and all("template" in t["orig_name"] for t in templates)
    for template in templates:
        track = template["orig_name"].split("-")[1]
        code, body = http_get(server.url + "/gradio_api/file=" + template["path"])
        assert code == 200
        frame = pd.read_csv(io.BytesIO(body), keep_default_na=False)
        gold = load_gold(gold_file, track, salt=DEFAULT_HALF_SALT, name=DEFAULT_GOLD_NAME)
        assert frame["id"].tolist() == list(gold.ids)
        assert (frame[list(TASK_NAMES)] == "").all().all()


def test_twenty_four_parallel_submissions_all_stored_and_ranked(live):
    server, root = live["server"], live["root"]
    gold = load_gold(live["gold_file"], "full", salt=LIVE_SALT, name=DEFAULT_GOLD_NAME)
    reference = live["gold_frame"].set_index("id").loc[list(gold.ids[gold.public])]
    files, expected = {}, {}
    for i in range(24):
        path = root / f"parallel-{i}.csv"
        preds = noisy_predictions(live["gold_frame"], error_rate=0.1 + 0.03 * i, seed=100 + i)
        preds.to_csv(path, index=False)
        files[f"par-{i:02d}"] = path
        public = preds.set_index("id").loc[reference.index]
        scores = estbench.scoring.score({t: reference[t].tolist() for t in TASK_NAMES},
                                        {t: public[t].tolist() for t in TASK_NAMES})
        expected[f"par-{i:02d}"] = sum(scores[f"{t}_macro_f1"] for t in TASK_NAMES) / len(TASK_NAMES)
    clients = [client_as(server.url, f"user-{k}") for k in range(24)]  # one identity each: each first file released

    def one(item):
        k, (model, path) = item
        return model, submit_via_api(clients[k], path, model)[0]

    with concurrent.futures.ThreadPoolExecutor(max_workers=24) as pool:
        statuses = dict(pool.map(one, enumerate(files.items())))
    assert all(s.startswith("Accepted") for s in statuses.values()), statuses

    stored = [s for s in SubmissionStore(live["data_dir"]).list("full") if s.model_name.startswith("par-")]
    assert sorted(s.model_name for s in stored) == sorted(files)  # all stored, none lost, none twice
    assert len({s.id for s in stored}) == 24
    table = clients[0].predict("full", "par-", [MEAN_F1], "public", api_name="/board")[0]
    frame = board_frame(table)
    released = {m: on_grid(expected[m], 0.01) for m in expected}  # the Ladder's first release of each identity
    assert frame[PUBLIC_SCORE].tolist() == sorted(released.values(), reverse=True)  # ranks right
    assert all(released[m] == v for m, v in zip(frame["Model"], frame[PUBLIC_SCORE]))
    ranks, values = [int(r) for r in frame["Rank"]], frame[PUBLIC_SCORE].tolist()
    assert all((ranks[i] == ranks[i - 1]) == (values[i] == values[i - 1]) and ranks[i] >= ranks[i - 1]
               for i in range(1, len(ranks))), list(zip(ranks, values))  # equal released scores share a rank
    best = next(s for s in stored if s.model_name == frame["Model"].iloc[0])
    summary, scores, f1_plot, consistency, slices = clients[1].predict(str(best.id), api_name="/detail")
    assert summary.startswith(f"#{best.id} {best.model_name} by ") and "public score 0." in summary
    assert f1_plot is None and board_frame(scores).empty and board_frame(slices).empty  # at the reveal only
    assert board_frame(scores).columns.tolist() == ["metric", "value"]  # real headers, not "1 2 3"
    assert len(board_frame(consistency)) == 3


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
    server = AppServer(APP, env, tmp_path / "server.log").start()
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
    restarted = AppServer(APP, env, tmp_path / "server.log").start()
    try:
        client = client_as(restarted.url, "u-after")
        table = client.predict("full", "crash-", [ALL_A], "public", api_name="/board")[0]
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
    assert again.returncode == 1
    assert again.stderr.strip() == "error: space exists already; pass --overwrite to replace it"
    card = (space / "README.md").read_text()
    assert "sdk: gradio" in card and "app_file: app.py" in card and "hf_oauth: true" in card
    gold_frame = synthetic_gold(n_sessions=20, turns_per_session=4, seed=5)
    gold_frame.to_parquet(tmp_path / "test.parquet")
    flags, env = isolated_python  # the project itself is not importable there
    env = {**env, "EST_LB_GOLD": str(tmp_path / "test.parquet"), "EST_LB_DATA_DIR": str(tmp_path / "data")}
    # Start it the way a Space does (python app.py, the folder is sys.path[0]); `python -v` logs the file every
    # module is loaded from, so the log shows whether anything came from the repository instead of the folder.
    server = AppServer(space / "app.py", env, tmp_path / "space.log", cwd=space,
                       python_flags=(*flags, "-v")).start()
    try:
        from gradio_client import Client

        client = Client(server.url, verbose=False)
        table = client.predict("balanced", "", [ALL_A], "public", api_name="/board")[0]
        # the project's seeded baselines of the balanced track; the paper's rows are a table of their own
        seeded = json.loads((space / "seed_baselines.json").read_text(encoding="utf-8"))
        assert len(board_frame(table)) == sum(row["track"] == "balanced" for row in seeded)
        exported = json.loads(client.predict("balanced", "public", api_name="/board_json"))
        assert exported["track"] == "balanced" and len(exported["rows"]) == len(board_frame(table))
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
def test_crafted_probe_through_the_api_reads_no_hidden_label(live):
    """The issue's attack through the running app: rare labels planted on chosen rows, then every route that shows
    a submission is read. No per-class number of a planted class, no confusion cell comes back."""
    from test_leaderboard_integrity import crafted_probe

    from estbench.gold import is_public_session

    gold_frame = live["gold_frame"]
    rows = [i for i, s in enumerate(gold_frame["session_id"]) if is_public_session(s, DEFAULT_HALF_SALT)][:16]
    frame, planted = crafted_probe(gold_frame, rows)
    path = live["root"] / "probe-crafted.csv"
    frame.to_csv(path, index=False)
    client = client_as(live["server"].url, "mallory")
    status, _ = submit_via_api(client, path, "crafted")
    assert status.startswith("Accepted"), status
    submission_id = status.split("#")[1].split(" ")[0]
    summary, scores, _plot, consistency, slices = client.predict(submission_id, api_name="/detail")
    assert board_frame(scores).empty and board_frame(slices).empty and _plot is None  # nothing from labels
    said = json.dumps([summary, scores, consistency, slices])
    assert "confusion" not in said and "per_class" not in said
    board_rows = json.loads(client.predict("full", "public", api_name="/board_json"))["rows"]
    assert {tuple(sorted(r)) for r in board_rows} == {tuple(sorted(board_rows[0]))}  # one shape
    assert not set(board_rows[0]) & set(SCORE_HEADERS)  # only the Ladder's public score
    assert client.predict(submission_id, "1", api_name="/compare")[0].startswith("Compare opens at the reveal")


def column_of(table, header: str) -> int:
    return table.locator("thead th").evaluate_all("els => els.map(e => e.title)").index(header)


def visible_rows(table) -> list[list[str]]:
    """The rows the (virtualised) table shows, cell texts in column order, read from its rendered text: the cells
    follow the last header (the headers also show sort-priority digits); every cell of the boards read here has
    text, so blank lines are layout, not cells."""
    titles = table.locator("thead th").evaluate_all("els => els.map(e => e.title)")
    width = len(titles)
    lines = [line.strip() for line in table.inner_text().split("\n") if line.strip() not in ("", "⋮")]
    lines = lines[lines.index(titles[-1]) + 1:]
    return [lines[i:i + width] for i in range(0, len(lines) - width + 1, width)]


def sort_by(page, table, header: str, order: str) -> None:
    cell = table.locator(f"thead th[title='{header}']")
    cell.click()  # selects the header; its menu button shows then
    cell.locator("button.cell-menu-button").click()
    page.get_by_role("menuitem", name=order).or_(page.get_by_text(order, exact=True)).first.click()


def test_browser_login_upload_see_row_then_bad_file_error(live, tmp_path):
    import re

    from playwright.sync_api import expect, sync_playwright

    balanced = live["gold_frame"][live["gold_frame"]["balanced"]]
    good = live["root"] / "browser-good.csv"
    noisy_predictions(balanced, 0.25, seed=42).to_csv(good, index=False)
    better = live["root"] / "browser-better.csv"
    noisy_predictions(balanced, 0.05, seed=44).to_csv(better, index=False)
    bad = live["root"] / "browser-bad.csv"
    broken = noisy_predictions(balanced, 0.25, seed=43)
    broken.loc[broken.index[0], "emotion"] = "Happy"
    broken.to_csv(bad, index=False)
    model = "=HYPERLINK(\"http://x\",\"<b>web model</b>\")"
    for i in range(11):  # enough full-track rows for two-digit IDs to sort; one identity each, so each is released
        client = client_as(live["server"].url, f"sorter-{i}")
        path = live["root"] / f"sort-{i}.csv"
        noisy_predictions(live["gold_frame"], 0.05 + 0.07 * i, seed=300 + i).to_csv(path, index=False)
        assert submit_via_api(client, path, f"sort-{i}")[0].startswith("Accepted")
    assert client.predict(api_name="/rescore").startswith("Refused: re-scoring is for the organisers")

    def field(page, elem_id):
        return page.locator(f"#{elem_id} textarea, #{elem_id} input").first

    def upload(page, path):
        clear = page.locator("#submission-file button[aria-label='Clear']")
        if clear.count():
            clear.first.click()
        page.locator("#submission-file input[type=file]").set_input_files(str(path))
        # The upload finished when its name shows. Gradio renders stem and extension as two elements, and whether
        # white space appears between them varies: match either (the cause of the earlier flaky failures).
        shown = re.compile(rf"{re.escape(path.stem)}\s*{re.escape(path.suffix)}")
        expect(page.locator("#submission-file")).to_contain_text(shown, timeout=30_000)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000})
            context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live["server"].url)
            page = context.new_page()
            page.goto(live["server"].url, wait_until="domcontentloaded")
            field(page, "dev-name").fill("browser-user")
            page.locator("#dev-login").click()
            expect(field(page, "who")).to_have_value(re.compile(r"^browser-user .*LOCAL DEV IDENTITY"))

            page.get_by_role("tab", name="Submit").click()
            status = field(page, "submit-status")
            ids = []
            # a balanced-track file sent to the full track: the message names the track its ids fit; then the same
            # file, still in the box, is submitted again after fixing the track (the upload is kept for that)
            field(page, "model-name").fill(model)
            upload(page, good)
            page.locator("#submit-track").get_by_text("full", exact=True).click()
            page.locator("#submit-button").click()
            expect(status).to_have_value(re.compile(r"^Rejected\. browser-good\.csv: .*its ids are exactly those of "
                                                    r"the balanced track: choose the balanced track", re.S),
                                         timeout=30_000)
            page.locator("#submit-track").get_by_text("balanced", exact=True).click()
            for path, name in ((good, model), (better, "better model")):
                field(page, "model-name").fill(name)
                if path is better:
                    upload(page, path)
                page.locator("#submit-button").click()
                expect(status).to_have_value(re.compile(rf"^Accepted: submission #\d+ \({re.escape(name[:5])}"),
                                             timeout=30_000)
                ids.append(re.search(r"#(\d+)", status.input_value()).group(1))
                expect(page.locator("#submission-file")).not_to_contain_text(path.stem)  # accepted: box cleared

            page.get_by_role("tab", name="Leaderboard").click()
            table = page.locator("#board-table")
            expect(table).to_contain_text("better model")
            expect(table).to_contain_text("'=HYPERLINK")  # shown literally, neutralised for spreadsheets ...
            assert table.locator("b").count() == 0  # ... and its HTML is not rendered
            expect(page.locator("#board-ranking")).to_contain_text("Ranked by the Public score")
            expect(page.locator("#paper-table")).to_contain_text("LLaMa2-7B")  # the paper's rows: their own table
            assert "LLaMa2-7B" not in table.inner_text()
            headers = table.locator("thead th")
            expect(headers.first).to_contain_text("Rank")
            id_header = table.locator("thead th[title='ID']").first
            box = id_header.bounding_box()
            assert box is not None and box["x"] + box["width"] <= 1400  # the ID column is on screen at 1400 px
            text = table.inner_text()
            # ranked first, its ID an integer (not "19.0"), then four decimals in every score cell
            assert re.search(rf"(^|\n)1\s+{ids[1]}\s+better model\s+submission\s+browser-user\s+\d\.\d{{2}}\s",
                             text), text[:800]
            shots = Path(os.environ.get("EST_SCREENSHOTS", tmp_path))
            page.screenshot(path=str(shots / "board-1400.png"), full_page=True)
            assert (shots / "board-1400.png").stat().st_size > 10_000
            # every cell fits its column at 1,400 px: no model name or type cut
            cut = table.locator("td").evaluate_all(
                "els => els.filter(e => e.innerText.trim() && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
            assert cut == [], cut

            page.locator("#copy-table").click()
            copied = page.evaluate("navigator.clipboard.readText()")
            assert copied.splitlines()[0].startswith("Rank,ID,Model")
            assert "'=HYPERLINK" in copied and "\n=HYPERLINK" not in copied and ",=HYPERLINK" not in copied

            with page.expect_download() as download:
                page.locator("#download-csv").click()
            exported = Path(download.value.path()).read_text(encoding="utf-8")
            assert exported.splitlines()[0].startswith("Rank,ID,Model") and "'=HYPERLINK" in exported
            with page.expect_download() as download:
                page.locator("#download-json").click()
            board_export = json.loads(Path(download.value.path()).read_text(encoding="utf-8"))
            assert board_export["ranking"] == PUBLIC_SCORE and board_export["track"] == "balanced"
            assert [row["Model"] for row in board_export["rows"]] == ["better model", "'" + model]
            # every header fits its column: no text cut or wrapped into letters
            squeezed = table.locator("thead th").evaluate_all(
                "els => els.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.title)")
            assert squeezed == []

            # every score column sorts numerically from its header's menu (Gradio 6: the header's "⋮" button)
            page.locator("#board-track").get_by_text("full", exact=True).click()
            expect(table).to_contain_text("sort-10", timeout=30_000)
            expected_top = max(s.id for s in SubmissionStore(live["data_dir"]).list("full"))
            assert expected_top >= 10  # two-digit IDs: a text sort would put 9 above them
            sort_by(page, table, "ID", "Sort descending")
            expect(table.locator("td").nth(1)).to_have_text(str(expected_top))
            sort_by(page, table, "ID", "Clear sort")  # Gradio sorts by several columns at once: one at a time
            sort_by(page, table, PUBLIC_SCORE, "Sort ascending")
            lowest = min(s.released for s in SubmissionStore(live["data_dir"]).list("full") if s.released is not None)
            expect(table.locator("td").nth(column_of(table, PUBLIC_SCORE))).to_have_text(f"{lowest:.2f}")
            rows = visible_rows(table)
            assert all(len(r) == len(rows[0]) for r in rows), rows
            means = [float(row[column_of(table, PUBLIC_SCORE)]) for row in rows]
            assert len(means) >= 5 and means == sorted(means)
            page.set_viewport_size({"width": 1920, "height": 1000})
            page.screenshot(path=str(shots / "board-1920.png"), full_page=True)
            cut = table.locator("td").evaluate_all(
                "els => els.filter(e => e.innerText.trim() && e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
            assert cut == [], cut
            page.set_viewport_size({"width": 1400, "height": 1000})

            page.get_by_role("tab", name="Organisers").click()
            page.locator("#rescore").click()
            expect(field(page, "rescore-status")).to_have_value(
                re.compile(r"^Gold version simulated-v1\+\w+(, simulated-v1\+\w+)?: 0 submission\(s\) re-scored, "
                           r"\d+ already on it"),
                timeout=30_000)

            page.get_by_role("tab", name="Compare").click()
            field(page, "compare-a").fill(ids[0])
            field(page, "compare-b").fill(ids[1])
            page.locator("#compare-run").click()
            expect(field(page, "compare-summary")).to_have_value(re.compile(r"^Compare opens at the reveal"),
                                                                 timeout=30_000)
            expect(page.locator("#compare-table")).to_contain_text("95% CI of B - A")  # real headers, empty
            assert "1 2 3" not in page.locator("#compare-table").inner_text()

            page.get_by_role("tab", name="Submission details").click()
            field(page, "detail-id").fill(ids[1])
            page.locator("#detail-show").click()
            expect(field(page, "detail-summary")).to_have_value(re.compile(rf"^#{ids[1]} better model .*public score "
                                                                           r"\d\.\d\d"), timeout=30_000)
            consistency_table = page.locator("#detail-consistency")
            expect(consistency_table).to_contain_text("satisfaction vs emotion")
            expect(page.locator("#detail-scores")).to_contain_text("metric")
            page.screenshot(path=str(shots / "details-1400.png"), full_page=True)
            field(page, "detail-id").fill("1e20")
            page.locator("#detail-show").click()
            expect(field(page, "detail-summary")).to_have_value(re.compile(r"^No submission #1e20"))

            page.get_by_role("tab", name="Submit").click()
            upload(page, bad)
            page.locator("#submit-button").click()
            expect(status).to_have_value(re.compile(r"^Rejected\. browser-bad\.csv: 1 problem found.*'Happy'", re.S),
                                         timeout=30_000)
            expect(page.locator("#submission-file")).to_contain_text("at most 20 MiB")
            page.locator("#submission-file button[aria-label='Clear']").first.click()
            too_big = tmp_path / "too-big.csv"
            too_big.write_bytes(b"id,emotion\n" + b"x,Anger\n" * (21 * 1024 * 1024 // 8))
            page.locator("#submission-file input[type=file]").set_input_files(str(too_big))
            # Gradio's own check, before any byte is sent: the same limit (its unit label is "Mb", 1,048,576 bytes)
            expect(page.get_by_text(re.compile(r"exceed the maximum allowed size of 20\.0 Mb"))).to_be_visible()
        finally:
            browser.close()
    stored = [s.model_name for s in SubmissionStore(live["data_dir"]).list("balanced")]
    assert stored == [model, "better model"]  # the good files stored once, the bad one not at all
    leftovers = [p.name for p in live["gradio_tmp"].rglob("browser-*.csv")]
    assert leftovers == ["browser-bad.csv"]  # accepted files live only in the archive; a rejected one is kept
    # (its owner may fix the form and press Submit again) until it expires


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
    space = build_app(Leaderboard(Settings.from_env({**base, "SPACE_ID": "someone/est-leaderboard",
                                                     "EST_LB_HALF_SALT": "space-secret"})))
    local = build_app(Leaderboard(Settings.from_env(base)))
    assert space.expects_oauth and not local.expects_oauth
    space_api = {fn.api_name for fn in space.fns.values() if fn.api_visibility == "public"}
    local_api = {fn.api_name for fn in local.fns.values() if fn.api_visibility == "public"}
    assert local_api == {"dev_login", "board", "board_json", "submit", "detail", "compare", "rescore"}
    assert space_api - {"_check_login_status"} == {"board", "board_json", "submit", "detail", "compare", "rescore"}
    # on a Space the submitter comes from the OAuth session: Gradio injects the profile (None when signed out)
    from gradio.helpers import special_args

    submit = next(fn for fn in space.fns.values() if fn.api_name == "submit")
    form = [None, "model", "", "full", "full", "", [ALL_A], "public"]
    assert len(submit.inputs) == len(form)
    injected, *_ = special_args(submit.fn, inputs=list(form), request=None)
    assert injected == [*form, None]
    status, *_ = submit.fn(*injected)
    assert status == "Refused: choose a prediction file first"
    signed_out, *_ = submit.fn(str(tmp_path / "test.parquet"), "m", "", "full", "full", "", [ALL_A], "public", None)
    assert signed_out == "Refused: log in first"
    # the file must be an upload of the signed-in user (what UploadGuard records for an upload on a Space)
    staged = space.uploads.folder / ("0" * 64) / "p.csv"
    staged.parent.mkdir(parents=True)
    noisy_predictions(pd.read_parquet(tmp_path / "test.parquet"), 0.2).to_csv(staged, index=False)
    from est_leaderboard.uploads import owner_from

    (owned,), _ = space.uploads.register(owner_from(username="alice", host=None, on_space=True), [str(staged)])
    profile = gr.OAuthProfile({"name": "Alice", "preferred_username": "alice", "profile": "", "picture": ""})
    mallory = gr.OAuthProfile({"name": "M", "preferred_username": "mallory", "profile": "", "picture": ""})
    stolen, *_ = submit.fn(owned, "m", "", "full", "full", "", [ALL_A], "public", mallory)
    assert stolen.startswith("Refused: this file is not an upload of yours") and Path(owned).is_file()
    accepted, *_ = submit.fn(owned, "m", "", "full", "full", "", [ALL_A], "public", profile)
    assert accepted.startswith("Accepted") and not Path(owned).exists()  # archived, the upload deleted
    assert [s.submitter for s in SubmissionStore(tmp_path / "data").list()] == ["alice"]
    # on a Space, an upload without a Hugging Face login is refused before a byte is stored
    import asyncio

    from est_leaderboard.uploads import UploadGuard

    sent = []

    async def send(message):
        sent.append(message)

    async def never(*_):
        raise AssertionError("the upload route must not be reached")

    guard = UploadGuard(never, ledger=space.uploads, max_bytes=1024, on_space=True)
    scope = {"type": "http", "method": "POST", "path": "/gradio_api/upload", "headers": [(b"content-length", b"10")],
             "client": ("1.2.3.4", 1), "session": {}}
    asyncio.run(guard(scope, None, send))
    assert sent[0]["status"] == 401 and sent[1]["body"] == b"sign in with Hugging Face to upload a file"
