"""Command line: turn `lm_eval ... --predict_only --log_samples` output on the EST tasks into a leaderboard file.
The code is in `est_baselines.harness`.

    python baselines/from_lm_eval.py OUT --output predictions.csv
"""

from est_baselines.harness import main

if __name__ == "__main__":
    main()
