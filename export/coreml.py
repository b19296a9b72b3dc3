"""Core ML export: ML Program (``.mlpackage``) and NeuralNetwork (``.mlmodel``) classifiers.

The models are built from the Keras layers and their weights (``coreml_mlprogram`` and
``coreml_neuralnetwork``), not with the TensorFlow frontend of coremltools. Both take the
``log_mel`` patch (float32, NHWC ``layout.INPUT_SHAPE``), or for waveform-in ML Programs the
``waveform`` window (float32 ``layout.WAVEFORM_INPUT_SHAPE``), and are classifiers with a
``label`` (string) and a ``probabilities`` (label -> probability) output. The builders
return the models; ``edge_ser.export.artifacts`` writes them into an export.

``metadata`` dictionaries: the keys ``author``, ``license``, ``short_description`` and
``version`` fill the Core ML fields of the same names; every other key becomes a
user-defined metadata entry (values that are not strings are stored as JSON).
"""

from __future__ import annotations

import json
from typing import Any

import coremltools as ct
import keras

from edge_ser.artifacts import layout
from edge_ser.export import coreml_mlprogram, coreml_neuralnetwork
from edge_ser.reference_preprocess import params

_MODEL_FIELDS = ("author", "license", "short_description", "version")
_INPUT_DESCRIPTIONS = {
    layout.INPUT_NAME: (
        f"One log-mel patch, float32 (1, {params.PATCH_FRAMES} frames, "
        f"{params.NUM_MEL_BANDS} mel bands, 1), from the edge-ser reference preprocessor "
        f"version {params.PREPROCESSOR_VERSION}"
    ),
    layout.WAVEFORM_INPUT_NAME: (
        f"One window of {params.MIN_SAMPLES} mono float32 samples in [-1, 1] at "
        f"{params.SAMPLE_RATE} Hz; the model computes the log-mel of the edge-ser reference "
        f"preprocessor version {params.PREPROCESSOR_VERSION} itself"
    ),
}


def build_mlprogram(
    model: keras.Model,
    labels: tuple[str, ...],
    metadata: dict[str, Any],
    precision: str = "float16",
    waveform: bool = False,
) -> ct.models.MLModel:
    """ML Program classifier for iOS 15+.

    Parameters
    ----------
    model:
        A single chain of ``edge_ser.model.SUPPORTED_LAYERS`` (or an ensemble's branches joined
        by ``Average``) taking (batch, 96, 64, 1) log-mel patches and returning
        (batch, len(labels)) probabilities.
    labels:
        Class labels, in the order of the model's outputs.
    metadata:
        Model fields and user-defined entries (see the module docstring).
    precision:
        ``"float16"`` (default; float16 weights and compute) or ``"float32"``.
    waveform:
        Take ``layout.WAVEFORM_INPUT_NAME`` windows (float32 ``layout.WAVEFORM_INPUT_SHAPE``)
        and compute the reference log-mel inside the program, in float32 whatever
        ``precision`` is (see ``edge_ser.log_mel_layer``).

    Raises
    ------
    ModelError
        If a layer or layer option cannot be exported.
    """
    mlmodel = coreml_mlprogram.build(model, labels, precision, waveform=waveform)
    return _describe(mlmodel, metadata)


def quantize_weights_8bit(mlmodel: ct.models.MLModel) -> ct.models.MLModel:
    """Copy of an ML Program with its large weights stored as symmetric per-channel int8.

    Weights with fewer than 2048 elements stay as they are; each int8 tensor is
    dequantized by a ``constexpr_affine_dequantize`` op when Core ML loads the model,
    which makes the minimum deployment target iOS 16. Metadata and I/O are kept.
    """
    quantizer = ct.optimize.coreml.OpLinearQuantizerConfig(
        mode="linear_symmetric", dtype="int8", granularity="per_channel"
    )
    config = ct.optimize.coreml.OptimizationConfig(global_config=quantizer)
    return ct.optimize.coreml.linear_quantize_weights(mlmodel, config)


def build_neuralnetwork(
    model: keras.Model,
    labels: tuple[str, ...],
    metadata: dict[str, Any],
    precision: str = "float32",
) -> ct.models.MLModel:
    """NeuralNetwork classifier for iOS 13+ with ``precision`` (float32 or float16) weights.

    Same parameters and errors as :func:`build_mlprogram`.
    """
    mlmodel = coreml_neuralnetwork.build(model, labels, precision)
    return _describe(mlmodel, metadata)


def _describe(mlmodel: ct.models.MLModel, metadata: dict[str, Any]) -> ct.models.MLModel:
    for key, value in metadata.items():
        if key in _MODEL_FIELDS:
            setattr(mlmodel, key, str(value))
        else:
            mlmodel.user_defined_metadata[key] = (
                value if isinstance(value, str) else json.dumps(value)
            )
    input_name = mlmodel.get_spec().description.input[0].name
    mlmodel.input_description[input_name] = _INPUT_DESCRIPTIONS[input_name]
    mlmodel.output_description[layout.COREML_LABEL_OUTPUT] = "Most probable emotion"
    mlmodel.output_description[layout.COREML_PROBABILITIES_OUTPUT] = (
        "Probability of each emotion label"
    )
    return mlmodel
