"""The canonical emotion label set shared by every corpus, model and artifact."""

from __future__ import annotations

CANONICAL_LABELS: tuple[str, ...] = (
    "neutral",
    "calm",
    "happy",
    "sad",
    "angry",
    "fearful",
    "disgust",
    "surprised",
)

LABEL_INDEX: dict[str, int] = {label: i for i, label in enumerate(CANONICAL_LABELS)}

# Training on corpora with different label sets (``edge_ser.train.TrainConfig``): how each
# label's crops are drawn from the corpora that have it, and which labels a clip's softmax
# (and so its loss) runs over.
BALANCES: tuple[str, ...] = ("corpus", "label")
LOSSES: tuple[str, ...] = ("pooled", "restricted")
