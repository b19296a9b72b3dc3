"""Robust audio loading: any libsndfile format, channel count and sample rate to 16 kHz mono.

``load`` decodes a whole file, ``iter_blocks`` streams it in blocks (constant memory) and
``info`` reads only the header. Every output is float32 mono in [-1, 1] at ``target_sr``:
channels are averaged, other rates are resampled with soxr (``RESAMPLER_QUALITY``), and
values beyond full scale (possible in float files and as resampler overshoot) are clipped.

Every failure is an ``AudioError`` whose one-line message names the file, e.g.
``cannot read 'x.wav': file is empty (0 bytes)``; no soundfile exception escapes.

Truncated files are rejected, never silently shortened: a WAV whose data chunk declares
more bytes than the file holds (libsndfile would quietly decode the rest) and a file that
stops decoding before the frame count its header declares (e.g. a cut FLAC) both raise
``TruncatedAudioFile``. Formats without a declared length (OGG) cannot be checked; a cut
OGG file yields whatever libsndfile decodes from it.
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from edge_ser.errors import EdgeSerError
from edge_ser.reference_preprocess.params import SAMPLE_RATE

# soxr "very high quality": as fast as "HQ" on speech-length clips (about 1 ms per 3 s clip
# 48 -> 16 kHz, thousands of times real time), so there is no reason to take less.
RESAMPLER_QUALITY = "VHQ"
DEFAULT_BLOCK_SECONDS = 10.0
# Outside these a "sample rate" is a corrupt header, not audio: resampling 1 Hz to 16 kHz
# makes 16000 samples of every frame, 1 GHz to 16 kHz none at all.
MIN_SAMPLE_RATE, MAX_SAMPLE_RATE = 1000, 768000
# ``load`` decodes this many frames at a time, so that memory follows the audio present in
# the file and not the length its header declares (which a corrupt header makes huge).
LOAD_BLOCK_FRAMES = 1 << 20

# RIFF data-chunk sizes that writers use for "length unknown" (streamed, RF64).
_UNKNOWN_RIFF_SIZES = (0, 0xFFFFFFFF)


class AudioError(EdgeSerError):
    """An audio file cannot be used; the message is ``cannot read '<path>': <reason>``."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = Path(path)
        self.reason = reason
        super().__init__(f"cannot read '{path}': {reason}")

    def __reduce__(self) -> tuple[type[AudioError], tuple[Path, str]]:
        return type(self), (self.path, self.reason)  # picklable across worker processes


class AudioFileNotFound(AudioError):
    """The path does not exist."""


class EmptyAudioFile(AudioError):
    """The file has zero bytes."""


class NotAudioFile(AudioError):
    """The file is not audio in any format libsndfile recognises (or is a directory)."""


class UnsupportedAudioFormat(AudioError):
    """The file is audio (MP4/M4A, WebM, ...) in a format or codec libsndfile cannot decode."""


class TruncatedAudioFile(AudioError):
    """The file ends, or stops decoding, before the audio its header declares."""


class NoSamples(AudioError):
    """The file is valid but holds zero audio frames."""


class NonFiniteSamples(AudioError):
    """The file holds NaN or infinite samples (possible in float WAV files)."""


@dataclass(frozen=True)
class AudioInfo:
    """Header facts of an audio file (nothing is decoded).

    ``format`` and ``subtype`` are libsndfile names, e.g. ``"WAV"``/``"PCM_16"``,
    ``"FLAC"``/``"PCM_24"``, ``"OGG"``/``"VORBIS"``.
    """

    path: Path
    sample_rate: int
    channels: int
    frames: int
    duration_s: float
    format: str
    subtype: str


def info(path: str | os.PathLike[str]) -> AudioInfo:
    """Read the header of ``path``.

    Raises the ``AudioError`` subclasses that need no decoding (missing, empty, not audio,
    unsupported, truncated WAV); a file with zero frames is described, not rejected.
    """
    with _open(path) as handle:
        return AudioInfo(
            path=Path(path),
            sample_rate=handle.samplerate,
            channels=handle.channels,
            frames=handle.frames,
            duration_s=handle.frames / handle.samplerate,
            format=handle.format,
            subtype=handle.subtype,
        )


def load(path: str | os.PathLike[str], target_sr: int = SAMPLE_RATE) -> np.ndarray:
    """Decode a whole file to a mono waveform.

    Parameters
    ----------
    path
        WAV (8/16/24/32-bit PCM, float), FLAC, OGG or any other format libsndfile reads.
    target_sr
        Output sample rate in Hz; the file is resampled with soxr when it differs.

    Returns
    -------
    np.ndarray
        float32, shape ``(num_samples,)``, values in [-1, 1], at ``target_sr``.

    Raises
    ------
    AudioError
        One of its subclasses, with a one-line message naming the file.
    """
    _check_rate(target_sr)
    with _open(path) as handle:
        _require_samples(path, handle)
        source_sr = handle.samplerate
        frames = _read_declared(path, handle)
    mono = _to_mono(frames)
    _check_finite(path, mono, offset=0)
    return to_mono_resampled(mono, source_sr, target_sr)


