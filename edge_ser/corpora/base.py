"""Records shared by every corpus adapter: clips, skipped files, scans and label synonyms."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import soundfile

from edge_ser.labels import CANONICAL_LABELS

# File name extensions of the libsndfile formats edge_ser.audio decodes (MP3 needs libsndfile
# 1.1 or later): what folders are searched for.
_FORMAT_EXTENSIONS = {
    "WAV": (".wav",),
    "FLAC": (".flac",),
    "OGG": (".ogg", ".oga", ".opus"),
    "MP3": (".mp3",),
    "AIFF": (".aif", ".aiff", ".aifc"),
    "AU": (".au", ".snd"),
    "CAF": (".caf",),
    "W64": (".w64",),
    "RF64": (".rf64",),
}
AUDIO_EXTENSIONS: tuple[str, ...] = tuple(
    sorted(
        extension
        for name, extensions in _FORMAT_EXTENSIONS.items()
        if name in soundfile.available_formats()
        for extension in extensions
    )
)
UNKNOWN_SPEAKER = "unknown"

# Emotion names as corpora and users spell them (lower case, "_" between words).
LABEL_SYNONYMS: dict[str, str] = {
    **{label: label for label in CANONICAL_LABELS},
    "happiness": "happy",
    "joy": "happy",
    "sadness": "sad",
    "anger": "angry",
    "fear": "fearful",
    "disgusted": "disgust",
    "surprise": "surprised",
    "pleasant_surprise": "surprised",
    "pleasant_surprised": "surprised",
}


@dataclass(frozen=True)
class Clip:
    """One labelled audio file.

    ``label`` is canonical (``edge_ser.labels.CANONICAL_LABELS``); ``speaker`` identifies
    the talker across the corpus (``"ravdess:01"``), or is ``UNKNOWN_SPEAKER``; ``extra``
    holds corpus-specific facts (intensity, statement, gender, ...).
    """

    path: Path
    label: str
    speaker: str
    corpus: str
    extra: dict[str, Any] = field(default_factory=dict, hash=False)

    def __post_init__(self) -> None:
        if self.label not in CANONICAL_LABELS:
            raise ValueError(f"{self.label!r} is not a canonical label {CANONICAL_LABELS}")


@dataclass(frozen=True)
class Skipped:
    """A file (or manifest row) that is not used, and why."""

    path: Path
    reason: str


@dataclass
class CorpusScan:
    """The result of scanning a data directory with one adapter.

    ``corpus`` is the adapter used and ``auto_detected`` tells whether it was chosen by
    ``discover(..., corpus="auto")``. ``clips`` and ``skipped`` are sorted by path.
    """

    corpus: str
    root: Path
    clips: list[Clip]
    skipped: list[Skipped]
    auto_detected: bool = False


def canonical_label(name: str) -> str | None:
    """The canonical label for an emotion name or synonym (any case, ``-``/space/``_``)."""
    key = "_".join(name.strip().lower().replace("-", " ").replace("_", " ").split())
    return LABEL_SYNONYMS.get(key)


def audio_files(root: Path, others: list[Path] | None = None) -> list[Path]:
    """Audio files (``AUDIO_EXTENSIONS``, any case) under ``root``, sorted.

    Hidden files and folders (``.name``, e.g. macOS ``._clip.wav`` resource forks) are
    ignored; symbolic links to folders are followed, each real folder visited once (so a
    corpus assembled from links works and a link cycle cannot loop). The other files found
    are appended to ``others`` when it is given.
    """
    found = []
    visited: set[str] = set()
    for folder, subfolders, names in os.walk(root, followlinks=True):
        real = os.path.realpath(folder)
        if real in visited:
            subfolders[:] = []
            continue
        visited.add(real)
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            if name.startswith("."):
                continue
            if Path(name).suffix.lower() in AUDIO_EXTENSIONS:
                found.append(Path(folder) / name)
            elif others is not None:
                others.append(Path(folder) / name)
    return sorted(found)
