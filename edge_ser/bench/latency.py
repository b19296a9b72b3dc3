"""Per-patch latency of each way of running an exported model, and their ratios."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np

from edge_ser.artifacts import layout
from edge_ser.bench.timing import Timing, time_calls
from edge_ser.reference_preprocess import params, waveform_to_log_mel
from edge_ser.reference_preprocess.signals import voice
from edge_ser.runtimes.open_model import open_model


def sample_patch() -> np.ndarray:
    """One real ``(1, 96, 64, 1)`` log-mel patch of synthetic speech."""
    log_mel = waveform_to_log_mel(voice(params.MIN_SAMPLES))
    return log_mel[np.newaxis, :, :, np.newaxis]


def _threads(count: int) -> str:
    return f"{count} thread{'s' if count > 1 else ''}"


def tflite_row(precision: str, threads: int) -> str:
    """Name of a TFLite latency row, e.g. ``TFLite int8, 1 thread``."""
    return f"TFLite {precision}, {_threads(threads)}"


def latency(dist: Path, keras_model, repeats: int, warmup: int) -> dict[str, Timing]:
    """Per-patch latency of each way of running the model, by row name."""
    patch = sample_patch()
    cores = os.cpu_count() or 1
    calls: dict[str, Callable[[], object]] = {}
    for precision, filename in (("int8", layout.INT8_TFLITE), ("float32", layout.FLOAT32_TFLITE)):
        for threads in (1, cores):
            runtime = open_model(dist / filename, num_threads=threads).runtime
            model_input = runtime.quantize_input(patch)
            calls[tflite_row(precision, threads)] = (
                lambda runtime=runtime, model_input=model_input: runtime.invoke(model_input)
            )
    calls["Keras predict_on_batch"] = lambda: keras_model.predict_on_batch(patch)
    calls["Keras direct call"] = lambda: keras_model(patch, training=False)
    return {name: time_calls(call, repeats, warmup) for name, call in calls.items()}


def latency_ratios(times: dict[str, Timing]) -> dict[str, float]:
    """Median-latency ratios (how many times faster the second is than the first)."""
    cores = os.cpu_count() or 1
    int8, float32 = tflite_row("int8", 1), tflite_row("float32", 1)
    int8_all, float32_all = tflite_row("int8", cores), tflite_row("float32", cores)
    all_threads = _threads(cores)
    pairs = {
        "float32 / int8 TFLite (1 thread)": (float32, int8),
        f"float32 / int8 TFLite ({all_threads})": (float32_all, int8_all),
        f"int8 1 thread / {all_threads}": (int8, int8_all),
        "Keras predict_on_batch / int8 TFLite (1 thread)": ("Keras predict_on_batch", int8),
        "Keras direct call / int8 TFLite (1 thread)": ("Keras direct call", int8),
        "Keras predict_on_batch / Keras direct call": (
            "Keras predict_on_batch",
            "Keras direct call",
        ),
    }
    return {
        name: times[slow].median_ms / times[fast].median_ms
        for name, (slow, fast) in pairs.items()
        if slow in times and fast in times
    }
