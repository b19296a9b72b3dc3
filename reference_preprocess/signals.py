"""Deterministic synthetic test signals at 16 kHz (golden vectors, tests and benchmarks).

Every generator returns a 1-D float32 waveform of ``num_samples`` samples in [-1, 1].
"""

from __future__ import annotations

import numpy as np

from edge_ser.reference_preprocess.params import MEL_MAX_HZ, MEL_MIN_HZ, SAMPLE_RATE


def _time(num_samples: int) -> np.ndarray:
    """Sample times in seconds, float64."""
    return np.arange(num_samples, dtype=np.float64) / SAMPLE_RATE


def silence(num_samples: int) -> np.ndarray:
    """All-zero waveform."""
    return np.zeros(num_samples, dtype=np.float32)


def tone(num_samples: int, frequency_hz: float = 440.0, amplitude: float = 0.5) -> np.ndarray:
    """Pure sine tone."""
    return (amplitude * np.sin(2.0 * np.pi * frequency_hz * _time(num_samples))).astype(np.float32)


def chirp(
    num_samples: int,
    start_hz: float = MEL_MIN_HZ,
    stop_hz: float = MEL_MAX_HZ,
    amplitude: float = 0.5,
) -> np.ndarray:
    """Linear sine sweep from ``start_hz`` to ``stop_hz`` over the whole signal."""
    t = _time(num_samples)
    duration_s = num_samples / SAMPLE_RATE
    phase = 2.0 * np.pi * (start_hz * t + 0.5 * (stop_hz - start_hz) / duration_s * t**2)
    return (amplitude * np.sin(phase)).astype(np.float32)


def white_noise(num_samples: int, seed: int = 0, std: float = 0.1) -> np.ndarray:
    """Gaussian white noise, clipped to [-1, 1]."""
    noise = np.random.default_rng(seed).normal(0.0, std, num_samples)
    return np.clip(noise, -1.0, 1.0).astype(np.float32)


def voice(num_samples: int, seed: int = 0, f0_hz: float = 150.0) -> np.ndarray:
    """Speech-like harmonic signal: vibrato, drifting pitch, syllable envelope, breath noise.

    The fundamental wanders around ``f0_hz`` (slow drift of +-20 %, 5 Hz vibrato of +-3 %);
    harmonics up to 7.5 kHz fall off as 1/k with a formant-like boost near 500 Hz and 1.5 kHz;
    a 4 Hz syllable envelope with short pauses and a little seeded noise complete it.
    """
    rng = np.random.default_rng(seed)
    t = _time(num_samples)
    drift = 0.2 * np.sin(2.0 * np.pi * 0.3 * t + rng.uniform(0.0, 2.0 * np.pi))
    vibrato = 0.03 * np.sin(2.0 * np.pi * 5.0 * t)
    f0 = f0_hz * (1.0 + drift + vibrato)
    phase = 2.0 * np.pi * np.cumsum(f0) / SAMPLE_RATE
    signal = np.zeros(num_samples, dtype=np.float64)
    for k in range(1, int(MEL_MAX_HZ // (f0_hz * 1.3)) + 1):
        harmonic_hz = k * f0_hz
        formants = 1.0 + 2.0 * np.exp(-(((harmonic_hz - 500.0) / 200.0) ** 2))
        formants += 1.5 * np.exp(-(((harmonic_hz - 1500.0) / 300.0) ** 2))
        signal += formants / k * np.sin(k * phase)
    syllables = np.clip(np.sin(2.0 * np.pi * 4.0 * t), 0.0, None) ** 0.5
    signal = signal * syllables + 0.02 * rng.standard_normal(num_samples)
    return (0.5 * signal / np.max(np.abs(signal))).astype(np.float32)
