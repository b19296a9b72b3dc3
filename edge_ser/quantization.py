"""Affine int8 quantization exactly as the manifest tells an app to do it.

``q = clamp(round_half_away_from_zero(x / scale) + zero_point, -128, 127)`` and
``x = (q - zero_point) * scale`` (TFLite's convention; ``np.round`` would round half to even).
"""

from __future__ import annotations

import numpy as np

INT8_MIN, INT8_MAX = -128, 127


def quantize(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """Float array to int8 with the manifest's rule."""
    x = np.asarray(x, dtype=np.float32)
    scaled = np.empty(x.shape, dtype=np.float32)
    np.divide(x, np.float32(scale), out=scaled)
    # trunc(s + copysign(0.5, s)) rounds half away from zero, in place (no temporaries).
    scaled += np.copysign(np.float32(0.5), scaled)
    np.trunc(scaled, out=scaled)
    scaled += np.float32(zero_point)
    return np.clip(scaled, INT8_MIN, INT8_MAX, out=scaled).astype(np.int8)


def dequantize(q: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """int8 array back to float32."""
    return ((np.asarray(q, dtype=np.int32) - zero_point) * np.float32(scale)).astype(np.float32)
