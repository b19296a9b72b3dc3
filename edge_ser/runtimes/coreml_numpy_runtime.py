"""Run saved Core ML classifiers (``.mlpackage`` ML Program, ``.mlmodel`` NeuralNetwork) in NumPy.

Core ML itself runs only on Apple platforms. This evaluator reads what was saved, the
protobuf spec and the ML Program weight blob, and executes the program op by op (or the
network layer by layer) in order, so a Linux machine can check that the exported files
compute what the Keras model computes. Where an ML Program computes in float16, every op
computes in float32 from its float16 inputs and rounds its result to float16, as the
program's declared output types say. An op or layer type that is not implemented here
raises ``ModelError`` naming it when the model is loaded; nothing is skipped.

Programs are exported for one input (batch axis of size 1): a log-mel patch, or a waveform
window for waveform-in programs. ``predict_patches`` runs n inputs at once along that axis,
and one at a time if the program reshapes, transposes or reduces across it.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from edge_ser.errors import ModelError

# ---------------------------------------------------------------------------------------
# Numerical kernels shared by both model types (NCHW tensors, OIHW weights).


class _BatchAxisError(Exception):
    """An op would mix the batch axis: evaluate the patches one at a time instead."""


def _check_batch_axis(x: np.ndarray, axes: list[int]) -> None:
    if x.shape[0] != 1 and 0 in [a % x.ndim for a in axes]:
        raise _BatchAxisError


def _same_pads(size: int, kernel: int, stride: int, dilation: int = 1) -> tuple[int, int]:
    """TensorFlow "same" padding of one axis: output ceil(size / stride), extra at the end."""
    effective = (kernel - 1) * dilation + 1
    total = max((-(-size // stride) - 1) * stride + effective - size, 0)
    return total // 2, total - total // 2


def _pads(
    mode: str, spatial: tuple[int, ...], kernel, strides, dilations, explicit=None
) -> list[tuple[int, int]]:
    """(before, after) padding of H and W for a ``valid``, ``same``, ``same_lower`` or
    ``custom`` (``explicit`` = [top, bottom, left, right]) padding mode."""
    if mode == "valid":
        return [(0, 0), (0, 0)]
    if mode == "custom":
        return [(int(explicit[0]), int(explicit[1])), (int(explicit[2]), int(explicit[3]))]
    pads = [
        _same_pads(n, k, s, d)
        for n, k, s, d in zip(spatial, kernel, strides, dilations, strict=True)
    ]
    if mode == "same_lower":
        pads = [(after, before) for before, after in pads]
    elif mode != "same":
        raise ModelError(f"padding mode {mode!r} is not supported by the NumPy evaluator")
    return pads


def _windows(x: np.ndarray, kernel, strides, dilations) -> np.ndarray:
    """(n, c, out_h, out_w, kh, kw) view of the (dilated) windows of a padded NCHW tensor."""
    span = [(k - 1) * d + 1 for k, d in zip(kernel, dilations, strict=True)]
    view = np.lib.stride_tricks.sliding_window_view(x, span, axis=(2, 3))
    return view[:, :, :: strides[0], :: strides[1], :: dilations[0], :: dilations[1]]


def conv2d(
    x: np.ndarray,
    weight: np.ndarray,
    bias: np.ndarray | None,
    strides,
    dilations,
    pads: list[tuple[int, int]],
    groups: int,
) -> np.ndarray:
    """Grouped 2-D convolution: ``x`` (n, c, h, w), ``weight`` (o, c / groups, kh, kw)."""
    x = np.pad(x, [(0, 0), (0, 0), *pads])
    windows = _windows(x, weight.shape[2:], strides, dilations)
    n, c, oh, ow, kh, kw = windows.shape
    o = weight.shape[0]
    grouped = windows.reshape(n, groups, c // groups, oh, ow, kh, kw)
    kernels = weight.reshape(groups, o // groups, c // groups, kh, kw)
    y = np.einsum("ngchwij,gocij->ngohw", grouped, kernels, optimize=True).reshape(n, o, oh, ow)
    return y if bias is None else y + bias.reshape(1, -1, 1, 1)


def pool2d(
    x: np.ndarray,
    kernel,
    strides,
    pads: list[tuple[int, int]],
    mode: str,
    exclude_padding: bool = True,
) -> np.ndarray:
    """``max`` or ``average`` pooling of NCHW ``x``; padding never wins a max."""
    widths = [(0, 0), (0, 0), *pads]
    if mode == "max":
        padded = np.pad(x, widths, constant_values=-np.inf)
        return _windows(padded, kernel, strides, (1, 1)).max(axis=(-2, -1))
    sums = _windows(np.pad(x, widths), kernel, strides, (1, 1)).sum(axis=(-2, -1))
    if not exclude_padding:
        return sums / (kernel[0] * kernel[1])
    ones = np.pad(np.ones((1, 1) + x.shape[2:], x.dtype), widths)
    return sums / _windows(ones, kernel, strides, (1, 1)).sum(axis=(-2, -1))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """Softmax of ``x`` over ``axis``."""
    _check_batch_axis(x, [axis])
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def _reduce(x: np.ndarray, axes, keep_dims: bool, function) -> np.ndarray:
    axes = list(range(x.ndim)) if axes is None else [int(a) for a in np.ravel(axes)]
    _check_batch_axis(x, axes)
    return function(x, axis=tuple(axes), keepdims=bool(keep_dims))


def _transpose(x: np.ndarray, perm) -> np.ndarray:
    perm = [int(p) for p in perm]
    if x.shape[0] != 1 and perm[0] != 0:
        raise _BatchAxisError
    return np.transpose(x, perm)


def _reshape(x: np.ndarray, shape) -> np.ndarray:
    shape = [int(s) for s in shape]
    if x.shape[0] != 1:
        if shape[0] not in (1, -1):
            raise _BatchAxisError
        shape[0] = x.shape[0]
    return x.reshape(shape)


def _per_channel(values: np.ndarray, rank: int) -> np.ndarray:
    """Broadcast a per-channel vector over axis 1 of a rank-``rank`` tensor."""
    return np.asarray(values, np.float32).reshape((1, -1) + (1,) * (rank - 2))


def _batch_norm(x, mean, variance, gamma, beta, epsilon) -> np.ndarray:
    rank = x.ndim
    inv = _per_channel(gamma, rank) / np.sqrt(_per_channel(variance, rank) + np.float32(epsilon))
    return (x - _per_channel(mean, rank)) * inv + _per_channel(beta, rank)


# ---------------------------------------------------------------------------------------
# ML Program (.mlpackage)

_MIL_DTYPES: dict[str, type] = {
    "BOOL": np.bool_,
    "FLOAT16": np.float16,
    "FLOAT32": np.float32,
    "FLOAT64": np.float64,
    "INT8": np.int8,
    "INT16": np.int16,
    "INT32": np.int32,
    "INT64": np.int64,
    "UINT8": np.uint8,
    "UINT16": np.uint16,
    "UINT32": np.uint32,
    "UINT64": np.uint64,
}
_BLOB_SENTINEL = 0xDEADBEEF


def _mil_conv(a: dict[str, Any]) -> np.ndarray:
    x, weight = a["x"], a["weight"]
    strides = a.get("strides", [1, 1])
    dilations = a.get("dilations", [1, 1])
    pads = _pads(
        str(a.get("pad_type", "valid")),
        x.shape[2:],
        weight.shape[2:],
        strides,
        dilations,
        a.get("pad"),
    )
    return conv2d(x, weight, a.get("bias"), strides, dilations, pads, int(a.get("groups", 1)))


def _mil_pool(mode: str) -> Callable[[dict[str, Any]], np.ndarray]:
    def run(a: dict[str, Any]) -> np.ndarray:
        if bool(a.get("ceil_mode", False)):
            raise ModelError(f"{mode}_pool with ceil_mode is not supported by the NumPy evaluator")
        x, kernel, strides = a["x"], a["kernel_sizes"], a["strides"]
        pads = _pads(str(a["pad_type"]), x.shape[2:], kernel, strides, (1, 1), a.get("pad"))
        exclude = bool(a.get("exclude_padding_from_average", False))
        return pool2d(x, kernel, strides, pads, mode, exclude)

    return run


def _mil_linear(a: dict[str, Any]) -> np.ndarray:
    y = a["x"] @ a["weight"].T
    return y if a.get("bias") is None else y + a["bias"]


def _mil_classify(a: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    probabilities, classes = a["probabilities"], [str(c) for c in a["classes"]]
    probabilities = probabilities.reshape(len(probabilities), -1)
    if probabilities.shape[1] != len(classes):
        raise ModelError(
            f"classify: {probabilities.shape[1]} probabilities, {len(classes)} classes"
        )
    return np.asarray(classes)[probabilities.argmax(axis=1)], probabilities


def _mil_affine_dequantize(a: dict[str, Any]) -> np.ndarray:
    data = a["quantized_data"].astype(np.float32)
    axis = int(a["axis"]) % data.ndim
    shape = [1] * data.ndim
    shape[axis] = -1

    def per_axis(v):
        v = np.asarray(v, np.float32)
        return v if v.ndim == 0 else v.reshape(shape)

    return (data - per_axis(a["zero_point"])) * per_axis(a["scale"])


# ML Program op type -> function of its named inputs (float tensors as float32).
MIL_OPS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "cast": lambda a: a["x"],  # the output's declared dtype does the conversion
    "transpose": lambda a: _transpose(a["x"], a["perm"]),
    "reshape": lambda a: _reshape(a["x"], a["shape"]),
    "conv": _mil_conv,
    "batch_norm": lambda a: _batch_norm(
        a["x"],
        a["mean"],
        a["variance"],
        a.get("gamma", np.ones_like(a["mean"])),
        a.get("beta", np.zeros_like(a["mean"])),
        a.get("epsilon", 1e-5),
    ),
    "relu": lambda a: np.maximum(a["x"], 0),
    "relu6": lambda a: np.clip(a["x"], 0, 6),
    "leaky_relu": lambda a: np.where(a["x"] >= 0, a["x"], a["x"] * np.float32(a["alpha"])),
    "clip": lambda a: np.clip(a["x"], np.float32(a["alpha"]), np.float32(a["beta"])),
    "max_pool": _mil_pool("max"),
    "avg_pool": _mil_pool("average"),
    "reduce_mean": lambda a: _reduce(a["x"], a.get("axes"), a.get("keep_dims", False), np.mean),
    "reduce_max": lambda a: _reduce(a["x"], a.get("axes"), a.get("keep_dims", False), np.max),
    "reduce_sum": lambda a: _reduce(a["x"], a.get("axes"), a.get("keep_dims", False), np.sum),
    "square": lambda a: np.square(a["x"]),
    "sqrt": lambda a: np.sqrt(a["x"]),
    # MIL's log adds its epsilon input (default 1e-45) before taking the natural log.
    "log": lambda a: np.log(a["x"] + np.float32(a.get("epsilon", 1e-45))),
    "add": lambda a: a["x"] + a["y"],
    "sub": lambda a: a["x"] - a["y"],
    "mul": lambda a: a["x"] * a["y"],
    "linear": _mil_linear,
    "softmax": lambda a: softmax(a["x"], int(a.get("axis", -1))),
    "classify": _mil_classify,
}
# Ops whose inputs are all constants, evaluated once when the model is loaded.
MIL_CONSTEXPR_OPS: dict[str, Callable[[dict[str, Any]], np.ndarray]] = {
    "constexpr_affine_dequantize": _mil_affine_dequantize,
}


class _BlobFiles:
    """Reads tensors from the MIL weight blob files of an ``.mlpackage``."""

    def __init__(self, model_dir: Path) -> None:
        self._model_dir = model_dir
        self._files: dict[str, bytes] = {}

    def read(self, file_name: str, offset: int, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
        path = self._model_dir / file_name.removeprefix("@model_path/")
        if file_name not in self._files:
            try:
                self._files[file_name] = path.read_bytes()
            except OSError as exc:
                raise ModelError(f"cannot read weights {path}: {exc.strerror}") from exc
        data = self._files[file_name]
        sentinel, _, size, data_offset = struct.unpack_from("<IIQQ", data, offset)
        expected = int(np.prod(shape, dtype=np.int64)) * np.dtype(dtype).itemsize
        if sentinel != _BLOB_SENTINEL or size != expected or data_offset + size > len(data):
            raise ModelError(f"{path}: no {dtype.__name__}{list(shape)} blob at offset {offset}")
        return np.frombuffer(
            data, dtype, count=size // np.dtype(dtype).itemsize, offset=data_offset
        ).reshape(shape)


def _tensor_type(value_type) -> tuple[str, tuple[int, ...]]:
    """(data type name, shape) of a MIL tensor ``ValueType``."""
    from coremltools.proto import MIL_pb2  # imported with the model, not with this module

    tensor = value_type.tensorType
    dims = tuple(int(d.constant.size) for d in tensor.dimensions)
    return MIL_pb2.DataType.Name(tensor.dataType), dims


def _mil_value(value, blobs: _BlobFiles | None) -> Any:
    """Decode a MIL ``Value``: numpy array (tensor), str (scalar string) or list."""
    kind = value.type.WhichOneof("type")
    if kind == "listType":
        return [_mil_value(v, blobs) for v in value.immediateValue.list.values]
    if kind != "tensorType":
        raise ModelError(f"MIL values of type {kind} are not supported by the NumPy evaluator")
    dtype_name, shape = _tensor_type(value.type)
    if dtype_name == "STRING":
        strings = list(value.immediateValue.tensor.strings.values)
        return strings[0] if not shape else strings
    if dtype_name not in _MIL_DTYPES:
        raise ModelError(
            f"MIL tensors of type {dtype_name} are not supported by the NumPy evaluator"
        )
    dtype = _MIL_DTYPES[dtype_name]
    if value.WhichOneof("value") == "blobFileValue":
        if blobs is None:
            raise ModelError("this MIL value cannot be read from a weight file")
        blob = value.blobFileValue
        return blobs.read(blob.fileName, blob.offset, dtype, shape)
    tensor = value.immediateValue.tensor
    field = tensor.WhichOneof("value")
    if field == "bytes":
        data = np.frombuffer(getattr(tensor, field).values, dtype)
    elif field is None:
        data = np.zeros(0, dtype)
    else:
        data = np.asarray(list(getattr(tensor, field).values), dtype)
    return data.reshape(shape)


class _VarName(str):
    """The name of a variable an op reads (other op arguments are decoded values)."""


@dataclass(frozen=True)
class _MilOp:
    op_type: str
    inputs: dict[str, list[Any]]  # per argument: _VarName references or decoded values
    outputs: list[tuple[str, type | None]]  # name, numpy dtype of tensor outputs


class _MilProgram:
    """The main function of an ML Program, ready to run."""

    def __init__(self, spec, model_dir: Path) -> None:
        function, block = _main_function(spec)
        self.op_types = spec_op_types(spec)
        unknown = self.op_types - set(MIL_OPS) - set(MIL_CONSTEXPR_OPS) - {"const"}
        if unknown:
            raise ModelError(
                f"ML Program op(s) not supported by the NumPy evaluator: "
                f"{', '.join(sorted(unknown))}"
            )
        if len(function.inputs) != 1:
            raise ModelError("the ML Program must have exactly one input")
        self.input_name = function.inputs[0].name
        self.input_shape = _tensor_type(function.inputs[0].type)[1]
        self.probabilities_name = spec.description.predictedProbabilitiesName
        blobs = _BlobFiles(model_dir)
        self._constants: dict[str, Any] = {}
        self._ops: list[_MilOp] = []
        self.labels = spec_labels(spec)
        for op in block.operations:
            if op.type == "const":
                self._constants[op.outputs[0].name] = _mil_value(op.attributes["val"], blobs)
                continue
            inputs = {
                key: [
                    _VarName(b.name)
                    if b.WhichOneof("binding") == "name"
                    else _mil_value(b.value, blobs)
                    for b in argument.arguments
                ]
                for key, argument in op.inputs.items()
            }
            inputs.update(
                {
                    key: [_mil_value(value, blobs)]
                    for key, value in op.attributes.items()
                    if key != "name"
                }
            )
            outputs = [(o.name, _output_dtype(o.type)) for o in op.outputs]
            node = _MilOp(op.type, inputs, outputs)
            if op.type in MIL_CONSTEXPR_OPS:
                value = MIL_CONSTEXPR_OPS[op.type](self._arguments(node, self._constants))
                self._constants[outputs[0][0]] = value.astype(outputs[0][1])
            else:
                self._ops.append(node)

    @staticmethod
    def _arguments(op: _MilOp, env: dict[str, Any]) -> dict[str, Any]:
        arguments = {}
        for key, bindings in op.inputs.items():
            values = [env[b] if isinstance(b, _VarName) else b for b in bindings]
            values = [
                v.astype(np.float32) if isinstance(v, np.ndarray) and v.dtype == np.float16 else v
                for v in values
            ]
            arguments[key] = values[0] if len(values) == 1 else values
        return arguments

    def run(self, x: np.ndarray) -> np.ndarray:
        env = dict(self._constants)
        env[self.input_name] = x
        for op in self._ops:
            result = MIL_OPS[op.op_type](self._arguments(op, env))
            results = result if isinstance(result, tuple) else (result,)
            for (name, dtype), value in zip(op.outputs, results, strict=True):
                env[name] = value if dtype is None else np.asarray(value).astype(dtype)
        return np.asarray(env[self.probabilities_name], np.float32)


def _output_dtype(value_type) -> type | None:
    if value_type.WhichOneof("type") != "tensorType":
        return None
    return _MIL_DTYPES.get(_tensor_type(value_type)[0])


# ---------------------------------------------------------------------------------------
# NeuralNetwork (.mlmodel)


def _nn_weights(weights, shape: tuple[int, ...]) -> np.ndarray:
    if len(weights.floatValue):
        data = np.asarray(weights.floatValue, np.float32)
    elif len(weights.float16Value):
        data = np.frombuffer(weights.float16Value, np.float16).astype(np.float32)
    else:
        raise ModelError(
            "NeuralNetwork weights that are neither float32 nor float16 "
            "are not supported by the NumPy evaluator"
        )
    return data.reshape(shape)


def _nn_pads(params, padding: str, spatial, kernel, strides, dilations) -> list[tuple[int, int]]:
    """(before, after) padding of H and W for the ``padding`` of a convolution or pooling."""
    if padding == "valid":
        borders = params.valid.paddingAmounts.borderAmounts
        return [(int(b.startEdgeSize), int(b.endEdgeSize)) for b in borders] or [(0, 0), (0, 0)]
    if padding == "same":
        mode = "same_lower" if params.same.asymmetryMode == 1 else "same"  # TOP_LEFT_HEAVY
        return _pads(mode, spatial, kernel, strides, dilations)
    raise ModelError(f"{padding} padding is not supported by the NumPy evaluator")


def _nn_convolution(p, inputs: list[np.ndarray]) -> np.ndarray:
    if p.isDeconvolution:
        raise ModelError("deconvolution is not supported by the NumPy evaluator")
    x = inputs[0]
    kernel = tuple(p.kernelSize) or (3, 3)
    strides = tuple(p.stride) or (1, 1)
    dilations = tuple(p.dilationFactor) or (1, 1)
    weight = _nn_weights(p.weights, (p.outputChannels, p.kernelChannels, *kernel))
    bias = _nn_weights(p.bias, (p.outputChannels,)) if p.hasBias else None
    padding = p.WhichOneof("ConvolutionPaddingType")
    pads = _nn_pads(p, padding, x.shape[2:], kernel, strides, dilations)
    return conv2d(x, weight, bias, strides, dilations, pads, p.nGroups or 1)


def _nn_batchnorm(p, inputs: list[np.ndarray]) -> np.ndarray:
    if p.computeMeanVar or p.instanceNormalization:
        raise ModelError(
            "batchnorm computing its statistics is not supported by the NumPy evaluator"
        )
    x = inputs[0]
    c = (p.channels,)
    stats = [_nn_weights(w, c) for w in (p.mean, p.variance, p.gamma, p.beta)]
    moved = np.moveaxis(x, -3, 1)  # the channel axis is -3
    return np.moveaxis(_batch_norm(moved, *stats, p.epsilon), 1, -3)


def _nn_activation(p, inputs: list[np.ndarray]) -> np.ndarray:
    x, kind = inputs[0], p.WhichOneof("NonlinearityType")
    if kind == "ReLU":
        return np.maximum(x, 0)
    if kind == "leakyReLU":
        return np.where(x >= 0, x, x * np.float32(p.leakyReLU.alpha))
    if kind == "linear":
        return x * np.float32(p.linear.alpha) + np.float32(p.linear.beta)
    raise ModelError(f"activation {kind} is not supported by the NumPy evaluator")


def _nn_pooling(p, inputs: list[np.ndarray]) -> np.ndarray:
    x = inputs[0]
    mode = {0: "max", 1: "average"}.get(p.type)
    if mode is None:
        raise ModelError("L2 pooling is not supported by the NumPy evaluator")
    if p.globalPooling:
        return _reduce(x, [-2, -1], True, np.max if mode == "max" else np.mean)
    kernel, strides = tuple(p.kernelSize) or (3, 3), tuple(p.stride) or (1, 1)
    pads = _nn_pads(p, p.WhichOneof("PoolingPaddingType"), x.shape[2:], kernel, strides, (1, 1))
    return pool2d(x, kernel, strides, pads, mode, p.avgPoolExcludePadding)


def _nn_inner_product(p, inputs: list[np.ndarray]) -> np.ndarray:
    x = inputs[0]
    if x.ndim != 2:
        raise ModelError(
            "innerProduct with an input of rank other than 2 is not supported "
            "by the NumPy evaluator"
        )
    weight = _nn_weights(p.weights, (p.outputChannels, p.inputChannels))
    y = x @ weight.T
    return y + _nn_weights(p.bias, (p.outputChannels,)) if p.hasBias else y


def _nn_flatten_to_2d(p, inputs: list[np.ndarray]) -> np.ndarray:
    x = inputs[0]
    axis = p.axis % x.ndim
    if axis == 0 and x.shape[0] != 1:
        raise _BatchAxisError
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def _nn_reduce(function) -> Callable:
    def run(p, inputs: list[np.ndarray]) -> np.ndarray:
        return _reduce(inputs[0], None if p.reduceAll else list(p.axes), p.keepDims, function)

    return run


def _nn_multiply(p, inputs: list[np.ndarray]) -> np.ndarray:
    if len(inputs) == 1:
        return inputs[0] * np.float32(p.alpha)
    return np.prod(np.broadcast_arrays(*inputs), axis=0)


def _nn_expand_dims(p, inputs: list[np.ndarray]) -> np.ndarray:
    x = inputs[0]
    axes = [a % (x.ndim + len(p.axes)) for a in p.axes]
    _check_batch_axis(x, axes)
    return np.expand_dims(x, tuple(axes))


def _nn_squeeze(p, inputs: list[np.ndarray]) -> np.ndarray:
    x = inputs[0]
    axes = [a for a in range(1, x.ndim) if x.shape[a] == 1] if p.squeezeAll else list(p.axes)
    _check_batch_axis(x, axes)
    return np.squeeze(x, tuple(axes))


# NeuralNetwork layer type -> function of (layer parameters, input arrays).
NN_LAYERS: dict[str, Callable[[Any, list[np.ndarray]], np.ndarray]] = {
    "convolution": _nn_convolution,
    "batchnorm": _nn_batchnorm,
    "activation": _nn_activation,
    "clip": lambda p, x: np.clip(x[0], np.float32(p.minVal), np.float32(p.maxVal)),
    "pooling": _nn_pooling,
    "innerProduct": _nn_inner_product,
    "flattenTo2D": _nn_flatten_to_2d,
    "transpose": lambda p, x: _transpose(x[0], p.axes),
    "reshapeStatic": lambda p, x: _reshape(x[0], p.targetShape),
    "softmaxND": lambda p, x: softmax(x[0], p.axis),
    "reduceMean": _nn_reduce(np.mean),
    "reduceMax": _nn_reduce(np.max),
    "subtractBroadcastable": lambda p, x: x[0] - x[1],
    "multiply": _nn_multiply,
    "average": lambda p, x: np.mean(np.stack(x), axis=0, dtype=np.float32),
    "expandDims": _nn_expand_dims,
    "squeeze": _nn_squeeze,
}


class _NeuralNetwork:
    """The layers of a NeuralNetwork classifier, ready to run."""

    def __init__(self, spec) -> None:
        self.op_types = spec_op_types(spec)
        network = spec.neuralNetworkClassifier
        self._layers = list(network.layers)
        unknown = self.op_types - set(NN_LAYERS)
        if unknown:
            raise ModelError(
                f"NeuralNetwork layer(s) not supported by the NumPy evaluator: "
                f"{', '.join(sorted(unknown))}"
            )
        if len(spec.description.input) != 1:
            raise ModelError("the NeuralNetwork must have exactly one input")
        feature = spec.description.input[0]
        self.input_name = feature.name
        self.input_shape = tuple(int(d) for d in feature.type.multiArrayType.shape)
        self.probabilities_blob = network.labelProbabilityLayerName
        self.labels = spec_labels(spec)

    def run(self, x: np.ndarray) -> np.ndarray:
        env = {self.input_name: x}
        for layer in self._layers:
            kind = layer.WhichOneof("layer")
            result = NN_LAYERS[kind](getattr(layer, kind), [env[name] for name in layer.input])
            env[layer.output[0]] = np.asarray(result, np.float32)
        return env[self.probabilities_blob]


# ---------------------------------------------------------------------------------------


def _main_function(spec):
    """(function, block) of the main function of an ML Program spec."""
    functions = spec.mlProgram.functions
    if "main" not in functions:
        raise ModelError("the ML Program has no main function")
    function = functions["main"]
    return function, function.block_specializations[function.opset]


def spec_op_types(spec) -> set[str]:
    """ML Program op types (``const`` included) or NeuralNetwork layer types of a spec."""
    if spec.WhichOneof("Type") == "mlProgram":
        return {op.type for op in _main_function(spec)[1].operations}
    if spec.WhichOneof("Type") == "neuralNetworkClassifier":
        return {layer.WhichOneof("layer") for layer in spec.neuralNetworkClassifier.layers}
    raise ModelError(
        f"expected an ML Program or a NeuralNetwork classifier, found {spec.WhichOneof('Type')}"
    )


def spec_labels(spec) -> tuple[str, ...]:
    """Class labels of a Core ML classifier spec, in the order of its probabilities."""
    if spec.WhichOneof("Type") == "neuralNetworkClassifier":
        network = spec.neuralNetworkClassifier
        labels = network.stringClassLabels.vector or network.int64ClassLabels.vector
        return tuple(str(label) for label in labels)
    operations = _main_function(spec)[1].operations
    for op in operations:
        if op.type == "classify":
            (binding,) = op.inputs["classes"].arguments
            if binding.WhichOneof("binding") == "value":
                return tuple(str(c) for c in _mil_value(binding.value, None))
            (const,) = [c for c in operations if c.outputs and c.outputs[0].name == binding.name]
            return tuple(str(c) for c in _mil_value(const.attributes["val"], None))
    raise ModelError("the ML Program is not a classifier (it has no classify op)")


# Core ML specification version -> the oldest iOS that runs it.
_DEPLOYMENT_TARGETS = {4: "iOS13", 5: "iOS14", 6: "iOS15", 7: "iOS16", 8: "iOS17", 9: "iOS18"}
_MODEL_TYPES = {"mlProgram": "mlProgram", "neuralNetworkClassifier": "neuralNetwork"}
_ARRAY_DTYPES = {65568: "float32", 65552: "float16", 65600: "float64", 131104: "int32"}


def spec_manifest_fields(spec) -> dict:
    """What a classifier spec says of itself, as an export manifest's artifact entry does:
    input name, dtype and shape, output names, deployment target and model type."""
    description = spec.description
    feature = description.input[0]
    array = feature.type.multiArrayType
    version = int(spec.specificationVersion)
    return {
        "input": {
            "name": feature.name,
            "dtype": _ARRAY_DTYPES.get(int(array.dataType), f"array type {array.dataType}"),
            "shape": [int(d) for d in array.shape],
        },
        "output": {
            "label": description.predictedFeatureName,
            "probabilities": description.predictedProbabilitiesName,
        },
        "minimum_deployment_target": _DEPLOYMENT_TARGETS.get(version, f"spec version {version}"),
        "model_type": _MODEL_TYPES.get(spec.WhichOneof("Type"), spec.WhichOneof("Type")),
    }


class CoreMLNumpyRuntime:
    """Evaluate a saved Core ML classifier (``.mlpackage`` or ``.mlmodel``) with NumPy.

    Parameters
    ----------
    path:
        Model to :meth:`load` right away (optional).

    Examples
    --------
    >>> runtime = CoreMLNumpyRuntime("export/emotion.mlpackage")  # doctest: +SKIP
    >>> runtime.predict_patches(patches).shape  # doctest: +SKIP
    (n, 8)
    """

    def __init__(self, path: str | Path | None = None) -> None:
        self._model: _MilProgram | _NeuralNetwork | None = None
        self._spec = None
        if path is not None:
            self.load(path)

    def load(self, path: str | Path) -> CoreMLNumpyRuntime:
        """Read the model at ``path``; raises ``ModelError`` if it cannot be evaluated."""
        from coremltools.models.utils import load_spec

        path = Path(path)
        if not path.exists():
            raise ModelError(f"Core ML model not found: {path}")
        try:
            spec = load_spec(str(path))
        except Exception as exc:  # protobuf and package errors have no common base
            raise ModelError(f"cannot read Core ML model {path}: {exc}") from exc
        self._spec = spec
        if spec.WhichOneof("Type") == "mlProgram":
            self._model = _MilProgram(spec, path / "Data" / "com.apple.CoreML")
        else:
            self._model = _NeuralNetwork(spec)
        return self

    @property
    def _loaded(self) -> _MilProgram | _NeuralNetwork:
        if self._model is None:
            raise RuntimeError("call load() first")
        return self._model

    @property
    def labels(self) -> tuple[str, ...]:
        """Class labels, in the order of the probability columns."""
        return self._loaded.labels

    @property
    def op_types(self) -> set[str]:
        """ML Program op types (including ``const``) or NeuralNetwork layer types."""
        return set(self._loaded.op_types)

    def manifest_fields(self) -> dict:
        """The model's own input, outputs, deployment target and type (``spec_manifest_fields``)."""
        if self._spec is None:
            raise RuntimeError("call load() first")
        return spec_manifest_fields(self._spec)

    def predict_patches(self, x: np.ndarray) -> np.ndarray:
        """Class probabilities of log-mel patches (or windows, for waveform-in programs).

        Parameters
        ----------
        x:
            (n, 96, 64, 1) float32 log-mel patches, or (n, 15600) float32 waveform windows:
            n inputs of the program's input shape without its batch axis.

        Returns
        -------
        np.ndarray
            (n, len(labels)) float32 probabilities.
        """
        model = self._loaded
        x = np.asarray(x, np.float32)
        if x.ndim != len(model.input_shape) or x.shape[1:] != model.input_shape[1:]:
            expected = ", ".join(str(d) for d in model.input_shape[1:])
            raise ValueError(f"expected inputs of shape (n, {expected}), got {x.shape}")
        if len(x) == 0:
            return np.zeros((0, len(model.labels)), np.float32)
        try:
            probabilities = model.run(x)
        except _BatchAxisError:
            probabilities = np.concatenate([model.run(x[i : i + 1]) for i in range(len(x))])
        return probabilities.reshape(len(x), -1).astype(np.float32)
