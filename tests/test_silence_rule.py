"""The silent-window rule (reference_preprocess/SPEC.md, "Silent windows") on constructed
patches whose levels are computed by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from edge_ser.aggregate import clip_probabilities
from edge_ser.reference_preprocess import (
    LOG_OFFSET,
    NUM_MEL_BANDS,
    PATCH_FRAMES,
    SILENCE_LEVEL_DROP,
    SPEECH_EDGE_FRAMES,
    SPEECH_FRAME_DROP_DB,
    LiveSilence,
    frame_levels_db,
    quiet_windows,
    silent_windows,
    window_levels,
)

SPEECH_DB = 20 * math.log10(NUM_MEL_BANDS * 1.0)  # every band at magnitude 1


def patch(speech_frames: slice, magnitude: float = 1.0) -> np.ndarray:
    """A log-mel patch: ``magnitude`` in every band over ``speech_frames``, digital silence
    elsewhere."""
    mel = np.zeros((PATCH_FRAMES, NUM_MEL_BANDS))
    mel[speech_frames] = magnitude
    return np.log(mel + LOG_OFFSET).astype(np.float32)


def test_frame_level_is_the_summed_mel_magnitude_in_db():
    levels = frame_levels_db(patch(slice(0, 10), magnitude=0.5))
    assert levels[0] == pytest.approx(20 * math.log10(NUM_MEL_BANDS * 0.5), abs=1e-4)
    assert levels[-1] == pytest.approx(-180.0)  # silence: the 1e-9 floor


def test_window_levels_read_the_mean_the_quieter_end_and_the_peak():
    quiet_end = PATCH_FRAMES - SPEECH_EDGE_FRAMES
    levels = window_levels(np.stack([patch(slice(0, None)), patch(slice(0, quiet_end))]))
    speech, silence = math.log(1 + LOG_OFFSET), math.log(LOG_OFFSET)
    expected_mean = (quiet_end * speech + SPEECH_EDGE_FRAMES * silence) / PATCH_FRAMES
    np.testing.assert_allclose(levels.mean, [speech, expected_mean], rtol=1e-6)
    np.testing.assert_allclose(levels.ends_db, [SPEECH_DB, -180.0], rtol=1e-5)
    np.testing.assert_allclose(levels.peak_db, [SPEECH_DB, SPEECH_DB], rtol=1e-5)


def test_a_window_with_a_silent_end_is_silence_though_its_level_is_not():
    # Speech until 0.24 s before the end: loud enough for the level rule, silent at one end.
    whole, trailing = patch(slice(0, None)), patch(slice(0, PATCH_FRAMES - SPEECH_EDGE_FRAMES))
    one_frame_left = patch(slice(0, PATCH_FRAMES - SPEECH_EDGE_FRAMES + 1))
    leading = patch(slice(SPEECH_EDGE_FRAMES, None))
    levels = window_levels(np.stack([whole, trailing, one_frame_left, leading]))
    assert levels.mean.max() - levels.mean.min() < SILENCE_LEVEL_DROP
    assert quiet_windows(levels).tolist() == [False] * 4
    assert silent_windows(levels).tolist() == [False, True, False, True]


def test_an_end_within_the_drop_of_the_loudest_frame_counts_as_speech():
    faint = 10 ** (-(SPEECH_FRAME_DROP_DB - 1) / 20)  # 29 dB below the loudest frame
    fainter = 10 ** (-(SPEECH_FRAME_DROP_DB + 1) / 20)  # 31 dB below
    louder, kept, dropped = (
        patch(slice(0, None)),
        np.concatenate([patch(slice(0, None))[:48], patch(slice(0, None), faint)[48:]]),
        np.concatenate([patch(slice(0, None))[:48], patch(slice(0, None), fainter)[48:]]),
    )
    levels = window_levels(np.stack([louder, kept, dropped]))
    assert silent_windows(levels).tolist() == [False, False, True]


def test_a_clip_keeps_its_loudest_window_when_every_window_has_a_silent_end():
    levels = window_levels(np.stack([patch(slice(30, 60)), patch(slice(40, 50), 0.5)]))
    assert quiet_windows(levels).tolist() == [False, False]
    assert silent_windows(levels).tolist() == [False, False]  # only the level rule applies
    probs = np.array([[0.9, 0.1], [0.3, 0.7]])
    np.testing.assert_allclose(clip_probabilities(probs, silent_windows(levels)), [0.6, 0.4])


def test_a_stream_judges_each_window_against_the_loudest_heard_so_far():
    levels = window_levels(patch(slice(0, PATCH_FRAMES - SPEECH_EDGE_FRAMES))[np.newaxis])
    assert silent_windows(levels).tolist() == [False]  # a whole clip of one window keeps it
    loudest = (float(levels.mean[0]), float(levels.peak_db[0]))
    assert silent_windows(levels, loudest).tolist() == [True]  # a stream has no fallback
    assert silent_windows(levels, (loudest[0] + SILENCE_LEVEL_DROP + 1, loudest[1])).tolist() == [
        True
    ]


def test_a_live_stream_remembers_the_loudest_window_and_frame_across_chunks():
    faint, loud = patch(slice(0, None), magnitude=0.01), patch(slice(0, None))
    levels = window_levels(np.stack([faint, loud, faint]))
    assert silent_windows(levels).tolist() == [True, False, True]  # the clip's loudest: window 1
    assert LiveSilence().silent(levels).tolist() == [False, False, True]  # nothing louder yet
    stream = LiveSilence()
    first = stream.silent(window_levels(faint[np.newaxis]))
    rest = stream.silent(window_levels(np.stack([loud, faint])))
    assert first.tolist() + rest.tolist() == [False, False, True]
    assert stream.loudest == (pytest.approx(levels.mean[1]), pytest.approx(SPEECH_DB, abs=1e-4))


def test_the_level_rule_at_another_drop_measures_the_rule_without_changing_it():
    loud, fainter = patch(slice(0, None)), patch(slice(0, None), magnitude=0.5)
    levels = window_levels(np.stack([loud, fainter]))
    gap = float(levels.mean[0] - levels.mean[1])
    assert 0 < gap < SILENCE_LEVEL_DROP
    assert quiet_windows(levels).tolist() == [False, False]
    assert quiet_windows(levels, drop=SILENCE_LEVEL_DROP).tolist() == [False, False]
    assert quiet_windows(levels, drop=gap * 0.9).tolist() == [False, True]
    assert quiet_windows(levels, drop=gap * 1.1).tolist() == [False, False]
