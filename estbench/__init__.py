"""estbench: the library behind the EST benchmark (emotion, emotion-state transition and satisfaction of user
utterances in Chinese customer-service dialogue).

Layers, each importing only from the ones above it:

- core:     `schema` (labels, aliases, the initial-polarity rule), `paper` (the paper's Tables 2-4, the citation),
            `layout` (configs, splits, tracks, the gold-file convention), `errors` (one error-report base),
            `io` (atomic file and folder writes), `cli` (the command-line convention of every entry point),
            `prompts` (the prompts of generative classification and `PromptSettings`)
- `scoring` the metric core every part scores with (numpy/pyarrow)
- `raw`     raw format v1 and its validating reader
- `built`   the reader of a built EST folder (splits, tracks, the gold file of a blind build)
- `gold`    the gold of a track, its public/private cut and version; the references a baseline is scored on
- `submission` the prediction-file format: columns, extensions, writing, checking an uploaded file
- `results` one schema for stored scores (baseline result files, the leaderboard's seed rows)
- `convert` converters of public corpora (CPED, the Taobao SSA corpora) into raw format v1
- `simulator` the simulated corpus that is the embedded default
- `dataset` corpus -> config tables, card (with figures) and Hub-ready Parquet folder
- `spaces`  the one assembler of the metric and leaderboard Spaces
- `testing` helpers the tests and bench scripts share (not shipped in a Space)

Importing `estbench` imports none of them: take the module you need.
"""

__version__ = "0.2.0"
