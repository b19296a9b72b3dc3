"""The compact CNN that classifies one 96x64 log-mel patch into the canonical emotions.

The network is a single chain of layers that convert cleanly to full-integer TFLite and
to Core ML (see ``SUPPORTED_LAYERS``); ``ensemble_model`` joins several trained networks into
one model that averages their probabilities. Input normalization is explicit and inside the
model: ``PatchStandardization`` subtracts each mel band's mean over the patch (so a change of
loudness, which adds a constant to the log-mel, or a microphone's frequency response, which
adds a constant per band, does not change the prediction) and multiplies by a fixed scale
measured on the training data. Adjacent mel bands are then folded into channels
(``band_fold``) before the convolutions.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import keras
import numpy as np
from keras import layers, ops

from edge_ser.errors import ModelError
from edge_ser.labels import CANONICAL_LABELS, LabelSet
from edge_ser.reference_preprocess import params

INPUT_SHAPE: tuple[int, int, int] = (params.PATCH_FRAMES, params.NUM_MEL_BANDS, 1)
STANDARDIZE_LAYER = "standardize"  # name of the model's PatchStandardization layer

# Layer classes a model may contain; the exporters translate exactly these.
SUPPORTED_LAYERS: tuple[str, ...] = (
    "InputLayer",
    "PatchStandardization",
    "Reshape",
    "Conv2D",
    "DepthwiseConv2D",
    "BatchNormalization",
    "ReLU",
    "Activation",
    "MaxPooling2D",
    "AveragePooling2D",
    "GlobalAveragePooling2D",
    "GlobalMaxPooling2D",
    "Flatten",
    "Dense",
    "Dropout",
    "Softmax",
    "Average",
)


@keras.saving.register_keras_serializable(package="edge_ser")
class PatchStandardization(layers.Layer):
    """``(x - mean(x)) * scale``: per-patch, loudness-invariant normalization.

    Parameters
    ----------
    scale:
        Fixed multiplier (1 / standard deviation of mean-removed training patches).
    per_band:
        Subtract each mel band's mean over the patch's frames (removes a fixed microphone
        or channel frequency response as well as loudness) instead of the patch's mean.
    """

    def __init__(self, scale: float = 1.0, per_band: bool = False, **kwargs) -> None:
        super().__init__(**kwargs)
        self.scale = float(scale)
        self.per_band = bool(per_band)

    @property
    def mean_axes(self) -> tuple[int, ...]:
        """Axes of the ``(batch, frames, bands, 1)`` input the mean is taken over.

        The single channel axis is left out: a mean over it changes nothing, and TFLite
        kernels reduce one or two leading axes many times faster than a set that includes
        the last one.
        """
        return (1,) if self.per_band else (1, 2)

    def call(self, inputs):
        mean = ops.mean(inputs, axis=self.mean_axes, keepdims=True)
        return (inputs - mean) * self.scale

    def get_config(self) -> dict:
        return {**super().get_config(), "scale": self.scale, "per_band": self.per_band}


def _split_targets(y_true):
    """``(one_hot, mask)`` halves of the restricted loss's packed targets."""
    n = ops.shape(y_true)[-1] // 2
    return y_true[:, :n], y_true[:, n:]


@keras.saving.register_keras_serializable(package="edge_ser")
class RestrictedCrossentropy(keras.losses.Loss):
    """Cross-entropy of the softmax over each example's corpus labels only.

    Targets are ``concat(one_hot, mask)``, the mask marking the labels the example's corpus
    annotates. Renormalising the model's probabilities over the mask equals a softmax over
    the masked logits (the others set to minus infinity), so a label the corpus never
    annotates neither gains nor loses from the example. Label smoothing spreads over the
    corpus's labels only.
    """

    def __init__(self, label_smoothing: float = 0.0, name: str = "restricted_crossentropy"):
        super().__init__(name=name)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        one_hot, mask = _split_targets(y_true)
        spread = mask / ops.sum(mask, axis=-1, keepdims=True)
        target = one_hot * (1.0 - self.label_smoothing) + self.label_smoothing * spread
        probs = y_pred * mask
        probs = probs / ops.sum(probs, axis=-1, keepdims=True)
        return -ops.sum(target * ops.log(ops.clip(probs, 1e-7, 1.0)), axis=-1)

    def get_config(self) -> dict:
        return {"label_smoothing": self.label_smoothing, "name": self.name}


