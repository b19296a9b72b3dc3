"""Would a cheaper soxr quality change what edge-ser predicts, and how much time would it save?

For every clip of a corpus, the audio is resampled to 16 kHz with each soxr quality and run
through the bundled int8 model (one thread); the clip labels and window labels are compared
with those of ``edge_ser.audio.RESAMPLER_QUALITY``. Then decoding and resampling of one long
recording are timed apart (median of ``--repeats``, one thread).

    python benchmarks/resampler.py ../shared/data/ravdess-speech-actors01-20 \\
        --recording long48k.flac --json benchmarks/resampler.json
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402

from edge_ser import audio, corpora  # noqa: E402
from edge_ser.recognizer import Recognizer  # noqa: E402
from edge_ser.reference_preprocess import params, waveform_to_patches  # noqa: E402

QUALITIES = ("VHQ", "HQ", "MQ", "LQ", "QQ")


def predictions(recognizer: Recognizer, data_dir: Path) -> dict[str, list[np.ndarray]]:
    """Window probabilities of every clip, per soxr quality."""
    result: dict[str, list[np.ndarray]] = {q: [] for q in QUALITIES}
    for clip in corpora.discover(data_dir).clips:
        samples, rate = sf.read(clip.path, dtype="float32", always_2d=True)
        mono = samples.mean(axis=1)
        for quality in QUALITIES:
            resampled = np.clip(soxr.resample(mono, rate, params.SAMPLE_RATE, quality), -1, 1)
            patches = waveform_to_patches(resampled)[..., np.newaxis]
            result[quality].append(recognizer.runtime.predict_patches(patches))
    return result


def compare(result: dict[str, list[np.ndarray]]) -> dict:
    reference = result[audio.RESAMPLER_QUALITY]
    rows = {}
    for quality, probs in result.items():
        rows[quality] = {
            "clips": len(probs),
            "clip_labels_changed": sum(
                int(a.mean(0).argmax() != b.mean(0).argmax())
                for a, b in zip(reference, probs, strict=True)
            ),
            "windows": sum(len(a) for a in probs),
            "window_labels_changed": sum(
                int((a.argmax(1) != b.argmax(1)).sum())
                for a, b in zip(reference, probs, strict=True)
            ),
            "max_abs_probability_diff": max(
                float(np.abs(a - b).max()) for a, b in zip(reference, probs, strict=True)
            ),
        }
    return rows


def median_seconds(call, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def timings(recording: Path, repeats: int) -> dict:
    samples, rate = sf.read(recording, dtype="float32")
    seconds = {"decode": median_seconds(lambda: sf.read(recording, dtype="float32"), repeats)}
    for quality in QUALITIES:
        seconds[f"resample {quality}"] = median_seconds(
            lambda q=quality: soxr.resample(samples, rate, params.SAMPLE_RATE, q), repeats
        )
    seconds["iter_blocks (decode + streamed resample)"] = median_seconds(
        lambda: sum(len(b) for b in audio.iter_blocks(recording)), repeats
    )
    return {"audio_seconds": len(samples) / rate, "rate_hz": rate, "median_seconds": seconds}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--recording", type=Path, required=True, help="a long file to time")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    recognizer = Recognizer.load(num_threads=1)
    report = {
        "model": recognizer.source,
        "reference_quality": audio.RESAMPLER_QUALITY,
        "predictions": compare(predictions(recognizer, args.data_dir)),
        "timing": timings(args.recording, args.repeats),
    }
    text = json.dumps(report, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text + "\n")


if __name__ == "__main__":
    main()
