"""Generate the golden vectors in ``golden/`` (deterministic).

Run as ``python -m edge_ser.reference_preprocess.make_golden [--out DIR]``. For each signal
NAME it writes ``NAME.wave.f32`` (the raw waveform) and ``NAME.logmel.f32`` (the log-mel of
the waveform after the pad policy), both raw little-endian float32, plus ``index.json``.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ser.reference_preprocess import signals
from edge_ser.reference_preprocess.log_mel import waveform_to_padded_log_mel
from edge_ser.reference_preprocess.params import (
    MIN_SAMPLES,
    NUM_MEL_BANDS,
    PREPROCESSOR_VERSION,
    SAMPLE_RATE,
)

GOLDEN_DIR = Path(__file__).resolve().parent / "golden"
INDEX_FILE = "index.json"
WAVE_SUFFIX = ".wave.f32"
LOG_MEL_SUFFIX = ".logmel.f32"
# Raw little-endian float32, the on-disk dtype of every golden file.
GOLDEN_DTYPE = np.dtype("<f4")


@dataclass(frozen=True)
class GoldenSignal:
    """One golden signal: its name, how to make it, and what it exercises."""

    name: str
    num_samples: int
    make: Callable[[int], np.ndarray]
    description: str


SIGNALS: tuple[GoldenSignal, ...] = (
    GoldenSignal("silence", SAMPLE_RATE, signals.silence, "all zeros: every value is log(0.01)"),
    GoldenSignal("tone", SAMPLE_RATE, signals.tone, "440 Hz sine, amplitude 0.5"),
    GoldenSignal(
        "chirp", SAMPLE_RATE, signals.chirp, "linear sweep 125 Hz to 7500 Hz, amplitude 0.5"
    ),
    GoldenSignal(
        "white_noise",
        SAMPLE_RATE,
        signals.white_noise,
        "Gaussian white noise, std 0.1, seed 0",
    ),
    GoldenSignal(
        "voice",
        SAMPLE_RATE * 3 // 2,
        signals.voice,
        "harmonic voice-like signal, f0 about 150 Hz with vibrato, seed 0; 1.5 s gives two "
        "patches at the default hop plus trailing frames that are dropped",
    ),
    GoldenSignal(
        "short_voice",
        SAMPLE_RATE // 2,
        signals.voice,
        f"0.5 s voice-like signal, shorter than {MIN_SAMPLES} samples: its log-mel is that of "
        f"the waveform zero-padded at the end to {MIN_SAMPLES} samples (one patch)",
    ),
)


def read_f32(path: Path, columns: int | None = None) -> np.ndarray:
    """Read a raw little-endian float32 golden file, reshaped to ``(-1, columns)`` if given."""
    values = np.fromfile(path, dtype=GOLDEN_DTYPE).astype(np.float32)
    return values if columns is None else values.reshape(-1, columns)


def read_golden(directory: Path = GOLDEN_DIR) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Load every golden signal listed in ``index.json``.

    Returns
    -------
    dict
        ``name -> (waveform (num_samples,), log_mel (num_frames, 64))``, float32.
    """
    index = json.loads((directory / INDEX_FILE).read_text())
    return {
        entry["name"]: (
            read_f32(directory / f"{entry['name']}{WAVE_SUFFIX}"),
            read_f32(directory / f"{entry['name']}{LOG_MEL_SUFFIX}", NUM_MEL_BANDS),
        )
        for entry in index["signals"]
    }


def write_golden(directory: Path = GOLDEN_DIR) -> list[dict]:
    """Generate every golden signal into ``directory``; return the ``index.json`` entries."""
    directory.mkdir(parents=True, exist_ok=True)
    entries = []
    for signal in SIGNALS:
        waveform = signal.make(signal.num_samples)
        log_mel = waveform_to_padded_log_mel(waveform)
        waveform.astype(GOLDEN_DTYPE).tofile(directory / f"{signal.name}{WAVE_SUFFIX}")
        log_mel.astype(GOLDEN_DTYPE).tofile(directory / f"{signal.name}{LOG_MEL_SUFFIX}")
        entries.append(
            {
                "name": signal.name,
                "num_samples": int(waveform.shape[0]),
                "num_frames": int(log_mel.shape[0]),
                "padded": bool(waveform.shape[0] < MIN_SAMPLES),
                "description": signal.description,
            }
        )
    index = {
        "preprocessor_version": PREPROCESSOR_VERSION,
        "sample_rate": SAMPLE_RATE,
        "num_mel_bands": NUM_MEL_BANDS,
        "format": (
            f"NAME{WAVE_SUFFIX}: raw little-endian float32 samples at {SAMPLE_RATE} Hz; "
            f"NAME{LOG_MEL_SUFFIX}: raw little-endian float32, row-major "
            f"(num_frames, {NUM_MEL_BANDS}), log-mel of the waveform after zero-padding "
            f"to at least {MIN_SAMPLES} samples"
        ),
        "signals": entries,
    }
    (directory / INDEX_FILE).write_text(json.dumps(index, indent=2) + "\n")
    return entries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate the reference golden vectors.")
    parser.add_argument("--out", type=Path, default=GOLDEN_DIR, help="output directory")
    args = parser.parse_args(argv)
    for entry in write_golden(args.out):
        print(f"{entry['name']}: {entry['num_samples']} samples -> {entry['num_frames']} frames")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
