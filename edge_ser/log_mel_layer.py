"""Waveform-in models: the reference log-mel frontend as a Keras layer.

A waveform-in model takes one window of raw 16 kHz samples, ``params.MIN_SAMPLES`` long
(``edge_ser.windows``), and computes the log-mel patch inside its graph.

``LogMelFrontend`` computes ``reference_preprocess.waveform_to_log_mel`` of one window with
ops every exporter translates:

1. framing and the windowed real DFT as one convolution (kernel 400 samples, stride 160)
   whose filters are the periodic-Hann-windowed cosines and sines of the spectrum bins that
   carry mel weight (bins 5..239), interleaved as (real, imaginary) per bin;
2. the magnitude ``sqrt(real^2 + imag^2)`` (reshape to pairs, square, sum, square root);
3. the product with those bins' rows of ``reference_preprocess.mel_matrix()``;
4. ``log(mel + LOG_OFFSET)``.

The DFT runs in float32 (the reference evaluates it in float64), so the log-mel agrees with
the reference to float32 rounding of the DFT sums, largest in low-energy bands of pure tones
and sweeps (``SPEC.md``, "Precision").
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import keras
import numpy as np
from keras import layers, ops

from edge_ser.artifacts import layout
from edge_ser.reference_preprocess import mel_matrix, params, periodic_hann_window
from edge_ser.windows import FRAMES

# Name of the frontend layer in waveform-in Keras models (and prefix of its converted ops).
FRONTEND_LAYER = "log_mel_frontend"


@dataclass(frozen=True)
class FrontendWeights:
    """Constants of the frontend graph, derived from the reference spec.

    Attributes
    ----------
    dft : numpy.ndarray
        ``(WINDOW_LENGTH_SAMPLES, 2 * num_bins)`` = ``(400, 470)`` float32: column ``2 b`` is
        ``w[n] cos(2 pi n k / 512)`` and column ``2 b + 1`` is ``-w[n] sin(2 pi n k / 512)``
        for spectrum bin ``k = first_bin + b`` and the periodic Hann window ``w``.
    mel : numpy.ndarray
        ``(num_bins, NUM_MEL_BANDS)`` = ``(235, 64)`` float32: rows ``first_bin ..`` of the
        reference mel matrix (every other row is zero).
    first_bin : int
        Spectrum bin of the first DFT filter pair.
    """

    dft: np.ndarray
    mel: np.ndarray
    first_bin: int

    @property
    def num_bins(self) -> int:
        return int(self.mel.shape[0])


@cache
def frontend_weights() -> FrontendWeights:
    """The frontend's DFT filters and mel matrix rows (computed in float64, stored float32)."""
    matrix = mel_matrix()
    used = np.flatnonzero(matrix.any(axis=1))
    first, stop = int(used[0]), int(used[-1]) + 1
    window = periodic_hann_window().astype(np.float64)[:, np.newaxis]
    n = np.arange(params.WINDOW_LENGTH_SAMPLES, dtype=np.float64)[:, np.newaxis]
    k = np.arange(first, stop, dtype=np.float64)[np.newaxis, :]
    angle = 2.0 * np.pi * n * k / params.FFT_LENGTH
    pairs = np.stack([window * np.cos(angle), -window * np.sin(angle)], axis=-1)
    dft = pairs.reshape(params.WINDOW_LENGTH_SAMPLES, -1).astype(np.float32)
    mel = np.ascontiguousarray(matrix[first:stop])
    for array in (dft, mel):
        array.flags.writeable = False
    return FrontendWeights(dft=dft, mel=mel, first_bin=first)


@keras.saving.register_keras_serializable(package="edge_ser")
class LogMelFrontend(layers.Layer):
    """Reference log-mel of one window: ``(batch, 15600)`` -> ``(batch, 96, 64, 1)``.

    The input is float32 samples in [-1, 1] at 16 kHz; the output is the log-mel patch that
    the patch classifier takes. The layer has no weights: its constants come from
    `frontend_weights`.
    """

    def compute_output_shape(self, input_shape):
        return (input_shape[0], FRAMES, params.NUM_MEL_BANDS, 1)

    def call(self, waveform):
        weights = frontend_weights()
        samples = ops.expand_dims(waveform, -1)  # (batch, samples, 1)
        spectrum = ops.conv(
            samples,
            weights.dft[:, np.newaxis, :],
            strides=params.HOP_LENGTH_SAMPLES,
            padding="valid",
        )  # (batch, frames, 2 * bins): (real, imaginary) per bin
        pairs = ops.reshape(spectrum, (-1, FRAMES, weights.num_bins, 2))
        magnitude = ops.sqrt(ops.sum(ops.square(pairs), axis=-1))
        mel = ops.matmul(magnitude, weights.mel)
        log_mel = ops.log(mel + np.float32(params.LOG_OFFSET))
        return ops.expand_dims(log_mel, -1)


def build_waveform_model(patch_model: keras.Model) -> keras.Model:
    """Waveform-in model: `LogMelFrontend` followed by ``patch_model``.

    Parameters
    ----------
    patch_model : keras.Model
        Classifier of ``(batch, 96, 64, 1)`` log-mel patches.

    Returns
    -------
    keras.Model
        ``(batch, 15600)`` float32 windows -> the patch model's output. Its frontend layer is
        named ``FRONTEND_LAYER``.
    """
    waveform = keras.Input(shape=layout.WAVEFORM_INPUT_SHAPE[1:], name=layout.WAVEFORM_INPUT_NAME)
    log_mel = LogMelFrontend(name=FRONTEND_LAYER)(waveform)
    return keras.Model(waveform, patch_model(log_mel), name=f"{patch_model.name}_waveform")
