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

    def to_dict(self) -> dict:
        ranges = ("warp", "gain_db", "rt60_s", "snr_db", "noise_slope")
        return {**asdict(self), **{name: list(getattr(self, name)) for name in ranges}}


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

    frames, bands = params.PATCH_FRAMES, params.NUM_MEL_BANDS
    frame_s = params.HOP_LENGTH_SAMPLES / params.SAMPLE_RATE
    mel_weights = tf.constant(mel_matrix(), dtype=tf.float32)  # (spectrum bins, bands)
    bins = tf.cast(tf.maximum(tf.range(params.NUM_SPECTRUM_BINS), 1), tf.float32)
    band_position = tf.constant(np.linspace(-1.0, 1.0, bands), dtype=tf.float32)
    lags = tf.range(frames - 1, -1, -1, dtype=tf.float32)  # kernel tap j delays by 95 - j
    centres_mel = mel_band_edges()[1:-1]  # evenly spaced in mel
    mel_step = float(centres_mel[1] - centres_mel[0])
    centres_hz = tf.constant(
        params.MEL_BREAK_FREQUENCY_HERTZ * np.expm1(centres_mel / params.MEL_HIGH_FREQUENCY_Q),
        dtype=tf.float32,
    )

    def uniform(bounds: tuple[float, float]):
        return tf.random.uniform([], *bounds)

    def happens(probability: float):
        return tf.cast(tf.random.uniform([]) < probability, tf.float32)

    def reverberate(power):
        decay = 10.0 ** (-6.0 * lags * frame_s / uniform(config.rt60_s))  # -60 dB at RT60
        by_band = tf.transpose(power)[:, :, tf.newaxis]  # (bands, frames, 1)
        padded = tf.pad(by_band, [[0, 0], [frames - 1, 0], [0, 0]])
        smeared = tf.nn.conv1d(padded, tf.reshape(decay, [frames, 1, 1]), 1, "VALID")
        smeared = tf.transpose(smeared[:, :, 0])
        return smeared * tf.reduce_sum(power) / tf.maximum(tf.reduce_sum(smeared), 1e-12)

    def warp(mel):
        source_hz = centres_hz / uniform(config.warp)
        source_mel = params.MEL_HIGH_FREQUENCY_Q * tf.math.log1p(
            source_hz / params.MEL_BREAK_FREQUENCY_HERTZ
        )
        position = tf.clip_by_value((source_mel - centres_mel[0]) / mel_step, 0.0, bands - 1.0)
        below = tf.minimum(tf.cast(tf.floor(position), tf.int32), bands - 2)
        fraction = position - tf.cast(below, tf.float32)
        lower, upper = tf.gather(mel, below, axis=1), tf.gather(mel, below + 1, axis=1)
        return lower + fraction * (upper - lower)

    def noise_power(signal_power):
        real = tf.random.normal([frames, params.NUM_SPECTRUM_BINS])
        imaginary = tf.random.normal([frames, params.NUM_SPECTRUM_BINS])
        colour = bins ** (-uniform(config.noise_slope) / 2.0)
        noise = tf.matmul(tf.sqrt(real**2 + imaginary**2) * colour, mel_weights) ** 2
        target = tf.reduce_mean(signal_power) * 10.0 ** (-uniform(config.snr_db) / 10.0)
        return noise * target / tf.maximum(tf.reduce_mean(noise), 1e-12)

    def augment(patch):
        mel = warp(tf.maximum(tf.exp(patch) - params.LOG_OFFSET, 0.0))
        gain = 10.0 ** (uniform(config.gain_db) / 20.0)
        tilt = tf.exp(tf.random.uniform([], -config.tilt, config.tilt) * band_position)
        power = (mel * gain * tilt) ** 2
        reverb = happens(config.reverb_probability)
        power = reverb * reverberate(power) + (1.0 - reverb) * power
        power = power + happens(config.noise_probability) * noise_power(power)
        out = tf.math.log(tf.sqrt(power) + params.LOG_OFFSET)
        fill = tf.reduce_mean(out)
        out = _mask(tf, out, 0, config.time_masks, config.time_mask_frames, fill)
        return _mask(tf, out, 1, config.freq_masks, config.freq_mask_bands, fill)

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
