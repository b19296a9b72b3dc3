"""A trained model as a directory: the unit that ``train`` writes and everything else loads.

Layout (the bundled default model in ``edge_ser/bundled/`` has the same files)::

    model.keras               Keras 3 model, loadable in safe mode
    model.json                labels, model id, architecture, training summary, metrics
    calibration_patches.npy   real log-mel patches of training speakers, int8 calibration (float16)
    parity_patches.npy        real log-mel patches of held-out speakers, export parity (float16)
    MODEL_CARD.md             data, split, metrics, license, intended use

``--model`` accepts the directory or its ``model.keras``; omitted, the bundled model is used.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from edge_ser.atomic import OutputKind
from edge_ser.errors import ModelError
from edge_ser.labels import LabelSet
from edge_ser.runtimes.keras_runtime import KerasRuntime, load_keras_model

BUNDLED_DIR = Path(__file__).resolve().parent / "bundled"
MODEL_FILE = "model.keras"
INFO_FILE = "model.json"
CALIBRATION_FILE = "calibration_patches.npy"
PARITY_FILE = "parity_patches.npy"
CARD_FILE = "MODEL_CARD.md"
METRICS_FILE = "metrics.json"
CONFUSION_PNG = "confusion_matrix.png"
CURVES_PNG = "training_curves.png"

# Everything ``train`` writes into a run directory (``--force`` replaces these, keeps others).
RUN_OUTPUT = OutputKind(
    "a training run",
    INFO_FILE,
    [MODEL_FILE, CALIBRATION_FILE, PARITY_FILE, CARD_FILE, METRICS_FILE, CONFUSION_PNG, CURVES_PNG],
)


@dataclass
class ModelBundle:
    """A model directory: Keras model, label order, metadata and calibration patches."""

    directory: Path
    info: dict = field(repr=False)

    @classmethod
    def load(cls, path: str | Path | None = None) -> ModelBundle:
        """Open a model directory (or its ``model.keras``); ``None`` opens the bundled model."""
        directory = BUNDLED_DIR if path is None else Path(path)
        if directory.suffix == ".keras":
            directory = directory.parent
        info_path = directory / INFO_FILE
        if not (directory / MODEL_FILE).is_file() or not info_path.is_file():
            which = "the bundled model" if path is None else f"'{directory}'"
            raise ModelError(
                f"{which} is not a model directory (needs {MODEL_FILE} and {INFO_FILE})"
            )
        try:
            info = json.loads(info_path.read_text())
            labels = info["labels"]
        except (ValueError, KeyError) as exc:
            raise ModelError(f"'{info_path}' is not a valid model description: {exc}") from exc
        if not labels or len(set(labels)) != len(labels):
            raise ModelError(f"'{info_path}' has an empty or repeated label list")
        return cls(directory, info)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.info["labels"])

    @property
    def model_id(self) -> str:
        return str(self.info.get("model_id", self.directory.name))

    @property
    def keras_path(self) -> Path:
        return self.directory / MODEL_FILE

    @cached_property
    def keras_model(self):
        return load_keras_model(self.keras_path)

    def runtime(self, label_set: LabelSet | None = None) -> KerasRuntime:
        """A ``KerasRuntime`` over this model (reduced to ``label_set``, if given)."""
        return KerasRuntime(self.keras_model, self.labels, label_set=label_set)

    def _patches(self, name: str) -> np.ndarray:
        path = self.directory / name
        if not path.is_file():
            raise ModelError(f"'{self.directory}' has no {name}")
        return np.load(path).astype(np.float32)

    def calibration_patches(self) -> np.ndarray:
        """``(n, 96, 64, 1)`` float32 training-speaker patches for int8 calibration."""
        return self._patches(CALIBRATION_FILE)

    def parity_patches(self) -> np.ndarray:
        """``(n, 96, 64, 1)`` float32 held-out-speaker patches for parity checks."""
        return self._patches(PARITY_FILE)
