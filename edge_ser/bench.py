"""Speed, size and memory of an exported model on this machine (``edge-ser bench``).

Measured in one run:

- per-patch latency (warm-up calls, then median and 90th percentile of timed calls) of the
  int8 TFLite model on 1 thread and on every core, the float32 TFLite model likewise, and
  the Keras model through ``predict_on_batch`` and through a direct call, with their ratios;
- multiply-accumulates per patch and the int8 model's achieved GMAC/s against the core's
  int8 peak (``PEAK_ASSUMPTION``);
- preprocessing cost per second of audio, reference NumPy log-mel vs librosa, one thread;
- reference models converted and timed the same way (int8 and float32 TFLite, 1 thread): the
  quick baseline CNN the speed goals were first measured on, and a stack of 1x1 convolutions
  (pure matrix multiplication) whose float32/int8 ratio is the most this CPU's kernels allow;
- the end-to-end real-time factor of ``Recognizer.predict_file`` (decode, resample, features,
  int8 model; one thread) on long synthetic recordings, a 16 kHz WAV and a 48 kHz FLAC, with
  the time of each stage, and the WAV again with non-overlapping windows (hop 0.96 s);
- artifact sizes;
- peak RSS of a fresh process predicting a 1-minute and a 1-hour file with the int8 model.

``report = run(dist, model)`` returns a JSON-ready dict; ``to_markdown(report)`` renders it.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from edge_ser.labels import CANONICAL_LABELS
from edge_ser.reference_preprocess import params, waveform_to_log_mel
from edge_ser.reference_preprocess.signals import voice

INT8_MACS_PER_CYCLE = 64
FALLBACK_CLOCK_GHZ = 2.45
PEAK_ASSUMPTION = (
    "AMD EPYC Zen 3 with AVX2 (no AVX-512 / VNNI): 2 x 256-bit vpmaddubsw-class ops per cycle "
    f"= {INT8_MACS_PER_CYCLE} int8 MAC per cycle per core"
)
FILE_RATE = 48000  # sample rate of the memory recordings (resampled to 16 kHz on load)
# End-to-end runs: name -> (sample rate, file suffix, window hop in frames).
RECORDINGS = {
    "16 kHz WAV": (16000, ".wav", params.PATCH_HOP_FRAMES),
    "48 kHz FLAC": (48000, ".flac", params.PATCH_HOP_FRAMES),
    "16 kHz WAV, --window-hop 0.96": (16000, ".wav", params.PATCH_FRAMES),
}
STAGES = ("decode + resample", "log-mel patches", "int8 model")  # of predict_file
# The matrix-multiplication probe: 1x1 convolutions of this many channels over this grid.
GEMM_CHANNELS, GEMM_GRID, GEMM_LAYERS = 128, (48, 16), 4
BASELINE_WIDTHS = (16, 32, 64, 128)  # the quick CNN the speed goals were first measured on
MEMORY_FILES_S = {"1 minute": 60, "1 hour": 3600}
GOAL_INT8_SPEEDUP = 2.5
GOAL_PEAK_FRACTION = 0.5
GOAL_REAL_TIME = 1000.0
GOAL_MEMORY_GROWTH = 1.1  # 1-hour peak RSS at most this multiple of the 1-minute one


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


def machine() -> dict:
    """CPU model, cores, AVX2/AVX-512 flags and the clock used for the int8 peak."""
    model, flags, clock_mhz = platform.processor() or platform.machine(), set(), None
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            key, _, value = (part.strip() for part in line.partition(":"))
            if key == "model name":
                model = value
            elif key == "flags":
                flags = set(value.split())
            elif key == "cpu MHz" and clock_mhz is None:
                clock_mhz = float(value)
    source = "/proc/cpuinfo 'cpu MHz'"
    if clock_mhz is None:
        clock_mhz, source = _lscpu_max_mhz(), "lscpu 'CPU max MHz'"
    if clock_mhz is None:
        clock_mhz, source = FALLBACK_CLOCK_GHZ * 1e3, "assumed (no clock reading available)"
    return {
        "cpu": model,
        "cores": os.cpu_count(),
        "avx2": "avx2" in flags,
        "avx512_or_vnni": any(f.startswith("avx512") or "vnni" in f for f in flags),
        "clock_ghz": round(clock_mhz / 1e3, 3),
        "clock_source": source,
        "system": f"{platform.system()} {platform.machine()}",
    }


def _lscpu_max_mhz() -> float | None:
    try:
        output = subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return None
    for line in output.splitlines():
        key, _, value = line.partition(":")
        if key.strip() == "CPU max MHz":
            return float(value)
    return None


def library_versions() -> dict[str, str]:
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for package in ("edge-ser", "numpy", "ai-edge-litert", "tensorflow-cpu", "tensorflow", "keras"):
        with contextlib.suppress(metadata.PackageNotFoundError):
            versions[package] = metadata.version(package)
    return versions


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
    from edge_ser.export import layout
    from edge_ser.recognizer import Recognizer

    patch = sample_patch()
    cores = os.cpu_count() or 1
    calls: dict[str, Callable[[], object]] = {}
    for precision, filename in (("int8", layout.INT8_TFLITE), ("float32", layout.FLOAT32_TFLITE)):
        for threads in (1, cores):
            runtime = Recognizer.load(dist / filename, num_threads=threads).runtime
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


def preprocessing(seconds: float, repeats: int, warmup: int) -> dict[str, dict]:
    """Log-mel cost per second of audio, reference NumPy vs librosa, one thread."""
    waveform = voice(max(params.MIN_SAMPLES, round(seconds * params.SAMPLE_RATE)))
    audio_s = len(waveform) / params.SAMPLE_RATE
    pipelines: dict[str, Callable[[], object]] = {
        "reference (NumPy)": lambda: waveform_to_log_mel(waveform)
    }
    librosa_call = _librosa_log_mel(waveform)
    if librosa_call is not None:
        pipelines["librosa"] = librosa_call
    results = {}
    with one_thread():
        for name, call in pipelines.items():
            timing = time_calls(call, repeats, warmup)
            results[name] = {
                "ms_per_audio_second": timing.median_ms / audio_s,
                "x_real_time": audio_s / (timing.median_ms / 1e3),
                "audio_seconds": audio_s,
                **asdict(timing),
            }
    return results


def _librosa_log_mel(waveform: np.ndarray) -> Callable[[], np.ndarray] | None:
    """The reference log-mel computed with librosa, or ``None`` without librosa.

    librosa centres the 400-sample window in each 512-sample FFT frame; padding the input
    by 56 samples on both sides makes its frames cover exactly the reference frames.
    """
    try:
        import librosa
    except ImportError:
        return None
    filters = librosa.filters.mel(
        sr=params.SAMPLE_RATE,
        n_fft=params.FFT_LENGTH,
        n_mels=params.NUM_MEL_BANDS,
        fmin=params.MEL_MIN_HZ,
        fmax=params.MEL_MAX_HZ,
        htk=True,
        norm=None,
    ).astype(np.float32)
    padded = np.pad(waveform, (params.FFT_LENGTH - params.WINDOW_LENGTH_SAMPLES) // 2)

    def log_mel() -> np.ndarray:
        magnitude = np.abs(
            librosa.stft(
                padded,
                n_fft=params.FFT_LENGTH,
                hop_length=params.HOP_LENGTH_SAMPLES,
                win_length=params.WINDOW_LENGTH_SAMPLES,
                window="hann",
                center=False,
            )
        )
        return np.log(filters @ magnitude + np.float32(params.LOG_OFFSET)).T

    return log_mel


def matmul_probe():
    """A stack of 1x1 convolutions: pure matrix multiplication with no memory-bound ops, so
    its float32/int8 latency ratio is the most int8 kernels gain over float32 on this CPU."""
    import keras

    inputs = keras.Input((*GEMM_GRID, GEMM_CHANNELS))
    x = inputs
    for _ in range(GEMM_LAYERS):
        x = keras.layers.Conv2D(GEMM_CHANNELS, 1, activation="relu")(x)
    return keras.Model(inputs, x)


def baseline_cnn():
    """The tutorials' quick 99k-parameter CNN on raw 96x64x1 patches: four blocks of 3x3
    conv (16/32/64/128 channels, batch norm, ReLU, 2x2 max-pool but the last), global
    average pool, dense."""
    import keras
    from keras import layers

    inputs = keras.Input((params.PATCH_FRAMES, params.NUM_MEL_BANDS, 1))
    x = inputs
    for i, width in enumerate(BASELINE_WIDTHS):
        x = layers.Conv2D(width, 3, padding="same", use_bias=False)(x)
        x = layers.ReLU()(layers.BatchNormalization()(x))
        if i < len(BASELINE_WIDTHS) - 1:
            x = layers.MaxPooling2D(2)(x)
    x = layers.Dense(len(CANONICAL_LABELS))(layers.GlobalAveragePooling2D()(x))
    return keras.Model(inputs, layers.Softmax()(x))


BASELINE_PROBE = "baseline CNN (3x3 conv 16/32/64/128 on 96x64x1)"
CEILING_PROBE = "matrix-multiplication ceiling (4 x 1x1 conv, 128 ch, 48x16)"
PROBES = {BASELINE_PROBE: baseline_cnn, CEILING_PROBE: matmul_probe}  # timed in the same run


def probe(model, repeats: int, warmup: int) -> dict:
    """int8 and float32 TFLite latency on 1 thread of a (randomly initialised) Keras model,
    with its multiply-accumulates and achieved GMAC/s: a reference measured in the same run."""
    from ai_edge_litert.interpreter import Interpreter

    from edge_ser.export.tflite import to_float32_tflite, to_int8_tflite
    from edge_ser.model import count_macs

    shape = (1, *model.input_shape[1:])
    calibration = np.random.default_rng(0).normal(size=(16, *shape[1:])).astype(np.float32)
    flatbuffers = {
        "int8": to_int8_tflite(model, calibration, shape, "x"),
        "float32": to_float32_tflite(model, shape, "x"),
    }
    macs = count_macs(model)
    result: dict = {"macs": macs, "parameters": model.count_params()}
    for precision, flatbuffer in flatbuffers.items():
        interpreter = Interpreter(model_content=flatbuffer, num_threads=1)
        interpreter.allocate_tensors()
        detail = interpreter.get_input_details()[0]
        zeros = np.zeros(detail["shape"], detail["dtype"])  # the timing does not depend on values

        def call(interpreter=interpreter, index=detail["index"], x=zeros) -> None:
            interpreter.set_tensor(index, x)
            interpreter.invoke()

        timing = time_calls(call, repeats, warmup)
        result[f"{precision}_ms"] = timing.median_ms
        result[f"{precision}_gmacs"] = macs / timing.median_ms / 1e6
    result["float32_over_int8"] = result["float32_ms"] / result["int8_ms"]
    return result


def write_recording(path: Path, seconds: float, sample_rate: int = FILE_RATE) -> Path:
    """A mono 16-bit recording of synthetic speech (format from the suffix: ``.flac``,
    ``.wav``), written one minute at a time (flat memory)."""
    import soundfile as sf
    import soxr

    block_s = min(60.0, seconds)
    block = voice(round(block_s * params.SAMPLE_RATE))
    block = soxr.resample(block, params.SAMPLE_RATE, sample_rate).astype(np.float32)
    total = round(seconds * sample_rate)
    with sf.SoundFile(path, "w", sample_rate, 1, subtype="PCM_16") as handle:
        for start in range(0, total, len(block)):
            handle.write(block[: total - start])
    return path


def end_to_end(int8_path: Path, recording: Path, repeats: int, hop_frames: int) -> dict:
    """Real-time factor of ``predict_file`` with the int8 model on one thread, and the
    median time of its stages run separately: decoding (and resampling), log-mel patches,
    and the model on those patches."""
    from edge_ser import audio
    from edge_ser.recognizer import Recognizer
    from edge_ser.reference_preprocess import waveform_to_patches

    recognizer = Recognizer.load(int8_path, num_threads=1)
    info = audio.info(recording)
    waveform = np.concatenate(list(audio.iter_blocks(recording)))
    patches = waveform_to_patches(waveform, hop_frames=hop_frames)[..., np.newaxis]
    calls = {
        "predict_file": lambda: recognizer.predict_file(recording, hop_frames),
        STAGES[0]: lambda: sum(len(b) for b in audio.iter_blocks(recording)),
        STAGES[1]: lambda: waveform_to_patches(waveform, hop_frames=hop_frames),
        STAGES[2]: lambda: recognizer.runtime.predict_patches(patches),
    }
    with one_thread():
        medians = {name: time_calls(call, repeats, 1).median_ms for name, call in calls.items()}
    seconds = {name: ms / 1e3 for name, ms in medians.items()}
    return {
        "audio_seconds": info.duration_s,
        "source_rate_hz": info.sample_rate,
        "windows": len(patches),
        "window_hop_s": hop_frames * params.HOP_LENGTH_SAMPLES / params.SAMPLE_RATE,
        "median_s": seconds["predict_file"],
        "x_real_time": info.duration_s / seconds["predict_file"],
        "stage_seconds": {stage: seconds[stage] for stage in STAGES},
        "repeats": repeats,
    }


def peak_rss(int8_path: Path, recording: Path) -> dict:
    """Run ``predict_file`` in a fresh single-threaded process; its peak resident memory
    after loading the model and after predicting, in MiB, and its wall time."""
    single_thread = dict.fromkeys(
        ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"), "1"
    )
    start = time.perf_counter()
    completed = subprocess.run(
        [sys.executable, "-m", "edge_ser.bench", str(int8_path), str(recording)],
        capture_output=True,
        text=True,
        check=False,
        env={**os.environ, **single_thread},
    )
    if completed.returncode != 0:
        detail = (completed.stderr.strip().splitlines() or ["no output"])[-1]
        raise RuntimeError(f"memory measurement failed: {detail}")
    result = json.loads(completed.stdout.strip().splitlines()[-1])
    result["wall_s"] = time.perf_counter() - start
    return result


def peak_rss_bytes() -> int:
    """Peak resident memory of this process so far, in bytes.

    ``VmHWM`` from ``/proc/self/status`` where available: unlike ``ru_maxrss``, it starts
    afresh at ``exec``, so a child does not report its parent's peak; else ``ru_maxrss``.
    """
    status = Path("/proc/self/status")
    if status.is_file():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    import resource

    unit = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: bytes on macOS, else KiB
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * unit


def _measure_rss_main(argv: list[str]) -> None:
    """Child side of ``peak_rss``: ``python -m edge_ser.bench MODEL AUDIO``; prints JSON."""
    from edge_ser.recognizer import Recognizer

    recognizer = Recognizer.load(argv[0], num_threads=1)
    loaded = peak_rss_bytes()
    result = recognizer.predict_file(argv[1])
    mib = 1024 * 1024
    print(
        json.dumps(
            {
                "audio_seconds": result.duration_s,
                "windows": len(result.windows),
                "rss_after_load_mib": loaded / mib,
                "peak_rss_mib": peak_rss_bytes() / mib,
            }
        )
    )


def artifact_sizes(dist: Path) -> list[dict]:
    """Every artifact in the export's manifest with its format, precision and size."""
    from edge_ser.export.manifest import read_manifest

    return [
        {
            "file": name,
            "format": entry.get("format", ""),
            "precision": entry.get("precision", ""),
            "size_bytes": int(entry["size_bytes"]),
        }
        for name, entry in read_manifest(dist)["artifacts"].items()
    ]


