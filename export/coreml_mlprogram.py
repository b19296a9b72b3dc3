"""Keras model -> Core ML ML Program (``.mlpackage``), written op by op with the MIL builder.

Each supported Keras layer class has a small translator in ``TRANSLATORS`` that appends MIL
ops to the program (like coremltools' own frontends). The program takes the NHWC
``log_mel`` patch, transposes it to NCHW once and stays NCHW; ``Flatten`` transposes back to
NHWC first so the flattened order (and therefore the Dense weights) matches Keras.

A waveform-in program takes the ``waveform`` window instead and starts with the log-mel
frontend of ``edge_ser.log_mel_layer`` (ops named ``FRONTEND_PREFIX...``), which computes in
float32 even when the rest of the program computes in float16.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import coremltools as ct
import keras
import numpy as np
from coremltools.converters.mil.mil import Builder as mb
from coremltools.converters.mil.mil import Function, Program, Var

from edge_ser.artifacts import layout
from edge_ser.export.coreml_layers import (
    Activation,
    Step,
    activation_of,
    batch_norm_scale_shift,
    batch_norm_stats,
    conv_weights,
    dense_weights,
    nchw_axis,
    plan_layers,
    pool_geometry,
    reshape_target,
    walk_steps,
)
from edge_ser.log_mel_layer import frontend_weights
from edge_ser.reference_preprocess import params
from edge_ser.windows import FRAMES

PRECISIONS = {"float16": ct.precision.FLOAT16, "float32": ct.precision.FLOAT32}
# Name prefix of the frontend ops of waveform-in programs (kept in float32).
FRONTEND_PREFIX = "frontend_"


def _identity(x: Var, step: Step) -> Var:
    return x


def _standardize(x: Var, step: Step) -> Var:
    axes = [nchw_axis(axis, 4) for axis in step.layer.mean_axes]
    mean = mb.reduce_mean(x=x, axes=axes, keep_dims=True, name=f"{step.name}_mean")
    centered = mb.sub(x=x, y=mean, name=f"{step.name}_center")
    return mb.mul(x=centered, y=np.float32(step.layer.scale), name=f"{step.name}_scale")


def _apply_activation(x: Var, activation: Activation, step: Step) -> Var:
    name = f"{step.name}_{activation.kind}"
    if activation.kind == "linear":
        return x
    if activation.kind == "relu":
        return mb.relu(x=x, name=name)
    if activation.kind == "relu6":
        return mb.relu6(x=x, name=name)
    if activation.kind == "leaky_relu":
        return mb.leaky_relu(x=x, alpha=np.float32(activation.alpha), name=name)
    if activation.kind == "clip":
        return mb.clip(x=x, alpha=np.float32(0.0), beta=np.float32(activation.max_value), name=name)
    axis = nchw_axis(activation.axis, x.rank)
    return mb.softmax(x=x, axis=axis, name=name)


def _activation(x: Var, step: Step) -> Var:
    return _apply_activation(x, activation_of(step.layer), step)


def _conv(x: Var, step: Step) -> Var:
    conv = conv_weights(step)
    optional = {} if conv.bias is None else {"bias": conv.bias}
    y = mb.conv(
        x=x,
        weight=conv.weight,
        strides=list(conv.strides),
        pad_type=conv.padding,
        dilations=list(conv.dilations),
        groups=conv.groups,
        name=f"{step.name}_conv",
        **optional,
    )
    return _activation(y, step)


def _batch_norm(x: Var, step: Step) -> Var:
    if x.rank == 4:
        stats = batch_norm_stats(step.layer)
        return mb.batch_norm(
            x=x,
            mean=stats["mean"],
            variance=stats["variance"],
            gamma=stats["gamma"],
            beta=stats["beta"],
            epsilon=np.float32(stats["epsilon"]),
            name=f"{step.name}_batch_norm",
        )
    scale, shift = batch_norm_scale_shift(step.layer)
    y = mb.mul(x=x, y=scale.astype(np.float32), name=f"{step.name}_scale")
    return mb.add(x=y, y=shift.astype(np.float32), name=f"{step.name}_shift")


def _max_pool(x: Var, step: Step) -> Var:
    pool = pool_geometry(step.layer)
    return mb.max_pool(
        x=x,
        kernel_sizes=list(pool.kernel),
        strides=list(pool.strides),
        pad_type=pool.padding,
        name=f"{step.name}_max_pool",
    )


def _average_pool(x: Var, step: Step) -> Var:
    pool = pool_geometry(step.layer)
    return mb.avg_pool(
        x=x,
        kernel_sizes=list(pool.kernel),
        strides=list(pool.strides),
        pad_type=pool.padding,
        exclude_padding_from_average=True,  # as TensorFlow's "same" average pooling
        name=f"{step.name}_avg_pool",
    )


def _global_average(x: Var, step: Step) -> Var:
    return mb.reduce_mean(x=x, axes=[2, 3], keep_dims=step.layer.keepdims, name=f"{step.name}_mean")


def _global_max(x: Var, step: Step) -> Var:
    return mb.reduce_max(x=x, axes=[2, 3], keep_dims=step.layer.keepdims, name=f"{step.name}_max")


def _flatten(x: Var, step: Step) -> Var:
    if x.rank == 2:
        return x
    nhwc = mb.transpose(x=x, perm=[0, 2, 3, 1], name=f"{step.name}_nhwc")
    return mb.reshape(x=nhwc, shape=[1, int(np.prod(step.output_shape))], name=f"{step.name}_flat")


def _reshape(x: Var, step: Step) -> Var:
    shape = reshape_target(step)
    nhwc = mb.transpose(x=x, perm=[0, 2, 3, 1], name=f"{step.name}_nhwc")
    folded = mb.reshape(x=nhwc, shape=[1, *shape], name=f"{step.name}_reshape")
    return mb.transpose(x=folded, perm=[0, 3, 1, 2], name=f"{step.name}_nchw")


def _dense(x: Var, step: Step) -> Var:
    weight, bias = dense_weights(step)
    y = mb.linear(x=x, weight=weight, bias=bias, name=f"{step.name}_linear")
    return _activation(y, step)


def _average(xs: Sequence[Var], step: Step) -> Var:
    total = xs[0]
    for i, x in enumerate(xs[1:]):
        total = mb.add(x=total, y=x, name=f"{step.name}_sum{i}")
    return mb.mul(x=total, y=np.float32(1.0 / len(xs)), name=f"{step.name}_mean")


# Keras layer class name -> translator appending the layer's MIL ops (merge layers, named in
# ``MERGE_LAYERS``, take the list of their inputs).
TRANSLATORS: dict[str, Callable[[Var, Step], Var]] = {
    "PatchStandardization": _standardize,
    "Conv2D": _conv,
    "DepthwiseConv2D": _conv,
    "BatchNormalization": _batch_norm,
    "ReLU": _activation,
    "Activation": _activation,
    "MaxPooling2D": _max_pool,
    "AveragePooling2D": _average_pool,
    "GlobalAveragePooling2D": _global_average,
    "GlobalMaxPooling2D": _global_max,
    "Flatten": _flatten,
    "Reshape": _reshape,
    "Dense": _dense,
    "Dropout": _identity,
    "Softmax": _activation,
    "Average": _average,
}


def _frontend(waveform: Var) -> Var:
    """Reference log-mel of the ``(1, 15600)`` waveform as the NCHW patch ``(1, 1, 96, 64)``.

    The same computation as ``edge_ser.log_mel_layer.LogMelFrontend``: a strided convolution with
    the windowed DFT filters, magnitude of each (real, imaginary) pair, mel matrix product,
    ``log(mel + LOG_OFFSET)``.
    """
    weights = frontend_weights()
    bins, taps = weights.num_bins, params.WINDOW_LENGTH_SAMPLES
    name = FRONTEND_PREFIX
    x = mb.reshape(x=waveform, shape=[1, 1, 1, params.MIN_SAMPLES], name=f"{name}samples")
    spectrum = mb.conv(
        x=x,
        weight=weights.dft.T.reshape(2 * bins, 1, 1, taps),
        strides=[1, params.HOP_LENGTH_SAMPLES],
        pad_type="valid",
        name=f"{name}dft",
    )  # (1, 2 * bins, 1, frames)
    pairs = mb.reshape(x=spectrum, shape=[1, bins, 2, FRAMES], name=f"{name}pairs")
    squares = mb.square(x=pairs, name=f"{name}square")
    power = mb.reduce_sum(x=squares, axes=[2], keep_dims=False, name=f"{name}power")
    magnitude = mb.sqrt(x=power, name=f"{name}magnitude")  # (1, bins, frames)
    frames = mb.transpose(x=magnitude, perm=[0, 2, 1], name=f"{name}frames")
    mel = mb.linear(x=frames, weight=np.ascontiguousarray(weights.mel.T), name=f"{name}mel")
    offset = mb.add(x=mel, y=np.float32(params.LOG_OFFSET), name=f"{name}offset")
    log_mel = mb.log(x=offset, name=f"{name}log")  # (1, frames, bands)
    return mb.reshape(x=log_mel, shape=[1, 1, FRAMES, params.NUM_MEL_BANDS], name=f"{name}nchw")


def _compute_precision(precision: str, waveform: bool):
    """coremltools compute precision; a waveform frontend stays float32 under float16."""
    if precision == "float16" and waveform:
        return ct.transform.FP16ComputePrecision(
            op_selector=lambda op: not op.name.startswith(FRONTEND_PREFIX)
        )
    return PRECISIONS[precision]


def build(
    model: keras.Model, labels: tuple[str, ...], precision: str = "float16", waveform: bool = False
) -> ct.models.MLModel:
    """Translate ``model`` into an iOS 15 ML Program classifier (no metadata yet).

    ``precision`` is the compute (and weight storage) precision. With ``waveform`` the
    program takes ``layout.WAVEFORM_INPUT_NAME`` windows and computes the log-mel frontend
    (in float32) before ``model``.
    """
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {sorted(PRECISIONS)}, not {precision!r}")
    steps = plan_layers(model, labels)
    target = ct.target.iOS15
    input_name = layout.WAVEFORM_INPUT_NAME if waveform else layout.INPUT_NAME
    input_shape = layout.WAVEFORM_INPUT_SHAPE if waveform else layout.INPUT_SHAPE

    placeholder = mb.placeholder(shape=input_shape)
    with Function({input_name: placeholder}, opset_version=target) as function:
        if waveform:
            x = _frontend(function.inputs[input_name])
        else:
            x = mb.transpose(x=function.inputs[input_name], perm=[0, 3, 1, 2], name="nchw")
        x = walk_steps(model, steps, x, lambda step, value: TRANSLATORS[step.kind](value, step))
        function.set_outputs([x])
    program = Program()
    program.add_function("main", function)

    mlmodel = ct.convert(
        program,
        convert_to="mlprogram",
        minimum_deployment_target=target,
        compute_precision=_compute_precision(precision, waveform),
        inputs=[ct.TensorType(name=input_name, shape=input_shape)],
        classifier_config=ct.ClassifierConfig(
            list(labels), predicted_feature_name=layout.COREML_LABEL_OUTPUT
        ),
        skip_model_load=True,
    )
    # The classifier names its probabilities "<label output>_probs"; use the layout's name.
    spec = mlmodel.get_spec()
    ct.utils.rename_feature(
        spec, spec.description.predictedProbabilitiesName, layout.COREML_PROBABILITIES_OUTPUT
    )
    return ct.models.MLModel(spec, weights_dir=mlmodel.weights_dir, skip_model_load=True)
