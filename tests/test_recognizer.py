"""`Recognizer`: loading, files, waveforms, padding, streaming and windows.

Also home of ``tiny_export``, the session fixture that the predict and bench tests import.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from audio_factory import write_audio, write_not_audio
from model_factory import make_model_dir

from edge_ser import Recognizer, audio
from edge_ser.artifacts import layout
from edge_ser.artifacts.formats import FORMATS
from edge_ser.errors import ModelError
from edge_ser.features import clip_patches, file_log_mel
from edge_ser.recognizer import PatchFramer, WindowFramer, hop_frames_from_seconds
from edge_ser.reference_preprocess import params, waveform_to_padded_log_mel, waveform_to_patches
from edge_ser.reference_preprocess.signals import voice
from edge_ser.runtimes.litert_runtime import LiteRTRuntime
from edge_ser.windows import waveform_windows


@dataclass(frozen=True)
class TinyExport:
    """A tiny random model directory and an export of its two TFLite files."""

    model_dir: Path
    dist: Path
    labels: tuple[str, ...]


def build_tiny_export(root: Path) -> TinyExport:
    """Write ``root/model`` and ``root/dist`` (with labels.txt and manifest.json) once.

    The export is assembled from the TFLite builders without ``edge-ser export``'s parity
    gate, which is not what these tests are about.
    """
    from edge_ser.bundle import ModelBundle
    from edge_ser.export.artifacts import ExportContext
    from edge_ser.export.exporter import (
        build_artifact,
        build_manifest,
        coreml_metadata,
        write_manifest,
    )

    model_dir, dist = root / "model", root / "dist"
    if not (dist / layout.MANIFEST_JSON).is_file():
        bundle = ModelBundle.load(make_model_dir(model_dir))
        context = ExportContext(
            bundle.keras_model, bundle.labels, bundle.calibration_patches(), coreml_metadata(bundle)
        )
        dist.mkdir(parents=True)
        entries = {
            FORMATS[name].filename: build_artifact(context, name, dist)
            for name in ("tflite-int8", "tflite-float32")
        }
        (dist / layout.LABELS_TXT).write_text("\n".join(bundle.labels) + "\n")
        write_manifest(dist, build_manifest(bundle, entries, parity={}, source=model_dir))
    labels = tuple((dist / layout.LABELS_TXT).read_text().split())
    return TinyExport(model_dir, dist, labels)


@pytest.fixture(scope="session")
def tiny_export(tmp_path_factory: pytest.TempPathFactory) -> TinyExport:
    """The tiny model and its export, built once per session however many modules use it."""
    return build_tiny_export(tmp_path_factory.getbasetemp() / "tiny-export")


# The block-wise and streaming paths cut the log-mel into different frame groups than the
# whole-waveform path; the matrix product then rounds differently in the last float32 bit.
LOG_MEL_ATOL = 1e-5
PROBS_ATOL = 1e-5


@pytest.fixture(scope="module")
def float_recognizer(tiny_export) -> Recognizer:
    """The float32 TFLite model: fast, and continuous in its input (unlike int8)."""
    return Recognizer.load(tiny_export.dist / layout.FLOAT32_TFLITE)


def random_chunks(waveform: np.ndarray, rng: np.random.Generator, sizes) -> list[np.ndarray]:
    chunks, start = [], 0
    while start < len(waveform):
        size = int(rng.choice(sizes)) if len(sizes) > 1 else sizes[0]
        chunks.append(waveform[start : start + size])
        start += size
    return chunks


def window_probs(result) -> np.ndarray:
    return np.array([list(w.probabilities.values()) for w in result.windows])


# -- loading (every model kind: test_open_model.py) ------------------------------------


def test_load_opens_the_path_with_open_model(tiny_export):
    recognizer = Recognizer.load(tiny_export.dist, num_threads=1)
    assert isinstance(recognizer.runtime, LiteRTRuntime)
    assert recognizer.source == f"LiteRT {tiny_export.dist / layout.INT8_TFLITE}"
    assert recognizer.labels == tiny_export.labels


# -- files and waveforms ------------------------------------------------------------------


def test_hop_frames_from_seconds():
    assert hop_frames_from_seconds(0.48) == 48
    assert hop_frames_from_seconds(0.01) == 1
    assert hop_frames_from_seconds(1.5) == 150
    for bad in (0.0, -0.48, 0.015, 0.005):
        with pytest.raises(ValueError, match="multiple"):
            hop_frames_from_seconds(bad)


def test_predict_waveform_windows_and_clip_rule(float_recognizer):
    waveform = voice(round(4.3 * params.SAMPLE_RATE), seed=3)
    result = float_recognizer.predict_waveform(waveform, params.SAMPLE_RATE)
    patches = waveform_to_patches(waveform)[..., np.newaxis]
    expected = float_recognizer.runtime.predict_patches(patches)
    assert len(result.windows) == len(patches) == 1 + (len(waveform) - 15600) // 7680
    np.testing.assert_allclose(window_probs(result), expected, atol=PROBS_ATOL)
    clip = np.array(list(result.probabilities.values()))
    np.testing.assert_allclose(clip, expected.mean(axis=0), atol=PROBS_ATOL)
    labels = float_recognizer.labels
    assert result.label == labels[int(np.argmax(clip))]
    assert [w.label for w in result.windows] == [labels[i] for i in expected.argmax(axis=1)]
    for i, window in enumerate(result.windows):
        assert window.start_s == pytest.approx(i * 0.48)
        assert window.end_s == pytest.approx(i * 0.48 + 15600 / 16000)
    assert result.duration_s == pytest.approx(4.3) and not result.padded and result.path is None


@pytest.mark.parametrize("hop_s", [0.1, 1.5])
def test_predict_waveform_other_hops(float_recognizer, hop_s):
    hop_frames = hop_frames_from_seconds(hop_s)
    waveform = voice(5 * params.SAMPLE_RATE, seed=4)
    result = float_recognizer.predict_waveform(waveform, params.SAMPLE_RATE, hop_s)
    patches = waveform_to_patches(waveform, hop_frames=hop_frames)[..., np.newaxis]
    expected = float_recognizer.runtime.predict_patches(patches)
    np.testing.assert_allclose(window_probs(result), expected, atol=PROBS_ATOL)
    assert [w.start_s for w in result.windows] == pytest.approx(
        [i * hop_s for i in range(len(patches))]
    )


def test_short_clip_is_padded_to_one_window(float_recognizer, tmp_path):
    waveform = voice(8000, seed=5)  # 0.5 s
    path = write_audio(tmp_path / "short.wav", waveform, kind="wav_float")
    result = float_recognizer.predict_file(path)
    assert result.padded and len(result.windows) == 1 and result.duration_s == 0.5
    padded = np.concatenate([waveform, np.zeros(15600 - 8000, dtype=np.float32)])
    expected = float_recognizer.runtime.predict_patches(waveform_to_patches(padded)[..., None])
    np.testing.assert_allclose(window_probs(result), expected, atol=PROBS_ATOL)
    assert result.path == path


def test_exactly_one_window_is_not_padded(float_recognizer):
    result = float_recognizer.predict_waveform(voice(15600), params.SAMPLE_RATE)
    assert not result.padded and len(result.windows) == 1


@pytest.mark.parametrize("block_seconds", [0.37, 1.0, 10.0])
def test_blockwise_file_equals_whole_file(float_recognizer, tmp_path, block_seconds):
    path = write_audio(
        tmp_path / "long.wav", voice(12 * params.SAMPLE_RATE, seed=6), kind="wav_float"
    )
    result = float_recognizer.predict_file(path, block_seconds=block_seconds)
    log_mel = file_log_mel(path)  # whole file: decode, then the reference preprocessor
    expected = float_recognizer.runtime.predict_patches(clip_patches(log_mel))
    np.testing.assert_allclose(window_probs(result), expected, atol=PROBS_ATOL)
    clip = np.array(list(result.probabilities.values()))
    np.testing.assert_allclose(clip, expected.mean(axis=0), atol=PROBS_ATOL)
    assert result.duration_s == 12.0


def test_resampled_stereo_file_matches_waveform_path(float_recognizer, tmp_path):
    rng = np.random.default_rng(7)
    stereo = np.stack([voice(6 * 48000, seed=8), voice(6 * 48000, seed=9)], axis=1) * 0.8
    stereo += rng.normal(0, 0.01, stereo.shape).astype(np.float32)
    path = write_audio(tmp_path / "stereo48k.wav", stereo, 48000, kind="wav_float")
    from_file = float_recognizer.predict_file(path, block_seconds=0.5)
    from_waveform = float_recognizer.predict_waveform(sf.read(path, dtype="float32")[0], 48000)
    # Streamed and one-shot resampling agree to float32 rounding, not bit for bit.
    np.testing.assert_allclose(window_probs(from_file), window_probs(from_waveform), atol=1e-4)
    assert from_file.duration_s == pytest.approx(6.0, abs=1e-3)


def test_unreadable_file_raises_audio_error(float_recognizer, tmp_path):
    with pytest.raises(audio.AudioError):
        float_recognizer.predict_file(write_not_audio(tmp_path / "text.wav"))


def test_predict_waveform_rejects_bad_input(float_recognizer):
    with pytest.raises(ValueError, match="float"):
        float_recognizer.predict_waveform(np.zeros(16000, dtype=np.int16), 16000)
    with pytest.raises(ValueError, match="non-finite"):
        float_recognizer.predict_waveform(np.full(16000, np.nan, dtype=np.float32), 16000)
    with pytest.raises(ValueError, match="no samples"):
        float_recognizer.predict_waveform(np.zeros(0, dtype=np.float32), 16000)


# -- incremental patches and streaming ----------------------------------------------------


@pytest.mark.parametrize("hop_frames", [48, 7, 96, 130])
def test_patch_framer_equals_reference_patches(hop_frames):
    rng = np.random.default_rng(hop_frames)
    waveform = voice(round(5.3 * params.SAMPLE_RATE), seed=10)
    framer = PatchFramer(hop_frames)
    pieces = [framer.push(c) for c in random_chunks(waveform, rng, [1, 160, 399, 1024, 7001])]
    tail, padded = framer.finish()
    assert not padded and len(tail) == 0
    expected = waveform_to_patches(waveform, hop_frames=hop_frames)
    np.testing.assert_allclose(np.concatenate(pieces)[..., 0], expected, atol=LOG_MEL_ATOL)


def test_patch_framer_pads_short_audio_like_the_reference():
    waveform = voice(10000, seed=11)
    framer = PatchFramer()
    assert len(framer.push(waveform[:6000])) == 0 and len(framer.push(waveform[6000:])) == 0
    tail, padded = framer.finish()
    assert padded
    expected = clip_patches(waveform_to_padded_log_mel(waveform))
    np.testing.assert_allclose(tail, expected, atol=LOG_MEL_ATOL)


@pytest.mark.parametrize("hop_frames", [48, 7, 96, 130])
def test_window_framer_equals_reference_windows(hop_frames):
    rng = np.random.default_rng(hop_frames)
    waveform = voice(round(5.3 * params.SAMPLE_RATE), seed=10).astype(np.float32)
    framer = WindowFramer(hop_frames)
    pieces = [framer.push(c) for c in random_chunks(waveform, rng, [1, 160, 399, 1024, 7001])]
    tail, padded = framer.finish()
    assert not padded and len(tail) == 0
    assert framer.buffered_values < params.MIN_SAMPLES + 7001
    views = np.lib.stride_tricks.sliding_window_view(waveform, params.MIN_SAMPLES)
    expected = views[:: hop_frames * params.HOP_LENGTH_SAMPLES]
    np.testing.assert_array_equal(np.concatenate(pieces), expected)
    short = WindowFramer()
    assert len(short.push(waveform[:10000])) == 0
    tail, padded = short.finish()
    assert padded and np.array_equal(tail, waveform_windows(waveform[:10000]))


def test_waveform_in_tflite_predicts_the_windows_of_the_patch_model(tiny_export, tmp_path):
    from edge_ser.bundle import ModelBundle
    from edge_ser.export.artifacts import BUILDERS, ExportContext
    from edge_ser.export.exporter import coreml_metadata

    bundle = ModelBundle.load(tiny_export.model_dir)
    context = ExportContext(
        bundle.keras_model, bundle.labels, bundle.calibration_patches(), coreml_metadata(bundle)
    )
    path = tmp_path / layout.WAVEFORM_FLOAT32_TFLITE
    BUILDERS["tflite-waveform-float32"](context, path)
    recognizer = Recognizer.load(path)
    waveform = voice(round(3.3 * params.SAMPLE_RATE), seed=12)
    result = recognizer.predict_waveform(waveform, params.SAMPLE_RATE)
    expected = Recognizer.load(tiny_export.model_dir).predict_waveform(waveform, params.SAMPLE_RATE)
    assert [w.start_s for w in result.windows] == [w.start_s for w in expected.windows]
    np.testing.assert_allclose(window_probs(result), window_probs(expected), atol=1e-4)
    stream = recognizer.stream()
    streamed = [w for chunk in np.array_split(waveform, 7) for w in stream.feed(chunk)]
    np.testing.assert_allclose(
        [list(w.probabilities.values()) for w in streamed], window_probs(result), atol=1e-6
    )


@pytest.mark.parametrize("sizes", [[160], [1024], [1, 37, 160, 500, 1024, 4096, 20000]])
def test_stream_equals_batch(float_recognizer, sizes):
    rng = np.random.default_rng(len(sizes))
    waveform = voice(round(6.2 * params.SAMPLE_RATE), seed=12)
    stream = float_recognizer.stream()
    windows = []
    for chunk in random_chunks(waveform, rng, sizes):
        windows.extend(stream.feed(chunk))
    assert stream.flush() == []
    batch = float_recognizer.predict_waveform(waveform, params.SAMPLE_RATE)
    assert len(windows) == len(batch.windows)
    for streamed, expected in zip(windows, batch.windows, strict=True):
        assert (streamed.start_s, streamed.end_s, streamed.label) == (
            expected.start_s,
            expected.end_s,
            expected.label,
        )
        np.testing.assert_allclose(
            list(streamed.probabilities.values()),
            list(expected.probabilities.values()),
            atol=PROBS_ATOL,
        )


def test_stream_emits_each_window_as_soon_as_complete(float_recognizer):
    stream = float_recognizer.stream()
    waveform = voice(15600 + 7680, seed=13)
    assert stream.feed(waveform[:15599]) == []
    assert [w.start_s for w in stream.feed(waveform[15599:15600])] == [0.0]
    assert stream.feed(waveform[15600:-1]) == []
    assert [w.start_s for w in stream.feed(waveform[-1:])] == [0.48]


def test_stream_smoothing_is_mean_of_last_windows(float_recognizer):
    waveform = voice(6 * params.SAMPLE_RATE, seed=14)
    raw = window_probs(float_recognizer.predict_waveform(waveform, params.SAMPLE_RATE))
    stream = float_recognizer.stream(smoothing=3)
    smoothed = [w for chunk in np.array_split(waveform, 40) for w in stream.feed(chunk)]
    for i, window in enumerate(smoothed):
        expected = raw[max(0, i - 2) : i + 1].mean(axis=0)
        np.testing.assert_allclose(list(window.probabilities.values()), expected, atol=PROBS_ATOL)
        assert window.label == float_recognizer.labels[int(np.argmax(expected))]


def test_stream_flush_pads_a_short_stream_and_restarts(float_recognizer):
    waveform = voice(9000, seed=15)
    stream = float_recognizer.stream()
    assert stream.feed(waveform[:4000]) == [] and stream.feed(waveform[4000:]) == []
    (window,) = stream.flush()
    expected = float_recognizer.predict_waveform(waveform, params.SAMPLE_RATE)
    assert expected.padded and window.start_s == 0.0
    np.testing.assert_allclose(
        list(window.probabilities.values()), list(expected.probabilities.values()), atol=1e-6
    )
    assert stream.flush() == []  # nothing fed since
    assert [w.start_s for w in stream.feed(voice(15600))] == [0.0]  # a fresh stream


def test_stream_memory_does_not_grow(float_recognizer):
    stream = float_recognizer.stream(smoothing=4)
    waveform = voice(30 * params.SAMPLE_RATE, seed=16)
    held = []
    for chunk in np.array_split(waveform, len(waveform) // 1024):
        stream.feed(chunk)
        held.append(stream.buffered_values)
    # Whatever the stream length: at most one patch plus one hop of log-mel frames, one frame
    # plus one chunk of audio, and the smoothing history.
    bound = (96 + 48) * 64 + 400 + 1025 + 4 * len(float_recognizer.labels)
    assert max(held) <= bound


def test_stream_rejects_bad_chunks(float_recognizer):
    stream = float_recognizer.stream()
    with pytest.raises(ValueError, match="1-D floating-point"):
        stream.feed(np.zeros((10, 2), dtype=np.float32))
    with pytest.raises(ValueError, match="non-finite"):
        stream.feed(np.full(1000, np.inf, dtype=np.float32))
    with pytest.raises(ValueError, match="smoothing"):
        float_recognizer.stream(smoothing=0)


def test_waveform_in_core_ml_is_refused_with_a_pointer_to_the_patch_model(tmp_path):
    path = tmp_path / layout.WAVEFORM_MLPACKAGE
    path.write_bytes(b"refused by its name before anything is loaded")
    with pytest.raises(ModelError, match=layout.INT8_TFLITE):
        Recognizer.load(path)


def speech_then_silence() -> np.ndarray:
    """1.5 s of speech-like sound, 3 s of near silence, 1.5 s of speech again."""
    quiet = 1e-4 * np.random.default_rng(1).standard_normal(48000)
    return np.concatenate([voice(24000), quiet, voice(24000, seed=1)]).astype(np.float32)


def test_silent_windows_are_marked_and_left_out_of_the_clip(float_recognizer):
    waveform = speech_then_silence()
    result = float_recognizer.predict_waveform(waveform, params.SAMPLE_RATE)
    silent = [w.silence for w in result.windows]
    assert 0 < sum(silent) < len(silent)
    assert [w.label == "silence" for w in result.windows] == silent
    probs = window_probs(result)
    spoken = probs[~np.array(silent)]
    clip = np.array([result.probabilities[label] for label in float_recognizer.labels])
    np.testing.assert_allclose(clip, spoken.mean(axis=0), atol=1e-6)
    assert not np.allclose(clip, probs.mean(axis=0), atol=1e-4)  # the rule changed the clip


def test_stream_marks_silence_against_the_loudest_window_so_far(float_recognizer):
    waveform = speech_then_silence()
    stream = float_recognizer.stream()
    windows = [w for chunk in np.array_split(waveform, 7) for w in stream.feed(chunk)]
    batch = float_recognizer.predict_waveform(waveform, params.SAMPLE_RATE).windows
    assert [w.silence for w in windows] == [w.silence for w in batch]


def test_stream_rejects_audio_at_another_rate(float_recognizer):
    stream = float_recognizer.stream()
    with pytest.raises(ValueError, match="takes 16000 Hz audio, got 44100 Hz; resample"):
        stream.feed(voice(4410), sample_rate=44100)
    assert len(stream.feed(voice(16000), sample_rate=16000)) == 1  # one window of 0.975 s
