"""Keras model -> Core ML NeuralNetwork classifier (``.mlmodel``, iOS 13+), layer by layer.

Each supported Keras layer class has a small translator in ``TRANSLATORS`` that appends
NeuralNetwork layers with ``NeuralNetworkBuilder``. The model uses N-D tensor semantics
(``disable_rank5_shape_mapping=True``, Core ML specification 4): the ``log_mel`` input is a
float32 multi-array of exactly ``layout.INPUT_SHAPE`` = (1, 96, 64, 1), NHWC like the ML
Program and the TFLite model, instead of the legacy rank-5 (sequence, batch, C, H, W)
mapping. The first layer transposes it to NCHW, which the convolution and pooling layers
expect; ``Flatten`` transposes back to NHWC so the flattened order matches Keras.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Sequence

import coremltools as ct
import keras
from coremltools.models import datatypes
from coremltools.models.neural_network import NeuralNetworkBuilder, quantization_utils

from edge_ser.artifacts import layout
from edge_ser.export.coreml_layers import (
    Activation,
    Step,
    activation_of,
    batch_norm_stats,
    conv_weights,
    dense_weights,
    nchw_axis,
    plan_layers,
    pool_geometry,
    reshape_target,
    walk_steps,
)

PRECISIONS = ("float32", "float16")

Translator = Callable[[NeuralNetworkBuilder, str, Step], str]


def _identity(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    return x


def _standardize(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    mean, centered, scaled = (f"{step.name}_{s}" for s in ("mean", "center", "scale"))
    axes = [nchw_axis(axis, 4) for axis in step.layer.mean_axes]
    builder.add_reduce_mean(mean, x, mean, axes=axes, keepdims=True)
    builder.add_subtract_broadcastable(centered, [x, mean], centered)
    builder.add_elementwise(scaled, [centered], scaled, "MULTIPLY", alpha=step.layer.scale)
    return scaled


def _apply_activation(
    builder: NeuralNetworkBuilder, x: str, activation: Activation, step: Step
) -> str:
    name = f"{step.name}_{activation.kind}"
    if activation.kind == "linear":
        return x
    if activation.kind == "relu":
        builder.add_activation(name, "RELU", x, name)
    elif activation.kind == "leaky_relu":
        builder.add_activation(name, "LEAKYRELU", x, name, params=[activation.alpha])
    elif activation.kind == "relu6":
        builder.add_clip(name, x, name, min_value=0.0, max_value=6.0)
    elif activation.kind == "clip":
        builder.add_clip(name, x, name, min_value=0.0, max_value=activation.max_value)
    else:
        rank = len(step.output_shape) + 1
        builder.add_softmax_nd(name, x, name, axis=nchw_axis(activation.axis, rank))
    return name


def _activation(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    return _apply_activation(builder, x, activation_of(step.layer), step)


def _conv(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    conv = conv_weights(step)
    out_channels, kernel_channels, height, width = conv.weight.shape
    name = f"{step.name}_conv"
    builder.add_convolution(
        name,
        kernel_channels=kernel_channels,
        output_channels=out_channels,
        height=height,
        width=width,
        stride_height=conv.strides[0],
        stride_width=conv.strides[1],
        border_mode=conv.padding,  # "same" pads like TensorFlow (BOTTOM_RIGHT_HEAVY)
        groups=conv.groups,
        W=conv.weight.transpose(2, 3, 1, 0),  # the builder takes (kh, kw, in / groups, out)
        b=conv.bias,
        has_bias=conv.bias is not None,
        input_name=x,
        output_name=name,
        dilation_factors=list(conv.dilations),
    )
    return _activation(builder, name, step)


def _batch_norm(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    stats = batch_norm_stats(step.layer)
    name = f"{step.name}_batch_norm"
    rank2 = step.input_rank == 2  # the batchnorm layer normalizes axis -3: use (N, C, 1, 1)
    if rank2:
        builder.add_expand_dims(f"{step.name}_expand", x, f"{step.name}_expand", axes=[2, 3])
        x = f"{step.name}_expand"
    builder.add_batchnorm(
        name,
        channels=len(stats["mean"]),
        gamma=stats["gamma"],
        beta=stats["beta"],
        mean=stats["mean"],
        variance=stats["variance"],
        input_name=x,
        output_name=name,
        epsilon=stats["epsilon"],
    )
    if rank2:
        builder.add_squeeze(f"{step.name}_squeeze", name, f"{step.name}_squeeze", axes=[2, 3])
        return f"{step.name}_squeeze"
    return name


def _pool(layer_type: str) -> Translator:
    def translate(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
        pool = pool_geometry(step.layer)
        name = f"{step.name}_{layer_type.lower()}_pool"
        builder.add_pooling(
            name,
            height=pool.kernel[0],
            width=pool.kernel[1],
            stride_height=pool.strides[0],
            stride_width=pool.strides[1],
            layer_type=layer_type,
            padding_type=pool.padding.upper(),
            input_name=x,
            output_name=name,
            exclude_pad_area=True,  # as TensorFlow's "same" average pooling
        )
        return name

    return translate


def _global_average(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    name = f"{step.name}_mean"
    builder.add_reduce_mean(name, x, name, axes=[2, 3], keepdims=step.layer.keepdims)
    return name


def _global_max(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    name = f"{step.name}_max"
    builder.add_reduce_max(name, x, name, axes=[2, 3], keepdims=step.layer.keepdims)
    return name


def _flatten(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    if step.input_rank == 2:
        return x
    nhwc, flat = f"{step.name}_nhwc", f"{step.name}_flat"
    builder.add_transpose(nhwc, [0, 2, 3, 1], x, nhwc)
    builder.add_flatten_to_2d(flat, nhwc, flat, axis=1)
    return flat


def _reshape(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    shape = reshape_target(step)
    nhwc, folded, nchw = (f"{step.name}_{s}" for s in ("nhwc", "reshape", "nchw"))
    builder.add_transpose(nhwc, [0, 2, 3, 1], x, nhwc)
    builder.add_reshape_static(folded, nhwc, folded, [1, *shape])
    builder.add_transpose(nchw, [0, 3, 1, 2], folded, nchw)
    return nchw


def _dense(builder: NeuralNetworkBuilder, x: str, step: Step) -> str:
    weight, bias = dense_weights(step)
    name = f"{step.name}_inner_product"
    builder.add_inner_product(
        name,
        W=weight,
        b=bias,
        input_channels=weight.shape[1],
        output_channels=weight.shape[0],
        has_bias=True,
        input_name=x,
        output_name=name,
    )
    return _activation(builder, name, step)


def _average(builder: NeuralNetworkBuilder, xs: Sequence[str], step: Step) -> str:
    name = f"{step.name}_average"
    builder.add_elementwise(name, list(xs), name, "AVE")
    return name


# Keras layer class name -> translator appending the layer's NeuralNetwork layers (merge
# layers, named in ``MERGE_LAYERS``, take the list of their inputs).
TRANSLATORS: dict[str, Translator] = {
    "PatchStandardization": _standardize,
    "Conv2D": _conv,
    "DepthwiseConv2D": _conv,
    "BatchNormalization": _batch_norm,
    "ReLU": _activation,
    "Activation": _activation,
    "MaxPooling2D": _pool("MAX"),
    "AveragePooling2D": _pool("AVERAGE"),
    "GlobalAveragePooling2D": _global_average,
    "GlobalMaxPooling2D": _global_max,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dense": _dense,
    "Dropout": _identity,
    "Softmax": _activation,
    "Average": _average,
}


def build(
    model: keras.Model, labels: tuple[str, ...], precision: str = "float32"
) -> ct.models.MLModel:
    """Translate ``model`` into a NeuralNetwork classifier (no metadata yet).

    ``precision`` is the weight storage precision; Core ML computes NeuralNetwork models
    in float32 on the CPU and in float16 on the GPU and Neural Engine either way.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, not {precision!r}")
    steps = plan_layers(model, labels)
    builder = NeuralNetworkBuilder(
        input_features=[(layout.INPUT_NAME, datatypes.Array(*layout.INPUT_SHAPE))],
        output_features=[(layout.COREML_PROBABILITIES_OUTPUT, None)],
        mode="classifier",
        disable_rank5_shape_mapping=True,
        use_float_arraytype=True,
    )
    x = "nchw"
    builder.add_transpose(x, [0, 3, 1, 2], layout.INPUT_NAME, x)
    x = walk_steps(
        model, steps, x, lambda step, value: TRANSLATORS[step.kind](builder, value, step)
    )
    builder.set_class_labels(
        list(labels), predicted_feature_name=layout.COREML_LABEL_OUTPUT, prediction_blob=x
    )
    mlmodel = ct.models.MLModel(builder.spec, skip_model_load=True)
    if precision == "float16":
        with contextlib.redirect_stdout(io.StringIO()):  # it prints one line per layer
            mlmodel = quantization_utils.quantize_weights(mlmodel, nbits=16)
    return mlmodel
