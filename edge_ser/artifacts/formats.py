"""The artifact formats of an export: what each file is, for the apps, ``verify`` and Python.

How each format is built is the exporter's part (``edge_ser.export.artifacts``).
"""

from __future__ import annotations

from dataclasses import dataclass

from edge_ser.artifacts import layout

# What an artifact takes: one log-mel patch, or one raw waveform window (frontend inside).
PATCH_INPUT = "patch"
WAVEFORM_INPUT = "waveform"


@dataclass(frozen=True)
class ArtifactFormat:
    """One exportable format: its CLI name, file name, numeric precision, runtime and input."""

    name: str
    filename: str
    precision: str  # "int8", "float32", "float16" or "float16-w8" (8-bit weights)
    runtime: str  # "litert" or "coreml"
    description: str
    input: str = PATCH_INPUT  # PATCH_INPUT or WAVEFORM_INPUT


FORMATS: dict[str, ArtifactFormat] = {
    f.name: f
    for f in (
        ArtifactFormat(
            "tflite-int8",
            layout.INT8_TFLITE,
            "int8",
            "litert",
            "full-integer int8 TFLite (int8 input and output) for Android / LiteRT",
        ),
        ArtifactFormat(
            "tflite-float32",
            layout.FLOAT32_TFLITE,
            "float32",
            "litert",
            "float32 TFLite: the float reference on device",
        ),
        ArtifactFormat(
            "mlpackage",
            layout.MLPACKAGE,
            "float16",
            "coreml",
            "Core ML ML Program, fp16 compute, iOS 15+",
        ),
        ArtifactFormat(
            "mlmodel",
            layout.MLMODEL,
            "float32",
            "coreml",
            "Core ML NeuralNetwork (legacy .mlmodel), fp32, iOS 13+",
        ),
        ArtifactFormat(
            "mlpackage-w8",
            layout.MLPACKAGE_W8,
            "float16-w8",
            "coreml",
            "Core ML ML Program with 8-bit linearly quantized weights, fp16 compute, iOS 16+",
        ),
        ArtifactFormat(
            "tflite-waveform-int8",
            layout.WAVEFORM_INT8_TFLITE,
            "int8",
            "litert",
            "waveform-in TFLite: float32 log-mel frontend and normalization, int8 classifier, "
            "float32 I/O",
            WAVEFORM_INPUT,
        ),
        ArtifactFormat(
            "tflite-waveform-float32",
            layout.WAVEFORM_FLOAT32_TFLITE,
            "float32",
            "litert",
            "waveform-in float32 TFLite (log-mel frontend inside)",
            WAVEFORM_INPUT,
        ),
        ArtifactFormat(
            "mlpackage-waveform",
            layout.WAVEFORM_MLPACKAGE,
            "float16",
            "coreml",
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
