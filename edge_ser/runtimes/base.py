"""The one interface every backend implements: patches in, probabilities out."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class Runtime(Protocol):
    """A loaded model that maps log-mel patches to label probabilities.

    ``predict_patches`` takes ``(n, 96, 64, 1)`` float32 raw log-mel patches (the model's own
    input transform, such as int8 quantization, happens inside) and returns ``(n, n_labels)``
    float32 probabilities in ``labels`` order.
    """

    labels: tuple[str, ...]

    def predict_patches(self, patches: np.ndarray) -> np.ndarray: ...
