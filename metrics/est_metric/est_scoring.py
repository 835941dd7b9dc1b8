"""The scoring core the metric imports (`from .est_scoring import ...`), as the installed estbench package.

In a clone this file re-exports `estbench`. `metrics/deploy.py` replaces it in the Space folder by the same modules
joined into one file (`estbench.spaces.single_file`): evaluate copies only the module and the files it imports
relatively, so the Space, and anyone loading the metric from the Hub, needs no estbench.
"""

from estbench.paper import CITATION
from estbench.schema import TASK_NAMES
from estbench.scoring import encode, score, score_dialogue_satisfaction

__all__ = ["CITATION", "TASK_NAMES", "encode", "score", "score_dialogue_satisfaction"]
