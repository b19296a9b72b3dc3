"""Training-time augmentation of log-mel patches, as TensorFlow ops for a tf.data pipeline.

Augmentations act on the mel magnitude recovered from the log-mel, so they model what a
different recording would produce rather than shifting numbers around:

- frequency warp (vocal tract length perturbation): the spectrum stretched or compressed
  along the frequency axis by a random factor, as a speaker with a shorter or longer vocal
  tract would produce it; each band takes the mel magnitude found at its centre frequency
  divided by the factor (linear interpolation between band centres);
- gain: multiply the mel magnitude (a louder or quieter speaker or microphone); near the
  ``log(mel + 0.01)`` floor this is not a constant shift, so the model still sees its effect;
- spectral tilt: multiply band ``b`` by ``exp(t * (2 b / 63 - 1))`` (microphone coloration);
- reverberation: the mel power smeared forward in time by an exponential decay of random
  RT60 (each band convolved with the decay, total power kept);
- additive noise: mel magnitudes of random Gaussian noise (Rayleigh-distributed DFT
  magnitudes, so they fluctuate frame to frame like real noise) with a random colour from
  white to brown, at a random signal-to-noise ratio; powers add (random phases);
- SpecAugment: time and frequency masks filled with the patch mean;
- tempo (optional, off by default): a crop of ``96 r`` frames resampled to 96 (linear
  interpolation in time), ``r`` uniform in the range, as a faster (``r > 1``) or slower
  speaker would fill a patch; applied when training crops are cut (``edge_ser.train``);
- mixup (optional, off by default): each patch of a batch blended with another patch of the
  same batch, ``lam x_i + (1 - lam) x_j`` with ``lam ~ Beta(alpha, alpha)``, the one-hot
  targets blended with the same ``lam``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from edge_ser.reference_preprocess import mel_band_edges, mel_matrix, params


@dataclass(frozen=True)
class AugmentConfig:
    warp: tuple[float, float] = (0.9, 1.1)  # frequency scale factor drawn from this range
    gain_db: tuple[float, float] = (-36.0, 12.0)  # gain drawn uniformly from this range
    tilt: float = 0.6  # spectral tilt coefficient drawn from [-tilt, +tilt]
    reverb_probability: float = 0.2
    rt60_s: tuple[float, float] = (0.2, 0.6)
    noise_probability: float = 0.4
    snr_db: tuple[float, float] = (10.0, 40.0)  # signal-to-noise power ratio over the patch
    noise_slope: tuple[float, float] = (0.0, 2.0)  # noise power ~ f^-slope: white 0, pink 1
    time_masks: int = 2
    time_mask_frames: int = 12
    freq_masks: int = 2
    freq_mask_bands: int = 8
    mixup_alpha: float = 0.0  # 0 turns mixup off
    tempo: tuple[float, float] = (1.0, 1.0)  # speaking-rate factor range; (1, 1) turns it off

    def to_dict(self) -> dict:
        ranges = ("warp", "gain_db", "rt60_s", "snr_db", "noise_slope", "tempo")
        return {**asdict(self), **{name: list(getattr(self, name)) for name in ranges}}


def stretch_in_time(window: np.ndarray, frames: int) -> np.ndarray:
    """``window`` (frames x bands) resampled to ``frames`` frames by linear interpolation."""
    positions = np.linspace(0, len(window) - 1, frames)
    low = np.floor(positions).astype(np.int64)
    high = np.minimum(low + 1, len(window) - 1)
    weight = (positions - low)[:, np.newaxis].astype(window.dtype)
    return window[low] * (1 - weight) + window[high] * weight


def _mask(tf, x, axis: int, count: int, max_width: int, fill):
    """Set ``count`` random runs along ``axis`` (1: frames, 2: bands) to ``fill``, per patch."""
    batch, size = tf.shape(x)[0], x.shape[axis]
    positions = tf.range(size)[tf.newaxis, :]
    for _ in range(count):
        width = tf.random.uniform([batch, 1], 0, max_width + 1, dtype=tf.int32)
        start = tf.cast(
            tf.random.uniform([batch, 1]) * tf.cast(size - width + 1, tf.float32), tf.int32
        )
        keep = tf.logical_or(positions < start, positions >= start + width)
        keep = keep[:, :, tf.newaxis] if axis == 1 else keep[:, tf.newaxis, :]
        x = tf.where(keep, x, fill)
    return x


def make_augmenter(config: AugmentConfig):
    """Return a function ``(patches (batch, 96, 64) float32) -> augmented patches``.

    Built from TF ops; every patch of the batch draws its own random settings (from TF's
    global random generator, so ``tf.random.set_seed`` makes the draws reproducible).
    """
    import tensorflow as tf

    frames, bands = params.PATCH_FRAMES, params.NUM_MEL_BANDS
    frame_s = params.HOP_LENGTH_SAMPLES / params.SAMPLE_RATE
    mel_weights = tf.constant(mel_matrix(), dtype=tf.float32)  # (spectrum bins, bands)
    bins = tf.cast(tf.maximum(tf.range(params.NUM_SPECTRUM_BINS), 1), tf.float32)
    band_position = tf.constant(np.linspace(-1.0, 1.0, bands), dtype=tf.float32)
    # delay[t, s] = t - s frames: how far output frame t lies after input frame s
    delay = tf.constant(np.subtract.outer(np.arange(frames), np.arange(frames)), tf.float32)
    centres_mel = mel_band_edges()[1:-1]  # evenly spaced in mel
    mel_step = float(centres_mel[1] - centres_mel[0])
    centres_hz = tf.constant(
        params.MEL_BREAK_FREQUENCY_HERTZ * np.expm1(centres_mel / params.MEL_HIGH_FREQUENCY_Q),
        dtype=tf.float32,
    )

    def uniform(batch, bounds: tuple[float, float]):
        """One draw per patch, shaped ``(batch, 1, 1)`` to broadcast over a patch."""
        return tf.random.uniform([batch, 1, 1], *bounds)

    def happens(batch, probability: float):
        return tf.cast(tf.random.uniform([batch, 1, 1]) < probability, tf.float32)

    def reverberate(power):
        rt60 = uniform(tf.shape(power)[0], config.rt60_s)
        # causal decay filter, -60 dB at RT60, applied to every band as a (frames x frames) matrix
        decay = tf.where(delay >= 0, 10.0 ** (-6.0 * delay * frame_s / rt60), 0.0)
        smeared = tf.matmul(decay, power)
        total = tf.reduce_sum(power, axis=[1, 2], keepdims=True)
        smeared_total = tf.reduce_sum(smeared, axis=[1, 2], keepdims=True)
        return smeared * total / tf.maximum(smeared_total, 1e-12)

    def warp(mel):
        factor = uniform(tf.shape(mel)[0], config.warp)[:, :, 0]  # (batch, 1)
        source_hz = centres_hz / factor
        source_mel = params.MEL_HIGH_FREQUENCY_Q * tf.math.log1p(
            source_hz / params.MEL_BREAK_FREQUENCY_HERTZ
        )
        position = tf.clip_by_value((source_mel - centres_mel[0]) / mel_step, 0.0, bands - 1.0)
        below = tf.minimum(tf.cast(tf.floor(position), tf.int32), bands - 2)  # (batch, bands)
        fraction = (position - tf.cast(below, tf.float32))[:, tf.newaxis, :]
        lower = tf.gather(mel, below, axis=2, batch_dims=1)
        upper = tf.gather(mel, below + 1, axis=2, batch_dims=1)
        return lower + fraction * (upper - lower)

    def noise_power(signal_power):
        batch = tf.shape(signal_power)[0]
        # |N(0, 1) + i N(0, 1)| is Rayleigh-distributed: sqrt(-2 ln U) for U uniform in (0, 1)
        uniform_draws = tf.random.uniform([batch, frames, params.NUM_SPECTRUM_BINS], 1e-12, 1.0)
        magnitude = tf.sqrt(-2.0 * tf.math.log(uniform_draws))
        colour = bins ** (-uniform(batch, config.noise_slope) / 2.0)
        noise = tf.matmul(magnitude * colour, mel_weights) ** 2
        signal = tf.reduce_mean(signal_power, axis=[1, 2], keepdims=True)
        target = signal * 10.0 ** (-uniform(batch, config.snr_db) / 10.0)
        return noise * target / tf.maximum(tf.reduce_mean(noise, axis=[1, 2], keepdims=True), 1e-12)

    def augment(patches):
        batch = tf.shape(patches)[0]
        mel = warp(tf.maximum(tf.exp(patches) - params.LOG_OFFSET, 0.0))
        gain = 10.0 ** (uniform(batch, config.gain_db) / 20.0)
        tilt = tf.exp(uniform(batch, (-config.tilt, config.tilt)) * band_position)
        power = (mel * gain * tilt) ** 2
        reverb = happens(batch, config.reverb_probability)
        power = reverb * reverberate(power) + (1.0 - reverb) * power
        power = power + happens(batch, config.noise_probability) * noise_power(power)
        out = tf.math.log(tf.sqrt(power) + params.LOG_OFFSET)
        fill = tf.reduce_mean(out, axis=[1, 2], keepdims=True)
        out = _mask(tf, out, 1, config.time_masks, config.time_mask_frames, fill)
        return _mask(tf, out, 2, config.freq_masks, config.freq_mask_bands, fill)

    return augment


def make_mixup(alpha: float):
    """Return ``(patches (b, ...), one-hot targets (b, labels)) -> mixed batch`` (TF ops)."""
    import tensorflow as tf

    if alpha <= 0:
        raise ValueError(f"mixup alpha must be > 0, got {alpha}")

    def mix(patches, targets):
        size = tf.shape(patches)[0]
        first, second = tf.random.gamma([size], alpha), tf.random.gamma([size], alpha)
        lam = first / tf.maximum(first + second, 1e-12)
        partner = tf.random.shuffle(tf.range(size))

        def blend(x):
            weight = tf.reshape(lam, [-1] + [1] * (len(x.shape) - 1))
            return weight * x + (1.0 - weight) * tf.gather(x, partner)

        return blend(patches), blend(targets)

    return mix
