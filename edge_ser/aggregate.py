"""How patch predictions become one clip prediction: the single rule used everywhere.

A clip's probabilities are the arithmetic mean of the probabilities of its patches that are
not silence (patches taken with ``reference_preprocess`` framing, hop 48 frames; silence as
``reference_preprocess.silence`` defines it: a patch whose mean log-mel is more than
``SILENCE_LEVEL_DROP`` below the loudest patch's, or one whose first or last 0.24 s holds no
frame within ``SPEECH_FRAME_DROP_DB`` of the loudest frame). ``evaluate``, ``predict``,
``verify``, the streaming recognizer and the sample apps all use this rule.
"""

from __future__ import annotations

import numpy as np

from edge_ser.reference_preprocess import (
    SILENCE_LEVEL_DROP,
    SPEECH_EDGE_FRAMES,
    SPEECH_FRAME_DROP_DB,
)

AGGREGATION_RULE = (
    "mean of the probabilities of the patches that are not silence (silence: mean log-mel "
    f"more than {SILENCE_LEVEL_DROP:g} below the loudest patch's, or the first or last "
    f"{SPEECH_EDGE_FRAMES} frames all more than {SPEECH_FRAME_DROP_DB:g} dB below the loudest "
    "frame)"
)


def clip_probabilities(
    patch_probabilities: np.ndarray, silent: np.ndarray | None = None
) -> np.ndarray:
    """Average ``(n_patches, n_labels)`` probabilities into one ``(n_labels,)`` vector.

    ``silent`` (``reference_preprocess.silent_windows`` of the patches' levels) leaves those
    patches out; without it every patch counts.
    """
    probs = np.asarray(patch_probabilities, dtype=np.float32)
    if probs.ndim != 2 or probs.shape[0] == 0:
        raise ValueError(f"expected (n_patches >= 1, n_labels) probabilities, got {probs.shape}")
    if silent is not None:
        if len(silent) != len(probs):
            raise ValueError(f"{len(silent)} silence flags for {len(probs)} patches")
        probs = probs[~np.asarray(silent, dtype=bool)]
    return probs.mean(axis=0)


def split_by_counts(values: np.ndarray, counts: list[int]) -> list[np.ndarray]:
    """Split rows of ``values`` into consecutive groups of the given sizes (one per clip)."""
    if sum(counts) != len(values):
        raise ValueError(f"counts sum to {sum(counts)} but there are {len(values)} rows")
    return np.split(values, np.cumsum(counts)[:-1])
