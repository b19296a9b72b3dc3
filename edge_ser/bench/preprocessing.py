"""Log-mel cost per second of audio: the reference NumPy preprocessor against librosa.

The librosa and tf.signal pipelines here are the ones every comparison uses
(``benchmarks/preprocess.py`` and the reference preprocessor's tests). librosa: its STFT
magnitude and HTK mel filters (``norm=None``), natural log. tf.signal: its STFT magnitude
and mel matrix, natural log, in a ``tf.function``.

librosa centres the 400-sample window in each 512-sample FFT frame; padding the input by
``LIBROSA_CENTRE_PAD`` samples on both sides makes its frames cover exactly the reference
frames.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from dataclasses import asdict

import numpy as np

from edge_ser.bench.timing import one_thread, time_calls
from edge_ser.reference_preprocess import params, waveform_to_log_mel
from edge_ser.reference_preprocess.signals import voice

LIBROSA_CENTRE_PAD = (params.FFT_LENGTH - params.WINDOW_LENGTH_SAMPLES) // 2


def librosa_mel_filters() -> np.ndarray:
    """librosa's HTK mel filters for the reference bands, shape (64, 257), float32."""
    import librosa

    return librosa.filters.mel(
        sr=params.SAMPLE_RATE,
        n_fft=params.FFT_LENGTH,
        n_mels=params.NUM_MEL_BANDS,
        fmin=params.MEL_MIN_HZ,
        fmax=params.MEL_MAX_HZ,
        htk=True,
        norm=None,
    ).astype(np.float32)


def librosa_magnitude(padded_waveform: np.ndarray) -> np.ndarray:
    """librosa's STFT magnitude of a waveform padded by ``LIBROSA_CENTRE_PAD``, shape
    (257, frames)."""
    import librosa

    return np.abs(
        librosa.stft(
            padded_waveform,
            n_fft=params.FFT_LENGTH,
            hop_length=params.HOP_LENGTH_SAMPLES,
            win_length=params.WINDOW_LENGTH_SAMPLES,
            window="hann",  # scipy's get_window default is the periodic (fftbins=True) window
            center=False,
        )
    )


def librosa_log_mel(waveform: np.ndarray) -> Callable[[], np.ndarray]:
    """The log-mel of ``waveform`` with librosa, as a call to time: padding and filters are
    prepared here, outside the call."""
    filters = librosa_mel_filters()
    padded = np.pad(waveform, LIBROSA_CENTRE_PAD)

    def log_mel() -> np.ndarray:
        return np.log(filters @ librosa_magnitude(padded) + np.float32(params.LOG_OFFSET)).T

    return log_mel


def tf_signal_log_mel(waveform: np.ndarray) -> Callable[[], np.ndarray]:
    """The log-mel of ``waveform`` with tf.signal, as a call to time (traced on first call)."""
    import tensorflow as tf

    weights = tf.signal.linear_to_mel_weight_matrix(
        params.NUM_MEL_BANDS,
        params.NUM_SPECTRUM_BINS,
        params.SAMPLE_RATE,
        params.MEL_MIN_HZ,
        params.MEL_MAX_HZ,
    )

    @tf.function(input_signature=[tf.TensorSpec([None], tf.float32)])
    def log_mel(samples: tf.Tensor) -> tf.Tensor:
        stft = tf.signal.stft(
            samples,
            frame_length=params.WINDOW_LENGTH_SAMPLES,
            frame_step=params.HOP_LENGTH_SAMPLES,
            fft_length=params.FFT_LENGTH,
            window_fn=tf.signal.hann_window,
        )
        return tf.math.log(tf.matmul(tf.abs(stft), weights) + params.LOG_OFFSET)

    tensor = tf.constant(np.asarray(waveform, np.float32))
    return lambda: log_mel(tensor).numpy()


def preprocessing(seconds: float, repeats: int, warmup: int) -> dict[str, dict]:
    """Log-mel cost per second of audio, reference NumPy vs librosa, one thread."""
    waveform = voice(max(params.MIN_SAMPLES, round(seconds * params.SAMPLE_RATE)))
    audio_s = len(waveform) / params.SAMPLE_RATE
    pipelines: dict[str, Callable[[], object]] = {
        "reference (NumPy)": lambda: waveform_to_log_mel(waveform)
    }
    if importlib.util.find_spec("librosa") is not None:
        pipelines["librosa"] = librosa_log_mel(waveform)
    results = {}
    with one_thread():
        for name, call in pipelines.items():
            timing = time_calls(call, repeats, warmup)
            results[name] = {
                "ms_per_audio_second": timing.median_ms / audio_s,
                "x_real_time": audio_s / (timing.median_ms / 1e3),
                "audio_seconds": audio_s,
                **asdict(timing),
            }
    return results
