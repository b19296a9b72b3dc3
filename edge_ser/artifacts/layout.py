"""Names and shapes of everything ``edge-ser export`` writes: the contract with the apps.

The exporter, ``verify``, the runtimes and the sample-app consistency tests all read these
names from here, so the Android and iOS samples cannot drift from what is exported.
"""

from __future__ import annotations

from edge_ser.atomic import OutputKind
from edge_ser.reference_preprocess import params

INT8_TFLITE = "emotion_int8.tflite"
FLOAT32_TFLITE = "emotion_float32.tflite"
MLPACKAGE = "emotion.mlpackage"
MLPACKAGE_W8 = "emotion_w8.mlpackage"
MLMODEL = "emotion.mlmodel"
WAVEFORM_INT8_TFLITE = "emotion_waveform_int8.tflite"
WAVEFORM_FLOAT32_TFLITE = "emotion_waveform_float32.tflite"
WAVEFORM_MLPACKAGE = "emotion_waveform.mlpackage"
LABELS_TXT = "labels.txt"
MANIFEST_JSON = "manifest.json"
GOLDEN_DIR = "golden"

# Everything an export may write: ``export --force`` replaces these entries and keeps others.
OUTPUT = OutputKind(
    "an export",
    MANIFEST_JSON,
    [
        INT8_TFLITE,
        FLOAT32_TFLITE,
        MLPACKAGE,
        MLPACKAGE_W8,
        MLMODEL,
        WAVEFORM_INT8_TFLITE,
        WAVEFORM_FLOAT32_TFLITE,
        WAVEFORM_MLPACKAGE,
        LABELS_TXT,
        GOLDEN_DIR,
    ],
)

# Model input: one log-mel patch, NHWC = (batch, frames, mel bands, channel).
INPUT_NAME = "log_mel"
INPUT_SHAPE: tuple[int, int, int, int] = (1, params.PATCH_FRAMES, params.NUM_MEL_BANDS, 1)
# Waveform-in models: one window of raw 16 kHz float32 samples.
WAVEFORM_INPUT_NAME = "waveform"
WAVEFORM_INPUT_SHAPE: tuple[int, int] = (1, params.MIN_SAMPLES)
# Core ML classifier outputs.
COREML_LABEL_OUTPUT = "label"
COREML_PROBABILITIES_OUTPUT = "probabilities"
# TFLite output: (1, number of labels) probabilities.
OUTPUT_NAME = "probabilities"

QUANTIZATION_RULE = (
    "q = clamp(round_half_away_from_zero(x / scale) + zero_point, -128, 127); "
    "x = (q - zero_point) * scale"
)
