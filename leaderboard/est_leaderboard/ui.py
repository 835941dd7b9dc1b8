"""The Gradio page. Every user-supplied string is shown as plain text (Textbox / Dataframe "str" cells), never as
Markdown or HTML, and neutralised for spreadsheets; before the reveal the only number computed from hidden labels
that it shows is the Ladder's public score (`scoring`); gold labels are never handed to Gradio; a file argument is
used only when the caller uploaded it (`uploads`)."""

from __future__ import annotations

import hashlib

import gradio as gr
import matplotlib.pyplot as plt
import pandas as pd

from estbench import submission
from estbench.consistency import CONSISTENCY_KEYS
from estbench.io import write_atomically
from estbench.layout import TRACKS
from estbench.schema import Task
from estbench.significance import ALPHA, describe
from estbench.submission import EXTENSIONS, SubmissionError, mib

from .board import COLUMNS as BOARD_COLUMNS
from .board import (
    DECIMALS,
    DEFAULT_SCORE_HEADERS,
    HALVES,
    INTEGER_COLUMNS,
    MEAN_F1,
    PAPER_COLUMNS,
    PUBLIC_SCORE,
    SCORE_HEADERS,
    board_csv,
    board_json,
    narrow,
    neutralise,
)
from .plots import per_class_f1_figure
from .scoring import WITHHELD, decimals_of
from .service import Leaderboard, SubmissionRefused, clean_text, describe_outcome
from .uploads import UploadLedger, UploadRefused, owner_from

DEV_BADGE = "LOCAL DEV IDENTITY (not authenticated; local runs only)"

INTRO = """# EST leaderboard
Emotion, emotion-state **transition** and **satisfaction** prediction for every user utterance of Chinese
customer-service dialogues (protocol of the EST paper). Upload predictions for the test split of a
track; they are scored on hidden labels and ranked below.

- **Tracks:** `balanced` = test split of `joint-balanced` (the paper's protocol), `full` = test split of `joint`.
- **Halves:** the test set is cut once, by session, into a public and a private half. The private half decides the
  final standings and is revealed by the organisers at the end, with every score of every submission.
- **Public score (the Ladder):** Mean F1 (the mean of the three tasks' macro-F1) on the public half, on a
  {step:g} grid, shown only when it beats its submitter's best by at least {step:g}. Nothing else computed from
  the hidden labels is shown before the reveal: a leaderboard that answers every question about them gives them
  away (README, threat model).
- **Ranking:** by the public score now, by Mean F1 on the private half at the reveal (ALL_A is shown then but does not
  rank: a constant majority-class guess scores a high ALL_A). Equal or not significantly different scores share a
  rank; the earlier row is listed first.
- Rows marked *baseline (this project)* are the project's baselines, submitted and scored like any other row. The
  paper's Table 4 is a separate table below: reported in the paper, on its own data, not re-scored.
- The embedded default corpus of this project is **SIMULATED**; scores on it are not comparable to the paper's.
"""

# widths that fit the longest usual value of each column (a board is readable at 1,400 px)
WIDTHS = {"Rank": 60, "ID": 60, "Model": 230, "Type": 130, "Submitter": 130, PUBLIC_SCORE: 124,
          "Submitted (UTC)": 150, "Gold version": 200, "Description": 240, "Reference": 200}
METRIC_NAMES = {"accuracy": "accuracy", "macro_precision": "macro precision", "macro_recall": "macro recall",
                "macro_f1": "macro-F1"}


def metric_label(key: str) -> str:
    """A score key as the page names it, in full ("emotion_macro_f1" -> "Emotion macro-F1")."""
    special = {"all_accuracy": "ALL_A (mean of the three accuracies)", "exact_match": "Exact match (all three right)",
               "mean_macro_f1": "Mean F1 (mean of the three macro-F1)"}
    if key in special:
        return special[key]
    for task in Task:
        if key.startswith(task.value + "_"):
            rest = key[len(task.value) + 1:]
            return f"{task.title} {METRIC_NAMES.get(rest, rest.replace('_', ' '))}"
    return key.replace("_", " ")


def board_value(frame: pd.DataFrame, decimals: dict[str, int] | None = None) -> gr.Dataframe:
    """The board as the page's Dataframe: numbers stay numbers, shown with their decimals."""
    return _table(frame, {"Rank", "ID", PUBLIC_SCORE, *SCORE_HEADERS}, decimals)