def goals(report: dict) -> list[dict]:
    """The project's performance goals, the measured value and whether it is met."""
    rows = [
        {
            "goal": f"int8 TFLite >= {GOAL_INT8_SPEEDUP:g}x faster than float32 TFLite (1 thread)",
            "value": f"{report['ratios']['float32 / int8 TFLite (1 thread)']:.2f}x",
            "met": report["ratios"]["float32 / int8 TFLite (1 thread)"] >= GOAL_INT8_SPEEDUP,
        },
        {
            "goal": f"int8 >= {GOAL_PEAK_FRACTION:.0%} of the core's int8 peak",
            "value": f"{report['int8_throughput']['fraction_of_peak']:.1%}",
            "met": report["int8_throughput"]["fraction_of_peak"] >= GOAL_PEAK_FRACTION,
        },
        *(
            {
                "goal": f"predict >= {GOAL_REAL_TIME:g}x real time on one core ({name})",
                "value": f"{e2e['x_real_time']:.0f}x",
                "met": e2e["x_real_time"] >= GOAL_REAL_TIME,
            }
            for name, e2e in report["end_to_end"].items()
        ),
    ]
    memory = report["memory"]
    if "1 minute" in memory and "1 hour" in memory:
        growth = memory["1 hour"]["peak_rss_mib"] / memory["1 minute"]["peak_rss_mib"]
        rows.append(
            {
                "goal": f"memory flat in file length (1-hour peak RSS <= "
                f"{GOAL_MEMORY_GROWTH:g}x the 1-minute one)",
                "value": f"{growth:.3f}x",
                "met": growth <= GOAL_MEMORY_GROWTH,
            }
        )
    return rows


