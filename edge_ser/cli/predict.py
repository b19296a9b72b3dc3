"""`edge-ser predict`."""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from edge_ser.cli.common import existing_path, print_json, show_progress
from edge_ser.errors import EdgeSerError

HELP = "predict the emotion of audio files and folders, per clip and per window"

ARTIFACT_SUFFIXES = (".tflite", ".mlpackage", ".mlmodel")
# A file this many windows long (about 10 s) gets a note that --timeline exists.
TIMELINE_HINT_WINDOWS = 20

EPILOG = """\
Windows: window i covers [i * HOP, i * HOP + 0.975 s) of the audio resampled to 16 kHz; the
clip's probabilities are the mean of its windows' that are not silence. A window is silence
when its mean log-mel is more than 2.0 (about 8.7 dB) below the loudest window's, or when its
first or last 0.24 s holds no frame within 30 dB of the loudest frame; --timeline labels it
`silence`. The default hop, 0.48 s (48 frames of
10 ms), is what `edge-ser evaluate` uses; --window-hop takes any multiple of 0.01 s (a hop
above 0.96 s leaves gaps between windows). Audio shorter than one window is zero-padded to
one window and reported as padded. An unreadable file prints `error: FILE: REASON` on stderr;
the other files are still predicted and the exit code is 2.
"""


def configure(parser: argparse.ArgumentParser) -> None:
    parser.epilog = EPILOG
    parser.formatter_class = argparse.RawDescriptionHelpFormatter
    parser.add_argument(
        "paths",
        nargs="+",
        type=Path,
        metavar="PATH",
        help="audio files, or folders searched recursively for audio files (.wav, .flac, "
        ".ogg, .mp3, .aiff and the other formats libsndfile reads)",
    )
    model = parser.add_mutually_exclusive_group()
    model.add_argument(
        "--model",
        type=existing_path,
        help="model directory or its model.keras (Keras), or an export directory (its int8 "
        "TFLite); default: the bundled model's int8 TFLite (its Keras model is "
        "edge_ser/bundled/model.keras)",
    )
    model.add_argument(
        "--artifact",
        type=existing_path,
        help="exported model file: .tflite (labels.txt beside it), .mlpackage or .mlmodel",
    )
    output = parser.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print one JSON object")
    output.add_argument(
        "--csv",
        action="store_true",
        help="print CSV: one row per clip (and per window with --timeline)",
    )
    parser.add_argument(
        "--window-hop",
        type=float,
        default=0.48,
        metavar="SECONDS",
        help="hop between windows, a multiple of 0.01 s (default 0.48)",
    )
    parser.add_argument(
        "--timeline",
        action="store_true",
        help="also print every window's prediction (CSV: one row per window)",
    )


