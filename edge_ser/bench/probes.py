"""Reference models converted and timed like the exported one, in the same run.

The quick baseline CNN the speed goals were first measured on, and a stack of 1x1
convolutions (pure matrix multiplication) whose float32/int8 ratio is the most this CPU's
int8 kernels gain over float32 ones.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edge_ser.bench.timing import time_calls
from edge_ser.labels import CANONICAL_LABELS
from edge_ser.reference_preprocess import params

# Keras model, calibration inputs, input shape, input name -> {"int8": flatbuffer,
# "float32": flatbuffer}: the exporter's TFLite converters, passed in by the CLI.
ToTFLite = Callable[[object, np.ndarray, tuple[int, ...], str], dict[str, bytes]]

# The matrix-multiplication probe: 1x1 convolutions of this many channels over this grid.
GEMM_CHANNELS, GEMM_GRID, GEMM_LAYERS = 128, (48, 16), 4
BASELINE_WIDTHS = (16, 32, 64, 128)  # the quick CNN the speed goals were first measured on


def matmul_probe():
    """A stack of 1x1 convolutions: pure matrix multiplication with no memory-bound ops, so
    its float32/int8 latency ratio is the most int8 kernels gain over float32 on this CPU."""
    import keras

    inputs = keras.Input((*GEMM_GRID, GEMM_CHANNELS))
    x = inputs
    for _ in range(GEMM_LAYERS):
        x = keras.layers.Conv2D(GEMM_CHANNELS, 1, activation="relu")(x)
    return keras.Model(inputs, x)


def baseline_cnn():
    """The tutorials' quick 99k-parameter CNN on raw 96x64x1 patches: four blocks of 3x3
    conv (16/32/64/128 channels, batch norm, ReLU, 2x2 max-pool but the last), global
    average pool, dense."""
    import keras
    from keras import layers

    inputs = keras.Input((params.PATCH_FRAMES, params.NUM_MEL_BANDS, 1))
    x = inputs
    for i, width in enumerate(BASELINE_WIDTHS):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        if i < len(BASELINE_WIDTHS) - 1:
            x = layers.MaxPooling2D(2)(x)
    x = layers.Dense(len(CANONICAL_LABELS))(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, layers.Softmax()(x))


BASELINE_PROBE = "baseline CNN (3x3 conv 16/32/64/128 on 96x64x1)"
CEILING_PROBE = "matrix-multiplication ceiling (4 x 1x1 conv, 128 ch, 48x16)"
PROBES = {BASELINE_PROBE: baseline_cnn, CEILING_PROBE: matmul_probe}  # timed in the same run


def probe(model, repeats: int, warmup: int, to_tflite: ToTFLite) -> dict:
    """int8 and float32 TFLite latency on 1 thread of a (randomly initialised) Keras model,
    with its multiply-accumulates and achieved GMAC/s: a reference measured in the same run."""
    from ai_edge_litert.interpreter import Interpreter

    from edge_ser.model import count_macs

    shape = (1, *model.input_shape[1:])
    calibration = np.random.default_rng(0).normal(size=(16, *shape[1:])).astype(np.float32)
    flatbuffers = to_tflite(model, calibration, shape, "x")
    macs = count_macs(model)
    result: dict = {"macs": macs, "parameters": model.count_params()}
    for precision, flatbuffer in flatbuffers.items():
        interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        zeros = np.zeros(detail["shape"], detail["dtype"])  # the timing does not depend on values

        def call(interpreter=interpreter, index=detail["index"], x=zeros) -> None:
            interpreter.set_tensor(index, x)
            interpreter.invoke()

        timing = time_calls(call, repeats, warmup)
        result[f"{precision}_ms"] = timing.median_ms
        result[f"{precision}_gmacs"] = macs / timing.median_ms / 1e6
    result["float32_over_int8"] = result["float32_ms"] / result["int8_ms"]
    return result
