"""Silent windows: which windows of a clip are silence (SPEC.md, "Silent windows").

A window's *level* is the mean of its log-mel patch. A window is silence when its level is
more than ``SILENCE_LEVEL_DROP`` below the level of the clip's loudest window, so the loudest
window never is and a clip always keeps at least one window. Silent windows are marked as
such and left out of the clip's mean of window probabilities (``edge_ser.aggregate``).
"""

from __future__ import annotations

import numpy as np

from edge_ser.reference_preprocess.params import SILENCE_LEVEL_DROP


def window_levels(patches: np.ndarray) -> np.ndarray:
    """The level of each window: the mean of its patch, summed in float64.

    Parameters
    ----------
    patches : numpy.ndarray
        Shape ``(n, 96, 64)`` or ``(n, 96, 64, 1)``: log-mel patches.

    Returns
    -------
    numpy.ndarray
        Shape ``(n,)``, float64.
    """
    patches = np.asarray(patches)
    values = patches.reshape(len(patches), int(np.prod(patches.shape[1:])))
    return values.mean(axis=1, dtype=np.float64)


def silent_windows(levels: np.ndarray, loudest: float | None = None) -> np.ndarray:
    """``(n,)`` booleans: which windows of ``levels`` are silence.

    ``loudest`` is the level of the clip's loudest window; by default the largest of
    ``levels`` (a live stream passes the loudest level heard so far).
    """
    levels = np.asarray(levels, dtype=np.float64)
    if loudest is None:
        loudest = levels.max(initial=-np.inf)
    return levels < loudest - SILENCE_LEVEL_DROP
