"""Training-time augmentation of log-mel patches, as TensorFlow ops for a tf.data pipeline.

Augmentations act on the mel magnitude recovered from the log-mel, so they model what a
different recording would produce rather than shifting numbers around:

- gain: multiply the mel magnitude (a louder or quieter speaker or microphone); near the
  ``log(mel + 0.01)`` floor this is not a constant shift, so the model still sees its effect;
- spectral tilt: multiply band ``b`` by ``exp(t * (2 b / 63 - 1))`` (microphone coloration);
- additive noise: a white-noise mel magnitude at a random signal-to-noise ratio;
- SpecAugment: time and frequency masks filled with the patch mean.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from edge_ser.reference_preprocess import mel_matrix, params


@dataclass(frozen=True)
class AugmentConfig:
    gain_db: float = 12.0  # gain drawn uniformly from [-gain_db, +gain_db]
    tilt: float = 0.6  # spectral tilt coefficient drawn from [-tilt, +tilt]
    noise_probability: float = 0.5
    snr_db: tuple[float, float] = (5.0, 40.0)
    time_masks: int = 2
    time_mask_frames: int = 12
    freq_masks: int = 2
    freq_mask_bands: int = 8

    def to_dict(self) -> dict:
        return {**asdict(self), "snr_db": list(self.snr_db)}


def _mask(tf, x, axis: int, count: int, max_width: int, fill):
    size = x.shape[axis]
    positions = tf.range(size)
    for _ in range(count):
        width = tf.random.uniform([], 0, max_width + 1, dtype=tf.int32)
        start = tf.random.uniform([], 0, size - width + 1, dtype=tf.int32)
        keep = tf.logical_or(positions < start, positions >= start + width)
        keep = tf.reshape(keep, [-1, 1] if axis == 0 else [1, -1])
        x = tf.where(keep, x, fill)
    return x


def make_augmenter(config: AugmentConfig):
    """Return a function ``(patch (96, 64) float32) -> augmented patch`` built from TF ops."""
    import tensorflow as tf

    band_weight = mel_matrix().sum(axis=0)
    noise_shape = tf.constant(band_weight / band_weight.mean(), dtype=tf.float32)
    band_position = tf.constant(np.linspace(-1.0, 1.0, params.NUM_MEL_BANDS), dtype=tf.float32)

    def augment(patch):
        mel = tf.maximum(tf.exp(patch) - params.LOG_OFFSET, 0.0)
        gain = 10.0 ** (tf.random.uniform([], -config.gain_db, config.gain_db) / 20.0)
        tilt = tf.exp(tf.random.uniform([], -config.tilt, config.tilt) * band_position)
        mel = mel * gain * tilt
        snr_db = tf.random.uniform([], *config.snr_db)
        noise_level = tf.reduce_mean(mel) * 10.0 ** (-snr_db / 20.0)
        use_noise = tf.cast(tf.random.uniform([]) < config.noise_probability, tf.float32)
        mel = mel + use_noise * noise_level * noise_shape
        out = tf.math.log(mel + params.LOG_OFFSET)
        fill = tf.reduce_mean(out)
        out = _mask(tf, out, 0, config.time_masks, config.time_mask_frames, fill)
        return _mask(tf, out, 1, config.freq_masks, config.freq_mask_bands, fill)

    return augment
