"""Waveform windows: what waveform-in models take, from clips or synthesized from patches.

A waveform-in model (``edge_ser.log_mel_layer``) takes one *window* of raw 16 kHz samples,
``params.MIN_SAMPLES`` long. Window ``i`` of a clip is samples ``[7680 i, 7680 i + 15600)``
after the reference pad policy; its reference log-mel is patch ``i`` of the clip. NumPy only.
"""

from __future__ import annotations

import numpy as np

from edge_ser.reference_preprocess import (
    mel_matrix,
    pad_to_min_length,
    params,
    periodic_hann_window,
)

# Frames in one window: exactly one patch.
FRAMES = 1 + (params.MIN_SAMPLES - params.WINDOW_LENGTH_SAMPLES) // params.HOP_LENGTH_SAMPLES
# Patches reconstructed at once by synthesize_windows (bounds its memory to about 100 MB).
_SYNTHESIS_BLOCK = 32


def waveform_windows(waveform: np.ndarray) -> np.ndarray:
    """The inputs of a waveform-in model for one clip: its windows.

    Window ``i`` is samples ``[7680 i, 7680 i + 15600)`` of the clip after the pad policy
    (zero-padded at the end to at least 15600 samples); its reference log-mel is patch ``i``
    of ``reference_preprocess.waveform_to_patches``.

    Parameters
    ----------
    waveform : numpy.ndarray
        Shape ``(num_samples,)``, floating point, 16 kHz mono.

    Returns
    -------
    numpy.ndarray
        Shape ``(num_patches, 15600)``, float32 (a copy).
    """
    padded, _ = pad_to_min_length(waveform)
    views = np.lib.stride_tricks.sliding_window_view(padded, params.MIN_SAMPLES)
    return np.array(views[:: params.PATCH_HOP_SAMPLES], dtype=np.float32)


def synthesize_windows(patches: np.ndarray, iterations: int = 32, seed: int = 0) -> np.ndarray:
    """Windows whose reference log-mel resembles given patches (Griffin-Lim reconstruction).

    Used where real speech is needed as waveforms but only log-mel patches are at hand: the
    int8 calibration of waveform-in models (from a model's calibration patches) and the
    held-out inputs of ``verify``. Each band's mel energy is spread over its triangle
    (divided by the triangle's area) to estimate the magnitude spectrum; phases come from
    ``iterations`` rounds of Griffin-Lim with the reference framing and window. The result
    only approximates the patch (mean absolute log-mel difference 0.05 to 0.08 on speech after
    32 rounds, about 0.01 more after 8); callers that need a reference recompute the log-mel
    of the returned windows.

    Parameters
    ----------
    patches : numpy.ndarray
        Shape ``(n, 96, 64)`` or ``(n, 96, 64, 1)``, reference log-mel patches.
    iterations : int
        Griffin-Lim rounds.
    seed : int
        Seed of the initial random phases (the result is deterministic).

    Returns
    -------
    numpy.ndarray
        Shape ``(n, 15600)``, float32 samples clipped to [-1, 1].
    """
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    patches = np.asarray(patches, np.float64).reshape(-1, FRAMES, params.NUM_MEL_BANDS)
    matrix = mel_matrix().astype(np.float64)
    spread = (matrix / matrix.sum(axis=0)).T  # (bands, bins)
    window = periodic_hann_window().astype(np.float64)
    norm = np.maximum(_overlap_add(np.broadcast_to(window**2, (FRAMES, window.size))), 1e-6)
    rng = np.random.default_rng(seed)
    windows = np.empty((len(patches), params.MIN_SAMPLES), np.float32)
    for start in range(0, len(patches), _SYNTHESIS_BLOCK):
        block = slice(start, start + _SYNTHESIS_BLOCK)
        magnitude = np.maximum(np.exp(patches[block]) - params.LOG_OFFSET, 0.0) @ spread
        phase = np.exp(2j * np.pi * rng.random(magnitude.shape))
        for _ in range(iterations):
            frames = np.fft.irfft(magnitude * phase, params.FFT_LENGTH)[..., : window.size]
            signal = _overlap_add(frames * window) / norm
            framed = np.lib.stride_tricks.sliding_window_view(signal, window.size, axis=-1)
            spectrum = np.fft.rfft(
                framed[..., :: params.HOP_LENGTH_SAMPLES, :] * window, params.FFT_LENGTH
            )
            phase = np.exp(1j * np.angle(spectrum))
        windows[block] = np.clip(signal, -1.0, 1.0)
    return windows


def _overlap_add(frames: np.ndarray) -> np.ndarray:
    """Sum ``(..., FRAMES, 400)`` frames placed every 160 samples into ``(..., 15600)``."""
    hop = params.HOP_LENGTH_SAMPLES
    hops_per_frame = -(-frames.shape[-1] // hop)  # 3: a 400-sample frame spans 3 hops
    padded = np.zeros((*frames.shape[:-1], hops_per_frame * hop))
    padded[..., : frames.shape[-1]] = frames
    blocks = padded.reshape(*frames.shape[:-1], hops_per_frame, hop)
    signal = np.zeros((*frames.shape[:-2], FRAMES + hops_per_frame - 1, hop))
    for k in range(hops_per_frame):
        signal[..., k : k + FRAMES, :] += blocks[..., k, :]
    return signal.reshape(*frames.shape[:-2], -1)[..., : params.MIN_SAMPLES]
