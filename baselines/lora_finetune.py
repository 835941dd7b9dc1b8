"""Command line: LoRA fine-tuning with the paper's recipe.
The code and its full usage are in `est_baselines.lora`.

    python baselines/lora_finetune.py --help
"""

from est_baselines.lora import main

if __name__ == "__main__":
    main()
