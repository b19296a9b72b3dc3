"""Every constant of the reference log-mel preprocessing spec (see ``SPEC.md``).

This module is the single home of these numbers: the preprocessor, the exporter, the
runtimes and the tests all read them from here.
"""

from __future__ import annotations

# Sample rate of every waveform the preprocessor accepts, in Hz.
SAMPLE_RATE = 16000
# Analysis window length, in samples (25 ms at 16 kHz).
WINDOW_LENGTH_SAMPLES = 400
# Hop between consecutive frames, in samples (10 ms at 16 kHz).
HOP_LENGTH_SAMPLES = 160
# Real FFT length, in samples; each frame is zero-padded at the end to this length.
FFT_LENGTH = 512
# Number of magnitude-spectrum bins produced by the real FFT (DC .. Nyquist).
NUM_SPECTRUM_BINS = FFT_LENGTH // 2 + 1
# Number of mel bands in the log-mel spectrogram.
NUM_MEL_BANDS = 64
# Lower edge of the lowest mel band, in Hz.
MEL_MIN_HZ = 125.0
# Upper edge of the highest mel band, in Hz.
MEL_MAX_HZ = 7500.0
# HTK mel scale m(f) = MEL_HIGH_FREQUENCY_Q * ln(1 + f / MEL_BREAK_FREQUENCY_HERTZ), in mel.
MEL_HIGH_FREQUENCY_Q = 1127.0
# Break frequency of the HTK mel scale, in Hz.
MEL_BREAK_FREQUENCY_HERTZ = 700.0
# Offset added to mel energies before the natural log (stabilises log of silence), unitless.
LOG_OFFSET = 0.01
# Frames per model input patch (0.96 s of audio).
PATCH_FRAMES = 96
# Default hop between patches, in frames (0.48 s, i.e. 50 % overlap).
PATCH_HOP_FRAMES = 48
# Fewest samples that yield one full patch; shorter clips are zero-padded to this length.
MIN_SAMPLES = WINDOW_LENGTH_SAMPLES + (PATCH_FRAMES - 1) * HOP_LENGTH_SAMPLES
# Default hop between patches, in samples.
PATCH_HOP_SAMPLES = PATCH_HOP_FRAMES * HOP_LENGTH_SAMPLES
# Silent windows (not features: the clip rule): a window whose level, the mean of its log-mel
# patch, is more than this below the loudest window's level is silence (natural-log units;
# 2.0 is a factor e^2 = 7.4 in geometric-mean mel energy, about 8.7 dB).
SILENCE_LEVEL_DROP = 2.0
# Silent ends: a frame's level is 20 log10 of the sum of its mel magnitudes (dB); a window
# whose first or last SPEECH_EDGE_FRAMES frames (0.24 s) all lie more than
# SPEECH_FRAME_DROP_DB below the loudest frame is silence too: it holds the start or the end
# of an utterance, not speech throughout.
SPEECH_EDGE_FRAMES = 24
SPEECH_FRAME_DROP_DB = 30.0
# Version of this spec; bump whenever any number or step above changes.
PREPROCESSOR_VERSION = "1"
