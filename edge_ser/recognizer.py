"""Emotion recognition for files, waveforms and live audio: the Python API.

::

    from edge_ser import Recognizer

    recognizer = Recognizer.load()                  # bundled int8 model, or a .tflite / DIST / ...
    result = recognizer.predict_file("clip.wav")
    print(result.label, result.probabilities)

    stream = recognizer.stream(smoothing=3)         # 16 kHz float32 chunks of any size
    for chunk in chunks:
        for window in stream.feed(chunk):
            print(window.start_s, window.label)
    stream.flush()

Windows follow the reference preprocessor: window ``i`` covers samples
``[hop * i, hop * i + 15600)`` of the 16 kHz audio (0.975 s; ``hop`` = 7680 samples = 0.48 s
by default); trailing audio that does not fill a window is not scored, and audio shorter than
one window is zero-padded to one window (``ClipResult.padded``). A clip's probabilities are
the mean of the probabilities of its windows that are not silence (``edge_ser.aggregate``);
silent windows are labelled ``"silence"`` in the timeline.

Files are decoded and featurized block by block (``audio.iter_blocks``), so memory does not
grow with the length of a recording; a ``Stream`` holds at most one window of audio features.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from edge_ser import audio
from edge_ser.aggregate import clip_probabilities
from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import FILENAME_FORMATS, WAVEFORM_INPUT
from edge_ser.errors import ModelError
from edge_ser.reference_preprocess import (
    LiveSilence,
    WindowLevels,
    frame_waveform,
    log_mel_to_patches,
    params,
    silent_windows,
    waveform_to_log_mel,
    window_levels,
)
from edge_ser.runtimes.base import Runtime
from edge_ser.runtimes.open_model import open_bundled_int8, open_model

WINDOW_SECONDS = params.MIN_SAMPLES / params.SAMPLE_RATE
FRAME_SECONDS = params.HOP_LENGTH_SAMPLES / params.SAMPLE_RATE
DEFAULT_HOP_SECONDS = params.PATCH_HOP_SAMPLES / params.SAMPLE_RATE
_PATCH_SHAPE = (params.PATCH_FRAMES, params.NUM_MEL_BANDS, 1)


def hop_frames_from_seconds(seconds: float) -> int:
    """Window hop in frames for a hop in seconds, which must be a positive multiple of 10 ms."""
    frames = round(seconds / FRAME_SECONDS)
    if frames < 1 or abs(frames * FRAME_SECONDS - seconds) > 1e-9:
        raise ValueError(
            f"window hop must be a positive multiple of {FRAME_SECONDS:g} s, got {seconds:g}"
        )
    return frames


SILENCE_LABEL = "silence"


@dataclass(frozen=True)
class WindowResult:
    """Prediction for one window of audio (times in seconds from the start).

    A window that is silence (``reference_preprocess.silence``) has the label ``"silence"``
    and ``silence`` true; its probabilities are still the model's, but they do not count in
    the clip's probabilities.
    """

    start_s: float
    end_s: float
    label: str
    probabilities: dict[str, float]
    silence: bool = False

    def to_dict(self) -> dict:
        return {
            "start_s": self.start_s,
            "end_s": self.end_s,
            "label": self.label,
            "silence": self.silence,
            "probabilities": self.probabilities,
        }


@dataclass(frozen=True)
class ClipResult:
    """Prediction for a whole clip: the mean of its windows' probabilities.

    ``duration_s`` is the length of the audio at 16 kHz; ``padded`` is true when the clip was
    shorter than one window and was zero-padded to one; ``path`` is ``None`` for waveforms.
    """

    label: str
    probabilities: dict[str, float]
    windows: list[WindowResult]
    duration_s: float
    padded: bool
    path: Path | None = None

    def to_dict(self, windows: bool = True) -> dict:
        """JSON-ready dict; ``windows=False`` leaves the per-window timeline out."""
        data = {
            "path": None if self.path is None else str(self.path),
            "label": self.label,
            "probabilities": self.probabilities,
            "duration_s": self.duration_s,
            "padded": self.padded,
            "num_windows": len(self.windows),
        }
        if windows:
            data["windows"] = [w.to_dict() for w in self.windows]
        return data


class _Framer:
    """What both framers share: the hop, the counts, the audio check and the end-of-audio pad.

    Subclasses set ``input_shape`` (of one model input) and implement ``push``.
    """

    input_shape: tuple[int, ...]

    def __init__(self, hop_frames: int = params.PATCH_HOP_FRAMES) -> None:
        if int(hop_frames) != hop_frames or hop_frames < 1:
            raise ValueError(f"hop_frames must be a positive integer, got {hop_frames!r}")
        self.hop_frames = int(hop_frames)
        self.num_samples = 0  # samples fed so far
        self.num_patches = 0  # model inputs returned so far

    def push(self, samples: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def finish(self) -> tuple[np.ndarray, bool]:
        """End of the audio: the zero-padded input of audio shorter than one window, if any.

        Returns the inputs (one or none) and whether padding was applied (the reference pad
        policy: fewer than ``MIN_SAMPLES`` samples, but some).
        """
        missing = params.MIN_SAMPLES - self.num_samples
        if self.num_samples == 0 or missing <= 0:
            return self._none(), False
        return self.push(np.zeros(missing, dtype=np.float32)), True

    def _none(self) -> np.ndarray:
        return np.zeros((0, *self.input_shape), dtype=np.float32)

    @staticmethod
    def _checked(samples: np.ndarray) -> np.ndarray:
        chunk = np.asarray(samples)
        if chunk.ndim != 1 or not np.issubdtype(chunk.dtype, np.floating):
            raise ValueError(f"expected 1-D floating-point audio, got {chunk.dtype} {chunk.shape}")
        return chunk


class PatchFramer(_Framer):
    """Cut 16 kHz audio fed in pieces into model patches as soon as each is complete.

    The patches equal ``waveform_to_patches`` of the concatenated audio (to float32
    rounding) while only the audio of the frame being filled and the log-mel frames of the
    patch being filled are kept, so memory does not depend on how much audio was fed.

    Parameters
    ----------
    hop_frames:
        Hop between patch starts, in 10 ms frames (default 48 = 0.48 s).
    """

    input_shape = _PATCH_SHAPE

    def __init__(self, hop_frames: int = params.PATCH_HOP_FRAMES) -> None:
        super().__init__(hop_frames)
        self._samples = np.zeros(0, dtype=np.float32)  # from the next frame's first sample on
        self._log_mel = np.zeros((0, params.NUM_MEL_BANDS), dtype=np.float32)  # next patch on
        self._skip_frames = 0  # frames before the next patch (hop longer than a patch)

    @property
    def buffered_values(self) -> int:
        """Number of float32 values held (audio samples plus log-mel values)."""
        return self._samples.size + self._log_mel.size

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add audio; return the patches it completes, ``(k, 96, 64, 1)`` float32 (k >= 0).

        Raises ``ValueError`` for audio that is not 1-D floating point or not finite.
        """
        chunk = self._checked(samples)
        buffer = np.concatenate([self._samples, chunk.astype(np.float32, copy=False)])
        num_frames = len(frame_waveform(buffer))
        consumed = num_frames * params.HOP_LENGTH_SAMPLES
        frames_end = consumed - params.HOP_LENGTH_SAMPLES + params.WINDOW_LENGTH_SAMPLES
        rows = waveform_to_log_mel(buffer[:frames_end]) if num_frames else self._log_mel[:0]
        self.num_samples += len(chunk)
        self._samples = buffer[consumed:].copy()
        skipped = min(self._skip_frames, len(rows))
        self._skip_frames -= skipped
        self._log_mel = np.concatenate([self._log_mel, rows[skipped:]])
        available = len(self._log_mel) - params.PATCH_FRAMES
        count = 0 if available < 0 else 1 + available // self.hop_frames
        if count == 0:
            return self._none()
        patches = np.ascontiguousarray(log_mel_to_patches(self._log_mel, self.hop_frames))
        advance = count * self.hop_frames
        self._skip_frames = max(0, advance - len(self._log_mel))
        self._log_mel = self._log_mel[advance:].copy()
        self.num_patches += count
        return patches[..., np.newaxis]