def format_help(max_bytes: int) -> str:
    columns = ", ".join(f"`{column}`" for column in submission.COLUMNS)
    return f"""**File format:** CSV or JSON Lines (UTF-8, at most {mib(max_bytes)}) with the columns {columns}
(label names as in the dataset's ClassLabel features). Leave a task's column out to skip
that task. Every test id of the track must appear exactly once, in any order. Download a template below (ids only;
fill in your labels)."""


def _styled(frame: pd.DataFrame, numeric: set[str], decimals: dict[str, int] | None = None):
    """Numbers stay numbers (so a header click sorts them numerically); scores show four decimals (or the given
    ones), IDs, ranks and counts show as integers."""
    frame = frame.astype(object).where(frame.notna(), None)
    formats = {}
    for column in frame.columns:
        if column in numeric:
            places = 0 if column in INTEGER_COLUMNS or column in COUNT_COLUMNS else (decimals or {}).get(column,
                                                                                                         DECIMALS)
            formats[column] = (lambda p: (lambda v: "" if v is None else f"{v:.{p}f}"))(places)
    return frame.style.format(formats)


COUNT_COLUMNS = ("rows",)


def _table(frame: pd.DataFrame, numeric: set[str], decimals: dict[str, int] | None = None,
           widths: dict[str, int] | None = None) -> gr.Dataframe:
    sizes = {**WIDTHS, **(widths or {})}
    column_widths = [f"{sizes.get(c, max(84, 8 * len(c) + 40))}px" for c in frame.columns]
    return gr.Dataframe(value=_styled(frame, numeric, decimals), headers=list(frame.columns),
                        column_widths=column_widths,
                        datatype=["number" if c in numeric else "str" for c in frame.columns])


def _empty(columns: list[str], widths: dict[str, int] | None = None) -> gr.Dataframe:
    """An empty table that shows its real headers (not Gradio's placeholder "1 2 3")."""
    return _table(pd.DataFrame(columns=columns), set(), widths=widths)


HEADLINE_COLUMNS = ["metric", "value"]
CONSISTENCY_COLUMNS = ["consistency (share of predictions that agree, all rows)", "value"]
SLICE_COLUMNS = ["slice", "bucket", "rows", "Emotion macro-F1", "Transition macro-F1", "Satisfaction macro-F1"]
COMPARE_COLUMNS = ["metric", "A", "B", "B - A", "95% CI of B - A", "p", f"at {ALPHA:g}"]
DETAIL_WIDTHS = {"metric": 330, "value": 100, CONSISTENCY_COLUMNS[0]: 420, "slice": 150, "bucket": 130,
                 "rows": 80, "95% CI of B - A": 190, f"at {ALPHA:g}": 170, "A": 90, "B": 90, "B - A": 90, "p": 80}


def detail_tables(scores: dict | None, detail: dict, consistency: dict) -> tuple[pd.DataFrame, pd.DataFrame,
                                                                                  pd.DataFrame]:
    """(headline scores, consistency, slices) of what may be shown of a submission, as small tables."""
    headline = pd.DataFrame([[metric_label(key), round(value, DECIMALS)] for key, value in (scores or {}).items()],
                            columns=HEADLINE_COLUMNS)
    shares = pd.DataFrame([[key.removeprefix("consistency_").replace("_", " vs "), round(value, DECIMALS)]
                           for key, value in consistency.items() if key in CONSISTENCY_KEYS],
                          columns=CONSISTENCY_COLUMNS)
    slice_rows = []
    for name, buckets in (detail.get("slices") or {}).items():
        for bucket, values in buckets.items():
            if values.get(WITHHELD):
                slice_rows.append([name, bucket, int(values["count"]), None, None, None])
            else:
                slice_rows.append([name, bucket, int(values["count"]),
                                   *(round(values[f"{task.value}_macro_f1"], DECIMALS)
                                     if f"{task.value}_macro_f1" in values else None for task in Task)])
    slices = pd.DataFrame(slice_rows, columns=SLICE_COLUMNS)
    return headline, shares, slices


