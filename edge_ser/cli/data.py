"""`edge-ser data`: what a data directory holds and what is wrong with it.

Prints the statistics of ``edge_ser.corpora.stats.summarise``: clips per label and per
speaker, header statistics and every problem found. Problems do not change the exit code;
a missing or empty directory, or one without recognisable clips, is an error (exit 2).
"""

from __future__ import annotations

import argparse
import textwrap
from typing import Any

from edge_ser.cli.common import add_corpus_argument, add_json_argument, print_json, show_progress
from edge_ser.corpora import discover
from edge_ser.corpora.stats import summarise

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
