"""Reference preprocessor: golden vectors, shapes and edges, and independent cross-checks.

Every tolerance below was measured on the golden signals (x86-64, NumPy 2.4, librosa 0.11,
TensorFlow 2.21) and is asserted with a margin; the measured value is given next to it.
The same numbers appear in ``reference_preprocess/SPEC.md``.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from edge_ser.bench import preprocessing
from edge_ser.reference_preprocess import (
    FFT_LENGTH,
    HOP_LENGTH_SAMPLES,
    LOG_OFFSET,
    MEL_MAX_HZ,
    MEL_MIN_HZ,
    MIN_SAMPLES,
    NUM_MEL_BANDS,
    NUM_SPECTRUM_BINS,
    PATCH_FRAMES,
    PATCH_HOP_FRAMES,
    PATCH_HOP_SAMPLES,
    PREPROCESSOR_VERSION,
    SAMPLE_RATE,
    WINDOW_LENGTH_SAMPLES,
    frame_waveform,
    log_mel_to_patches,
    make_golden,
    mel_matrix,
    pad_to_min_length,
    periodic_hann_window,
    signals,
    waveform_to_log_mel,
    waveform_to_patches,
)


@pytest.fixture(scope="module")
def golden() -> dict[str, tuple[np.ndarray, np.ndarray]]:
    return make_golden.read_golden()


@pytest.fixture(scope="module")
def golden_inputs(golden) -> dict[str, np.ndarray]:
    """Golden waveforms after the pad policy, i.e. what the golden log-mels were made from."""
    return {name: pad_to_min_length(wave)[0] for name, (wave, _) in golden.items()}


def float64_log_mel(waveform: np.ndarray) -> np.ndarray:
    """The spec evaluated in float64 after the float32 windowed product (plain slicing)."""
    frames = np.stack(
        [
            waveform[start : start + WINDOW_LENGTH_SAMPLES]
            for start in range(0, len(waveform) - WINDOW_LENGTH_SAMPLES + 1, HOP_LENGTH_SAMPLES)
        ]
    )
    windowed = (frames * periodic_hann_window()).astype(np.float64)
    magnitude = np.abs(np.fft.rfft(windowed, n=FFT_LENGTH, axis=-1))
    return np.log(magnitude @ mel_matrix().astype(np.float64) + LOG_OFFSET)


def vggish_mel_matrix() -> np.ndarray:
    """VGGish ``spectrogram_to_mel_matrix``, written out band by band with ``math.log``."""

    def mel(hz: float) -> float:
        return 1127.0 * math.log(1.0 + hz / 700.0)

    bins_mel = [mel(8000.0 * b / 256) for b in range(257)]
    edges = np.linspace(mel(125.0), mel(7500.0), 66)
    matrix = np.zeros((257, 64))
    for band in range(64):
        lower, center, upper = edges[band : band + 3]
        for b in range(1, 257):  # row 0 (DC) stays zero
            rising = (bins_mel[b] - lower) / (center - lower)
            falling = (upper - bins_mel[b]) / (upper - center)
            matrix[b, band] = max(0.0, min(rising, falling))
    return matrix


# --- golden vectors -----------------------------------------------------------------------


def test_golden_index_matches_files(golden):
    index = json.loads((make_golden.GOLDEN_DIR / make_golden.INDEX_FILE).read_text())
    assert index["preprocessor_version"] == PREPROCESSOR_VERSION
    assert [entry["name"] for entry in index["signals"]] == [s.name for s in make_golden.SIGNALS]
    total_bytes = 0
    for entry in index["signals"]:
        wave, log_mel = golden[entry["name"]]
        assert wave.shape == (entry["num_samples"],)
        padded_length = max(entry["num_samples"], MIN_SAMPLES)
        assert log_mel.shape == (1 + (padded_length - 400) // 160, 64)
        assert log_mel.shape[0] == entry["num_frames"]
        assert entry["padded"] == (entry["num_samples"] < MIN_SAMPLES)
        total_bytes += wave.nbytes + log_mel.nbytes
    assert any(entry["padded"] for entry in index["signals"])
    assert total_bytes < 1_000_000


def test_reference_reproduces_golden(golden, golden_inputs):
    # Measured: 0 (bit-identical) on the machine that generated them; 1e-5 leaves room for
    # another BLAS kernel or FFT build (the reference is within 4e-7 of float64, see below).
    for name, (_, expected) in golden.items():
        actual = waveform_to_log_mel(golden_inputs[name])
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-5, err_msg=name)


def test_generator_reproduces_committed_golden(tmp_path, golden):
    make_golden.write_golden(tmp_path)
    regenerated = make_golden.read_golden(tmp_path)
    assert regenerated.keys() == golden.keys()
    for name, (wave, log_mel) in golden.items():
        np.testing.assert_allclose(regenerated[name][0], wave, rtol=0, atol=1e-6, err_msg=name)
        np.testing.assert_allclose(regenerated[name][1], log_mel, rtol=0, atol=1e-5, err_msg=name)


def test_reference_matches_float64_evaluation(golden_inputs):
    # Measured max abs diff: 3.8e-7 (chirp); the float64 DFT leaves only float32 rounding of
    # the magnitudes, the mel products and the log.
    for name, waveform in golden_inputs.items():
        expected = float64_log_mel(waveform)
        np.testing.assert_allclose(
            waveform_to_log_mel(waveform), expected, rtol=0, atol=1e-6, err_msg=name
        )


# --- window and mel matrix ---------------------------------------------------------------


def test_periodic_hann_window():
    window = periodic_hann_window()
    assert window.shape == (WINDOW_LENGTH_SAMPLES,) and window.dtype == np.float32
    # A periodic Hann window of length N is the symmetric one of length N + 1, minus its end.
    np.testing.assert_allclose(window, np.hanning(WINDOW_LENGTH_SAMPLES + 1)[:-1], atol=6e-8)
    assert window[0] == 0.0 and window[WINDOW_LENGTH_SAMPLES // 2] == 1.0
    assert not window.flags.writeable


def test_mel_matrix_matches_vggish_construction():
    matrix = mel_matrix()
    assert matrix.shape == (NUM_SPECTRUM_BINS, NUM_MEL_BANDS) and matrix.dtype == np.float32
    # Measured max abs diff: 3.0e-8 (float32 rounding of the float64 weights).
    np.testing.assert_allclose(matrix, vggish_mel_matrix(), rtol=0, atol=6e-8)
    assert not matrix.flags.writeable


def test_mel_matrix_properties():
    matrix = mel_matrix()
    bin_hz = np.linspace(0.0, SAMPLE_RATE / 2, NUM_SPECTRUM_BINS)
    assert np.all(matrix[0] == 0.0), "DC row must be zero"
    assert np.all((matrix >= 0.0) & (matrix <= 1.0))
    # Each band peaks at the bin nearest (in mel) to its centre edge.
    bins_mel = 1127.0 * np.log(1.0 + bin_hz / 700.0)
    edges_mel = np.linspace(
        1127.0 * math.log(1.0 + MEL_MIN_HZ / 700.0),
        1127.0 * math.log(1.0 + MEL_MAX_HZ / 700.0),
        NUM_MEL_BANDS + 2,
    )
    nearest = np.abs(bins_mel[:, None] - edges_mel[None, 1:-1]).argmin(axis=0)
    np.testing.assert_array_equal(matrix.argmax(axis=0), nearest)
    # Every band is non-empty, and no weight lies outside (125 Hz, 7500 Hz).
    assert np.all(matrix.max(axis=0) > 0.0)
    used_hz = bin_hz[matrix.any(axis=1)]
    assert used_hz.min() > MEL_MIN_HZ and used_hz.max() < MEL_MAX_HZ


# --- framing, shapes and edges -----------------------------------------------------------


@pytest.mark.parametrize("num_samples", [0, 1, 399, 400, 559, 560, 561, 16000])
def test_frame_waveform_is_a_view_with_spec_offsets(num_samples):
    waveform = np.arange(num_samples, dtype=np.float32)
    frames = frame_waveform(waveform)
    expected_frames = 0 if num_samples < 400 else 1 + (num_samples - 400) // 160
    assert frames.shape == (expected_frames, WINDOW_LENGTH_SAMPLES)
    for j in range(expected_frames):
        np.testing.assert_array_equal(frames[j], waveform[160 * j : 160 * j + 400])
    if expected_frames:
        assert np.shares_memory(frames, waveform)


def test_log_mel_shape_and_dtype():
    for num_samples in (0, 399, 400, 16000):
        log_mel = waveform_to_log_mel(signals.voice(num_samples) if num_samples else np.zeros(0))
        expected_frames = 0 if num_samples < 400 else 1 + (num_samples - 400) // 160
        assert log_mel.shape == (expected_frames, NUM_MEL_BANDS)
        assert log_mel.dtype == np.float32
    # float64 input is accepted and gives float32 output equal to the float32 input's.
    wave = signals.voice(SAMPLE_RATE)
    np.testing.assert_array_equal(
        waveform_to_log_mel(wave.astype(np.float64)), waveform_to_log_mel(wave)
    )


def test_silence_is_log_offset():
    log_mel = waveform_to_log_mel(np.zeros(SAMPLE_RATE, dtype=np.float32))
    assert np.all(log_mel == np.log(np.float32(LOG_OFFSET)))
    assert log_mel[0, 0] == pytest.approx(-4.60517, abs=1e-5)


def test_pad_to_min_length():
    short = signals.voice(MIN_SAMPLES - 1)
    padded, was_padded = pad_to_min_length(short)
    assert was_padded and padded.shape == (MIN_SAMPLES,) and padded.dtype == np.float32
    np.testing.assert_array_equal(padded[: MIN_SAMPLES - 1], short)
    assert padded[-1] == 0.0
    exact = signals.voice(MIN_SAMPLES)
    unchanged, was_padded = pad_to_min_length(exact)
    assert not was_padded and unchanged is exact


@pytest.mark.parametrize("num_samples", [1, 400, 8000, MIN_SAMPLES - 1, MIN_SAMPLES])
def test_short_clip_gives_exactly_one_patch(num_samples):
    waveform = signals.voice(num_samples)
    patches = waveform_to_patches(waveform)
    assert patches.shape == (1, PATCH_FRAMES, NUM_MEL_BANDS) and patches.dtype == np.float32
    zero_padded = np.concatenate([waveform, np.zeros(MIN_SAMPLES - num_samples, np.float32)])
    np.testing.assert_array_equal(patches[0], waveform_to_log_mel(zero_padded))


@pytest.mark.parametrize(
    ("num_samples", "num_patches"),
    [
        (MIN_SAMPLES + PATCH_HOP_SAMPLES - 1, 1),
        (MIN_SAMPLES + PATCH_HOP_SAMPLES, 2),
        (MIN_SAMPLES + 3 * PATCH_HOP_SAMPLES + 5000, 4),
    ],
)
def test_patch_count_drops_trailing_frames(num_samples, num_patches):
    assert waveform_to_patches(signals.voice(num_samples)).shape[0] == num_patches


def test_patch_i_is_log_mel_of_its_sample_range():
    waveform = signals.voice(MIN_SAMPLES + 4 * PATCH_HOP_SAMPLES + 3000, seed=1)
    patches = waveform_to_patches(waveform)
    assert patches.shape[0] == 5
    for i, patch in enumerate(patches):
        start = PATCH_HOP_SAMPLES * i
        # Measured max abs diff: 3.6e-7 (float32 mel sums vary with a frame's row in a block).
        np.testing.assert_allclose(
            patch, waveform_to_log_mel(waveform[start : start + MIN_SAMPLES]), rtol=0, atol=1e-6
        )


def test_log_mel_to_patches_slices_and_hops():
    log_mel = np.arange(150 * NUM_MEL_BANDS, dtype=np.float32).reshape(150, NUM_MEL_BANDS)
    patches = log_mel_to_patches(log_mel)
    assert patches.shape == (2, PATCH_FRAMES, NUM_MEL_BANDS)
    np.testing.assert_array_equal(patches[1], log_mel[PATCH_HOP_FRAMES : PATCH_HOP_FRAMES + 96])
    assert np.shares_memory(patches, log_mel) and not patches.flags.writeable
    assert log_mel_to_patches(log_mel[:143]).shape[0] == 1  # 47 trailing frames dropped
    assert log_mel_to_patches(log_mel, hop_frames=1).shape[0] == 150 - 96 + 1
    assert log_mel_to_patches(log_mel, hop_frames=96).shape[0] == 1


# --- input validation --------------------------------------------------------------------


def test_rejects_wrong_sample_rate():
    with pytest.raises(ValueError, match="44100"):
        waveform_to_log_mel(np.zeros(MIN_SAMPLES, np.float32), sample_rate=44100)
    with pytest.raises(ValueError, match="8000"):
        waveform_to_patches(np.zeros(MIN_SAMPLES, np.float32), sample_rate=8000)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_rejects_non_finite_samples(bad):
    waveform = np.zeros(MIN_SAMPLES, np.float32)
    waveform[123] = bad
    with pytest.raises(ValueError, match="non-finite"):
        waveform_to_log_mel(waveform)
    with pytest.raises(ValueError, match="non-finite"):
        waveform_to_patches(waveform)


def test_rejects_bad_shapes_and_dtypes():
    with pytest.raises(ValueError, match="1-D"):
        waveform_to_log_mel(np.zeros((2, MIN_SAMPLES), np.float32))
    with pytest.raises(ValueError, match="1-D"):
        waveform_to_patches(np.zeros((MIN_SAMPLES, 2), np.float32))
    with pytest.raises(ValueError, match="floating point"):
        waveform_to_log_mel(np.zeros(MIN_SAMPLES, np.int16))
    with pytest.raises(ValueError, match="fewer than one patch"):
        log_mel_to_patches(np.zeros((PATCH_FRAMES - 1, NUM_MEL_BANDS), np.float32))
    with pytest.raises(ValueError, match="shape"):
        log_mel_to_patches(np.zeros((PATCH_FRAMES, NUM_MEL_BANDS + 1), np.float32))
    for hop in (0, -48, 1.5):
        with pytest.raises(ValueError, match="hop_frames"):
            waveform_to_patches(np.zeros(MIN_SAMPLES, np.float32), hop_frames=hop)


# --- cross-checks against librosa and tf.signal ----------------------------------------


def librosa_magnitude(waveform: np.ndarray) -> np.ndarray:
    """librosa STFT magnitude on the reference frames, shape (num_frames, 257)."""
    pytest.importorskip("librosa")
    return preprocessing.librosa_magnitude(np.pad(waveform, preprocessing.LIBROSA_CENTRE_PAD)).T


def test_librosa_stft_with_reference_mel_matrix(golden_inputs):
    # Measured max abs diff 4.5e-5 (chirp), mean <= 5.8e-6 (tone); noise and voice <= 2.5e-6.
    for name, waveform in golden_inputs.items():
        expected = np.log(librosa_magnitude(waveform) @ mel_matrix() + np.float32(LOG_OFFSET))
        actual = waveform_to_log_mel(waveform)
        assert actual.shape == expected.shape, name
        np.testing.assert_allclose(actual, expected, rtol=0, atol=2e-4, err_msg=name)
        assert np.abs(actual - expected).mean() < 2e-5, name


def test_librosa_htk_mel_filters_differ_only_by_hz_triangles(golden_inputs):
    pytest.importorskip("librosa")
    filters = preprocessing.librosa_mel_filters().T
    # Same edges and peaks; librosa's triangles are linear in Hz, the reference's in mel.
    # Measured max abs weight diff 4.4e-3; max abs log-mel diff 1.3e-2 (chirp).
    np.testing.assert_array_equal(filters.argmax(axis=0), mel_matrix().argmax(axis=0))
    np.testing.assert_allclose(filters, mel_matrix(), rtol=0, atol=1e-2)
    for name, waveform in golden_inputs.items():
        with_librosa_filters = np.log(librosa_magnitude(waveform) @ filters + LOG_OFFSET)
        np.testing.assert_allclose(
            waveform_to_log_mel(waveform), with_librosa_filters, rtol=0, atol=3e-2, err_msg=name
        )


def test_tf_signal_mel_weight_matrix():
    tf = pytest.importorskip("tensorflow")
    args = (NUM_MEL_BANDS, NUM_SPECTRUM_BINS, SAMPLE_RATE, MEL_MIN_HZ, MEL_MAX_HZ)
    # Measured max abs diff: 3.0e-8 in float64, 8.2e-6 in float32 (tf computes in float32).
    as_float64 = tf.signal.linear_to_mel_weight_matrix(*args, dtype=tf.float64).numpy()
    np.testing.assert_allclose(mel_matrix(), as_float64, rtol=0, atol=6e-8)
    as_float32 = tf.signal.linear_to_mel_weight_matrix(*args).numpy()
    np.testing.assert_allclose(mel_matrix(), as_float32, rtol=0, atol=3e-5)


def test_tf_signal_log_mel(golden_inputs):
    pytest.importorskip("tensorflow")
    # Measured max abs diff 4.3e-4 (chirp: float32 FFT rounding in near-empty bands, where
    # log(E + 0.01) is most sensitive), mean <= 2.9e-5; noise and voice max <= 3.0e-5.
    for name, waveform in golden_inputs.items():
        expected = preprocessing.tf_signal_log_mel(waveform)()
        actual = waveform_to_log_mel(waveform)
        assert actual.shape == expected.shape, name
        np.testing.assert_allclose(actual, expected, rtol=0, atol=1e-3, err_msg=name)
        assert np.abs(actual - expected).mean() < 1e-4, name
