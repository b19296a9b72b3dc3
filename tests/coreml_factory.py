"""Keras models, patches and Core ML files for the Core ML tests: the exporter's (does each
file compute what Keras computes?) and the NumPy evaluator's.

Files are written by the exporter's own builders (``edge_ser.export.artifacts.BUILDERS``), or
by ``MLModel.save`` as those builders do for variants that are not export formats.
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import layers

from edge_ser.artifacts.formats import FORMATS
from edge_ser.export.artifacts import BUILDERS, ExportContext
from edge_ser.export.coreml import build_mlprogram
from edge_ser.labels import CANONICAL_LABELS
from edge_ser.model import INPUT_SHAPE, PatchStandardization
from edge_ser.model import build_model as build_edge_ser_model
from edge_ser.runtimes.coreml_numpy_runtime import CoreMLNumpyRuntime

LABELS = CANONICAL_LABELS
METADATA = {
    "author": "edge-ser tests",
    "license": "Apache-2.0",
    "short_description": "speech emotion test model",
    "version": "0.1.0",
    "sample_rate": 16000,
    "preprocessor_version": "1",
}
WEIGHTS_BIN = Path("Data/com.apple.CoreML/weights/weight.bin")
FLOAT32_MLPACKAGE = "float32.mlpackage"  # a float32 ML Program: not an export format


def randomize(model: keras.Model, seed: int) -> keras.Model:
    """Non-trivial batch-norm statistics and biases, and logits large enough that the
    probabilities spread far from uniform."""
    rng = np.random.default_rng(seed)
    for layer in model.layers:
        if isinstance(layer, layers.BatchNormalization):
            c = layer.moving_mean.shape[0]
            layer.set_weights(
                [
                    rng.uniform(0.5, 1.5, c),
                    rng.normal(0.0, 0.3, c),
                    rng.normal(0.0, 0.5, c),
                    rng.uniform(0.3, 2.0, c),
                ]
            )
        elif isinstance(layer, (layers.Conv2D, layers.Dense)) and layer.use_bias:
            kernel, bias = layer.get_weights()
            layer.set_weights([kernel, rng.normal(0.0, 0.1, bias.shape)])
    logits = [layer for layer in model.layers if isinstance(layer, layers.Dense)][-1]
    logits.set_weights([w * 8.0 for w in logits.get_weights()])
    return model


def random_patches(n: int, seed: int) -> np.ndarray:
    """Log-mel-like patches: gamma-distributed energies falling with band, random gains."""
    rng = np.random.default_rng(seed)
    envelope = np.exp(-3.0 * np.linspace(0.0, 1.0, INPUT_SHAPE[1]))[None, None, :, None]
    gain = 10.0 ** rng.uniform(-2.0, 1.0, (n, 1, 1, 1))
    energy = gain * envelope * rng.gamma(0.5, 1.0, (n, *INPUT_SHAPE))
    return np.log(energy + 0.01).astype(np.float32)


def feature_model() -> keras.Model:
    """Every translator the default model does not use: strided asymmetric "same" conv
    with bias, depthwise conv, dilation, relu6/leaky/clip ReLUs, conv and dense
    activations, "same" pooling, global max pooling, batch norms folded into a depthwise
    conv and a dense layer, and batch norms that stay (after activations, rank 4 and 2)."""
    inputs = keras.Input(INPUT_SHAPE, name="log_mel")
    x = PatchStandardization(0.7)(inputs)
    x = layers.Conv2D(8, (5, 3), strides=2, padding="same")(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(max_value=6.0)(x)
    x = layers.DepthwiseConv2D(3, depth_multiplier=2, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu6")(x)
    x = layers.BatchNormalization()(x)
    x = layers.AveragePooling2D(3, strides=2, padding="same")(x)
    x = layers.Conv2D(16, 3, dilation_rate=2, activation="relu")(x)
    x = layers.ReLU(negative_slope=0.1)(x)
    x = layers.MaxPooling2D(3, strides=2, padding="same")(x)
    x = layers.ReLU(max_value=4.0)(x)
    x = layers.GlobalMaxPooling2D()(x)
    x = layers.Dense(12)(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("linear")(x)
    x = layers.Dropout(0.2)(x)
    x = layers.Dense(len(LABELS))(x)
    outputs = layers.Activation("softmax")(x)
    return keras.Model(inputs, outputs)


def max_diff(path: Path, model: keras.Model, patches: np.ndarray) -> float:
    probabilities = CoreMLNumpyRuntime().load(path).predict_patches(patches)
    assert probabilities.shape == (len(patches), len(LABELS))
    return float(np.abs(probabilities - model.predict(patches, verbose=0)).max())


def spread_model(patches: np.ndarray) -> keras.Model:
    """The edge-ser CNN with random weights whose probabilities on ``patches`` spread far
    from uniform (the same weights whatever ran before: Keras draws the kernels)."""
    keras.utils.set_random_seed(1)
    model = randomize(build_edge_ser_model(input_scale=0.5), seed=1)
    confidence = model.predict(patches, verbose=0).max(axis=1)
    assert confidence.max() > 0.5  # the parity checks compare spread-out probabilities
    return model


def export_coreml(model: keras.Model, out: Path) -> dict[str, Path]:
    """``model``'s Core ML export formats written by the exporter's builders into ``out``,
    and a float32 ML Program, by file name."""
    context = ExportContext(model, LABELS, np.zeros((0, *INPUT_SHAPE), np.float32), METADATA)
    paths = {}
    for name in ("mlpackage", "mlmodel", "mlpackage-w8"):
        path = out / FORMATS[name].filename
        BUILDERS[name](context, path)
        paths[path.name] = path
    float32 = build_mlprogram(model, LABELS, METADATA, precision="float32")
    paths[FLOAT32_MLPACKAGE] = save(float32, out / FLOAT32_MLPACKAGE)
    return paths


def save(mlmodel, path: Path) -> Path:
    """Write ``mlmodel`` to ``path`` as the exporter's builders do; ``path``."""
    mlmodel.save(str(path))
    return path