def run(
    dist: Path,
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
    1-hour memory measurement (the 1-minute one always runs).
    """
    from edge_ser.bundle import ModelBundle
    from edge_ser.export import layout
    from edge_ser.model import count_macs

    dist = Path(dist)
    bundle = ModelBundle.load(model)
    info = machine()
    log("timing per-patch latency")
    times = latency(dist, bundle.keras_model, repeats, warmup)
    macs = count_macs(bundle.keras_model)
    achieved = macs / (times[tflite_row("int8", 1)].median_ms / 1e3) / 1e9
    peak = INT8_MACS_PER_CYCLE * info["clock_ghz"]
    log("timing the reference models")
    probes = {name: probe(build(), repeats, warmup) for name, build in PROBES.items()}
    log("timing preprocessing")
    prep = preprocessing(seconds, max(3, repeats // 10), 1)
    report: dict = {
        "machine": info,
        "versions": library_versions(),
        "settings": {"seconds": seconds, "repeats": repeats, "warmup": warmup},
        "model": {"model_id": bundle.model_id, "labels": list(bundle.labels)},
        "latency_ms": {name: asdict(t) for name, t in times.items()},
        "ratios": latency_ratios(times),
        "int8_throughput": {
            "parameters": bundle.keras_model.count_params(),
            "macs_per_patch": macs,
            "achieved_gmacs": achieved,
            "peak_gmacs": peak,
            "fraction_of_peak": achieved / peak,
            "assumption": PEAK_ASSUMPTION,
        },
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


def to_markdown(report: dict) -> str:
    """Render a report as Markdown tables."""
    m, t, probes = report["machine"], report["int8_throughput"], report["reference_models"]
    int8_ms = report["latency_ms"][tflite_row("int8", 1)]["median_ms"]
    float32_ms = report["latency_ms"][tflite_row("float32", 1)]["median_ms"]
    versions = ", ".join(f"{k} {v}" for k, v in report["versions"].items())
    s = report["settings"]
    lines = [
        "# edge-ser benchmark",
        "",
        *([report["note"], ""] if report.get("note") else []),
        f"Model `{report['model']['model_id']}`. Machine: {m['cpu']}, {m['cores']} cores, "
        f"{m['clock_ghz']:g} GHz ({m['clock_source']}), AVX2 {'yes' if m['avx2'] else 'no'}, "
        f"AVX-512/VNNI {'yes' if m['avx512_or_vnni'] else 'no'}. {versions}.",
        "",
        f"## Per-patch latency ({s['warmup']} warm-up calls, {s['repeats']} timed)",
        "",
        "| runtime | median ms | p90 ms |",
        "|---|---:|---:|",
        *(
            f"| {name} | {row['median_ms']:.3f} | {row['p90_ms']:.3f} |"
            for name, row in report["latency_ms"].items()
        ),
        "",
        "| ratio of median latencies | x |",
        "|---|---:|",
        *(f"| {name} | {value:.2f} |" for name, value in report["ratios"].items()),
        "",
        "## int8 throughput",
        "",
        f"{t['macs_per_patch']:,} multiply-accumulates per patch; int8 on 1 thread achieves "
        f"**{t['achieved_gmacs']:.1f} GMAC/s** = {t['fraction_of_peak']:.1%} of a peak of "
        f"{t['peak_gmacs']:.1f} GMAC/s ({t['assumption']}, at {m['clock_ghz']:g} GHz).",
        "",
        "Reference models, randomly initialised, converted and timed the same way in this "
        "run (1 thread):",
        "",
        "| model | parameters | MAC per patch | int8 ms | float32 ms | int8 GMAC/s | "
        "float32 / int8 |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| this model | {t['parameters']:,} | {t['macs_per_patch']:,} | {int8_ms:.3f} | "
        f"{float32_ms:.3f} | {t['achieved_gmacs']:.1f} | {float32_ms / int8_ms:.2f} |",
        *(
            f"| {name} | {p['parameters']:,} | {p['macs']:,} | {p['int8_ms']:.3f} | "
            f"{p['float32_ms']:.3f} | {p['int8_gmacs']:.1f} | {p['float32_over_int8']:.2f} |"
            for name, p in probes.items()
        ),
        "",
        f"This model's int8 file runs **{probes[BASELINE_PROBE]['int8_ms'] / int8_ms:.1f}x** "
        "faster than the baseline CNN's. The matrix-multiplication probe is the most int8 "
        "kernels gain over float32 ones on this CPU: float32 / int8 = "
        f"**{probes[CEILING_PROBE]['float32_over_int8']:.2f}x** at best for any model here.",
        "",
        "## Preprocessing (log-mel, one thread)",
        "",
        "| pipeline | ms per second of audio | x real time |",
        "|---|---:|---:|",
        *(
            f"| {name} | {row['ms_per_audio_second']:.3f} | {row['x_real_time']:.0f} |"
            for name, row in report["preprocessing"].items()
        ),
        "",
        "## End to end (one thread)",
        "",
        "`Recognizer.predict_file` on synthetic speech (decode, resample to 16 kHz, log-mel, "
        "windows through the int8 model), and each stage timed on its own:",
        "",
        "| recording | seconds | windows | predict_file ms | x real time | "
        + " | ".join(f"{stage} ms" for stage in STAGES)
        + " |",
        "|---|---:|---:|---:|---:|" + "---:|" * len(STAGES),
        *(
            f"| {name} | {e['audio_seconds']:g} | {e['windows']} | {1e3 * e['median_s']:.1f} | "
            f"**{e['x_real_time']:.0f}** | "
            + " | ".join(f"{1e3 * e['stage_seconds'][stage]:.1f}" for stage in STAGES)
            + " |"
            for name, e in report["end_to_end"].items()
        ),
        "",
        "## Artifacts",
        "",
        "| file | format | precision | bytes |",
        "|---|---|---|---:|",
        *(
            f"| {a['file']} | {a['format']} | {a['precision']} | {a['size_bytes']:,} |"
            for a in report["artifacts"]
        ),
        "",
        "## Memory (`predict_file` with the int8 model in a fresh process)",
        "",
        "| recording | windows | RSS after load MiB | peak RSS MiB | wall s |",
        "|---|---:|---:|---:|---:|",
        *(
            f"| {name} | {r['windows']} | {r['rss_after_load_mib']:.1f} | "
            f"{r['peak_rss_mib']:.1f} | {r['wall_s']:.1f} |"
            for name, r in report["memory"].items()
        ),
        "",
        "## Goals",
        "",
        "| goal | measured | met |",
        "|---|---:|---|",
        *(
            f"| {g['goal']} | {g['value']} | {'yes' if g['met'] else 'no'} |"
            for g in report["goals"]
        ),
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    _measure_rss_main(sys.argv[1:])
