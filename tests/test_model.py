"""The CNN's input normalization and band folding, checked on the built Keras model."""

from __future__ import annotations

import keras
import numpy as np
import pytest

from edge_ser.model import (
    INPUT_SHAPE,
    ModelConfig,
    PatchStandardization,
    build_model,
    centre_patches,
)
from edge_ser.train import input_scale


def _patches(n: int = 4, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).normal(-4.0, 2.0, (n, *INPUT_SHAPE)).astype(np.float32)


@pytest.mark.parametrize("per_band", [False, True])
def test_standardization_ignores_loudness_and_per_band_also_channel_response(per_band):
    layer = PatchStandardization(scale=0.5, per_band=per_band)
    x = _patches()
    loudness = 3.0  # a gain change adds a constant to every log-mel value
    response = np.linspace(-2.0, 2.0, INPUT_SHAPE[1])[None, None, :, None]  # a microphone tilt
    base = keras.ops.convert_to_numpy(layer(x))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(layer(x + loudness)), base, atol=1e-5)
    tilted = keras.ops.convert_to_numpy(layer(x + response))
    if per_band:
        np.testing.assert_allclose(tilted, base, atol=1e-5)
    else:
        assert np.abs(tilted - base).max() > 0.1
    np.testing.assert_allclose(base[..., 0], 0.5 * centre_patches(x[..., 0], per_band), atol=1e-5)


def test_input_scale_makes_centred_training_patches_unit_variance():
    x = _patches(16)[..., 0]
    for per_band in (False, True):
        assert np.std(centre_patches(x, per_band) * input_scale(x, per_band)) == pytest.approx(1.0)


def test_band_folding_puts_adjacent_bands_into_channels():
    model = build_model(ModelConfig(band_fold=4, per_band_normalization=False), input_scale=1.0)
    folded = keras.Model(model.input, model.get_layer("fold_bands").output)
    x = _patches(1)
    y = keras.ops.convert_to_numpy(folded(x))
    centred = centre_patches(x[..., 0], per_band=False)
    assert y.shape == (1, 96, 16, 4)
    np.testing.assert_allclose(y[0, 5, 3], centred[0, 5, 12:16], atol=1e-5)


def test_band_fold_must_divide_the_bands():
    with pytest.raises(ValueError, match="band_fold"):
        build_model(ModelConfig(band_fold=5))
