"""Core ML export (``edge_ser.export.coreml`` and its layer translators): saved ML Programs
and NeuralNetworks, evaluated with NumPy, match Keras."""

from __future__ import annotations

import coremltools as ct
import keras
import pytest
from coreml_factory import (
    FLOAT32_MLPACKAGE,
    LABELS,
    METADATA,
    WEIGHTS_BIN,
    feature_model,
    max_diff,
    randomize,
    save,
)
from keras import layers

from edge_ser.artifacts import layout
from edge_ser.errors import ModelError
from edge_ser.export import coreml, coreml_mlprogram, coreml_neuralnetwork
from edge_ser.export.coreml_layers import plan_layers
from edge_ser.model import INPUT_SHAPE, SUPPORTED_LAYERS, ModelConfig, ensemble_model
from edge_ser.model import build_model as build_edge_ser_model
from edge_ser.runtimes.coreml_numpy_runtime import CoreMLNumpyRuntime

pytestmark = pytest.mark.slow


def test_translators_cover_the_supported_layers():
    translated = set(SUPPORTED_LAYERS) - {"InputLayer"}  # the input is the builders' own
    assert set(coreml_mlprogram.TRANSLATORS) == translated
    assert set(coreml_neuralnetwork.TRANSLATORS) == translated


def test_batch_norms_fold_into_the_layer_before_them():
    steps = plan_layers(build_edge_ser_model(), LABELS)
    assert "BatchNormalization" not in [step.kind for step in steps]
    assert all(step.folded_bn is not None for step in steps if step.kind == "Conv2D")
    feature_steps = plan_layers(feature_model(), LABELS)
    folded = [step.kind for step in feature_steps if step.folded_bn is not None]
    assert folded == ["Conv2D", "DepthwiseConv2D", "Dense"]
    assert [step.kind for step in feature_steps].count("BatchNormalization") == 2


def test_float32_ml_program_matches_keras(coreml_exports, coreml_model, coreml_patches):
    path = coreml_exports[FLOAT32_MLPACKAGE]
    assert max_diff(path, coreml_model, coreml_patches) <= 1e-4
    op_types = CoreMLNumpyRuntime().load(path).op_types
    assert {"conv", "max_pool", "avg_pool", "linear", "softmax", "classify"} <= op_types
    assert "batch_norm" not in op_types and "cast" not in op_types


def test_float16_ml_program_matches_keras(coreml_exports, coreml_model, coreml_patches):
    path = coreml_exports[layout.MLPACKAGE]
    assert max_diff(path, coreml_model, coreml_patches) <= 1e-2
    op_types = CoreMLNumpyRuntime(path).op_types
    assert "cast" in op_types and "constexpr_affine_dequantize" not in op_types


def test_8bit_weight_ml_program_matches_keras(coreml_exports, coreml_model, coreml_patches):
    path = coreml_exports[layout.MLPACKAGE_W8]
    assert max_diff(path, coreml_model, coreml_patches) <= 2e-2
    assert "constexpr_affine_dequantize" in CoreMLNumpyRuntime().load(path).op_types
    w8_bytes = (path / WEIGHTS_BIN).stat().st_size
    assert w8_bytes < 0.7 * (coreml_exports[layout.MLPACKAGE] / WEIGHTS_BIN).stat().st_size


def test_neuralnetwork_matches_keras(coreml_exports, coreml_model, coreml_patches):
    path = coreml_exports[layout.MLMODEL]
    assert max_diff(path, coreml_model, coreml_patches) <= 1e-4
    assert "batchnorm" not in CoreMLNumpyRuntime().load(path).op_types


def test_neuralnetwork_with_float16_weights_matches_keras(coreml_model, coreml_patches, tmp_path):
    mlmodel = coreml.build_neuralnetwork(coreml_model, LABELS, METADATA, precision="float16")
    path = save(mlmodel, tmp_path / "half.mlmodel")
    assert max_diff(path, coreml_model, coreml_patches) <= 1e-2
    network = ct.utils.load_spec(str(path)).neuralNetworkClassifier
    convolutions = [layer.convolution for layer in network.layers if layer.HasField("convolution")]
    assert all(c.weights.float16Value and not c.weights.floatValue for c in convolutions)


@pytest.mark.parametrize(
    ("name", "specification_version"),  # 4: iOS 13, 6: iOS 15, 7: iOS 16
    [
        (layout.MLPACKAGE, 6),
        (layout.MLPACKAGE_W8, 7),
        (layout.MLMODEL, 4),
        (FLOAT32_MLPACKAGE, 6),
    ],
)
def test_saved_spec_has_io_names_labels_and_metadata(coreml_exports, name, specification_version):
    path = coreml_exports[name]
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
        (feature_model, "features"),
        (lambda: build_edge_ser_model(ModelConfig(frequency_head=False)), "global_average"),
        (
            lambda: build_edge_ser_model(ModelConfig(band_fold=1, per_band_normalization=False)),
            "unfolded_patch_mean",
        ),
    ],
)
def test_other_layers_match_keras(make_model, name, coreml_patches, tmp_path):
    model = randomize(make_model(), seed=3)
    program = coreml.build_mlprogram(model, LABELS, METADATA, precision="float32")
    program_path = save(program, tmp_path / f"{name}.mlpackage")
    assert max_diff(program_path, model, coreml_patches) <= 1e-4
    half = save(coreml.build_mlprogram(model, LABELS, {}), tmp_path / "half.mlpackage")
    assert max_diff(half, model, coreml_patches) <= 1e-2
    network = coreml.build_neuralnetwork(model, LABELS, METADATA)
    network_path = save(network, tmp_path / f"{name}.mlmodel")
    assert max_diff(network_path, model, coreml_patches) <= 1e-4
    if name == "features":
        program_ops = CoreMLNumpyRuntime().load(program_path).op_types
        assert {"batch_norm", "relu6", "leaky_relu", "clip", "reduce_max", "mul", "add"} <= (
            program_ops
        )
        network_ops = CoreMLNumpyRuntime().load(network_path).op_types
        assert {"batchnorm", "clip", "expandDims", "squeeze", "reduceMax"} <= network_ops


@pytest.mark.parametrize("scales", [(0.5, 0.5), (0.5, 0.5, 0.7)])
def test_an_ensemble_matches_keras(scales, coreml_patches, tmp_path):
    config = ModelConfig(widths=(8, 16))
    members = [
        randomize(build_edge_ser_model(config, LABELS, input_scale=scale), seed=i)
        for i, scale in enumerate(scales)
    ]
    model = ensemble_model(members)
    steps = plan_layers(model, LABELS)
    shared = len(set(scales)) == 1
    assert [step.kind for step in steps].count("PatchStandardization") == (
        1 if shared else len(scales)
    )
    assert "BatchNormalization" not in [step.kind for step in steps]
    assert steps[-1].kind == "Average" and len(steps[-1].inputs) == len(scales)
    program = coreml.build_mlprogram(model, LABELS, METADATA, precision="float32")
    assert max_diff(save(program, tmp_path / "e.mlpackage"), model, coreml_patches) <= 1e-4
    network = coreml.build_neuralnetwork(model, LABELS, METADATA)
    assert max_diff(save(network, tmp_path / "e.mlmodel"), model, coreml_patches) <= 1e-4
    single = max(max_diff(tmp_path / "e.mlmodel", member, coreml_patches) for member in members)
    assert single > 1e-2  # the members disagree: the match above needs every branch


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
