"""TFLite exporters: float32 reference and full-integer int8 (int8 input and output)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from edge_ser.export.layout import INPUT_NAME, INPUT_SHAPE


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
    float_input: bool = False,
) -> bytes:
    """Full-integer int8 TFLite flatbuffer, calibrated on ``calibration`` inputs.

    ``calibration`` holds real representative inputs, one per row, each reshaped to
    ``input_shape``. With ``float_input`` the model keeps a float32 input (used by the
    waveform-in models whose frontend must stay in float); the output is int8 either way.
    """
    import tensorflow as tf

    frozen = _frozen_function(model, input_shape, input_name)
    converter = tf.lite.TFLiteConverter.from_concrete_functions([frozen])
    converter.optimizations = [tf.lite.Optimize.DEFAULT]
    samples = np.asarray(calibration, dtype=np.float32)
    representative: Callable = lambda: ([row.reshape(input_shape)] for row in samples)  # noqa: E731
    converter.representative_dataset = representative
    if float_input:
        converter.target_spec.supported_ops = [
            tf.lite.OpsSet.TFLITE_BUILTINS_INT8,
            tf.lite.OpsSet.TFLITE_BUILTINS,
        ]
    else:
        converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
    converter.inference_output_type = tf.int8
    return converter.convert()
