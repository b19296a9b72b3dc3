"""Timing repeated calls, on one thread where asked."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Timing:
    """Wall-clock statistics of repeated calls, in milliseconds."""

    median_ms: float
    p90_ms: float
    repeats: int


def time_calls(call: Callable[[], object], repeats: int, warmup: int) -> Timing:
    """Call ``warmup`` times untimed, then ``repeats`` times timed."""
    for _ in range(warmup):
        call()
    times = []
    for _ in range(max(1, repeats)):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    ms = 1e3 * np.asarray(times)
    return Timing(float(np.median(ms)), float(np.percentile(ms, 90)), len(times))


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Limit BLAS/OpenMP pools to one thread (when ``threadpoolctl`` is installed)."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # NumPy's FFT is single-threaded; only BLAS could use more
        yield
        return
    with threadpool_limits(limits=1):
        yield
