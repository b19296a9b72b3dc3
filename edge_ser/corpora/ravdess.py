"""RAVDESS: ``MM-VV-EE-II-SS-RR-AA.(wav|flac)`` speech and song files, speaker = actor AA.

Codes: MM modality (01 audio-video, 02 video-only, 03 audio-only), VV vocal channel
(01 speech, 02 song), EE emotion (01 neutral .. 08 surprised), II intensity (01 normal,
02 strong), SS statement (1, 2), RR repetition (1, 2), AA actor (odd male, even female).
"""

from __future__ import annotations

import re
from pathlib import Path

from edge_ser.corpora.base import Clip, Skipped

NAME = "ravdess"

_PATTERN = re.compile(r"^(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})$")
_MODALITIES = {1: "audio-video", 2: "video-only", 3: "audio-only"}
_VOCAL_CHANNELS = {1: "speech", 2: "song"}
_EMOTIONS = {
    1: "neutral",
    2: "calm",
    3: "happy",
    4: "sad",
    5: "angry",
    6: "fearful",
    7: "disgust",
    8: "surprised",
}
_INTENSITIES = {1: "normal", 2: "strong"}


def parse(path: Path, root: Path) -> Clip | Skipped:
    """The clip a RAVDESS file name describes, or why it does not describe one."""
    match = _PATTERN.match(path.stem)
    if not match:
        return Skipped(path, "name does not follow the RAVDESS pattern MM-VV-EE-II-SS-RR-AA")
    modality, channel, emotion, intensity, statement, repetition, actor = map(int, match.groups())
    fields = (
        ("modality", modality, _MODALITIES),
        ("vocal channel", channel, _VOCAL_CHANNELS),
        ("emotion", emotion, _EMOTIONS),
        ("intensity", intensity, _INTENSITIES),
    )
    for field_name, code, names in fields:
        if code not in names:
            return Skipped(path, f"unknown RAVDESS {field_name} code {code:02d}")
    if actor < 1:
        return Skipped(path, "RAVDESS actor number 00 is not valid")
    return Clip(
        path=path,
        label=_EMOTIONS[emotion],
        speaker=f"{NAME}:{actor:02d}",
        corpus=NAME,
        extra={
            "modality": _MODALITIES[modality],
            "vocal_channel": _VOCAL_CHANNELS[channel],
            "intensity": _INTENSITIES[intensity],
            "statement": statement,
            "repetition": repetition,
            "gender": "male" if actor % 2 else "female",
        },
    )
