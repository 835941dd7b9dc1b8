#!/usr/bin/env bash
# Re-measure the shipped baseline figures on the embedded default: baselines/results/*.json (whole test split) and
# the leaderboard's seed rows (leaderboard/seed_baselines.json, scored on its public/private halves), from the same
# prediction files. Run from the repository root after any change to the simulator or the builder:
#     bash baselines/reproduce_results.sh [EXTRA BUILD ARGS]
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python est_dataset.py build --out "$work/est" --no_progress "$@" > /dev/null
rm -f leaderboard/seed_baselines.json
# the full track trains on a seeded subsample: all ~1.3M rows take TF-IDF well over 10 minutes (baselines/README.md)
FULL_SUBSAMPLE=${FULL_SUBSAMPLE:-200000}
for track in balanced full; do
  subsample=()
  [ "$track" = full ] && subsample=(--train_subsample "$FULL_SUBSAMPLE")
  for baseline in majority tfidf tfidf-structured; do
    python baselines/run.py "$baseline" --track "$track" --est_dir "$work/est" --output "$work/$baseline-$track.csv" \
      --results "baselines/results/$baseline-$track.json" "${subsample[@]}"
    case "$baseline" in
      majority) name="Majority class"; what="Most frequent training label per task";;
      tfidf) name="TF-IDF + logistic regression"; what="Character 1-3-gram TF-IDF of utterance and context, logistic regression per task";;
      tfidf-structured) name="Structured TF-IDF"; what="TF-IDF emotion and anchor polarity; satisfaction and transition derived by the paper's rules";;
    esac
    python -m est_leaderboard.seeds add-baseline --predictions "$work/$baseline-$track.csv" --model "$name" \
      --track "$track" --gold "$work/est" --seed_file leaderboard/seed_baselines.json \
      --description "$what (python baselines/run.py $baseline). Simulated default corpus." > /dev/null
  done
done
# the encoder trained from scratch (no pretrained checkpoint can be downloaded where these figures are made): balanced
# track only, about 15 minutes on a 2-core CPU; the full track's 1.3M rows (3 epochs) would take about 7 hours there (estimated)
python -m est_baselines.tiny "$work/char-bert" --from_est "$work/est" --kind bert --hidden_size 128 --layers 2 > /dev/null
python baselines/run.py encoder --track balanced --est_dir "$work/est" --model_name_or_path "$work/char-bert" \
  --encoder_recipe baselines/configs/encoder-from-scratch.yaml --name encoder-from-scratch \
  --output "$work/encoder-balanced.csv" --results baselines/results/encoder-from-scratch-balanced.json
python -m est_leaderboard.seeds add-baseline --predictions "$work/encoder-balanced.csv" \
  --model "Encoder from scratch" --track balanced --gold "$work/est" --seed_file leaderboard/seed_baselines.json \
  --description "2-layer character BERT, randomly initialised, one head per task (python baselines/run.py encoder \
with configs/encoder-from-scratch.yaml; no pretraining). Simulated default corpus." > /dev/null
echo "wrote baselines/results/*.json and leaderboard/seed_baselines.json:"
python -m est_baselines.report baselines/results/*.json