def to_mono_resampled(
    samples: np.ndarray, source_sr: int, target_sr: int = SAMPLE_RATE
) -> np.ndarray:
    """Average the channels of ``(n,)`` or ``(n, channels)`` float samples, resample them to
    ``target_sr`` with soxr and clip to [-1, 1]: what ``load`` does after decoding."""
    samples = np.asarray(samples, dtype=np.float32)
    mono = samples if samples.ndim == 1 else _to_mono(samples)
    if source_sr != target_sr:
        mono = soxr.resample(mono, source_sr, target_sr, quality=RESAMPLER_QUALITY)
    return _clip(mono)


def iter_blocks(
    path: str | os.PathLike[str],
    target_sr: int = SAMPLE_RATE,
    block_seconds: float = DEFAULT_BLOCK_SECONDS,
) -> Iterator[np.ndarray]:
    """Stream a file as consecutive mono blocks without decoding it all at once.

    The file is read ``block_seconds`` at a time (of source audio), downmixed and resampled
    incrementally with ``soxr.ResampleStream``, so memory stays constant for any length.
    The concatenated blocks equal ``load(path, target_sr)`` exactly when no resampling is
    needed, and within float32 rounding of the one-shot resampler otherwise.

    The file's header is checked when this function is called (so a missing or non-audio
    file raises at once); decoding errors (truncation, NaN samples) raise while iterating,
    after the blocks before the fault have been yielded.

    Yields
    ------
    np.ndarray
        float32, shape ``(n,)``, values in [-1, 1], at ``target_sr``; never empty.
    """
    _check_rate(target_sr)
    if not block_seconds > 0:
        raise ValueError(f"block_seconds must be positive, got {block_seconds}")
    with _open(path) as handle:
        _require_samples(path, handle)
    return _blocks(path, target_sr, block_seconds)


def _blocks(
    path: str | os.PathLike[str], target_sr: int, block_seconds: float
) -> Iterator[np.ndarray]:
    with _open(path) as handle:
        source_sr, declared = handle.samplerate, handle.frames
        block_frames = max(1, round(block_seconds * source_sr))
        stream = None
        if source_sr != target_sr:
            stream = soxr.ResampleStream(
                source_sr, target_sr, 1, dtype="float32", quality=RESAMPLER_QUALITY
            )
        decoded = 0
        while decoded < declared:
            frames = _read(path, handle, min(block_frames, declared - decoded))
            if len(frames) == 0:
                raise _stopped_early(path, decoded, declared)
            mono = _to_mono(frames)
            _check_finite(path, mono, offset=decoded)
            decoded += len(frames)
            block = mono if stream is None else stream.resample_chunk(mono, last=False)
            if len(block):
                yield _clip(block)
        if stream is not None:
            tail = stream.resample_chunk(np.zeros(0, dtype=np.float32), last=True)
            if len(tail):
                yield _clip(tail)


def _check_rate(target_sr: int) -> None:
    if int(target_sr) != target_sr or target_sr <= 0:
        raise ValueError(f"target_sr must be a positive integer in Hz, got {target_sr!r}")


def _open(path: str | os.PathLike[str]) -> sf.SoundFile:
    """Open ``path`` for reading after the checks libsndfile reports poorly."""
    try:
        size = os.stat(path).st_size
    except FileNotFoundError:
        raise AudioFileNotFound(path, "no such file") from None
    except OSError as exc:
        raise AudioError(path, exc.strerror or str(exc)) from None
    if os.path.isdir(path):
        raise NotAudioFile(path, "is a directory, not an audio file")
    if size == 0:
        raise EmptyAudioFile(path, "file is empty (0 bytes)")
    try:
        with open(path, "rb") as raw:
            head = raw.read(12)
            shortfall = _riff_shortfall(raw, head, size)
    except OSError as exc:
        raise AudioError(path, exc.strerror or str(exc)) from None
    if shortfall:
        raise TruncatedAudioFile(path, f"file is truncated: {shortfall}")
    try:
        handle = sf.SoundFile(path)
    except sf.LibsndfileError as exc:
        detail = exc.error_string.rstrip(".")
        container = _audio_container(head)
        if container:
            raise UnsupportedAudioFormat(
                path, f"{container} audio that libsndfile cannot decode ({detail})"
            ) from None
        raise NotAudioFile(path, f"not a recognised audio file (libsndfile: {detail})") from None
    except (RuntimeError, TypeError, ValueError) as exc:
        raise AudioError(path, str(exc).splitlines()[0]) from None
    if not MIN_SAMPLE_RATE <= handle.samplerate <= MAX_SAMPLE_RATE:
        handle.close()
        raise UnsupportedAudioFormat(
            path,
            f"sample rate {handle.samplerate} Hz is outside "
            f"{MIN_SAMPLE_RATE}..{MAX_SAMPLE_RATE} Hz",
        )
    return handle