def run(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from edge_ser.audio import AudioError
    from edge_ser.recognizer import Recognizer, hop_frames_from_seconds

    try:
        hop_frames_from_seconds(args.window_hop)
    except ValueError as exc:
        raise EdgeSerError(f"--window-hop: {exc}") from None
    if args.artifact is not None and args.artifact.suffix.lower() not in ARTIFACT_SUFFIXES:
        raise EdgeSerError(
            f"--artifact must be a {', '.join(ARTIFACT_SUFFIXES)} file, got '{args.artifact}'"
        )
    files, failures = _collect(args.paths)
    if not files:
        return 2
    recognizer = Recognizer.load(args.artifact or args.model)
    results = []
    progress = tqdm(files, unit="file", disable=len(files) < 2 or not show_progress())
    for path in progress:
        try:
            results.append(recognizer.predict_file(path, hop_s=args.window_hop))
        except AudioError as exc:
            failures.append((path, exc.reason))
            tqdm.write(f"error: {path}: {exc.reason}", file=sys.stderr)
    if args.json:
        print_json(
            {
                "model": recognizer.source,
                "labels": list(recognizer.labels),
                "window_hop_s": args.window_hop,
                "clips": [r.to_dict(windows=args.timeline) for r in results],
                "errors": [{"path": str(p), "reason": reason} for p, reason in failures],
            }
        )
    elif args.csv:
        _print_csv(results, recognizer.labels, args.timeline)
    else:
        _print_table(results, recognizer.labels, args.timeline, args.window_hop)
        long = [r for r in results if len(r.windows) >= TIMELINE_HINT_WINDOWS]
        if long and not args.timeline:
            print(
                f"note: {long[0].path} spans {len(long[0].windows)} windows; --timeline shows "
                "the emotion of each window",
                file=sys.stderr,
            )
    return 2 if failures else 0


def _collect(paths: list[Path]) -> tuple[list[Path], list[tuple[Path, str]]]:
    """Audio files named or found under the given folders, and the paths that gave none."""
    from edge_ser.corpora import AUDIO_EXTENSIONS, audio_files

    files: list[Path] = []
    failures: list[tuple[Path, str]] = []
    for path in paths:
        if path.is_dir():
            others: list[Path] = []
            found = audio_files(path, others)
            reason = f"folder contains no audio files ({', '.join(AUDIO_EXTENSIONS)})"
            if others:
                names = ", ".join(str(p.relative_to(path)) for p in sorted(others)[:5])
                more = f" and {len(others) - 5} more" if len(others) > 5 else ""
                note = f"skipped {len(others)} files that are not audio: {names}{more}"
                print(f"note: {path}: {note}", file=sys.stderr)
        else:
            found = [path] if path.exists() else []  # the loader reports unreadable files
            reason = "no such file"
        files.extend(found)
        if not found:
            failures.append((path, reason))
            print(f"error: {path}: {reason}", file=sys.stderr)
    return files, failures


def _print_table(results, labels: tuple[str, ...], timeline: bool, hop_s: float) -> None:
    if not results:
        return
    name_width = max(len("file"), *(len(str(r.path)) for r in results))
    widths = [max(len(label), 5) for label in labels]
    probs_header = " ".join(f"{label:>{w}}" for label, w in zip(labels, widths, strict=True))

    def probs(values: dict[str, float]) -> str:
        return " ".join(f"{values[label]:>{w}.3f}" for label, w in zip(labels, widths, strict=True))

    print(f"{'file':<{name_width}} {'seconds':>8} {'emotion':<10} {probs_header}")
    for r in results:
        note = "  (padded to one window)" if r.padded else ""
        print(
            f"{str(r.path):<{name_width}} {r.duration_s:>8.2f} {r.label:<10} "
            f"{probs(r.probabilities)}{note}"
        )
    if not timeline:
        return
    for r in results:
        count = f"{len(r.windows)} window" + ("s" if len(r.windows) != 1 else "")
        print(f"\n{r.path}: {count} of 0.975 s, hop {hop_s:g} s")
        print(f"{'start_s':>9} {'end_s':>9} {'emotion':<10} {probs_header}")
        for w in r.windows:
            print(f"{w.start_s:>9.3f} {w.end_s:>9.3f} {w.label:<10} {probs(w.probabilities)}")


def _print_csv(results, labels: tuple[str, ...], timeline: bool) -> None:
    """Columns: path, window ("clip" or the window index), start_s, end_s, padded, label,
    then one probability column per label. A clip row spans the whole clip."""
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["path", "window", "start_s", "end_s", "padded", "label", *labels])
    for r in results:
        padded = str(r.padded).lower()
        writer.writerow(
            [r.path, "clip", 0.0, r.duration_s, padded, r.label]
            + [f"{r.probabilities[label]:.6f}" for label in labels]
        )
        if timeline:
            for index, w in enumerate(r.windows):
                writer.writerow(
                    [r.path, index, w.start_s, w.end_s, padded, w.label]
                    + [f"{w.probabilities[label]:.6f}" for label in labels]
                )
