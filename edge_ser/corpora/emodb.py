"""EMO-DB (Berlin): ``03a01Fa.wav`` = speaker 03, text a01, emotion letter F, version a.

Emotion letters (German): W Wut/anger, L Langeweile/boredom, E Ekel/disgust, A Angst/fear,
F Freude/happiness, T Trauer/sadness, N neutral. Boredom has no canonical label, so those
files are skipped with that reason.
"""

from __future__ import annotations

import re
from pathlib import Path

from edge_ser.corpora.base import Clip, Skipped

NAME = "emodb"

_PATTERN = re.compile(r"^(\d{2})([a-z]\d{2})([A-Z])([a-z])$")
_EMOTIONS = {
    "W": "angry",
    "E": "disgust",
    "A": "fearful",
    "F": "happy",
    "T": "sad",
    "N": "neutral",
}
_NON_CANONICAL = {"L": "boredom"}


def parse(path: Path, root: Path) -> Clip | Skipped:
    """The clip an EMO-DB file name describes, or why it does not describe one."""
    match = _PATTERN.match(path.stem)
    if not match:
        return Skipped(path, "name does not follow the EMO-DB pattern 03a01Fa")
    speaker, text, emotion, version = match.groups()
    if emotion in _NON_CANONICAL:
        return Skipped(
            path, f"EMO-DB emotion {emotion} ({_NON_CANONICAL[emotion]}) has no canonical label"
        )
    if emotion not in _EMOTIONS:
        return Skipped(path, f"unknown EMO-DB emotion code {emotion}")
    return Clip(
        path=path,
        label=_EMOTIONS[emotion],
        speaker=f"{NAME}:{speaker}",
        corpus=NAME,
        extra={"text": text, "version": version},
    )
