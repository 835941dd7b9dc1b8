"""estbench: the library behind the EST benchmark (emotion, emotion-state transition and satisfaction of user
utterances in Chinese customer-service dialogue).

Its parts, one job each, are listed in `LAYERS` below, the lowest layer first. A part imports only from a lower
layer (or within its own sub-package), so nothing imports upward; `tests/test_house.py` checks it against this one
statement. Importing `estbench` imports none of them: take the module you need.
"""

__version__ = "0.2.0"

# The one statement of estbench's layers, lowest first: part -> its one job.
LAYERS: tuple[dict[str, str], ...] = (
    {
        "schema": "labels, aliases, the initial-polarity rule",
        "errors": "one error-report base",
        "io": "atomic file and folder writes",
        "cli": "the command-line convention of every entry point and the options-to-flags generator",
        "agreement": "agreement between two annotations (Cohen's kappa overall and per class)",
    },
    {
        "paper": "the paper's Tables 2-4 and the citation",
        "layout": "configs, splits, columns, tracks, shard names and where the gold file goes",
        "conventions": "the field's other metric conventions (opt-in extras of scoring)",
        "consistency": "cross-task consistency of predictions (an opt-in extra of scoring)",
        "slices": "slices of a test set (an opt-in extra of scoring)",
        "prompts": "the prompts of generative classification and PromptSettings, which every model takes",
        "measured": "measured figures, one home: what each bench script recorded, which the README and card quote",
    },
    {
        "scoring": "the metric core every part scores with (numpy/pyarrow)",
        "raw": "raw format v1 and its validating reader",
        "simulator": "the simulated corpus that is the embedded default",
        "built": "the reader of a built EST folder (splits, tracks, the gold file of a blind build)",
        "answers": "the one parser of generated answers (chat/API models, lm-eval generative tasks, inspect)",
    },
    {
        "results": "one schema for stored scores (baseline result files, the leaderboard's seed rows)",
        "convert": "converters of public corpora (CPED, the Taobao SSA corpora) into raw format v1",
        "significance": "the paired bootstrap / randomization test of two systems",
        "gold": "the gold of a track, its public/private cut and version; the references a baseline is scored on",
        "hub_eval": "the Hub's evaluation-results files (the dataset's eval.yaml, a model's .eval_results entries)",
    },
    {
        "dataset": "corpus -> config tables, card (with figures) and Hub-ready Parquet folder",
        "submission": "the prediction-file format: columns, extensions, writing, checking an uploaded file",
    },
    {
        "spaces": "the one assembler of the metric and leaderboard Spaces",
        "testing": "helpers the tests and bench scripts share (not shipped in a Space)",
    },
)
