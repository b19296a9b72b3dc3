"""Single-threaded log-mel throughput: reference preprocessor vs librosa vs tf.signal.

All three compute the same log-mel spectrogram of 60 s of synthetic speech-like audio
(16 kHz, 400-sample periodic Hann frames, 160-sample hop, 512-point FFT, 64 mel bands
125-7500 Hz, log(x + 0.01)). Filter matrices are built once, outside the timed region.

Usage::

    python benchmarks/preprocess.py [--seconds 60] [--repeats 21]
        [--json PATH] [--markdown PATH] [--machine TEXT]
"""

from __future__ import annotations

import os

# Pin every numeric library to one thread before any of them is imported.
for _variable in (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "TF_NUM_INTRAOP_THREADS",
    "TF_NUM_INTEROP_THREADS",
):
    os.environ[_variable] = "1"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import argparse  # noqa: E402
import functools  # noqa: E402
import statistics  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import asdict, dataclass  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402

from edge_ser.bench.machine import library_versions, machine  # noqa: E402
from edge_ser.bench.output import emit  # noqa: E402
from edge_ser.bench.preprocessing import librosa_log_mel, tf_signal_log_mel  # noqa: E402
from edge_ser.reference_preprocess import (  # noqa: E402
    NUM_MEL_BANDS,
    SAMPLE_RATE,
    waveform_to_log_mel,
)
from edge_ser.reference_preprocess.signals import voice  # noqa: E402


@dataclass
class Result:
    """Timing of one pipeline on the benchmark signal."""

    name: str
    median_ms: float
    min_ms: float
    x_real_time: float
    max_abs_diff_vs_reference: float


def reference_log_mel(waveform: np.ndarray) -> Callable[[], np.ndarray]:
    """The NumPy reference preprocessor."""
    return functools.partial(waveform_to_log_mel, waveform)


def tf_signal_log_mel_one_thread(waveform: np.ndarray) -> Callable[[], np.ndarray]:
    """The tf.signal pipeline with TensorFlow's thread pools pinned to one thread."""
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    return tf_signal_log_mel(waveform)


# Each builder prepares its pipeline's input from the waveform (untimed) and returns the call
# to time.
PIPELINES: dict[str, Callable[[np.ndarray], Callable[[], np.ndarray]]] = {
    "reference": reference_log_mel,
    "librosa": librosa_log_mel,
    "tf.signal": tf_signal_log_mel_one_thread,
}


def time_interleaved(
    calls: dict[str, Callable[[], np.ndarray]], warmup: int, repeats: int
) -> tuple[dict[str, list[float]], dict[str, np.ndarray]]:
    """Warm every call up, then time them round-robin so load changes hit all alike.

    Returns
    -------
    tuple of dict
        Per name, the ``repeats`` wall-clock times in seconds, and the output of the first call.
    """
    outputs = {name: call() for name, call in calls.items()}
    for _ in range(warmup - 1):
        for call in calls.values():
            call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = time.perf_counter()
            call()
            times[name].append(time.perf_counter() - start)
    return times, outputs


def machine_description() -> str:
    """CPU model, logical core count and vector extensions, from /proc/cpuinfo where available."""
    m = machine()
    return ", ".join([f"{m['cores']}-core {m['cpu']}", *m["isa"]])


def to_markdown(report: dict) -> str:
    """Render a benchmark report as a Markdown section."""
    lines = [
        "# Preprocessing throughput",
        "",
        f"Log-mel of {report['seconds']:g} s of synthetic speech-like audio at 16 kHz "
        f"({report['num_frames']} frames x {NUM_MEL_BANDS} bands), single-threaded, "
        f"{report['warmup']} warm-up calls, median of {report['repeats']} timed calls "
        "(pipelines timed round-robin).",
        "",
        f"Machine: {report['machine']}. "
        + ", ".join(f"{name} {version}" for name, version in report["versions"].items())
        + ".",
        "",
        "| pipeline | median ms | min ms | x real time | max abs diff vs reference |",
        "|---|---:|---:|---:|---:|",
    ]
    for result in report["results"]:
        lines.append(
            f"| {result['name']} | {result['median_ms']:.2f} | {result['min_ms']:.2f} "
            f"| {result['x_real_time']:.0f} | {result['max_abs_diff_vs_reference']:.2e} |"
        )
    lines.append("")
    for name, ratios in report["speedups"].items():
        lines.append(
            f"- reference is **{ratios['median']:.2f}x** as fast as {name} "
            f"(median time ratio; {ratios['min']:.2f}x by minimum time)"
        )
    lines.append("")
    lines.append(
        "Reproduce: `python benchmarks/preprocess.py --markdown benchmarks/preprocess.md`."
    )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="audio length (s)")
    parser.add_argument("--repeats", type=int, default=31, help="timed calls per pipeline")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls per pipeline")
    parser.add_argument("--json", type=Path, help="write the results as JSON here")
    parser.add_argument("--markdown", type=Path, help="write the results as Markdown here")
    parser.add_argument("--machine", help="machine description (default: from /proc/cpuinfo)")
    parser.add_argument(
        "--skip",
        nargs="*",
        default=[],
        choices=["librosa", "tf.signal"],
        help="pipelines to leave out",
    )
    args = parser.parse_args(argv)
    if args.repeats < 1 or args.warmup < 1:
        parser.error("--repeats and --warmup must be >= 1")

    waveform = voice(round(args.seconds * SAMPLE_RATE))
    calls = {}
    for name, build in PIPELINES.items():
        if name not in args.skip:
            calls[name] = build(waveform)
    times, outputs = time_interleaved(calls, args.warmup, args.repeats)
    reference_output = outputs["reference"]
    results = [
        Result(
            name=name,
            median_ms=1e3 * statistics.median(times[name]),
            min_ms=1e3 * min(times[name]),
            x_real_time=args.seconds / statistics.median(times[name]),
            max_abs_diff_vs_reference=float(np.max(np.abs(outputs[name] - reference_output))),
        )
        for name in calls
    ]
    reference = results[0]
    speedups = {
        r.name: {"median": r.median_ms / reference.median_ms, "min": r.min_ms / reference.min_ms}
        for r in results[1:]
    }
    report = {
        "seconds": args.seconds,
        "num_frames": int(reference_output.shape[0]),
        "warmup": args.warmup,
        "repeats": args.repeats,
        "machine": args.machine or machine_description(),
        "versions": library_versions("numpy", "librosa", "tensorflow", "tensorflow-cpu"),
        "results": [asdict(r) for r in results],
        "speedups": speedups,
    }
    emit(report, to_markdown(report), args.json, args.markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
