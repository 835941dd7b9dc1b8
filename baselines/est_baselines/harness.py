"""lm-evaluation-harness output -> a leaderboard prediction file.

`lm_eval --tasks est --include_path lm_eval_tasks --predict_only --log_samples --output_path OUT ...` writes one
`samples_est_<task>_<time>.jsonl` per task (the full track: `samples_est_full_<task>_...`), a line per utterance
with the row (`doc`, carrying the EST `id`) and one log-likelihood per label name (`filtered_resps`, in the order of
`estbench.schema`, which the task's `doc_to_choice` uses). The chosen label is the arg-max, the first on ties: the
harness's own `acc` rule, so the file scores exactly what the harness scored.

The generative tasks (`est_gen`, `est_gen_joint` and their `_full` variants) log each reply (`resps`); it is read by
the same parser the task's filter used (`estbench.answers.parse_answer`), an unreadable label becoming the fallback
label the task scored (`estbench.answers.FALLBACK_LABELS`).

    python baselines/from_lm_eval.py OUT --output predictions.csv [--track balanced|full]
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

import pandas as pd

from estbench.answers import parse_answer, with_fallback
from estbench.cli import add_option, fail
from estbench.layout import TRACKS
from estbench.schema import TASK_NAMES, TASKS, Task
from estbench.submission import check_prediction_path, predictions_frame, write_predictions

TASK_PREFIX = {"balanced": "est_", "full": "est_full_"}
_SAMPLES = re.compile(r"^samples_est_(?P<gen>gen_)?(?P<full>full_)?(?P<task>emotion|transition|satisfaction|joint)_"
                      r"(?P<time>.+)\.jsonl$")


def sample_files(folder: str | Path, track: str | None = None) -> tuple[str, dict[str, Path]]:
    """The newest samples file of each EST task under `folder` (`joint` for est_gen_joint), and their track."""
    found: dict[str, dict[str, Path]] = {}
    for path in sorted(Path(folder).rglob("samples_*.jsonl")):
        match = _SAMPLES.match(path.name)
        if match:
            kind = "full" if match["full"] else "balanced"
            task = match["task"]
            newest = found.setdefault(kind, {}).get(task)
            if newest is None or path.name > newest.name:  # the names end in an ISO time stamp
                found[kind][task] = path
    if track is None:
        if len(found) > 1:
            raise ValueError(f"{folder}: samples of both tracks; choose one with --track ({', '.join(TRACKS)})")
        track = next(iter(found), "balanced")
    files = found.get(track, {})
    if "joint" in files:
        return track, {"joint": files["joint"]}
    missing = [t for t in TASK_NAMES if t not in files]
    if missing:
        names = ", ".join(TASK_PREFIX[track] + t for t in missing)
        raise ValueError(f"{folder}: no samples_*.jsonl for {names}; run lm_eval with --log_samples on the "
                         f"{'est' if track == 'balanced' else 'est_full'} group")
    return track, files


def read_generated(path: Path, tasks: tuple[Task, ...]) -> dict[str, dict[str, str]]:
    """{EST id: {task: label}} of a generative task's samples file (each reply parsed as the task's filter did)."""
    chosen = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            try:
                sample = json.loads(line)
                reply, row_id = sample["resps"][0][0], sample["doc"]["id"]
            except (ValueError, KeyError, TypeError, IndexError) as error:
                raise ValueError(f"{path.name}:{number}: not an lm-eval generate_until sample ({error})") from None
            if row_id in chosen:
                raise ValueError(f"{path.name}:{number}: id {row_id!r} appears twice")
            chosen[row_id] = with_fallback(parse_answer(reply or "", tasks))
    return chosen


def read_choices(path: Path, task: Task) -> dict[str, str]:
    """{EST id: chosen label} of one samples file (multiple-choice or generative)."""
    if path.name.startswith("samples_est_gen_"):
        return {row_id: labels[task.value] for row_id, labels in read_generated(path, (task,)).items()}
    chosen = {}
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            where = f"{path.name}:{number}"
            try:
                sample = json.loads(line)
                scores = [float(response[0]) for response in sample["filtered_resps"]]
                row_id = sample["doc"]["id"]
            except (ValueError, KeyError, TypeError, IndexError) as error:
                raise ValueError(f"{where}: not an lm-eval multiple-choice sample ({error})") from None
            if len(scores) != len(task.labels):
                raise ValueError(f"{where}: {len(scores)} scores for the {len(task.labels)} {task.value} labels")
            if row_id in chosen:
                raise ValueError(f"{where}: id {row_id!r} appears twice")
            chosen[row_id] = task.labels[max(range(len(scores)), key=scores.__getitem__)]
    return chosen


def predictions_from_lm_eval(folder: str | Path, track: str | None = None) -> tuple[str, pd.DataFrame]:
    """The leaderboard prediction table of an lm-eval output folder (rows in the emotion file's order)."""
    track, files = sample_files(folder, track)
    if "joint" in files:
        joint = read_generated(files["joint"], TASKS)
        return track, predictions_frame(list(joint), {task: [labels[task] for labels in joint.values()]
                                                      for task in TASK_NAMES})
    chosen = {task: read_choices(files[task.value], task) for task in Task}
    ids = list(chosen[Task.EMOTION])
    for task in Task:
        if set(chosen[task]) != set(ids):
            raise ValueError(f"{files[task.value].name}: its rows are not the rows of {files['emotion'].name}; "
                             "the three tasks must come from one run on one folder")
    return track, predictions_frame(ids, {task.value: [chosen[task][i] for i in ids] for task in Task})


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", help="lm_eval's --output_path (searched for samples_est_*.jsonl)")
    add_option(parser, "output", required=True, help="prediction file to write (.csv or .jsonl)")
    add_option(parser, "track", choices=TRACKS, help="which track's samples (needed only if both are there)")
    args = parser.parse_args(argv)
    try:  # a bad value: a usage error, before any work
        check_prediction_path(args.output)
    except ValueError as error:
        parser.error(f"--output {error}")
    try:
        track, frame = predictions_from_lm_eval(args.folder, args.track)
    except (ValueError, OSError) as error:  # the folder's data: one line, exit 1
        fail(str(error))
    write_predictions(frame, args.output)
    print(f"{len(frame):,} rows ({track} track) -> {args.output}; submit it to the leaderboard's {track} track")


if __name__ == "__main__":
    main()
