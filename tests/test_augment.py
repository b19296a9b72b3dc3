"""Training augmentation: each effect, switched on alone, does what a recording would do."""

from __future__ import annotations

import numpy as np
import pytest

from edge_ser.augment import AugmentConfig, make_augmenter, make_mixup
from edge_ser.reference_preprocess import params, waveform_to_log_mel
from edge_ser.reference_preprocess.signals import voice

OFF = AugmentConfig(
    warp=(1.0, 1.0),
    gain_db=(0.0, 0.0),
    tilt=0.0,
    reverb_probability=0.0,
    noise_probability=0.0,
    time_masks=0,
    freq_masks=0,
)


@pytest.fixture(scope="module")
def patch() -> np.ndarray:
    return waveform_to_log_mel(voice(params.MIN_SAMPLES))


def _run(config: AugmentConfig, patch: np.ndarray, seed: int = 0) -> np.ndarray:
    import tensorflow as tf

    tf.random.set_seed(seed)
    out = make_augmenter(config)(tf.constant(patch[np.newaxis])).numpy()
    assert out.shape == (1, *patch.shape) and np.isfinite(out).all()
    return out[0]


def test_everything_off_is_the_identity(patch):
    np.testing.assert_allclose(_run(OFF, patch), patch, atol=1e-4)


def test_gain_scales_the_mel_magnitude_under_the_log_floor(patch):
    quiet = _run(AugmentConfig(**{**OFF.__dict__, "gain_db": (-30.0, -30.0)}), patch)
    mel = np.exp(patch.astype(np.float64)) - params.LOG_OFFSET
    np.testing.assert_allclose(quiet, np.log(mel * 10 ** (-30 / 20) + params.LOG_OFFSET), atol=1e-4)


def test_noise_fills_quiet_frames_with_a_fluctuating_floor(patch):
    config = AugmentConfig(**{**OFF.__dict__, "noise_probability": 1.0, "snr_db": (0.0, 0.0)})
    noisy = _run(config, patch)
    quietest = np.argsort(patch.mean(axis=1))[:10]
    assert (noisy[quietest] > patch[quietest] + 0.5).all(axis=1).mean() > 0.5
    assert noisy[quietest].std(axis=0).mean() > 0.05  # frame-to-frame fluctuation
    assert not np.allclose(noisy, _run(config, patch, seed=1))


def test_reverberation_carries_energy_into_the_following_silence():
    burst = np.full((params.PATCH_FRAMES, params.NUM_MEL_BANDS), np.log(params.LOG_OFFSET))
    burst[:30] = 2.0
    config = AugmentConfig(**{**OFF.__dict__, "reverb_probability": 1.0, "rt60_s": (0.8, 0.8)})
    wet = _run(config, burst.astype(np.float32))
    assert (wet[35:45] > burst[35:45] + 1.0).all()  # decayed tail after the burst
    assert wet[80:].mean() < wet[35:45].mean()  # and it keeps decaying


def test_mixup_blends_each_patch_and_its_target_with_one_weight():
    import tensorflow as tf

    tf.random.set_seed(0)
    patches = np.random.default_rng(0).normal(size=(8, 96, 64, 1)).astype(np.float32)
    targets = np.eye(8, dtype=np.float32)  # patch i has label i
    mixed, soft = (t.numpy() for t in make_mixup(0.4)(tf.constant(patches), tf.constant(targets)))
    np.testing.assert_allclose(soft.sum(axis=1), 1.0, atol=1e-6)
    blended = 0
    for i in range(8):
        partner = int(np.argmax(np.where(np.arange(8) == i, -1.0, soft[i])))
        lam = soft[i, i]
        expected = lam * patches[i] + (1 - lam) * patches[partner]
        np.testing.assert_allclose(mixed[i], expected, atol=1e-5)
        blended += 0.05 < lam < 0.95
    assert blended >= 2  # Beta(0.4, 0.4) weights: most near 0 or 1, some in between
    with pytest.raises(ValueError, match="alpha must be > 0"):
        make_mixup(0.0)


@pytest.mark.parametrize("factor", [0.9, 1.15])
def test_frequency_warp_moves_a_tone_as_a_scaled_vocal_tract_would(factor):
    seconds = np.arange(params.MIN_SAMPLES) / params.SAMPLE_RATE
    tone = lambda hz: 0.3 * np.sin(2 * np.pi * hz * seconds).astype(np.float32)  # noqa: E731
    original = waveform_to_log_mel(tone(1000.0))
    warped = _run(AugmentConfig(**{**OFF.__dict__, "warp": (factor, factor)}), original)
    scaled = waveform_to_log_mel(tone(1000.0 * factor))
    assert abs(int(warped.mean(axis=0).argmax()) - int(scaled.mean(axis=0).argmax())) <= 1
    assert warped.mean(axis=0).argmax() != original.mean(axis=0).argmax()


def test_every_patch_of_a_batch_draws_its_own_settings(patch):
    import tensorflow as tf

    tf.random.set_seed(0)
    config = AugmentConfig(**{**OFF.__dict__, "gain_db": (-30.0, 0.0), "time_masks": 1})
    batch = make_augmenter(config)(tf.constant(np.stack([patch] * 8))).numpy()
    gains = {round(float((b - patch).mean()), 3) for b in batch}
    assert len(gains) == 8  # eight different gains and masks, not one shared draw
