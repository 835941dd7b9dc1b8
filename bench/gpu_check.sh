#!/usr/bin/env bash
# The GPU-only paths of the LLM baselines in one command, for a machine with a CUDA GPU (none exists where this
# project is developed; the CPU paths are covered by the tests). Install first:
#     pip install torch                        # the CUDA build
#     pip install -r requirements-vllm.txt bitsandbytes   # the project, the baselines' stack and vLLM
#     bash bench/gpu_check.sh [MODEL]          # default: Qwen/Qwen2.5-0.5B-Instruct (a small instruct model)
# It builds a small simulated corpus, then runs the LoRA recipe (baselines/configs/paper.yaml, shortened to
# $STEPS steps, chat-template prompts) on MODEL twice: bf16, and 4-bit (QLoRA, bitsandbytes). Each adapter predicts
# the same $ROWS test rows with both engines: transformers + constrained decoding (--engine hf) and vLLM with
# output restricted to the valid answers and prefix caching (--engine vllm). It prints every run's throughput, the
# agreement between the two engines and each file's macro-F1. Environment: MODEL, STEPS (200), ROWS (2000), WORK,
# PYTHON (the interpreter to run everything with; default: the first `python` on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
python() { command "${PYTHON:-python}" "$@"; }  # every step runs on the one interpreter, whatever PATH holds
MODEL=${1:-${MODEL:-Qwen/Qwen2.5-0.5B-Instruct}}
STEPS=${STEPS:-200}
ROWS=${ROWS:-2000}
work=${WORK:-$(mktemp -d)}
python -c "import sys, torch; sys.exit(0 if torch.cuda.is_available() else 'bench/gpu_check.sh needs a CUDA GPU')"
python -c "import vllm, bitsandbytes" || { echo "install requirements-vllm.txt and bitsandbytes first" >&2; exit 1; }

echo "model $MODEL, $STEPS training steps, $ROWS test rows; work folder $work"
python est_dataset.py build --sessions 5000 --out "$work/est" --no_progress > /dev/null

seconds() { python -c "import time; print(time.time())"; }
for variant in bf16 4bit; do
  quantized=()
  [ "$variant" = 4bit ] && quantized=(--load_in_4bit true)
  python baselines/lora_finetune.py --config baselines/configs/paper.yaml --model_name_or_path "$MODEL" \
    --est_dir "$work/est" --output_dir "$work/$variant" --max_steps "$STEPS" --learning_rate 1e-4 \
    --chat_template true --bf16 true --dtype bfloat16 "${quantized[@]}" > "$work/$variant-train.log" 2>&1 \
    || { tail -n 30 "$work/$variant-train.log"; exit 1; }
  for engine in hf vllm; do
    loading=()
    [ "$engine" = hf ] && [ "$variant" = 4bit ] && loading=(--load_in_4bit)
    start=$(seconds)
    python baselines/predict.py --engine "$engine" --model_name_or_path "$work/$variant" --est_dir "$work/est" \
      --track balanced --split test --limit "$ROWS" --dtype bfloat16 --output "$work/$variant-$engine.csv" \
      "${loading[@]}" > "$work/$variant-$engine.log" 2>&1 || { tail -n 30 "$work/$variant-$engine.log"; exit 1; }
    end=$(seconds)
    python -c "print(f'$variant adapter, --engine $engine: {$ROWS / ($end - $start):.1f} utterances/s \
(model loading included, {$end - $start:.0f} s)')"
  done
done

python - "$work" <<'EOF'
import sys
from pathlib import Path

import pandas as pd

from estbench.built import load_track
from estbench.scoring import score
from estbench.schema import TASKS

work = Path(sys.argv[1])
gold = load_track(work / "est", "balanced", "test").set_index("id")
for variant in ("bf16", "4bit"):
    hf, vllm = (pd.read_csv(work / f"{variant}-{engine}.csv").set_index("id") for engine in ("hf", "vllm"))
    same = {t.value: float((hf[t.value] == vllm.loc[hf.index, t.value]).mean()) for t in TASKS}
    print(f"{variant}: hf and vllm agree on " + ", ".join(f"{task} {share:.1%}" for task, share in same.items()))
    for engine, table in (("hf", hf), ("vllm", vllm)):
        reference = gold.loc[table.index]
        scores = score({t.value: reference[t.value].tolist() for t in TASKS},
                       {t.value: table[t.value].tolist() for t in TASKS})
        print(f"  {engine}: " + ", ".join(f"{t.value} macro-F1 {scores[f'{t.value}_macro_f1']:.3f}" for t in TASKS))
EOF
