"""Small, fast model directories for tests (no training): decisive outputs, real patches.

The model has random weights with non-trivial batch-norm statistics (so folding is
exercised) and a scaled-up final layer so that probabilities are far from uniform and
top-1 decisions are stable. Its calibration and parity patches are real log-mel patches of
the reference golden signals plus noise.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from edge_ser.labels import CANONICAL_LABELS
from edge_ser.reference_preprocess import log_mel_to_patches
from edge_ser.reference_preprocess.make_golden import read_golden


def golden_patches(copies: int = 6, seed: int = 0) -> np.ndarray:
    """``(n, 96, 64, 1)`` float32 patches: golden-signal patches plus Gaussian log-mel noise."""
    rng = np.random.default_rng(seed)
    base = np.concatenate([log_mel_to_patches(lm) for _, lm in read_golden().values()])
    noisy = [base + rng.normal(0.0, 1.0, base.shape) for _ in range(copies)]
    return np.concatenate(noisy)[..., np.newaxis].astype(np.float32)


def make_model_dir(
    directory: Path,
    labels: tuple[str, ...] = CANONICAL_LABELS,
    widths: tuple[int, ...] = (8, 16),
    seed: int = 0,
    logit_gain: float = 8.0,
) -> Path:
    """Write a model directory (model.keras, model.json, calibration/parity patches)."""
    import keras

    from edge_ser.model import ModelConfig, build_model

    keras.utils.set_random_seed(seed)
    rng = np.random.default_rng(seed)
    model = build_model(ModelConfig(widths=widths, dropout=0.0), labels, input_scale=0.4)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            gamma, beta, mean, var = layer.get_weights()
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, gamma.shape),
                    rng.normal(0.0, 0.2, beta.shape),
                    rng.normal(0.0, 0.2, mean.shape),
                    rng.uniform(0.5, 2.0, var.shape),
                ]
            )
        elif layer.name == "logits":
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel * logit_gain, bias])
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.save(directory / "model.keras")
    patches = golden_patches(seed=seed)
    np.save(directory / "calibration_patches.npy", patches[::2].astype(np.float16))
    np.save(directory / "parity_patches.npy", patches[1::2].astype(np.float16))
    info = {"labels": list(labels), "model_id": f"test-model-{seed}", "corpus": "generated"}
    (directory / "model.json").write_text(json.dumps(info))
    return directory
