"""Core ML export: saved ML Programs and NeuralNetworks, evaluated with NumPy, match Keras."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import coremltools as ct
import keras
import numpy as np
import pytest
from coremltools.converters.mil.mil import Builder as mb
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder
from keras import layers

from edge_ser.artifacts import layout
from edge_ser.errors import ModelError
from edge_ser.export import coreml, coreml_mlprogram, coreml_neuralnetwork
from edge_ser.export.coreml_layers import plan_layers
from edge_ser.labels import CANONICAL_LABELS
from edge_ser.model import INPUT_SHAPE, SUPPORTED_LAYERS, ModelConfig, PatchStandardization
from edge_ser.model import build_model as build_edge_ser_model
from edge_ser.runtimes.coreml_numpy_runtime import CoreMLNumpyRuntime
from edge_ser.runtimes.coreml_runtime import CoreMLRuntime

pytestmark = pytest.mark.slow

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


def _randomize(model: keras.Model, seed: int) -> keras.Model:
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


def _patches(n: int, seed: int) -> np.ndarray:
    """Log-mel-like patches: gamma-distributed energies falling with band, random gains."""
    rng = np.random.default_rng(seed)
    envelope = np.exp(-3.0 * np.linspace(0.0, 1.0, INPUT_SHAPE[1]))[None, None, :, None]
    gain = 10.0 ** rng.uniform(-2.0, 1.0, (n, 1, 1, 1))
    energy = gain * envelope * rng.gamma(0.5, 1.0, (n, *INPUT_SHAPE))
    return np.log(energy + 0.01).astype(np.float32)


def _feature_model() -> keras.Model:
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


def _max_diff(path: Path, model: keras.Model, patches: np.ndarray) -> float:
    probabilities = CoreMLNumpyRuntime().load(path).predict_patches(patches)
    assert probabilities.shape == (len(patches), len(LABELS))
    return float(np.abs(probabilities - model.predict(patches, verbose=0)).max())


@pytest.fixture(scope="module")
def patches() -> np.ndarray:
    return _patches(32, seed=2)


@pytest.fixture(scope="module")
def model(patches) -> keras.Model:
    model = _randomize(build_edge_ser_model(input_scale=0.5), seed=1)
    confidence = model.predict(patches, verbose=0).max(axis=1)
    assert confidence.max() > 0.5  # the parity checks compare spread-out probabilities
    return model


@pytest.fixture(scope="module")
def exported(model, tmp_path_factory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("coreml")
    paths = coreml.export_coreml(model, LABELS, METADATA, out)
    float32 = coreml.build_mlprogram(model, LABELS, METADATA, precision="float32")
    paths["float32.mlpackage"] = coreml.save(float32, out / "float32.mlpackage")
    return paths


def test_translators_cover_the_supported_layers():
    assert set(coreml_mlprogram.TRANSLATORS) == set(SUPPORTED_LAYERS)
    assert set(coreml_neuralnetwork.TRANSLATORS) == set(SUPPORTED_LAYERS)


def test_batch_norms_fold_into_the_layer_before_them():
    steps = plan_layers(build_edge_ser_model(), LABELS)
    assert "BatchNormalization" not in [step.kind for step in steps]
    assert all(step.folded_bn is not None for step in steps if step.kind == "Conv2D")
    feature_steps = plan_layers(_feature_model(), LABELS)
    folded = [step.kind for step in feature_steps if step.folded_bn is not None]
    assert folded == ["Conv2D", "DepthwiseConv2D", "Dense"]
    assert [step.kind for step in feature_steps].count("BatchNormalization") == 2


def test_float32_ml_program_matches_keras(exported, model, patches):
    path = exported["float32.mlpackage"]
    assert _max_diff(path, model, patches) <= 1e-4
    op_types = CoreMLNumpyRuntime().load(path).op_types
    assert {"conv", "max_pool", "avg_pool", "linear", "softmax", "classify"} <= op_types
    assert "batch_norm" not in op_types and "cast" not in op_types


def test_float16_ml_program_matches_keras(exported, model, patches):
    path = exported[layout.MLPACKAGE]
    assert _max_diff(path, model, patches) <= 1e-2
    op_types = CoreMLNumpyRuntime(path).op_types
    assert "cast" in op_types and "constexpr_affine_dequantize" not in op_types


def test_8bit_weight_ml_program_matches_keras(exported, model, patches):
    path = exported[layout.MLPACKAGE_W8]
    assert _max_diff(path, model, patches) <= 2e-2
    assert "constexpr_affine_dequantize" in CoreMLNumpyRuntime().load(path).op_types
    w8_bytes = (path / WEIGHTS_BIN).stat().st_size
    assert w8_bytes < 0.7 * (exported[layout.MLPACKAGE] / WEIGHTS_BIN).stat().st_size


def test_neuralnetwork_matches_keras(exported, model, patches):
    path = exported[layout.MLMODEL]
    assert _max_diff(path, model, patches) <= 1e-4
    assert "batchnorm" not in CoreMLNumpyRuntime().load(path).op_types


def test_neuralnetwork_with_float16_weights_matches_keras(model, patches, tmp_path):
    mlmodel = coreml.build_neuralnetwork(model, LABELS, METADATA, precision="float16")
    path = coreml.save(mlmodel, tmp_path / "half.mlmodel")
    assert _max_diff(path, model, patches) <= 1e-2
    network = ct.utils.load_spec(str(path)).neuralNetworkClassifier
    convolutions = [layer.convolution for layer in network.layers if layer.HasField("convolution")]
    assert all(c.weights.float16Value and not c.weights.floatValue for c in convolutions)


@pytest.mark.parametrize(
    ("name", "specification_version"),  # 4: iOS 13, 6: iOS 15, 7: iOS 16
    [
        (layout.MLPACKAGE, 6),
        (layout.MLPACKAGE_W8, 7),
        (layout.MLMODEL, 4),
        ("float32.mlpackage", 6),
    ],
)
def test_saved_spec_has_io_names_labels_and_metadata(exported, name, specification_version):
    path = exported[name]
    spec = ct.utils.load_spec(str(path))
    assert spec.specificationVersion == specification_version
    description = spec.description
    (feature,) = description.input
    assert feature.name == layout.INPUT_NAME
    assert tuple(feature.type.multiArrayType.shape) == layout.INPUT_SHAPE
    assert (
        feature.type.multiArrayType.dataType == ct.proto.FeatureTypes_pb2.ArrayFeatureType.FLOAT32
    )
    outputs = {output.name: output.type.WhichOneof("Type") for output in description.output}
    assert outputs == {
        layout.COREML_LABEL_OUTPUT: "stringType",
        layout.COREML_PROBABILITIES_OUTPUT: "dictionaryType",
    }
    assert description.predictedFeatureName == layout.COREML_LABEL_OUTPUT
    assert description.predictedProbabilitiesName == layout.COREML_PROBABILITIES_OUTPUT
    assert CoreMLNumpyRuntime().load(path).labels == LABELS
    metadata = description.metadata
    assert (metadata.author, metadata.license) == (METADATA["author"], METADATA["license"])
    assert metadata.shortDescription == METADATA["short_description"]
    assert metadata.versionString == METADATA["version"]
    assert metadata.userDefined["sample_rate"] == "16000"
    assert metadata.userDefined["preprocessor_version"] == "1"
    assert feature.shortDescription and all(o.shortDescription for o in description.output)


@pytest.mark.parametrize(
    ("make_model", "name"),
    [
        (_feature_model, "features"),
        (lambda: build_edge_ser_model(ModelConfig(frequency_head=False)), "global_average"),
        (
            lambda: build_edge_ser_model(ModelConfig(band_fold=1, per_band_normalization=False)),
            "unfolded_patch_mean",
        ),
    ],
)
def test_other_layers_match_keras(make_model, name, patches, tmp_path):
    model = _randomize(make_model(), seed=3)
    program = coreml.build_mlprogram(model, LABELS, METADATA, precision="float32")
    program_path = coreml.save(program, tmp_path / f"{name}.mlpackage")
    assert _max_diff(program_path, model, patches) <= 1e-4
    half = coreml.save(coreml.build_mlprogram(model, LABELS, {}), tmp_path / "half.mlpackage")
    assert _max_diff(half, model, patches) <= 1e-2
    network = coreml.build_neuralnetwork(model, LABELS, METADATA)
    network_path = coreml.save(network, tmp_path / f"{name}.mlmodel")
    assert _max_diff(network_path, model, patches) <= 1e-4
    if name == "features":
        program_ops = CoreMLNumpyRuntime().load(program_path).op_types
        assert {"batch_norm", "relu6", "leaky_relu", "clip", "reduce_max", "mul", "add"} <= (
            program_ops
        )
        network_ops = CoreMLNumpyRuntime().load(network_path).op_types
        assert {"batchnorm", "clip", "expandDims", "squeeze", "reduceMax"} <= network_ops


def test_batched_and_single_patch_predictions_agree(exported, patches):
    runtime = CoreMLNumpyRuntime().load(exported["float32.mlpackage"])
    one_by_one = np.concatenate([runtime.predict_patches(p[np.newaxis]) for p in patches[:4]])
    np.testing.assert_allclose(runtime.predict_patches(patches[:4]), one_by_one, atol=1e-6)
    with pytest.raises(ValueError, match="shape"):
        runtime.predict_patches(patches[:, :48])


@pytest.mark.parametrize("name", ["float32.mlpackage", layout.MLMODEL])
def test_perturbed_saved_weight_is_detected(exported, model, patches, name, tmp_path):
    kernel = model.get_layer("logits").kernel.numpy()
    original = np.ascontiguousarray(kernel.T, "<f4").tobytes()
    perturbed = np.ascontiguousarray(-kernel.T, "<f4").tobytes()
    copy = tmp_path / name
    if exported[name].is_dir():
        shutil.copytree(exported[name], copy)
        weights_file = copy / WEIGHTS_BIN
    else:
        shutil.copy(exported[name], copy)
        weights_file = copy
    data = weights_file.read_bytes()
    assert data.count(original) == 1
    weights_file.write_bytes(data.replace(original, perturbed))
    assert _max_diff(copy, model, patches) > 0.05


@pytest.mark.parametrize("build", [coreml.build_mlprogram, coreml.build_neuralnetwork])
@pytest.mark.parametrize(
    ("layer", "kind"),
    [
        (layers.SeparableConv2D(4, 3, padding="same", name="odd"), "SeparableConv2D"),
        (layers.LayerNormalization(name="odd"), "LayerNormalization"),
    ],
)
def test_unsupported_layer_raises_model_error(build, layer, kind):
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.GlobalAveragePooling2D()(layer(inputs))
    model = keras.Model(inputs, layers.Dense(len(LABELS), activation="softmax")(x))
    with pytest.raises(ModelError, match=rf"'odd' \({kind}\)"):
        build(model, LABELS, METADATA)


@pytest.mark.parametrize("build", [coreml.build_mlprogram, coreml.build_neuralnetwork])
def test_unsupported_activation_and_label_count_raise_model_error(build):
    inputs = keras.Input(INPUT_SHAPE)
    x = layers.GlobalAveragePooling2D()(layers.Activation("tanh", name="squash")(inputs))
    model = keras.Model(inputs, layers.Dense(len(LABELS), activation="softmax")(x))
    with pytest.raises(ModelError, match="'tanh' of layer 'squash'"):
        build(model, LABELS, METADATA)
    with pytest.raises(ModelError, match="expected \\(4,\\)"):
        build(build_edge_ser_model(), LABELS[:4], METADATA)


def test_evaluator_rejects_unknown_ml_program_op(tmp_path):
    @mb.program(input_specs=[mb.TensorSpec(shape=(1, 4))], opset_version=ct.target.iOS15)
    def program(x):
        return mb.softmax(x=mb.sin(x=x), axis=-1)

    mlmodel = ct.convert(
        program,
        convert_to="mlprogram",
        minimum_deployment_target=ct.target.iOS15,
        classifier_config=ct.ClassifierConfig(["a", "b", "c", "d"]),
        skip_model_load=True,
    )
    path = coreml.save(mlmodel, tmp_path / "sin.mlpackage")
    with pytest.raises(ModelError, match=r"not supported by the NumPy evaluator: sin$"):
        CoreMLNumpyRuntime().load(path)


def test_evaluator_rejects_unknown_neuralnetwork_layer(tmp_path):
    builder = NeuralNetworkBuilder(
        [("x", datatypes.Array(1, 4))],
        [("probabilities", None)],
        mode="classifier",
        disable_rank5_shape_mapping=True,
    )
    builder.add_unary("root", "x", "root", mode="sqrt")
    builder.add_softmax_nd("softmax", "root", "softmax", axis=-1)
    builder.set_class_labels(["a", "b", "c", "d"], prediction_blob="softmax")
    mlmodel = ct.models.MLModel(builder.spec, skip_model_load=True)
    path = coreml.save(mlmodel, tmp_path / "sqrt.mlmodel")
    with pytest.raises(ModelError, match=r"not supported by the NumPy evaluator: unary$"):
        CoreMLNumpyRuntime().load(path)


@pytest.mark.skipif(sys.platform == "darwin", reason="Core ML runs models on macOS")
def test_macos_runtime_refuses_other_platforms(exported):
    with pytest.raises(ModelError, match="only on macOS"):
        CoreMLRuntime(exported[layout.MLPACKAGE])
