"""EST leaderboard: validate uploaded prediction files, score them on hidden test labels, store and rank them.

The submission format and its check (`estbench.submission`) and the gold with its public/private cut
(`estbench.gold`) live in the library, which the baselines and the bench scripts share; this package is the served
board around them.

Modules, one job each:
- `settings`   every environment variable / path / limit the app reads (the only place that reads them)
- `scoring`    score validated predictions on both halves with the shared metric core `estbench.scoring`
- `storage`    SQLite (WAL) store of accepted submissions + archive of the raw files
- `seeds`      rows that are not user submissions: the paper's Table 4 and the project's baselines
- `board`      the ranked table shown on the page
- `service`    the submission flow (limits, duplicates, validate -> score -> store) without any UI
- `plots`      the per-class F1 figure of a submission's detail view (no confusion matrix is ever shown)
- `ui`         the Gradio Blocks page
"""

__version__ = "0.1.0"
