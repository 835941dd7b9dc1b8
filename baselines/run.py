"""Command line: train, predict and score one baseline (majority, tfidf, lora).
The code and its full usage are in `est_baselines.runner`.

    python baselines/run.py --help
"""

from est_baselines.runner import main

if __name__ == "__main__":
    main()
