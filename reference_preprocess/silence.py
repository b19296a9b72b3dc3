"""Silent windows: which windows of a clip are silence (SPEC.md, "Silent windows").

A window's *level* is the mean of its log-mel patch. A window is silence when its level is
more than ``SILENCE_LEVEL_DROP`` below the level of the clip's loudest window, or when one of
its ends (its first or last ``SPEECH_EDGE_FRAMES`` frames) holds no frame within
``SPEECH_FRAME_DROP_DB`` of the clip's loudest frame: such a window is the start or the end of
an utterance, mostly silence. Silent windows are marked as such and left out of the clip's
mean of window probabilities (``edge_ser.aggregate``). A clip keeps at least its loudest
window: where the ends rule would leave nothing, only the level rule applies.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from edge_ser.reference_preprocess.params import (
    LOG_OFFSET,
    NUM_MEL_BANDS,
    PATCH_FRAMES,
    SILENCE_LEVEL_DROP,
    SPEECH_EDGE_FRAMES,
    SPEECH_FRAME_DROP_DB,
)


class WindowLevels(NamedTuple):
    """What the silence rule reads from each window, all ``(n,)`` float64."""

    mean: np.ndarray  # the mean of the window's log-mel patch (natural-log units)
    ends_db: np.ndarray  # the quieter end's loudest frame (frame_levels_db)
    peak_db: np.ndarray  # the window's loudest frame


def frame_levels_db(log_mel: np.ndarray) -> np.ndarray:
    """Each frame's level in dB: 20 log10 of its summed mel magnitudes (the log offset removed).

    ``log_mel``: ``(..., frames, 64)``; returns ``(..., frames)`` float64.
    """
    magnitudes = np.exp(np.asarray(log_mel, dtype=np.float64)) - LOG_OFFSET
    return 20 * np.log10(np.maximum(magnitudes.sum(axis=-1), 1e-9))


def window_levels(patches: np.ndarray) -> WindowLevels:
    """The levels of each window (``WindowLevels``).

    Parameters
    ----------
    patches : numpy.ndarray
        Shape ``(n, 96, 64)`` or ``(n, 96, 64, 1)``: log-mel patches.
    """
    patches = np.asarray(patches).reshape(len(patches), PATCH_FRAMES, NUM_MEL_BANDS)
    frames_db = frame_levels_db(patches)
    first = frames_db[:, :SPEECH_EDGE_FRAMES].max(axis=1, initial=-np.inf)
    last = frames_db[:, -SPEECH_EDGE_FRAMES:].max(axis=1, initial=-np.inf)
    return WindowLevels(
        mean=patches.mean(axis=(1, 2), dtype=np.float64),
        ends_db=np.minimum(first, last),
        peak_db=frames_db.max(axis=1, initial=-np.inf),
    )


def silent_windows(
    levels: WindowLevels, loudest: tuple[np.ndarray | float, np.ndarray | float] | None = None
) -> np.ndarray:
    """``(n,)`` booleans: which windows are silence.

    ``loudest``: the loudest window mean and the loudest frame's dB to judge each window
    against (``LiveSilence`` passes those heard so far); by default the clip's own, and then at
    least the loudest window is kept.
    """
    whole_clip = loudest is None
    if whole_clip:
        loudest = (np.max(levels.mean, initial=-np.inf), np.max(levels.peak_db, initial=-np.inf))
    quiet = quiet_windows(levels, loudest[0])
    silent = quiet | (
        np.asarray(levels.ends_db, dtype=np.float64) < loudest[1] - SPEECH_FRAME_DROP_DB
    )
    if whole_clip and silent.all():
        return quiet
    return silent


def quiet_windows(
    levels: WindowLevels,
    loudest: np.ndarray | float | None = None,
    drop: float = SILENCE_LEVEL_DROP,
) -> np.ndarray:
    """The level rule alone: each window's mean more than ``drop`` below ``loudest`` (by
    default the clip's loudest mean). Alone, it is the rule before silent ends counted, kept
    for comparisons; another ``drop`` is for measuring the rule, not part of it."""
    mean = np.asarray(levels.mean, dtype=np.float64)
    return mean < (mean.max(initial=-np.inf) if loudest is None else loudest) - drop


class LiveSilence:
    """The rule on a live stream: each window against the loudest window mean and the loudest
    frame heard so far, its own included, with no fallback (any window may be silence)."""

    def __init__(self) -> None:
        self.loudest = (-np.inf, -np.inf)

    def silent(self, levels: WindowLevels) -> np.ndarray:
        """``(n,)`` booleans for the stream's next windows, in order; remembers their levels."""
        mean = np.maximum.accumulate(np.append(self.loudest[0], levels.mean))[1:]
        peak_db = np.maximum.accumulate(np.append(self.loudest[1], levels.peak_db))[1:]
        if len(mean):
            self.loudest = (float(mean[-1]), float(peak_db[-1]))
        return silent_windows(levels, (mean, peak_db))
