"""The Gradio page. Every user-supplied string is shown as plain text (Textbox / Dataframe "str" cells), never as
Markdown or HTML, and neutralised for spreadsheets; only aggregate scores leave the server (no confusion matrix, no
per-class number on fewer than k rows); gold labels are never handed to Gradio."""

from __future__ import annotations

import hashlib
from pathlib import Path

import gradio as gr
import matplotlib.pyplot as plt
import pandas as pd
from gradio.utils import get_upload_folder as gradio_upload_folder

from estbench import submission
from estbench.consistency import CONSISTENCY_KEYS
from estbench.io import write_atomically
from estbench.layout import TRACKS
from estbench.significance import ALPHA, describe
from estbench.submission import EXTENSIONS, SubmissionError, mib

from .board import (
    COLUMNS,
    DECIMALS,
    DEFAULT_SCORE_HEADERS,
    HALVES,
    MEAN_F1,
    PAPER_COLUMNS,
    SCORE_HEADERS,
    board_csv,
    board_json,
    narrow,
    neutralise,
)
from .plots import per_class_f1_figure
from .scoring import WITHHELD
from .service import Leaderboard, SubmissionRefused, clean_text, describe_outcome

DEV_BADGE = "LOCAL DEV IDENTITY (not authenticated; local runs only)"

INTRO = """# EST leaderboard
Emotion, emotion-state **transition** and **satisfaction** prediction for every user utterance of Chinese
customer-service dialogues (protocol of the EST paper). Upload predictions for the test split of a
track; they are scored on hidden labels and ranked below.

- **Ranking:** by **Mean F1**, the mean of the three tasks' macro-F1 (a task left out counts 0), on both tracks.
  ALL_A (the paper's mean of the three accuracies) is shown but does not rank: a constant majority-class guess
  scores a high ALL_A. Sort by any column from its header: click it, then its ⋮ menu
  (numbers sort as numbers).
- **Tracks:** `balanced` = test split of `joint-balanced` (the paper's protocol), `full` = test split of `joint`.
- **Halves:** the test set is cut once, by session, into a public and a private half. The board shows public-half
  scores; private-half scores are stored and revealed by the organisers at the end.
- Rows marked *baseline (this project)* are the project's baselines scored here. The paper's Table 4 is a separate
  table below: reported in the paper, on its own data, not re-scored.
- The embedded default corpus of this project is **SIMULATED**; scores on it are not comparable to the paper's.
"""


def format_help(max_bytes: int) -> str:
    columns = ", ".join(f"`{column}`" for column in submission.COLUMNS)
    return f"""**File format:** CSV or JSON Lines (UTF-8, at most {mib(max_bytes)}) with the columns {columns}
(label names as in the dataset's ClassLabel features). Leave a task's column out to skip
that task. Every test id of the track must appear exactly once, in any order. Download a template below (ids only;
fill in your labels)."""


def _styled(frame: pd.DataFrame, numeric: set[str]):
    """Numbers stay numbers (so a header click sorts them numerically) but show four decimals."""
    frame = frame.astype(object).where(frame.notna(), None)
    decimals = [c for c in frame.columns if c in numeric and c not in ("Rank", "ID")]
    return frame.style.format({c: (lambda v: "" if v is None else f"{v:.{DECIMALS}f}") for c in decimals})


def _table(frame: pd.DataFrame, numeric: set[str]) -> gr.Dataframe:
    widths = [f"{max(70, 9 * len(c) + 24)}px" if c not in ("Model", "Description") else "220px"
              for c in frame.columns]
    return gr.Dataframe(value=_styled(frame, numeric), headers=list(frame.columns), column_widths=widths,
                        datatype=["number" if c in numeric else "str" for c in frame.columns])


def board_value(frame: pd.DataFrame) -> gr.Dataframe:
    return _table(frame, {"Rank", "ID", *SCORE_HEADERS})


