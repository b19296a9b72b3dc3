"""Keras backend: the Python reference every exported artifact is compared against."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_ser.errors import ModelError
from edge_ser.labels import LabelSet


def load_keras_model(path: Path):
    """Load a ``.keras`` file in safe mode (no arbitrary code), with edge-ser's custom layers."""
    import keras

    import edge_ser.model  # noqa: F401  (registers PatchStandardization)

    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file not found: '{path}'")
    try:
        return keras.saving.load_model(path, safe_mode=True, compile=False)
    except Exception as exc:  # keras raises many types for corrupt files
        raise ModelError(f"cannot load Keras model '{path}': {str(exc).splitlines()[0]}") from exc


class KerasRuntime:
    """Run a Keras model on patches in fixed-size batches; with ``label_set``, the model
    reduced to that set's labels (``edge_ser.model.with_label_set``, the graph every export
    of the label set translates)."""

    def __init__(
        self,
        model,
        labels: tuple[str, ...],
        batch_size: int = 256,
        label_set: LabelSet | None = None,
    ) -> None:
        from edge_ser.model import with_label_set

        self.label_set = label_set or LabelSet.full(labels)
        self.model = with_label_set(model, self.label_set)
        self.labels = self.label_set.labels
        self.batch_size = batch_size

    def predict_patches(self, patches: np.ndarray) -> np.ndarray:
        patches = np.asarray(patches, dtype=np.float32)
        outputs = [
            np.asarray(self.model(patches[i : i + self.batch_size], training=False))
            for i in range(0, len(patches), self.batch_size)
        ]
        if not outputs:
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.concatenate(outputs)
