"""TFLite exporters: float32 reference, full-integer int8, and int8 with a float32 frontend."""

from __future__ import annotations

import re
import warnings
from collections.abc import Callable

import numpy as np

from edge_ser.artifacts.layout import INPUT_NAME, INPUT_SHAPE
from edge_ser.errors import ModelError


def _frozen_function(model, input_shape: tuple[int, ...], input_name: str):
    """The model as a constant-folded TF graph with a fixed batch-1 input signature."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2,
    )

    @tf.function(input_signature=[tf.TensorSpec(input_shape, tf.float32, name=input_name)])
    def serve(x):
        return model(x, training=False)

    return convert_variables_to_constants_v2(serve.get_concrete_function())


def to_float32_tflite(
    model, input_shape: tuple[int, ...] = INPUT_SHAPE, input_name: str = INPUT_NAME
) -> bytes:
    """Float32 TFLite flatbuffer of a Keras model."""
    import tensorflow as tf

    frozen = _frozen_function(model, input_shape, input_name)
    return tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()


def to_int8_tflite(
    model,
    calibration: np.ndarray,
    input_shape: tuple[int, ...] = INPUT_SHAPE,
    input_name: str = INPUT_NAME,
    float_layers: tuple[str, ...] = (),
) -> bytes:
    """Int8 TFLite flatbuffer, calibrated on ``calibration`` inputs.

    ``calibration`` holds real representative inputs, one per row, each reshaped to
    ``input_shape``. Without ``float_layers`` the model is full-integer: int8 input and output.

    With ``float_layers`` (names of the first Keras layers, e.g. a waveform-in model's
    frontend), the ops converted from those layers stay float32 and everything else is int8:
    selective quantization through ``tf.lite.experimental.QuantizationDebugger``, which
    quantizes the calibrated model with those ops' output tensors denylisted. The model then
    takes and returns float32 (a QUANTIZE op follows the float ops and a DEQUANTIZE op ends
    the graph).

    Raises
    ------
    ModelError
        If a layer of ``float_layers`` gives no op, or an op of them was quantized anyway.
    """
    import tensorflow as tf

    frozen = _frozen_function(model, input_shape, input_name)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    samples = np.asarray(calibration, dtype=np.float32)
    representative: Callable = lambda: ([row.reshape(input_shape)] for row in samples)  # noqa: E731
    converter.representative_dataset = representative
    if not float_layers:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        return converter.convert()

    float_model = tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()
    float_outputs = [name for name, _ in _op_outputs(float_model)]
    denylisted = []
    for layer in float_layers:
        outputs = _scope_outputs(float_outputs, layer)
        if not outputs:
            raise ModelError(f"no op of the converted model comes from layer '{layer}'")
        denylisted += outputs
    options = tf.lite.experimental.QuantizationDebugOptions(denylisted_nodes=denylisted)
    with warnings.catch_warnings():
        # The debugger runs its debug model in tf.lite.Interpreter, which warns that it is
        # deprecated; the model returned here is run in LiteRT.
        warnings.filterwarnings("ignore", message=".*tf.lite.Interpreter is deprecated")
        debugger = tf.lite.experimental.QuantizationDebugger(
            converter=converter, debug_dataset=representative, debug_options=options
        )
    quantized = debugger.get_nondebug_quantized_model()
    dtypes = dict(_op_outputs(quantized))
    not_float = [name for name in denylisted if dtypes.get(name) != "float32"]
    if not_float or "int8" not in dtypes.values():
        raise ModelError(
            f"selective quantization failed: layers {', '.join(float_layers)} must stay float32 "
            f"and the rest be int8 (not float32: {', '.join(not_float) or 'none'})"
        )
    return quantized


def to_tflite_pair(
    model, calibration: np.ndarray, input_shape: tuple[int, ...], input_name: str
) -> dict[str, bytes]:
    """Full-integer ``int8`` and ``float32`` TFLite flatbuffers of a Keras model."""
    return {
        "int8": to_int8_tflite(model, calibration, input_shape, input_name),
        "float32": to_float32_tflite(model, input_shape, input_name),
    }


def _op_outputs(flatbuffer: bytes) -> list[tuple[str, str]]:
    """``(tensor name, dtype name)`` of every op output of a TFLite model."""
    from ai_edge_litert.interpreter import Interpreter

    interpreter = Interpreter(model_content=flatbuffer)
    tensors = {t["index"]: t for t in interpreter.get_tensor_details()}
    return [
        (tensors[i]["name"], np.dtype(tensors[i]["dtype"]).name)
        for op in interpreter._get_ops_details()  # the interpreter has no public op listing
        if op["op_name"] != "DELEGATE"
        for i in op["outputs"]
    ]


def _scope_outputs(output_names: list[str], scope: str) -> list[str]:
    """The op output tensor names converted from the Keras layer ``scope``."""
    pattern = re.compile(rf"(^|/){re.escape(scope)}(_\d+)?/")
    return [name for name in output_names if pattern.search(name)]
