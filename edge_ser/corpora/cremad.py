"""CREMA-D: ``1001_DFA_ANG_XX.wav`` = speaker, sentence, emotion, intensity."""

from __future__ import annotations

import re
from pathlib import Path

from edge_ser.corpora.base import Clip, Skipped

NAME = "cremad"

_PATTERN = re.compile(r"^(\d{4})_([A-Z]{3})_([A-Z]{3})_([A-Z]{2})$")
_EMOTIONS = {
    "ANG": "angry",
    "DIS": "disgust",
    "FEA": "fearful",
    "HAP": "happy",
    "NEU": "neutral",
    "SAD": "sad",
}
_INTENSITIES = {"LO": "low", "MD": "medium", "HI": "high", "XX": "unspecified"}


def parse(path: Path, root: Path) -> Clip | Skipped:
    """The clip a CREMA-D file name describes, or why it does not describe one."""
    match = _PATTERN.match(path.stem.upper())
    if not match:
        return Skipped(path, "name does not follow the CREMA-D pattern 1001_DFA_ANG_XX")
    speaker, sentence, emotion, intensity = match.groups()
    if emotion not in _EMOTIONS:
        return Skipped(path, f"unknown CREMA-D emotion code {emotion}")
    if intensity not in _INTENSITIES:
        return Skipped(path, f"unknown CREMA-D intensity code {intensity}")
    return Clip(
        path=path,
        label=_EMOTIONS[emotion],
        speaker=f"{NAME}:{speaker}",
        corpus=NAME,
        extra={"sentence": sentence, "intensity": _INTENSITIES[intensity]},
    )
