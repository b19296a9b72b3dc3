"""MediaPipe's ``AudioClassifier`` on real clips: parity with LiteRT, and what its windowing
does to clip labels.

For every clip of the chosen speakers (decoded to 16 kHz mono by ``edge_ser.audio.load``) and
each waveform-in TFLite file of an export directory:

- **parity**: edge-ser's windows (15600 samples every 0.48 s) scored by MediaPipe's Python
  ``AudioClassifier`` and by the LiteRT interpreter; the largest absolute difference;
- **windowing**: the clip label edge-ser gives (mean of its overlapping windows that are not
  silence, as ``predict``) against the one an app gets by handing MediaPipe the whole clip,
  which cuts back-to-back 15600-sample windows, the last one zero-padded, and averaging all of
  them; agreement of the two, and the accuracy and UAR of each against the corpus labels.

Needs the ``mediapipe`` extra. Usage::

    edge-ser export --out dist --waveform
    python benchmarks/mediapipe_windowing.py dist [DATA_DIR] [--speakers ravdess:17 ...]
        [--json PATH] [--markdown PATH]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from edge_ser import audio, corpora
from edge_ser.aggregate import clip_probabilities
from edge_ser.bench.output import benchmark_main
from edge_ser.errors import EdgeSerError
from edge_ser.metrics import score
from edge_ser.recognizer import input_levels
from edge_ser.reference_preprocess import params, silent_windows
from edge_ser.runtimes import mediapipe_runtime
from edge_ser.runtimes.litert_runtime import LiteRTRuntime
from edge_ser.windows import waveform_windows

DEFAULT_DATA = (
    Path(__file__).resolve().parents[2] / "shared" / "data" / "ravdess-speech-actors01-20"
)
DEFAULT_SPEAKERS = ("ravdess:17", "ravdess:18", "ravdess:19", "ravdess:20")
MODELS = ("emotion_waveform_int8.tflite", "emotion_waveform_float32.tflite")


def _model_rows(path: Path, labels: tuple[str, ...], clips: list, waveforms: list) -> dict:
    litert = LiteRTRuntime(path, labels)
    mediapipe = mediapipe_runtime.MediaPipeAudioRuntime(path, labels)
    worst, windows = 0.0, 0
    edge_ser_labels, mediapipe_labels, mediapipe_windows = [], [], 0
    for waveform in waveforms:
        inputs = waveform_windows(waveform)
        ours = litert.predict_patches(inputs)
        theirs = mediapipe.predict_patches(inputs)
        worst = max(worst, float(np.abs(ours - theirs).max()))
        windows += len(ours)
        whole = mediapipe.classify_clip(waveform)
        mediapipe_windows += len(whole)
        clip = clip_probabilities(ours, silent_windows(input_levels(inputs)))
        edge_ser_labels.append(int(clip.argmax()))
        mediapipe_labels.append(int(whole.mean(0).argmax()))
    mediapipe.close()
    targets = [labels.index(clip.label) for clip in clips]
    ours_score = score(targets, edge_ser_labels, labels)
    theirs_score = score(targets, mediapipe_labels, labels)
    return {
        "windows": windows,
        "max_abs_diff_vs_litert": worst,
        "mediapipe_windows": mediapipe_windows,
        "clip_label_agreement": float(np.mean(np.equal(edge_ser_labels, mediapipe_labels))),
        "edge_ser_windowing": {"accuracy": ours_score.accuracy, "uar": ours_score.uar},
        "mediapipe_windowing": {"accuracy": theirs_score.accuracy, "uar": theirs_score.uar},
    }


def run_benchmark(args: argparse.Namespace) -> dict:
    if not mediapipe_runtime.available():
        raise EdgeSerError("mediapipe is not installed: pip install -e '.[mediapipe]'")
    labels = tuple((args.dist / "labels.txt").read_text().split())
    scan = corpora.discover(args.data_dir)
    speakers = set(args.speakers)
    clips = [c for c in scan.clips if c.label in labels and (not speakers or c.speaker in speakers)]
    if not clips:
        raise EdgeSerError(f"no clips of speakers {', '.join(args.speakers)} in {args.data_dir}")
    waveforms = [audio.load(c.path, target_sr=params.SAMPLE_RATE) for c in clips]
    models = {
        name: _model_rows(args.dist / name, labels, clips, waveforms)
        for name in MODELS
        if (args.dist / name).is_file()
    }
    if not models:
        raise EdgeSerError(f"{args.dist} has no waveform-in TFLite file (export --waveform)")
    return {
        "data_dir": str(args.data_dir),
        "speakers": sorted(speakers),
        "clips": len(clips),
        "seconds": round(sum(len(w) for w in waveforms) / params.SAMPLE_RATE, 1),
        "models": models,
    }


def to_markdown(report: dict) -> str:
    lines = [
        f"MediaPipe AudioClassifier on {report['clips']} clips ({report['seconds']} s) of "
        f"{', '.join(report['speakers']) or report['data_dir']}\n",
        "| model | edge-ser windows | max abs diff vs LiteRT | MediaPipe windows | "
        "clip labels agree | accuracy / UAR, edge-ser windowing | MediaPipe windowing |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, m in report["models"].items():
        ours, theirs = m["edge_ser_windowing"], m["mediapipe_windowing"]
        lines.append(
            f"| {name} | {m['windows']} | {m['max_abs_diff_vs_litert']:.1e} | "
            f"{m['mediapipe_windows']} | {m['clip_label_agreement']:.3f} | "
            f"{ours['accuracy']:.3f} / {ours['uar']:.3f} | "
            f"{theirs['accuracy']:.3f} / {theirs['uar']:.3f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("dist", type=Path, help="export directory with waveform-in TFLite files")
    parser.add_argument("data_dir", nargs="?", type=Path, default=DEFAULT_DATA, metavar="DATA_DIR")
    parser.add_argument(
        "--speakers", nargs="*", default=list(DEFAULT_SPEAKERS), help="empty: every speaker"
    )
    return benchmark_main(parser, run_benchmark, to_markdown, argv)


if __name__ == "__main__":
    raise SystemExit(main())
