"""Speed, size and memory of an exported model on this machine (``edge-ser bench``).

Measured in one run:

- per-patch latency (warm-up calls, then median and 90th percentile of timed calls) of the
  int8 TFLite model on 1 thread and on every core, the float32 TFLite model likewise, and
  the Keras model through ``predict_on_batch`` and through a direct call, with their ratios;
- multiply-accumulates per patch and the model's achieved GMAC/s, int8 and float32, as a
  fraction of the matrix-multiplication probe's rate in the same run, and against the
  core's peak (from its vector extensions, ``machine``);
- preprocessing cost per second of audio, reference NumPy log-mel vs librosa, one thread;
- reference models converted and timed the same way (int8 and float32 TFLite, 1 thread): the
  quick baseline CNN the speed goals were first measured on, and a stack of 1x1 convolutions
  (pure matrix multiplication) whose float32/int8 ratio is the most this CPU's kernels allow;
- the end-to-end real-time factor of ``Recognizer.predict_file`` (decode, resample, features,
  int8 model; one thread) on long synthetic recordings, a 16 kHz WAV and a 48 kHz FLAC, with
  the time of each stage, and the WAV again with non-overlapping windows (hop 0.96 s);
- artifact sizes;
- peak RSS of a fresh process predicting a 1-minute and a 1-hour file with the int8 model.

``run(dist, model)`` measures all of it, one module of this package per kind of measurement,
and returns a JSON-ready report; ``edge_ser.bench.report.to_markdown`` renders it.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from edge_ser.artifacts import layout
from edge_ser.artifacts.manifest import read_manifest
from edge_ser.bench.end_to_end import RECORDINGS, end_to_end, write_recording
from edge_ser.bench.goals import goals
from edge_ser.bench.latency import latency, latency_ratios, tflite_row
from edge_ser.bench.machine import library_versions, machine
from edge_ser.bench.memory import peak_rss
from edge_ser.bench.preprocessing import preprocessing
from edge_ser.bench.probes import CEILING_PROBE, PROBES, ToTFLite, probe
from edge_ser.bench.timing import Timing
from edge_ser.bundle import ModelBundle

MEMORY_FILES_S = {"1 minute": 60, "1 hour": 3600}
VERSIONS_OF = ("edge-ser", "numpy", "ai-edge-litert", "tensorflow-cpu", "tensorflow", "keras")


def artifact_sizes(dist: Path) -> list[dict]:
    """Every artifact in the export's manifest with its format, precision and size."""
    return [
        {
            "file": name,
            "format": entry.get("format", ""),
            "precision": entry.get("precision", ""),
            "size_bytes": int(entry["size_bytes"]),
        }
        for name, entry in read_manifest(dist)["artifacts"].items()
    ]


def throughput(keras_model, times: dict[str, Timing], ceiling: dict, info: dict) -> dict:
    """The model's GMAC/s on 1 thread, int8 and float32, as a fraction of the ``ceiling``
    (matrix-multiplication) probe of the same run and against the peak of ``info``."""
    from edge_ser.model import count_macs

    macs = count_macs(keras_model)
    int8 = macs / times[tflite_row("int8", 1)].median_ms / 1e6
    float32 = macs / times[tflite_row("float32", 1)].median_ms / 1e6
    peak = info["peak"]
    int8_peak = peak["int8_macs_per_cycle"] * info["clock_ghz"]
    return {
        "parameters": keras_model.count_params(),
        "macs_per_patch": macs,
        "achieved_gmacs": int8,
        "peak_gmacs": int8_peak,
        "fraction_of_peak": int8 / int8_peak,
        "assumption": f"{peak['isa']}: {peak['basis']}",
        "matmul_probe_gmacs": ceiling["int8_gmacs"],
        "fraction_of_matmul_probe": int8 / ceiling["int8_gmacs"],
        "float32_gmacs": float32,
        "float32_peak_gmacs": peak["float32_macs_per_cycle"] * info["clock_ghz"],
        "float32_fraction_of_matmul_probe": float32 / ceiling["float32_gmacs"],
    }


def run(
    dist: Path,
    to_tflite: ToTFLite,
    model: Path | None = None,
    seconds: float = 60.0,
    repeats: int = 100,
    warmup: int = 10,
    hour: bool = True,
    log: Callable[[str], None] = lambda line: None,
) -> dict:
    """Benchmark the export ``dist`` (and its source Keras ``model``, default bundled).

    ``seconds`` is the length of the synthetic audio for the preprocessing and end-to-end
    measurements; ``repeats`` and ``warmup`` are per latency row; ``hour=False`` skips the
    1-hour memory measurement (the 1-minute one always runs). ``to_tflite`` converts the
    reference models (``edge_ser.export.tflite.to_tflite_pair``).
    """
    dist = Path(dist)
    bundle = ModelBundle.load(model)
    info = machine()
    log("timing per-patch latency")
    times = latency(dist, bundle.keras_model, repeats, warmup)
    log("timing the reference models")
    probes = {name: probe(build(), repeats, warmup, to_tflite) for name, build in PROBES.items()}
    log("timing preprocessing")
    prep = preprocessing(seconds, max(3, repeats // 10), 1)
    report: dict = {
        "machine": info,
        "versions": library_versions(*VERSIONS_OF),
        "settings": {"seconds": seconds, "repeats": repeats, "warmup": warmup},
        # The export's labels: the model's, or the label set it was exported with.
        "model": {"model_id": bundle.model_id, "labels": read_manifest(dist)["labels"]},
        "latency_ms": {name: asdict(t) for name, t in times.items()},
        "ratios": latency_ratios(times),
        "int8_throughput": throughput(bundle.keras_model, times, probes[CEILING_PROBE], info),
        "reference_models": probes,
        "preprocessing": prep,
        "artifacts": artifact_sizes(dist),
        "end_to_end": {},
        "memory": {},
    }
    with tempfile.TemporaryDirectory(prefix="edge-ser-bench-") as tmp:
        for name, (rate, suffix, hop_frames) in RECORDINGS.items():
            log(f"end-to-end predict on {seconds:g} s of {name}")
            recording = write_recording(Path(tmp) / f"{rate}{suffix}", seconds, rate)
            report["end_to_end"][name] = end_to_end(
                dist / layout.INT8_TFLITE, recording, max(5, repeats // 10), hop_frames
            )
        for name, length_s in MEMORY_FILES_S.items():
            if length_s > MEMORY_FILES_S["1 minute"] and not hour:
                continue
            log(f"peak memory of predict on a {name} file")
            path = write_recording(Path(tmp) / f"{length_s}s.flac", length_s)
            report["memory"][name] = peak_rss(dist / layout.INT8_TFLITE, path)
            path.unlink()
    report["goals"] = goals(report)
    return report
