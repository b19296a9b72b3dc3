"""How patch predictions become one clip prediction: the single rule used everywhere.

A clip's probabilities are the arithmetic mean of its patches' probabilities (patches taken
with ``reference_preprocess`` framing, hop 48 frames). ``evaluate``, ``predict``, ``verify``,
the streaming recognizer and the sample apps all use this rule.
"""

from __future__ import annotations

import numpy as np

AGGREGATION_RULE = "mean of patch probabilities"


def clip_probabilities(patch_probabilities: np.ndarray) -> np.ndarray:
    """Average ``(n_patches, n_labels)`` probabilities into one ``(n_labels,)`` vector."""
    probs = np.asarray(patch_probabilities, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise ValueError(f"expected (n_patches >= 1, n_labels) probabilities, got {probs.shape}")
    return probs.mean(axis=0)


def split_by_counts(values: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Split rows of ``values`` into consecutive groups of the given sizes (one per clip)."""
    if sum(counts) != len(values):
        raise ValueError(f"counts sum to {sum(counts)} but there are {len(values)} rows")
    return np.split(values, np.cumsum(counts)[:-1])