@keras.saving.register_keras_serializable(package="edge_ser")
class PartialCrossentropy(keras.losses.Loss):
    """Cross-entropy against a set of acceptable labels: minus the log of their summed
    probability.

    Targets are multi-hot. With one label per example this is Keras's categorical
    cross-entropy, label smoothing included; an example whose targets are neutral and calm is
    scored on p(neutral) + p(calm), so it neither favours one of them over the other nor
    stops counting against every other label.
    """

    def __init__(self, label_smoothing: float = 0.0, name: str = "partial_crossentropy"):
        super().__init__(name=name)
        self.label_smoothing = float(label_smoothing)

    def call(self, y_true, y_pred):
        probs = ops.clip(y_pred, 1e-7, 1.0)
        acceptable = ops.clip(ops.sum(y_true * y_pred, axis=-1), 1e-7, 1.0)
        uniform = -ops.mean(ops.log(probs), axis=-1)
        return (1.0 - self.label_smoothing) * -ops.log(acceptable) + self.label_smoothing * uniform

    def get_config(self) -> dict:
        return {"label_smoothing": self.label_smoothing, "name": self.name}


@keras.saving.register_keras_serializable(package="edge_ser")
def partial_accuracy(y_true, y_pred):
    """Share of examples whose argmax is one of their acceptable labels (multi-hot targets)."""
    picked = ops.one_hot(ops.argmax(y_pred, axis=-1), ops.shape(y_pred)[-1])
    return ops.sum(y_true * picked, axis=-1)


@keras.saving.register_keras_serializable(package="edge_ser")
def restricted_accuracy(y_true, y_pred):
    """Share of examples whose argmax over their corpus's labels is the target."""
    one_hot, mask = _split_targets(y_true)
    hit = ops.argmax(y_pred * mask, axis=-1) == ops.argmax(one_hot, axis=-1)
    return ops.cast(hit, "float32")


def centre_patches(x: np.ndarray, per_band: bool) -> np.ndarray:
    """NumPy ``PatchStandardization`` without the scale, for ``(n, frames, bands)`` patches."""
    return x - x.mean(axis=1 if per_band else (1, 2), keepdims=True)


@dataclass(frozen=True)
class ModelConfig:
    """Architecture hyper-parameters of the compact CNN."""

    widths: tuple[int, ...] = (16, 32, 64, 128)
    dropout: float = 0.3
    frequency_head: bool = True  # keep mel-band position: average over time only, then dense
    # Adjacent mel bands folded into channels before the first convolution: 4 turns the
    # 96x64x1 patch into 96x16x4, which int8 kernels run far faster than one input channel.
    band_fold: int = 4
    per_band_normalization: bool = True  # see PatchStandardization

    def to_dict(self) -> dict:
        return {**asdict(self), "widths": list(self.widths)}


