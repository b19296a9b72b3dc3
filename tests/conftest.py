"""Shared fixtures: the shared data directory (skipped when absent), feature caches (an
isolated one by default, the user's for the shared corpus), a tiny generated corpus in
RAVDESS naming whose labels a model can learn, and a tiny model directory with a writable
copy of an export.

``emotion_corpus`` (session-scoped, read-only by convention) is 4 speakers x 8 labels x 2 clips
of 1.2 s; ``make_emotion_corpus`` writes other layouts into a folder of the test's choosing.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
from audio_factory import ravdess_name, write_audio
from model_factory import make_model_dir

from edge_ser.features import CACHE_ENV_VAR, FeatureCache, default_cache_dir
from edge_ser.labels import CANONICAL_LABELS, LABEL_INDEX

USER_FEATURE_CACHE = default_cache_dir()  # before any test redirects it
SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"
RAVDESS_SUBDIR = "ravdess-speech-actors01-20"

CORPUS_SECONDS = 1.2
CORPUS_SAMPLE_RATE = 16000


PROTECTED_PREFIX = "/dev/"
DELETING_EVENTS = {"os.remove", "os.rename", "os.rmdir", "shutil.rmtree", "shutil.move"}


def _refuse_deleting_devices(event: str, args: tuple) -> None:
    """Tests run as root in CI: no code under test may remove or rename a device node."""
    if event in DELETING_EVENTS:
        for arg in args:
            if isinstance(arg, (str, bytes, os.PathLike)):
                path = os.fsdecode(os.fspath(arg))
                if path.startswith(PROTECTED_PREFIX):
                    raise PermissionError(f"test tried {event} on {path}")


sys.addaudithook(_refuse_deleting_devices)


def load_benchmark(name: str) -> ModuleType:
    """The script ``benchmarks/<name>.py`` as a module (registered in ``sys.modules``, where
    its dataclasses look their module up)."""
    path = Path(__file__).resolve().parents[1] / "benchmarks" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def require_path(path: Path, what: str) -> Path:
    """``path`` if it exists, else skip the test saying what is missing and where."""
    if not path.exists():
        pytest.skip(f"{what} not found: {path}")
    return path


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The read-only shared data directory (the repository's sibling ``../shared/data``)."""
    return require_path(SHARED_DATA, "shared data directory")


@pytest.fixture(scope="session")
def ravdess_dir(shared_data: Path) -> Path:
    """The 1200 RAVDESS speech clips of actors 01-20."""
    return require_path(shared_data / RAVDESS_SUBDIR, "RAVDESS speech clips")


@pytest.fixture(scope="session", autouse=True)
def isolated_feature_cache(tmp_path_factory) -> Iterator[Path]:
    """Point the default feature cache at a per-session temporary folder, never ``~/.cache``."""
    directory = tmp_path_factory.mktemp("feature-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv(CACHE_ENV_VAR, str(directory))
        yield directory


@pytest.fixture(scope="session")
def user_feature_cache() -> FeatureCache:
    """The user's own feature cache (as ``edge-ser`` uses it), for tests on the shared corpus:
    its features are valid for any run, and reusing them saves minutes."""
    return FeatureCache(USER_FEATURE_CACHE)


def emotion_signal(label: str, speaker: int, take: int, seconds: float = CORPUS_SECONDS):
    """A synthetic voiced clip whose pitch and spectral peak depend on the label.

    Label ``k`` (canonical index) has fundamental ``110 + 25 k`` Hz and a formant-like peak at
    ``400 + 420 k`` Hz; the speaker scales the pitch by a few percent and every take has its
    own vibrato phase, loudness and background noise, so clips of one label are alike but
    never identical. Returns float64 samples at 16 kHz.
    """
    k = LABEL_INDEX[label]
    rng = np.random.default_rng(1000 * speaker + 10 * k + take)
    t = np.arange(round(seconds * CORPUS_SAMPLE_RATE)) / CORPUS_SAMPLE_RATE
    f0 = (110.0 + 25.0 * k) * (1.0 + 0.03 * (speaker % 3 - 1))
    peak_hz = 400.0 + 420.0 * k
    phase = 2 * np.pi * np.cumsum(f0 * (1 + 0.02 * np.sin(2 * np.pi * 5 * t + take)))
    phase /= CORPUS_SAMPLE_RATE
    signal = np.zeros_like(t)
    for harmonic in range(1, int(7000 // f0)):
        weight = np.exp(-0.5 * ((harmonic * f0 - peak_hz) / 300.0) ** 2) + 0.05 / harmonic
        signal += weight * np.sin(harmonic * phase)
    signal *= 0.3 * rng.uniform(0.5, 1.0) / np.max(np.abs(signal))
    return signal + 0.003 * rng.standard_normal(len(t))


def write_emotion_corpus(
    root: Path,
    speakers: Sequence[int] = (1, 2, 3, 4),
    labels: Sequence[str] = CANONICAL_LABELS,
    clips_per_label: int = 2,
    seconds: float = CORPUS_SECONDS,
) -> list[Path]:
    """Write ``Actor_XX/<RAVDESS name>.wav`` clips of ``emotion_signal``; return the paths."""
    written = []
    for speaker in speakers:
        for label in labels:
            for take in range(clips_per_label):
                name = ravdess_name(
                    LABEL_INDEX[label] + 1,
                    speaker,
                    statement=take // 2 + 1,
                    repetition=take % 2 + 1,
                )
                path = Path(root) / f"Actor_{speaker:02d}" / name
                write_audio(path, emotion_signal(label, speaker, take, seconds))
                written.append(path)
    return written


@pytest.fixture
def make_emotion_corpus() -> Callable[..., list[Path]]:
    """``write_emotion_corpus`` as a fixture, for tests that need their own layout."""
    return write_emotion_corpus


@pytest.fixture(scope="session")
def emotion_corpus(tmp_path_factory) -> Path:
    """4 speakers (ravdess:01-04) x 8 labels x 2 clips of 1.2 s; do not modify."""
    root = tmp_path_factory.mktemp("emotion-corpus")
    write_emotion_corpus(root)
    return root


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory) -> Path:
    """A tiny model directory (``model_factory.make_model_dir``), shared by the session."""
    return make_model_dir(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture
def dist_copy(dist, tmp_path) -> Path:
    """A writable copy of the requesting module's ``dist`` export."""
    copy = tmp_path / "dist"
    shutil.copytree(dist, copy)
    return copy


@pytest.fixture(scope="session")
def coreml_patches() -> np.ndarray:
    """Log-mel-like patches for the Core ML tests (``coreml_factory.random_patches``)."""
    from coreml_factory import random_patches

    return random_patches(32, seed=2)


@pytest.fixture(scope="session")
def coreml_model(coreml_patches):
    """The edge-ser CNN with random weights, confident on ``coreml_patches``."""
    from coreml_factory import spread_model

    return spread_model(coreml_patches)


@pytest.fixture(scope="session")
def coreml_exports(coreml_model, tmp_path_factory) -> dict[str, Path]:
    """``coreml_model`` exported to Core ML (``coreml_factory.export_coreml``), by file name."""
    from coreml_factory import export_coreml

    return export_coreml(coreml_model, tmp_path_factory.mktemp("coreml"))
