"""The labels of the bank's user lines, pass by pass, and the final label the generator uses.

- pass 1: the author's label, written beside the line in the bank file (`U <Label>: ...`);
- pass 2: an independent annotator who never saw pass 1 labels every user line (`bank/annotations/pass2-*.tsv`);
- pass 3: where passes 1 and 2 disagree, a third annotator who saw neither label annotates the line
  (`bank/annotations/pass3-*.tsv`); that label is final.

Annotation files are UTF-8 TSV, one `line_id<TAB>label` per line (`#` comments allowed); a line id is
`<episode id>#<k>`, the k-th user line of the episode. Labels use the schema's names or its aliases.
"""

from __future__ import annotations

from pathlib import Path

from ..schema import normalize_label
from .episodes import BANK_DIR

ANNOTATIONS_DIR = BANK_DIR / "annotations"


def read_pass(number: int, folder: str | Path = ANNOTATIONS_DIR) -> dict[str, str]:
    """line id -> label of every file `pass<number>-*.tsv` in `folder` (a line annotated twice is an error)."""
    labels: dict[str, str] = {}
    for path in sorted(Path(folder).glob(f"pass{number}-*.tsv")):
        for lineno, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            try:
                line_id, label = line.split("\t")
                label = normalize_label("emotion", label)
            except ValueError as error:
                raise ValueError(f"{path.name}:{lineno}: expected 'line_id<TAB>label': {error}") from None
            if line_id in labels:
                raise ValueError(f"{path.name}:{lineno}: {line_id} is annotated twice in pass {number}")
            labels[line_id] = label
    return labels


def final_labels(folder: str | Path = ANNOTATIONS_DIR) -> dict[str, str]:
    """line id -> final label where it is not the author's: pass 3's label of each line passes 1 and 2 disagreed on.
    A line absent here keeps the author's label (passes 1 and 2 agreed, or it awaits pass 3)."""
    return read_pass(3, folder)
