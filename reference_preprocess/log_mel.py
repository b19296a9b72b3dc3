"""Reference log-mel preprocessor: the executable form of ``SPEC.md`` (NumPy only).

Every platform port (Android, iOS, waveform-in graphs) must reproduce what this module
computes; the golden vectors in ``golden/`` are generated from it.
"""

from __future__ import annotations

import numpy as np

from edge_ser.reference_preprocess.params import (
    FFT_LENGTH,
    HOP_LENGTH_SAMPLES,
    LOG_OFFSET,
    MEL_BREAK_FREQUENCY_HERTZ,
    MEL_HIGH_FREQUENCY_Q,
    MEL_MAX_HZ,
    MEL_MIN_HZ,
    MIN_SAMPLES,
    NUM_MEL_BANDS,
    NUM_SPECTRUM_BINS,
    PATCH_FRAMES,
    PATCH_HOP_FRAMES,
    SAMPLE_RATE,
    WINDOW_LENGTH_SAMPLES,
)

# Frames processed per block, so the float64 FFT buffers stay cache-resident (128 frames =
# 0.5 MB of windowed frames); 64..192 measured fastest on Zen 3, whole 60 s inputs 2x slower.
_BLOCK_FRAMES = 128


def hertz_to_mel(frequencies_hz: np.ndarray | float) -> np.ndarray:
    """HTK mel scale, ``m(f) = 1127 ln(1 + f / 700)``, computed in float64.

    Parameters
    ----------
    frequencies_hz : array_like
        Frequencies in Hz.

    Returns
    -------
    numpy.ndarray
        Mel values, same shape as the input, float64.
    """
    hz = np.asarray(frequencies_hz, dtype=np.float64)
    return MEL_HIGH_FREQUENCY_Q * np.log1p(hz / MEL_BREAK_FREQUENCY_HERTZ)


def mel_band_edges() -> np.ndarray:
    """Edges of the mel bands: ``linspace(m(125), m(7500), 66)`` in HTK mel, float64.

    Band ``b`` is the triangle rising from edge ``b`` to its centre, edge ``b + 1``, and
    falling to edge ``b + 2``; the 64 centres are ``mel_band_edges()[1:-1]``.
    """
    return np.linspace(hertz_to_mel(MEL_MIN_HZ), hertz_to_mel(MEL_MAX_HZ), NUM_MEL_BANDS + 2)


def _make_periodic_hann_window() -> np.ndarray:
    n = np.arange(WINDOW_LENGTH_SAMPLES, dtype=np.float64)
    window = (0.5 - 0.5 * np.cos(2.0 * np.pi * n / WINDOW_LENGTH_SAMPLES)).astype(np.float32)
    window.flags.writeable = False
    return window


def _make_mel_matrix() -> np.ndarray:
    nyquist_hz = SAMPLE_RATE / 2.0
    bins_mel = hertz_to_mel(np.linspace(0.0, nyquist_hz, NUM_SPECTRUM_BINS))[:, np.newaxis]
    edges_mel = mel_band_edges()
    lower, center, upper = edges_mel[:-2], edges_mel[1:-1], edges_mel[2:]
    lower_slope = (bins_mel - lower) / (center - lower)
    upper_slope = (upper - bins_mel) / (upper - center)
    weights = np.maximum(0.0, np.minimum(lower_slope, upper_slope))
    weights[0, :] = 0.0  # the DC bin never contributes
    matrix = weights.astype(np.float32)
    matrix.flags.writeable = False
    return matrix


_HANN_WINDOW = _make_periodic_hann_window()
_MEL_MATRIX = _make_mel_matrix()
# Spectrum bins with a non-zero weight in some band; the others are skipped (their weight is 0).
_NONZERO_BINS = np.flatnonzero(_MEL_MATRIX.any(axis=1))
_FIRST_BIN = int(_NONZERO_BINS[0])
_STOP_BIN = int(_NONZERO_BINS[-1]) + 1
_MEL_MATRIX_USED = np.ascontiguousarray(_MEL_MATRIX[_FIRST_BIN:_STOP_BIN])


def periodic_hann_window() -> np.ndarray:
    """Periodic Hann window ``w[n] = 0.5 - 0.5 cos(2 pi n / 400)``.

    Returns
    -------
    numpy.ndarray
        Shape ``(WINDOW_LENGTH_SAMPLES,)`` = ``(400,)``, float32, read-only (cached).
    """
    return _HANN_WINDOW


