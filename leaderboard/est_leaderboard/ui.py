"""The Gradio page. Every user-supplied string is shown as plain text (Textbox / Dataframe "str" cells), never as
Markdown or HTML; only aggregate scores leave the server; gold labels are never handed to Gradio."""

from __future__ import annotations

import math
import tempfile
from pathlib import Path

import gradio as gr
import matplotlib.pyplot as plt
import pandas as pd

from .board import COLUMNS, DEFAULT_SCORE_HEADERS, HALVES, SCORE_HEADERS
from .plots import confusion_figure, per_class_f1_figure
from .service import Leaderboard, SubmissionRefused, clean_text, describe_outcome
from .settings import TRACKS
from .validation import SubmissionError

DEV_BADGE = "LOCAL DEV IDENTITY (not authenticated; local runs only)"

INTRO = """# EST leaderboard
Emotion, emotion-state **transition** and **satisfaction** prediction for every user utterance of Chinese
customer-service dialogues (protocol of the EST paper). Upload predictions for the test split of a
track; they are scored on hidden labels and ranked below.

- **Tracks:** `balanced` = test split of `joint-balanced` (the paper's protocol), `full` = test split of `joint`.
- **Halves:** the test set is cut once, by session, into a public and a private half. The board shows public-half
  scores; private-half scores are stored and revealed by the organisers at the end.
- Rows marked *reported in paper* are copied from the paper's Table 4 (its own, non-public data) and are not
  re-scored; rows marked *baseline (this project)* are the project's baselines scored here.
- The embedded default corpus of this project is **SIMULATED**; scores on it are not comparable to the paper's.
"""

FORMAT_HELP = """**File format:** CSV or JSON Lines with the columns `id`, `emotion`, `transition`, `satisfaction`
(label names as in the dataset's ClassLabel features). Leave a task's column out to skip that task. Every test id of
the track must appear exactly once, in any order. Download a template below (ids only; fill in your labels)."""


def _board_value(frame: pd.DataFrame) -> gr.Dataframe:
    numeric = {"Rank", *SCORE_HEADERS}
    frame = frame.astype(object).where(frame.notna(), None)  # NaN (task not scored) -> empty cell
    return gr.Dataframe(value=frame, headers=list(frame.columns),
                        datatype=["number" if c in numeric else "str" for c in frame.columns])


def build_app(leaderboard: Leaderboard) -> gr.Blocks:
    settings = leaderboard.settings
    template_dir = Path(tempfile.mkdtemp(prefix="est-leaderboard-templates-"))
    templates = {track: leaderboard.template_csv(track, template_dir) for track in TRACKS}

    def board(track: str, search: str, columns: list[str], half: str) -> gr.Dataframe:
        return _board_value(leaderboard.board(track, half=half, search=search or "", score_headers=columns))

    def submit(user: str, file, model_name: str, description: str, submit_track: str, board_track: str, search: str,
               columns: list[str], half: str):
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
        return status, board(board_track, search, columns, half)

    def detail(submission_id):
        empty = (None, None)
        if submission_id is None or (isinstance(submission_id, float) and math.isnan(submission_id)):
            return ("Enter a submission ID from the board.", *empty)
        found = leaderboard.detail(int(submission_id))
        if found is None:
            return (f"No submission #{int(submission_id)}.", *empty)
        submission, shown = found
        half = "private" if settings.reveal_private else "public"
        scores = submission.private_scores if settings.reveal_private else submission.public_scores
        text = (f"#{submission.id} {submission.model_name} by {submission.submitter} ({submission.track} track, "
                f"{submission.submitted_at})\n{submission.description}\n{half}-half scores: "
                + ", ".join(f"{k} {v:.4f}" for k, v in scores.items()))
        plt.close("all")
        return text, per_class_f1_figure(shown, submission.tasks), confusion_figure(shown, submission.tasks)

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
                table = gr.Dataframe(headers=list(COLUMNS), interactive=False, elem_id="board-table", wrap=True,
                                     max_height=700)
            with gr.Tab("Submit", id="submit"):
                gr.Markdown(FORMAT_HELP)
                with gr.Row():
                    for name, path in templates.items():
                        gr.DownloadButton(f"Template: {name} track", value=str(path), elem_id=f"template-{name}")
                submit_track = gr.Radio(list(TRACKS), value="balanced", label="Track", elem_id="submit-track")
                model_name = gr.Textbox(label=f"Model name (≤ {settings.max_name_chars} characters)", max_lines=1,
                                        elem_id="model-name")
                description = gr.Textbox(label=f"Description or link (≤ {settings.max_description_chars} characters)",
                                         max_lines=3, elem_id="model-description")
                upload = gr.File(label="Prediction file (.csv or .jsonl)", file_types=[".csv", ".jsonl"],
                                 type="filepath", elem_id="submission-file")
                send = gr.Button("Submit", variant="primary", elem_id="submit-button")
                status = gr.Textbox(label="Result", interactive=False, lines=8, elem_id="submit-status")
            with gr.Tab("Submission details", id="details"):
                with gr.Row():
                    submission_id = gr.Number(label="Submission ID (see the board)", precision=0,
                                              elem_id="detail-id")
                    show = gr.Button("Show", elem_id="detail-show")
                summary = gr.Textbox(label="Submission", interactive=False, lines=3)
                f1_plot = gr.Plot(label="Per-class F1")
                confusion_plot = gr.Plot(label="Confusion matrices")

        board_inputs = [track, search, columns, half]
        demo.load(board, board_inputs, table, api_name="board")  # registered first: it owns the name "board"
        for trigger in (track.change, half.change, columns.change, search.submit, refresh.click, board_tab.select):
            trigger(board, board_inputs, table, api_visibility="private")
        form = [upload, model_name, description, submit_track, *board_inputs]
        if settings.on_space:
            # The submitter is read from the OAuth session on every submission (Gradio injects the profile).
            def submit_signed_in(file, model_name: str, description: str, submit_track: str, board_track: str,
                                 search: str, columns: list[str], half: str, profile: gr.OAuthProfile | None):
                return submit(profile.username if profile is not None else "", file, model_name, description,
                              submit_track, board_track, search, columns, half)

            handler, inputs = submit_signed_in, form
        else:
            handler, inputs = submit, [user, *form]
        send.click(handler, inputs, [status, table], api_name="submit",
                   concurrency_limit=settings.submit_concurrency, concurrency_id="submit")
        show.click(detail, submission_id, [summary, f1_plot, confusion_plot], api_name="detail")
    return demo