def detail_tables(scores: dict, detail: dict) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(headline scores, consistency, slices) of a submission's shown half as small tables."""
    headline = pd.DataFrame([[key, round(value, DECIMALS)] for key, value in scores.items()],
                            columns=["metric", "value"])
    consistency = pd.DataFrame([[key.removeprefix("consistency_").replace("_", " vs "), round(value, DECIMALS)]
                                for key, value in detail.items() if key in CONSISTENCY_KEYS],
                               columns=["consistency (share of predictions that agree)", "value"])
    slice_rows = []
    for name, buckets in (detail.get("slices") or {}).items():
        for bucket, values in buckets.items():
            if values.get(WITHHELD):
                slice_rows.append([name, bucket, values["count"], None, None, None])
            else:
                slice_rows.append([name, bucket, values["count"],
                                   *(round(values[k], DECIMALS) if k in values else None
                                     for k in ("emotion_macro_f1", "transition_macro_f1", "satisfaction_macro_f1"))])
    slices = pd.DataFrame(slice_rows, columns=["slice", "bucket", "rows", "emotion F1", "transition F1",
                                               "satisfaction F1"])
    return headline, consistency, slices


def compare_table(result: dict) -> pd.DataFrame:
    rows = []
    for key, row in result.items():
        if key == "units":
            continue
        rows.append([key, round(row["a"], DECIMALS), round(row["b"], DECIMALS), round(row["difference"], DECIMALS),
                     f"[{row['ci'][0]:+.4f}, {row['ci'][1]:+.4f}]", round(row["p_randomization"], DECIMALS),
                     "significant" if row["p_randomization"] < ALPHA else "not significant"])
    return pd.DataFrame(rows, columns=["metric", "A", "B", "B - A", "95% CI of B - A", "p", f"at {ALPHA:g}"])


def forget_upload(path: Path | None) -> None:
    """Delete an uploaded file from Gradio's upload folder once it was processed: accepted files live on only in
    the archive, refused ones nowhere. A path outside that folder (a direct call) is left alone."""
    if path is None:
        return
    uploads = Path(gradio_upload_folder()).resolve()
    path = path.resolve()
    if uploads in path.parents:
        path.unlink(missing_ok=True)
        if path.parent != uploads:
            try:
                path.parent.rmdir()  # Gradio's per-upload folder
            except OSError:
                pass


