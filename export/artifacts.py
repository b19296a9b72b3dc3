"""The registry of artifact formats: how each is built and how it is run for parity checks."""

from __future__ import annotations

import platform
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ser.export import layout

# What an artifact takes: one log-mel patch, or one raw waveform window (frontend inside).
PATCH_INPUT = "patch"
WAVEFORM_INPUT = "waveform"


@dataclass
class ExportContext:
    """What every format builder needs: the Keras model and what describes it."""

    model: object  # keras.Model, the patch classifier
    labels: tuple[str, ...]
    calibration: np.ndarray  # (n, 96, 64, 1) real training patches
    metadata: dict  # version, license, model id, preprocessing constants (strings)


@dataclass(frozen=True)
class ArtifactFormat:
    """One exportable format: its CLI name, file name, numeric precision, runtime and input."""

    name: str
    filename: str
    precision: str  # "int8", "float32", "float16" or "float16-w8" (8-bit weights)
    runtime: str  # "litert" or "coreml"
    build: Callable[[ExportContext, Path], dict]  # writes the file, returns manifest fields
    description: str
    input: str = PATCH_INPUT  # PATCH_INPUT or WAVEFORM_INPUT


def _tensor_entry(detail: dict) -> dict:
    scale, zero_point = detail["quantization"]
    entry = {
        "name": detail["name"],
        "dtype": np.dtype(detail["dtype"]).name,
        "shape": [int(d) for d in detail["shape"]],
    }
    if entry["dtype"] == "int8":
        entry.update(scale=float(scale), zero_point=int(zero_point))
    return entry


def _tflite_entry(path: Path) -> dict:
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_path=str(path))
    return {
        "input": _tensor_entry(interpreter.get_input_details()[0]),
        "output": _tensor_entry(interpreter.get_output_details()[0]),
    }


def _build_tflite_int8(ctx: ExportContext, path: Path) -> dict:
    from edge_ser.export.tflite import to_int8_tflite

    path.write_bytes(to_int8_tflite(ctx.model, ctx.calibration))
    return _tflite_entry(path)


def _build_tflite_float32(ctx: ExportContext, path: Path) -> dict:
    from edge_ser.export.tflite import to_float32_tflite

    path.write_bytes(to_float32_tflite(ctx.model))
    return _tflite_entry(path)


def _build_waveform_tflite_int8(ctx: ExportContext, path: Path) -> dict:
    from edge_ser.export.tflite import to_int8_tflite
    from edge_ser.frontend import FRONTEND_LAYER, build_waveform_model
    from edge_ser.model import STANDARDIZE_LAYER
    from edge_ser.windows import synthesize_windows

    # Calibration windows rebuilt from the calibration patches, so that the classifier is
    # calibrated on the same speech as the patch model's. The input normalization stays
    # float32 with the frontend: int8 starts on the normalized patch, whose narrow range
    # quantizes far more finely than raw log-mel values.
    flatbuffer = to_int8_tflite(
        build_waveform_model(ctx.model),
        synthesize_windows(ctx.calibration),
        layout.WAVEFORM_INPUT_SHAPE,
        layout.WAVEFORM_INPUT_NAME,
        float_layers=(FRONTEND_LAYER, STANDARDIZE_LAYER),
    )
    path.write_bytes(flatbuffer)
    return _tflite_entry(path)


def _build_waveform_tflite_float32(ctx: ExportContext, path: Path) -> dict:
    from edge_ser.export.tflite import to_float32_tflite
    from edge_ser.frontend import build_waveform_model

    flatbuffer = to_float32_tflite(
        build_waveform_model(ctx.model), layout.WAVEFORM_INPUT_SHAPE, layout.WAVEFORM_INPUT_NAME
    )
    path.write_bytes(flatbuffer)
    return _tflite_entry(path)


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
        from edge_ser.export.coreml import build_mlprogram, quantize_weights_8bit

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
    from edge_ser.export.coreml import build_neuralnetwork

    build_neuralnetwork(ctx.model, ctx.labels, ctx.metadata).save(str(path))
    return {**_coreml_entry(), "minimum_deployment_target": "iOS13", "model_type": "neuralNetwork"}


