"""EST baselines: majority class, TF-IDF + logistic regression, and LoRA fine-tuning of causal LMs (the paper's setup).

Every baseline writes the same leaderboard-ready prediction file (columns `id`, `emotion`, `transition`,
`satisfaction`; label names from `estbench.schema`). Entry points:

- `python baselines/run.py {majority,tfidf,tfidf-structured,encoder,lora} --track {balanced,full} --output FILE`:
  train, predict, score; `python baselines/run.py chat --base_url URL --model_name_or_path NAME ...`: ask a chat
  model behind an OpenAI-compatible endpoint (est_baselines.chat).
- `python baselines/lora_finetune.py --config baselines/configs/paper.yaml --model_name_or_path MODEL`: LoRA only.
- `python baselines/predict.py --model_name_or_path ADAPTER_OR_MODEL --track balanced --output FILE`: predict only.

See baselines/README.md.
"""