class WindowFramer(_Framer):
    """Cut 16 kHz audio fed in pieces into the raw windows a waveform-in model takes.

    Window ``i`` is samples ``[hop * i, hop * i + 15600)`` of the concatenated audio
    (``windows.waveform_windows``), returned as soon as it is complete; at most one window of
    audio is held.
    """

    input_shape = (params.MIN_SAMPLES,)

    def __init__(self, hop_frames: int = params.PATCH_HOP_FRAMES) -> None:
        super().__init__(hop_frames)
        self.hop_samples = self.hop_frames * params.HOP_LENGTH_SAMPLES
        self._samples = np.zeros(0, dtype=np.float32)  # from the next window's first sample on
        self._skip = 0  # samples before the next window (hop longer than a window)

    @property
    def buffered_values(self) -> int:
        return self._samples.size

    def push(self, samples: np.ndarray) -> np.ndarray:
        """Add audio; return the windows it completes, ``(k, 15600)`` float32 (k >= 0)."""
        chunk = self._checked(samples)
        self.num_samples += len(chunk)
        skipped = min(self._skip, len(chunk))
        self._skip -= skipped
        buffer = np.concatenate([self._samples, chunk[skipped:].astype(np.float32, copy=False)])
        available = len(buffer) - params.MIN_SAMPLES
        if available < 0:
            self._samples = buffer
            return self._none()
        count = 1 + available // self.hop_samples
        views = np.lib.stride_tricks.sliding_window_view(buffer, params.MIN_SAMPLES)
        windows = np.array(views[:: self.hop_samples][:count])
        advance = count * self.hop_samples
        self._skip = max(0, advance - len(buffer))
        self._samples = buffer[advance:].copy()
        self.num_patches += count
        return windows


