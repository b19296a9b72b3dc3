"""What differs between corpora, measured on the model's own input: the reference log-mels.

Per clip, from its log-mel (``log(mel magnitude + 0.01)``, 10 ms frames, 64 bands 125-7500 Hz):

- duration, and the share of frames that are silence: a frame is active when its level
  (log of the summed mel magnitude) is within 30 dB of the clip's loudest frame;
- leading and trailing silence: time before the first and after the last active frame;
- speech level: median level of the active frames (dB, relative units; the same for every
  corpus, so differences are real level differences);
- noise floor: the 10th-percentile frame level, in dB below the loudest frame;
- spectral tilt: slope of a line fitted to the active frames' mean log-mel over the bands'
  centre frequency in octaves (dB per octave);
- share of 96-frame patches (hop 48, as the model sees a clip) that are mostly silence
  (fewer than a quarter of their frames active).

Medians (and 10th-90th percentiles) per corpus, and the median per corpus and label.

Usage::

    python benchmarks/corpus_differences.py [DATA_DIR ...] [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from cross_corpus import DEFAULT_EMODB, DEFAULT_RAVDESS  # noqa: E402

from edge_ser.bench.output import benchmark_main  # noqa: E402
from edge_ser.features import FeatureCache  # noqa: E402
from edge_ser.reference_preprocess import frame_levels_db, mel_band_edges, params  # noqa: E402
from edge_ser.train import load_labelled_clips  # noqa: E402

FRAME_S = params.HOP_LENGTH_SAMPLES / params.SAMPLE_RATE
ACTIVE_DB = 30.0
DB_PER_NEPER = 20 / np.log(10)  # log-mel holds log magnitudes
MEASURES = {
    "duration_s": "duration (s)",
    "silence_share": "silent frames",
    "leading_silence_s": "leading silence (s)",
    "trailing_silence_s": "trailing silence (s)",
    "silent_patch_share": "mostly silent patches",
    "speech_level_db": "speech level (dB)",
    "noise_floor_db": "noise floor (dB below peak)",
    "tilt_db_per_octave": "spectral tilt (dB/octave)",
}


def clip_measures(log_mel: np.ndarray, octaves: np.ndarray) -> dict[str, float]:
    """``MEASURES`` of one clip's ``(frames, 64)`` log-mel."""
    level = frame_levels_db(log_mel)
    active = level > level.max() - ACTIVE_DB
    first, last = np.flatnonzero(active)[[0, -1]]
    patches = [
        active[start : start + params.PATCH_FRAMES].mean() < 0.25
        for start in range(0, len(active) - params.PATCH_FRAMES + 1, params.PATCH_HOP_FRAMES)
    ]
    spectrum = DB_PER_NEPER * log_mel[active].mean(axis=0)
    return {
        "duration_s": len(log_mel) * FRAME_S,
        "silence_share": float(1 - active.mean()),
        "leading_silence_s": first * FRAME_S,
        "trailing_silence_s": (len(active) - 1 - last) * FRAME_S,
        "silent_patch_share": float(np.mean(patches)) if patches else 0.0,
        "speech_level_db": float(np.median(level[active])),
        "noise_floor_db": float(level.max() - np.percentile(level, 10)),
        "tilt_db_per_octave": float(np.polyfit(octaves, spectrum, 1)[0]),
    }


def run_benchmark(args: argparse.Namespace) -> dict:
    data, _ = load_labelled_clips(args.data_dirs, cache=FeatureCache(), progress=False)
    edges = mel_band_edges()
    centres_hz = 700 * np.expm1(edges[1:-1] / params.MEL_HIGH_FREQUENCY_Q)
    octaves = np.log2(centres_hz / 1000)
    rows = [clip_measures(m, octaves) for m in data.log_mels]
    report: dict = {"data_dirs": [str(d) for d in args.data_dirs], "corpora": {}}
    for name in data.corpora:
        members = [i for i, c in enumerate(data.clips) if c.corpus == name]
        report["corpora"][name] = {
            "n_clips": len(members),
            "overall": _spread([rows[i] for i in members]),
            "per_label": {
                label: {
                    key: float(
                        np.median([rows[i][key] for i in members if data.clips[i].label == label])
                    )
                    for key in MEASURES
                }
                for label in data.corpus_labels[name]
            },
        }
    return report


def _spread(rows: list[dict]) -> dict:
    return {
        key: {
            "median": float(np.median([r[key] for r in rows])),
            "p10": float(np.percentile([r[key] for r in rows], 10)),
            "p90": float(np.percentile([r[key] for r in rows], 90)),
        }
        for key in MEASURES
    }


def to_markdown(report: dict) -> str:
    names = list(report["corpora"])
    lines = [
        "# What differs between corpora",
        "",
        "Measured on the reference log-mels (the model's input) of every clip; median "
        "(10th-90th percentile). Active frames: within 30 dB of the clip's loudest frame.",
        "",
        "| measure | "
        + " | ".join(f"{n} ({report['corpora'][n]['n_clips']} clips)" for n in names)
        + " |",
        "|---|" + "---:|" * len(names),
    ]
    for key, text in MEASURES.items():
        cells = []
        for name in names:
            s = report["corpora"][name]["overall"][key]
            cells.append(f"{s['median']:.2f} ({s['p10']:.2f}-{s['p90']:.2f})")
        lines.append(f"| {text} | " + " | ".join(cells) + " |")
    for name in names:
        per_label = report["corpora"][name]["per_label"]
        lines += [
            "",
            f"Median per label, {name}:",
            "",
            "| label | " + " | ".join(MEASURES.values()) + " |",
            "|---|" + "---:|" * len(MEASURES),
        ]
        for label, values in per_label.items():
            lines.append(f"| {label} | " + " | ".join(f"{values[k]:.2f}" for k in MEASURES) + " |")
    lines += [
        "",
        "Reproduce: `python benchmarks/corpus_differences.py --markdown "
        "benchmarks/corpus-differences.md --json benchmarks/corpus-differences.json`.",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "data_dirs",
        nargs="*",
        type=Path,
        default=[DEFAULT_RAVDESS, DEFAULT_EMODB],
        metavar="DATA_DIR",
    )
    return benchmark_main(parser, run_benchmark, to_markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