FORMATS: dict[str, ArtifactFormat] = {
    f.name: f
    for f in (
        ArtifactFormat(
            "tflite-int8",
            layout.INT8_TFLITE,
            "int8",
            "litert",
            _build_tflite_int8,
            "full-integer int8 TFLite (int8 input and output) for Android / LiteRT",
        ),
        ArtifactFormat(
            "tflite-float32",
            layout.FLOAT32_TFLITE,
            "float32",
            "litert",
            _build_tflite_float32,
            "float32 TFLite: the float reference on device",
        ),
        ArtifactFormat(
            "mlpackage",
            layout.MLPACKAGE,
            "float16",
            "coreml",
            _build_mlprogram("float16"),
            "Core ML ML Program, fp16 compute, iOS 15+",
        ),
        ArtifactFormat(
            "mlmodel",
            layout.MLMODEL,
            "float32",
            "coreml",
            _build_neuralnetwork,
            "Core ML NeuralNetwork (legacy .mlmodel), fp32, iOS 13+",
        ),
        ArtifactFormat(
            "mlpackage-w8",
            layout.MLPACKAGE_W8,
            "float16-w8",
            "coreml",
            _build_mlprogram("float16", weights_8bit=True),
            "Core ML ML Program with 8-bit linearly quantized weights, fp16 compute, iOS 16+",
        ),
        ArtifactFormat(
            "tflite-waveform-int8",
            layout.WAVEFORM_INT8_TFLITE,
            "int8",
            "litert",
            _build_waveform_tflite_int8,
            "waveform-in TFLite: float32 log-mel frontend and normalization, int8 classifier, "
            "float32 I/O",
            WAVEFORM_INPUT,
        ),
        ArtifactFormat(
            "tflite-waveform-float32",
            layout.WAVEFORM_FLOAT32_TFLITE,
            "float32",
            "litert",
            _build_waveform_tflite_float32,
            "waveform-in float32 TFLite (log-mel frontend inside)",
            WAVEFORM_INPUT,
        ),
        ArtifactFormat(
            "mlpackage-waveform",
            layout.WAVEFORM_MLPACKAGE,
            "float16",
            "coreml",
            _build_mlprogram("float16", waveform=True),
            "waveform-in Core ML ML Program: fp32 log-mel frontend, fp16 classifier, iOS 15+",
            WAVEFORM_INPUT,
        ),
    )
}
DEFAULT_FORMATS: tuple[str, ...] = ("tflite-int8", "tflite-float32", "mlpackage", "mlmodel")
# What ``export --waveform`` adds to the selected formats.
WAVEFORM_FORMATS: tuple[str, ...] = tuple(
    f.name for f in FORMATS.values() if f.input == WAVEFORM_INPUT
)
FILENAME_FORMATS: dict[str, ArtifactFormat] = {f.filename: f for f in FORMATS.values()}


def open_runtimes(path: Path, entry: dict, labels: tuple[str, ...]) -> dict[str, object]:
    """Runtimes that execute one artifact, by runtime name.

    TFLite files run in LiteRT with the input quantized exactly as the manifest entry says.
    Core ML files run in edge-ser's NumPy evaluator of the saved program everywhere and,
    on macOS, also in Core ML itself (``MLModel.predict``).
    """
    if path.suffix == ".tflite":
        from edge_ser.runtimes.litert import LiteRTRuntime

        quant = entry.get("input", {})
        override = (quant["scale"], quant["zero_point"]) if "scale" in quant else None
        return {"litert": LiteRTRuntime(path, labels, input_quantization=override)}
    from edge_ser.runtimes.coreml_numpy import CoreMLNumpyRuntime

    runtimes: dict[str, object] = {"coreml-numpy": CoreMLNumpyRuntime(path)}
    if platform.system() == "Darwin":
        from edge_ser.runtimes.coreml_macos import CoreMLRuntime

        runtimes["coreml-macos"] = CoreMLRuntime(path)
    return runtimes
