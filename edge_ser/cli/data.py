"""`edge-ser data`: what a data directory holds and what is wrong with it.

Counts clips per label and per speaker, and, from the audio headers (nothing is decoded),
durations, sample rates, channel counts and formats. Every problem is listed: files the
corpus adapter skipped (with the reason) and files whose header cannot be read or that
hold no samples. Problems do not change the exit code; a missing or empty directory, or
one without recognisable clips, is an error (exit 2).
"""

from __future__ import annotations

import argparse
import textwrap
from collections import Counter
from typing import Any

from edge_ser.cli.common import add_corpus_argument, add_json_argument, print_json, show_progress
from edge_ser.corpora import CorpusScan, discover
from edge_ser.labels import CANONICAL_LABELS

HELP = "summarise a data directory: clips per label and speaker, durations, formats, problems."


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "data_dir", metavar="DATA_DIR", help="folder of audio files, or a CSV manifest"
    )
    add_corpus_argument(parser)
    add_json_argument(parser)
    parser.add_argument(
        "--no-probe",
        action="store_true",
        help="do not read audio headers (no durations, rates or unreadable-file checks)",
    )


def run(args: argparse.Namespace) -> int:
    scan = discover(args.data_dir, args.corpus)
    summary = summarise(scan, probe=not args.no_probe, progress=show_progress())
    if args.json:
        print_json(summary)
    else:
        print(render(summary))
    return 0


def summarise(scan: CorpusScan, probe: bool = True, progress: bool = False) -> dict[str, Any]:
    """JSON-ready summary of a scan; with ``probe``, each clip's header is read."""
    labels = Counter(clip.label for clip in scan.clips)
    speakers = Counter(clip.speaker for clip in scan.clips)
    problems = [
        {"path": str(item.path), "problem": "skipped", "reason": item.reason}
        for item in scan.skipped
    ]
    summary: dict[str, Any] = {
        "data_dir": str(scan.root),
        "corpus": scan.corpus,
        "auto_detected": scan.auto_detected,
        "num_clips": len(scan.clips),
        "num_skipped": len(scan.skipped),
        "num_speakers": len(speakers),
        "labels": {label: labels[label] for label in CANONICAL_LABELS if labels[label]},
        "missing_labels": [label for label in CANONICAL_LABELS if not labels[label]],
        "speakers": dict(sorted(speakers.items())),
        "audio": _probe(scan, problems, progress) if probe else None,
        "problems": problems,
    }
    return summary


def _probe(scan: CorpusScan, problems: list[dict[str, str]], progress: bool) -> dict[str, Any]:
    """Header statistics of the scan's clips; unreadable and empty files go to ``problems``."""
    from tqdm import tqdm

    from edge_ser import audio

    durations: list[float] = []
    rates: Counter[int] = Counter()
    channels: Counter[int] = Counter()
    formats: Counter[str] = Counter()
    for clip in tqdm(scan.clips, desc="reading headers", unit="file", disable=not progress):
        try:
            header = audio.info(clip.path)
        except audio.AudioError as exc:
            problems.append({"path": str(clip.path), "problem": "unreadable", "reason": exc.reason})
            continue
        if header.frames == 0:
            reason = "the file holds 0 frames"
            problems.append({"path": str(clip.path), "problem": "no samples", "reason": reason})
            continue
        durations.append(header.duration_s)
        rates[header.sample_rate] += 1
        channels[header.channels] += 1
        formats[f"{header.format}/{header.subtype}"] += 1
    return {
        "num_readable": len(durations),
        "total_duration_s": sum(durations),
        "min_duration_s": min(durations, default=None),
        "max_duration_s": max(durations, default=None),
        "sample_rates": {str(rate): n for rate, n in sorted(rates.items())},
        "channels": {str(count): n for count, n in sorted(channels.items())},
        "formats": dict(sorted(formats.items())),
    }


def render(summary: dict[str, Any]) -> str:
    """The human-readable report of a ``summarise`` result."""
    detected = " (auto-detected)" if summary["auto_detected"] else ""
    lines = [
        f"data: {summary['data_dir']}",
        f"corpus: {summary['corpus']}{detected}",
        f"clips: {summary['num_clips']} from {summary['num_speakers']} speakers "
        f"({summary['num_skipped']} files skipped)",
        "",
        "clips per label:",
        *(f"  {label:<10} {count:>6}" for label, count in summary["labels"].items()),
    ]
    if summary["missing_labels"]:
        lines.append(f"  no clips for: {', '.join(summary['missing_labels'])}")
    speakers = ", ".join(f"{name}={count}" for name, count in summary["speakers"].items())
    lines += [
        "",
        "clips per speaker:",
        textwrap.fill(speakers, 96, initial_indent="  ", subsequent_indent="  "),
    ]
    audio_summary = summary["audio"]
    if audio_summary is not None:
        lines += ["", f"audio headers: {audio_summary['num_readable']} readable"]
        if audio_summary["num_readable"]:
            lines.append(
                f"  duration: total {_hours(audio_summary['total_duration_s'])}, "
                f"min {audio_summary['min_duration_s']:.2f} s, "
                f"max {audio_summary['max_duration_s']:.2f} s"
            )
        for key, title, unit in (
            ("sample_rates", "sample rates", " Hz"),
            ("channels", "channels", ""),
            ("formats", "formats", ""),
        ):
            counts = ", ".join(f"{value}{unit} x{n}" for value, n in audio_summary[key].items())
            lines.append(f"  {title}: {counts or '-'}")
    problems = summary["problems"]
    lines += ["", f"problems: {len(problems) or 'none'}"]
    lines += [f"  {item['problem']}: {item['path']}: {item['reason']}" for item in problems]
    return "\n".join(lines)


def _hours(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s"