def build_model(
    config: ModelConfig = ModelConfig(),
    labels: tuple[str, ...] = CANONICAL_LABELS,
    input_scale: float = 1.0,
) -> keras.Model:
    """Build the CNN: conv blocks (3x3 conv, batch norm, ReLU, max-pool), then a head.

    Input ``(batch, 96, 64, 1)`` raw log-mel patches; output ``(batch, len(labels))``
    probabilities (a separate ``Softmax`` layer named ``probabilities``). Pools halve time
    and frequency, frequency only while at least 8 bands (or folded band groups) remain.
    """
    frames, bands, _ = INPUT_SHAPE
    if config.band_fold < 1 or bands % config.band_fold:
        raise ValueError(f"band_fold must divide {bands}, got {config.band_fold}")
    inputs = keras.Input(shape=INPUT_SHAPE, name="log_mel")
    x = PatchStandardization(
        input_scale, per_band=config.per_band_normalization, name=STANDARDIZE_LAYER
    )(inputs)
    if config.band_fold > 1:
        fold = config.band_fold
        x = layers.Reshape((frames, bands // fold, fold), name="fold_bands")(x)
    for i, width in enumerate(config.widths):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False, name=f"conv{i}")(x)
        x = layers.BatchNormalization(name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
        if i < len(config.widths) - 1:
            x = layers.MaxPooling2D((2, 2 if x.shape[2] >= 8 else 1), name=f"pool{i}")(x)
    if config.frequency_head:
        frames = x.shape[1]
        x = layers.AveragePooling2D(pool_size=(frames, 1), name="time_average")(x)
        x = layers.Flatten(name="flatten")(x)
    else:
        x = layers.GlobalAveragePooling2D(name="global_average")(x)
    x = layers.Dropout(config.dropout, name="dropout")(x)
    x = layers.Dense(len(labels), name="logits")(x)
    outputs = layers.Softmax(name="probabilities")(x)
    return keras.Model(inputs, outputs, name="edge_ser_cnn")


@keras.saving.register_keras_serializable(package="edge_ser")
class GradientReversal(layers.Layer):
    """The identity going forward; going back, the gradient times ``-strength``.

    ``stop_gradient((1 + s) x) - s x`` is ``x`` in value and ``-s`` in slope, so no custom
    gradient is needed. ``strength`` is a variable: training raises it epoch by epoch.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.strength = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, inputs):
        return ops.stop_gradient((1.0 + self.strength) * inputs) - self.strength * inputs


def with_corpus_adversary(model: keras.Model, corpora: int) -> tuple[keras.Model, GradientReversal]:
    """A training-only model with two outputs: ``model``'s probabilities and a corpus classifier
    (``corpus``) on its embedding (the input of its ``dropout`` layer) behind a
    ``GradientReversal``. Trained together, the corpus head learns to tell the corpora apart
    and the shared layers learn to stop it (domain-adversarial training). ``model`` shares
    its layers and is what gets saved; the head is left behind.
    """
    reversal = GradientReversal(name="corpus_reversal")
    x = reversal(model.get_layer("dropout").input)
    x = layers.Dense(64, activation="relu", name="corpus_hidden")(x)
    corpus = layers.Dense(corpora, activation="softmax", name="corpus")(x)
    return keras.Model(model.input, [model.output, corpus], name="corpus_adversary"), reversal


def standardize_layers(model: keras.Model) -> tuple[str, ...]:
    """Names of the model's ``PatchStandardization`` layers (one per member of an ensemble
    whose members were trained on different input scales)."""
    return tuple(layer.name for layer in model.layers if isinstance(layer, PatchStandardization))


def _producer(model: keras.Model, tensor) -> keras.layers.Layer:
    """The layer of ``model`` whose output is ``tensor``."""
    return next(layer for layer in model.layers if layer.output is tensor)


def _member_outputs(model: keras.Model) -> list[keras.layers.Layer]:
    """The layers giving each member's probabilities: the inputs of an ensemble's final
    ``Average``, or the last layer of a single model."""
    last = model.layers[-1]
    if isinstance(last, layers.Average):
        return [_producer(model, tensor) for tensor in last.input]
    return [last]


def _label_probabilities(
    model: keras.Model, end: keras.layers.Layer, label_set: LabelSet, prefix: str
) -> keras.KerasTensor:
    """Softmax over the logits of ``label_set.members`` of the head ending in ``end``."""
    dense = _producer(model, end.input) if isinstance(end, layers.Softmax) else end
    activation = "linear" if dense is not end else "softmax"
    if (
        not isinstance(dense, layers.Dense)
        or keras.activations.serialize(dense.activation) != activation
        or dense.units != len(label_set.source)
    ):
        raise ModelError(
            f"model {model.name!r} must end with its logits (Dense) and a softmax to output "
            "a label set"
        )
    members = list(label_set.members)
    kernel = dense.kernel.numpy()[:, members]
    bias = dense.bias.numpy()[members] if dense.use_bias else np.zeros(len(members), np.float32)
    select = layers.Dense(len(members), name=f"{prefix}label_logits", trainable=False)
    x = layers.Softmax(name=f"{prefix}label_probabilities")(select(dense.input))
    select.set_weights([kernel, bias])
    return x


def with_label_set(model: keras.Model, label_set: LabelSet) -> keras.Model:
    """``model`` outputting ``label_set.labels``: ``label_set.reduce`` of its probabilities.

    The model must end with its logits (a linear ``Dense``) and a ``Softmax``, or with a
    ``Dense`` whose activation is softmax. Its last ``Dense`` keeps only the units of the
    labels in any group (``label_logits``, in ``LabelSet.members`` order: without merges,
    the output order) and a softmax runs over them
    (``label_probabilities``): the source probabilities renormalized over those labels, as
    exact as the full softmax and quantized as finely. With merged labels a fixed 0/1
    ``Dense`` without bias (``label_groups``) sums each group. The identity set returns
    ``model``.

    An ensemble (``ensemble_model``) reduces each member's probabilities this way and
    averages them (``label_average``): the mean of its members' reduced probabilities.

    Raises
    ------
    ModelError
        If the model (or a member) does not end that way.
    """
    if label_set.is_identity:
        return model
    ends = _member_outputs(model)
    if len(ends) == 1:
        x = _label_probabilities(model, ends[0], label_set, "")
    else:
        x = layers.Average(name="label_average")(
            [_label_probabilities(model, end, label_set, f"m{i}_") for i, end in enumerate(ends)]
        )
    if label_set.merge:
        groups = layers.Dense(
            len(label_set.labels), use_bias=False, name="label_groups", trainable=False
        )
        x = groups(x)
        groups.set_weights([label_set.group_matrix()])
    return keras.Model(model.input, x, name=f"{model.name}_labels")


def _chain(model: keras.Model) -> list[keras.layers.Layer]:
    """``model``'s layers after its input, checked to form a single chain."""
    chain = model.layers[1:]
    previous = model.inputs[0]
    for layer in chain:
        if layer.input is not previous:
            raise ModelError(f"model {model.name!r} is not a single chain of layers")
        previous = layer.output
    return chain


def _shared_config(layer: keras.layers.Layer) -> dict:
    return {key: value for key, value in layer.get_config().items() if key != "name"}


def ensemble_model(members: Sequence[keras.Model]) -> keras.Model:
    """One model whose output is the mean of the probabilities of ``members``.

    The members are single chains (``build_model``) with the same input and labels. Their
    leading layers without weights (``standardize``, ``fold_bands``) are shared when every
    member has the same; each member's remaining layers are copied with their weights under
    the prefix ``m<i>_`` and an ``Average`` named ``probabilities`` joins them.

    Raises
    ------
    ModelError
        If fewer than two members are given, or they are not chains of the same input and
        output shapes.
    """
    if len(members) < 2:
        raise ModelError("an ensemble needs at least two members")
    chains = [_chain(member) for member in members]
    shapes = {(tuple(m.input_shape), tuple(m.output_shape)) for m in members}
    if len(shapes) != 1:
        raise ModelError("the members of an ensemble must have the same input and output shapes")
    shared = 0
    while all(
        len(chain) > shared + 1
        and not chain[shared].weights
        and chain[shared].name == chains[0][shared].name
        and _shared_config(chain[shared]) == _shared_config(chains[0][shared])
        for chain in chains
    ):
        shared += 1
    inputs = keras.Input(shape=members[0].input_shape[1:], name=members[0].inputs[0].name)
    x = inputs
    for layer in chains[0][:shared]:
        x = type(layer).from_config(layer.get_config())(x)
    outputs = []
    for i, chain in enumerate(chains):
        y = x
        for layer in chain[shared:]:
            copy = type(layer).from_config({**layer.get_config(), "name": f"m{i}_{layer.name}"})
            y = copy(y)
            copy.set_weights(layer.get_weights())
        outputs.append(y)
    outputs = layers.Average(name="probabilities")(outputs)
    return keras.Model(inputs, outputs, name="edge_ser_ensemble")


def save_for_inference(model: keras.Model, path) -> None:
    """Save the architecture and weights only (no optimizer state: about a third the size)."""
    clean = keras.models.clone_model(model)
    clean.set_weights(model.get_weights())
    clean.save(path)


def count_macs(model: keras.Model) -> int:
    """Multiply-accumulates for one patch through the conv and dense layers."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, layers.DepthwiseConv2D):
            out = layer.output.shape
            kh, kw = layer.kernel_size
            total += out[1] * out[2] * out[3] * kh * kw
        elif isinstance(layer, layers.Conv2D):
            out = layer.output.shape
            kh, kw = layer.kernel_size
            total += out[1] * out[2] * out[3] * kh * kw * layer.input.shape[-1]
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)