def _riff_shortfall(raw, head: bytes, size: int) -> str | None:
    """Why a RIFF/WAVE file is shorter than its header says, or ``None`` if it is not.

    Walks the chunk list up to the ``data`` chunk (skipping non-standard chunks such as
    RAVDESS's ``FLLR``) and compares the declared data size with the bytes present.
    """
    if len(head) < 12 or head[:4] not in (b"RIFF", b"RIFX") or head[8:12] != b"WAVE":
        return None
    order = "<" if head[:4] == b"RIFF" else ">"
    offset = 12
    while offset + 8 <= size:
        raw.seek(offset)
        chunk_id, chunk_size = struct.unpack(order + "4sI", raw.read(8))
        if chunk_id == b"data":
            present = size - offset - 8
            if chunk_size in _UNKNOWN_RIFF_SIZES or present >= chunk_size:
                return None
            return (
                f"the header declares {chunk_size} bytes of audio data "
                f"but only {present} are present"
            )
        offset += 8 + chunk_size + (chunk_size & 1)
    return "the file ends before its audio data begins"


def _audio_container(head: bytes) -> str | None:
    """Name of the audio container ``head`` starts with, if it is a known one."""
    mpeg_frame_sync = len(head) > 1 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0
    signatures = (
        (head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE", "WAV"),
        (head[:4] == b"fLaC", "FLAC"),
        (head[:4] == b"OggS", "OGG"),
        (head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"), "AIFF"),
        (head[4:8] == b"ftyp", "MP4/M4A"),
        (head[:3] == b"ID3" or mpeg_frame_sync, "MP3"),
        (head[:4] == b"\x1a\x45\xdf\xa3", "WebM/Matroska"),
        (head[:4] == b"\x30\x26\xb2\x75", "WMA/ASF"),
    )
    return next((name for matches, name in signatures if matches), None)


def _require_samples(path: str | os.PathLike[str], handle: sf.SoundFile) -> None:
    if handle.frames <= 0:
        raise NoSamples(path, "the file contains no audio samples")


def _read(path: str | os.PathLike[str], handle: sf.SoundFile, frames: int) -> np.ndarray:
    """Up to ``frames`` frames as float32 ``(n, channels)``; decode failures are truncation."""
    try:
        return handle.read(frames, dtype="float32", always_2d=True)
    except RuntimeError as exc:  # sf.LibsndfileError and the other soundfile read errors
        detail = getattr(exc, "error_string", str(exc)).strip().rstrip(".")
        raise TruncatedAudioFile(
            path, f"file is truncated or corrupt: decoding failed ({detail})"
        ) from None


def _read_declared(path: str | os.PathLike[str], handle: sf.SoundFile) -> np.ndarray:
    """All ``handle.frames`` frames the header declares, read ``LOAD_BLOCK_FRAMES`` at a
    time; ``TruncatedAudioFile`` if decoding stops before them."""
    blocks, decoded = [], 0
    while decoded < handle.frames:
        block = _read(path, handle, min(LOAD_BLOCK_FRAMES, handle.frames - decoded))
        if len(block) == 0:
            raise _stopped_early(path, decoded, handle.frames)
        blocks.append(block)
        decoded += len(block)
    return np.concatenate(blocks)


def _stopped_early(path: str | os.PathLike[str], decoded: int, declared: int) -> TruncatedAudioFile:
    reason = f"file is truncated: decoding stopped after {decoded} of {declared} frames"
    return TruncatedAudioFile(path, reason)


def _to_mono(frames: np.ndarray) -> np.ndarray:
    """Average the channels of ``(n, channels)`` float32 frames to ``(n,)``."""
    if frames.shape[1] == 1:
        return np.ascontiguousarray(frames[:, 0])
    return frames.mean(axis=1, dtype=np.float32)


def _check_finite(path: str | os.PathLike[str], samples: np.ndarray, offset: int) -> None:
    finite = np.isfinite(samples)
    if not finite.all():
        first = offset + int(np.argmin(finite))
        raise NonFiniteSamples(path, f"non-finite sample (NaN or infinity) at frame {first}")


def _clip(samples: np.ndarray) -> np.ndarray:
    return np.clip(samples, -1.0, 1.0).astype(np.float32, copy=False)