def mel_matrix() -> np.ndarray:
    """Mel weight matrix mapping magnitude-spectrum bins to mel bands (VGGish construction).

    Triangles are linear in HTK mel between ``linspace(m(125), m(7500), 66)`` edges; the DC
    row is zero.

    Returns
    -------
    numpy.ndarray
        Shape ``(NUM_SPECTRUM_BINS, NUM_MEL_BANDS)`` = ``(257, 64)``, float32, read-only (cached).
    """
    return _MEL_MATRIX


def _check_waveform(waveform: np.ndarray) -> np.ndarray:
    """Return ``waveform`` as a 1-D float32 array, or raise ValueError."""
    array = np.asarray(waveform)
    if array.ndim != 1:
        raise ValueError(f"waveform must be 1-D (mono), got shape {array.shape}")
    if not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"waveform must be floating point in [-1, 1], got dtype {array.dtype}; "
            "scale integer PCM before preprocessing"
        )
    return array.astype(np.float32, copy=False)


def _check_input(waveform: np.ndarray, sample_rate: int) -> np.ndarray:
    """Validate a waveform and its sample rate; return it as 1-D float32."""
    if sample_rate != SAMPLE_RATE:
        raise ValueError(
            f"sample rate must be {SAMPLE_RATE} Hz, got {sample_rate} Hz; resample when loading"
        )
    array = _check_waveform(waveform)
    if not np.isfinite(array).all():
        raise ValueError("waveform contains non-finite samples (NaN or inf)")
    return array


def _check_hop_frames(hop_frames: int) -> None:
    """Raise ValueError unless ``hop_frames`` is a positive integer."""
    if isinstance(hop_frames, bool) or not isinstance(hop_frames, (int, np.integer)):
        raise ValueError(f"hop_frames must be an integer, got {hop_frames!r}")
    if hop_frames < 1:
        raise ValueError(f"hop_frames must be >= 1, got {hop_frames}")


def frame_waveform(waveform: np.ndarray) -> np.ndarray:
    """Split a waveform into overlapping frames without copying (no centering).

    Frame ``j`` is ``waveform[160 j : 160 j + 400]``.

    Parameters
    ----------
    waveform : numpy.ndarray
        Shape ``(num_samples,)``.

    Returns
    -------
    numpy.ndarray
        Read-only view of shape ``(num_frames, 400)`` with
        ``num_frames = 0 if num_samples < 400 else 1 + (num_samples - 400) // 160``.
    """
    array = np.asarray(waveform)
    if array.ndim != 1:
        raise ValueError(f"waveform must be 1-D (mono), got shape {array.shape}")
    if array.shape[0] < WINDOW_LENGTH_SAMPLES:
        return np.empty((0, WINDOW_LENGTH_SAMPLES), dtype=array.dtype)
    windows = np.lib.stride_tricks.sliding_window_view(array, WINDOW_LENGTH_SAMPLES)
    return windows[::HOP_LENGTH_SAMPLES]


