"""MediaPipe Tasks ``AudioClassifier`` (optional ``mediapipe`` package) on a waveform-in
``.tflite`` with TFLite Model Metadata: what an app using MediaPipe gets, with no edge-ser code.

MediaPipe reads the sample rate, window length and labels from the model and its metadata. On
a clip it cuts non-overlapping windows of the model's input length (15600 samples), the last
one zero-padded, and scores each; ``predict_patches`` hands it windows laid end to end, so it
scores exactly the given windows.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from edge_ser.errors import ModelError
from edge_ser.reference_preprocess import params


def available() -> bool:
    """Whether the ``mediapipe`` package (its audio tasks) can be imported."""
    try:
        from mediapipe.tasks.python import audio  # noqa: F401
    except ImportError:
        return False
    return True


class MediaPipeAudioRuntime:
    """A waveform-in ``.tflite`` in MediaPipe's ``AudioClassifier``, in audio-clips mode.

    Scores are put in ``labels`` order by the category names MediaPipe reads from the model's
    metadata, so a model whose metadata labels are out of order gives wrong probabilities.
    """

    def __init__(self, path: Path, labels: tuple[str, ...]) -> None:
        from mediapipe.tasks.python import audio
        from mediapipe.tasks.python.core.base_options import BaseOptions

        self.path = Path(path)
        self.labels = tuple(labels)
        options = audio.AudioClassifierOptions(
            base_options=BaseOptions(model_asset_path=str(self.path)), max_results=-1
        )
        try:
            self._classifier = audio.AudioClassifier.create_from_options(options)
        except (ValueError, RuntimeError) as exc:
            message = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ModelError(f"MediaPipe cannot load '{self.path}': {message}") from exc

    def close(self) -> None:
        self._classifier.close()

    def classify_clip(self, waveform: np.ndarray) -> np.ndarray:
        """``(n, labels)`` scores of a 16 kHz clip, windowed as MediaPipe windows it."""
        from mediapipe.tasks.python.components.containers.audio_data import AudioData

        samples = np.asarray(waveform, dtype=np.float32)
        results = self._classifier.classify(
            AudioData.create_from_array(samples, params.SAMPLE_RATE)
        )
        scores = np.zeros((len(results), len(self.labels)), dtype=np.float32)
        for row, result in zip(scores, results, strict=True):
            for category in result.classifications[0].categories:
                if category.category_name not in self.labels:
                    raise ModelError(
                        f"MediaPipe reads label '{category.category_name}' from '{self.path}', "
                        f"which is not one of {', '.join(self.labels)}"
                    )
                row[self.labels.index(category.category_name)] = category.score
        return scores

    def predict_patches(self, windows: np.ndarray) -> np.ndarray:
        """``(n, labels)`` scores of ``(n, 15600)`` windows, each scored on its own."""
        windows = np.asarray(windows, dtype=np.float32).reshape(-1, params.MIN_SAMPLES)
        if not len(windows):
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return self.classify_clip(windows.reshape(-1))