class Stream:
    """Live recognition: feed 16 kHz audio in chunks, get each window when it is complete.

    Without smoothing, window ``i`` is what batch prediction on the concatenated audio gives
    for window ``i`` (to float32 rounding of the log-mel). With ``smoothing = N > 1`` each
    window's probabilities are the mean of the last N windows' (the clip aggregation rule
    over a sliding span). Create with ``Recognizer.stream``.
    """

    def __init__(self, recognizer: Recognizer, smoothing: int, hop_frames: int) -> None:
        if int(smoothing) != smoothing or smoothing < 1:
            raise ValueError(f"smoothing must be a positive number of windows, got {smoothing!r}")
        self.recognizer = recognizer
        self.smoothing = int(smoothing)
        self.hop_frames = hop_frames
        self._reset()

    def _reset(self) -> None:
        self._framer = self.recognizer._framer(self.hop_frames)
        self._recent: deque[np.ndarray] = deque(maxlen=self.smoothing)
        self._silence = LiveSilence()

    @property
    def buffered_values(self) -> int:
        """Number of float32 audio and feature values held; bounded for any stream length."""
        return self._framer.buffered_values + self.smoothing * len(self.recognizer.labels)

    def feed(self, chunk: np.ndarray, sample_rate: int = params.SAMPLE_RATE) -> list[WindowResult]:
        """Add a chunk of 16 kHz mono float32 audio; return the windows it completes.

        Raises ``ValueError`` for audio at another ``sample_rate``: resample it to 16 kHz
        first (``edge_ser.audio.to_mono_resampled``), or use ``predict_waveform``.
        """
        if sample_rate != params.SAMPLE_RATE:
            raise ValueError(
                f"the stream takes {params.SAMPLE_RATE} Hz audio, got {sample_rate} Hz; resample "
                "the chunks first (edge_ser.audio.to_mono_resampled) or use predict_waveform"
            )
        first = self._framer.num_patches
        return self._windows(first, self._framer.push(chunk))

    def flush(self) -> list[WindowResult]:
        """End the stream: returns the zero-padded window of a stream shorter than one window
        (else nothing), then starts over so the stream can take new audio."""
        first = self._framer.num_patches
        patches, _ = self._framer.finish()
        windows = self._windows(first, patches)
        self._reset()
        return windows

    def _windows(self, first: int, patches: np.ndarray) -> list[WindowResult]:
        """Windows are silence against the loudest window and frame heard so far; silent windows
        do not enter the smoothing (they show the mean of the recent windows that are not)."""
        results = []
        probabilities = self.recognizer._predict_patches(patches)
        silent = self._silence.silent(input_levels(patches))
        for offset, (probs, silence) in enumerate(zip(probabilities, silent.tolist(), strict=True)):
            if not silence:
                self._recent.append(probs)
            # Before any window that is not silence, a window shows its own probabilities.
            smoothed = clip_probabilities(np.stack(self._recent)) if self._recent else probs
            index = first + offset
            results.append(self.recognizer._window(index, smoothed, self.hop_frames, silence))
        return results


