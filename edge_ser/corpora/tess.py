"""TESS (Toronto): ``OAF_word_emotion.wav`` in folders such as ``OAF_angry``.

The two speakers are OAF (older) and YAF (younger). ``ps`` and ``pleasant_surprise(d)``
mean surprised. Real copies of TESS are inconsistently named (``OAF_Fear``, ``YAF_sad``
vs ``Sad``, odd emotion parts in file names), so speaker and emotion are read from both
the file name and its folder, case-insensitively: either source alone is enough, and a
file whose name and folder disagree is skipped rather than guessed.
"""

from __future__ import annotations

from pathlib import Path

from edge_ser.corpora.base import Clip, Skipped, canonical_label

NAME = "tess"

SPEAKERS: tuple[str, ...] = ("OAF", "YAF")


def _emotion(tokens: list[str]) -> tuple[str | None, int]:
    """Canonical label at the end of ``tokens`` and how many tokens it spans."""
    for span in (2, 1):
        if len(tokens) >= span:
            name = "_".join(tokens[-span:]).lower()
            label = "surprised" if name == "ps" else canonical_label(name)
            if label:
                return label, span
    return None, 0


def _speaker_and_emotion(name: str) -> tuple[str | None, str | None, list[str]]:
    """Speaker, label and the remaining middle tokens of an ``OAF_..._emotion`` name."""
    tokens = name.split("_")
    speaker = tokens[0].upper() if tokens[0].upper() in SPEAKERS else None
    rest = tokens[1:] if speaker else tokens
    label, span = _emotion(rest)
    return speaker, label, rest[: len(rest) - span] if label else []


def parse(path: Path, root: Path) -> Clip | Skipped:
    """The clip a TESS file's name and folder describe, or why they do not describe one."""
    file_speaker, file_label, words = _speaker_and_emotion(path.stem)
    folder_speaker, folder_label, _ = _speaker_and_emotion(path.parent.name)
    if not folder_speaker:
        folder_label = None  # a folder is a TESS label folder only with its speaker prefix
    speaker = file_speaker or folder_speaker
    if speaker is None:
        return Skipped(path, "no TESS speaker (OAF_ or YAF_) in the file or folder name")
    if file_speaker and folder_speaker and file_speaker != folder_speaker:
        return Skipped(
            path, f"file name says speaker {file_speaker} but folder says {folder_speaker}"
        )
    if file_label and folder_label and file_label != folder_label:
        return Skipped(path, f"file name says {file_label} but folder says {folder_label}")
    label = file_label or folder_label
    if label is None:
        return Skipped(path, "no recognisable emotion in the file or folder name")
    return Clip(
        path=path,
        label=label,
        speaker=f"{NAME}:{speaker}",
        corpus=NAME,
        extra={"word": "_".join(words).lower(), "label_from": "file" if file_label else "folder"},
    )
