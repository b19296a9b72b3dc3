"""Affine int8 quantization exactly as the manifest tells an app to do it.

``q = clamp(round_half_away_from_zero(x / scale) + zero_point, -128, 127)`` and
``x = (q - zero_point) * scale`` (TFLite's convention; ``np.round`` would round half to even).
"""

from __future__ import annotations

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def quantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float array to int8 with the manifest's rule."""
    scaled = np.asarray(x, dtype=np.float32) / np.float32(scale)
    rounded = np.sign(scaled) * np.floor(np.abs(scaled) + 0.5)
    return np.clip(rounded + zero_point, INT8_MIN, INT8_MAX).astype(np.int8)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 array back to float32."""
    return ((np.asarray(q, dtype=np.int32) - zero_point) * np.float32(scale)).astype(np.float32)