class Recognizer:
    """A loaded model plus the reference preprocessing: audio in, emotions out.

    Parameters
    ----------
    runtime:
        Any ``Runtime`` (Keras, LiteRT, Core ML); see ``Recognizer.load``.
    source:
        What was loaded, for display.
    """

    def __init__(self, runtime: Runtime, source: str = "") -> None:
        self.runtime = runtime
        self.source = source

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(self.runtime.labels)

    @classmethod
    def load(
        cls, path: str | os.PathLike[str] | None = None, num_threads: int | None = None
    ) -> Recognizer:
        """Open a model with ``runtimes.open_model.open_model``.

        Parameters
        ----------
        path:
            ``None``: the bundled model's int8 TFLite (checked against its manifest; its
            Keras model is ``edge_ser/bundled/model.keras``); a model directory or its
            ``.keras`` file: Keras;
            a ``.tflite`` file: LiteRT, with labels from its TFLite metadata (else from
            ``labels.txt`` beside it) and the input quantization from ``manifest.json``
            beside it when present (else the model's own); a waveform-in ``.tflite`` takes
            raw 15600-sample windows, cut at the same hop; an export
            directory (DIST, with ``manifest.json``): its ``emotion_int8.tflite``; a
            ``.mlpackage`` / ``.mlmodel``: Core ML on macOS, edge-ser's NumPy evaluator
            elsewhere.
        num_threads:
            LiteRT interpreter threads (``None``: LiteRT's default); other runtimes ignore it.

        Raises
        ------
        ModelError
            The path is missing, of no known kind, a waveform-in Core ML artifact, or its model
            cannot be loaded.
        """
        if path is None:
            opened = open_bundled_int8(num_threads)
        else:
            _reject_waveform_model(Path(path))
            opened = open_model(path, num_threads)
        return cls(opened.runtime, opened.source)

    def predict_file(
        self,
        path: str | os.PathLike[str],
        hop_s: float = DEFAULT_HOP_SECONDS,
        block_seconds: float = audio.DEFAULT_BLOCK_SECONDS,
    ) -> ClipResult:
        """Predict an audio file of any length, decoded ``block_seconds`` at a time; windows
        of ``WINDOW_SECONDS`` every ``hop_s`` seconds (a multiple of 0.01 s, as
        ``edge-ser predict --window-hop``).

        Raises ``AudioError`` (with ``.reason``) if the file cannot be read.
        """
        hop_frames = hop_frames_from_seconds(hop_s)
        blocks = audio.iter_blocks(path, params.SAMPLE_RATE, block_seconds)
        return self._predict(blocks, hop_frames, Path(path))

    def predict_waveform(
        self,
        samples: np.ndarray,
        sample_rate: int,
        hop_s: float = DEFAULT_HOP_SECONDS,
    ) -> ClipResult:
        """Predict a waveform: float samples in [-1, 1], ``(n,)`` or ``(n, channels)``.

        Channels are averaged and other rates resampled to 16 kHz as ``audio.load`` does;
        ``hop_s`` as in ``predict_file``.
        """
        hop_frames = hop_frames_from_seconds(hop_s)
        return self._predict([_to_standard_waveform(samples, sample_rate)], hop_frames, None)

    def stream(self, smoothing: int = 1, hop_s: float = DEFAULT_HOP_SECONDS) -> Stream:
        """A ``Stream`` for live 16 kHz audio; ``smoothing`` = windows averaged per output,
        ``hop_s`` as in ``predict_file``."""
        return Stream(self, smoothing, hop_frames_from_seconds(hop_s))

    def _window(
        self, index: int, probabilities: np.ndarray, hop_frames: int, silence: bool = False
    ) -> WindowResult:
        """The ``WindowResult`` of window ``index`` at a hop of ``hop_frames``."""
        start_s = index * hop_frames * FRAME_SECONDS
        label, probs = self._labelled(probabilities)
        end_s = round(start_s + WINDOW_SECONDS, 6)
        label = SILENCE_LABEL if silence else label
        return WindowResult(round(start_s, 6), end_s, label, probs, silence)

    def _predict_patches(self, patches: np.ndarray) -> np.ndarray:
        if not len(patches):
            return np.zeros((0, len(self.labels)), dtype=np.float32)
        return np.asarray(self.runtime.predict_patches(patches), dtype=np.float32)

    def _labelled(self, probabilities: np.ndarray) -> tuple[str, dict[str, float]]:
        values = probabilities.tolist()  # Python floats in one call (a long file has many)
        probs = dict(zip(self.labels, values, strict=True))
        return self.labels[values.index(max(values))], probs

    def _framer(self, hop_frames: int) -> _Framer:
        """What cuts audio into this model's inputs: raw windows or log-mel patches."""
        shape = tuple(getattr(self.runtime, "input_shape", ()))
        waveform_in = shape == (1, params.MIN_SAMPLES)
        return WindowFramer(hop_frames) if waveform_in else PatchFramer(hop_frames)

    def _predict(
        self, blocks: Iterable[np.ndarray], hop_frames: int, path: Path | None
    ) -> ClipResult:
        framer = self._framer(hop_frames)
        window_probs, levels = [], []
        for block in blocks:
            inputs = framer.push(block)
            window_probs.append(self._predict_patches(inputs))
            levels.append(input_levels(inputs))
        duration_s = framer.num_samples / params.SAMPLE_RATE
        tail, padded = framer.finish()
        window_probs.append(self._predict_patches(tail))
        levels.append(input_levels(tail))
        probs = np.concatenate(window_probs)
        silent = silent_windows(WindowLevels(*map(np.concatenate, zip(*levels, strict=True))))
        label, clip_probs = self._labelled(clip_probabilities(probs, silent))
        windows = [
            self._window(i, p, hop_frames, bool(s))
            for i, (p, s) in enumerate(zip(probs, silent, strict=True))
        ]
        return ClipResult(label, clip_probs, windows, duration_s, padded, path)