def compare_table(result: dict) -> pd.DataFrame:
    rows = []
    for key, row in result.items():
        if key == "units":
            continue
        rows.append([metric_label(key), round(row["a"], DECIMALS), round(row["b"], DECIMALS),
                     round(row["difference"], DECIMALS), f"[{row['ci'][0]:+.4f}, {row['ci'][1]:+.4f}]",
                     round(row["p_randomization"], DECIMALS),
                     "significant" if row["p_randomization"] < ALPHA else "not significant"])
    return pd.DataFrame(rows, columns=COMPARE_COLUMNS)


def build_app(leaderboard: Leaderboard, uploads: UploadLedger | None = None) -> gr.Blocks:
    """The page. `uploads` is the ledger the app's `UploadGuard` fills (a fresh one when None: a page built without
    the guard, as in tests, accepts no file argument at all)."""
    settings = leaderboard.settings
    uploads = uploads or UploadLedger(settings.upload_dir, ttl_s=settings.upload_ttl_s,
                                      quota_bytes=settings.upload_quota_bytes,
                                      total_bytes=settings.upload_total_bytes)
    templates = {track: leaderboard.template_csv(track) for track in TRACKS}
    decimals = leaderboard.score_decimals()
    step = settings.ladder_step
    revealed = leaderboard.revealed

    def export(frame: pd.DataFrame, track: str, half: str, suffix: str) -> str:
        """The whole board as a download, named by its content: concurrent pages never overwrite each other's
        file, and an unchanged board is not written again."""
        text = (board_csv(frame, decimals) if suffix == ".csv" else
                board_json(frame, track=track, half=half, gold_version=leaderboard.gold_version(track)))
        data = text.encode("utf-8")
        path = settings.files_dir / f"est-board-{track}-{half}-{hashlib.sha256(data).hexdigest()[:12]}{suffix}"
        if not path.exists():
            write_atomically(path, data)
        return str(path)

    def board(track: str, search: str, columns: list[str], half: str):
        if track not in TRACKS:
            raise gr.Error(f"unknown track {str(track)[:20]!r} (choose one of: {', '.join(TRACKS)})")
        shown = leaderboard.shown_half(half if half in HALVES else "public")
        full = leaderboard.board(track, half=shown)  # computed once: downloaded whole, shown narrowed
        frame = narrow(full, search=str(search or "")[:100], score_headers=columns)
        version = leaderboard.gold_version(track)
        if shown == "public":
            note = (f"Ranked by the **{PUBLIC_SCORE}**: Mean F1 on the public half of gold version `{version}`, on a "
                    f"{step:g} grid, released by the Ladder (only when it beats its submitter's best by {step:g}). "
                    f"Equal scores share a rank, the earlier row first; {len(frame)} row(s).")
        else:
            note = (f"Ranked by **{MEAN_F1}** on the **private** half of gold version `{version}`; a rank is shared "
                    f"when the difference from the row above is not significant (paired approximate randomization "
                    f"over sessions, p ≥ {ALPHA:g}); {len(frame)} row(s).")
        return (board_value(frame, decimals), note, export(full, track, shown, ".csv"),
                export(full, track, shown, ".json"), board_csv(frame, decimals))

    def board_api(track: str, half: str) -> str:
        """The board of a track as JSON: {track, half, gold_version, ranking, rows: [...]}."""
        if track not in TRACKS:
            raise gr.Error(f"unknown track {str(track)[:20]!r} (choose one of: {', '.join(TRACKS)})")
        shown = leaderboard.shown_half(half if half in HALVES else "public")
        return board_json(leaderboard.board(track, half=shown), track=track, half=shown,
                          gold_version=leaderboard.gold_version(track))

    def submit(submitter: str, owner: str | None, file, model_name: str, description: str, submit_track: str,
               board_track: str, search: str, columns: list[str], half: str):
        keep = gr.update()
        try:
            if file is None:
                raise SubmissionRefused("choose a prediction file first")
            if not submitter:
                raise SubmissionRefused("log in first")
            path = uploads.claim(file if isinstance(file, str) else file.name, owner)
            outcome = leaderboard.submit(path, submitter=submitter, model_name=model_name, description=description,
                                         track=submit_track, file_name=path.name)
            uploads.release(path)  # stored in the archive; a refused or rejected upload stays for another try
            status, keep = describe_outcome(outcome), None
        except SubmissionError as err:
            status = f"Rejected. {err}"
        except (SubmissionRefused, UploadRefused) as err:
            status = f"Refused: {err}"
        return (status, *board(board_track, search, columns, half), keep)

    def detail(submission_id):
        empty = (_empty(HEADLINE_COLUMNS, DETAIL_WIDTHS), None, _empty(CONSISTENCY_COLUMNS, DETAIL_WIDTHS),
                 _empty(SLICE_COLUMNS, DETAIL_WIDTHS))
        try:
            view = leaderboard.detail(submission_id)
        except SubmissionRefused as err:
            return (str(err)[:1].upper() + str(err)[1:], *empty)
        if view is None:
            return (f"No submission #{int(float(submission_id))}.", *empty)
        s = view.submission
        places = decimals_of(step)
        public = (f"public score {s.released:.{places}f} (released by the Ladder)" if s.released is not None else
                  "public score not released (not above its submitter's best + the Ladder's step)")
        shown = ("private-half scores below" if view.half == "private" else
                 "its other scores are shown when the organisers reveal the private half")
        text = (f"#{s.id} {neutralise(s.model_name)} by {neutralise(s.submitter)} ({s.track} track, "
                f"{s.submitted_at}, gold {s.gold_version or '?'}); {public}; {shown}.\n{neutralise(s.description)}")
        headline, consistency, slices = detail_tables(view.scores, view.detail, view.consistency)
        plt.close("all")
        figure = (per_class_f1_figure(view.detail, s.tasks, settings.min_class_rows)
                  if view.half == "private" and any(f"{t}_per_class" in view.detail for t in s.tasks) else None)
        return (text, _table(headline, {"value"}, widths=DETAIL_WIDTHS), figure,
                _table(consistency, {"value"}, widths=DETAIL_WIDTHS),
                _table(slices, {"rows", *SLICE_COLUMNS[3:]}, widths=DETAIL_WIDTHS))

    def compare(first_id, second_id):
        try:
            a, b, result = leaderboard.compare(first_id, second_id)
        except SubmissionRefused as err:
            return str(err)[:1].upper() + str(err)[1:], _empty(COMPARE_COLUMNS, DETAIL_WIDTHS)
        except SubmissionError:
            return ("An archived file no longer fits the current gold; ask the organisers to re-score.",
                    _empty(COMPARE_COLUMNS, DETAIL_WIDTHS))
        units = result["units"]
        mean = result.get("mean_macro_f1") or result.get("emotion_macro_f1")
        text = (f"A = #{a.id} {neutralise(a.model_name)}, B = #{b.id} {neutralise(b.model_name)} ({a.track} track, "
                f"private half, {units['count']} sessions, {units['resamples']} paired resamples of sessions; p from "
                f"approximate randomization).\n{'Mean F1' if 'mean_macro_f1' in result else 'Emotion macro-F1'}: "
                f"{describe(mean)}")
        return text, _table(compare_table(result), {"A", "B", "B - A", "p"}, widths=DETAIL_WIDTHS)

    def rescore(user: str):
        if not leaderboard.is_admin(user):
            return "Refused: re-scoring is for the organisers (EST_LB_ADMINS)."
        leaderboard.reload_gold()
        report = leaderboard.rescore_all()
        failed = "" if not report.failed else "\nNot re-scored:\n" + "\n".join(report.failed[:20])
        return (f"Gold version {report.gold_version}: {report.rescored} submission(s) re-scored, "
                f"{report.unchanged} already on it; earlier scores kept in the history.{failed}")

    with gr.Blocks(title="EST leaderboard") as demo:
        gr.Markdown(INTRO.format(step=step))
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
                    half = gr.Radio(list(HALVES), value="private" if revealed else "public", label="Test-set half",
                                    visible=revealed, elem_id="board-half")
                    search = gr.Textbox(label="Search model name", elem_id="board-search", max_lines=1)
                    refresh = gr.Button("Refresh", elem_id="board-refresh")
                columns = gr.CheckboxGroup(list(SCORE_HEADERS), value=list(DEFAULT_SCORE_HEADERS),
                                           label="Score columns (private half)", visible=revealed)
                ranking = gr.Markdown(elem_id="board-ranking")
                table = gr.Dataframe(value=pd.DataFrame(columns=[c for c in BOARD_COLUMNS if c not in SCORE_HEADERS]),
                                     interactive=False, elem_id="board-table", wrap=True, max_height=700,
                                     buttons=["fullscreen"])
                with gr.Row():
                    download_csv = gr.DownloadButton("Download CSV", elem_id="download-csv")
                    download_json = gr.DownloadButton("Download JSON", elem_id="download-json")
                    copy = gr.Button("Copy table (CSV with header)", elem_id="copy-table")
                board_text = gr.Textbox(visible=False, elem_id="board-csv")
                gr.Markdown("### Reported in the paper, on its own data, not re-scored\nThe EST paper's Table 4 "
                            "(its non-public data, balanced protocol). Not ranked and not comparable with the "
                            "scores above, which are computed here on the served gold.")
                paper = leaderboard.paper()
                gr.Dataframe(value=_styled(paper, set(PAPER_COLUMNS) - {"Model", "Reference"}), interactive=False,
                             wrap=True,
                             elem_id="paper-table", buttons=["fullscreen"],
                             column_widths=[f"{WIDTHS.get(c, 96)}px" for c in paper.columns])
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
                headline = gr.Dataframe(value=pd.DataFrame(columns=HEADLINE_COLUMNS), label="Scores (private half, "
                                        "at the reveal)", interactive=False, elem_id="detail-scores")
                f1_plot = gr.Plot(label=f"Per-class F1 (private half, at the reveal; classes with at least "
                                        f"{settings.min_class_rows} predicted and reference rows)")
                consistency = gr.Dataframe(value=pd.DataFrame(columns=CONSISTENCY_COLUMNS),
                                           label="Cross-task consistency (no labels needed: all rows)",
                                           interactive=False, elem_id="detail-consistency")
                slices = gr.Dataframe(value=pd.DataFrame(columns=SLICE_COLUMNS),
                                      label=f"Macro-F1 by slice (private half, at the reveal; slices under "
                                            f"{settings.min_class_rows} rows withheld)", interactive=False,
                                      elem_id="detail-slices")
            with gr.Tab("Compare", id="compare"):
                gr.Markdown("Two submissions of one track (or a submission and a baseline), paired on the same "
                            "utterances of the **private half**, at the reveal: the difference B - A per headline "
                            "number, its 95% interval from a paired bootstrap over sessions, and a p-value from "
                            "approximate randomization (sessions swapped between A and B).")
                with gr.Row():
                    first = gr.Textbox(label="Submission A (ID)", max_lines=1, elem_id="compare-a")
                    second = gr.Textbox(label="Submission B (ID)", max_lines=1, elem_id="compare-b")
                    run_compare = gr.Button("Compare", elem_id="compare-run")
                compare_text = gr.Textbox(label="Result", interactive=False, lines=3, elem_id="compare-summary")
                compare_grid = gr.Dataframe(value=pd.DataFrame(columns=COMPARE_COLUMNS), interactive=False,
                                            elem_id="compare-table")
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
                name = profile.username if profile is not None else ""
                return submit(name, owner_from(username=name, host=None, on_space=True), file, model_name,
                              description, submit_track, board_track, search, columns, half)

            def rescore_signed_in(profile: gr.OAuthProfile | None):
                return rescore(profile.username if profile is not None else "")

            handler, inputs = submit_signed_in, form
            rescore_handler, rescore_inputs = rescore_signed_in, []
        else:
            def submit_local(user: str, file, model_name: str, description: str, submit_track: str,
                             board_track: str, search: str, columns: list[str], half: str,
                             request: gr.Request):
                host = request.client.host if request is not None and request.client is not None else None
                return submit(user, owner_from(username=None, host=host, on_space=False), file, model_name,
                              description, submit_track, board_track, search, columns, half)

            handler, inputs = submit_local, [user, *form]
            rescore_handler, rescore_inputs = rescore, [user]
        send.click(handler, inputs, [status, *board_outputs, upload], api_name="submit",
                   concurrency_limit=settings.submit_concurrency, concurrency_id="submit")
        show.click(detail, submission_id, [summary, headline, f1_plot, consistency, slices], api_name="detail")
        run_compare.click(compare, [first, second], [compare_text, compare_grid], api_name="compare")
        run_rescore.click(rescore_handler, rescore_inputs, rescore_status, api_name="rescore")
    demo.uploads = uploads  # the ledger, for the app (its guard and sweeper) and the tests
    return demo
