"""Command line: predict a leaderboard file with a fine-tuned causal LM.
The code and its full usage are in `est_baselines.prediction`.

    python baselines/predict.py --help
"""

from est_baselines.prediction import main

if __name__ == "__main__":
    main()
