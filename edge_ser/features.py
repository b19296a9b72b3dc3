"""Clip features through the reference preprocessor, with an on-disk cache.

A clip's feature is its full log-mel spectrogram ``(frames, 64)`` (at least one patch long:
short clips are zero-padded by the reference pad policy). Patches are cut from it with
``reference_preprocess.log_mel_to_patches``. The cache key is the SHA-256 of the file's
bytes plus the preprocessor version, so a second run, a renamed file or a copied corpus
does not recompute features, and a change to the spec invalidates them.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tqdm import tqdm

from edge_ser import audio
from edge_ser.reference_preprocess import (
    log_mel_to_patches,
    params,
    waveform_to_padded_log_mel,
)

CACHE_ENV_VAR = "EDGE_SER_CACHE"


def default_cache_dir() -> Path:
    """``$EDGE_SER_CACHE`` or ``~/.cache/edge-ser/features``."""
    configured = os.environ.get(CACHE_ENV_VAR)
    return Path(configured) if configured else Path.home() / ".cache" / "edge-ser" / "features"


def file_log_mel(path: Path) -> np.ndarray:
    """Decode, downmix and resample ``path``, then compute its log-mel (no cache)."""
    return waveform_to_padded_log_mel(audio.load(path, target_sr=params.SAMPLE_RATE))


def clip_patches(log_mel: np.ndarray) -> np.ndarray:
    """``(n, 96, 64, 1)`` float32 patches of one clip's log-mel (hop 48 frames)."""
    return log_mel_to_patches(log_mel, params.PATCH_HOP_FRAMES)[..., np.newaxis]


@dataclass
class FeatureSet:
    """Log-mels of the clips that could be read, and why the others could not."""

    log_mels: list[np.ndarray] = field(default_factory=list)
    kept: list[int] = field(default_factory=list)  # indices into the requested paths
    failed: list[tuple[Path, str]] = field(default_factory=list)


class FeatureCache:
    """Content-addressed cache of clip log-mels (one ``.npy`` file per clip)."""

    def __init__(self, directory: Path | None = None, enabled: bool = True) -> None:
        self.directory = Path(directory) if directory else default_cache_dir()
        self.enabled = enabled

    def key(self, path: Path) -> str:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(f"|preprocessor={params.PREPROCESSOR_VERSION}".encode())
        return digest.hexdigest()

    def log_mel(self, path: Path) -> np.ndarray:
        """The clip's log-mel, from the cache when present (raises ``AudioError`` if unreadable)."""
        path = Path(path)
        if not self.enabled:
            return file_log_mel(path)
        if not path.is_file():
            return file_log_mel(path)  # raises the loader's precise error
        cached = self.directory / f"{self.key(path)}.npy"
        if cached.is_file():
            try:
                return np.load(cached)
            except (OSError, ValueError):
                cached.unlink(missing_ok=True)  # corrupt entry: recompute below
        features = file_log_mel(path)
        self.directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=self.directory, suffix=".tmp", delete=False) as tmp:
            np.save(tmp, features)
        os.replace(tmp.name, cached)
        return features

    def load_many(self, paths: Sequence[Path], progress: bool = True) -> FeatureSet:
        """Log-mels of many files; unreadable files are collected, not raised."""
        result = FeatureSet()
        iterator: Iterable = tqdm(
            list(enumerate(paths)), desc="features", unit="clip", disable=not progress, leave=False
        )
        for index, path in iterator:
            try:
                result.log_mels.append(self.log_mel(path))
                result.kept.append(index)
            except audio.AudioError as exc:
                result.failed.append((Path(path), exc.reason))
        return result
