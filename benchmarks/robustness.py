"""Robustness to recording conditions: clip accuracy and UAR of models on altered audio.

Every clip of the chosen speakers is decoded to 16 kHz mono (``edge_ser.audio.load``), altered
by one condition, turned into reference log-mels and scored by each model (clip = mean of
patch probabilities, as everywhere). The conditions stand in for what a phone meets and a
studio corpus lacks:

- ``clean``: the recording as is;
- ``quiet (-30 dB)``: a distant or low-gain recording;
- ``bright microphone``: first-order pre-emphasis ``x[n] - 0.95 x[n-1]``, a strong spectral
  tilt (about +25 dB from 100 Hz to 4 kHz);
- ``telephone band``: 300-3400 Hz band-pass (4th-order Butterworth);
- ``white noise, 20 dB SNR`` and ``pink noise, 10 dB SNR`` (SNR over the whole clip);
- ``reverberant room``: convolution with an exponentially decaying noise impulse response
  (RT60 0.5 s), level restored.

Noise and impulse responses are seeded per clip, so every model hears the same audio.

Usage::

    python benchmarks/robustness.py [DATA_DIR] [--speakers ravdess:17 ...] [--models DIR ...]
        [--names NAME ...] [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import sys
import zlib
from collections.abc import Callable
from pathlib import Path

import numpy as np
from scipy import signal

from edge_ser import audio, corpora
from edge_ser.bench.output import benchmark_main
from edge_ser.bundle import ModelBundle
from edge_ser.errors import EdgeSerError
from edge_ser.evaluate import predict_clips
from edge_ser.metrics import score
from edge_ser.reference_preprocess import params, waveform_to_padded_log_mel
from edge_ser.runtimes.keras_runtime import KerasRuntime

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech-actors01-20"
)
DEFAULT_SPEAKERS = ("ravdess:17", "ravdess:18", "ravdess:19", "ravdess:20")
SR = params.SAMPLE_RATE
RT60_S = 0.5

Condition = Callable[[np.ndarray, np.random.Generator], np.ndarray]


def _noise_at_snr(x: np.ndarray, noise: np.ndarray, snr_db: float) -> np.ndarray:
    gain = np.sqrt(np.mean(x**2) / (np.mean(noise**2) * 10 ** (snr_db / 10)))
    return x + gain * noise


def _pink(n: int, rng: np.random.Generator) -> np.ndarray:
    """Noise with a 1/f power spectrum."""
    spectrum = np.fft.rfft(rng.standard_normal(n))
    spectrum[1:] /= np.sqrt(np.arange(1, len(spectrum)))
    return np.fft.irfft(spectrum, n)


def _reverberate(x: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    t = np.arange(round(RT60_S * SR)) / SR
    response = rng.standard_normal(len(t)) * 10 ** (-3 * t / RT60_S)  # -60 dB at RT60
    response[0] = 1.0
    wet = signal.fftconvolve(x, response)[: len(x)]
    return wet * np.sqrt(np.mean(x**2) / np.mean(wet**2))


_TELEPHONE = signal.butter(4, (300, 3400), btype="bandpass", fs=SR, output="sos")

CONDITIONS: dict[str, Condition] = {
    "clean": lambda x, rng: x,
    "quiet (-30 dB)": lambda x, rng: x * 10 ** (-30 / 20),
    "bright microphone": lambda x, rng: signal.lfilter([1.0, -0.95], [1.0], x),
    "telephone band": lambda x, rng: signal.sosfilt(_TELEPHONE, x),
    "white noise, 20 dB SNR": lambda x, rng: _noise_at_snr(x, rng.standard_normal(len(x)), 20),
    "pink noise, 10 dB SNR": lambda x, rng: _noise_at_snr(x, _pink(len(x), rng), 10),
    "reverberant room": _reverberate,
}


def log(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def altered_log_mels(waveforms: list[np.ndarray], paths: list[Path], name: str) -> list:
    """Reference log-mels of every waveform under condition ``name`` (clipped to [-1, 1])."""
    log_mels = []
    for waveform, path in zip(waveforms, paths, strict=True):
        rng = np.random.default_rng(zlib.crc32(f"{path.name}:{name}".encode()))
        altered = np.clip(CONDITIONS[name](waveform.astype(np.float64), rng), -1.0, 1.0)
        log_mels.append(waveform_to_padded_log_mel(altered.astype(np.float32)))
    return log_mels


def run_benchmark(args: argparse.Namespace) -> dict:
    scan = corpora.discover(args.data_dir)
    clips = [c for c in scan.clips if c.speaker in set(args.speakers)]
    if not clips:
        raise EdgeSerError(f"no clips of speakers {', '.join(args.speakers)} in {args.data_dir}")
    bundles = [ModelBundle.load(path) for path in args.models or [None]]
    names = args.names or [b.model_id for b in bundles]
    if len(names) != len(bundles):
        raise EdgeSerError(f"{len(names)} names for {len(bundles)} models")
    labels = bundles[0].labels
    if any(b.labels != labels for b in bundles) or {c.label for c in clips} - set(labels):
        raise EdgeSerError("every model must know the same labels, and every label of the data")
    targets = np.array([labels.index(c.label) for c in clips])
    log(f"decoding {len(clips)} clips")
    waveforms = [audio.load(c.path) for c in clips]
    results: dict[str, dict[str, dict]] = {b.model_id: {} for b in bundles}
    for name in CONDITIONS:
        log(f"condition: {name}")
        log_mels = altered_log_mels(waveforms, [c.path for c in clips], name)
        for bundle in bundles:
            probabilities = predict_clips(KerasRuntime(bundle.keras_model, labels), log_mels)
            scores = score(targets, probabilities.argmax(axis=1), labels)
            results[bundle.model_id][name] = {"accuracy": scores.accuracy, "uar": scores.uar}
            log(f"  {bundle.model_id}: accuracy {scores.accuracy:.3f}, UAR {scores.uar:.3f}")
    return {
        "data_dir": str(args.data_dir),
        "speakers": list(args.speakers),
        "n_clips": len(clips),
        "labels": list(labels),
        "models": [b.model_id for b in bundles],
        "names": dict(zip((b.model_id for b in bundles), names, strict=True)),
        "results": results,
    }


def to_markdown(report: dict) -> str:
    models = report["models"]
    lines = [
        "# Robustness to recording conditions",
        "",
        f"{report['n_clips']} clips of speakers {', '.join(report['speakers'])} "
        f"(`{Path(report['data_dir']).name}`), each altered by one condition (see "
        "`benchmarks/robustness.py`). Clip-level UAR, with the change from clean in brackets, "
        "and accuracy.",
        "",
        "| condition | "
        + " | ".join(f"{report['names'][m]} UAR | accuracy" for m in models)
        + " |",
        "|---|" + "---:|---:|" * len(models),
    ]
    for name in CONDITIONS:
        cells = []
        for model in models:
            row, clean = report["results"][model][name], report["results"][model]["clean"]
            change = "" if name == "clean" else f" ({row['uar'] - clean['uar']:+.3f})"
            cells.append(f"{row['uar']:.3f}{change} | {row['accuracy']:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    legend = [f"- {report['names'][m]}: model `{m}`" for m in models]
    reproduce = " ".join(["python benchmarks/robustness.py", "--speakers", *report["speakers"]])
    return "\n".join([*lines, "", *legend, "", f"Reproduce: `{reproduce} --models ...`."]) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA, metavar="DATA_DIR")
    parser.add_argument("--speakers", nargs="+", default=list(DEFAULT_SPEAKERS))
    parser.add_argument(
        "--models", nargs="+", type=Path, help="model directories (default: the bundled model)"
    )
    parser.add_argument("--names", nargs="+", help="a display name per model (default: its id)")
    return benchmark_main(parser, run_benchmark, to_markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
