"""How each artifact format is built: a function per format that writes the file and returns
the manifest fields describing its tensors (``edge_ser.artifacts.formats`` says what each is)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import PATCH_INPUT, WAVEFORM_INPUT
from edge_ser.export.coreml import build_mlprogram, build_neuralnetwork, quantize_weights_8bit
from edge_ser.export.tflite import to_float32_tflite, to_int8_tflite
from edge_ser.export.tflite_metadata import MetadataInfo, add_metadata
from edge_ser.log_mel_layer import FRONTEND_LAYER, build_waveform_model
from edge_ser.model import standardize_layers
from edge_ser.reference_preprocess import params
from edge_ser.runtimes.litert_runtime import LiteRTRuntime
from edge_ser.windows import synthesize_windows


@dataclass
class ExportContext:
    """What every format builder needs: the Keras model and what describes it."""

    model: object  # keras.Model, the patch classifier
    labels: tuple[str, ...]
    calibration: np.ndarray  # (n, 96, 64, 1) real training patches
    metadata: dict  # version, license, model id, preprocessing constants (strings)


# Writes one artifact file and returns its manifest fields (input and output tensors).
Builder = Callable[[ExportContext, Path], dict]


def _tflite_entry(ctx: ExportContext, path: Path) -> dict:
    return LiteRTRuntime(path, ctx.labels).manifest_fields()


def _metadata_info(ctx: ExportContext, input_kind: str) -> MetadataInfo:
    """The TFLite Model Metadata of an artifact taking ``input_kind``."""
    labels = ", ".join(ctx.labels)
    seconds = params.MIN_SAMPLES / params.SAMPLE_RATE
    waveform = input_kind == WAVEFORM_INPUT
    return MetadataInfo(
        name=ctx.metadata["model_id"],
        description=(
            f"Speech emotion from one {seconds:g} s window of {params.SAMPLE_RATE} Hz mono "
            f"audio: {labels}"
            if waveform
            else ctx.metadata["short_description"]
        ),
        version=ctx.metadata["version"],
        author=ctx.metadata["author"],
        license=ctx.metadata["license"],
        labels=ctx.labels,
        labels_file=layout.LABELS_TXT,
        input_name=layout.WAVEFORM_INPUT_NAME if waveform else layout.INPUT_NAME,
        input_description=(
            f"{params.MIN_SAMPLES} samples of {params.SAMPLE_RATE} Hz mono audio, float32 in "
            "[-1, 1]"
            if waveform
            else f"One raw log-mel patch: {params.PATCH_FRAMES} frames of 10 ms x "
            f"{params.NUM_MEL_BANDS} mel bands (int8 models: quantized with the input's scale "
            "and zero point)"
        ),
        audio_sample_rate=params.SAMPLE_RATE if waveform else None,
        output_name=layout.OUTPUT_NAME,
    )


def _write_tflite(ctx: ExportContext, path: Path, flatbuffer: bytes, input_kind: str) -> dict:
    """Write a converted model with its metadata; return its manifest fields."""
    path.write_bytes(add_metadata(flatbuffer, _metadata_info(ctx, input_kind)))
    return _tflite_entry(ctx, path)


def _build_tflite_int8(ctx: ExportContext, path: Path) -> dict:
    return _write_tflite(ctx, path, to_int8_tflite(ctx.model, ctx.calibration), PATCH_INPUT)


def _build_tflite_float32(ctx: ExportContext, path: Path) -> dict:
    return _write_tflite(ctx, path, to_float32_tflite(ctx.model), PATCH_INPUT)


def _build_waveform_tflite_int8(ctx: ExportContext, path: Path) -> dict:
    # Calibration windows rebuilt from the calibration patches, so that the classifier is
    # calibrated on the same speech as the patch model's. The input normalization stays
    # float32 with the frontend (every member's, in an ensemble): int8 starts on the normalized
    # patch, whose narrow range quantizes far more finely than raw log-mel values.
    flatbuffer = to_int8_tflite(
        build_waveform_model(ctx.model),
        synthesize_windows(ctx.calibration),
        layout.WAVEFORM_INPUT_SHAPE,
        layout.WAVEFORM_INPUT_NAME,
        float_layers=(FRONTEND_LAYER, *standardize_layers(ctx.model)),
    )
    return _write_tflite(ctx, path, flatbuffer, WAVEFORM_INPUT)


def _build_waveform_tflite_float32(ctx: ExportContext, path: Path) -> dict:
    flatbuffer = to_float32_tflite(
        build_waveform_model(ctx.model), layout.WAVEFORM_INPUT_SHAPE, layout.WAVEFORM_INPUT_NAME
    )
    return _write_tflite(ctx, path, flatbuffer, WAVEFORM_INPUT)


def _coreml_entry(waveform: bool = False) -> dict:
    name, shape = (
        (layout.WAVEFORM_INPUT_NAME, layout.WAVEFORM_INPUT_SHAPE)
        if waveform
        else (layout.INPUT_NAME, layout.INPUT_SHAPE)
    )
    return {
        "input": {"name": name, "dtype": "float32", "shape": list(shape)},
        "output": {
            "label": layout.COREML_LABEL_OUTPUT,
            "probabilities": layout.COREML_PROBABILITIES_OUTPUT,
        },
    }


def _build_mlprogram(precision: str, weights_8bit: bool = False, waveform: bool = False):
    # 8-bit weights are unpacked by an op that needs iOS 16 (specification version 7).
    target = "iOS16" if weights_8bit else "iOS15"

    def build(ctx: ExportContext, path: Path) -> dict:
        mlmodel = build_mlprogram(
            ctx.model, ctx.labels, ctx.metadata, precision=precision, waveform=waveform
        )
        if weights_8bit:
            mlmodel = quantize_weights_8bit(mlmodel)
        mlmodel.save(str(path))
        return {
            **_coreml_entry(waveform),
            "minimum_deployment_target": target,
            "model_type": "mlProgram",
        }

    return build


def _build_neuralnetwork(ctx: ExportContext, path: Path) -> dict:
    build_neuralnetwork(ctx.model, ctx.labels, ctx.metadata).save(str(path))
    return {**_coreml_entry(), "minimum_deployment_target": "iOS13", "model_type": "neuralNetwork"}


BUILDERS: dict[str, Builder] = {
    "tflite-int8": _build_tflite_int8,
    "tflite-float32": _build_tflite_float32,
    "mlpackage": _build_mlprogram("float16"),
    "mlmodel": _build_neuralnetwork,
    "mlpackage-w8": _build_mlprogram("float16", weights_8bit=True),
    "tflite-waveform-int8": _build_waveform_tflite_int8,
    "tflite-waveform-float32": _build_waveform_tflite_float32,
    "mlpackage-waveform": _build_mlprogram("float16", waveform=True),
}
