"""Keras side of the Core ML exporters: layer graph, folded batch norms, weights in Core ML layout.

Both Core ML builders (ML Program and NeuralNetwork) walk the same list of :class:`Step` s
produced by :func:`plan_layers`, each naming the steps whose outputs it reads (a single chain,
or the branches of an ensemble joined by ``Average``), and read weights and hyper-parameters
through the helpers here, so the Keras conventions (NHWC tensors, HWIO kernels, TF "same"
padding, batch-norm statistics) are interpreted in one place. Core ML tensors are NCHW: Keras
axis ``a`` of a rank-4 tensor is Core ML axis ``NHWC_TO_NCHW[a]``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import keras
import numpy as np

from edge_ser.artifacts import layout
from edge_ser.errors import ModelError
from edge_ser.model import SUPPORTED_LAYERS

# Keras axis (NHWC) -> Core ML axis (NCHW) of a rank-4 tensor.
NHWC_TO_NCHW: tuple[int, int, int, int] = (0, 2, 3, 1)
# Layers a directly following BatchNormalization is folded into (when they have no activation).
_FOLDS_BATCH_NORM = ("Conv2D", "DepthwiseConv2D", "Dense")
# Layers that read several tensors (their translators take a list).
MERGE_LAYERS = ("Average",)


@dataclass(frozen=True)
class Step:
    """One Keras layer to translate, with the batch norm folded into it (if any), and the
    ``output`` names of the steps it reads (the model input's layer name for the first)."""

    layer: keras.layers.Layer
    inputs: tuple[str, ...]
    folded_bn: keras.layers.BatchNormalization | None = None

    @property
    def kind(self) -> str:
        """Keras class name, the key of the exporters' translator registries."""
        return type(self.layer).__name__

    @property
    def name(self) -> str:
        return self.layer.name

    @property
    def output(self) -> str:
        """Name of the value the step gives: its folded batch norm's, else its layer's."""
        return (self.folded_bn or self.layer).name

    @property
    def input_rank(self) -> int:
        """Rank of the layer's input, batch axis included."""
        return len(self.layer.input.shape)

    @property
    def output_shape(self) -> tuple[int, ...]:
        """Keras (NHWC) output shape without the batch axis."""
        return tuple(int(d) for d in self.layer.output.shape[1:])


@dataclass(frozen=True)
class Activation:
    """An element-wise activation or a softmax, in backend-neutral form.

    ``kind`` is one of ``linear``, ``relu``, ``relu6``, ``leaky_relu`` (slope ``alpha``),
    ``clip`` (``0 <= y <= max_value``) or ``softmax`` (over Keras axis ``axis``).
    """

    kind: str
    alpha: float = 0.0
    max_value: float = 0.0
    axis: int = -1


@dataclass(frozen=True)
class ConvWeights:
    """A 2-D convolution in Core ML layout (NCHW input, OIHW weight)."""

    weight: np.ndarray  # (out_channels, in_channels // groups, kh, kw) float32
    bias: np.ndarray | None  # (out_channels,) float32
    strides: tuple[int, int]
    dilations: tuple[int, int]
    groups: int
    padding: str  # "same" (TensorFlow convention: extra row/column at the end) or "valid"


@dataclass(frozen=True)
class PoolGeometry:
    """Window, strides and padding (``same``/``valid``) of a 2-D pooling layer."""

    kernel: tuple[int, int]
    strides: tuple[int, int]
    padding: str


def plan_layers(model: keras.Model, labels: tuple[str, ...]) -> list[Step]:
    """List the layers of ``model`` to translate, in an order that computes each input
    first, folding each foldable batch norm.

    A BatchNormalization that is the only reader of a Conv2D, DepthwiseConv2D or Dense layer
    without activation is folded into that layer's weights and bias.

    Raises
    ------
    ModelError
        If the model does not take one ``layout.INPUT_SHAPE`` patch and return one value
        per label, has a layer not in ``SUPPORTED_LAYERS``, or has a layer that reads a
        tensor no earlier layer gives (a layer called twice).
    """
    if len(model.inputs) != 1 or len(model.outputs) != 1:
        raise ModelError(f"model {model.name!r} must have exactly one input and one output")
    if tuple(model.input_shape[1:]) != layout.INPUT_SHAPE[1:]:
        raise ModelError(
            f"model {model.name!r} takes input {model.input_shape[1:]}, "
            f"expected {layout.INPUT_SHAPE[1:]} (one log-mel patch)"
        )
    if tuple(model.output_shape[1:]) != (len(labels),):
        raise ModelError(
            f"model {model.name!r} returns {model.output_shape[1:]}, "
            f"expected ({len(labels)},) for labels {', '.join(labels)}"
        )
    producers: dict[int, str] = {}  # id of a Keras tensor -> name of the layer giving it
    readers: dict[str, int] = {}  # layer name -> how many layer inputs read its output
    inputs: dict[str, tuple[str, ...]] = {}
    for layer in model.layers:
        kind = type(layer).__name__
        if kind not in SUPPORTED_LAYERS:
            raise ModelError(
                f"layer {layer.name!r} ({kind}) cannot be exported to Core ML; "
                f"supported layers: {', '.join(SUPPORTED_LAYERS)}"
            )
        if kind != "InputLayer":
            tensors = layer.input if kind in MERGE_LAYERS else [layer.input]
            if any(id(tensor) not in producers for tensor in tensors):
                raise ModelError(f"layer {layer.name!r} ({kind}) reads a value not computed yet")
            inputs[layer.name] = tuple(producers[id(tensor)] for tensor in tensors)
            for name in inputs[layer.name]:
                readers[name] = readers.get(name, 0) + 1
        producers[id(layer.output)] = layer.name
        _require_channels_last(layer)
    if producers.get(id(model.outputs[0])) != model.layers[-1].name:
        raise ModelError(f"model {model.name!r} does not end with its last layer")

    steps: list[Step] = []
    by_output: dict[str, int] = {}  # step output name -> index in steps
    for layer in model.layers[1:]:
        sources = inputs[layer.name]
        folds_into = by_output.get(sources[0])
        previous = steps[folds_into] if folds_into is not None else None
        if (
            type(layer).__name__ == "BatchNormalization"
            and previous is not None
            and previous.kind in _FOLDS_BATCH_NORM
            and previous.folded_bn is None
            and readers[previous.name] == 1
            and activation_of(previous.layer).kind == "linear"
        ):
            steps[folds_into] = Step(previous.layer, previous.inputs, folded_bn=layer)
            by_output[layer.name] = folds_into
        else:
            by_output[layer.name] = len(steps)
            steps.append(Step(layer, sources))
    return steps


def walk_steps(
    model: keras.Model, steps: list[Step], x: Any, translate: Callable[[Step, Any], Any]
) -> Any:
    """Translate ``steps`` in order from ``x``, the builder's value of ``model``'s input;
    return the last step's value. ``translate(step, value)`` receives the value the step
    reads, or the list of them for ``MERGE_LAYERS``, and returns the step's value."""
    values = {model.layers[0].name: x}
    for step in steps:
        inputs = [values[name] for name in step.inputs]
        x = translate(step, inputs if step.kind in MERGE_LAYERS else inputs[0])
        values[step.output] = x
    return x


def _require_channels_last(layer: keras.layers.Layer) -> None:
    data_format = getattr(layer, "data_format", "channels_last")
    if data_format != "channels_last":
        raise ModelError(
            f"layer {layer.name!r} ({type(layer).__name__}) uses {data_format}; "
            "only channels_last can be exported to Core ML"
        )


def nchw_axis(axis: int, rank: int) -> int:
    """Core ML axis of Keras axis ``axis`` in a tensor of ``rank`` (rank-4 tensors are NCHW)."""
    axis = axis % rank
    return NHWC_TO_NCHW[axis] if rank == 4 else axis


def reshape_target(step: Step) -> tuple[int, int, int]:
    """Keras (NHWC) target shape of a ``Reshape`` between two rank-4 tensors."""
    shape = step.output_shape
    if step.input_rank != 4 or len(shape) != 3:
        raise ModelError(
            f"layer {step.name!r} (Reshape) must map an image tensor to an image tensor, "
            f"got rank {step.input_rank} -> {len(shape) + 1}"
        )
    return shape


def batch_norm_stats(bn: keras.layers.BatchNormalization) -> dict[str, np.ndarray | float]:
    """``gamma``, ``beta``, ``mean``, ``variance`` (float32, per channel) and ``epsilon``."""
    rank = len(bn.input.shape)
    if not isinstance(bn.axis, int) or bn.axis % rank != rank - 1:
        raise ModelError(f"layer {bn.name!r} (BatchNormalization) must normalize the last axis")
    channels = int(bn.input.shape[-1])
    ones, zeros = np.ones(channels, np.float32), np.zeros(channels, np.float32)
    return {
        "gamma": np.asarray(bn.gamma.numpy(), np.float32) if bn.scale else ones,
        "beta": np.asarray(bn.beta.numpy(), np.float32) if bn.center else zeros,
        "mean": np.asarray(bn.moving_mean.numpy(), np.float32),
        "variance": np.asarray(bn.moving_variance.numpy(), np.float32),
        "epsilon": float(bn.epsilon),
    }


def batch_norm_scale_shift(bn: keras.layers.BatchNormalization) -> tuple[np.ndarray, np.ndarray]:
    """Per-channel ``(scale, shift)`` with ``bn(x) = x * scale + shift`` (float64)."""
    stats = batch_norm_stats(bn)
    scale = np.asarray(stats["gamma"], np.float64) / np.sqrt(
        np.asarray(stats["variance"], np.float64) + stats["epsilon"]
    )
    shift = np.asarray(stats["beta"], np.float64) - np.asarray(stats["mean"], np.float64) * scale
    return scale, shift


def _fold(step: Step, weight: np.ndarray, bias: np.ndarray | None):
    """Fold ``step.folded_bn`` into an output-channel-first ``weight`` and its ``bias``."""
    if step.folded_bn is None:
        return weight.astype(np.float32), None if bias is None else bias.astype(np.float32)
    scale, shift = batch_norm_scale_shift(step.folded_bn)
    weight = weight.astype(np.float64) * scale.reshape((-1,) + (1,) * (weight.ndim - 1))
    bias = shift if bias is None else bias.astype(np.float64) * scale + shift
    return weight.astype(np.float32), bias.astype(np.float32)


def conv_weights(step: Step) -> ConvWeights:
    """Weights of a Conv2D or DepthwiseConv2D step (batch norm folded), OIHW layout."""
    layer = step.layer
    kernel = layer.kernel.numpy()  # Conv2D: (kh, kw, in/groups, out); depthwise: (kh, kw, in, mult)
    kh, kw = kernel.shape[:2]
    if step.kind == "DepthwiseConv2D":
        groups = kernel.shape[2]
        # Output channel c * multiplier + m filters input channel c.
        weight = kernel.reshape(kh, kw, 1, -1).transpose(3, 2, 0, 1)
    else:
        groups = layer.groups
        weight = kernel.transpose(3, 2, 0, 1)
    bias = layer.bias.numpy() if layer.use_bias else None
    weight, bias = _fold(step, weight, bias)
    return ConvWeights(
        weight=weight,
        bias=bias,
        strides=tuple(int(s) for s in layer.strides),
        dilations=tuple(int(d) for d in layer.dilation_rate),
        groups=int(groups),
        padding=_padding(layer),
    )


def dense_weights(step: Step) -> tuple[np.ndarray, np.ndarray]:
    """``(weight (out, in), bias (out,))`` of a Dense step (batch norm folded), float32."""
    layer = step.layer
    if step.input_rank != 2:
        raise ModelError(
            f"layer {layer.name!r} (Dense) must follow Flatten or global pooling "
            f"(its input has rank {step.input_rank}, expected 2)"
        )
    bias = layer.bias.numpy() if layer.use_bias else np.zeros(layer.units, np.float32)
    weight, bias = _fold(step, layer.kernel.numpy().T, bias)
    return weight, bias


def pool_geometry(layer: keras.layers.Layer) -> PoolGeometry:
    """Window, strides and padding of a MaxPooling2D or AveragePooling2D layer."""
    return PoolGeometry(
        kernel=tuple(int(k) for k in layer.pool_size),
        strides=tuple(int(s) for s in layer.strides),
        padding=_padding(layer),
    )


def _padding(layer: keras.layers.Layer) -> str:
    padding = str(layer.padding).lower()
    if padding not in ("same", "valid"):
        raise ModelError(f"layer {layer.name!r} uses padding {padding!r}; use 'same' or 'valid'")
    return padding


def activation_of(layer: keras.layers.Layer) -> Activation:
    """The activation a layer applies: ReLU, Activation and Softmax layers, or the
    ``activation`` argument of Conv2D, DepthwiseConv2D and Dense (``linear`` if none)."""
    kind = type(layer).__name__
    if kind == "ReLU":
        return _relu_activation(layer)
    if kind == "Softmax":
        if not isinstance(layer.axis, int):
            raise ModelError(f"layer {layer.name!r} (Softmax) must use a single axis")
        return Activation("softmax", axis=layer.axis)
    function = getattr(layer, "activation", None)
    name = "linear" if function is None else keras.activations.serialize(function)
    if name in ("linear", "relu", "relu6", "softmax"):
        return Activation(name)
    raise ModelError(
        f"activation {name!r} of layer {layer.name!r} ({kind}) cannot be exported to Core ML; "
        "supported: linear, relu, relu6, softmax"
    )


def _relu_activation(layer: keras.layers.ReLU) -> Activation:
    max_value = layer.max_value
    slope = float(layer.negative_slope)
    if float(layer.threshold) != 0.0 or (max_value is not None and slope != 0.0):
        raise ModelError(
            f"layer {layer.name!r} (ReLU) combines threshold, max_value and negative_slope "
            "in a way the Core ML exporter does not support"
        )
    if max_value is None:
        return Activation("leaky_relu", alpha=slope) if slope else Activation("relu")
    if float(max_value) == 6.0:
        return Activation("relu6")
    return Activation("clip", max_value=float(max_value))