def build_app(leaderboard: Leaderboard) -> gr.Blocks:
    settings = leaderboard.settings
    templates = {track: leaderboard.template_csv(track) for track in TRACKS}

    def export(frame: pd.DataFrame, track: str, half: str, suffix: str) -> str:
        """The whole board as a download, named by its content: concurrent pages never overwrite each other's
        file, and an unchanged board is not written again."""
        text = (board_csv(frame) if suffix == ".csv" else
                board_json(frame, track=track, half=half, gold_version=leaderboard.gold_version(track)))
        data = text.encode("utf-8")
        path = settings.files_dir / f"est-board-{track}-{half}-{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
        if not path.exists():
            write_atomically(path, data)
        return str(path)

    def board(track: str, search: str, columns: list[str], half: str):
        shown = leaderboard.shown_half(half)
        full = leaderboard.board(track, half=shown)  # computed once: downloaded whole, shown narrowed
        frame = narrow(full, search=search or "", score_headers=columns)
        note = (f"Ranked by **{MEAN_F1}** (mean macro-F1 of the three tasks) on the **{shown}** half of gold "
                f"version `{leaderboard.gold_version(track)}`; {len(frame)} row(s).")
        return (board_value(frame), note, export(full, track, shown, ".csv"), export(full, track, shown, ".json"),
                board_csv(frame))

    def board_api(track: str, half: str) -> str:
        """The board of a track as JSON: {track, half, gold_version, ranking, rows: [...]}."""
        if track not in TRACKS:
            raise gr.Error(f"unknown track {str(track)[:20]!r} (choose one of: {', '.join(TRACKS)})")
        shown = leaderboard.shown_half(half if half in HALVES else "public")
        return board_json(leaderboard.board(track, half=shown), track=track, half=shown,
                          gold_version=leaderboard.gold_version(track))

    def submit(user: str, file, model_name: str, description: str, submit_track: str, board_track: str, search: str,
               columns: list[str], half: str):
        path = None
        try:
            if file is None:
                raise SubmissionRefused("choose a prediction file first")
            path = Path(file if isinstance(file, str) else file.name)
            outcome = leaderboard.submit(path, submitter=user, model_name=model_name, description=description,
                                         track=submit_track, file_name=path.name)
            status = describe_outcome(outcome)
        except SubmissionError as err:
            status = f"Rejected. {err}"
        except SubmissionRefused as err:
            status = f"Refused: {err}"
        finally:
            forget_upload(path)
        return (status, *board(board_track, search, columns, half))

    def detail(submission_id):
        empty = (None, None, None, None)
        try:
            found = leaderboard.detail(submission_id)
        except SubmissionRefused as err:
            return (str(err).capitalize(), *empty)
        if found is None:
            return (f"No submission #{int(float(submission_id))}.", *empty)
        submission, scores, shown = found
        half = "private" if settings.reveal_private else "public"
        text = (f"#{submission.id} {neutralise(submission.model_name)} by {neutralise(submission.submitter)} "
                f"({submission.track} track, {submission.submitted_at}, gold {submission.gold_version or '?'}); "
                f"{half}-half scores below.\n{neutralise(submission.description)}")
        headline, consistency, slices = detail_tables(scores, shown)
        plt.close("all")
        figure = per_class_f1_figure(shown, submission.tasks, settings.min_class_rows)
        return (text, _table(headline, {"value"}), figure, _table(consistency, {"value"}),
                _table(slices, {"rows", "emotion F1", "transition F1", "satisfaction F1"}))

    def compare(first_id, second_id):
        try:
            a, b, result = leaderboard.compare(first_id, second_id)
        except SubmissionRefused as err:
            return str(err).capitalize(), None
        except SubmissionError:
            return "An archived file no longer fits the current gold; ask the organisers to re-score.", None
        units = result["units"]
        mean = result.get("emotion_macro_f1")
        words = describe(mean) if mean else ""
        text = (f"A = #{a.id} {neutralise(a.model_name)}, B = #{b.id} {neutralise(b.model_name)} ({a.track} track, "
                f"{leaderboard.shown_half()} half, {units['count']} sessions, {units['resamples']} paired resamples "
                f"of sessions; p from approximate randomization).\nEmotion macro-F1: {words}")
        return text, _table(compare_table(result), {"A", "B", "B - A", "p"})

    def rescore(user: str):
        if not leaderboard.is_admin(user):
            return "Refused: re-scoring is for the organisers (EST_LB_ADMINS)."
        leaderboard.reload_gold()
        report = leaderboard.rescore_all()
        failed = "" if not report.failed else "\nNot re-scored:\n" + "\n".join(report.failed[:20])
        return (f"Gold version {report.gold_version}: {report.rescored} submission(s) re-scored, "
                f"{report.unchanged} already on it; earlier scores kept in the history.{failed}")

    with gr.Blocks(title="EST leaderboard") as demo:
        gr.Markdown(INTRO)
        if settings.on_space:
            with gr.Row():
                gr.LoginButton()
                who = gr.Textbox(label="Signed in as", interactive=False, elem_id="who")
            user = gr.State("")

            def whoami(profile: gr.OAuthProfile | None):
                name = profile.username if profile is not None else ""
                return name, (name or "not signed in: use the Sign in with Hugging Face button")

            demo.load(whoami, None, [user, who], api_visibility="private")
        else:
            gr.Markdown(f"**Local development mode.** Submissions are made under a {DEV_BADGE}. On a Hugging Face "
                        "Space the page uses *Sign in with Hugging Face* instead.")
            with gr.Row():
                dev_name = gr.Textbox(value=settings.dev_user, label="Dev identity (local only)", elem_id="dev-name",
                                      max_lines=1)
                dev_login = gr.Button("Log in as dev identity", elem_id="dev-login")
                who = gr.Textbox(value="not logged in", label="Signed in as", interactive=False, elem_id="who")
            user = gr.State("")

            def login(name: str):
                try:
                    name = clean_text(name, settings.max_name_chars, "dev identity", required=True)
                except SubmissionRefused as err:
                    return "", f"not logged in: {err}"
                return name, f"{name} — {DEV_BADGE}"

            dev_login.click(login, dev_name, [user, who], api_name="dev_login")

        with gr.Tabs():
            with gr.Tab("Leaderboard", id="board") as board_tab:
                with gr.Row():
                    track = gr.Radio(list(TRACKS), value="balanced", label="Track", elem_id="board-track")
                    half = gr.Radio(list(HALVES), value="public", label="Test-set half",
                                    visible=settings.reveal_private, elem_id="board-half")
                    search = gr.Textbox(label="Search model name", elem_id="board-search", max_lines=1)
                    refresh = gr.Button("Refresh", elem_id="board-refresh")
                columns = gr.CheckboxGroup(list(SCORE_HEADERS), value=list(DEFAULT_SCORE_HEADERS),
                                           label="Score columns")
                ranking = gr.Markdown(elem_id="board-ranking")
                table = gr.Dataframe(headers=list(COLUMNS), interactive=False, elem_id="board-table", wrap=False,
                                     max_height=700, buttons=["fullscreen"])
                with gr.Row():
                    download_csv = gr.DownloadButton("Download CSV", elem_id="download-csv")
                    download_json = gr.DownloadButton("Download JSON", elem_id="download-json")
                    copy = gr.Button("Copy table (CSV with header)", elem_id="copy-table")
                board_text = gr.Textbox(visible=False, elem_id="board-csv")
                gr.Markdown("### Reported in the paper, on its own data, not re-scored\nThe EST paper's Table 4 "
                            "(its non-public data, balanced protocol). Not ranked and not comparable with the "
                            "scores above, which are computed here on the served gold.")
                gr.Dataframe(value=_styled(leaderboard.paper(), set(PAPER_COLUMNS) - {"Model", "Reference"}),
                             interactive=False, elem_id="paper-table", buttons=["fullscreen"])
            with gr.Tab("Submit", id="submit"):
                gr.Markdown(format_help(settings.max_bytes))
                with gr.Row():
                    for name, path in templates.items():
                        gr.DownloadButton(f"Template: {name} track", value=str(path), elem_id=f"template-{name}")
                submit_track = gr.Radio(list(TRACKS), value="balanced", label="Track", elem_id="submit-track")
                model_name = gr.Textbox(label=f"Model name (≤ {settings.max_name_chars} characters)", max_lines=1,
                                        elem_id="model-name")
                description = gr.Textbox(label=f"Description or link (≤ {settings.max_description_chars} characters)",
                                         max_lines=3, elem_id="model-description")
                upload = gr.File(label=f"Prediction file ({' or '.join(EXTENSIONS)}, at most "
                                       f"{mib(settings.max_bytes)})",
                                 file_types=list(EXTENSIONS), type="filepath", elem_id="submission-file")
                send = gr.Button("Submit", variant="primary", elem_id="submit-button")
                status = gr.Textbox(label="Result", interactive=False, lines=8, elem_id="submit-status")
            with gr.Tab("Submission details", id="details"):
                with gr.Row():
                    submission_id = gr.Textbox(label="Submission ID (see the board)", max_lines=1,
                                               elem_id="detail-id")
                    show = gr.Button("Show", elem_id="detail-show")
                summary = gr.Textbox(label="Submission", interactive=False, lines=2, elem_id="detail-summary")
                headline = gr.Dataframe(label="Scores", interactive=False, elem_id="detail-scores")
                f1_plot = gr.Plot(label=f"Per-class F1 (classes with at least {settings.min_class_rows} predicted "
                                        "and reference rows)")
                consistency = gr.Dataframe(label="Cross-task consistency", interactive=False,
                                           elem_id="detail-consistency")
                slices = gr.Dataframe(label=f"Macro-F1 by slice (slices under {settings.min_class_rows} rows "
                                            "withheld)", interactive=False, elem_id="detail-slices")
            with gr.Tab("Compare", id="compare"):
                gr.Markdown("Two submissions of one track, paired on the same utterances: the difference B - A per "
                            "headline number, its 95% interval from a paired bootstrap over sessions, and a p-value "
                            "from approximate randomization (sessions swapped between A and B).")
                with gr.Row():
                    first = gr.Textbox(label="Submission A (ID)", max_lines=1, elem_id="compare-a")
                    second = gr.Textbox(label="Submission B (ID)", max_lines=1, elem_id="compare-b")
                    run_compare = gr.Button("Compare", elem_id="compare-run")
                compare_text = gr.Textbox(label="Result", interactive=False, lines=3, elem_id="compare-summary")
                compare_grid = gr.Dataframe(interactive=False, elem_id="compare-table")
            with gr.Tab("Organisers", id="admin"):
                gr.Markdown("Re-score every stored submission from its archived file on the gold now served "
                            "(after the gold changed). Earlier scores are kept in each submission's history.")
                run_rescore = gr.Button("Re-score all submissions", elem_id="rescore")
                rescore_status = gr.Textbox(label="Result", interactive=False, lines=3, elem_id="rescore-status")

        board_inputs = [track, search, columns, half]
        board_outputs = [table, ranking, download_csv, download_json, board_text]
        demo.load(board, board_inputs, board_outputs, api_name="board")  # registered first: it owns "board"
        for trigger in (track.change, half.change, columns.change, search.submit, refresh.click, board_tab.select):
            trigger(board, board_inputs, board_outputs, api_visibility="private")
        hidden_track, hidden_half = gr.Textbox(visible=False), gr.Textbox(visible=False)
        board_json_out = gr.Textbox(visible=False)
        hidden_track.submit(board_api, [hidden_track, hidden_half], board_json_out, api_name="board_json")
        copy.click(None, board_text, None, js="(text) => { navigator.clipboard.writeText(text); }")
        form = [upload, model_name, description, submit_track, *board_inputs]
        if settings.on_space:
            # The submitter is read from the OAuth session on every submission (Gradio injects the profile).
            def submit_signed_in(file, model_name: str, description: str, submit_track: str, board_track: str,
                                 search: str, columns: list[str], half: str, profile: gr.OAuthProfile | None):
                return submit(profile.username if profile is not None else "", file, model_name, description,
                              submit_track, board_track, search, columns, half)

            def rescore_signed_in(profile: gr.OAuthProfile | None):
                return rescore(profile.username if profile is not None else "")

            handler, inputs = submit_signed_in, form
            rescore_handler, rescore_inputs = rescore_signed_in, []
        else:
            handler, inputs = submit, [user, *form]
            rescore_handler, rescore_inputs = rescore, [user]
        send.click(handler, inputs, [status, *board_outputs], api_name="submit",
                   concurrency_limit=settings.submit_concurrency, concurrency_id="submit")
        show.click(detail, submission_id, [summary, headline, f1_plot, consistency, slices], api_name="detail")
        run_compare.click(compare, [first, second], [compare_text, compare_grid], api_name="compare")
        run_rescore.click(rescore_handler, rescore_inputs, rescore_status, api_name="rescore")
    return demo