def input_levels(inputs: np.ndarray) -> WindowLevels:
    """The silence-rule level of each model input: of a log-mel patch, or of a raw window's
    reference log-mel (waveform-in models; ``reference_preprocess/SPEC.md``)."""
    if inputs.ndim == 2 and inputs.shape[1] == params.MIN_SAMPLES:
        inputs = np.stack([waveform_to_log_mel(w) for w in inputs]) if len(inputs) else inputs
    return window_levels(inputs)


def _to_standard_waveform(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """Mono float32 at 16 kHz in [-1, 1], as ``audio.load`` makes it."""
    array = np.asarray(samples)
    if array.ndim not in (1, 2) or not np.issubdtype(array.dtype, np.floating):
        raise ValueError(
            f"expected float samples in [-1, 1] of shape (n,) or (n, channels), "
            f"got {array.dtype} {array.shape}"
        )
    if array.size == 0:
        raise ValueError("the waveform has no samples")
    if not np.isfinite(array).all():
        raise ValueError("the waveform contains non-finite samples (NaN or infinity)")
    return audio.to_mono_resampled(array, sample_rate, params.SAMPLE_RATE)


def _reject_waveform_model(path: Path) -> None:
    """Waveform-in Core ML artifacts are for apps (and ``verify``); Python predicts with the
    patch model (waveform-in TFLite files run here too, window by window)."""
    fmt = FILENAME_FORMATS.get(path.name)
    if fmt is not None and fmt.input == WAVEFORM_INPUT and fmt.runtime != "litert":
        raise ModelError(
            f"'{path.name}' takes raw 15600-sample windows and is meant for apps; in Python use "
            f"the patch model of the same export (e.g. '{layout.INT8_TFLITE}'), which "
            "verify proves equivalent"
        )
