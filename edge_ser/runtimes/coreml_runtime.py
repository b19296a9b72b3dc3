"""Run an exported Core ML classifier with Core ML itself (``MLModel.predict``); macOS only.

Same interface as :class:`edge_ser.runtimes.coreml_numpy_runtime.CoreMLNumpyRuntime`, which
evaluates the same files with NumPy on any platform.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from edge_ser.artifacts import layout
from edge_ser.errors import ModelError
from edge_ser.runtimes.coreml_numpy_runtime import spec_labels, spec_op_types

COMPUTE_UNITS = ("ALL", "CPU_ONLY", "CPU_AND_GPU", "CPU_AND_NE")


class CoreMLRuntime:
    """Core ML classifier (``.mlpackage`` or ``.mlmodel``) run by Core ML on macOS.

    Parameters
    ----------
    path:
        Model to :meth:`load` right away (optional).
    compute_units:
        Where Core ML may run the model: one of ``COMPUTE_UNITS``.
    """

    def __init__(self, path: str | Path | None = None, compute_units: str = "ALL") -> None:
        if compute_units not in COMPUTE_UNITS:
            raise ValueError(f"compute_units must be one of {COMPUTE_UNITS}, not {compute_units!r}")
        self._compute_units = compute_units
        self._model = None
        self._labels: tuple[str, ...] = ()
        self._op_types: set[str] = set()
        self._input_name = ""
        self._input_shape: tuple[int, ...] = ()
        if path is not None:
            self.load(path)

    def load(self, path: str | Path) -> CoreMLRuntime:
        """Compile and load the model at ``path``; raises ``ModelError`` off macOS."""
        if sys.platform != "darwin":
            raise ModelError(
                "Core ML runs models only on macOS; use "
                "edge_ser.runtimes.coreml_numpy_runtime.CoreMLNumpyRuntime on this platform"
            )
        import coremltools as ct

        path = Path(path)
        if not path.exists():
            raise ModelError(f"Core ML model not found: {path}")
        try:
            self._model = ct.models.MLModel(
                str(path), compute_units=ct.ComputeUnit[self._compute_units]
            )
        except Exception as exc:  # Core ML reports compile errors with many types
            raise ModelError(f"Core ML cannot load {path}: {exc}") from exc
        spec = self._model.get_spec()
        self._labels = spec_labels(spec)
        self._op_types = spec_op_types(spec)
        feature = spec.description.input[0]
        self._input_name = feature.name
        self._input_shape = tuple(int(d) for d in feature.type.multiArrayType.shape)
        return self

    @property
    def labels(self) -> tuple[str, ...]:
        """Class labels, in the order of the probability columns."""
        return self._labels

    @property
    def op_types(self) -> set[str]:
        """ML Program op types or NeuralNetwork layer types."""
        return set(self._op_types)

    def predict_patches(self, x: np.ndarray) -> np.ndarray:
        """(n, len(labels)) float32 probabilities of n inputs of the model's input shape:
        (n, 96, 64, 1) log-mel patches, or (n, 15600) windows for waveform-in models."""
        if self._model is None:
            raise RuntimeError("call load() first")
        x = np.asarray(x, np.float32)
        if x.shape[1:] != self._input_shape[1:]:
            expected = ", ".join(str(d) for d in self._input_shape[1:])
            raise ValueError(f"expected inputs of shape (n, {expected}), got {x.shape}")
        rows = []
        for patch in x:
            out = self._model.predict({self._input_name: patch[np.newaxis]})
            probabilities = out[layout.COREML_PROBABILITIES_OUTPUT]
            rows.append([probabilities[label] for label in self._labels])
        return np.asarray(rows, np.float32).reshape(len(x), len(self._labels))