def waveform_to_log_mel(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """Log-mel spectrogram ``log(|rfft(frame * hann, 512)| @ mel_matrix + 0.01)``.

    No padding is applied here: a waveform shorter than 400 samples gives zero frames.

    Parameters
    ----------
    waveform : numpy.ndarray
        Shape ``(num_samples,)``, floating point, mono, at 16 kHz; converted to float32.
    sample_rate : int
        Must equal ``SAMPLE_RATE`` (16000 Hz).

    Returns
    -------
    numpy.ndarray
        Shape ``(num_frames, 64)``, float32, natural log.

    Raises
    ------
    ValueError
        Wrong sample rate, not 1-D, not floating point, or non-finite samples.
    """
    frames = frame_waveform(_check_input(waveform, sample_rate))
    num_frames = frames.shape[0]
    log_mel = np.empty((num_frames, NUM_MEL_BANDS), dtype=np.float32)
    block = max(1, min(_BLOCK_FRAMES, num_frames))
    # The windowed frame is rounded to float32 and written into a zero-initialised float64
    # buffer whose columns 400..511 stay zero (the end padding). The DFT runs in float64:
    # NumPy's float64 rfft is faster than its float32 one, and the result is then accurate
    # to float32 rounding, which makes the reference a precise target for ports. The used
    # bins are rounded to complex64 before |.| (float32 abs is faster than float64 abs).
    padded = np.zeros((block, FFT_LENGTH), dtype=np.float64)
    spectrum = np.empty((block, NUM_SPECTRUM_BINS), dtype=np.complex128)
    used_bins = np.empty((block, _STOP_BIN - _FIRST_BIN), dtype=np.complex64)
    magnitude = np.empty((block, _STOP_BIN - _FIRST_BIN), dtype=np.float32)
    for start in range(0, num_frames, block):
        stop = min(start + block, num_frames)
        n = stop - start
        np.multiply(frames[start:stop], _HANN_WINDOW, out=padded[:n, :WINDOW_LENGTH_SAMPLES])
        np.fft.rfft(padded[:n], axis=-1, out=spectrum[:n])
        used_bins[:n] = spectrum[:n, _FIRST_BIN:_STOP_BIN]
        np.abs(used_bins[:n], out=magnitude[:n])
        np.matmul(magnitude[:n], _MEL_MATRIX_USED, out=log_mel[start:stop])
    np.add(log_mel, np.float32(LOG_OFFSET), out=log_mel)
    np.log(log_mel, out=log_mel)
    return log_mel


def log_mel_to_patches(log_mel: np.ndarray, hop_frames: int = PATCH_HOP_FRAMES) -> np.ndarray:
    """Cut a log-mel spectrogram into overlapping patches of 96 frames.

    Patch ``i`` is ``log_mel[hop_frames * i : hop_frames * i + 96]``; trailing frames that do
    not fill a whole patch are dropped.

    Parameters
    ----------
    log_mel : numpy.ndarray
        Shape ``(num_frames, 64)`` with ``num_frames >= 96``.
    hop_frames : int
        Hop between patch starts, in frames (>= 1).

    Returns
    -------
    numpy.ndarray
        Read-only view into ``log_mel`` (no copy) of shape
        ``(1 + (num_frames - 96) // hop_frames, 96, 64)``; use ``numpy.ascontiguousarray``
        for an independent contiguous copy.

    Raises
    ------
    ValueError
        Wrong shape, fewer than 96 frames, or ``hop_frames`` not a positive integer.
    """
    array = np.asarray(log_mel)
    if array.ndim != 2 or array.shape[1] != NUM_MEL_BANDS:
        raise ValueError(f"log_mel must have shape (frames, {NUM_MEL_BANDS}), got {array.shape}")
    if array.shape[0] < PATCH_FRAMES:
        raise ValueError(
            f"log_mel has {array.shape[0]} frames, fewer than one patch ({PATCH_FRAMES})"
        )
    _check_hop_frames(hop_frames)
    windows = np.lib.stride_tricks.sliding_window_view(array, PATCH_FRAMES, axis=0)
    return windows[::hop_frames].transpose(0, 2, 1)


def pad_to_min_length(waveform: np.ndarray) -> tuple[np.ndarray, bool]:
    """Zero-pad a waveform at the end to ``MIN_SAMPLES`` (15600) if it is shorter.

    Parameters
    ----------
    waveform : numpy.ndarray
        Shape ``(num_samples,)``, floating point; converted to float32.

    Returns
    -------
    tuple of (numpy.ndarray, bool)
        The waveform, shape ``(max(num_samples, 15600),)`` float32, and whether it was padded.
    """
    array = _check_waveform(waveform)
    missing = MIN_SAMPLES - array.shape[0]
    if missing <= 0:
        return array, False
    return np.pad(array, (0, missing)), True


def waveform_to_padded_log_mel(waveform: np.ndarray, sample_rate: int = SAMPLE_RATE) -> np.ndarray:
    """The pad policy, then the log-mel: a clip's full log-mel, at least one patch long.

    Returns
    -------
    numpy.ndarray
        Shape ``(max(num_frames, 96), 64)``, float32.
    """
    padded, _ = pad_to_min_length(waveform)
    return waveform_to_log_mel(padded, sample_rate)


def waveform_to_patches(
    waveform: np.ndarray,
    sample_rate: int = SAMPLE_RATE,
    hop_frames: int = PATCH_HOP_FRAMES,
) -> np.ndarray:
    """Model inputs for a clip: pad to ``MIN_SAMPLES``, log-mel, then patches.

    Patch ``i`` covers samples ``[160 * hop_frames * i, 160 * hop_frames * i + 15600)``
    (``[7680 i, 7680 i + 15600)`` at the default hop); every clip yields at least one patch.

    Parameters
    ----------
    waveform : numpy.ndarray
        Shape ``(num_samples,)``, floating point, mono, at 16 kHz.
    sample_rate : int
        Must equal ``SAMPLE_RATE`` (16000 Hz).
    hop_frames : int
        Hop between patch starts, in frames.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_patches, 96, 64)``, float32, a read-only view (see `log_mel_to_patches`).

    Raises
    ------
    ValueError
        As `waveform_to_log_mel`, or ``hop_frames`` not a positive integer.
    """
    _check_hop_frames(hop_frames)
    return log_mel_to_patches(waveform_to_padded_log_mel(waveform, sample_rate), hop_frames)
