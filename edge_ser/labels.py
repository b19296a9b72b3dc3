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
