"""Small generated audio files for tests: every format edge-ser reads, and broken ones.

Import from any test module (pytest puts ``tests/`` on ``sys.path``)::

    from audio_factory import write_tone, write_tree, ravdess_name

Writers create missing parent folders and return what they wrote, so tests can compare a
loader's output with the exact signal on disk (up to ``QUANTISATION_STEP`` of the subtype).
"""

from __future__ import annotations

import struct
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

# Name -> (libsndfile format, subtype).
KINDS: dict[str, tuple[str, str]] = {
    "wav_u8": ("WAV", "PCM_U8"),
    "wav_16": ("WAV", "PCM_16"),
    "wav_24": ("WAV", "PCM_24"),
    "wav_32": ("WAV", "PCM_32"),
    "wav_float": ("WAV", "FLOAT"),
    "wav_double": ("WAV", "DOUBLE"),
    "flac_16": ("FLAC", "PCM_16"),
    "flac_24": ("FLAC", "PCM_24"),
    "ogg": ("OGG", "VORBIS"),
    "aiff_16": ("AIFF", "PCM_16"),
}
# Largest decode error of a full-scale sample stored in each subtype (Vorbis is lossy).
QUANTISATION_STEP: dict[str, float] = {
    "PCM_U8": 2.0**-7,
    "PCM_16": 2.0**-15,
    "PCM_24": 2.0**-23,
    "PCM_32": 2.0**-31,
    "FLOAT": 2.0**-24,
    "DOUBLE": 0.0,
}
# Default kind for a file extension.
KIND_FOR_EXTENSION: dict[str, str] = {
    ".wav": "wav_16",
    ".flac": "flac_16",
    ".ogg": "ogg",
    ".aiff": "aiff_16",
}


def tone(
    seconds: float = 1.0,
    sample_rate: int = 16000,
    frequency: float = 440.0,
    amplitude: float = 0.5,
    channels: int = 1,
) -> np.ndarray:
    """A sine tone, float64, shape ``(n,)`` for mono or ``(n, channels)``.

    Channel ``c`` is phase-shifted by ``c * pi / 3`` so that channels differ and a
    downmix is not a copy of any one channel.
    """
    t = np.arange(round(seconds * sample_rate)) / sample_rate
    phases = np.arange(channels) * np.pi / 3
    data = amplitude * np.sin(2 * np.pi * frequency * t[:, None] + phases[None, :])
    return data[:, 0] if channels == 1 else data


def write_audio(
    path: Path, data: np.ndarray, sample_rate: int = 16000, kind: str | None = None
) -> Path:
    """Write ``data`` (``(n,)`` or ``(n, channels)``) as ``kind`` (default from the suffix)."""
    path = Path(path)
    file_format, subtype = KINDS[kind or KIND_FOR_EXTENSION[path.suffix.lower()]]
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, sample_rate, format=file_format, subtype=subtype)
    return path


def write_tone(
    path: Path,
    seconds: float = 1.0,
    sample_rate: int = 16000,
    kind: str | None = None,
    channels: int = 1,
    frequency: float = 440.0,
    amplitude: float = 0.5,
) -> np.ndarray:
    """Write a ``tone`` to ``path`` and return the float64 samples before encoding."""
    data = tone(seconds, sample_rate, frequency, amplitude, channels)
    write_audio(path, data, sample_rate, kind)
    return data


def write_tree(
    root: Path,
    relative_paths: Iterable[str],
    seconds: float = 0.25,
    sample_rate: int = 16000,
) -> list[Path]:
    """Write a short tone at each ``root / relative_path`` (kind from its extension).

    Each file gets its own frequency so that files differ; returns the paths written.
    """
    written = []
    for index, relative in enumerate(relative_paths):
        frequency = 200.0 + 25.0 * (index % 40)
        path = Path(root) / relative
        write_tone(path, seconds=seconds, sample_rate=sample_rate, frequency=frequency)
        written.append(path)
    return written


def ravdess_name(
    emotion: int,
    actor: int,
    intensity: int = 1,
    statement: int = 1,
    repetition: int = 1,
    modality: int = 3,
    vocal_channel: int = 1,
    extension: str = "wav",
) -> str:
    """A RAVDESS file name ``MM-VV-EE-II-SS-RR-AA.ext`` (emotion 1 neutral .. 8 surprised)."""
    codes = (modality, vocal_channel, emotion, intensity, statement, repetition, actor)
    return "-".join(f"{code:02d}" for code in codes) + f".{extension}"


def write_empty(path: Path) -> Path:
    """A zero-byte file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


def write_not_audio(path: Path) -> Path:
    """A text file (whatever the suffix says)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("this is a text file, not audio\n" * 20)
    return path


def write_truncated(path: Path, keep_fraction: float = 0.5, seconds: float = 1.0) -> Path:
    """A valid tone file (kind from the suffix) cut to ``keep_fraction`` of its bytes."""
    path = Path(path)
    write_tone(path, seconds=seconds)
    data = path.read_bytes()
    path.write_bytes(data[: int(len(data) * keep_fraction)])
    return path


def write_zero_samples(path: Path, sample_rate: int = 16000) -> Path:
    """A valid file (kind from the suffix) holding no frames."""
    return write_audio(path, np.zeros(0, dtype=np.float32), sample_rate)


def write_with_value(
    path: Path, index: int, value: float, seconds: float = 1.0, sample_rate: int = 16000
) -> np.ndarray:
    """A float WAV tone with sample ``index`` set to ``value`` (e.g. NaN, inf, 1.5)."""
    data = tone(seconds, sample_rate)
    data[index] = value
    write_audio(path, data, sample_rate, "wav_float")
    return data


def set_wav_data_size(path: Path, size: int) -> Path:
    """Overwrite the size field of a WAV file's ``data`` chunk (e.g. ``0xFFFFFFFF``)."""
    path = Path(path)
    data = bytearray(path.read_bytes())
    at = data.find(b"data")
    data[at + 4 : at + 8] = struct.pack("<I", size)
    path.write_bytes(bytes(data))
    return path
