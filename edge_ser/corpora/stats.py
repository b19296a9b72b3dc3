"""What a corpus scan holds: clips per label and per speaker, and, from the audio headers
(nothing is decoded), durations, sample rates, channel counts and formats.

Every problem is listed: files the corpus adapter skipped (with the reason) and files whose
header cannot be read or that hold no samples.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from edge_ser.corpora.base import CorpusScan
from edge_ser.labels import CANONICAL_LABELS


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
        "audio": _header_stats(scan, problems, progress) if probe else None,
        "problems": problems,
    }
    return summary


def _header_stats(
    scan: CorpusScan, problems: list[dict[str, str]], progress: bool
) -> dict[str, Any]:
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
